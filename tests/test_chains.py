"""Industrial chains on a hand-made register and chain table: stages, coverage, 链主, complementarity, flows.

The chain table (two chains of three stages):

    装备: 研发 [设计软件] → 部件 [电机, 集成电路 (an industry)] → 整机 [机器人]; sector 航天
    医药: 研发 [] → 中试 [中试] → 制造 []; sector 创新药

Parcels: P1 K1 core C65, P2 K1 core M1, P3 K2 spillover C65, P4 K3 linkage M1, P5 no block M1,
P6 K3 linkage W1. Every expected value below is worked out by hand in its comment.
"""

from __future__ import annotations

import itertools
import random

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.analyses.chains import (
    FIRM_COLUMNS,
    assess_chains,
    chain_stages,
    chain_table,
    complementarity,
    weight_linkage,
)
from landkit.analyses.rings import linkage_graph
from landkit.config.load import load_config
from landkit.config.models import Chains
from landkit.core.errors import ConfigError

TABLE = {
    "装备": {"研发": ["设计软件"], "部件": ["电机", "集成电路"], "整机": ["机器人"]},
    "医药": {"研发": [], "中试": ["中试"], "制造": []},
}
PARCELS = pd.DataFrame({
    "parcel_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
    "block_id": ["K1", "K1", "K2", "K3", None, "K3"],
    "ring": ["core", "core", "spillover", "linkage", "outside", "linkage"],
    "land_use": ["C65", "M1", "C65", "M1", "M1", "W1"],
})
FIRMS = pd.DataFrame({
    "enterprise_id": ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9"],
    "enterprise_name": ["一", "二", "三", "四", "五", "六", "七", "八", "九"],
    "parcel_id": ["P4", "P1", "P2", "P3", "P3；P4", "P6", "P5", "P4", "P4"],
    "industry": ["装备", "装备", "装备", "集成电路", "医药", "医药", "装备", "传统制造", "医药"],
    "segment": ["设计软件", None, "航天", None, "创新药", "中试", "机器人", "金属", "电机"],
    "revenue_wan": [100.0, 50.0, 300.0, 200.0, 20.0, 10.0, 400.0, 999.0, 80.0],
    "chain_leader": [False, False, False, False, False, True, False, False, False],
}, index=[10, 11, 12, 13, 14, 15, 16, 17, 18])  # not a RangeIndex: rows are matched by position, not label


@pytest.fixture(scope="module")
def project():
    base = load_config(overrides={"rings": {"pairs": [["K1", "K3"], ["K3", "K2"]]}})
    chains = Chains(chains=TABLE, sectors={"装备": ["航天"], "医药": ["创新药"]}, leader_top_n=2,
                    complementarity_weight=0.25, distance_scale_min=10)
    return base.model_copy(update={"chains": chains})


@pytest.fixture(scope="module")
def result(project):
    return assess_chains(FIRMS, PARCELS, project)


def _stages(result) -> dict[tuple[str, str], tuple[str, int, str, object]]:
    f = result.firms
    return {(e, c): (s, p, b, None if pd.isna(k) else k) for e, c, s, p, b, k in
            zip(f["enterprise_id"], f["chain"], f["stage"], f["stage_position"], f["stage_basis"], f["block_id"], strict=True)}


def test_stage_by_segment_then_industry_then_land_use(result):
    assert list(result.firms.columns) == FIRM_COLUMNS
    assert _stages(result) == {
        ("F1", "装备"): ("研发", 0, "segment", "K3"),    # its segment names 研发, whatever its M1 land
        ("F2", "装备"): ("研发", 0, "land_use", "K1"),   # no segment, on C65: the first stage
        ("F3", "装备"): ("整机", 2, "land_use", "K1"),   # 航天 is a sector: on M1, the last stage
        ("F4", "装备"): ("部件", 1, "industry", "K2"),   # the industry 集成电路 is listed under 部件
        ("F5", "医药"): ("研发", 0, "land_use", "K2"),   # 创新药 a sector; its first parcel P3 is C65
        ("F6", "医药"): ("中试", 1, "segment", "K3"),
        ("F7", "装备"): ("整机", 2, "segment", None),    # on a parcel in no block
        ("F9", "装备"): ("部件", 1, "segment", "K3"),    # its segment 电机 puts it on 装备 too …
        ("F9", "医药"): ("制造", 2, "land_use", "K3"),   # … and its industry on 医药 (M1 land: the last stage)
    }  # F8 (传统制造, 金属) is on no chain


def test_rd_land_uses_and_separators_are_configurable(project):
    spec = project.chains.model_copy(update={"rd_land_uses": ["C65", "W1"]})
    firms = chain_stages(FIRMS, PARCELS, project.model_copy(update={"chains": spec})).set_index(["enterprise_id", "chain"])
    assert firms.loc[("F9", "医药"), "stage"] == "制造"  # P4 is M1: still the last stage …
    moved = FIRMS.assign(parcel_id=FIRMS["parcel_id"].replace({"P4": "P6"}))
    firms = chain_stages(moved, PARCELS, project.model_copy(update={"chains": spec})).set_index(["enterprise_id", "chain"])
    assert firms.loc[("F9", "医药"), "stage"] == "研发"  # … on W1, now R&D land: the first
    assert chain_stages(FIRMS, PARCELS, project).set_index(["enterprise_id", "chain"]).loc[("F9", "医药"), "stage"] == "制造"
    slashed = project.model_copy(update={"values": project.values.model_copy(update={"parcel_id_separators": ["/"]})})
    firms = chain_stages(FIRMS.assign(parcel_id=FIRMS["parcel_id"].replace({"P3；P4": "P4/P3"})), PARCELS, slashed)
    assert firms.set_index("enterprise_id").loc["F5", ["parcel_id", "stage"]].tolist() == ["P4", "制造"]


def test_chain_table_rows(project):
    table = chain_table(project.chains)
    staged = table.dropna(subset=["position"]).set_index(["chain", "key"])["position"].to_dict()
    assert staged == {("装备", "设计软件"): 0, ("装备", "电机"): 1, ("装备", "集成电路"): 1, ("装备", "机器人"): 2, ("医药", "中试"): 1}
    assert set(map(tuple, table[table["position"].isna()][["chain", "key"]].to_numpy())) == {
        ("装备", "装备"), ("装备", "航天"), ("医药", "医药"), ("医药", "创新药")}


def test_coverage_by_ring_and_park(result):
    cov = result.coverage.set_index(["level", "group", "chain"])
    assert cov.loc[("ring", "core", "装备"), ["firms", "stages", "stage_names"]].tolist() == [2, 2, "研发、整机"]
    assert cov.loc[("ring", "core", "装备"), "coverage_pct"] == pytest.approx(200 / 3)
    assert cov.loc[("ring", "spillover", "装备"), "coverage_pct"] == pytest.approx(100 / 3)       # 部件
    assert cov.loc[("ring", "linkage", "装备"), "stage_names"] == "研发、部件"                    # upstream first
    assert cov.loc[("ring", "outside", "装备"), "coverage_pct"] == pytest.approx(100 / 3)         # F7's 整机
    assert cov.loc[("ring", "linkage", "医药"), ["stages", "stage_names"]].tolist() == [2, "中试、制造"]
    # the park: firms on parcels inside a block (F7 is not): 装备 研发, 部件, 整机 from 5 firms
    assert cov.loc[("park", "park", "装备"), ["firms", "coverage_pct"]].tolist() == [5, 100.0]
    assert cov.loc[("park", "park", "医药"), ["firms", "coverage_pct"]].tolist() == [3, 100.0]
    assert ("ring", "core", "医药") not in cov.index  # no 医药 firm in the core
    # rows: rings (by ring order) then the park, chains in the table's order
    assert list(result.coverage["group"])[:4] == ["core", "spillover", "linkage", "outside"]
    assert list(result.coverage["level"])[-2:] == ["park", "park"]


def test_leaders_flagged_else_the_largest(result):
    leaders = result.leaders
    assert leaders[["chain", "enterprise_id", "leader_basis"]].to_numpy().tolist() == [
        ["装备", "F7", "revenue"], ["装备", "F3", "revenue"],  # leader_top_n 2: revenue 400 and 300
        ["医药", "F6", "register"],                           # flagged, though F9's 80 is larger than its 10
    ]


def test_leaders_without_revenue(project):
    firms = chain_stages(FIRMS.drop(columns=["revenue_wan", "chain_leader"]), PARCELS, project)
    assert firms["revenue_wan"].isna().all() and not firms["chain_leader"].any()
    assert assess_chains(FIRMS.drop(columns=["revenue_wan", "chain_leader"]), PARCELS, project).leaders.empty


def test_complementarity_by_hand(result):
    # K1: 装备 {研发, 整机}; K2: 装备 {部件}, 医药 {研发}; K3: 装备 {研发, 部件}, 医药 {中试, 制造}
    a = pd.Series(["K1", "K1", "K2", "K1", "K9", "K3"])
    b = pd.Series(["K2", "K3", "K3", "CORE", "CORE", "K3"])
    got = complementarity(result.firms, a, b)
    # K1–K2: 装备 研发–部件 linked, 医药 only at K2: 1 of 2. K1–K3: 装备 研发(K1)–部件(K3): 1 of 2.
    # K2–K3: 装备 部件–研发 and 医药 研发–中试: 2 of 2. K1–CORE: 装备 present, nothing linked: 0.
    # K9–CORE: no chain firm at either: 0. K3–K3: 装备 研发–部件 within the same set: 1; 医药 中试–制造: 1.
    assert got.tolist() == pytest.approx([0.5, 0.5, 1.0, 0.0, 0.0, 1.0])


def _brute_force(firms: pd.DataFrame, x: str, y: str) -> float:
    held = {(k, c): set() for k, c in zip(firms["block_id"], firms["chain"], strict=True)}
    for k, c, p in zip(firms["block_id"], firms["chain"], firms["stage_position"], strict=True):
        held[(k, c)].add(p)
    chains = {c for (k, c) in held if k in (x, y)}
    if not chains:
        return 0.0
    linked = sum(any(abs(p - q) == 1 for p in held.get((x, c), ()) for q in held.get((y, c), ())) for c in chains)
    return linked / len(chains)


def test_complementarity_matches_brute_force():
    rng = random.Random(7)
    blocks = [f"B{i}" for i in range(8)]
    firms = pd.DataFrame({
        "block_id": [rng.choice(blocks) for _ in range(60)],
        "chain": [rng.choice(["甲", "乙", "丙"]) for _ in range(60)],
        "stage_position": [rng.randrange(4) for _ in range(60)],
    })
    pairs = list(itertools.product([*blocks, "B99"], repeat=2))
    got = complementarity(firms, pd.Series([p[0] for p in pairs]), pd.Series([p[1] for p in pairs]))
    assert got.tolist() == pytest.approx([_brute_force(firms, x, y) for x, y in pairs])


def test_weight_linkage_by_hand(result, project):
    lines = gpd.GeoDataFrame({"from_id": ["K1", "K2", "K1"], "to_id": ["K2", "K3", "CORE"], "minutes": [10.0, 30.0, np.nan],
                              "kind": ["nearest", "pair", "core"]},
                             geometry=[shapely.LineString([(0, 0), (1, 1)])] * 3, crs=project.crs.working)
    weighted = weight_linkage(lines, result.firms, project)
    # w 0.25, scale 10: K1–K2 0.75 × 1/(1 + 1) + 0.25 × 0.5; K2–K3 0.75 × 1/(1 + 3) + 0.25 × 1; no time: 0.25 × 0
    assert weighted["weight"].tolist() == pytest.approx([0.75 / 2 + 0.125, 0.75 / 4 + 0.25, 0.0])
    assert weighted["complementarity"].tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert list(weighted.columns[:4]) == ["from_id", "to_id", "minutes", "kind"] and len(weighted) == 3


def test_the_pair_is_an_edge_of_the_linkage_graph_with_its_weight(result, project):
    blocks = gpd.GeoDataFrame({"block_id": ["K1", "K2", "K3"]}, geometry=[shapely.box(i * 1000, 0, i * 1000 + 800, 800) for i in range(3)],
                              crs=project.crs.working).assign(ring=["core", "spillover", "linkage"])
    ids = ["K1", "K2", "K3", "CORE"]
    od = pd.DataFrame([[0, 5, 20, 2], [5, 0, 10, 7], [20, 10, 0, 22], [2, 7, 22, 0]], index=ids, columns=ids, dtype=float)
    spec = project.rings.model_copy(update={"pairs": [("K1", "K3")]})
    lines, _measures = linkage_graph(blocks, shapely.Point(0, 0), od, spec)
    weighted = weight_linkage(lines, result.firms, project)
    pair = weighted[weighted["kind"] == "pair"]
    assert len(pair) == 1 and {pair["from_id"].iloc[0], pair["to_id"].iloc[0]} == {"K1", "K3"}
    # 20 minutes: nearness 1 / (1 + 2); complementarity K1–K3 0.5
    assert pair["weight"].iloc[0] == pytest.approx(0.75 / 3 + 0.25 * 0.5)


def test_pair_flows_by_hand(result):
    flows = result.flows.set_index(["from_block", "to_block", "chain"])
    # K1 → K3: 装备 starts at 研发 in K1 and reaches 部件 in K3: flows
    assert flows.loc[("K1", "K3", "装备")].tolist() == [2, 2, "研发、整机", "研发、部件", True]
    assert flows.loc[("K1", "K3", "医药")].tolist() == [0, 2, "", "中试、制造", False]  # nothing of it in K1
    assert bool(flows.loc[("K3", "K2", "装备"), "flows"])                               # 研发 (K3) before 部件 (K2)
    assert not bool(flows.loc[("K3", "K2", "医药"), "flows"])                           # 中试 (K3) after 研发 (K2)
    assert list(result.flows["chain"]) == ["装备", "医药", "装备", "医药"]


def test_no_chain_firm_gives_empty_tables(project):
    result = assess_chains(FIRMS[FIRMS["industry"] == "传统制造"], PARCELS, project)
    assert result.firms.empty and result.coverage.empty and result.leaders.empty and result.flows.empty
    assert complementarity(result.firms, pd.Series(["K1"]), pd.Series(["K2"])).tolist() == [0.0]


def test_a_segment_in_two_stages_or_an_unknown_sector_is_refused():
    with pytest.raises(ConfigError, match="lists `视觉系统` under both `研发设计` and `核心部件`"):
        load_config(overrides={"chains": {"chains": {"数字经济": {"核心部件": ["视觉系统"]}}}})
    with pytest.raises(ConfigError, match=r"sectors names \['量子'\]"):
        load_config(overrides={"chains": {"sectors": {"量子": ["量子计算"]}}})
    with pytest.raises(ConfigError, match="has no stage"):
        load_config(overrides={"chains": {"chains": {"量子": {}}}})


def test_the_default_table_follows_the_plan():
    spec = load_config().chains
    assert list(spec.chains) == ["高端装备", "数字经济", "生物医药", "脑机接口"]  # plan items 5–8
    staged = {key for stages in spec.chains["数字经济"].values() for key in stages}
    assert {"人机接口", "视觉系统", "伺服电机", "减速器", "控制芯片", "传感器"} <= staged  # item 6
    assert {"基因与细胞治疗", "合成生物学", "创新医疗器械"} <= set(spec.sectors["生物医药"])  # item 7
    assert {"航天", "航空", "新型储能"} <= set(spec.sectors["高端装备"])                     # item 5
    assert "神经外科手术机器人" in spec.sectors["脑机接口"]                                  # item 8
    assert spec.rd_land_uses == ["C65"]
