"""Public services and the road hierarchy (plan item 12) on hand-made networks, answers by hand.

Access: a straight 次干路 (the rings' default 30 km/h: 500 m a minute) runs along y = −20 from x 0 to
6,000 m in 500 m pieces, so a node every 500 m; walking to and from it is at the rings' 15 km/h
(250 m a minute). The expected minutes are computed by brute force over those nodes.

Roads: a 1 km × 1 km block B1 and a 2 km × 1 km block B2 whose km per class are laid out by hand
(GB 50220-95 bands of the default profile: 快速路 0.4–0.5, 主干路 0.8–1.2, 次干路 1.2–1.4, 支路 3–4).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.services import (
    ACCESS_COLUMNS,
    ROAD_COLUMNS,
    assess_services,
    road_grading,
    road_hierarchy,
    service_access,
    service_graph,
    short_blocks,
)
from landkit.config.load import load_config
from landkit.config.models import Services
from landkit.core.errors import CRSError

ROAD_SPEED_M_PER_MIN = 30_000 / 60   # 次干路, rings.default_speed_kmh
WALK_M_PER_MIN = 15_000 / 60         # rings.access_speed_kmh
NODES_X = np.arange(0, 6001, 500, dtype=float)
ROAD_Y = -20.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def line(*xy: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


def point(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def by_hand(geometry: shapely.Geometry, facilities: list[tuple[float, float]]) -> float:
    """Walk to the nearest node, ride along the straight road, walk from the facility's node; the best facility."""
    px, py = shapely.get_coordinates(geometry.representative_point())[0] - (X0, Y0)

    def nearest(x: float, y: float) -> tuple[float, float]:
        d = np.hypot(NODES_X - x, ROAD_Y - y)
        return NODES_X[d.argmin()], d.min()

    node, walk = nearest(px, py)
    best = np.inf
    for fx, fy in facilities:
        f_node, f_walk = nearest(fx, fy)
        best = min(best, walk / WALK_M_PER_MIN + abs(node - f_node) / ROAD_SPEED_M_PER_MIN + f_walk / WALK_M_PER_MIN)
    return best


ROADS = gpd.GeoDataFrame({"road_class": ["次干路"] * 12, "road_name": [f"R{i}" for i in range(12)]},
                         geometry=[line((x, ROAD_Y), (x + 500, ROAD_Y)) for x in range(0, 6000, 500)], crs=WORKING)

TRANSIT = [(3000.0, ROAD_Y)]
SCHOOLS = [(3000.0, ROAD_Y), (520.0, 0.0)]   # the second off the road: a walk of 28 m from the node at 500


@pytest.fixture(scope="module")
def project():
    return load_config()


def with_services(project, **changes):
    return project.model_copy(update={"services": project.services.model_copy(update=changes)})


def parcels_frame(index) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_id": ["P", "Q", "R", "S"], "block_id": ["B1", "B1", "B2", None], "ring": ["core", "core", "linkage", "outside"],
         "area_m2": [10_000.0, 20_000.0, 10_000.0, 10_000.0]},
        geometry=[box(0, 0, 100, 100), box(5000, 0, 5200, 100), box(20000, 0, 20100, 100), box(1000, 0, 1100, 100)],
        crs=WORKING, index=index)


def facilities_frame() -> gpd.GeoDataFrame:
    rows = [("transit", "站", xy) for xy in TRANSIT] + [("school", f"校{i}", xy) for i, xy in enumerate(SCHOOLS)]
    return gpd.GeoDataFrame({"facility_kind": [k for k, _, _ in rows], "facility_name": [n for _, n, _ in rows]},
                            geometry=[point(*xy) for _, _, xy in rows], crs=WORKING)


def assert_aligned(frame: pd.DataFrame, parcels: pd.DataFrame) -> None:
    assert frame.index.equals(parcels.index)


@pytest.mark.parametrize("index", [pd.RangeIndex(4), pd.Index(["p", "q", "r", "s"], name="pid")], ids=["range", "labels"])
def test_minutes_to_the_nearest_facility_of_each_kind_by_hand(project, index):
    parcels = parcels_frame(index)
    out = service_access(parcels, facilities_frame(), ROADS, project)
    assert_aligned(out.parcels, parcels)
    expected_transit = [by_hand(g, TRANSIT) for g in parcels.geometry]
    expected_school = [by_hand(g, SCHOOLS) for g in parcels.geometry]
    assert out.parcels["minutes_to_transit"].to_numpy() == pytest.approx(expected_transit)
    assert out.parcels["minutes_to_school"].to_numpy() == pytest.approx(expected_school)
    # P: 3 km of road to the station (6 minutes) plus its walk; to school 0.5 km (1 minute) and two walks
    walk_p = np.hypot(50, 70) / WALK_M_PER_MIN
    assert out.parcels["minutes_to_transit"].iloc[0] == pytest.approx(6 + walk_p)
    assert out.parcels["minutes_to_school"].iloc[0] == pytest.approx(1 + walk_p + np.hypot(20, 20) / WALK_M_PER_MIN)
    assert "minutes_to_clinic" not in out.parcels                 # no clinic in the layer: no column, and said so
    assert "clinic" in out.report["kinds_absent"] and out.report["assessed"]
    assert out.report["kinds"]["school"]["facilities"] == 2
    # R (far east) misses both in time; Q misses none; S (outside the blocks) is served
    short = out.parcels["services_short"].tolist()
    assert short[2] == "school, transit" and short[1] == "" and short[3] == ""


def test_shares_per_block_ring_and_park_by_hand(project):
    parcels = parcels_frame(pd.RangeIndex(4))
    out = service_access(parcels, facilities_frame(), ROADS, project)
    assert list(out.access.columns) == ACCESS_COLUMNS
    access = out.access.set_index(["level", "group", "facility_kind"]).sort_index()
    transit = project.services.minutes["transit"]
    minutes = [by_hand(g, TRANSIT) for g in parcels.geometry]
    assert [m <= transit for m in minutes] == [True, True, False, True]
    b1, b2 = access.loc[("block", "B1", "transit")], access.loc[("block", "B2", "transit")]
    assert (b1["parcels"], b1["within"], b1["share_pct"], b1["short"]) == (2, 2, 100.0, False)
    assert (b2["parcels"], b2["within"], b2["share_pct"], b2["short"]) == (1, 0, 0.0, True)
    park = access.loc[("park", "park", "transit")]
    assert park["parcels"] == 3                                    # S is outside the blocks: not the park's
    assert park["share_pct"] == pytest.approx(200 / 3) and park["short"]               # below 80 %
    assert park["area_share_pct"] == pytest.approx(100 * 30_000 / 40_000)              # P and Q's area of P, Q, R
    assert access.loc[("ring", "core", "transit"), "share_pct"] == 100
    outside = access.loc[("block", "outside", "transit")]
    assert outside["parcels"] == 1 and not outside["short"]        # no block: never "short"
    assert access.loc[("block", "B1", "transit"), "facilities"] == 1
    listed = short_blocks(out.access)
    assert listed["block_id"].tolist() == ["B2"]
    assert listed.iloc[0]["n_kinds"] == 2 and set(listed.iloc[0]["kinds"].split(", ")) == {"school", "transit"}
    assert listed.iloc[0]["worst_share_pct"] == 0


def test_a_parcel_the_roads_do_not_connect_is_unreachable_and_counted_apart(project, caplog):
    roads = pd.concat([ROADS, gpd.GeoDataFrame({"road_class": ["次干路"], "road_name": ["island"]},
                                               geometry=[line((0, 9000), (500, 9000))], crs=WORKING)], ignore_index=True)
    parcels = gpd.GeoDataFrame({"parcel_id": ["P", "I"], "block_id": ["B1", "B1"], "area_m2": [10_000.0, 10_000.0]},
                               geometry=[box(0, 0, 100, 100), box(0, 9020, 100, 9120)], crs=WORKING)
    facilities = gpd.GeoDataFrame({"facility_kind": ["canteen"]}, geometry=[point(1000, ROAD_Y)], crs=WORKING)
    with caplog.at_level("WARNING"):
        out = service_access(parcels, facilities, roads, project)
    assert out.parcels["minutes_to_canteen"].iloc[0] == pytest.approx(by_hand(parcels.geometry.iloc[0], [(1000, ROAD_Y)]))
    assert np.isnan(out.parcels["minutes_to_canteen"].iloc[1])
    row = out.access.set_index(["level", "group"]).loc[("block", "B1")]
    assert (row["parcels"], row["within"], row["unreachable"], row["share_pct"], row["short"]) == (2, 1, 1, 50.0, True)
    assert out.report["kinds"]["canteen"] == {"facilities": 1, "unreachable": 1, "unreachable_parcels": ["I"]}
    assert "I" in caplog.text                                      # said so, not dropped silently
    assert out.parcels["services_short"].iloc[1] == "canteen"


@pytest.mark.parametrize("facilities", [None, gpd.GeoDataFrame({"facility_kind": []}, geometry=[], crs=WORKING)], ids=["none", "empty"])
def test_no_facilities_layer_gives_a_result_that_says_so(project, facilities):
    parcels = parcels_frame(pd.RangeIndex(4))
    out = service_access(parcels, facilities, ROADS, project)
    assert not out.report["assessed"] and "No facilities layer" in out.report["note"]
    assert_aligned(out.parcels, parcels) and out.parcels.columns.empty
    assert list(out.access.columns) == ACCESS_COLUMNS and out.access.empty and out.short_blocks.empty


def test_a_facility_far_from_every_road_is_left_out_and_named(project):
    parcels = parcels_frame(pd.RangeIndex(4))
    far = gpd.GeoDataFrame({"facility_kind": ["clinic", "transit"], "facility_name": ["远处诊所", "站"]},
                           geometry=[point(3000, 5000), point(*TRANSIT[0])], crs=WORKING)  # 5 km off: beyond rings.core_snap_max_m
    out = service_access(parcels, far, ROADS, project)
    assert out.report["facilities_off_network"] == [{"facility": "远处诊所", "facility_kind": "clinic", "distance_m": pytest.approx(5020, abs=1)}]
    assert "clinic" in out.report["kinds_absent"] and "minutes_to_clinic" not in out.parcels
    assert "minutes_to_transit" in out.parcels


def test_a_graph_built_once_is_reused(project):
    parcels = parcels_frame(pd.RangeIndex(4))
    graph = service_graph(ROADS, project)
    reused = service_access(parcels, facilities_frame(), None, project, graph=graph)
    built = service_access(parcels, facilities_frame(), ROADS, project)
    pd.testing.assert_frame_equal(reused.parcels, built.parcels)
    pd.testing.assert_frame_equal(reused.access, built.access)


# --- the road hierarchy -------------------------------------------------------------------------

BLOCKS = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "ring": ["core", "linkage"]},
                          geometry=[box(0, 0, 1000, 1000), box(3000, 0, 5000, 1000)], crs=WORKING)
HIERARCHY = gpd.GeoDataFrame(
    {"road_class": ["主干路", "次干路", "次干路", "支路", "支路", "快速路", "高速公路", "主干路", "乡道"]},
    geometry=[
        line((500, -500), (500, 1500)),     # B1: 1 km of arterial inside (clipped)
        line((-200, 500), (1200, 500)),     # B1: 1 km of secondary
        line((250, 500), (250, 800)),       # B1: a 0.3 km spur: 1.3 km of secondary
        line((-100, 200), (1100, 200)),     # B1: 1 km of local
        line((-100, 800), (1100, 800)),     # B1: 1 km more: 2 km of local
        line((2000, -500), (2000, 1500)),   # between the blocks: no expressway inside any
        line((0, 0), (1000, 1000)),         # a 高速公路 across B1's diagonal: no urban road
        line((4000, -100), (4000, 1100)),   # B2: 1 km of arterial in 2 km²
        line((3100, 100), (3100, 400)),     # B2: a class no mapping knows: counted as no urban road
    ],
    crs=WORKING,
)


def test_road_hierarchy_km_densities_and_guidelines_by_hand(project):
    table = road_hierarchy(HIERARCHY, BLOCKS, project)
    assert list(table.columns) == ROAD_COLUMNS
    t = table.set_index(["level", "group", "road_class"]).sort_index()
    b1 = t.loc[("block", "B1")]
    assert b1["km"].to_dict() == pytest.approx({"expressway": 0, "arterial": 1, "secondary": 1.3, "local": 2, "total": 4.3})
    assert b1.loc["arterial", "density_km_per_km2"] == pytest.approx(1) and b1.loc["arterial", "meets"] is True   # 0.8–1.2
    assert b1.loc["secondary", "meets"] is True                                                                  # 1.2–1.4
    assert b1.loc["local", "short"] is True                                                                      # 2 < 3
    assert b1.loc["expressway", "checked"] == False and b1.loc["expressway", "meets"] is None  # noqa: E712  (a city's network, not a block's)
    assert b1.loc["total", "density_km_per_km2"] == pytest.approx(4.3) and b1.loc["total", "meets"] is True      # GB/T 51328: ≥ 4
    assert b1.loc["local", "share_pct"] == pytest.approx(100 * 2 / 4.3)
    b2 = t.loc[("block", "B2")]
    assert b2.loc["arterial", "area_km2"] == pytest.approx(2) and b2.loc["arterial", "density_km_per_km2"] == pytest.approx(0.5)
    assert [b2.loc[c, "short"] for c in ("arterial", "secondary", "local", "total")] == [True, True, True, True]
    park = t.loc[("park", "park")]
    assert park.loc["total", "km"] == pytest.approx(5.3) and park.loc["arterial", "area_km2"] == pytest.approx(3)
    assert park.loc["expressway", "short"] is True                 # the park is judged on every class
    assert park.loc["total", "density_km_per_km2"] == pytest.approx(5.3 / 3) and park.loc["total", "short"] is True
    core = t.loc[("ring", "core")]
    assert core.loc["secondary", "km"] == pytest.approx(1.3)
    assert table.attrs["unmapped_road_classes"] == ["乡道"]
    assert table.attrs["other_km"]["B1"] == pytest.approx(np.sqrt(2), abs=1e-3) and table.attrs["other_km"]["B2"] == pytest.approx(0.3)


def test_the_grading_against_the_ratios_the_bands_allow(project):
    table = road_hierarchy(HIERARCHY, BLOCKS, project)
    b1 = table.set_index(["group", "road_class"]).loc["B1"]
    # allowed: class low / arterial high to class high / arterial low; recommended: midpoints
    assert b1.loc["local", "ratio_to_arterial"] == pytest.approx(2)
    assert (b1.loc["local", "ratio_low"], b1.loc["local", "ratio_high"]) == pytest.approx((3 / 1.2, 4 / 0.8))
    assert b1.loc["local", "ratio_recommended"] == pytest.approx(3.5 / 1.0) and b1.loc["local", "ratio_ok"] is False
    assert (b1.loc["secondary", "ratio_low"], b1.loc["secondary", "ratio_high"]) == pytest.approx((1.0, 1.75))
    assert b1.loc["secondary", "ratio_ok"] is True
    assert b1.loc["expressway", "ratio_ok"] is None                # not judged in a block (block_classes)
    grading = road_grading(table).set_index("group")
    assert grading.loc["B1", "grading"] == "0.00 : 1 : 1.30 : 2.00"
    assert grading.loc["B1", "recommended"] == "0.45 : 1 : 1.30 : 3.50"
    assert grading.loc["B1", "grading_ok"] is False and grading.loc["B1", "out_of_band"] == "local"
    park = table.set_index(["group", "road_class"]).loc["park"]
    assert park.loc["expressway", "ratio_ok"] is False             # the park is: 0 < 0.4 / 1.2
    assert grading.loc["park", "out_of_band"] == "expressway, secondary, local"   # 0 : 1 : 0.65 : 1
    assert grading.loc["B2", "grading"] == "0.00 : 1 : 0.00 : 0.00"
    # a block without arterials has no ratio to judge
    no_arterial = road_hierarchy(HIERARCHY.iloc[[1, 3]], BLOCKS.iloc[[0]], project)
    row = road_grading(no_arterial).set_index("group").loc["B1"]
    assert row["grading"] == "– : – : – : –" and row["grading_ok"] is None


def test_class_mapping_and_a_ring_of_its_own_floor(project):
    renamed = HIERARCHY.assign(road_class=HIERARCHY["road_class"].replace({"支路": "街坊路"}))
    tuned = with_services(project, road_classes={**project.services.road_classes, "街坊路": "local"},
                          total_density_min_by_ring={"core": 8.0})
    t = road_hierarchy(renamed, BLOCKS, tuned).set_index(["level", "group", "road_class"]).sort_index()
    assert t.loc[("block", "B1", "local"), "km"] == pytest.approx(2)
    assert t.loc[("block", "B1", "total"), "guideline_low"] == 8 and t.loc[("block", "B1", "total"), "short"] is True   # 4.3 < 8
    assert t.loc[("ring", "core", "total"), "guideline_low"] == 8
    assert t.loc[("block", "B2", "total"), "guideline_low"] == 4 and t.loc[("park", "park", "total"), "guideline_low"] == 4


def test_lengths_in_degrees_are_refused(project):
    with pytest.raises(CRSError):
        road_hierarchy(HIERARCHY, BLOCKS.to_crs("EPSG:4326"), project)


def test_bands_must_run_low_to_high():
    with pytest.raises(ValueError, match="low ≤ high"):
        Services(road_density_km_per_km2={"local": (4.0, 3.0)})


def test_the_default_bands_are_gb50220s_for_large_cities(project):
    bands = project.services.road_density_km_per_km2
    assert bands == {"expressway": (0.4, 0.5), "arterial": (0.8, 1.2), "secondary": (1.2, 1.4), "local": (3.0, 4.0)}
    assert sum(low for low, _ in bands.values()) == pytest.approx(5.4) and sum(h for _, h in bands.values()) == pytest.approx(7.1)


def test_the_whole_step_takes_the_rings_from_the_parcels(project):
    parcels = gpd.GeoDataFrame({"parcel_id": ["P", "Q"], "block_id": ["B1", "B2"], "ring": ["core", "linkage"],
                                "area_m2": [10_000.0, 10_000.0]},
                               geometry=[box(400, 100, 450, 150), box(3900, 100, 3950, 150)], crs=WORKING)
    out = assess_services(parcels, None, HIERARCHY, BLOCKS.drop(columns="ring"), project)
    assert not out.report["assessed"] and out.roads is not None and out.grading is not None
    assert set(out.roads.loc[out.roads["level"] == "ring", "group"]) == {"core", "linkage"}
    assert out.report["park_grading"]["out_of_band"] == "expressway, secondary, local"   # 0 : 1 : 0.65 : 1
    assert out.report["unmapped_road_classes"] == ["乡道"]
