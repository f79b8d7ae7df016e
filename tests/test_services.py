"""Public services and the road hierarchy (plan item 12) on hand-made networks, answers by hand.

A straight 次干路 (30 km/h: 0.5 km a minute) runs along y = −20 from x 0 to 6,000 m, in 500 m
segments (a node every 500 m); walking to and from it is at the rings' 15 km/h (250 m a minute).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.services import road_hierarchy, service_access
from landkit.config.load import load_config


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def line(*xy: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


ROADS = gpd.GeoDataFrame({"road_class": ["次干路"] * 12, "road_name": [f"R{i}" for i in range(12)]},
                         geometry=[line((x, -20), (x + 500, -20)) for x in range(0, 6000, 500)], crs=WORKING)


@pytest.fixture(scope="module")
def project():
    return load_config()


def test_minutes_to_the_nearest_facility_and_the_shares_by_block(project):
    parcels = gpd.GeoDataFrame({"parcel_id": ["P", "Q", "R"], "block_id": ["B1", "B1", "B2"], "area_mu": [15.0, 15.0, 15.0]},
                               geometry=[box(0, 0, 100, 100), box(5000, 0, 5100, 100), box(20000, 0, 20100, 100)], crs=WORKING)
    facilities = gpd.GeoDataFrame({"facility_kind": ["transit", "school"], "facility_name": ["站", "校"]},
                                  geometry=[shapely.Point(X0 + 3000, Y0 - 20), shapely.Point(X0 + 3000, Y0 - 20)], crs=WORKING)
    out = service_access(parcels, facilities, ROADS, project)
    walk = np.hypot(50, 70) / 250  # the representative point (50, 50) to the node (0, −20), minutes
    minutes = out.parcels["minutes_to_transit"].to_numpy()
    assert minutes[0] == pytest.approx(3000 / 500 + walk)      # 3 km of road: 6 minutes
    assert minutes[1] == pytest.approx(2000 / 500 + walk)      # 2 km: 4 minutes
    assert minutes[2] == pytest.approx(np.hypot(14050, 70) / 250 + 3000 / 500)  # a long walk to x 6,000 first
    assert "minutes_to_clinic" not in out.parcels              # no clinic in the layer: no column
    access = out.access.set_index(["level", "group", "facility_kind"])
    assert access.loc[("block", "B1", "transit"), "share_pct"] == 100 and not access.loc[("block", "B1", "transit"), "short"]
    assert access.loc[("block", "B2", "transit"), "share_pct"] == 0 and access.loc[("block", "B2", "transit"), "short"]
    assert access.loc[("park", "park", "transit"), "within"] == 2
    assert access.loc[("park", "park", "school"), "share_pct"] == pytest.approx(200 / 3)  # 15 minutes: R's 62 are too many


def test_a_parcel_the_roads_do_not_connect_is_unreachable(project):
    roads = pd.concat([ROADS, gpd.GeoDataFrame({"road_class": ["次干路"], "road_name": ["island"]},
                                               geometry=[line((0, 9000), (500, 9000))], crs=WORKING)], ignore_index=True)
    parcels = gpd.GeoDataFrame({"parcel_id": ["P", "I"], "block_id": ["B1", "B1"], "area_mu": [15.0, 15.0]},
                               geometry=[box(0, 0, 100, 100), box(0, 9020, 100, 9120)], crs=WORKING)
    facilities = gpd.GeoDataFrame({"facility_kind": ["canteen"]}, geometry=[shapely.Point(X0 + 1000, Y0 - 20)], crs=WORKING)
    out = service_access(parcels, facilities, roads, project)
    assert np.isnan(out.parcels["minutes_to_canteen"].iloc[1])
    row = out.access.set_index(["level", "group"]).loc[("block", "B1")]
    assert row["unreachable"] == 1 and row["within"] == 1 and row["share_pct"] == 50 and row["short"]


def test_road_hierarchy_densities_and_grading_by_hand(project):
    # a 1 km × 1 km block: an arterial across it (1 km inside), two local roads across (2 km), an expressway outside
    blocks = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[box(0, 0, 1000, 1000)], crs=WORKING)
    roads = gpd.GeoDataFrame({"road_class": ["主干路", "支路", "支路", "快速路"]},
                             geometry=[line((500, -500), (500, 1500)), line((-100, 300), (1100, 300)), line((-100, 700), (1100, 700)),
                                       line((2000, 0), (2000, 1000))], crs=WORKING)
    table = road_hierarchy(roads, blocks, project).set_index(["group", "road_class"])
    b = table.loc["B1"]
    assert b.loc["arterial", "km"] == pytest.approx(1) and b.loc["local", "km"] == pytest.approx(2)
    assert b.loc["arterial", "density_km_per_km2"] == pytest.approx(1) and b.loc["arterial", "meets"]       # 0.8–1.2
    assert b.loc["local", "density_km_per_km2"] == pytest.approx(2) and b.loc["local", "short"]              # below 3–4
    assert b.loc["expressway", "km"] == 0 and b.loc["expressway", "short"]                                   # it runs outside
    assert b.loc["local", "ratio_to_arterial"] == pytest.approx(2)
    assert b.loc["total", "density_km_per_km2"] == pytest.approx(3) and b.loc["total", "short"]              # GB/T 51328: ≥ 4
    assert table.loc[("park", "total"), "km"] == pytest.approx(3)
