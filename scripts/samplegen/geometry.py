"""Geometry helpers: the in-memory raster, the tiles of a larger city, TM/geographic transforms, draws."""


from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from samplegen.constants import OUT_CRS, TMERC

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

TO_TM = Transformer.from_crs(OUT_CRS, TMERC, always_xy=True)
TO_GEO = Transformer.from_crs(TMERC, OUT_CRS, always_xy=True)



@dataclass
class Raster:
    """A single-band raster held in memory.

    Attributes
    ----------
    array : numpy.ndarray
        2-D band.
    transform : affine.Affine
        Pixel-to-CRS transform.
    crs : str
        CRS of the grid, e.g. ``"EPSG:4326"``.
    nodata : float
        Value marking missing pixels.
    description : str
        Short description written into the GeoTIFF.
    """

    array: np.ndarray
    transform: Any
    crs: str
    nodata: float
    description: str = ""


@dataclass
class Tile:
    """One copy of the district: its index and metric offset from Minhang."""

    index: int
    dx: float
    dy: float

    @property
    def prefix(self) -> str:
        """Name prefix for synthetic copies ("" for Minhang itself)."""
        return "" if self.index == 0 else f"扩展区{self.index + 1:03d}·"


@dataclass
class Layout:
    """Intermediate state shared by the layer builders (metric geometry)."""

    tiles: list[Tile]
    blocks: pd.DataFrame  # with tmerc geometry column "geom" and profile columns
    outlines: np.ndarray  # tmerc polygons, one per tile
    major: pd.DataFrame = field(default_factory=pd.DataFrame)  # named roads (tmerc)


def to_tm_xy(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray) -> np.ndarray:
    """Project lon/lat (EPSG:4490) to ``(n, 2)`` :data:`TMERC` coordinates."""
    x, y = TO_TM.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


def geoms_to_geo(geoms: np.ndarray) -> np.ndarray:
    """Transform shapely geometries from :data:`TMERC` to EPSG:4490 (lon, lat)."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = TO_GEO.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def geoms_to_tm(geoms: np.ndarray) -> np.ndarray:
    """Transform shapely geometries from EPSG:4490 to :data:`TMERC`."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = TO_TM.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def affine_geoms(geoms: np.ndarray, cos: float, sin: float, dx: float, dy: float) -> np.ndarray:
    """Rotate (by cos/sin) then translate geometries; identical inputs give identical outputs."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x = xy[:, 0] * cos - xy[:, 1] * sin + dx
        y = xy[:, 0] * sin + xy[:, 1] * cos + dy
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def inverse_affine_geoms(geoms: np.ndarray, cos: float, sin: float, dx: float, dy: float) -> np.ndarray:
    """Inverse of :func:`affine_geoms`."""

    def fn(xy: np.ndarray) -> np.ndarray:
        x = xy[:, 0] - dx
        y = xy[:, 1] - dy
        return np.column_stack([x * cos + y * sin, -x * sin + y * cos])

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def categorical(rng: np.random.Generator, labels: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """Draw one label per row of ``probs`` (rows need not be normalised).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    labels : sequence of str
        Category labels, one per column of ``probs``.
    probs : numpy.ndarray
        ``(n, k)`` non-negative weights.

    Returns
    -------
    numpy.ndarray
        ``n`` labels (object dtype).
    """
    probs = np.asarray(probs, float)
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))
    idx = (u[:, None] > cum).sum(axis=1)
    return np.asarray(labels, dtype=object)[np.minimum(idx, len(labels) - 1)]


def spiral(n: int) -> Iterator[tuple[int, int]]:
    """Yield ``n`` integer grid cells in a square spiral starting at (0, 0)."""
    x = y = 0
    dx, dy = 1, 0
    seg_len, seg_done, turns = 1, 0, 0
    for _ in range(n):
        yield x, y
        x, y = x + dx, y + dy
        seg_done += 1
        if seg_done == seg_len:
            seg_done = 0
            dx, dy = -dy, dx
            turns += 1
            if turns % 2 == 0:
                seg_len += 1
