"""Industrial chains (产业链) across the rings: stages, coverage, 链主 firms, complementary links.

Plan items 5–8 name the leading industries (高端装备 主导, 数字经济 and 生物医药 特色, 脑机接口 未来)
and their segments; item 12 asks for "围绕产业链布局全链条创新要素" across the three rings; item 14
names the pair "大零号湾研发 + 马桥制造". Here (settings ``project.chains``):

- **chain and stage of a firm**: a firm is on a chain when its ``industry`` or its ``segment``
  (细分领域) is listed there: under one of the chain's stages, under ``chains.sectors``, or as the
  chain's own name (a firm may so sit on several chains, one row each). Its stage is the one
  listing its segment, else the one listing its industry. A firm that names no stage — no segment,
  or a segment that names a field of the chain rather than a stage (``sectors``: 航天, 创新药 …) —
  takes its stage from the land use of its parcel: the chain's first stage (R&D) on R&D land
  (``chains.rd_land_uses``, C65), its last (manufacturing) elsewhere (M1, M2 …). A firm listing
  several parcels (``A；B``) is placed on the first;
- **coverage**: per chain and ring (``ring`` of the firm's parcel; and the park: firms on parcels
  inside a block), the stages present and their share of the chain's stages;
- **链主**: the firms the register flags (``chain_leader``), else the ``leader_top_n`` largest by
  revenue, per chain;
- **complementarity** of two blocks: of the chains with firms in either, the share in which one
  block holds a stage and the other the next one (R&D next to components, components next to
  assembly …); the linkage graph's edges (:func:`landkit.analyses.rings.linkage_graph`) are
  weighted ``(1 − w) × nearness + w × complementarity``, ``nearness = 1 / (1 + minutes / scale)``
  (``chains.complementarity_weight``, ``chains.distance_scale_min``);
- the **chain flow** of each named pair (``rings.pairs``, e.g. MH01 大零号湾 → MH12 马桥): per chain,
  the stages and firms at each end, and whether the first end's most upstream stage comes before
  the second end's most downstream one (R&D at one end feeding manufacturing at the other).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config.models import Chains, Project
from landkit.io.read import split_parcel_ids

OUTSIDE = "outside"
PARK = "park"

#: Columns of :attr:`ChainResult.firms`.
FIRM_COLUMNS = ["enterprise_id", "enterprise_name", "chain", "stage", "stage_position", "stage_basis", "parcel_id",
                "block_id", "ring", "revenue_wan", "chain_leader"]
COVERAGE_COLUMNS = ["level", "group", "chain", "firms", "stages", "stage_names", "coverage_pct"]
LEADER_COLUMNS = ["chain", "enterprise_id", "enterprise_name", "stage", "block_id", "ring", "revenue_wan", "leader_basis"]
FLOW_COLUMNS = ["from_block", "to_block", "chain", "from_firms", "to_firms", "from_stages", "to_stages", "flows"]


@dataclass
class ChainResult:
    """Firms on their chains and stages, coverage by ring, 链主 firms, and the named pairs' flows."""

    firms: pd.DataFrame
    coverage: pd.DataFrame
    leaders: pd.DataFrame
    flows: pd.DataFrame


def chain_table(spec: Chains) -> pd.DataFrame:
    """Return the chain table as rows: ``key`` (an industry or segment), ``chain``, ``position``.

    ``position`` is the stage's place in the chain (0 = most upstream), NaN for a key that puts a
    firm on the chain without naming its stage (``sectors`` and the chain's own name); a key both
    staged and a sector of one chain counts as staged.
    """
    rows: list[tuple[str, str, float]] = []
    for chain, stages in spec.chains.items():  # loops over the configuration's chains and stages
        for position, keys in enumerate(stages.values()):
            rows += [(key, chain, float(position)) for key in keys]
        rows += [(key, chain, np.nan) for key in [chain, *spec.sectors.get(chain, [])]]
    table = pd.DataFrame(rows, columns=["key", "chain", "position"])
    return table.sort_values("position", na_position="last", kind="stable").drop_duplicates(["key", "chain"]).reset_index(drop=True)


def _stage_names(spec: Chains) -> pd.DataFrame:
    """Return (chain, position) → stage name and the chain's number of stages."""
    rows = [(chain, position, stage, len(stages)) for chain, stages in spec.chains.items() for position, stage in enumerate(stages)]
    return pd.DataFrame(rows, columns=["chain", "stage_position", "stage", "n_stages"])


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """Return a text column stripped (missing where absent or empty)."""
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[column]
    text = values.astype(str).str.strip()
    return text.where(values.notna() & (text != ""))


def chain_stages(enterprises: pd.DataFrame, parcels: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return one row per firm and chain it is on: its stage, the stage's position and basis, block and ring.

    Parameters
    ----------
    enterprises : DataFrame
        The register: ``enterprise_id``, ``parcel_id``, ``industry`` and, where present,
        ``segment``, ``enterprise_name``, ``revenue_wan``, ``chain_leader``.
    parcels : DataFrame
        ``parcel_id`` with ``land_use``, ``block_id`` and ``ring`` where known.
    project : Project
        ``chains`` (the table, ``sectors``, ``rd_land_uses``) and ``values.parcel_id_separators``.

    Returns
    -------
    DataFrame
        :data:`FIRM_COLUMNS`; ``stage_basis`` is ``segment`` or ``industry`` (the table lists it
        under the stage) or ``land_use`` (the first stage on R&D land, the last elsewhere). A firm
        on no chain has no row.
    """
    spec = project.chains
    e = enterprises.reset_index(drop=True)
    table = chain_table(spec)
    order = {chain: i for i, chain in enumerate(spec.chains)}
    candidates = []
    for rank, column in enumerate(("segment", "industry")):  # a segment's stage before an industry's
        keys = _text(e, column)
        found = pd.DataFrame({"row": np.arange(len(e)), "key": keys.to_numpy()}).dropna(subset=["key"]).merge(table, on="key")
        found["priority"] = np.where(found["position"].notna(), rank, 2)
        found["basis"] = np.where(found["position"].notna(), column, "land_use")
        candidates.append(found)
    found = pd.concat(candidates, ignore_index=True)
    found["chain_order"] = found["chain"].map(order)
    found = found.sort_values(["row", "chain_order", "priority"], kind="stable").drop_duplicates(["row", "chain"])
    rows = found["row"].to_numpy()
    first = pd.Series(None, index=e.index, dtype=object)
    if "parcel_id" in e:
        ids = split_parcel_ids(e["parcel_id"], project.values.parcel_id_separators)
        first = ids.groupby(level=0).first().reindex(e.index)
    parcel_id = first.to_numpy()[rows]
    where = parcels.drop_duplicates("parcel_id").set_index("parcel_id")

    def of_parcel(column: str) -> np.ndarray:
        if column not in where:
            return np.full(len(rows), None, dtype=object)
        values: np.ndarray = where[column].reindex(parcel_id).to_numpy()
        return values

    land_use = pd.Series(of_parcel("land_use")).astype(object)
    names = _stage_names(spec)
    n_stages = found["chain"].map(names.groupby("chain")["n_stages"].first()).to_numpy()
    by_land_use = np.where(land_use.isin(spec.rd_land_uses).to_numpy(), 0, n_stages - 1)
    position = np.where(found["position"].notna(), found["position"], by_land_use).astype(int)
    stage = pd.DataFrame({"chain": found["chain"].to_numpy(), "stage_position": position}).merge(
        names, on=["chain", "stage_position"], how="left")["stage"]

    def of_firm(column: str, fill: object = None) -> np.ndarray:
        return e[column].to_numpy()[rows] if column in e else np.full(len(rows), fill, dtype=object)

    leader = pd.Series(of_firm("chain_leader", False)).fillna(False).astype(bool)
    revenue = pd.to_numeric(pd.Series(of_firm("revenue_wan", np.nan)), errors="coerce")
    out = pd.DataFrame({
        "enterprise_id": of_firm("enterprise_id"), "enterprise_name": of_firm("enterprise_name"), "chain": found["chain"].to_numpy(),
        "stage": stage.to_numpy(dtype=object), "stage_position": position, "stage_basis": found["basis"].to_numpy(),
        "parcel_id": parcel_id, "block_id": of_parcel("block_id"), "ring": of_parcel("ring"),
        "revenue_wan": revenue.to_numpy(dtype=float), "chain_leader": leader.to_numpy(),
    })
    return out[FIRM_COLUMNS]


def _ring_order(project: Project) -> dict[str, int]:
    return {ring: i for i, ring in enumerate([*project.rings.labels, OUTSIDE, PARK])}


def chain_coverage(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return per chain and ring (``level`` ring) and for the park (``level`` park) the stages present and their share.

    The park holds the firms on parcels inside a block (all firms when no parcel has a block);
    firms on parcels of no ring count under ``outside``. ``stage_names`` lists the stages present,
    upstream first; ``coverage_pct`` = stages present / the chain's stages × 100.
    """
    n_stages = {chain: len(stages) for chain, stages in project.chains.chains.items()}
    in_block = firms["block_id"].notna()
    park = firms[in_block] if in_block.any() else firms
    parts = [firms.assign(level="ring", group=firms["ring"].where(firms["ring"].notna(), OUTSIDE)),
             park.assign(level=PARK, group=PARK)]
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    per_stage = (frame.groupby(["level", "group", "chain", "stage_position"], sort=True)
                 .agg(stage=("stage", "first"), firms=("enterprise_id", "size")).reset_index())
    out = per_stage.groupby(["level", "group", "chain"], sort=False).agg(
        firms=("firms", "sum"), stages=("stage", "size"), stage_names=("stage", "、".join)).reset_index()
    out["coverage_pct"] = 100 * out["stages"] / out["chain"].map(n_stages)
    chain_order = {chain: i for i, chain in enumerate(project.chains.chains)}
    ring_order = _ring_order(project)
    out = out.assign(_l=out["level"].map({"ring": 0, PARK: 1}), _c=out["chain"].map(chain_order),
                     _g=out["group"].map(ring_order).fillna(len(ring_order)))
    return out.sort_values(["_l", "_c", "_g", "group"], kind="stable")[COVERAGE_COLUMNS].reset_index(drop=True)


def chain_leaders(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return the 链主 firms of each chain: those the register flags, else the ``leader_top_n`` largest by revenue.

    ``leader_basis`` is ``register`` or ``revenue``; a chain whose firms have no revenue and no
    flag has no leader.
    """
    flagged = firms[firms["chain_leader"]]
    rest = firms[~firms["chain"].isin(flagged["chain"]) & firms["revenue_wan"].notna()]
    top = rest.sort_values("revenue_wan", ascending=False, kind="stable").groupby("chain").head(project.chains.leader_top_n)
    out = pd.concat([flagged.assign(leader_basis="register"), top.assign(leader_basis="revenue")])
    order = {chain: i for i, chain in enumerate(project.chains.chains)}
    out = out.assign(_c=out["chain"].map(order)).sort_values(["_c", "revenue_wan"], ascending=[True, False], kind="stable")
    return out[LEADER_COLUMNS].reset_index(drop=True)


def complementarity(firms: pd.DataFrame, a: pd.Series, b: pd.Series) -> np.ndarray:
    """Return, for each pair of blocks (``a[i]``, ``b[i]``), the share of chains linked stage to next stage between them.

    Of the chains with firms in either block, the share in which one block holds a stage and the
    other the next one (either way round); 0 where neither block has a chain firm (e.g. the core
    node ``CORE``).
    """
    placed = firms[firms["block_id"].notna()]
    blocks = pd.Index(pd.unique(placed["block_id"]))
    ia, ib = blocks.get_indexer(pd.Series(a).to_numpy()), blocks.get_indexer(pd.Series(b).to_numpy())  # −1: no firm there
    present = np.zeros(len(ia))
    linked = np.zeros(len(ia))
    for _chain, part in placed.groupby("chain", sort=False):  # a loop over chains; each one vectorised over the pairs
        stages = int(part["stage_position"].max()) + 1
        held = np.zeros((len(blocks) + 1, stages), dtype=bool)  # the last row: a block with no firm
        held[blocks.get_indexer(part["block_id"]), part["stage_position"].to_numpy(dtype=int)] = True
        at_a, at_b = held[ia], held[ib]
        present += at_a.any(axis=1) | at_b.any(axis=1)
        linked += ((at_a[:, :-1] & at_b[:, 1:]) | (at_a[:, 1:] & at_b[:, :-1])).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share: np.ndarray = np.where(present > 0, linked / present, 0.0)
    return share


def weight_linkage(linkage: gpd.GeoDataFrame, firms: pd.DataFrame, project: Project) -> gpd.GeoDataFrame:
    """Return the linkage edges with ``complementarity`` and ``weight`` (nearness and complementarity combined).

    ``weight = (1 − w) × 1 / (1 + minutes / scale) + w × complementarity`` with ``w`` =
    ``chains.complementarity_weight`` and ``scale`` = ``chains.distance_scale_min``; an edge
    without a travel time has no nearness.
    """
    spec = project.chains
    comp = complementarity(firms, linkage["from_id"], linkage["to_id"])
    nearness = 1 / (1 + pd.to_numeric(linkage["minutes"], errors="coerce") / spec.distance_scale_min)
    w = spec.complementarity_weight
    return linkage.assign(complementarity=comp, weight=(1 - w) * nearness.fillna(0.0).to_numpy() + w * comp)


def pair_flows(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return, per named pair (``rings.pairs``, e.g. 大零号湾研发 + 马桥制造) and chain, what each end holds and whether it flows.

    A chain flows from the first block to the second when the first block's most upstream stage
    comes before the second's most downstream one; chains with firms at neither end are left out.
    """
    order = {chain: i for i, chain in enumerate(project.chains.chains)}
    rows = []
    for a, b in project.rings.pairs:  # a loop over the few named pairs
        ends = firms[firms["block_id"].isin([a, b])].sort_values("stage_position", kind="stable")
        for chain in sorted(set(ends["chain"]), key=order.__getitem__):
            part = ends[ends["chain"] == chain]
            at_a, at_b = part[part["block_id"] == a], part[part["block_id"] == b]
            flows = bool(len(at_a) and len(at_b) and at_a["stage_position"].min() < at_b["stage_position"].max())
            rows.append({"from_block": a, "to_block": b, "chain": chain, "from_firms": len(at_a), "to_firms": len(at_b),
                         "from_stages": "、".join(dict.fromkeys(at_a["stage"])), "to_stages": "、".join(dict.fromkeys(at_b["stage"])),
                         "flows": flows})
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def assess_chains(enterprises: pd.DataFrame, parcels: pd.DataFrame, project: Project) -> ChainResult:
    """Run the chains analysis: firms' stages, the rings' coverage, 链主 firms and the named pairs' flows."""
    firms = chain_stages(enterprises, parcels, project)
    return ChainResult(firms, chain_coverage(firms, project), chain_leaders(firms, project), pair_flows(firms, project))
