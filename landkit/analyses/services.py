"""Public services and the road system (plan item 12).

"布局方便、舒适、共享开放的高品质公共服务设施，优化形成功能完善、级配合理的道路交通系统":

- **Access** (:func:`service_access`): per parcel, the travel time by the road network to the
  nearest facility of each kind of the facilities layer (one multi-source Dijkstra per kind,
  :func:`landkit.metrics.network.travel_minutes`, the rings' speeds), and per block, ring and the
  park the share of parcels (and of their area) within ``services.minutes[kind]``; a block whose
  share is below ``services.min_share`` falls short. Parcels the roads do not connect to any
  facility of a kind count as not reached, and are counted apart.
- **The road hierarchy** (:func:`road_hierarchy`): per block and for the park (the blocks'
  union), km of road of each class inside it (clipped), the density in km/km² against the
  national guideline band (``services.road_density_km_per_km2``: GB 50220-95), the total density
  against ``total_density_min_km_per_km2`` (GB/T 51328-2018), and each class's length relative to
  the arterials' (the 级配: 快速路 : 主干路 : 次干路 : 支路).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.config.models import Project
from landkit.core.crs import require_metric

#: The urban road classes of the hierarchy, in order (CJJ 37-2012; 高速公路 is no urban road).
ROAD_CLASSES = ("expressway", "arterial", "secondary", "local")


@dataclass
class ServicesResult:
    """Minutes to each kind of facility per parcel, and the shares within reach per block, ring and park."""

    parcels: pd.DataFrame
    access: pd.DataFrame


def service_access(parcels: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                   project: Project) -> ServicesResult:
    """Return each parcel's minutes to every kind of facility, and the shares within reach.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels in the working CRS (``block_id``, ``ring`` and ``area_mu`` when known).
    facilities : GeoDataFrame
        Points with ``facility_kind`` (codes of :data:`landkit.core.schema.FACILITY_KINDS`).
    roads : GeoDataFrame
        The road network (as for the rings).
    project : Project
        ``services`` (minutes per kind, the share a block must reach) and ``rings`` (speeds).

    Returns
    -------
    ServicesResult
        ``parcels``: ``minutes_to_<kind>`` per kind present (NaN: not reachable). ``access``: one
        row per level (``park``, ``block``, ``ring``), group and kind: ``parcels``, ``within``
        (parcels within the minutes), ``share_pct``, ``area_share_pct``, ``unreachable`` and
        ``short`` (share below ``min_share``).
    """
    from landkit.metrics.network import build_road_graph, travel_minutes

    require_metric(parcels.crs, "public services", missing_ok=True)
    rings, spec = project.rings, project.services
    graph = build_road_graph(roads, default_speed_kmh=rings.default_speed_kmh, fallback_speed_kmh=rings.fallback_speed_kmh,
                             snap_tolerance_m=rings.snap_tolerance_m)
    points = gpd.GeoSeries(parcels.geometry.representative_point(), crs=parcels.crs)
    sites = facilities.to_crs(parcels.crs)
    out = pd.DataFrame(index=parcels.index)
    rows = []
    area = parcels["area_mu"].astype(float) if "area_mu" in parcels else pd.Series(1.0, index=parcels.index)
    levels = {"park": pd.Series("park", index=parcels.index)}
    for level in ("block", "ring"):
        column = f"{level}_id" if level == "block" else level
        if column in parcels:
            levels[level] = parcels[column].astype(object).where(parcels[column].notna(), "outside")
    for kind, limit in spec.minutes.items():
        targets = sites.geometry[sites["facility_kind"] == kind]
        if not len(targets):
            continue
        times = travel_minutes(graph, points, targets, access_speed_kmh=rings.access_speed_kmh, max_target_snap_m=rings.core_snap_max_m)
        minutes = times["travel_min"].astype(float)
        out[f"minutes_to_{kind}"] = minutes
        within = minutes <= limit
        frame = pd.DataFrame({"within": within, "area_in": area.where(within, 0.0), "area": area,
                              "unreachable": minutes.isna()})
        for level, group in levels.items():
            stats = frame.groupby(group).agg(parcels=("within", "size"), within=("within", "sum"), area_in=("area_in", "sum"),
                                             area=("area", "sum"), unreachable=("unreachable", "sum"))
            stats = stats.rename_axis("group").reset_index().assign(level=level, facility_kind=kind, minutes=limit)
            rows.append(stats)
    if not rows:
        return ServicesResult(out, pd.DataFrame(columns=["level", "group", "facility_kind", "minutes", "parcels", "within", "share_pct",
                                                         "area_share_pct", "unreachable", "short"]))
    access = pd.concat(rows, ignore_index=True)
    access["share_pct"] = 100 * access["within"] / access["parcels"]
    access["area_share_pct"] = 100 * access["area_in"] / access["area"].where(access["area"] > 0)
    access["short"] = access["share_pct"] < 100 * spec.min_share
    access[["within", "unreachable"]] = access[["within", "unreachable"]].astype(int)
    columns = ["level", "group", "facility_kind", "minutes", "parcels", "within", "share_pct", "area_share_pct", "unreachable", "short"]
    return ServicesResult(out, access[columns])


def road_hierarchy(roads: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, project: Project) -> pd.DataFrame:
    """Return the road network's length, density and grading per block and for the park.

    Parameters
    ----------
    roads : GeoDataFrame
        Lines with ``road_class`` (mapped by ``services.road_classes``; unmapped classes count as
        ``other``), in a metric CRS or reprojected to the blocks'.
    blocks : GeoDataFrame
        The blocks (``block_id``), in the working CRS.
    project : Project
        ``services.road_density_km_per_km2`` (class → guideline low, high) and
        ``total_density_min_km_per_km2``.

    Returns
    -------
    DataFrame
        One row per group (the park, then each block) and class of :data:`ROAD_CLASSES` plus
        ``total``: ``area_km2``, ``km``, ``density_km_per_km2``, ``guideline_low``,
        ``guideline_high``, ``meets`` (density ≥ the low end), ``ratio_to_arterial`` (km of the
        class / km of arterials, the 级配) and ``short`` (below the guideline).
    """
    spec = project.services
    require_metric(blocks.crs, "road hierarchy", missing_ok=True)
    lines = roads.to_crs(blocks.crs)
    classes = lines["road_class"].map(spec.road_classes).fillna("other").to_numpy() if "road_class" in lines else np.full(len(lines), "other")
    areas = {"park": shapely.union_all(blocks.geometry.to_numpy()), **dict(zip(blocks["block_id"].astype(str), blocks.geometry, strict=True))}
    names, geoms = list(areas), np.array(list(areas.values()), dtype=object)
    geoms_lines = lines.geometry.to_numpy()
    area_idx, line_idx = shapely.STRtree(geoms_lines).query(geoms, predicate="intersects")
    lengths = shapely.length(shapely.intersection(geoms_lines[line_idx], geoms[area_idx])) / 1000
    km = pd.DataFrame({"group": np.array(names, dtype=object)[area_idx], "road_class": classes[line_idx], "km": lengths})
    km = km.groupby(["group", "road_class"])["km"].sum()
    rows = []
    for name, geom in zip(names, geoms, strict=True):
        area_km2 = shapely.area(geom) / 1e6
        arterial = float(km.get((name, "arterial"), 0.0))
        total = 0.0
        for cls in ROAD_CLASSES:
            length = float(km.get((name, cls), 0.0))
            total += length
            low, high = {str(k): v for k, v in spec.road_density_km_per_km2.items()}.get(cls, (np.nan, np.nan))
            density = length / area_km2 if area_km2 else np.nan
            rows.append({"level": "park" if name == "park" else "block", "group": name, "road_class": cls, "area_km2": area_km2,
                         "km": length, "density_km_per_km2": density, "guideline_low": low, "guideline_high": high,
                         "meets": bool(density >= low) if np.isfinite(low) else None,
                         "ratio_to_arterial": length / arterial if arterial else np.nan})
        density = total / area_km2 if area_km2 else np.nan
        rows.append({"level": "park" if name == "park" else "block", "group": name, "road_class": "total", "area_km2": area_km2,
                     "km": total, "density_km_per_km2": density, "guideline_low": spec.total_density_min_km_per_km2,
                     "guideline_high": np.nan, "meets": bool(density >= spec.total_density_min_km_per_km2), "ratio_to_arterial": np.nan})
    table = pd.DataFrame(rows)
    table["short"] = table["meets"].map(lambda m: None if m is None else not m)
    return table
