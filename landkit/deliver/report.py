"""The planner's report: one self-contained, printable HTML page of an assessment.

:func:`build_report` turns an :class:`~landkit.result.AssessmentResult` into one HTML page that
needs nothing else: CSS inline, charts drawn with matplotlib and inlined as PNG data URIs, no
script and no external address (only the map links the caller passes). The page comes from the
template ``landkit/deliver/templates/report.html.j2`` (its style sheet ``report.css``): the functions here
compute what each section shows (:class:`Section`, a list of :class:`Piece`), as plain text that the
template escapes; no HTML is written in Python. It prints on A4 portrait
with a page break before each major section; every table fits the printable width (186 mm), a
table too wide for it being split into two with its first columns repeated (:func:`table_piece`).
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

import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

import numpy as np
import pandas as pd

import landkit
from landkit.assess.kpis import KPIS
from landkit.assess.performance import GRADES, UNGRADED
from landkit.config.models import Indicator, Project
from landkit.core.schema import is_missing
from landkit.core.units import M2_PER_HA, M2_PER_MU
from landkit.deliver.charts import CHART_BLOCKS, Charts
from landkit.deliver.labels import (
    COLUMN_UNITS,
    DISPOSAL_COLOURS,
    GRADE_COLOURS,
    LOCAL_UNITS_EN,
    METRIC_UNITS_ZH,
    UNIT_PCT,
    UNIT_PER_HA,
    UNIT_WAN_M2,
    UNIT_YI,
    UNITS_EN,
    VALUE_LABELS,
    VALUE_REASONS_EN,
)
from landkit.deliver.report_page import COUNT_UNITS, TEXT, Page
from landkit.deliver.report_tables import (
    SHORT_TEXT_EM,
    Card,
    Cell,
    Link,
    Piece,
    Section,
    auto_decimals,
    checked_href,
    figure_piece,
    fmt_change,
    fmt_int,
    fmt_number,
    fmt_share,
    heading,
    note,
    num,
    plain_text,
    text_em,
)
from landkit.deliver.templates import render
from landkit.io.write import atomic_path
from landkit.listing.inventory import LISTING

if TYPE_CHECKING:

    from landkit.result import AssessmentResult


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

#: The report's style sheet (``landkit/deliver/templates/report.css``, which the template includes).
CSS = resources.files("landkit.deliver.templates").joinpath("report.css").read_text(encoding="utf-8")


# --- sections ------------------------------------------------------------------------------------
#
# Each returns the section as the template shows it (a Section), or None when it has nothing to show.


def _section(section_id: str, title: str, pieces: Iterable[Piece | None], *, major: bool = True) -> Section:
    """Return a section of the pieces given (those that are None left out)."""
    return Section(section_id, title, [piece for piece in pieces if piece is not None], major)


def _headline(result: AssessmentResult, page: Page) -> Section:
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


def _grades(result: AssessmentResult, page: Page, charts: Charts) -> Section:
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
    parts = [page.table(headers, rows, total=total), figure_piece(charts.grades(by_grade), charts.page.t("grade_chart"))]
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


def _benchmark_source(row: Any, indicator: Indicator, page: Page) -> str:
    """Return where a benchmark comes from (the ``source`` :func:`~landkit.assess.performance.benchmark_source` gave), in the page's words."""
    if row.source == "derived" and indicator.derive is not None:
        derive = indicator.derive
        return page.t("source_derived", statistic=page.t(f"statistic_{derive.statistic}"), factor=f"{derive.factor:g}")
    return page.value("source", row.source)  # labels.VALUE_LABELS, as the workbook shows it


def _method(result: AssessmentResult, page: Page) -> Section | None:
    """评价指标与基准: each track's indicators with their weights, the benchmarks used, caps and where each benchmark comes from."""
    assessment = page.project.assessment
    table = result.tables.get("benchmarks")
    bench = table if _usable(table) else pd.DataFrame(columns=["indicator", "track", "group", "benchmark", "source"])
    with_groups = bool((bench["group"].fillna("") != "").any())
    rows: list[list[Cell | str]] = []
    for track in assessment.tracks:
        label = track.label_zh if page.lang == "zh" else track.label_en
        for name, weight in track.weights.items():
            indicator = assessment.indicators[name]
            shown = indicator.label_zh if page.lang == "zh" else indicator.label_en
            unit = page.unit(indicator.unit) if indicator.unit else ""
            used = bench[(bench["indicator"] == name) & (bench["track"] == track.name)]
            cap = num(f"{indicator.cap:g}") if indicator.method == "benchmark" else num("—")
            lines = list(used.itertuples(index=False)) or [None]
            for row in lines:
                value = "—" if row is None else fmt_number(row.benchmark, max(auto_decimals([row.benchmark]), 2))
                cells: list[Cell | str] = [label, shown, num(f"{weight:g}")]
                if with_groups:
                    cells.append("" if row is None else str(row.group or ""))
                source = indicator.method if row is None else _benchmark_source(row, indicator, page)
                cells += [num(value), unit, cap, source]
                rows.append(cells)
    if not rows:
        return None
    headers: list[Any] = [page.label("track"), page.t("indicator"), num(page.t("weight"))]
    if with_groups:
        headers.append(page.t("industry_group"))
    headers += [num(page.t("benchmark")), page.t("unit_col"), num(page.t("cap")), page.t("benchmark_source")]
    return _section("method", page.t("method"), [note(page.t("method_note")), page.table(headers, rows, keys=2)])


def _ordered_paths(by_path: pd.DataFrame, page: Page) -> pd.DataFrame:
    order = {code: i for i, code in enumerate(page.paths)}
    key = by_path["disposal"].map(lambda c: order.get(c, len(order)))
    return by_path.assign(_order=key).sort_values(["_order", "disposal"], kind="stable").drop(columns="_order")


def _block_key_name(key: Any, names: dict[str, str], page: Page) -> tuple[str, str]:
    """Return (block id shown, block name shown) for a key of ``by_block_path``."""
    if key == TEXT["outside_blocks"][0]:
        return "", page.t("outside_blocks")
    if key == TEXT["all"][0]:
        return "", page.t("all")
    return str(key), names.get(str(key), "")


def _inventory(result: AssessmentResult, page: Page, charts: Charts) -> Section:
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
        parts.append(figure_piece(charts.paths(by_path), charts.page.t("path_chart")))

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


def _watch(result: AssessmentResult, page: Page) -> Section | None:
    """Return the watch table: how many A/B parcels each reason flags."""
    watch = result.summary.get("watch", {})
    if not watch.get("parcels"):
        return None
    rows = [[page.reason(code), num(fmt_int(v.get("watch", 0)))]
            for code, v in result.summary["inventory"].get("by_reason", {}).items() if v.get("watch")]
    total = [page.t("total"), num(fmt_int(watch["parcels"]))]
    table = page.table([page.t("reason"), num(page.header("parcels"))], rows, total=total)
    return _section("watch", page.t("watch"), [note(page.t("watch_note")), table], major=False)


def _value(result: AssessmentResult, page: Page) -> Section | None:
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


def _blocks(result: AssessmentResult, page: Page, charts: Charts) -> Section | None:
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
                                                 figure_piece(charts.blocks(chart, park_score, title=title), title)])


def _kpi_name(kpi: str, page: Page) -> tuple[str, str, bool]:
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


def _park(result: AssessmentResult, page: Page) -> Section | None:
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
        for row in kpis.to_dict("records"):
            if is_missing(row.get("label_zh")):  # a run written before the KPIs carried their labels (`landkit relist`)
                name, unit, share = _kpi_name(str(row["kpi"]), page)
            else:
                name, unit = str(row["label_zh" if page.lang == "zh" else "label_en"]), str(row.get("unit") or "")
                share = unit == "%"
            show: Callable[[Any], str] = (
                fmt_share if share else (lambda v: fmt_number(v, 1) if not float(v).is_integer() else fmt_number(v)))
            met = row.get("met")
            status = "—" if is_missing(met) else page.t("met_yes" if met else "met_no")
            cls = "" if is_missing(met) else ("met" if met else "unmet")
            actual = num(show(row["actual"])) if not is_missing(row["actual"]) else Cell(page.t("kpi_no_data"), cls="unmet")
            rows.append([page.with_unit(name, UNIT_PCT if share else page.unit("" if unit == "%" else unit)), num(show(row["target"])),
                         actual, num(fmt_share(row.get("ratio"))), Cell(status, cls=cls)])
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


def _frame_column(column: str, series: pd.Series, page: Page) -> _Column:
    """How a frame's column is shown: header with its unit, numbers by kind, codes translated.

    Booleans are 是/否; shares (:func:`is_share_column`) are percentages headed ``(%)``;
    ``*_pct`` are percentages already; years are bare; ranks and counts (integers, or a label
    unit of 宗, 家, 个, 人) are whole with thousands separators; points (分) have one decimal;
    other figures the decimals :func:`auto_decimals` gives the column; text is translated by
    :meth:`Page.value`.
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
        same = (i for i in keep if plain_text(headers[i]) == plain_text(head))
        if not any(all(plain_text(r[i]) == plain_text(r[j]) for r in rows) for i in same):
            keep.append(j)
    return [columns[j] for j in keep], [headers[j] for j in keep], [[r[j] for j in keep] for r in rows]


def _frame_cells(frame: pd.DataFrame, page: Page) -> tuple[list[str], list[Cell], list[list[Cell]]]:
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


def _optional_table(result: AssessmentResult, page: Page, key: str, title: str, section_id: str) -> Section | None:
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


def _rings(result: AssessmentResult, page: Page) -> Section | None:
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


def _scatter_row(row: dict[str, Any], page: Page) -> list[Cell]:
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


def _scatter(result: AssessmentResult, page: Page) -> Section | None:
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


#: Columns of the block-adjustment proposals shown in the report.
PROPOSAL_COLUMNS = ("proposal_id", "kind_zh", "kind_en", "block_id", "parcels", "area_mu", "grades", "reason_zh", "reason_en",
                    "d_inside_block_pct", "d_np", "d_lpi_pct", "d_hhi", "block_score_before", "block_score_after")


def _adjustment(result: AssessmentResult, page: Page) -> Section | None:
    """园区地块动态调整: the proposals and the park's concentration and block scores before and after."""
    proposals = result.layers.get("block_changes")
    table = result.tables.get("block_before_after")
    if proposals is None or not _usable(table):
        return None
    parts: list[Piece | None] = [note(page.t("adjustment_note"))]
    if len(proposals):
        shown = pd.DataFrame(proposals[[c for c in PROPOSAL_COLUMNS if c in proposals]])
        if "grades" in shown:
            shown["grades"] = shown["grades"].astype(str).map(lambda g: "、".join(page.grade(x) for x in g.split(",") if x))
        _, headers, rows = _frame_cells(shown, page)
        parts += [heading(page.t("adjustment_proposals")), page.table(headers, rows, keys=1)]
    else:
        parts.append(note(page.t("adjustment_none")))
    metric_headers = [page.t("metric"), num(page.label("before")), num(page.label("after")), num(page.label("change")),
               num(page.header("change_pct")), page.label("better"), page.label("improved")]
    frame = table.assign(change_pct=100 * table["change"] / table["before"].where(table["before"] != 0))
    frame = frame.assign(label_zh=np.where(frame["level"] == "block", frame["group"] + " " + frame["label_zh"], frame["label_zh"]),
                         label_en=np.where(frame["level"] == "block", frame["group"] + " " + frame["label_en"], frame["label_en"]))
    rows = [_scatter_row(row, page) for row in frame.to_dict("records")]
    parts += [heading(page.t("adjustment_park")), page.table(metric_headers, rows)]
    return _section("adjustment", page.t("adjustment"), parts)


def _screens(result: AssessmentResult, page: Page) -> Section | None:
    """商办→研发 candidates and 工业上楼 parcels, per block."""
    parts: list[Piece | None] = []
    for key, title in (("conversion", "conversion_table"), ("vertical", "vertical_table")):
        frame = result.tables.get(key)
        if _usable(frame):
            _, headers, rows = _frame_cells(frame.reset_index(drop=True), page)
            parts += [heading(page.t(title)), page.table(headers, rows, keys=1)]
    if not parts:
        return None
    parts.append(note(page.t("vertical_note")))
    return _section("plan_screens", page.t("plan_screens"), parts)


def _kpi_paths(paths: pd.DataFrame | None, page: Page, charts: Charts) -> Section | None:
    """Return the plan's targets across the recorded runs: each KPI by year against its straight path, a chart."""
    if not _usable(paths):
        return None
    units = {name: kpi.unit for name, kpi in KPIS.items()}

    def value(kpi: str, v: Any) -> str:
        if units.get(kpi) == "%":
            return fmt_share(v, 2) + "%"
        return fmt_number(v, 1 if not is_missing(v) and abs(float(v)) < 1000 and not float(v).is_integer() else 0)

    years = sorted(int(y) for y in paths["year"].unique())
    latest = paths.sort_values("year").groupby("kpi", sort=False).tail(1).set_index("kpi")
    by_year = paths.pivot_table(index="kpi", columns="year", values="actual", sort=False)
    headers = [page.label("kpi"), *[num(page.t("kpi_actual_in", year=y)) for y in years], num(page.label("target")),
               num(page.label("path")), num(page.header("ratio", UNIT_PCT)), page.label("on_track"),
               num(page.header("needed_per_year", UNIT_PCT))]
    rows = []
    for kpi, row in latest.iterrows():
        kpi = str(kpi)
        on_track = bool(row["on_track"])
        rows.append([Cell(page.with_unit(page.kpi(kpi), "" if units.get(kpi) == "%" else page.unit(units.get(kpi, "")))),
                     *[num(value(kpi, by_year.loc[kpi].get(y, np.nan))) for y in years], num(value(kpi, row["target"])),
                     num(value(kpi, row["path"])), num(fmt_share(row["ratio"])),
                     Cell(page.boolean(on_track), cls="met" if on_track else "unmet"), num(fmt_share(row["needed_per_year"]))])
    target_year = page.project.kpis.target_year
    return _section("kpi_paths", page.t("kpi_paths"), [
        page.table(headers, rows, keys=1), note(page.t("kpi_paths_note")),
        figure_piece(charts.kpi_paths(paths, target_year), page.t("kpi_chart", year=target_year))])


def _chains(result: AssessmentResult, page: Page) -> Section | None:
    """Return the chains: each chain's stage coverage by ring, the 链主 firms, and the named pairs' flows."""
    coverage = result.tables.get("chain_coverage")
    if not _usable(coverage):
        return None
    table = coverage.pivot_table(index="chain", columns="group", values="coverage_pct", sort=False)
    groups = [g for g in (*page.project.rings.labels, "park") if g in table.columns]
    headers = [page.label("chain"), *[num(page.t("park_line") if g == "park" else page.ring(g)) for g in groups]]
    rows = [[Cell(str(chain)), *[num(fmt_number(table.loc[chain, g], 0)) for g in groups]] for chain in table.index]
    parts: list[Piece | None] = [page.table(headers, rows, keys=1), note(page.t("chains_note"))]
    for key in ("chain_leaders", "chain_flows"):
        frame = result.tables.get(key)
        if _usable(frame):
            _, headers_, rows_ = _frame_cells(frame.drop(columns=["enterprise_id"], errors="ignore"), page)
            parts += [heading(page.t(key)), page.table(headers_, rows_, keys=1)]
    return _section("chains", page.t("chains"), [heading(page.t("chain_coverage")), *parts])


#: Road classes as the report names them.
ROAD_CLASS_NAMES = {"expressway": ("快速路", "Expressways"), "arterial": ("主干路", "Arterials"), "secondary": ("次干路", "Secondary roads"),
                    "local": ("支路", "Local roads"), "total": ("合计", "Total")}


def _services(result: AssessmentResult, page: Page) -> Section | None:
    """Return item 12: the share of parcels within reach of each kind of facility, and the road network's grading."""
    access, roads = result.tables.get("service_access"), result.tables.get("road_hierarchy")
    if not _usable(access) and not _usable(roads):
        return None
    k = 0 if page.lang == "zh" else 1
    kinds = VALUE_LABELS["facility_kind"]
    parts: list[Piece | None] = []
    spec = page.project.services
    if _usable(access):
        table = access.pivot_table(index=["level", "group"], columns="facility_kind", values="share_pct", sort=False)
        short = access.pivot_table(index=["level", "group"], columns="facility_kind", values="short", sort=False, aggfunc="max")
        columns = [c for c in kinds if c in table.columns]
        headers = [page.label("level"), page.label("group"), *[num(kinds[c][k]) for c in columns]]
        shares = table[columns].to_numpy()  # arrays: one lookup per cell of a 250-block table is seconds
        unmet = short.loc[table.index, columns].to_numpy(dtype=object)
        rows = [[Cell(page.value("level", str(level))), Cell(page.ring(group) if level == "ring" else page.t("park_line") if level == "park" else ("区块外" if group == "outside" and k == 0 else str(group)))]
                + [Cell(fmt_number(share, 1), cls="num unmet" if bool(flag) else "num") for share, flag in zip(shares[i], unmet[i], strict=True)]
                for i, (level, group) in enumerate(table.index)]
        minutes = "、".join(f"{kinds[c][k]} {spec.minutes[c]:g} 分钟" if k == 0 else f"{kinds[c][k]} {spec.minutes[c]:g} min"
                           for c in columns)
        parts += [heading(page.t("services_access")), page.table(headers, rows, keys=2),
                  note(page.t("services_note", minutes=minutes, share=f"{100 * spec.min_share:g}"))]
    if _usable(roads):
        park = roads[roads["level"] == "park"]
        headers = [page.label("road_class"), num(page.label("km")), num(page.header("density_km_per_km2")),
                   num(page.label("guideline_low")), num(page.label("guideline_high")), num(page.label("ratio_to_arterial")), page.label("meets")]
        rows = [[Cell(ROAD_CLASS_NAMES[r["road_class"]][k]), num(fmt_number(r["km"], 1)), num(fmt_number(r["density_km_per_km2"], 2)),
                 num(fmt_number(r["guideline_low"], 1)), num(fmt_number(r["guideline_high"], 1)), num(fmt_number(r["ratio_to_arterial"], 2)),
                 Cell(page.boolean(bool(r["meets"])), cls="met" if r["meets"] else "unmet")] for r in park.to_dict("records")]
        parts += [heading(page.t("roads_table")), page.table(headers, rows, keys=1),
                  note(page.t("roads_note", total=f"{spec.total_density_min_km_per_km2:g}"))]
        grading = result.tables.get("road_grading")
        if _usable(grading) and (grading["level"] == "park").any():
            row = grading[grading["level"] == "park"].iloc[0]
            off = ", ".join(ROAD_CLASS_NAMES.get(c.strip(), (c, c))[k] for c in str(row["out_of_band"] or "").split(",") if c.strip())
            verdict = page.t("grading_ok") if row["grading_ok"] else page.t("grading_off", classes=off or "—")
            parts.append(note(page.t("roads_grading", grading=row["grading"], recommended=row["recommended"], verdict=verdict)))
        short = roads[(roads["level"] == "block") & roads["short"].fillna(False).astype(bool)]
        if len(short):
            listed = short.groupby("group")["road_class"].apply(lambda c: "、".join(ROAD_CLASS_NAMES[x][k] for x in c))
            rows = [[Cell(str(group)), Cell(text)] for group, text in listed.items()]
            parts += [heading(page.t("roads_short")), page.table([page.label("block_id"), page.label("road_class")], rows, keys=1)]
    return _section("services", page.t("services"), parts)


def _ownership(result: AssessmentResult, page: Page) -> Section | None:
    """土地权属: parcels and listed land by ownership, and the paths of collective land."""
    frame = result.tables.get("by_ownership")
    if not _usable(frame):
        return None
    _, headers, rows = _frame_cells(frame, page)
    parts: list[Piece | None] = [page.table(headers, rows, keys=1), note(page.t("ownership_note"))]
    by_path = result.tables.get("by_path")
    if _usable(by_path) and "disposal" in by_path:
        collective = by_path[by_path["disposal"].astype(str).str.startswith("collective_")]
        if len(collective):
            shown = collective.drop(columns=["disposal_zh", "compensation_unknown"], errors="ignore").reset_index(drop=True)
            _, headers, rows = _frame_cells(shown, page)
            parts += [heading(page.t("collective_paths")), page.table(headers, rows, keys=1)]
    return _section("ownership", page.t("ownership"), parts)


def _robustness(result: AssessmentResult, page: Page) -> Section | None:
    """等级稳健性: the share of graded parcels whose class depends on contested weights, per track and class."""
    table, figures = result.tables.get("robustness"), result.summary.get("robustness")
    if not _usable(table) or not figures:
        return None
    settings = page.project.robustness
    parts: list[Piece | None] = [note(page.t("robustness_note", unstable=f"{figures['unstable']:,}",
                                             share=f"{100 * figures['unstable_share_of_graded']:.1f}",
                                             samples=f"{settings.samples:,}", range=f"{100 * settings.weight_range:g}%"))]
    shown = table.assign(grade=table["grade"].map(lambda g: page.grade(g) if g in ("A", "B", "C", "D") else g))
    _, headers, rows = _frame_cells(shown, page)
    parts.append(page.table(headers, rows, keys=2))
    return _section("robustness", page.t("robustness"), parts)


#: Columns of the 连片整合 table in the report, in order.
ASSEMBLY_COLUMNS = ("site_id", "area_mu", "parcels", "block_ids", "ring", "enterprises", "collective_mu", "willing_parcels",
                    "acquisition_wan", "cost_per_mu_wan", "tax_wan", "compactness", "road_distance_m", "rank_by_cost")


def _assembly(result: AssessmentResult, page: Page) -> Section | None:
    """连片整合: the contiguous sites the freed land makes, largest first, with their cost."""
    figures = result.summary.get("assembly")
    if not figures:
        return None
    spec = page.project.assembly
    sites = result.layers.get("assembly_sites")
    if sites is None or not len(sites):
        parts: list[Piece | None] = [note(page.t("assembly_none", size=f"{min(spec.min_site_mu):g}",
                                                 candidates=f"{figures['candidates']:,}"))]
        return _section("assembly", page.t("assembly"), parts)
    cost = figures["acquisition_wan"]["total"]
    willing = page.t("assembly_willing") if spec.include_willing and figures.get("willing") else ""
    parts = [note(page.t("assembly_note", willing=willing, gap=f"{spec.gap_m:g}", sizes="/".join(f"{v:g}" for v in spec.min_site_mu),
                         sites=f"{figures['sites']:,}", area=f"{figures['area_mu']:,.0f}", largest=f"{figures['largest']['area_mu']:,.0f}",
                         cost="–" if cost is None else f"{cost / 1e4:,.1f}"))]
    shown = pd.DataFrame(sites[[c for c in ASSEMBLY_COLUMNS if c in sites]])
    if "ring" in shown:
        names = {ring: next((name for lang, name in text.items() if lang == page.lang), ring)
                 for ring, text in page.project.rings.labels.items()}
        shown["ring"] = shown["ring"].map(lambda r: names.get(r, r) if isinstance(r, str) else r)
    _, headers, rows = _frame_cells(shown, page)
    parts.append(page.table(headers, rows, keys=1))
    return _section("assembly", page.t("assembly"), parts)


def _decisions(result: AssessmentResult, page: Page) -> Section | None:
    """人工调整与异议: each decision with the computed and the decided value, and the objections register."""
    audit, objections = result.tables.get("overrides"), result.tables.get("objections")
    if not _usable(audit) and not _usable(objections):
        return None
    decisions = result.summary.get("decisions") or {}
    parts: list[Piece | None] = [note(page.t("decisions_note", n=decisions.get("overrides", 0),
                                             parcels=decisions.get("overridden_parcels", 0),
                                             changed=decisions.get("class_changed", 0)))]
    if _usable(audit) and len(audit):
        _, headers, rows = _frame_cells(audit.drop(columns=["row"], errors="ignore"), page)
        parts += [heading(page.t("decisions_overrides")), page.table(headers, rows, keys=1)]
    if _usable(objections) and len(objections):
        counts = decisions.get("objections") or {}
        parts.append(note(page.t("decisions_objections_note", received=counts.get("received", 0),
                                 upheld=counts.get("upheld", 0), rejected=counts.get("rejected", 0))))
        shown = objections.assign(objection_status=objections["objection_status"].map(
            lambda s: page.t(f"objection_{s}") if isinstance(s, str) else s))
        _, headers, rows = _frame_cells(shown, page)
        parts += [heading(page.t("decisions_objections")), page.table(headers, rows, keys=1)]
    return _section("decisions", page.t("decisions"), parts)


def _maps(maps: Sequence[tuple[str, str]], page: Page) -> Section | None:
    """Links to the maps (their addresses checked by :func:`checked_href`)."""
    if not maps:
        return None
    links = [Link(str(title), checked_href(href)) for title, href in maps]
    return _section("maps", page.t("maps"), [Piece("links", links)], major=False)


# --- the page ------------------------------------------------------------------------------------


def build_report(
    result: AssessmentResult,
    project: Project,
    *,
    maps: Sequence[tuple[str, str]] = (),
    lang: str = "zh",
    kpi_paths: pd.DataFrame | None = None,
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
    kpi_paths : DataFrame, optional
        The plan KPIs across the recorded runs (:func:`landkit.assess.kpis.kpi_paths`).

    Raises
    ------
    ValueError
        For another ``lang``, or a map link with a scheme other than file, http or https.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang = {lang!r}: use 'zh' or 'en'")
    page = Page(project, lang)
    charts = Charts(page)
    year = result.summary.get("year", project.year)
    title = f"{project.name} — {page.t('title')}"
    synthetic = "合成" in project.name or "synthetic" in project.name.lower()

    sections = [
        _headline(result, page),
        _grades(result, page, charts),
        _method(result, page),
        _inventory(result, page, charts),
        _watch(result, page),
        _value(result, page),
        _blocks(result, page, charts),
        _park(result, page),
        _robustness(result, page),
        _kpi_paths(kpi_paths, page, charts),
        _rings(result, page),
        _scatter(result, page),
        _adjustment(result, page),
        _screens(result, page),
        _chains(result, page),
        _services(result, page),
        _ownership(result, page),
        _assembly(result, page),
        _decisions(result, page),
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
