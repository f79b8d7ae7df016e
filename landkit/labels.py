"""Labels of output columns in Chinese and English, with units: the one place they live.

Indicator labels come from the configuration (each indicator carries ``label_zh``, ``label_en``
and ``unit``); everything else is here. Shapefile short names (≤ 10 bytes) are here too, so the
data dictionary written beside a shapefile always agrees with the labels.
"""

from __future__ import annotations

from typing import NamedTuple

from landkit.config import Project


class Label(NamedTuple):
    """A column's Chinese label, English label, unit and shapefile short name."""

    zh: str
    en: str
    unit: str = ""
    short: str = ""


COLUMNS: dict[str, Label] = {
    "parcel_id": Label("地块编号", "Parcel id", "", "parcel_id"),
    "land_use": Label("用地性质", "Land use", "", "land_use"),
    "status": Label("土地状态", "Status", "", "status"),
    "lease_start_year": Label("出让年份", "Lease start", "年", "lease_beg"),
    "lease_end_year": Label("到期年份", "Lease end", "年", "lease_end"),
    "production_start_year": Label("投产年份", "Production start", "年", "prod_start"),
    "idle_since_year": Label("闲置起始年份", "Idle since", "年", "idle_since"),
    "floor_area_m2": Label("建筑面积", "Floor area", "m²", "floor_m2"),
    "footprint_m2": Label("基底面积", "Building footprint", "m²", "footprt_m2"),
    "block_id": Label("区块编号", "Block id", "", "block_id"),
    "block_name": Label("区块名称", "Block", "", "block_name"),
    "block_type": Label("区块类型", "Block type", "", "block_type"),
    "town": Label("所属街镇", "Town", "", "town"),
    "area_m2": Label("用地面积", "Area", "m²", "area_m2"),
    "area_mu": Label("用地面积", "Area", "亩", "area_mu"),
    "area_ha": Label("用地面积", "Area", "公顷", "area_ha"),
    "inside_block": Label("位于区块内", "Inside a block", "", "in_block"),
    "enterprise_count": Label("企业数", "Enterprises", "家", "n_firms"),
    "enterprise_names": Label("企业名称", "Enterprises", "", "firms"),
    "industry": Label("主导行业", "Main industry", "", "industry"),
    "founded_year": Label("主要企业成立年份", "Main firm founded", "年", "founded"),
    "tax_wan": Label("税收", "Tax", "万元", "tax_wan"),
    "revenue_wan": Label("营业收入", "Revenue", "万元", "revenue"),
    "value_added_wan": Label("增加值", "Value added", "万元", "va_wan"),
    "employees": Label("从业人员", "Employees", "人", "employees"),
    "rd_spend_wan": Label("研发投入", "R&D spend", "万元", "rd_wan"),
    "energy_tce": Label("综合能耗", "Energy use", "吨标准煤", "energy_tce"),
    "high_tech_firms": Label("高新技术企业数", "High-tech firms", "家", "n_hightech"),
    "track": Label("评价类别", "Track", "", "track"),
    "graded": Label("参评", "Graded", "", "graded"),
    "score": Label("综合得分", "Score", "分", "score"),
    "grade": Label("评价等级", "Grade", "", "grade"),
    "ungraded_reason": Label("不参评原因", "Why not graded", "", "ungraded"),
    "rank_district": Label("全区排名", "Rank in district", "", "rank"),
    "rank_in_block": Label("区块内排名", "Rank in block", "", "rank_block"),
    "land_price_yuan_m2": Label("基准地价", "Benchmark land price", "元/m²", "price_m2"),
    "lease_years_left": Label("剩余年期", "Lease years left", "年", "lease_left"),
    "lease_factor": Label("年期修正系数", "Lease-year factor", "", "lease_k"),
    "land_value_wan": Label("土地价值", "Land value", "万元", "land_val"),
    "building_value_wan": Label("建筑物价值", "Building value", "万元", "bldg_val"),
    "total_value_wan": Label("综合价值", "Total value", "万元", "value_wan"),
    "value_per_mu_wan": Label("亩均价值", "Value per mu", "万元/亩", "value_mu"),
    "low_efficiency": Label("低效用地", "Low-efficiency land", "", "low_eff"),
    "reasons": Label("低效原因代码", "Reason codes", "", "reasons"),
    "reasons_zh": Label("低效原因", "Reasons (Chinese)", "", "reason_zh"),
    "reasons_en": Label("低效原因(英文)", "Reasons", "", "reason_en"),
    "idle_years": Label("闲置年数", "Idle years", "年", "idle_yrs"),
    "far_min": Label("最低容积率", "Minimum FAR", "", "far_min"),
    "disposal": Label("盘活路径代码", "Path code", "", "disposal"),
    "disposal_zh": Label("盘活路径", "Revitalisation path (Chinese)", "", "path_zh"),
    "disposal_en": Label("盘活路径(英文)", "Revitalisation path", "", "path_en"),
    "land_freed_mu": Label("可腾退土地", "Land freed", "亩", "freed_mu"),
    "floor_area_added_m2": Label("可新增建筑面积", "Floor area added", "m²", "floor_add"),
    "potential_tax_wan": Label("潜在税收", "Potential tax", "万元", "pot_tax"),
    "tax_gain_wan": Label("税收增量", "Tax gain", "万元", "tax_gain"),
    # blocks
    "block_area_ha": Label("区块面积", "Block area", "公顷", "blk_ha"),
    "parcel_area_ha": Label("地块面积合计", "Parcel area", "公顷", "parcel_ha"),
    "parcels": Label("地块数", "Parcels", "宗", "parcels"),
    "block_score": Label("区块得分", "Block score", "分", "blk_score"),
    "block_rank": Label("区块排名", "Block rank", "", "blk_rank"),
    "ring": Label("圈层", "Ring", "", "ring"),
    "ring_name": Label("圈层", "Ring", "", "ring_name"),
    "small": Label("小地块", "Small plot", "", "small"),
    "isolated": Label("孤立地块", "Isolated plot", "", "isolated"),
    "scattered": Label("零星散布", "Scattered plot", "", "scattered"),
    "cluster_id": Label("集聚簇编号", "Cluster", "", "cluster"),
    "cluster_area_mu": Label("集聚簇面积", "Cluster area", "亩", "clus_mu"),
    "cluster_parcels": Label("集聚簇地块数", "Parcels in cluster", "宗", "clus_n"),
    "nn_distance_m": Label("最近邻距离", "Nearest neighbour", "m", "nn_m"),
    "adjustment": Label("调整建议代码", "Adjustment code", "", "adjust"),
    "adjustment_zh": Label("调整建议", "Adjustment (Chinese)", "", "adjust_zh"),
    "adjustment_en": Label("调整建议(英文)", "Adjustment", "", "adjust_en"),
    "adjustment_group": Label("调整组", "Adjustment group", "", "adj_group"),
    "adjustment_block": Label("调整目标区块", "Adjustment block", "", "adj_block"),
    "scatter_reason_zh": Label("小而散原因", "Small/scattered (Chinese)", "", "scat_zh"),
    "scatter_reason_en": Label("小而散原因(英文)", "Small/scattered", "", "scat_en"),
    "ring_modelled": Label("通行时间圈层", "Ring by travel time", "", "ring_model"),
    "travel_min_to_core": Label("至核心通行时间", "Travel time to the core", "分钟", "min_core"),
    "function_fit": Label("功能相符", "Function fits ring", "", "func_fit"),
    "function_misfit_reason": Label("功能不符原因", "Function misfit", "", "misfit"),
    "minutes_to_core": Label("至核心通行时间", "Travel time to the core", "分钟", "min_core"),
    "closeness": Label("接近中心性", "Closeness centrality", "", "closeness"),
    "betweenness": Label("中介中心性", "Betweenness centrality", "", "between"),
    "minutes": Label("通行时间", "Travel time", "分钟", "minutes"),
    "kind": Label("连接类型", "Link type", "", "kind"),
    "from_id": Label("起点", "From", "", "from_id"),
    "to_id": Label("终点", "To", "", "to_id"),
    # plan KPIs
    "kpi": Label("指标", "KPI"),
    "target": Label("目标值", "Target"),
    "actual": Label("现状值", "Actual"),
    "ratio": Label("完成率", "Actual / target"),
    "met": Label("是否达标", "Met"),
}


#: Units in English (labels carry the Chinese unit).
UNITS_EN = {
    "亩": "mu", "公顷": "ha", "万元": "10k yuan", "万元/亩": "10k yuan/mu", "元/m²": "yuan/m²", "年": "years",
    "分": "points", "分钟": "min", "家": "", "人": "persons", "宗": "", "人/公顷": "persons/ha",
    "万元/人": "10k yuan/person", "吨标准煤": "tce", "万元/吨标准煤": "10k yuan/tce",
}


def unit(label: Label, lang: str) -> str:
    """Return a label's unit in the language (Chinese units translated for English)."""
    return label.unit if lang == "zh" else UNITS_EN.get(label.unit, label.unit)


def labels_for(project: Project) -> dict[str, Label]:
    """Return the label table with the project's indicators (and their points) added."""
    table = dict(COLUMNS)
    for name, ind in project.assessment.indicators.items():
        table.setdefault(name, Label(ind.label_zh, ind.label_en, ind.unit, ""))
        table[f"{name}_pts"] = Label(f"{ind.label_zh}得分", f"{ind.label_en} points", "分", "")
    for name, ind in project.block_assessment.indicators.items():
        table.setdefault(name, Label(ind.label_zh, ind.label_en, "", ""))
        table[f"{name}_score"] = Label(f"{ind.label_zh}得分", f"{ind.label_en} score", "分", "")
    for rule in project.inventory.rules:
        table[f"r_{rule.code}"] = Label(rule.label_zh, rule.label_en, "", "")
    return table


def header(column: str, labels: dict[str, Label], lang: str = "zh") -> str:
    """Return a column's header for tables: label and unit, e.g. ``税收(万元)``."""
    label = labels.get(column)
    if label is None:
        return column
    text = label.zh if lang == "zh" else label.en
    shown = unit(label, lang)
    return f"{text}({shown})" if shown else text


#: Canonical parcel statuses as shown to people (Chinese, English).
STATUS_LABELS = {
    "operating": ("在产", "operating"),
    "idle": ("闲置", "idle"),
    "stopped": ("停产", "stopped"),
    "construction": ("在建", "under construction"),
}

#: Colours of inventory reasons (the map colours a listed parcel by its first reason).
REASON_COLOURS = {"D": "#d7191c", "IDLE": "#762a83", "LOW_FAR": "#f46d43", "LOW_TAX": "#fdae61", "SCATTERED": "#8c510a"}

#: Colours of the three rings (and of parcels outside them or cut off from the core).
RING_COLOURS = {"core": "#b2182b", "spillover": "#ef8a62", "linkage": "#4393c3", "outside": "#d9d9d9", "unreachable": "#404040"}

#: Colours of the small-and-scattered classes and of the adjustment proposals.
SCATTER_COLOURS = {"scattered": "#d73027", "isolated": "#fc8d59", "small": "#fee090"}
ADJUSTMENT_COLOURS = {"move_out": "#d73027", "bring_in": "#1a9850", "merge": "#4575b4"}

#: Colours of the linkage graph's edges.
LINK_COLOURS = {"pair": "#d6604d", "core": "#762a83", "nearest": "#878787"}

#: Colours of grades and disposal paths (maps, QGIS styles, charts use the same).
GRADE_COLOURS = {"A": "#1a9641", "B": "#a6d96a", "C": "#fdae61", "D": "#d7191c", "U": "#bdbdbd"}
DISPOSAL_COLOURS = {
    "reclaim": "#d7191c",
    "reduce": "#8c510a",
    "buyback": "#f46d43",
    "transform": "#7b3294",
    "vertical": "#2c7bb6",
    "intensify": "#74add1",
    "watch": "#fee08b",
}
