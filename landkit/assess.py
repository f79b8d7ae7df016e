"""The campaign's deliverables in one call: two assessments, one list, one revitalisation.

:func:`assess` is pure (datasets in, frames out); :func:`write_assessment` writes them: the
run's GeoPackage (layers ``parcels``, ``inventory``, ``blocks`` and tables, with QGIS styles),
``inventory.xlsx``, ``summary.json`` and ``manifest.json``.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.block_assessment import assess_blocks, park_row, plan_kpis
from landkit.config import Project
from landkit.dataset import Dataset
from landkit.engine import current_engine
from landkit.errors import LandkitError
from landkit.export import write_csv, write_excel
from landkit.history import append_run, previous_runs, run_record
from landkit.i18n import _
from landkit.inventory import assign_disposal, list_low_efficiency
from landkit.labels import DISPOSAL_COLOURS, GRADE_COLOURS, header, labels_for, value_label_table, value_labels
from landkit.land_status import land_status
from landkit.output import write_json, write_layers
from landkit.performance import (
    GRADES,
    UNGRADED,
    assess_performance,
    assessment_year,
    industry_group,
    with_production_zeros,
)
from landkit.postgis import DbTarget
from landkit.progress import Stage, no_stage, record_stage
from landkit.raster import (
    NODATA,
    assess_rasters,
    fallback_coverage,
    kernel_density,
    overlay_png,
    rasterize_column,
    write_cog,
    zonal_stats,
)
from landkit.report import build_report, write_report
from landkit.result import AssessmentResult
from landkit.results import GPKG_NAME, manifest, to_output
from landkit.rings import assess_rings
from landkit.run_folder import MANIFEST, staged
from landkit.scatter import assess_scatter, scatter_state, sporadic_plots
from landkit.styles import categorized_qml, layer_styles_table, with_fields
from landkit.valuation import assess_value
from landkit.webmap import build_map, write_map

log = logging.getLogger(__name__)

#: Longest side, in pixels, of a surface shown on the map.
OVERLAY_MAX_PX = 1600

OUTPUT_FILES = (GPKG_NAME, "inventory.xlsx", "inventory.csv", "watchlist.csv", "graded.csv", "score_detail.csv", "ungraded.csv", "paths.csv", "summary.json", "manifest.json", "map.html", "report.html", "score.tif",
                "low_efficiency_density.tif")


def assess(data: Dataset, project: Project, *, stage: Stage = no_stage) -> AssessmentResult:
    """Run the performance and value assessments, the inventory and the disposal paths.

    Parameters
    ----------
    data : Dataset
        Loaded, checked inputs (:func:`landkit.dataset.load_dataset`).
    project : Project
        The configuration.
    stage : callable, optional
        Wraps each step (``with stage("performance"): ...``): progress display or timing.
    """
    year = assessment_year(project)
    parcels = with_production_zeros(data.parcels)
    parcels = parcels.join(land_status(parcels, project.inventory.idle_land, year=year))
    parcels["sporadic"] = sporadic_plots(parcels)
    parcels["industry_group"] = industry_group(parcels, project.assessment)  # read by benchmarks and the FAR norm
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The 小而散 geometry (neighbour graph, clusters, patches; GEOS releases the GIL) needs no
        # assessment column: it runs beside the zonal statistics and the assessments.
        early = pool.submit(contextvars.copy_context().run, scatter_state, parcels, project)
        return _assess(data, project, parcels, year, early, stage)


def _assess(data: Dataset, project: Project, parcels: gpd.GeoDataFrame, year: int, scatter_early: Future,
            stage: Stage) -> AssessmentResult:
    if project.inputs.rasters:
        with stage("zonal"):
            parcels = add_raster_columns(parcels, project)
    if data.blocks is not None and "block_name" in data.blocks:
        parcels = parcels.join(data.blocks.set_index("block_id")["block_name"], on="block_id")
    with stage("performance"):
        performance = assess_performance(parcels, project)
        parcels = parcels.join(performance)
    with stage("value"):
        parcels = parcels.join(assess_value(parcels, project.valuation, year=year, land_price=data.land_price,
                                            price_zones=data.price_zones))
    rings = None
    if data.blocks is not None and project.rings.designated:
        with stage("rings"):
            rings = assess_rings(parcels, data.blocks, project, roads=data.roads, core_sites=data.core_sites)
            parcels = parcels.join(rings.parcels)
    with stage("scatter"):  # before the list: its rules may use `small`, `isolated`, `scattered`
        scatter = assess_scatter(parcels, project, blocks=data.blocks, state=scatter_early.result())
        parcels = parcels.join(scatter.parcels.drop(columns=["sporadic"]))
    with stage("inventory"):
        parcels = add_list_and_paths(parcels, project, year=year)
        blocks = park = None
        if data.blocks is not None:
            blocks = assess_blocks(parcels, data.blocks, project.block_assessment)
            park = park_row(parcels, data.blocks, project.block_assessment)
        kpis = plan_kpis(data.enterprises, project.block_assessment.kpi_targets)
    if blocks is not None and rings is not None:
        # the rings' columns (e.g. `ring`, from rings.designated) replace any of the same name in the layer
        overlap = [c for c in rings.blocks.columns if c != "block_id" and c in blocks]
        blocks = blocks.drop(columns=overlap).merge(rings.blocks, on="block_id", how="left")
    result = AssessmentResult(parcels=parcels, blocks=blocks, kpis=kpis, park=park or {}, rings=rings, scatter=scatter)
    result.tables = summary_tables(parcels)
    result.tables["benchmarks"] = performance.attrs["benchmarks"]
    result.tables["scatter_metrics"] = scatter.metrics
    result.tables["scatter_before_after"] = scatter.before_after
    if rings is not None:
        result.tables["ring_profiles"] = rings.profiles
        result.tables["ring_disagreements"] = rings.disagreements
    result.summary = summarise(result, year=year)
    return result


#: Columns of the list and the paths, replaced whole when they are recomputed.
LIST_COLUMNS_PREFIX = "r_"


def add_list_and_paths(parcels: gpd.GeoDataFrame, project: Project, *, year: int) -> gpd.GeoDataFrame:
    """Join the low-efficiency list, the watch flags and the paths (replacing any there already).

    ``landkit rings`` and ``landkit scatter`` call it again after recomputing the flags the list
    and the paths read, so a run's list never goes stale.
    """
    listed = list_low_efficiency(parcels, project.inventory)
    paths = assign_disposal(parcels.drop(columns=[c for c in listed.columns if c in parcels]), listed, project.disposal,
                            year=year, inventory=project.inventory, valuation=project.valuation)
    stale = [c for c in [*listed.columns, *paths.columns] if c in parcels] + [c for c in parcels.columns if c.startswith(LIST_COLUMNS_PREFIX)]
    return parcels.drop(columns=list(dict.fromkeys(stale))).join(listed).join(paths)


def relist(parcels: gpd.GeoDataFrame, project: Project, *, year: int, blocks: gpd.GeoDataFrame | None = None,
           kpis: pd.DataFrame | None = None, previous: dict[str, Any] | None = None) -> tuple[AssessmentResult, dict[str, pd.DataFrame]]:
    """Recompute a run's list, paths, summary tables and summary after its flags changed.

    ``landkit rings`` and ``landkit scatter`` rewrite ``ring``, ``function_fit``, ``small``,
    ``isolated`` … which the list's reasons and the paths read: this keeps the ``inventory`` and
    ``watchlist`` layers, the tables and ``summary.json`` in step with them. ``previous`` is the
    run's summary, whose other parts (park, rings, scatter) are kept.

    Returns
    -------
    (AssessmentResult, dict)
        The result (``summary`` merged over ``previous``) and the layers and tables to replace.
    """
    parcels = add_list_and_paths(parcels, project, year=year)
    result = AssessmentResult(parcels=parcels, blocks=blocks, kpis=kpis if kpis is not None else pd.DataFrame(),
                              park=(previous or {}).get("park") or {})
    result.tables = summary_tables(parcels)
    fresh = summarise(result, year=year)
    kept = {k: v for k, v in (previous or {}).items() if k in ("park", "rings", "scatter", "benchmarks", "blocks", "kpis")}
    result.summary = {**fresh, **kept}
    layers: dict[str, pd.DataFrame] = {"parcels": _ordered(parcels), "inventory": _ordered(result.inventory),
                                       "watchlist": _ordered(result.watchlist)}
    layers.update({k: result.tables[k] for k in ("by_grade", "by_track", "by_listing", "by_path", "by_block_path")})
    return result, layers


def add_raster_columns(parcels: gpd.GeoDataFrame, project: Project) -> gpd.GeoDataFrame:
    """Join the zonal statistics of the configured rasters; fill missing floor areas from heights.

    The register's floor area stays where it exists; ``floor_area_source`` says which one a
    parcel's ``floor_area_m2`` comes from (``register`` or ``raster``).
    """
    sources = [(r, project.resolve(r.path)) for r in project.inputs.rasters]
    needed = [c for c in ("area_m2", "footprint_m2") if c in parcels] + [parcels.geometry.name]
    # Whole-population steps done once here, not per partition: the coverage fallback (a median)
    # and the check that each raster overlaps some parcel.
    area = parcels["area_m2"].astype(float)
    footprint = parcels["footprint_m2"].astype(float) if "footprint_m2" in parcels else pd.Series(np.nan, index=parcels.index)
    stats = current_engine().map_parcels(
        zonal_kernel, parcels[needed], sources=sources, storey_height_m=project.surfaces.storey_height_m,
        coverage=fallback_coverage(None, footprint, area), require_overlap=False,
    ).set_axis(parcels.index)
    for source, path in sources:
        outside = stats.get(f"{source.name}_outside_frac")
        if outside is not None and len(outside) and not (outside < 1).any():
            zonal_stats(parcels, source, path, stats=["count"])  # raises the full "does not overlap" error
    out = parcels.join(stats)
    if "floor_area_est_m2" in out:
        register = out["floor_area_m2"] if "floor_area_m2" in out else pd.Series(np.nan, index=out.index)
        out["floor_area_source"] = np.where(register.notna(), "register", np.where(out["floor_area_est_m2"].notna(), "raster", ""))
        out["floor_area_m2"] = register.fillna(out["floor_area_est_m2"])
    return out


def zonal_kernel(part: gpd.GeoDataFrame, context: None, **options: Any) -> pd.DataFrame:
    """Kernel of :func:`add_raster_columns`: :func:`landkit.raster.assess_rasters` on ``part``."""
    return assess_rasters(part, **options)


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
    paths.append(write_cog(out_dir / "score.tif", array, transform, parcels.crs, NODATA, tags={"landkit": "综合得分 score 0-100"}))
    listed = parcels[parcels["low_efficiency"]]
    if len(listed):
        array, transform = kernel_density(listed, weight_column="area_mu",
                                          resolution_m=surface_resolution(listed, spec.density_resolution_m),
                                          bandwidth_m=spec.density_bandwidth_m)
        paths.append(write_cog(out_dir / "low_efficiency_density.tif", array, transform, parcels.crs, None,
                               tags={"landkit": "低效用地密度 low-efficiency land, 亩 per km²"}))
    return paths


def summary_tables(parcels: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the summary tables: by class (and track), class by listing, by path, by block and path."""
    has_tax = "tax_wan" in parcels
    order = [*GRADES, UNGRADED]
    frame = parcels.assign(tax_wan=parcels["tax_wan"] if has_tax else np.nan)
    by_grade = (
        frame.groupby("grade")
        .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"), tax_wan=("tax_wan", lambda t: t.sum(min_count=1)))
        .reindex(order)
        .rename_axis("grade")
        .reset_index()
    )
    by_grade[["parcels", "area_mu"]] = by_grade[["parcels", "area_mu"]].fillna(0)
    by_grade["parcels"] = by_grade["parcels"].astype(int)
    track = frame["track"].fillna("") if "track" in frame else pd.Series("", index=frame.index)
    by_track = pd.crosstab(track.rename("track"), frame["grade"]).reindex(columns=order, fill_value=0).reset_index()
    listing = np.select([frame["low_efficiency"], frame["watch"]], ["inventory", "watch"], "none")
    by_listing = pd.crosstab(frame["grade"], pd.Series(listing, index=frame.index, name="listing")).reindex(
        index=order, columns=["inventory", "watch", "none"], fill_value=0).rename_axis("grade").reset_index()
    gains = dict(
        parcels=("parcel_id", "size"),
        area_mu=("area_mu", "sum"),
        land_freed_mu=("land_freed_mu", "sum"),
        floor_area_added_m2=("floor_area_added_m2", "sum"),
        tax_gain_wan=("tax_gain_wan", "sum"),
        compensation_wan=("compensation_wan", lambda c: c.sum(min_count=1)),
        compensation_unknown=("compensation_wan", lambda c: int(c.isna().sum())),
    )
    with_path = frame[frame["disposal"] != ""]
    by_path = with_path.groupby(["disposal", "disposal_zh"]).agg(**gains).reset_index()
    listed = frame[frame["low_efficiency"]]
    block_key = listed["block_id"].fillna("区块外") if "block_id" in listed else pd.Series("全部", index=listed.index)
    by_block = listed.assign(block_id=block_key).groupby(["block_id", "disposal"]).agg(**gains).reset_index()
    return {"by_grade": by_grade, "by_track": by_track, "by_listing": by_listing, "by_path": by_path, "by_block_path": by_block}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()} for row in frame.to_dict("records")]


def _total(values: pd.Series) -> dict[str, Any]:
    """A total that says how many parcels it leaves out: ``{"total": …, "parcels": n, "missing": m}``."""
    present = values.notna()
    return {"total": float(values.sum()) if present.any() else None, "parcels": int(present.sum()), "missing": int((~present).sum())}


def summarise(result: AssessmentResult, *, year: int) -> dict[str, Any]:
    """Return the headline figures as plain data (written to summary.json).

    Every money total carries the number of parcels it counts and the number it leaves out
    (``missing``: parcels without a value, or a path whose compensation cannot be estimated).
    """
    parcels = result.parcels
    listed = parcels[parcels["low_efficiency"]]
    reason_counts = {}
    for code in (c.removeprefix("r_") for c in parcels.columns if c.startswith("r_")):
        flag = parcels[f"r_{code}"]
        reason_counts[code] = {"parcels": int(flag.sum()), "area_mu": float(parcels.loc[flag, "area_mu"].sum()),
                               "listed": int((flag & parcels["low_efficiency"]).sum()), "watch": int((flag & parcels["watch"]).sum())}
    blocks = []
    if result.blocks is not None:
        cols = [c for c in ("block_id", "block_name", "block_score", "block_rank") if c in result.blocks]
        blocks = _records(pd.DataFrame(result.blocks[cols]))
    missing_value = parcels["value_missing_reason"].replace("", np.nan).dropna()
    area = float(parcels["area_mu"].sum())
    paths = parcels[parcels["disposal"] != ""]
    return {
        "year": year,
        "parcels": int(len(parcels)),
        "area_mu": area,
        "grades": {row["grade"]: {"parcels": int(row["parcels"]), "area_mu": float(row["area_mu"])} for row in _records(result.tables["by_grade"])},
        "grades_by_track": _records(result.tables["by_track"]),
        "grade_by_listing": _records(result.tables["by_listing"]),
        "direct_grades": {k: int(v) for k, v in parcels["direct_grade"].replace("", np.nan).dropna().value_counts().items()},
        "legally_idle": {"parcels": int(parcels["legally_idle"].sum()), "area_mu": float(parcels.loc[parcels["legally_idle"], "area_mu"].sum())},
        "inventory": {
            "parcels": int(len(listed)),
            "area_mu": float(listed["area_mu"].sum()),
            "share_of_parcels": len(listed) / len(parcels) if len(parcels) else None,
            "share_of_area": float(listed["area_mu"].sum()) / area if area else None,
            "land_freed_mu": float(listed["land_freed_mu"].sum()),
            "floor_area_added_m2": float(listed["floor_area_added_m2"].sum()),
            "tax_gain_wan": float(listed["tax_gain_wan"].sum()),
            "compensation_wan": _total(listed["compensation_wan"]),
            "by_reason": reason_counts,
            "by_basis": {k: int(v) for k, v in listed["list_basis"].value_counts().items()},
        },
        "watch": {"parcels": int(parcels["watch"].sum()), "area_mu": float(parcels.loc[parcels["watch"], "area_mu"].sum())},
        "paths": {
            "parcels": int(len(paths)),
            "land_freed_mu": float(paths["land_freed_mu"].sum()),
            "floor_area_added_m2": float(paths["floor_area_added_m2"].sum()),
            "tax_gain_wan": float(paths["tax_gain_wan"].sum()),
            "compensation_wan": _total(paths["compensation_wan"]),
            "by_path": _records(result.tables["by_path"]),
        },
        "value": {
            "total_value_wan": _total(parcels["total_value_wan"]),
            "land_value_wan": _total(parcels["land_value_wan"]),
            "valued_area_mu": float(parcels.loc[parcels["total_value_wan"].notna(), "area_mu"].sum()),
            "without_value": {k: int(v) for k, v in missing_value.value_counts().items()},
        },
        "benchmarks": _records(result.tables.get("benchmarks", pd.DataFrame())),
        "blocks": blocks,
        "park": result.park,
        "kpis": _records(result.kpis),
        "rings": _ring_summary(result),
        "scatter": _scatter_summary(result),
    }


def _scatter_summary(result: AssessmentResult) -> dict[str, Any] | None:
    if result.scatter is None:
        return None
    parcels = result.parcels
    adjustments = parcels["adjustment"].replace("", np.nan).dropna().value_counts().to_dict() if "adjustment" in parcels else {}
    return {
        "small": int(parcels["small"].sum()),
        "isolated": int(parcels["isolated"].sum()),
        "sporadic": int(parcels["sporadic"].sum()),
        "clusters": int(len(result.scatter.clusters)),
        "adjustments": {k: int(v) for k, v in adjustments.items()},
        "before_after": _records(result.scatter.before_after),
    }


def _ring_summary(result: AssessmentResult) -> dict[str, Any] | None:
    if result.rings is None:
        return None
    report = result.rings.report
    return {
        "profiles": _records(result.tables["ring_profiles"]),
        "disagreements": _records(result.rings.disagreements),
        "pairs": report.get("pairs", []),
        "unreachable_parcels": report.get("unreachable_parcels", []),
        "network": report.get("network"),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """Return the headline figures of an assessment as lines for a terminal."""
    grades = summary["grades"]
    inv = summary["inventory"]
    paths = summary["paths"]
    comp = paths["compensation_wan"]
    value = summary["value"]["total_value_wan"]
    lines = [
        _("{parcels:,} parcels, {area:,.0f} 亩: {grades}").format(
            parcels=summary["parcels"], area=summary["area_mu"],
            grades=", ".join(f"{g} {v['parcels']:,}" for g, v in grades.items())),
        f"低效用地清单 {inv['parcels']:,} 宗 {inv['area_mu']:,.0f} 亩 (占地块 {100 * (inv['share_of_parcels'] or 0):.1f}%, "
        f"占面积 {100 * (inv['share_of_area'] or 0):.1f}%); 关注清单 {summary['watch']['parcels']:,} 宗",
        f"盘活: 可腾退 {paths['land_freed_mu']:,.0f} 亩, 可新增建筑面积 {paths['floor_area_added_m2'] / 1e4:,.1f} 万m², "
        f"税收增量 {paths['tax_gain_wan']:,.0f} 万元/年, 补偿估算 {(comp['total'] or 0):,.0f} 万元"
        + (f" (另 {comp['missing']:,} 宗无法估算)" if comp["missing"] else ""),
    ]
    if value["missing"]:
        lines.append(f"综合价值 {(value['total'] or 0) / 1e4:,.1f} 亿元, 不含未估价地块 {value['missing']:,} 宗 (见 value_missing_reason)")
    return lines


#: Columns of the parcels layer, in order (those present are written).
PARCEL_COLUMNS_FIRST = [
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "track", "grade", "score", "rank_in_track",
    "rank_in_block", "grade_basis", "grade_reason_zh", "weakest_zh", "ungraded_reason", "low_efficiency", "watch",
    "list_basis", "reasons", "reasons_zh", "disposal", "disposal_zh",
]


def _ordered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    first = [c for c in PARCEL_COLUMNS_FIRST if c in frame]
    rest = [c for c in frame.columns if c not in first and c != frame.geometry.name]
    return frame[first + rest + [frame.geometry.name]]


#: Columns of the Excel sheets (the GeoPackage and `landkit export` carry every column).
INVENTORY_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "enterprise_names", "industry",
    "track", "grade", "score", "weakest_zh", "reasons_zh", "idle_years", "far", "far_min", "tax_per_mu", "disposal_zh",
    "land_freed_mu", "floor_area_added_m2", "tax_gain_wan", "compensation_basis", "compensation_wan", "net_land_value_wan",
    "payback_years", "review_year", "total_value_wan", "value_missing_reason",
]
WATCH_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "area_mu", "enterprise_names", "industry", "track", "grade",
    "score", "reasons_zh", "far", "far_min", "tax_per_mu", "disposal_zh", "floor_area_added_m2",
]
GRADED_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "enterprise_names", "industry", "tax_wan",
    "revenue_wan", "track", "score", "grade", "grade_basis", "grade_reason_zh", "rank_in_track", "rank_in_block",
    "weakest_zh", "low_efficiency", "watch", "disposal_zh",
]
PATH_SHEET = [
    "parcel_id", "block_id", "block_name", "area_mu", "grade", "list_basis", "disposal_zh", "land_freed_mu",
    "floor_area_added_m2", "potential_tax_wan", "tax_gain_wan", "compensation_basis", "compensation_wan",
    "net_land_value_wan", "payback_years", "review_year", "land_value_wan", "building_value_wan", "total_value_wan",
    "value_missing_reason",
]
UNGRADED_SHEET = ["parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "ungraded_reason", "low_efficiency", "disposal_zh"]


def _present(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(frame[[c for c in dict.fromkeys(columns) if c in frame]])


def score_detail_columns(project: Project, parcels: pd.DataFrame) -> list[str]:
    """Return the columns that explain a parcel's score: each indicator's value, benchmark, points, loss."""
    columns = ["parcel_id", "track", "score", "grade", "weakest_zh"]
    for name in project.assessment.indicators:
        columns += [c for c in (name, f"{name}_bench", f"{name}_pts", f"{name}_lost") if c in parcels]
    return columns


#: Linkage line kinds in Chinese.
LINK_NAMES = {"pair": "联动组合", "core": "至核心", "nearest": "相邻区块"}


def qgis_styles(project: Project, layers: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Return the QGIS default styles of the run's spatial layers (the GeoPackage's ``layer_styles``).

    Parcels and the watch table by grade, the inventory by disposal path, blocks as outlines,
    rings by ring, linkage lines by kind, roads by class, clusters and core sites in one colour;
    any other spatial layer in one colour for its geometry. Without ``layers``: the three parcel
    layers only.
    """
    from landkit.labels import LINK_COLOURS, RING_COLOURS
    from landkit.styles import geometry_kind, single_symbol_qml

    grade = categorized_qml("grade", [(g, f"{g}类" if g != "U" else "不参评", GRADE_COLOURS[g]) for g in (*GRADES, UNGRADED)])
    paths = [(r.code, r.label_zh, DISPOSAL_COLOURS.get(r.code, "#999999")) for r in project.disposal.rules]
    styles: dict[str, tuple[str, str, str]] = {
        "parcels": ("评价等级", "地块按评价等级着色 (landkit)", grade),
        "inventory": ("盘活路径", "低效用地按盘活路径着色 (landkit)", categorized_qml("disposal", paths)),
        "watchlist": ("评价等级", "关注清单按评价等级着色 (landkit)", grade),
    }
    if layers is None:
        return layer_styles_table(styles)

    def present(name: str, column: str) -> list[str]:
        frame = layers.get(name)
        if frame is None or column not in frame:
            return []
        return [str(v) for v in pd.unique(frame[column].dropna()) if str(v) != ""]

    ring_names = coded_values(project)["ring"]
    rings = [*(r for r in RING_COLOURS if r in present("rings", "ring")),
             *(r for r in present("rings", "ring") if r not in RING_COLOURS)]
    link_names = LINK_NAMES
    kinds = [*(k for k in LINK_COLOURS if k in present("linkage", "kind")),
             *(k for k in present("linkage", "kind") if k not in LINK_COLOURS)]
    # roads: the classes of the speed table first (fastest first: widest, darkest), then the others
    ranked = list(project.rings.default_speed_kmh)
    classes = [*(c for c in ranked if c in present("roads", "road_class")),
               *(c for c in present("roads", "road_class") if c not in ranked)]
    road_shades = ["#e31a1c", "#fd8d3c", "#636363", "#969696", "#bdbdbd"]
    road_widths = [1.2, 1.0, 0.8, 0.5, 0.3]
    rank = {c: min(ranked.index(c) if c in ranked else len(road_shades) - 1, len(road_shades) - 1) for c in classes}
    specific = {
        "blocks": ("区块边界", "区块边界 (landkit)",
                   single_symbol_qml("#1f4e79", "polygon", filled=False, outline="#1f4e79", outline_width=0.6)),
        "rings": ("规划圈层", "规划圈层按圈层着色 (landkit)",
                  categorized_qml("ring", [(r, ring_names.get(r, r), RING_COLOURS.get(r, "#999999")) for r in rings],
                                  "polygon", alpha=90, outline_width=0.4,
                                  options={r: {"outline": RING_COLOURS.get(r, "#999999")} for r in rings})),
        "clusters": ("集聚簇", "产业用地集聚簇 (landkit)",
                     single_symbol_qml("#cab2d6", "polygon", alpha=77, outline="#6a3d9a", outline_width=0.3)),
        "linkage": ("联动网络", "联动网络按连接类型着色 (landkit)",
                    categorized_qml("kind", [(k, link_names.get(k, k), LINK_COLOURS.get(k, "#999999")) for k in kinds],
                                    "line", width=0.8)),
        "roads": ("道路等级", "道路按道路等级着色 (landkit)",
                  categorized_qml("road_class", [*((c, c, road_shades[rank[c]]) for c in classes), ("", "其他", "#bdbdbd")],
                                  "line", options={**{c: {"width": road_widths[rank[c]]} for c in classes}, "": {"width": 0.3}})
                  if "road_class" in layers.get("roads", pd.DataFrame()) else single_symbol_qml("#8c8c8c", "line", width=0.4)),
        "core_sites": ("核心载体", "核心载体 (landkit)",
                       single_symbol_qml("#ef3b2c", "point", size=3.5, outline="#b2182b")),
    }
    defaults = {"parcels": "polygon", "inventory": "polygon", "watchlist": "polygon", "blocks": "polygon", "rings": "polygon",
                "clusters": "polygon", "linkage": "line", "roads": "line", "core_sites": "point"}
    out = {}
    for name, frame in layers.items():
        kind = geometry_kind(frame, defaults.get(name))
        if kind is None:
            continue  # a plain table, or a layer of mixed geometry
        if name in styles and kind == "polygon":
            out[name] = styles[name]
        elif name in specific and kind == defaults[name]:
            out[name] = specific[name]
        else:  # a layer without a style of its own, or of an unexpected geometry: one colour
            out[name] = (name, f"{name} (landkit)", single_symbol_qml("#8c8c8c", kind))
    fields = field_setup(project, coded_values(project))
    out = {name: (style, description, with_fields(qml, fields(layers[name]))) for name, (style, description, qml) in out.items()}
    return layer_styles_table(out)


def coded_values(project: Project) -> dict[str, dict[str, str]]:
    """Return the run's own coded columns in Chinese: grade, disposal path, ring, linkage kind."""
    return {"grade": {g: f"{g}类" if g != UNGRADED else "不参评" for g in (*GRADES, UNGRADED)},
            "disposal": {r.code: r.label_zh for r in project.disposal.rules},
            "ring": {**{r: v.get("zh", r) for r, v in project.rings.labels.items()}, "unreachable": "不可达"},
            "kind": LINK_NAMES}


def field_setup(project: Project, coded: dict[str, dict[str, str]] | None = None
                ) -> Callable[[pd.DataFrame], dict[str, tuple[str, dict[str, str] | None]]]:
    """Return a function giving a layer's QGIS field setup: column → (Chinese header, value map or None).

    The headers are those of the workbook (:func:`landkit.labels.header`); the value maps are
    :func:`landkit.labels.value_labels` in Chinese and ``coded`` (column → code → shown value).
    Columns without a label keep their name and get no entry.
    """
    labels = labels_for(project)
    values = {**value_labels(project, "zh"), **(coded or {})}

    def setup(frame: pd.DataFrame) -> dict[str, tuple[str, dict[str, str] | None]]:
        geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
        return {str(c): (header(str(c), labels, "zh"), values.get(str(c))) for c in frame.columns
                if c != geometry and (c in labels or c in values)}
    return setup


def workbook_sheets(project: Project, result: AssessmentResult) -> dict[str, pd.DataFrame]:
    """Return the sheets of ``inventory.xlsx``: the lists, the score detail, the paths, summaries, KPIs."""
    parcels = _ordered(result.parcels)
    graded = parcels[parcels["graded"]].sort_values(["track", "rank_in_track"], kind="stable")
    indicators = [c for c in project.assessment.indicators if c in parcels]
    return {
        "低效用地清单": _present(_ordered(result.inventory), INVENTORY_SHEET),
        "关注清单": _present(_ordered(result.watchlist), WATCH_SHEET),
        "分级清单": _present(graded, GRADED_SHEET + indicators),
        "评分明细": _present(graded, score_detail_columns(project, graded)),
        "不参评地块": _present(parcels[~parcels["graded"]], UNGRADED_SHEET),
        "盘活路径": _present(parcels[parcels["disposal"] != ""], PATH_SHEET),
        "按路径汇总": result.tables["by_path"],
        "按等级汇总": result.tables["by_grade"],
        "等级与清单": result.tables["by_listing"],
        "分组等级": result.tables["by_track"],
        "评价基准": result.tables.get("benchmarks", pd.DataFrame()),
        "区块评价": result.blocks if result.blocks is not None else pd.DataFrame(),
        "规划指标": result.kpis,
    }


def write_assessment(
    out_dir: Path, project: Project, data: Dataset, result: AssessmentResult, *, workbook: bool = True,
    map_path: Path | None = None, stage: Stage = no_stage, db: DbTarget | None = None,
) -> list[Path]:
    """Write the run's outputs into ``out_dir`` (callers check ``--overwrite`` first), whole or not at all.

    The files are written into a staging folder and published together when all are complete,
    holding the folder's lock (:mod:`landkit.run_folder`). ``workbook=False`` skips
    ``inventory.xlsx`` (the benchmark times it apart); ``map_path`` also writes the interactive map
    there; ``db`` also writes the GeoPackage's layers to a PostGIS schema (first, in one
    transaction: a refused write leaves no file written either).
    """
    out_dir = Path(out_dir)
    with staged(out_dir, outputs=OUTPUT_FILES) as staging:
        inside = map_path is not None and Path(map_path).absolute().parent == out_dir.absolute()
        written = _write_assessment(staging, out_dir, project, data, result, workbook=workbook,
                                    map_path=staging / Path(map_path).name if inside else map_path, stage=stage, db=db)
    return [out_dir / p.name if p.parent == staging else p for p in written]


def _write_assessment(staging: Path, out_dir: Path, project: Project, data: Dataset, result: AssessmentResult, *,
                      workbook: bool, map_path: Path | None, stage: Stage, db: DbTarget | None) -> list[Path]:
    layers = None
    if db is not None:  # first, in one transaction: a refused database write leaves no file written
        from landkit.postgis import write_layers_postgis

        with stage("database"):
            layers = output_layers(out_dir, project, data, result)
            write_layers_postgis(db.url, db.schema, layers, overwrite=db.overwrite)
    global _FORKED
    _FORKED = (staging, project, result)
    maps = []
    if map_path is not None:
        final = out_dir / map_path.name if map_path.parent == staging else map_path  # where the map ends up
        maps.append(("交互地图" if project.map.lang == "zh" else "Interactive map", os.path.relpath(final, out_dir)))
    surfaces: Future[list[Path]] = Future()
    # The workbook (pure Python) is written in a forked process where there is one (sharing the
    # result without copying it up front); the map is drawn in a thread (GEOS, PROJ and gzip
    # release the GIL) beside the GeoPackage, the surfaces (whose overlays it takes last) and the
    # report, which is written once the map it links to exists.
    try:
        with _workbook_pool() as pool, ThreadPoolExecutor(max_workers=1) as threads:
            try:
                book = pool.submit(_write_workbook_timed) if workbook else None

                def overlays() -> list[dict[str, Any]]:
                    surfaces.result()  # waits for the surfaces (raises if they failed)
                    return surface_overlays(staging, project)

                drawn = threads.submit(_write_map, map_path, project, data, result, overlays, stage) if map_path else None
                with stage("export"):
                    paths = [write_layers(staging / GPKG_NAME, layers or output_layers(out_dir, project, data, result))]
                    paths.append(write_json(staging / "summary.json", result.summary))
                    paths.append(write_json(staging / MANIFEST, manifest(project, data)))
                with stage("surfaces"):
                    surfaces.set_result(write_surfaces(staging, result, project))
                paths += surfaces.result()
                with stage("report"):
                    report = build_report(result, project, maps=maps, lang=project.map.lang)
                if drawn is not None:
                    paths.append(drawn.result())
                paths.append(write_report(staging / "report.html", report))
                if book is not None:
                    written, seconds = book.result()
                    record_stage(stage, "workbook", seconds)
                    paths[3:3] = written
            finally:  # a failure anywhere above: the map thread must not wait for the surfaces forever
                if not surfaces.done():
                    surfaces.set_exception(LandkitError(_("the run stopped before the surfaces were written")))
    finally:
        _FORKED = None
    return paths


#: Rows above which a sheet goes to a CSV file beside the workbook (Excel holds 1,048,576 rows
#: and opens a few hundred thousand slowly; the GeoPackage has every row anyway).
MAX_SHEET_ROWS = 200_000

#: Long sheets written as CSV, by sheet name.
SHEET_CSV = {"低效用地清单": "inventory.csv", "关注清单": "watchlist.csv", "分级清单": "graded.csv", "评分明细": "score_detail.csv",
             "不参评地块": "ungraded.csv", "盘活路径": "paths.csv"}

#: What a forked workbook process writes: (out_dir, project, result), inherited, never pickled.
_FORKED: tuple[Path, Project, AssessmentResult] | None = None


def output_layers(out_dir: Path, project: Project, data: Dataset, result: AssessmentResult) -> dict[str, pd.DataFrame]:
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
    layers.update(result.tables)
    layers["kpis"] = result.kpis
    layers["layer_styles"] = qgis_styles(project, layers)
    layers["value_labels"] = value_label_table(project, coded_values(project))
    append_run(layers, run_record(project, data, result, out_dir), previous_runs(out_dir / GPKG_NAME))  # landkit_runs
    return layers


def _write_map(map_path: Path, project: Project, data: Dataset, result: AssessmentResult,
               overlays: Callable[[], list[dict[str, Any]]], stage: Stage) -> Path:
    with stage("map"):
        return write_map(map_path, build_map(map_layers(result, data), project, images=overlays))


def _workbook_pool() -> ProcessPoolExecutor | ThreadPoolExecutor:
    """A forked process on Linux (elsewhere fork is unsafe or missing: a thread)."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_die_with_parent, initargs=(os.getpid(),))
    return ThreadPoolExecutor(max_workers=1)


def _die_with_parent(parent: int) -> None:
    """In the forked workbook process: have the kernel kill it when landkit dies, kill -9 included.

    Linux's ``prctl(PR_SET_PDEATHSIG)``, through ctypes (no library offers it); a parent that died
    before the call is caught by the ``getppid`` check after it.
    """
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _write_workbook_timed() -> tuple[list[Path], float]:
    assert _FORKED is not None
    start = time.perf_counter()
    paths = write_workbook(*_FORKED)
    return paths, time.perf_counter() - start


def write_workbook(out_dir: Path, project: Project, result: AssessmentResult) -> list[Path]:
    """Write ``inventory.xlsx``; a sheet longer than :data:`MAX_SHEET_ROWS` goes to a CSV beside it."""
    labels = labels_for(project)
    values = value_labels(project, project.map.lang)
    paths = []
    sheets = {}
    for name, frame in workbook_sheets(project, result).items():
        if len(frame) > MAX_SHEET_ROWS:
            paths.append(write_csv(out_dir / SHEET_CSV[name], frame, labels, lang=project.map.lang, values=values))
            log.warning("%s", _("{sheet} has {rows} rows: written to {file} (the workbook keeps sheets of up to {limit} rows)")
                        .format(sheet=name, rows=len(frame), file=paths[-1].name, limit=MAX_SHEET_ROWS))
            frame = pd.DataFrame({"说明" if project.map.lang == "zh" else "note": [
                f"共 {len(frame):,} 行，超过 {MAX_SHEET_ROWS:,} 行，见 {paths[-1].name}" if project.map.lang == "zh"
                else f"{len(frame):,} rows, more than {MAX_SHEET_ROWS:,}: see {paths[-1].name}"]})
        sheets[name] = frame
    return [write_excel(out_dir / "inventory.xlsx", sheets, labels, lang=project.map.lang, values=values), *paths]


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
    return {k: v for k, v in layers.items() if v is not None}
