"""园区地块动态调整 of the blocks on hand-made parks, every figure worked out by hand.

Parcels are 100 m × 100 m (1 ha = 15 亩), offsets from X0, Y0 in metres, in the working CRS; the
core distance is 50 m, the bring-in distance 50 m, the smallest bring-in 10 亩::

    y 130   G1(A) G2(A)                                      <- outside B1, 20 m above it
    y   0   P1(A) P2(B) P3(A) P4(B)      F1(D) F2(C)         | X1(D) far outside
            x 0   120   240   360        540   660
    B1 = x −10 … 770, y −10 … 110

P1–P4 (20 m apart) are B1's core (4 ha); F1–F2 (linked to each other, 80 m from P4) a fringe of
2 ha, all poor: 调出. G1–G2 (2 ha, A) lie 20 m from B1's edge and 30 m from P1–P2: 调入, and
they join the core. X1 (1 ha) lies far outside. Before: inside 6 of 9 ha (66.7 %), patches 4 and
2 ha (NP 2, LPI 66.7 %, HHI (4/6)² + (2/6)² = 5/9); after both: inside 6 of 9 ha, one patch of
6 ha (NP 1, LPI 100 %, HHI 1). The mean distance to the core before: (0 × 4 + 80 + 200) / 6 m; after: 0.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.adjustment import adjust_blocks, adjustment_graph
from landkit.analyses.scatter import scatter_state
from landkit.config.load import load_config


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def park(rows: list[tuple[str, float, float, str, str | None]], land_use: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=["parcel_id", "x", "y", "grade", "block_id"])
    geoms = [box(x, y, x + 100, y + 100) for x, y in zip(frame["x"], frame["y"], strict=True)]
    frame = frame.drop(columns=["x", "y"])
    frame["land_use"] = frame["parcel_id"].map(land_use or {}).fillna("M1")
    frame["legally_idle"] = False
    frame["status"] = "operating"
    frame["graded"] = frame["grade"].isin(["A", "B", "C", "D"])
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs=WORKING)
    out["area_m2"] = shapely.area(out.geometry.to_numpy())
    out["area_mu"] = out["area_m2"] / (10_000 / 15)
    return out


ROWS = [("P1", 0, 0, "A", "B1"), ("P2", 120, 0, "B", "B1"), ("P3", 240, 0, "A", "B1"), ("P4", 360, 0, "B", "B1"),
        ("F1", 540, 0, "D", "B1"), ("F2", 660, 0, "C", "B1"), ("G1", 0, 130, "A", None), ("G2", 120, 130, "A", None),
        ("X1", 3000, 3000, "D", None)]
BLOCKS = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"], "ring": ["linkage"]}, geometry=[box(-10, -10, 770, 110)], crs=WORKING)


@pytest.fixture(scope="module")
def project():
    return load_config()


@pytest.fixture(scope="module")
def result(project):
    return adjust_blocks(park(ROWS), BLOCKS, project)


def test_the_graph_from_the_scatter_pairs_equals_the_one_queried(project):
    # 小而散's pairs at a cluster distance of at least the core distance, filtered: the same pairs as a new query
    parcels = park(ROWS)
    queried = adjustment_graph(parcels, project)
    for cluster_m in (50, 200):
        settings = project.model_copy(update={"scatter": project.scatter.model_copy(update={"cluster_distance_m": cluster_m})})
        pairs = scatter_state(parcels, settings)[1]["pairs"]
        taken = adjustment_graph(parcels, settings, pairs=pairs)
        assert (taken.left.tolist(), taken.right.tolist()) == (queried.left.tolist(), queried.right.tolist())
    ids = parcels["parcel_id"].to_numpy()
    # 20 m along the rows; G1, G2 30 m above P1, P2 (36 m to the diagonal neighbours P1–G2, P2–G1, P3–G2); not P4–F1 (80 m)
    assert {(ids[a], ids[b]) for a, b in zip(queried.left, queried.right, strict=True)} == {
        ("P1", "P2"), ("P2", "P3"), ("P3", "P4"), ("F1", "F2"), ("G1", "G2"), ("P1", "G1"), ("P1", "G2"), ("P2", "G1"),
        ("P2", "G2"), ("P3", "G2")}
    # nearer pairs than the core distance do not answer for it: queried again
    near = project.model_copy(update={"scatter": project.scatter.model_copy(update={"cluster_distance_m": 10})})
    pairs = scatter_state(parcels, near)[1]["pairs"]
    again = adjustment_graph(parcels, near, pairs=pairs)
    assert again.left.tolist() == queried.left.tolist()


def test_move_out_the_poor_fringe_and_bring_in_the_good_neighbour(result):
    proposals = result.proposals.set_index("change_kind")
    assert sorted(result.proposals["change_kind"]) == ["bring_in", "move_out"]
    assert proposals.loc["move_out", "parcel_ids"] == "F1;F2" and proposals.loc["move_out", "block_id"] == "B1"
    assert proposals.loc["bring_in", "parcel_ids"] == "G1;G2" and proposals.loc["bring_in", "block_id"] == "B1"
    assert proposals["area_mu"].tolist() == pytest.approx([30, 30])
    columns = result.parcels
    assert columns.loc[columns.index[4:6], "block_change"].tolist() == ["move_out"] * 2
    assert columns.loc[columns.index[6:8], "block_change"].tolist() == ["bring_in"] * 2
    assert columns["block_change"].iloc[8] == ""  # X1: already outside, never "moved out"
    assert columns["proposed_block_id"].tolist()[:8] == ["B1"] * 4 + [None, None, "B1", "B1"]


def test_each_proposal_alone_changes_concentration_by_hand(result):
    p = result.proposals.set_index("change_kind")
    # moving out F alone: inside 4 of 9 ha; one patch of 4 ha
    assert p.loc["move_out", "d_inside_block_pct"] == pytest.approx(100 * (4 / 9 - 6 / 9))
    assert p.loc["move_out", "d_np"] == -1
    assert p.loc["move_out", "d_lpi_pct"] == pytest.approx(100 - 200 / 3)
    assert p.loc["move_out", "d_hhi"] == pytest.approx(1 - 5 / 9)
    # bringing in G alone: inside 8 of 9 ha; patches P∪G 6 ha and F 2 ha
    assert p.loc["bring_in", "d_inside_block_pct"] == pytest.approx(100 * (8 / 9 - 6 / 9))
    assert p.loc["bring_in", "d_np"] == 0
    assert p.loc["bring_in", "d_lpi_pct"] == pytest.approx(75 - 200 / 3)
    assert p.loc["bring_in", "d_hhi"] == pytest.approx(0.75**2 + 0.25**2 - 5 / 9)


def test_the_park_before_and_after_all_proposals(result):
    table = result.before_after[result.before_after["level"] == "park"].set_index("metric")
    expected = {"inside_block_pct": (600 / 9, 600 / 9), "np": (2, 1), "lpi_pct": (200 / 3, 100), "hhi": (5 / 9, 1),
                "core_distance_mn_m": (280 / 6, 0)}
    for metric, (before, after) in expected.items():
        assert table.loc[metric, "before"] == pytest.approx(before), metric
        assert table.loc[metric, "after"] == pytest.approx(after), metric
    assert table.loc["hhi", "improved"] and table.loc["np", "improved"] and table.loc["core_distance_mn_m", "improved"]


def test_the_proposed_boundary(result):
    proposed = result.blocks.set_index("block_id").geometry["B1"]
    assert proposed.covers(box(0, 100, 220, 230))            # G1, G2 taken in, the 20 m gaps to them closed
    assert proposed.geom_type == "Polygon"
    assert not proposed.intersects(box(545, 5, 755, 95))     # F1, F2 cut away
    assert proposed.covers(box(0, 0, 460, 100))              # the core kept
    assert result.blocks["change_kind"].tolist() == ["move_out;bring_in"]
    assert np.isfinite(result.blocks["block_score_after"].iloc[0])


def test_land_use_and_size_limit_what_is_brought_in(project):
    spec = project.block_adjustment.model_copy(update={"bring_in_land_uses": ["M1"]})
    out = adjust_blocks(park(ROWS, land_use={"G1": "W1", "G2": "W1"}), BLOCKS, project.model_copy(update={"block_adjustment": spec}))
    assert "bring_in" not in set(out.proposals["change_kind"])
    spec = project.block_adjustment.model_copy(update={"bring_in_min_mu": 31})  # G is 30 亩
    out = adjust_blocks(park(ROWS), BLOCKS, project.model_copy(update={"block_adjustment": spec}))
    assert "bring_in" not in set(out.proposals["change_kind"])


def test_a_fringe_with_good_land_in_most_of_it_stays(project):
    rows = [r if r[0] != "F1" else ("F1", 540, 0, "A", "B1") for r in ROWS]  # F: 1 ha A, 1 ha C: poor share 50 % ...
    rows = [r if r[0] != "F2" else ("F2", 660, 0, "B", "B1") for r in rows]  # ... now none poor
    out = adjust_blocks(park(rows), BLOCKS, project)
    assert "move_out" not in set(out.proposals["change_kind"])


def test_blocks_whose_land_touches_merge_within_a_ring_only(project):
    rows = [("P1", 0, 0, "A", "B1"), ("P2", 120, 0, "B", "B1"), ("P3", 240, 0, "A", "B2"), ("P4", 360, 0, "B", "B2")]
    blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "ring": ["linkage", "linkage"]},
                              geometry=[box(-10, -10, 230, 110), box(235, -10, 470, 110)], crs=WORKING)
    out = adjust_blocks(park(rows), blocks, project)
    assert out.proposals["change_kind"].tolist() == ["merge"] and out.proposals["block_id"].iloc[0] == "B1+B2"
    table = out.before_after[out.before_after["level"] == "park"].set_index("metric")
    assert (table.loc["np", "before"], table.loc["np", "after"]) == (2, 1)
    assert table.loc["hhi", "before"] == pytest.approx(0.5) and table.loc["hhi", "after"] == pytest.approx(1)
    assert out.blocks["block_id"].tolist() == ["B1+B2"]
    other = blocks.assign(ring=["linkage", "core"])
    assert adjust_blocks(park(rows), other, project).proposals.empty
