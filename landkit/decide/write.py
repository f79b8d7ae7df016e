"""The outputs of `landkit scenario`: a GeoPackage, a workbook, JSON, a page with charts and a map, written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config.models import Project
from landkit.data.dataset import Dataset
from landkit.decide.scenarios import ScenarioRun, class_changes, scenario_paths, scenario_summary
from landkit.deliver.labels import CHANGE_COLOURS, CHANGE_TYPES, labels_for, value_labels
from landkit.deliver.manifest import to_output
from landkit.deliver.scenario_page import build_scenario_page
from landkit.deliver.workbook import write_excel
from landkit.io.run_folder import staged
from landkit.io.write import write_json, write_layers, write_text

__all__ = ["SCENARIO_FILES", "change_kind", "write_scenarios"]

#: Every file `landkit scenario` writes into its folder.
SCENARIO_FILES = ("scenarios.gpkg", "scenarios.xlsx", "scenarios.json", "scenarios.html", "scenarios_map.html")
#: Sheet names of the workbook (Chinese, English).
SHEETS = {"summary": ("情景对比", "Scenarios"), "paths": ("盘活路径", "Paths"), "changes": ("等级变化地块", "Class changes"),
          "settings": ("情景设置", "Settings")}


def change_kind(changes: pd.DataFrame) -> pd.Series:
    """Return how each changed parcel changes, as `landkit compare` names it: entered, left, down, up, graded, ungraded."""
    rank = {"A": 0, "B": 1, "C": 2, "D": 3}
    before, after = changes["grade_base"].map(rank), changes["grade_scenario"].map(rank)
    listed_b, listed_a = changes["listed_base"].astype(bool), changes["listed_scenario"].astype(bool)
    kind = np.select([listed_a & ~listed_b, listed_b & ~listed_a, before.isna() & after.notna(), before.notna() & after.isna(),
                      after > before], ["entered", "left", "graded", "ungraded", "down"], "up")
    return pd.Series(kind, index=changes.index, name="change_type")


def settings_table(run: ScenarioRun) -> pd.DataFrame:
    """Return one row per variant and key it sets: scenario, description, key, value."""
    rows = [{"scenario": v.name, "description": v.description, "key": key, "value": str(value)}
            for v in run.variants for key, value in v.settings.items()]
    return pd.DataFrame(rows, columns=["scenario", "description", "key", "value"])


def _map_layers(run: ScenarioRun, changes: gpd.GeoDataFrame, data: Dataset, lang: str) -> tuple[dict[str, gpd.GeoDataFrame], list[Any]]:
    """Return the map's layers (the base's parcels and blocks, one change layer per variant) and its own layer specs."""
    from landkit.deliver.webmap import LayerSpec

    parcels = run.base.parcels
    shown = [c for c in ("parcel_id", "block_name", "land_use", "area_mu", "grade", "score", "low_efficiency", "disposal",
                         "enterprise_names") if c in parcels]
    layers: dict[str, gpd.GeoDataFrame] = {"parcels": parcels[[*shown, parcels.geometry.name]]}
    if run.base.blocks is not None:
        layers["blocks"] = run.base.blocks[["block_id", "block_name", run.base.blocks.geometry.name]] \
            if "block_name" in run.base.blocks else run.base.blocks
    columns = ["parcel_id", "area_mu", "grade_base", "grade_scenario", "score_base", "score_scenario", f"moved_by_{lang}",
               "moved_points", "change_type"]
    specs = []
    zh = lang == "zh"
    for i, variant in enumerate(run.variants, start=1):
        of = changes[changes["scenario"] == variant.name]
        if not len(of):
            continue
        name = f"changes_{i}"
        layers[name] = of[[*columns, of.geometry.name]]
        present = [k for k in CHANGE_TYPES if (of["change_type"] == k).any()]
        title = f"{'情景' if zh else 'Scenario'}: {variant.name}"
        specs.append(LayerSpec(name, title, name, mode="category", field="change_type", colors=dict(CHANGE_COLOURS),
                               style={"weight": 0.8, "color": "#333333", "fillOpacity": 0.85}, on=i == 1,
                               tooltip=("parcel_id", f"moved_by_{lang}"),
                               legend={"title": title, "items": [[CHANGE_COLOURS[k], CHANGE_TYPES[k][0 if zh else 1]] for k in present]}))
    return layers, specs


def write_scenarios(out_dir: Path, run: ScenarioRun, project: Project, data: Dataset, *, lang: str = "zh") -> list[Path]:
    """Write the scenarios into ``out_dir`` (callers check ``--overwrite`` first), whole or not at all.

    Parameters
    ----------
    out_dir : Path
        The output folder: ``scenarios.gpkg`` (layer ``class_changes`` and the tables
        ``scenario_summary``, ``scenario_paths``, ``scenario_settings``), ``scenarios.xlsx``,
        ``scenarios.json``, ``scenarios.html`` (the page) and ``scenarios_map.html`` (a layer
        per variant).
    run : ScenarioRun
        :func:`landkit.decide.scenarios.run_scenarios`.
    project : Project
        The base profile (labels, output CRS, map settings).
    data : Dataset
        The inputs (their CRS, for the output CRS).
    lang : str
        ``zh`` or ``en``.
    """
    from landkit.deliver.webmap import build_map

    summary, paths = scenario_summary(run), scenario_paths(run)
    changes = class_changes(run)
    changes["change_type"] = change_kind(changes) if len(changes) else pd.Series(dtype=object)
    settings = settings_table(run)
    zh = lang == "zh"
    labels = labels_for(project)
    sheet = {key: names[0 if zh else 1] for key, names in SHEETS.items()}
    layers, specs = _map_layers(run, changes, data, lang)
    title = f"{project.name} · {'政策情景' if zh else 'policy scenarios'}"
    out_dir = Path(out_dir)
    with staged(out_dir, outputs=SCENARIO_FILES) as staging:
        written = [write_layers(staging / "scenarios.gpkg", {"class_changes": to_output(changes, project, data),
                                                              "scenario_summary": summary, "scenario_paths": paths,
                                                              "scenario_settings": settings})]
        written.append(write_excel(staging / "scenarios.xlsx", {sheet["summary"]: summary, sheet["paths"]: paths,
                                                                 sheet["changes"]: pd.DataFrame(changes.drop(columns="geometry")),
                                                                 sheet["settings"]: settings},
                                   labels, lang=lang, values=value_labels(project, lang)))
        record = {"project": project.name, "year": project.year,
                  "variants": [{"name": v.name, "description": v.description, "settings": v.settings} for v in run.variants],
                  "summary": summary.replace({np.nan: None}).to_dict("records"),
                  "changes_by_reason": changes.groupby(["scenario", "moved_by"]).size().rename("parcels").reset_index()
                  .to_dict("records") if len(changes) else []}
        written.append(write_json(staging / "scenarios.json", record))
        map_html = build_map(layers, project, lang=lang, title=title, extra_specs=specs)
        written.append(write_text(staging / "scenarios_map.html", map_html))
        page = build_scenario_page(summary, paths, pd.DataFrame(changes.drop(columns="geometry")),
                                   {v.name: v.settings for v in run.variants}, project, lang=lang,
                                   maps=[("情景地图" if zh else "Scenario map", os.path.relpath(out_dir / "scenarios_map.html", out_dir))])
        written.append(write_text(staging / "scenarios.html", page))
    return [out_dir / p.name for p in written]
