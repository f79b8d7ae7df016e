"""Industrial chains (产业链) across the rings: stages, coverage, 链主 firms, complementary links.

Plan items 5–8 name the leading industries (高端装备, 数字经济, 生物医药, 脑机接口) and their
segments; item 12 asks to lay out "全链条创新要素" around the chains across the three rings; item
14 names the pair "大零号湾研发 + 马桥制造". Here (settings ``project.chains``):

- each enterprise's chain is its industry when ``chains.chains`` lists it, its *stage* the stage
  whose segments hold its ``segment``; a firm whose segment no stage lists takes the chain's first
  stage on R&D land (C65) and its last elsewhere;
- **coverage**: per chain and ring (and the park), the share of the chain's stages present;
- **链主**: firms flagged ``chain_leader``, else the ``leader_top_n`` largest by revenue per chain;
- **complementarity** of two blocks: of the chains present in either, the share in which one block
  holds a stage and the other the next (upstream → downstream); the linkage graph's edges are
  weighted (1 − w) × nearness + w × complementarity, nearness = 1 / (1 + minutes / scale);
- the **chain flow** of each named pair (``rings.pairs``): per chain, the stages and firms at each
  end and whether the first end's stages feed the second's.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config.models import Project


@dataclass
class ChainResult:
    """Firms on their chains and stages, coverage by ring, 链主 firms, and the named pairs' flows."""

    firms: pd.DataFrame
    coverage: pd.DataFrame
    leaders: pd.DataFrame
    flows: pd.DataFrame


def chain_stages(enterprises: pd.DataFrame, parcels: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return each enterprise on a listed chain: its chain, stage (and its position), block and ring.

    The firm is placed on its first parcel (``parcel_id`` may list several, joined as in the register).
    """
    chains = project.chains.chains
    e = enterprises[enterprises["industry"].isin(list(chains))] if "industry" in enterprises else enterprises.iloc[:0]
    stage_of = {(chain, seg): (stage, i) for chain, stages in chains.items() for i, (stage, segs) in enumerate(stages.items()) for seg in segs}
    first_parcel = e["parcel_id"].astype(str).str.split(r"[；;、]").str[0]
    where = parcels.set_index("parcel_id")
    land_use = first_parcel.map(where["land_use"]) if "land_use" in where else pd.Series(None, index=e.index)
    segment = e["segment"] if "segment" in e else pd.Series(None, index=e.index)
    found = [stage_of.get((c, s)) for c, s in zip(e["industry"], segment, strict=True)]
    n_stages = e["industry"].map({c: len(s) for c, s in chains.items()})
    position = pd.Series([f[1] if f else np.nan for f in found], index=e.index)
    position = position.fillna(pd.Series(np.where(land_use == "C65", 0, n_stages - 1), index=e.index)).astype(int)
    stage = [list(chains[c])[p] for c, p in zip(e["industry"], position, strict=True)]
    return pd.DataFrame({
        "enterprise_id": e["enterprise_id"], "enterprise_name": e.get("enterprise_name"), "chain": e["industry"], "stage": stage,
        "stage_position": position, "stage_basis": ["segment" if f else "land_use" for f in found], "parcel_id": first_parcel,
        "block_id": first_parcel.map(where["block_id"]) if "block_id" in where else None,
        "ring": first_parcel.map(where["ring"]) if "ring" in where else None,
        "revenue_wan": e.get("revenue_wan"), "chain_leader": e["chain_leader"].fillna(False).astype(bool) if "chain_leader" in e else False,
    }, index=e.index)


def chain_coverage(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return per chain and ring (and ``park``) the stages present, their share of the chain's, and the firms."""
    n_stages = {c: len(s) for c, s in project.chains.chains.items()}
    rows = []
    for level, key in (("ring", firms["ring"].fillna("outside")), ("park", pd.Series("park", index=firms.index))):
        grouped = firms.assign(group=key).groupby(["chain", "group"])
        table = grouped.agg(firms=("enterprise_id", "size"), stages=("stage_position", "nunique"),
                            stage_names=("stage", lambda s: "、".join(dict.fromkeys(s)))).reset_index()
        rows.append(table.assign(level=level))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["chain", "group", "firms", "stages", "stage_names", "level"])
    out["coverage_pct"] = 100 * out["stages"] / out["chain"].map(n_stages)
    return out[["level", "group", "chain", "firms", "stages", "stage_names", "coverage_pct"]]


def chain_leaders(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return the 链主 firms: those the register flags, else the largest by revenue per chain."""
    flagged = firms[firms["chain_leader"]]
    rest = firms[~firms["chain"].isin(flagged["chain"])]
    top = rest.sort_values("revenue_wan", ascending=False, kind="stable").groupby("chain").head(project.chains.leader_top_n)
    out = pd.concat([flagged.assign(leader_basis="register"), top.assign(leader_basis="revenue")])
    return out[["chain", "enterprise_id", "enterprise_name", "stage", "block_id", "ring", "revenue_wan", "leader_basis"]].reset_index(drop=True)


def complementarity(firms: pd.DataFrame, a: pd.Series, b: pd.Series) -> np.ndarray:
    """Return, for each pair of blocks (``a[i]``, ``b[i]``), the share of chains linked stage to next stage between them.

    Of the chains with firms in either block, those in which one block holds a stage and the
    other the next one (either way), over all of them; 0 where neither block has a chain firm.
    """
    stages = firms.dropna(subset=["block_id"]).groupby(["block_id", "chain"])["stage_position"].apply(frozenset).to_dict()
    chains = firms.dropna(subset=["block_id"]).groupby("block_id")["chain"].apply(set).to_dict()
    out = np.zeros(len(a))
    for i, (x, y) in enumerate(zip(a, b, strict=True)):  # one pair of blocks at a time: the linkage graph's few dozen edges
        present = chains.get(x, set()) | chains.get(y, set())
        if not present:
            continue
        linked = sum(1 for c in present if any(abs(p - q) == 1 for p in stages.get((x, c), ()) for q in stages.get((y, c), ())))
        out[i] = linked / len(present)
    return out


def weight_linkage(linkage: gpd.GeoDataFrame, firms: pd.DataFrame, project: Project) -> gpd.GeoDataFrame:
    """Return the linkage edges with ``complementarity`` and ``weight`` (nearness and complementarity combined)."""
    spec = project.chains
    comp = complementarity(firms, linkage["from_id"], linkage["to_id"])
    nearness = 1 / (1 + linkage["minutes"].astype(float) / spec.distance_scale_min)
    w = spec.complementarity_weight
    return linkage.assign(complementarity=comp, weight=(1 - w) * nearness.fillna(0) + w * comp)


def pair_flows(firms: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return, per named pair (``rings.pairs``, e.g. 大零号湾研发 + 马桥制造) and chain, what each end holds and whether it flows."""
    rows = []
    for a, b in project.rings.pairs:
        for chain in project.chains.chains:
            at_a = firms[(firms["block_id"] == a) & (firms["chain"] == chain)]
            at_b = firms[(firms["block_id"] == b) & (firms["chain"] == chain)]
            if not len(at_a) and not len(at_b):
                continue
            upstream = at_a["stage_position"].min() if len(at_a) else np.nan
            downstream = at_b["stage_position"].max() if len(at_b) else np.nan
            rows.append({"from_block": a, "to_block": b, "chain": chain, "from_firms": len(at_a), "to_firms": len(at_b),
                         "from_stages": "、".join(dict.fromkeys(at_a.sort_values("stage_position")["stage"])),
                         "to_stages": "、".join(dict.fromkeys(at_b.sort_values("stage_position")["stage"])),
                         "flows": bool(upstream < downstream) if np.isfinite(upstream) and np.isfinite(downstream) else False})
    return pd.DataFrame(rows, columns=["from_block", "to_block", "chain", "from_firms", "to_firms", "from_stages", "to_stages", "flows"])


def assess_chains(enterprises: pd.DataFrame, parcels: pd.DataFrame, project: Project) -> ChainResult:
    """Run the chains analysis: firms' stages, the rings' coverage, 链主 firms and the named pairs' flows."""
    firms = chain_stages(enterprises, parcels, project)
    return ChainResult(firms, chain_coverage(firms, project), chain_leaders(firms, project), pair_flows(firms, project))
