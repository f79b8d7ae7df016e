"""nearest_distances against all pairs, and against GEOS's own nearest search."""

import numpy as np
import shapely

from landkit.metrics.nearest import nearest_distances


def _shapes(seed: int, n: int, spread: float) -> np.ndarray:
    """Rotated boxes and short polylines scattered unevenly (a dense core and a sparse rim)."""
    rng = np.random.default_rng(seed)
    centre = np.vstack([rng.normal(0, spread / 10, (n // 2, 2)), rng.uniform(-spread, spread, (n - n // 2, 2))])
    size = rng.uniform(2, 80, n)
    boxes = shapely.box(centre[:, 0] - size, centre[:, 1] - size / 3, centre[:, 0] + size, centre[:, 1] + size / 3)
    boxes = np.array([shapely.affinity.rotate(b, a) for b, a in zip(boxes, rng.uniform(0, 90, n), strict=True)])
    lines = shapely.linestrings(np.stack([centre, centre + rng.normal(0, 60, (n, 2)), centre + rng.normal(0, 200, (n, 2))], axis=1))
    return np.where(rng.random(n) < 0.5, boxes, lines)


def test_nearest_distances_to_targets_against_all_pairs():
    queries, targets = _shapes(0, 400, 5000), _shapes(1, 150, 8000)
    targets = np.append(targets, [shapely.LineString(), shapely.Point(90_000, 0)])  # an empty target, a far one
    queries = np.append(queries, [shapely.Polygon(), shapely.box(80_000, -10, 80_010, 10)])
    got = nearest_distances(queries, targets)
    full = shapely.distance(queries[:, None], targets[None, :])
    np.testing.assert_array_equal(got[:-2], np.nanmin(full[:-2], axis=1))  # bit for bit
    assert np.isnan(got[-2]) and got[-1] == np.nanmin(full[-1])
    (left, _), want = shapely.STRtree(targets).query_nearest(queries, return_distance=True, all_matches=False)
    np.testing.assert_array_equal(got[left], want)
    assert np.isnan(nearest_distances(queries, np.array([shapely.Point()]))).all()


def test_nearest_distances_among_themselves_skip_only_themselves():
    shapes = _shapes(2, 300, 3000)
    shapes = np.append(shapes, [shapes[7], shapes[5].buffer(1.0)])  # a copy of 7; one around 5
    got = nearest_distances(shapes)
    full = shapely.distance(shapes[:, None], shapes[None, :])
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(got, full.min(axis=1))
    assert got[7] == got[-2] == 0 and got[5] == 0
    assert np.isnan(nearest_distances(shapes[:1])).all() and nearest_distances(np.array([shapely.Point(0, 0), shapely.Point(3, 4)])).tolist() == [5.0, 5.0]
