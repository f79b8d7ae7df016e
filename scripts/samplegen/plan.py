"""What the plan's spatial items need (issue #17), added to a generated city, all synthetic.

Drawn from streams of their own (``default_rng([seed, 17, k])``), so the rest of the city stays
as it was:

- parcels: 土地权属 (国有; 集体 in 马桥镇, 颛桥镇, 浦江镇 and a few plots in 大零号湾; 国有载体 for park
  platform buildings in 大零号湾), 产业区块类型 (104 inside the blocks; outside 195 or 198), building
  attributes of part of the built parcels (楼面荷载, 层高, 货梯载重, 火灾危险性类别), and commercial and
  office land (B1, B2, B29, C2, C8, with 空置率) in 莘庄工业区 and 莘庄商务区 (R&D parcels relabelled);
- enterprises: 细分领域, 链主企业, 独角兽或隐形冠军, PCT专利申请量(件), 人才数(人), 工业总产值(万元);
- a facilities layer (人才公寓, 学校, 社区卫生服务中心, 食堂, 地铁站, 孵化器), dense in 大零号湾;
- one block per tile drawn back from a strip of its best-performing land along its edge, which so
  lies just outside it: the land a 调入 (plan item 14) would take back in.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from samplegen.constants import COMMERCIAL_USES
from samplegen.geometry import geoms_to_geo, geoms_to_tm

#: Segments (细分领域) by industry (plan items 5–8).
SEGMENTS = {
    "高端装备": ("航天", "航空", "船用动力", "新型储能"),
    "数字经济": ("控制芯片", "传感器", "伺服电机", "减速器", "视觉系统", "人机接口", "智能机器人整机", "信息技术服务"),
    "生物医药": ("基因与细胞治疗", "合成生物学", "创新医疗器械", "创新药"),
    "脑机接口": ("脑机接口", "神经外科手术机器人", "认知障碍干预"),
    "集成电路": ("芯片设计", "晶圆制造", "封装测试"),
    "新材料": ("先进材料",), "传统制造": ("金属制品",), "仓储物流": ("仓储",), "研发服务": ("技术服务",),
}
COLLECTIVE_TOWNS = ("马桥镇", "颛桥镇", "浦江镇")
CORE_BLOCKS = ("MH01", "MH02", "MH03")
#: Facilities: kind, how many per tile in 大零号湾, how many per other block.
FACILITIES = (("人才公寓", 4, 0.3), ("学校", 3, 0.3), ("社区卫生服务中心", 2, 0.25), ("食堂", 5, 0.5), ("地铁站", 3, 0.3),
              ("孵化器", 2, 0.05))
#: Blocks drawn back (per tile) from a strip of their best land, to show a 调入.
TRIMMED_BLOCK = "MH14"
PARCEL_PLAN_COLUMNS = ("土地权属", "产业区块类型", "空置率", "楼面荷载(吨/平方米)", "层高(米)", "货梯载重(吨)", "火灾危险性类别")
ENTERPRISE_PLAN_COLUMNS = ("细分领域", "链主企业", "独角兽或隐形冠军", "PCT专利申请量(件)", "人才数(人)", "工业总产值(万元)")


def _rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng([seed, 17, k])


def _base_ids(blocks: pd.DataFrame) -> np.ndarray:
    """Return each block's id in the first copy of the district (MH01 … MH19): tiles repeat the 19 blocks in order."""
    return np.array([f"MH{i % 19 + 1:02d}" for i in range(len(blocks))], dtype=object)


def _membership(parcels_tm: np.ndarray, blocks_tm: np.ndarray) -> np.ndarray:
    """Return each parcel's block position (its representative point within), −1 outside."""
    points = shapely.point_on_surface(parcels_tm)
    p, b = shapely.STRtree(blocks_tm).query(points, predicate="within")
    out = np.full(len(parcels_tm), -1)
    out[p] = b
    return out


def trim_blocks(datasets: dict[str, Any]) -> None:
    """Draw :data:`TRIMMED_BLOCK` of each tile back from a strip of its best-taxed operating land along one edge."""
    blocks, parcels, ent = datasets["blocks"], datasets["parcels"], datasets["enterprises"]
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    parcels_tm = geoms_to_tm(parcels.geometry.to_numpy())
    member = _membership(parcels_tm, blocks_tm)
    tax = ent.groupby(ent["地块编号"].str.split("；").str[0])["税收(万元)"].sum()
    per_mu = parcels["地块编号"].map(tax).fillna(0).to_numpy() / (shapely.area(parcels_tm) / (10_000 / 15))
    operating = parcels["土地状态"].to_numpy() == "在产"
    geoms = blocks.geometry.to_numpy().copy()
    for b in np.flatnonzero(_base_ids(blocks) == TRIMMED_BLOCK):
        inside = np.flatnonzero(member == b)
        if not len(inside):
            continue
        minx, miny, maxx, maxy = shapely.bounds(blocks_tm[b])
        # the eastern strip of the block, 160 m wide: its parcels leave the block if they are operating and well taxed
        strip = shapely.box(maxx - 160, miny, maxx + 1, maxy)
        in_strip = inside[shapely.within(shapely.point_on_surface(parcels_tm[inside]), strip)]
        if not len(in_strip) or not (operating[in_strip].all() and np.median(per_mu[in_strip]) > np.median(per_mu[inside])):
            strip = shapely.box(minx - 1, miny, minx + 160, maxy)  # else the western strip
            in_strip = inside[shapely.within(shapely.point_on_surface(parcels_tm[inside]), strip)]
        keep = blocks_tm[b]
        if len(in_strip):
            cut = shapely.buffer(shapely.union_all(parcels_tm[in_strip]), 10, join_style="mitre")
            keep = shapely.difference(blocks_tm[b], cut)
            if keep.geom_type == "MultiPolygon":  # keep the main part only
                keep = max(keep.geoms, key=lambda g: g.area)
        geoms[b] = geoms_to_geo(np.array([keep], dtype=object))[0]
    datasets["blocks"] = blocks.set_geometry(gpd.GeoSeries(geoms, crs=blocks.crs))


def add_parcel_attributes(datasets: dict[str, Any], seed: int) -> None:
    """Add ownership, zone type, vacancy, building attributes and the commercial land."""
    parcels, blocks = datasets["parcels"].copy(), datasets["blocks"]
    n = len(parcels)
    parcels_tm = geoms_to_tm(parcels.geometry.to_numpy())
    member = _membership(parcels_tm, geoms_to_tm(blocks.geometry.to_numpy()))
    base_id = np.where(member >= 0, _base_ids(blocks)[np.maximum(member, 0)], "")
    town = parcels["所属街镇"].astype(str).to_numpy()
    use = parcels["用地性质"].to_numpy().astype(object)
    status = parcels["土地状态"].to_numpy()

    rng = _rng(seed, 1)  # ownership
    owner = np.full(n, "国有", dtype=object)
    owner[np.isin(town, COLLECTIVE_TOWNS) & (rng.random(n) < 0.15)] = "集体"
    core = np.isin(base_id, CORE_BLOCKS)
    draw = rng.random(n)
    owner[core & (draw < 0.05)] = "集体"
    owner[core & (draw >= 0.05) & (draw < 0.15) & (use == "C65")] = "国有载体"

    rng = _rng(seed, 2)  # zone type
    zone = np.where(member >= 0, "104", np.where(rng.random(n) < 0.7, "195", "198")).astype(object)

    rng = _rng(seed, 3)  # commercial and office land in 莘庄工业区 / 莘庄商务区: R&D parcels relabelled
    vacancy = np.full(n, np.nan)
    commercial = np.isin(base_id, ("MH09", "MH10")) & (use == "C65") & (status == "在产") & (rng.random(n) < 0.6)
    use[commercial] = rng.choice(COMMERCIAL_USES, int(commercial.sum()), p=[0.25, 0.25, 0.2, 0.15, 0.15])
    vacancy[commercial] = np.round(rng.beta(1.5, 3.0, int(commercial.sum())), 2)

    rng = _rng(seed, 4)  # building attributes of part of the built land
    floor = parcels["建筑面积"].to_numpy(float)
    has = (floor > 0) & (rng.random(n) < 0.6)
    k = int(has.sum())
    load = np.full(n, np.nan)
    height = np.full(n, np.nan)
    lift = np.full(n, np.nan)
    fire = np.full(n, None, dtype=object)
    load[has] = np.round(rng.choice([0.5, 0.8, 1.0, 1.2, 1.5, 2.0], k, p=[0.15, 0.25, 0.2, 0.2, 0.12, 0.08]), 1)
    height[has] = np.round(rng.uniform(4.0, 9.0, k), 1)
    lift[has] = rng.choice([0.0, 1.0, 2.0, 3.0, 5.0], k, p=[0.15, 0.2, 0.25, 0.25, 0.15])
    fire[has] = rng.choice(["甲", "乙", "丙", "丁", "戊"], k, p=[0.03, 0.07, 0.45, 0.3, 0.15])

    parcels["用地性质"] = use
    for column, values in zip(PARCEL_PLAN_COLUMNS, (owner, zone, vacancy, load, height, lift, fire), strict=True):
        parcels[column] = values
    geometry = parcels.pop("geometry")
    datasets["parcels"] = gpd.GeoDataFrame(parcels, geometry=geometry, crs=datasets["parcels"].crs)


def add_enterprise_attributes(ent: pd.DataFrame, seed: int, *, k: int = 5) -> pd.DataFrame:
    """Return the register with the chain and KPI columns: segment, chain leaders, champions, PCT, talents, output."""
    ent = ent.copy()
    rng = _rng(seed, k)
    n = len(ent)
    industry = ent["行业"].astype(str).to_numpy()
    segment = np.array([rng.choice(SEGMENTS.get(i, ("其他",))) for i in industry], dtype=object)
    revenue = ent["营业收入(万元)"].to_numpy(float)
    leader = np.zeros(n, bool)
    for name in ("高端装备", "数字经济", "生物医药", "脑机接口", "集成电路"):
        idx = np.flatnonzero(industry == name)
        if len(idx):
            leader[idx[np.argsort(-revenue[idx])[: 1 + (len(idx) > 40)]]] = True
    hitech = ent["高新技术企业"].astype(str).to_numpy() == "是"
    champion = np.zeros(n, bool)
    pool = np.flatnonzero(hitech & (revenue > np.quantile(revenue, 0.9)))
    if len(pool):
        champion[rng.choice(pool, min(len(pool), max(1, n // 600)), replace=False)] = True
    rd = ent["研发投入(万元)"].to_numpy(float)
    pct = np.where(hitech, rng.poisson(np.clip(np.nan_to_num(rd) / 20_000, 0, 5)), 0)
    staff = ent["从业人员(人)"].to_numpy(float)
    talents = np.round(staff * np.where(hitech, rng.uniform(0.2, 0.5, n), rng.uniform(0.02, 0.1, n)))
    manufacturing = ~np.isin(industry, ("研发服务", "仓储物流"))
    output = np.where(manufacturing, np.round(revenue * rng.uniform(0.85, 1.05, n), 2), np.nan)
    for column, values in zip(ENTERPRISE_PLAN_COLUMNS, (segment, np.where(leader, "是", "否"), np.where(champion, "是", "否"),
                                                         pct.astype("int64"), talents.astype("int64"), output), strict=True):
        ent[column] = values
    return ent


def make_facilities(datasets: dict[str, Any], seed: int) -> gpd.GeoDataFrame:
    """Return the public-service facilities: points in and around the blocks, dense in 大零号湾."""
    rng = _rng(seed, 6)
    blocks = datasets["blocks"]
    blocks_tm = geoms_to_tm(blocks.geometry.to_numpy())
    base_id = _base_ids(blocks)
    names, kinds, points = [], [], []
    for b, geom in enumerate(blocks_tm):
        minx, miny, maxx, maxy = shapely.bounds(geom)
        for kind, in_core, elsewhere in FACILITIES:
            count = in_core if base_id[b] in CORE_BLOCKS else int(rng.random() < elsewhere) + int(rng.random() < elsewhere / 2)
            for i in range(count):
                for _ in range(50):  # a point inside the block (or just outside it)
                    pt = shapely.Point(rng.uniform(minx - 200, maxx + 200), rng.uniform(miny - 200, maxy + 200))
                    if shapely.distance(pt, geom) <= 200:
                        break
                names.append(f"{blocks['区块名称'].iloc[b]}{kind}{i + 1}号")
                kinds.append(kind)
                points.append(pt)
    geo = geoms_to_geo(np.array(points, dtype=object))
    return gpd.GeoDataFrame({"设施名称": names, "设施类型": kinds}, geometry=gpd.GeoSeries(geo, crs=blocks.crs), crs=blocks.crs)


def add_plan_data(datasets: dict[str, Any], seed: int) -> None:
    """Add everything of this module to a generated city, in place."""
    trim_blocks(datasets)
    add_parcel_attributes(datasets, seed)
    datasets["enterprises"] = add_enterprise_attributes(datasets["enterprises"], seed)
    datasets["facilities"] = make_facilities(datasets, seed)
