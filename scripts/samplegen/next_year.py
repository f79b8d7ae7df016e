"""The same city a year on: firms grow or shrink, idle land is reclaimed, sites start producing."""


from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import (
    DEFAULT_PARCELS,
    DEFAULT_SEED,
    DEFAULT_YEAR,
    ENTERPRISE_COLUMNS,
    ID_SEP,
    INDUSTRIES,
    KWH_TCE,
    MU_M2,
    OUTPUT_FILES,
    PARCEL_COLUMNS,
)
from samplegen.enterprises import company_names, credit_codes
from samplegen.generate import block_membership, check_parcel_rules, generate
from samplegen.geometry import categorical, geoms_to_tm
from samplegen.places import (
    BASE_REVENUE_PER_MU,
    EMISSION_SCALE,
    ENERGY_SCALE,
    HITECH_SCALE,
    INDUSTRY_TRAITS,
    USE_INDUSTRY_AFFINITY,
)
from samplegen.plan import CHAIN_INDUSTRIES, RD_WAN_PER_PCT, add_enterprise_attributes, check_plan
from samplegen.write import tmp_path, write, write_xlsx

# ---- the next year of the same city -----------------------------------------------------------

#: Share of the parcels of each kind of event in the next year (deterministic for a seed).
NEXT_YEAR_EVENTS = {
    "reclaimed": 0.40,  # idle two years or more after the agreed start: 收回/收储, re-let and under construction
    "developed": 0.25,  # other idle land: the holder starts building (在建)
    "supplied": 0.08,  # 未供应 land let this year (under construction, agreed start next year)
    "completed": 0.60,  # under construction since two years or more: producing, with a firm moving in
    "intensified": 0.30,  # FAR below 0.8 (M1, M2, W1 in blocks): 提容增效, floor area raised
    "left": 0.015,  # operating parcels held by firms of that parcel alone: the firms leave, 停产
}


def next_year_files(year: int) -> tuple[str, str]:
    """The files of the next year's data: the parcels and the enterprises (the rest is shared)."""
    return f"minhang_{year}.gpkg", f"enterprises_{year}.xlsx"


def evolve(datasets: dict[str, Any], seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Return the same city one year on: same parcels (ids, geometry), deterministic changes.

    The year's events, drawn with ``default_rng([seed, year + 1])`` so the first year's data
    stay as they were:

    - firms grow or shrink: revenue × exp(N(0.03, 0.2)), tax, value added, R&D with it, energy
      with its 0.8th power, employees with its square root;
    - 收回/收储: idle parcels two years or more past their agreed start (约定动工年份) are
      reclaimed and re-let (under construction, new 20-year lease from this year, agreed start
      next year; dormant firms on them removed);
    - other idle land is developed: construction starts (在建, 闲置起始年份 cleared);
    - some 未供应 land is let (under construction, lease this year, agreed start next year);
    - idle land still idle gets 闲置起始年份 once its agreed start is a year old;
    - construction completed: parcels let two or more years ago start producing, each with one
      established firm moving in (founded 3–15 years ago, so it is graded);
    - 提容增效: parcels in blocks of M1, M2 or W1 with FAR below 0.8 get FAR 1.3–2.0 and their
      firms 20–60 % more revenue;
    - a few firms leave their parcel: the parcel becomes 停产 (``停产年份`` = this year).

    Parameters
    ----------
    datasets : dict
        The first year, as returned by :func:`generate` (or :func:`read`).
    seed : int
        The first year's seed.

    Returns
    -------
    dict
        ``parcels`` (GeoDataFrame with the first year's columns), ``enterprises``
        and ``meta`` (``year`` = the first year + 1, event counts).
    """
    import geopandas as gpd

    meta1 = datasets.get("meta") or {}
    year1 = int(meta1.get("year", DEFAULT_YEAR))
    year = year1 + 1
    rng = np.random.default_rng([seed, year])
    parcels = datasets["parcels"].copy()
    ent = datasets["enterprises"].copy().reset_index(drop=True)
    n = len(parcels)
    area = shapely.area(geoms_to_tm(parcels.geometry.to_numpy()))
    use = parcels["用地性质"].to_numpy()
    status = parcels["土地状态"].to_numpy().copy()
    lease = parcels["出让年份"].to_numpy()
    produced = parcels["投产年份"].notna().to_numpy()
    agreed = pd.to_numeric(parcels["约定动工年份"], errors="coerce").to_numpy(float)
    far = parcels["建筑面积"].to_numpy() / area
    blocks_tm = geoms_to_tm(datasets["blocks"].geometry.to_numpy())
    inside = block_membership(geoms_to_tm(parcels.geometry.to_numpy()), blocks_tm) >= 0
    pid = parcels["地块编号"].to_numpy()
    firm_parcels = ent["地块编号"].str.split(ID_SEP)
    single = firm_parcels.str.len() == 1
    firms_per_parcel = pd.Series(1, index=ent.index).groupby(firm_parcels.str[0]).sum()
    only_single = ~pd.Series(pid).isin(firm_parcels[~single].explode()).to_numpy()
    has_firm = pd.Series(pid).isin(firms_per_parcel.index).to_numpy()
    draw = rng.random((6, n))

    reclaimed = (status == "闲置") & (agreed <= year1 - 2) & (use != "U") & (draw[0] < NEXT_YEAR_EVENTS["reclaimed"])
    developed = (status == "闲置") & ~reclaimed & (draw[4] < NEXT_YEAR_EVENTS["developed"])
    supplied = (status == "未供应") & (draw[5] < NEXT_YEAR_EVENTS["supplied"])
    completed = (status == "在建") & (lease <= year1 - 2) & (draw[1] < NEXT_YEAR_EVENTS["completed"])
    intensified = ((status == "在产") & np.isin(use, ["M1", "M2", "W1"]) & inside & produced & (far < 0.8)
                   & (draw[2] < NEXT_YEAR_EVENTS["intensified"]))
    flagship = pid_of_flagships(ent)  # chain leaders and champions stay (the plan's KPIs follow them)
    left = ((status == "在产") & (use != "U") & has_firm & only_single & ~intensified & ~np.isin(pid, flagship)
            & (draw[3] < NEXT_YEAR_EVENTS["left"]))

    # firms grow or shrink
    growth = np.exp(rng.normal(0.03, 0.2, len(ent)))
    on = firm_parcels.str[0].to_numpy()
    boosted = np.isin(on, pid[intensified])
    growth[boosted] *= rng.uniform(1.2, 1.6, boosted.sum())
    wobble = np.exp(rng.normal(0.0, 0.05, len(ent)))
    for column, power in (("营业收入(万元)", 1.0), ("税收(万元)", 1.0), ("工业增加值(万元)", 1.0), ("研发投入(万元)", 1.0),
                          ("综合能耗(吨标准煤)", 0.8), ("用电量(万千瓦时)", 0.8), ("排放当量(吨)", 0.8), ("工业总产值(万元)", 1.0)):
        factor = growth**power * (wobble if column == "税收(万元)" else 1.0)
        ent[column] = np.round(ent[column].to_numpy(float) * factor, 2)
    staff = ent["从业人员(人)"].to_numpy()
    ent["从业人员(人)"] = np.where(staff > 0, np.maximum(1, np.round(staff * np.sqrt(growth))), 0).astype("int64")
    _evolve_plan_columns(ent, growth, seed, year)

    # firms leave: reclaimed parcels (dormant firms) and the parcels they leave
    gone = np.isin(on, pid[reclaimed | developed | left]) & single.to_numpy()
    ent = ent[~gone].reset_index(drop=True)

    # new firms on the completed construction sites
    new_at = np.flatnonzero(completed)
    new_far = np.where(use[new_at] == "C65", rng.uniform(1.8, 3.0, len(new_at)), rng.uniform(1.2, 2.0, len(new_at)))
    ind_names = list(INDUSTRIES)
    weights = np.array([[USE_INDUSTRY_AFFINITY[u].get(k, 0.0) for k in ind_names] for u in use[new_at]]) + 1e-6
    industry = categorical(rng, ind_names, weights) if len(new_at) else np.array([], dtype=object)
    traits = {key: np.array([INDUSTRY_TRAITS[k][key] for k in industry])
              for key in ("tax", "va", "rev_per_head", "energy", "elec", "emission", "hitech")} if len(new_at) else {}
    mu = area[new_at] / MU_M2
    revenue = mu * BASE_REVENUE_PER_MU * np.exp(0.55 * np.log(new_far / 1.1) + 0.5 * rng.standard_normal(len(new_at)))
    if len(new_at):
        tax = revenue * rng.uniform(traits["tax"][:, 0], traits["tax"][:, 1])
        staff_new = np.maximum(1, np.round(revenue / rng.uniform(traits["rev_per_head"][:, 0], traits["rev_per_head"][:, 1])))
        energy = ENERGY_SCALE * revenue * rng.uniform(traits["energy"][:, 0], traits["energy"][:, 1])
        electricity = energy * rng.uniform(traits["elec"][:, 0], traits["elec"][:, 1]) / KWH_TCE
        emis_k = EMISSION_SCALE * traits["emission"] * np.where(use[new_at] == "M3", 4.0, np.where(use[new_at] == "M2", 2.5, 1.0))
        emission = energy * emis_k * np.exp(0.5 * rng.standard_normal(len(new_at)))
        hitech = np.where(rng.random(len(new_at)) < HITECH_SCALE * traits["hitech"], "是", "否")
        uscc = credit_codes(rng, len(new_at) + 8)
        uscc = np.array([u for u in uscc if u not in set(ent["统一社会信用代码"])][: len(new_at)], dtype=object)
        names = company_names(rng, industry, mu > 80)
        taken = set(ent["企业名称"])
        names = np.array([nm if nm not in taken else nm.replace("有限公司", "科技有限公司") for nm in names], dtype=object)
        newcomers = pd.DataFrame({
            "统一社会信用代码": uscc, "企业名称": names, "地块编号": pid[new_at], "行业": industry.astype(str),
            "税收(万元)": np.round(tax, 2), "营业收入(万元)": np.round(revenue, 2),
            "工业增加值(万元)": np.round(revenue * rng.uniform(traits["va"][:, 0], traits["va"][:, 1]), 2),
            "从业人员(人)": staff_new.astype("int64"),
            "研发投入(万元)": np.round(revenue * rng.uniform(0.03, 0.10, len(new_at)), 2),
            "综合能耗(吨标准煤)": np.round(energy, 2), "用电量(万千瓦时)": np.round(electricity, 2),
            "排放当量(吨)": np.round(emission, 3), "高新技术企业": hitech.astype(str),
            "成立年份": (year1 - rng.integers(3, 16, len(new_at))).astype("int64"),
        })
        # the plan's columns, for the firms moving in (no chain leader or champion among them)
        newcomers = add_enterprise_attributes(newcomers, seed, pd.Series(use, index=pid), k=7, leaders=False)
        ent = pd.concat([ent, newcomers], ignore_index=True)
    # keep the register ordered by first parcel, as in the first year
    ent = ent.iloc[np.argsort(ent["地块编号"].str.split(ID_SEP).str[0].to_numpy(), kind="stable")].reset_index(drop=True)

    # the parcels
    out = parcels.copy()
    floor = out["建筑面积"].to_numpy(float).copy()
    foot = out["基底面积"].to_numpy(float).copy()
    start = out["投产年份"].copy()
    lease_start = pd.to_numeric(out["出让年份"], errors="coerce").to_numpy(float)
    expiry = pd.to_numeric(out["到期年份"], errors="coerce").to_numpy(float)
    stop_year = pd.to_numeric(out["停产年份"], errors="coerce").to_numpy(float)
    structure = out["建筑结构"].to_numpy(dtype=object).copy()
    relet = reclaimed | supplied
    status[relet | developed] = "在建"
    lease_start[relet], expiry[relet], agreed[relet] = year1, year1 + 20, year1 + 1
    floor[relet | developed], foot[relet | developed] = 0.0, 0.0
    structure[relet | developed] = None
    status[completed] = "在产"
    structure[new_at] = np.where(use[new_at] == "C65", "钢混",
                                 np.where(rng.random(len(new_at)) < 0.7, "钢结构", "钢混"))
    floor[new_at] = np.round(new_far * area[new_at], 2)
    foot[new_at] = np.round(np.minimum(floor[new_at], area[new_at] * rng.uniform(0.30, 0.50, len(new_at))), 2)
    start[completed] = year1
    new_int = np.flatnonzero(intensified)
    floor[new_int] = np.round(rng.uniform(1.3, 2.0, len(new_int)) * area[new_int], 2)
    foot[new_int] = np.round(np.maximum(foot[new_int], np.minimum(floor[new_int], area[new_int] * rng.uniform(0.35, 0.55, len(new_int)))), 2)
    structure[new_int] = np.where(structure[new_int] == "简易", "钢结构", structure[new_int])
    status[left] = "停产"
    stop_year[left] = year1
    # idle land still idle: legally idle once a year past its agreed start (闲置土地处置办法)
    still_idle = status == "闲置"
    idle_since = np.where(still_idle & (agreed <= year - 1), agreed + 1, np.nan)

    def years(a: np.ndarray) -> Any:
        a = np.asarray(a, float)
        arr = pd.array(np.where(np.isnan(a), 0, a).astype(int), dtype="Int32")
        arr[np.isnan(a)] = pd.NA
        return arr

    out["土地状态"] = status.astype(str)
    out["出让年份"] = years(lease_start)
    out["到期年份"] = years(expiry)
    out["约定动工年份"] = years(agreed)
    out["投产年份"] = pd.array(start, dtype="Int32")
    out["停产年份"] = years(stop_year)
    out["闲置起始年份"] = years(idle_since)
    out["建筑面积"], out["基底面积"] = floor, foot
    out["建筑结构"] = structure
    gone_buildings = floor == 0  # reclaimed or re-built land: the building survey's attributes go with the buildings
    for c in ("楼面荷载(吨/平方米)", "层高(米)", "货梯载重(吨)"):
        out[c] = np.where(gone_buildings, np.nan, out[c].to_numpy(float))
    out["火灾危险性类别"] = np.where(gone_buildings, None, out["火灾危险性类别"].to_numpy(dtype=object))
    counts = {"reclaimed": int(reclaimed.sum()), "developed": int(developed.sum()), "supplied": int(supplied.sum()),
              "completed": int(completed.sum()), "intensified": int(intensified.sum()),
              "left": int(left.sum()), "new_firms": len(new_at), "firms_gone": int(gone.sum())}
    meta = {**meta1, "year": year, "first_year": year1, "events": counts, "n_enterprises": len(ent)}
    return {"parcels": gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=parcels.crs), "enterprises": ent, "meta": meta}


def pid_of_flagships(ent: pd.DataFrame) -> np.ndarray:
    """Return the parcel ids of the chain leaders (链主企业) and hidden champions (独角兽或隐形冠军)."""
    flag = ((ent["链主企业"] == "是") | (ent["独角兽或隐形冠军"] == "是")).to_numpy()
    return np.asarray(ent.loc[flag, "地块编号"].astype(str).str.split(ID_SEP).explode().unique(), dtype=object)


def _evolve_plan_columns(ent: pd.DataFrame, growth: np.ndarray, seed: int, year: int) -> None:
    """Move the plan's KPI columns of the firms staying one year on (in place), from a stream of their own.

    Talents follow the staff (the square root of the firm's growth) and grow 4 % more (the plan's
    talent drive); a high-tech firm files about 15 % more PCT applications (Poisson on its R&D); one more
    large high-tech firm of a chain industry becomes a hidden champion. ``default_rng([seed, year, 17])``
    keeps the year's other draws as they were.
    """
    rng = np.random.default_rng([seed, year, 17])
    staff = ent["从业人员(人)"].to_numpy(float)
    talents = np.round(ent["人才数(人)"].to_numpy(float) * np.sqrt(growth) * 1.04)
    ent["人才数(人)"] = np.minimum(talents, staff).astype("int64")
    hitech = ent["高新技术企业"].astype(str).to_numpy() == "是"
    rd = np.nan_to_num(ent["研发投入(万元)"].to_numpy(float))
    more = rng.poisson(0.15 * np.clip(rd / RD_WAN_PER_PCT, 0, 30))
    ent["PCT专利申请量(件)"] = (ent["PCT专利申请量(件)"].to_numpy() + np.where(hitech, more, 0)).astype("int64")
    revenue = ent["营业收入(万元)"].to_numpy(float)
    pool = np.flatnonzero(hitech & (revenue > np.quantile(revenue, 0.9)) & ent["行业"].isin(CHAIN_INDUSTRIES).to_numpy()
                          & (ent["独角兽或隐形冠军"] != "是").to_numpy())
    if len(pool):
        champion = ent["独角兽或隐形冠军"].to_numpy(dtype=object).copy()
        champion[rng.choice(pool)] = "是"
        ent["独角兽或隐形冠军"] = champion


def check_next_year(first: dict[str, Any], second: dict[str, Any]) -> dict[str, int]:
    """Assert that the next year is the same city: same parcels, valid register; return the event counts."""
    p1, p2, ent = first["parcels"], second["parcels"], second["enterprises"]
    assert list(p2.columns[:-1]) == list(PARCEL_COLUMNS), f"parcel columns {list(p2.columns)}"
    assert p1["地块编号"].tolist() == p2["地块编号"].tolist(), "the parcels changed ids"
    assert p1.geometry.geom_equals_exact(p2.geometry, tolerance=0).all(), "the parcels changed shape"
    assert list(ent.columns) == list(ENTERPRISE_COLUMNS), f"enterprise columns {list(ent.columns)}"
    assert ent["统一社会信用代码"].is_unique and ent["企业名称"].is_unique
    known = set(p2["地块编号"])
    assert ent["地块编号"].str.split(ID_SEP).explode().isin(known).all(), "an enterprise names an unknown parcel"
    building = set(p2.loc[p2["土地状态"] == "在建", "地块编号"])
    assert not ent["地块编号"].str.split(ID_SEP).explode().isin(building).any(), "a firm on a construction site"
    assert (p2["建筑面积"] >= p2["基底面积"] - 0.01).all()
    year = int(second["meta"]["year"])
    p_tm = geoms_to_tm(p2.geometry.to_numpy())
    membership = block_membership(p_tm, geoms_to_tm(first["blocks"].geometry.to_numpy()))
    inside = membership >= 0
    check_parcel_rules(p2, shapely.area(p_tm), inside, year)
    check_plan({**first, "parcels": p2, "enterprises": ent}, inside, membership)
    for c in ("土地权属", "产业区块类型", "用地性质"):
        assert p1[c].tolist() == p2[c].tolist(), f"{c} changed"
    assert (ent["链主企业"] == "是").sum() == (first["enterprises"]["链主企业"] == "是").sum(), "a new chain leader"
    assert (ent["独角兽或隐形冠军"] == "是").sum() >= (first["enterprises"]["独角兽或隐形冠军"] == "是").sum(), "a champion left"
    # what stays fixed: agreed start years (unless re-let), stop years of parcels still stopped
    s1, s2 = p1["土地状态"].to_numpy(), p2["土地状态"].to_numpy()
    l1 = pd.to_numeric(p1["出让年份"], errors="coerce").to_numpy(float)
    l2 = pd.to_numeric(p2["出让年份"], errors="coerce").to_numpy(float)
    relet = ~np.isnan(l2) & (np.isnan(l1) | (l1 != l2))
    a1 = pd.to_numeric(p1["约定动工年份"], errors="coerce").to_numpy(float)
    a2 = pd.to_numeric(p2["约定动工年份"], errors="coerce").to_numpy(float)
    keep = ~relet & (s1 != "未供应")
    assert (a1[keep] == a2[keep]).all(), "约定动工年份 changed without a new lease"
    both = (s1 == "停产") & (s2 == "停产")
    assert (pd.to_numeric(p1["停产年份"]).to_numpy(float)[both]
            == pd.to_numeric(p2["停产年份"]).to_numpy(float)[both]).all(), "停产年份 changed"
    assert set(p1.loc[p1["违法用地"] == "是", "地块编号"]) == set(p2.loc[p2["违法用地"] == "是", "地块编号"]), "违法用地 changed"
    counts = second["meta"]["events"]
    assert all(v > 0 for v in counts.values()), f"an event did not happen: {counts}"
    return counts


def write_next_year(second: dict[str, Any], out_dir: str | os.PathLike[str], overwrite: bool = False) -> dict[str, int]:
    """Write the next year's parcels (GeoPackage, layer ``parcels``) and enterprises (xlsx) to ``out_dir``.

    The blocks, roads, core sites, land prices and rasters are the first year's: the project
    file of the next year (``minhang_<year>.yaml``, shipped beside them) points at those.
    """
    import pyogrio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    year = int(second["meta"]["year"])
    gpkg_name, xlsx_name = next_year_files(year)
    existing = [f for f in (gpkg_name, xlsx_name) if (out / f).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}; use --overwrite")
    tmp_files = [tmp_path(out / gpkg_name), tmp_path(out / xlsx_name)]
    try:
        tmp_files[0].unlink(missing_ok=True)
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{year}-01-01T00:00:00.000Z"})
        pyogrio.write_dataframe(
            second["parcels"], tmp_files[0], layer="parcels", driver="GPKG", encoding="UTF-8",
            layer_options={"DESCRIPTION": f"合成数据 synthetic: 产业用地地块 {year} (industrial parcels, the next year)",
                           "IDENTIFIER": "parcels"},
            layer_metadata={"synthetic": "yes", "seed": str(second["meta"].get("seed")), "year": str(year),
                            "first_year": str(second["meta"]["first_year"]), "generator": "scripts/make_sample.py --next-year"},
        )
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        os.replace(tmp_files[0], out / gpkg_name)
        write_xlsx(second["enterprises"], tmp_files[1], year)
        os.replace(tmp_files[1], out / xlsx_name)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
        for t in tmp_files:
            t.unlink(missing_ok=True)
    return {f: (out / f).stat().st_size for f in (gpkg_name, xlsx_name)}


def check_shipped(out_dir: str | os.PathLike[str], n_parcels: int = DEFAULT_PARCELS, seed: int = DEFAULT_SEED,
                  year: int = DEFAULT_YEAR) -> list[str]:
    """Regenerate both years into a temporary folder and return the shipped files that differ (byte for byte)."""
    import filecmp
    import tempfile

    first = generate(n_parcels, seed, year)
    second = evolve(first, seed)
    shipped = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="landkit-sample-") as tmp:
        write(first, tmp, overwrite=True)
        write_next_year(second, tmp, overwrite=True)
        names = [*OUTPUT_FILES, *next_year_files(year + 1)]
        return [f for f in names if not (shipped / f).exists() or not filecmp.cmp(Path(tmp) / f, shipped / f, shallow=False)]
