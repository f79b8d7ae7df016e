"""Generate a sample city, check it against the rules and the calibration targets."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from samplegen.constants import (
    BLOCK_COLUMNS,
    BLOCK_TOTAL_HA,
    BLOCK_TYPES,
    COMMERCIAL_USES,
    DEAD_END_NAME,
    DEFAULT_PARCELS,
    DEFAULT_SEED,
    DEFAULT_YEAR,
    ENTERPRISE_COLUMNS,
    FACILITY_COLUMNS,
    ID_SEP,
    INDUSTRIES,
    KWH_TCE,
    LAND_PRICE_COLUMNS,
    LAND_USES,
    LOT_SCALE,
    LOTS_PER_TILE,
    MU_M2,
    OUT_CRS,
    PARCEL_COLUMNS,
    PRICE_LEVELS,
    PRICE_USES,
    PRICE_ZONE_COLUMNS,
    RINGS,
    ROAD_CLASSES,
    ROAD_COLUMNS,
    SITE_COLUMNS,
    SITE_TYPES,
    STATUSES,
    STRUCTURES,
    SUPPLIED_SHARE_TARGET,
    TARGET_INSIDE_SHARE,
    TILE_STEP_M,
)
from samplegen.enterprises import make_enterprises
from samplegen.geometry import Layout, Tile, geoms_to_geo, geoms_to_tm, spiral
from samplegen.land import make_blocks, make_major_roads, make_outlines, select_lots, subdivide_blocks
from samplegen.parcels import make_parcel_attributes, make_scattered
from samplegen.places import BLOCKS, CORE_SITES, make_core_sites
from samplegen.plan import ENTERPRISE_PLAN_COLUMNS, PARCEL_PLAN_COLUMNS, add_plan_data, check_plan, plan_rng
from samplegen.roads import add_local_roads, components, make_roads
from samplegen.surfaces import make_building_height, make_land_price, make_night_light, make_price_zones

# ---------------------------------------------------------------------------------------------
# generate / check / write
# ---------------------------------------------------------------------------------------------


def generate(n_parcels: int = DEFAULT_PARCELS, seed: int = DEFAULT_SEED,
             year: int = DEFAULT_YEAR) -> dict[str, Any]:
    """Generate the whole synthetic data set in memory.

    Parameters
    ----------
    n_parcels : int
        Number of parcels (80–85 % inside blocks, the rest scattered plots).
    seed : int
        Seed of the ``numpy.random.Generator``; the same arguments give identical data.
    year : int
        Data year (leases start 1995 … ``year - 1``).

    Returns
    -------
    dict
        ``blocks``, ``parcels``, ``roads``, ``core_sites`` (GeoDataFrames in EPSG:4490),
        ``enterprises``, ``land_price`` (DataFrames), ``night_light``, ``building_height``
        (:class:`Raster`) and ``meta`` (dict of generator arguments and counts).
    """
    import geopandas as gpd

    if n_parcels < 20:
        raise ValueError("n_parcels must be at least 20")
    rng = np.random.default_rng(seed)
    n_in = round(n_parcels * TARGET_INSIDE_SHARE)
    n_out = n_parcels - n_in
    # one copy of the district yields about LOTS_PER_TILE lots; keep at most 80 % of them
    n_tiles = max(1, int(np.ceil(n_in / (0.8 * LOTS_PER_TILE))))
    while True:
        tiles = [Tile(i, gx * TILE_STEP_M, gy * TILE_STEP_M)
                 for i, (gx, gy) in enumerate(spiral(n_tiles))]
        layout = Layout(tiles=tiles, blocks=make_blocks(rng, tiles), outlines=make_outlines(tiles))
        layout.major = make_major_roads(tiles)
        sub = subdivide_blocks(rng, layout, LOT_SCALE)
        if len(sub["lots"]) >= n_in / 0.95:
            break
        n_tiles += 1  # not enough land: grow the city by one more copy of the district
    kept = select_lots(rng, sub, n_in)
    n_lots_generated = len(sub["lots"])
    lots = sub["lots"][kept]
    lot_block = sub["block"][kept]
    roads = make_roads(rng, layout, sub["streets"], lots)
    road_geoms = roads["geom"].to_numpy()
    scattered, sc_tile = make_scattered(rng, layout, road_geoms, roads["道路等级"].to_numpy(), n_out)

    geoms = np.concatenate([lots, scattered])
    bl = layout.blocks
    profile = np.concatenate([bl["profile"].to_numpy()[lot_block], np.full(len(scattered), "scatter")])
    template = np.concatenate([bl["template"].to_numpy()[lot_block], np.full(len(scattered), -1)])
    tile_idx = np.concatenate([bl["tile"].to_numpy()[lot_block], sc_tile])
    superblock = np.concatenate([sub["superblock"][kept], np.full(len(scattered), -1)])
    parcels = make_parcel_attributes(rng, geoms, profile, template, tile_idx, tiles, year, superblock)
    enterprises = make_enterprises(rng, parcels, geoms, year)
    land_price = make_land_price()
    zones = make_price_zones(rng, layout)
    figures = check_parcel_rules(parcels, parcels["area_m2"].to_numpy(), profile != "scatter", year)
    figures["calibration"] = _calibration(enterprises, parcels["area_m2"].to_numpy(), parcels["土地状态"].to_numpy())
    sites = make_core_sites()

    # the road hierarchy's local roads (支路), from a stream of their own: the city above stays as it was
    roads_all = add_local_roads(plan_rng(seed, 8), roads, sub["streets"], sub["local_roads"])

    geoms_geo = geoms_to_geo(geoms)
    outlines_geo = geoms_to_geo(layout.outlines)
    night = make_night_light(rng, parcels, geoms_geo, outlines_geo)
    height = make_building_height(parcels, geoms, layout.outlines)

    def gdf(df: pd.DataFrame, cols: Sequence[str], geom: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(df[list(cols)].reset_index(drop=True),
                                geometry=gpd.GeoSeries(geom, crs=OUT_CRS), crs=OUT_CRS)

    datasets: dict[str, Any] = {
        "blocks": gdf(bl, BLOCK_COLUMNS, geoms_to_geo(bl["geom"].to_numpy())),
        "parcels": gdf(parcels, PARCEL_COLUMNS[:-len(PARCEL_PLAN_COLUMNS)], geoms_geo),  # the plan's columns: add_plan_data
        "roads": gdf(roads_all, ROAD_COLUMNS, geoms_to_geo(roads_all["geom"].to_numpy())),
        "core_sites": gdf(sites, SITE_COLUMNS, geoms_to_geo(sites["geom"].to_numpy())),
        "price_zones": gdf(zones, PRICE_ZONE_COLUMNS, geoms_to_geo(zones["geom"].to_numpy())),
        "enterprises": enterprises,
        "land_price": land_price,
        "night_light": night,
        "building_height": height,
        "meta": {
            "n_parcels": n_parcels, "seed": seed, "year": year, "n_tiles": len(tiles),
            "n_parcels_in_blocks": int(n_in), "n_parcels_scattered": int(n_out),
            "n_lots_generated": n_lots_generated,
            "n_blocks": len(bl), "block_area_ha_expected": BLOCK_TOTAL_HA * len(tiles),
            "figures": figures,
        },
    }
    plan = add_plan_data(datasets, seed, superblock)  # ownership, zones, building data, commercial land, chains, facilities, 调入/调出
    if n_parcels >= DEFAULT_PARCELS:  # the sample must allow a 调入 and a 调出 (plan item 14)
        assert plan["bring_in_parcels"] >= 1 and plan["fringe_parcels"] >= 1, f"no 调入 or 调出 land: {plan}"
    datasets["meta"]["plan"] = plan
    p_tm = geoms_to_tm(datasets["parcels"].geometry.to_numpy())
    membership = block_membership(p_tm, geoms_to_tm(datasets["blocks"].geometry.to_numpy()))
    figures["plan_counts"] = check_plan(datasets, membership >= 0, membership)
    datasets["meta"]["block_area_ha"] = round(float(shapely.area(geoms_to_tm(datasets["blocks"].geometry.to_numpy())).sum() / 1e4), 2)
    datasets["meta"]["road_km"] = {c: round(float(v), 1) for c, v in pd.Series(
        shapely.length(roads_all["geom"].to_numpy()) / 1000).groupby(roads_all["道路等级"].to_numpy()).sum().items()}
    return datasets


def block_membership(parcels_tm: np.ndarray, blocks_tm: np.ndarray) -> np.ndarray:
    """Index of the block containing each parcel's interior point, -1 if none."""
    rp = shapely.point_on_surface(parcels_tm)
    pi, bi = shapely.STRtree(blocks_tm).query(rp, predicate="within")
    out = np.full(len(parcels_tm), -1)
    out[pi] = bi
    return out


def check_parcel_rules(parcels: pd.DataFrame, area: np.ndarray, inside: np.ndarray, year: int) -> dict[str, Any]:
    """Assert the parcel attributes follow the sample's rules for data year ``year``; return figures.

    Lease rules, statuses (闲置 = never built; 停产 = produced then stopped), the milestone years
    (约定动工年份, 投产年份, 停产年份, 闲置起始年份), buildings and structures, 违法用地, and the
    land development rate of the blocks (supplied / all parcel land inside blocks).
    """
    def yr(col: str) -> np.ndarray:
        return pd.to_numeric(parcels[col], errors="coerce").to_numpy(float)

    status = parcels["土地状态"].to_numpy()
    supplied = status != "未供应"
    lease, end, agreed = yr("出让年份"), yr("到期年份"), yr("约定动工年份")
    start, stop, idle_since = yr("投产年份"), yr("停产年份"), yr("闲置起始年份")
    assert np.isnan(lease[~supplied]).all() and np.isnan(agreed[~supplied]).all(), "未供应 land has a lease"
    assert not np.isnan(lease[supplied]).any() and not np.isnan(agreed[supplied]).any(), "supplied land needs 出让年份, 约定动工年份"
    ls = lease[supplied]
    assert ls.min() >= 1995 and ls.max() < year, "出让年份 out of range"
    assert (end[supplied] == np.where(ls < 2014, ls + 50, ls + 20)).all(), "lease end rule"
    assert ((agreed[supplied] >= ls) & (agreed[supplied] <= ls + 2)).all(), "约定动工年份 0–2 years after the lease"
    assert np.isnan(start[np.isin(status, ["在建", "闲置", "未供应"])]).all(), "在建/闲置/未供应 parcels must have no 投产年份"
    assert not np.isnan(start[np.isin(status, ["在产", "停产"])]).any(), "producing parcels need 投产年份"
    stopped = status == "停产"
    assert np.isnan(stop[~stopped]).all() and not np.isnan(stop[stopped]).any(), "停产年份 exactly on 停产 parcels"
    assert ((stop[stopped] >= start[stopped]) & (stop[stopped] <= year - 1)
            & (stop[stopped] >= year - 10)).all(), "停产年份 out of range"
    idle = status == "闲置"
    legal = idle & (agreed <= year - 1)
    assert (idle_since[legal] == agreed[legal] + 1).all() and np.isnan(idle_since[~legal]).all(), \
        "闲置起始年份 = 约定动工年份 + 1, on legally idle land only"
    floor = parcels["建筑面积"].to_numpy(float)
    foot = parcels["基底面积"].to_numpy(float)
    assert (floor >= 0).all() and (foot <= floor + 0.01).all(), "footprint larger than floor area"
    assert (foot <= 0.6 * area + 1).all(), "building coverage above 60 %"
    assert (floor[idle] <= 0.05 * area[idle]).all(), "闲置 land carries buildings"
    assert (floor[~supplied] == 0).all(), "buildings on 未供应 land"
    structure = parcels["建筑结构"]
    assert structure.isna().to_numpy().tolist() == (floor == 0).tolist(), "建筑结构 empty exactly where nothing is built"
    assert set(structure.dropna()) <= set(STRUCTURES), "unknown 建筑结构"
    assert set(parcels["违法用地"]) <= {"是", "否"}, "违法用地 not 是/否"
    n_illegal = int((parcels["违法用地"] == "是").sum())
    assert 1 <= n_illegal <= max(3, 0.006 * len(parcels)), f"{n_illegal} 违法用地 parcels"
    supplied_share = float(area[inside & supplied].sum() / area[inside].sum())
    lo, hi = SUPPLIED_SHARE_TARGET
    assert lo <= supplied_share <= hi, f"supplied share of block land {supplied_share:.1%}"
    assert (~supplied & ~inside).sum() == 0, "未供应 land outside the blocks"
    assert 0.01 <= idle.mean() <= 0.04 and legal.sum() >= 0.7 * idle.sum(), "闲置 share"
    years_idle = (year - agreed[legal]).astype(int)
    return {
        "supplied_share_block_land": round(supplied_share, 4),
        "status_counts": {k: int((status == k).sum()) for k in STATUSES},
        "idle_legal_by_years": {int(k): int(v)
                                for k, v in zip(*np.unique(years_idle, return_counts=True), strict=True)},
        "idle_not_yet": int((idle & ~legal).sum()),
        "illegal": n_illegal,
    }


def _calibration(ent: pd.DataFrame, area: np.ndarray, status: np.ndarray) -> dict[str, float]:
    """Park-level figures compared with the published ones in gis_data/README.md (totals over parcel land)."""
    num = {c: pd.to_numeric(ent[c]) for c in ("营业收入(万元)", "税收(万元)", "工业增加值(万元)", "研发投入(万元)",
                                              "从业人员(人)", "综合能耗(吨标准煤)", "用电量(万千瓦时)")}
    rev = float(num["营业收入(万元)"].sum())
    mu_all = float(area.sum() / MU_M2)
    rd_ok = num["研发投入(万元)"].notna()
    calib = {
        "revenue_per_mu": rev / mu_all,
        "revenue_per_mu_supplied": rev / float(area[status != "未供应"].sum() / MU_M2),
        "tax_per_mu": float(num["税收(万元)"].sum()) / mu_all,
        "tax_share": float(num["税收(万元)"].sum()) / rev,
        "value_added_share": float(num["工业增加值(万元)"].sum()) / rev,
        "rd_share": float(num["研发投入(万元)"][rd_ok].sum() / num["营业收入(万元)"][rd_ok].sum()),
        "labour_productivity": float(num["工业增加值(万元)"].sum() / num["从业人员(人)"].sum()),
        "high_tech_share": float((ent["高新技术企业"] == "是").mean()),
        "energy_per_revenue": float(num["综合能耗(吨标准煤)"].sum()) / rev,
        "electricity_share_of_energy": float(num["用电量(万千瓦时)"].sum() * KWH_TCE / num["综合能耗(吨标准煤)"].sum()),
        # 单位能耗增加值 of the 规上 firms (revenue ≥ 2,000 万元) that report their energy, median
        "large_va_per_tce": float((num["工业增加值(万元)"] / num["综合能耗(吨标准煤)"])[
            (num["营业收入(万元)"] >= 2000) & (num["综合能耗(吨标准煤)"] > 0)].median()),
        # 单位电耗税收 of the 规下 firms that report their electricity, median (万元 per 万 kWh = 元/kWh)
        "small_tax_per_kwh": float((num["税收(万元)"] / num["用电量(万千瓦时)"])[
            (num["营业收入(万元)"] < 2000) & (num["用电量(万千瓦时)"] > 0)].median()),
    }
    return calib


def check(datasets: dict[str, Any]) -> dict[str, Any]:
    """Assert that a data set (freshly generated or read back) is consistent.

    Parameters
    ----------
    datasets : dict
        As returned by :func:`generate` or :func:`read`.

    Returns
    -------
    dict
        Summary statistics (counts, areas, medians) for printing.

    Raises
    ------
    AssertionError
        On the first failed check.
    """
    stats: dict[str, Any] = {}
    meta = datasets.get("meta") or {}
    year = int(meta.get("year", DEFAULT_YEAR))
    blocks, parcels, roads = datasets["blocks"], datasets["parcels"], datasets["roads"]
    sites, ent, price = datasets["core_sites"], datasets["enterprises"], datasets["land_price"]
    zones = datasets["price_zones"]
    for name, gdf, cols in (("blocks", blocks, BLOCK_COLUMNS), ("parcels", parcels, PARCEL_COLUMNS),
                            ("roads", roads, ROAD_COLUMNS), ("core_sites", sites, SITE_COLUMNS),
                            ("price_zones", zones, PRICE_ZONE_COLUMNS), ("facilities", datasets["facilities"], FACILITY_COLUMNS)):
        assert list(gdf.columns[:-1]) == list(cols), f"{name} columns {list(gdf.columns)}"
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4490, f"{name} CRS {gdf.crs}"
        g = gdf.geometry.to_numpy()
        assert not shapely.is_empty(g).any(), f"{name}: empty geometry"
        assert shapely.is_valid(g).all(), f"{name}: invalid geometry"
    assert list(ent.columns) == list(ENTERPRISE_COLUMNS), f"enterprise columns {list(ent.columns)}"
    assert list(price.columns) == list(LAND_PRICE_COLUMNS), f"land price columns {list(price.columns)}"

    # blocks
    n_tiles = len(blocks) // len(BLOCKS)
    assert len(blocks) == n_tiles * len(BLOCKS) and n_tiles >= 1, f"{len(blocks)} blocks"
    assert blocks["区块编号"].is_unique, "duplicate block ids"
    assert set(blocks["区块类型"]) <= set(BLOCK_TYPES) and set(blocks["圈层"]) <= set(RINGS), "block classes"
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    total_ha = float(shapely.area(blocks_tm).sum() / 1e4)
    expected = BLOCK_TOTAL_HA * n_tiles
    assert abs(total_ha - expected) <= 0.02 * expected, f"block area {total_ha:.2f} ha vs {expected}"
    stats["blocks"] = len(blocks)
    stats["block_area_ha"] = round(total_ha, 2)

    # parcels
    if "n_parcels" in meta:
        assert len(parcels) == int(meta["n_parcels"]), f"{len(parcels)} parcels, expected {meta['n_parcels']}"
    assert parcels["地块编号"].is_unique, "duplicate parcel ids"
    assert set(parcels["用地性质"]) <= set(LAND_USES) | set(COMMERCIAL_USES), "unknown 用地性质"
    assert set(parcels["土地状态"]) <= set(STATUSES), "unknown 土地状态"
    p_tm = geoms_to_tm(parcels.geometry.to_numpy())
    assert (shapely.get_type_id(p_tm) == 3).all(), "parcels must be Polygons"
    tree = shapely.STRtree(p_tm)
    a, b = tree.query(p_tm, predicate="overlaps")
    m = a < b
    a, b = a[m], b[m]
    worst = float(shapely.area(shapely.intersection(p_tm[a], p_tm[b])).max()) if len(a) else 0.0
    assert worst <= 1.0, f"parcels overlap by {worst:.3f} m²"
    stats["max_parcel_overlap_m2"] = worst
    status = parcels["土地状态"].to_numpy()
    area = shapely.area(p_tm)
    membership = block_membership(p_tm, blocks_tm)
    inside = membership >= 0
    stats.update(check_parcel_rules(parcels, area, inside, year))
    # every block, and every scattered plot, inside its copy of the real district boundary
    outlines = make_outlines([Tile(i, gx * TILE_STEP_M, gy * TILE_STEP_M)
                              for i, (gx, gy) in enumerate(spiral(n_tiles))])
    block_tile = np.arange(len(blocks)) // len(BLOCKS)
    assert shapely.within(blocks_tm, outlines[block_tile]).all(), "a block lies outside the district"
    if (~inside).any():
        bi, _oi = shapely.STRtree(outlines).query(p_tm[~inside], predicate="within")
        assert len(np.unique(bi)) == (~inside).sum(), "a scattered plot lies outside the district"
    share_in = inside.mean()
    assert 0.78 <= share_in <= 0.87, f"{share_in:.1%} of parcels inside blocks"
    if (~inside).any():
        hit = shapely.STRtree(blocks_tm).query(p_tm[~inside], predicate="intersects")
        assert hit.size == 0, "scattered parcels overlap blocks"
    stats["plan"] = check_plan(datasets, inside, membership)
    stats.update(parcels=len(parcels), parcels_in_blocks=int(inside.sum()),
                 parcels_scattered=int((~inside).sum()),
                 parcel_median_mu=round(float(np.median(area[inside] / MU_M2)), 1),
                 parcel_max_mu=round(float(area.max() / MU_M2), 1),
                 status_share={k: round(float((status == k).mean()), 3) for k in STATUSES},
                 use_share={k: round(float((parcels["用地性质"] == k).mean()), 3) for k in LAND_USES})

    # roads: one connected network plus the deliberate dead-end piece
    r_tm = geoms_to_tm(roads.geometry.to_numpy())
    assert (shapely.get_type_id(r_tm) == 1).all(), "roads must be LineStrings"
    assert set(roads["道路等级"]) <= set(ROAD_CLASSES), "unknown 道路等级"
    assert set(roads["单行"]) <= {"是", "否"}
    assert "支路" in set(roads["道路等级"]) and "次干路" in set(roads["道路等级"]), "the road hierarchy lacks a class"
    comp = components(r_tm)
    labels, counts = np.unique(comp, return_counts=True)
    dead = (roads["道路名称"] == DEAD_END_NAME).to_numpy()
    assert len(labels) == 2, f"road network has {len(labels)} components"
    small = labels[np.argmin(counts)]
    assert ((comp == small) == dead).all() and 2 <= dead.sum() <= 3, "dead-end piece"
    stats["road_segments"] = len(roads)

    assert len(sites) == len(CORE_SITES) and set(sites["类型"]) <= set(SITE_TYPES), "core sites"

    # enterprises
    assert ent["统一社会信用代码"].is_unique, "duplicate 统一社会信用代码"
    assert ent["企业名称"].is_unique, "duplicate 企业名称"
    codes = ent["统一社会信用代码"].astype(str)
    assert (codes.str.len() == 18).all() and codes.str.startswith("91310112").all(), "credit code format"
    ids = ent["地块编号"].astype(str).str.split(ID_SEP).explode()
    known = set(parcels["地块编号"])
    assert ids.isin(known).all(), "enterprise refers to an unknown parcel"
    pstat = parcels.set_index("地块编号")["土地状态"]
    puse = parcels.set_index("地块编号")["用地性质"]
    st_of = pstat.loc[ids.to_numpy()].to_numpy()
    assert not np.isin(st_of, ["在建", "未供应"]).any(), "enterprise on land under construction or not supplied"
    assert not (puse.loc[ids.to_numpy()].to_numpy() == "U").any(), "enterprise on utility land"
    assert (st_of == "闲置").sum() <= 3, "too many enterprises on idle land"
    numeric = [c for c in ENTERPRISE_COLUMNS[:-len(ENTERPRISE_PLAN_COLUMNS)] if c not in ("统一社会信用代码", "企业名称", "地块编号",
                                                                                        "行业", "高新技术企业")]
    for c in numeric:
        col = pd.to_numeric(ent[c], errors="raise")
        if c in ("研发投入(万元)", "排放当量(吨)"):
            assert col.isna().sum() <= max(5, 0.06 * len(col)), f"too many blank {c}"
        else:
            assert col.notna().all(), f"nulls in {c}"
    assert set(ent["行业"]) <= set(INDUSTRIES) and set(ent["高新技术企业"]) <= {"是", "否"}
    # tax per mu over parcels with firms (a firm spanning parcels is split by area)
    tax = pd.to_numeric(ent["税收(万元)"]).to_numpy()
    area_by_id = pd.Series(area / MU_M2, index=parcels["地块编号"].to_numpy())
    per = ent.assign(_ids=ent["地块编号"].astype(str).str.split(ID_SEP), _tax=tax).explode("_ids")
    per["_a"] = area_by_id.loc[per["_ids"].to_numpy()].to_numpy()
    per["_w"] = per["_a"] / per.groupby(level=0)["_a"].transform("sum")
    parcel_tax = (per["_tax"] * per["_w"]).groupby(per["_ids"]).sum()
    tpm = parcel_tax / area_by_id.loc[parcel_tax.index]
    calib = _calibration(ent, area, status)
    assert 450 <= calib["revenue_per_mu"] <= 700, f"revenue {calib['revenue_per_mu']:.0f} 万元/亩"
    assert 0.20 <= calib["value_added_share"] <= 0.30 and 0.02 <= calib["tax_share"] <= 0.10, "VA or tax share"
    assert 0.04 <= calib["rd_share"] < 0.068, f"R&D share {calib['rd_share']:.3f}"
    assert 30 <= calib["labour_productivity"] < 53.3, f"labour productivity {calib['labour_productivity']:.1f}"
    assert 0.22 <= calib["high_tech_share"] <= 0.38, f"high-tech share {calib['high_tech_share']:.2f}"
    assert 0.5 <= calib["electricity_share_of_energy"] <= 0.9, "electricity share of energy"
    assert 2.0 <= calib["large_va_per_tce"] <= 5.0, f"规上 单位能耗增加值 {calib['large_va_per_tce']:.2f} 万元/tce"
    stats["calibration"] = {k: round(v, 4) for k, v in calib.items()}
    stats.update(enterprises=len(ent),
                 enterprises_spanning=int(ent["地块编号"].astype(str).str.contains(ID_SEP).sum()),
                 median_tax_per_mu=round(float(tpm.median()), 1),
                 tax_per_mu_p10_p90=(round(float(tpm.quantile(0.1)), 1), round(float(tpm.quantile(0.9)), 1)))

    assert len(price) == len(PRICE_LEVELS) * len(PRICE_USES), "land price rows"
    assert set(price["级别"]) == set(PRICE_LEVELS) and set(price["用途"]) == set(PRICE_USES), "land price keys"
    pr = pd.to_numeric(price["基准地价(元/平方米)"])
    assert pr.between(1200, 8000).all(), "land price out of 1200-8000"
    by = price.pivot(index="级别", columns="用途", values="基准地价(元/平方米)").loc[list(PRICE_LEVELS)]
    assert (by["研发"] > by["工业"]).all() and (by["仓储"] < by["工业"]).all(), "price order 研发 > 工业 > 仓储"
    assert by["工业"].is_monotonic_decreasing and by["工业"].between(1500, 4500).all(), "工业 price by grade"
    assert list(zones["级别"]) == list(PRICE_LEVELS), "price zone grades"
    z_tm = geoms_to_tm(zones.geometry.to_numpy())
    z_area = float(shapely.area(z_tm).sum())
    d_area = float(shapely.area(outlines).sum())
    assert abs(z_area - d_area) <= 1e-4 * d_area, "price zones do not cover the district"
    assert float(shapely.area(shapely.union_all(z_tm))) >= z_area * (1 - 1e-6), "price zones overlap"
    stats["price_zone_km2"] = {g: round(float(a) / 1e6, 1)
                               for g, a in zip(zones["级别"], shapely.area(z_tm), strict=True)}

    nl, bh = datasets["night_light"], datasets["building_height"]
    assert nl.array.dtype == np.float32 and nl.nodata == -9999 and "4326" in str(nl.crs), "night light format"
    assert (nl.array == -9999).any() and (nl.array[nl.array != -9999] >= 0).all(), "night light values"
    assert bh.array.dtype == np.uint8 and bh.nodata == 255 and "32651" in str(bh.crs), "height format"
    assert (bh.array[bh.array != 255] > 0).any(), "no buildings in height raster"
    stats["night_light_shape"] = nl.array.shape
    stats["building_height_shape"] = bh.array.shape
    return stats
