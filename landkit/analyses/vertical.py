"""工业上楼: which parcels suit vertical factories, and the floor area they could add.

Plan item 14: "率先在大零号湾区域探索推进'工业上楼'等新模式，重点推动轻生产、低噪音、环保型的企业开展
'工业上楼'", after Shanghai's 《关于推动"工业上楼"打造"智造空间"的若干措施》 (2023-09-20). The screen
(settings ``project.vertical``, every default cited in the profile), one pass flag per criterion:

- ``vf_land_use``: the land use is one of ``land_uses`` (industrial M1/M2 and R&D C65);
- ``vf_grade``: the class is one of ``grades`` (not D, not ungraded);
- ``vf_industry``: the parcel's main industry is light, quiet and clean (``industries``);
- ``vf_headroom``: FAR below ``target_far`` (Shanghai's first 97 projects averaged 2.21);
- ``vf_size``: at least ``min_area_mu``;
- ``vf_shape``: Polsby–Popper compactness 4πA/P² ≥ ``min_compactness`` (a circle 1, a square
  π/4 ≈ 0.785, a 4:1 rectangle 4π·4/100 ≈ 0.503);
- ``vf_road``: the nearest road of ``roads`` within ``road_access_m``, edge to edge (one STRtree
  nearest-neighbour query);
- the building, where the columns exist: ``vf_floor_load`` (``floor_load_t_m2`` ≥
  ``min_floor_load_t_m2``, Shenzhen 1.2 t/m²), ``vf_storey`` (``storey_height_m`` ≥
  ``min_storey_height_m``), ``vf_lift`` (``freight_lift_t`` ≥ ``min_freight_lift_t``, Shenzhen
  3 t), ``vf_fire`` (``fire_class`` in ``fire_classes``, GB 50016 丙丁戊).

A criterion the data cannot decide is skipped, never failed: a building figure the parcel lacks
(its column absent, or the value missing) passes and is named in ``vertical_unknown_zh/_en``; a
missing land use, FAR or geometry passes too; without a road layer the road criterion is skipped
(``road_distance_m`` NaN). The criteria skipped for every parcel are listed in the result's
``attrs["vertical_skipped"]``. An empty list or a minimum of 0 applies no criterion. A missing
industry fails (a parcel without a firm is not known to be light industry).

``vertical_priority`` is 1 inside ``zones_first`` (大零号湾) or ``towns_first``, 2 elsewhere;
``vertical_floor_area_added_m2`` = max(0, ``target_far`` × area − floor area), the floor area
being ``floor_area_m2``, else FAR × area, else 0 (unbuilt).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landkit.config.models import VerticalFactory
from landkit.core.crs import require_metric
from landkit.core.units import M2_PER_MU
from landkit.listing.inventory import join_flags
from landkit.metrics.nearest import nearest_distances

__all__ = ["BUILDING", "CRITERIA", "compactness", "road_distance", "vertical_screen", "vertical_summary"]

#: The criteria in order: flag column → Chinese and English text of a failure.
CRITERIA = {
    "vf_land_use": ("用地性质不符", "land use not eligible"),
    "vf_grade": ("等级不符", "class not eligible"),
    "vf_industry": ("非轻生产、低噪音、环保型产业", "not a light, quiet, clean industry"),
    "vf_headroom": ("容积率已达目标", "FAR already at the target"),
    "vf_size": ("面积过小", "too small"),
    "vf_shape": ("形状不规整", "shape too irregular"),
    "vf_road": ("临路条件不足", "no road close by"),
    "vf_floor_load": ("楼面荷载不足", "floor load too low"),
    "vf_storey": ("层高不足", "storeys too low"),
    "vf_lift": ("货梯载重不足", "freight lift too small"),
    "vf_fire": ("火灾危险性类别不符", "fire hazard class not allowed"),
}

#: Building criteria: flag → parcel column, Chinese and English name of the figure.
BUILDING = {
    "vf_floor_load": ("floor_load_t_m2", "楼面荷载", "floor load"),
    "vf_storey": ("storey_height_m", "层高", "storey height"),
    "vf_lift": ("freight_lift_t", "货梯载重", "freight lift"),
    "vf_fire": ("fire_class", "火灾危险性类别", "fire class"),
}


def compactness(geoms: np.ndarray | gpd.GeoSeries) -> np.ndarray:
    """Return the Polsby–Popper compactness 4πA/P² of each polygon.

    1 for a circle, π/4 for a square; NaN for an empty or missing geometry. Planar: pass
    geometries in a projected CRS (the ratio has no unit, but degrees distort it).
    """
    values = np.asarray(geoms, dtype=object)
    area, perimeter = shapely.area(values), shapely.length(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * math.pi * area / perimeter**2, np.nan)


def road_distance(parcels: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None) -> pd.Series:
    """Return each parcel's edge-to-edge distance (m) to the nearest road (NaN without roads).

    :func:`~landkit.metrics.nearest.nearest_distances` to the road lines, reprojected to the parcels' CRS when both
    declare one; a road crossing or touching a parcel is at 0 m.

    Raises
    ------
    CRSError
        If the parcels or the roads are in degrees (distances are measured in metres).
    """
    out = pd.Series(np.nan, index=parcels.index, name="road_distance_m")
    if roads is None or not len(roads) or not len(parcels):
        return out
    crs = require_metric(parcels.crs, "工业上楼", missing_ok=True)
    lines = roads.geometry
    if crs is not None and lines.crs is not None and not CRS(lines.crs).equals(crs):
        lines = lines.to_crs(crs)
    else:
        require_metric(lines.crs, "roads", missing_ok=True)
    out[:] = nearest_distances(parcels.geometry.to_numpy(), lines.to_numpy())
    return out


def _column(parcels: pd.DataFrame, name: str) -> pd.Series:
    return parcels[name] if name in parcels else pd.Series(np.nan, index=parcels.index)


def _in(values: pd.Series, allowed: list[str], *, missing_passes: bool) -> pd.Series:
    """Return whether each value is allowed (all pass when nothing is configured)."""
    if not allowed:
        return pd.Series(True, index=values.index)
    result = values.isin(allowed)
    return result | values.isna() if missing_passes else result


def vertical_screen(parcels: gpd.GeoDataFrame, spec: VerticalFactory, *, roads: gpd.GeoDataFrame | None = None,
                    road_distance_m: pd.Series | None = None) -> pd.DataFrame:
    """Screen the parcels for 工业上楼: pass flags, priority, reasons and the floor area to add.

    Parameters
    ----------
    parcels : GeoDataFrame
        Assessed parcels in the (projected) working CRS: geometry and, where the data have them,
        ``area_m2``/``area_mu`` (else from the geometry), ``land_use``, ``grade``, ``industry``,
        ``far`` (else ``floor_area_m2 / area_m2``), ``floor_area_m2``, ``block_id``, ``town`` and
        the building columns ``floor_load_t_m2``, ``storey_height_m``, ``freight_lift_t``,
        ``fire_class``.
    spec : VerticalFactory
        ``project.vertical``.
    roads : GeoDataFrame, optional
        The road lines: without them the road criterion is skipped.
    road_distance_m : Series, optional
        Each parcel's distance to the nearest road, when already measured (:func:`road_distance`
        on the same parcels and roads: a scenario takes over its base run's).

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: one flag per criterion of :data:`CRITERIA` (True: passes or not
        known), ``compactness``, ``road_distance_m``, ``vertical_suitable``,
        ``vertical_priority`` (1 in ``zones_first``/``towns_first``, 2 elsewhere, NaN when not
        suitable), ``vertical_floor_area_added_m2`` (of suitable parcels, else NaN),
        ``vertical_reasons_zh``/``_en`` (the criteria that fail, joined by ``；``/``; ``) and
        ``vertical_unknown_zh``/``_en`` (the building figures the data lack). ``attrs
        ["vertical_skipped"]`` lists the criteria no parcel could be checked on.

    Raises
    ------
    CRSError
        If the parcels or the roads are in degrees.
    """
    require_metric(parcels.crs, "工业上楼", missing_ok=True)
    index = parcels.index
    out = pd.DataFrame(index=index)
    geoms = parcels.geometry.to_numpy()
    area_m2 = (parcels["area_m2"] if "area_m2" in parcels else pd.Series(shapely.area(geoms), index=index)).astype(float)
    area_mu = parcels["area_mu"].astype(float) if "area_mu" in parcels else area_m2 / M2_PER_MU
    floor = _column(parcels, "floor_area_m2").astype(float)
    far = _column(parcels, "far").astype(float).fillna(floor / area_m2.where(area_m2 > 0))

    out["vf_land_use"] = _in(_column(parcels, "land_use"), spec.land_uses, missing_passes=True)
    out["vf_grade"] = _in(_column(parcels, "grade"), spec.grades, missing_passes=False)
    out["vf_industry"] = _in(_column(parcels, "industry"), spec.industries, missing_passes=False)
    out["vf_headroom"] = ~(far >= spec.target_far)      # no FAR known: no reason to refuse
    out["vf_size"] = ~(area_mu < spec.min_area_mu)
    out["compactness"] = compactness(geoms)
    out["vf_shape"] = ~(out["compactness"] < spec.min_compactness)
    out["road_distance_m"] = road_distance(parcels, roads) if road_distance_m is None else road_distance_m.reindex(parcels.index)
    out["vf_road"] = ~(out["road_distance_m"] > spec.road_access_m)
    skipped = [] if roads is not None and len(roads) else ["vf_road"]

    minimum = {"vf_floor_load": spec.min_floor_load_t_m2, "vf_storey": spec.min_storey_height_m, "vf_lift": spec.min_freight_lift_t}
    unknown = pd.DataFrame(index=index)
    for flag, (name, _zh, _en) in BUILDING.items():
        values = _column(parcels, name)
        missing = values.isna()
        if flag == "vf_fire":
            out[flag] = _in(values, list(spec.fire_classes), missing_passes=True)
        else:
            out[flag] = missing | (pd.to_numeric(values, errors="coerce").astype(float) >= minimum[flag])
        unknown[flag] = missing
        if name not in parcels or missing.all():
            skipped.append(flag)
    out.attrs["vertical_skipped"] = skipped

    flags = out[list(CRITERIA)].astype(bool)
    suitable = flags.all(axis=1)
    out["vertical_suitable"] = suitable
    first = _column(parcels, "block_id").isin(spec.zones_first) | _column(parcels, "town").isin(spec.towns_first)
    out["vertical_priority"] = np.where(suitable, np.where(first, 1.0, 2.0), np.nan)
    built = floor.fillna(far * area_m2).fillna(0.0)
    out["vertical_floor_area_added_m2"] = np.maximum(0.0, spec.target_far * area_m2 - built).where(suitable)
    failed = ~flags
    out["vertical_reasons_zh"] = join_flags(failed, [zh for zh, _ in CRITERIA.values()], "；")
    out["vertical_reasons_en"] = join_flags(failed, [en for _, en in CRITERIA.values()], "; ")
    out["vertical_unknown_zh"] = join_flags(unknown, [zh for _, zh, _ in BUILDING.values()], "；")
    out["vertical_unknown_en"] = join_flags(unknown, [en for _, _, en in BUILDING.values()], "; ")
    return out


def vertical_summary(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return the suitable parcels per priority and block: parcels, area (亩), floor area that could be added (m²).

    Sorted by priority, then by floor area added (largest first); parcels outside every block
    are counted under ``区块外``.
    """
    suitable = parcels[parcels["vertical_suitable"].fillna(False).astype(bool)]
    block = suitable["block_id"].fillna("区块外") if "block_id" in suitable else pd.Series("全部", index=suitable.index)
    return (suitable.assign(block_id=block, vertical_priority=suitable["vertical_priority"].astype(int))
            .groupby(["vertical_priority", "block_id"])
            .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"),
                 vertical_floor_area_added_m2=("vertical_floor_area_added_m2", "sum"))
            .reset_index()
            .sort_values(["vertical_priority", "vertical_floor_area_added_m2"], ascending=[True, False], kind="stable")
            .reset_index(drop=True))
