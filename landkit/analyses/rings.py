"""三圈协同: designated and modelled rings, ring profiles, function fit and the linkage graph.

The plan (item 12) organises the park into a core function ring (大零号湾: R&D, labs,
universities, incubators), a spillover ring (向阳园, 元江路地块: pilot production) and an
industrial linkage ring (manufacturing). Here:

- designated ring: the ring the configuration assigns to the parcel's block (``outside`` for
  parcels in no block or in a block of no ring);
- modelled ring: from road travel time to the core sites — one multi-source search over the road
  graph (:mod:`landkit.metrics.network`) — cut by ``rings.time_bands_min`` (upper bounds, minutes);
  parcels that cannot reach the core are ``unreachable`` with no time, never 0;
- function fit: a parcel fits its designated ring when its land use is one the ring expects
  (``rings.expected_functions``); idle land in the core ring never fits;
- ring profiles: area, parcel count, function and industry mix, scores, grades, tax and
  output per hectare per designated ring;
- linkage graph: blocks and the core as nodes, road travel time on the edges (each block to its
  three nearest blocks, to the core, and the configured pairs), with per-block time to the core,
  closeness and betweenness centrality.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from landkit.config.models import Project, Rings
from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.core.units import M2_PER_HA

log = logging.getLogger(__name__)

OUTSIDE = "outside"
UNREACHABLE = "unreachable"
NEAREST_LINKS = 3
#: Land-use groups of the function mix.
FUNCTION_GROUPS = {"C65": "rd", "M1": "manufacturing", "M2": "manufacturing", "M3": "manufacturing", "W1": "warehouse"}


@dataclass
class RingResult:
    """Per-parcel ring columns, and the ring and linkage layers."""

    parcels: pd.DataFrame
    rings: gpd.GeoDataFrame
    linkage: gpd.GeoDataFrame
    blocks: pd.DataFrame
    disagreements: pd.DataFrame
    profiles: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    #: The road graph the travel times were computed on (None without roads and core sites): later
    #: steps (public services) route on it rather than build it again.
    graph: Any = None


def block_rings(blocks: pd.DataFrame, spec: Rings) -> pd.Series:
    """Return each block's designated ring from ``rings.designated`` (ring → block ids).

    Raises
    ------
    ConfigError
        When a ring lists no block of the layer, or a block is in two rings.
    """
    ring_of = pd.Series(OUTSIDE, index=blocks["block_id"].to_numpy(), dtype=object)
    known = set(ring_of.index)
    seen: dict[str, str] = {}
    for ring, ids in spec.designated.items():
        present = [b for b in ids if b in known]
        if not present:
            raise ConfigError(
                _("rings.designated.{ring} lists no block of the blocks layer ({ids}); block ids are e.g. {examples}").format(
                    ring=ring, ids=", ".join(map(str, ids)) or _("empty"), examples=", ".join(sorted(known)[:5]))
            )
        for b in present:
            if b in seen and seen[b] != ring:
                raise ConfigError(_("rings.designated: block {block} is in both `{first}` and `{second}`").format(
                    block=b, first=seen[b], second=ring))
            seen[b] = ring
            ring_of[b] = ring
    return ring_of


def modelled_ring(minutes: pd.Series, bands: dict[str, float]) -> pd.Series:
    """Return the ring whose band holds each travel time (bands are upper bounds, ascending)."""
    out = pd.Series(OUTSIDE, index=minutes.index, dtype=object)
    for ring, upper in sorted(bands.items(), key=lambda kv: kv[1], reverse=True):
        out[minutes <= upper] = ring
    out[minutes.isna()] = UNREACHABLE
    return out


def function_fit(parcels: pd.DataFrame, ring: pd.Series, spec: Rings, lang: str = "zh") -> tuple[pd.Series, pd.Series]:
    """Return whether each parcel's function fits its designated ring, and why not (Chinese)."""
    fit = pd.Series(True, index=parcels.index)
    reason = pd.Series("", index=parcels.index, dtype=object)
    land_use = parcels["land_use"].astype(str) if "land_use" in parcels else pd.Series("", index=parcels.index)
    for ring_name, expected in spec.expected_functions.items():
        label = spec.labels.get(ring_name, {}).get("zh", ring_name)
        in_ring = ring == ring_name
        wrong = in_ring & ~land_use.isin(expected) & ~land_use.isin(["U"])
        fit[wrong] = False
        reason[wrong] = label + "内的" + land_use[wrong] + "用地不符合圈层功能"
    if "status" in parcels and "core" in spec.expected_functions:
        idle_core = (ring == "core") & parcels["status"].isin(["idle", "stopped"])
        fit[idle_core] = False
        reason[idle_core] = spec.labels.get("core", {}).get("zh", "core") + "内土地闲置"
    return fit, reason


def ring_profiles(parcels: pd.DataFrame, spec: Rings) -> pd.DataFrame:
    """Return one row per designated ring: area, counts, function mix, scores, grades, intensity."""
    frame = parcels.assign(_group=parcels["land_use"].map(FUNCTION_GROUPS).fillna("other") if "land_use" in parcels else "other")
    rows = []
    for ring, part in frame.groupby("ring", sort=False):
        area = part["area_m2"].sum()
        row: dict[str, Any] = {
            "ring": ring,
            "ring_name": spec.labels.get(ring, {}).get("zh", ring),
            "parcels": len(part),
            "area_ha": area / M2_PER_HA,
        }
        for group in ("rd", "manufacturing", "warehouse", "other"):
            row[f"share_{group}"] = part.loc[part["_group"] == group, "area_m2"].sum() / area if area else np.nan
        if "industry" in part and part["industry"].notna().any():
            by_industry = part.groupby("industry")["area_m2"].sum().sort_values(ascending=False)
            row["main_industry"] = by_industry.index[0]
            row["main_industry_share"] = by_industry.iloc[0] / area
        if "score" in part:
            row["mean_score"] = part["score"].mean()
        if "grade" in part:
            for g in ("A", "B", "C", "D"):
                row[f"share_{g}"] = part.loc[part["grade"] == g, "area_m2"].sum() / area if area else np.nan
        for column, name in (("tax_wan", "tax_per_ha_wan"), ("revenue_wan", "output_per_ha_wan")):
            if column in part:
                row[name] = part[column].sum() / (area / M2_PER_HA) if area else np.nan
        if "function_fit" in part:
            row["misfit_share"] = part.loc[~part["function_fit"], "area_m2"].sum() / area if area else np.nan
        rows.append(row)
    order = {r: i for i, r in enumerate([*spec.labels, OUTSIDE])}
    return pd.DataFrame(rows).sort_values("ring", key=lambda s: s.map(order).fillna(99)).reset_index(drop=True)


BETWEENNESS_SAMPLE = 300
#: Sources of the betweenness estimate above BETWEENNESS_SAMPLE blocks (a city's ~2,600 blocks:
#: 100 pure-Python searches, ~4 s).
BETWEENNESS_SOURCES = 100

#: First search radius (network minutes) for each block's nearest blocks in the linkage graph.
LINKAGE_SEARCH_MIN = 15.0


def closeness_centrality(graph: nx.Graph) -> dict[str, float]:
    """Compute closeness centrality on travel minutes, as networkx defines it (Wasserman–Faust for disconnected graphs).

    closeness(u) = (r − 1) / Σ d(u, v) × (r − 1) / (n − 1), r the nodes u reaches (u included);
    all distances in one call of SciPy's compiled Dijkstra (networkx's pure-Python search per
    node took 13 s for the ~1,000 blocks of a 200,000-parcel city).
    """
    from scipy.sparse.csgraph import dijkstra

    nodes = list(graph.nodes)
    n = len(nodes)
    if n < 2:
        return {u: 0.0 for u in nodes}
    matrix = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight="minutes", format="csr")
    dist = dijkstra(matrix, directed=False)
    reach = np.isfinite(dist)
    r = reach.sum(axis=1)
    total = np.where(reach, dist, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(total > 0, (r - 1) / total * (r - 1) / (n - 1), 0.0)
    return dict(zip(nodes, value.tolist(), strict=True))


def linkage_graph(
    blocks: gpd.GeoDataFrame, core_point: shapely.Point, od: pd.DataFrame, spec: Rings
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the linkage lines and per-block linkage measures.

    Parameters
    ----------
    blocks : GeoDataFrame
        Blocks with ``block_id`` and ``ring`` (working CRS).
    core_point : Point
        Where the core node is drawn (e.g. the centroid of the core sites).
    od : DataFrame
        Travel minutes between nodes (index and columns: block ids and ``CORE``).
    """
    ids = list(od.index)
    graph = nx.Graph()
    points = dict(zip(blocks["block_id"], blocks.geometry.representative_point(), strict=True))
    points["CORE"] = core_point
    graph.add_nodes_from(ids)
    times = od.reindex(index=ids, columns=ids).to_numpy(dtype=float)
    both = np.fmin(times, times.T)  # an edge takes the quicker direction
    edges: dict[tuple[str, str], str] = {}
    # each node's NEAREST_LINKS quickest others (whole matrix at once; ties by position)
    ranked = np.where(np.isnan(times), np.inf, times)
    np.fill_diagonal(ranked, np.inf)
    order = np.argsort(ranked, axis=1, kind="stable")[:, :NEAREST_LINKS]
    near = np.isfinite(np.take_along_axis(ranked, order, axis=1))
    core = ids.index("CORE") if "CORE" in ids else -1
    for i, a in enumerate(ids):  # a loop over blocks (a few thousand for a city), not parcels
        for b in (ids[j] for j in order[i][near[i]]):
            edges.setdefault((min(a, b), max(a, b)), "nearest")
        if a != "CORE" and core >= 0 and not np.isnan(times[i, core]):
            edges[(min(a, "CORE"), max(a, "CORE"))] = "core"
    for a, b in spec.pairs:
        if a not in od.index or b not in od.index:
            raise ConfigError(_("rings.pairs: [{a}, {b}] names a block that is not in the blocks layer").format(a=a, b=b))
        edges[(min(a, b), max(a, b))] = "pair"
    position = {b: i for i, b in enumerate(ids)}
    for (a, b), kind in edges.items():
        minutes = both[position[a], position[b]]
        if np.isfinite(minutes):
            graph.add_edge(a, b, minutes=float(minutes), kind=kind)
    closeness = closeness_centrality(graph)
    # Exact betweenness up to BETWEENNESS_SAMPLE nodes; above, networkx's estimate from
    # BETWEENNESS_SOURCES sources (seeded, so every run gives the same figures).
    sample = None if graph.number_of_nodes() <= BETWEENNESS_SAMPLE else BETWEENNESS_SOURCES
    betweenness = nx.betweenness_centrality(graph, k=sample, seed=0, weight="minutes", normalized=True)
    lines = gpd.GeoDataFrame(
        {
            "from_id": [a for a, b in graph.edges],
            "to_id": [b for a, b in graph.edges],
            "minutes": [d["minutes"] for _, _, d in graph.edges(data=True)],
            "kind": [d["kind"] for _, _, d in graph.edges(data=True)],
        },
        geometry=[shapely.LineString([points[a], points[b]]) for a, b in graph.edges],
        crs=blocks.crs,
    )
    measures = pd.DataFrame(
        {
            "block_id": [b for b in ids if b != "CORE"],
        }
    )
    measures["minutes_to_core"] = measures["block_id"].map(od["CORE"])
    measures["closeness"] = measures["block_id"].map(closeness)
    measures["betweenness"] = measures["block_id"].map(betweenness)
    return lines, measures


def linkage_minutes(graph: Any, points: gpd.GeoSeries, spec: Rings) -> pd.DataFrame:
    """Return the block-to-block minutes the linkage graph needs: each block's nearest blocks.

    Searches stop at :data:`LINKAGE_SEARCH_MIN` network minutes; a block's row is complete when
    at least :data:`NEAREST_LINKS` others are within its own walk + that limit (any block not
    found is farther: walk + more than the limit + its walk). Incomplete rows, and the rows of
    blocks whose return trip an edge needs, are searched again up to twice the outer band.
    """
    from landkit.metrics.network import od_minutes

    def search(rows: np.ndarray, limit: float) -> np.ndarray:
        found = od_minutes(graph, points[rows], points, access_speed_kmh=spec.access_speed_kmh, limit_min=limit)
        minutes: np.ndarray = found.to_numpy(copy=True)
        return minutes

    wide = 2 * max(spec.time_bands_min.values(), default=60)
    everything = np.ones(len(points), dtype=bool)
    times = search(everything, LINKAGE_SEARCH_MIN)
    walk = np.diagonal(times) / 2  # a block to itself: its walk to its node and back
    limited = np.isfinite(walk)  # rows searched with the short limit (blocks without a node: none)
    close = (times <= walk[:, None] + LINKAGE_SEARCH_MIN).sum(axis=1) - 1
    again = limited & (close < NEAREST_LINKS)
    if again.any():
        times[again] = search(again, wide)
        limited &= ~again
    # A block b still searched with the short limit may miss b → a while a → b is long: search b again.
    found = np.isfinite(times)
    bound = walk[:, None] + LINKAGE_SEARCH_MIN + walk[None, :]
    needs = (found & (times > bound)).T & ~found & limited[:, None]
    back = needs.any(axis=1)
    if back.any():
        times[back] = search(back, wide)
    return pd.DataFrame(times, index=points.index, columns=points.index)


def assess_rings(
    parcels: gpd.GeoDataFrame,
    blocks: gpd.GeoDataFrame,
    project: Project,
    *,
    roads: gpd.GeoDataFrame | None = None,
    core_sites: gpd.GeoDataFrame | None = None,
) -> RingResult:
    """Run the three-ring analysis (all layers in the working CRS).

    Without roads or core sites only the designated rings, the function fit and the profiles
    are computed (no travel time, no modelled ring, no linkage graph).
    """
    from landkit.metrics.network import build_road_graph, od_minutes, travel_minutes

    spec = project.rings
    ring_of_block = block_rings(blocks, spec)
    ring = parcels["block_id"].map(ring_of_block).fillna(OUTSIDE) if "block_id" in parcels else pd.Series(OUTSIDE, index=parcels.index)
    out = pd.DataFrame(index=parcels.index)
    out["ring"] = ring.astype(object)
    blocks = blocks.assign(ring=blocks["block_id"].map(ring_of_block))
    report: dict[str, Any] = {}
    lines = gpd.GeoDataFrame({"from_id": [], "to_id": [], "minutes": [], "kind": []}, geometry=[], crs=parcels.crs)
    block_measures = pd.DataFrame({"block_id": blocks["block_id"]})
    disagreements = pd.DataFrame(columns=["block_id", "ring", "ring_modelled", "median_minutes", "reason"])
    graph = None
    if roads is not None and core_sites is not None and len(roads) and len(core_sites):
        graph = build_road_graph(roads, default_speed_kmh=spec.default_speed_kmh,
                                 fallback_speed_kmh=spec.fallback_speed_kmh, snap_tolerance_m=spec.snap_tolerance_m)
        report["network"] = graph.report
        points = gpd.GeoSeries(parcels.geometry.representative_point(), crs=parcels.crs)
        times = travel_minutes(graph, points, core_sites.geometry, access_speed_kmh=spec.access_speed_kmh,
                               max_target_snap_m=spec.core_snap_max_m)
        out["travel_min_to_core"] = times["travel_min"]
        out["ring_modelled"] = modelled_ring(times["travel_min"], spec.time_bands_min)
        unreachable = parcels.loc[~times["reachable"].astype(bool), "parcel_id"]
        report["unreachable_parcels"] = unreachable.tolist()
        if len(unreachable):
            log.warning("%s", _("{n} parcels cannot reach the core by road (listed in the summary): {ids} …").format(
                n=len(unreachable), ids=", ".join(unreachable.head(5))))
        block_points = gpd.GeoSeries(blocks.geometry.representative_point().to_numpy(), index=blocks["block_id"].to_numpy(), crs=blocks.crs)
        # Linkage needs each block's nearest blocks: searches stop at LINKAGE_SEARCH_MIN, and
        # those of blocks with fewer than NEAREST_LINKS others that close at twice the outer band.
        od = linkage_minutes(graph, block_points, spec)
        for a, b in spec.pairs:  # the named pairs exactly, however far apart
            if a in od.index and b in od.index:
                exact = od_minutes(graph, block_points[[a, b]], block_points[[a, b]], access_speed_kmh=spec.access_speed_kmh)
                od.loc[a, b], od.loc[b, a] = exact.iloc[0, 1], exact.iloc[1, 0]
        to_core = travel_minutes(graph, block_points, core_sites.geometry, access_speed_kmh=spec.access_speed_kmh,
                                 max_target_snap_m=spec.core_snap_max_m)["travel_min"]
        od["CORE"] = to_core.to_numpy()
        od.loc["CORE"] = [*to_core.to_numpy(), 0.0]
        core_point = shapely.centroid(shapely.MultiPoint(list(core_sites.geometry.values)))
        lines, block_measures = linkage_graph(blocks, core_point, od, spec)
        disagreements = ring_disagreements(out.assign(block_id=parcels.get("block_id")), spec)
        for a, b in spec.pairs:
            report.setdefault("pairs", []).append({"from": a, "to": b, "minutes": float(od.loc[a, b]) if pd.notna(od.loc[a, b]) else None})
    fit, reason = function_fit(parcels, ring, spec)
    out["function_fit"] = fit
    out["function_misfit_reason"] = reason
    profile = ring_profiles(parcels.assign(**{c: out[c] for c in ("ring", "function_fit")}), spec)
    rings_layer = blocks[blocks["ring"] != OUTSIDE].dissolve(by="ring", as_index=False)[["ring", "geometry"]]
    rings_layer = rings_layer.merge(profile, on="ring", how="left")
    blocks_out = blocks[["block_id", "ring"]].merge(block_measures, on="block_id", how="left")
    return RingResult(parcels=out, rings=rings_layer, linkage=lines, blocks=blocks_out,
                      disagreements=disagreements, profiles=profile, report=report, graph=graph)


def ring_disagreements(parcels: pd.DataFrame, spec: Rings) -> pd.DataFrame:
    """Return the blocks whose designated ring differs from the ring their median travel time gives."""
    inside = parcels[parcels["block_id"].notna()]
    per_block = inside.groupby("block_id").agg(ring=("ring", "first"), median_minutes=("travel_min_to_core", "median"))
    per_block["ring_modelled"] = modelled_ring(per_block["median_minutes"], spec.time_bands_min)
    differ = per_block[(per_block["ring"] != per_block["ring_modelled"]) & (per_block["ring"] != OUTSIDE)].reset_index()

    def label(ring: str) -> str:
        return spec.labels.get(ring, {}).get("zh", ring)

    differ["reason"] = [
        f"规划为{label(r)}，距核心 {m:.0f} 分钟，按通行时间属{label(mr)}" if pd.notna(m) else f"规划为{label(r)}，无法通达核心"
        for r, m, mr in zip(differ["ring"], differ["median_minutes"], differ["ring_modelled"], strict=True)
    ]
    return differ[["block_id", "ring", "ring_modelled", "median_minutes", "reason"]]
