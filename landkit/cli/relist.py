"""The list, paths and summary of a run recomputed after `landkit rings` or `landkit scatter`."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from landkit.config import Project
from landkit.output import write_json
from landkit.runs import RunStore, list_layers, read_layer


def relisted(store: RunStore, parcels: gpd.GeoDataFrame, project: Project, *,
             blocks: gpd.GeoDataFrame | None) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, pd.DataFrame]]:
    """Recompute the run's list and paths from ``parcels`` and rewrite its ``summary.json``.

    Returns the layers (parcels, inventory, watchlist) and the summary tables to write back.
    """
    from landkit.assess import relist

    summary_path = store.folder / "summary.json" if store.folder is not None else None
    previous = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path is not None and summary_path.exists() else {}
    year = previous.get("year") or project.year
    if year is None:
        from landkit.performance import assessment_year

        year = assessment_year(project)
    kpis = read_layer(store, "kpis") if "kpis" in set(list_layers(store)) else None
    result, frames = relist(parcels, project, year=int(year), blocks=blocks, kpis=kpis, previous=previous)
    if summary_path is not None:
        write_json(summary_path, result.summary)
    layers = {k: v for k, v in frames.items() if isinstance(v, gpd.GeoDataFrame)}
    tables = {k: v for k, v in frames.items() if not isinstance(v, gpd.GeoDataFrame)}
    return layers, tables
