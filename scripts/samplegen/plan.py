"""What the plan's spatial items need (issue #17), added to a generated city, all synthetic.

Drawn from streams of their own (:func:`plan_rng`, ``default_rng([seed, 17, k])``), so the rest
of the city stays as it was:

- 调入 (plan item 14): in each copy of the district, a few outer superblocks of well-taxed,
  producing land are cut out of their blocks (the block boundary drawn back ~6 m around them), so
  that they lie just outside a block: the contiguous land a 调入 takes back in (:func:`trim_blocks`);
- 调出: in each copy, a couple of patches of a block's parcels set apart (> 50 m) from its core get
  poorly performing firms: the fringe a 调出 takes out (:func:`poor_fringes`);
- parcels: 土地权属 (国有; 集体 on 零星 plots and a few in-block plots of 马桥镇, 颛桥镇, 浦江镇 and in
  or near 大零号湾; 国有载体 for park-platform buildings in 大零号湾), 产业区块类型 (104 inside the blocks;
  195 inside a synthetic urban growth boundary, 198 outside it), building attributes of part of the
  built parcels (楼面荷载, 层高, 货梯载重, 火灾危险性类别), and commercial and office land (B1, B2, B29,
  C2, C8, with 空置率) in 莘庄工业区 (MH09) and 莘庄商务区 (MH10): relabelled R&D, office-type and
  stopped parcels, several vacant or of low FAR;
- enterprises: 细分领域, 链主企业, 独角兽或隐形冠军, PCT专利申请量(件), 人才数(人), 工业总产值(万元),
  calibrated a little below the plan's 2026 targets (the sample is part of the park);
- a facilities layer (人才公寓, 学校, 社区卫生服务中心, 食堂, 地铁站, 公交站, 孵化器), dense in 大零号湾,
  sparse in the outer blocks.

The local roads (支路) of the road hierarchy are :func:`samplegen.roads.add_local_roads`' (stream 8).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from samplegen.constants import COMMERCIAL_USES, FACILITY_KINDS, ID_SEP, MU_M2, TILE_STEP_M
from samplegen.geometry import categorical, geoms_to_geo, geoms_to_tm, spiral, to_tm_xy
from samplegen.places import BLOCKS, TOWNS

#: Segments (细分领域) by industry (plan items 5–8; the landkit profile's `chains` stages list them).
SEGMENTS = {
    "高端装备": ("航天", "航空", "船用动力", "新型储能"),
    "数字经济": ("控制芯片", "传感器", "伺服电机", "减速器", "视觉系统", "人机接口", "智能机器人整机", "信息技术服务"),
    "生物医药": ("基因与细胞治疗", "合成生物学", "创新医疗器械", "创新药"),
    "脑机接口": ("脑机接口", "神经外科手术机器人", "认知障碍干预"),
    "集成电路": ("芯片设计", "晶圆制造", "封装测试"),
    "新材料": ("先进材料",), "传统制造": ("金属制品",), "仓储物流": ("仓储",), "研发服务": ("技术服务",),
}
#: Industries with chain leaders (链主): the plan's leading industries (items 5–8) and 集成电路 (浦江创芯之城).
CHAIN_INDUSTRIES = ("高端装备", "数字经济", "生物医药", "脑机接口", "集成电路")
COLLECTIVE_TOWNS = ("马桥镇", "颛桥镇", "浦江镇")
CORE_BLOCKS = ("MH01", "MH02", "MH03")
#: Blocks of the 商办→研发 conversion (plan item 13): 莘庄工业区 and 莘庄商务区.
COMMERCIAL_BLOCKS = ("MH09", "MH10")
#: Industries whose firms fit office space (relabelled to commercial land with their parcel).
OFFICE_INDUSTRIES = ("数字经济", "研发服务", "生物医药", "脑机接口", "集成电路")
#: Manufacturing industries (工业总产值 is reported by manufacturers only).
MANUFACTURING = ("高端装备", "数字经济", "生物医药", "脑机接口", "新材料", "集成电路", "传统制造")
#: The three leading industries and the strategic emerging ones, as landkit's default profile counts them (kpis).
LEADING_INDUSTRIES = ("集成电路", "生物医药", "数字经济")
STRATEGIC_INDUSTRIES = ("高端装备", "集成电路", "数字经济", "生物医药", "脑机接口", "新材料")
#: 规模以上工业企业: main business revenue of 20 million yuan or more (国家统计局, from 2011).
ABOVE_SCALE_WAN = 2000.0
#: Share of a manufacturer's revenue that is industrial output (the rest trade and services) [assumed].
OUTPUT_SHARE = (0.6, 0.9)
#: R&D spend (万元) per PCT filing expected of a high-tech firm [assumed: calibrates the sample's park
#: total to about 150 filings, a little under the plan's 200 for 2026].
RD_WAN_PER_PCT = 4500.0
#: Talents (人才) as a share of staff: high-tech firms, others [assumed: leading industries ~25,000
#: against the plan's 34,000 for 2026].
TALENT_SHARE = {"hitech": (0.45, 0.8), "other": (0.12, 0.3)}
#: One hidden champion or unicorn per this many firms (a handful; the plan's 2026 target is 8).
FIRMS_PER_CHAMPION = 600
#: Facilities per kind: count in each 大零号湾 block, chance of one in a spillover block, in a linkage block.
FACILITIES = (("人才公寓", 3, 0.7, 0.25), ("学校", 2, 0.7, 0.3), ("社区卫生服务中心", 2, 0.6, 0.3), ("食堂", 4, 0.9, 0.5),
              ("地铁站", 2, 0.5, 0.2), ("公交站", 4, 1.0, 0.8))
#: The sample's incubators (plan target: 2 high-quality incubators by 2026): one, in MH01.
INCUBATOR_BLOCKS = ("MH01",)
#: 调入: per copy of the district, at most this many superblocks cut out of their blocks, and this much area.
BRING_IN_PER_TILE = 3
BRING_IN_MAX_HA = 40.0
BRING_IN_MIN_MU = 10.0
BRING_IN_MAX_SHARE = 0.015  # of the parcels in blocks: a small sample keeps its share in blocks
#: 调出: per copy, at most this many poor fringe patches; their firms' output, tax and value added scaled by this.
FRINGES_PER_TILE = 2
FRINGE_FACTOR = (0.12, 0.3)
FRINGE_MAX_SHARE = 0.02  # of a copy's parcel land in blocks: a small sample keeps its calibration
CORE_DISTANCE_M = 50.0  # parcels this close form one patch (landkit's block_adjustment.core_distance_m)
#: The synthetic urban growth boundary (城镇开发边界) outside the blocks: within this of a block, of a town
#: centre, or north of this latitude (Minhang's built-up north) [assumed]; beyond it 198 区域.
GROWTH_BLOCK_M = 1000.0
GROWTH_TOWN_M = 1500.0
GROWTH_NORTH_LAT = 31.10
PARCEL_PLAN_COLUMNS = ("土地权属", "产业区块类型", "空置率", "楼面荷载(吨/平方米)", "层高(米)", "货梯载重(吨)", "火灾危险性类别", "有意转让")
ENTERPRISE_PLAN_COLUMNS = ("细分领域", "链主企业", "独角兽或隐形冠军", "PCT专利申请量(件)", "人才数(人)", "工业总产值(万元)")


def plan_rng(seed: int, k: int) -> np.random.Generator:
    """Return stream ``k`` of the plan's data (``default_rng([seed, 17, k])``), apart from the city's own."""
    return np.random.default_rng([seed, 17, k])


def _base_ids(blocks: pd.DataFrame) -> np.ndarray:
    """Return each block's id in the first copy of the district (MH01 … MH19): tiles repeat the 19 blocks in order."""
    return np.array([f"MH{i % len(BLOCKS) + 1:02d}" for i in range(len(blocks))], dtype=object)


def _membership(parcels_tm: np.ndarray, blocks_tm: np.ndarray) -> np.ndarray:
    """Return each parcel's block position (its representative point within), −1 outside."""
    points = shapely.point_on_surface(parcels_tm)
    p, b = shapely.STRtree(blocks_tm).query(points, predicate="within")
    out = np.full(len(parcels_tm), -1)
    out[p] = b
    return out


def parcel_tax_per_mu(parcels: pd.DataFrame, ent: pd.DataFrame, area_m2: np.ndarray) -> np.ndarray:
    """Return each parcel's tax per 亩 (万元/亩): a firm on several parcels is split by their areas."""
    area = pd.Series(area_m2, index=parcels["地块编号"].to_numpy())
    per = ent[["地块编号", "税收(万元)"]].assign(_id=ent["地块编号"].astype(str).str.split(ID_SEP)).explode("_id")
    per["_a"] = area.reindex(per["_id"].to_numpy()).to_numpy()
    per["_w"] = per["_a"] / per.groupby(level=0)["_a"].transform("sum")
    tax = (per["税收(万元)"] * per["_w"]).groupby(per["_id"]).sum()
    return np.asarray((tax.reindex(area.index).fillna(0.0) / (area / MU_M2)).to_numpy(float))


def _patches(geoms: np.ndarray, distance: float) -> np.ndarray:
    """Return a patch label per geometry: geometries within ``distance`` of each other share one."""
    a, c = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=distance)
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, c)), shape=(len(geoms),) * 2), directed=False)
    return np.asarray(label)


def trim_blocks(datasets: dict[str, Any], superblock: np.ndarray) -> tuple[dict[str, int], np.ndarray]:
    """Cut a few outer superblocks of well-taxed producing land out of their blocks, so that they lie just outside.

    Candidates (in blocks outside 大零号湾 and the 商办 blocks): superblocks on a block's edge whose
    parcels are all producing M1, M2 or C65 land with firms, together at least :data:`BRING_IN_MIN_MU`,
    each taxed at least the park's 40th percentile per 亩 and together at least its 65th. Per copy
    of the district, the best (by their tax per 亩), one per block, up to :data:`BRING_IN_PER_TILE` and :data:`BRING_IN_MAX_HA`;
    at most :data:`BRING_IN_MAX_SHARE` of the parcels in blocks. A block loses the superblock with a
    ~6 m margin only where it stays one polygon holding all its other parcels. No random draws.

    Returns
    -------
    counts : dict
        ``bring_in_superblocks`` and ``bring_in_parcels``: what was cut out.
    parcels : numpy.ndarray
        Positions of the parcels cut out (now just outside their former block).
    """
    blocks, parcels, ent = datasets["blocks"], datasets["parcels"], datasets["enterprises"]
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    parcels_tm = geoms_to_tm(parcels.geometry.to_numpy())
    area = shapely.area(parcels_tm)
    member = _membership(parcels_tm, blocks_tm)
    per_mu = parcel_tax_per_mu(parcels, ent, area)
    status, use = parcels["土地状态"].to_numpy(), parcels["用地性质"].to_numpy()
    has_firm = parcels["地块编号"].isin(ent["地块编号"].astype(str).str.split(ID_SEP).explode()).to_numpy()
    operating = status == "在产"
    floor_tax, mean_tax = np.quantile(per_mu[operating & has_firm], [0.4, 0.65])
    good = operating & has_firm & np.isin(use, ("M1", "M2", "C65")) & (per_mu >= floor_tax)
    base = _base_ids(blocks)
    eligible_block = ~np.isin(base, CORE_BLOCKS + COMMERCIAL_BLOCKS)
    frame = pd.DataFrame({"sb": superblock, "block": member, "good": good, "area": area, "tax": per_mu})
    frame = frame[(frame["sb"] >= 0) & (frame["block"] >= 0)]
    frame["taxed"] = frame["tax"] * frame["area"]
    by_sb = frame.groupby("sb").agg(block=("block", "first"), blocks=("block", "nunique"), good=("good", "all"),
                                    area=("area", "sum"), taxed=("taxed", "sum"))
    by_sb["mu"] = by_sb["area"] / MU_M2
    by_sb["tax"] = by_sb["taxed"] / by_sb["mu"]
    cand = by_sb[(by_sb["blocks"] == 1) & by_sb["good"] & (by_sb["mu"] >= BRING_IN_MIN_MU) & (by_sb["tax"] >= mean_tax)
                 & eligible_block[by_sb["block"].to_numpy()]].sort_values("tax", ascending=False, kind="stable")
    geoms = blocks_tm.copy()
    tile_of = np.arange(len(blocks)) // len(BLOCKS)
    taken: dict[int, list[float]] = {}
    done_blocks: set[int] = set()
    cut_parcels: list[np.ndarray] = []
    for sb, row in cand.iterrows():  # a loop over candidate superblocks
        b = int(row["block"])
        t = int(tile_of[b])
        used = taken.setdefault(t, [])
        mine = np.flatnonzero(superblock == sb)
        if (b in done_blocks or len(used) >= BRING_IN_PER_TILE
                or sum(map(len, cut_parcels)) + len(mine) > BRING_IN_MAX_SHARE * (member >= 0).sum()):
            continue
        union = shapely.union_all(parcels_tm[mine])
        if shapely.distance(union, shapely.get_exterior_ring(geoms[b])) > 1.0:
            continue  # an inner superblock: cutting it would make a hole
        others = np.flatnonzero((member == b) & (superblock != sb))
        closed = shapely.buffer(shapely.buffer(union, 25.0, join_style="mitre"), -19.0, join_style="mitre")
        cut = shapely.difference(closed, shapely.buffer(shapely.union_all(parcels_tm[others]), 3.0))
        keep = shapely.difference(geoms[b], cut)
        if keep.geom_type == "MultiPolygon":
            keep = max(keep.geoms, key=lambda g: g.area)
        lost_ha = (geoms[b].area - keep.area) / 1e4
        if (keep.geom_type != "Polygon" or len(keep.interiors) != len(geoms[b].interiors)
                or sum(used) + lost_ha > BRING_IN_MAX_HA
                or shapely.intersects(keep, parcels_tm[mine]).any()
                or not shapely.within(shapely.point_on_surface(parcels_tm[others]), keep).all()):
            continue
        geoms[b] = keep
        used.append(lost_ha)
        done_blocks.add(b)
        cut_parcels.append(mine)
    datasets["blocks"] = blocks.set_geometry(gpd.GeoSeries(geoms_to_geo(geoms), crs=blocks.crs))
    out = np.concatenate(cut_parcels) if cut_parcels else np.zeros(0, int)
    return {"bring_in_superblocks": len(cut_parcels), "bring_in_parcels": len(out)}, np.sort(out)


def poor_fringes(datasets: dict[str, Any], seed: int, exclude_blocks: set[int] | None = None) -> dict[str, int]:
    """Give a few patches of parcels set apart from their block's core poorly performing firms (in place).

    A block's parcels within :data:`CORE_DISTANCE_M` of each other form a patch; the largest is
    its core. Candidates: patches apart from the core of 8–150 亩 and at most a fifth of the block's
    parcel land, mostly (≥ 80 % of the area) producing, stopped or idle land, in blocks outside 大零号湾
    and the 商办 blocks. Per copy of the district the :data:`FRINGES_PER_TILE` largest (together at most
    :data:`FRINGE_MAX_SHARE` of its parcel land in blocks) get firms
    whose revenue, tax, value added, R&D and output are scaled by :data:`FRINGE_FACTOR` (stream 9).

    Returns
    -------
    dict
        ``fringe_patches`` and ``fringe_parcels``.
    """
    blocks, parcels = datasets["blocks"], datasets["parcels"]
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    parcels_tm = geoms_to_tm(parcels.geometry.to_numpy())
    area = shapely.area(parcels_tm)
    member = _membership(parcels_tm, blocks_tm)
    status = parcels["土地状态"].to_numpy()
    graded = np.isin(status, ("在产", "停产", "闲置"))
    base = _base_ids(blocks)
    tile_of = np.arange(len(blocks)) // len(BLOCKS)
    rows: list[dict[str, Any]] = []
    for b in range(len(blocks)):  # a loop over blocks
        if base[b] in CORE_BLOCKS + COMMERCIAL_BLOCKS or (exclude_blocks and b in exclude_blocks):
            continue
        idx = np.flatnonzero(member == b)
        if len(idx) < 2:
            continue
        label = _patches(parcels_tm[idx], CORE_DISTANCE_M)
        mu = np.bincount(label, area[idx]) / MU_M2
        ok = np.bincount(label, area[idx] * graded[idx]) / MU_M2
        core = int(np.argmax(mu))
        rows.extend({"tile": tile_of[b], "block": b, "mu": mu[k], "parcels": idx[label == k]} for k in range(len(mu))
                    if k != core and 8.0 <= mu[k] <= 150.0 and mu[k] <= 0.2 * mu.sum() and ok[k] >= 0.8 * mu[k])
    chosen = pd.DataFrame(rows, columns=["tile", "block", "mu", "parcels"])
    if len(chosen):
        chosen = chosen.sort_values(["tile", "mu"], ascending=[True, False], kind="stable")
        land = pd.Series(area[member >= 0] / MU_M2).groupby(tile_of[member[member >= 0]]).sum()
        cum = chosen.groupby("tile")["mu"].cumsum()
        rank = chosen.groupby("tile").cumcount()
        chosen = chosen[(rank < FRINGES_PER_TILE) & (cum <= FRINGE_MAX_SHARE * land.reindex(chosen["tile"]).to_numpy())]
    ids = parcels["地块编号"].to_numpy()
    poor = set(ids[np.concatenate(chosen["parcels"].to_list())]) if len(chosen) else set()
    ent = datasets["enterprises"].copy()
    on = ent["地块编号"].astype(str).str.split(ID_SEP).str[0].isin(poor).to_numpy()
    rng = plan_rng(seed, 9)
    factor = rng.uniform(*FRINGE_FACTOR, len(ent))
    for column in ("营业收入(万元)", "税收(万元)", "工业增加值(万元)", "研发投入(万元)"):
        ent[column] = np.where(on, np.round(ent[column].to_numpy(float) * factor, 2), ent[column].to_numpy(float))
    staff = ent["从业人员(人)"].to_numpy()
    ent["从业人员(人)"] = np.where(on & (staff > 1), np.maximum(1, np.round(staff * 0.6)), staff).astype("int64")
    datasets["enterprises"] = ent
    return {"fringe_patches": len(chosen), "fringe_parcels": len(poor)}


def zone_types(parcels_tm: np.ndarray, member: np.ndarray, blocks_tm: np.ndarray) -> np.ndarray:
    """Return 产业区块类型 per parcel: 104 inside a block; outside, 195 inside the synthetic growth boundary, else 198.

    The growth boundary (城镇开发边界) is synthetic: land within :data:`GROWTH_BLOCK_M` of a block or
    :data:`GROWTH_TOWN_M` of a town centre, and Minhang's built-up north (:data:`GROWTH_NORTH_LAT`),
    in every copy of the district. No random draws.
    """
    n_tiles = max(1, len(blocks_tm) // len(BLOCKS))
    offsets = np.array([(gx * TILE_STEP_M, gy * TILE_STEP_M) for gx, gy in spiral(n_tiles)])
    towns = to_tm_xy([t[1] for t in TOWNS], [t[2] for t in TOWNS])
    north_y = to_tm_xy([121.42], [GROWTH_NORTH_LAT])[0, 1]
    pts = shapely.point_on_surface(parcels_tm)
    xy = shapely.get_coordinates(pts)
    near_block = np.zeros(len(pts), bool)
    pi, _ = shapely.STRtree(blocks_tm).query(pts, predicate="dwithin", distance=GROWTH_BLOCK_M)
    near_block[pi] = True
    all_towns = (towns[None, :, :] + offsets[:, None, :]).reshape(-1, 2)
    near_town = np.zeros(len(pts), bool)
    pi, _ = shapely.STRtree(shapely.points(all_towns)).query(pts, predicate="dwithin", distance=GROWTH_TOWN_M)
    near_town[pi] = True
    tile = np.argmin(np.hypot(*(xy[:, None, :] - offsets[None, :, :] - towns.mean(axis=0)).transpose(2, 0, 1)), axis=1)
    north = xy[:, 1] - offsets[tile, 1] >= north_y
    inside_ugb = near_block | near_town | north
    return np.where(member >= 0, "104", np.where(inside_ugb, "195", "198")).astype(object)


def add_parcel_attributes(datasets: dict[str, Any], seed: int, bring_in: np.ndarray) -> None:
    """Add ownership, zone type, commercial land and vacancy, building attributes (in place)."""
    parcels, blocks, ent = datasets["parcels"].copy(), datasets["blocks"], datasets["enterprises"]
    n = len(parcels)
    parcels_tm = geoms_to_tm(parcels.geometry.to_numpy())
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    member = _membership(parcels_tm, blocks_tm)
    base_id = np.where(member >= 0, _base_ids(blocks)[np.maximum(member, 0)], "")
    town = parcels["所属街镇"].astype(str).to_numpy()
    use = parcels["用地性质"].to_numpy().astype(object)
    status = parcels["土地状态"].to_numpy()
    inside = member >= 0
    core = np.isin(base_id, CORE_BLOCKS)
    core_tm = blocks_tm[np.isin(_base_ids(blocks), CORE_BLOCKS)]
    near_core = np.zeros(n, bool)
    pi, _ = shapely.STRtree(core_tm).query(parcels_tm, predicate="dwithin", distance=1500.0)
    near_core[pi] = True
    near_core &= ~inside

    zone = zone_types(parcels_tm, member, blocks_tm)

    rng = plan_rng(seed, 1)  # ownership: collective land on village plots, a little in the blocks
    draw = rng.random(n)
    towns_c = np.isin(town, COLLECTIVE_TOWNS)
    owner = np.full(n, "国有", dtype=object)
    owner[(towns_c & ~inside & (draw < 0.45)) | (towns_c & inside & ~core & (draw < 0.04))
          | (~inside & ~towns_c & (zone == "198") & (draw < 0.2))] = "集体"
    owner[(core | near_core) & (draw < np.where(core, 0.05, 0.35))] = "集体"  # 大零号湾 (plan item 13)
    owner[core & (draw >= 0.95) & (use == "C65") & (status == "在产")] = "国有载体"  # park-platform buildings
    owner[bring_in] = "国有"

    rng = plan_rng(seed, 3)  # commercial and office land in 莘庄工业区 / 莘庄商务区 (plan item 13)
    firms_of = ent.assign(_id=ent["地块编号"].astype(str).str.split(ID_SEP)).explode("_id")
    office_ids = set(firms_of.loc[firms_of["行业"].isin(OFFICE_INDUSTRIES), "_id"])
    factory_ids = set(firms_of.loc[~firms_of["行业"].isin(OFFICE_INDUSTRIES), "_id"])
    pid = parcels["地块编号"]
    # pandas' hashed isin: NumPy's on object arrays compares every pair (quadratic: 5 s at 20,000 parcels)
    office_fit = (pid.isin(office_ids) & ~pid.isin(factory_ids)).to_numpy()
    in_zone = np.isin(base_id, COMMERCIAL_BLOCKS)
    business = base_id == "MH10"
    u = rng.random(n)
    built = np.isin(status, ("在产", "停产"))
    far = parcels["建筑面积"].to_numpy(float) / shapely.area(parcels_tm)
    # producing factory land only from FAR 0.8 (below it is the next year's 提容增效 of M1/M2: left as it is)
    p = np.where(use == "C65", np.where(business, 0.9, 0.7),
                 np.where(np.isin(use, ("M1", "M2")) & office_fit & (far >= 0.8), np.where(business, 0.6, 0.1),
                          np.where((use == "M1") & (status == "停产"), np.where(business, 0.8, 0.25), 0.0)))
    commercial = in_zone & built & (u < p)
    k = int(commercial.sum())
    use[commercial] = rng.choice(COMMERCIAL_USES, k, p=[0.2, 0.3, 0.2, 0.1, 0.2])
    vacancy = np.full(n, np.nan)
    vacancy[commercial] = np.where(status[commercial] == "停产", np.round(rng.uniform(0.75, 1.0, k), 2),
                                   np.round(rng.beta(1.4, 3.0, k), 2))

    rng = plan_rng(seed, 4)  # building attributes of part of the built industrial land
    floor = parcels["建筑面积"].to_numpy(float)
    foot = parcels["基底面积"].to_numpy(float)
    structure = parcels["建筑结构"].astype(object).to_numpy()
    has = (floor > 0) & ~np.isin(use, (*COMMERCIAL_USES, "U")) & (rng.random(n) < 0.6)
    k = int(has.sum())
    s = structure[has]
    storeys = floor[has] / np.maximum(foot[has], 1.0)
    light = np.isin(s, ("简易", "砖混"))
    loads = (0.5, 0.8, 1.0, 1.2, 1.5, 2.0)
    load_p = np.where(light[:, None], [[0.5, 0.35, 0.15, 0.0, 0.0, 0.0]], [[0.05, 0.2, 0.25, 0.25, 0.15, 0.1]])
    load = np.full(n, np.nan)
    height = np.full(n, np.nan)
    lift = np.full(n, np.nan)
    fire = np.full(n, None, dtype=object)
    load[has] = categorical(rng, [str(v) for v in loads], load_p).astype(float)
    height[has] = np.round(np.where(light, rng.uniform(4.0, 6.0, k), rng.uniform(4.5, 9.0, k)), 1)
    lift_p = np.where((storeys >= 1.5)[:, None], [[0.05, 0.15, 0.3, 0.3, 0.2]], [[0.6, 0.2, 0.15, 0.05, 0.0]])
    lift[has] = categorical(rng, ["0", "1", "2", "3", "5"], lift_p).astype(float)
    u_has = use[has]
    fire_p = np.where(np.isin(u_has, ("M2", "M3"))[:, None], [[0.08, 0.15, 0.42, 0.25, 0.10]],
                      np.where((u_has == "W1")[:, None], [[0.02, 0.05, 0.45, 0.28, 0.20]],
                               [[0.01, 0.04, 0.45, 0.32, 0.18]]))
    fire[has] = categorical(rng, ["甲", "乙", "丙", "丁", "戊"], fire_p)

    rng = plan_rng(seed, 11)  # owners willing to sell (连片整合, issue 18): a few producing and more stopped factories
    factory = np.isin(use, ("M1", "M2", "M3", "W1")) & built
    willing = np.full(n, None, dtype=object)
    willing[factory] = np.where(rng.random(int(factory.sum())) < np.where(status[factory] == "停产", 0.3, 0.08), "是", "否")

    parcels["用地性质"] = use
    for column, values in zip(PARCEL_PLAN_COLUMNS, (owner, zone, vacancy, load, height, lift, fire, willing), strict=True):
        parcels[column] = values
    geometry = parcels.pop("geometry")
    datasets["parcels"] = gpd.GeoDataFrame(parcels, geometry=geometry, crs=datasets["parcels"].crs)


def add_enterprise_attributes(ent: pd.DataFrame, seed: int, parcel_use: pd.Series, *, k: int = 5,
                              leaders: bool = True) -> pd.DataFrame:
    """Return the register with the chain and KPI columns: segment, chain leaders, champions, PCT, talents, output.

    Parameters
    ----------
    ent : pandas.DataFrame
        The register (first parcel id first in ``地块编号``).
    seed : int
        The city's seed; stream ``k`` of :func:`plan_rng` draws.
    parcel_use : pandas.Series
        用地性质 by parcel id (工业总产值 only for manufacturers on industrial land M1/M2/M3).
    k : int
        Stream number.
    leaders : bool
        Name the chain leaders (the largest one or two firms of each chain industry) and a handful
        of hidden champions; off for firms moving in (the next year).
    """
    ent = ent.copy()
    rng = plan_rng(seed, k)
    n = len(ent)
    industry = ent["行业"].astype(str).to_numpy()
    segment = np.full(n, "其他", dtype=object)
    for name, options in SEGMENTS.items():  # a loop over industries
        at = np.flatnonzero(industry == name)
        segment[at] = rng.choice(options, len(at))
    revenue = ent["营业收入(万元)"].to_numpy(float)
    hitech = ent["高新技术企业"].astype(str).to_numpy() == "是"
    leader = np.zeros(n, bool)
    champion = np.zeros(n, bool)
    if leaders:
        for name in CHAIN_INDUSTRIES:
            idx = np.flatnonzero(industry == name)
            if len(idx):
                leader[idx[np.argsort(-revenue[idx], kind="stable")[: 1 + (len(idx) > 150)]]] = True
        pool = np.flatnonzero(hitech & (revenue > np.quantile(revenue, 0.9)) & np.isin(industry, CHAIN_INDUSTRIES))
        if len(pool):
            champion[rng.choice(pool, min(len(pool), max(1, n // FIRMS_PER_CHAMPION)), replace=False)] = True
    rd = np.nan_to_num(ent["研发投入(万元)"].to_numpy(float))
    pct = np.where(hitech, rng.poisson(np.clip(rd / RD_WAN_PER_PCT, 0, 30)), 0)
    staff = ent["从业人员(人)"].to_numpy(float)
    share = np.where(hitech, rng.uniform(*TALENT_SHARE["hitech"], n), rng.uniform(*TALENT_SHARE["other"], n))
    talents = np.round(staff * share)
    use = parcel_use.reindex(ent["地块编号"].astype(str).str.split(ID_SEP).str[0]).to_numpy()
    reports = np.isin(industry, MANUFACTURING) & np.isin(use, ("M1", "M2", "M3")) & (revenue >= ABOVE_SCALE_WAN)
    output = np.where(reports, np.round(revenue * rng.uniform(*OUTPUT_SHARE, n), 2), np.nan)
    for column, values in zip(ENTERPRISE_PLAN_COLUMNS, (segment, np.where(leader, "是", "否"), np.where(champion, "是", "否"),
                                                         pct.astype("int64"), talents.astype("int64"), output), strict=True):
        ent[column] = values
    return ent


def make_facilities(datasets: dict[str, Any], seed: int) -> gpd.GeoDataFrame:
    """Return the public-service facilities: points beside the roads in and near the blocks, dense in 大零号湾.

    Each facility stands 15–40 m off a road within 150 m of its block, on no parcel; 地铁站 and 公交站
    are named after that road. 大零号湾's blocks hold every kind (the one incubator in MH01); the
    spillover and linkage blocks each have a chance of one of a kind (:data:`FACILITIES`), so some
    of them lack a kind altogether (plan item 12's shortfalls).
    """
    rng = plan_rng(seed, 6)
    blocks, parcels, roads = datasets["blocks"], datasets["parcels"], datasets["roads"]
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    parcels_tree = shapely.STRtree(geoms_to_tm(parcels.geometry.to_numpy()))
    roads_tm = geoms_to_tm(roads.geometry.to_numpy())
    road_names = roads["道路名称"].astype(str).to_numpy()
    urban = (roads["道路等级"] != "高速公路").to_numpy()
    roads_tree = shapely.STRtree(roads_tm)
    base = _base_ids(blocks)
    ring = blocks["圈层"].to_numpy()
    names: list[str] = []
    kinds: list[str] = []
    points: list[Any] = []
    for b, geom in enumerate(blocks_tm):  # a loop over blocks
        near = roads_tree.query(shapely.buffer(geom, 150.0), predicate="intersects")
        near = near[urban[near]]
        if not len(near):
            continue
        counts = []
        for kind, in_core, spill, link in FACILITIES:
            if base[b] in CORE_BLOCKS:
                counts.append((kind, in_core))
            else:
                chance = spill if ring[b] == "溢出辐射圈" else link
                counts.append((kind, int(rng.random() < chance) + int(rng.random() < chance / 3)))
        counts.append(("孵化器", int(base[b] in INCUBATOR_BLOCKS)))
        total = sum(c for _, c in counts)
        if not total:
            continue
        m = 40 * total
        line = near[rng.integers(0, len(near), m)]
        along = shapely.line_interpolate_point(roads_tm[line], rng.random(m), normalized=True)
        angle = rng.uniform(0, 2 * np.pi, m)
        off = rng.uniform(15.0, 40.0, m)
        xy = shapely.get_coordinates(along) + np.column_stack([np.cos(angle), np.sin(angle)]) * off[:, None]
        pts = shapely.points(xy)
        ok = shapely.dwithin(pts, geom, 150.0)
        hit = parcels_tree.query(pts, predicate="intersects")[0]
        ok[hit] = False
        free = np.flatnonzero(ok)
        j = 0
        for kind, count in counts:
            for i in range(count):
                if j >= len(free):
                    break
                c = free[j]
                j += 1
                road = road_names[line[c]]
                name = {"地铁站": f"{road}站", "公交站": f"{road}公交站"}.get(kind, f"{blocks['区块名称'].iloc[b]}{kind}{i + 1}号")
                while name in names:
                    name = name.replace("站", "东站", 1) if kind in ("地铁站", "公交站") else name + "分部"
                names.append(name)
                kinds.append(kind)
                points.append(pts[c])
    geo = geoms_to_geo(np.array(points, dtype=object))
    return gpd.GeoDataFrame({"设施名称": names, "设施类型": kinds}, geometry=gpd.GeoSeries(geo, crs=blocks.crs), crs=blocks.crs)


def add_plan_data(datasets: dict[str, Any], seed: int, superblock: np.ndarray) -> dict[str, int]:
    """Add everything of this module to a generated city, in place; return the counts of what was made.

    ``superblock`` is each parcel's superblock (−1 for 零星 plots), from the lots.
    """
    blocks_before = geoms_to_tm(datasets["blocks"].geometry.to_numpy())
    counts, cut = trim_blocks(datasets, superblock)
    parcels_tm = geoms_to_tm(datasets["parcels"].geometry.to_numpy())
    trimmed = set(_membership(parcels_tm[cut], blocks_before).tolist())
    counts.update(poor_fringes(datasets, seed, trimmed))
    bring_in = np.zeros(len(parcels_tm), bool)
    bring_in[cut] = True
    add_parcel_attributes(datasets, seed, bring_in)
    use = datasets["parcels"].set_index("地块编号")["用地性质"]
    datasets["enterprises"] = add_enterprise_attributes(datasets["enterprises"], seed, use)
    datasets["facilities"] = make_facilities(datasets, seed)
    return counts


def check_plan(datasets: dict[str, Any], inside: np.ndarray, membership: np.ndarray) -> dict[str, Any]:
    """Assert the plan's columns and layers follow their rules; return their counts.

    ``inside``/``membership``: each parcel in a block, and which (as :func:`samplegen.generate.check` finds them).
    """
    parcels, ent, blocks = datasets["parcels"], datasets["enterprises"], datasets["blocks"]
    owner = parcels["土地权属"].to_numpy()
    assert set(owner) <= {"国有", "集体", "国有载体"}, "土地权属 values"
    zone = parcels["产业区块类型"].astype(str).to_numpy()
    assert ((zone == "104") == inside).all() and set(zone[~inside]) <= {"195", "198"}, "产业区块类型: 104 exactly in blocks"
    use = parcels["用地性质"].to_numpy()
    commercial = np.isin(use, COMMERCIAL_USES)
    base = np.where(inside, _base_ids(blocks)[np.maximum(membership, 0)], "")
    assert np.isin(base[commercial], COMMERCIAL_BLOCKS).all(), "商办 land outside 莘庄工业区 / 莘庄商务区"
    vacancy = pd.to_numeric(parcels["空置率"]).to_numpy(float)
    assert (np.isnan(vacancy) == ~commercial).all() and ((vacancy[commercial] >= 0) & (vacancy[commercial] <= 1)).all(), "空置率"
    floor = parcels["建筑面积"].to_numpy(float)
    columns = ("楼面荷载(吨/平方米)", "层高(米)", "货梯载重(吨)")
    values = {c: pd.to_numeric(parcels[c]).to_numpy(float) for c in columns}
    has = ~np.isnan(values["楼面荷载(吨/平方米)"])
    assert all((np.isnan(v) == ~has).all() for v in values.values()) and (parcels["火灾危险性类别"].notna().to_numpy() == has).all(), \
        "building attributes all or none"
    assert (floor[has] > 0).all() and not commercial[has].any(), "building attributes on unbuilt or commercial land"
    for c, (lo, hi) in zip(columns, ((0.5, 2.0), (4.0, 9.0), (0.0, 5.0)), strict=True):
        assert ((values[c][has] >= lo) & (values[c][has] <= hi)).all(), f"{c} out of {lo}–{hi}"
    assert set(parcels["火灾危险性类别"].dropna()) <= {"甲", "乙", "丙", "丁", "戊"}, "火灾危险性类别"

    industry = ent["行业"].astype(str)
    seg_ok = [s in SEGMENTS.get(i, ("其他",)) for i, s in zip(industry, ent["细分领域"], strict=True)]
    assert all(seg_ok), "细分领域 not of its industry"
    for c in ("链主企业", "独角兽或隐形冠军"):
        assert set(ent[c]) <= {"是", "否"}, c
    staff = pd.to_numeric(ent["从业人员(人)"]).to_numpy(float)
    pct, talents = pd.to_numeric(ent["PCT专利申请量(件)"]), pd.to_numeric(ent["人才数(人)"])
    assert pct.notna().all() and (pct >= 0).all() and talents.notna().all() and (talents <= staff).all(), "PCT, 人才数"
    output = pd.to_numeric(ent["工业总产值(万元)"]).to_numpy(float)
    revenue = pd.to_numeric(ent["营业收入(万元)"]).to_numpy(float)
    made = ~np.isnan(output)
    assert (output[made] <= revenue[made]).all() and np.isin(industry[made], MANUFACTURING).all(), "工业总产值"

    fac = datasets["facilities"]
    f_tm = geoms_to_tm(fac.geometry.to_numpy())
    assert (shapely.get_type_id(f_tm) == 0).all() and set(fac["设施类型"]) <= set(FACILITY_KINDS), "facilities"
    assert fac["设施名称"].is_unique, "duplicate 设施名称"
    assert not shapely.STRtree(geoms_to_tm(parcels.geometry.to_numpy())).query(f_tm, predicate="intersects").size, \
        "a facility stands on a parcel"
    return {
        "ownership": {k: int((owner == k).sum()) for k in ("国有", "集体", "国有载体")},
        "zone_type": {k: int((zone == k).sum()) for k in ("104", "195", "198")},
        "commercial": int(commercial.sum()),
        "commercial_vacant": int((vacancy[commercial] >= 0.3).sum()),
        "building_attributes": int(has.sum()),
        "willing": int((parcels["有意转让"] == "是").sum()),
        "chain_leaders": int((ent["链主企业"] == "是").sum()),
        "champions": int((ent["独角兽或隐形冠军"] == "是").sum()),
        "pct_filings": int(pct.sum()),
        "talents": int(talents.sum()),
        "talents_leading": int(talents[industry.isin(LEADING_INDUSTRIES).to_numpy()].sum()),
        "output_strategic_yi": round(float(np.nansum(output[industry.isin(STRATEGIC_INDUSTRIES).to_numpy()])) / 1e4, 1),
        "facilities": {k: int((fac["设施类型"] == k).sum()) for k in FACILITY_KINDS},
    }
