"""小而散 on hand-built layouts whose answers are worked out by hand, against brute force and a
raster computation, and on the shipped sample.

Layouts are drawn in the default profile's working CRS around Minhang (``X0``, ``Y0``); every
expected number is written down beside the layout, computed by hand from the coordinates.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import WORKING, X0, Y0

from landkit.analyses.scatter import (
    PARCEL_COLUMNS,
    _contracted_metrics,
    adjustment_proposals,
    apply_adjustments,
    assess_scatter,
    before_after,
    merged_metrics,
    park_state,
    scatter_flags,
    small_plots,
)
from landkit.config.load import load_config
from landkit.core.errors import CRSError
from landkit.core.units import M2_PER_MU
from landkit.metrics.fragmentation import (
    clusters,
    dissolve,
    fragmentation_metrics,
    group_metrics,
    nearest_distance,
    neighbour_graph,
    patch_nearest_distance,
)
from landkit.metrics.graphs import components

SAMPLE = Path(__file__).resolve().parent.parent / "gis_data" / "minhang.yaml"


@pytest.fixture(scope="module")
def spec():
    """The default profile's 小而散 settings (small 10 亩, clusters 50 m, isolated 200 m)."""
    return load_config().scatter


def layout(boxes, **columns) -> gpd.GeoDataFrame:
    """Parcels from (xmin, ymin, xmax, ymax) boxes in metres relative to (X0, Y0)."""
    geoms = [shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    frame = gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(len(geoms))]}, geometry=geoms, crs=WORKING)
    frame["area_m2"] = frame.area
    frame["area_mu"] = frame["area_m2"] / M2_PER_MU
    frame["land_use"] = columns.pop("land_use", "M1")
    frame["inside_block"] = columns.pop("inside_block", False)
    frame["block_id"] = columns.pop("block_id", None)
    for name, values in columns.items():
        frame[name] = values
    return frame


def row_of_squares(gaps):
    """100 m squares on a row, ``gaps[i]`` metres between square i and i + 1."""
    x, boxes = 0.0, []
    for gap in [*gaps, None]:
        boxes.append((x, 0, x + 100, 100))
        x += 100 + (gap or 0)
    return layout(boxes)


# --- small plots ---------------------------------------------------------------------------------


def test_small_plots_by_land_use(spec):
    parcels = pd.DataFrame({"land_use": ["M1", "M1", "C65", "W1"], "area_mu": [9.99, 10.0, 14.0, 20.0]})
    by_use = spec.model_copy(update={"small_plot_mu": {"default": 10, "C65": 15, "W1": 25}})
    assert small_plots(parcels, spec).tolist() == [True, False, False, False]  # 10 亩 for all
    assert small_plots(parcels, by_use).tolist() == [True, False, True, True]
    no_default = spec.model_copy(update={"small_plot_mu": {"C65": 15}})
    assert small_plots(parcels, no_default).tolist() == [False, False, True, False]  # M1, W1: no threshold


# --- a row of equal squares ------------------------------------------------------------------------


def test_row_of_squares_clusters_and_nearest():
    # gaps 10, 80, 30, 120 m between five 100 m squares
    parcels = row_of_squares([10, 80, 30, 120])
    # by hand: at 50 m the 10 and 30 m gaps join → {0,1} {2,3} {4}
    assert clusters(parcels, 50).tolist() == [0, 0, 1, 1, 2]
    assert clusters(parcels, 0).tolist() == [0, 1, 2, 3, 4]  # nothing touches
    assert clusters(parcels, 80).tolist() == [0, 0, 0, 0, 1]  # "within": a gap of exactly 80 joins
    assert clusters(parcels, 79.9).tolist() == [0, 0, 1, 1, 2]
    assert clusters(parcels, 120).tolist() == [0, 0, 0, 0, 0]
    # nearest other square, edge to edge: the smaller gap on either side
    assert nearest_distance(parcels).tolist() == pytest.approx([10, 10, 30, 30, 120])
    left, right = neighbour_graph(parcels, 50)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (2, 3)]


def test_row_of_squares_metrics():
    parcels = row_of_squares([10, 80, 30, 120])
    m = fragmentation_metrics(parcels, clusters(parcels, 50))
    # patches {0,1} 2 ha, {2,3} 2 ha, {4} 1 ha; 5 ha in all
    assert m["np"] == 3
    assert m["area_mn_ha"] == pytest.approx(5 / 3)
    assert m["area_md_ha"] == pytest.approx(2.0)
    assert m["lpi_pct"] == pytest.approx(40.0)
    # ENN: {0,1} → {2,3} 80 m; {2,3} → {0,1} 80 m (the other side is 120); {4} → {2,3} 120 m
    assert m["enn_mn_m"] == pytest.approx((80 + 80 + 120) / 3)
    assert m["agg_pct"] == pytest.approx(80.0)  # 4 of 5 squares have a neighbour within 50 m
    # touching only (distance 0): five 1 ha patches, 20 m … 120 m apart
    m0 = fragmentation_metrics(parcels, clusters(parcels, 0))
    assert (m0["np"], m0["agg_pct"], m0["hhi"]) == (5, 0.0, pytest.approx(0.2))
    assert m0["enn_mn_m"] == pytest.approx((10 + 10 + 30 + 30 + 120) / 5)


def test_touching_and_corner_touching_squares_are_one_patch():
    # three squares sharing an edge, then a square touching the last one at a corner only
    parcels = layout([(0, 0, 100, 100), (100, 0, 200, 100), (200, 0, 300, 100), (300, 100, 400, 200)])
    assert clusters(parcels, 0).tolist() == [0, 0, 0, 0]
    assert nearest_distance(parcels).tolist() == [0, 0, 0, 0]


# --- two clusters and one isolated plot ----------------------------------------------------------


@pytest.fixture
def two_clusters_and_one():
    # cluster A (inside block B1): 200×100 and 100×100 sharing an edge, x 0–300 → 3 ha
    # cluster B (outside): two 100 m squares 20 m apart, x 400–500 and 520–620 → 2 ha, 100 m from A
    # isolated (outside): a 50 m square at x 1120–1170 → 0.25 ha, 500 m from B
    return layout(
        [(0, 0, 200, 100), (200, 0, 300, 100), (400, 0, 500, 100), (520, 0, 620, 100), (1120, 0, 1170, 50)],
        inside_block=[True, True, False, False, False], block_id=["B1", "B1", None, None, None],
    )


def test_two_clusters_and_isolated_by_hand(two_clusters_and_one):
    parcels = two_clusters_and_one
    ids = clusters(parcels, 50)
    assert ids.tolist() == [0, 0, 1, 1, 2]
    m = fragmentation_metrics(parcels, ids)
    total = 5.25  # ha
    assert m["parcels"] == 5 and m["class_area_ha"] == pytest.approx(total)
    assert m["np"] == 3
    assert m["pd"] == pytest.approx(3 / total * 100)  # 57.14 patches per 100 ha
    assert m["area_mn_ha"] == pytest.approx(total / 3)  # 1.75 ha
    assert m["area_md_ha"] == pytest.approx(2.0)
    assert m["lpi_pct"] == pytest.approx(3 / total * 100)  # 57.14 %
    assert m["hhi"] == pytest.approx((3**2 + 2**2 + 0.25**2) / total**2)  # 0.4739
    assert m["mesh_ha"] == pytest.approx((3**2 + 2**2 + 0.25**2) / total)  # 2.488 ha
    assert m["inside_block_pct"] == pytest.approx(3 / total * 100)  # 入区率 57.14 %
    assert m["agg_pct"] == pytest.approx(80.0)  # the isolated square alone has no neighbour
    assert m["enn_mn_m"] == pytest.approx((100 + 100 + 500) / 3)
    # against a reference area of 100 ha (e.g. a block outline)
    m100 = fragmentation_metrics(parcels, ids, total_area_m2=1_000_000)
    assert (m100["pd"], m100["lpi_pct"], m100["mesh_ha"]) == pytest.approx((3.0, 3.0, 13.0625 / 100))


def test_metrics_of_one_patch_and_of_nothing(two_clusters_and_one):
    one = two_clusters_and_one.iloc[:2]
    m = fragmentation_metrics(one, clusters(one, 50))
    assert (m["np"], m["lpi_pct"], m["hhi"], m["agg_pct"]) == (1, 100.0, 1.0, 100.0)
    assert np.isnan(m["enn_mn_m"])  # no other patch
    none = two_clusters_and_one.iloc[:0]
    assert fragmentation_metrics(none, clusters(none, 50))["np"] == 0


def test_group_metrics_split_a_cluster_at_the_block_edge():
    # B1: squares at x 0–100 and 110–210; B2: a square at x 220–320 (10 m from B1's) and one at 1000–1100
    parcels = layout([(0, 0, 100, 100), (110, 0, 210, 100), (220, 0, 320, 100), (1000, 0, 1100, 100)],
                     block_id=["B1", "B1", "B2", "B2"], inside_block=True)
    assert clusters(parcels, 50).tolist() == [0, 0, 0, 1]  # the park: one cluster across the edge
    rows = group_metrics(parcels, parcels["block_id"], 50).set_index("group")
    assert rows.loc["B1", "np"] == 1 and np.isnan(rows.loc["B1", "enn_mn_m"])
    assert rows.loc["B2", "np"] == 2  # x 220–320 and 1000–1100: 680 m apart, each other's nearest
    assert rows.loc["B2", "enn_mn_m"] == pytest.approx(680)
    assert rows.loc["B2", "lpi_pct"] == pytest.approx(50)
    assert rows.loc["B1", "area_mn_ha"] == pytest.approx(2.0)
    # the park's clusters given: the whole cluster {x 1000–1100} keeps its polygon, the cut one is dissolved again
    labels = clusters(parcels, 50).to_numpy()
    given = group_metrics(parcels, parcels["block_id"], 50, clusters=(labels, dissolve(parcels.geometry.values, labels)))
    pd.testing.assert_frame_equal(given.set_index("group"), rows)


# --- against brute force -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_parcels():
    """About 300 random rectangles and rotated quadrilaterals in 2 km², some overlapping, one duplicated."""
    rng = np.random.default_rng(20250307)
    n = 300
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    w, h = rng.uniform(10, 90, n), rng.uniform(10, 90, n)
    angle = rng.uniform(0, np.pi / 2, n)
    geoms = []
    for i in range(n):  # building the test layout, not the code under test
        box = shapely.box(-w[i] / 2, -h[i] / 2, w[i] / 2, h[i] / 2)
        rotated = shapely.affinity.rotate(box, angle[i], use_radians=True) if i % 3 == 0 else box
        geoms.append(shapely.affinity.translate(rotated, X0 + x[i], Y0 + y[i]))
    geoms.append(geoms[17])  # an exact duplicate: its nearest other parcel is at 0 m
    frame = gpd.GeoDataFrame({"parcel_id": [f"R{i}" for i in range(len(geoms))]}, geometry=geoms, crs=WORKING)
    frame["area_m2"] = frame.area
    frame["area_mu"] = frame["area_m2"] / M2_PER_MU
    return frame


def brute_distances(frame) -> np.ndarray:
    g = np.asarray(frame.geometry.values)
    full = shapely.distance(g[:, None], g[None, :])
    np.fill_diagonal(full, np.inf)
    return full


def test_nearest_distance_against_all_pairs(random_parcels):
    full = brute_distances(random_parcels)
    expected = full.min(axis=1)
    assert expected[17] == 0 and expected[-1] == 0
    np.testing.assert_allclose(nearest_distance(random_parcels).to_numpy(), expected, rtol=0, atol=1e-9)
    pairs = neighbour_graph(random_parcels, 50, return_distance=True)  # as assess_scatter does it
    np.testing.assert_allclose(nearest_distance(random_parcels, pairs=pairs).to_numpy(), expected, rtol=0, atol=1e-9)
    lone = random_parcels.iloc[[5]]
    assert np.isnan(nearest_distance(lone).iloc[0])


def test_patch_nearest_distance_against_all_pairs(random_parcels):
    # the patches at 40 m (disjoint unions of parcels, some of hundreds of vertices), a far one and an empty one
    ids = clusters(random_parcels, 40.0).to_numpy()
    patches = np.append(dissolve(random_parcels.geometry.values, ids).to_numpy(),
                        [shapely.box(X0 + 90_000, Y0, X0 + 90_010, Y0 + 10), shapely.Polygon()])
    g = patches[:-1]
    full = shapely.distance(g[:, None], g[None, :])
    np.fill_diagonal(full, np.inf)
    got = patch_nearest_distance(patches)
    np.testing.assert_array_equal(got[:-1], full.min(axis=1))  # the same distances, bit for bit
    assert np.isnan(got[-1]) and got[-2] > 80_000
    assert np.isnan(patch_nearest_distance(patches[:1])).all() and np.isnan(patch_nearest_distance(patches[-2:])).all()
    near = [shapely.box(0, 0, 1, 1), shapely.box(3, 0, 4, 1)]  # a radius of their own size finds them
    assert patch_nearest_distance(np.array(near)).tolist() == [2.0, 2.0]


def test_neighbour_graph_and_clusters_against_all_pairs(random_parcels):
    full = brute_distances(random_parcels)
    for d in (0.0, 25.0, 50.0):
        i, j = np.nonzero(np.triu(full <= d, k=1))
        left, right, dist = neighbour_graph(random_parcels, d, return_distance=True)
        assert set(zip(left.tolist(), right.tolist(), strict=True)) == set(zip(i.tolist(), j.tolist(), strict=True))
        np.testing.assert_allclose(dist, full[left, right])
        graph = nx.Graph()
        graph.add_nodes_from(range(len(random_parcels)))
        graph.add_edges_from(zip(i.tolist(), j.tolist(), strict=True))
        expected = {frozenset(c) for c in nx.connected_components(graph)}
        ids = clusters(random_parcels, d).to_numpy()
        got = {frozenset(np.flatnonzero(ids == k).tolist()) for k in np.unique(ids)}
        assert got == expected


def test_components_numbering_and_long_chains():
    # a path numbered from the far end (the worst case for naive label propagation) and a star
    n = 10_000
    order = np.random.default_rng(1).permutation(n)
    labels = components(n + 3, order[:-1], order[1:])
    assert (labels[:n] == 0).all() and labels[n:].tolist() == [1, 2, 3]  # + three lone nodes
    assert components(4, np.array([3, 3]), np.array([1, 2])).tolist() == [0, 1, 1, 1]
    assert components(3, np.array([], dtype=int), np.array([], dtype=int)).tolist() == [0, 1, 2]


# --- raster cross-check ----------------------------------------------------------------------------


def test_patches_agree_with_a_raster_count():
    ndimage = pytest.importorskip("scipy.ndimage")
    from affine import Affine
    from rasterio.features import rasterize

    distance = 20.0
    shapes = [
        shapely.box(0, 0, 120, 80), shapely.box(120, 0, 200, 80),  # sharing an edge
        shapely.box(200, 80, 260, 140),  # touching the last at a corner only
        shapely.Polygon([(300, 0), (380, 10), (360, 90), (290, 70)]),  # irregular, 31.6 m from the nearest
        shapely.affinity.rotate(shapely.box(0, 0, 60, 30), 30, origin=(0, 0)),  # rotated 30°, moved 33 m east of it
        shapely.box(0, 200, 100, 260), shapely.box(105, 200, 180, 260),  # 5 m gap
        shapely.box(192, 200, 250, 260),  # 12 m gap
        shapely.box(285, 200, 340, 260),  # 35 m gap
        shapely.box(400, 200, 470, 250),  # 60 m gap
        shapely.Polygon([(0, 320), (90, 320), (45, 400)]),  # a triangle, 60 m above the row
    ]
    shapes[4] = shapely.affinity.translate(shapes[4], 420, 20)
    parcels = gpd.GeoDataFrame(geometry=[shapely.affinity.translate(s, X0, Y0) for s in shapes], crs=WORKING)
    parcels["area_m2"] = parcels.area
    parcels["inside_block"] = False

    # the raster: 1 m cells, 30 m margin (more than the dilation)
    xmin, ymin, xmax, ymax = parcels.total_bounds
    margin = 30
    transform = Affine(1, 0, np.floor(xmin) - margin, 0, -1, np.ceil(ymax) + margin)  # 1 m cells, north up
    shape = (int(np.ceil(ymax) - np.floor(ymin)) + 2 * margin, int(np.ceil(xmax) - np.floor(xmin)) + 2 * margin)
    grid = rasterize(((g, 1) for g in parcels.geometry), out_shape=shape, transform=transform, fill=0, dtype="uint8")
    eight = np.ones((3, 3), dtype=bool)

    # touching (distance 0) ↔ 8-connected cells
    raster_patches, raster_np = ndimage.label(grid, structure=eight)
    vector = fragmentation_metrics(parcels, clusters(parcels, 0))
    assert raster_np == vector["np"]  # 9 = 9 (the corner-touching square joins under 8-connectivity)
    raster_area = grid.sum()  # m²
    assert raster_area / 1e4 == pytest.approx(vector["class_area_ha"], rel=0.005)
    raster_lpi = 100 * np.bincount(raster_patches.ravel())[1:].max() / raster_area
    assert raster_lpi == pytest.approx(vector["lpi_pct"], abs=0.5)

    # within 20 m ↔ cells 8-connected after dilating each patch by half the distance (a 10 m disk)
    r = int(distance / 2)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disk = xx**2 + yy**2 <= r**2
    _, raster_np20 = ndimage.label(ndimage.binary_dilation(grid, structure=disk), structure=eight)
    vector20 = fragmentation_metrics(parcels, clusters(parcels, distance))
    assert raster_np20 == vector20["np"]  # 7 = 7
    # Agreement (measured): the patch counts are equal at 0 m (9 patches) and at 20 m (7
    # clusters); the class area of the 1 m raster is 51,626 m² against 51,630 m² of vector
    # area (−0.008 %, cell-centre sampling of the edges) and the largest patch index 37.965 %
    # against 37.962 % (0.003 percentage point). Every gap lies 8 m or more from the 20 m
    # threshold (5, 12 | 31.6, 33, 35, 60 m), so the raster's ±1 cell changes no join.
    assert raster_area / 1e4 == pytest.approx(vector["class_area_ha"], rel=0.001)
    assert raster_lpi == pytest.approx(vector["lpi_pct"], abs=0.1)


# --- flags ---------------------------------------------------------------------------------------


def test_scatter_flags_and_reasons(spec, two_clusters_and_one):
    # add a small plot inside block B1, 1 km from anything, and a small isolated plot far outside
    parcels = pd.concat([two_clusters_and_one,
                         layout([(0, 1000, 40, 1040), (3000, 0, 3040, 40)], inside_block=[True, False], block_id=["B1", None])],
                        ignore_index=True)
    flags = scatter_flags(parcels, spec)
    # areas (亩): 30, 15, 15, 15, 3.75, 2.4, 2.4; nearest: 0, 0, 20, 20, 500, 900, 1830
    assert flags["small"].tolist() == [False, False, False, False, True, True, True]
    assert flags["isolated"].tolist() == [False, False, False, False, True, True, True]
    assert flags["sporadic"].tolist() == (~parcels["inside_block"]).tolist()  # 零星: a location, not a size
    assert flags.loc[4, "scatter_reason_zh"] == "小地块(3.8亩<10亩)；孤立(距最近产业用地500米>200米)；区块外"
    assert flags.loc[4, "scatter_reason_en"] == (
        "small plot (3.8 mu < 10 mu); isolated (500 m from other industrial land > 200 m); outside the blocks")
    assert flags.loc[5, "scatter_reason_zh"] == "小地块(2.4亩<10亩)；孤立(距最近产业用地900米>200米)"
    assert flags.loc[0, "scatter_reason_zh"] == ""
    alone = scatter_flags(parcels.iloc[[6]], spec)
    assert alone["isolated"].iloc[0] and alone["scatter_reason_zh"].iloc[0].startswith("小地块(2.4亩<10亩)；孤立(周边无其他产业用地)")


def test_geographic_parcels_are_refused(two_clusters_and_one):
    with pytest.raises(CRSError, match="projected CRS"):
        neighbour_graph(two_clusters_and_one.to_crs("EPSG:4490"), 50)


# --- adjustments ---------------------------------------------------------------------------------


@pytest.fixture
def adjustable():
    """Block B1 = x, y 0–400 with two small plots sharing an edge and one large plot; outside it an A/B
    cluster 10 m from its edge, a small isolated C plot and a small isolated A plot."""
    parcels = layout(
        [
            (10, 10, 60, 60), (60, 10, 110, 60),  # P0 (A), P1 (B): 3.75 亩 each, sharing an edge, in B1
            (200, 200, 390, 390),  # P2: 54.15 亩 in B1
            (410, 0, 510, 250), (510, 0, 610, 250),  # P3 (A), P4 (B): 37.5 亩 each, 10 m east of B1, 20 m from P2
            (60, -1000, 100, -960),  # P5: 2.4 亩 grade C, isolated: 970 m below P0 and P1
            (-2000, 0, -1960, 40),  # P6: 2.4 亩 grade A, isolated
        ],
        inside_block=[True, True, True, False, False, False, False],
        block_id=["B1", "B1", "B1", None, None, None, None],
        grade=["A", "B", "A", "A", "B", "C", "A"],
    )
    blocks = gpd.GeoDataFrame({"block_id": ["B1"]}, geometry=[shapely.box(X0, Y0, X0 + 400, Y0 + 400)], crs=WORKING)
    return parcels, blocks


def test_merges_only_compatible_plots(spec, adjustable):
    # #17: 归并 only where land use and ownership allow and the grades share a group ([A, B], [C, D]); U never
    parcels, _blocks = adjustable
    for change in ({"grade": ["C", "B"]}, {"grade": ["U", "U"]}, {"land_use": ["M1", "W1"]}, {"ownership": ["state", "collective"]}):
        changed = parcels.copy()
        for column, values in change.items():
            changed[column] = changed.get(column, pd.Series("M1" if column == "land_use" else "state", index=changed.index))
            changed.loc[changed.index[:2], column] = values
        proposals = adjustment_proposals(changed, spec=spec)
        assert proposals.loc[0, "adjustment"] == proposals.loc[1, "adjustment"] == "", change
    lenient = spec.model_copy(update={"merge_grade_groups": [], "merge_same_land_use": False})
    changed = parcels.assign(land_use=["M1", "W1", *parcels["land_use"].iloc[2:]] if "land_use" in parcels else ["M1", "W1"] + ["M1"] * 5)
    changed.loc[changed.index[0], "grade"] = "C"
    assert adjustment_proposals(changed, spec=lenient).loc[0, "adjustment"] == "merge"


def test_adjustment_proposals(spec, adjustable):
    # only 归并 here: 调出 and 调入 change the blocks (landkit.analyses.adjustment, tests/test_block_adjustment.py)
    parcels, _blocks = adjustable
    proposals = adjustment_proposals(parcels, spec=spec)
    assert proposals["adjustment"].tolist() == ["merge", "merge", "", "", "", "", ""]
    assert proposals.loc[0, "adjustment_group"] == proposals.loc[1, "adjustment_group"] == "M1"
    assert proposals.loc[0, "adjustment_block"] == "B1"
    assert proposals.loc[0, "adjustment_zh"] == "归并：区块B1内相邻小地块2宗，合计7.5亩"
    assert proposals.loc[0, "adjustment_en"] == "merge: 2 adjacent small plots in block B1, 7.5 mu together"
    # merge only C/D plots: P1 (B) is left, so P0 has no partner
    picky = adjustment_proposals(parcels, spec=spec.model_copy(update={"merge_grades": ["C", "D"]}))
    assert picky.loc[0, "adjustment"] == ""
    # no grades: merges still proposed (grade groups need grades: none to compare, so none refused)
    ungraded = adjustment_proposals(parcels.drop(columns="grade"), spec=spec)
    assert ungraded["adjustment"].tolist() == ["merge", "merge", "", "", "", "", ""]
    # plots farther apart than merge_distance_m (0: sharing an edge) do not merge
    apart = parcels.copy()
    apart.loc[1, "geometry"] = shapely.box(X0 + 61, Y0 + 10, X0 + 111, Y0 + 60)
    assert adjustment_proposals(apart, spec=spec)["adjustment"].eq("").all()
    assert adjustment_proposals(apart, spec=spec.model_copy(update={"merge_distance_m": 2}))["adjustment"].iloc[:2].eq("merge").all()


def test_apply_adjustments_and_before_after(spec, adjustable):
    parcels, _blocks = adjustable
    proposals = adjustment_proposals(parcels, spec=spec)
    adjusted = apply_adjustments(parcels, proposals)
    assert sorted(adjusted["parcel_id"]) == ["P0+P1", "P2", "P3", "P4", "P5", "P6"]  # P0 and P1 merged
    merged = adjusted.set_index("parcel_id").loc["P0+P1"]
    assert merged["area_m2"] == pytest.approx(5000) and merged["merged_parcels"] == 2
    assert merged.geometry.equals(shapely.box(X0 + 10, Y0 + 10, X0 + 110, Y0 + 60))

    table = before_after(parcels, proposals, spec=spec).set_index("metric")
    # patches {P0,P1} {P2,P3,P4} (P2–P3 20 m) {P5} {P6} before and after: merging inside a patch keeps them
    assert table.loc["np", ["before", "after", "change"]].tolist() == [4, 4, 0]
    # 入区率 (2500 + 2500 + 36100) / 94300 before and after
    assert table.loc["inside_block_pct", "before"] == table.loc["inside_block_pct", "after"] == pytest.approx(100 * 41100 / 94300)
    assert table.loc["parcels", ["before", "after"]].tolist() == [7, 6]
    assert table.loc["sporadic_parcels", ["before", "after"]].tolist() == [4, 4]
    assert table.loc["small_parcels", ["before", "after"]].tolist() == [4, 3]  # P0+P1 is 7.5 亩: still small


def _after_both_ways(parcels, spec, *, contracted: bool = True):
    """Return the park's metrics as merged: by :func:`merged_metrics`, and measured again from scratch."""
    columns, state = park_state(parcels, spec)
    proposals = adjustment_proposals(parcels.join(columns[["small"]]), spec=spec, pairs=state["pairs"])
    adjusted = apply_adjustments(parcels, proposals)
    # whether the pairs before answer (else merged_metrics measures the park again itself)
    assert (_contracted_metrics(parcels, adjusted, columns, state, proposals, spec) is not None) == contracted
    return merged_metrics(parcels, adjusted, columns, state, proposals, spec), park_state(adjusted, spec)[1]["metrics"]


def test_merged_metrics_equal_the_park_measured_again(spec, adjustable):
    parcels, _blocks = adjustable
    # P0 and P1 merge inside a cluster with P7, a 12.15 亩 plot east of P1 (the pairs before answer);
    # as the fixture stands, P0+P1 is a cluster of its own, with no plot within 50 m (its nearest
    # searched), and P0 and P1 alone have no other plot (NaN); plots 1 m apart merged at a
    # cluster distance of 0 join two clusters (measured again)
    near = pd.concat([parcels, layout([(110, 10, 200, 100)], inside_block=True, block_id="B1", grade="A").assign(parcel_id="P7")],
                     ignore_index=True)
    apart = parcels.copy()
    apart.loc[1, "geometry"] = shapely.box(X0 + 61, Y0 + 10, X0 + 111, Y0 + 60)
    cases = [(near, spec, True), (parcels, spec, True), (parcels.iloc[:2].copy(), spec, True),
             (apart, spec.model_copy(update={"merge_distance_m": 2, "cluster_distance_m": 0}), False)]
    for frame, settings, answers in cases:
        contracted, measured = _after_both_ways(frame, settings, contracted=answers)
        assert contracted.keys() == measured.keys()
        for key, value in measured.items():
            assert contracted[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key
    # at a cluster distance of 0: {P0} {P1} {P2} {P3,P4} {P5} {P6} before, P0 and P1 one patch after
    assert _after_both_ways(apart, cases[3][1], contracted=False)[0]["np"] == 5


# --- the whole analysis ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    from landkit.data.dataset import load_dataset
    from landkit.pipeline import assess

    project = load_config(SAMPLE)
    data = load_dataset(project)
    return project, data, assess(data, project)


def test_assess_scatter_on_the_sample(sample):
    project, data, assessed = sample
    result = assess_scatter(assessed.parcels, project, blocks=data.blocks)
    parcels = assessed.parcels
    out = result.parcels
    assert list(out.columns) == PARCEL_COLUMNS and out.index.equals(parcels.index)
    # the cluster layer covers every parcel once, and its areas add up
    assert result.clusters["parcels"].sum() == len(parcels)
    assert result.clusters["area_m2"].sum() == pytest.approx(parcels["area_m2"].sum())
    assert result.clusters.area.sum() == pytest.approx(parcels.area.sum(), rel=1e-6)
    assert out.groupby("cluster_id")["cluster_parcels"].first().tolist() == result.clusters["parcels"].tolist()
    park = result.metrics.set_index(["level", "group"]).loc[("park", "park")]
    assert park["np"] == len(result.clusters) == out["cluster_id"].nunique()
    assert set(result.metrics["level"]) == {"park", "block", "ring"}
    blocks = result.metrics[result.metrics["level"] == "block"]
    assert set(blocks["group"]) == {*data.blocks["block_id"], "outside"}
    assert blocks["parcels"].sum() == len(parcels)
    np.testing.assert_allclose(blocks.loc[blocks["group"] != "outside", "inside_block_pct"], 100)
    assert park["inside_block_pct"] == pytest.approx(100 * parcels.loc[parcels["inside_block"], "area_m2"].sum() / parcels["area_m2"].sum())
    # sporadic = outside the blocks; merges are small plots of one block, in groups of two or more
    assert (out["sporadic"] == ~parcels["inside_block"]).all()
    merged = out["adjustment"] == "merge"
    assert merged.any() and out.loc[merged, "small"].all() and parcels.loc[merged, "inside_block"].all()
    assert (out.loc[merged].groupby("adjustment_group")["adjustment_block"].nunique() == 1).all()
    assert (out.loc[merged, "adjustment_group"].value_counts() >= 2).all()
    assert not parcels.loc[merged, "grade"].eq("U").any()
    table = result.before_after.set_index("metric")
    # each merge of k plots leaves k − 1 parcels fewer
    groups = out.loc[merged, "adjustment_group"].nunique()
    assert table.loc["parcels", "change"] == -(merged.sum() - groups)
    assert table.loc["inside_block_pct", "change"] == pytest.approx(0, abs=1e-9)
    assert (result.report["sporadic"], result.report["adjustments"]["merge"]["parcels"]) == (out["sporadic"].sum(), merged.sum())
    # the park as merged, measured again from scratch, gives the same "after"
    measured = park_state(result.adjusted, project.scatter)[1]["metrics"]
    np.testing.assert_allclose(table.loc[list(measured), "after"].to_numpy(dtype=float), list(measured.values()), rtol=1e-12)


def test_assess_scatter_land_uses_and_no_grades(sample):
    project, data, assessed = sample
    only_m = project.model_copy(update={"scatter": project.scatter.model_copy(update={"land_uses": ["M1", "M2", "M3"]})})
    parcels = assessed.parcels.drop(columns=["grade", "ring"])
    result = assess_scatter(parcels, only_m, blocks=data.blocks)
    other = ~parcels["land_use"].isin(["M1", "M2", "M3"])
    assert (result.parcels.loc[other, "cluster_id"] == -1).all()
    assert not result.parcels.loc[other, ["small", "isolated", "sporadic"]].any().any()
    assert result.parcels["adjustment"].isin(["", "merge"]).all()
    assert result.metrics.iloc[0]["parcels"] == (~other).sum()
    assert set(result.metrics["level"]) == {"park", "block", "ring"}  # rings from the project's blocks
