"""小而散: small and scattered plots, the concentration of the park's land, and its adjustment.

Plan item 14 asks to "adjust the park's plots dynamically according to the assessment results,
raise the concentration of the park's plots, and gradually solve 'small and scattered'". Here,
on the vector parcels (all distances in the projected working CRS, metres, edge to edge):

- small plots: area below ``scatter.small_plot_mu`` of the parcel's land use (else ``default``);
- the neighbour graph: every pair of parcels within ``scatter.cluster_distance_m`` of each other
  (one spatial-index query), and its connected components, the *clusters* (patches of touching
  or near industrial land); each parcel's cluster id, cluster area and parcel count;
- each parcel's distance to the nearest other parcel (isolated: farther than
  ``scatter.isolated_distance_m``, or no other parcel at all); three flags, one meaning each:
  ``small`` (area), ``isolated`` (distance) and ``sporadic`` (零星: outside the planned
  industrial blocks, a location), the same flags the low-efficiency list's reasons use;
- fragmentation and concentration metrics for the park, each block and each ring
  (:func:`fragmentation_metrics`, formulas and sources in its docstring);
- adjustment proposals driven by the assessment's grades (调出, 调入, 归并), the park as
  adjusted, and the metrics before and after.

Everything is vectorised: spatial-index queries (``dwithin``, ``nearest``), array operations
on the pairs they return and pandas group-bys; no all-pairs distance matrix and no Python loop
over parcels. The only loops run over groups: one STRtree per block or ring for ENN, the union
of each multi-parcel patch inside geopandas' ``dissolve``, and the ids joined per merged group.

Settings come from ``project.scatter`` (:class:`landkit.config.Scatter`, defaults in the
profile): the thresholds, ``land_uses`` (land uses analysed as industrial land; empty: every
parcel), ``move_out_grades``, ``bring_in_grades``, ``merge_distance_m``, ``merge_grades``.
"""

from __future__ import annotations

import contextvars
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.config import Project
from landkit.crs import require_metric
from landkit.engine import current_engine
from landkit.graphs import components
from landkit.i18n import _
from landkit.units import M2_PER_HA, M2_PER_MU

log = logging.getLogger(__name__)

#: Adjustment codes and their labels.
ADJUSTMENTS = {
    "move_out": {"zh": "调出", "en": "move out"},
    "bring_in": {"zh": "调入", "en": "bring in"},
    "merge": {"zh": "归并", "en": "merge"},
}

OUTSIDE = "outside"

#: Search radius (m) of the partitioned nearest-neighbour search; parcels with nothing this close
#: are searched over all parcels.
NEAREST_HALO_M = 500.0

#: The metrics of :func:`fragmentation_metrics`: labels, unit and which direction is better
#: for the concentration of the park (``None``: neither).
METRICS: dict[str, dict[str, Any]] = {
    "parcels": {"zh": "地块数", "en": "Parcels", "unit": "宗", "better": None},
    "class_area_ha": {"zh": "产业用地面积", "en": "Industrial land", "unit": "ha", "better": None},
    "landscape_area_ha": {"zh": "计算面积", "en": "Reference area", "unit": "ha", "better": None},
    "np": {"zh": "斑块数", "en": "Number of patches (NP)", "unit": "个", "better": "lower"},
    "pd": {"zh": "斑块密度", "en": "Patch density (PD)", "unit": "个/100ha", "better": "lower"},
    "area_mn_ha": {"zh": "平均斑块面积", "en": "Mean patch area (AREA_MN)", "unit": "ha", "better": "higher"},
    "area_md_ha": {"zh": "斑块面积中位数", "en": "Median patch area (AREA_MD)", "unit": "ha", "better": "higher"},
    "lpi_pct": {"zh": "最大斑块指数", "en": "Largest patch index (LPI)", "unit": "%", "better": "higher"},
    "enn_mn_m": {"zh": "平均最近邻距离", "en": "Mean nearest-neighbour distance (ENN_MN)", "unit": "m", "better": "lower"},
    "agg_pct": {"zh": "聚集度", "en": "Aggregation (parcels with a neighbour)", "unit": "%", "better": "higher"},
    "mesh_ha": {"zh": "有效网格面积", "en": "Effective mesh size (MESH)", "unit": "ha", "better": "higher"},
    "hhi": {"zh": "集中度(赫芬达尔指数)", "en": "Herfindahl index of patch areas", "unit": "", "better": "higher"},
    "inside_block_pct": {"zh": "入区率", "en": "Share inside designated blocks", "unit": "%", "better": "higher"},
    "small_parcels": {"zh": "小地块数", "en": "Small plots", "unit": "宗", "better": "lower"},
    "isolated_parcels": {"zh": "孤立地块数", "en": "Isolated plots", "unit": "宗", "better": "lower"},
    "sporadic_parcels": {"zh": "零星地块数(区块外)", "en": "Sporadic plots (outside the blocks)", "unit": "宗", "better": "lower"},
    "sporadic_area_mu": {"zh": "零星地块面积(区块外)", "en": "Sporadic plots' area", "unit": "亩", "better": "lower"},
}

#: Per-parcel columns of :attr:`ScatterResult.parcels`.
PARCEL_COLUMNS = [
    "small", "isolated", "sporadic", "cluster_id", "cluster_area_mu", "cluster_parcels", "nn_distance_m",
    "adjustment", "adjustment_zh", "adjustment_en", "adjustment_group", "adjustment_block",
    "scatter_reason_zh", "scatter_reason_en",
]


@dataclass
class ScatterResult:
    """Per-parcel 小而散 columns, the cluster layer, the metrics and the before/after table.

    ``parcels`` is indexed like the input and holds :data:`PARCEL_COLUMNS`; ``clusters`` has one
    dissolved polygon per cluster; ``metrics`` one row per park, block and ring; ``before_after``
    one row per park metric; ``adjusted`` the park as adjusted; ``report`` counts and timings.
    """

    parcels: pd.DataFrame
    clusters: gpd.GeoDataFrame
    metrics: pd.DataFrame
    before_after: pd.DataFrame
    adjusted: gpd.GeoDataFrame | None = None
    report: dict[str, Any] = field(default_factory=dict)


# --- small plots --------------------------------------------------------------------------------


def small_thresholds_mu(parcels: pd.DataFrame, spec: Any) -> pd.Series:
    """Return each parcel's small-plot threshold (亩): its land use's, else ``default`` (else NaN)."""
    table = dict(spec.small_plot_mu)
    default = table.pop("default", np.nan)
    if "land_use" not in parcels:
        return pd.Series(float(default), index=parcels.index)
    return parcels["land_use"].map(table).astype(float).fillna(float(default))


def sporadic_plots(parcels: pd.DataFrame) -> pd.Series:
    """Return whether each parcel is 零星 (sporadic): outside the planned industrial blocks.

    A location, not a size: ``inside_block`` false. Never sporadic when no blocks are known.
    """
    if "inside_block" not in parcels:
        return pd.Series(False, index=parcels.index, name="sporadic")
    return (~parcels["inside_block"].fillna(False).astype(bool)).rename("sporadic")


def small_plots(parcels: pd.DataFrame, spec: Any) -> pd.Series:
    """Return whether each parcel is a small plot: ``area_mu`` below its land use's threshold.

    The threshold is ``spec.small_plot_mu[land_use]``, else ``spec.small_plot_mu["default"]``;
    a land use with neither is never small.
    """
    threshold = small_thresholds_mu(parcels, spec)
    return (parcels["area_mu"] < threshold).fillna(False).astype(bool).rename("small")


# --- the neighbour graph, clusters, nearest distances -------------------------------------------


def neighbour_graph(
    parcels: gpd.GeoDataFrame, distance_m: float, *, return_distance: bool = False
) -> tuple[np.ndarray, ...]:
    """Return the pairs of parcels within ``distance_m`` of each other, edge to edge.

    One spatial-index query (``dwithin``; ``intersects`` when ``distance_m`` is 0, i.e. sharing
    a boundary, a corner or overlapping). Pairs are positional (0 … n − 1), each unordered pair
    once with ``left < right``, sorted.

    Returns
    -------
    (left, right) or (left, right, distance)
        Integer arrays, and with ``return_distance`` the edge-to-edge distance of each pair (m).
    """
    require_metric(parcels.crs, "小而散", missing_ok=True)
    if len(parcels) == 0:
        empty = np.array([], dtype=np.intp)
        return (empty, empty, np.array([], dtype=float)) if return_distance else (empty, empty)
    found = current_engine().map_parcels(
        pairs_kernel, parcels[[parcels.geometry.name]], halo_m=float(distance_m), distance_m=float(distance_m),
        with_distance=return_distance,
    )
    left = found.index.to_numpy().astype(np.intp)
    right = found["right"].to_numpy().astype(np.intp)
    return (left, right, found["distance"].to_numpy()) if return_distance else (left, right)


def pairs_kernel(part: gpd.GeoDataFrame, context: gpd.GeoDataFrame, *, distance_m: float, with_distance: bool) -> pd.DataFrame:
    """Kernel of :func:`neighbour_graph`: the pairs whose smaller position is in ``part``.

    Indexed by the left position, sorted by (left, right); ``context`` must hold every row
    within ``distance_m`` of ``part`` (an engine's halo).
    """
    geoms = np.asarray(part.geometry.values)
    if distance_m > 0:
        i, j = context.sindex.query(geoms, predicate="dwithin", distance=distance_m, sort=True)
    else:
        i, j = context.sindex.query(geoms, predicate="intersects", sort=True)
    left, right = part.index.to_numpy()[i], context.index.to_numpy()[j]
    keep = left < right
    columns = {"right": right[keep]}
    if with_distance:
        columns["distance"] = shapely.distance(geoms[i[keep]], np.asarray(context.geometry.values)[j[keep]])
    return pd.DataFrame(columns, index=pd.Index(left[keep], name="left"))


def clusters(
    parcels: gpd.GeoDataFrame, distance_m: float, *, pairs: tuple[np.ndarray, ...] | None = None
) -> pd.Series:
    """Return each parcel's cluster id: connected components of the ``distance_m`` neighbour graph.

    Two parcels are in one cluster when a chain of parcels links them with every step at most
    ``distance_m`` edge to edge (single linkage). Ids run 0 … k − 1 in the order of each
    cluster's first parcel. ``pairs`` (from :func:`neighbour_graph` at the same distance) skips
    the query.
    """
    if pairs is None:
        pairs = neighbour_graph(parcels, distance_m)
    return pd.Series(components(len(parcels), pairs[0], pairs[1]), index=parcels.index, name="cluster_id")


def cluster_sizes(parcels: pd.DataFrame, cluster_ids: pd.Series) -> pd.DataFrame:
    """Return per parcel its cluster's area (m², 亩) and parcel count."""
    ids = cluster_ids.reindex(parcels.index)
    area = parcels["area_m2"].groupby(ids).transform("sum")
    count = parcels["area_m2"].groupby(ids).transform("size")
    return pd.DataFrame(
        {"cluster_area_m2": area, "cluster_area_mu": area / M2_PER_MU, "cluster_parcels": count.astype(int)},
        index=parcels.index,
    )


def nearest_distance(
    parcels: gpd.GeoDataFrame, *, pairs: tuple[np.ndarray, ...] | None = None
) -> pd.Series:
    """Return each parcel's edge-to-edge distance (m) to the nearest *other* parcel.

    Parcels with a neighbour in ``pairs`` (``(left, right, distance)`` from
    :func:`neighbour_graph` with ``return_distance=True``; by default the touching pairs) take
    the smallest distance among their pairs; the rest — with no other parcel within the pairs'
    distance — a ``sindex.nearest`` search within :data:`NEAREST_HALO_M` on the current engine,
    then one over all parcels for those with nothing that close (``exclusive=True`` skips the
    parcel itself; an identical copy of it would have been among the pairs, at distance 0). NaN for a parcel with
    no other parcel at all.
    """
    require_metric(parcels.crs, "小而散", missing_ok=True)
    n = len(parcels)
    if pairs is None:
        pairs = neighbour_graph(parcels, 0.0, return_distance=True)
    left, right, dist = pairs
    nn = np.full(n, np.inf)
    np.minimum.at(nn, left, dist)
    np.minimum.at(nn, right, dist)
    rest = np.flatnonzero(np.isinf(nn))
    nn[rest] = np.nan
    if len(rest) and n > 1:
        # Most parcels without a touching neighbour have one within NEAREST_HALO_M: one search
        # per partition (with its halo); the few farther ones, one search over all parcels.
        query = np.zeros(n, dtype=bool)
        query[rest] = True
        frame = gpd.GeoDataFrame({"query": query}, geometry=parcels.geometry.values, crs=parcels.crs)
        near = current_engine().map_parcels(nearest_kernel, frame, halo_m=NEAREST_HALO_M, max_distance=NEAREST_HALO_M)
        nn[near.index.to_numpy()] = near["distance"].to_numpy()
        far = rest[np.isnan(nn[rest])]
        if len(far):
            geoms = np.asarray(parcels.geometry.values)
            found, distance = parcels.sindex.nearest(geoms[far], return_all=False, return_distance=True, exclusive=True)
            nn[far[found[0]]] = distance
    return pd.Series(nn, index=parcels.index, name="nn_distance_m")


# --- patches and their nearest neighbours ------------------------------------------------------


def nearest_kernel(part: gpd.GeoDataFrame, context: gpd.GeoDataFrame, *, max_distance: float) -> pd.DataFrame:
    """Kernel of :func:`nearest_distance`: distance from each queried row of ``part`` to the nearest other row within ``max_distance``."""
    asked = part[part["query"]]
    found, distance = context.sindex.nearest(
        np.asarray(asked.geometry.values), return_all=False, return_distance=True, exclusive=True, max_distance=max_distance
    )
    return pd.DataFrame({"distance": distance}, index=asked.index[found[0]])


def dissolve(geoms: np.ndarray | gpd.GeoSeries, labels: np.ndarray) -> gpd.GeoSeries:
    """Return the union of the geometries of each label (index: the sorted labels).

    A coverage union (fast; parcels tile without overlaps) checked against the summed areas;
    the labels where it fails (overlapping parcels) are redone with a full union.
    """
    geoms = np.asarray(getattr(geoms, "values", geoms))
    labels = np.asarray(labels)
    uniques, first, counts = np.unique(labels, return_index=True, return_counts=True)
    if (counts > 1).any() and (counts == 1).any():  # single-parcel patches need no union
        lone = counts == 1
        several = np.isin(labels, uniques[~lone])
        merged = dissolve(geoms[several], labels[several])
        out = pd.Series(geoms[first], index=pd.Index(uniques, name="label"), dtype=object)
        out.loc[merged.index] = merged.to_numpy()
        return gpd.GeoSeries(out, crs=getattr(merged, "crs", None))
    if not (counts > 1).any():
        return gpd.GeoSeries(geoms[first], index=pd.Index(uniques, name="label"))
    frame = gpd.GeoDataFrame({"label": labels}, geometry=geoms)
    parts_area = pd.Series(shapely.area(geoms)).groupby(labels).sum()
    try:
        merged = frame.dissolve(by="label", method="coverage").geometry
        bad = ~merged.is_valid.to_numpy() | ~np.isclose(
            merged.area.to_numpy(), parts_area.to_numpy(), rtol=1e-9, atol=1e-3
        )
    except shapely.errors.GEOSException:
        merged = frame.dissolve(by="label").geometry
        bad = np.zeros(len(merged), dtype=bool)
    if bad.any():
        again = frame[frame["label"].isin(merged.index[bad])].dissolve(by="label").geometry
        merged = merged.copy()
        merged.loc[again.index] = again
    return merged


def patch_nearest_distance(patches: np.ndarray | gpd.GeoSeries) -> np.ndarray:
    """Return each patch's edge-to-edge distance (m) to the nearest other patch (NaN if alone).

    One STRtree nearest query; ``exclusive=True`` skips the patch itself (patches are disjoint,
    so no other patch equals it).
    """
    geoms = np.asarray(getattr(patches, "values", patches))
    out = np.full(len(geoms), np.nan)
    if len(geoms) < 2:
        return out
    tree = shapely.STRtree(geoms)
    found, distance = tree.query_nearest(geoms, return_distance=True, exclusive=True, all_matches=False)
    out[found[0]] = distance
    return out


# --- metrics -------------------------------------------------------------------------------------


def _metrics_from_patches(patches: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Metrics per group from a patch table (group, area_m2, parcels, enn_m) and a group table.

    ``groups`` is indexed by group with ``parcels``, ``class_area_m2``, ``inside_area_m2`` and
    ``landscape_area_m2``; optional ``small_parcels``, ``isolated_parcels``,
    ``sporadic_parcels``, ``sporadic_area_mu`` are passed through.
    """
    by = patches.groupby("group", sort=False)
    total_patch_area = by["area_m2"].sum()
    share = patches["area_m2"] / patches["group"].map(total_patch_area).astype(float)
    landscape = groups["landscape_area_m2"]
    out = pd.DataFrame(index=groups.index)
    out["parcels"] = groups["parcels"].astype(int)
    out["class_area_ha"] = groups["class_area_m2"] / M2_PER_HA
    out["landscape_area_ha"] = landscape / M2_PER_HA
    out["np"] = by.size().reindex(groups.index).fillna(0).astype(int)
    out["pd"] = out["np"] / (landscape / 1e6)  # patches per 100 ha (100 ha = 10^6 m²)
    out["area_mn_ha"] = by["area_m2"].mean().reindex(groups.index) / M2_PER_HA
    out["area_md_ha"] = by["area_m2"].median().reindex(groups.index) / M2_PER_HA
    out["lpi_pct"] = 100 * by["area_m2"].max().reindex(groups.index) / landscape
    out["enn_mn_m"] = by["enn_m"].mean().reindex(groups.index)  # NaN (no other patch) skipped
    multi = patches["parcels"].where(patches["parcels"] >= 2, 0).groupby(patches["group"], sort=False).sum()
    out["agg_pct"] = 100 * multi.reindex(groups.index) / groups["parcels"]
    out["mesh_ha"] = (patches["area_m2"] ** 2).groupby(patches["group"], sort=False).sum().reindex(groups.index) / landscape / M2_PER_HA
    out["hhi"] = (share**2).groupby(patches["group"], sort=False).sum().reindex(groups.index)
    out["inside_block_pct"] = 100 * groups["inside_area_m2"] / groups["class_area_m2"]
    for column in ("small_parcels", "isolated_parcels", "sporadic_parcels", "sporadic_area_mu"):
        if column in groups:
            out[column] = groups[column]
    empty = out["parcels"] == 0
    counts = ("parcels", "class_area_ha", "landscape_area_ha", "np", "small_parcels", "isolated_parcels",
              "sporadic_parcels", "sporadic_area_mu")
    out.loc[empty, [c for c in out.columns if c not in counts]] = np.nan
    return out.replace([np.inf, -np.inf], np.nan)


def _group_table(parcels: pd.DataFrame, group: pd.Series, landscape_m2: Any = None) -> pd.DataFrame:
    area = parcels["area_m2"]
    table = pd.DataFrame({
        "parcels": area.groupby(group, sort=False).size(),
        "class_area_m2": area.groupby(group, sort=False).sum(),
    })
    if "inside_block" in parcels:  # without blocks, 入区率 is unknown (NaN), not 0
        inside = parcels["inside_block"].fillna(False).astype(bool)
        table["inside_area_m2"] = area.where(inside, 0.0).groupby(group, sort=False).sum()
    else:
        table["inside_area_m2"] = np.nan
    for flag in ("small", "isolated", "sporadic"):
        if flag in parcels:
            table[f"{flag}_parcels"] = parcels[flag].fillna(False).astype(bool).groupby(group, sort=False).sum().astype(int)
    if "sporadic" in parcels:
        table["sporadic_area_mu"] = (area / M2_PER_MU).where(parcels["sporadic"].fillna(False).astype(bool), 0.0).groupby(group, sort=False).sum()
    if landscape_m2 is None:
        table["landscape_area_m2"] = table["class_area_m2"]
    elif np.isscalar(landscape_m2):
        table["landscape_area_m2"] = float(landscape_m2)
    else:
        table["landscape_area_m2"] = pd.Series(landscape_m2).reindex(table.index).fillna(table["class_area_m2"])
    return table


def fragmentation_metrics(
    parcels: gpd.GeoDataFrame,
    clusters: pd.Series,
    *,
    total_area_m2: float | None = None,
    enn: pd.Series | None = None,
) -> dict[str, float]:
    """Return the fragmentation and concentration metrics of a set of parcels.

    A *patch* is a cluster (``clusters``: a patch id per parcel, e.g. from :func:`clusters`):
    industrial land whose parcels touch or lie within the cluster distance of each other — the
    vector analogue of FRAGSTATS' patch of one class (there, contiguous cells under the
    8-neighbour rule; here, touching when the cluster distance is 0). ``a_j`` is the area of
    patch j (the sum of its parcels' ``area_m2``), ``n_j`` its parcel count, N the number of
    parcels, and A the reference ("landscape") area: ``total_area_m2``, by default the parcels'
    own area (so park, blocks and rings compare without drawing a park outline; FRAGSTATS uses
    the total landscape area, which the caller may pass).

    ``parcels``, ``class_area_ha``, ``landscape_area_ha``
        N, Σ a_j and A.
    ``np`` — number of patches (NP)
        NP = number of patches. FRAGSTATS NP (McGarigal, Cushman & Ene 2012, FRAGSTATS v4
        documentation, "Number of Patches").
    ``pd`` — patch density (PD, patches per 100 ha)
        PD = NP / A × 10 000 × 100, A in m². FRAGSTATS PD.
    ``area_mn_ha``, ``area_md_ha`` — mean and median patch area (ha)
        mean and median of a_j / 10 000. FRAGSTATS AREA_MN, AREA_MD.
    ``lpi_pct`` — largest patch index (%)
        LPI = max_j a_j / A × 100. FRAGSTATS LPI.
    ``enn_mn_m`` — mean Euclidean nearest-neighbour distance (m)
        ENN_MN = mean over patches of h_j, the shortest edge-to-edge distance from patch j to
        another patch of the set; patches with no other patch are left out (NaN when NP < 2).
        FRAGSTATS ENN measures cell centre to cell centre, so on a raster two patches a gap of
        g apart read g + 1 cell; here the distance is exact and every h_j exceeds the cluster
        distance by construction.
    ``agg_pct`` — aggregation (%), landkit's measure
        AGG = 100 × Σ_{j: n_j ≥ 2} n_j / N: the share of parcels that have another parcel of
        the set within the cluster distance (equivalently, that are not a patch on their own).
        100 when no plot stands alone, 0 when every plot does. Not a FRAGSTATS metric: its
        aggregation index AI counts like adjacencies between cells and tends to 100 on any
        vector layer rasterised finely enough, so it has no resolution-free vector form.
    ``mesh_ha`` — effective mesh size (ha)
        MESH = Σ a_j² / A / 10 000: the expected size of the patch a random point of the
        reference area lies in. FRAGSTATS MESH (Jaeger 2000, Landscape Ecology 15: 115–130).
    ``hhi`` — Herfindahl index of patch areas
        HHI = Σ_j (a_j / Σ_k a_k)², from 1/NP (equal patches) to 1 (one patch): the
        concentration of the land in few large patches (Herfindahl–Hirschman index; it equals
        MESH / class area when A is the class area).
    ``inside_block_pct`` — 入区率 (%)
        100 × Σ area of parcels with ``inside_block`` / Σ area of all parcels.

    When the parcels carry ``small``, ``isolated`` or ``sporadic`` the counts
    ``small_parcels``, ``isolated_parcels``, ``sporadic_parcels`` and ``sporadic_area_mu``
    are added.

    Parameters
    ----------
    parcels : GeoDataFrame
        The set (``area_m2``, ``inside_block``; geometry for ENN unless ``enn`` is given).
    clusters : Series
        Patch id per parcel (same index).
    total_area_m2 : float, optional
        The reference area A (default: the parcels' area).
    enn : Series, optional
        h_j per patch id, when already known (else the patches are dissolved and queried).
    """
    labels = clusters.reindex(parcels.index).to_numpy()
    group = pd.Series("all", index=parcels.index)
    patches = parcels["area_m2"].groupby(labels).agg(["sum", "size"]).rename(columns={"sum": "area_m2", "size": "parcels"})
    if enn is None:
        if len(patches) >= 2:
            merged = dissolve(parcels.geometry.values, labels)
            enn = pd.Series(patch_nearest_distance(merged.values), index=merged.index)
        else:
            enn = pd.Series(np.nan, index=patches.index)
    patches["enn_m"] = enn.reindex(patches.index)
    patches["group"] = "all"
    groups = _group_table(parcels, group, total_area_m2)
    if groups.empty:
        groups = pd.DataFrame({"parcels": [0], "class_area_m2": [0.0], "inside_area_m2": [0.0],
                               "landscape_area_m2": [total_area_m2 or 0.0]}, index=["all"])
    row = _metrics_from_patches(patches.reset_index(drop=True), groups).iloc[0]
    return {k: (int(v) if k in ("parcels", "np", "small_parcels", "isolated_parcels", "sporadic_parcels") else float(v))
            for k, v in row.items()}


def group_metrics(
    parcels: gpd.GeoDataFrame,
    by: pd.Series,
    distance_m: float,
    *,
    pairs: tuple[np.ndarray, ...] | None = None,
    total_area_m2: pd.Series | dict[str, float] | None = None,
) -> pd.DataFrame:
    """Return :func:`fragmentation_metrics` for each group of parcels (a block, a ring …).

    Patches are recomputed within each group — the components of the neighbour graph keeping
    only the pairs whose two parcels share a group — so a park cluster that spans two blocks
    counts as one patch in each block (as FRAGSTATS clips patches at the landscape's edge). One
    component labelling serves all groups; ENN looks for the nearest patch in the same group
    (one STRtree per group). Parcels whose group is missing are left out.

    Parameters
    ----------
    by : Series
        Group key per parcel (same index).
    distance_m : float
        The cluster distance (m).
    pairs : (left, right), optional
        :func:`neighbour_graph` at ``distance_m`` on these parcels.
    total_area_m2 : mapping, optional
        Reference area per group (default: the group's parcel area).
    """
    if pairs is None:
        pairs = neighbour_graph(parcels, distance_m)
    key = by.reindex(parcels.index)
    codes, uniques = pd.factorize(key, sort=False)
    left, right = pairs[0], pairs[1]
    same = (codes[left] == codes[right]) & (codes[left] >= 0)
    labels = components(len(parcels), left[same], right[same])
    keep = codes >= 0
    sub = parcels[keep]
    labels, codes = labels[keep], codes[keep]
    patches = pd.DataFrame({"label": labels, "code": codes, "area_m2": sub["area_m2"].to_numpy()})
    patches = patches.groupby("label").agg(code=("code", "first"), area_m2=("area_m2", "sum"), parcels=("area_m2", "size"))
    merged = dissolve(sub.geometry.values, labels)
    patches["enn_m"] = np.nan
    for index in patches.groupby("code").groups.values():  # one tree per group
        if len(index) >= 2:
            patches.loc[index, "enn_m"] = patch_nearest_distance(merged.loc[index].values)
    patches["group"] = np.asarray(uniques, dtype=object)[patches["code"].to_numpy()]
    groups = _group_table(sub, key[keep], total_area_m2)
    out = _metrics_from_patches(patches.reset_index(drop=True), groups)
    return out.rename_axis("group").reset_index()


# --- flags ---------------------------------------------------------------------------------------


def _num(values: pd.Series, decimals: int) -> pd.Series:
    text = np.char.mod(f"%.{decimals}f", np.nan_to_num(values.to_numpy(dtype=float)))
    return pd.Series(text, index=values.index, dtype=object)


def _join(parts: list[pd.Series], sep: str) -> pd.Series:
    out = parts[0]
    for part in parts[1:]:
        out = out + np.where((out != "") & (part != ""), sep, "") + part
    return out


def scatter_flags(parcels: gpd.GeoDataFrame, spec: Any, *, nn: pd.Series | None = None) -> pd.DataFrame:
    """Return ``small``, ``isolated``, ``sporadic`` and the reasons, in Chinese and English.

    - small (area): :func:`small_plots`;
    - isolated (distance): the nearest other parcel farther than ``spec.isolated_distance_m``
      (edge to edge), or no other parcel at all;
    - sporadic (location, 零星): outside the planned industrial blocks (``inside_block``
      false); never when no blocks are known.

    ``nn`` (or a ``nn_distance_m`` column) gives the nearest distances; else they are computed.
    Reasons list each flag that holds, e.g. ``小地块(3.2亩<10亩)；孤立(距最近产业用地350米>200米)；区块外``.
    """
    if nn is None:
        nn = parcels["nn_distance_m"] if "nn_distance_m" in parcels else nearest_distance(parcels)
    nn = nn.reindex(parcels.index)
    threshold = small_thresholds_mu(parcels, spec)
    small = small_plots(parcels, spec)
    limit = float(spec.isolated_distance_m)
    isolated = (nn > limit) | nn.isna()
    sporadic = sporadic_plots(parcels)
    empty = pd.Series("", index=parcels.index, dtype=object)
    area, thr, dist, lim = _num(parcels["area_mu"], 1), _num(threshold, 0), _num(nn, 0), f"{limit:g}"
    small_zh = ("小地块(" + area + "亩<" + thr + "亩)").where(small, "")
    small_en = ("small plot (" + area + " mu < " + thr + " mu)").where(small, "")
    iso_zh = ("孤立(距最近产业用地" + dist + "米>" + lim + "米)").where(nn.notna(), "孤立(周边无其他产业用地)").where(isolated, "")
    iso_en = ("isolated (" + dist + " m from other industrial land > " + lim + " m)").where(
        nn.notna(), "isolated (no other industrial land)").where(isolated, "")
    said = sporadic & (small | isolated)  # the location is said where size or distance is
    out_zh = empty.where(~said, "区块外")
    out_en = empty.where(~said, "outside the blocks")
    return pd.DataFrame({
        "small": small,
        "isolated": isolated.astype(bool),
        "sporadic": sporadic.astype(bool),
        "scatter_reason_zh": _join([small_zh, iso_zh, out_zh], "；"),
        "scatter_reason_en": _join([small_en, iso_en, out_en], "; "),
    }, index=parcels.index)


# --- adjustment proposals ------------------------------------------------------------------------


def _grades(parcels: pd.DataFrame) -> pd.Series | None:
    return parcels["grade"].astype(object) if "grade" in parcels else None


def adjustment_proposals(
    parcels: gpd.GeoDataFrame,
    clusters: pd.Series | None = None,
    blocks: gpd.GeoDataFrame | None = None,
    *,
    spec: Any,
    pairs: tuple[np.ndarray, ...] | None = None,
) -> pd.DataFrame:
    """Return per parcel a proposed adjustment (动态调整) and its reason.

    ``adjustment`` is one of (first that applies; the three cannot overlap):

    ``move_out`` — 调出 (out of the park's management)
        a small, isolated plot outside the blocks whose grade is in ``move_out_grades``
        (C, D, U).
    ``bring_in`` — 调入 (into the nearest block)
        a plot outside the blocks graded in ``bring_in_grades`` (A, B) whose *cluster of such
        plots* — the components of the neighbour graph kept to outside A/B plots — has a plot
        within the cluster distance of a block (touching it at distance 0): of a block outline
        when ``blocks`` is given, else of a parcel inside a block. ``adjustment_block`` is the
        block nearest the cluster.
    ``merge`` — 归并
        small plots inside one block that lie within ``merge_distance_m`` of each other
        (0: sharing a boundary), graded in ``merge_grades`` when that is set: each component
        of two or more becomes one plot.

    Otherwise "". ``adjustment_group`` names the cluster (``B…``) or the merged group (``M…``).
    Grades come from the ``grade`` column (without it no move_out or bring_in is proposed);
    ``small`` and ``isolated`` from the parcels or :func:`scatter_flags`.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels with ``area_mu``, ``inside_block``, ``block_id``, optional ``grade``,
        ``small``/``isolated``/``nn_distance_m``.
    clusters : Series, optional
        Cluster id per parcel (at the cluster distance). Without ``blocks`` it narrows the
        bring-in candidates to clusters that hold a block's parcel first (a filter: the answer
        is the same, since a cluster within reach of a block's parcel is in its cluster).
    blocks : GeoDataFrame, optional
        Block outlines with ``block_id``.
    spec : Scatter
        ``project.scatter``.
    pairs : (left, right, distance), optional
        :func:`neighbour_graph` at ``spec.cluster_distance_m`` with distances.
    """
    distance = float(spec.cluster_distance_m)
    n = len(parcels)
    index = parcels.index
    if pairs is None or len(pairs) < 3:
        pairs = neighbour_graph(parcels, distance, return_distance=True)
    left, right, dist = pairs
    if {"small", "isolated"} - set(parcels.columns):
        flags = scatter_flags(parcels, spec)
        small, isolated = flags["small"].to_numpy(), flags["isolated"].to_numpy()
    else:
        small = parcels["small"].fillna(False).to_numpy(dtype=bool)
        isolated = parcels["isolated"].fillna(False).to_numpy(dtype=bool)
    inside = parcels["inside_block"].fillna(False).to_numpy(dtype=bool) if "inside_block" in parcels else np.zeros(n, bool)
    block_id = parcels["block_id"].to_numpy(dtype=object) if "block_id" in parcels else np.full(n, None, dtype=object)
    grade = _grades(parcels)
    area_mu = parcels["area_mu"].to_numpy(dtype=float)
    code = np.full(n, "", dtype=object)
    group = np.full(n, None, dtype=object)
    target = np.full(n, None, dtype=object)
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)

    # 调出
    if grade is not None:
        low = grade.isin(spec.move_out_grades).to_numpy()
        move = low & small & isolated & ~inside
        if move.any():
            nn = parcels["nn_distance_m"] if "nn_distance_m" in parcels else nearest_distance(parcels)
            g, a = grade.astype(str)[move], _num(pd.Series(area_mu[move]), 1)
            d = _num(pd.Series(nn.to_numpy()[move]), 0)
            far_zh = np.where(np.isnan(nn.to_numpy()[move]), "周边无其他产业用地", "距最近产业用地" + d + "米")
            far_en = np.where(np.isnan(nn.to_numpy()[move]), "no other industrial land", d + " m from other industrial land")
            code[move] = "move_out"
            zh[move] = "调出：区块外" + g.to_numpy() + "类小地块(" + a.to_numpy() + "亩)，孤立，" + far_zh
            en[move] = "move out: grade " + g.to_numpy() + " small plot (" + a.to_numpy() + " mu) outside the blocks, isolated, " + far_en

    # 调入
    if grade is not None:
        good = grade.isin(spec.bring_in_grades).to_numpy() & ~inside
        if clusters is not None and (blocks is None or not len(blocks)) and good.any():
            # without outlines a bring-in cluster must reach a block's parcel, so its park cluster holds one
            c = clusters.reindex(index).to_numpy()
            good &= pd.Series(inside).groupby(c).transform("any").to_numpy()
        if good.any():
            both = good[left] & good[right]
            unit = components(n, left[both], right[both])
            if blocks is not None and len(blocks):
                near_d, near_block = _near_blocks(parcels, blocks, distance, rows=good)
            else:  # the nearest inside-block parcel among the pairs
                near_d = np.full(n, np.inf)
                near_block = np.full(n, None, dtype=object)
                a_idx = np.concatenate([left[good[left] & inside[right]], right[good[right] & inside[left]]])
                b_idx = np.concatenate([right[good[left] & inside[right]], left[good[right] & inside[left]]])
                d_ab = np.concatenate([dist[good[left] & inside[right]], dist[good[right] & inside[left]]])
                if len(a_idx):
                    order = np.lexsort((d_ab, a_idx))
                    first = np.unique(a_idx[order], return_index=True)[1]
                    near_d[a_idx[order][first]] = d_ab[order][first]
                    near_block[a_idx[order][first]] = block_id[b_idx[order][first]]
            frame = pd.DataFrame({"unit": unit[good], "d": near_d[good], "block": near_block[good], "mu": area_mu[good]},
                                 index=np.flatnonzero(good))
            frame = frame.sort_values(["unit", "d"], kind="stable")
            per_unit = frame.groupby("unit").agg(d=("d", "first"), block=("block", "first"), mu=("mu", "sum"), k=("mu", "size"))
            per_unit = per_unit[per_unit["d"] <= distance].copy()
            if len(per_unit):
                per_unit["name"] = "B" + pd.Series(np.arange(1, len(per_unit) + 1), index=per_unit.index).astype(str)
                rows = frame.index[frame["unit"].isin(per_unit.index)].to_numpy()
                u = per_unit.loc[frame.loc[rows, "unit"]]
                blk = u["block"].astype(str).to_numpy()
                k, mu, d = u["k"].astype(str).to_numpy(), _num(u["mu"], 1).to_numpy(), _num(u["d"], 0).to_numpy()
                gr = grade.astype(str).to_numpy()[rows]
                grades_label = "/".join(spec.bring_in_grades)
                code[rows] = "bring_in"
                group[rows] = u["name"].to_numpy()
                target[rows] = u["block"].to_numpy()
                touching = u["d"].to_numpy() == 0
                where_zh = np.where(touching, "紧邻区块" + blk + "边界", "距区块" + blk + "边界" + d + "米")
                where_en = np.where(touching, "touching block " + blk, d + " m from block " + blk)
                zh[rows] = "调入：区块外" + grades_label + "类地块集群(" + k + "宗，" + mu + "亩)" + where_zh + "，本地块" + gr + "类"
                en[rows] = ("bring in: cluster of " + k + " grade " + grades_label + " plots (" + mu + " mu) outside the blocks, "
                            + where_en + "; this plot grade " + gr)

    # 归并
    merge_d = float(spec.merge_distance_m)
    if merge_d > distance:
        left_m, right_m, dist_m = neighbour_graph(parcels, merge_d, return_distance=True)
    else:
        left_m, right_m, dist_m = left, right, dist
    cand = small & inside & (code == "") & pd.notna(block_id)
    merge_grades = list(spec.merge_grades)
    if merge_grades:
        cand &= grade.isin(merge_grades).to_numpy() if grade is not None else False
    link = cand[left_m] & cand[right_m] & (dist_m <= merge_d)
    link &= block_id[left_m] == block_id[right_m]
    if link.any():
        unit = components(n, left_m[link], right_m[link])
        frame = pd.DataFrame({"unit": unit[cand], "mu": area_mu[cand]}, index=np.flatnonzero(cand))
        per_unit = frame.groupby("unit").agg(mu=("mu", "sum"), k=("mu", "size"))
        per_unit = per_unit[per_unit["k"] >= 2].copy()
        per_unit["name"] = "M" + pd.Series(np.arange(1, len(per_unit) + 1), index=per_unit.index).astype(str)
        rows = frame.index[frame["unit"].isin(per_unit.index)].to_numpy()
        u = per_unit.loc[frame.loc[rows, "unit"]]
        blk = pd.Series(block_id[rows]).astype(str).to_numpy()
        k, mu = u["k"].astype(str).to_numpy(), _num(u["mu"], 1).to_numpy()
        code[rows] = "merge"
        group[rows] = u["name"].to_numpy()
        target[rows] = block_id[rows]
        zh[rows] = "归并：区块" + blk + "内相邻小地块" + k + "宗，合计" + mu + "亩"
        en[rows] = "merge: " + k + " adjacent small plots in block " + blk + ", " + mu + " mu together"

    return pd.DataFrame({"adjustment": code, "adjustment_zh": zh, "adjustment_en": en,
                         "adjustment_group": group, "adjustment_block": target}, index=index)


def _near_blocks(
    parcels: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, max_m: float, *, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return per parcel the distance (m) to the nearest block outline and that block's id (inf/None beyond ``max_m``)."""
    n = len(parcels)
    near_d = np.full(n, np.inf)
    near_block = np.full(n, None, dtype=object)
    positions = np.arange(n) if rows is None else np.flatnonzero(rows)
    if not len(positions):
        return near_d, near_block
    blocks = blocks.to_crs(parcels.crs) if parcels.crs is not None and blocks.crs != parcels.crs else blocks
    found, distance = blocks.sindex.nearest(
        np.asarray(parcels.geometry.values)[positions], return_all=False, return_distance=True, max_distance=max(max_m, 1e-9)
    )
    near_d[positions[found[0]]] = distance
    near_block[positions[found[0]]] = blocks["block_id"].to_numpy(dtype=object)[found[1]]
    return near_d, near_block


def apply_adjustments(parcels: gpd.GeoDataFrame, proposals: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the park as adjusted.

    ``move_out`` plots leave the park's management (dropped); ``bring_in`` plots count as inside
    their ``adjustment_block``; each ``merge`` group becomes one plot: the union of the
    geometries, the sum of ``area_m2``/``area_mu``/``area_ha``, ``parcel_id`` the ids joined by
    ``+``, ``merged_parcels`` the count; its other attributes are those of the group's first
    plot. Flags and cluster columns of the input are dropped (recompute them on the result).
    """
    code = proposals["adjustment"].reindex(parcels.index).fillna("")
    stale = [c for c in PARCEL_COLUMNS if c in parcels.columns]
    out = parcels.loc[code != "move_out"].drop(columns=stale)
    code = code.loc[out.index]
    into = code == "bring_in"
    if into.any():
        out.loc[into, "inside_block"] = True
        out.loc[into, "block_id"] = proposals.loc[out.index[into], "adjustment_block"].to_numpy()
    out["merged_parcels"] = 1
    merging = code == "merge"
    if merging.any():
        parts = out.loc[merging]
        key = proposals.loc[parts.index, "adjustment_group"].to_numpy()
        geometry = dissolve(parts.geometry.values, key)
        first = parts.groupby(key, sort=True).head(1)
        first_key = proposals.loc[first.index, "adjustment_group"].to_numpy()
        merged = first.copy()
        merged = merged.set_geometry(geometry.loc[first_key].to_numpy(), crs=parts.crs)
        for column in ("area_m2", "area_mu", "area_ha"):
            if column in parts:
                merged[column] = parts[column].groupby(key).sum().loc[first_key].to_numpy()
        if "parcel_id" in parts:
            merged["parcel_id"] = parts["parcel_id"].astype(str).groupby(key).agg("+".join).loc[first_key].to_numpy()
        merged["merged_parcels"] = parts.groupby(key).size().loc[first_key].to_numpy()
        out = pd.concat([out.loc[~merging], merged])
        out = gpd.GeoDataFrame(out, geometry=parcels.geometry.name, crs=parcels.crs)
    return out


# --- the park's state, before and after --------------------------------------------------------


def park_state(parcels: gpd.GeoDataFrame, spec: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the per-parcel columns and the park metrics of a set of parcels.

    Runs the neighbour graph at ``spec.cluster_distance_m``, the clusters, the nearest
    distances, the flags, the cluster polygons (for ENN) and :func:`fragmentation_metrics`.
    The second value holds ``metrics`` (dict), ``pairs``, ``patches`` (dissolved cluster
    polygons, indexed by cluster id) and ``seconds`` per stage.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = seconds.get(name, 0.0) + now - clock
        clock = now

    distance = float(spec.cluster_distance_m)
    pairs = neighbour_graph(parcels, distance, return_distance=True)
    lap("neighbour_graph")
    ids = clusters(parcels, distance, pairs=pairs)
    sizes = cluster_sizes(parcels, ids)
    lap("clusters")
    nn = nearest_distance(parcels, pairs=pairs)
    lap("nearest_distance")
    flags = scatter_flags(parcels, spec, nn=nn)
    lap("flags")
    patches = dissolve(parcels.geometry.values, ids.to_numpy()) if len(parcels) else gpd.GeoSeries([], crs=parcels.crs)
    enn = pd.Series(patch_nearest_distance(patches.values), index=patches.index)
    lap("cluster_polygons")
    columns = pd.concat([flags[["small", "isolated", "sporadic"]], ids, sizes[["cluster_area_mu", "cluster_parcels"]], nn,
                         flags[["scatter_reason_zh", "scatter_reason_en"]]], axis=1)
    metrics = fragmentation_metrics(parcels.join(flags[["small", "isolated", "sporadic"]]), ids, enn=enn)
    lap("park_metrics")
    return columns, {"metrics": metrics, "pairs": pairs, "patches": patches, "enn": enn, "seconds": seconds}


def before_after(
    parcels: gpd.GeoDataFrame,
    proposals: pd.DataFrame,
    *,
    spec: Any,
    before: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Return the park's metrics before and after the proposed adjustments, and the change.

    One row per metric of :data:`METRICS` with ``before``, ``after``, ``change`` (after −
    before), ``change_pct`` (change / before × 100), ``better`` (which direction raises the
    concentration) and ``improved``. The park as adjusted is :func:`apply_adjustments`; its
    clusters, nearest distances and flags are recomputed from scratch. ``before`` (the metrics
    dict of :func:`park_state` on ``parcels``) saves recomputing the present state.
    """
    if before is None:
        before = park_state(parcels, spec)[1]["metrics"]
    adjusted = apply_adjustments(parcels, proposals)
    after = park_state(adjusted, spec)[1]["metrics"]
    return _before_after_table(before, after)


# --- the whole analysis --------------------------------------------------------------------------


def _rings_of(parcels: pd.DataFrame, blocks: gpd.GeoDataFrame | None, project: Project) -> pd.Series | None:
    if "ring" in parcels:
        return parcels["ring"].fillna(OUTSIDE).astype(object)
    if blocks is None or "block_id" not in parcels:
        return None
    if project.rings.designated:
        from landkit.rings import block_rings

        ring_of = block_rings(blocks, project.rings)
    elif "ring" in blocks and blocks["ring"].notna().any():
        ring_of = blocks.set_index("block_id")["ring"]
    else:
        return None
    return parcels["block_id"].map(ring_of).fillna(OUTSIDE).astype(object)


def cluster_layer(parcels: gpd.GeoDataFrame, columns: pd.DataFrame, patches: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Return one dissolved polygon per cluster with its parcels, area, flags, blocks and scores."""
    frame = parcels.join(columns[["cluster_id", "small", "sporadic"]])
    inside = frame["inside_block"].fillna(False).astype(bool) if "inside_block" in frame else pd.Series(False, index=frame.index)
    by = frame.groupby("cluster_id")
    table = pd.DataFrame({
        "parcels": by.size(),
        "area_m2": by["area_m2"].sum(),
        "inside_block_pct": 100 * frame["area_m2"].where(inside, 0.0).groupby(frame["cluster_id"]).sum() / by["area_m2"].sum()
        if "inside_block" in frame else np.nan,
        "small_parcels": by["small"].sum().astype(int),
        "sporadic_parcels": by["sporadic"].sum().astype(int),
    })
    table["area_mu"] = table["area_m2"] / M2_PER_MU
    table["area_ha"] = table["area_m2"] / M2_PER_HA
    if "block_id" in frame and frame["block_id"].notna().any():
        in_block = frame[frame["block_id"].notna()]
        share = in_block.groupby(["cluster_id", "block_id"])["area_m2"].sum().reset_index()
        share = share.sort_values(["cluster_id", "area_m2", "block_id"], ascending=[True, False, True], kind="stable")
        main = share.drop_duplicates("cluster_id").set_index("cluster_id")["block_id"]
        table["main_block_id"] = main.reindex(table.index)
        table["blocks"] = in_block.groupby("cluster_id")["block_id"].nunique().reindex(table.index).fillna(0).astype(int)
    if "score" in frame:
        table["mean_score"] = by["score"].mean()
    if "grade" in frame:
        for grade in ("A", "B", "C", "D"):
            table[f"share_{grade}_pct"] = 100 * frame["area_m2"].where(frame["grade"] == grade, 0.0).groupby(frame["cluster_id"]).sum() / table["area_m2"]
    table["enn_m"] = np.nan
    table = table.rename_axis("cluster_id").reset_index()
    return gpd.GeoDataFrame(table, geometry=patches.reindex(table["cluster_id"]).to_numpy(), crs=parcels.crs)


def _timed(func: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    return func(*args), time.perf_counter() - start


def analysed_parcels(parcels: gpd.GeoDataFrame, spec: Any) -> pd.Series:
    """Return which parcels the 小而散 analysis covers: those of ``scatter.land_uses`` (all when unset)."""
    land_uses = list(spec.land_uses)
    if land_uses and "land_use" in parcels:
        return parcels["land_use"].isin(land_uses)
    return pd.Series(True, index=parcels.index)


def scatter_state(parcels: gpd.GeoDataFrame, project: Project) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return :func:`park_state` of the analysed parcels: the part of :func:`assess_scatter` that
    needs no assessment column (geometry, areas, land use, blocks), so it can run beside the assessment."""
    require_metric(parcels.crs, "小而散", missing_ok=True)
    parcels = parcels.drop(columns=[c for c in PARCEL_COLUMNS if c in parcels])  # a re-run replaces them
    return park_state(parcels.loc[analysed_parcels(parcels, project.scatter)], project.scatter)


def scatter_metrics(with_flags: gpd.GeoDataFrame, state: dict[str, Any], blocks: gpd.GeoDataFrame | None,
                    project: Project) -> pd.DataFrame:
    """Return the fragmentation metrics of the park (from ``state``), of each block and of each ring."""
    spec = project.scatter
    distance = float(spec.cluster_distance_m)
    pairs = state["pairs"]
    park_row = pd.DataFrame([state["metrics"]]).assign(level="park", group="park", name=project.name)
    frames = [park_row]
    if "block_id" in with_flags:
        by_block = with_flags["block_id"].astype(object).where(with_flags["block_id"].notna(), OUTSIDE)
        rows = group_metrics(with_flags, by_block, distance, pairs=pairs)
        names = {}
        if blocks is not None and "block_name" in blocks:
            names = dict(zip(blocks["block_id"], blocks["block_name"], strict=False))
        elif "block_name" in with_flags:
            names = with_flags.dropna(subset=["block_id"]).drop_duplicates("block_id").set_index("block_id")["block_name"].to_dict()
        names[OUTSIDE] = "区块外"
        frames.append(rows.assign(level="block", name=rows["group"].map(names)))
    rings = _rings_of(with_flags, blocks, project)
    if rings is not None:
        rows = group_metrics(with_flags, rings, distance, pairs=pairs)
        labels = {k: v.get("zh", k) for k, v in project.rings.labels.items()}
        frames.append(rows.assign(level="ring", name=rows["group"].map(labels).fillna(rows["group"])))
    metrics = pd.concat(frames, ignore_index=True)
    first = ["level", "group", "name"]
    metrics = metrics[first + [c for c in metrics.columns if c not in first]]
    rank = {"park": {}, "block": {OUTSIDE: 1}, "ring": {r: i for i, r in enumerate([*project.rings.labels, OUTSIDE])}}
    metrics["_level"] = metrics["level"].map({"park": 0, "block": 1, "ring": 2})
    metrics["_rank"] = [rank[lv].get(g, 0 if lv == "block" else 99) for lv, g in zip(metrics["level"], metrics["group"], strict=True)]
    metrics = metrics.sort_values(["_level", "_rank", "group"], kind="stable").drop(columns=["_level", "_rank"]).reset_index(drop=True)
    for column in ("parcels", "np", "small_parcels", "isolated_parcels", "sporadic_parcels"):
        if column in metrics and metrics[column].notna().all():
            metrics[column] = metrics[column].astype(int)
    return metrics


def assess_scatter(
    parcels: gpd.GeoDataFrame, project: Project, *, blocks: gpd.GeoDataFrame | None = None,
    state: tuple[pd.DataFrame, dict[str, Any]] | None = None,
) -> ScatterResult:
    """Run the 小而散 analysis on the parcels (working CRS; graded parcels for the proposals).

    Parcels whose land use is not in ``scatter.land_uses`` (when set) are not industrial land:
    they get no flags, no cluster (``cluster_id`` −1) and no proposal, and are no one's
    neighbour. Metrics are computed for the park, each block (and the land outside the blocks,
    group ``outside``) and each ring (from a ``ring`` column, else from the blocks). ``state``
    is :func:`scatter_state` of the same parcels, when already computed.
    """
    spec = project.scatter
    seconds: dict[str, float] = {}
    require_metric(parcels.crs, "小而散", missing_ok=True)
    parcels = parcels.drop(columns=[c for c in PARCEL_COLUMNS if c in parcels])  # a re-run replaces them
    analysed = analysed_parcels(parcels, spec)
    park = parcels.loc[analysed]

    columns, state = state if state is not None else park_state(park, spec)
    seconds.update(state["seconds"])
    clock = time.perf_counter()
    with_flags = park.join(columns[["small", "isolated", "sporadic", "nn_distance_m"]])
    layer = cluster_layer(park, columns, state["patches"])
    layer["enn_m"] = state["enn"].reindex(layer["cluster_id"]).to_numpy()
    seconds["cluster_layer"] = time.perf_counter() - clock

    clock = time.perf_counter()
    proposals = adjustment_proposals(with_flags, columns["cluster_id"], blocks, spec=spec, pairs=state["pairs"])
    seconds["proposals"] = time.perf_counter() - clock
    adjusted = apply_adjustments(with_flags, proposals)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the park as adjusted (GEOS work, which releases the GIL) beside the group metrics
        after = pool.submit(contextvars.copy_context().run, _timed, park_state, adjusted, spec)
        clock = time.perf_counter()
        metrics = scatter_metrics(with_flags, state, blocks, project)
        seconds["group_metrics"] = time.perf_counter() - clock
        (after_columns, after_state), seconds["before_after"] = after.result()
    table = _before_after_table(state["metrics"], after_state["metrics"])

    out = pd.concat([columns, proposals], axis=1).reindex(parcels.index)
    out["cluster_id"] = out["cluster_id"].fillna(-1).astype(int)
    for flag in ("small", "isolated", "sporadic"):
        out[flag] = out[flag].fillna(False).astype(bool)
    out["cluster_parcels"] = out["cluster_parcels"].fillna(0).astype(int)
    for text in ("adjustment", "adjustment_zh", "adjustment_en", "scatter_reason_zh", "scatter_reason_en"):
        out[text] = out[text].fillna("")
    out = out[PARCEL_COLUMNS]
    counts = out["adjustment"].value_counts()
    area = parcels["area_mu"].groupby(out["adjustment"]).sum()
    report = {
        "parcels": int(analysed.sum()),
        "not_industrial": int((~analysed).sum()),
        "small": int(out["small"].sum()),
        "isolated": int(out["isolated"].sum()),
        "sporadic": int(out["sporadic"].sum()),
        "sporadic_area_mu": float(parcels.loc[out["sporadic"], "area_mu"].sum()),
        "clusters": int(len(layer)),
        "adjustments": {code: {"parcels": int(counts.get(code, 0)), "area_mu": float(area.get(code, 0.0))} for code in ADJUSTMENTS},
        "graded": "grade" in parcels,
        "seconds": seconds,
    }
    if "grade" not in parcels:
        log.warning("%s", _("小而散: the parcels carry no grade, so no 调出/调入 is proposed (run the assessment first)"))
    return ScatterResult(parcels=out, clusters=layer, metrics=metrics, before_after=table, adjusted=adjusted, report=report)


def _before_after_table(before: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for key, meta in METRICS.items():
        if key not in before and key not in after:
            continue
        b, a = float(before.get(key, np.nan)), float(after.get(key, np.nan))
        change = a - b
        better = meta["better"]
        improved = None if better is None or not np.isfinite(change) else bool(change < 0 if better == "lower" else change > 0)
        if better is not None and np.isfinite(change) and change == 0:
            improved = False
        rows.append({"metric": key, "label_zh": meta["zh"], "label_en": meta["en"], "unit": meta["unit"],
                     "before": b, "after": a, "change": change,
                     "change_pct": 100 * change / b if np.isfinite(b) and b != 0 else np.nan,
                     "better": better, "improved": improved})
    return pd.DataFrame(rows)
