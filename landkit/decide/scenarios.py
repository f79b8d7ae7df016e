"""Policy scenarios: named variants of the profile, assessed on the same data and set against the base.

Planners argue about weights, class shares, benchmarks, the classes the list takes and the
paths' rules and standards. A scenarios file names variants, each setting any key of the
profile; every variant is assessed on the data loaded once, and compared with the base: the class
counts and areas, the list, the paths, the land freed, the floor area added, the tax gain and
the compensation; and who changes class, with the indicator that moved them.

**The scenarios file** (YAML)::

    scenarios:
      - name: 税收权重加倍
        description: 规上企业亩均税收权重 30 → 60
        set:
          assessment.tracks.large.weights.tax_per_mu: 60
      - name: D类占比10%
        set:
          assessment.grading.rank_shares: {A: 0.25, B: 0.40, C: 0.25, D: 0.10}

A key is a dotted path into the profile (:mod:`landkit.config.models`); a list of named items
(``assessment.tracks``, ``inventory.reasons``, ``disposal.rules``) is entered by an item's
``name`` or ``code`` (or its position, from 0). A mapping given as the value is merged into the
one there (as a project file is merged into the default profile); any other value replaces it.
Every variant is checked as a whole profile before anything runs: a key that does not exist or a
value the profile refuses is a one-line error naming the file, the variant and the key.

**Speed.** The variants share everything their settings do not touch
(:class:`landkit.pipeline.Reuse`): the data are read, checked and summarised from the rasters
once; the rings' travel times, the 小而散 analysis, the public services and the chains are the
base's unless a variant sets their sections; the grade robustness is sampled for the base only
(a variant samples it again only when it sets ``robustness`` keys).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import ValidationError

from landkit.config.load import read_yaml
from landkit.config.models import Project, used_indicators
from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.core.progress import Stage, no_stage
from landkit.data.dataset import Dataset
from landkit.pipeline import Reuse, assess
from landkit.result import AssessmentResult

__all__ = ["BASE", "ScenarioRun", "Variant", "class_changes", "read_scenarios", "run_scenarios", "scenario_paths",
           "scenario_summary", "variant_project", "variant_projects"]

#: The name of the base (the project as it is) in the tables.
BASE = "基准"
#: Keys a list item is found by, in this order.
ITEM_KEYS = ("name", "code")
#: What moved a parcel's class when no indicator did: its track, a direct rule, the cuts, a decision.
MOVED_BY = {"track": ("评价分组改变", "track changed"), "direct": ("直接定级规则", "direct rule"),
            "grading": ("等级划分(占比或分数线)", "class cuts or shares"), "override": ("人工调整", "decision")}


@dataclass(frozen=True)
class Variant:
    """One named variant: the profile keys it sets."""

    name: str
    settings: dict[str, Any]
    description: str = ""


@dataclass
class ScenarioRun:
    """The base assessment and each variant's, with the projects they were made with."""

    project: Project
    base: AssessmentResult
    variants: list[Variant]
    projects: dict[str, Project] = field(default_factory=dict)
    results: dict[str, AssessmentResult] = field(default_factory=dict)


def read_scenarios(path: str | Path) -> list[Variant]:
    """Read a scenarios file: its ``scenarios`` list of ``name``, ``description`` and ``set``.

    Raises
    ------
    ConfigError
        If the file is not such a list, a variant lacks a name or repeats one, or its ``set`` is
        not a mapping of keys to values (the message names the file and the variant).
    """
    path = Path(path)
    data = read_yaml(path)
    items = data.get("scenarios")
    unknown = sorted(set(data) - {"scenarios"})
    if unknown:
        raise ConfigError(_("{path}: unknown top-level key {keys}; a scenarios file holds `scenarios:`, a list of "
                            "name, description and set").format(path=path, keys=", ".join(unknown)))
    if not isinstance(items, list) or not items:
        raise ConfigError(_("{path}: no `scenarios:` list; give one or more variants, each with a name and `set:` of "
                            "profile keys").format(path=path))
    variants: list[Variant] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            raise ConfigError(_("{path}: scenario {n} has no name; give each variant `name:` and `set:`").format(path=path, n=i + 1))
        name = str(item["name"]).strip()
        extra = sorted(set(item) - {"name", "description", "set"})
        if extra:
            raise ConfigError(_("{path}: scenario {name}: unknown key {keys}; a variant has name, description and set").format(
                path=path, name=name, keys=", ".join(extra)))
        settings = item.get("set")
        if not isinstance(settings, dict) or not settings:
            raise ConfigError(_("{path}: scenario {name}: `set:` must map profile keys (e.g. assessment.grading.rank_shares) "
                                "to values").format(path=path, name=name))
        if name == BASE or name in {v.name for v in variants}:
            raise ConfigError(_("{path}: scenario name {name} is used twice (or is the base's); give each variant its own "
                                "name").format(path=path, name=name))
        variants.append(Variant(name=name, settings={str(k): v for k, v in settings.items()},
                                description=str(item.get("description") or "")))
    return variants


def _merge(base: Any, value: Any) -> Any:
    """Merge a mapping into a mapping (recursively); any other value replaces."""
    if isinstance(base, dict) and isinstance(value, dict):
        out = dict(base)
        for key, item in value.items():
            out[key] = _merge(base.get(key), item)
        return out
    return copy.deepcopy(value)


def _item(items: list[Any], key: str) -> int | None:
    """Return the position of the list item named ``key`` (by name, code or position), None if none is."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and any(str(item.get(k)) == key for k in ITEM_KEYS if k in item):
            return i
    if key.isdigit() and int(key) < len(items):
        return int(key)
    return None


def _known(node: Any) -> str:
    """Return the keys (or item names) a node offers, for a message."""
    if isinstance(node, dict):
        return ", ".join(map(str, node))
    if isinstance(node, list):
        return ", ".join(str(next((item[k] for k in ITEM_KEYS if isinstance(item, dict) and k in item), i))
                         for i, item in enumerate(node))
    return ""


def _set(config: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    """Set ``dotted`` in ``config`` (in place), lists of named items entered by name or code."""
    parts = dotted.split(".")
    node: Any = config
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            if part not in node and not (last and isinstance(value, (dict, list, str, int, float, bool)) and _open(node)):
                raise ConfigError(_("{where}: no key {key} in the profile (at {part}; keys there: {known})").format(
                    where=where, key=dotted, part=part, known=_known(node)))
            if last:
                node[part] = _merge(node.get(part), value)
            else:
                node = node[part]
        elif isinstance(node, list):
            i = _item(node, part)
            if i is None:
                raise ConfigError(_("{where}: no item {part} in {key} (items: {known})").format(
                    where=where, part=part, key=".".join(parts[:depth]), known=_known(node)))
            if last:
                node[i] = _merge(node[i], value)
            else:
                node = node[i]
        else:
            raise ConfigError(_("{where}: {key} goes below a value ({part} is not a section)").format(
                where=where, key=dotted, part=".".join(parts[:depth])))


def _open(node: dict[str, Any]) -> bool:
    """Return whether a mapping takes new keys (a table of names: weights, benchmarks, params, shares …)."""
    return all(not isinstance(v, (dict, list)) for v in node.values())


def variant_project(project: Project, variant: Variant, *, source: str) -> Project:
    """Return ``project`` with the variant's settings applied, checked as a whole profile.

    Unless the variant sets ``robustness`` keys, its grade robustness is not sampled again
    (``robustness.samples`` 0): the base's sampling answers how contested the weights are.

    Raises
    ------
    ConfigError
        A key that does not exist, or a value the profile refuses (naming the file, the variant
        and the key).
    """
    config = project.model_dump()
    where = _("{source}: scenario {name}").format(source=source, name=variant.name)
    for key, value in variant.settings.items():
        _set(config, key, value, where)
    if not any(key == "robustness" or key.startswith("robustness.") for key in variant.settings):
        config["robustness"]["samples"] = 0
    try:
        return Project.model_validate(config)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        raise ConfigError(_("{where}: {loc}: {message}").format(where=where, loc=loc, message=error["msg"])) from None


def variant_projects(project: Project, variants: Sequence[Variant], *, source: str) -> dict[str, Project]:
    """Return every variant's profile by name (:func:`variant_project`): all checked, before anything runs."""
    return {v.name: variant_project(project, v, source=source) for v in variants}


def run_scenarios(data: Dataset, project: Project, variants: Sequence[Variant], *, source: str,
                  stage: Stage = no_stage, base: AssessmentResult | None = None) -> ScenarioRun:
    """Assess the base and every variant on the same data.

    Parameters
    ----------
    data : Dataset
        Loaded, checked inputs, rasters summarised (read once for all).
    project : Project
        The base profile.
    variants : sequence of Variant
        :func:`read_scenarios`.
    source : str
        The scenarios file, for messages.
    stage : callable, optional
        Wraps each variant's assessment (``with stage(name): ...``).
    base : AssessmentResult, optional
        The base assessment if it is already made (else it is made here).

    Raises
    ------
    ConfigError
        If a variant's settings do not make a valid profile (all are checked before any runs).
    """
    projects = variant_projects(project, variants, source=source)  # every one checked first
    with _said_once():  # the base's warnings about the data (parcels without a value …) are not repeated per variant
        if base is None:
            with stage(BASE):
                base = assess(data, project)
        run = ScenarioRun(project=project, base=base, variants=list(variants), projects=projects)
        reuse = Reuse(base, project)
        for variant in variants:
            with stage(variant.name):
                run.results[variant.name] = assess(data, projects[variant.name], reuse=reuse)
    return run


class _Once(logging.Filter):
    """Let each distinct message through once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


@contextmanager
def _said_once() -> Iterator[None]:
    """Within the block, show each warning of landkit's once (on every handler that shows them)."""
    once = _Once()
    handlers = [*logging.getLogger("landkit").handlers, *logging.getLogger().handlers]
    for handler in handlers:
        handler.addFilter(once)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(once)


def _total(values: pd.Series) -> float:
    return float(values.sum()) if values.notna().any() else float("nan")


def scenario_row(name: str, description: str, result: AssessmentResult, base: AssessmentResult | None) -> dict[str, Any]:
    """Return one scenario's figures: classes, the list, the paths' gains and cost, and the changes from the base."""
    p = result.parcels
    listed = p["low_efficiency"].astype(bool)
    paths = p["disposal"].fillna("") != ""
    row: dict[str, Any] = {"scenario": name, "description": description}
    for grade in ("A", "B", "C", "D", "U"):
        of = p["grade"] == grade
        row[f"{grade}_parcels"] = int(of.sum())
        row[f"{grade}_mu"] = float(p.loc[of, "area_mu"].sum())
    row.update(listed_parcels=int(listed.sum()), listed_mu=float(p.loc[listed, "area_mu"].sum()),
               path_parcels=int(paths.sum()), land_freed_mu=float(p.loc[paths, "land_freed_mu"].sum()),
               floor_area_added_m2=float(p.loc[paths, "floor_area_added_m2"].sum()),
               tax_gain_wan=float(p.loc[paths, "tax_gain_wan"].sum()), compensation_wan=_total(p.loc[paths, "compensation_wan"]),
               compensation_unknown=int(p.loc[paths, "compensation_wan"].isna().sum()))
    if base is None:
        row.update(class_changes=0, up=0, down=0, listed_in=0, listed_out=0, path_changes=0)
        return row
    b = base.parcels
    before, after = b["grade"].astype(str), p["grade"].astype(str)
    changed = before != after
    rank = {"A": 0, "B": 1, "C": 2, "D": 3}
    rb, ra = before.map(rank), after.map(rank)
    was = b["low_efficiency"].astype(bool)
    row.update(class_changes=int(changed.sum()), up=int((ra < rb).sum()), down=int((ra > rb).sum()),
               listed_in=int((listed & ~was).sum()), listed_out=int((was & ~listed).sum()),
               path_changes=int((b["disposal"].fillna("") != p["disposal"].fillna("")).sum()))
    return row


def scenario_summary(run: ScenarioRun) -> pd.DataFrame:
    """Return one row per scenario (the base first): :func:`scenario_row`."""
    rows = [scenario_row(BASE, "", run.base, None)]
    rows += [scenario_row(v.name, v.description, run.results[v.name], run.base) for v in run.variants]
    return pd.DataFrame(rows)


def scenario_paths(run: ScenarioRun) -> pd.DataFrame:
    """Return the parcels and area of each path in each scenario (long: scenario, disposal, parcels, area_mu …)."""
    frames = []
    for name, result in [(BASE, run.base), *((v.name, run.results[v.name]) for v in run.variants)]:
        p = result.parcels
        on = p.loc[p["disposal"].fillna("") != "", ["disposal", "area_mu", "land_freed_mu", "tax_gain_wan", "compensation_wan"]]
        table = on.groupby("disposal", sort=True).agg(parcels=("area_mu", "size"), area_mu=("area_mu", "sum"),
                                                      land_freed_mu=("land_freed_mu", "sum"), tax_gain_wan=("tax_gain_wan", "sum"),
                                                      compensation_wan=("compensation_wan", lambda s: s.sum(min_count=1)))
        frames.append(table.reset_index().assign(scenario=name))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def _moved_by(base: pd.DataFrame, variant: pd.DataFrame, indicators: list[str]) -> tuple[pd.Series, pd.Series]:
    """Return, per parcel, what moved its class and by how many score points it did.

    The indicator whose contribution to the score changed most in the direction the score moved
    (its points lost, ``<indicator>_lost``, before less after); a changed track, a direct rule
    or a decision when one of them differs; else the class cuts or shares (same score, new class).
    """
    index = variant.index
    moved = pd.Series("grading", index=index, dtype=object)
    points = pd.Series(np.nan, index=index)
    lost = [f"{i}_lost" for i in indicators if f"{i}_lost" in base and f"{i}_lost" in variant]
    d_score = variant["score"].astype(float) - base["score"].astype(float)
    if lost:
        delta = (base[lost].astype(float).fillna(0.0) - variant[lost].astype(float).fillna(0.0)).to_numpy()
        signed = delta * np.sign(d_score.fillna(0.0).to_numpy())[:, None]
        best = np.argmax(signed, axis=1)
        gain = delta[np.arange(len(best)), best]
        scored = (d_score.abs() > 1e-9) & (signed.max(axis=1) > 1e-9)
        moved[scored] = np.array([i.removesuffix("_lost") for i in lost], dtype=object)[best[scored.to_numpy()]]
        points[scored] = gain[scored.to_numpy()]
    if "direct_grade" in base and "direct_grade" in variant:
        direct = base["direct_grade"].fillna("").astype(str) != variant["direct_grade"].fillna("").astype(str)
        moved[direct] = "direct"
    if "track" in base and "track" in variant:
        moved[base["track"].fillna("").astype(str) != variant["track"].fillna("").astype(str)] = "track"
    if "overridden" in variant and "override_fields" in variant:
        decided = variant["overridden"].fillna(False).astype(bool) & variant["override_fields"].fillna("").astype(str).str.contains("grade")
        moved[decided] = "override"
    return moved, points


def class_changes(run: ScenarioRun, labels: Mapping[str, tuple[str, str]] | None = None) -> gpd.GeoDataFrame:
    """Return every parcel whose class a variant changes, with before/after and what moved it.

    Columns: ``scenario``, ``parcel_id``, ``block_id``, ``track``, ``area_mu``, ``grade_base``,
    ``grade_scenario``, ``score_base``, ``score_scenario``, ``listed_base``, ``listed_scenario``,
    ``disposal_base``, ``disposal_scenario``, ``moved_by`` (an indicator, or track / direct /
    grading / override), ``moved_by_zh``, ``moved_by_en``, ``moved_points`` (the score points
    that indicator gave or took) and the geometry.
    """
    indicator_names = {name: (ind.label_zh, ind.label_en) for name, ind in run.project.assessment.indicators.items()}
    names = {**MOVED_BY, **indicator_names, **(labels or {})}
    frames = []
    base = run.base.parcels
    for variant in run.variants:
        project = run.projects[variant.name]
        after = run.results[variant.name].parcels
        changed = base["grade"].astype(str) != after["grade"].astype(str)
        if not changed.any():
            continue
        indicators = list(dict.fromkeys([*used_indicators(run.project.assessment), *used_indicators(project.assessment)]))
        read = ["parcel_id", "block_id", "track", "area_mu", "grade", "score", "low_efficiency", "disposal", "direct_grade",
                "overridden", "override_fields", *(f"{i}_lost" for i in indicators)]
        b = pd.DataFrame(base.loc[changed, [c for c in read if c in base]])  # the columns read, not the whole layer
        a = after.loc[changed, [c for c in [*read, after.geometry.name] if c in after]]
        moved, points = _moved_by(b, a, indicators)
        frame = pd.DataFrame({
            "scenario": variant.name, "parcel_id": a["parcel_id"],
            "block_id": a.get("block_id"), "track": a.get("track"),
            "area_mu": a["area_mu"], "grade_base": b["grade"], "grade_scenario": a["grade"],
            "score_base": b["score"], "score_scenario": a["score"],
            "listed_base": b["low_efficiency"].astype(bool), "listed_scenario": a["low_efficiency"].astype(bool),
            "disposal_base": b["disposal"], "disposal_scenario": a["disposal"], "moved_by": moved,
            "moved_by_zh": moved.map(lambda m: names.get(m, (m, m))[0]), "moved_by_en": moved.map(lambda m: names.get(m, (m, m))[1]),
            "moved_points": points,
        })
        frames.append(gpd.GeoDataFrame(frame, geometry=a.geometry, crs=after.crs))
    if not frames:
        return gpd.GeoDataFrame(pd.DataFrame(columns=["scenario", "parcel_id", "grade_base", "grade_scenario", "moved_by"]),
                                geometry=gpd.GeoSeries([], crs=base.crs), crs=base.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=base.crs)
