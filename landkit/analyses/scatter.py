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
- merges (归并) of adjacent small plots of one block, land use, ownership and grade group, the
  park as merged, and the metrics before and after (调出 and 调入 change the blocks themselves:
  :mod:`landkit.analyses.adjustment`).

Everything is vectorised: spatial-index queries (``dwithin``, ``nearest``), array operations
on the pairs they return and pandas group-bys; no all-pairs distance matrix and no Python loop
over parcels. The only loops run over groups: one STRtree per block or ring for ENN, the union
of each multi-parcel patch inside geopandas' ``dissolve``, and the ids joined per merged group.

Settings come from ``project.scatter`` (:class:`landkit.config.models.Scatter`, defaults in the
profile): the thresholds, ``land_uses`` (land uses analysed as industrial land; empty: every
parcel), ``merge_distance_m``, ``merge_grades``, ``merge_same_land_use``, ``merge_same_ownership``,
``merge_grade_groups``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.config.models import Project
from landkit.core.crs import require_metric
from landkit.core.units import M2_PER_HA, M2_PER_MU
from landkit.metrics.fragmentation import (
    METRICS,
    cluster_sizes,
    clusters,
    dissolve,
    fragmentation_metrics,
    group_metrics,
    nearest_distance,
    neighbour_graph,
    patch_nearest_distance,
)
from landkit.metrics.graphs import components

log = logging.getLogger(__name__)

#: Adjustment codes and their labels.
ADJUSTMENTS = {
    "merge": {"zh": "归并", "en": "merge"},
}

OUTSIDE = "outside"


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
    *,
    spec: Any,
    pairs: tuple[np.ndarray, ...] | None = None,
) -> pd.DataFrame:
    """Return per parcel a proposed merge (归并) of small plots and its reason.

    ``adjustment`` is ``merge`` (归并) for small plots inside one block that lie within
    ``merge_distance_m`` of each other (0: sharing a boundary), graded in ``merge_grades`` when
    that is set, of one land use and one ownership and of grades of one of
    ``merge_grade_groups`` (as configured; a U plot never merges): each component of two or
    more becomes one plot. Otherwise "". ``adjustment_group`` names the merged group (``M…``).

    Taking land out of the park (调出) and into it (调入) are changes to the park's blocks, made
    from the block assessment by :func:`landkit.analyses.adjustment.adjust_blocks`.

    Parameters
    ----------
    parcels : GeoDataFrame
        Parcels with ``area_mu``, ``inside_block``, ``block_id``, optional ``grade``,
        ``land_use``, ``ownership`` and ``small`` (else :func:`scatter_flags`).
    spec : Scatter
        ``project.scatter``.
    pairs : (left, right, distance), optional
        :func:`neighbour_graph` at ``spec.cluster_distance_m`` with distances.
    """
    distance = float(spec.cluster_distance_m)
    n = len(parcels)
    index = parcels.index
    small = (parcels["small"].fillna(False).to_numpy(dtype=bool) if "small" in parcels
             else scatter_flags(parcels, spec)["small"].to_numpy())
    inside = parcels["inside_block"].fillna(False).to_numpy(dtype=bool) if "inside_block" in parcels else np.zeros(n, bool)
    block_id = parcels["block_id"].to_numpy(dtype=object) if "block_id" in parcels else np.full(n, None, dtype=object)
    grade = _grades(parcels)
    area_mu = parcels["area_mu"].to_numpy(dtype=float)
    code = np.full(n, "", dtype=object)
    group = np.full(n, None, dtype=object)
    target = np.full(n, None, dtype=object)
    zh = np.full(n, "", dtype=object)
    en = np.full(n, "", dtype=object)

    # 归并
    merge_d = float(spec.merge_distance_m)
    if merge_d > distance or pairs is None or len(pairs) < 3:
        left_m, right_m, dist_m = neighbour_graph(parcels, max(merge_d, distance), return_distance=True)
    else:
        left_m, right_m, dist_m = pairs
    cand = small & inside & pd.notna(block_id)
    merge_grades = list(spec.merge_grades)
    if merge_grades:
        cand &= grade.isin(merge_grades).to_numpy() if grade is not None else False
    link = cand[left_m] & cand[right_m] & (dist_m <= merge_d)
    link &= block_id[left_m] == block_id[right_m]
    link &= _mergeable(parcels, grade, spec, left_m, right_m)
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


def _mergeable(parcels: pd.DataFrame, grade: pd.Series | None, spec: Any, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Return which pairs may be merged: one land use, one ownership, grades of one group (as configured; U never)."""
    ok = np.ones(len(left), bool)
    if spec.merge_same_land_use and "land_use" in parcels:
        use = parcels["land_use"].astype(object).to_numpy()
        ok &= use[left] == use[right]
    if spec.merge_same_ownership and "ownership" in parcels:
        owner = parcels["ownership"].astype(object).where(parcels["ownership"].notna(), "state").to_numpy()
        ok &= owner[left] == owner[right]
    if spec.merge_grade_groups and grade is not None:
        of_group = {g: i for i, members in enumerate(spec.merge_grade_groups) for g in members}
        g = grade.map(of_group).fillna(-1).astype(int).to_numpy()
        ok &= (g[left] == g[right]) & (g[left] >= 0)
    return ok


def apply_adjustments(parcels: gpd.GeoDataFrame, proposals: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the park as merged.

    Each ``merge`` group becomes one plot: the union of the
    geometries, the sum of ``area_m2``/``area_mu``/``area_ha``, ``parcel_id`` the ids joined by
    ``+``, ``merged_parcels`` the count; its other attributes are those of the group's first
    plot. Flags and cluster columns of the input are dropped (recompute them on the result).
    """
    code = proposals["adjustment"].reindex(parcels.index).fillna("")
    stale = [c for c in PARCEL_COLUMNS if c in parcels.columns]
    out = parcels.drop(columns=stale).copy()  # one consolidated frame (the parcels come joined column group by group)
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
    The second value holds ``metrics`` (dict), ``pairs``, ``clusters`` (the cluster id of each
    parcel, an array), ``patches`` (dissolved cluster polygons, indexed by cluster id), ``enn``
    and ``seconds`` per stage.
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
    return columns, {"metrics": metrics, "pairs": pairs, "clusters": ids.to_numpy(), "patches": patches, "enn": enn,
                     "seconds": seconds}


def merged_metrics(park: gpd.GeoDataFrame, adjusted: gpd.GeoDataFrame, columns: pd.DataFrame, state: dict[str, Any],
                   proposals: pd.DataFrame, spec: Any) -> dict[str, Any]:
    """Return the park's metrics as merged (:func:`apply_adjustments`), from its state before where it can.

    A merged plot is the union of its parts, so its edge-to-edge distance to any other plot is
    the least of its parts' (the pairs before, contracted: a merged plot's nearest distance is
    its least distance to a plot outside it), its area their sum, and the other plots' nearest
    distances do not change. While each merge stays within one cluster, the clusters cover the
    same land, so their outlines and nearest distances (ENN) are those before; a merged plot
    with no other plot within the cluster distance has its nearest found by one search (as
    :func:`~landkit.metrics.fragmentation.nearest_distance` finds it). Where a merge would join
    two clusters, the park as merged is measured again (:func:`park_state`).

    Parameters
    ----------
    park, adjusted : GeoDataFrame
        The analysed parcels, and :func:`apply_adjustments` of them.
    columns, state : DataFrame, dict
        :func:`park_state` of ``park`` (the pairs with their distances).
    proposals : DataFrame
        :func:`adjustment_proposals` of ``park``.
    """
    contracted = _contracted_metrics(park, adjusted, columns, state, proposals, spec)
    return contracted if contracted is not None else park_state(adjusted, spec)[1]["metrics"]


def _contracted_metrics(park: gpd.GeoDataFrame, adjusted: gpd.GeoDataFrame, columns: pd.DataFrame, state: dict[str, Any],
                        proposals: pd.DataFrame, spec: Any) -> dict[str, Any] | None:
    """Return :func:`merged_metrics` from the pairs before, contracted; None where that cannot answer."""
    merging = (proposals["adjustment"].reindex(park.index) == "merge").to_numpy()
    if not merging.any():
        return dict(state["metrics"])
    code = pd.factorize(proposals["adjustment_group"].reindex(park.index).to_numpy()[merging])[0]
    cluster = columns["cluster_id"].reindex(park.index).to_numpy()
    if (pd.Series(cluster[merging]).groupby(code).nunique() > 1).any():
        return None
    positions = np.flatnonzero(merging)
    head = pd.Series(positions).groupby(code).min().to_numpy()  # the group's first part: the merged plot's row
    node = np.arange(len(park))
    node[positions] = head[code]
    left, right, distance = state["pairs"]
    a, b = node[left], node[right]
    outside = a != b
    nearest = np.full(len(park), np.inf)
    np.minimum.at(nearest, a[outside], distance[outside])
    np.minimum.at(nearest, b[outside], distance[outside])
    heads = park.index[head]
    alone = np.isinf(nearest[head])
    if alone.any():  # no plot within the cluster distance: the nearest one, searched as park_state would
        geoms = np.asarray(adjusted.geometry.values)
        asked = np.asarray(adjusted.geometry.loc[heads[alone]].values)
        found, distance = shapely.STRtree(geoms).query_nearest(asked, return_distance=True, exclusive=True, all_matches=False)
        far = np.full(alone.sum(), np.nan)
        far[found[0]] = distance
        nearest[head[alone]] = far
    nn = columns["nn_distance_m"].reindex(park.index).copy()
    nn.iloc[head] = nearest[head]
    flags = columns[["small", "isolated", "sporadic"]].reindex(park.index).copy()
    flags.loc[heads] = scatter_flags(adjusted.loc[heads], spec, nn=nn.loc[heads])[["small", "isolated", "sporadic"]]
    ids = pd.Series(cluster, index=park.index).reindex(adjusted.index)
    return fragmentation_metrics(adjusted.join(flags.astype(bool)), ids, enn=state["enn"])


def before_after(parcels: gpd.GeoDataFrame, proposals: pd.DataFrame, *, spec: Any) -> pd.DataFrame:
    """Return the park's metrics before and after the proposed adjustments, and the change.

    One row per metric of :data:`METRICS` with ``before``, ``after``, ``change`` (after −
    before), ``change_pct`` (change / before × 100), ``better`` (which direction raises the
    concentration) and ``improved``. The park as adjusted is :func:`apply_adjustments`; its
    metrics are :func:`merged_metrics`.
    """
    columns, state = park_state(parcels, spec)
    adjusted = apply_adjustments(parcels, proposals)
    return _before_after_table(state["metrics"], merged_metrics(parcels, adjusted, columns, state, proposals, spec))


# --- the whole analysis --------------------------------------------------------------------------


def _rings_of(parcels: pd.DataFrame, blocks: gpd.GeoDataFrame | None, project: Project) -> pd.Series | None:
    if "ring" in parcels:
        return parcels["ring"].fillna(OUTSIDE).astype(object)
    if blocks is None or "block_id" not in parcels:
        return None
    if project.rings.designated:
        from landkit.analyses.rings import block_rings

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


def analysed_parcels(parcels: gpd.GeoDataFrame, spec: Any) -> pd.Series:
    """Return which parcels the 小而散 analysis covers: those of ``scatter.land_uses`` (all when unset)."""
    land_uses = list(spec.land_uses)
    if land_uses and "land_use" in parcels:
        return parcels["land_use"].isin(land_uses)
    return pd.Series(True, index=parcels.index)


def scatter_state(parcels: gpd.GeoDataFrame, project: Project) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return :func:`park_state` of the analysed parcels: the part of :func:`assess_scatter` that
    needs no assessment column (geometry, areas, land use, blocks)."""
    require_metric(parcels.crs, "小而散", missing_ok=True)
    parcels = parcels.drop(columns=[c for c in PARCEL_COLUMNS if c in parcels])  # a re-run replaces them
    return park_state(parcels.loc[analysed_parcels(parcels, project.scatter)], project.scatter)


def scatter_metrics(with_flags: gpd.GeoDataFrame, state: dict[str, Any], blocks: gpd.GeoDataFrame | None,
                    project: Project) -> pd.DataFrame:
    """Return the fragmentation metrics of the park (from ``state``), of each block and of each ring."""
    spec = project.scatter
    distance = float(spec.cluster_distance_m)
    pairs = state["pairs"]
    clusters = (state["clusters"], state["patches"])
    park_row = pd.DataFrame([state["metrics"]]).assign(level="park", group="park", name=project.name)
    frames = [park_row]
    if "block_id" in with_flags:
        by_block = with_flags["block_id"].astype(object).where(with_flags["block_id"].notna(), OUTSIDE)
        rows = group_metrics(with_flags, by_block, distance, pairs=pairs, clusters=clusters)
        names = {}
        if blocks is not None and "block_name" in blocks:
            names = dict(zip(blocks["block_id"], blocks["block_name"], strict=False))
        elif "block_name" in with_flags:
            names = with_flags.dropna(subset=["block_id"]).drop_duplicates("block_id").set_index("block_id")["block_name"].to_dict()
        names[OUTSIDE] = "区块外"
        frames.append(rows.assign(level="block", name=rows["group"].map(names)))
    rings = _rings_of(with_flags, blocks, project)
    if rings is not None:
        rows = group_metrics(with_flags, rings, distance, pairs=pairs, clusters=clusters)
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

    columns, before_state = state if state is not None else park_state(park, spec)
    seconds.update(before_state["seconds"])
    clock = time.perf_counter()
    with_flags = park.join(columns[["small", "isolated", "sporadic", "nn_distance_m"]])
    layer = cluster_layer(park, columns, before_state["patches"])
    layer["enn_m"] = before_state["enn"].reindex(layer["cluster_id"]).to_numpy()
    seconds["cluster_layer"] = time.perf_counter() - clock

    clock = time.perf_counter()
    proposals = adjustment_proposals(with_flags, spec=spec, pairs=before_state["pairs"])
    seconds["proposals"] = time.perf_counter() - clock
    adjusted = apply_adjustments(with_flags, proposals)
    clock = time.perf_counter()
    metrics = scatter_metrics(with_flags, before_state, blocks, project)
    seconds["group_metrics"] = time.perf_counter() - clock
    clock = time.perf_counter()
    after = merged_metrics(park, adjusted, columns, before_state, proposals, spec)
    seconds["before_after"] = time.perf_counter() - clock
    table = _before_after_table(before_state["metrics"], after)

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
        "clusters": len(layer),
        "adjustments": {code: {"parcels": int(counts.get(code, 0)), "area_mu": float(area.get(code, 0.0))} for code in ADJUSTMENTS},
        "graded": "grade" in parcels,
        "seconds": seconds,
    }
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
