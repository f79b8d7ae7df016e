"""Neighbours, clusters and fragmentation: the geometry under 小而散.

The neighbour graph (every pair of parcels within a distance, one spatial-index query) and its
connected components (clusters, patches), nearest-neighbour distances, patches dissolved, and
FRAGSTATS-style fragmentation and concentration metrics per park, block and ring
(:func:`fragmentation_metrics`, formulas and sources in its docstring). All distances in the
projected working CRS, metres, edge to edge; vectorised, no all-pairs distance matrix.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.core.crs import require_metric
from landkit.core.units import M2_PER_HA, M2_PER_MU
from landkit.engine.local import current_engine
from landkit.metrics.graphs import components
from landkit.metrics.nearest import nearest_distances

log = logging.getLogger(__name__)


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
        # Candidates by the boxes widened by the distance, kept where their distance is at most
        # it: the pairs of the ``dwithin`` predicate (within ⇔ distance ≤ d, bit for bit), 2.6×
        # faster than GEOS's prepared test on parcels, and the distances are wanted anyway.
        box = shapely.bounds(geoms)
        i, j = context.sindex.query(shapely.box(box[:, 0] - distance_m, box[:, 1] - distance_m,
                                                box[:, 2] + distance_m, box[:, 3] + distance_m), sort=True)
    else:
        i, j = context.sindex.query(geoms, predicate="intersects", sort=True)
    left, right = part.index.to_numpy()[i], context.index.to_numpy()[j]
    keep = left < right
    i, j, left, right = i[keep], j[keep], left[keep], right[keep]
    columns: dict[str, np.ndarray] = {}
    if with_distance or distance_m > 0:
        distance = shapely.distance(geoms[i], np.asarray(context.geometry.values)[j])
        within = distance <= distance_m if distance_m > 0 else slice(None)
        left, right, distance = left[within], right[within], distance[within]
        if with_distance:
            columns["distance"] = distance
    return pd.DataFrame({"right": right, **columns}, index=pd.Index(left, name="left"))


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

    :func:`~landkit.metrics.nearest.nearest_distances` among the patches: the answer of
    ``STRtree.query_nearest(exclusive=True)`` (patches are disjoint, so no other patch equals
    one), some 4 times faster on patches of hundreds of vertices. An empty patch has no neighbour.
    """
    return nearest_distances(np.asarray(getattr(patches, "values", patches)))


def _group_patches(geoms: np.ndarray, labels: np.ndarray, clusters: tuple[np.ndarray, gpd.GeoSeries] | None) -> gpd.GeoSeries:
    """Return the union of the geometries of each label (index: the sorted labels), taking the
    polygon of a park cluster where a label covers the whole cluster (labels never span two)."""
    if clusters is None:
        return dissolve(geoms, labels)
    cluster, polygons = clusters
    uniques, first, counts = np.unique(labels, return_index=True, return_counts=True)
    of = cluster[first]  # each label's cluster
    whole = counts == np.bincount(cluster, minlength=int(cluster.max()) + 1)[of]
    out = pd.Series(polygons.reindex(of).to_numpy(), index=pd.Index(uniques, name="label"), dtype=object)
    if not whole.all():
        cut = np.isin(labels, uniques[~whole])
        again = dissolve(geoms[cut], labels[cut])
        out.loc[again.index] = again.to_numpy()
    return gpd.GeoSeries(out, crs=getattr(polygons, "crs", None))


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
        table["landscape_area_m2"] = float(cast(float, landscape_m2))  # (np.isscalar's guard admits text too)
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
    clusters: tuple[np.ndarray, gpd.GeoSeries] | None = None,
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
    clusters : (labels, patches), optional
        The park's clusters at ``distance_m`` (:func:`clusters` of these parcels, as an array) and
        their dissolved polygons (:func:`dissolve`): a group's patch that is a whole cluster takes
        its polygon, and only the clusters a group edge cuts are dissolved again.
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
    merged = _group_patches(sub.geometry.values, labels, None if clusters is None else (clusters[0][keep], clusters[1]))
    patches["enn_m"] = np.nan
    for index in patches.groupby("code").groups.values():  # one tree per group
        if len(index) >= 2:
            patches.loc[index, "enn_m"] = patch_nearest_distance(merged.loc[index].values)
    patches["group"] = np.asarray(uniques, dtype=object)[patches["code"].to_numpy()]
    groups = _group_table(sub, key[keep], total_area_m2)
    out = _metrics_from_patches(patches.reset_index(drop=True), groups)
    return out.rename_axis("group").reset_index()
