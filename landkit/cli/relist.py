"""The list, paths, summary and styles of a run recomputed after `landkit rings` or `landkit scatter`."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from landkit.config.models import Project
from landkit.io.runs import RunStore, list_layers, read_layer
from landkit.io.write import write_json


def relisted(store: RunStore, parcels: gpd.GeoDataFrame, project: Project, *,
             blocks: gpd.GeoDataFrame | None) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, pd.DataFrame]]:
    """Recompute the run's list and paths from ``parcels`` and rewrite its ``summary.json``.

    Returns the layers (parcels, inventory, watchlist) and the summary tables to write back.
    """
    from landkit.pipeline import relist

    summary_path = store.folder / "summary.json" if store.folder is not None else None
    previous = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path is not None and summary_path.exists() else {}
    year = previous.get("year") or project.year
    if year is None:
        from landkit.assess.performance import assessment_year

        year = assessment_year(project)
    kpis = read_layer(store, "kpis") if "kpis" in set(list_layers(store)) else None
    result, frames = relist(parcels, project, year=int(year), blocks=blocks, kpis=kpis, previous=previous)
    if summary_path is not None:
        write_json(summary_path, result.summary)
    layers = {k: v for k, v in frames.items() if isinstance(v, gpd.GeoDataFrame)}
    tables = {k: v for k, v in frames.items() if not isinstance(v, gpd.GeoDataFrame)}
    return layers, tables


def restyled(store: RunStore, project: Project, layers: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the run's ``layer_styles`` with the styles of ``layers`` (re)made and the others kept.

    The layers `landkit rings` and `landkit scatter` add or rewrite open in QGIS styled, as those of
    `landkit assess` do (:func:`landkit.deliver.styles.qgis_styles`).
    """
    from landkit.deliver.styles import qgis_styles

    new = qgis_styles(project, layers)
    if "layer_styles" not in set(list_layers(store)):
        return new
    old = read_layer(store, "layer_styles")
    names = {str(c).lower(): c for c in old.columns}
    if "f_table_name" not in names:
        return new
    kept = old[~old[names["f_table_name"]].isin(new["f_table_name"])]
    kept = kept.rename(columns={c: n for n in new.columns for c in kept.columns if str(c).lower() == n.lower()})
    return pd.concat([kept[[c for c in new.columns if c in kept.columns]], new], ignore_index=True)
