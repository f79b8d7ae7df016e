"""Industrial chains on a hand-made register: stages, coverage by ring, 链主, complementarity, the pair's flow."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import WORKING

from landkit.analyses.chains import assess_chains, complementarity, weight_linkage
from landkit.config.load import load_config

PARCELS = pd.DataFrame({"parcel_id": ["P1", "P2", "P3", "P4"], "block_id": ["MH01", "MH01", "MH12", "MH12"],
                        "ring": ["core", "core", "linkage", "linkage"], "land_use": ["C65", "C65", "M1", "M1"]})
FIRMS = pd.DataFrame({
    "enterprise_id": ["E1", "E2", "E3", "E4", "E5"],
    "enterprise_name": ["甲", "乙", "丙", "丁", "戊"],
    "parcel_id": ["P1", "P2", "P3", "P4；P3", "P3"],
    "industry": ["数字经济", "数字经济", "数字经济", "生物医药", "传统制造"],
    "segment": ["视觉系统", None, "智能机器人整机", None, "金属制品"],
    "revenue_wan": [100.0, 50.0, 900.0, 300.0, 10.0],
    "chain_leader": [False, False, False, True, False],
})


@pytest.fixture(scope="module")
def project():
    return load_config(overrides={"rings": {"pairs": [["MH01", "MH12"]]}})


@pytest.fixture(scope="module")
def result(project):
    return assess_chains(FIRMS, PARCELS, project)


def test_stages_by_segment_else_by_land_use(result):
    firms = result.firms.set_index("enterprise_id")
    assert "E5" not in firms.index  # 传统制造 is on no listed chain
    assert firms.loc["E1", ["stage", "stage_basis"]].tolist() == ["研发设计", "segment"]
    assert firms.loc["E2", ["stage", "stage_basis"]].tolist() == ["研发设计", "land_use"]  # no segment, on C65: the first stage
    assert firms.loc["E3", "stage"] == "整机制造"
    assert firms.loc["E4", ["stage", "block_id"]].tolist() == ["制造", "MH12"]       # no segment, on M1: the last; its first parcel


def test_coverage_by_ring_and_park(result):
    cov = result.coverage.set_index(["level", "group", "chain"])["coverage_pct"]
    assert cov[("ring", "core", "数字经济")] == pytest.approx(100 / 3)    # 研发设计 of 3 stages
    assert cov[("park", "park", "数字经济")] == pytest.approx(200 / 3)    # 研发设计 and 整机制造
    assert cov[("ring", "linkage", "生物医药")] == pytest.approx(100 / 3)


def test_leaders_flagged_else_the_largest(result):
    leaders = result.leaders.set_index("chain")
    assert leaders.loc["生物医药", ["enterprise_id", "leader_basis"]].tolist() == ["E4", "register"]
    assert leaders.loc["数字经济", ["enterprise_id", "leader_basis"]].tolist() == ["E3", "revenue"]


def test_complementarity_and_the_pairs_flow(result, project):
    # MH01 holds 数字经济 stage 0; MH12 holds 数字经济 stage 2 and 生物医药 stage 2: no adjacent stages (0 vs 2)
    assert complementarity(result.firms, pd.Series(["MH01"]), pd.Series(["MH12"]))[0] == 0
    firms = result.firms.assign(stage_position=result.firms["stage_position"].where(result.firms["enterprise_id"] != "E3", 1))
    assert complementarity(firms, pd.Series(["MH01"]), pd.Series(["MH12"]))[0] == pytest.approx(1 / 2)  # 数字经济 of 2 chains
    flows = result.flows.set_index("chain")
    assert bool(flows.loc["数字经济", "flows"]) and flows.loc["数字经济", ["from_firms", "to_firms"]].tolist() == [2, 1]
    assert not bool(flows.loc["生物医药", "flows"])  # nothing of it at MH01
    line = gpd.GeoDataFrame({"from_id": ["MH01"], "to_id": ["MH12"], "minutes": [15.0], "kind": ["pair"]},
                            geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=WORKING)
    weighted = weight_linkage(line, firms, project)
    assert weighted["weight"].iloc[0] == pytest.approx(0.5 * 1 / (1 + 15 / 15) + 0.5 * 0.5)
