"""The planner's report: one self-contained, printable HTML page of an assessment.

:func:`build_report` turns an :class:`~landkit.assess.AssessmentResult` into one HTML page that
needs nothing else: CSS inline, charts drawn with matplotlib and inlined as PNG data URIs, no
script and no external address (only the map links the caller passes). It prints on A4 with a
page break before each major section. :func:`write_report` writes it atomically.

Contents: headline figures; grade distribution; the inventory by reason, by disposal path and by
block; the block ranking; park indicators and the plan's KPIs; three-ring profiles and the
small-and-scattered before/after table when the result carries them
(``result.tables["ring_profiles"]``, ``result.tables["scatter_before_after"]``); links to maps.

Column headers come from :mod:`landkit.labels` and indicator, reason and path names from the
project configuration; the few strings that have no label (section titles, a handful of units)
are in :data:`TEXT`. Every text that comes from data is escaped.

Charts need a font with Chinese glyphs (Noto Sans CJK, Source Han Sans, WenQuanYi …; on Debian
``apt-get install fonts-wqy-microhei``). Without one the charts are labelled in English and a
warning is logged; the page's text stays in the chosen language.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import landkit
from landkit.config import Project
from landkit.inventory import LISTING
from landkit.labels import DISPOSAL_COLOURS, GRADE_COLOURS, Label, header, labels_for
from landkit.output import atomic_path
from landkit.performance import GRADES, UNGRADED
from landkit.units import M2_PER_HA, M2_PER_MU

if TYPE_CHECKING:
    from landkit.assess import AssessmentResult

log = logging.getLogger(__name__)

#: Strings of the report that no label in :mod:`landkit.labels` or the configuration gives.
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
    "watch": ("关注清单(A/B类)", "Watch table (A/B)"),
    "watch_note": ("A/B类地块中容积率、建筑系数、亩均税收或区位等方面存在问题的，列入关注清单，适用激励类路径。",
                   "A/B parcels flagged for FAR, building coefficient, tax per mu or location: they take incentive paths."),
    "compensation": ("补偿估算", "Compensation"),
    "value": ("综合价值", "Land and building value"),
    "value_note": ("综合价值合计 {total} 亿元，涵盖 {n} 宗地块；{m} 宗未估价，不计入合计：", "Total {total} 亿元 over {n} parcels; {m} parcels have no value and are left out:"),
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
    "scatter": ("小而散：整治前后对比", "Small and scattered plots: before and after"),
    "maps": ("地图", "Maps"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "footer": ("由 landkit {v} 生成。", "Made by landkit {v}."),
    "no_data": ("无数据", "No data"),
}

#: Units the labels do not carry (scaled figures).
UNIT_WAN_M2 = "万m²"
UNIT_YI = "亿元"
UNIT_PER_HA = "万元/公顷"

#: Block indicators shown as percentages (the others are ratios or per-hectare figures).
RATE_INDICATORS = frozenset(
    {"land_development_rate", "industrial_land_share", "coverage", "idle_rate", "low_grade_share"}
)
#: Block indicators per hectare (万元/公顷).
PER_HA_INDICATORS = frozenset({"tax_per_ha_wan", "output_per_ha_wan"})
#: Block-ranking columns shown beside the score, when present.
BLOCK_KEY_INDICATORS = (
    "far", "tax_per_ha_wan", "output_per_ha_wan", "land_development_rate", "idle_rate", "low_grade_share",
)
#: Rows of the "largest listed parcels" table.
LARGEST_ROWS = 15

#: Font families with Chinese glyphs, best first (matplotlib family names).
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC",
    "Noto Sans CJK JP", "Source Han Sans", "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN",
)
#: File names of such fonts, for a matplotlib font cache built before the font was installed.
_CJK_FILE = re.compile(r"wqy|noto\w*cjk|notosanssc|sourcehan|droidsansfallback|simhei|msyh|pingfang|uming|ukai", re.I)

#: Resolution of the charts (dots per inch).
DPI = 110

CSS = """
:root { --ink: #222; --muted: #666; --rule: #d0d0d0; --band: #f4f6f8; --accent: #2c7bb6; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
  "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0 auto;
  max-width: 190mm; padding: 12mm 8mm; font-size: 10.5pt; line-height: 1.5; }
h1 { font-size: 18pt; margin: 0 0 1mm; }
p.subtitle { font-size: 13pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; border-bottom: 2px solid var(--accent); padding-bottom: 1mm; margin: 8mm 0 3mm; }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; }
p.meta, p.note, footer { color: var(--muted); font-size: 9pt; }
p.synthetic { border: 1px solid #e0b000; background: #fff8dc; padding: 2mm 3mm; }
nav ol { columns: 2; font-size: 9.5pt; }
a { color: var(--accent); }
dl.headline { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2mm; margin: 0; }
dl.headline div { background: var(--band); border-radius: 2mm; padding: 2mm 3mm; }
dl.headline dt { font-size: 8.5pt; color: var(--muted); }
dl.headline dd { margin: 0; font-size: 13pt; font-weight: bold; }
dl.headline dd .unit { font-size: 9pt; font-weight: normal; margin-left: 1mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 9pt; }
th, td { border-bottom: 1px solid var(--rule); padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: bold; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.name { min-width: 6.5em; }
table.wide { font-size: 8pt; }
table.wide th { white-space: normal; }
tr.total td { font-weight: bold; border-top: 1.5px solid var(--ink); }
td.met { color: #1a7f37; font-weight: bold; }
td.unmet { color: #c62828; font-weight: bold; }
span.swatch { display: inline-block; width: 3mm; height: 3mm; margin-right: 1.5mm; border: 1px solid #888;
  vertical-align: middle; }
figure { margin: 2mm 0 4mm; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: var(--muted); }
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  section.major { break-before: page; page-break-before: always; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tr, figure, dl.headline div { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""

_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
_ALLOWED_SCHEMES = ("http:", "https:", "file:")


# --- formatting ----------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


def fmt_number(value: Any, decimals: int = 0) -> str:
    """Return ``value`` with thousands separators and ``decimals`` decimals; ``—`` when missing."""
    if _missing(value):
        return "—"
    return f"{float(value):,.{decimals}f}"


def fmt_int(value: Any) -> str:
    """Return a count with thousands separators; ``—`` when missing."""
    return "—" if _missing(value) else f"{int(round(float(value))):,}"


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """Return a share (0.25) as a percentage (``25.0 %``); ``—`` when missing."""
    return "—" if _missing(value) else f"{float(value) * 100:,.{decimals}f} %"


def _e(text: Any) -> str:
    return html.escape("" if _missing(text) else str(text), quote=True)


class _Page:
    """The language-dependent strings of one report."""

    def __init__(self, project: Project, lang: str) -> None:
        self.lang = lang
        self.project = project
        self.labels: dict[str, Label] = labels_for(project)
        self.rules = {r.code: (r.label_zh, r.label_en) for r in project.inventory.reasons}
        self.rules.update({code: (zh, en) for code, zh, en in LISTING.values()})
        self.paths = {r.code: r for r in project.disposal.rules}

    def t(self, key: str, **kw: Any) -> str:
        zh, en = TEXT[key]
        return (zh if self.lang == "zh" else en).format(**kw)

    def label(self, column: str) -> str:
        label = self.labels.get(column)
        if label is None:
            return column
        return label.zh if self.lang == "zh" else label.en

    def header(self, column: str) -> str:
        return header(column, self.labels, self.lang)

    def with_unit(self, text: str, unit: str) -> str:
        return f"{text}({unit})" if unit else text

    def grade(self, grade: str) -> str:
        return self.t("ungraded") if grade == UNGRADED else self.t("grade_n", g=grade)

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
        """A ring's name from its code (``core``) or its name in either language."""
        for code, names in self.project.rings.labels.items():
            if str(value) == code or str(value) in names.values():
                return names.get(self.lang, str(value))
        return str(value)

    def count_unit(self, column: str = "parcels") -> str:
        """The unit of a count (宗, 家) in Chinese; none in English."""
        label = self.labels.get(column)
        return label.unit if (self.lang == "zh" and label) else ""


# --- HTML pieces ---------------------------------------------------------------------------------


class Cell:
    """A table cell: text (escaped on output) or ready HTML, with an optional CSS class."""

    __slots__ = ("text", "raw", "cls")

    def __init__(self, text: Any = "", *, raw: bool = False, cls: str = "") -> None:
        self.text, self.raw, self.cls = text, raw, cls

    def render(self, tag: str = "td") -> str:
        body = str(self.text) if self.raw else _e(self.text)
        cls = f' class="{self.cls}"' if self.cls else ""
        return f"<{tag}{cls}>{body}</{tag}>"


def num(text: str) -> Cell:
    return Cell(text, cls="num")


def _table(headers: Sequence[str | Cell], rows: Iterable[Sequence[Any]], *, total: Sequence[Any] | None = None,
           caption: str = "", cls: str = "") -> str:
    def cell(value: Any) -> Cell:
        return value if isinstance(value, Cell) else Cell(value)

    head = "".join(cell(h).render("th") for h in headers)
    body = "".join("<tr>" + "".join(cell(v).render() for v in row) + "</tr>" for row in rows)
    if total is not None:
        body += '<tr class="total">' + "".join(cell(v).render() for v in total) + "</tr>"
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(alt)}</figcaption></figure>")


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{_e(colour)}"></span>'


def _check_href(href: str) -> str:
    """Refuse map links that would run code (``javascript:``, ``data:`` …)."""
    scheme = _SCHEME.match(re.sub(r"[\x00-\x20]", "", href))  # browsers drop tabs and newlines in URLs
    if scheme and scheme.group(0).lower() not in _ALLOWED_SCHEMES:
        raise ValueError(f"map link {href!r}: only relative paths, file:, http: and https: links are allowed")
    return href


# --- charts --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Return the family name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    # matplotlib's font cache may predate the font: look at the font files themselves.
    for path in sorted(font_manager.findSystemFonts()):
        if _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):  # unreadable font file
                continue
    return None


class _Charts:
    """Draws the report's charts as PNG bytes (Agg, no pyplot: the caller's backend is left alone)."""

    def __init__(self, page: _Page) -> None:
        import matplotlib

        self.matplotlib = matplotlib
        self.font = cjk_font()
        if self.font is None:
            log.warning(
                "no font with Chinese glyphs found for the report's charts; they are labelled in English "
                "(install one, e.g. `apt-get install fonts-wqy-microhei` or fonts-noto-cjk)"
            )
        # Chart text: the page's language when a CJK font exists, English otherwise.
        self.page = page if self.font is not None or page.lang == "en" else _Page(page.project, "en")
        families = [self.font, "DejaVu Sans"] if self.font else ["DejaVu Sans"]
        self.rc = {
            "font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False,
            "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
            "savefig.dpi": DPI, "figure.dpi": DPI,
        }

    @property
    def cjk(self) -> bool:
        return self.font is not None

    def draw(self, size: tuple[float, float], paint: Callable[[Any], None]) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        with self.matplotlib.rc_context(self.rc):
            fig = Figure(figsize=size, dpi=DPI, layout="constrained")
            FigureCanvasAgg(fig)
            paint(fig.add_subplot())
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
        return buf.getvalue()

    def grades(self, by_grade: pd.DataFrame) -> bytes:
        p = self.page
        grades = [str(g) for g in by_grade["grade"]]

        def paint(ax: Any) -> None:
            area = by_grade["area_mu"].to_numpy(dtype=float)
            bars = ax.bar([p.grade(g) for g in grades], area, color=[GRADE_COLOURS.get(g, "#999999") for g in grades],
                          edgecolor="#555555", linewidth=0.5)
            for bar, n in zip(bars, by_grade["parcels"], strict=True):
                ax.annotate(f"{int(n):,}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                            va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
            ax.set_title(p.t("grade_chart"))
            ax.yaxis.set_major_formatter(self.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
            ax.margins(y=0.12)

        return self.draw((6.0, 3.0), paint)

    def paths(self, by_path: pd.DataFrame) -> bytes:
        p = self.page
        rows = by_path.iloc[::-1]

        def paint(ax: Any) -> None:
            codes = [str(c) for c in rows["disposal"]]
            ax.barh([p.path(c) for c in codes], rows["area_mu"].to_numpy(dtype=float),
                    color=[DISPOSAL_COLOURS.get(c, "#999999") for c in codes], edgecolor="#555555", linewidth=0.5)
            ax.set_title(p.t("path_chart"))
            ax.xaxis.set_major_formatter(self.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))

        return self.draw((6.5, 0.32 * len(rows) + 1.0), paint)

    def blocks(self, blocks: pd.DataFrame, park_score: float | None, *, title: str | None = None) -> bytes:
        p = self.page
        rows = blocks.iloc[::-1]
        if self.cjk and "block_name" in rows:
            pairs = zip(rows["block_name"], rows["block_id"], strict=True)
            names = [str(b) if _missing(n) else str(n) for n, b in pairs]
        else:
            names = [str(b) for b in rows["block_id"]]

        def paint(ax: Any) -> None:
            scores = rows["block_score"].to_numpy(dtype=float)
            bars = ax.barh(names, scores, color="#2c7bb6")
            for bar, score in zip(bars, scores, strict=True):
                if not math.isnan(score):
                    ax.annotate(f"{score:.1f}", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center",
                                fontsize=7, xytext=(2, 0), textcoords="offset points")
            if park_score is not None:
                ax.axvline(park_score, color="#d7191c", linestyle="--", linewidth=1,
                           label=f"{p.t('park_line')} {park_score:.1f}")
                ax.legend(loc="lower right", fontsize=8)
            ax.set_xlim(0, 105)
            ax.set_title(title or p.t("block_chart"))
            ax.tick_params(axis="y", labelsize=8)

        return self.draw((6.5, 0.24 * len(rows) + 1.0), paint)


#: Blocks shown at each end of the block chart when there are more than twice as many.
CHART_BLOCKS = 15


# --- sections ------------------------------------------------------------------------------------


def _headline(result: AssessmentResult, page: _Page) -> str:
    s = result.summary
    inv = s["inventory"]
    grades = s.get("grades", {})
    graded = sum(v["parcels"] for g, v in grades.items() if g in GRADES)
    value = s.get("value", {}).get("total_value_wan") or {}
    total_value = value.get("total") if value.get("total") is not None else float("nan")
    paths = s.get("paths", inv)
    area_mu = s["area_mu"]
    area_ha = area_mu * M2_PER_MU / M2_PER_HA
    n = page.count_unit()
    items: list[tuple[str, str, Any, str, str]] = [  # (key, label, raw value, shown, unit)
        ("parcels", page.label("parcels"), s["parcels"], fmt_int(s["parcels"]), n),
        ("area_mu", page.label("area_mu"), area_mu, fmt_number(area_mu), "亩"),
        ("area_ha", page.label("area_ha"), area_ha, fmt_number(area_ha), page.labels["area_ha"].unit),
        ("graded", page.t("graded_parcels"), graded, fmt_int(graded), n),
        ("inventory_parcels", page.label("low_efficiency"), inv["parcels"], fmt_int(inv["parcels"]), n),
        ("inventory_area_mu", page.t("listed_area"), inv["area_mu"], fmt_number(inv["area_mu"]), "亩"),
        ("watch_parcels", page.label("watch"), s.get("watch", {}).get("parcels", 0), fmt_int(s.get("watch", {}).get("parcels", 0)), n),
        ("land_freed_mu", page.label("land_freed_mu"), paths["land_freed_mu"], fmt_number(paths["land_freed_mu"]), "亩"),
        ("floor_area_added_wan_m2", page.label("floor_area_added_m2"), paths["floor_area_added_m2"] / 1e4,
         fmt_number(paths["floor_area_added_m2"] / 1e4, 1), UNIT_WAN_M2),
        ("tax_gain_wan", page.label("tax_gain_wan"), paths["tax_gain_wan"], fmt_number(paths["tax_gain_wan"]), page.labels["tax_gain_wan"].unit),
    ]
    comp = paths.get("compensation_wan") or {}
    if comp.get("total") is not None:
        items.append(("compensation_yi", page.label("compensation_wan"), comp["total"] / 1e4, fmt_number(comp["total"] / 1e4, 1), UNIT_YI))
    valued_area = s.get("value", {}).get("valued_area_mu", area_mu)
    items += [
        ("total_value_yi", page.label("total_value_wan"), total_value / 1e4, fmt_number(total_value / 1e4, 1), UNIT_YI),
        ("value_per_mu_wan", page.label("value_per_mu_wan"), total_value / valued_area if valued_area else float("nan"),
         fmt_number(total_value / valued_area if valued_area else float("nan"), 1), page.labels["value_per_mu_wan"].unit),
    ]
    park_score = result.park.get("block_score") if result.park else None
    if park_score is not None:
        items.append(("park_score", page.t("park_score"), park_score, fmt_number(park_score, 1),
                      page.labels["block_score"].unit))
    cards = "".join(
        f'<div><dt>{_e(label)}</dt><dd data-key="{key}" data-value="{_e(repr(float(raw)))}">{_e(shown)}'
        f'<span class="unit">{_e(unit)}</span></dd></div>'
        for key, label, raw, shown, unit in items
    )
    return f'<section id="headline"><h2>{_e(page.t("headline"))}</h2><dl class="headline">{cards}</dl></section>'


def _grades(result: AssessmentResult, page: _Page, charts: _Charts) -> str:
    by_grade = result.tables["by_grade"]
    total_area = float(by_grade["area_mu"].sum())
    has_tax = "tax_wan" in by_grade
    headers: list[Any] = [page.label("grade"), num(page.header("parcels")), num(page.header("area_mu")),
                          num(page.t("area_share"))]
    if has_tax:
        headers.append(num(page.header("tax_wan")))
    rows = []
    for row in by_grade.itertuples(index=False):
        grade = str(row.grade)
        cells = [Cell(_swatch(GRADE_COLOURS.get(grade, "#999999")) + _e(page.grade(grade)), raw=True),
                 num(fmt_int(row.parcels)), num(fmt_number(row.area_mu)),
                 num(fmt_pct(row.area_mu / total_area if total_area else float("nan")))]
        if has_tax:
            cells.append(num(fmt_number(row.tax_wan)))
        rows.append(cells)
    total = [page.t("total"), num(fmt_int(by_grade["parcels"].sum())), num(fmt_number(total_area)), num(fmt_pct(1.0))]
    if has_tax:
        total.append(num(fmt_number(by_grade["tax_wan"].sum())))
    parts = [f'<section id="grades" class="major"><h2>{_e(page.t("grades"))}</h2>', _table(headers, rows, total=total),
             _figure(charts.grades(by_grade), charts.page.t("grade_chart"))]
    by_track = result.tables.get("by_track")
    if by_track is not None and len(by_track):
        names = {t.name: (t.label_zh if page.lang == "zh" else t.label_en) for t in page.project.assessment.tracks}
        grades = [g for g in (*GRADES, UNGRADED) if g in by_track]
        trows = [[names.get(str(r["track"]), page.t("track_none") if not r["track"] else str(r["track"])),
                  *(num(fmt_int(r[g])) for g in grades), num(fmt_int(sum(r[g] for g in grades)))] for _, r in by_track.iterrows()]
        parts.append(f"<h3>{_e(page.t('by_track'))}</h3>")
        parts.append(_table([page.label("track"), *(num(page.grade(g)) for g in grades), num(page.t("total"))], trows))
    by_listing = result.tables.get("by_listing")
    if by_listing is not None and len(by_listing):
        lrows = [[Cell(_swatch(GRADE_COLOURS.get(str(r.grade), "#999999")) + _e(page.grade(str(r.grade))), raw=True),
                  num(fmt_int(r.inventory)), num(fmt_int(r.watch)), num(fmt_int(getattr(r, "none")))] for r in by_listing.itertuples(index=False)]
        ltotal = [page.t("total"), *(num(fmt_int(by_listing[c].sum())) for c in ("inventory", "watch", "none"))]
        parts.append(f"<h3>{_e(page.t('by_listing'))}</h3>")
        parts.append(_table([page.label("grade"), num(page.t("listed_n")), num(page.t("watch_n")), num(page.t("not_listed"))], lrows, total=ltotal))
    parts.append("</section>")
    return "".join(parts)


def _ordered_paths(by_path: pd.DataFrame, page: _Page) -> pd.DataFrame:
    order = {code: i for i, code in enumerate(page.paths)}
    key = by_path["disposal"].map(lambda c: order.get(c, len(order)))
    return by_path.assign(_order=key).sort_values(["_order", "disposal"], kind="stable").drop(columns="_order")


def _block_key_name(key: Any, names: dict[str, str], page: _Page) -> tuple[str, str]:
    """Return (block id shown, block name shown) for a key of ``by_block_path``."""
    if key == TEXT["outside_blocks"][0]:
        return "", page.t("outside_blocks")
    if key == TEXT["all"][0]:
        return "", page.t("all")
    return str(key), names.get(str(key), "")


def _inventory(result: AssessmentResult, page: _Page, charts: _Charts) -> str:
    inv = result.summary["inventory"]
    listed_n = inv["parcels"]
    parts = [f'<section id="inventory" class="major"><h2>{_e(page.t("inventory"))}</h2>']

    # by reason
    rows = []
    for code, count in inv.get("by_basis", {}).items():
        rows.append([page.reason(code), code, num(fmt_int(count)), "", num(fmt_pct(count / listed_n if listed_n else float("nan")))])
    for code, v in inv.get("by_reason", {}).items():
        if code in LISTING:  # shown above, as the basis
            continue
        rows.append([page.reason(code), code, num(fmt_int(v.get("listed", v["parcels"]))), num(fmt_int(v.get("watch", 0))),
                     num(fmt_pct(v.get("listed", v["parcels"]) / listed_n if listed_n else float("nan")))])
    parts.append(f"<h3>{_e(page.t('by_reason'))}</h3>")
    parts.append(_table([page.t("reason"), page.t("code"), num(page.t("listed_n")), num(page.t("watch_n")),
                         num(page.t("share_of_list"))], rows))
    parts.append(f'<p class="note">{_e(page.t("reason_note"))}</p>')

    # by path
    by_path = _ordered_paths(result.tables["by_path"], page)
    headers = [page.t("path"), num(page.header("parcels")), num(page.header("area_mu")),
               num(page.header("land_freed_mu")),
               num(page.with_unit(page.label("floor_area_added_m2"), UNIT_WAN_M2)), num(page.header("tax_gain_wan")),
               num(page.header("compensation_wan"))]

    def gains(frame: pd.DataFrame | Any, total: bool = False) -> list[Cell]:
        get = (lambda c: frame[c].sum(min_count=1)) if total else (lambda c: getattr(frame, c))
        return [num(fmt_int(get("parcels"))), num(fmt_number(get("area_mu"))), num(fmt_number(get("land_freed_mu"))),
                num(fmt_number(get("floor_area_added_m2") / 1e4, 1)), num(fmt_number(get("tax_gain_wan"))),
                num(fmt_number(get("compensation_wan")))]

    rows = [[Cell(_swatch(DISPOSAL_COLOURS.get(str(r.disposal), "#999999")) + _e(page.path(str(r.disposal))), raw=True),
             *gains(r)] for r in by_path.itertuples(index=False)]
    parts.append(f"<h3>{_e(page.t('by_path'))}</h3>")
    parts.append(_table(headers, rows, total=[page.t("total"), *gains(by_path, total=True)]))
    unknown = int(by_path["compensation_unknown"].sum()) if "compensation_unknown" in by_path else 0
    if unknown:
        parts.append(f'<p class="note">{_e(page.t("comp_missing", m=fmt_int(unknown)))}</p>')
    if len(by_path):
        parts.append(_figure(charts.paths(by_path), charts.page.t("path_chart")))

    # by block × path
    by_block = result.tables["by_block_path"]
    if len(by_block):
        names: dict[str, str] = {}
        block_order: list[str] = []
        if result.blocks is not None and "block_id" in result.blocks:
            blocks = result.blocks.sort_values("block_id", kind="stable")
            block_order = [str(b) for b in blocks["block_id"]]
            if "block_name" in blocks:
                pairs = zip(blocks["block_id"], blocks["block_name"], strict=True)
                names = {str(b): ("" if _missing(n) else str(n)) for b, n in pairs}
        counts = by_block.pivot_table(index="block_id", columns="disposal", values="parcels", aggfunc="sum",
                                      fill_value=0)
        sums = by_block.groupby("block_id")[["parcels", "area_mu", "land_freed_mu", "tax_gain_wan"]].sum()
        keys = [str(k) for k in counts.index]
        ordered = [k for k in block_order if k in keys] + sorted(k for k in keys if k not in block_order)
        path_codes = [c for c in page.paths if c in counts.columns]
        path_codes += sorted(c for c in counts.columns if c not in page.paths)
        headers = [page.label("block_id"), page.label("block_name"), *(num(page.path(c)) for c in path_codes),
                   num(page.header("parcels")), num(page.header("area_mu")), num(page.header("land_freed_mu")),
                   num(page.header("tax_gain_wan"))]
        rows = []
        for key in ordered:
            shown_id, shown_name = _block_key_name(key, names, page)
            line = counts.loc[key]
            rows.append([Cell(shown_id, cls="nowrap"), Cell(shown_name, cls="name"),
                         *(num(fmt_int(line[c]) if line[c] else "") for c in path_codes),
                         num(fmt_int(sums.at[key, "parcels"])), num(fmt_number(sums.at[key, "area_mu"])),
                         num(fmt_number(sums.at[key, "land_freed_mu"])), num(fmt_number(sums.at[key, "tax_gain_wan"]))])
        total = [page.t("total"), "", *(num(fmt_int(counts[c].sum())) for c in path_codes),
                 num(fmt_int(sums["parcels"].sum())), num(fmt_number(sums["area_mu"].sum())),
                 num(fmt_number(sums["land_freed_mu"].sum())), num(fmt_number(sums["tax_gain_wan"].sum()))]
        parts.append(f"<h3>{_e(page.t('by_block'))}</h3>")
        parts.append(_table(headers, rows, total=total, cls="wide"))

    # the largest listed parcels
    listed = result.inventory
    if len(listed):
        top = listed.sort_values(["area_mu", "parcel_id"], ascending=[False, True], kind="stable").head(LARGEST_ROWS)
        reasons = "reasons_zh" if page.lang == "zh" else "reasons_en"
        paths = "disposal_zh" if page.lang == "zh" else "disposal_en"
        weakest = "weakest_zh" if page.lang == "zh" else "weakest_en"
        columns = [c for c in ("parcel_id", "block_name", "enterprise_names", "land_use", "area_mu", "grade", weakest, reasons,
                               paths, "tax_gain_wan", "compensation_wan") if c in top]
        numeric = {"area_mu": fmt_number, "tax_gain_wan": fmt_number, "compensation_wan": fmt_number}
        headers = [num(page.header(c)) if c in numeric else page.label(c) for c in columns]
        nowrap = {"parcel_id", "block_name", "land_use", "grade", paths}

        def cell(column: str, value: Any) -> Cell:
            if column in numeric:
                return num(numeric[column](value))
            return Cell("" if _missing(value) else value, cls="nowrap" if column in nowrap else "")

        rows = [[cell(c, row[c]) for c in columns] for _, row in top.iterrows()]
        parts.append(f"<h3>{_e(page.t('largest', n=len(top)))}</h3>")
        parts.append(_table(headers, rows, cls="wide"))
    parts.append("</section>")
    return "".join(parts)


def _watch(result: AssessmentResult, page: _Page) -> str:
    """The watch table: how many A/B parcels each reason flags."""
    watch = result.summary.get("watch", {})
    if not watch.get("parcels"):
        return ""
    rows = [[page.reason(code), code, num(fmt_int(v.get("watch", 0)))]
            for code, v in result.summary["inventory"].get("by_reason", {}).items() if v.get("watch")]
    total = [page.t("total"), "", num(fmt_int(watch["parcels"]))]
    return (f'<section id="watch"><h2>{_e(page.t("watch"))}</h2><p class="note">{_e(page.t("watch_note"))}</p>'
            + _table([page.t("reason"), page.t("code"), num(page.header("parcels"))], rows, total=total) + "</section>")


def _value(result: AssessmentResult, page: _Page) -> str:
    """The value assessment's total, and the parcels it leaves out with the reasons."""
    value = result.summary.get("value", {})
    total = value.get("total_value_wan") or {}
    if not total:
        return ""
    shown = fmt_number((total.get("total") or 0) / 1e4, 1)
    if not total.get("missing"):
        note = page.t("value_all", n=fmt_int(total.get("parcels", 0)))
        return f'<section id="value"><h2>{_e(page.t("value"))}</h2><p>{_e(shown)} {_e(UNIT_YI)}. {_e(note)}</p></section>'
    rows = [[reason, num(fmt_int(count))] for reason, count in value.get("without_value", {}).items()]
    note = page.t("value_note", total=shown, n=fmt_int(total["parcels"]), m=fmt_int(total["missing"]))
    return (f'<section id="value"><h2>{_e(page.t("value"))}</h2><p>{_e(note)}</p>'
            + _table([page.label("value_missing_reason"), num(page.header("parcels"))], rows) + "</section>")


def _indicator_value(name: str, value: Any) -> str:
    if name in RATE_INDICATORS:
        return fmt_pct(value)
    if name in PER_HA_INDICATORS:
        return fmt_number(value)
    return fmt_number(value, 2)


def _indicator_unit(name: str) -> str:
    return UNIT_PER_HA if name in PER_HA_INDICATORS else ""


def _blocks(result: AssessmentResult, page: _Page, charts: _Charts) -> str:
    blocks = result.blocks
    if blocks is None or not len(blocks):
        return ""
    spec = page.project.block_assessment.indicators
    frame = pd.DataFrame(blocks.drop(columns=blocks.geometry.name) if hasattr(blocks, "geometry") else blocks)
    frame = frame.sort_values(["block_rank", "block_id"], kind="stable", na_position="last")
    shown = [c for c in BLOCK_KEY_INDICATORS if c in frame]

    def ind_header(name: str) -> Cell:
        ind = spec.get(name)
        text = (ind.label_zh if page.lang == "zh" else ind.label_en) if ind else page.label(name)
        return num(page.with_unit(text, _indicator_unit(name)))

    headers: list[Any] = [num(page.label("block_rank")), page.label("block_id"), page.label("block_name")]
    extra = [c for c in ("ring",) if c in frame]
    headers += [page.label(c) for c in extra]
    headers += [num(page.header("block_score")), *(ind_header(c) for c in shown)]
    rows = []
    for _, row in frame.iterrows():
        rows.append([num(fmt_int(row["block_rank"])), Cell(row["block_id"], cls="nowrap"),
                     Cell(row.get("block_name", ""), cls="nowrap"),
                     *(Cell(page.ring(row[c]) if not _missing(row[c]) else "", cls="nowrap") for c in extra),
                     num(fmt_number(row["block_score"], 1)), *(num(_indicator_value(c, row[c])) for c in shown)])
    park_score = result.park.get("block_score") if result.park else None
    # A bar per block reads up to a few dozen blocks; a whole city's shows the best and the worst.
    chart, title = frame, charts.page.t("block_chart")
    scored = frame[frame["block_score"].notna()]
    if len(scored) > 2 * CHART_BLOCKS:
        chart = pd.concat([scored.head(CHART_BLOCKS), scored.tail(CHART_BLOCKS)])
        title = charts.page.t("block_chart_some", n=CHART_BLOCKS, total=f"{len(frame):,}")
    return (
        f'<section id="blocks" class="major"><h2>{_e(page.t("blocks"))}</h2>'
        + _table(headers, rows, cls="wide")
        + _figure(charts.blocks(chart, park_score, title=title), title)
        + "</section>"
    )


def _kpi_name(kpi: str, page: _Page) -> tuple[str, str, bool]:
    """Return a KPI's name, unit and whether it is a share, from the configuration's labels."""
    indicators = page.project.assessment.indicators
    source = {"rd_share": "rd_intensity", "labour_productivity_wan": "labour_productivity"}.get(kpi)
    if source in indicators:
        ind = indicators[source]
        return (ind.label_zh if page.lang == "zh" else ind.label_en), ind.unit, kpi.endswith("_share")
    label = page.labels.get(kpi)
    if label is not None:
        return (label.zh if page.lang == "zh" else label.en), label.unit, False
    return kpi, "", kpi.endswith("_share")


def _park(result: AssessmentResult, page: _Page) -> str:
    park, kpis = result.park or {}, result.kpis
    if not park and (kpis is None or not len(kpis)):
        return ""
    parts = [f'<section id="park" class="major"><h2>{_e(page.t("park"))}</h2>']
    if park:
        spec = page.project.block_assessment.indicators
        facts = [(page.header("block_area_ha"), fmt_number(park.get("block_area_ha"))),
                 (page.header("parcel_area_ha"), fmt_number(park.get("parcel_area_ha"))),
                 (page.header("parcels"), fmt_int(park.get("parcels"))),
                 (page.with_unit(page.t("park_score"), page.labels["block_score"].unit),
                  fmt_number(park.get("block_score"), 1))]
        parts.append(f"<h3>{_e(page.t('park_indicators'))}</h3>")
        parts.append(_table([page.t("indicator"), num(page.label("actual"))], [[k, num(v)] for k, v in facts]))
        rows = []
        for name, ind in spec.items():
            label = ind.label_zh if page.lang == "zh" else ind.label_en
            rows.append([page.with_unit(label, _indicator_unit(name)), num(_indicator_value(name, park.get(name))),
                         num(_indicator_value(name, ind.ideal)), num(fmt_number(park.get(f"{name}_score"), 1)),
                         num(fmt_number(ind.weight))])
        parts.append(_table([page.t("indicator"), num(page.label("actual")), num(page.t("ideal")),
                             num(page.with_unit(page.t("indicator_score"), page.labels["block_score"].unit)),
                             num(page.t("weight"))], rows))
    if kpis is not None and len(kpis):
        rows = []
        for row in kpis.itertuples(index=False):
            name, unit, share = _kpi_name(str(row.kpi), page)
            show = fmt_pct if share else (lambda v: fmt_number(v, 1) if not float(v).is_integer() else fmt_number(v))
            met = row.met
            status = "—" if _missing(met) else page.t("met_yes" if met else "met_no")
            cls = "" if _missing(met) else ("met" if met else "unmet")
            rows.append([page.with_unit(name, "" if share else unit), num(show(row.target)),
                         num(show(row.actual) if not _missing(row.actual) else "—"), num(fmt_pct(row.ratio)),
                         Cell(status, cls=cls)])
        parts.append(f"<h3>{_e(page.t('kpis'))}</h3>")
        parts.append(_table([page.label("kpi"), num(page.label("target")), num(page.label("actual")),
                             num(page.label("ratio")), page.label("met")], rows))
    parts.append("</section>")
    return "".join(parts)


def _frame_cells(frame: pd.DataFrame, page: _Page) -> tuple[list[Any], list[list[Any]]]:
    """Headers and rows of any table: labelled headers, numbers right-aligned, text escaped."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    if "geometry" in frame:
        frame = frame.drop(columns="geometry")
    kinds = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            kinds[column] = "bool"
        elif pd.api.types.is_integer_dtype(series):
            kinds[column] = "int"
        elif pd.api.types.is_float_dtype(series):
            kinds[column] = "float"
        else:
            kinds[column] = "text"
    headers = [num(page.header(str(c))) if kinds[c] in ("int", "float") else page.header(str(c)) for c in frame.columns]

    def show(column: str, value: Any) -> Any:
        kind = kinds[column]
        if _missing(value):
            return num("—") if kind in ("int", "float") else ""
        if kind == "bool":
            return page.t("yes" if value else "no")
        if kind == "int":
            return num(fmt_int(value))
        if kind == "float":
            v = float(value)
            return num(fmt_number(v, 0 if abs(v) >= 1000 else 2))
        if column == "ring":
            return page.ring(value)
        if column == "disposal":
            return page.path(str(value))
        if column == "grade":
            return page.grade(str(value))
        return value

    rows = [[show(c, v) for c, v in zip(frame.columns, values, strict=True)]
            for values in frame.itertuples(index=False)]
    return headers, rows


def _optional_table(result: AssessmentResult, page: _Page, key: str, title: str, section_id: str) -> str:
    frame = result.tables.get(key)
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return ""
    headers, rows = _frame_cells(frame, page)
    return f'<section id="{section_id}" class="major"><h2>{_e(title)}</h2>' + _table(headers, rows) + "</section>"


def _maps(maps: Sequence[tuple[str, str]], page: _Page) -> str:
    if not maps:
        return ""
    items = "".join(f'<li><a href="{_e(_check_href(href))}">{_e(title)}</a></li>' for title, href in maps)
    return f'<section id="maps"><h2>{_e(page.t("maps"))}</h2><ul>{items}</ul></section>'


# --- the page ------------------------------------------------------------------------------------


def build_report(
    result: AssessmentResult,
    project: Project,
    *,
    maps: Sequence[tuple[str, str]] = (),
    lang: str = "zh",
) -> str:
    """Return the assessment as one self-contained, printable HTML page.

    Parameters
    ----------
    result : AssessmentResult
        An assessment (:func:`landkit.assess.assess`).
    project : Project
        Its configuration (labels of indicators, reasons and paths).
    maps : sequence of (title, href)
        Links to maps, usually relative to where the report is written.
    lang : {"zh", "en"}
        Language of the page.

    Raises
    ------
    ValueError
        For another ``lang``, or a map link with a scheme other than file, http or https.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang = {lang!r}: use 'zh' or 'en'")
    page = _Page(project, lang)
    charts = _Charts(page)
    year = result.summary.get("year", project.year)
    title = f"{project.name} — {page.t('title')}"
    synthetic = "合成" in project.name or "synthetic" in project.name.lower()

    sections: list[tuple[str, str, str]] = [
        ("headline", page.t("headline"), _headline(result, page)),
        ("grades", page.t("grades"), _grades(result, page, charts)),
        ("inventory", page.t("inventory"), _inventory(result, page, charts)),
        ("watch", page.t("watch"), _watch(result, page)),
        ("value", page.t("value"), _value(result, page)),
        ("blocks", page.t("blocks"), _blocks(result, page, charts)),
        ("park", page.t("park"), _park(result, page)),
        ("rings", page.t("rings"), _optional_table(result, page, "ring_profiles", page.t("rings"), "rings")),
        ("scatter", page.t("scatter"),
         _optional_table(result, page, "scatter_before_after", page.t("scatter"), "scatter")),
        ("maps", page.t("maps"), _maps(maps, page)),
    ]
    present = [(sid, name, body) for sid, name, body in sections if body]
    toc = "".join(f'<li><a href="#{sid}">{_e(name)}</a></li>' for sid, name, _ in present)
    head = (
        f"<h1>{_e(project.name)}</h1>"
        f'<p class="subtitle">{_e(page.t("title"))}</p>'
        f'<p class="meta">{_e(page.t("year"))}: {_e(year)}</p>'
        + (f'<p class="synthetic">{_e(page.t("synthetic"))}</p>' if synthetic else "")
        + f'<nav><h3>{_e(page.t("contents"))}</h3><ol>{toc}</ol></nav>'
    )
    body = "".join(b for _, _, b in present)
    footer = f"<footer>{_e(page.t('footer', v=landkit.__version__))}</footer>"
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header>{head}</header>\n<main>{body}</main>\n{footer}\n</body>\n</html>\n"
    )


def write_report(path: Path | str, html_text: str) -> Path:
    """Write the report (UTF-8) to ``path`` atomically and return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return path
