"""The page of `landkit scenario`: each variant's settings, its figures against the base, charts, who changes class.

Rendered with the report's template (``report.html.j2``, autoescaped): every text from the data
or the scenarios file is plain and escaped there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import landkit
from landkit.config.models import Project
from landkit.deliver.charts import Charts
from landkit.deliver.labels import GRADE_COLOURS
from landkit.deliver.report_page import Page
from landkit.deliver.report_tables import (
    Cell,
    Link,
    Piece,
    Section,
    figure_piece,
    fmt_change,
    fmt_int,
    fmt_number,
    heading,
    note,
    num,
)
from landkit.deliver.templates import render

#: The summary's columns shown, with their headers (Chinese, English, unit) and decimals.
SUMMARY_COLUMNS: dict[str, tuple[str, str, str, int]] = {
    "A_parcels": ("A类", "A", "宗", 0), "B_parcels": ("B类", "B", "宗", 0), "C_parcels": ("C类", "C", "宗", 0),
    "D_parcels": ("D类", "D", "宗", 0), "U_parcels": ("不参评", "Not graded", "宗", 0),
    "listed_parcels": ("低效用地", "Listed", "宗", 0), "listed_mu": ("低效用地面积", "Listed area", "亩", 0),
    "land_freed_mu": ("腾退土地", "Land freed", "亩", 0), "floor_area_added_m2": ("新增建筑面积", "Floor area added", "万m²", 1),
    "tax_gain_wan": ("新增税收", "Tax gain", "万元", 0), "compensation_wan": ("补偿成本", "Compensation", "万元", 0),
    "class_changes": ("等级变化", "Class changes", "宗", 0), "up": ("上升", "Up", "宗", 0), "down": ("下降", "Down", "宗", 0),
    "listed_in": ("新列入清单", "Newly listed", "宗", 0), "listed_out": ("移出清单", "Delisted", "宗", 0),
    "path_changes": ("路径改变", "Path changed", "宗", 0),
}
#: Words of the page: key → (Chinese, English).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("政策情景分析", "Policy scenarios"),
    "settings": ("情景设置", "The variants"),
    "settings_note": ("每个情景在基准配置上改动下列设置，其余一切(数据、栅格统计、圈层通行时间、小而散分析、公共服务、产业链)与基准共用。",
                      "Each variant changes the settings below on the base profile; everything else (the data, raster "
                      "statistics, ring travel times, the small-and-scattered analysis, services, chains) is the base's."),
    "scenario": ("情景", "Scenario"), "description": ("说明", "Description"), "set": ("设置", "Settings"),
    "figures": ("情景对比", "The variants against the base"),
    "figures_note": ("等级、低效用地清单与盘活路径的收益和成本；变化数相对基准。", "Classes, the list and the paths' gains and cost; "
                     "changes are against the base."),
    "chart_classes": ("各情景评价等级(面积，亩)", "Classes by scenario (area, mu)"),
    "chart_list": ("各情景低效用地与腾退土地(亩)", "Listed land and land freed by scenario (mu)"),
    "listed": ("低效用地", "Listed"), "freed": ("腾退土地", "Land freed"),
    "paths": ("盘活路径(宗)", "Paths (parcels)"), "path": ("盘活路径", "Path"),
    "changes": ("等级变化的地块", "Parcels that change class"),
    "changes_note": ("“变动原因”是使地块得分变化最大的指标(其得分变化见后一列)；得分不变而等级变化的，是等级划分(占比或分数线)所致。"
                     "下表列出每个情景面积最大的 {n} 宗，全部见工作簿与 GeoPackage。",
                     "\u201cMoved by\u201d is the indicator that moved the score most (its points beside it); a class that changes "
                     "with the same score moved with the cuts or shares. The {n} largest parcels of each variant are listed; "
                     "all are in the workbook and the GeoPackage."),
    "no_changes": ("{name}：没有地块改变等级。", "{name}: no parcel changes class."),
    "moved_by": ("变动原因", "Moved by"), "moved_points": ("该项得分变化", "Its points"),
    "by_reason": ("按变动原因", "By what moved them"), "maps": ("地图", "Maps"), "map": ("情景地图(各情景一图层)", "Map (a layer per variant)"),
    "base": ("基准", "Base"), "total": ("合计", "Total"),
    "footer": ("landkit {v} · 情景分析", "landkit {v} · scenarios"),
}
#: Changed parcels listed per variant on the page.
CHANGES_SHOWN = 20


def _t(key: str, lang: str, **kw: Any) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def _header(column: str, lang: str) -> Cell:
    zh, en, unit, _ = SUMMARY_COLUMNS[column]
    text, shown_unit = (zh, unit) if lang == "zh" else (en, {"宗": "", "亩": "mu", "万元": "10k yuan", "万m²": "10k m²"}[unit])
    return num(f"{text}({shown_unit})" if shown_unit else text)


def _value(column: str, value: Any) -> Cell:
    decimals = SUMMARY_COLUMNS[column][3]
    if column == "floor_area_added_m2":
        value = value / 1e4
    return num(fmt_int(value) if decimals == 0 and column.endswith(("parcels", "changes", "up", "down", "_in", "_out"))
               else fmt_number(value, decimals))


def _settings_text(settings: dict[str, Any]) -> str:
    return "；".join(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in settings.items())


def _chart_classes(charts: Charts, summary: pd.DataFrame, names: list[str], lang: str) -> bytes:
    def paint(ax: Any) -> None:
        bottom = np.zeros(len(summary))
        for grade in ("A", "B", "C", "D", "U"):
            values = summary[f"{grade}_mu"].to_numpy(float)
            ax.bar(names, values, bottom=bottom, color=GRADE_COLOURS[grade], edgecolor="#555555", linewidth=0.4,
                   label=charts.page.grade(grade))
            bottom += values
        ax.set_title(_t("chart_classes", charts.page.lang))
        ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
        ax.yaxis.set_major_formatter(charts.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.tick_params(axis="x", labelsize=7)

    return charts.draw((6.4, 3.4), paint)


def _chart_list(charts: Charts, summary: pd.DataFrame, names: list[str]) -> bytes:
    lang = charts.page.lang

    def paint(ax: Any) -> None:
        x = np.arange(len(summary))
        ax.bar(x - 0.2, summary["listed_mu"], width=0.4, color="#d7191c", label=_t("listed", lang))
        ax.bar(x + 0.2, summary["land_freed_mu"], width=0.4, color="#2b83ba", label=_t("freed", lang))
        ax.set_xticks(x, names, fontsize=7)
        ax.set_title(_t("chart_list", lang))
        ax.legend(fontsize=7, frameon=False)
        ax.yaxis.set_major_formatter(charts.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))

    return charts.draw((6.4, 3.0), paint)


def build_scenario_page(summary: pd.DataFrame, paths: pd.DataFrame, changes: pd.DataFrame, settings: dict[str, dict[str, Any]],
                        project: Project, *, lang: str = "zh", maps: Sequence[tuple[str, str]] = ()) -> str:
    """Return the scenarios as one self-contained, printable HTML page.

    Parameters
    ----------
    summary : DataFrame
        :func:`landkit.decide.scenarios.scenario_summary` (the base first).
    paths : DataFrame
        :func:`landkit.decide.scenarios.scenario_paths`.
    changes : DataFrame
        :func:`landkit.decide.scenarios.class_changes` (geometry not needed).
    settings : dict
        Each variant's settings (key → value), by name.
    project : Project
        The base profile (labels of paths and indicators).
    lang : {"zh", "en"}
        Language of the page.
    maps : sequence of (title, href)
        Links to the maps.
    """
    page = Page(project, lang)
    charts = Charts(page)
    base_name = str(summary["scenario"].iloc[0])
    names = [_t("base", lang) if n == base_name else str(n) for n in summary["scenario"]]
    sections: list[Section] = []

    rows = [[Cell(name, cls="name"), Cell(desc), Cell(_settings_text(settings.get(key, {})))]
            for name, key, desc in zip(names[1:], summary["scenario"].iloc[1:], summary["description"].iloc[1:], strict=True)]
    sections.append(Section("settings", _t("settings", lang),
                            [note(_t("settings_note", lang)),
                             page.table([_t("scenario", lang), _t("description", lang), _t("set", lang)], rows)], True))

    columns = list(SUMMARY_COLUMNS)
    body = [[Cell(name, cls="name"), *(_value(c, row[c]) for c in columns)] for name, (_, row) in zip(names, summary.iterrows(), strict=True)]
    parts: list[Piece | None] = [note(_t("figures_note", lang)),
                                 page.table([_t("scenario", lang), *(_header(c, lang) for c in columns)], body, cls="wide"),
                                 figure_piece(_chart_classes(charts, summary, names, lang), _t("chart_classes", lang)),
                                 figure_piece(_chart_list(charts, summary, names), _t("chart_list", lang))]
    if len(paths):
        table = paths.pivot_table(index="disposal", columns="scenario", values="parcels", aggfunc="sum", fill_value=0)
        table = table[[c for c in summary["scenario"] if c in table.columns]]
        prow = [[Cell(page.path(str(code))), *(num(fmt_int(v)) for v in values)] for code, values in table.iterrows()]
        parts += [heading(_t("paths", lang)),
                  page.table([_t("path", lang), *(num(n) for n, key in zip(names, summary["scenario"], strict=True) if key in table.columns)],
                             prow)]
    sections.append(Section("figures", _t("figures", lang), [p for p in parts if p is not None], True))

    indicator_names = {name: (ind.label_zh if lang == "zh" else ind.label_en) for name, ind in project.assessment.indicators.items()}
    change_parts: list[Piece | None] = [note(_t("changes_note", lang, n=CHANGES_SHOWN))]
    for name in summary["scenario"].iloc[1:]:
        of = changes[changes["scenario"] == name] if len(changes) else changes
        if not len(of):
            change_parts.append(note(_t("no_changes", lang, name=name)))
            continue
        change_parts.append(heading(str(name)))
        reason = f"moved_by_{lang}"
        counts = of.groupby(reason, sort=False).size().sort_values(ascending=False)
        change_parts.append(page.table([_t("by_reason", lang), num(page.with_unit(page.label("parcels"), page.count_unit()))],
                                       [[Cell(k), num(fmt_int(v))] for k, v in counts.items()],
                                       total=[_t("total", lang), num(fmt_int(len(of)))]))
        shown = of.sort_values("area_mu", ascending=False).head(CHANGES_SHOWN)
        headers = [page.label("parcel_id"), page.label("block_id"), num(page.header("area_mu")), _t("base", lang), Cell(str(name)),
                   num(page.header("score") + " " + _t("base", lang)), num(page.header("score") + " " + str(name)),
                   _t("moved_by", lang), num(_t("moved_points", lang))]
        body = [[Cell(r.parcel_id, cls="nowrap"), Cell(r.block_id), num(fmt_number(r.area_mu, 1)), Cell(page.grade(str(r.grade_base))),
                 Cell(page.grade(str(r.grade_scenario))), num(fmt_number(r.score_base, 1)), num(fmt_number(r.score_scenario, 1)),
                 Cell(indicator_names.get(str(r.moved_by), getattr(r, reason))), num(fmt_change(r.moved_points, 1))]
                for r in shown.itertuples(index=False)]
        change_parts.append(page.table(headers, body, cls="wide"))
    sections.append(Section("changes", _t("changes", lang), [p for p in change_parts if p is not None], True))
    if maps:
        sections.append(Section("maps", _t("maps", lang), [Piece("links", [Link(str(t), h) for t, h in maps])], False))

    title = f"{project.name} — {_t('title', lang)}"
    return render("report.html.j2", lang="zh-CN" if lang == "zh" else "en", title=title, project_name=project.name,
                  subtitle=_t("title", lang), year_label=page.t("year"), year=str(project.year or ""),
                  synthetic=page.t("synthetic") if ("合成" in project.name or "synthetic" in project.name.lower()) else "",
                  contents=page.t("contents"), sections=sections, footer=_t("footer", lang, v=landkit.__version__))
