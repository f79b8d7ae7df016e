"""Road network: graph building, snapping, speeds, one-way streets and travel times.

The test network is drawn by hand in the working CRS (metres) around Minhang (X0, Y0):

    (0,3)----(1,3)----(2,3)----(3,3)--spur 600 m--o      grid node (i, j) at (X0 + 1000 i, Y0 + 1000 j)
      |        |        |        |
    (0,2)----(1,2)----(2,2)----(3,2) T1 (90 m east)      perimeter (环路): 60 km/h = 1 min per km
      |        |        |        |                       interior (横/纵): 30 km/h = 2 min per km
    (0,1)----(1,1)----(2,1)----(3,1)                     spur: unknown class, fallback 25 km/h,
      |        |        |        |                             its start 3 m off (3,3)
    (0,0)----(1,0)----(2,0)----(3,0)                     island: a T of 支路 at x = 6 km, not joined

Every travel time below is worked out by hand in the comments beside it; access legs (off the
network, straight line) are at 15 km/h, i.e. 1 m = 0.06 / 15 = 0.004 min.
"""

from __future__ import annotations

import contextlib
import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from shapely.geometry import LineString, MultiLineString, Point

from landkit.config.load import default_profile_text, load_config
from landkit.core.errors import CRSError, DataError
from landkit.data.dataset import load_dataset
from landkit.metrics.network import RoadGraph, build_road_graph, minutes_to, nearest_nodes, od_minutes, travel_minutes

#: The default profile's working CRS (metres), read from the YAML.
CRS = yaml.safe_load(default_profile_text())["crs"]["working"]
X0, Y0 = 500_000.0, 3_430_000.0

DEFAULTS = {"快速路": 60.0, "次干路": 30.0, "支路": 20.0}
FALLBACK = 25.0
ACCESS = 15.0  # km/h


def xy(x: float, y: float) -> tuple[float, float]:
    """A position in metres from the origin of the test network."""
    return (X0 + x, Y0 + y)


def n(i: int, j: int) -> tuple[float, float]:
    """Grid node (i, j)."""
    return xy(1000 * i, 1000 * j)


def pt(x: float, y: float) -> Point:
    return Point(*xy(x, y))


def grid_rows(*, oneway_east: bool = False) -> list[dict]:
    """The 3 × 3-block grid: 24 one-kilometre segments."""
    rows = [
        # the south side is one MultiLineString of three parts (exploded by the builder)
        {"road_name": "南环路", "road_class": "快速路", "speed_kmh": 60.0, "oneway": False,
         "geometry": MultiLineString([[n(0, 0), n(1, 0)], [n(1, 0), n(2, 0)], [n(2, 0), n(3, 0)]])},
    ]
    for k in range(3):
        rows += [
            {"road_name": "北环路", "road_class": "快速路", "speed_kmh": 60.0, "oneway": False,
             "geometry": LineString([n(k, 3), n(k + 1, 3)])},
            # no speed: the class default, 60 km/h
            {"road_name": "西环路", "road_class": "快速路", "speed_kmh": np.nan, "oneway": pd.NA,
             "geometry": LineString([n(0, k), n(0, k + 1)])},
            # (3,1) → (3,2) is one-way northward when asked (digitised south to north)
            {"road_name": "东环路", "road_class": "快速路", "speed_kmh": 60.0, "oneway": oneway_east and k == 1,
             "geometry": LineString([n(3, k), n(3, k + 1)])},
        ]
    for j, name in ((1, "横一路"), (2, "横二路")):  # interior, no speed: class default 30 km/h
        rows += [{"road_name": name, "road_class": "次干路", "speed_kmh": np.nan, "oneway": False,
                  "geometry": LineString([n(k, j), n(k + 1, j)])} for k in range(3)]
    for i, name in ((1, "纵一路"), (2, "纵二路")):
        rows += [{"road_name": name, "road_class": "次干路", "speed_kmh": np.nan, "oneway": False,
                  "geometry": LineString([n(i, k), n(i, k + 1)])} for k in range(3)]
    return rows


SPUR = {"road_name": "村口路", "road_class": "村道", "speed_kmh": np.nan, "oneway": False,  # unknown class
        "geometry": LineString([xy(3003, 3000), xy(3603, 3000)])}  # starts 3 m east of node (3,3)
ISLAND = [
    {"road_name": "孤岛路", "road_class": "支路", "speed_kmh": 20.0, "oneway": False, "geometry": g}
    for g in (LineString([xy(6000, 1000), xy(6200, 1000)]), LineString([xy(6200, 1000), xy(6400, 1000)]),
              LineString([xy(6200, 1000), xy(6200, 1300)]))
]


def roads_of(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    frame["oneway"] = frame["oneway"].astype("boolean")
    return frame


def build(rows: list[dict], tol: float = 5.0) -> RoadGraph:
    return build_road_graph(roads_of(rows), default_speed_kmh=DEFAULTS, fallback_speed_kmh=FALLBACK,
                            snap_tolerance_m=tol)


def node_at(rg: RoadGraph, x: float, y: float) -> int:
    """Id of the node nearest (x, y), by brute force over all nodes (not landkit's lookup)."""
    px, py = xy(x, y)
    d = np.hypot(rg.nodes.geometry.x - px, rg.nodes.geometry.y - py)
    return int(d.idxmin())


@pytest.fixture(scope="module")
def grid() -> RoadGraph:
    return build(grid_rows())


@pytest.fixture(scope="module")
def network() -> RoadGraph:
    """Grid with the one-way street, the near-miss spur and the island."""
    return build([*grid_rows(oneway_east=True), SPUR, *ISLAND])


# --- building ----------------------------------------------------------------------------------


def test_grid_nodes_edges_and_attributes(grid):
    g = grid.graph
    assert g.number_of_nodes() == 16 and len(grid.nodes) == 16
    assert g.number_of_edges() == 48  # 24 segments, both ways
    assert grid.report["nodes"] == 16 and grid.report["edges"] == 48
    assert grid.report["lines"] == 24 and grid.report["roads"] == 22  # the south side is one row
    assert grid.report["component_sizes"] == [16] and grid.report["n_components"] == 1
    assert grid.nodes.crs == roads_of(grid_rows()).crs and grid.nodes.index.name == "node"
    a, b = node_at(grid, 1000, 1000), node_at(grid, 2000, 1000)
    assert (g.nodes[a]["x"], g.nodes[a]["y"]) == pytest.approx(xy(1000, 1000))
    edge = g.edges[a, b]
    # 1000 m at 30 km/h (class default of 次干路) = 1000 × 0.06 / 30 = 2 min
    assert edge["minutes"] == pytest.approx(2.0)
    assert edge["length_m"] == pytest.approx(1000.0)
    assert (edge["road_name"], edge["road_class"], edge["speed_kmh"]) == ("横一路", "次干路", 30.0)
    # a part of the MultiLineString: 1000 m at 60 km/h = 1 min
    assert g.edges[node_at(grid, 1000, 0), node_at(grid, 2000, 0)]["minutes"] == pytest.approx(1.0)


def test_length_is_along_the_line_not_straight():
    bent = grid_rows()
    # a second road from (0,0) to (1,0), bent: 300 m south, 1000 m east, 300 m north = 1600 m
    bent.append({"road_name": "弯路", "road_class": "支路", "speed_kmh": 20.0, "oneway": False,
                 "geometry": LineString([n(0, 0), xy(0, -300), xy(1000, -300), n(1, 0)])})
    rg = build(bent)
    a, b = node_at(rg, 0, 0), node_at(rg, 1000, 0)
    # the bent road is 1600 m at 20 km/h = 4.8 min; the straight 南环路 (1 min) is kept instead
    assert rg.graph.edges[a, b]["minutes"] == pytest.approx(1.0)
    only_bent = build([r for r in bent if r["road_name"] != "南环路"])
    a, b = node_at(only_bent, 0, 0), node_at(only_bent, 1000, 0)
    assert only_bent.graph.edges[a, b]["length_m"] == pytest.approx(1600.0)
    assert only_bent.graph.edges[a, b]["minutes"] == pytest.approx(1600 * 0.06 / 20)


def test_fastest_of_parallel_lines_is_kept():
    rows = [*grid_rows(), {"road_name": "南环辅路", "road_class": "快速路", "speed_kmh": 120.0, "oneway": True,
                           "geometry": LineString([n(0, 0), n(1, 0)])}]
    rg = build(rows)
    a, b = node_at(rg, 0, 0), node_at(rg, 1000, 0)
    assert rg.graph.number_of_edges() == 48  # no extra edge, the faster replaces one
    # 1000 m at 120 km/h = 0.5 min, one-way east; westward stays 南环路 at 1 min
    assert rg.graph.edges[a, b]["minutes"] == pytest.approx(0.5)
    assert rg.graph.edges[a, b]["road_name"] == "南环辅路"
    assert rg.graph.edges[b, a]["minutes"] == pytest.approx(1.0)


def test_speeds_from_class_default_and_fallback_are_reported(network):
    r = network.report
    # 西环路 (3 segments, 快速路) and the 12 interior segments (次干路) have no speed
    assert r["speed_default_count"] == 15
    assert r["speed_default_roads"] == ["西环路", "横一路", "横二路", "纵一路", "纵二路"]
    assert r["speed_fallback_count"] == 1
    assert r["speed_fallback_roads"] == ["村口路"] and r["speed_fallback_classes"] == ["村道"]
    g = network.graph
    west = g.edges[node_at(network, 0, 0), node_at(network, 0, 1000)]
    assert west["speed_kmh"] == 60.0 and west["minutes"] == pytest.approx(1.0)
    spur = g.edges[node_at(network, 3603, 3000), node_at(network, 3000, 3000)]
    # 600 m at the fallback 25 km/h = 600 × 0.06 / 25 = 1.44 min
    assert spur["speed_kmh"] == FALLBACK and spur["minutes"] == pytest.approx(1.44)


def test_report_without_optional_columns():
    bare = roads_of(grid_rows())[["geometry"]]
    rg = build_road_graph(bare, default_speed_kmh=DEFAULTS, fallback_speed_kmh=FALLBACK, snap_tolerance_m=5)
    assert rg.report["speed_fallback_count"] == 22 and rg.report["speed_default_count"] == 0
    assert rg.report["speed_fallback_roads"][:2] == ["#0", "#1"]
    assert rg.graph.number_of_edges() == 48  # no oneway column: all two-way
    edge = next(iter(rg.graph.edges(data=True)))[2]
    assert edge["road_name"] is None and edge["road_class"] is None and edge["speed_kmh"] == FALLBACK


def test_near_miss_endpoints_snap_within_tolerance():
    rows = [*grid_rows(), SPUR]
    snapped = build(rows, tol=5.0)
    # the spur's start is 3 m from (3,3): one node, the spur's far end a 17th
    assert snapped.report["nodes"] == 17 and snapped.report["component_sizes"] == [17]
    assert snapped.report["snapped_endpoints"] == 3  # the two grid ends at (3,3) and the spur's start
    # node at the mean of its three endpoints: x = (3000 + 3000 + 3003) / 3 = 3001
    corner = node_at(snapped, 3000, 3000)
    assert snapped.nodes.geometry[corner].x == pytest.approx(X0 + 3001)
    assert snapped.report["max_snap_m"] == pytest.approx(2.0)
    apart = build(rows, tol=1.0)
    assert apart.report["nodes"] == 18
    assert apart.report["n_components"] == 2 and apart.report["component_sizes"] == [16, 2]
    assert apart.report["components"][1]["roads"] == ["村口路"]


def test_exact_tolerance_zero_joins_identical_points_only():
    rg = build([*grid_rows(), SPUR], tol=0.0)
    assert rg.report["nodes"] == 18 and rg.report["snapped_endpoints"] == 0


def test_line_shorter_than_tolerance_collapses():
    rows = [*grid_rows(), {"road_name": "短路", "road_class": "支路", "speed_kmh": 20.0, "oneway": False,
                           "geometry": LineString([n(1, 1), xy(1004, 1000)])}]
    rg = build(rows, tol=5.0)
    assert rg.report["collapsed_lines"] == 1 and rg.report["nodes"] == 16 and rg.report["edges"] == 48


def test_geographic_crs_and_non_lines_are_refused():
    with pytest.raises(CRSError, match="degrees"):
        build_road_graph(roads_of(grid_rows()).to_crs(4490), default_speed_kmh=DEFAULTS,
                         fallback_speed_kmh=FALLBACK, snap_tolerance_m=5)
    bad = roads_of(grid_rows())
    bad.loc[3, "geometry"] = pt(0, 0).buffer(10)
    with pytest.raises(DataError, match="rows 3 are not lines"):
        build_road_graph(bad, default_speed_kmh=DEFAULTS, fallback_speed_kmh=FALLBACK, snap_tolerance_m=5)


# --- travel times ------------------------------------------------------------------------------

#: The target: 90 m east of node (3,2); its own access is 90 × 0.004 = 0.36 min.
T1 = (3090, 2000)


def test_fastest_path_is_not_the_shortest(grid):
    g = grid.graph
    a, b = node_at(grid, 0, 1000), node_at(grid, 3000, 2000)
    # (0,1) → (3,2). Shortest: 4 km, e.g. east along 横一路 (3 × 2 min) then north 1 min = 7 min.
    # Fastest: round the perimeter, (0,1)→(0,0)→(3,0)→(3,2) = 1 + 3 + 2 = 6 km at 1 min/km = 6 min.
    assert nx.shortest_path_length(g, a, b, weight="length_m") == pytest.approx(4000.0)
    assert nx.shortest_path_length(g, a, b, weight="minutes") == pytest.approx(6.0)
    path = nx.shortest_path(g, a, b, weight="minutes")
    assert sum(g.edges[u, v]["length_m"] for u, v in itertools.pairwise(path)) == pytest.approx(6000.0)


def test_travel_minutes_by_hand(grid):
    points = gpd.GeoSeries(
        {
            "a": pt(0, 1000),      # at node (0,1): 0 + 6 (perimeter, see above) + 0.36 = 6.36
            "b": pt(0, -150),      # 150 m below (0,0): 0.6 + (0,0)→(3,0)→(3,2) 3 + 2 = 5 + 0.36 = 5.96
            "c": pt(1000, 1000),   # at (1,1): (1,1)→(2,1)→(3,1) 2 + 2, →(3,2) 1 = 5 + 0.36 = 5.36
            "f": pt(1400, 1300),   # 500 m from (1,1) (300-400-500): 2.0 + 5 + 0.36 = 7.36
            "t": pt(3000, 2000),   # at the target's node: 0 + 0 + 0.36 = 0.36
        },
        crs=CRS,
    )
    target = gpd.GeoSeries({"T1": pt(*T1)}, crs=CRS)
    out = travel_minutes(grid, points, target, access_speed_kmh=ACCESS, max_target_snap_m=500)
    assert list(out.columns) == ["node", "access_m", "target", "network_min", "travel_min", "reachable"]
    assert out.index.equals(points.index)
    expected = {"a": 6.36, "b": 5.96, "c": 5.36, "f": 7.36, "t": 0.36}
    assert out["travel_min"].to_dict() == pytest.approx(expected)
    assert out["network_min"].to_dict() == pytest.approx({"a": 6.0, "b": 5.0, "c": 5.0, "f": 5.0, "t": 0.0})
    assert out["access_m"].to_dict() == pytest.approx({"a": 0, "b": 150, "c": 0, "f": 500, "t": 0})
    assert out["reachable"].all() and (out["target"] == "T1").all()
    # the same by networkx directly on the built graph
    tn = node_at(grid, 3000, 2000)
    for key, node in out["node"].items():
        direct = nx.shortest_path_length(grid.graph, int(node), tn, weight="minutes")
        assert out.at[key, "network_min"] == pytest.approx(direct)


def test_minutes_to_matches_networkx(network):
    tn = node_at(network, 3000, 2000)
    got = minutes_to(network, [tn])
    assert got[tn] == 0.0 and got.index.name == "node"
    island = network.nodes.index[network.nodes["component"] == 1]
    assert len(island) == 4 and not set(island) & set(got.index)  # absent, not 0 or inf
    for node in network.graph:
        try:
            expected = nx.shortest_path_length(network.graph, node, tn, weight="minutes")
        except nx.NetworkXNoPath:
            assert node not in got.index
        else:
            assert got[node] == pytest.approx(expected)
    # (0,1): 6 min; spur end: 1.44 + 1 = 2.44 min
    assert got[node_at(network, 0, 1000)] == pytest.approx(6.0)
    assert got[node_at(network, 3603, 3000)] == pytest.approx(2.44)
    with pytest.raises(DataError, match="not in the road graph"):
        minutes_to(network, [10_000])


def test_one_way_street_makes_directions_differ(network):
    a, b = pt(3000, 1000), pt(3000, 2000)  # nodes (3,1) and (3,2); 东环路 between them is one-way north
    od = od_minutes(network, gpd.GeoSeries({"A": a, "B": b}, crs=CRS), gpd.GeoSeries({"A": a, "B": b}, crs=CRS),
                    access_speed_kmh=ACCESS)
    # A → B: straight north on 东环路, 1 km at 60 = 1 min
    assert od.at["A", "B"] == pytest.approx(1.0)
    # B → A: not back down 东环路; (3,2)→(2,2)→(2,1)→(3,1) on interior streets, 3 × 2 = 6 min
    # (round the perimeter would be 1 + 3 + 3 + 3 + 1 = 11 min)
    assert od.at["B", "A"] == pytest.approx(6.0)
    assert od.at["A", "A"] == 0.0
    g = network.graph
    assert nx.shortest_path_length(g, node_at(network, 3000, 2000), node_at(network, 3000, 1000),
                                   weight="minutes") == pytest.approx(6.0)
    assert g.number_of_edges() == 47 * 1 + 2 + 6  # grid 47 (one one-way), spur 2, island 6


def test_od_minutes_by_hand_and_unreachable(network):
    origins = gpd.GeoSeries({"a": pt(0, 1000), "spur": pt(3603, 3000), "island": pt(6200, 1300)}, crs=CRS)
    dests = gpd.GeoSeries({"T1": pt(*T1), "island": pt(6200, 1300)}, crs=CRS)
    od = od_minutes(network, origins, dests, access_speed_kmh=ACCESS)
    assert od.index.equals(origins.index) and od.columns.equals(dests.index)
    # a → T1: 6 + 0.36; spur → T1: 1.44 + 1 + 0.36 = 2.80
    assert od.at["a", "T1"] == pytest.approx(6.36)
    assert od.at["spur", "T1"] == pytest.approx(2.80)
    assert math.isnan(od.at["island", "T1"]) and math.isnan(od.at["a", "island"])
    assert od.at["island", "island"] == 0.0


def test_disconnected_piece_is_unreachable_and_reported(network):
    points = gpd.GeoSeries({"in": pt(1000, 1000), "isle1": pt(6200, 1300), "isle2": pt(6050, 1010)}, crs=CRS)
    target = gpd.GeoSeries({"T1": pt(*T1)}, crs=CRS)
    out = travel_minutes(network, points, target, access_speed_kmh=ACCESS, max_target_snap_m=500)
    assert out["reachable"].tolist() == [True, False, False]
    assert out.loc[["isle1", "isle2"], ["network_min", "travel_min"]].isna().all().all()
    assert out.loc[["isle1", "isle2"], "target"].isna().all()
    assert out.at["isle2", "access_m"] == pytest.approx(math.hypot(50, 10))  # still measured
    r = network.report
    assert r["n_components"] == 2 and r["component_sizes"] == [17, 4]
    isle = r["components"][1]
    assert isle == {"component": 1, "nodes": 4, "edges": 6, "n_roads": 1, "roads": ["孤岛路"]}
    comp = network.nodes.loc[out["node"].astype(int), "component"].to_numpy()
    assert comp.tolist() == [0, 1, 1]


def test_near_miss_spur_reachable_only_when_snapped():
    target = gpd.GeoSeries({"T1": pt(*T1)}, crs=CRS)
    end = gpd.GeoSeries({"spur_end": pt(3603, 3000)}, crs=CRS)
    joined = travel_minutes(build([*grid_rows(), SPUR], tol=5.0), end, target,
                            access_speed_kmh=ACCESS, max_target_snap_m=500)
    # 600 m at 25 = 1.44, (3,3)→(3,2) 1, target access 0.36: 2.80 min
    assert joined.at["spur_end", "travel_min"] == pytest.approx(2.80)
    apart = travel_minutes(build([*grid_rows(), SPUR], tol=1.0), end, target,
                           access_speed_kmh=ACCESS, max_target_snap_m=500)
    assert not apart.at["spur_end", "reachable"] and math.isnan(apart.at["spur_end", "travel_min"])


def test_best_target_counts_its_own_access(grid):
    # T_near's node (0,1) is closer by road for (0,1) itself, but T_near is 480 m from its node
    # (1.92 min); T1 is 6 + 0.36 = 6.36 min away. From (0,1): T_near 0 + 1.92 = 1.92 → T_near.
    # From (3,2): T1 0.36; T_near 6 + 1.92 = 7.92 → T1.
    targets = gpd.GeoDataFrame({"site_name": ["近", "远"]}, geometry=[pt(-480, 1000), pt(*T1)],
                               index=["T_near", "T1"], crs=CRS)
    pts = gpd.GeoSeries({"w": pt(0, 1000), "e": pt(3000, 2000)}, crs=CRS)
    out = travel_minutes(grid, pts, targets, access_speed_kmh=ACCESS, max_target_snap_m=500)
    assert out["target"].tolist() == ["T_near", "T1"]
    assert out["travel_min"].tolist() == pytest.approx([1.92, 0.36])
    assert out["network_min"].tolist() == pytest.approx([0.0, 0.0])


def test_far_target_raises_naming_it(network):
    targets = gpd.GeoDataFrame({"site_name": ["近站", "远方中心"]}, geometry=[pt(*T1), pt(1000, 5000)],
                               index=["T1", "far"], crs=CRS)
    points = gpd.GeoSeries([pt(0, 0)], crs=CRS)
    # (1000, 5000) is 2 km north of node (1,3)
    with pytest.raises(DataError, match=r"far \(远方中心\): 2,000 m") as err:
        travel_minutes(network, points, targets, access_speed_kmh=ACCESS, max_target_snap_m=500)
    assert "T1" not in str(err.value)
    with pytest.raises(DataError, match="far: 2,000 m"):
        travel_minutes(network, points, targets.geometry, access_speed_kmh=ACCESS, max_target_snap_m=500)


def test_nearest_nodes_and_empty_points(grid):
    points = gpd.GeoSeries([pt(1400, 1300), None, Point()], crs=CRS)
    node, dist = nearest_nodes(grid, points)
    assert node[0] == node_at(grid, 1000, 1000) and dist[0] == pytest.approx(500.0)
    assert node[1:].tolist() == [-1, -1] and np.isnan(dist[1:]).all()
    out = travel_minutes(grid, points, gpd.GeoSeries([pt(*T1)], crs=CRS), access_speed_kmh=ACCESS,
                         max_target_snap_m=500)
    assert out["node"].isna().tolist() == [False, True, True]
    assert out["reachable"].tolist() == [True, False, False]
    # points in another CRS are reprojected first
    node_geo, dist_geo = nearest_nodes(grid, points.iloc[:1].to_crs(4490))
    assert node_geo[0] == node[0] and dist_geo[0] == pytest.approx(500.0, abs=1e-3)


def test_nearest_node_kernel_as_geos_ties_and_polygons_included(grid):
    """The k-d tree gives GEOS's nearest node and distance, bit for bit; GEOS itself breaks ties."""
    from landkit.metrics.network import nearest_node_kernel

    rng = np.random.default_rng(11)
    nodes = grid.nodes.geometry.to_numpy()
    x0, y0, x1, y1 = shapely.total_bounds(nodes)
    geoms = list(shapely.points(rng.uniform(x0 - 300, x1 + 300, 500), rng.uniform(y0 - 300, y1 + 300, 500)))
    a, b = shapely.get_coordinates(nodes[:2])
    geoms += [shapely.Point((a + b) / 2), shapely.box(*(a - 30), *(a + 40))]  # a tie; a polygon
    part = gpd.GeoDataFrame(geometry=geoms, index=pd.RangeIndex(7, 7 + len(geoms)), crs=CRS)
    out = nearest_node_kernel(part, None, nodes=nodes, node_ids=grid.nodes.index.to_numpy())
    (i, j), d = shapely.STRtree(nodes).query_nearest(np.asarray(geoms), return_distance=True, all_matches=False)
    assert out.index.tolist() == part.index[i].tolist()
    assert out["node"].tolist() == grid.nodes.index[j].tolist()
    np.testing.assert_array_equal(out["distance"].to_numpy(), d)


def test_travel_minutes_equals_brute_force_on_random_points(network):
    rng = np.random.default_rng(7)
    k = 2000
    points = gpd.GeoSeries(shapely.points(X0 + rng.uniform(-500, 6600, k), Y0 + rng.uniform(-500, 3600, k)),
                           index=pd.RangeIndex(100, 100 + k), crs=CRS)
    # two targets with different own access: T1 90 m from (3,2), T2 403 m from (0,3)
    targets = gpd.GeoSeries({"T1": pt(*T1), "T2": pt(400, 3050)}, crs=CRS)
    out = travel_minutes(network, points, targets, access_speed_kmh=ACCESS, max_target_snap_m=500)
    # points east of x ≈ 4.8 km are nearer the island's nodes than the grid's: unreachable
    assert 0.6 < out["reachable"].mean() < 0.9

    node_xy = np.column_stack([network.nodes.geometry.x, network.nodes.geometry.y])
    t_nodes = {}
    for name, geom in targets.items():
        d = np.hypot(*(node_xy - [geom.x, geom.y]).T)
        t_nodes[name] = (int(network.nodes.index[d.argmin()]), d.min() * 0.06 / ACCESS)
    assert t_nodes["T2"][1] == pytest.approx(math.hypot(400, 50) * 0.004)
    checked = []
    for i in rng.choice(points.index, size=50, replace=False):
        p = points[i]
        d = np.hypot(*(node_xy - [p.x, p.y]).T)
        node = int(network.nodes.index[d.argmin()])
        best = math.inf
        for tn, t_access in t_nodes.values():
            with contextlib.suppress(nx.NetworkXNoPath):
                best = min(best, nx.shortest_path_length(network.graph, node, tn, weight="minutes") + t_access)
        assert out.at[i, "node"] == node
        checked.append(math.isinf(best))
        if math.isinf(best):
            assert not out.at[i, "reachable"] and math.isnan(out.at[i, "travel_min"])
        else:
            assert out.at[i, "travel_min"] == pytest.approx(d.min() * 0.06 / ACCESS + best)
    assert 0 < sum(checked) < 50  # the sample holds both kinds


# --- the shipped sample ------------------------------------------------------------------------


def test_shipped_sample_travel_times():
    project = load_config("gis_data/minhang.yaml")
    data = load_dataset(project)
    rings = project.rings
    rg = build_road_graph(data.roads, default_speed_kmh=rings.default_speed_kmh,
                          fallback_speed_kmh=rings.fallback_speed_kmh, snap_tolerance_m=rings.snap_tolerance_m)
    points = data.parcels.geometry.representative_point()
    # the core sites stand up to ~650 m from the nearest road junction in the sample
    out = travel_minutes(rg, points, data.core_sites, access_speed_kmh=rings.access_speed_kmh,
                         max_target_snap_m=1000)
    r = rg.report
    # one network plus the sample's deliberate dead-end piece
    assert r["n_components"] == 2 and r["components"][1]["roads"] == ["断头路(示例)"]
    assert r["speed_default_count"] > 0 and r["speed_fallback_count"] == 0
    assert out["reachable"].mean() > 0.95
    reach = out.loc[out["reachable"], "travel_min"]
    assert reach.min() > 0 and reach.max() < 90
    assert 3 < reach.median() < 40
    assert set(out.loc[out["reachable"], "target"]) <= set(data.core_sites.index)
    # parcels whose nearest node is on the dead-end piece are unreachable; so are those of a
    # node no route leaves (the sample has a one-way street ending in a cul-de-sac): checked
    # node by node with networkx
    comp = rg.nodes.loc[out["node"].astype(int), "component"].to_numpy()
    assert not out.loc[comp != 0, "reachable"].any()
    site_nodes = set(nearest_nodes(rg, data.core_sites.geometry)[0].tolist())
    for node in out.loc[~out["reachable"], "node"].unique():
        assert not any(nx.has_path(rg.graph, int(node), t) for t in site_nodes)


def test_od_minutes_in_chunks_equals_networkx(network, monkeypatch):
    import landkit.metrics.network as network_module

    xs = [0, 1000, 2000, 3000, 3603, 6200]
    points = gpd.GeoSeries({f"p{i}": pt(x, 1000 + 37 * i) for i, x in enumerate(xs)}, crs=CRS)
    whole = od_minutes(network, points, points, access_speed_kmh=ACCESS)
    monkeypatch.setattr(network_module, "OD_CHUNK_CELLS", 2 * len(network.graph))  # two origins per call
    pd.testing.assert_frame_equal(od_minutes(network, points, points, access_speed_kmh=ACCESS), whole)
    # brute force: networkx between the nodes, plus the walks at both ends
    node, dist = network_module.nearest_nodes(network, points)
    walk = dist / 1000 / ACCESS * 60
    for i, a in enumerate(points.index):
        for j, b in enumerate(points.index):
            try:
                minutes = nx.shortest_path_length(network.graph, int(node[i]), int(node[j]), weight="minutes")
            except nx.NetworkXNoPath:
                assert math.isnan(whole.at[a, b])
                continue
            assert whole.at[a, b] == pytest.approx(walk[i] + minutes + walk[j])
