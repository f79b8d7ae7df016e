"""The parcels: scattered plots outside the blocks, towns, and the parcels' attributes."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import LAND_USES, MU_M2, STATUSES, STRUCTURES
from samplegen.geometry import Layout, Tile, affine_geoms, categorical, to_tm_xy
from samplegen.places import PROFILES, ROAD_HALF_WIDTH_M, TOWNS


def make_scattered(rng: np.random.Generator, layout: Layout, roads_tm: np.ndarray,
                   road_class: np.ndarray, n_plots: int) -> np.ndarray:
    """Scattered (零星) plots outside the blocks: isolated plots and small clumps.

    Candidate sites sit on a 300 m lattice inside each tile's outline, away from blocks and roads;
    each site hosts one plot or a clump of 2–6 plots sharing exact edges; sites are drawn with a
    preference for land near town centres.

    Returns
    -------
    geoms : numpy.ndarray
        ``n_plots`` tmerc polygons.
    tile : numpy.ndarray
        Tile index of each plot.
    """
    if n_plots == 0:
        return np.zeros(0, dtype=object), np.zeros(0, int)
    cell = 300.0
    half = cell / 2
    # cluster sizes (number of plots per site)
    sizes = []
    while sum(sizes) < n_plots:
        sizes.append(int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.55, 0.15, 0.12, 0.08, 0.05, 0.05])))
    sizes[-1] -= sum(sizes) - n_plots
    sizes_a = np.array([s for s in sizes if s > 0])
    # candidate sites
    obstacles = np.concatenate([
        shapely.buffer(layout.blocks["geom"].to_numpy(), 60.0),
        shapely.buffer(roads_tm, np.vectorize(ROAD_HALF_WIDTH_M.get)(road_class) + 25.0, quad_segs=2),
    ])
    obst_tree = shapely.STRtree(obstacles)
    town_xy = to_tm_xy([t[1] for t in TOWNS], [t[2] for t in TOWNS])
    cand, weight, cand_tile = [], [], []
    for tile, outline in zip(layout.tiles, layout.outlines, strict=True):
        minx, miny, maxx, maxy = outline.bounds
        gx, gy = np.meshgrid(np.arange(minx + half, maxx, cell), np.arange(miny + half, maxy, cell))
        cx, cy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(shapely.buffer(outline, -cell), cx, cy)
        cx, cy = cx[inside], cy[inside]
        sq = shapely.box(cx - half, cy - half, cx + half, cy + half)
        hit = np.zeros(len(sq), bool)
        hit[np.unique(obst_tree.query(sq, predicate="intersects")[0])] = True
        cx, cy = cx[~hit], cy[~hit]
        d = np.min(np.hypot(cx[:, None] - town_xy[None, :, 0] - tile.dx,
                            cy[:, None] - town_xy[None, :, 1] - tile.dy), axis=1)
        cand.append(np.column_stack([cx, cy]))
        cand_tile.append(np.full(len(cx), tile.index))
        weight.append(0.25 + np.exp(-d / 2500.0))
    cand_a = np.concatenate(cand)
    w = np.concatenate(weight)
    if len(sizes_a) > len(cand_a):
        raise RuntimeError(f"no room for {len(sizes_a)} scattered sites ({len(cand_a)} candidates)")
    site = rng.choice(len(cand_a), size=len(sizes_a), replace=False, p=w / w.sum())
    site.sort()
    centres = cand_a[site]
    geoms: list[Any] = []
    for (sx, sy), k in zip(centres, sizes_a, strict=True):
        geoms.extend(_clump(rng, sx, sy, int(k), max_radius=half - 15.0))
    tile_of = np.repeat(np.concatenate(cand_tile)[site], sizes_a)
    return np.array(geoms, dtype=object), tile_of


def _clump(rng: np.random.Generator, sx: float, sy: float, k: int, max_radius: float) -> list[Any]:
    """``k`` plots (1–10 亩 mostly) around (sx, sy) as a grid sharing exact edges."""
    areas = np.clip(MU_M2 * 3.2 * np.exp(0.65 * rng.standard_normal(k)), 0.8 * MU_M2, 30 * MU_M2)
    ncol, nrow = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 5: (5, 1), 6: (3, 2)}[k]
    total = areas.sum()
    aspect = rng.uniform(0.6, 1.6) * ncol / nrow
    # keep the clump's half-diagonal within the site radius: W² + H² = total·(a + 1/a) ≤ (2R)²
    max_total = 0.95 * (2 * max_radius) ** 2 / (aspect + 1 / aspect)
    if total > max_total:
        areas *= max_total / total
        total = max_total
    W = np.sqrt(total * aspect)
    H = total / W
    if k == 1:
        # a slightly irregular quadrilateral
        j = rng.uniform(-0.08, 0.08, (4, 2)) * (W, H)
        pts = np.array([(-W / 2, -H / 2), (W / 2, -H / 2), (W / 2, H / 2), (-W / 2, H / 2)]) + j
        polys = [shapely.Polygon(pts)]
    else:
        cw = rng.uniform(0.7, 1.3, ncol)
        rh = rng.uniform(0.7, 1.3, nrow)
        xs = -W / 2 + W * np.concatenate([[0], np.cumsum(cw) / cw.sum()])
        ys = -H / 2 + H * np.concatenate([[0], np.cumsum(rh) / rh.sum()])
        xs[-1], ys[-1] = W / 2, H / 2
        polys = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(nrow) for i in range(ncol)]
    theta = rng.uniform(-np.pi / 4, np.pi / 4)
    r = max_radius - np.hypot(W, H) / 2
    ox, oy = (rng.uniform(-r, r, 2) if r > 0 else (0.0, 0.0))
    return list(affine_geoms(np.array(polys, dtype=object), np.cos(theta), np.sin(theta),
                              sx + ox, sy + oy))


def _town_of(xy: np.ndarray, tiles: list[Tile], tile_idx: np.ndarray) -> np.ndarray:
    """所属街镇 of points (tmerc): the nearest town centre of their tile."""
    town_xy = to_tm_xy([t[1] for t in TOWNS], [t[2] for t in TOWNS])
    dx = np.array([t.dx for t in tiles])[tile_idx]
    dy = np.array([t.dy for t in tiles])[tile_idx]
    d = np.hypot(xy[:, 0:1] - dx[:, None] - town_xy[None, :, 0],
                 xy[:, 1:2] - dy[:, None] - town_xy[None, :, 1])
    names = np.array([t[0] for t in TOWNS], dtype=object)[np.argmin(d, axis=1)]
    prefix = np.array([t.prefix for t in tiles], dtype=object)[tile_idx]
    return prefix + names


#: Building structure (建筑结构) weights by land use: 钢混, 钢结构, 砖混, 简易.
STRUCTURE_WEIGHTS = {
    "M1": (0.30, 0.55, 0.12, 0.03), "M2": (0.22, 0.60, 0.15, 0.03), "M3": (0.22, 0.60, 0.15, 0.03),
    "C65": (0.85, 0.12, 0.03, 0.0), "W1": (0.10, 0.75, 0.08, 0.07), "U": (0.40, 0.0, 0.30, 0.30),
}
#: Years between the agreed construction start and the data year of legally idle parcels (1, 2, 3, 4, 5–10).
IDLE_YEARS_WEIGHTS = (0.33, 0.22, 0.14, 0.10, 0.21)
NOT_YET_IDLE_SHARE = 0.12  # 闲置 parcels whose agreed start is this year or later (not yet legally idle)
ILLEGAL_SHARE = 0.003  # 违法用地


def _choose_unsupplied(rng: np.random.Generator, area: np.ndarray, superblock: np.ndarray,
                       share: float) -> np.ndarray:
    """Mask of in-block parcels left 未供应 (about ``share`` of the in-block parcel area).

    About half of that land goes by whole superblocks (a serviced site waiting for a project),
    the rest lot by lot.
    """
    inside = superblock >= 0
    target = share * area[inside].sum()
    chosen = np.zeros(len(area), bool)
    sbs = np.unique(superblock[inside])
    sb_area = pd.Series(area[inside]).groupby(superblock[inside]).sum()
    got = 0.0
    for k in rng.permutation(sbs):
        a = float(sb_area[k])
        if got + a <= 0.5 * target:
            chosen[superblock == k] = True
            got += a
    for i in rng.permutation(np.flatnonzero(inside & ~chosen)):
        if got >= target:
            break
        if got + area[i] <= 1.02 * target:
            chosen[i] = True
            got += area[i]
    return chosen


def make_parcel_attributes(rng: np.random.Generator, geoms: np.ndarray, profile: np.ndarray,
                           template: np.ndarray, tile_idx: np.ndarray, tiles: list[Tile],
                           year: int, superblock: np.ndarray) -> pd.DataFrame:
    """Attributes of every parcel: land use, status, lease and milestone years, buildings.

    Statuses follow the evaluation rules: 未供应 land (in blocks, ready for supply, no lease) makes
    the block land about 92 % supplied; 闲置 is land never built on (闲置土地处置办法, 2012: not
    started a year after the agreed start, ``约定动工年份``), most of it legally idle, a few parcels
    not yet; 停产 is a factory that produced and stopped (``停产年份`` 1–6 years ago).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    geoms : numpy.ndarray
        Parcel polygons (tmerc).
    profile : numpy.ndarray
        Profile key per parcel (``"scatter"`` outside blocks).
    template : numpy.ndarray
        Template block index per parcel (-1 outside blocks).
    tile_idx : numpy.ndarray
        Tile of each parcel.
    tiles : list of Tile
        The tiles.
    year : int
        Data year; leases end at ``year - 1`` at the latest.
    superblock : numpy.ndarray
        Superblock id per parcel (-1 outside blocks).

    Returns
    -------
    pandas.DataFrame
        Output columns plus helper columns ``area_m2``, ``profile``, ``template``.
    """
    n = len(geoms)
    area = shapely.area(geoms)
    last = year - 1
    prof_names = list(PROFILES)
    pidx = np.array([prof_names.index(p) for p in profile])
    use_p = np.array([[PROFILES[p]["use"].get(u, 0.0) for u in LAND_USES] for p in prof_names])
    use = categorical(rng, LAND_USES, use_p[pidx])
    st_p = np.array([[1 - PROFILES[p]["idle"] - PROFILES[p]["building"] - PROFILES[p]["stopped"],
                      PROFILES[p]["idle"], PROFILES[p]["building"], PROFILES[p]["stopped"], 0.0]
                     for p in prof_names])
    status = categorical(rng, STATUSES, st_p[pidx])
    status[use == "U"] = "在产"
    unsupplied = _choose_unsupplied(rng, area, superblock, rng.uniform(0.065, 0.085))
    status[unsupplied] = "未供应"
    use[unsupplied & (use == "U")] = "M1"  # planned land use of land still to be let
    supplied = ~unsupplied
    # lease start
    mean = np.array([PROFILES[p]["lease_mean"] for p in prof_names])[pidx]
    sd = np.array([PROFILES[p]["lease_sd"] for p in prof_names])[pidx]
    lease = np.clip(np.round(rng.normal(mean, sd)), 1995, last).astype(int)
    c65 = use == "C65"
    lease[c65] = np.maximum(lease[c65], rng.integers(2003, last + 1, c65.sum()))
    building = status == "在建"
    lease[building] = rng.integers(max(1995, last - 5), last + 1, building.sum())
    # agreed construction start (约定动工年份): a year after the lease, sometimes two, or the same year
    agreed = lease + rng.choice([1, 2, 0], size=n, p=[0.80, 0.12, 0.08])
    idle = status == "闲置"
    not_yet = idle & (rng.random(n) < NOT_YET_IDLE_SHARE)
    legal = idle & ~not_yet
    k = rng.choice(5, size=n, p=IDLE_YEARS_WEIGHTS) + 1
    k = np.where(k == 5, rng.integers(5, 11, n), k)  # years since the agreed start, idle land
    agreed[legal] = year - k[legal]
    lease[legal] = np.maximum(1995, agreed[legal] - rng.choice([1, 2], size=legal.sum(), p=[0.85, 0.15]))
    agreed[legal] = np.maximum(agreed[legal], lease[legal])
    lease[not_yet] = last
    agreed[not_yet] = last + rng.choice([1, 2], size=not_yet.sum(), p=[0.7, 0.3])
    expiry = np.where(lease < 2014, lease + 50, lease + 20)
    # first production; stopped factories
    start = np.minimum(lease + 1 + rng.geometric(0.45, n), last).astype(float)
    start[building | idle | unsupplied] = np.nan
    stopped = status == "停产"
    stop_year = np.full(n, np.nan)
    stop_year[stopped] = np.clip(rng.integers(year - 6, year, stopped.sum()), start[stopped], last)
    idle_since = np.where(legal, agreed + 1, np.nan)
    # floor area ratio
    med = {"M1": 1.1, "M2": 0.95, "M3": 0.7, "C65": 2.2, "W1": 0.8, "U": 0.45}
    lo = {"M1": 0.3, "M2": 0.3, "M3": 0.3, "C65": 1.2, "W1": 0.3, "U": 0.1}
    hi = {"M1": 2.0, "M2": 2.0, "M3": 1.2, "C65": 3.5, "W1": 1.5, "U": 1.0}
    sig = {"M1": 0.3, "M2": 0.3, "M3": 0.25, "C65": 0.22, "W1": 0.3, "U": 0.4}
    um = pd.Series(use)
    far_mult = np.array([PROFILES[p]["far_mult"] for p in prof_names])[pidx]
    far = um.map(med).to_numpy(float) * far_mult * np.exp(um.map(sig).to_numpy(float) * rng.standard_normal(n))
    far = np.clip(far, um.map(lo).to_numpy(float), um.map(hi).to_numpy(float))
    # 工业上楼: a few recent M1/C65 parcels in blocks
    vertical = ((use == "M1") | (use == "C65")) & (profile != "scatter") & (lease >= 2015) \
        & (status == "在产") & (rng.random(n) < 0.12)
    far[vertical] = 2.0 + 1.7 * rng.beta(1.2, 4.0, vertical.sum())
    far[building | unsupplied] = 0.0
    shed = rng.random(n) < 0.35  # a guard house or a shed on some idle land
    far[idle] = np.where(shed[idle], rng.uniform(0.003, 0.03, idle.sum()), 0.0)
    cov = rng.uniform(0.25, 0.60, n)
    cov[c65] = rng.uniform(0.25, 0.45, c65.sum())
    cov[use == "W1"] = rng.uniform(0.40, 0.60, (use == "W1").sum())
    cov = np.minimum(cov, far)
    floor = np.round(far * area, 2)
    foot = np.round(cov * area, 2)
    # building structure (empty where nothing is built)
    weights = np.array([STRUCTURE_WEIGHTS[u] for u in use], float)
    weights[:, 2] *= np.where(lease < 2000, 3.0, 1.0)
    weights[:, 2:] *= np.where(profile == "scatter", 2.5, 1.0)[:, None]
    structure = categorical(rng, STRUCTURES, weights)
    structure[vertical] = "钢混"
    structure[idle] = "简易"
    structure = np.where(floor > 0, structure, None)
    # 违法用地: a handful of supplied parcels, mostly scattered plots
    n_illegal = max(1, round(ILLEGAL_SHARE * n))
    w_ill = np.where(profile == "scatter", 8.0, 1.0) * supplied
    illegal = np.zeros(n, bool)
    illegal[rng.choice(n, size=n_illegal, replace=False, p=w_ill / w_ill.sum())] = True
    town = _town_of(shapely.get_coordinates(shapely.centroid(geoms)), tiles, tile_idx)
    width = max(6, len(str(n)))

    def years(a: np.ndarray, mask: np.ndarray | None = None) -> Any:
        a = np.asarray(a, float)
        if mask is not None:
            a = np.where(mask, a, np.nan)
        out = pd.array(np.where(np.isnan(a), 0, a).astype(int), dtype="Int32")
        out[np.isnan(a)] = pd.NA
        return out

    df = pd.DataFrame({
        "地块编号": [f"MH-{i:0{width}d}" for i in range(1, n + 1)],
        "用地性质": use.astype(str),
        "土地状态": status.astype(str),
        "出让年份": years(lease, supplied),
        "到期年份": years(expiry, supplied),
        "约定动工年份": years(agreed, supplied),
        "投产年份": years(start),
        "停产年份": years(stop_year),
        "闲置起始年份": years(idle_since),
        "建筑面积": floor,
        "基底面积": foot,
        "建筑结构": structure,
        "违法用地": np.where(illegal, "是", "否"),
        "所属街镇": town.astype(str),
    })
    df["area_m2"] = area
    df["profile"] = profile
    df["template"] = template
    df["tile"] = tile_idx
    df["vertical"] = vertical
    return df
