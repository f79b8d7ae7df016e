"""The routable road network: streets and roads noded, connected and snapped into one graph."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import DEAD_END_NAME, ROAD_CLASSES
from samplegen.geometry import Layout, to_tm_xy
from samplegen.places import STREET_NAME_CHARS


def make_roads(rng: np.random.Generator, layout: Layout, streets: pd.DataFrame,
               parcels_tm: np.ndarray) -> pd.DataFrame:
    """Build the routable road network: named roads, block streets, connectors, one dead end.

    All lines are noded together (split at every crossing) and every noded piece keeps the
    attributes of the line it came from.

    Returns
    -------
    pandas.DataFrame
        Output road columns plus ``geom`` (tmerc LineString).
    """
    blocks = layout.blocks
    rows: list[dict[str, Any]] = [
        {k: r[k] for k in ("道路名称", "道路等级", "设计车速", "geom")} for _, r in layout.major.iterrows()
    ]
    # internal streets: one synthetic name per street line, unique within a tile
    major_names = set(layout.major["道路名称"])
    used: dict[int, set[str]] = {}

    def street_name(tile: int) -> str:
        taken = used.setdefault(tile, set(major_names))
        for _ in range(100):
            nm = "".join(rng.choice(list(STREET_NAME_CHARS), 2)) + "路"
            if nm not in taken:
                break
        taken.add(nm)
        return nm

    names = {(b, k): street_name(int(blocks.at[b, "tile"]))
             for b, k in streets[["block", "street"]].drop_duplicates().itertuples(index=False)}
    rows.extend({"道路名称": names[(r.block, r.street)], "道路等级": "次干路",
                 "设计车速": int(rng.choice([30, 40])), "geom": r.geom, "block": r.block, "street": r.street}
                for r in streets.itertuples(index=False))
    # one connector per block, from its streets to the nearest named road of its tile; the
    # connector's ends are inserted as vertices into the lines they touch so that noding joins them
    major_by_tile = {t: shapely.union_all(g["geom"].to_numpy())
                     for t, g in layout.major.groupby("tile")}
    ends = []
    for b, g in streets.groupby("block"):
        net = shapely.union_all(g["geom"].to_numpy())
        conn = shapely.shortest_line(net, major_by_tile[blocks.at[b, "tile"]])
        if conn.length > 0.5:
            rows.append({"道路名称": street_name(int(blocks.at[b, "tile"])), "道路等级": "次干路",
                         "设计车速": 40, "geom": conn})
            ends.extend(conn.coords)
    _snap_ends(rows, ends)
    tile_centres = np.array([[t.dx, t.dy] for t in layout.tiles])

    def tile_of(geom: Any) -> int:
        p = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
        return int(np.argmin(np.hypot(*(tile_centres - p + to_tm_xy([121.42], [31.08])[0]).T)))

    _connect_pieces(rng, rows, street_name, tile_of)
    roads = pd.DataFrame(rows)
    # the deliberately disconnected piece (a T of two lines -> three noded segments), on empty
    # land of Minhang away from roads, blocks and parcels
    obstacles = shapely.STRtree(np.concatenate([roads["geom"].to_numpy(), parcels_tm,
                                                blocks["geom"].to_numpy()]))
    outline = layout.outlines[0]
    minx, miny, maxx, maxy = outline.bounds
    for _ in range(5000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        p = shapely.Point(x, y)
        if outline.contains(p.buffer(300)) and not obstacles.query(p.buffer(350), predicate="intersects").size:
            break
    else:  # pragma: no cover - the district is mostly empty land
        raise RuntimeError("no room for the dead-end road")
    a = shapely.LineString([(x - 180, y), (x + 180, y)])
    b2 = shapely.LineString([(x, y), (x, y + 220)])
    rows.extend({"道路名称": DEAD_END_NAME, "道路等级": "次干路", "设计车速": 20, "geom": g} for g in (a, b2))
    roads = pd.DataFrame(rows)
    return _node_roads(rng, roads)


#: Noded pieces shorter than this are slivers of the noding, dropped; longer ones are road (a connector
#: bridging a gap of millimetres between a street's end and a road is one, and must not be lost).
MIN_PIECE_M = 1e-6


def _node_roads(rng: np.random.Generator, roads: pd.DataFrame) -> pd.DataFrame:
    """Split all lines at every crossing and give each piece its source line's attributes."""
    src = roads["geom"].to_numpy()
    noded = shapely.get_parts(shapely.union_all(src))
    noded = noded[shapely.length(noded) > MIN_PIECE_M]
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(src)
    # nearest source line; ties (shared stretches) go to the first, i.e. the higher class
    pi, si = tree.query_nearest(mid, all_matches=True, return_distance=False)
    first = np.ones(len(pi), bool)
    order = np.lexsort((si, pi))
    pi, si = pi[order], si[order]
    first[1:] = pi[1:] != pi[:-1]
    src_of = np.empty(len(noded), int)
    src_of[pi[first]] = si[first]
    out = roads.iloc[src_of].reset_index(drop=True).copy()
    out["geom"] = noded
    # deterministic order: by class, name, then position
    cls_rank = out["道路等级"].map({c: i for i, c in enumerate(ROAD_CLASSES)})
    xy = shapely.get_coordinates(shapely.line_interpolate_point(noded, 0.5, normalized=True))
    out = out.assign(_c=cls_rank, _x=np.round(xy[:, 0], 3), _y=np.round(xy[:, 1], 3))
    out = out.sort_values(["_c", "道路名称", "_x", "_y"], kind="stable").drop(columns=["_c", "_x", "_y"])
    out = out.reset_index(drop=True)
    speed = out["设计车速"].astype("Int32")
    missing = rng.random(len(out)) < 0.05
    speed[missing] = pd.NA
    out["设计车速"] = speed
    oneway = np.full(len(out), "否", dtype=object)
    secondary = np.flatnonzero((out["道路等级"] == "次干路") & (out["道路名称"] != DEAD_END_NAME))
    if len(secondary):
        oneway[rng.choice(secondary, size=min(len(secondary), max(3, len(secondary) // 150)),
                          replace=False)] = "是"
    out["单行"] = oneway
    return out


def components(lines: np.ndarray) -> np.ndarray:
    """Connected-component label of every line (lines meet at shared endpoints)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    starts = shapely.get_coordinates(shapely.get_point(lines, 0))
    ends = shapely.get_coordinates(shapely.get_point(lines, -1))
    _, node = np.unique(np.round(np.concatenate([starts, ends]), 6), axis=0, return_inverse=True)
    node = node.ravel()
    n, m = len(lines), int(node.max()) + 1 if len(node) else 0
    graph = coo_matrix((np.ones(n), (node[:n], node[n:])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    return label[node[:n]]


def _connect_pieces(rng: np.random.Generator, rows: list[dict[str, Any]], street_name: Any,
                    tile_of: Any) -> None:
    """Join every piece of the network that is not connected to the largest one (in place).

    A block's streets can fall apart into pieces (a street clipped by a cut corner or by a
    named road's corridor), and the block's single connector reaches only one of them: each
    stray piece gets a connector of its own to the nearest line of the main network.
    """
    for _ in range(5):
        geoms = np.array([r["geom"] for r in rows], dtype=object)
        noded = shapely.get_parts(shapely.union_all(geoms))
        noded = noded[shapely.length(noded) > MIN_PIECE_M]
        comp = components(noded)
        labels, counts = np.unique(comp, return_counts=True)
        if len(labels) == 1:
            return
        main = labels[np.argmax(counts)]
        main_net = shapely.union_all(noded[comp == main])
        ends = []
        for lab in labels[labels != main]:
            piece = shapely.union_all(noded[comp == lab])
            conn = shapely.shortest_line(piece, main_net)
            rows.append({"道路名称": street_name(tile_of(piece)), "道路等级": "次干路", "设计车速": 40,
                         "geom": conn})
            ends.extend(conn.coords)
        _snap_ends(rows, ends)
    raise RuntimeError("road network still in pieces after 5 passes")  # pragma: no cover


def _snap_ends(rows: list[dict[str, Any]], ends: list[Any]) -> None:
    """Insert connector end points as vertices of the lines they touch, so that noding joins them."""
    if not ends:
        return
    geoms = np.array([r["geom"] for r in rows], dtype=object)
    pts = shapely.points(np.array(ends))
    pi, li = shapely.STRtree(geoms).query(pts, predicate="dwithin", distance=1e-3)
    for line in np.unique(li):
        near = shapely.multipoints(pts[pi[li == line]])
        rows[line]["geom"] = shapely.snap(geoms[line], near, 1e-3)


# ---- the road hierarchy: local roads (支路) added afterwards, from a stream of their own ----------------


def secondary_streets(streets: pd.DataFrame) -> pd.Series:
    """Return, per (block, street), whether a block street stays 次干路 (else it becomes 支路).

    In each block and direction, every third street counting from the middle one stays a
    secondary road (a block with one or two streets in a direction keeps its middle one); the
    others are local roads. GB 50220-95 (表7.1.6-1) asks for 1.2–1.4 km/km² of 次干路 and 3–4 of
    支路 in large cities: the block streets (180–650 m apart) are mostly the latter.
    """
    meta = streets.drop_duplicates(["block", "street"]).set_index(["block", "street"])
    keep = ((meta["rank"] - meta["n_axis"] // 2) % 3) == 0
    return keep.rename("secondary")


def add_local_roads(rng: np.random.Generator, roads: pd.DataFrame, streets: pd.DataFrame,
                    local: pd.DataFrame) -> pd.DataFrame:
    """Return the road network with its local roads (支路): block streets reclassified, lot-line roads added.

    ``roads`` is :func:`make_roads`' noded network (with the ``block``/``street`` of each block
    street's piece); its pieces keep their attributes (a piece split where a local road joins it
    keeps its source's). Block streets not picked by :func:`secondary_streets` become 支路; the
    lot-line roads of :func:`samplegen.land.local_road_lines` are added as 支路 (20 or 30 km/h,
    about 5 % without a speed, two-way), named from ``rng``, noded into the network; any that
    joins nothing (both ends on the block's edge) is dropped, so the network stays one piece (plus
    the deliberate dead end).

    Parameters
    ----------
    rng : numpy.random.Generator
        The local roads' own stream (names, speeds).
    roads : pandas.DataFrame
        Output of :func:`make_roads` (tmerc ``geom``).
    streets : pandas.DataFrame
        The block streets of :func:`samplegen.land.subdivide_blocks` (``block``, ``street``, ``axis``, ``rank``, ``n_axis``).
    local : pandas.DataFrame
        ``block`` and ``geom`` of the local roads (names are unique in the whole city).

    Returns
    -------
    pandas.DataFrame
        Road columns plus ``geom``, noded, sorted as :func:`make_roads` sorts them.
    """
    roads = roads.copy()
    is_street = roads["street"].notna().to_numpy()
    st = roads.loc[is_street, ["block", "street"]].astype(int)
    secondary = secondary_streets(streets).reindex(pd.MultiIndex.from_frame(st)).to_numpy(dtype=bool)
    cls = roads["道路等级"].to_numpy(dtype=object).copy()
    cls[np.flatnonzero(is_street)[~secondary]] = "支路"
    roads["道路等级"] = cls
    n = len(local)
    if n:
        taken = set(roads["道路名称"])
        names = np.empty(n, dtype=object)
        chars = list(STREET_NAME_CHARS)
        for i in range(n):  # a loop over roads, not parcels: unique three-character names
            for _ in range(200):
                nm = "".join(rng.choice(chars, 3)) + "路"
                if nm not in taken:
                    break
            taken.add(nm)
            names[i] = nm
        speed = pd.array(rng.choice([20, 30], n, p=[0.4, 0.6]), dtype="Int32")
        speed[rng.random(n) < 0.05] = pd.NA
        new = pd.DataFrame({"道路名称": names, "道路等级": "支路", "设计车速": speed, "单行": "否",
                            "geom": local["geom"].to_numpy()})
    else:
        new = pd.DataFrame(columns=["道路名称", "道路等级", "设计车速", "单行", "geom"])
    cols = ["道路名称", "道路等级", "设计车速", "单行"]
    old_geoms = roads["geom"].to_numpy().copy()
    new_geoms = new["geom"].to_numpy()
    # local road ends become vertices of the lines they meet, so that noding joins them
    if n:
        ends = np.concatenate([shapely.get_point(new_geoms, 0), shapely.get_point(new_geoms, -1)])
        pi, li = shapely.STRtree(old_geoms).query(ends, predicate="dwithin", distance=1e-3)
        for line in np.unique(li):  # a loop over the few lines a local road meets
            old_geoms[line] = shapely.snap(old_geoms[line], shapely.multipoints(ends[pi[li == line]]), 1e-3)
    src = np.concatenate([old_geoms, new_geoms])
    attrs = pd.concat([roads[cols], new[cols]], ignore_index=True)
    noded = shapely.get_parts(shapely.union_all(src))
    noded = noded[shapely.length(noded) > MIN_PIECE_M]
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    pi, si = shapely.STRtree(src).query_nearest(mid, all_matches=True, return_distance=False)
    order = np.lexsort((si, pi))
    pi, si = pi[order], si[order]
    first = np.ones(len(pi), bool)
    first[1:] = pi[1:] != pi[:-1]
    src_of = np.empty(len(noded), int)
    src_of[pi[first]] = si[first]
    out = attrs.iloc[src_of].reset_index(drop=True)
    out["geom"] = noded
    # drop local pieces that join nothing (the network stays one piece, plus the dead end)
    is_new = src_of >= len(old_geoms)
    for _ in range(3):
        comp = components(out["geom"].to_numpy())
        labels, counts = np.unique(comp, return_counts=True)
        main = labels[np.argmax(counts)]
        dead = (out["道路名称"] == DEAD_END_NAME).to_numpy()
        stray = is_new & (comp != main) & ~np.isin(comp, comp[dead])
        if not stray.any():
            break
        out, is_new = out[~stray].reset_index(drop=True), is_new[~stray]
    cls_rank = out["道路等级"].map({c: i for i, c in enumerate(ROAD_CLASSES)})
    xy = shapely.get_coordinates(shapely.line_interpolate_point(out["geom"].to_numpy(), 0.5, normalized=True))
    out = out.assign(_c=cls_rank.to_numpy(), _x=np.round(xy[:, 0], 3), _y=np.round(xy[:, 1], 3))
    out = out.sort_values(["_c", "道路名称", "_x", "_y"], kind="stable").drop(columns=["_c", "_x", "_y"])
    out["设计车速"] = out["设计车速"].astype("Int32")
    return out.reset_index(drop=True)
