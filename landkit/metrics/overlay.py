"""Overlay measures that stay fast when one polygon is as large as a park.

A line's length inside a polygon is ``shapely.length(shapely.intersection(line, polygon))``, and
GEOS scans every vertex of the polygon for each line (it clips the polygon's rings to the line's
envelope first, but the scan is linear). For a park outline of 40,000 vertices and 30,000 roads
crossing it that is a billion vertex visits. :func:`length_inside` cuts the polygon once into the
cells of a loose quadtree (the idea of PostGIS ``ST_Subdivide``), so that each line meets only
the few vertices of the cell that holds it. No library offers this for an array of lines and one
polygon (shapely's ``STRtree`` indexes geometries, not one polygon's edges), hence the code here.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["length_inside"]

#: A cell whose piece of the polygon has at most this many vertices is not cut further.
LEAF_VERTICES = 256
#: A cell with at most this many lines is not cut further.
LEAF_LINES = 16


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Return the polygons of ``geometry`` (a polygon clipped to a box can gain lines and points on the box's edge)."""
    if shapely.get_type_id(geometry) != 7:  # a geometry collection
        return geometry
    parts = shapely.get_parts(geometry)
    return shapely.multipolygons(parts[np.isin(shapely.get_type_id(parts), (3, 6))])


def length_inside(lines: np.ndarray, polygon: BaseGeometry) -> np.ndarray:
    """Return the length of each line inside ``polygon``, in the lines' units.

    The polygon is cut recursively into quadrants, each kept with a margin of half its side
    (a loose quadtree): a line whose bounding box lies strictly inside a quadrant's box with
    its margin is measured against that quadrant's piece of the polygon, which near the line
    has the polygon's own edges, so the answer is the intersection with the whole polygon;
    a line that fits no quadrant is measured at the level it stopped. Cutting stops where a
    piece has at most :data:`LEAF_VERTICES` vertices or a cell at most :data:`LEAF_LINES` lines.

    Parameters
    ----------
    lines : ndarray of shapely geometries
        The lines (any geometry: its length inside is measured).
    polygon : shapely geometry
        A polygon or multipolygon, in the lines' CRS.

    Returns
    -------
    ndarray of float
        ``shapely.length(shapely.intersection(line, polygon))`` for each line, equal to it but
        for the last bits of the floating point where GEOS cuts an edge at another place.
    """
    lines = np.asarray(lines, dtype=object)
    lengths = np.zeros(len(lines))
    if not len(lines) or shapely.is_empty(polygon):
        return lengths
    bounds = shapely.bounds(lines)
    xmin, ymin, xmax, ymax = shapely.bounds(polygon)
    cells = [(np.arange(len(lines)), polygon, xmin, ymin, max(xmax - xmin, ymax - ymin))]
    while cells:  # a loop over the quadtree's cells, vectorised over their lines
        index, piece, x0, y0, side = cells.pop()
        if len(index) <= LEAF_LINES or shapely.get_num_coordinates(piece) <= LEAF_VERTICES or side <= 0:
            lengths[index] = shapely.length(shapely.intersection(lines[index], piece))
            continue
        half = side / 2
        box = bounds[index]
        centre_x, centre_y = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
        cell_x = x0 + half * (centre_x >= x0 + half)
        cell_y = y0 + half * (centre_y >= y0 + half)
        margin = half / 2
        fits = ((box[:, 0] > cell_x - margin) & (box[:, 2] < cell_x + half + margin)
                & (box[:, 1] > cell_y - margin) & (box[:, 3] < cell_y + half + margin))
        stay = index[~fits]
        if len(stay):
            lengths[stay] = shapely.length(shapely.intersection(lines[stay], piece))
        for qx in (x0, x0 + half):  # the four quadrants
            for qy in (y0, y0 + half):
                mine = fits & (cell_x == qx) & (cell_y == qy)
                if mine.any():
                    loose = shapely.box(qx - margin, qy - margin, qx + half + margin, qy + half + margin)
                    cells.append((index[mine], _polygonal(shapely.intersection(piece, loose)), qx, qy, half))
    return lengths
