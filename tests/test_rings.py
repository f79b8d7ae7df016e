"""三圈协同 on hand-made blocks and parcels, and on the shipped sample."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.analyses.rings import block_rings, function_fit, linkage_graph, modelled_ring, ring_profiles
from landkit.config.load import load_config
from landkit.core.errors import ConfigError

BANDS = {"core": 10, "spillover": 25, "linkage": 45}


@pytest.fixture
def project():
    return load_config(overrides={"rings": {"designated": {"core": ["B1"], "spillover": ["B2"], "linkage": ["B3", "B4"]}}})


@pytest.fixture
def blocks(project):
    return gpd.GeoDataFrame({"block_id": ["B1", "B2", "B3", "B4", "B5"]},
                            geometry=[shapely.box(i * 1000, 0, i * 1000 + 800, 800) for i in range(5)], crs=project.crs.working)


def test_block_rings(blocks, project):
    rings = block_rings(blocks, project.rings)
    assert rings.to_dict() == {"B1": "core", "B2": "spillover", "B3": "linkage", "B4": "linkage", "B5": "outside"}


def test_ring_without_blocks_and_block_in_two_rings(blocks, project):
    empty = project.rings.model_copy(update={"designated": {"core": ["B1"], "spillover": ["X9"]}})
    with pytest.raises(ConfigError, match=r"rings.designated.spillover lists no block"):
        block_rings(blocks, empty)
    twice = project.rings.model_copy(update={"designated": {"core": ["B1"], "linkage": ["B1", "B2"]}})
    with pytest.raises(ConfigError, match="B1 is in both"):
        block_rings(blocks, twice)


def test_modelled_ring_bands():
    minutes = pd.Series([0.0, 10.0, 10.01, 25.0, 44.9, 45.1, np.nan])
    assert list(modelled_ring(minutes, BANDS)) == ["core", "core", "spillover", "spillover", "linkage", "outside", "unreachable"]


def test_function_fit(project):
    parcels = pd.DataFrame({"land_use": ["C65", "M2", "M1", "C65", "U"], "status": ["operating", "operating", "operating", "idle", "operating"]})
    ring = pd.Series(["core", "core", "linkage", "core", "core"])
    fit, reason = function_fit(parcels, ring, project.rings)
    assert list(fit) == [True, False, True, False, True]
    assert reason[1] == "核心功能圈内的M2用地不符合圈层功能"
    assert reason[3] == "核心功能圈内土地闲置"


def test_ring_profiles_by_hand(project):
    parcels = pd.DataFrame({
        "ring": ["core", "core", "linkage"], "land_use": ["C65", "M1", "M2"], "area_m2": [10_000.0, 30_000.0, 20_000.0],
        "industry": ["研发服务", "高端装备", "高端装备"], "score": [80.0, 40.0, 50.0], "grade": ["A", "C", "B"],
        "tax_wan": [100.0, 200.0, 50.0], "revenue_wan": [1000.0, 3000.0, 500.0], "function_fit": [True, False, True],
    })
    profile = ring_profiles(parcels, project.rings).set_index("ring")
    core = profile.loc["core"]
    assert core["parcels"] == 2 and core["area_ha"] == pytest.approx(4.0)
    assert core["share_rd"] == pytest.approx(0.25) and core["share_manufacturing"] == pytest.approx(0.75)
    assert core["mean_score"] == pytest.approx(60.0)
    assert core["tax_per_ha_wan"] == pytest.approx(300 / 4) and core["output_per_ha_wan"] == pytest.approx(4000 / 4)
    assert core["share_A"] == pytest.approx(0.25) and core["misfit_share"] == pytest.approx(0.75)
    assert core["main_industry"] == "高端装备"
    assert list(profile.index) == ["core", "linkage"]


def test_linkage_graph_by_hand(blocks, project):
    blocks = blocks.iloc[:3].assign(ring=["core", "spillover", "linkage"])
    ids = ["B1", "B2", "B3", "CORE"]
    od = pd.DataFrame([[0, 5, 20, 2], [5, 0, 10, 7], [20, 10, 0, 22], [2, 7, 22, 0]], index=ids, columns=ids, dtype=float)
    spec = project.rings.model_copy(update={"pairs": [("B1", "B3")]})
    lines, measures = linkage_graph(blocks, shapely.Point(0, 0), od, spec)
    edges = {tuple(sorted((a, b))): (m, k) for a, b, m, k in zip(lines["from_id"], lines["to_id"], lines["minutes"], lines["kind"], strict=True)}
    assert edges[("B1", "B3")] == (20.0, "pair")
    assert edges[("B2", "CORE")] == (7.0, "core")
    assert measures.set_index("block_id").loc["B3", "minutes_to_core"] == 22.0
    # closeness of B2 over shortest paths: B1 5, B3 10, CORE 7 → 3 / 22
    assert measures.set_index("block_id").loc["B2", "closeness"] == pytest.approx(3 / 22)
    with pytest.raises(ConfigError, match=r"rings\.pairs"):
        linkage_graph(blocks, shapely.Point(0, 0), od, project.rings.model_copy(update={"pairs": [("B1", "B9")]}))


def test_closeness_matches_networkx():
    import random

    import networkx as nx

    from landkit.analyses.rings import closeness_centrality

    rng = random.Random(1)
    graph = nx.gnm_random_graph(60, 120, seed=3)
    graph.add_edge(100, 101)  # a disconnected piece
    for u, v in graph.edges:
        graph.edges[u, v]["minutes"] = rng.uniform(1, 20)
    ours = closeness_centrality(graph)
    reference = nx.closeness_centrality(graph, distance="minutes")
    assert max(abs(ours[k] - reference[k]) for k in graph.nodes) < 1e-12


def test_blocks_layer_has_one_ring_column():
    from pathlib import Path

    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset
    from landkit.pipeline import assess

    project = load_config(Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml")
    result = assess(load_dataset(project), project)
    assert "ring" in result.blocks and not {"ring_x", "ring_y"} & set(result.blocks.columns)
    ring_of = {b: r for r, ids in project.rings.designated.items() for b in ids}
    assert result.blocks.set_index("block_id")["ring"].to_dict() == {b: ring_of.get(b, "outside") for b in result.blocks["block_id"]}


def test_linkage_with_a_short_first_search_equals_the_full_search(monkeypatch):
    """The adaptive block-to-block search (short limit, then wider for the rows that need it)
    gives the linkage graph of one search with no short limit."""
    from pathlib import Path

    import landkit.analyses.rings as rings_module
    from landkit.assess.performance import assess_performance
    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset

    project = load_config(Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml")
    data = load_dataset(project)
    parcels = data.parcels.join(assess_performance(data.parcels, project))

    def run(limit: float):
        monkeypatch.setattr(rings_module, "LINKAGE_SEARCH_MIN", limit)
        return rings_module.assess_rings(parcels, data.blocks, project, roads=data.roads, core_sites=data.core_sites)

    full, short = run(1e9), run(0.5)  # 0.5 min: almost every row is searched again
    pd.testing.assert_frame_equal(full.blocks, short.blocks)
    pd.testing.assert_frame_equal(pd.DataFrame(full.linkage.drop(columns="geometry")),
                                  pd.DataFrame(short.linkage.drop(columns="geometry")))
