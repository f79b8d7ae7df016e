"""园区地块动态调整: changes to the park's own blocks, drawn from the assessment.

Plan item 14: "按照考核评估结果，落实园区地块动态调整，提高园区地块集中度，逐步解决'小而散'问题". The
park's areas are its blocks; this module proposes changes to them (settings
``project.block_adjustment``, defaults and sources in the profile):

- **调出 (move out)**: a block's *core* is its largest patch — its parcels joined by pairs closer
  than ``core_distance_m`` (edge to edge), pairs within the block only. Poor land of the block —
  parcels of ``move_out_grades`` or legally idle (``move_out_idle``) — that no pair links to the
  core forms the fringe; each contiguous piece of it of at least ``move_out_min_mu`` is one
  proposal. Land already outside every block is never "moved out".
- **调入 (bring in)**: land outside every block, graded in ``bring_in_grades`` (or of a
  ``zone_type`` in ``bring_in_zone_types``: 195 areas to convert), of ``bring_in_land_uses`` (empty:
  any), in contiguous pieces of at least ``bring_in_min_mu`` within ``bring_in_distance_m`` of a
  block's boundary: proposed for the nearest block.
- **合并 (merge blocks)**: two blocks within ``merge_blocks_distance_m`` of each other (of one ring
  when ``merge_same_ring``) whose parcels touch across the boundary (a pair of the core distance
  links them): merged, their patches join.

The park's concentration, before and after (all proposals applied), and each proposal's own
change: over the analysed industrial land (``scatter.land_uses``), with the park being the land
inside the blocks and a *patch* a set of parcels of one block linked by pairs within
``core_distance_m`` (the vector analogue of FRAGSTATS' patch, as in
:mod:`landkit.metrics.fragmentation`, but never across a block boundary: a block is the unit
managed):

- ``inside_block_pct`` 入区率 = area inside the blocks / all analysed area × 100;
- ``np`` patch count; ``lpi_pct`` = largest patch / park area × 100 (FRAGSTATS LPI);
- ``hhi`` = Σ (a_j / A)² over the patches (Herfindahl index of patch areas; 1 = one patch);
- ``core_distance_mn_m`` = mean over the park's parcels of the edge-to-edge distance to their
  block's core (0 in the core);
- and each block's land-intensity score (:func:`landkit.assess.blocks.assess_blocks`) on the
  blocks as proposed.

Vectorised: one neighbour query, SciPy connected components (:func:`landkit.metrics.graphs.components`),
array operations on the pairs; loops run over blocks and proposals only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.analyses.scatter import analysed_parcels
from landkit.assess.blocks import assess_blocks
from landkit.config.models import Project
from landkit.core.crs import require_metric
from landkit.core.units import M2_PER_MU
from landkit.metrics.fragmentation import neighbour_graph
from landkit.metrics.graphs import components

#: Proposal kinds: code → (Chinese, English).
KINDS = {"move_out": ("调出", "move out"), "bring_in": ("调入", "bring in"), "merge": ("区块合并", "merge blocks")}

#: The concentration metrics: name → (Chinese, English, unit, the better direction).
CONCENTRATION = {
    "inside_block_pct": ("入区率", "Share inside the blocks", "%", "higher"),
    "np": ("斑块数", "Number of patches (NP)", "个", "lower"),
    "lpi_pct": ("最大斑块指数", "Largest patch index (LPI)", "%", "higher"),
    "hhi": ("集中度(赫芬达尔指数)", "Herfindahl index of patch areas", "", "higher"),
    "core_distance_mn_m": ("至区块核心平均距离", "Mean distance to the block's core", "m", "lower"),
}


@dataclass
class BlockAdjustmentResult:
    """The proposals (a layer), the blocks as proposed (a layer), the before/after table, per-parcel columns."""

    proposals: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame
    before_after: pd.DataFrame
    parcels: pd.DataFrame
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class AdjustmentGraph:
    """The analysed parcels' neighbour pairs (positions among them), and the core distances measured on them so far.

    Geometry only: assessments of the same parcels that differ in weights or rules share it
    (:class:`landkit.pipeline.Reuse`), and with it each block's distances to its core, which
    depend only on the block's parcels and its core (``distances``: keyed by both), and the
    nearest block of each parcel outside the blocks (``nearest``: position, distance).
    """

    left: np.ndarray
    right: np.ndarray
    distances: dict[bytes, np.ndarray] = field(default_factory=dict, repr=False)
    nearest: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)


@dataclass
class _Park:
    """The analysed parcels as arrays: geometry, area, block (−1 outside), pairs (and the distances known)."""

    geoms: np.ndarray
    area: np.ndarray
    block: np.ndarray
    left: np.ndarray
    right: np.ndarray
    names: np.ndarray
    distances: dict[bytes, np.ndarray] = field(default_factory=dict, repr=False)


def _patches(park: _Park, block: np.ndarray) -> np.ndarray:
    """Return each parcel's patch label: components of the pairs within one block (−1 outside the blocks)."""
    same = (block[park.left] == block[park.right]) & (block[park.left] >= 0)
    labels = components(len(block), park.left[same], park.right[same])
    return np.where(block >= 0, labels, -1)


def _cores(park: _Park, block: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """Return whether each parcel is in its block's core: the block's largest patch by area."""
    inside = block >= 0
    if not inside.any():
        return np.zeros(len(block), bool)
    frame = pd.DataFrame({"block": block[inside], "patch": patch[inside], "area": park.area[inside]})
    sizes = frame.groupby(["block", "patch"])["area"].sum().reset_index()
    sizes = sizes.sort_values(["block", "area", "patch"], ascending=[True, False, True], kind="stable")
    core_patch = sizes.drop_duplicates("block").set_index("block")["patch"]
    core = np.zeros(len(block), bool)
    core[inside] = core_patch.reindex(block[inside]).to_numpy() == patch[inside]
    return core


def concentration(park: _Park, block: np.ndarray) -> dict[str, float]:
    """Return the park's concentration metrics (:data:`CONCENTRATION`) for a block assignment."""
    inside = block >= 0
    total = park.area.sum()
    a_in = park.area[inside].sum()
    patch = _patches(park, block)
    areas = np.bincount(patch[inside], weights=park.area[inside]) if inside.any() else np.zeros(0)
    areas = areas[areas > 0]
    core = _cores(park, block, patch)
    distance = np.zeros(len(block))
    for b in np.unique(block[inside & ~core]):  # each outer parcel's distance to its block's core
        members = np.flatnonzero(block == b)
        outer = members[~core[members]]
        distance[outer] = _core_distance(park, outer, members[core[members]])
    return {
        "inside_block_pct": 100 * a_in / total if total else np.nan,
        "np": float(len(areas)),
        "lpi_pct": 100 * areas.max() / a_in if a_in else np.nan,
        "hhi": float(((areas / a_in) ** 2).sum()) if a_in else np.nan,
        "core_distance_mn_m": float(distance[inside].mean()) if inside.any() else np.nan,
    }


def _core_distance(park: _Park, outer: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Return the distance of each ``outer`` parcel to the nearest ``core`` parcel (= to the core's union), memoised."""
    key = outer.tobytes() + b"|" + core.tobytes()
    if key not in park.distances:
        (at, _), nearest = shapely.STRtree(park.geoms[core]).query_nearest(park.geoms[outer], return_distance=True,
                                                                           all_matches=False)
        distance = np.full(len(outer), np.nan)
        distance[at] = nearest
        park.distances[key] = distance
    return park.distances[key]


def _pieces(n: int, left: np.ndarray, right: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Return the contiguous pieces of the ``member`` parcels (label per parcel, −1 for the others)."""
    keep = member[left] & member[right]
    labels = components(n, left[keep], right[keep])
    return np.where(member, labels, -1)


def _grouped(labels: np.ndarray, area: np.ndarray, min_mu: float) -> list[np.ndarray]:
    """Return the positions of each labelled piece whose area reaches ``min_mu`` 亩, largest first."""
    member = labels >= 0
    if not member.any():
        return []
    frame = pd.DataFrame({"label": labels[member], "pos": np.flatnonzero(member), "area": area[member]})
    totals = frame.groupby("label")["area"].sum()
    kept = totals[totals / M2_PER_MU >= min_mu].sort_values(ascending=False, kind="stable")
    groups = frame[frame["label"].isin(kept.index)].groupby("label")["pos"].apply(np.asarray)
    return [groups[label] for label in kept.index]


def adjustment_graph(parcels: gpd.GeoDataFrame, project: Project, *,
                     pairs: tuple[np.ndarray, ...] | None = None) -> AdjustmentGraph:
    """Return the neighbour pairs (positions among the analysed parcels) the block adjustment joins patches by.

    Geometry only (the analysed land of ``scatter.land_uses`` within ``block_adjustment.core_distance_m``):
    assessments of the same parcels that differ in weights or rules share it (:class:`landkit.pipeline.Reuse`).
    ``pairs`` — ``(left, right, distance)``, the 小而散 neighbour pairs of the same parcels and
    settings (:func:`landkit.analyses.scatter.scatter_state`, at ``scatter.cluster_distance_m``)
    — are filtered rather than queried again when they reach the core distance.
    """
    core = float(project.block_adjustment.core_distance_m)
    if pairs is not None and float(project.scatter.cluster_distance_m) >= core:
        left, right, distance = pairs
        near = distance <= core
        return AdjustmentGraph(left[near], right[near])
    land = parcels.loc[analysed_parcels(parcels, project.scatter).to_numpy()]
    left, right = neighbour_graph(land, core)[:2]
    return AdjustmentGraph(left, right)


def adjust_blocks(parcels: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, project: Project, *,
                  graph: AdjustmentGraph | None = None, scores: pd.DataFrame | None = None) -> BlockAdjustmentResult:
    """Propose the park's block changes (调出, 调入, 合并) and what each does to concentration and scores.

    Parameters
    ----------
    parcels : GeoDataFrame
        Assessed parcels in the working CRS: ``parcel_id``, ``block_id``, ``area_m2``, ``grade``,
        ``legally_idle``, ``land_use`` and optionally ``zone_type``.
    blocks : GeoDataFrame
        The blocks (``block_id``, ``block_name``, ``ring`` when known), same CRS.
    project : Project
        ``block_adjustment`` (the rules), ``scatter.land_uses`` (the analysed land) and
        ``block_assessment`` (the block scores).
    graph : AdjustmentGraph, optional
        :func:`adjustment_graph` of the same parcels and settings, when already computed (the core
        distances it holds are taken over, and those measured here added).
    scores : DataFrame, optional
        :func:`~landkit.assess.blocks.assess_blocks` of the same parcels and blocks, when already computed.

    Returns
    -------
    BlockAdjustmentResult
        ``proposals``: one row per proposal (``proposal_id``, ``change_kind``, ``kind_zh``,
        ``kind_en``, ``block_id`` (the block changed; merges ``A+B``), ``parcels``, ``area_mu``,
        ``grades``, ``reason_zh``/``reason_en``, the park's concentration change of the proposal
        alone ``d_<metric>``, ``block_score_before``/``after``; geometry: the land moved, or the
        merged block). ``blocks``: the blocks as proposed (``block_id``, ``change_kind``,
        ``block_score_before``/``after``). ``before_after``: the park's metrics before and after
        all proposals, and each changed block's score. ``parcels``: ``block_change`` (code),
        ``block_change_zh``/``_en``, ``block_change_id`` and ``proposed_block_id``, aligned to ``parcels``.
    """
    spec = project.block_adjustment
    require_metric(parcels.crs, "园区地块动态调整", missing_ok=True)
    analysed = analysed_parcels(parcels, project.scatter).to_numpy()
    land = parcels.loc[analysed]
    ids = blocks["block_id"].astype(str).to_numpy()
    code = {b: i for i, b in enumerate(ids)}
    block = land["block_id"].map(code).fillna(-1).astype(int).to_numpy() if "block_id" in land else np.full(len(land), -1)
    graph = graph if graph is not None else adjustment_graph(parcels, project)
    left, right = graph.left, graph.right
    park = _Park(land.geometry.to_numpy(), land["area_m2"].astype(float).to_numpy(), block, left, right, ids, graph.distances)
    grade = land["grade"].astype(object).to_numpy() if "grade" in land else np.full(len(land), None)
    idle = land["legally_idle"].fillna(False).astype(bool).to_numpy() if "legally_idle" in land else np.zeros(len(land), bool)
    n = len(land)

    # 调出: a block's patches apart from its core whose land is mostly poor
    patch = _patches(park, block)
    core = _cores(park, block, patch)
    poor = np.isin(grade, spec.move_out_grades) | (idle & spec.move_out_idle)
    inside = (block >= 0) & ~core
    shares = pd.DataFrame({"patch": patch[inside], "poor": park.area[inside] * poor[inside], "area": park.area[inside]}).groupby("patch").sum()
    fringe = shares.index[(shares["poor"] >= spec.fringe_poor_share * shares["area"]) & (shares["poor"] > 0)]
    move_out = _grouped(np.where(inside & np.isin(patch, fringe), patch, -1), park.area, spec.move_out_min_mu)

    # 调入: good land outside the blocks next to one
    outside = block < 0
    good = np.isin(grade, spec.bring_in_grades)
    if spec.bring_in_zone_types and "zone_type" in land:  # a 195 area to convert, unless its land is poor
        good |= land["zone_type"].astype(str).isin(spec.bring_in_zone_types).to_numpy() & ~np.isin(grade, spec.move_out_grades) & ~idle
    if spec.bring_in_land_uses:
        good &= land["land_use"].isin(spec.bring_in_land_uses).to_numpy()
    candidates = outside & good
    if graph.nearest is None:  # for all the land outside (geometry only), so that assessments of other classes share it
        graph.nearest = _nearest_block(park.geoms, blocks, outside)
    near_block, near_distance = graph.nearest
    bring_in = []
    for members in _grouped(_pieces(n, left, right, candidates), park.area, spec.bring_in_min_mu):
        best = members[np.argmin(near_distance[members])]
        if near_distance[best] <= spec.bring_in_distance_m:
            bring_in.append((members, near_block[best]))

    # 合并: blocks whose land touches across their boundary
    merges = _merge_pairs(blocks, park, spec, project)

    proposals: list[dict[str, Any]] = [{"change_kind": "move_out", "members": m, "block": int(block[m[0]]), "to": -1} for m in move_out]
    proposals += [{"change_kind": "bring_in", "members": m, "block": target, "to": target} for m, target in bring_in]
    for a, b in merges:
        proposals.append({"change_kind": "merge", "members": np.flatnonzero(block == b), "block": a, "to": a, "pair": (a, b)})

    before = concentration(park, block)
    after_block = block.copy()
    for p in proposals:
        after_block = _applied(after_block, p)
    after = concentration(park, after_block)
    areas = _patch_areas(park, block, patch)
    rows = []
    parcel_ids = land["parcel_id"].astype(str).to_numpy()
    for i, p in enumerate(proposals, start=1):
        alone = _alone(park, block, areas, p)
        rows.append(_proposal_row(i, p, parcel_ids, park, grade, alone, before))
    if scores is None:
        scores = assess_blocks(parcels, blocks, project.block_assessment)
    return _result(parcels, land, blocks, project, park, block, after_block, proposals, rows, before, after,
                   scores.set_index("block_id")["block_score"])


def _patch_areas(park: _Park, block: np.ndarray, patch: np.ndarray) -> dict[int, np.ndarray]:
    """Return each block's patch areas (m²)."""
    inside = block >= 0
    frame = pd.DataFrame({"block": block[inside], "patch": patch[inside], "area": park.area[inside]})
    sums = frame.groupby(["block", "patch"])["area"].sum()
    return {int(b): group.to_numpy() for b, group in sums.groupby(level="block")}


def _alone(park: _Park, block: np.ndarray, areas: dict[int, np.ndarray], proposal: dict[str, Any]) -> dict[str, float]:
    """Return the park's concentration with one proposal applied (core distance aside).

    Only the blocks the proposal touches are recomputed: the components of their parcels' pairs
    under the new assignment; the other blocks keep their patches.
    """
    changed = _applied(block.copy(), proposal)
    touched = {int(b) for b in (proposal["block"], proposal["to"], *proposal.get("pair", ())) if b >= 0}
    sub = np.isin(block, list(touched)) | np.isin(changed, list(touched))
    keep = sub[park.left] & sub[park.right] & (changed[park.left] == changed[park.right]) & (changed[park.left] >= 0)
    positions = np.flatnonzero(sub)
    local = np.full(len(block), -1)
    local[positions] = np.arange(len(positions))
    labels = components(len(positions), local[park.left[keep]], local[park.right[keep]])
    inside = changed[positions] >= 0
    new = np.bincount(labels[inside], weights=park.area[positions][inside]) if inside.any() else np.zeros(0)
    rest = [a for b, a in areas.items() if b not in touched]
    all_areas = np.concatenate([*rest, new[new > 0]]) if rest or len(new) else np.zeros(0)
    a_in = all_areas.sum()
    total = park.area.sum()
    return {"inside_block_pct": 100 * park.area[changed >= 0].sum() / total if total else np.nan, "np": float(len(all_areas)),
            "lpi_pct": 100 * all_areas.max() / a_in if a_in else np.nan, "hhi": float(((all_areas / a_in) ** 2).sum()) if a_in else np.nan,
            "core_distance_mn_m": np.nan}


def _split_by_block(labels: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Return labels made unique per (label, block): a piece never spans two blocks."""
    member = labels >= 0
    out = np.full(len(labels), -1)
    if member.any():
        out[member] = pd.factorize(pd.MultiIndex.from_arrays([labels[member], block[member]]))[0]
    return out


def _nearest_block(geoms: np.ndarray, blocks: gpd.GeoDataFrame, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return, for the parcels of ``which``, the position of the nearest block and the distance to its boundary."""
    near = np.full(len(geoms), -1)
    distance = np.full(len(geoms), np.inf)
    if which.any() and len(blocks):
        tree = shapely.STRtree(blocks.geometry.to_numpy())
        positions = np.flatnonzero(which)
        (left, right), d = tree.query_nearest(geoms[positions], return_distance=True, all_matches=False)
        near[positions[left]] = right
        distance[positions[left]] = d
    return near, distance


def _merge_pairs(blocks: gpd.GeoDataFrame, park: _Park, spec: Any, project: Project) -> list[tuple[int, int]]:
    """Return pairs of block positions (a < b) to merge: near each other, one ring, parcels linked across."""
    geoms = blocks.geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=float(spec.merge_blocks_distance_m))
    keep = a < b
    a, b = a[keep], b[keep]
    if spec.merge_same_ring and "ring" in blocks:
        ring = blocks["ring"].astype(object).to_numpy()
        keep = (ring[a] == ring[b]) & pd.notna(ring[a])
        a, b = a[keep], b[keep]
    cross = park.block[park.left] != park.block[park.right]
    ends = np.sort(np.stack([park.block[park.left][cross], park.block[park.right][cross]], axis=1), axis=1)
    ends = ends[ends[:, 0] >= 0]
    linked = {(int(x), int(y)) for x, y in np.unique(ends, axis=0)} if len(ends) else set()
    return [(int(x), int(y)) for x, y in zip(a, b, strict=True) if (int(x), int(y)) in linked]


def _applied(block: np.ndarray, proposal: dict[str, Any]) -> np.ndarray:
    """Return a block assignment with one proposal applied."""
    if proposal["change_kind"] == "merge":
        a, b = proposal["pair"]
        block[block == b] = a
    else:
        block[proposal["members"]] = proposal["to"]
    return block


def _proposal_row(i: int, p: dict[str, Any], parcel_ids: np.ndarray, park: _Park, grade: np.ndarray,
                  alone: dict[str, float], before: dict[str, float]) -> dict[str, Any]:
    members = p["members"]
    kind = p["change_kind"]
    zh, en = KINDS[kind]
    area_mu = float(park.area[members].sum() / M2_PER_MU)
    grades = ",".join(sorted({str(g) for g in grade[members] if g is not None and not pd.isna(g)}))
    target = park.names[p["block"]] if p["block"] >= 0 else ""
    if kind == "move_out":
        reason_zh = f"区块{target}中与核心不相连、以低效用地为主的地块({grades or '闲置'}，{area_mu:.1f}亩)"
        reason_en = f"land of block {target} cut off from its core, mostly poor ({grades or 'idle'}, {area_mu:.1f} mu)"
        block_id = target
    elif kind == "bring_in":
        reason_zh = f"紧邻区块{target}的连片优质产业用地({grades}，{area_mu:.1f}亩)"
        reason_en = f"contiguous well-performing industrial land next to block {target} ({grades}, {area_mu:.1f} mu)"
        block_id = target
    else:
        other = park.names[p["pair"][1]]
        reason_zh = f"区块{target}与{other}用地跨界相连，合并后斑块连通"
        reason_en = f"the land of blocks {target} and {other} touches across their boundary: merged, the patches join"
        block_id = f"{target}+{other}"
    row: dict[str, Any] = {"proposal_id": f"ADJ-{i:03d}", "change_kind": kind, "kind_zh": zh, "kind_en": en, "block_id": block_id,
                           "parcels": len(members), "area_mu": area_mu, "grades": grades, "reason_zh": reason_zh, "reason_en": reason_en,
                           "parcel_ids": ";".join(parcel_ids[members][:50])}
    for name in CONCENTRATION:
        if name != "core_distance_mn_m":  # the core distance is measured on the park before and after all proposals
            row[f"d_{name}"] = alone[name] - before[name]
    row["_members"] = members
    return row


def _proposed_blocks(blocks: gpd.GeoDataFrame, park: _Park, proposals: list[dict[str, Any]], close_m: float) -> gpd.GeoDataFrame:
    """Return the blocks as proposed: moved-out land cut away, brought-in land added (gaps up to ``close_m`` closed),
    merged blocks unioned."""
    geoms = blocks.geometry.to_numpy().copy()
    kind = np.full(len(geoms), "", dtype=object)
    radius = close_m / 2 + 0.01

    def closed(geom: Any) -> Any:  # morphological closing: the gaps between the pieces, up to close_m, filled
        return shapely.buffer(shapely.buffer(geom, radius, join_style="mitre"), -radius, join_style="mitre")

    order = sorted(proposals, key=lambda p: p["change_kind"] != "bring_in")  # taken in before anything is cut away
    for p in order:
        land = shapely.union_all(park.geoms[p["members"]])
        if p["change_kind"] == "move_out":  # the fringe and the streets between its parcels
            geoms[p["block"]] = shapely.difference(geoms[p["block"]], closed(land))
        elif p["change_kind"] == "bring_in":
            geoms[p["block"]] = closed(shapely.union(geoms[p["block"]], land))
    for p in proposals:
        if p["change_kind"] != "merge":
            kind[p["block"]] = ";".join(filter(None, [kind[p["block"]], p["change_kind"]]))
    ids = blocks["block_id"].astype(str).to_numpy().copy()
    keep = np.ones(len(geoms), bool)
    for p in proposals:
        if p["change_kind"] == "merge":
            a, b = p["pair"]
            geoms[a] = shapely.union(geoms[a], geoms[b])
            ids[a] = f"{ids[a]}+{ids[b]}"
            kind[a] = ";".join(filter(None, [kind[a], "merge"]))
            keep[b] = False
    out = blocks.drop(columns=[c for c in blocks.columns if c not in ("block_id", "block_name", "ring", blocks.geometry.name)])
    out = out.assign(block_id=ids, change_kind=kind).set_geometry(shapely.make_valid(geoms), crs=blocks.crs)
    return out[keep].reset_index(drop=True)


def _result(parcels: gpd.GeoDataFrame, land: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, project: Project, park: _Park,
            block: np.ndarray, after: np.ndarray, proposals: list[dict[str, Any]], rows: list[dict[str, Any]],
            before_metrics: dict[str, float], after_metrics: dict[str, float], score_before: pd.Series) -> BlockAdjustmentResult:
    proposed = _proposed_blocks(blocks, park, proposals, float(project.block_adjustment.bring_in_distance_m))
    # the block scores on the blocks as proposed: the parcels reassigned (merged blocks under the merged id)
    new_ids = park.names[np.maximum(after, 0)].astype(object)
    new_ids[after < 0] = None
    for p in proposals:
        if p["change_kind"] == "merge":
            a, b = p["pair"]
            new_ids[after == a] = f"{park.names[a]}+{park.names[b]}"
    reassigned = parcels.copy(deep=False)
    proposed_id = pd.Series(reassigned["block_id"].astype(object) if "block_id" in reassigned else None, index=parcels.index)
    proposed_id.loc[land.index] = new_ids
    reassigned["block_id"] = proposed_id
    spec = project.block_assessment
    score_after = assess_blocks(reassigned, proposed, spec).set_index("block_id")["block_score"]
    proposed["block_score_before"] = proposed["block_id"].map(score_before)
    proposed["block_score_after"] = proposed["block_id"].map(score_after)

    change = {name: np.full(len(parcels), "", dtype=object)
              for name in ("block_change", "block_change_zh", "block_change_en", "block_change_id")}
    at = parcels.index.get_indexer(land.index)  # each analysed parcel's position among all
    geoms = []
    for row in rows:
        positions = row.pop("_members")
        members = land.index[positions]
        for name, key in (("block_change", "change_kind"), ("block_change_zh", "kind_zh"), ("block_change_en", "kind_en"),
                          ("block_change_id", "proposal_id")):
            change[name][at[positions]] = row[key]
        if row["change_kind"] == "merge":
            geoms.append(proposed.geometry[proposed["block_id"] == row["block_id"]].iloc[0] if (proposed["block_id"] == row["block_id"]).any()
                         else shapely.union_all(park.geoms[np.isin(land.index, members)]))
        else:
            geoms.append(shapely.union_all(land.geometry.loc[members].to_numpy()))
        first = row["block_id"].split("+")[0]
        row["block_score_before"] = score_before.get(first, np.nan)
        row["block_score_after"] = score_after.get(row["block_id"], score_after.get(first, np.nan))
    columns = pd.DataFrame(change, index=parcels.index).astype(str)
    columns["proposed_block_id"] = proposed_id
    table = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=parcels.crs) if rows else gpd.GeoDataFrame(
        {"proposal_id": [], "change_kind": []}, geometry=[], crs=parcels.crs)
    ba = [{"level": "park", "group": "park", "metric": name, "label_zh": zh, "label_en": en, "unit": unit, "better": better,
           "before": before_metrics[name], "after": after_metrics[name]} for name, (zh, en, unit, better) in CONCENTRATION.items()]
    changed = proposed[proposed["change_kind"] != ""]
    ba += [{"level": "block", "group": bid, "metric": "block_score", "label_zh": "区块综合得分", "label_en": "Block score", "unit": "分",
            "better": "higher", "before": sb, "after": sa}
           for bid, sb, sa in zip(changed["block_id"], changed["block_score_before"], changed["block_score_after"], strict=True)]
    before_after = pd.DataFrame(ba)
    if len(before_after):
        before_after["change"] = before_after["after"] - before_after["before"]
        higher = before_after["better"] == "higher"
        before_after["improved"] = np.where(higher, before_after["change"] > 0, before_after["change"] < 0)
    return BlockAdjustmentResult(table, proposed, before_after, columns, {"before": before_metrics, "after": after_metrics})
