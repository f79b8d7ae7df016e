"""The one writer of a run: every output of an assessment into a folder, whole or not at all.

:func:`write_assessment` writes the run's GeoPackage (layers ``parcels``, ``inventory``, ``blocks``
and tables, with QGIS styles), ``inventory.xlsx``, the surfaces, ``map.html``, ``report.html``,
``summary.json`` and ``manifest.json`` into a staging folder and publishes them together
(:mod:`landkit.io.run_folder`). It is the one place a run is written concurrently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.assess.kpis import kpi_paths
from landkit.config.models import Project
from landkit.core.errors import LandkitError
from landkit.core.i18n import _
from landkit.core.progress import Stage, no_stage, record_stage
from landkit.data.dataset import Dataset
from landkit.deliver import workbook_process
from landkit.deliver.history import RUNS_TABLE, append_run, kpi_history, previous_runs, run_record
from landkit.deliver.labels import table_labels, value_label_table, value_labels
from landkit.deliver.manifest import manifest, to_output
from landkit.deliver.rasters import overlay_png, write_cog
from landkit.deliver.report import build_report, write_report
from landkit.deliver.sheets import MAX_SHEET_ROWS, SHEET_CSV, workbook_sheets
from landkit.deliver.styles import coded_values, qgis_styles
from landkit.deliver.webmap import build_map, write_map
from landkit.deliver.workbook import write_workbook_files
from landkit.io.postgis.write import DbTarget
from landkit.io.run_folder import GPKG_NAME, MANIFEST, staged
from landkit.io.write import write_json, write_layers
from landkit.metrics.surfaces import kernel_density, rasterize_column
from landkit.metrics.zonal import NODATA
from landkit.pipeline import _ordered
from landkit.result import AssessmentResult

log = logging.getLogger(__name__)

#: Longest side, in pixels, of a surface shown on the map.
OVERLAY_MAX_PX = 1600

OUTPUT_FILES = (GPKG_NAME, "inventory.xlsx", "inventory.csv", "watchlist.csv", "graded.csv", "score_detail.csv", "ungraded.csv", "paths.csv", "summary.json", "manifest.json", "map.html", "report.html", "score.tif",
                "low_efficiency_density.tif")


#: Largest surface written, in pixels; a bigger extent gets coarser pixels (logged).
MAX_SURFACE_PIXELS = 16_000_000


def surface_resolution(parcels: gpd.GeoDataFrame, resolution_m: float) -> float:
    """Return ``resolution_m``, or the coarser pixel size that keeps the grid within :data:`MAX_SURFACE_PIXELS`."""
    xmin, ymin, xmax, ymax = parcels.total_bounds
    pixels = ((xmax - xmin) / resolution_m) * ((ymax - ymin) / resolution_m)
    if pixels <= MAX_SURFACE_PIXELS:
        return resolution_m
    coarser = float(np.ceil(resolution_m * np.sqrt(pixels / MAX_SURFACE_PIXELS)))
    log.warning("%s", _("the area is large: surface pixels of {coarser:.0f} m instead of {resolution:.0f} m (at most "
                        "{millions} million pixels)").format(coarser=coarser, resolution=resolution_m,
                                                             millions=MAX_SURFACE_PIXELS // 1_000_000))
    return coarser


def write_surfaces(out_dir: Path, result: AssessmentResult, project: Project) -> list[Path]:
    """Write the score surface and the low-efficiency density as cloud-optimised GeoTIFFs."""
    parcels = result.parcels
    spec = project.surfaces
    paths = []
    array, transform = rasterize_column(parcels, "score", resolution_m=surface_resolution(parcels, spec.score_resolution_m))
    paths.append(write_cog(out_dir / "score.tif", array, transform, parcels.crs, NODATA, tags={"landkit": "综合得分 score 0-100"},
                           smooth=False))
    listed = parcels[parcels["low_efficiency"]]
    if len(listed):
        array, transform = kernel_density(listed, weight_column="area_mu",
                                          resolution_m=surface_resolution(listed, spec.density_resolution_m),
                                          bandwidth_m=spec.density_bandwidth_m)
        paths.append(write_cog(out_dir / "low_efficiency_density.tif", array, transform, parcels.crs, None,
                               tags={"landkit": "低效用地密度 low-efficiency land, 亩 per km²"}))
    return paths


def write_assessment(
    out_dir: Path, project: Project, data: Dataset, result: AssessmentResult, *, workbook: bool = True,
    map_path: Path | None = None, stage: Stage = no_stage, db: DbTarget | None = None, history_from: Path | None = None,
) -> list[Path]:
    """Write the run's outputs into ``out_dir`` (callers check ``--overwrite`` first), whole or not at all.

    The files are written into a staging folder and published together when all are complete,
    holding the folder's lock (:mod:`landkit.io.run_folder`). ``workbook=False`` skips
    ``inventory.xlsx`` (the benchmark times it apart); ``map_path`` also writes the interactive map
    there; ``db`` also writes the GeoPackage's layers to a PostGIS schema (first, in one
    transaction: a refused write leaves no file written either). ``history_from`` (an earlier run's
    folder, e.g. last year's) carries that run's history into this one's, so that the KPIs' path
    toward their targets spans both.
    """
    out_dir = Path(out_dir)
    with staged(out_dir, outputs=OUTPUT_FILES) as staging:
        target = Path(map_path) if map_path is not None else None
        if target is not None and target.absolute().parent == out_dir.absolute():
            target = staging / target.name  # inside the run folder: staged with the rest
        written = _write_assessment(staging, out_dir, project, data, result, workbook=workbook, map_path=target,
                                    stage=stage, db=db, history_from=history_from)
    return [out_dir / p.name if p.parent == staging else p for p in written]


def _write_assessment(staging: Path, out_dir: Path, project: Project, data: Dataset, result: AssessmentResult, *,
                      workbook: bool, map_path: Path | None, stage: Stage, db: DbTarget | None,
                      history_from: Path | None = None) -> list[Path]:
    layers = None
    if db is not None:  # first, in one transaction: a refused database write leaves no file written
        from landkit.io.postgis.write import write_layers_postgis

        with stage("database"):
            layers = output_layers(out_dir, project, data, result, history_from=history_from)
            write_layers_postgis(db.url, db.schema, layers, overwrite=db.overwrite)
    maps = []
    if map_path is not None:
        final = out_dir / map_path.name if map_path.parent == staging else map_path  # where the map ends up
        maps.append(("交互地图" if project.map.lang == "zh" else "Interactive map", os.path.relpath(final, out_dir)))
    # The one place a run is written concurrently. The workbook (Python and Rust, holding the GIL)
    # is written by a child process given its tables (spawned: no process is forked from this one,
    # which holds threads); the map is drawn in a thread (GEOS, PROJ and gzip release the GIL; it
    # takes the surfaces' overlays last) beside the GeoPackage, the surfaces and the report, which
    # is written once the map it links to exists.
    surfaces: Future[list[Path]] = Future()
    book = None
    if workbook:
        sheets, csvs = workbook_tables(project, result)
        book = workbook_process.start(staging, sheets, csvs, table_labels(project), lang=project.map.lang,
                                      values=value_labels(project, project.map.lang))
    with ThreadPoolExecutor(max_workers=1) as pool:

        def overlays() -> list[dict[str, Any]]:
            surfaces.result()  # waits for the surfaces (raises if they failed)
            return surface_overlays(staging, project)

        drawn = pool.submit(_write_map, map_path, project, data, result, overlays, stage) if map_path else None
        try:
            with stage("export"):
                layers = layers or output_layers(out_dir, project, data, result, history_from=history_from)
                paths = [write_layers(staging / GPKG_NAME, layers)]
                paths.append(write_json(staging / "summary.json", result.summary))
                paths.append(write_json(staging / MANIFEST, manifest(project, data)))
            with stage("surfaces"):
                surfaces.set_result(write_surfaces(staging, result, project))
            paths += surfaces.result()
            with stage("report"):
                report = build_report(result, project, maps=maps, lang=project.map.lang,
                                      kpi_paths=kpi_paths(kpi_history(layers[RUNS_TABLE]), project.kpis))
            if drawn is not None:
                paths.append(drawn.result())
            paths.append(write_report(staging / "report.html", report))
            if book is not None:
                written, seconds = book.wait()
                record_stage(stage, "workbook", seconds)
                paths[3:3] = written
        finally:  # a failure anywhere above: the map thread must not wait for the surfaces forever,
            if not surfaces.done():  # and the workbook's process must not outlive the run
                surfaces.set_exception(LandkitError(_("the run stopped before the surfaces were written")))
            if book is not None:
                book.kill()
    return paths


def output_layers(out_dir: Path, project: Project, data: Dataset, result: AssessmentResult, *,
                  history_from: Path | None = None) -> dict[str, pd.DataFrame]:
    """Return the layers and tables of the run's GeoPackage (and database schema), run history included."""
    layers: dict[str, pd.DataFrame] = {
        "parcels": to_output(_ordered(result.parcels), project, data),
        "inventory": to_output(_ordered(result.inventory), project, data),
        "watchlist": to_output(_ordered(result.watchlist), project, data),
    }
    if result.blocks is not None:
        layers["blocks"] = to_output(result.blocks, project, data)
    for name in ("roads", "core_sites"):  # context for maps drawn from the run later
        if getattr(data, name) is not None:
            layers[name] = to_output(getattr(data, name), project, data)
    if result.rings is not None:
        layers["rings"] = to_output(result.rings.rings, project, data)
        if len(result.rings.linkage):
            layers["linkage"] = to_output(result.rings.linkage, project, data)
    if result.scatter is not None and len(result.scatter.clusters):
        layers["clusters"] = to_output(result.scatter.clusters, project, data)
    if data.facilities is not None:
        layers["facilities"] = to_output(data.facilities, project, data)
    for name, frame in result.layers.items():
        layers[name] = to_output(frame, project, data)
    layers.update(result.tables)
    layers["kpis"] = result.kpis
    layers["layer_styles"] = qgis_styles(project, layers)
    layers["value_labels"] = value_label_table(project, coded_values(project))
    earlier = [runs for runs in (previous_runs(Path(history_from) / GPKG_NAME) if history_from else None,
                                 previous_runs(out_dir / GPKG_NAME)) if runs is not None]
    previous = pd.concat(earlier, ignore_index=True).drop_duplicates("run_id", keep="last") if earlier else None
    append_run(layers, run_record(project, data, result, out_dir), previous)  # landkit_runs
    return layers


def _write_map(map_path: Path, project: Project, data: Dataset, result: AssessmentResult,
               overlays: Callable[[], list[dict[str, Any]]], stage: Stage) -> Path:
    with stage("map"):
        return write_map(map_path, build_map(map_layers(result, data), project, images=overlays))


def workbook_tables(project: Project, result: AssessmentResult) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Return the workbook's sheets and the CSV files (file name → table) its long sheets go to.

    A sheet longer than :data:`MAX_SHEET_ROWS` goes to a CSV beside the workbook, and the sheet
    keeps a note pointing to it (logged as a warning).
    """
    zh = project.map.lang == "zh"
    sheets, csvs = {}, {}
    for name, frame in workbook_sheets(project, result).items():
        if len(frame) > MAX_SHEET_ROWS and name in SHEET_CSV:  # the parcel lists; summaries are short
            file = SHEET_CSV[name]
            csvs[file] = frame
            log.warning("%s", _("{sheet} has {rows} rows: written to {file} (the workbook keeps sheets of up to {limit} rows)")
                        .format(sheet=name, rows=len(frame), file=file, limit=MAX_SHEET_ROWS))
            frame = pd.DataFrame({"说明" if zh else "note": [
                f"共 {len(frame):,} 行，超过 {MAX_SHEET_ROWS:,} 行，见 {file}" if zh
                else f"{len(frame):,} rows, more than {MAX_SHEET_ROWS:,}: see {file}"]})
        sheets[name] = frame
    return sheets, csvs


def write_workbook(out_dir: Path, project: Project, result: AssessmentResult) -> list[Path]:
    """Write ``inventory.xlsx``, and the CSV files of its long sheets (:func:`workbook_tables`)."""
    sheets, csvs = workbook_tables(project, result)
    return write_workbook_files(out_dir, sheets, csvs, table_labels(project), lang=project.map.lang,
                                values=value_labels(project, project.map.lang))


def surface_overlays(out_dir: Path, project: Project) -> list[dict[str, Any]]:
    """Return the map's image overlays for the surfaces written in ``out_dir``."""
    import rasterio
    from rasterio.enums import Resampling

    zh = project.map.lang == "zh"
    overlays = []
    for name, title, cmap, unit in (
        ("score.tif", "综合得分栅格" if zh else "Score surface", "RdYlGn", "分" if zh else "points"),
        ("low_efficiency_density.tif", "低效用地密度" if zh else "Low-efficiency density", "magma_r", "亩/km²" if zh else "mu/km²"),
    ):
        path = out_dir / name
        if not path.exists():
            continue
        with rasterio.open(path) as ds:
            # The overlay needs no more pixels than a screen shows: read it decimated (the COG's
            # overviews), never the full grid of a whole city.
            factor = max(1, int(np.ceil(max(ds.width, ds.height) / OVERLAY_MAX_PX)))
            shape = (max(1, ds.height // factor), max(1, ds.width // factor))
            array = ds.read(1, out_shape=shape, resampling=Resampling.nearest)
            transform = ds.transform @ ds.transform.scale(ds.width / shape[1], ds.height / shape[0])
            nodata = ds.nodata
            png, bounds = overlay_png(array, transform, ds.crs, nodata=nodata, cmap=cmap)
            valid = array[array != nodata] if nodata is not None else array.ravel()
        top = float(np.nanmax(valid)) if valid.size else 1.0
        overlays.append({"key": "surface_" + name.removesuffix(".tif"), "title": title, "png": png, "bounds": bounds, "cmap": cmap,
                         "legend": [f"{float(np.nanmin(valid)) if valid.size else 0:.0f}", f"{top:.0f} {unit}"]})
    return overlays


def map_layers(result: AssessmentResult, data: Dataset) -> dict[str, gpd.GeoDataFrame]:
    """Return the layers the interactive map draws from an assessment."""
    layers = {"parcels": result.parcels, "blocks": result.blocks if result.blocks is not None else data.blocks,
              "roads": data.roads, "core_sites": data.core_sites}
    if result.rings is not None:
        layers["rings"] = result.rings.rings
        if len(result.rings.linkage):
            layers["linkage"] = result.rings.linkage
    if result.scatter is not None and len(result.scatter.clusters):
        layers["clusters"] = result.scatter.clusters
    if data.facilities is not None and len(data.facilities):
        layers["facilities"] = data.facilities
    layers.update({name: frame for name, frame in result.layers.items() if len(frame)})  # block changes, proposed blocks
    return {k: v for k, v in layers.items() if v is not None}
