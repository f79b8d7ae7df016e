"""连片整合 (issue 18) on a hand-made grid whose sites are worked out by hand.

Parcels are 100 m × 100 m squares (10,000 m² = 15 亩) drawn in the working CRS as offsets in
metres from (X0, Y0), on a grid whose streets are 20 m wide: parcel (i, j) has its lower-left
corner at (120 i, 120 j). The default gap is 40 m, so grid neighbours (20 m apart) touch a site,
and parcels two streets and a plot apart (140 m) do not.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.assembly import acquisition_cost, assemble_sites, assembly_candidates
from landkit.config.load import load_config
from landkit.config.models import Assembly
from landkit.core.errors import ConfigError, CRSError

STEP = 120.0  # a 100 m plot and a 20 m street


@pytest.fixture(scope="module")
def spec() -> Assembly:
    return load_config().assembly


def cell(i: int, j: int) -> shapely.Polygon:
    return shapely.box(X0 + STEP * i, Y0 + STEP * j, X0 + STEP * i + 100, Y0 + STEP * j + 100)


def grid(cells: dict[tuple[int, int], dict]) -> gpd.GeoDataFrame:
    """Parcels on the given grid cells, each with its row of columns (defaults: a D parcel the path takes back)."""
    rows = []
    for k, row in enumerate(cells.values()):
        base = {"parcel_id": f"P{k:02d}", "grade": "D", "status": "operating", "legally_idle": False, "low_efficiency": True,
                "land_freed_mu": 15.0, "compensation_wan": 1_000.0, "total_value_wan": 3_000.0, "tax_wan": 10.0,
                "ownership": "state", "enterprise_count": 1, "enterprise_names": f"企业{k}", "ring": "linkage", "block_id": "MH01"}
        rows.append({**base, **row})
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[cell(i, j) for i, j in cells], crs=WORKING)
    frame["area_m2"] = shapely.area(frame.geometry.to_numpy())
    frame["area_mu"] = frame["area_m2"] * 15 / 10_000
    return frame


KEEP = {"grade": "B", "low_efficiency": False, "land_freed_mu": 0.0, "compensation_wan": np.nan}  # a B parcel that stays


def test_largest_site_is_the_connected_block(spec):
    # a 4 × 3 block of freed land (12 plots, 180 亩) and, two plots to the right, a 2 × 4 one (8 plots,
    # 120 亩); a B parcel in between (column 4) keeps them apart (the gap to column 5 is 140 m)
    cells = {(i, j): {} for i in range(4) for j in range(3)}
    cells |= {(4, j): KEEP for j in range(3)}
    cells |= {(i, j): {} for i in (5, 6) for j in range(4)}
    cells[(10, 0)] = {}  # alone: 15 亩, below 100
    parcels = grid(cells)
    result = assemble_sites(parcels, spec)
    sites = result.sites
    assert list(sites["site_id"]) == ["S01", "S02"]
    assert sites["parcels"].tolist() == [12, 8]
    assert sites["area_mu"].tolist() == pytest.approx([180.0, 120.0])
    assert sites["area_ha"].tolist() == pytest.approx([12.0, 8.0])
    assert sites["size_class_mu"].tolist() == [100.0, 100.0]
    # cost: 12 and 8 compensations of 1,000 万元; per 亩 1,000 / 15
    assert sites["acquisition_wan"].tolist() == pytest.approx([12_000.0, 8_000.0])
    assert sites["cost_per_mu_wan"].tolist() == pytest.approx([1_000 / 15] * 2)
    assert sites["tax_wan"].tolist() == pytest.approx([120.0, 80.0])
    assert sites["enterprises"].tolist() == [12, 8]
    # the outline closes the streets: a 460 m × 340 m rectangle for the first
    first = sites.geometry.iloc[0]
    assert first.area == pytest.approx(460 * 340, rel=1e-9)
    assert sites["compactness"].iloc[0] == pytest.approx(4 * math.pi * 460 * 340 / (2 * (460 + 340)) ** 2)
    member = result.parcels["assembly_site"]
    ids = parcels["parcel_id"]
    assert set(ids[member == "S01"]) == {f"P{k:02d}" for k in range(12)}
    assert member[ids.isin([f"P{k:02d}" for k in range(12, 15)])].isna().all()  # the B parcels
    assert member[ids == "P23"].isna().all()  # alone
    assert result.parcels["assembly_candidate"].sum() == 12 + 8 + 1


def test_size_classes_and_ranking_by_cost(spec):
    # 7 plots (105 亩) cheap, 12 plots (180 亩) dear: largest first, ranked by cost per 亩
    cells = {(i, 0): {"compensation_wan": 100.0} for i in range(7)}
    cells |= {(i, j): {"compensation_wan": 2_000.0} for i in range(4) for j in range(3, 6)}
    sites = assemble_sites(grid(cells), spec.model_copy(update={"min_site_mu": [100.0, 150.0]})).sites
    assert sites["area_mu"].tolist() == pytest.approx([180.0, 105.0])
    assert sites["size_class_mu"].tolist() == [150.0, 100.0]
    assert sites["rank_by_cost"].tolist() == [2, 1]


def test_gap_decides_contiguity(spec):
    # two rows of 4 plots, 50 m apart: one site of 120 亩 with a 60 m gap allowed, none with 40 m
    top = {(i, 0): {} for i in range(4)}
    rows = [cell(i, 0) for i in range(4)] + [shapely.box(X0 + STEP * i, Y0 + 150, X0 + STEP * i + 100, Y0 + 250) for i in range(4)]
    parcels = grid({**top, **{(i, 5): {} for i in range(4)}}).set_geometry(gpd.GeoSeries(rows, crs=WORKING))
    parcels["area_mu"] = 15.0
    assert len(assemble_sites(parcels, spec).sites) == 0
    wide = assemble_sites(parcels, spec.model_copy(update={"gap_m": 60.0})).sites
    assert wide["parcels"].tolist() == [8]


def test_willing_c_parcel_bridges_two_clusters(spec):
    # 5 plots + a C plot whose owner would sell + 5 plots in a row: 165 亩 with it, nothing without
    cells = {(i, 0): {} for i in range(5)}
    cells[(5, 0)] = {"grade": "C", "land_freed_mu": 0.0, "compensation_wan": np.nan, "total_value_wan": 2_500.0,
                     "willing_to_sell": "是"}
    cells |= {(i, 0): {} for i in range(6, 11)}
    parcels = grid(cells)
    parcels["willing_to_sell"] = parcels["willing_to_sell"].fillna("否")
    result = assemble_sites(parcels, spec)
    assert result.sites["parcels"].tolist() == [11]
    assert result.sites["willing_parcels"].tolist() == [1]
    # cost: 10 compensations and the willing parcel's value
    assert result.sites["acquisition_wan"].tolist() == pytest.approx([10 * 1_000 + 2_500])
    assert result.parcels["assembly_willing"].sum() == 1
    without = assemble_sites(parcels, spec.model_copy(update={"include_willing": False}))
    assert len(without.sites) == 0
    # a willing A parcel does not join: only C parcels are offered
    parcels.loc[parcels["parcel_id"] == "P05", "grade"] = "A"
    assert len(assemble_sites(parcels, spec).sites) == 0


def test_candidates_follow_the_rule(spec):
    parcels = grid({(0, 0): {}, (1, 0): {"legally_idle": True, "land_freed_mu": 0.0},
                    (2, 0): {"status": "unsupplied", "land_freed_mu": 0.0, "grade": "U"},
                    (3, 0): {"grade": "C", "land_freed_mu": 0.0}, (4, 0): KEEP})
    flags = assembly_candidates(parcels, spec)
    assert flags["assembly_candidate"].tolist() == [True, True, True, False, False]
    only_idle = assembly_candidates(parcels, spec.model_copy(update={"candidate_when": "legally_idle"}))
    assert only_idle["assembly_candidate"].tolist() == [False, True, False, False, False]
    with pytest.raises(ConfigError, match=r"assembly\.candidate_when"):
        assembly_candidates(parcels, spec.model_copy(update={"candidate_when": "no_such_column > 1"}))


def test_acquisition_cost_by_path():
    frame = pd.DataFrame({"land_freed_mu": [15.0, 0.0, 0.0, 15.0, 0.0],
                          "compensation_wan": [1_000.0, np.nan, np.nan, 0.0, np.nan],
                          "total_value_wan": [3_000.0, 2_000.0, 4_000.0, 5_000.0, np.nan],
                          "status": ["operating", "operating", "unsupplied", "idle", "operating"]})
    # taken back: its compensation (0 for idle land taken back free); bought: its value; unsupplied: 0; unknown: NaN
    assert acquisition_cost(frame).tolist()[:4] == [1_000.0, 2_000.0, 0.0, 0.0]
    assert np.isnan(acquisition_cost(frame).iloc[4])


def test_collective_land_and_unknown_cost_are_counted(spec):
    cells = {(i, 0): {} for i in range(7)}
    cells[(0, 0)] = {"ownership": "collective"}
    cells[(1, 0)] = {"land_freed_mu": 0.0, "legally_idle": True, "compensation_wan": np.nan, "total_value_wan": np.nan}
    sites = assemble_sites(grid(cells), spec).sites
    assert sites["collective_mu"].tolist() == pytest.approx([15.0])
    assert sites["value_unknown"].tolist() == [1]
    assert sites["acquisition_wan"].tolist() == pytest.approx([6 * 1_000.0])  # six known; the idle plot's cost is not known


def test_road_distance_of_a_site(spec):
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 - 500, Y0 - 30), (X0 + 5_000, Y0 - 30)])], crs=WORKING)
    sites = assemble_sites(grid({(i, 1): {} for i in range(7)}), spec, roads=road).sites
    assert sites["road_distance_m"].tolist() == pytest.approx([150.0])  # the row starts at y = 120


def test_no_site_and_degrees(spec):
    result = assemble_sites(grid({(0, 0): {}, (5, 0): {}}), spec)
    assert len(result.sites) == 0 and "cost_per_mu_wan" in result.sites
    assert result.parcels["assembly_site"].isna().all()
    with pytest.raises(CRSError):
        assemble_sites(grid({(0, 0): {}}).set_crs("EPSG:4326", allow_override=True), spec)


def test_index_alignment(spec):
    parcels = grid({(i, 0): {} for i in range(7)})
    parcels.index = pd.Index([10 * k + 3 for k in range(7)])
    result = assemble_sites(parcels, spec)
    assert result.parcels.index.equals(parcels.index)
    assert (result.parcels["assembly_site"] == "S01").all()
