"""Year-over-year monitoring (定期监测): what changed between two runs of `landkit assess`.

Two runs (output folders, their ``landkit.gpkg``, or the PostGIS schemas ``landkit assess --db``
wrote, ``postgresql://.../db?schema=NAME``) are joined on ``parcel_id``. Run A is the
earlier one (上期), run B the later (本期). :func:`compare_runs` reports

- parcels whose grade changed, and the transition matrix of grades (A/B/C/D/U × A/B/C/D/U) over
  the parcels in both runs;
- parcels that entered or left the low-efficiency inventory, with the reasons added or cleared;
- disposal paths started (a path newly assigned: a parcel newly listed, or listed in both runs
  with another path), completed (a listed parcel no longer listed, or no longer in the layer),
  and changed, with the evidence of completion (status changed, floor area added, land freed);
- parcels new in B or gone from A;
- the block metrics (layer ``blocks``) and the concentration metrics (table
  ``scatter_metrics``, FRAGSTATS-style, per park, block and ring) before and after, with changes.

Counts add up: inventory B − inventory A = entered − left, and for each path, parcels B − parcels A
= started − completed − changed to another path.

A run id (``OUT@20261126T072000Z-1a2b3c``, ``postgresql://.../db?schema=NAME@RUN_ID``) selects a
run of a folder's (or schema's) history, and is accepted only while that run's layers are still
there (it is the latest run): a folder re-assessed with ``--overwrite`` keeps the figures of its
earlier runs (`landkit history`), not their parcels. Keep each year's run in its own folder (or
schema) to compare them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config.models import Project
from landkit.core.errors import CRSError, InputError
from landkit.core.i18n import _
from landkit.core.schema import is_missing
from landkit.deliver.labels import (
    CHANGE_TYPES,
    STATUS_LABELS,
    Label,
    labels_for,
    unit,
)
from landkit.listing.inventory import LISTING
from landkit.monitor.read import Run

log = logging.getLogger(__name__)

#: Grades in the order of the transition matrix (U: not graded).
GRADES = ("A", "B", "C", "D", "U")

#: Columns of the ``changes`` layer, in order (geometry last).
CHANGE_COLUMNS = [
    "parcel_id", "block_id", "block_name", "land_use", "area_mu", "change_type", "change_zh", "change_en", "presence",
    "grade_a", "grade_b", "grade_change", "score_a", "score_b", "score_change", "status_a", "status_b",
    "listed_a", "listed_b", "inventory_change", "inventory_change_zh", "inventory_change_en",
    "reasons_a", "reasons_b", "reasons_added", "reasons_removed", "reasons_added_zh", "reasons_removed_zh",
    "reasons_added_en", "reasons_removed_en", "disposal_a", "disposal_b", "disposal_zh_a", "disposal_zh_b",
    "path_change", "path_change_zh", "path_change_en", "completion_zh", "completion_en",
    "tax_wan_a", "tax_wan_b", "floor_area_m2_a", "floor_area_m2_b", "floor_area_change_m2", "land_freed_mu_a",
]

INVENTORY_CHANGES = {"entered": ("新列入", "Entered"), "left": ("移出", "Left")}
PATH_CHANGES = {"started": ("新启动", "Started"), "completed": ("已完成", "Completed"), "changed": ("路径调整", "Changed")}

#: Headline items of the summary table: key → (Chinese, English).
SUMMARY_ITEMS = {
    "parcels_a": ("上期地块数", "Parcels before"), "parcels_b": ("本期地块数", "Parcels after"),
    "common": ("共同地块", "Parcels in both"), "new": ("新增地块", "New parcels"), "removed": ("已注销地块", "Parcels removed"),
    "grade_changed": ("评价等级变化", "Grade changed"), "up": ("等级上升", "Grade up"), "down": ("等级下降", "Grade down"),
    "graded": ("新参评", "Newly graded"), "ungraded": ("转为不参评", "No longer graded"),
    "inventory_a": ("上期低效用地", "Inventory before"), "inventory_b": ("本期低效用地", "Inventory after"),
    "inventory_delta": ("低效用地增减", "Inventory change"), "entered": ("新列入清单", "Entered the inventory"),
    "left": ("移出清单", "Left the inventory"), "inventory_area_mu_a": ("上期低效用地面积(亩)", "Inventory area before (mu)"),
    "inventory_area_mu_b": ("本期低效用地面积(亩)", "Inventory area after (mu)"),
    "paths_started": ("盘活路径新启动", "Paths started"), "paths_completed": ("盘活路径已完成", "Paths completed"),
    "paths_changed": ("盘活路径调整", "Paths changed"), "land_freed_mu": ("已完成路径腾退土地(亩)", "Land freed by completed paths (mu)"),
    "floor_area_added_m2": ("已完成路径新增建筑面积(m²)", "Floor area added on completed paths (m²)"),
}


@dataclass
class Comparison:
    """What :func:`compare_runs` finds: the changed parcels, tables and headline counts."""

    changes: gpd.GeoDataFrame
    transitions: pd.DataFrame
    by_reason: pd.DataFrame
    by_path: pd.DataFrame
    blocks: pd.DataFrame
    scatter: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    #: Objections followed from A to B, and B's overridden parcels (:func:`decision_table`).
    decisions: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the summary tables by layer name (for the GeoPackage)."""
        tables = {"summary": summary_table(self.summary), "transitions": self.transitions, "inventory_by_reason": self.by_reason,
                  "inventory_by_path": self.by_path, "block_metrics": self.blocks, "scatter_metrics": self.scatter}
        if len(self.decisions):
            tables["decisions"] = self.decisions
        return tables


# --- comparing -----------------------------------------------------------------------------------


def compare_runs(a: Run, b: Run, project: Project) -> Comparison:
    """Compare run A (earlier) with run B (later), parcel by parcel and block by block.

    Raises
    ------
    CRSError
        If the two runs' parcels are in different CRS.
    InputError
        If they share no parcel id.
    """
    crs_a, crs_b = a.parcels.crs, b.parcels.crs
    if crs_a != crs_b:
        name_a, name_b = (c.to_string() if c is not None else _("no CRS") for c in (crs_a, crs_b))
        raise CRSError(_("{a} is in {crs_a} but {b} in {crs_b}; re-run one with `crs: {{output: ...}}` in its project "
                         "file so both are written in the same CRS").format(a=a.where, crs_a=name_a, b=b.where, crs_b=name_b))
    pa = a.parcels.set_index("parcel_id", drop=False)
    pb = b.parcels.set_index("parcel_id", drop=False)
    common = pa.index.intersection(pb.index)
    if common.empty:
        raise InputError(_("{a} and {b} share no parcel id (e.g. {id_a} and {id_b}); compare runs of the same parcel layer")
                         .format(a=a.where, b=b.where, id_a=pa.index[0], id_b=pb.index[0]))
    labels = labels_for(project)
    joined = join_parcels(pa, pb)
    joined.attrs["reason_order"] = [*LISTING, *(rule.code for rule in project.inventory.reasons)]
    changes = change_table(joined, pa, pb, labels)
    transitions = transition_matrix(joined)
    by_reason = reason_table(joined, labels)
    by_path = path_table(joined)
    blocks = block_table(a, b, labels)
    scatter = scatter_table(a.scatter_metrics, b.scatter_metrics)
    summary = summarise(a, b, joined, transitions, blocks=blocks, scatter=scatter)
    summary["inventory"]["by_reason"] = _records(by_reason)
    summary["paths"]["by_path"] = _records(by_path)
    decisions = decision_table(a, b)
    summary["decisions"] = decision_summary(decisions)
    return Comparison(changes=changes, transitions=transitions, by_reason=by_reason, by_path=by_path,
                      blocks=blocks, scatter=scatter, summary=summary, decisions=decisions)


def decision_table(a: Run, b: Run) -> pd.DataFrame:
    """Return each objection of either run with its status in A and in B, and B's other overridden parcels.

    Columns: ``objection_id`` (empty for an override without objection), ``parcel_id``,
    ``status_a``/``status_b`` (received, upheld, rejected; empty where the register lacks it),
    ``status_changed`` (in both registers, with another status), ``new_in_b`` (received since A),
    ``grade_a``/``grade_b``, ``grade_computed_b``, ``overridden_b``,
    ``override_note_b``.
    """
    columns = ["objection_id", "parcel_id", "status_a", "status_b", "status_changed", "new_in_b", "grade_a", "grade_b", "grade_computed_b",
               "overridden_b", "override_note_b"]
    registers = [frame[["objection_id", "parcel_id", "objection_status"]].rename(columns={"objection_status": f"status_{side}"})
                 for frame, side in ((a.objections, "a"), (b.objections, "b")) if frame is not None and len(frame)]
    pb = b.parcels.set_index("parcel_id")
    overridden = pb.index[pb["overridden"].fillna(False).astype(bool)] if "overridden" in pb else pd.Index([])
    if not registers and not len(overridden):
        return pd.DataFrame(columns=columns)
    table = registers[0]
    for other in registers[1:]:
        table = table.merge(other, on=["objection_id", "parcel_id"], how="outer")
    for side in ("a", "b"):
        if f"status_{side}" not in table:
            table[f"status_{side}"] = None
    extra = pd.DataFrame({"objection_id": "", "parcel_id": overridden.difference(pd.Index(table["parcel_id"]))})
    table = pd.concat([table, extra], ignore_index=True)
    table["status_a"] = table["status_a"].fillna("")
    table["status_b"] = table["status_b"].fillna("")
    known = (table["objection_id"] != "") & (table["status_a"] != "") & (table["status_b"] != "")
    table["status_changed"] = known & (table["status_a"] != table["status_b"])
    table["new_in_b"] = (table["objection_id"] != "") & (table["status_a"] == "") & (table["status_b"] != "")
    pa = a.parcels.set_index("parcel_id")
    table["grade_a"] = table["parcel_id"].map(pa["grade"])
    table["grade_b"] = table["parcel_id"].map(pb["grade"])
    table["grade_computed_b"] = table["parcel_id"].map(pb["grade_computed"]) if "grade_computed" in pb else table["grade_b"]
    table["overridden_b"] = table["parcel_id"].isin(overridden)
    table["override_note_b"] = table["parcel_id"].map(pb["override_note"]).fillna("") if "override_note" in pb else ""
    return table[columns].sort_values(["objection_id", "parcel_id"], kind="stable").reset_index(drop=True)


def decision_summary(decisions: pd.DataFrame) -> dict[str, Any]:
    """Return the objections counted by status in B, how many changed status, and B's overridden parcels."""
    objections = decisions[decisions["objection_id"] != ""] if len(decisions) else decisions
    status = objections["status_b"].value_counts() if len(objections) else pd.Series(dtype=int)
    return {"objections": len(objections), "by_status_b": {k: int(v) for k, v in status.items() if k},
            "status_changed": int(objections["status_changed"].sum()) if len(objections) else 0,
            "new": int(objections["new_in_b"].sum()) if len(objections) else 0,
            "overridden_b": int(decisions["overridden_b"].sum()) if len(decisions) else 0}


def join_parcels(pa: pd.DataFrame, pb: pd.DataFrame) -> pd.DataFrame:
    """Return A's and B's parcel columns side by side (suffixes ``_a``, ``_b``) and the change flags.

    The rows are B's parcels in B's order, then A's parcels absent from B. Flags: ``in_a``,
    ``in_b``, ``listed_a``/``listed_b`` (absent = not listed), ``grade_changed``, ``up``,
    ``down``, ``graded``, ``ungraded``, ``entered``, ``left``, ``path_started``,
    ``path_completed``, ``path_changed``, and ``rc_a_<CODE>``/``rc_b_<CODE>`` per reason code.
    """
    index = pb.index.append(pa.index.difference(pb.index, sort=False))
    geometry_a, geometry_b = pa.geometry.name, pb.geometry.name
    side_a = pd.DataFrame(pa.drop(columns=[geometry_a, "parcel_id"])).add_suffix("_a")
    side_b = pd.DataFrame(pb.drop(columns=[geometry_b, "parcel_id"])).add_suffix("_b")
    j = pd.DataFrame(index=index).join(side_a).join(side_b)
    j.index.name = "parcel_id"
    j["in_a"] = index.isin(pa.index)
    j["in_b"] = index.isin(pb.index)
    for side in ("a", "b"):
        j[f"listed_{side}"] = j[f"low_efficiency_{side}"].fillna(False).astype(bool)
        j[f"grade_{side}"] = j[f"grade_{side}"].where(j[f"in_{side}"]).astype(object)
        path = j[f"disposal_{side}"] if f"disposal_{side}" in j else pd.Series("", index=index)
        j[f"path_{side}"] = path.fillna("").astype(str).where(j[f"listed_{side}"], "")
        codes = reason_flags(j, side)
        for code in codes.columns:
            j[f"rc_{side}_{code}"] = codes[code]
    both = j["in_a"] & j["in_b"]
    order = {g: i for i, g in enumerate("ABCD")}
    rank_a, rank_b = j["grade_a"].map(order), j["grade_b"].map(order)
    j["grade_changed"] = both & (j["grade_a"] != j["grade_b"])
    j["up"] = both & (rank_b < rank_a)
    j["down"] = both & (rank_b > rank_a)
    j["graded"] = both & (j["grade_a"] == "U") & rank_b.notna()
    j["ungraded"] = both & rank_a.notna() & (j["grade_b"] == "U")
    j["entered"] = j["listed_b"] & ~j["listed_a"]
    j["left"] = j["listed_a"] & ~j["listed_b"]
    j["path_changed"] = j["listed_a"] & j["listed_b"] & (j["path_a"] != j["path_b"])
    j["path_started"] = (j["entered"] & (j["path_b"] != "")) | j["path_changed"]
    j["path_completed"] = j["left"] & (j["path_a"] != "")
    return j


def reason_flags(j: pd.DataFrame, side: str) -> pd.DataFrame:
    """Return one boolean column per inventory reason code of one side, from ``reasons``."""
    column = f"reasons_{side}"
    if column in j:
        text = j[column].fillna("").astype(str).where(j[f"listed_{side}"], "")
        flags = text.str.get_dummies(sep=";").astype(bool)
        flags = flags.drop(columns=[c for c in flags.columns if not c])  # an empty string is no reason
    else:  # a run without the `reasons` text: its r_<CODE> columns
        listed = j[f"listed_{side}"].fillna(False).astype(bool)
        flags = pd.DataFrame({c[len("r_"):-2]: j[c].fillna(False).astype(bool) & listed for c in j.columns
                              if c.startswith("r_") and c.endswith(f"_{side}")}, index=j.index)
        flags = flags.loc[:, flags.any(axis=0)]  # as from the text: only the codes some listed parcel has
    return flags.reindex(j.index, fill_value=False)


def _codes(j: pd.DataFrame) -> list[str]:
    """Reason codes seen in either run: in the order of the project's rules, then others as seen."""
    seen = dict.fromkeys(c.split("_", 2)[2] for c in j.columns if c.startswith(("rc_a_", "rc_b_")))
    order = {code: i for i, code in enumerate(j.attrs.get("reason_order", []))}
    return sorted(seen, key=lambda code: order.get(code, len(order)))


def _flag(j: pd.DataFrame, side: str, code: str) -> pd.Series:
    column = f"rc_{side}_{code}"
    return j[column] if column in j else pd.Series(False, index=j.index)


def _join_labels(flags: dict[str, pd.Series], labels: list[str], sep: str, index: pd.Index) -> pd.Series:
    """Join the labels of the true flags per row (a loop over reason codes, not parcels)."""
    text = pd.Series("", index=index, dtype=object)
    for (_code, flag), label in zip(flags.items(), labels, strict=True):
        text = text + np.where(flag.to_numpy(), label + sep, "")
    return text.str.removesuffix(sep) if sep else text


def _reason_label(code: str, labels: dict[str, Label], lang: str) -> str:
    label = labels.get(f"r_{code}")
    return code if label is None else (label.zh if lang == "zh" else label.en)


def change_table(j: pd.DataFrame, pa: gpd.GeoDataFrame, pb: gpd.GeoDataFrame, labels: dict[str, Label]) -> gpd.GeoDataFrame:
    """Return the ``changes`` layer: every parcel with a change, geometry from B (A for removed ones)."""
    out = pd.DataFrame(index=j.index)
    for column in ("block_id", "block_name", "land_use", "area_mu"):
        b, a = j.get(f"{column}_b"), j.get(f"{column}_a")
        if b is not None or a is not None:
            out[column] = b.combine_first(a) if b is not None and a is not None else (b if b is not None else a)
    kinds = {
        "new": j["in_b"] & ~j["in_a"], "removed": j["in_a"] & ~j["in_b"], "left": j["left"], "entered": j["entered"],
        "path_changed": j["path_changed"], "down": j["down"], "up": j["up"], "ungraded": j["ungraded"], "graded": j["graded"],
    }
    change = np.select(list(kinds.values()), list(kinds), "")
    out["change_type"] = change
    out["change_zh"], out["change_en"] = _labelled(change, CHANGE_TYPES, j.index)
    out["presence"] = np.select([j["in_a"] & j["in_b"], j["in_b"]], ["both", "new"], "removed")
    out["grade_a"], out["grade_b"] = j["grade_a"], j["grade_b"]
    out["grade_change"] = np.where(j["grade_changed"], j["grade_a"].fillna("").astype(str) + "→" + j["grade_b"].fillna("").astype(str), "")
    for column in ("score", "status", "tax_wan", "floor_area_m2"):
        for side in ("a", "b"):
            if f"{column}_{side}" in j:
                out[f"{column}_{side}"] = j[f"{column}_{side}"]
        if column == "score" and {"score_a", "score_b"} <= set(out.columns):
            out["score_change"] = out["score_b"] - out["score_a"]
    out["listed_a"], out["listed_b"] = j["listed_a"], j["listed_b"]
    inventory = np.select([j["entered"], j["left"]], ["entered", "left"], "")
    out["inventory_change"] = inventory
    out["inventory_change_zh"], out["inventory_change_en"] = _labelled(inventory, INVENTORY_CHANGES, j.index)
    for side in ("a", "b"):
        out[f"reasons_{side}"] = j[f"reasons_{side}"].fillna("").where(j[f"listed_{side}"], "") if f"reasons_{side}" in j else ""
    codes = _codes(j)
    added = {c: _flag(j, "b", c) & ~_flag(j, "a", c) for c in codes}
    removed = {c: _flag(j, "a", c) & ~_flag(j, "b", c) for c in codes}
    out["reasons_added"] = _join_labels(added, codes, ";", j.index)
    out["reasons_removed"] = _join_labels(removed, codes, ";", j.index)
    for lang, sep in (("zh", "；"), ("en", "; ")):
        names = [_reason_label(c, labels, lang) for c in codes]
        out[f"reasons_added_{lang}"] = _join_labels(added, names, sep, j.index)
        out[f"reasons_removed_{lang}"] = _join_labels(removed, names, sep, j.index)
    out["disposal_a"], out["disposal_b"] = j["path_a"], j["path_b"]
    for side in ("a", "b"):
        zh = j.get(f"disposal_zh_{side}")
        out[f"disposal_zh_{side}"] = zh.fillna("").where(j[f"listed_{side}"], "") if zh is not None else j[f"path_{side}"]
    path = np.select([j["path_completed"], j["path_changed"], j["path_started"]], ["completed", "changed", "started"], "")
    out["path_change"] = path
    out["path_change_zh"], out["path_change_en"] = _labelled(path, PATH_CHANGES, j.index)
    zh, en = completion_evidence(j)
    out["completion_zh"], out["completion_en"] = zh, en
    if {"floor_area_m2_a", "floor_area_m2_b"} <= set(out.columns):
        out["floor_area_change_m2"] = out["floor_area_m2_b"] - out["floor_area_m2_a"]
    if "land_freed_mu_a" in j:
        out["land_freed_mu_a"] = j["land_freed_mu_a"].where(j["listed_a"])
    keep = change != ""
    out = out[keep].reset_index()
    out = out[[c for c in CHANGE_COLUMNS if c in out.columns]]
    from_b = pb.geometry.reindex(out["parcel_id"]).to_numpy()
    from_a = pa.geometry.reindex(out["parcel_id"]).to_numpy()
    geometry = np.where(pd.isna(from_b), from_a, from_b)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, crs=pb.crs), crs=pb.crs)


def _labelled(codes: np.ndarray, names: dict[str, tuple[str, str]], index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Return the Chinese and English names of codes (empty for no code)."""
    series = pd.Series(codes, index=index)
    return (series.map({k: v[0] for k, v in names.items()}).fillna(""),
            series.map({k: v[1] for k, v in names.items()}).fillna(""))


def completion_evidence(j: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Return, for each completed path, what shows it (Chinese, English); empty elsewhere."""
    done = j["path_completed"]
    zh = pd.Series("", index=j.index, dtype=object)
    en = pd.Series("", index=j.index, dtype=object)

    def add(mask: pd.Series, text_zh: pd.Series | str, text_en: pd.Series | str) -> None:
        nonlocal zh, en
        mask = mask & done
        sep_zh = np.where(zh != "", "；", "")
        sep_en = np.where(en != "", "; ", "")
        zh = zh.where(~mask, zh + sep_zh + text_zh)
        en = en.where(~mask, en + sep_en + text_en)

    gone = j["in_a"] & ~j["in_b"]
    add(gone, "地块已注销", "parcel removed")
    add(~gone, "已移出低效清单", "no longer listed")
    if {"status_a", "status_b"} <= set(j.columns):
        changed = j["in_b"] & j["status_a"].notna() & (j["status_a"] != j["status_b"])
        name_zh = {k: v[0] for k, v in STATUS_LABELS.items()}
        sa, sb = j["status_a"].astype(str), j["status_b"].astype(str)
        add(changed, "土地状态" + sa.map(name_zh).fillna(sa) + "→" + sb.map(name_zh).fillna(sb), "status " + sa + " → " + sb)
    if {"floor_area_m2_a", "floor_area_m2_b"} <= set(j.columns):
        more = (j["floor_area_m2_b"] - j["floor_area_m2_a"]).fillna(0)
        rounded = more.round(0).astype("int64").map("{:,}".format)
        add(more > 0, "建筑面积增加" + rounded + "m²", "floor area +" + rounded + " m²")
    if "land_freed_mu_a" in j:  # land the path frees is free once the parcel is gone or changed hands
        freed = j["land_freed_mu_a"].fillna(0)
        changed = (j["in_b"] & (j["status_a"] != j["status_b"])) if {"status_a", "status_b"} <= set(j.columns) else False
        text = freed.round(2).map("{:,.2f}".format)
        add((freed > 0) & (gone | changed), "腾退土地" + text + "亩", "land freed " + text + " mu")
    return zh, en


def transition_matrix(j: pd.DataFrame) -> pd.DataFrame:
    """Return the grade transition matrix over the parcels in both runs (rows: A's grade, columns: B's).

    Columns ``transition_from``, ``to_A`` … ``to_U``, ``total``, and a last row ``total``.
    """
    both = j[j["in_a"] & j["in_b"]]
    table = pd.crosstab(both["grade_a"].fillna("U"), both["grade_b"].fillna("U")).reindex(index=GRADES, columns=GRADES, fill_value=0)
    table = table.astype("int64")
    table.columns = [f"to_{g}" for g in table.columns]
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    return table.rename_axis("transition_from").reset_index()


def matrix_dict(transitions: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Return the 5 × 5 matrix as ``{from: {to: count}}`` (no totals)."""
    body = transitions.set_index("transition_from").loc[list(GRADES), [f"to_{g}" for g in GRADES]]
    return {g: {t.removeprefix("to_"): int(v) for t, v in row.items()} for g, row in body.iterrows()}


def reason_table(j: pd.DataFrame, labels: dict[str, Label]) -> pd.DataFrame:
    """Return per inventory reason: parcels listed for it before and after, added, cleared."""
    rows = []
    for code in _codes(j):
        a, b = _flag(j, "a", code), _flag(j, "b", code)
        rows.append({"code": code, "label_zh": _reason_label(code, labels, "zh"), "label_en": _reason_label(code, labels, "en"),
                     "parcels_a": int(a.sum()), "parcels_b": int(b.sum()), "added": int((b & ~a).sum()),
                     "cleared": int((a & ~b).sum()), "change": int(b.sum() - a.sum())})
    columns = ["code", "label_zh", "label_en", "parcels_a", "parcels_b", "added", "cleared", "change"]
    return pd.DataFrame(rows, columns=columns)


def path_table(j: pd.DataFrame) -> pd.DataFrame:
    """Return per disposal path: parcels and area before and after, started, completed, changed.

    For each path, ``parcels_b − parcels_a = started − completed − changed_from``.
    """
    names: dict[str, tuple[str, str]] = {}
    for side in ("a", "b"):
        for lang in ("zh", "en"):
            column = f"disposal_{lang}_{side}"
            if column in j:
                pairs = j.loc[j[f"path_{side}"] != "", [f"path_{side}", column]].drop_duplicates(f"path_{side}")
                for code, label in zip(pairs[f"path_{side}"], pairs[column], strict=True):
                    zh_en = names.setdefault(code, (code, code))
                    names[code] = (label, zh_en[1]) if lang == "zh" else (zh_en[0], label)
    codes = list(dict.fromkeys([*j["path_a"][j["path_a"] != ""].unique(), *j["path_b"][j["path_b"] != ""].unique()]))
    area_a = j["area_mu_a"] if "area_mu_a" in j else pd.Series(np.nan, index=j.index)
    area_b = j["area_mu_b"] if "area_mu_b" in j else pd.Series(np.nan, index=j.index)
    freed = j["land_freed_mu_a"].fillna(0) if "land_freed_mu_a" in j else pd.Series(0.0, index=j.index)
    rows = []
    for code in codes:
        in_a, in_b = j["path_a"] == code, j["path_b"] == code
        rows.append({
            "code": code, "label_zh": names.get(code, (code, code))[0], "label_en": names.get(code, (code, code))[1],
            "parcels_a": int(in_a.sum()), "parcels_b": int(in_b.sum()),
            "area_mu_a": float(area_a[in_a].sum()), "area_mu_b": float(area_b[in_b].sum()),
            "started": int((in_b & j["path_started"]).sum()), "completed": int((in_a & j["path_completed"]).sum()),
            "changed_from": int((in_a & j["path_changed"]).sum()), "changed_to": int((in_b & j["path_changed"]).sum()),
            "land_freed_done_mu": float(freed[in_a & j["path_completed"]].sum()),
        })
    columns = ["code", "label_zh", "label_en", "parcels_a", "parcels_b", "area_mu_a", "area_mu_b", "started", "completed",
               "changed_from", "changed_to", "land_freed_done_mu"]
    return pd.DataFrame(rows, columns=columns)


#: Block columns that are identifiers or text, not metrics.
BLOCK_KEYS = ("block_id", "block_name", "block_type", "ring", "geometry")


def block_table(a: Run, b: Run, labels: dict[str, Label]) -> pd.DataFrame:
    """Return the block metrics before and after (one row per block and metric), park first.

    Every numeric column of both runs' ``blocks`` layers is a metric; the park's row comes from
    ``summary.json`` when both runs have one.
    """
    columns = ["block_id", "block_name", "metric", "metric_zh", "metric_en", "value_a", "value_b", "change"]
    frames_a, frames_b = [], []
    if a.summary and b.summary and a.summary.get("park") and b.summary.get("park"):
        frames_a.append(pd.DataFrame([{**a.summary["park"], "block_id": "park", "block_name": "园区"}]))
        frames_b.append(pd.DataFrame([{**b.summary["park"], "block_id": "park", "block_name": "园区"}]))
    if a.blocks is not None and b.blocks is not None and "block_id" in a.blocks and "block_id" in b.blocks:
        frames_a.append(a.blocks)
        frames_b.append(b.blocks)
    if not frames_a:
        return pd.DataFrame(columns=columns)
    fa, fb = pd.concat(frames_a, ignore_index=True), pd.concat(frames_b, ignore_index=True)
    metrics = [c for c in fa.columns if c in fb.columns and c not in BLOCK_KEYS
               and pd.api.types.is_numeric_dtype(fa[c]) and pd.api.types.is_numeric_dtype(fb[c])
               and not pd.api.types.is_bool_dtype(fa[c])]
    long_a = fa[["block_id", *metrics]].melt(id_vars="block_id", var_name="metric", value_name="value_a")
    long_b = fb[["block_id", *metrics]].melt(id_vars="block_id", var_name="metric", value_name="value_b")
    table = long_a.merge(long_b, on=["block_id", "metric"], how="outer", sort=False)
    names = pd.concat([fb[["block_id", "block_name"]], fa[["block_id", "block_name"]]] if "block_name" in fa and "block_name" in fb
                      else [fb[["block_id"]].assign(block_name=""), fa[["block_id"]].assign(block_name="")]).drop_duplicates("block_id")
    table = table.merge(names, on="block_id", how="left")
    table["metric_zh"] = table["metric"].map(lambda m: _metric_label(m, labels, "zh"))
    table["metric_en"] = table["metric"].map(lambda m: _metric_label(m, labels, "en"))
    table["change"] = table["value_b"] - table["value_a"]
    order = {m: i for i, m in enumerate(metrics)}
    blocks = {bid: i for i, bid in enumerate(dict.fromkeys([*fa["block_id"], *fb["block_id"]]))}
    table = table.assign(_b=table["block_id"].map(blocks), _m=table["metric"].map(order)).sort_values(["_b", "_m"], kind="stable")
    return table[columns].reset_index(drop=True)


def _metric_label(metric: str, labels: dict[str, Label], lang: str) -> str:
    label = labels.get(metric)
    if label is None:
        return metric
    text, shown = (label.zh if lang == "zh" else label.en), unit(label, lang)
    return f"{text}({shown})" if shown else text


def scatter_table(a: pd.DataFrame | None, b: pd.DataFrame | None) -> pd.DataFrame:
    """Return the concentration metrics (小而散, FRAGSTATS-style) before and after, per park, block and ring.

    ``improved`` says whether the change goes the metric's better way (``better``: lower or
    higher; empty for counts and areas that are neither).
    """
    from landkit.metrics.fragmentation import METRICS

    columns = ["level", "group", "name", "metric", "metric_zh", "metric_en", "unit", "value_a", "value_b", "change",
               "change_pct", "better", "improved"]
    if a is None or b is None or not {"level", "group"} <= set(a.columns) & set(b.columns):
        return pd.DataFrame(columns=columns)
    metrics = [m for m in METRICS if m in a.columns and m in b.columns]
    keys = ["level", "group"]
    long_a = a[keys + metrics].melt(id_vars=keys, var_name="metric", value_name="value_a")
    long_b = b[keys + metrics].melt(id_vars=keys, var_name="metric", value_name="value_b")
    table = long_a.merge(long_b, on=[*keys, "metric"], how="outer", sort=False)
    if "name" in a.columns and "name" in b.columns:
        names = pd.concat([b[[*keys, "name"]], a[[*keys, "name"]]]).drop_duplicates(keys)
        table = table.merge(names, on=keys, how="left")
    else:
        table["name"] = table["group"]
    table["metric_zh"] = table["metric"].map(lambda m: METRICS[m]["zh"])
    table["metric_en"] = table["metric"].map(lambda m: METRICS[m]["en"])
    table["unit"] = table["metric"].map(lambda m: METRICS[m]["unit"])
    table["better"] = table["metric"].map(lambda m: METRICS[m]["better"] or "")
    table["change"] = table["value_b"] - table["value_a"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100 * table["change"] / table["value_a"].abs()
    table["change_pct"] = pct.where(np.isfinite(pct))
    improved = np.where(table["better"] == "lower", table["change"] < 0, table["change"] > 0)
    table["improved"] = pd.Series(improved, index=table.index, dtype=object).where(
        (table["better"] != "") & table["change"].notna() & (table["change"] != 0))
    levels = {lvl: i for i, lvl in enumerate(dict.fromkeys([*a["level"], *b["level"]]))}
    groups = {g: i for i, g in enumerate(dict.fromkeys([*a["group"], *b["group"]]))}
    order = {m: i for i, m in enumerate(metrics)}
    table = table.assign(_l=table["level"].map(levels), _g=table["group"].map(groups), _m=table["metric"].map(order))
    table = table.sort_values(["_l", "_g", "_m"], kind="stable")
    return table[columns].reset_index(drop=True)


def summarise(a: Run, b: Run, j: pd.DataFrame, transitions: pd.DataFrame, *, blocks: pd.DataFrame,
              scatter: pd.DataFrame) -> dict[str, Any]:
    """Return the headline counts of a comparison as plain data (written to compare.json)."""
    both = j["in_a"] & j["in_b"]
    area_a = j["area_mu_a"].fillna(0) if "area_mu_a" in j else pd.Series(0.0, index=j.index)
    area_b = j["area_mu_b"].fillna(0) if "area_mu_b" in j else pd.Series(0.0, index=j.index)
    freed = j["land_freed_mu_a"].fillna(0) if "land_freed_mu_a" in j else pd.Series(0.0, index=j.index)
    if {"floor_area_m2_a", "floor_area_m2_b"} <= set(j.columns):
        added = (j["floor_area_m2_b"] - j["floor_area_m2_a"]).clip(lower=0).fillna(0)
    else:
        added = pd.Series(0.0, index=j.index)

    def side(run: Run) -> dict[str, Any]:
        return {"path": run.where, "run_id": run.run_id, "year": run.year, "parcels": len(run.parcels),
                "inventory_parcels": int(run.parcels["low_efficiency"].fillna(False).astype(bool).sum())}

    park = scatter[scatter["level"] == "park"] if len(scatter) else scatter
    return {
        "a": side(a),
        "b": side(b),
        "parcels": {"common": int(both.sum()), "new": int((j["in_b"] & ~j["in_a"]).sum()),
                    "removed": int((j["in_a"] & ~j["in_b"]).sum())},
        "grades": {"changed": int(j["grade_changed"].sum()), "up": int(j["up"].sum()), "down": int(j["down"].sum()),
                   "graded": int(j["graded"].sum()), "ungraded": int(j["ungraded"].sum()),
                   "transitions": matrix_dict(transitions)},
        "inventory": {"a": int(j["listed_a"].sum()), "b": int(j["listed_b"].sum()),
                      "delta": int(j["listed_b"].sum() - j["listed_a"].sum()),
                      "entered": int(j["entered"].sum()), "left": int(j["left"].sum()),
                      "area_mu_a": float(area_a[j["listed_a"]].sum()), "area_mu_b": float(area_b[j["listed_b"]].sum()),
                      "entered_area_mu": float(area_b[j["entered"]].sum()), "left_area_mu": float(area_a[j["left"]].sum())},
        "paths": {"started": int(j["path_started"].sum()), "completed": int(j["path_completed"].sum()),
                  "changed": int(j["path_changed"].sum()),
                  "land_freed_mu": float(freed[j["path_completed"]].sum()),
                  "floor_area_added_m2": float(added[j["path_completed"]].sum())},
        "blocks": _records(blocks),
        "scatter": _records(scatter),
        "park_scatter": {row["metric"]: {"a": row["value_a"], "b": row["value_b"]} for row in _records(park)},
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if is_missing(v) else (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()}
            for row in frame.to_dict("records")]


def summary_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Return the headline counts as a two-language table: item, label, value."""
    inv, paths, parcels, grades = summary["inventory"], summary["paths"], summary["parcels"], summary["grades"]
    values = {
        "parcels_a": summary["a"]["parcels"], "parcels_b": summary["b"]["parcels"], **parcels,
        "grade_changed": grades["changed"], "up": grades["up"], "down": grades["down"], "graded": grades["graded"],
        "ungraded": grades["ungraded"], "inventory_a": inv["a"], "inventory_b": inv["b"], "inventory_delta": inv["delta"],
        "entered": inv["entered"], "left": inv["left"], "inventory_area_mu_a": inv["area_mu_a"], "inventory_area_mu_b": inv["area_mu_b"],
        "paths_started": paths["started"], "paths_completed": paths["completed"], "paths_changed": paths["changed"],
        "land_freed_mu": paths["land_freed_mu"], "floor_area_added_m2": paths["floor_area_added_m2"],
    }
    rows = [{"item": k, "item_zh": SUMMARY_ITEMS[k][0], "item_en": SUMMARY_ITEMS[k][1], "value": float(v)} for k, v in values.items()]
    return pd.DataFrame(rows, columns=["item", "item_zh", "item_en", "value"])


def headline_lines(summary: dict[str, Any]) -> list[str]:
    """Return a few lines in Chinese for the terminal."""
    a, b = summary["a"], summary["b"]
    inv, paths, grades, parcels = summary["inventory"], summary["paths"], summary["grades"], summary["parcels"]
    span = f"{a['year']} → {b['year']}" if a["year"] is not None and b["year"] is not None else "上期 → 本期"
    lines = [
        f"对比 {span}: 共同地块 {parcels['common']:,} 宗, 新增 {parcels['new']:,} 宗, 注销 {parcels['removed']:,} 宗",
        (f"评价等级变化 {grades['changed']:,} 宗 (上升 {grades['up']:,}, 下降 {grades['down']:,}, "
         f"新参评 {grades['graded']:,}, 转为不参评 {grades['ungraded']:,})"),
        f"低效用地 {inv['a']:,} → {inv['b']:,} 宗 ({inv['delta']:+,}): 新列入 {inv['entered']:,} 宗, 移出 {inv['left']:,} 宗",
        (f"盘活路径: 新启动 {paths['started']:,} 宗, 已完成 {paths['completed']:,} 宗 (腾退土地 {paths['land_freed_mu']:,.0f} 亩, "
         f"新增建筑面积 {paths['floor_area_added_m2'] / 1e4:,.1f} 万m²), 调整 {paths['changed']:,} 宗"),
    ]
    decisions = summary.get("decisions") or {}
    if decisions.get("objections") or decisions.get("overridden_b"):
        st = decisions.get("by_status_b", {})
        lines.append(f"异议 {decisions['objections']} 件 (已受理 {st.get('received', 0)}, 成立 {st.get('upheld', 0)}, "
                     f"驳回 {st.get('rejected', 0)}; 本期新收 {decisions.get('new', 0)} 件, 状态变化 {decisions['status_changed']} 件), "
                     f"本期人工调整地块 {decisions['overridden_b']} 宗")
    park = summary.get("park_scatter") or {}
    if "np" in park and "area_mn_ha" in park:
        np_, mn = park["np"], park["area_mn_ha"]
        lines.append(f"园区集聚: 斑块数 {np_['a']:,.0f} → {np_['b']:,.0f}, 平均斑块面积 {mn['a']:,.1f} → {mn['b']:,.1f} 公顷")
    return lines
