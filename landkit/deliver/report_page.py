"""The report's words in the reader's language: its own strings (:data:`TEXT`) and :class:`Page`, which
labels columns, units and coded values in Chinese or English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from landkit.assess.performance import GRADES, UNGRADED
from landkit.config.models import Project
from landkit.deliver.labels import (
    BETTER_LABELS,
    BOOLEAN_LABELS,
    COLUMN_UNITS,
    LOCAL_UNITS_EN,
    UNITS_EN,
    VALUE_LABELS,
    Label,
    header,
    table_labels,
    value_labels,
)
from landkit.deliver.report_tables import Piece, table_piece
from landkit.listing.inventory import LISTING

if TYPE_CHECKING:

    pass


#: Strings of the report that no label in :mod:`landkit.deliver.labels` or the configuration gives.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("产业用地“两评估、一清单、一盘活”报告",
              "Industrial land: two assessments, one list, one revitalisation"),
    "year": ("评估年份", "Assessment year"),
    "synthetic": ("本报告基于合成示例数据，不描述任何真实地块或企业。",
                  "Synthetic data: this report describes no real parcel or firm."),
    "contents": ("目录", "Contents"),
    "headline": ("主要指标", "Headline figures"),
    "graded_parcels": ("参评地块", "Parcels graded"),
    "listed_area": ("低效用地面积", "Low-efficiency land area"),
    "park_score": ("园区综合得分", "Park score"),
    "grades": ("综合绩效评价等级", "Performance grades"),
    "grade_n": ("{g}类", "Grade {g}"),
    "ungraded": ("不参评", "Not graded"),
    "area_share": ("面积占比", "Share of area"),
    "grade_chart": ("各等级用地面积(亩)", "Area by grade (mu)"),
    "inventory": ("低效用地清单与盘活路径", "Low-efficiency inventory and revitalisation paths"),
    "by_reason": ("按低效原因", "By reason"),
    "reason": ("低效原因", "Reason"),
    "code": ("代码", "Code"),
    "reason_note": ("列入依据为C类、D类或依法认定的闲置土地；其余原因用于说明，一宗地块可有多项，各项之和可大于清单总数。A/B类地块有上述原因的列入关注清单，不列入低效用地清单。",
                    "A parcel is listed as class C, class D or legally idle land; the other reasons explain the listing, and a parcel may have several, "
                    "so the rows can add up to more than the list. A/B parcels with these reasons go on the watch table, never on the list."),
    "basis": ("列入依据", "Listed as"),
    "listed_n": ("列入清单", "Listed"),
    "watch_n": ("列入关注", "On the watch table"),
    "by_listing": ("等级与清单", "Classes and lists"),
    "not_listed": ("未列入", "Neither"),
    "by_track": ("各评价分组等级", "Classes by track"),
    "track_none": ("(不参评)", "(not graded)"),
    "method": ("评价指标与基准", "Indicators and benchmarks"),
    "method_note": ("各评价分组单独排名。单项得分 = 权重 × min(指标值 ÷ 基准值, 上限)，总分 = 100 × Σ单项得分 ÷ Σ(权重 × 上限)；"
                    "基准值来源见末列，“本组数据”为按本期参评地块计算的值。",
                    "Each track is ranked on its own. Points = weight × min(value ÷ benchmark, cap); score = 100 × Σ points ÷ "
                    "Σ (weight × cap). The last column says where each benchmark comes from; \"from the data\" is computed "
                    "from this run's graded parcels."),
    "benchmark": ("基准值", "Benchmark"),
    "cap": ("上限", "Cap"),
    "unit_col": ("单位", "Unit"),
    "industry_group": ("行业组", "Industry group"),
    "benchmark_source": ("基准来源", "Benchmark from"),
    "source_derived": ("本组数据：{statistic} × {factor}", "From the data: {statistic} × {factor}"),
    "statistic_mean": ("平均值", "mean"),
    "statistic_median": ("中位数", "median"),
    "watch": ("关注清单(A/B类)", "Watch table (A/B)"),
    "watch_note": ("A/B类地块中容积率、建筑系数、亩均税收或区位等方面存在问题的，列入关注清单，适用激励类路径。",
                   "A/B parcels flagged for FAR, building coefficient, tax per mu or location: they take incentive paths."),
    "compensation": ("补偿估算", "Compensation"),
    "value": ("综合价值", "Land and building value"),
    "value_note": ("综合价值合计 {total} 亿元，涵盖 {n} 宗地块；{m} 宗未估价，不计入合计：",
                   "Total {total} 100m yuan over {n} parcels; {m} parcels have no value and are left out:"),
    "value_all": ("全部 {n} 宗地块均已估价。", "All {n} parcels are valued."),
    "comp_missing": ("另有 {m} 宗无法估算补偿(未估价)。", "{m} more parcels' compensation cannot be estimated (no value)."),
    "weakest": ("主要失分指标", "Costliest indicators"),
    "share_of_list": ("占清单比例", "Share of the list"),
    "by_path": ("按盘活路径", "By revitalisation path"),
    "path": ("盘活路径", "Revitalisation path"),
    "path_chart": ("各盘活路径低效用地面积(亩)", "Listed area by revitalisation path (mu)"),
    "by_block": ("按区块与盘活路径(地块数)", "By block and path (parcels)"),
    "largest": ("面积最大的低效地块(前{n}宗)", "Largest listed parcels (top {n})"),
    "total": ("合计", "Total"),
    "outside_blocks": ("区块外", "Outside the blocks"),
    "all": ("全部", "All"),
    "blocks": ("区块综合评价排名", "Block ranking"),
    "block_chart": ("区块综合得分", "Block score"),
    "block_chart_some": ("区块综合得分（前{n}名与后{n}名，共{total}个区块）", "Block score (top {n} and bottom {n} of {total} blocks)"),
    "park_line": ("园区", "Park"),
    "park": ("园区指标与规划目标", "Park indicators and plan targets"),
    "park_indicators": ("园区土地集约利用指标", "Park land-intensity indicators"),
    "indicator": ("指标", "Indicator"),
    "ideal": ("理想值", "Ideal value"),
    "weight": ("权重", "Weight"),
    "indicator_score": ("指标得分", "Indicator score"),
    "kpis": ("规划指标完成情况", "The plan's KPIs"),
    "met_yes": ("达标", "met"),
    "met_no": ("未达标", "not met"),
    "rings": ("三圈协同：圈层概况", "Three rings: ring profiles"),
    "ring_overview": ("各圈层用地与效益", "Land and performance by ring"),
    "ring_mix": ("各圈层用地功能与等级构成", "Land use and grades by ring"),
    "ring_mix_note": ("各项均为占该圈层用地面积的比例(%)。",
                      "Every figure is a share of the ring's land area (%)."),
    "scatter": ("小而散：整治前后对比", "Small and scattered plots: before and after"),
    "scatter_note": ("变化 = 整治后 − 整治前；改善方向为该指标向好的方向。",
                     "Change = after − before; \"better when\" is the direction in which the metric improves."),
    "adjustment": ("园区地块动态调整", "Dynamic adjustment of the park's blocks"),
    "adjustment_note": ("按考核评估结果调整园区区块(行动方案第14条)：调出与区块核心不相连、以C/D类或闲置为主的用地，调入紧邻区块的连片优质产业用地，"
                        "合并用地跨界相连的区块。集中度指标以区块内产业用地计，斑块不跨区块；“单项变化”为该项建议单独实施时园区指标的变化。",
                        "The blocks adjusted by the assessment (plan item 14): land cut off from a block's core and mostly C/D or idle "
                        "moved out, contiguous well-performing land next to a block brought in, blocks whose land touches merged. "
                        "Concentration is measured on the land inside the blocks, patches never crossing a block; a proposal's "
                        "change is the park's change with that proposal alone."),
    "adjustment_none": ("按现行规则未提出区块调整建议。", "The rules propose no change to the blocks."),
    "adjustment_proposals": ("调整建议", "Proposals"),
    "adjustment_park": ("园区集中度与区块得分：调整前后", "Concentration and block scores, before and after"),
    "plan_screens": ("商办转研发与工业上楼", "Commercial land to R&D, and vertical factories"),
    "conversion_table": ("商办转研发候选地块(按区块)", "Candidates for R&D use (by block)"),
    "vertical_table": ("工业上楼适宜地块(按优先级与区块)", "Parcels suited to vertical factories (by priority and block)"),
    "vertical_note": ("工业上楼：大零号湾等优先区域为1级；轻生产、低噪音、环保型产业，容积率低于目标，面积、形状、临路条件及建筑荷载、层高、货梯、火灾危险性类别(有数据时)均符合。",
                      "Vertical factories: priority 1 in 大零号湾 and the other first zones; light, quiet, clean industry, FAR below "
                      "the target, size, shape, road access and, where known, floor load, storey height, freight lift and fire class."),
    "kpi_actual_in": ("{year}年现状值", "Actual {year}"),
    "kpi_no_data": ("无数据", "no data"),
    "kpi_paths": ("规划指标：历次评估与2026年目标路径", "The plan's targets: the recorded runs and the path to 2026"),
    "kpi_chart": ("各指标完成度(%)与至{year}年目标的直线路径(虚线)", "Share of each target reached (%) and the straight path to {year} (dotted)"),
    "kpi_paths_note": ("路径为自首次记录年份实际值至目标年目标值的直线，“目标路径值”为最近一年在路径上的值；“所需年均增速”为按当前值于目标年达标每年需增长的比例。无数据的指标见工作簿“规划指标”表所列所需字段。",
                       "The path runs straight from the first recorded year's value to the target in the target year; "
                       "\"growth needed\" is the yearly growth that reaches the target from the latest value."),
    "chains": ("产业链与三圈联动", "Industrial chains across the rings"),
    "chain_coverage": ("各圈层产业链环节覆盖率(%)", "Share of each chain's stages present by ring (%)"),
    "chain_leaders": ("链主企业", "Chain leaders"),
    "chain_flows": ("联动组合的研发—制造流向", "R&D-to-manufacturing flows of the named pairs"),
    "chains_note": ("企业按细分领域归入产业链环节(无细分领域的：研发用地为首环节，其余为末环节)；联动网络的边按通行时间与环节互补性加权。",
                    "Firms take a chain stage by segment (without one: the first stage on R&D land, the last elsewhere); the "
                    "linkage graph's edges are weighted by travel time and stage complementarity."),
    "services": ("公共服务设施与道路系统", "Public services and the road system"),
    "services_access": ("各类设施可达地块比例(%，经道路网)", "Parcels within reach of each kind of facility (%, by road)"),
    "services_note": ("可达时间：{minutes}。低于{share}%为短板(标红)；行动方案第12条“布局方便、舒适、共享开放的高品质公共服务设施”。",
                      "Reach: {minutes}. Blocks below {share} % fall short; plan item 12."),
    "roads_table": ("道路网密度与级配(公里/平方公里)", "Road network density and grading (km per km²)"),
    "roads_note": ("指引值：GB 50220-95 大城市道路网密度(快速路0.4–0.5、主干路0.8–1.2、次干路1.2–1.4、支路3–4)，总密度≥{total}(GB/T 51328-2018 工业区)；"
                   "级配为各级道路长度与主干路之比。",
                   "Guidelines: GB 50220-95 densities for large cities (expressways 0.4–0.5, arterials 0.8–1.2, secondary 1.2–1.4, "
                   "local 3–4), total ≥ {total} (GB/T 51328-2018, industrial areas); the grading is each class's length over the arterials'."),
    "roads_short": ("低于指引值的区块", "Blocks below the guideline"),
    "roads_grading": ("园区道路级配(快速路:主干路:次干路:支路) {grading}，推荐 {recommended}：{verdict}。",
                      "The park's grading (expressway : arterial : secondary : local) {grading}, recommended {recommended}: {verdict}."),
    "grading_ok": ("级配合理", "within the bands"),
    "grading_off": ("级配失衡(超出区间：{classes})", "out of balance (out of band: {classes})"),
    "robustness": ("等级稳健性", "Robustness of the classes"),
    "robustness_note": ("评价权重是政策选择：在设定范围内随机变动权重 {samples} 次(每项权重 ±{range} 后归一)，共 {unstable} 宗参评地块"
                        "(占参评地块 {share}%)的等级随权重而变(众数等级概率低于稳定阈值)；地图“等级不稳定地块”图层标出它们。",
                        "The weights are a policy choice: sampled {samples} times within the configured ranges (each weight ±{range}, "
                        "renormalised), {unstable} graded parcels ({share} % of the graded) change class with the weights (their modal "
                        "class below the stability threshold); the map's layer of unstable parcels shows them."),
    "assembly": ("连片整合", "Land assembly"),
    "assembly_note": ("“裁出大衣料子”：由盘活路径腾退的土地、依法认定的闲置土地、未供应土地{willing}组成连片地块，相距不超过 {gap} 米"
                      "(一条道路红线宽度)的地块视为相连；规模达到 {sizes} 亩的成片地块共 {sites} 处、{area} 亩，最大 {largest} 亩，"
                      "整合成本约 {cost} 亿元(腾退地块按盘活路径的补偿，其余按土地与房屋价值)。按规模由大到小排列，亩均成本排序见末列。",
                      "\u201cCut whole cloth\u201d: land the paths take back, legally idle land and unsupplied land{willing} make up "
                      "sites, parcels within {gap} m of each other (a road's red line) counting as contiguous; {sites} sites of at "
                      "least {sizes} mu, {area} mu in all, the largest {largest} mu, costing about {cost} hundred million yuan to "
                      "assemble (compensation of the paths that take land back, else the land and building value). Largest first; "
                      "the last column ranks them by cost per mu."),
    "assembly_willing": ("以及业主有意转让的C类地块", " and C parcels whose owners would sell"),
    "assembly_none": ("没有达到 {size} 亩的连片地块(可整合地块 {candidates} 宗)。",
                      "No contiguous site reaches {size} mu ({candidates} candidate parcels)."),
    "decisions": ("人工调整与公示异议", "Decisions, publication and objections"),
    "decisions_note": ("公示后的人工调整在计算结果之上生效，计算值与调整值并存可查：共 {n} 项、{parcels} 宗地块，其中 {changed} 宗直接改定等级。",
                       "Decisions apply on top of the computed results, both values kept: {n} decision(s) on {parcels} parcel(s), "
                       "{changed} setting the class directly."),
    "decisions_overrides": ("人工调整记录", "Decisions"),
    "decisions_objections": ("异议登记", "Objections register"),
    "decisions_objections_note": ("公示期异议：已受理 {received} 件，异议成立 {upheld} 件，驳回 {rejected} 件。",
                                  "Objections: {received} received, {upheld} upheld, {rejected} rejected."),
    "objection_received": ("已受理", "received"),
    "objection_upheld": ("异议成立", "upheld"),
    "objection_rejected": ("驳回", "rejected"),
    "ownership": ("土地权属与集体建设用地", "Ownership and collective land"),
    "ownership_note": ("集体建设用地按其专门路径盘活(统一收储、入市、镇村联营；行动方案第13条“盘活集体建设用地”)。",
                       "Collective construction land takes its own paths (taken over and banked, to market, joint operation; "
                       "plan item 13)."),
    "collective_paths": ("集体建设用地的盘活路径", "Paths of collective land"),
    "metric": ("指标", "Metric"),
    "continued": ("续表", "continued"),
    "maps": ("地图", "Maps"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "footer": ("由 landkit {v} 生成。", "Made by landkit {v}."),
    "no_data": ("无数据", "No data"),
}

#: Units of counts: shown as integers.
COUNT_UNITS = frozenset({"宗", "家", "个", "人"})


class Page:
    """The language-dependent strings of one report."""

    def __init__(self, project: Project, lang: str) -> None:
        self.lang = lang
        self.project = project
        self.labels: dict[str, Label] = table_labels(project)
        self.rules = {r.code: (r.label_zh, r.label_en) for r in project.inventory.reasons}
        self.rules.update({code: (zh, en) for code, zh, en in LISTING.values()})
        self.paths = {r.code: r for r in project.disposal.rules}
        self.tracks = {t.name: (t.label_zh, t.label_en) for t in project.assessment.tracks}
        if lang == "zh":
            self.coded = value_labels(project, "zh")
        else:  # labels.value_labels keeps codes in English tables; a report shows the English names
            self.coded = {column: {code: names[1] for code, names in codes.items()}
                          for column, codes in VALUE_LABELS.items()}

    def t(self, key: str, **kw: Any) -> str:
        zh, en = TEXT[key]
        return (zh if self.lang == "zh" else en).format(**kw)

    def label(self, column: str) -> str:
        label = self.labels.get(column)
        if label is None:
            return column
        return label.zh if self.lang == "zh" else label.en

    def unit(self, unit: str) -> str:
        """Return a unit (written in Chinese, as labels carry them) in the page's language."""
        if self.lang == "zh" or not unit:
            return unit
        return UNITS_EN.get(unit, LOCAL_UNITS_EN.get(unit, unit))

    def header(self, column: str, unit: str | None = None) -> str:
        """Return a column's header, label and unit (``税收(万元)``); ``unit`` replaces the label's.

        The labels' own :func:`landkit.deliver.labels.header` when it applies; a label without a unit
        takes one from :data:`COLUMN_UNITS`, and English units it does not know from
        :data:`LOCAL_UNITS_EN`.
        """
        label = self.labels.get(column)
        if unit is None and label is not None and label.unit and (self.lang == "zh" or label.unit in UNITS_EN):
            return header(column, self.labels, self.lang)
        if unit is None:
            unit = label.unit if label is not None and label.unit else COLUMN_UNITS.get(column, "")
        return self.with_unit(self.label(column), self.unit(unit))

    def with_unit(self, text: str, unit: str) -> str:
        return f"{text}({unit})" if unit else text

    def table(self, headers: Sequence[Any], rows: Iterable[Sequence[Any]], **kw: Any) -> Piece:
        """:func:`table_piece` with the page's word for a continued table."""
        return table_piece(headers, rows, continued=self.t("continued"), **kw)

    def grade(self, grade: str) -> str:
        return self.t("ungraded") if grade == UNGRADED else self.t("grade_n", g=grade)

    def kpi(self, code: str) -> str:
        names = VALUE_LABELS["kpi"].get(code)
        return code if names is None else names[0 if self.lang == "zh" else 1]

    def path(self, code: str) -> str:
        rule = self.paths.get(code)
        if rule is None:
            return str(code)
        return rule.label_zh if self.lang == "zh" else rule.label_en

    def reason(self, code: str) -> str:
        labels = self.rules.get(code)
        if labels is None:
            return str(code)
        return labels[0] if self.lang == "zh" else labels[1]

    def ring(self, value: Any) -> str:
        """Return a ring's name from its code (``core``) or its name in either language."""
        for code, names in self.project.rings.labels.items():
            if str(value) == code or str(value) in names.values():
                return names.get(cast("Literal['zh', 'en']", self.lang), str(value))  # another language: the value
        return str(value)

    def boolean(self, value: Any) -> str:
        """是/否 (yes/no)."""
        return BOOLEAN_LABELS[bool(value)][0 if self.lang == "zh" else 1]

    def value(self, column: str, value: Any) -> str:
        """Return a coded value of ``column`` as people read it (ring, path, grade, track, status …)."""
        text = str(value)
        if column in ("ring", "ring_name", "ring_modelled"):
            return self.ring(value)
        if column == "disposal":
            return self.path(text)
        if column in ("grade", "grade_a", "grade_b", "transition_from"):
            return self.grade(text) if text in (*GRADES, UNGRADED) else text
        if column == "track":
            names = self.tracks.get(text)
            return (names[0] if self.lang == "zh" else names[1]) if names else text
        if column == "better":
            names = BETTER_LABELS.get(text)
            return (names[0] if self.lang == "zh" else names[1]) if names else text
        return self.coded.get(column, {}).get(text, text)

    def count_unit(self, column: str = "parcels") -> str:
        """Return the unit of a count (宗, 家) in Chinese; none in English."""
        label = self.labels.get(column)
        return label.unit if (self.lang == "zh" and label) else ""
