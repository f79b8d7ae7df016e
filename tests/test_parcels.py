"""Parcels: areas, the block each lies in, and enterprise figures summed per parcel (all by hand)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.core.errors import CRSError
from landkit.data.parcels import (
    add_areas,
    aggregate_enterprises,
    assign_blocks,
    enterprise_shares,
    unmatched_enterprises,
)
from landkit.io.read import split_parcel_ids

X0, Y0 = 500_000.0, 3_430_000.0


def box(x1, y1, x2, y2):
    return shapely.box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)


# --- areas -------------------------------------------------------------------------------------


def test_add_areas_by_hand(parcels):
    out = add_areas(parcels)
    # 5000 m² = 7.5 亩 = 0.5 ha; 1000 m² = 1.5 亩; 3000 m² = 4.5 亩; L 2700 m² = 4.05 亩; holed 5800 m² = 8.7 亩
    assert out["area_m2"].tolist() == pytest.approx([5000, 1000, 3000, 2700, 5800], rel=1e-12)
    assert out["area_mu"].tolist() == pytest.approx([7.5, 1.5, 4.5, 4.05, 8.7], rel=1e-12)
    assert out["area_ha"].tolist() == pytest.approx([0.5, 0.1, 0.3, 0.27, 0.58], rel=1e-12)
    assert out["area_m2"].tolist() == pytest.approx(parcels["expected_m2"].tolist(), rel=1e-12)
    assert "area_m2" not in parcels.columns  # a copy, the input untouched


def test_add_areas_keeps_the_index(parcels):
    shuffled = parcels.iloc[[4, 2, 0]].set_index(pd.Index([30, 10, 20]))
    out = add_areas(shuffled)
    assert out.loc[30, "area_m2"] == pytest.approx(5800)
    assert out.loc[20, "area_m2"] == pytest.approx(5000)


def test_add_areas_refuses_degrees(parcels):
    with pytest.raises(CRSError):
        add_areas(parcels.to_crs(epsg=4490))


# --- blocks ------------------------------------------------------------------------------------


@pytest.fixture
def blocks(working_crs) -> gpd.GeoDataFrame:
    """Two 1 km blocks side by side: B1 west of x0 + 1000, B2 east of it."""
    return gpd.GeoDataFrame(
        {"block_id": ["B1", "B2"]}, geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=working_crs
    )


@pytest.fixture
def block_parcels(working_crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_id": ["inside", "mostly_B2", "mostly_B1", "outside"]},
        geometry=[
            box(100, 100, 200, 200),  # wholly in B1
            box(950, 100, 1100, 200),  # 50 m in B1, 100 m in B2
            box(800, 300, 1050, 400),  # 200 m in B1, 50 m in B2
            box(3000, 3000, 3100, 3100),  # in no block
        ],
        crs=working_crs,
        index=[7, 3, 11, 5],  # not a RangeIndex: positions and labels differ
    )


def test_assign_blocks(block_parcels, blocks):
    out = assign_blocks(block_parcels, blocks)
    assert out["block_id"].iloc[:3].tolist() == ["B1", "B2", "B1"]
    assert pd.isna(out["block_id"].iloc[3])  # None (pandas 3 stores it as NaN in a str column)
    assert out["inside_block"].tolist() == [True, True, True, False]
    assert out.index.tolist() == [7, 3, 11, 5]
    assert "block_id" not in block_parcels.columns


def test_assign_blocks_reprojects_the_blocks(block_parcels, blocks):
    out = assign_blocks(block_parcels, blocks.to_crs(epsg=4490))
    assert out["block_id"].iloc[:3].tolist() == ["B1", "B2", "B1"]
    assert pd.isna(out["block_id"].iloc[3])
    assert out.crs == block_parcels.crs


def test_assign_blocks_with_no_parcel_in_any_block(block_parcels, blocks):
    out = assign_blocks(block_parcels.loc[[5]], blocks)
    assert pd.isna(out["block_id"].iloc[0])
    assert out["inside_block"].tolist() == [False]


def test_overlapping_blocks_take_the_first_in_layer_order(block_parcels, blocks, working_crs):
    big = gpd.GeoDataFrame({"block_id": ["BIG", "SMALL"]}, geometry=[box(0, 0, 1000, 1000), box(50, 50, 300, 300)], crs=working_crs)
    assert assign_blocks(block_parcels, big)["block_id"].iloc[0] == "BIG"
    assert assign_blocks(block_parcels, big.iloc[::-1])["block_id"].iloc[0] == "SMALL"


# --- enterprises -------------------------------------------------------------------------------


@pytest.fixture
def parcel_area() -> pd.Series:
    return pd.Series({"P1": 5000.0, "P2": 1000.0, "P3": 3000.0, "P4": 2000.0}, name="area_m2")


@pytest.fixture
def enterprises() -> pd.DataFrame:
    """Canonical enterprise table.

    P1 holds E1–E3; E4 spans P2 (1000 m²) and P3 (3000 m²); E5 is on P3 alone; E6 names a parcel
    that does not exist; E7 lists P4 and a parcel that does not exist.
    """
    nan = np.nan
    return pd.DataFrame(
        {
            "enterprise_id": ["E1", "E2", "E3", "E4", "E5", "E6", "E7"],
            "parcel_id": ["P1", "P1", "P1", "P2；P3", "P3", "PX", "P4、PY"],
            "enterprise_name": ["甲公司", "乙公司", "丙公司", "丁公司", "戊公司", "己公司", "庚公司"],
            "industry": ["集成电路", "生物医药", "仓储物流", "数字经济", "研发服务", "装备制造", "新材料"],
            "tax_wan": [10.0, 20.0, 30.5, 100.0, 1.0, 9.0, 4.0],
            "revenue_wan": [100.0, 300.0, 50.0, 400.0, 1000.0, 90.0, 40.0],
            "employees": [5.0, 10.0, 15.0, 8.0, 3.0, 2.0, 1.0],
            "rd_spend_wan": [nan, nan, nan, 40.0, nan, nan, nan],
            "high_tech": pd.array([True, False, True, True, pd.NA, False, False], dtype="boolean"),
            "founded_year": pd.array([2001, 2015, 2010, 2018, 2020, 2000, 2019], dtype="Int64"),
        }
    )


def test_split_parcel_ids_on_the_separators_only():
    ids = pd.Series(["P1；P2", "P5、P6", "P9; P10", " P11 ", "MH 000001", "MH/000002", "P3,P4"])
    split = split_parcel_ids(ids)
    # a space, "/" or "," inside an id is part of it (MH 000001, MH/000002), not a list
    assert split.tolist() == ["P1", "P2", "P5", "P6", "P9", "P10", "P11", "MH 000001", "MH/000002", "P3,P4"]
    assert split.index.tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 5, 6]
    # the project's own separators
    assert split_parcel_ids(pd.Series(["P3,P4"]), [","]).tolist() == ["P3", "P4"]


def test_enterprise_shares_by_area(enterprises, parcel_area):
    links = enterprise_shares(enterprises, parcel_area)
    shares = {(enterprises.loc[r, "enterprise_id"], p): s for r, p, s in links[["row", "parcel_id", "share"]].itertuples(index=False)}
    assert shares[("E4", "P2")] == pytest.approx(0.25)  # 1000 / (1000 + 3000)
    assert shares[("E4", "P3")] == pytest.approx(0.75)
    assert shares[("E1", "P1")] == 1.0
    assert np.isnan(shares[("E6", "PX")])


def test_aggregate_one_parcel_three_enterprises(enterprises, parcel_area):
    out = aggregate_enterprises(enterprises, parcel_area)
    p1 = out.loc["P1"]
    assert p1["tax_wan"] == pytest.approx(10 + 20 + 30.5)
    assert p1["revenue_wan"] == pytest.approx(100 + 300 + 50)
    assert p1["employees"] == pytest.approx(5 + 10 + 15)
    assert p1["enterprise_count"] == 3
    assert p1["industry"] == "生物医药"  # E2 has the largest revenue (300)
    assert p1["founded_year"] == 2015
    assert p1["enterprise_names"] == "乙公司、甲公司、丙公司"  # by revenue, largest first
    assert p1["high_tech_firms"] == 2


def test_all_missing_figure_stays_nan_not_zero(enterprises, parcel_area):
    out = aggregate_enterprises(enterprises, parcel_area)
    assert np.isnan(out.loc["P1", "rd_spend_wan"])  # E1–E3 all lack R&D
    assert out.loc["P3", "rd_spend_wan"] == pytest.approx(0.75 * 40)  # E4's share; E5's NaN skipped


def test_aggregate_enterprise_spanning_two_parcels(enterprises, parcel_area):
    out = aggregate_enterprises(enterprises, parcel_area)
    # E4 alone on P2 with 25 %: tax 100 → 25, revenue 400 → 100, employees 8 → 2
    p2 = out.loc["P2"]
    assert (p2["tax_wan"], p2["revenue_wan"], p2["employees"]) == pytest.approx((25.0, 100.0, 2.0))
    assert p2["rd_spend_wan"] == pytest.approx(10.0)
    assert p2["enterprise_count"] == 1
    assert p2["industry"] == "数字经济"
    # P3: E4's 75 % (tax 75, revenue 300, employees 6) plus E5 (tax 1, revenue 1000, employees 3)
    p3 = out.loc["P3"]
    assert (p3["tax_wan"], p3["revenue_wan"], p3["employees"]) == pytest.approx((76.0, 1300.0, 9.0))
    assert p3["enterprise_count"] == 2
    assert p3["industry"] == "研发服务"  # E5's 1000 beats E4's 300 share on P3
    assert p3["enterprise_names"] == "戊公司、丁公司"


def test_aggregate_index_and_totals(enterprises, parcel_area):
    out = aggregate_enterprises(enterprises, parcel_area)
    assert out.index.tolist() == ["P1", "P2", "P3", "P4"]  # PX/PY absent, every real parcel with a firm present
    # E7 lists P4 and the unknown PY: all of it lands on P4, the only parcel that exists
    assert out.loc["P4", "tax_wan"] == pytest.approx(4.0)
    # nothing is lost or double counted except E6 (unmatched): 10+20+30.5+100+1+4
    assert out["tax_wan"].sum() == pytest.approx(165.5)


def test_aggregate_without_revenue_column_picks_main_by_id(enterprises, parcel_area):
    out = aggregate_enterprises(enterprises.drop(columns=["revenue_wan"]), parcel_area)
    assert out.loc["P1", "industry"] == "集成电路"  # E1: first by id when no revenue decides
    assert "revenue_wan" not in out.columns


def test_unmatched_enterprises(enterprises):
    out = unmatched_enterprises(enterprises, pd.Index(["P1", "P2", "P3", "P4"]))
    assert out.to_dict("records") == [
        {"enterprise_id": "E6", "parcel_id": "PX"},
        {"enterprise_id": "E7", "parcel_id": "PY"},
    ]


def test_unmatched_enterprises_none(enterprises):
    out = unmatched_enterprises(enterprises.iloc[:5], pd.Index(["P1", "P2", "P3"]))
    assert len(out) == 0
    assert list(out.columns) == ["enterprise_id", "parcel_id"]


# --- end to end --------------------------------------------------------------------------------


def test_load_dataset_measures_in_working_crs_and_assigns_blocks(tmp_path, make_project, parcels, working_crs):
    from pyproj import CRS

    from landkit.data.dataset import load_dataset

    geographic = parcels.drop(columns="expected_m2").to_crs(epsg=4490)  # as a planner might deliver them
    blocks = gpd.GeoDataFrame({"区块编号": ["B1"], "区块名称": ["莘庄工业区"]}, geometry=[box(-10, -10, 250, 200)], crs=working_crs)
    enterprises = pd.DataFrame({"企业编号": ["E1"], "地块编号": ["P2；P3"], "营业收入(万元)": ["400"]})
    data = load_dataset(make_project(tmp_path, parcels=geographic, blocks=blocks, enterprises=enterprises))
    assert CRS(data.input_crs).equals(CRS.from_epsg(4490))
    assert CRS(data.parcels.crs).equals(CRS.from_user_input(working_crs))
    out = data.parcels.set_index("parcel_id")
    assert out["area_m2"].tolist() == pytest.approx([5000, 1000, 3000, 2700, 5800], rel=1e-6)
    assert out["block_id"].iloc[:3].tolist() == ["B1", "B1", "B1"] and out["block_id"].iloc[3:].isna().all()
    assert out["inside_block"].tolist() == [True, True, True, False, False]
    assert out.loc["P2", "revenue_wan"] == pytest.approx(100.0)  # 400 × 1000 / (1000 + 3000)
    assert out.loc["P3", "revenue_wan"] == pytest.approx(300.0)
    assert out["enterprise_count"].tolist() == [0, 1, 1, 0, 0]
    assert data.issues == []
