"""The planner's report: one self-contained, printable HTML page of an assessment.

:func:`build_report` turns an :class:`~landkit.result.AssessmentResult` into one HTML page that
needs nothing else: CSS inline, charts drawn with matplotlib and inlined as PNG data URIs, no
script and no external address (only the map links the caller passes). The page comes from the
template ``landkit/deliver/templates/report.html.j2`` (its style sheet ``report.css``): the functions here
compute what each section shows (:class:`Section`, a list of :class:`Piece`), as plain text that the
template escapes; no HTML is written in Python. It prints on A4 portrait
with a page break before each major section; every table fits the printable width (186 mm), a
table too wide for it being split into two with its first columns repeated (:func:`_table`).
:func:`write_report` writes it atomically.

Contents: headline figures; grade distribution; the inventory by reason, by disposal path and by
block; the block ranking; park indicators and the plan's KPIs; three-ring profiles and the
small-and-scattered before/after table when the result carries them
(``result.tables["ring_profiles"]``, ``result.tables["scatter_before_after"]``); links to maps.

Column headers come from :mod:`landkit.deliver.labels` and indicator, reason and path names from the
project configuration; the few strings that have no label (section titles, a handful of units)
are in :data:`TEXT`, and the columns :mod:`landkit.deliver.labels` does not label yet in
:data:`LOCAL_LABELS`. Every header carries its unit; counts are whole with thousands separators,
shares are percentages under a ``(%)`` header, money in 万元 whole (亿元 with one decimal in the
headline), other figures with the decimals their size needs (:func:`auto_decimals`); booleans
read 是/否 and coded values (rings, grades, paths, statuses …) their names. No column of the data
is shown under its name, and none twice. Every text that comes from data is escaped (by the
template's autoescape).

Charts need a font with Chinese glyphs (Noto Sans CJK, Source Han Sans, WenQuanYi …; on Debian
``apt-get install fonts-wqy-microhei``). Without one the charts are labelled in English and a
warning is logged; the page's text stays in the chosen language.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeGuard, cast

import numpy as np
import pandas as pd

import landkit
from landkit.assess.performance import GRADES, UNGRADED
from landkit.config.models import Project
from landkit.core.schema import is_missing
from landkit.core.units import M2_PER_HA, M2_PER_MU
from landkit.deliver.labels import (
    BOOLEAN_LABELS,
    COMPARE_TABLE_COLUMNS,
    DISPOSAL_COLOURS,
    GRADE_COLOURS,
    UNITS_EN,
    VALUE_LABELS,
    Label,
    header,
    labels_for,
    value_labels,
)
from landkit.deliver.templates import render
from landkit.io.write import atomic_path
from landkit.listing.inventory import LISTING

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from landkit.result import AssessmentResult

log = logging.getLogger(__name__)

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
    "metric": ("指标", "Metric"),
    "continued": ("续表", "continued"),
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
UNIT_PCT = "%"

#: Labels of output columns that :mod:`landkit.deliver.labels` does not have yet (ring profiles and the
#: small-and-scattered before/after table). Labels there win: a column moved there needs no edit here.
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

#: English of the units that :data:`landkit.deliver.labels.UNITS_EN` does not translate.
LOCAL_UNITS_EN: dict[str, str] = {
    UNIT_PER_HA: "10k yuan/ha", UNIT_WAN_M2: "10k m²", UNIT_YI: "100m yuan", UNIT_PCT: "%", "个": "",
    "个/百公顷": "per 100 ha",
}

#: Units of the small-and-scattered metrics (``landkit.metrics.fragmentation.METRICS`` writes them in short
#: English forms) as shown in Chinese.
METRIC_UNITS_ZH: dict[str, str] = {"ha": "公顷", "个/100ha": "个/百公顷"}

#: Which direction improves a metric (``better`` of the before/after table): code → (Chinese, English).
BETTER_LABELS: dict[str, tuple[str, str]] = {"lower": ("降低", "lower"), "higher": ("提高", "higher")}

#: Units of counts: shown as integers.
COUNT_UNITS = frozenset({"宗", "家", "个", "人"})

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

#: The report's style sheet (``landkit/deliver/templates/report.css``, which the template includes).
CSS = resources.files("landkit.deliver.templates").joinpath("report.css").read_text(encoding="utf-8")

_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
_ALLOWED_SCHEMES = ("http:", "https:", "file:")


# --- formatting ----------------------------------------------------------------------------------


def fmt_number(value: Any, decimals: int = 0) -> str:
    """Return ``value`` with thousands separators and ``decimals`` decimals; ``—`` when missing."""
    if is_missing(value):
        return "—"
    return f"{float(value):,.{decimals}f}"


def fmt_int(value: Any) -> str:
    """Return a count with thousands separators; ``—`` when missing."""
    return "—" if is_missing(value) else f"{round(float(value)):,}"


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """Return a share (0.25) as a percentage (``25.0 %``); ``—`` when missing."""
    return "—" if is_missing(value) else f"{float(value) * 100:,.{decimals}f} %"


def fmt_share(value: Any, decimals: int = 1) -> str:
    """Return a share (0.25) in percent without the sign (``25.0``), for a column headed ``(%)``.

    Parameters
    ----------
    value : float
        A share of one (0.25 is a quarter).
    decimals : int
        Decimals of the percentage.

    Returns
    -------
    str
        The percentage with thousands separators, or ``—`` when missing.
    """
    return "—" if is_missing(value) else f"{float(value) * 100:,.{decimals}f}"


def fmt_change(value: Any, decimals: int = 0) -> str:
    """Return a change with its sign (``+2.4``, ``-687``); zero has none; ``—`` when missing.

    Parameters
    ----------
    value : float
        The change (after − before).
    decimals : int
        Decimals shown.

    Returns
    -------
    str
        E.g. ``+1,234.5``; a change that rounds to zero is ``0`` (or ``0.0`` …) without a sign.
    """
    if is_missing(value):
        return "—"
    shown = f"{float(value):+,.{decimals}f}"
    return shown[1:] if float(shown.replace(",", "")) == 0 else shown


def auto_decimals(values: Iterable[Any]) -> int:
    """Return the decimals that show figures of this size sensibly: fewer for larger figures.

    The largest magnitude decides, so a column (or a before/after pair) shares one format:
    ≥ 100 → 0 decimals (``2,618``), ≥ 10 → 1 (``82.2``), ≥ 1 → 2 (``9.91``), smaller → 3
    (``0.061``). No finite value → 0.

    Parameters
    ----------
    values : iterable of float
        The figures shown together.

    Returns
    -------
    int
        0, 1, 2 or 3.
    """
    finite = [abs(float(v)) for v in values if not is_missing(v) and math.isfinite(float(v))]
    if not finite:
        return 0
    largest = max(finite)
    if largest >= 100:
        return 0
    if largest >= 10:
        return 1
    if largest >= 1:
        return 2
    return 3 if largest > 0 else 0


class _Page:
    """The language-dependent strings of one report."""

    def __init__(self, project: Project, lang: str) -> None:
        self.lang = lang
        self.project = project
        self.labels: dict[str, Label] = {**COMPARE_TABLE_COLUMNS, **LOCAL_LABELS, **labels_for(project)}
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
        """:func:`_table` with the page's word for a continued table."""
        return _table(headers, rows, continued=self.t("continued"), **kw)

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


# --- what the template shows ---------------------------------------------------------------------


class Cell:
    """A table cell: its text (plain, escaped by the template), a CSS class and a colour swatch.

    Parameters
    ----------
    text : any
        The value shown (``str()`` of it; nothing when missing).
    cls : str
        CSS class of the cell (``num``, ``nowrap``, ``name``, ``met`` …).
    swatch : str
        A colour (``#1a9641``) drawn as a small square before the text; none when empty.
    """

    __slots__ = ("cls", "swatch", "text")

    def __init__(self, text: Any = "", *, cls: str = "", swatch: str = "") -> None:
        self.text, self.cls, self.swatch = text, cls, swatch

    @property
    def shown(self) -> str:
        """The text shown: ``str()`` of the value, empty when it is missing."""
        return "" if is_missing(self.text) else str(self.text)


def num(text: str) -> Cell:
    """Return a cell of a figure (right-aligned, on one line)."""
    return Cell(text, cls="num")


class TablePart(NamedTuple):
    """One printed table: a whole table, or one part of a table split to fit the page (:func:`_table`)."""

    caption: str
    cls: str
    head: list[Cell]
    rows: list[list[Cell]]
    total: list[Cell] | None


class Figure(NamedTuple):
    """A chart: a PNG as a data URI, and its caption (also its alternative text)."""

    src: str
    alt: str


class Card(NamedTuple):
    """A headline figure: its key and exact value (``data-*`` attributes), label, text shown and unit."""

    key: str
    label: str
    value: str
    shown: str
    unit: str


class Link(NamedTuple):
    """A link to a map."""

    title: str
    href: str


class Piece(NamedTuple):
    """One piece of a section, shown by the template's macro of its ``kind``.

    ``content`` is a text (``heading``: an ``<h3>``, ``note``, ``paragraph``), a list of
    :class:`TablePart` (``table``), a :class:`Figure`, a list of :class:`Card` (``headline``)
    or a list of :class:`Link` (``links``).
    """

    kind: Literal["heading", "note", "paragraph", "table", "figure", "headline", "links"]
    content: Any


class Section(NamedTuple):
    """A section of the report: its anchor, its title (heading and entry in the contents) and pieces.

    ``major`` sections start a printed page.
    """

    id: str
    title: str
    pieces: list[Piece]
    major: bool = True


def heading(text: str) -> Piece:
    """Return a sub-heading (``<h3>``)."""
    return Piece("heading", text)


def note(text: str) -> Piece:
    """Return a note (small grey paragraph)."""
    return Piece("note", text)


# --- fitting tables on A4 ------------------------------------------------------------------------
#
# A table wider than the printable width is cut off when printed: Chromium clips it at the edge
# of the page area. So each table is measured before it is written, from how narrow its columns
# can get (the widest word of a wrapping cell, the whole text of a number or a name kept on one
# line), with Latin characters as wide as in DejaVu Sans and CJK at 1 em; a table that does not
# fit A4 portrait is split into two (or more) tables, its first ``keys`` columns repeated in each.
# Portrait throughout, rather than landscape pages for wide tables: the report reads, prints and
# binds in one orientation, and on screen, at the same width, as it prints.

#: CSS pixels per millimetre.
PX_PER_MM = 96 / 25.4
#: The printable width of A4 portrait: 210 mm less the ``@page`` margins (12 mm a side). The
#: body has the same width on screen.
PRINT_WIDTH_MM = 186.0
#: Width a table may take (px): the printable width less 3 % for fonts wider than assumed.
TABLE_WIDTH_PX = PRINT_WIDTH_MM * PX_PER_MM * 0.97
#: Font size of table text (px): 9 pt, and 8 pt in tables of class ``wide``.
TABLE_FONT_PX = {"": 9 * 96 / 72, "wide": 8 * 96 / 72}
#: Left and right padding of a cell (px): 1.5 mm each.
CELL_PADDING_PX = 2 * 1.5 * PX_PER_MM
#: Width of a colour swatch and its margin (px).
SWATCH_PX = 4.5 * PX_PER_MM + 2
#: Texts of a table column no wider than this (em) are kept on one line (names, codes).
SHORT_TEXT_EM = 8.0
#: Bold (headers, totals) is this much wider.
BOLD = 1.1
#: Break opportunities inside a wrapping text: after a space or a hyphen (not one before a digit),
#: and around each CJK character (a CJK text breaks between any two characters).
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKEN = re.compile(rf"[(（“《「]?[{_CJK}][)）”》」,，.。;；:：、%]?|(?:[^\s{_CJK}-]|-(?=\d))+-?|-")


def char_em(char: str) -> float:
    """Return an estimate of a character's width in em: CJK 1, Latin as in DejaVu Sans (``i`` 0.3, ``m`` 0.9 …).

    The Latin widths lie between those of the CJK fonts' own Latin letters (WenQuanYi Micro Hei,
    Noto Sans CJK) and DejaVu Sans, the widest sans-serif a report is likely to be set in.
    """
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char in "mwMW%@—":
        return 0.9
    if char in "ijlI.,:;'|!()[] ":
        return 0.3
    if char in "frt-/":
        return 0.4
    if char.isdigit():
        return 0.62
    return 0.7 if char.isupper() else 0.56


def text_em(text: str) -> float:
    """Return an upper estimate of a text's width in em, on one line."""
    return sum(char_em(c) for c in text)


def min_text_em(text: str, *, wrap: bool = True) -> float:
    """Return an upper estimate (em) of how narrow a text can be set: its widest unbreakable piece."""
    if not wrap:
        return text_em(text)
    return max((text_em(token) for token in _TOKEN.findall(text)), default=0.0)


def _plain(cell: Cell) -> str:
    """Return a cell's text, as shown."""
    return cell.shown


def cell_min_px(cell: Cell, font_px: float, *, bold: bool = False, header: bool = False) -> float:
    """Return an upper estimate (px) of the narrowest a cell can be: headers wrap, numbers do not."""
    wrap = header or cell.cls not in ("num", "nowrap")
    text = _plain(cell).replace("(", " (") if header else _plain(cell)  # <wbr>( in headers
    width = min_text_em(text, wrap=wrap) * font_px * (BOLD if bold else 1.0)
    if cell.cls == "name":
        width = max(width, 6.5 * font_px)  # td.name { min-width: 6.5em }
    if cell.swatch:
        width += SWATCH_PX
    return width + CELL_PADDING_PX


def column_min_px(headers: Sequence[Cell], rows: Sequence[Sequence[Cell]], total: Sequence[Cell] | None,
                  font_px: float) -> list[float]:
    """Return each column's least width (px), over its header, rows and total row."""
    widths = [cell_min_px(h, font_px, bold=True, header=True) for h in headers]
    lines = [(row, False) for row in rows] + ([(total, True)] if total is not None else [])
    for row, bold in lines:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_min_px(cell, font_px, bold=bold))
    return widths


def _first_fit(widths: Sequence[float], room: float) -> list[list[int]]:
    """Consecutive groups of column positions, each as wide as ``room`` at most (or one column)."""
    groups: list[list[int]] = []
    used = room + 1.0
    for i, width in enumerate(widths):
        if used + width > room:
            groups.append([])
            used = 0.0
        groups[-1].append(i)
        used += width
    return groups


def column_groups(widths: Sequence[float], keys: int = 1, limit: float = TABLE_WIDTH_PX) -> list[list[int]]:
    """Return the columns of each table a wide table is split into (indices, the keys first in each).

    Parameters
    ----------
    widths : sequence of float
        Each column's least width (px).
    keys : int
        Leading columns repeated in every part (the row's name: block id and name …).
    limit : float
        The width a table may take (px).

    Returns
    -------
    list of list of int
        One list (all columns) when the table fits. Else as few parts as fit, the other columns
        in order and shared out evenly (two parts of four columns, not one of seven and one of
        one); a column wider than the room left goes alone.
    """
    keys = min(keys, len(widths))
    if sum(widths) <= limit or len(widths) <= keys + 1:
        return [list(range(len(widths)))]
    rest = list(widths[keys:])
    room = max(limit - sum(widths[:keys]), max(rest))
    parts = len(_first_fit(rest, room))
    low, high = max(rest), room  # the narrowest room that still needs no more parts: bisect
    for _ in range(30):
        middle = (low + high) / 2
        if len(_first_fit(rest, middle)) <= parts:
            high = middle
        else:
            low = middle
    return [[*range(keys), *(keys + i for i in group)] for group in _first_fit(rest, high)]


def _cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def _table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, total: Sequence[Any] | None = None,
           caption: str = "", cls: str = "", keys: int = 1, continued: str = "") -> Piece:
    """Return a table, split into several when it would not fit the printed page.

    Parameters
    ----------
    headers, rows, total : sequences of str or Cell
        Header cells, body rows and an optional total row (shown bold, last).
    caption : str
        Caption of the (first) table.
    cls : str
        CSS class of the table(s) (``wide``: smaller type).
    keys : int
        Leading columns repeated in each part of a split table.
    continued : str
        Caption of the parts after the first (e.g. 续表).

    Returns
    -------
    Piece
        A ``table`` piece: one :class:`TablePart` per printed table, the keys first in each.
    """
    head = [_cell(h) for h in headers]
    body = [[_cell(v) for v in row] for row in rows]
    last = None if total is None else [_cell(v) for v in total]
    font_px = TABLE_FONT_PX["wide" if "wide" in cls.split() else ""]
    groups = column_groups(column_min_px(head, body, last, font_px), keys)
    parts = []
    for n, group in enumerate(groups):
        title = caption if n == 0 else (f"{caption} ({continued})" if caption else continued)
        parts.append(TablePart(title, cls, [head[i] for i in group], [[row[i] for i in group] for row in body],
                               None if last is None else [last[i] for i in group]))
    return Piece("table", parts)


def _figure(png: bytes | None, alt: str) -> Piece | None:
    """Return a chart (a PNG) with its caption, or None without one."""
    if not png:
        return None
    return Piece("figure", Figure("data:image/png;base64," + base64.b64encode(png).decode("ascii"), alt))


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
        self.rc: dict[RcKeyType, Any] = {
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
            names = [str(b) if is_missing(n) else str(n) for n, b in pairs]
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
#
# Each returns the section as the template shows it (a Section), or None when it has nothing to show.


def _section(section_id: str, title: str, pieces: Iterable[Piece | None], *, major: bool = True) -> Section:
    """Return a section of the pieces given (those that are None left out)."""
    return Section(section_id, title, [piece for piece in pieces if piece is not None], major)


def _headline(result: AssessmentResult, page: _Page) -> Section:
    s = result.summary
    inv = s["inventory"]
    grades = s.get("grades", {})
    graded = sum(v["parcels"] for g, v in grades.items() if g in GRADES)
    value: dict[str, Any] = s.get("value", {}).get("total_value_wan") or {}
    total = value.get("total")
    total_value: float = total if total is not None else float("nan")
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
    cards = [Card(key, label, repr(float(raw)), shown, page.unit(unit)) for key, label, raw, shown, unit in items]
    return _section("headline", page.t("headline"), [Piece("headline", cards)], major=False)


def _grades(result: AssessmentResult, page: _Page, charts: _Charts) -> Section:
    by_grade = result.tables["by_grade"]
    total_area = float(by_grade["area_mu"].sum())
    has_tax = "tax_wan" in by_grade
    headers: list[Any] = [page.label("grade"), num(page.header("parcels")), num(page.header("area_mu")),
                          num(page.with_unit(page.t("area_share"), UNIT_PCT))]
    if has_tax:
        headers.append(num(page.header("tax_wan")))
    rows = []
    for row in by_grade.itertuples(index=False):
        grade = str(row.grade)
        cells = [Cell(page.grade(grade), swatch=GRADE_COLOURS.get(grade, "#999999")),
                 num(fmt_int(row.parcels)), num(fmt_number(row.area_mu)),
                 num(fmt_share(row.area_mu / total_area if total_area else float("nan")))]
        if has_tax:
            cells.append(num(fmt_number(row.tax_wan)))
        rows.append(cells)
    total = [page.t("total"), num(fmt_int(by_grade["parcels"].sum())), num(fmt_number(total_area)), num(fmt_share(1.0))]
    if has_tax:
        total.append(num(fmt_number(by_grade["tax_wan"].sum())))
    parts = [page.table(headers, rows, total=total), _figure(charts.grades(by_grade), charts.page.t("grade_chart"))]
    by_track = result.tables.get("by_track")
    if by_track is not None and len(by_track):
        names = {t.name: (t.label_zh if page.lang == "zh" else t.label_en) for t in page.project.assessment.tracks}
        grades = [g for g in (*GRADES, UNGRADED) if g in by_track]
        trows = [[names.get(str(r["track"]), page.t("track_none") if not r["track"] else str(r["track"])),
                  *(num(fmt_int(r[g])) for g in grades), num(fmt_int(sum(r[g] for g in grades)))] for _, r in by_track.iterrows()]
        parts.append(heading(page.t("by_track")))
        n = page.count_unit()
        parts.append(page.table([page.label("track"), *(num(page.with_unit(page.grade(g), n)) for g in grades),
                                 num(page.with_unit(page.t("total"), n))], trows))
    by_listing = result.tables.get("by_listing")
    if by_listing is not None and len(by_listing):
        lrows = [[Cell(page.grade(str(r.grade)), swatch=GRADE_COLOURS.get(str(r.grade), "#999999")),
                  num(fmt_int(r.inventory)), num(fmt_int(r.watch)), num(fmt_int(r.none))] for r in by_listing.itertuples(index=False)]
        ltotal = [page.t("total"), *(num(fmt_int(by_listing[c].sum())) for c in ("inventory", "watch", "none"))]
        parts.append(heading(page.t("by_listing")))
        n = page.count_unit()
        lheaders = [page.label("grade"),
                    *(num(page.with_unit(page.t(k), n)) for k in ("listed_n", "watch_n", "not_listed"))]
        parts.append(page.table(lheaders, lrows, total=ltotal))
    return _section("grades", page.t("grades"), parts)


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


def _inventory(result: AssessmentResult, page: _Page, charts: _Charts) -> Section:
    inv = result.summary["inventory"]
    listed_n = inv["parcels"]
    parts: list[Piece | None] = []

    # by reason
    rows = []
    for code, count in inv.get("by_basis", {}).items():
        share = count / listed_n if listed_n else float("nan")
        rows.append([page.reason(code), num(fmt_int(count)), "", num(fmt_share(share))])
    for code, v in inv.get("by_reason", {}).items():
        if code in LISTING:  # shown above, as the basis
            continue
        rows.append([page.reason(code), num(fmt_int(v.get("listed", v["parcels"]))), num(fmt_int(v.get("watch", 0))),
                     num(fmt_share(v.get("listed", v["parcels"]) / listed_n if listed_n else float("nan")))])
    n = page.count_unit()
    parts.append(heading(page.t("by_reason")))
    parts.append(page.table([page.t("reason"), num(page.with_unit(page.t("listed_n"), n)),
                             num(page.with_unit(page.t("watch_n"), n)),
                             num(page.with_unit(page.t("share_of_list"), UNIT_PCT))], rows))
    parts.append(note(page.t("reason_note")))

    # by path
    by_path = _ordered_paths(result.tables["by_path"], page)
    headers = [page.t("path"), num(page.header("parcels")), num(page.header("area_mu")),
               num(page.header("land_freed_mu")),
               num(page.header("floor_area_added_m2", UNIT_WAN_M2)), num(page.header("tax_gain_wan")),
               num(page.header("compensation_wan"))]

    def gains(frame: pd.DataFrame | Any, total: bool = False) -> list[Cell]:
        get: Callable[[str], Any] = (lambda c: frame[c].sum(min_count=1)) if total else (lambda c: getattr(frame, c))
        return [num(fmt_int(get("parcels"))), num(fmt_number(get("area_mu"))), num(fmt_number(get("land_freed_mu"))),
                num(fmt_number(get("floor_area_added_m2") / 1e4, 1)), num(fmt_number(get("tax_gain_wan"))),
                num(fmt_number(get("compensation_wan")))]

    rows = [[Cell(page.path(str(r.disposal)), swatch=DISPOSAL_COLOURS.get(str(r.disposal), "#999999")),
             *gains(r)] for r in by_path.itertuples(index=False)]
    parts.append(heading(page.t("by_path")))
    parts.append(page.table(headers, rows, total=[page.t("total"), *gains(by_path, total=True)]))
    unknown = int(by_path["compensation_unknown"].sum()) if "compensation_unknown" in by_path else 0
    if unknown:
        parts.append(note(page.t("comp_missing", m=fmt_int(unknown))))
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
                names = {str(b): ("" if is_missing(n) else str(n)) for b, n in pairs}
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
        parts.append(heading(page.t("by_block")))
        parts.append(page.table(headers, rows, total=total, cls="wide", keys=2))

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
        nowrap = {"parcel_id", "land_use", "grade"}

        def cell(column: str, value: Any) -> Cell:
            if column in numeric:
                return num(numeric[column](value))
            if is_missing(value):
                return Cell("")
            return Cell(page.value(column, value), cls="nowrap" if column in nowrap else "")

        rows = [[cell(c, row[c]) for c in columns] for _, row in top.iterrows()]
        parts.append(heading(page.t("largest", n=len(top))))
        parts.append(page.table(headers, rows, cls="wide"))
    return _section("inventory", page.t("inventory"), parts)


def _watch(result: AssessmentResult, page: _Page) -> Section | None:
    """Return the watch table: how many A/B parcels each reason flags."""
    watch = result.summary.get("watch", {})
    if not watch.get("parcels"):
        return None
    rows = [[page.reason(code), num(fmt_int(v.get("watch", 0)))]
            for code, v in result.summary["inventory"].get("by_reason", {}).items() if v.get("watch")]
    total = [page.t("total"), num(fmt_int(watch["parcels"]))]
    table = page.table([page.t("reason"), num(page.header("parcels"))], rows, total=total)
    return _section("watch", page.t("watch"), [note(page.t("watch_note")), table], major=False)


def _value(result: AssessmentResult, page: _Page) -> Section | None:
    """Return the value assessment's total, and the parcels it leaves out with the reasons."""
    value = result.summary.get("value", {})
    total = value.get("total_value_wan") or {}
    if not total:
        return None
    shown = fmt_number((total.get("total") or 0) / 1e4, 1)
    if not total.get("missing"):
        all_valued = page.t("value_all", n=fmt_int(total.get("parcels", 0)))
        text = f"{shown} {page.unit(UNIT_YI)}. {all_valued}"
        return _section("value", page.t("value"), [Piece("paragraph", text)], major=False)
    rows = [[value_reason(reason, page.lang), num(fmt_int(count))]
            for reason, count in value.get("without_value", {}).items()]
    text = page.t("value_note", total=shown, n=fmt_int(total["parcels"]), m=fmt_int(total["missing"]))
    table = page.table([page.label("value_missing_reason"), num(page.header("parcels"))], rows)
    return _section("value", page.t("value"), [Piece("paragraph", text), table], major=False)


#: The reasons :mod:`landkit.assess.valuation` gives (in Chinese) for a parcel without a value, in English.
VALUE_REASONS_EN = (
    (re.compile(r"^用地性质(.+)无基准地价用途$"), "Land use {0} has no benchmark price use"),
    (re.compile(r"^不在任何地价级别区内(.+)用地价格，且未设区县默认地价$"),
     "Outside every price zone, and no district default price for {0} land"),
    (re.compile(r"^地价表无(.+)级(.+)用地价格，且未设区县默认地价$"),
     "The price table has no zone {0} price for {1} land, and there is no district default"),
)
#: A configuration key in parentheses, as messages name them for the engineer: ``(valuation.price_uses)``.
_CONFIG_KEY = re.compile(r"\s*\([a-z_]+(?:\.[a-z_]+)+\)")


def value_reason(reason: str, lang: str = "zh") -> str:
    """Return why a parcel has no value as a reader reads it: no configuration key, in ``lang``.

    Parameters
    ----------
    reason : str
        ``value_missing_reason`` of :mod:`landkit.assess.valuation`, e.g.
        ``用地性质U无基准地价用途(valuation.price_uses)``.
    lang : {"zh", "en"}
        Language of the report; a reason of an unknown form stays as it is.

    Returns
    -------
    str
        E.g. ``用地性质U无基准地价用途``, or in English ``Land use U has no benchmark price use``.
    """
    text = _CONFIG_KEY.sub("", str(reason)).strip()
    if lang == "zh":
        return text
    for pattern, english in VALUE_REASONS_EN:
        found = pattern.match(text)
        if found:
            return english.format(*found.groups())
    return text


def _indicator_value(name: str, value: Any) -> str:
    """Return a block indicator's value: rates in percent (the unit in the header), per hectare whole."""
    if name in RATE_INDICATORS:
        return fmt_share(value)
    if name in PER_HA_INDICATORS:
        return fmt_number(value)
    return fmt_number(value, 2)


def _indicator_unit(name: str) -> str:
    """Return a block indicator's unit (in Chinese, as labels carry units)."""
    if name in RATE_INDICATORS:
        return UNIT_PCT
    return UNIT_PER_HA if name in PER_HA_INDICATORS else ""


def _blocks(result: AssessmentResult, page: _Page, charts: _Charts) -> Section | None:
    blocks = result.blocks
    if blocks is None or not len(blocks):
        return None
    spec = page.project.block_assessment.indicators
    frame = pd.DataFrame(blocks.drop(columns=blocks.geometry.name) if hasattr(blocks, "geometry") else blocks)
    frame = frame.sort_values(["block_rank", "block_id"], kind="stable", na_position="last")
    shown = [c for c in BLOCK_KEY_INDICATORS if c in frame]

    def ind_header(name: str) -> Cell:
        ind = spec.get(name)
        text = (ind.label_zh if page.lang == "zh" else ind.label_en) if ind else page.label(name)
        return num(page.with_unit(text, page.unit(_indicator_unit(name))))

    headers: list[Any] = [num(page.label("block_rank")), page.label("block_id"), page.label("block_name")]
    extra = [c for c in ("ring",) if c in frame]
    ring_cls = "nowrap" if page.lang == "zh" else ""  # 核心功能圈 on one line; English names may wrap
    headers += [page.label(c) for c in extra]
    headers += [num(page.header("block_score")), *(ind_header(c) for c in shown)]
    rows = []
    for _, row in frame.iterrows():
        rows.append([num(fmt_int(row["block_rank"])), Cell(row["block_id"], cls="nowrap"),
                     Cell(row.get("block_name", ""), cls="nowrap"),
                     *(Cell(page.ring(row[c]) if not is_missing(row[c]) else "", cls=ring_cls) for c in extra),
                     num(fmt_number(row["block_score"], 1)), *(num(_indicator_value(c, row[c])) for c in shown)])
    park_score = result.park.get("block_score") if result.park else None
    # A bar per block reads up to a few dozen blocks; a whole city's shows the best and the worst.
    chart, title = frame, charts.page.t("block_chart")
    scored = frame[frame["block_score"].notna()]
    if len(scored) > 2 * CHART_BLOCKS:
        chart = pd.concat([scored.head(CHART_BLOCKS), scored.tail(CHART_BLOCKS)])
        title = charts.page.t("block_chart_some", n=CHART_BLOCKS, total=f"{len(frame):,}")
    return _section("blocks", page.t("blocks"), [page.table(headers, rows, cls="wide", keys=3),
                                                 _figure(charts.blocks(chart, park_score, title=title), title)])


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


def _park(result: AssessmentResult, page: _Page) -> Section | None:
    park, kpis = result.park or {}, result.kpis
    if not park and (kpis is None or not len(kpis)):
        return None
    parts: list[Piece | None] = []
    if park:
        spec = page.project.block_assessment.indicators
        facts = [(page.header("block_area_ha"), fmt_number(park.get("block_area_ha"))),
                 (page.header("parcel_area_ha"), fmt_number(park.get("parcel_area_ha"))),
                 (page.header("parcels"), fmt_int(park.get("parcels"))),
                 (page.with_unit(page.t("park_score"), page.unit(page.labels["block_score"].unit)),
                  fmt_number(park.get("block_score"), 1))]
        parts.append(heading(page.t("park_indicators")))
        parts.append(page.table([page.t("indicator"), num(page.label("actual"))], [[k, num(v)] for k, v in facts]))
        rows = []
        for name, ind in spec.items():
            label = ind.label_zh if page.lang == "zh" else ind.label_en
            rows.append([page.with_unit(label, page.unit(_indicator_unit(name))),
                         num(_indicator_value(name, park.get(name))),
                         num(_indicator_value(name, ind.ideal)), num(fmt_number(park.get(f"{name}_score"), 1)),
                         num(fmt_number(ind.weight))])
        points = page.unit(page.labels["block_score"].unit)
        parts.append(page.table([page.t("indicator"), num(page.label("actual")), num(page.t("ideal")),
                                 num(page.with_unit(page.t("indicator_score"), points)), num(page.t("weight"))], rows))
    if kpis is not None and len(kpis):
        rows = []
        for row in kpis.itertuples(index=False):
            name, unit, share = _kpi_name(str(row.kpi), page)
            show: Callable[[Any], str] = (
                fmt_share if share else (lambda v: fmt_number(v, 1) if not float(v).is_integer() else fmt_number(v)))
            met = row.met
            status = "—" if is_missing(met) else page.t("met_yes" if met else "met_no")
            cls = "" if is_missing(met) else ("met" if met else "unmet")
            rows.append([page.with_unit(name, UNIT_PCT if share else page.unit(unit)), num(show(row.target)),
                         num(show(row.actual) if not is_missing(row.actual) else "—"), num(fmt_share(row.ratio)),
                         Cell(status, cls=cls)])
        parts.append(heading(page.t("kpis")))
        parts.append(page.table([page.label("kpi"), num(page.label("target")), num(page.label("actual")),
                                 num(page.header("ratio", UNIT_PCT)), page.label("met")], rows))
    return _section("park", page.t("park"), parts)


# --- tables made from a data frame ---------------------------------------------------------------


class _Column(NamedTuple):
    """How one column of a data frame is shown: its header cell and a function making its cells."""

    header: Cell
    cell: Callable[[Any], Cell]


def shown_columns(columns: Sequence[str], lang: str) -> list[str]:
    """Return the columns a table in ``lang`` shows: one of each text in two languages, no bare code.

    Of ``X_zh`` and ``X_en`` (``label_zh``, ``label_en``) a Chinese table keeps the first, an
    English one the second; a code ``X`` beside its label ``X_zh`` (``X_en``) is left out, and so
    is ``X_en`` beside a Chinese ``X`` (``ungraded_reason``).

    Parameters
    ----------
    columns : sequence of str
        A frame's columns, in order.
    lang : {"zh", "en"}
        Language of the table.

    Returns
    -------
    list of str
        The columns shown, in the same order.
    """
    own, other = ("_zh", "_en") if lang == "zh" else ("_en", "_zh")
    present = set(columns)
    out = []
    for column in columns:
        if column.endswith(other) and ({column[: -len(other)] + own, column[: -len(other)]} & present):
            continue
        if column + own in present:
            continue
        out.append(column)
    return out


def is_share_column(column: str) -> bool:
    """Whether a column holds shares of one (0.25), shown in percent: ``share_*``, ``*_share``, rates."""
    return column.startswith("share_") or column.endswith("_share") or column in RATE_INDICATORS


def _is_bool_column(series: pd.Series) -> bool:
    """Whether a column holds booleans (a bool dtype, or objects that are all booleans or missing)."""
    if pd.api.types.is_bool_dtype(series):
        return True
    if series.dtype != object:
        return False
    values = [v for v in series if not is_missing(v)]
    return bool(values) and all(isinstance(v, bool | np.bool_) for v in values)


def _is_integral(series: pd.Series) -> bool:
    values = pd.to_numeric(series, errors="coerce").dropna()
    return bool(len(values)) and bool(np.all(np.isclose(values, np.round(values))))


def _frame_column(column: str, series: pd.Series, page: _Page) -> _Column:
    """How a frame's column is shown: header with its unit, numbers by kind, codes translated.

    Booleans are 是/否; shares (:func:`is_share_column`) are percentages headed ``(%)``;
    ``*_pct`` are percentages already; years are bare; ranks and counts (integers, or a label
    unit of 宗, 家, 个, 人) are whole with thousands separators; points (分) have one decimal;
    other figures the decimals :func:`auto_decimals` gives the column; text is translated by
    :meth:`_Page.value`.
    """
    label = page.labels.get(column)
    unit = label.unit if label is not None and label.unit else COLUMN_UNITS.get(column, "")
    if _is_bool_column(series):
        return _Column(Cell(page.header(column)), lambda v: Cell("" if is_missing(v) else page.boolean(v)))
    if not pd.api.types.is_numeric_dtype(series):
        widest = max((text_em(page.value(column, v)) for v in series if not is_missing(v)), default=0.0)
        cls = "nowrap" if widest <= SHORT_TEXT_EM else ""  # names and codes stay on one line
        return _Column(Cell(page.header(column)), lambda v: Cell("" if is_missing(v) else page.value(column, v), cls=cls))
    if is_share_column(column):
        return _Column(num(page.header(column, UNIT_PCT)), lambda v: num(fmt_share(v)))
    if column.endswith("_pct"):
        return _Column(num(page.header(column, UNIT_PCT)), lambda v: num(fmt_number(v, 1)))
    if column == "year" or column.endswith("_year"):
        return _Column(num(page.header(column)), lambda v: num("—" if is_missing(v) else str(round(float(v)))))
    if pd.api.types.is_integer_dtype(series) or (("rank" in column or unit in COUNT_UNITS) and _is_integral(series)):
        return _Column(num(page.header(column)), lambda v: num(fmt_int(v)))
    decimals = 1 if unit == "分" else auto_decimals(series)
    return _Column(num(page.header(column)), lambda v: num(fmt_number(v, decimals)))


def drop_repeated_columns(columns: list[str], headers: list[Cell], rows: list[list[Cell]]
                          ) -> tuple[list[str], list[Cell], list[list[Cell]]]:
    """Leave out a column that repeats an earlier one: the same header and the same text in every row.

    (A ring profile has the ring's code and its name: both read 圈层, 核心功能圈 … once shown.)
    """
    keep: list[int] = []
    for j, head in enumerate(headers):
        same = (i for i in keep if _plain(headers[i]) == _plain(head))
        if not any(all(_plain(r[i]) == _plain(r[j]) for r in rows) for i in same):
            keep.append(j)
    return [columns[j] for j in keep], [headers[j] for j in keep], [[r[j] for j in keep] for r in rows]


def _frame_cells(frame: pd.DataFrame, page: _Page) -> tuple[list[str], list[Cell], list[list[Cell]]]:
    """Columns, headers and rows of any table: labelled headers with units, values as people read them.

    The index is shown as a column unless it is a plain range; geometry is left out, and so are
    the other language's texts and codes beside their labels (:func:`shown_columns`) and
    repeated columns (:func:`drop_repeated_columns`).
    """
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    frame.columns = [str(c) for c in frame.columns]
    columns = shown_columns(list(frame.columns), page.lang)
    shown = {c: _frame_column(c, frame[c], page) for c in columns}
    headers = [shown[c].header for c in columns]
    rows = [[shown[c].cell(v) for c, v in zip(columns, values, strict=True)]
            for values in frame[columns].itertuples(index=False)]
    return drop_repeated_columns(columns, headers, rows)


def _usable(frame: Any) -> TypeGuard[pd.DataFrame]:
    """Whether ``frame`` is a table with rows."""
    return isinstance(frame, pd.DataFrame) and not frame.empty


def _optional_table(result: AssessmentResult, page: _Page, key: str, title: str, section_id: str) -> Section | None:
    """Return a section with any table of ``result.tables`` shown generically; None without it."""
    frame = result.tables.get(key)
    if not _usable(frame):
        return None
    _, headers, rows = _frame_cells(frame, page)
    return _section(section_id, title, [page.table(headers, rows)])


#: The ring profile's columns (``landkit.analyses.rings.ring_profiles``) in the two tables it is shown as,
#: the ring first in each: what each ring holds and yields (other columns follow these), and
#: what its land is made of.
RING_OVERVIEW = ("parcels", "area_ha", "area_mu", "mean_score", "tax_per_ha_wan", "output_per_ha_wan",
                 "main_industry", "main_industry_share", "misfit_share")
RING_MIX = ("share_rd", "share_manufacturing", "share_warehouse", "share_other",
            "share_A", "share_B", "share_C", "share_D")


def _ordered(columns: Sequence[str], order: Sequence[str]) -> list[int]:
    """Positions of ``columns`` in ``order`` (those named there first, in its order, then the rest)."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(range(len(columns)), key=lambda i: (rank.get(columns[i], len(rank)), i))


def _rings(result: AssessmentResult, page: _Page) -> Section | None:
    """三圈协同: the ring profiles as two tables, each ring's name first in both."""
    frame = result.tables.get("ring_profiles")
    if not _usable(frame):
        return None
    columns, headers, rows = _frame_cells(frame, page)
    keys = [i for i, c in enumerate(columns) if c in ("ring", "ring_name")][:1]
    mix = [i for i in _ordered(columns, RING_MIX) if columns[i] in RING_MIX]
    overview = [i for i in _ordered(columns, RING_OVERVIEW) if i not in keys and i not in mix]
    parts: list[Piece | None] = []
    for key, group in (("ring_overview", overview), ("ring_mix", mix)):
        if not group:
            continue
        picked = keys + group
        if mix and overview:
            parts.append(heading(page.t(key)))
        if key == "ring_mix":
            parts.append(note(page.t("ring_mix_note")))
        parts.append(page.table([headers[i] for i in picked], [[r[i] for i in picked] for r in rows], keys=len(keys)))
    return _section("rings", page.t("rings"), parts)


def metric_unit(unit: Any, lang: str) -> str:
    """Return a small-and-scattered metric's unit (``ha``, ``个/100ha`` …) in the report's language."""
    if is_missing(unit) or not str(unit):
        return ""
    zh = METRIC_UNITS_ZH.get(str(unit), str(unit))
    return zh if lang == "zh" else UNITS_EN.get(zh, LOCAL_UNITS_EN.get(zh, str(unit)))


def _scatter_row(row: dict[str, Any], page: _Page) -> list[Cell]:
    """One metric of the before/after table: name with unit, before, after, change, direction, verdict."""
    name = row.get("label_zh" if page.lang == "zh" else "label_en")
    name = row.get("metric", "") if is_missing(name) or not str(name) else name
    zh_unit = METRIC_UNITS_ZH.get(str(row.get("unit") or ""), str(row.get("unit") or ""))
    before, after = row.get("before"), row.get("after")
    decimals = 0 if zh_unit in COUNT_UNITS else auto_decimals([before, after])
    improved = row.get("improved")
    verdict = Cell("—") if is_missing(improved) else Cell(page.boolean(improved), cls="met" if improved else "unmet")
    better = row.get("better")
    return [Cell(page.with_unit(str(name), metric_unit(row.get("unit"), page.lang))),
            num(fmt_number(before, decimals)), num(fmt_number(after, decimals)),
            num(fmt_change(row.get("change"), decimals)), num(fmt_change(row.get("change_pct"), 1)),
            Cell("—" if is_missing(better) or not str(better) else page.value("better", better)), verdict]


def _scatter(result: AssessmentResult, page: _Page) -> Section | None:
    """小而散: each metric before and after the proposed adjustments (any other table generically)."""
    frame = result.tables.get("scatter_before_after")
    if not _usable(frame):
        return None
    if not {"before", "after"} <= set(frame.columns) or not {"metric", "label_zh", "label_en"} & set(frame.columns):
        return _optional_table(result, page, "scatter_before_after", page.t("scatter"), "scatter")
    headers = [page.t("metric"), num(page.label("before")), num(page.label("after")), num(page.label("change")),
               num(page.header("change_pct")), page.label("better"), page.label("improved")]
    rows = [_scatter_row(row, page) for row in frame.to_dict("records")]
    return _section("scatter", page.t("scatter"), [page.table(headers, rows), note(page.t("scatter_note"))])


def _maps(maps: Sequence[tuple[str, str]], page: _Page) -> Section | None:
    """Links to the maps (their addresses checked by :func:`_check_href`)."""
    if not maps:
        return None
    links = [Link(str(title), _check_href(href)) for title, href in maps]
    return _section("maps", page.t("maps"), [Piece("links", links)], major=False)


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
        An assessment (:func:`landkit.pipeline.assess`).
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

    sections = [
        _headline(result, page),
        _grades(result, page, charts),
        _inventory(result, page, charts),
        _watch(result, page),
        _value(result, page),
        _blocks(result, page, charts),
        _park(result, page),
        _rings(result, page),
        _scatter(result, page),
        _maps(maps, page),
    ]
    return render(
        "report.html.j2",
        lang="zh-CN" if lang == "zh" else "en",
        title=title,
        project_name=project.name,
        subtitle=page.t("title"),
        year_label=page.t("year"),
        year="" if is_missing(year) else str(year),
        synthetic=page.t("synthetic") if synthetic else "",
        contents=page.t("contents"),
        sections=[section for section in sections if section is not None],
        footer=page.t("footer", v=landkit.__version__),
    )


def write_report(path: Path | str, html_text: str) -> Path:
    """Write the report (UTF-8) to ``path`` atomically and return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return path
