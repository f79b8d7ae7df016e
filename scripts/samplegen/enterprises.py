"""The enterprise register: unified social credit codes, names, and each firm's figures."""


from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import ID_SEP, INDUSTRIES, KWH_TCE, LAND_USES, MU_M2
from samplegen.geometry import categorical
from samplegen.places import (
    BASE_REVENUE_PER_MU,
    BLOCKS,
    BRAND_CHARS,
    COMPANY_SUFFIXES,
    EMISSION_SCALE,
    ENERGY_SCALE,
    HITECH_SCALE,
    INDUSTRY_NAME_WORDS,
    INDUSTRY_TRAITS,
    ORG_WEIGHTS,
    PROFILES,
    RD_SCALE,
    USCC_CHARS,
    USCC_WEIGHTS,
    USE_INDUSTRY_AFFINITY,
    USE_REVENUE_EFFECT,
)


def credit_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` unique synthetic 统一社会信用代码 for Minhang (91 310112 …) with valid check chars.

    The 9-character organisation code carries its GB 11714 check character and the whole code
    the GB 32100 one, so validators accept the ids; the ids themselves are random.
    """
    chars = np.array(list(USCC_CHARS), dtype=object)
    org_value = np.array([int(c) if c.isdigit() else ord(c) - 55 for c in USCC_CHARS])
    prefix = np.array([USCC_CHARS.index(c) for c in "91310112"])
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        m = len(todo)
        body = rng.integers(0, len(USCC_CHARS), (m, 8))
        c9 = 11 - (org_value[body] @ np.array(ORG_WEIGHTS)) % 11
        c9_idx = np.where(c9 == 10, USCC_CHARS.index("X"), np.where(c9 == 11, 0, c9))
        s17 = np.column_stack([np.broadcast_to(prefix, (m, 8)), body, c9_idx])
        c18 = (31 - (s17 @ np.array(USCC_WEIGHTS)) % 31) % 31
        codes = ["".join(row) for row in chars[np.column_stack([s17, c18])]]
        retry = []
        for i, code in zip(todo, codes, strict=True):
            if code in seen:
                retry.append(i)
            else:
                seen.add(code)
                out[i] = code
        todo = np.array(retry, int)
    return out


def company_names(rng: np.random.Generator, industry: np.ndarray, big: np.ndarray) -> np.ndarray:
    """Unique synthetic company names such as 上海闵芯智能科技有限公司.

    Brands have two characters, sometimes three (more often when a name is already taken).
    """
    n = len(industry)
    chars = list(BRAND_CHARS)
    names = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    for attempt in range(60):
        if len(todo) == 0:
            break
        m = len(todo)
        three = rng.random(m) < (0.15 if attempt == 0 else 0.8)
        c = rng.integers(0, len(chars), (m, 3))
        word_u = rng.random(m)
        suffix = rng.choice(3, size=m, p=[0.85, 0.1, 0.05])
        group = big[todo] & (rng.random(m) < 0.3)
        retry = []
        for k, i in enumerate(todo):
            a, b, d = c[k]
            if a == b or (three[k] and d in (a, b)):
                retry.append(i)
                continue
            words = INDUSTRY_NAME_WORDS[industry[i]]
            nm = ("上海" + chars[a] + chars[b] + (chars[d] if three[k] else "")
                  + words[int(word_u[k] * len(words))]
                  + ("集团有限公司" if group[k] else COMPANY_SUFFIXES[suffix[k]]))
            if nm in seen:
                retry.append(i)
            else:
                seen.add(nm)
                names[i] = nm
        todo = np.array(retry, int)
    if len(todo):  # pragma: no cover - the name space is far larger than any sample
        raise RuntimeError("could not make unique company names")
    return names


def make_enterprises(rng: np.random.Generator, parcels: pd.DataFrame, geoms: np.ndarray,
                     year: int) -> pd.DataFrame:
    """Enterprises keyed by parcel id, with heavy-tailed and correlated statistics.

    Revenue per mu is lognormal and depends on the area's profile, land use, floor area ratio and
    status; tax, value added, R&D and energy follow as shares with noise by industry.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    parcels : pandas.DataFrame
        Output of :func:`make_parcel_attributes`.
    geoms : numpy.ndarray
        Parcel polygons (tmerc), to find neighbours for enterprises spanning parcels.
    year : int
        Data year.

    Returns
    -------
    pandas.DataFrame
        The enterprise table with the output columns.
    """
    n = len(parcels)
    use = parcels["用地性质"].to_numpy()
    status = parcels["土地状态"].to_numpy()
    prof = parcels["profile"].to_numpy()
    tmpl = parcels["template"].to_numpy()
    area_mu = parcels["area_m2"].to_numpy() / MU_M2
    far = parcels["建筑面积"].to_numpy() / parcels["area_m2"].to_numpy()
    eligible = np.isin(status, ["在产", "停产"]) & (use != "U")

    # parcel-level output (万元)
    prof_effect = pd.Series(prof).map({k: v["revenue_effect"] for k, v in PROFILES.items()}).to_numpy()
    blk_effect = np.array([BLOCKS[t].revenue_effect if t >= 0 else 0.0 for t in tmpl])
    log_rpm = (np.log(BASE_REVENUE_PER_MU) + prof_effect + blk_effect
               + pd.Series(use).map(USE_REVENUE_EFFECT).to_numpy()
               + 0.55 * np.log(np.clip(far, 0.2, 4.0) / 1.1)
               + 0.75 * rng.standard_normal(n))
    rev_parcel = area_mu * np.exp(log_rpm)
    poor = (rng.random(n) < 0.05) & (status == "在产")
    rev_parcel[poor] *= rng.uniform(0.04, 0.18, poor.sum())
    stopped = status == "停产"
    rev_parcel[stopped] *= rng.uniform(0.0, 0.12, stopped.sum())

    # groups of adjacent eligible parcels held by one enterprise
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    m = (a < b) & eligible[a] & eligible[b] & (prof[a] != "scatter")
    a, b = a[m], b[m]
    neigh: dict[int, list[int]] = {}
    for i, j in zip(a, b, strict=True):
        neigh.setdefault(int(i), []).append(int(j))
        neigh.setdefault(int(j), []).append(int(i))
    expected_firms = 1.28 * eligible.sum()
    n_span = round(float(0.05 * expected_firms))
    taken = np.zeros(n, bool)
    groups: list[list[int]] = []
    for i in rng.permutation(np.array(sorted(neigh), int)):
        if len(groups) >= n_span:
            break
        if taken[i]:
            continue
        free = [j for j in neigh[i] if not taken[j]]
        if not free:
            continue
        k = 1 if rng.random() < 0.7 or len(free) == 1 else 2
        members = [int(i)] + [int(j) for j in rng.choice(free, size=k, replace=False)]
        taken[members] = True
        groups.append(sorted(members))
    # firms per remaining eligible parcel: more tenants on R&D land and big plots
    rest = np.flatnonzero(eligible & ~taken)
    p_multi = np.where(use[rest] == "C65", 0.5, 0.16) + np.where(area_mu[rest] > 60, 0.15, 0.0)
    multi = rng.random(len(rest)) < p_multi
    count = np.ones(len(rest), int)
    count[multi] = rng.choice([2, 3, 4, 5], size=multi.sum(), p=[0.45, 0.28, 0.17, 0.10])
    firm_parcels: list[list[int]] = []
    firm_share: list[float] = []
    for g in groups:
        firm_parcels.append(g)
        firm_share.append(1.0)
    for p, c in zip(rest, count, strict=True):
        shares = rng.dirichlet(np.full(c, 0.9)) if c > 1 else np.ones(1)
        for s in sorted(shares, reverse=True):
            firm_parcels.append([int(p)])
            firm_share.append(float(s))
    # dormant firms on a couple of idle parcels
    idle_legal = np.flatnonzero((status == "闲置") & parcels["闲置起始年份"].notna().to_numpy())
    idle_any = idle_legal if len(idle_legal) >= 2 else np.flatnonzero(status == "闲置")
    dormant_parcels = rng.choice(idle_any, size=min(2, len(idle_any)), replace=False) if len(idle_any) else []
    n_active = len(firm_parcels)
    for p in dormant_parcels:
        firm_parcels.append([int(p)])
        firm_share.append(0.0)
    # order firms by their first parcel (stable), so the table reads like a register by parcel
    order = sorted(range(len(firm_parcels)), key=lambda f: (firm_parcels[f][0], -firm_share[f]))
    firm_parcels = [firm_parcels[f] for f in order]
    firm_share_a = np.array([firm_share[f] for f in order])
    dormant = np.array([f >= n_active for f in order])
    nf = len(firm_parcels)
    first = np.array([fp[0] for fp in firm_parcels])
    revenue = np.array([rev_parcel[fp].sum() for fp in firm_parcels]) * firm_share_a
    revenue[dormant] = 0.0
    span_area = np.array([area_mu[fp].sum() for fp in firm_parcels])

    # industry: the area's mix × the block's bias × fit with the land use
    ind_names = list(INDUSTRIES)
    prof_names = list(PROFILES)
    prof_mix = np.array([[PROFILES[p]["industry"].get(k, 0.0) for k in ind_names] for p in prof_names])
    bias = np.ones((len(BLOCKS) + 1, len(ind_names)))  # last row: outside blocks (template -1)
    for t, spec in enumerate(BLOCKS):
        for k, mult in spec.industry_bias:
            bias[t, ind_names.index(k)] = mult
    affinity = np.array([[USE_INDUSTRY_AFFINITY[u].get(k, 0.0) for k in ind_names] for u in LAND_USES])
    p_of = pd.Series(prof).map({p: i for i, p in enumerate(prof_names)}).to_numpy()[first]
    u_of = pd.Series(use).map({u: i for i, u in enumerate(LAND_USES)}).to_numpy()[first]
    weights = prof_mix[p_of] * bias[tmpl[first]] * affinity[u_of] + 1e-6
    industry = categorical(rng, ind_names, weights)
    ind_idx = pd.Series(industry).map({k: i for i, k in enumerate(ind_names)}).to_numpy()
    trait = {key: np.array([INDUSTRY_TRAITS[k][key] for k in ind_names])[ind_idx]
             for key in INDUSTRY_TRAITS["高端装备"]}
    tax_rate = rng.uniform(trait["tax"][:, 0], trait["tax"][:, 1])
    tax = revenue * tax_rate
    va = revenue * rng.uniform(trait["va"][:, 0], trait["va"][:, 1])
    per_head = rng.uniform(trait["rev_per_head"][:, 0], trait["rev_per_head"][:, 1]) \
        * np.exp(0.25 * rng.standard_normal(nf))
    staff = np.maximum(1, np.round(revenue / per_head)).astype(int)
    staff[dormant] = rng.integers(1, 4, dormant.sum())
    rd_range = np.array([PROFILES[p].get("rd_share", (0.0, 0.0)) for p in prof_names])[p_of]
    rd_lo, rd_hi = rd_range[:, 0], rd_range[:, 1]
    rd_share = RD_SCALE * np.clip(rng.uniform(rd_lo, rd_hi) * np.sqrt(trait["rd"]), 0.3 * rd_lo, 1.25 * rd_hi)
    rd = revenue * rd_share
    energy = ENERGY_SCALE * revenue * rng.uniform(trait["energy"][:, 0], trait["energy"][:, 1])
    energy *= np.where(prof[first] == "core", 0.6, 1.0)
    # electricity: half or more of the energy (tce) for most firms, converted at 1.229 tce / 10⁴ kWh
    elec_share = np.clip(rng.uniform(trait["elec"][:, 0], trait["elec"][:, 1]) + 0.05 * rng.standard_normal(nf),
                         0.3, 0.98)
    electricity = energy * elec_share / KWH_TCE
    # main pollutant emission equivalents (t): per tce of energy, heavier on M2/M3 land
    use_first = use[first]
    emis_k = EMISSION_SCALE * trait["emission"] * np.where(use_first == "M3", 4.0, np.where(use_first == "M2", 2.5, 1.0))
    emission = energy * emis_k * np.exp(0.5 * rng.standard_normal(nf))
    p_hitech = np.clip(HITECH_SCALE * trait["hitech"] * np.where(rd_share >= 0.03, 1.25, 0.5), 0, 0.95)
    hitech = np.where(rng.random(nf) < p_hitech, "是", "否")
    hitech[dormant] = "否"
    lease = parcels["出让年份"].to_numpy()[first]
    founded = np.where(firm_share_a >= 0.5,
                       lease - rng.integers(0, 9, nf),
                       rng.integers(np.minimum(lease, year - 2), year, nf))
    founded = np.clip(founded, 1985, year - 1)

    # a tiny bit of realistic mess (3 rows)
    active = np.flatnonzero(~dormant & (revenue > 1000))
    mess = rng.choice(active, size=3, replace=False) if len(active) >= 3 else np.array([], int)
    if len(mess) == 3:
        staff[mess[0]] = 0  # 从业人员 not reported
        energy[mess[1]] = 0.0  # 综合能耗 not reported (its electricity is)
        tax[mess[2]] = -round(tax[mess[2]] * 0.15, 2)  # VAT credit refund (留抵退税) exceeds tax
    rd_missing = (rng.random(nf) < 0.03) & ~dormant
    rd = np.where(rd_missing, np.nan, rd)
    emission = np.where((rng.random(nf) < 0.04) & ~dormant, np.nan, emission)  # not reported

    pid = parcels["地块编号"].to_numpy()
    ent = pd.DataFrame({
        "统一社会信用代码": credit_codes(rng, nf),
        "企业名称": company_names(rng, industry, span_area * firm_share_a > 80),
        "地块编号": [ID_SEP.join(pid[fp]) for fp in firm_parcels],
        "行业": industry.astype(str),
        "税收(万元)": np.round(tax, 2),
        "营业收入(万元)": np.round(revenue, 2),
        "工业增加值(万元)": np.round(va, 2),
        "从业人员(人)": staff.astype("int64"),
        "研发投入(万元)": np.round(rd, 2),
        "综合能耗(吨标准煤)": np.round(energy, 2),
        "用电量(万千瓦时)": np.round(electricity, 2),
        "排放当量(吨)": np.round(emission, 3),
        "高新技术企业": hitech.astype(str),
        "成立年份": founded.astype("int64"),
    })
    ent.loc[dormant, ["税收(万元)", "营业收入(万元)", "工业增加值(万元)", "研发投入(万元)",
                      "综合能耗(吨标准煤)", "用电量(万千瓦时)", "排放当量(吨)"]] = 0.0
    return ent


#: Base land price (基准地价, 元/m² of land) by grade zone and use: SYNTHETIC, see gis_data/README.md.
BASE_LAND_PRICE = {
    "工业": (4200, 3100, 2300, 1600),
    "研发": (6800, 5000, 3700, 2600),
    "仓储": (3600, 2600, 1950, 1350),
}
PRICE_ZONE_CENTRE = (121.433, 31.026)  # 上海交通大学闵行校区, the core of 大零号湾
PRICE_ZONE_RADII_M = (3500.0, 8000.0, 14000.0)  # outer edges of 一级, 二级, 三级 (四级: the rest)
