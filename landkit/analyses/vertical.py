"""工业上楼: which parcels suit vertical factories, and the floor area they could add.

Plan item 14: "率先在大零号湾区域探索推进'工业上楼'等新模式，重点推动轻生产、低噪音、环保型的企业开展
'工业上楼'". The screen (settings ``project.vertical``, every default cited in the profile):

- the parcel: graded in ``grades``; its firms' industry light, quiet and clean (``industries``);
  FAR headroom to ``target_far``; at least ``min_area_mu``; compact enough (Polsby–Popper
  4πA/P² ≥ ``min_compactness``: a square 0.785, a 4:1 strip 0.503); a road within
  ``road_access_m`` (edge to edge, when a road layer is given);
- the building, where the columns exist: floor load ≥ ``min_floor_load_t_m2``, storey height ≥
  ``min_storey_height_m``, freight lift ≥ ``min_freight_lift_t``, fire class in ``fire_classes``.
  A parcel whose data lack a building figure is not failed on it: ``vertical_unknown`` names what
  is not known.

``vertical_priority`` is 1 inside ``zones_first`` (大零号湾), 2 elsewhere; the floor area that
could be added is max(0, ``target_far`` × area − floor area).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.config.models import VerticalFactory
from landkit.core.crs import require_metric
from landkit.listing.inventory import join_flags

#: The criteria: flag column, Chinese and English text of a failure.
CRITERIA = {
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

#: Building criteria: flag, parcel column, Chinese and English name of the missing figure.
BUILDING = {
    "vf_floor_load": ("floor_load_t_m2", "楼面荷载", "floor load"),
    "vf_storey": ("storey_height_m", "层高", "storey height"),
    "vf_lift": ("freight_lift_t", "货梯载重", "freight lift"),
    "vf_fire": ("fire_class", "火灾危险性类别", "fire class"),
}


def compactness(geoms: np.ndarray) -> np.ndarray:
    """Return the Polsby–Popper compactness 4πA/P² of each polygon (1 for a circle; NaN when empty)."""
    area, perimeter = shapely.area(geoms), shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * math.pi * area / perimeter**2, np.nan)


def road_distance(parcels: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None) -> pd.Series:
    """Return each parcel's edge-to-edge distance (m) to the nearest road (NaN without roads)."""
    out = pd.Series(np.nan, index=parcels.index)
    if roads is None or not len(roads) or not len(parcels):
        return out
    lines = roads.geometry.to_crs(parcels.crs).to_numpy()
    tree = shapely.STRtree(lines)
    (left, _), distance = tree.query_nearest(parcels.geometry.to_numpy(), return_distance=True, all_matches=False)
    out.iloc[left] = distance
    return out


def vertical_screen(parcels: gpd.GeoDataFrame, spec: VerticalFactory, *, roads: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Screen the parcels for 工业上楼.

    Parameters
    ----------
    parcels : GeoDataFrame
        Assessed parcels in the (projected) working CRS: ``area_m2``, ``area_mu`` and, where the
        data have them, ``grade``, ``industry``, ``far``, ``floor_area_m2``, ``block_id`` and the
        building columns (``floor_load_t_m2``, ``storey_height_m``, ``freight_lift_t``, ``fire_class``).
    spec : VerticalFactory
        ``project.vertical``.
    roads : GeoDataFrame, optional
        The road lines: without them the road criterion is not applied (and said so).

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: one flag per criterion of :data:`CRITERIA` (True: passes or not
        known), ``compactness``, ``road_distance_m``, ``vertical_suitable``, ``vertical_priority``
        (1 in ``zones_first``, 2 elsewhere, NaN when not suitable), ``vertical_floor_area_added_m2``
        (of suitable parcels), ``vertical_reasons_zh``/``_en`` (the criteria that fail) and
        ``vertical_unknown_zh``/``_en`` (the building figures the data lack).
    """
    require_metric(parcels.crs, "工业上楼", missing_ok=True)
    index = parcels.index
    out = pd.DataFrame(index=index)

    def column(name: str) -> pd.Series:
        return parcels[name] if name in parcels else pd.Series(np.nan, index=index)

    grade = column("grade")
    out["vf_grade"] = grade.isin(spec.grades) if spec.grades else grade.isin(["A", "B", "C", "D"])
    out["vf_industry"] = column("industry").isin(spec.industries) if spec.industries else True
    far = column("far").astype(float)
    out["vf_headroom"] = ~(far >= spec.target_far)  # no FAR known: no reason to refuse
    out["vf_size"] = parcels["area_mu"].astype(float) >= spec.min_area_mu
    out["compactness"] = compactness(parcels.geometry.to_numpy())
    out["vf_shape"] = out["compactness"] >= spec.min_compactness
    out["road_distance_m"] = road_distance(parcels, roads)
    out["vf_road"] = ~(out["road_distance_m"] > spec.road_access_m)
    limits = {"vf_floor_load": spec.min_floor_load_t_m2, "vf_storey": spec.min_storey_height_m, "vf_lift": spec.min_freight_lift_t}
    unknown_zh = pd.Series("", index=index, dtype=object)
    unknown_en = pd.Series("", index=index, dtype=object)
    for flag, (name, zh, en) in BUILDING.items():
        values = column(name)
        missing = values.isna()
        if flag == "vf_fire":
            out[flag] = missing | values.isin(spec.fire_classes) if spec.fire_classes else True
        else:
            out[flag] = missing | (values.astype(float) >= limits[flag])
        unknown_zh = unknown_zh + np.where(missing, zh + "；", "")
        unknown_en = unknown_en + np.where(missing, en + "; ", "")
    flags = out[list(CRITERIA)].astype(bool)
    out["vertical_suitable"] = flags.all(axis=1)
    zone = column("block_id").isin(spec.zones_first)
    out["vertical_priority"] = np.where(out["vertical_suitable"], np.where(zone, 1.0, 2.0), np.nan)
    floor = column("floor_area_m2").astype(float).fillna(0.0)
    added = np.maximum(0.0, spec.target_far * parcels["area_m2"].astype(float) - floor)
    out["vertical_floor_area_added_m2"] = np.where(out["vertical_suitable"], added, np.nan)
    failed = ~flags
    out["vertical_reasons_zh"] = join_flags(failed, [zh for zh, _ in CRITERIA.values()], "；")
    out["vertical_reasons_en"] = join_flags(failed, [en for _, en in CRITERIA.values()], "; ")
    out["vertical_unknown_zh"] = unknown_zh.str.removesuffix("；")
    out["vertical_unknown_en"] = unknown_en.str.removesuffix("; ")
    return out


def vertical_summary(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return the suitable parcels per priority and block: parcels, area (亩), floor area that could be added (m²)."""
    suitable = parcels[parcels["vertical_suitable"]]
    block = suitable["block_id"].fillna("区块外") if "block_id" in suitable else pd.Series("全部", index=suitable.index)
    return (suitable.assign(block_id=block, vertical_priority=suitable["vertical_priority"].astype(int))
            .groupby(["vertical_priority", "block_id"])
            .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"),
                 vertical_floor_area_added_m2=("vertical_floor_area_added_m2", "sum"))
            .reset_index()
            .sort_values(["vertical_priority", "vertical_floor_area_added_m2"], ascending=[True, False], kind="stable"))
