"""The plan's parcel screens on hand-made parcels: 工业上楼 (item 14) and 商办→研发 (item 13).

Parcels are squares of 100 m × 100 m (10,000 m² = 15 亩; Polsby–Popper compactness π/4) unless
stated, in the working CRS, offsets from X0, Y0 in metres; a road runs along y = −30.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.conversion import conversion_candidates, conversion_summary
from landkit.analyses.vertical import compactness, vertical_screen, vertical_summary
from landkit.config.load import load_config
from landkit.core.errors import ConfigError


def box(x0: float, y0: float, w: float = 100, h: float = 100) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x0 + w, Y0 + y0 + h)


ROAD = gpd.GeoDataFrame({"road_class": ["支路"]}, geometry=[shapely.LineString([(X0 - 500, Y0 - 30), (X0 + 2000, Y0 - 30)])], crs=WORKING)


@pytest.fixture(scope="module")
def project():
    return load_config()


def frame(rows: list[dict], geoms: list[shapely.Polygon]) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=WORKING)
    out["area_m2"] = shapely.area(out.geometry.to_numpy())
    out["area_mu"] = out["area_m2"] / (10_000 / 15)
    return out


# --- 工业上楼 ---------------------------------------------------------------------------------------

BASE = {"grade": "B", "industry": "数字经济", "far": 1.0, "floor_area_m2": 10_000.0, "block_id": "MH01"}


def test_compactness_by_hand():
    square, strip = box(0, 0), box(0, 0, 400, 25)
    assert compactness(np.array([square, strip])) == pytest.approx([math.pi / 4, 4 * math.pi * 10_000 / 850**2])


def test_vertical_screen_each_criterion_alone(project):
    spec = project.vertical  # target FAR 2.21, ≥ 10 亩, compactness ≥ 0.4, road ≤ 50 m, 1.2 t/m², 4.5 m, 3 t, 丙丁戊
    rows = [
        {**BASE, "parcel_id": "OK"},                                   # y 0: 30 m from the road
        {**BASE, "parcel_id": "ELSEWHERE", "block_id": "MH09"},
        {**BASE, "parcel_id": "HEAVY", "industry": "传统制造"},
        {**BASE, "parcel_id": "FULL", "far": 2.5, "floor_area_m2": 25_000.0},
        {**BASE, "parcel_id": "SMALL"},                                 # 50 × 50 m = 3.75 亩
        {**BASE, "parcel_id": "STRIP"},                                 # 400 × 25 m: compactness 0.174
        {**BASE, "parcel_id": "FAR_FROM_ROAD"},                         # y 200: 230 m from the road
        {**BASE, "parcel_id": "D", "grade": "D"},
        {**BASE, "parcel_id": "WEAK_FLOOR", "floor_load_t_m2": 1.0, "storey_height_m": 6.0, "freight_lift_t": 5.0, "fire_class": "丙"},
        {**BASE, "parcel_id": "LOW_STOREY", "floor_load_t_m2": 1.5, "storey_height_m": 4.0, "freight_lift_t": 5.0, "fire_class": "丁"},
        {**BASE, "parcel_id": "SMALL_LIFT", "floor_load_t_m2": 1.5, "storey_height_m": 6.0, "freight_lift_t": 2.0, "fire_class": "戊"},
        {**BASE, "parcel_id": "CLASS_B", "floor_load_t_m2": 1.5, "storey_height_m": 6.0, "freight_lift_t": 5.0, "fire_class": "乙"},
        {**BASE, "parcel_id": "BUILT_OK", "floor_load_t_m2": 1.2, "storey_height_m": 4.5, "freight_lift_t": 3.0, "fire_class": "丙"},
    ]
    geoms = [box(0, 0), box(200, 0), box(400, 0), box(600, 0), box(800, 0, 50, 50), box(0, 0, 400, 25), box(0, 200),
             box(1000, 0), box(1200, 0), box(1400, 0), box(1600, 0), box(1800, 0), box(2000, 0)]
    out = vertical_screen(frame(rows, geoms), spec, roads=ROAD)
    out.index = [r["parcel_id"] for r in rows]
    suitable = set(out.index[out["vertical_suitable"]])
    assert suitable == {"OK", "ELSEWHERE", "BUILT_OK"}
    failed = {"HEAVY": "vf_industry", "FULL": "vf_headroom", "SMALL": "vf_size", "STRIP": "vf_shape", "FAR_FROM_ROAD": "vf_road",
              "D": "vf_grade", "WEAK_FLOOR": "vf_floor_load", "LOW_STOREY": "vf_storey", "SMALL_LIFT": "vf_lift", "CLASS_B": "vf_fire"}
    for pid, flag in failed.items():
        flags = out.loc[pid, [c for c in out.columns if c.startswith("vf_")]]
        assert list(flags.index[~flags.astype(bool)]) == [flag], pid
    assert out.loc["OK", "road_distance_m"] == pytest.approx(30) and out.loc["FAR_FROM_ROAD", "road_distance_m"] == pytest.approx(230)
    # priority: 大零号湾 (MH01) first; floor area that could be added: 2.21 × 10,000 − 10,000 m²
    assert out.loc["OK", "vertical_priority"] == 1 and out.loc["ELSEWHERE", "vertical_priority"] == 2
    assert out.loc["OK", "vertical_floor_area_added_m2"] == pytest.approx(12_100)
    assert np.isnan(out.loc["HEAVY", "vertical_floor_area_added_m2"])
    assert out.loc["HEAVY", "vertical_reasons_zh"] == "非轻生产、低噪音、环保型产业"
    # building figures the data lack are named, not failed
    assert out.loc["OK", "vertical_unknown_zh"] == "楼面荷载；层高；货梯载重；火灾危险性类别"
    assert out.loc["BUILT_OK", "vertical_unknown_zh"] == ""


def test_vertical_without_roads_or_building_columns_skips_those_criteria(project):
    parcels = frame([{**BASE, "parcel_id": "FAR_AWAY"}], [box(0, 5000)])
    out = vertical_screen(parcels, project.vertical)
    assert bool(out["vertical_suitable"].iloc[0]) and np.isnan(out["road_distance_m"].iloc[0])


def test_vertical_summary_by_priority_and_block(project):
    rows = [{**BASE, "parcel_id": p, "block_id": b} for p, b in (("A1", "MH01"), ("A2", "MH01"), ("B1", "MH09"))]
    parcels = frame(rows, [box(0, 0), box(200, 0), box(400, 0)])
    parcels = parcels.join(vertical_screen(parcels, project.vertical, roads=ROAD))
    table = vertical_summary(parcels)
    assert table[["vertical_priority", "block_id", "parcels"]].values.tolist() == [[1, "MH01", 2], [2, "MH09", 1]]
    assert table["vertical_floor_area_added_m2"].tolist() == pytest.approx([24_200, 12_100])


# --- 商办→研发 ------------------------------------------------------------------------------------------


def test_conversion_candidates_by_rule(project):
    spec = project.conversion  # zones MH09, MH10; vacancy ≥ 0.3; FAR < 1.5; tax < 10 万元/亩
    rows = [
        {"parcel_id": "ZONE_VACANT", "land_use": "B29", "block_id": "MH09", "ring": "linkage", "vacancy_rate": 0.5, "far": 2.0, "tax_per_mu": 30.0},
        {"parcel_id": "ZONE_BUSY", "land_use": "C8", "block_id": "MH10", "ring": "linkage", "vacancy_rate": 0.1, "far": 2.0, "tax_per_mu": 30.0},
        {"parcel_id": "FAR_AWAY", "land_use": "C8", "block_id": "MH15", "ring": "linkage", "vacancy_rate": 0.5, "far": 1.0, "tax_per_mu": 5.0},
        {"parcel_id": "CORE_LOW", "land_use": "B1", "block_id": "MH02", "ring": "core", "vacancy_rate": np.nan, "far": 1.0, "tax_per_mu": 30.0},
        {"parcel_id": "TOWN", "land_use": "C2", "block_id": None, "town": "莘庄工业区", "ring": None, "vacancy_rate": np.nan, "far": 2.0,
         "tax_per_mu": 4.0},
        {"parcel_id": "FACTORY", "land_use": "M1", "block_id": "MH09", "ring": "linkage", "vacancy_rate": 0.9, "far": 0.5, "tax_per_mu": 1.0},
    ]
    parcels = frame(rows, [box(200 * i, 0) for i in range(len(rows))])
    parcels["floor_area_m2"] = [20_000.0, 20_000.0, 10_000.0, 10_000.0, 20_000.0, 5_000.0]
    out = conversion_candidates(parcels, spec)
    out.index = [r["parcel_id"] for r in rows]
    assert list(out.index[out["conversion_candidate"]]) == ["ZONE_VACANT", "CORE_LOW", "TOWN"]
    assert out.loc["ZONE_VACANT", "conversion_reasons"] == "IN_ZONE;VACANT"
    assert out.loc["CORE_LOW", "conversion_reasons"] == "RING_FIT;LOW_FAR"
    assert out.loc["TOWN", "conversion_reasons"] == "IN_ZONE;LOW_TAX"
    assert out.loc["CORE_LOW", "conversion_reasons_zh"] == "位于核心功能圈或溢出辐射圈(研发功能适配)；容积率低"
    assert not out.loc["FACTORY", [c for c in out.columns if c.startswith("cv_")]].any()  # industrial land is not 商办
    assert out.loc["ZONE_VACANT", "conversion_floor_area_m2"] == 20_000 and np.isnan(out.loc["ZONE_BUSY", "conversion_floor_area_m2"])
    table = conversion_summary(parcels.join(out.set_axis(parcels.index)))
    assert table.set_index("block_id")["parcels"].to_dict() == {"MH09": 1, "MH02": 1, "区块外": 1}


def test_conversion_rule_outside_the_language_is_a_config_error(project):
    spec = project.conversion.model_copy(update={"candidate_when": "cv_VACANT and __import__('os')"})
    parcels = frame([{"parcel_id": "P", "land_use": "B1"}], [box(0, 0)])
    with pytest.raises(ConfigError, match=r"conversion\.candidate_when"):
        conversion_candidates(parcels, spec)
