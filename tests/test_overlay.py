"""length_inside: each line's length inside one large polygon, against GEOS's direct intersection."""

import numpy as np
import pytest
import shapely

from landkit.metrics import overlay
from landkit.metrics.overlay import length_inside


def _park(seed: int) -> shapely.Geometry:
    """A park-like polygon: the union of 400 jittered blocks with gaps, holes and a far island."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.arange(20) * 120.0, np.arange(20) * 120.0)
    keep = rng.random(x.size) > 0.15
    x0, y0 = x.ravel()[keep] + rng.uniform(0, 15, keep.sum()), y.ravel()[keep] + rng.uniform(0, 15, keep.sum())
    blocks = shapely.box(x0, y0, x0 + rng.uniform(100, 125, keep.sum()), y0 + rng.uniform(100, 125, keep.sum()))
    park = shapely.union_all([*blocks, shapely.Point(5000, 5000).buffer(80)])
    return shapely.difference(park, shapely.Point(1200, 1200).buffer(150))


def _lines(seed: int, n: int) -> np.ndarray:
    """Random segments and polylines over and around the park, short and long, two on grid lines."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(-300, 2700, (n, 2))
    length = rng.choice([30.0, 200.0, 900.0, 4000.0], n)
    angle = rng.uniform(0, 2 * np.pi, n)
    end = start + length[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    middle = (start + end) / 2 + rng.normal(0, 20, (n, 2))
    lines = shapely.linestrings(np.stack([start, middle, end], axis=1))
    return np.append(lines, [shapely.LineString([(0, 600), (2400, 600)]), shapely.LineString([(4900, 5000), (5100, 5000)])])


@pytest.mark.parametrize("seed", [0, 1])
def test_length_inside_equals_the_direct_intersection(seed, monkeypatch):
    park, lines = _park(seed), _lines(seed, 1000)
    assert shapely.get_num_coordinates(park) > 1000  # large enough to be cut several times
    want = shapely.length(shapely.intersection(lines, park))
    got = length_inside(lines, park)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    assert (want > 0).any() and (want == 0).any() and (want < shapely.length(lines) - 1).any()
    # cut finer than the defaults (a piece per few vertices): still the same lengths
    monkeypatch.setattr(overlay, "LEAF_VERTICES", 8)
    monkeypatch.setattr(overlay, "LEAF_LINES", 1)
    np.testing.assert_allclose(length_inside(lines, park), want, rtol=1e-12, atol=1e-9)


def test_length_inside_of_nothing():
    square = shapely.box(0, 0, 10, 10)
    assert length_inside(np.array([], dtype=object), square).shape == (0,)
    line = np.array([shapely.LineString([(-5, 5), (15, 5)])])
    assert length_inside(line, shapely.Polygon()).tolist() == [0.0]
    assert length_inside(line, square).tolist() == [10.0]
