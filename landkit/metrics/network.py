"""Road network: a routable graph from the roads layer, and travel times over it in minutes.

Pure functions on GeoDataFrames in a projected CRS in metres (the working CRS); nothing here
reads or writes files. The three-ring analysis (三圈协同) uses them for the travel time of every
parcel to the nearest core site.

How the graph is built (:func:`build_road_graph`)

- every line (multi-lines split into their parts) becomes one edge between the nodes at its two
  ends, weighted by ``minutes`` = its length along the line / its speed; lines are taken to meet
  at their endpoints only (the layer is noded), so two roads that cross without a shared
  endpoint do not connect;
- endpoints closer than ``snap_tolerance_m`` are one node (single linkage: a chain of endpoints
  each within the tolerance of the next is one node) placed at their mean, which closes the
  near misses of digitised roads. A line shorter than the tolerance whose two ends become one
  node is dropped (its ends are joined anyway);
- a road's speed is its ``speed_kmh``, else the default of its ``road_class``
  (``rings.default_speed_kmh``), else ``rings.fallback_speed_kmh``; the report names the roads
  that got either;
- two-way roads give an edge each way, ``oneway`` True only the digitised direction; of two
  lines joining the same nodes in the same direction the faster is kept.

Travel time of a point (:func:`travel_minutes`): the straight line to its nearest node at
``access_speed_kmh``, then the fastest route along the roads to the node of a target, then the
straight line from that node to the target, minimised over the targets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landkit.core.crs import require_metric
from landkit.core.errors import DataError
from landkit.core.i18n import _
from landkit.engine.local import current_engine
from landkit.metrics.graphs import components, components_by_size

log = logging.getLogger(__name__)

#: Minutes per metre at 1 km/h: minutes = metres × MIN_PER_M_AT_1KMH / speed_kmh.
MIN_PER_M_AT_1KMH = 60.0 / 1000.0

#: How many road names a report entry lists before it only counts.
REPORT_NAMES = 20

_EDGE_ATTRS = ["minutes", "length_m", "road_name", "road_class", "speed_kmh", "road_index"]


@dataclass
class RoadGraph:
    """A routable road network.

    Attributes
    ----------
    graph : networkx.DiGraph
        Nodes are ints (``0 … n-1``) with attributes ``x``, ``y`` (working CRS, metres); edges
        carry ``minutes``, ``length_m``, ``road_name``, ``road_class``, ``speed_kmh`` and
        ``road_index`` (the index label of the road in the input layer). ``graph.graph["crs"]``
        is the CRS.
    nodes : geopandas.GeoDataFrame
        One point per node, indexed by node id (index name ``node``), in the roads' CRS, with
        ``component``: the node's weakly connected component, 0 the largest.
    report : dict
        What the build did, JSON-serialisable: ``roads``, ``lines``, ``dropped_empty``,
        ``collapsed_lines``, ``snap_tolerance_m``, ``snapped_endpoints``, ``max_snap_m``,
        ``speed_default_count``/``speed_default_roads`` (roads whose speed came from their
        class), ``speed_fallback_count``/``speed_fallback_roads``/``speed_fallback_classes``
        (roads of no or an unknown class), ``nodes``, ``edges``, ``n_components``,
        ``component_sizes`` (nodes per weakly connected component, largest first) and
        ``components`` (per component: ``component``, ``nodes``, ``edges``, ``n_roads`` and the
        first road names in ``roads``).
    """

    graph: nx.DiGraph
    nodes: gpd.GeoDataFrame
    report: dict[str, Any]

    @property
    def crs(self) -> CRS | None:
        """The CRS of the nodes (the roads' CRS)."""
        crs: CRS | None = self.nodes.crs
        return crs

    @cached_property
    def matrix(self) -> tuple[Any, dict[int, int]]:
        """The graph as a SciPy CSR matrix of edge minutes, and each node's row in it (built once).

        A zero-minute edge would vanish from a sparse matrix: weights are floored at 1e-9 min.
        """
        import scipy.sparse

        position = {n: i for i, n in enumerate(self.graph.nodes)}
        edges = list(self.graph.edges(data="minutes"))
        rows = np.fromiter((position[u] for u, _, _ in edges), dtype=np.intp, count=len(edges))
        cols = np.fromiter((position[v] for _, v, _ in edges), dtype=np.intp, count=len(edges))
        minutes = np.maximum(np.fromiter((w for _, _, w in edges), dtype=float, count=len(edges)), 1e-9)
        n = len(position)
        return scipy.sparse.csr_array((minutes, (rows, cols)), shape=(n, n)), position


# --- building --------------------------------------------------------------------------------


def _labels(frame: pd.DataFrame, column: str) -> pd.Series:
    """Road names for reports: ``road_name`` where given, else ``#<index label>``."""
    fallback = pd.Series([f"#{i}" for i in frame.index], index=frame.index, dtype=object)
    if column not in frame:
        return fallback
    names = frame[column].astype(object)
    return names.where(names.notna() & (names.astype(str).str.strip() != ""), fallback).astype(str)


def _unique_names(names: pd.Series) -> list[str]:
    """Distinct names in order of first appearance."""
    return [str(n) for n in pd.unique(names.to_numpy())]


def _road_speeds(
    roads: pd.DataFrame, default_speed_kmh: Mapping[str, float], fallback_speed_kmh: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each road's speed (km/h) and masks of those from the class default and the fallback.

    A given speed that is missing, not a number, zero or negative counts as missing.
    """
    n = len(roads)
    given = pd.to_numeric(roads["speed_kmh"], errors="coerce") if "speed_kmh" in roads else pd.Series(np.nan, index=roads.index)
    given = given.astype(float).to_numpy()
    has_speed = np.isfinite(given) & (given > 0)
    if "road_class" in roads:
        by_class = pd.to_numeric(roads["road_class"].map(dict(default_speed_kmh)), errors="coerce")
        by_class = by_class.astype(float).to_numpy()
    else:
        by_class = np.full(n, np.nan)
    from_default = ~has_speed & np.isfinite(by_class)
    from_fallback = ~has_speed & ~from_default
    speed = np.where(has_speed, given, np.where(from_default, by_class, float(fallback_speed_kmh)))
    return speed, from_default, from_fallback


def _oneway(roads: pd.DataFrame) -> np.ndarray:
    """Return the ``oneway`` flag as a bool array; missing means two-way."""
    if "oneway" not in roads:
        return np.zeros(len(roads), dtype=bool)
    try:
        flags = roads["oneway"].astype("boolean")
    except (TypeError, ValueError) as exc:
        raise DataError(_("roads: `oneway` must be yes/no (true/false); {error}").format(error=exc)) from None
    oneway: np.ndarray = flags.fillna(False).to_numpy(dtype=bool)
    return oneway


def _snap_endpoints(points: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster endpoint coordinates into nodes.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Endpoint coordinates.
    tolerance_m : float
        Endpoints within this distance of each other (directly or through a chain) are one node.

    Returns
    -------
    node : ndarray of int, shape (n,)
        Node id of every endpoint, ``0 … k-1``.
    xy : ndarray, shape (k, 2)
        Node coordinates: the mean of its endpoints.
    """
    # Identical coordinates first (exact, no tree), then near misses between distinct points.
    unique_xy, inverse = np.unique(points, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    cluster = np.arange(len(unique_xy))
    if tolerance_m > 0 and len(unique_xy) > 1:
        geoms = shapely.points(unique_xy)
        left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance_m)
        keep = left < right
        if keep.any():
            # the "within tolerance" pairs' components, numbered by their smallest point
            cluster = components(len(unique_xy), left[keep], right[keep])
    _, node_of_unique = np.unique(cluster, return_inverse=True)
    node = node_of_unique.ravel()[inverse]
    k = int(node.max()) + 1 if len(node) else 0
    counts = np.bincount(node, minlength=k).astype(float)
    xy = np.column_stack([np.bincount(node, weights=points[:, 0], minlength=k),
                          np.bincount(node, weights=points[:, 1], minlength=k)]) / counts[:, None]
    return node, xy


def build_road_graph(
    roads: gpd.GeoDataFrame,
    *,
    default_speed_kmh: Mapping[str, float],
    fallback_speed_kmh: float,
    snap_tolerance_m: float,
) -> RoadGraph:
    """Build the routable graph of a roads layer.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        LineStrings or MultiLineStrings in a projected CRS in metres, with any of the canonical
        columns ``road_name``, ``road_class``, ``speed_kmh`` (NaN when missing) and ``oneway``
        (bool or NA; NA is two-way). Empty and missing geometries are skipped.
    default_speed_kmh : Mapping[str, float]
        Speed by road class, for roads with no ``speed_kmh`` (``rings.default_speed_kmh``).
    fallback_speed_kmh : float
        Speed of a road with neither a speed nor a known class (``rings.fallback_speed_kmh``).
    snap_tolerance_m : float
        Endpoints closer than this are one node (``rings.snap_tolerance_m``); 0 joins only
        identical coordinates.

    Returns
    -------
    RoadGraph

    Raises
    ------
    DataError
        A geometry is not a line, or no road has one.
    CRSError
        The CRS is geographic or not in metres.

    Notes
    -----
    Hand-written on purpose: osmnx builds graphs from OpenStreetMap downloads (its
    ``consolidate_intersections`` needs an osmnx graph) and is not installed; networkx has no
    geometry; momepy (not installed, not a dependency: it pulls libpysal) has ``gdf_to_nx``,
    which joins exactly equal coordinates only, and ``close_gaps``, which snaps the line
    geometries themselves to gap centroids rather than telling which endpoints are one node.
    What is needed here, endpoints → node ids within a tolerance, is one STRtree query and a
    connected-components pass.
    """
    if snap_tolerance_m < 0:
        raise ValueError(f"snap_tolerance_m must be ≥ 0, not {snap_tolerance_m}")
    if not fallback_speed_kmh > 0:
        raise ValueError(f"fallback_speed_kmh must be > 0, not {fallback_speed_kmh}")
    require_metric(roads.crs, _("roads"), missing_ok=True)
    geoms = roads.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    bad = present & ~np.isin(types, [1, 5])  # LineString, MultiLineString
    if bad.any():
        rows = ", ".join(map(str, roads.index[bad][:10])) + (" …" if bad.sum() > 10 else "")
        kinds = ", ".join(pd.unique(roads.geometry[bad].geom_type))
        raise DataError(_("roads: rows {rows} are not lines but {kinds}; "
                          "the roads layer must hold LineStrings or MultiLineStrings").format(rows=rows, kinds=kinds))
    if not present.any():
        raise DataError(_("roads: no road has a line geometry"))

    frame = roads.loc[present]
    speed, from_default, from_fallback = _road_speeds(frame, default_speed_kmh, fallback_speed_kmh)
    oneway = _oneway(frame)
    names = _labels(frame, "road_name")

    # explode: one row per line part, `src` = position of its road in `frame`
    parts, src = shapely.get_parts(frame.geometry.to_numpy(), return_index=True)
    nonempty = ~shapely.is_empty(parts)
    parts, src = parts[nonempty], src[nonempty]
    starts = shapely.get_coordinates(shapely.get_point(parts, 0))
    ends = shapely.get_coordinates(shapely.get_point(parts, -1))
    node, xy = _snap_endpoints(np.concatenate([starts, ends]), snap_tolerance_m)
    u, v = node[: len(parts)], node[len(parts):]
    moved = np.hypot(*(np.concatenate([starts, ends]) - xy[node]).T)

    length = shapely.length(parts)
    road_name = frame["road_name"].astype(object).where(frame["road_name"].notna(), None).to_numpy() \
        if "road_name" in frame else np.full(len(frame), None, dtype=object)
    road_class = frame["road_class"].astype(object).where(frame["road_class"].notna(), None).to_numpy() \
        if "road_class" in frame else np.full(len(frame), None, dtype=object)
    lines = pd.DataFrame({
        "u": u,
        "v": v,
        "minutes": length * MIN_PER_M_AT_1KMH / speed[src],
        "length_m": length,
        "road_name": road_name[src],
        "road_class": road_class[src],
        "speed_kmh": speed[src],
        "road_index": frame.index.to_numpy()[src],
        "oneway": oneway[src],
        "src": src,
    })
    collapsed = lines["u"] == lines["v"]
    lines = lines.loc[~collapsed]
    backward = lines.loc[~lines["oneway"]].rename(columns={"u": "v", "v": "u"})
    edges = pd.concat([lines, backward], ignore_index=True)
    # the fastest of parallel lines; ties by input order, so the result never depends on chance
    edges = edges.sort_values("minutes", kind="stable").drop_duplicates(["u", "v"], keep="first").sort_index()

    graph = nx.DiGraph(crs=roads.crs)
    graph.add_nodes_from((i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(xy))
    graph.add_edges_from(zip(edges["u"].tolist(), edges["v"].tolist(), edges[_EDGE_ATTRS].to_dict("records"),
                             strict=True))

    # weakly connected components, largest first (ties: by smallest node id)
    component = components_by_size(len(xy), edges["u"].to_numpy(), edges["v"].to_numpy()).astype(np.int64)
    sizes = np.bincount(component).tolist() if len(component) else []
    nodes = gpd.GeoDataFrame(
        {"component": component},
        geometry=shapely.points(xy),
        index=pd.RangeIndex(len(xy), name="node"),
        crs=roads.crs,
    )
    edge_comp = component[edges["u"].to_numpy()]
    edge_names = pd.Series(names.to_numpy()[edges["src"].to_numpy()], index=edges.index)
    by_comp = edge_names.groupby(edge_comp, sort=True)
    comp_roads = by_comp.agg(_unique_names)
    comp_edges = by_comp.size()

    report: dict[str, Any] = {
        "roads": len(roads),
        "lines": len(parts),
        "dropped_empty": int((~present).sum() + (~nonempty).sum()),
        "collapsed_lines": int(collapsed.sum()),
        "snap_tolerance_m": float(snap_tolerance_m),
        "snapped_endpoints": int((moved > 0).sum()),
        "max_snap_m": float(moved.max()) if len(moved) else 0.0,
        "speed_default_count": int(from_default.sum()),
        "speed_default_roads": _unique_names(names[from_default]),
        "speed_fallback_count": int(from_fallback.sum()),
        "speed_fallback_roads": _unique_names(names[from_fallback]),
        "speed_fallback_classes": (
            [str(c) for c in pd.unique(frame["road_class"][from_fallback].dropna())] if "road_class" in frame else []
        ),
        "nodes": int(graph.number_of_nodes()),
        "edges": int(graph.number_of_edges()),
        "n_components": len(sizes),
        "component_sizes": sizes,
        "components": [
            {
                "component": k,
                "nodes": size,
                "edges": int(comp_edges.get(k, 0)),
                "n_roads": len(comp_roads.get(k, [])),
                "roads": comp_roads.get(k, [])[:REPORT_NAMES],
            }
            for k, size in enumerate(sizes)
        ],
    }
    if report["speed_fallback_count"]:
        log.info("roads: %d without speed or known class take %g km/h", report["speed_fallback_count"], fallback_speed_kmh)
    if len(sizes) > 1:
        log.info("road network: %d separate pieces; the largest has %d of %d nodes", len(sizes), sizes[0], len(xy))
    return RoadGraph(graph=graph, nodes=nodes, report=report)


# --- snapping points to nodes ----------------------------------------------------------------


def _geometries(points: gpd.GeoSeries | gpd.GeoDataFrame, crs: CRS | None, what: str) -> np.ndarray:
    """Return the geometries of ``points`` as an array in ``crs`` (reprojected when both CRSs are known)."""
    series = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if crs is not None and series.crs is not None and not CRS(series.crs).equals(CRS(crs)):
        series = series.to_crs(crs)
    elif series.crs is not None:
        require_metric(series.crs, what)
    return np.asarray(series.to_numpy(), dtype=object)


def nearest_nodes(road_graph: RoadGraph, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Return the nearest node of each point and the straight-line distance to it.

    Parameters
    ----------
    road_graph : RoadGraph
    points : geopandas.GeoSeries
        Points (reprojected to the graph's CRS if they declare another one).

    Returns
    -------
    node : ndarray of int64
        Node id per point, in the order of ``points``; -1 for a missing or empty geometry.
    distance_m : ndarray of float
        Distance to that node in metres; NaN for a missing or empty geometry.
    """
    geoms = _geometries(points, road_graph.crs, "points")
    node = np.full(len(geoms), -1, dtype=np.int64)
    dist = np.full(len(geoms), np.nan)
    valid = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(valid) == 0 or len(road_graph.nodes) == 0:
        return node, dist
    frame = gpd.GeoDataFrame(geometry=geoms[valid], crs=road_graph.crs)
    found = current_engine().map_parcels(
        nearest_node_kernel, frame, nodes=road_graph.nodes.geometry.to_numpy(), node_ids=road_graph.nodes.index.to_numpy()
    )
    at = found.index.to_numpy()
    node[valid[at]] = found["node"].to_numpy()
    dist[valid[at]] = found["distance"].to_numpy()
    return node, dist


def nearest_node_kernel(part: gpd.GeoDataFrame, context: None, *, nodes: np.ndarray, node_ids: np.ndarray) -> pd.DataFrame:
    """Kernel of :func:`nearest_nodes`: the nearest node of each point of ``part`` and the distance to it.

    Points go to SciPy's k-d tree (4× faster than GEOS's STRtree here, and the same distances:
    both take ``sqrt(dx² + dy²)``); a point with two nodes at the same distance, and any other
    geometry, to GEOS's nearest query, so that ties are broken as GEOS breaks them.
    """
    from scipy.spatial import cKDTree

    geoms = np.asarray(part.geometry.values)
    node_xy = shapely.get_coordinates(nodes)
    found = np.full(len(geoms), -1, dtype=np.int64)
    dist = np.full(len(geoms), np.nan)
    is_point = shapely.get_type_id(geoms) == 0
    geos = ~is_point
    if is_point.any() and len(node_xy) >= 2:
        d, hit = cKDTree(node_xy).query(shapely.get_coordinates(geoms[is_point]), k=2)
        at = np.flatnonzero(is_point)
        found[at], dist[at] = hit[:, 0], d[:, 0]
        geos[at[d[:, 0] == d[:, 1]]] = True
    else:
        geos |= is_point
    if geos.any():
        (i, j), d = shapely.STRtree(nodes).query_nearest(geoms[geos], return_distance=True, all_matches=False)
        at = np.flatnonzero(geos)[i]
        found[at], dist[at] = j, d
    keep = found >= 0
    return pd.DataFrame({"node": node_ids[found[keep]], "distance": dist[keep]}, index=part.index[keep])


# --- shortest paths --------------------------------------------------------------------------


def minutes_to(road_graph: RoadGraph, targets: Iterable[int]) -> pd.Series:
    """Return the network minutes from every node to the nearest of the target nodes.

    One multi-source Dijkstra on the reversed graph (a view, not a copy), so one-way streets
    count in the direction of travel towards the targets.

    Parameters
    ----------
    road_graph : RoadGraph
    targets : iterable of int
        Node ids.

    Returns
    -------
    pandas.Series
        Minutes (float) indexed by node id (sorted), named ``minutes``; a target itself is 0.
        Nodes that cannot reach any target are absent.

    Raises
    ------
    DataError
        No targets, or a target that is not a node.
    """
    graph = road_graph.graph
    sources = {int(t) for t in targets}
    if not sources:
        raise DataError(_("no target nodes to travel to"))
    unknown = sorted(t for t in sources if t not in graph)
    if unknown:
        raise DataError(_("target nodes {nodes} are not in the road graph").format(nodes=unknown[:10]))
    lengths = nx.multi_source_dijkstra_path_length(graph.reverse(copy=False), sources, weight="minutes")
    out = pd.Series(lengths, dtype=float, name="minutes").sort_index()
    out.index = out.index.astype(np.int64)
    out.index.name = "node"
    return out


def _minutes_with_offsets(road_graph: RoadGraph, offsets: Mapping[int, float]) -> tuple[pd.Series, pd.Series]:
    """Minutes from every node to the best target node, each target starting at its own offset.

    Returns ``minutes`` (network minutes to the target node plus that target's offset, minimised
    over targets) and ``via`` (the target node achieving it), both indexed by node; nodes that
    reach no target are absent.

    One search of SciPy's compiled Dijkstra on the reversed graph (the transposed matrix) with
    one virtual source linked to each target node by its offset; each node's target is read off
    the predecessor tree.
    """
    import scipy.sparse
    from scipy.sparse.csgraph import dijkstra

    matrix, position = road_graph.matrix
    n = matrix.shape[0]
    nodes = np.fromiter(position, dtype=np.int64, count=n)
    targets = np.array([position[int(t)] for t in offsets], dtype=np.intp)
    # every start lifted by 1 minute (a zero-weight edge would vanish from the sparse matrix), taken off after
    starts = np.fromiter(offsets.values(), dtype=float, count=len(targets)) + 1.0
    virtual = scipy.sparse.csr_array((starts, (np.full(len(targets), n), targets)), shape=(n + 1, n + 1))
    reverse = scipy.sparse.csr_array(scipy.sparse.block_array([[matrix.T, None], [None, scipy.sparse.csr_array((1, 1))]])) + virtual
    dist, pred = dijkstra(reverse, directed=True, indices=n, return_predecessors=True)
    dist, pred = dist[:n] - 1.0, pred[:n]
    reached = np.flatnonzero(np.isfinite(dist))
    # The target each node's route ends at: the root of its predecessor tree (targets hang off
    # the virtual source, so they are their own roots), by pointer jumping: O(log depth) steps.
    own = np.arange(n)
    root = np.where((pred == n) | (pred < 0), own, pred)
    while not np.array_equal(jumped := root[root], root):
        root = jumped
    minutes = pd.Series(dist[reached], index=nodes[reached], dtype=float, name="minutes")
    return minutes, pd.Series(nodes[root[reached]], index=nodes[reached], dtype=np.int64, name="via")


def _walk_minutes(distance_m: np.ndarray | pd.Series, speed_kmh: float) -> np.ndarray:
    """Minutes to cover ``distance_m`` in a straight line at ``speed_kmh``."""
    return np.asarray(distance_m, dtype=float) * MIN_PER_M_AT_1KMH / speed_kmh


def _target_labels(targets: gpd.GeoSeries | gpd.GeoDataFrame) -> list[str]:
    """How errors name targets: the index label, with ``site_name`` when the frame has one."""
    if isinstance(targets, gpd.GeoDataFrame) and "site_name" in targets:
        return [f"{i} ({n})" if pd.notna(n) else str(i)
                for i, n in zip(targets.index, targets["site_name"], strict=True)]
    return [str(i) for i in targets.index]


def travel_minutes(
    road_graph: RoadGraph,
    points: gpd.GeoSeries,
    targets: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    access_speed_kmh: float,
    max_target_snap_m: float,
) -> pd.DataFrame:
    """Return each point's travel time to the nearest target (e.g. every parcel to the core).

    travel = straight line point → its nearest node at ``access_speed_kmh``
    + fastest route along the roads to a target's node
    + straight line from that node to the target at ``access_speed_kmh``,
    minimised over the targets. One nearest-node lookup for all points and targets and one
    Dijkstra search from all targets at once (on the reversed graph), whatever the number of
    points.

    Parameters
    ----------
    road_graph : RoadGraph
    points : geopandas.GeoSeries
        Origins, e.g. the parcels' representative points.
    targets : geopandas.GeoSeries or geopandas.GeoDataFrame
        Destinations, e.g. the core sites; errors name them by index label (and ``site_name``
        when a GeoDataFrame has it).
    access_speed_kmh : float
        Speed off the network, both ends (``rings.access_speed_kmh``).
    max_target_snap_m : float
        A target farther than this from every node is an error rather than a long walk.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``node`` (nearest node, Int64, NA for an empty geometry),
        ``access_m`` (point → node, metres), ``target`` (index label of the target reached,
        None when none), ``network_min`` (node → target node along the roads), ``travel_min``
        (the total, minutes) and ``reachable`` (bool). A point whose node reaches no target
        (a separate piece of network, a one-way trap) has NaN times and ``reachable`` False.

    Raises
    ------
    DataError
        No targets, or a target farther than ``max_target_snap_m`` from any node (named).
    """
    if not access_speed_kmh > 0:
        raise ValueError(f"access_speed_kmh must be > 0, not {access_speed_kmh}")
    if len(targets) == 0:
        raise DataError(_("no targets to travel to (is the core_sites layer empty?)"))
    t_node, t_dist = nearest_nodes(road_graph, targets.geometry if isinstance(targets, gpd.GeoDataFrame) else targets)
    far = ~(t_dist <= max_target_snap_m)  # NaN (empty geometry) is far too
    if far.any():
        labels = _target_labels(targets)
        which = "; ".join(
            f"{labels[i]}: " + (_("no geometry") if np.isnan(t_dist[i]) else f"{t_dist[i]:,.0f} m")
            for i in np.flatnonzero(far)
        )
        raise DataError(
            _("targets farther than {distance:g} m from any road node: {which}; check their "
              "location and CRS, or add the roads that serve them to the roads layer").format(
                distance=max_target_snap_m, which=which)
        )
    t_access = _walk_minutes(t_dist, access_speed_kmh)
    # Several targets on one node: the one with the shortest walk from the node stands for it.
    best = (
        pd.DataFrame({"node": t_node, "access_min": t_access, "pos": np.arange(len(t_node))})
        .sort_values(["access_min", "pos"], kind="stable")
        .drop_duplicates("node")
        .set_index("node")
    )
    minutes, via = _minutes_with_offsets(road_graph, best["access_min"].to_dict())

    node, access_m = nearest_nodes(road_graph, points)
    has_node = node >= 0
    lookup = pd.Index(node)
    total = np.where(has_node, minutes.reindex(lookup).to_numpy(), np.nan)
    reached = np.isfinite(total)
    target_pos = np.full(len(node), -1, dtype=np.int64)
    target_pos[reached] = best["pos"].reindex(via.reindex(lookup[reached]).to_numpy()).to_numpy()
    target_access = np.where(reached, t_access[target_pos], np.nan)
    target_label = np.asarray(targets.index, dtype=object)
    node_column = pd.array(node, dtype="Int64")
    node_column[~has_node] = pd.NA
    return pd.DataFrame(
        {
            "node": node_column,
            "access_m": access_m,
            # (numpy's stubs refuse None, which np.where takes as an object scalar)
            "target": np.where(reached, target_label[target_pos], None),  # type: ignore[call-overload]
            "network_min": total - target_access,
            "travel_min": _walk_minutes(access_m, access_speed_kmh) + total,
            "reachable": reached,
        },
        index=points.index,
    )


#: Cells (origins × road nodes) of one call of SciPy's Dijkstra in :func:`od_minutes`: 256 MB.
OD_CHUNK_CELLS = 32_000_000


def od_minutes(
    road_graph: RoadGraph,
    origins: gpd.GeoSeries,
    destinations: gpd.GeoSeries,
    *,
    access_speed_kmh: float,
    limit_min: float | None = None,
) -> pd.DataFrame:
    """Return the travel minutes from each origin to each destination.

    With ``limit_min`` each search stops at that many network minutes (destinations farther
    away are NaN), which keeps a whole city's block-to-block matrix cheap.

    Each leg: origin → its nearest node on foot at ``access_speed_kmh``, the fastest route along
    the roads, the destination's node → destination at ``access_speed_kmh``. Meant for blocks
    and core sites (a few thousand for a city): one search per distinct origin node, in SciPy's
    compiled Dijkstra, origins in chunks of bounded memory.
    As in :func:`travel_minutes`, every trip goes through the road nodes, so a point to itself
    takes twice its access walk (0 only for a point on a node).

    Parameters
    ----------
    road_graph : RoadGraph
    origins, destinations : geopandas.GeoSeries
        Points; the result is labelled by their indexes.
    access_speed_kmh : float
        Speed off the network at both ends.

    Returns
    -------
    pandas.DataFrame
        Minutes, rows = ``origins.index``, columns = ``destinations.index``; NaN when the
        destination cannot be reached (or a geometry is empty).
    """
    if not access_speed_kmh > 0:
        raise ValueError(f"access_speed_kmh must be > 0, not {access_speed_kmh}")
    o_node, o_dist = nearest_nodes(road_graph, origins)
    d_node, d_dist = nearest_nodes(road_graph, destinations)
    network = np.full((len(o_node), len(d_node)), np.nan)
    sources = np.unique(o_node[o_node >= 0])
    if len(sources):
        # SciPy's compiled Dijkstra on the graph's sparse matrix (networkx, one pure-Python search
        # per origin, took 15 s for 300 blocks of a city).
        from scipy.sparse.csgraph import dijkstra

        matrix, position = road_graph.matrix
        columns = np.array([position.get(int(n), -1) for n in d_node], dtype=np.intp)
        have = np.flatnonzero(columns >= 0)
        dist = np.full((len(sources), len(have)), np.nan)
        # Origins in chunks: each call's full rows (origins × all nodes) stay within OD_CHUNK_CELLS.
        size = max(1, OD_CHUNK_CELLS // max(matrix.shape[0], 1))
        for start in range(0, len(sources), size):
            chunk = [position[int(n)] for n in sources[start:start + size]]
            found = dijkstra(matrix, directed=True, indices=chunk, limit=np.inf if limit_min is None else limit_min)
            dist[start:start + len(chunk)] = found[:, columns[have]]
        dist[np.isinf(dist)] = np.nan
        rows = np.flatnonzero(o_node >= 0)
        network[np.ix_(rows, have)] = dist[np.searchsorted(sources, o_node[rows])]
    network[:, d_node < 0] = np.nan
    total = (_walk_minutes(o_dist, access_speed_kmh)[:, None] + network
             + _walk_minutes(d_dist, access_speed_kmh)[None, :])
    return pd.DataFrame(total, index=origins.index, columns=destinations.index)
