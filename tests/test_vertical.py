"""工业上楼 (plan item 14) on hand-made parcels whose answers are worked out by hand.

Parcels are drawn in the default profile's working CRS as offsets in metres from (X0, Y0); unless
stated a parcel is a 100 m × 100 m square: 10,000 m² = 15 亩, Polsby–Popper compactness π/4. The
default profile's screen: land use M1/M2/C65, class A/B/C, light industries, FAR below 2.21,
≥ 10 亩, compactness ≥ 0.4, a road within 50 m, floor load ≥ 1.2 t/m², storeys ≥ 4.5 m, freight
lift ≥ 3 t, fire class 丙/丁/戊; 大零号湾 (MH01–MH03) first.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.vertical import BUILDING, CRITERIA, compactness, road_distance, vertical_screen, vertical_summary
from landkit.config.load import load_config
from landkit.core.errors import CRSError

#: A road along y = −30 m: 30 m below every parcel whose bottom edge is at y = 0.
ROAD = gpd.GeoDataFrame({"road_class": ["支路"]}, geometry=[shapely.LineString([(X0 - 500, Y0 - 30), (X0 + 5000, Y0 - 30)])],
                        crs=WORKING)

#: Building figures that pass exactly at the thresholds.
AT_LIMITS = {"floor_load_t_m2": 1.2, "storey_height_m": 4.5, "freight_lift_t": 3.0, "fire_class": "丙"}

#: A parcel that passes every criterion but the building ones, which it does not carry.
BASE = {"land_use": "M1", "grade": "B", "industry": "数字经济", "floor_area_m2": 10_000.0, "block_id": "MH01", "town": "吴泾镇"}


@pytest.fixture(scope="module")
def spec():
    return load_config().vertical


def box(x: float, y: float, w: float = 100, h: float = 100) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def parcels_of(rows: list[dict], geoms: list[shapely.Geometry] | None = None, *, index: pd.Index | None = None) -> gpd.GeoDataFrame:
    """Parcels from rows (each with a ``parcel_id``), side by side 200 m apart unless ``geoms`` are given."""
    geoms = geoms if geoms is not None else [box(200 * i, 0) for i in range(len(rows))]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=WORKING)
    frame["area_m2"] = shapely.area(frame.geometry.to_numpy())
    frame["area_mu"] = frame["area_m2"] * 15 / 10_000
    if index is not None:
        frame.index = index
    return frame


def screen(rows, spec, geoms=None, roads=ROAD) -> pd.DataFrame:
    parcels = parcels_of(rows, geoms)
    out = vertical_screen(parcels, spec, roads=roads)
    assert out.index.equals(parcels.index)
    out.index = [r["parcel_id"] for r in rows]
    return out


def failing(out: pd.DataFrame, pid: str) -> list[str]:
    flags = out.loc[pid, list(CRITERIA)]
    return list(flags.index[~flags.astype(bool)])


# --- defaults come from the profile, with their sources -------------------------------------------


def test_default_screen_follows_its_sources(spec):
    assert spec.target_far == 2.21                      # first 97 Shanghai projects' average FAR
    assert spec.min_floor_load_t_m2 == 1.2 and spec.min_freight_lift_t == 3   # Shenzhen's building standard
    assert spec.fire_classes == ["丙", "丁", "戊"]       # GB 50016: no high-rise 甲类 plant
    assert spec.zones_first == ["MH01", "MH02", "MH03"]  # 大零号湾 first (plan item 14)


# --- shape -------------------------------------------------------------------------------------------


def test_compactness_by_hand():
    square = box(0, 0)
    strip = box(0, 0, 400, 25)                                                      # 4 × 10,000 / 850²
    rect41 = box(0, 0, 200, 50)                                                     # 4:1: 4π·10,000/500²
    ell = shapely.union_all([box(0, 0, 10, 10), box(10, 0, 10, 10), box(0, 10, 10, 10)])   # L-tromino: A 300, P 80
    pair = shapely.MultiPolygon([box(0, 0), box(500, 0)])                          # A 2·10⁴, P 800: π/8
    n = 4 * 64
    circle = shapely.Point(X0, Y0).buffer(50, quad_segs=64)                         # regular 256-gon: π / (n tan(π/n))
    got = compactness(np.array([square, strip, rect41, ell, pair, circle, None, shapely.Polygon()], dtype=object))
    expected = [math.pi / 4, 4 * math.pi * 10_000 / 850**2, 4 * math.pi * 10_000 / 500**2, 4 * math.pi * 300 / 80**2,
                math.pi / 8, math.pi / (n * math.tan(math.pi / n))]
    assert got[:6] == pytest.approx(expected, rel=1e-9)
    assert got[2] == pytest.approx(0.5027, abs=1e-4) and 0.9999 < got[5] < 1
    assert np.isnan(got[6:]).all()


def test_irregular_shape_fails_alone(spec):
    # a 400 × 25 m strip: 15 亩 like the square, compactness 0.174 < 0.4
    out = screen([{**BASE, "parcel_id": "STRIP"}], spec, geoms=[box(0, 0, 400, 25)])
    assert failing(out, "STRIP") == ["vf_shape"]
    assert out.loc["STRIP", "compactness"] == pytest.approx(4 * math.pi * 10_000 / 850**2)
    assert out.loc["STRIP", "vertical_reasons_zh"] == "形状不规整"


# --- road access --------------------------------------------------------------------------------------


def road_layout():
    roads = gpd.GeoDataFrame(geometry=[
        shapely.LineString([(X0 - 500, Y0 - 30), (X0 + 500, Y0 - 30)]),      # under A: 30 m
        shapely.LineString([(X0 + 1150, Y0 - 1000), (X0 + 1150, Y0 + 1000)]),  # 50 m east of B
        shapely.LineString([(X0 + 2130, Y0 - 40), (X0 + 2300, Y0 - 40)]),    # from C's corner (2100, 0): √(30² + 40²) = 50
        shapely.LineString([(X0 + 50, Y0 + 400), (X0 + 50, Y0 + 700)]),      # through D: 0
    ], crs=WORKING)
    parcels = parcels_of([{"parcel_id": p} for p in "ABCDE"],
                         [box(0, 0), box(1000, 0), box(2000, 0), box(0, 500), box(3000, 3000)])
    # E: nearest is the top end (1150, 1000) of the second road, from E's corner (3000, 3000): √(1850² + 2000²)
    return parcels, roads, [30, 50, 50, 0, math.hypot(1850, 2000)]


def test_road_distance_by_hand_and_brute_force():
    parcels, roads, expected = road_layout()
    got = road_distance(parcels, roads)
    assert got.index.equals(parcels.index) and got.tolist() == pytest.approx(expected)
    brute = [min(shapely.distance(p, r) for r in roads.geometry) for p in parcels.geometry]
    assert got.tolist() == pytest.approx(brute)


def test_road_distance_reprojects_roads_and_refuses_degrees():
    parcels, roads, expected = road_layout()
    assert road_distance(parcels, roads.to_crs("EPSG:4490")).tolist() == pytest.approx(expected, abs=1e-3)
    with pytest.raises(CRSError):
        road_distance(parcels.to_crs("EPSG:4490"), roads)
    assert road_distance(parcels, None).isna().all()


def test_road_beyond_the_limit_fails_alone(spec):
    # 50 m is the limit: at 50 m a parcel passes, at 60 m it fails
    out = screen([{**BASE, "parcel_id": "AT_50"}, {**BASE, "parcel_id": "AT_60"}], spec, geoms=[box(0, 20), box(200, 30)])
    assert out["road_distance_m"].tolist() == pytest.approx([50, 60])
    assert failing(out, "AT_50") == [] and failing(out, "AT_60") == ["vf_road"]
    assert out.loc["AT_60", "vertical_reasons_en"] == "no road close by"


def test_without_roads_the_road_criterion_is_skipped(spec):
    parcels = parcels_of([{**BASE, "parcel_id": "FAR_AWAY"}], [box(0, 5000)])
    out = vertical_screen(parcels, spec)
    assert bool(out["vf_road"].iloc[0]) and bool(out["vertical_suitable"].iloc[0]) and np.isnan(out["road_distance_m"].iloc[0])
    assert "vf_road" in out.attrs["vertical_skipped"]
    assert "vf_road" not in vertical_screen(parcels, spec, roads=ROAD).attrs["vertical_skipped"]


# --- FAR headroom and the floor area that could be added ------------------------------------------------


def test_far_headroom_and_floor_area_added_by_hand(spec):
    rows = [
        {**BASE, "parcel_id": "FAR_0.8", "floor_area_m2": 8_000.0},                      # FAR from floor / area
        {**BASE, "parcel_id": "FAR_2.2", "floor_area_m2": 22_000.0, "far": 2.2},
        {**BASE, "parcel_id": "AT_TARGET", "floor_area_m2": 22_100.0, "far": 2.21},
        {**BASE, "parcel_id": "ABOVE", "floor_area_m2": 30_000.0, "far": 3.0},
        {**BASE, "parcel_id": "UNBUILT", "floor_area_m2": np.nan, "far": np.nan},       # no floor: 0 built
        {**BASE, "parcel_id": "FAR_ONLY", "floor_area_m2": np.nan, "far": 1.5},         # floor = 1.5 × 10,000
    ]
    out = screen(rows, spec)
    assert out["vf_headroom"].tolist() == [True, True, False, False, True, True]
    assert failing(out, "AT_TARGET") == ["vf_headroom"] and out.loc["AT_TARGET", "vertical_reasons_zh"] == "容积率已达目标"
    added = out["vertical_floor_area_added_m2"]
    assert added[["FAR_0.8", "FAR_2.2", "UNBUILT", "FAR_ONLY"]].tolist() == pytest.approx(
        [2.21 * 10_000 - 8_000, 2.21 * 10_000 - 22_000, 2.21 * 10_000, 2.21 * 10_000 - 15_000])   # 14,100; 100; 22,100; 7,100
    assert added[["AT_TARGET", "ABOVE"]].isna().all()        # not suitable: nothing to add


def test_far_is_computed_when_the_data_have_none(spec):
    parcels = parcels_of([{**BASE, "parcel_id": "P", "floor_area_m2": 25_000.0}])   # FAR 2.5, no `far` column
    out = vertical_screen(parcels, spec, roads=ROAD)
    assert not out["vf_headroom"].iloc[0]


# --- parcel criteria, one failing at a time --------------------------------------------------------------


@pytest.mark.parametrize(("change", "flag", "zh"), [
    ({"land_use": "M3"}, "vf_land_use", "用地性质不符"),
    ({"land_use": "B2"}, "vf_land_use", "用地性质不符"),
    ({"grade": "D"}, "vf_grade", "等级不符"),
    ({"grade": "U"}, "vf_grade", "等级不符"),
    ({"industry": "传统制造"}, "vf_industry", "非轻生产、低噪音、环保型产业"),
    ({"industry": None}, "vf_industry", "非轻生产、低噪音、环保型产业"),      # no firm: not known to be light
])
def test_each_parcel_criterion_fails_alone(spec, change, flag, zh):
    out = screen([{**BASE, "parcel_id": "OK"}, {**BASE, "parcel_id": "X", **change}], spec)
    assert failing(out, "OK") == [] and failing(out, "X") == [flag]
    assert out.loc["X", "vertical_reasons_zh"] == zh and not out.loc["X", "vertical_suitable"]


def test_small_parcel_fails_alone(spec):
    # 10 亩 is the limit: 100 × 66.7 m = 6,670 m² = 10.005 亩 passes; 80 × 80 m = 6,400 m² = 9.6 亩 fails
    out = screen([{**BASE, "parcel_id": "TEN_MU"}, {**BASE, "parcel_id": "SMALL"}], spec, geoms=[box(0, 0, 100, 66.7), box(200, 0, 80, 80)])
    assert failing(out, "TEN_MU") == [] and failing(out, "SMALL") == ["vf_size"]


def test_missing_land_use_passes_but_listed_reasons_are_joined_in_order(spec):
    rows = [{**BASE, "parcel_id": "NO_USE", "land_use": None},
            {**BASE, "parcel_id": "TWO", "industry": "传统制造", "grade": "D"}]
    out = screen(rows, spec)
    assert failing(out, "NO_USE") == []
    assert out.loc["TWO", "vertical_reasons_zh"] == "等级不符；非轻生产、低噪音、环保型产业"
    assert out.loc["TWO", "vertical_reasons_en"] == "class not eligible; not a light, quiet, clean industry"
    assert out.loc["NO_USE", "vertical_reasons_zh"] == ""


def test_empty_lists_and_zero_minimums_apply_no_criterion(spec):
    loose = spec.model_copy(update={"land_uses": [], "grades": [], "industries": [], "fire_classes": [], "min_area_mu": 0,
                                    "min_compactness": 0, "min_floor_load_t_m2": 0, "min_storey_height_m": 0, "min_freight_lift_t": 0})
    row = {**BASE, "parcel_id": "ANY", "floor_area_m2": 100.0, "land_use": "M3", "grade": "D", "industry": "传统制造",
           "floor_load_t_m2": 0.2, "storey_height_m": 3.0, "freight_lift_t": 0.0, "fire_class": "甲"}
    out = screen([row], loose, geoms=[box(0, 0, 40, 5)])
    assert failing(out, "ANY") == [] and out.loc["ANY", "vertical_suitable"]


# --- building criteria -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "value", "flag", "zh"), [
    ("floor_load_t_m2", 1.19, "vf_floor_load", "楼面荷载不足"),
    ("storey_height_m", 4.4, "vf_storey", "层高不足"),
    ("freight_lift_t", 2.0, "vf_lift", "货梯载重不足"),
    ("freight_lift_t", 0.0, "vf_lift", "货梯载重不足"),          # no freight lift
    ("fire_class", "乙", "vf_fire", "火灾危险性类别不符"),
    ("fire_class", "甲", "vf_fire", "火灾危险性类别不符"),
])
def test_each_building_criterion_fails_alone(spec, column, value, flag, zh):
    rows = [{**BASE, **AT_LIMITS, "parcel_id": "AT_LIMITS"}, {**BASE, **AT_LIMITS, "parcel_id": "X", column: value}]
    out = screen(rows, spec)
    assert failing(out, "AT_LIMITS") == [] and out.loc["AT_LIMITS", "vertical_unknown_zh"] == ""
    assert failing(out, "X") == [flag] and out.loc["X", "vertical_reasons_zh"] == zh
    assert out.attrs["vertical_skipped"] == []


def test_missing_building_columns_are_skipped_and_said_so(spec):
    out = screen([{**BASE, "parcel_id": "NO_BUILDING"}], spec)
    assert failing(out, "NO_BUILDING") == [] and out.loc["NO_BUILDING", "vertical_suitable"]
    assert out.loc["NO_BUILDING", list(BUILDING)].astype(bool).all()
    assert out.loc["NO_BUILDING", "vertical_unknown_zh"] == "楼面荷载；层高；货梯载重；火灾危险性类别"
    assert out.loc["NO_BUILDING", "vertical_unknown_en"] == "floor load; storey height; freight lift; fire class"
    assert out.attrs["vertical_skipped"] == list(BUILDING)


def test_a_missing_building_value_is_unknown_for_that_parcel_only(spec):
    rows = [{**BASE, **AT_LIMITS, "parcel_id": "GAP", "floor_load_t_m2": np.nan, "fire_class": None},
            {**BASE, **AT_LIMITS, "parcel_id": "WEAK", "floor_load_t_m2": 1.0}]
    out = screen(rows, spec)
    assert failing(out, "GAP") == [] and out.loc["GAP", "vertical_unknown_zh"] == "楼面荷载；火灾危险性类别"
    assert failing(out, "WEAK") == ["vf_floor_load"] and out.loc["WEAK", "vertical_unknown_zh"] == ""
    assert out.attrs["vertical_skipped"] == []


# --- priority, alignment, summary -------------------------------------------------------------------------


def test_priority_zones_and_towns_first(spec):
    rows = [{**BASE, "parcel_id": "BAY", "block_id": "MH02"},
            {**BASE, "parcel_id": "XINZHUANG", "block_id": "MH09", "town": "莘庄镇"},
            {**BASE, "parcel_id": "OUTSIDE", "block_id": None, "town": "马桥镇"},
            {**BASE, "parcel_id": "BAY_HEAVY", "block_id": "MH01", "industry": "传统制造"}]
    out = screen(rows, spec)
    assert out["vertical_priority"][["BAY", "XINZHUANG", "OUTSIDE"]].tolist() == [1, 2, 2]
    assert np.isnan(out.loc["BAY_HEAVY", "vertical_priority"])
    by_town = screen(rows, spec.model_copy(update={"towns_first": ["莘庄镇"]}))
    assert by_town["vertical_priority"][["BAY", "XINZHUANG", "OUTSIDE"]].tolist() == [1, 1, 2]


@pytest.mark.parametrize("index", [None, pd.Index(["p", "q", "r"]), pd.Index([30, 10, 20])], ids=["range", "text", "shuffled"])
def test_output_is_aligned_to_any_index(spec, index):
    rows = [{**BASE, "parcel_id": "OK"}, {**BASE, "parcel_id": "HEAVY", "industry": "传统制造"}, {**BASE, "parcel_id": "OK2"}]
    parcels = parcels_of(rows, index=index)
    out = vertical_screen(parcels, spec, roads=ROAD)
    assert out.index.equals(parcels.index)
    assert out["vertical_suitable"].tolist() == [True, False, True]
    joined = parcels.join(out)
    assert joined.loc[joined["parcel_id"] == "HEAVY", "vertical_reasons_zh"].item() == "非轻生产、低噪音、环保型产业"


def test_summary_by_priority_and_block(spec):
    rows = [{**BASE, "parcel_id": "A1"}, {**BASE, "parcel_id": "A2", "floor_area_m2": 5_000.0},
            {**BASE, "parcel_id": "B1", "block_id": "MH09"}, {**BASE, "parcel_id": "C1", "block_id": None},
            {**BASE, "parcel_id": "NO", "grade": "D"}]
    parcels = parcels_of(rows)
    table = vertical_summary(parcels.join(vertical_screen(parcels, spec, roads=ROAD)))
    assert table[["vertical_priority", "block_id", "parcels"]].values.tolist() == [[1, "MH01", 2], [2, "MH09", 1], [2, "区块外", 1]]
    # MH01: (22,100 − 10,000) + (22,100 − 5,000); the others 12,100 each
    assert table["vertical_floor_area_added_m2"].tolist() == pytest.approx([29_200, 12_100, 12_100])
    assert table["area_mu"].tolist() == pytest.approx([30, 15, 15])
