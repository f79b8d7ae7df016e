"""Write a comparison: ``compare.gpkg``, ``compare.xlsx``, ``compare.json`` and ``compare.html``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from landkit.config.models import Project
from landkit.deliver.labels import (
    CHANGE_COLOURS,
    CHANGE_TYPES,
    COMPARE_TABLE_COLUMNS,
    STATUS_LABELS,
    Label,
    labels_for,
    value_labels,
)
from landkit.io.runs import list_layers, read_layer
from landkit.monitor.compare import Comparison, summary_table
from landkit.monitor.read import Run

if TYPE_CHECKING:
    from landkit.deliver.webmap import LayerSpec

log = logging.getLogger(__name__)

#: Files `landkit compare` writes into its output folder.
OUTPUT_FILES = ("compare.gpkg", "compare.xlsx", "compare.json", "compare.html")


# --- writing -------------------------------------------------------------------------------------


def table_labels(project: Project) -> dict[str, Label]:
    """Return the labels of the comparison's columns and tables."""
    return {**labels_for(project), **COMPARE_TABLE_COLUMNS}


def workbook_sheets(comparison: Comparison, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """Return the sheets of ``compare.xlsx`` (Chinese sheet names by default)."""
    other = "en" if lang == "zh" else "zh"
    drop = [c for c in comparison.changes.columns if c.endswith(f"_{other}")]
    names = (("概况", "变化地块", "等级转移矩阵", "低效原因变化", "盘活路径进展", "区块指标对比", "集聚度指标对比")
             if lang == "zh" else ("Summary", "Changed parcels", "Grade transitions", "Inventory reasons", "Paths",
                                   "Block metrics", "Concentration metrics"))
    frames = (
        summary_table(comparison.summary).drop(columns=f"item_{other}"),
        pd.DataFrame(comparison.changes.drop(columns=[comparison.changes.geometry.name, *drop])),
        comparison.transitions,
        comparison.by_reason.drop(columns=f"label_{other}"),
        comparison.by_path.drop(columns=f"label_{other}"),
        comparison.blocks.drop(columns=f"metric_{other}"),
        comparison.scatter.drop(columns=f"metric_{other}"),
    )
    sheets = dict(zip(names, frames, strict=True))
    if len(comparison.decisions):  # objections followed across the runs, and the decisions on top of B
        sheets["异议与人工调整" if lang == "zh" else "Objections and decisions"] = comparison.decisions
    return sheets


def map_layers(comparison: Comparison, b: Run, *, lang: str) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers of the comparison map: B's parcels as a background and the changes."""
    other = "en" if lang == "zh" else "zh"
    changes = comparison.changes.copy()
    names = {k: v[0 if lang == "zh" else 1] for k, v in STATUS_LABELS.items()}
    for column in ("status_a", "status_b"):
        if column in changes:
            changes[column] = changes[column].map(names).fillna(changes[column])
    shown = ["parcel_id", "block_name", "area_mu", "change_type", f"change_{lang}", "grade_change", "score_a", "score_b",
             "status_a", "status_b", f"inventory_change_{lang}", f"reasons_added_{lang}", f"reasons_removed_{lang}",
             "disposal_zh_a" if lang == "zh" else "disposal_a", "disposal_zh_b" if lang == "zh" else "disposal_b",
             f"path_change_{lang}", f"completion_{lang}", "floor_area_change_m2"]
    changes = changes[[c for c in shown if c in changes and not c.endswith(f"_{other}")] + [changes.geometry.name]]
    background = [c for c in ("parcel_id", "block_name", "land_use", "area_mu", "enterprise_names") if c in b.parcels]
    parcels = b.parcels[[*background, b.parcels.geometry.name]].copy()
    if "enterprise_names" not in parcels:
        parcels["enterprise_names"] = None
    layers: dict[str, gpd.GeoDataFrame] = {"parcels": parcels, "changes": changes}
    if "blocks" in list_layers(b.store):
        layers["blocks"] = read_layer(b.store, "blocks", columns=["block_id", "block_name"])
    return layers


def change_layer_specs(comparison: Comparison, *, lang: str) -> list[LayerSpec]:
    """Return the map's own layers: B's parcels (grey) and the changes coloured by kind."""
    from landkit.deliver.webmap import LayerSpec

    zh = lang == "zh"
    present = set(comparison.changes["change_type"])
    items = [[CHANGE_COLOURS[k], names[0] if zh else names[1]] for k, names in CHANGE_TYPES.items() if k in present]
    title = "年度变化" if zh else "Changes"
    specs = [
        LayerSpec("parcels_b", "本期地块" if zh else "Parcels (after)", "parcels", style={"color": "#9e9e9e", "weight": 0.4,
                  "fillColor": "#f0f0f0", "fillOpacity": 0.5}, on=True, tooltip=("parcel_id",),
                  legend={"title": "本期地块" if zh else "Parcels (after)", "items": [["#f0f0f0", "无变化" if zh else "No change"]]}),
        LayerSpec("changes", title, "changes", mode="category", field="change_type", colors=dict(CHANGE_COLOURS),
                  style={"weight": 0.8, "color": "#333333", "fillOpacity": 0.85}, on=True,
                  tooltip=("parcel_id", f"change_{lang}"), legend={"title": title, "items": items}),
    ]
    return specs if len(comparison.changes) else specs[:1]  # no change: B's parcels alone


def write_comparison(out_dir: Path, comparison: Comparison, project: Project, b: Run, *, map_path: Path | None = None,
                     lang: str = "zh") -> list[Path]:
    """Write ``compare.gpkg``, ``compare.xlsx``, ``compare.json`` and the map (callers check ``--overwrite``).

    Parameters
    ----------
    out_dir : Path
        The output folder.
    comparison : Comparison
        What :func:`compare_runs` returned.
    project : Project
        Labels and map settings.
    b : Run
        The later run (the map's background parcels and blocks).
    map_path : Path, optional
        Where the map goes (default ``out_dir/compare.html``).
    lang : str
        ``zh`` or ``en``: headers, sheet names and the map.
    """
    from landkit.deliver.webmap import build_map, write_map
    from landkit.deliver.workbook import write_excel
    from landkit.io.write import write_json, write_layers

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layers: dict[str, pd.DataFrame] = {"changes": comparison.changes, **comparison.tables()}
    paths = [write_layers(out_dir / "compare.gpkg", layers)]
    paths.append(write_excel(out_dir / "compare.xlsx", workbook_sheets(comparison, lang), table_labels(project), lang=lang,
                             values=value_labels(project, lang)))
    paths.append(write_json(out_dir / "compare.json", comparison.summary))
    a_year, b_year = comparison.summary["a"]["year"], comparison.summary["b"]["year"]
    span = f"{a_year} → {b_year}" if a_year is not None and b_year is not None else ("上期 → 本期" if lang == "zh" else "before → after")
    name = b.name or project.name  # the park's own name, as its run recorded it
    title = f"{name} · 年度对比 {span}" if lang == "zh" else f"{name} · changes {span}"
    map_project = project.model_copy(update={"year": b_year}) if b_year is not None else project
    html = build_map(map_layers(comparison, b, lang=lang), map_project, lang=lang, title=title,
                     extra_specs=change_layer_specs(comparison, lang=lang))
    paths.append(write_map(map_path or out_dir / "compare.html", html))
    return paths
