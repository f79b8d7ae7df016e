"""Labels of output columns in Chinese and English, with units: the one place they live.

Indicator labels come from the configuration (each indicator carries ``label_zh``, ``label_en``
and ``unit``); everything else is here. Shapefile short names (≤ 10 bytes) are here too, so the
data dictionary written beside a shapefile always agrees with the labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import pandas as pd

from landkit.assess.kpis import KPIS
from landkit.config.models import Project
from landkit.data.overrides import overridable_fields
from landkit.listing.inventory import LISTING


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
    "agreed_start_year": Label("约定动工年份", "Agreed start", "年", "agreed"),
    "agreed_start_year_used": Label("认定动工期限", "Start deadline used", "年", "start_due"),
    "idle_since_year": Label("闲置起始年份", "Idle since", "年", "idle_since"),
    "stopped_since_year": Label("停产年份", "Stopped since", "年", "stop_since"),
    "stopped_years": Label("停产年数", "Years stopped", "年", "stop_yrs"),
    "legally_idle": Label("闲置土地(依法认定)", "Legally idle land", "", "idle_land"),
    "idle_not_due": Label("闲置未满一年", "Idle, not yet due", "", "idle_nodue"),
    "floor_area_m2": Label("建筑面积", "Floor area", "m²", "floor_m2"),
    "footprint_m2": Label("基底面积", "Building footprint", "m²", "footprt_m2"),
    "yard_m2": Label("构筑物及堆场面积", "Structures and yards", "m²", "yard_m2"),
    "structure": Label("建筑结构", "Structure", "", "structure"),
    "structure_used": Label("估价建筑结构", "Structure valued", "", "struct_val"),
    "illegal_use": Label("违法用地", "Illegal use", "", "illegal"),
    "building_coefficient": Label("建筑系数", "Building coefficient", "", "bldg_coef"),
    "block_id": Label("区块编号", "Block id", "", "block_id"),
    "block_name": Label("区块名称", "Block", "", "block_name"),
    "block_type": Label("区块类型", "Block type", "", "block_type"),
    "town": Label("所属街镇", "Town", "", "town"),
    "ownership": Label("土地权属", "Ownership", "", "ownership"),
    "inventory_parcels": Label("列入低效清单地块数", "Listed parcels", "宗", "inv_n"),
    "inventory_area_mu": Label("列入低效清单面积", "Listed area", "亩", "inv_mu"),
    "zone_type": Label("产业区块类型", "Zone type (104/195/198)", "", "zone_type"),
    "vacancy_rate": Label("空置率", "Vacancy rate", "", "vacancy"),
    "floor_load_t_m2": Label("楼面荷载", "Floor load", "t/m²", "floor_load"),
    "storey_height_m": Label("层高", "Storey height", "m", "storey_h"),
    "freight_lift_t": Label("货梯载重", "Freight lift", "t", "lift_t"),
    "fire_class": Label("火灾危险性类别", "Fire hazard class", "", "fire_class"),
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
    "electricity_kwh": Label("用电量", "Electricity", "千瓦时", "elec_kwh"),
    "emission_t": Label("排放当量", "Emission equivalents", "吨", "emission_t"),
    "industry_group": Label("行业分组", "Industry group", "", "ind_group"),
    "high_tech_firms": Label("高新技术企业数", "High-tech firms", "家", "n_hightech"),
    "track": Label("评价分组", "Track", "", "track"),
    "graded": Label("参评", "Graded", "", "graded"),
    "score": Label("综合得分", "Score", "分", "score"),
    "grade": Label("评价等级", "Grade", "", "grade"),
    "grade_basis": Label("定级方式", "Graded by", "", "grade_by"),
    "direct_grade": Label("直接定级规则", "Direct class rule", "", "direct"),
    "grade_reason_zh": Label("直接定级原因", "Direct class (Chinese)", "", "grd_rsn_zh"),
    "grade_reason_en": Label("直接定级原因(英文)", "Direct class", "", "grd_rsn_en"),
    "weakest_zh": Label("主要失分指标", "Costliest indicators (Chinese)", "", "weak_zh"),
    "weakest_en": Label("主要失分指标(英文)", "Costliest indicators", "", "weak_en"),
    "ungraded_reason": Label("不参评原因", "Why not graded (Chinese)", "", "ungraded"),
    "ungraded_reason_en": Label("不参评原因(英文)", "Why not graded", "", "ungrade_en"),
    "rank_in_track": Label("组内排名", "Rank in track", "", "rank"),
    "rank_in_block": Label("区块组内排名", "Rank in block and track", "", "rank_block"),
    "price_zone": Label("地价级别", "Price zone", "", "price_zone"),
    "price_use": Label("地价用途", "Price use", "", "price_use"),
    "land_price_yuan_m2": Label("基准地价", "Benchmark land price", "元/m²", "price_m2"),
    "date_factor": Label("期日修正系数", "Date factor", "", "date_k"),
    "far_factor": Label("容积率修正系数", "FAR factor", "", "far_k"),
    "lease_years_left": Label("剩余年期", "Lease years left", "年", "lease_left"),
    "lease_factor": Label("年期修正系数", "Lease-year factor", "", "lease_k"),
    "site_factor": Label("区域及个别因素修正(ΣK)", "Site factors (ΣK)", "", "site_k"),
    "land_value_wan": Label("土地价值", "Land value", "万元", "land_val"),
    "land_value_full_term_wan": Label("土地价值(完整年期)", "Land value at a full term", "万元", "land_full"),
    "building_share": Label("成新率", "Building condition share", "", "bldg_share"),
    "building_value_wan": Label("建筑物价值", "Building value", "万元", "bldg_val"),
    "total_value_wan": Label("综合价值", "Total value", "万元", "value_wan"),
    "value_per_mu_wan": Label("亩均价值", "Value per mu", "万元/亩", "value_mu"),
    "value_missing_reason": Label("未估价原因", "Why not valued", "", "no_value"),
    "low_efficiency": Label("列入低效用地清单", "On the low-efficiency list", "", "low_eff"),
    "watch": Label("列入关注清单", "On the watch table", "", "watch"),
    "inventory": Label("列入低效用地清单", "On the low-efficiency list", "", "inventory"),  # by_listing's columns
    "none": Label("均未列入", "On neither", "", "none"),
    "list_basis": Label("列入依据", "Listed as", "", "list_basis"),
    "reasons": Label("原因代码", "Reason codes", "", "reasons"),
    "reasons_zh": Label("列入原因", "Reasons (Chinese)", "", "reason_zh"),
    "reasons_en": Label("列入原因(英文)", "Reasons", "", "reason_en"),
    "idle_years": Label("闲置年数", "Idle years", "年", "idle_yrs"),
    "far_min": Label("容积率控制指标", "Minimum FAR", "", "far_min"),
    "disposal": Label("盘活路径代码", "Path code", "", "disposal"),
    "disposal_zh": Label("盘活路径", "Revitalisation path (Chinese)", "", "path_zh"),
    "disposal_en": Label("盘活路径(英文)", "Revitalisation path", "", "path_en"),
    "land_freed_mu": Label("可腾退土地", "Land freed", "亩", "freed_mu"),
    "floor_area_added_m2": Label("可新增建筑面积", "Floor area added", "m²", "floor_add"),
    "potential_tax_wan": Label("潜在税收", "Potential tax", "万元", "pot_tax"),
    "tax_gain_wan": Label("税收增量", "Tax gain", "万元/年", "tax_gain"),
    "compensation_basis": Label("补偿方式", "Compensation basis", "", "comp_basis"),
    "compensation_wan": Label("补偿估算", "Compensation", "万元", "comp_wan"),
    "compensation_unknown": Label("未能估算补偿", "Compensation not estimated", "宗", "comp_unkn"),
    "net_land_value_wan": Label("土地净收益", "Land value net of compensation", "万元", "net_land"),
    "payback_years": Label("补偿回收年限", "Payback", "年", "payback"),
    "review_year": Label("复核年份", "Review year", "年", "review"),
    # blocks
    "block_area_ha": Label("区块面积", "Block area", "公顷", "blk_ha"),
    "parcel_area_ha": Label("地块面积合计", "Parcel area", "公顷", "parcel_ha"),
    "parcels": Label("地块数", "Parcels", "宗", "parcels"),
    # the benchmarks and KPI tables (and the before/after tables' metrics)
    "indicator": Label("指标代码", "Indicator code", "", "indicator"),
    "metric": Label("指标代码", "Metric code", "", "metric"),
    "label_zh": Label("名称", "Name (Chinese)", "", "label_zh"),
    "label_en": Label("名称(英文)", "Name", "", "label_en"),
    "benchmark": Label("基准值", "Benchmark", "", "benchmark"),
    "unit": Label("单位", "Unit", "", "unit"),
    "source": Label("来源", "Source", "", "source"),
    "missing_zh": Label("缺失说明", "Why missing (Chinese)", "", "miss_zh"),
    "missing_en": Label("缺失说明(英文)", "Why missing", "", "miss_en"),
    "better": Label("改善方向", "Better when", "", "better"),
    "change": Label("变化", "Change", "", "change"),
    "improved": Label("是否改善", "Improved", "", "improved"),
    # chains (items 5–8)
    "enterprise_name": Label("企业名称", "Enterprise", "", "firm"),
    "enterprise_id": Label("统一社会信用代码", "Enterprise id", "", "firm_id"),
    "chain": Label("产业链", "Chain", "", "chain"),
    "firms": Label("企业数", "Firms", "家", "firms"),
    "stage": Label("环节", "Stage", "", "stage"),
    "stage_names": Label("已有环节", "Stages present", "", "stages_nm"),
    "stages": Label("环节数", "Stages", "个", "stages"),
    "coverage_pct": Label("环节覆盖率", "Stage coverage", "%", "cover_pct"),
    "leader_basis": Label("认定依据", "Basis", "", "lead_basis"),
    "from_block": Label("起点区块", "From block", "", "from_blk"),
    "to_block": Label("终点区块", "To block", "", "to_blk"),
    "from_firms": Label("起点企业数", "Firms at the start", "家", "from_n"),
    "to_firms": Label("终点企业数", "Firms at the end", "家", "to_n"),
    "from_stages": Label("起点环节", "Stages at the start", "", "from_stg"),
    "to_stages": Label("终点环节", "Stages at the end", "", "to_stg"),
    "flows": Label("研发—制造衔接", "R&D feeds manufacturing", "", "flows"),
    "complementarity": Label("环节互补性", "Chain complementarity", "", "complement"),
    "weight": Label("联动权重", "Link weight", "", "weight"),
    # public services and roads (item 12)
    "level": Label("层级", "Level", "", "level"),
    "group": Label("范围", "Area", "", "group"),
    "facility_kind": Label("设施类型", "Facility", "", "fac_kind"),
    "facility_name": Label("设施名称", "Facility name", "", "fac_name"),
    "road_class": Label("道路等级", "Road class", "", "road_class"),
    "km": Label("长度", "Length", "km", "km"),
    "density_km_per_km2": Label("路网密度", "Density", "km/km²", "density"),
    "guideline_low": Label("指引下限", "Guideline low", "", "guide_low"),
    "guideline_high": Label("指引上限", "Guideline high", "", "guide_high"),
    "ratio_to_arterial": Label("与主干路长度比", "Length over arterials'", "", "ratio_art"),
    "ratio_low": Label("长度比下限", "Ratio low", "", "ratio_low"),
    "ratio_high": Label("长度比上限", "Ratio high", "", "ratio_high"),
    "ratio_recommended": Label("推荐长度比", "Recommended ratio", "", "ratio_rec"),
    "ratio_ok": Label("长度比合理", "Ratio within the band", "", "ratio_ok"),
    "meets": Label("达到指引", "Meets the guideline", "", "meets"),
    "share_pct": Label("可达比例", "Share within reach", "%", "share_pct"),
    "within": Label("可达地块数", "Parcels within reach", "宗", "within"),
    "unreachable": Label("无法经道路到达的地块数", "Parcels off the road network", "宗", "unreach"),
    "facilities": Label("设施数", "Facilities", "个", "facilities"),
    "area_share_pct": Label("可达面积比例", "Share of the area within reach", "%", "area_pct"),
    "worst_kind": Label("最短板设施类型", "Kind furthest short", "", "worst_kind"),
    "worst_share_pct": Label("最短板设施可达比例", "Its share within reach", "%", "worst_pct"),
    "short": Label("短板", "Falls short", "", "short"),
    "n_kinds": Label("短板设施类型数", "Kinds short of", "类", "n_kinds"),
    "kinds": Label("短板设施类型", "Kinds short of (codes)", "", "kinds"),
    "grading": Label("级配(快速路:主干路:次干路:支路)", "Grading (expressway : arterial : secondary : local)", "", "grading"),
    "recommended": Label("推荐级配", "Recommended grading", "", "recommend"),
    "grading_ok": Label("级配合理", "Grading within the bands", "", "grading_ok"),
    "out_of_band": Label("超出区间的等级", "Classes out of band", "", "out_band"),
    "checked": Label("参与检查", "Checked", "", "checked"),
    "area_km2": Label("面积", "Area", "km²", "area_km2"),
    # the plan's targets across runs
    "year": Label("年份", "Year", "", "year"),
    "path": Label("目标路径值", "On the path", "", "path"),
    "on_track": Label("达到路径", "On track", "", "on_track"),
    "needed_per_year": Label("所需年均增速", "Growth needed per year", "", "need_yr"),
    # 园区地块动态调整 (item 14)
    "proposal_id": Label("建议编号", "Proposal", "", "prop_id"),
    "kind_zh": Label("调整类型", "Change (Chinese)", "", "kind_zh"),
    "kind_en": Label("调整类型(英文)", "Change", "", "kind_en"),
    "grades": Label("涉及等级", "Grades", "", "grades"),
    "reason_zh": Label("理由", "Reason (Chinese)", "", "reason_zh"),
    "reason_en": Label("理由(英文)", "Reason", "", "reason_en"),
    "parcel_ids": Label("涉及地块", "Parcels", "", "parcel_ids"),
    "d_inside_block_pct": Label("入区率变化", "Change in share inside", "百分点", "d_inside"),
    "d_np": Label("斑块数变化", "Change in patches", "个", "d_np"),
    "d_lpi_pct": Label("最大斑块指数变化", "Change in LPI", "百分点", "d_lpi"),
    "d_hhi": Label("集中度(HHI)变化", "Change in HHI", "", "d_hhi"),
    "block_score_before": Label("调整前区块得分", "Block score before", "分", "score_bef"),
    "block_score_after": Label("调整后区块得分", "Block score after", "分", "score_aft"),
    "block_change": Label("区块调整", "Block change (code)", "", "blk_chg"),
    "block_change_zh": Label("区块调整", "Block change (Chinese)", "", "blk_chg_zh"),
    "block_change_en": Label("区块调整(英文)", "Block change", "", "blk_chg_en"),
    "block_change_id": Label("区块调整建议编号", "Block change proposal", "", "blk_chg_id"),
    "proposed_block_id": Label("调整后区块编号", "Proposed block", "", "prop_block"),
    "change_kind": Label("调整类型代码", "Change code", "", "chg_kind"),
    # 商办→研发 (item 13), 工业上楼 (item 14)
    "conversion_candidate": Label("商办转研发候选", "Candidate for R&D use", "", "cv_cand"),
    "conversion_reasons": Label("转研发理由代码", "Conversion reason codes", "", "cv_reason"),
    "conversion_reasons_zh": Label("转研发理由", "Conversion reasons (Chinese)", "", "cv_rsn_zh"),
    "conversion_reasons_en": Label("转研发理由(英文)", "Conversion reasons", "", "cv_rsn_en"),
    "conversion_floor_area_m2": Label("可转研发建筑面积", "Floor area for R&D", "m²", "cv_floor"),
    "vertical_suitable": Label("工业上楼适宜", "Suits a vertical factory", "", "vf_ok"),
    "vertical_priority": Label("工业上楼优先级", "Vertical-factory priority", "", "vf_prio"),
    "vertical_floor_area_added_m2": Label("上楼可增建筑面积", "Floor area a vertical factory adds", "m²", "vf_add_m2"),
    "vertical_reasons_zh": Label("不适宜上楼原因", "Why not (Chinese)", "", "vf_rsn_zh"),
    "vertical_reasons_en": Label("不适宜上楼原因(英文)", "Why not", "", "vf_rsn_en"),
    "vertical_unknown_zh": Label("缺少的建筑数据", "Building data lacking (Chinese)", "", "vf_unk_zh"),
    "vertical_unknown_en": Label("缺少的建筑数据(英文)", "Building data lacking", "", "vf_unk_en"),
    # grade robustness (landkit.analyses.robustness)
    "p_A": Label("A类概率", "Probability of A", "", "p_A"),
    "p_B": Label("B类概率", "Probability of B", "", "p_B"),
    "p_C": Label("C类概率", "Probability of C", "", "p_C"),
    "p_D": Label("D类概率", "Probability of D", "", "p_D"),
    "modal_grade": Label("最可能等级", "Most likely class", "", "modal_gr"),
    "modal_probability": Label("最可能等级概率", "Its probability", "", "modal_p"),
    "stable": Label("等级稳定", "Class stable", "", "stable"),
    "grade_unstable_with": Label("等级受其权重影响的指标", "Weights the class depends on", "", "unstable_w"),
    "ranked": Label("按权重评定", "Ranked by weights", "", "ranked"),
    "unstable": Label("不稳定", "Unstable", "", "unstable"),
    "unstable_share": Label("不稳定占比", "Unstable share", "", "unst_sh"),
    "unstable_share_of_graded": Label("占参评地块比例", "Share of the graded", "", "unst_shg"),
    "mean_modal_probability": Label("平均众数概率", "Mean modal probability", "", "mean_mp"),
    # 连片整合 (landkit.analyses.assembly)
    "willing_to_sell": Label("有意转让", "Owner willing to sell", "", "willing"),
    "assembly_candidate": Label("可整合地块", "Assembly candidate", "", "asm_cand"),
    "assembly_willing": Label("有意转让的C类地块", "Willing C seller", "", "asm_will"),
    "acquisition_wan": Label("整合成本", "Cost of acquiring", "万元", "acq_wan"),
    "assembly_site": Label("所属连片地块", "Assembled site", "", "asm_site"),
    "site_id": Label("连片地块编号", "Site", "", "site_id"),
    "size_class_mu": Label("规模档", "Size class", "亩", "size_cls"),
    "collective_mu": Label("其中集体土地", "Collective land in it", "亩", "coll_mu"),
    "platform_mu": Label("其中国有载体", "State carriers in it", "亩", "plat_mu"),
    "enterprises": Label("企业数", "Enterprises", "家", "n_ent"),
    "willing_parcels": Label("有意转让地块", "Willing sellers", "宗", "n_willing"),
    "value_unknown": Label("成本未知地块", "Parcels of unknown cost", "宗", "val_unk"),
    "cost_per_mu_wan": Label("亩均整合成本", "Cost per mu", "万元/亩", "cost_mu"),
    "block_ids": Label("所在区块", "Blocks", "", "block_ids"),
    "rank_by_cost": Label("亩均成本排序", "Rank by cost per mu", "", "rank_cost"),
    # decisions on top of the results (landkit.data.overrides) and the 公示/异议 register
    "overridden": Label("人工调整", "Overridden", "", "ovr"),
    "override_fields": Label("调整字段", "Fields overridden", "", "ovr_field"),
    "override_note": Label("人工调整说明", "Override (Chinese)", "", "ovr_note"),
    "override_disposal": Label("决定的盘活路径", "Decided path", "", "ovr_path"),
    "field": Label("调整字段", "Field", "", "field"),
    "computed": Label("计算值", "Computed value", "", "computed"),
    "value": Label("调整后值", "Decided value", "", "value"),
    "reason": Label("调整理由", "Reason", "", "reason"),
    "approved_by": Label("审批人", "Approved by", "", "appr_by"),
    "approved_date": Label("审批日期", "Approved on", "", "appr_date"),
    "row": Label("行号", "Row", "", "row"),
    "objection_id": Label("异议编号", "Objection", "", "obj_id"),
    "objection_status": Label("处理状态", "Status", "", "obj_status"),
    "received_date": Label("收到日期", "Received", "", "received"),
    "subject": Label("异议事项", "Subject", "", "subject"),
    "decision_date": Label("处理日期", "Decided on", "", "decided"),
    "note": Label("处理意见", "Note", "", "note"),
    "conversion_target_use": Label("转研发目标用地", "Target use (R&D)", "", "cv_target"),
    # 工业上楼: each criterion the parcel meets (True) or not (landkit.analyses.vertical)
    "vf_land_use": Label("上楼条件用地性质", "Vertical: land use", "", "vf_use"),
    "vf_grade": Label("上楼条件等级", "Vertical: class", "", "vf_grade"),
    "vf_industry": Label("上楼条件轻生产环保产业", "Vertical: light, clean industry", "", "vf_ind"),
    "vf_headroom": Label("上楼条件容积率余量", "Vertical: FAR headroom", "", "vf_far"),
    "vf_size": Label("上楼条件面积", "Vertical: size", "", "vf_size"),
    "vf_shape": Label("上楼条件形状", "Vertical: shape", "", "vf_shape"),
    "vf_road": Label("上楼条件临路", "Vertical: road access", "", "vf_road"),
    "vf_floor_load": Label("上楼条件楼面荷载", "Vertical: floor load", "", "vf_load"),
    "vf_storey": Label("上楼条件层高", "Vertical: storey height", "", "vf_storey"),
    "vf_lift": Label("上楼条件货梯", "Vertical: freight lift", "", "vf_lift"),
    "vf_fire": Label("上楼条件火灾危险性", "Vertical: fire class", "", "vf_fire"),
    "compactness": Label("形状紧凑度", "Compactness (Polsby–Popper)", "", "compact"),
    "road_distance_m": Label("至最近道路距离", "Distance to the nearest road", "m", "road_dist"),
    "block_score": Label("区块得分", "Block score", "分", "blk_score"),
    "block_rank": Label("区块排名", "Block rank", "", "blk_rank"),
    "ring": Label("圈层", "Ring", "", "ring"),
    "ring_name": Label("圈层", "Ring", "", "ring_name"),
    "small": Label("小地块", "Small plot", "", "small"),
    "isolated": Label("孤立地块", "Isolated plot", "", "isolated"),
    "sporadic": Label("零星工业用地(区块外)", "Sporadic (outside the blocks)", "", "sporadic"),
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
    # `landkit compare`: run A (上期) against run B (本期)
    "change_type": Label("变化类型代码", "Change code", "", "chg_type"),
    "change_zh": Label("变化类型", "Change (Chinese)", "", "chg_zh"),
    "change_en": Label("变化类型(英文)", "Change", "", "chg_en"),
    "presence": Label("地块存续", "Presence", "", "presence"),
    "grade_a": Label("上期评价等级", "Grade before", "", "grade_a"),
    "grade_b": Label("本期评价等级", "Grade after", "", "grade_b"),
    "grade_change": Label("等级变化", "Grade change", "", "grade_chg"),
    "score_a": Label("上期综合得分", "Score before", "分", "score_a"),
    "score_b": Label("本期综合得分", "Score after", "分", "score_b"),
    "score_change": Label("得分变化", "Score change", "分", "score_chg"),
    "status_a": Label("上期土地状态", "Status before", "", "status_a"),
    "status_b": Label("本期土地状态", "Status after", "", "status_b"),
    "listed_a": Label("上期列入清单", "Listed before", "", "listed_a"),
    "listed_b": Label("本期列入清单", "Listed after", "", "listed_b"),
    "inventory_change": Label("清单变化代码", "Inventory change code", "", "inv_chg"),
    "inventory_change_zh": Label("清单变化", "Inventory change (Chinese)", "", "inv_chg_zh"),
    "inventory_change_en": Label("清单变化(英文)", "Inventory change", "", "inv_chg_en"),
    "reasons_a": Label("上期低效原因代码", "Reason codes before", "", "reasons_a"),
    "reasons_b": Label("本期低效原因代码", "Reason codes after", "", "reasons_b"),
    "reasons_added": Label("新增低效原因代码", "Reasons added (codes)", "", "rsn_add"),
    "reasons_removed": Label("消除低效原因代码", "Reasons cleared (codes)", "", "rsn_rem"),
    "reasons_added_zh": Label("新增低效原因", "Reasons added (Chinese)", "", "rsn_add_zh"),
    "reasons_removed_zh": Label("消除低效原因", "Reasons cleared (Chinese)", "", "rsn_rem_zh"),
    "reasons_added_en": Label("新增低效原因(英文)", "Reasons added", "", "rsn_add_en"),
    "reasons_removed_en": Label("消除低效原因(英文)", "Reasons cleared", "", "rsn_rem_en"),
    "disposal_a": Label("上期盘活路径代码", "Path code before", "", "path_a"),
    "disposal_b": Label("本期盘活路径代码", "Path code after", "", "path_b"),
    "disposal_zh_a": Label("上期盘活路径", "Path before (Chinese)", "", "path_zh_a"),
    "disposal_zh_b": Label("本期盘活路径", "Path after (Chinese)", "", "path_zh_b"),
    "path_change": Label("路径变化代码", "Path change code", "", "path_chg"),
    "path_change_zh": Label("盘活路径进展", "Path progress (Chinese)", "", "pathchg_zh"),
    "path_change_en": Label("盘活路径进展(英文)", "Path progress", "", "pathchg_en"),
    "completion_zh": Label("完成依据", "Evidence of completion (Chinese)", "", "done_zh"),
    "completion_en": Label("完成依据(英文)", "Evidence of completion", "", "done_en"),
    "tax_wan_a": Label("上期税收", "Tax before", "万元", "tax_a"),
    "tax_wan_b": Label("本期税收", "Tax after", "万元", "tax_b"),
    "floor_area_m2_a": Label("上期建筑面积", "Floor area before", "m²", "floor_a"),
    "floor_area_m2_b": Label("本期建筑面积", "Floor area after", "m²", "floor_b"),
    "floor_area_change_m2": Label("建筑面积变化", "Floor area change", "m²", "floor_chg"),
    "land_freed_mu_a": Label("上期可腾退土地", "Land to free (before)", "亩", "freed_a"),
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
    "分": "points", "分钟": "min", "家": "", "件": "", "个": "", "人": "persons", "宗": "", "人/公顷": "persons/ha",
    "万元/人": "10k yuan/person", "吨标准煤": "tce", "万元/吨标准煤": "10k yuan/tce", "万元/年": "10k yuan/year",
    "千瓦时": "kWh", "吨": "t", "元/千瓦时": "yuan/kWh", "万元/吨": "10k yuan/t",
}


def unit(label: Label, lang: str) -> str:
    """Return a label's unit in the language (Chinese units translated for English)."""
    return label.unit if lang == "zh" else UNITS_EN.get(label.unit, label.unit)


#: Columns a decision may set: their computed value is kept in ``<column>_computed``.
OVERRIDABLE = frozenset(overridable_fields())


def labels_for(project: Project) -> dict[str, Label]:
    """Return the label table with the project's indicators (and their points) added."""
    table = dict(COLUMNS)
    for name, ind in project.assessment.indicators.items():
        table.setdefault(name, Label(ind.label_zh, ind.label_en, ind.unit, ""))
        table[f"{name}_bench"] = Label(f"{ind.label_zh}基准", f"{ind.label_en} benchmark", ind.unit, "")
        table[f"{name}_pts"] = Label(f"{ind.label_zh}得分", f"{ind.label_en} points", "分", "")
        table[f"{name}_lost"] = Label(f"{ind.label_zh}失分", f"{ind.label_en} points lost", "分", "")
    for name, block_ind in project.block_assessment.indicators.items():
        table.setdefault(name, Label(block_ind.label_zh, block_ind.label_en, "", ""))
        table[f"{name}_score"] = Label(f"{block_ind.label_zh}得分", f"{block_ind.label_en} score", "分", "")
    for code, zh, en in LISTING.values():  # the listing's own reason: C, D, IDLE
        table[f"r_{code}"] = Label(zh, en, "", "")
    for rule in project.inventory.reasons:
        table[f"r_{rule.code}"] = Label(rule.label_zh, rule.label_en, "", "")
    for name, label in list(table.items()):  # the value computed before a decision replaced it
        if name in OVERRIDABLE:
            table[f"{name}_computed"] = Label(f"{label.zh}(计算值)", f"{label.en} (computed)", label.unit, "")
    for reason in project.conversion.reasons:  # 商办→研发: the reasons' flags
        table[f"cv_{reason.code}"] = Label(f"转研发{reason.label_zh}", f"R&D use: {reason.label_en}", "", "")
    return table


def table_labels(project: Project) -> dict[str, Label]:
    """Return the labels of every table a run writes (workbook sheets, CSV, the report's tables).

    :func:`labels_for`, and the summary tables' own columns (:data:`COMPARE_TABLE_COLUMNS`,
    :data:`LOCAL_LABELS`) where it has none.
    """
    return {**COMPARE_TABLE_COLUMNS, **LOCAL_LABELS, **labels_for(project)}


def header(column: str, labels: Mapping[str, Label], lang: str = "zh") -> str:
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
    "unsupplied": ("未供应", "not yet supplied"),
}

#: Colours of the map's overlays and of the QGIS styles of the same layers. None is a grade colour or a disposal colour, nor near one (CIE76 ΔE of
#: 20 or more from every grade colour, 10 or more from every disposal colour): an overlay drawn over
#: 评价等级 never reads as a grade. Hues: magentas, pinks, navy, teal, cyan, brown, black and white.
OVERLAY_COLOURS: dict[str, dict[str, str]] = {
    "inventory": {"D": "#7a0177", "C": "#f768a1", "IDLE": "#252525"},
    "watch": {"fill": "#41b6c4", "line": "#0c2c84"},
    "rings": {"core": "#08306b", "spillover": "#02818a", "linkage": "#f768a1", "outside": "#ffffff", "unreachable": "#000000"},
    "misfit": {"fill": "#e7298a", "line": "#7a0177"},
    "scatter": {"sporadic": "#c51b8a", "isolated": "#17becf", "small": "#0c2c84"},
    "clusters": {"line": "#543005"},
    "adjustments": {"merge": "#543005"},
    "linkage": {"pair": "#c51b8a", "core": "#08306b", "nearest": "#525252"},
    "core_sites": {"fill": "#0c2c84", "line": "#ffffff"},
    "ownership": {"collective": "#ce1256", "platform": "#081d58"},
    "conversion": {"fill": "#6a51a3", "line": "#3f007d"},
    "overridden": {"fill": "#fdae61", "line": "#d7191c"},
    "unstable": {"fill": "#ffffbf", "line": "#b35806"},
    "vertical": {"1": "#014636", "2": "#ffff33"},
    "facilities": {"talent_housing": "#000080", "school": "#ff00ff", "clinic": "#00ffff", "canteen": "#ffff33", "transit": "#3f007d",
                   "incubator": "#ce1256"},
    "block_changes": {"move_out": "#dd3497", "bring_in": "#02818a", "merge": "#543005", "redraw": "#081d58"},
    "proposed_blocks": {"line": "#000080"},
    "assembly_sites": {"100": "#fe9929", "500": "#cc4c02", "line": "#662506"},
    "blocks": {"line": "#1f4e79"},
    "roads": {"line": "#737373"},
}
#: Colours of the three rings (and of parcels outside them or cut off from the core), and of the
#: linkage graph's edges: the map's, in the QGIS styles too.
RING_COLOURS = OVERLAY_COLOURS["rings"]
LINK_COLOURS = OVERLAY_COLOURS["linkage"]

#: Colours of grades and disposal paths (maps, QGIS styles, charts use the same).
GRADE_COLOURS = {"A": "#1a9641", "B": "#a6d96a", "C": "#fdae61", "D": "#d7191c", "U": "#bdbdbd"}
DISPOSAL_COLOURS = {
    "idle_free": "#40004b",
    "idle_fee": "#9970ab",
    "reclaim": "#d7191c",
    "reduce": "#8c510a",
    "buyback": "#f46d43",
    "renew": "#fdae61",
    "transform": "#7b3294",
    "watch": "#fee08b",
    "vertical": "#2c7bb6",
    "intensify": "#74add1",
    "innovation": "#1a9850",
    "support": "#a6d96a",
    "collective_bank": "#67001f",
    "collective_market": "#bf812d",
    "collective_joint": "#dfc27d",
}

#: Headers of the summary tables of `landkit compare` (generic names, so kept apart from COLUMNS).
COMPARE_TABLE_COLUMNS: dict[str, Label] = {
    "transition_from": Label("上期等级", "Grade before", "", "from"),
    **{f"to_{g}": Label(f"本期{g}类" if g != "U" else "本期不参评", f"Now {g}" if g != "U" else "Now not graded", "宗", f"to_{g}")
       for g in ("A", "B", "C", "D", "U")},
    "total": Label("合计", "Total", "宗", "total"),
    "item": Label("项目代码", "Item code"),
    "item_zh": Label("项目", "Item (Chinese)"),
    "item_en": Label("项目(英文)", "Item"),
    "code": Label("代码", "Code"),
    "parcels_a": Label("上期地块数", "Parcels before", "宗"),
    "parcels_b": Label("本期地块数", "Parcels after", "宗"),
    "area_mu_a": Label("上期面积", "Area before", "亩"),
    "area_mu_b": Label("本期面积", "Area after", "亩"),
    "added": Label("新增", "Added", "宗"),
    "cleared": Label("消除", "Cleared", "宗"),
    "started": Label("新启动", "Started", "宗"),
    "completed": Label("已完成", "Completed", "宗"),
    "changed_from": Label("改为其他路径", "Changed to another path", "宗"),
    "changed_to": Label("由其他路径改入", "Changed from another path", "宗"),
    "land_freed_done_mu": Label("已完成路径腾退土地", "Land freed by completed paths", "亩"),
    "value": Label("数值", "Value"),
    "level": Label("层级", "Level"),
    "group": Label("分组", "Group"),
    "name": Label("名称", "Name"),
    "metric_zh": Label("指标", "Metric (Chinese)"),
    "metric_en": Label("指标(英文)", "Metric"),
    "value_a": Label("上期", "Before"),
    "value_b": Label("本期", "After"),
    "change_pct": Label("变化率", "Change", "%"),
}

#: Kinds of change between two runs (`landkit compare`), in order of precedence: a parcel with
#: several changes is drawn as the first that applies. Code → (Chinese, English).
CHANGE_TYPES = {
    "new": ("新增地块", "New parcel"),
    "removed": ("已注销地块", "Parcel removed"),
    "left": ("移出低效清单", "Left the inventory"),
    "entered": ("新列入低效清单", "Entered the inventory"),
    "path_changed": ("盘活路径调整", "Path changed"),
    "down": ("等级下降", "Grade down"),
    "up": ("等级上升", "Grade up"),
    "ungraded": ("转为不参评", "No longer graded"),
    "graded": ("新参评", "Newly graded"),
}
CHANGE_COLOURS = {
    "new": "#4daf4a", "removed": "#525252", "left": "#1a9850", "entered": "#d73027", "path_changed": "#984ea3",
    "down": "#fc8d59", "up": "#91bfdb", "ungraded": "#bdbdbd", "graded": "#80cdc1",
}

#: Which direction improves a metric (``better`` of the before/after table): code → (Chinese, English).
BETTER_LABELS: dict[str, tuple[str, str]] = {"lower": ("降低", "lower"), "higher": ("提高", "higher")}

#: Coded values of output columns as shown to people: column → code → (Chinese, English). Tables
#: in Chinese (workbooks, CSV) show the Chinese; English ones keep the codes. Track names come
#: from the project (:func:`value_labels`).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "status": STATUS_LABELS,
    "status_a": STATUS_LABELS,
    "status_b": STATUS_LABELS,
    "grade_basis": {"rank": ("按排名", "by rank"), "score": ("按分数", "by score"), "direct": ("直接定级", "direct class")},
    "compensation_basis": {"none": ("无偿", "none"), "residual": ("土地及建筑物残值", "residual value of land and buildings"),
                           "reduction": ("减量化标准", "reduction standard")},
    "leader_basis": {"register": ("企业名录标注", "flagged in the register"), "revenue": ("营业收入最大", "largest by revenue")},
    "level": {"park": ("园区", "park"), "block": ("区块", "block"), "ring": ("圈层", "ring")},
    "facility_kind": {"talent_housing": ("人才公寓", "talent housing"), "school": ("学校", "school"), "clinic": ("医疗卫生", "clinic"),
                      "canteen": ("食堂", "canteen"), "transit": ("公共交通站点", "transit stop"), "incubator": ("孵化器", "incubator")},
    "ownership": {"state": ("国有", "state-owned"), "unknown": ("未注明", "not stated"), "collective": ("集体", "collective"),
                  "platform": ("国有载体", "state carrier (park platform)")},
    "list_basis": {"C": ("C类", "class C"), "D": ("D类", "class D"), "IDLE": ("闲置土地", "legally idle land")},
    "kpi": {name: (kpi.label_zh, kpi.label_en) for name, kpi in KPIS.items()},
    # the KPIs' sources; the benchmarks' (landkit.assess.performance.benchmark_source; the report words a derived one in full)
    "source": {"data": ("数据计算", "from the data"), "project": ("项目文件填报", "from the project file"), "none": ("无数据", "no data"),
               "profile": ("配置(指标默认值)", "Profile (the indicator's)"), "track": ("配置(本评价分组)", "Profile (this track's)"),
               "group": ("配置(本行业组)", "Profile (this industry group's)"), "derived": ("本组数据", "From the data")},
    "better": BETTER_LABELS,
    # the urban road hierarchy of CJJ 37-2012 (services.road_classes maps a layer's classes onto it)
    "road_class": {"expressway": ("快速路", "expressway"), "arterial": ("主干路", "arterial"), "secondary": ("次干路", "secondary"),
                   "local": ("支路", "local"), "other": ("其他道路", "other"), "total": ("合计", "total")},
}
VALUE_LABELS["worst_kind"] = VALUE_LABELS["facility_kind"]

#: Booleans as shown to people (Chinese, English).
BOOLEAN_LABELS = {True: ("是", "yes"), False: ("否", "no")}


def _default_track_labels() -> dict[str, tuple[str, str]]:
    """Return the default profile's tracks: name → (Chinese, English), read once."""
    global _DEFAULT_TRACKS
    if _DEFAULT_TRACKS is None:
        import yaml

        from landkit.config.load import default_profile_text

        tracks = (yaml.safe_load(default_profile_text()).get("assessment") or {}).get("tracks") or []
        _DEFAULT_TRACKS = {t["name"]: (t["label_zh"], t["label_en"]) for t in tracks if isinstance(t, dict) and "name" in t}
    return _DEFAULT_TRACKS


_DEFAULT_TRACKS: dict[str, tuple[str, str]] | None = None


def value_labels(project: Project | None = None, lang: str = "zh") -> dict[str, dict[str, str]]:
    """Return column → code → shown value for tables in ``lang`` (empty in English: codes kept).

    ``track`` takes the project's track labels (``label_zh``); without a project, the default
    profile's.
    """
    if lang != "zh":
        return {}
    out = {column: {code: names[0] for code, names in codes.items()} for column, codes in VALUE_LABELS.items()}
    tracks = ({t.name: (t.label_zh, t.label_en) for t in project.assessment.tracks} if project is not None
              else _default_track_labels())
    out["track"] = {name: names[0] for name, names in tracks.items()}
    if project is not None:  # rings by their names; a summary's `group` is the park, a ring or a block id
        out["ring"] = {code: names.get("zh", code) for code, names in project.rings.labels.items()}
        out["group"] = {"park": VALUE_LABELS["level"]["park"][0], **out["ring"]}
    return out


def value_label_table(project: Project | None = None, coded: dict[str, dict[str, str]] | None = None) -> pd.DataFrame:
    """Return the run's table of coded values: column, code, Chinese, English (``value_labels``).

    The GeoPackage and the database schema keep codes in their columns (``operating``, ``D``);
    this table is what a SQL view, an ArcGIS join or a person reads them by. ``coded`` adds
    columns whose labels the run makes (column → code → Chinese; English is the code).
    """
    zh = value_labels(project, "zh")
    rows = [(column, code, shown, VALUE_LABELS.get(column, {}).get(code, (shown, code))[1])
            for column, codes in zh.items() for code, shown in codes.items()]
    if project is not None:
        english = {"track": {t.name: t.label_en for t in project.assessment.tracks},
                   "ring": {code: names.get("en", code) for code, names in project.rings.labels.items()}}
        english["group"] = english["ring"]
        rows = [(c, k, z, english[c].get(k, e) if c in english else e) for c, k, z, e in rows]
    rows += [(column, code, shown, code) for column, codes in (coded or {}).items() for code, shown in codes.items()]
    return pd.DataFrame(rows, columns=["column_name", "code", "label_zh", "label_en"])


#: Units the labels do not carry (scaled figures).
UNIT_WAN_M2 = "万m²"
UNIT_YI = "亿元"
UNIT_PER_HA = "万元/公顷"
UNIT_PCT = "%"

#: Labels of the report's tables that :data:`COLUMNS` does not have (ring profiles and the
#: small-and-scattered before/after table). Labels in :data:`COLUMNS` win.
LOCAL_LABELS: dict[str, Label] = {
    "share_rd": Label("研发用地占比", "R&D land", UNIT_PCT),
    "share_manufacturing": Label("工业用地占比", "Manufacturing land", UNIT_PCT),
    "share_warehouse": Label("仓储用地占比", "Warehouse land", UNIT_PCT),
    "share_other": Label("其他用地占比", "Other land", UNIT_PCT),
    **{f"share_{g}": Label(f"{g}类用地占比", f"Grade {g} land", UNIT_PCT) for g in ("A", "B", "C", "D")},
    "main_industry": Label("主导行业", "Main industry"),
    "main_industry_share": Label("主导行业用地占比", "Main industry's share of land", UNIT_PCT),
    "mean_score": Label("平均综合得分", "Mean score", "分"),
    "misfit_share": Label("功能不符用地占比", "Land not fitting the ring", UNIT_PCT),
    "before": Label("整治前", "Before"),
    "after": Label("整治后", "After"),
}

#: Units of columns whose label has none (the block indicators' labels come from the
#: configuration without a unit).
COLUMN_UNITS: dict[str, str] = {"tax_per_ha_wan": UNIT_PER_HA, "output_per_ha_wan": UNIT_PER_HA}

#: English of the units that :data:`UNITS_EN` does not translate.
LOCAL_UNITS_EN: dict[str, str] = {
    UNIT_PER_HA: "10k yuan/ha", UNIT_WAN_M2: "10k m²", UNIT_YI: "100m yuan", UNIT_PCT: "%", "个": "",
    "个/百公顷": "per 100 ha",
}

#: Units of the small-and-scattered metrics (``landkit.metrics.fragmentation.METRICS`` writes them in short
#: English forms) as shown in Chinese.
METRIC_UNITS_ZH: dict[str, str] = {"ha": "公顷", "个/100ha": "个/百公顷"}



#: The reasons :mod:`landkit.assess.valuation` gives (in Chinese) for a parcel without a value, in English.
VALUE_REASONS_EN = (
    (re.compile(r"^用地性质(.+)无基准地价用途$"), "Land use {0} has no benchmark price use"),
    (re.compile(r"^不在任何地价级别区内(.+)用地价格，且未设区县默认地价$"),
     "Outside every price zone, and no district default price for {0} land"),
    (re.compile(r"^地价表无(.+)级(.+)用地价格，且未设区县默认地价$"),
     "The price table has no zone {0} price for {1} land, and there is no district default"),
)
