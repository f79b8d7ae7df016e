"""Overrides and the 公示/异议 register: decisions made by people, applied on top of the computed results.

After the list is published (公示), enterprises object (异议) and the district decides; some
decisions change a parcel's class, its path, or an input figure that was wrong. landkit keeps
both values: the computed one in ``<field>_computed`` and the decided one in ``<field>``, with
who approved it, when and why, so the run, its history and ``landkit compare`` show both.

**Overrides file** (``inputs.overrides``, CSV or XLSX; Chinese or English headers, see the
profile's ``columns.overrides``): one row per decision with ``parcel_id``, ``field``,
``value``, ``reason`` and optionally ``approved_by`` and ``approved_date``. ``field`` is one of

- ``grade`` (等级): A, B, C, D or U, applied after the performance assessment, so the list and
  the path follow the decided class;
- ``disposal`` (盘活路径): a path code of ``disposal.rules`` (or its Chinese label), applied in
  place of the first rule that holds, its gains and cost computed for the decided path;
- an input column of the parcels (:data:`landkit.core.schema.CANONICAL` ``parcels``) or a
  parcel total of the enterprises (``tax_wan``, ``revenue_wan`` …), applied before anything is
  computed.

**Objections register** (``inputs.objections``): ``objection_id``, ``parcel_id``,
``objection_status`` (received / upheld / rejected; 已受理 / 成立 / 驳回 …) and optionally the
enterprise, dates, subject and note. The report counts them by status and lists the open ones;
``landkit compare`` follows each one across runs.

Every problem is a one-line :class:`~landkit.core.errors.DataError` naming the file, the row,
the parcel and the fix: an unknown parcel, a field that cannot be overridden, a value outside the
field's domain, two decisions on one parcel's field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from landkit.config.models import Project
from landkit.core.errors import DataError
from landkit.core.i18n import _
from landkit.core.schema import ADDITIVE_ENTERPRISE_COLUMNS, CANONICAL, CODED_COLUMNS, OBJECTION_STATUSES
from landkit.io.read import file_rows

log = logging.getLogger(__name__)

#: Fields of the results a decision may set (the rest are the inputs').
RESULT_FIELDS = ("grade", "disposal")
#: Classes a ``grade`` override may give.
GRADES = ("A", "B", "C", "D", "U")
#: Input fields that may not be overridden: the parcel's identity and its place.
FIXED_FIELDS = frozenset({"parcel_id", "block_id"})
#: The audit columns every assessed parcel carries.
AUDIT_COLUMNS = ("overridden", "override_fields", "override_note", "override_disposal")
#: Chinese names of the result fields, accepted in the ``field`` column.
FIELD_NAMES_ZH = {"等级": "grade", "分类": "grade", "类别": "grade", "盘活路径": "disposal", "处置路径": "disposal", "路径": "disposal",
                  "税收": "tax_wan", "营业收入": "revenue_wan", "工业增加值": "value_added_wan", "从业人数": "employees",
                  "研发投入": "rd_spend_wan", "综合能耗": "energy_tce", "用电量": "electricity_kwh", "排放量": "emission_t",
                  "使用现状": "status", "土地状态": "status", "用地性质": "land_use", "建筑面积": "floor_area_m2",
                  "权属": "ownership", "违法用地": "illegal_use"}
#: The Chinese name a decision's note gives each field.
FIELD_LABELS_ZH = {field: name for name, field in reversed(FIELD_NAMES_ZH.items())}


def overridable_fields() -> list[str]:
    """Return every field an override may set: the results' and the parcels' inputs."""
    inputs = [c for c in CANONICAL["parcels"] if c not in FIXED_FIELDS]
    return [*RESULT_FIELDS, *inputs, *ADDITIVE_ENTERPRISE_COLUMNS]


def _kind(field: str) -> str:
    if field in CANONICAL["parcels"]:
        return CANONICAL["parcels"][field].kind
    return "float"  # an enterprise sum


def _fail(source: str, row: int, parcel: object, message: str) -> DataError:
    return DataError(_("{source}, row {row} (parcel {parcel}): {message}").format(
        source=source, row=row, parcel=parcel, message=message))


def check_overrides(overrides: pd.DataFrame, parcel_ids: pd.Series, project: Project, *, source: str) -> pd.DataFrame:
    """Return the overrides checked and with their values converted to the field's type.

    Parameters
    ----------
    overrides : DataFrame
        Canonical columns ``parcel_id``, ``field``, ``value``, ``reason`` (``approved_by``,
        ``approved_date`` optional), one row per decision, in file order.
    parcel_ids : Series
        The parcels' ids.
    project : Project
        For the path codes and the coded columns' vocabularies.
    source : str
        The file's name, for the messages.

    Returns
    -------
    DataFrame
        ``parcel_id``, ``field`` (canonical), ``value`` (converted: str, float or bool),
        ``reason``, ``approved_by``, ``approved_date``, ``row`` (the file's row number).

    Raises
    ------
    DataError
        On the first row that names an unknown parcel or field, a value outside its domain, a
        missing reason, or a field already decided for that parcel.
    """
    frame = overrides.reset_index(drop=True).copy()
    for column in ("approved_by", "approved_date", "reason"):
        if column not in frame:
            frame[column] = None
    frame["row"] = file_rows(overrides.attrs.get("header"), len(frame))  # as the file shows them
    known = set(parcel_ids.astype(str))
    fields = set(overridable_fields())
    paths = {r.code: r.code for r in project.disposal.rules} | {r.label_zh: r.code for r in project.disposal.rules}
    values: list[object] = []
    canonical: list[str] = []
    for row, pid, field, value, reason in zip(frame["row"], frame["parcel_id"], frame["field"], frame["value"],
                                              frame["reason"], strict=True):
        if pid is None or str(pid) not in known:
            raise _fail(source, row, pid, _("no such parcel in the parcel layer; correct the id or remove the row"))
        name = FIELD_NAMES_ZH.get(str(field).strip(), str(field).strip()) if field is not None else ""
        if name not in fields:
            raise _fail(source, row, pid, _("field `{field}` cannot be overridden; use grade, disposal or an input column "
                                            "such as tax_wan or status").format(field=field))
        if reason is None or not str(reason).strip():
            raise _fail(source, row, pid, _("no reason given; every override states why (column reason / 理由)"))
        values.append(_domain_value(name, value, project, paths, source=source, row=row, parcel=pid))
        canonical.append(name)
    frame["field"] = canonical
    frame["value"] = pd.Series(values, index=frame.index, dtype=object)
    twice = frame.duplicated(["parcel_id", "field"], keep="first")
    if twice.any():
        first = frame[twice].iloc[0]
        raise _fail(source, int(first["row"]), first["parcel_id"],
                    _("field `{field}` is decided twice for this parcel; keep one row").format(field=first["field"]))
    return frame[["parcel_id", "field", "value", "reason", "approved_by", "approved_date", "row"]]


def _domain_value(field: str, value: object, project: Project, paths: Mapping[str, str], *, source: str, row: int,
                  parcel: object) -> object:
    """Return ``value`` converted for ``field``, or raise naming the domain."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
    if field == "grade":
        if text.upper().removesuffix("类") not in GRADES:
            raise _fail(source, row, parcel, _("class `{value}` is not one of A, B, C, D, U").format(value=text))
        return text.upper().removesuffix("类")
    if field == "disposal":
        if text not in paths:
            raise _fail(source, row, parcel, _("path `{value}` is not a rule of disposal.rules ({codes})").format(
                value=text, codes=", ".join(dict.fromkeys(paths.values()))))
        return paths[text]
    kind = _kind(field)
    if field in CODED_COLUMNS:
        vocabulary = getattr(project.values, field)
        lookup = {v.lower(): k for k, vs in vocabulary.items() for v in [k, *vs]}
        if text.lower() not in lookup:
            raise _fail(source, row, parcel, _("`{value}` is not a value of {field} ({values})").format(
                value=text, field=field, values=", ".join(vocabulary)))
        return lookup[text.lower()]
    if kind == "bool":
        if text.lower() in {v.lower() for v in project.values.true}:
            return True
        if text.lower() in {v.lower() for v in project.values.false}:
            return False
        raise _fail(source, row, parcel, _("`{value}` is neither yes nor no").format(value=text))
    if kind == "str":
        return text or None
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        raise _fail(source, row, parcel, _("`{value}` is not a number for {field}").format(value=text, field=field)) from None
    if not np.isfinite(number) or number < 0:
        raise _fail(source, row, parcel, _("{field} must be a finite number ≥ 0, not {value}").format(field=field, value=text))
    if kind == "int" and number != int(number):
        raise _fail(source, row, parcel, _("{field} is a year: a whole number, not {value}").format(field=field, value=text))
    return number


def check_objections(objections: pd.DataFrame, parcel_ids: pd.Series, *, source: str) -> pd.DataFrame:
    """Return the objections register checked (every parcel known, every status known, ids unique).

    Raises
    ------
    DataError
        On the first row naming an unknown parcel, lacking a status, or repeating an id.
    """
    frame = objections.reset_index(drop=True).copy()
    frame["row"] = file_rows(objections.attrs.get("header"), len(frame))
    known = set(parcel_ids.astype(str))
    for row, oid, pid, status in zip(frame["row"], frame["objection_id"], frame["parcel_id"], frame["objection_status"],
                                     strict=True):
        if pid is None or str(pid) not in known:
            raise _fail(source, row, pid, _("objection {id}: no such parcel in the parcel layer").format(id=oid))
        if status not in OBJECTION_STATUSES:
            raise _fail(source, row, pid, _("objection {id}: status must be received, upheld or rejected "
                                            "(已受理, 成立, 驳回)").format(id=oid))
    twice = frame.duplicated("objection_id")
    if twice.any():
        first = frame[twice].iloc[0]
        raise _fail(source, int(first["row"]), first["parcel_id"],
                    _("objection id {id} appears twice; give each objection its own id").format(id=first["objection_id"]))
    return frame


# --- applying them ------------------------------------------------------------------------------


def _note(field: str, computed: object, decided: object, row: pd.Series) -> str:
    who = f"；批准：{row['approved_by']}" if row.get("approved_by") else ""
    when = f"，{row['approved_date']}" if row.get("approved_date") else ""
    if field == "disposal":  # decided before the rules run: the rules' path is in disposal_computed
        return f"路径定为{decided}（{row['reason']}{who}{when}）"
    shown = FIELD_LABELS_ZH.get(field, field)
    before = "—" if computed is None or (isinstance(computed, float) and np.isnan(computed)) else computed
    return f"{shown} {before}→{decided}（{row['reason']}{who}{when}）"


def apply_overrides(parcels: pd.DataFrame, overrides: pd.DataFrame | None, fields: tuple[str, ...] | None = None,
                    *, stage: str = "inputs") -> pd.DataFrame:
    """Return the parcels with the decisions on ``fields`` applied and audited.

    ``stage`` ``inputs`` applies every input field (before the assessment); ``grade`` the class
    (after the performance assessment: ``grade_basis`` becomes ``override``); ``disposal`` sets
    ``override_disposal``, the path :func:`landkit.disposal.paths.assign_disposal` then takes.
    The computed value is kept in ``<field>_computed``; ``overridden``, ``override_fields`` and
    ``override_note`` accumulate over the stages.
    """
    out = parcels.copy(deep=False)
    if "overridden" not in out:
        out["overridden"] = False
        out["override_fields"] = ""
        out["override_note"] = ""
        out["override_disposal"] = ""
    if overrides is None or not len(overrides):
        return out
    if fields is None:
        fields = tuple(f for f in overrides["field"].unique() if f not in RESULT_FIELDS) if stage == "inputs" else (stage,)
    position = pd.Series(np.arange(len(out)), index=out["parcel_id"].astype(str).to_numpy())
    for field in fields:
        rows = overrides[overrides["field"] == field]
        if not len(rows):
            continue
        at = position.loc[rows["parcel_id"].astype(str)].to_numpy()
        index = out.index[at]
        target = "override_disposal" if field == "disposal" else field
        computed = out[field].iloc[at].to_numpy(dtype=object) if field in out else np.full(len(at), None, dtype=object)
        out[f"{field}_computed"] = out[field] if field in out else pd.Series(None, index=out.index, dtype=object)
        if field == "disposal":
            out[f"{field}_computed"] = ""  # filled with the rules' path when the paths are assigned
        values = rows["value"].to_numpy(dtype=object)
        if field != "disposal":
            # a figure the layer does not carry (e.g. 违法用地): the decided values on those parcels, not known elsewhere
            column = out[target].copy() if target in out else pd.Series(None, index=out.index, dtype=object)
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                column = column.astype(float)
                column.loc[index] = values.astype(float)
            else:
                column = column.astype(object)
                column.loc[index] = values
            out[target] = column
        else:
            out.loc[index, target] = values
        if field == "grade":
            out.loc[index, "grade_basis"] = "override"
        notes = [_note(field, c, v, r) for c, v, (_i, r) in zip(computed, values, rows.iterrows(), strict=True)]
        out.loc[index, "overridden"] = True
        sep = np.where(out.loc[index, "override_fields"].to_numpy() != "", ",", "")
        out.loc[index, "override_fields"] = out.loc[index, "override_fields"].to_numpy() + sep + field
        sep = np.where(out.loc[index, "override_note"].to_numpy() != "", "；", "")
        out.loc[index, "override_note"] = out.loc[index, "override_note"].to_numpy() + sep + np.asarray(notes, dtype=object)
    return out


def audit_table(parcels: pd.DataFrame, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """Return the audit trail: each decision with the computed and the decided value."""
    columns = ["parcel_id", "field", "computed", "value", "reason", "approved_by", "approved_date", "row"]
    if overrides is None or not len(overrides):
        return pd.DataFrame(columns=columns)
    by_id = parcels.set_index(parcels["parcel_id"].astype(str))
    computed = []
    for pid, field in zip(overrides["parcel_id"].astype(str), overrides["field"], strict=True):
        column = f"{field}_computed"
        computed.append(by_id.at[pid, column] if column in by_id else None)
    table = overrides.assign(computed=computed)
    table["computed"] = table["computed"].astype(object).map(lambda v: None if pd.isna(v) else str(v))
    table["value"] = table["value"].astype(object).map(lambda v: None if v is None else str(v))
    return table[columns].reset_index(drop=True)


def objection_register(parcels: pd.DataFrame, objections: pd.DataFrame) -> pd.DataFrame:
    """Return the 异议 register with each parcel's class now and whether a decision overrides it."""
    by_id = parcels.drop_duplicates("parcel_id").set_index(parcels["parcel_id"].drop_duplicates().astype(str))
    ids = objections["parcel_id"].astype(str)
    table = objections.drop(columns=["row"], errors="ignore").copy()
    table["grade"] = ids.map(by_id["grade"]).to_numpy() if "grade" in by_id else None
    if "grade_computed" in by_id:
        table["grade_computed"] = ids.map(by_id["grade_computed"]).to_numpy()
    table["overridden"] = ids.map(by_id["overridden"]).fillna(False).astype(bool).to_numpy() if "overridden" in by_id else False
    table["override_note"] = ids.map(by_id["override_note"]).fillna("").to_numpy() if "override_note" in by_id else ""
    return table.reset_index(drop=True)


def objection_summary(objections: pd.DataFrame | None) -> dict[str, int]:
    """Return the objections counted by status (every status, 0 when none)."""
    counts = objections["objection_status"].value_counts() if objections is not None else pd.Series(dtype=int)
    return {status: int(counts.get(status, 0)) for status in OBJECTION_STATUSES}
