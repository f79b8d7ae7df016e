"""Workbooks and CSV files a planner opens in Excel: labelled headers, number formats, text never a formula.

- Excel: Chinese (or English) headers with units, frozen header row, number formats, filters,
  columns as wide as their content, and a print setup (landscape, one page wide, the header row
  on every page).
- CSV: UTF-8 with BOM (Excel then reads Chinese correctly), labelled headers.

Text from the data is never a formula (OWASP CSV injection): workbook cells of text are written
as strings (a cell starting with ``= + - @``, tab or CR with Excel's quote prefix), and such a
CSV cell gets a leading ``'``. Tables in Chinese show coded values in Chinese (土地状态 在产, not
``operating``; booleans 是/否, in English yes/no).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.deliver.labels import BOOLEAN_LABELS, Label, header, value_labels
from landkit.io.write import atomic_path

log = logging.getLogger(__name__)


#: Column widths of workbooks (in characters; a CJK character counts two), and how many values
#: of a column are measured.
WIDTH_MIN, WIDTH_MAX, WIDTH_SAMPLE = 8, 60, 1000





def labelled(frame: pd.DataFrame, labels: Mapping[str, Label], lang: str) -> pd.DataFrame:
    """Return a plain table with labelled headers (geometry dropped)."""
    table = _plain(frame)
    return table.rename(columns={c: header(c, labels, lang) for c in table.columns})


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Characters of text an Excel cell holds.
EXCEL_TEXT_MAX = 32_767


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table without its geometry column."""
    return pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype)


def shown_values(frame: pd.DataFrame, lang: str = "zh", values: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """Return the table with coded values as people read them in ``lang``.

    ``values`` is column → code → shown value (default :func:`landkit.deliver.labels.value_labels`
    without a project: the default profile's track names); booleans become 是/否 (yes/no),
    in boolean columns and in mixed ones alike.
    """
    values = value_labels(None, lang) if values is None else values
    i = 0 if lang == "zh" else 1
    flags = {True: BOOLEAN_LABELS[True][i], False: BOOLEAN_LABELS[False][i]}
    out = frame.copy(deep=False)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(object).map(lambda v: flags[bool(v)] if isinstance(v, bool | np.bool_) else None)
        elif _is_text(series):
            mapping = (values.get(column) if isinstance(column, str) else None) or {}

            def show(v: object, m: Mapping[str, str] = mapping) -> object:
                if isinstance(v, str):
                    return m.get(v, v)
                if isinstance(v, bool | np.bool_):
                    return flags[bool(v)]
                return v

            out[column] = series.astype(object).map(show)
    return out


def defused(text: object) -> object:
    """Return a CSV cell's text with a leading ``'`` if a spreadsheet would read it as a formula."""
    if isinstance(text, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_csv(
    path: Path,
    frame: pd.DataFrame,
    labels: Mapping[str, Label],
    *,
    lang: str = "zh",
    values: Mapping[str, Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Write a table as CSV in UTF-8 with BOM with labelled headers, atomically.

    Coded values are shown in ``lang`` (see :func:`shown_values`); text a spreadsheet would run
    as a formula gets a leading ``'`` (numbers, negative ones too, are left as they are).
    ``headers`` (column → header) replaces the labelled header of the columns it names.
    """
    table = shown_values(_plain(frame), lang, values)
    for c in range(table.shape[1]):
        if _is_text(table.iloc[:, c]):
            texts = table.iloc[:, c].astype(object)
            strings = texts[texts.map(lambda v: isinstance(v, str))]
            flagged = strings[strings.str.startswith(FORMULA_START)] if len(strings) else strings
            if len(flagged):
                texts = texts.where(~texts.index.isin(flagged.index), "'" + flagged) if texts.index.is_unique else texts.map(defused)
            table.isetitem(c, texts)
    headers = headers or {}
    table.columns = [defused(headers.get(c) or header(c, labels, lang)) for c in table.columns]
    with atomic_path(Path(path)) as tmp:
        # CRLF, as Excel writes CSV: the csv module then quotes a field holding a CR or an LF
        # (with "\n" alone, a bare CR went unquoted and split the row)
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return Path(path)


def _number_format(unit: str, series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series) or unit in ("年", "家", "人", "宗"):
        return "0"
    if unit in ("万元", "m²", "元/m²", "亩", "公顷", "万元/亩", "分"):
        return "#,##0.00"
    return "0.000"


def text_width(text: str) -> int:
    """Return the width of a line of text in Excel's character units: CJK (wide) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown_number(value: object, fmt: str | None) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return "#DIV/0!"
    if fmt == "0":
        return f"{number:.0f}"
    if fmt == "#,##0.00":
        return f"{number:,.2f}"
    if fmt == "0.000":
        return f"{number:.3f}"
    return f"{number:g}"


def column_width(head: str, series: pd.Series, fmt: str | None = None) -> float:
    """Return a column's width from its header and a sample of its values (capped at :data:`WIDTH_MAX`)."""
    present = series.dropna()
    if len(present) > WIDTH_SAMPLE:  # the first rows and rows spread over the rest
        picks = np.unique(np.r_[np.arange(WIDTH_SAMPLE // 2), np.linspace(0, len(present) - 1, WIDTH_SAMPLE // 2).astype(int)])
        present = present.iloc[picks]
    widest = 0
    for value in present.tolist():
        text = value if isinstance(value, str) else _shown_number(value, fmt)
        widest = max(widest, max((text_width(line) for line in text.splitlines()), default=0))
        if widest >= WIDTH_MAX:
            break
    heading = max((text_width(line) for line in head.splitlines()), default=0)
    return float(min(max(heading, widest, WIDTH_MIN - 2) + 2, WIDTH_MAX))


def _print_setup(ws, lang: str) -> None:
    """Landscape A4, one page wide, the header row on every page, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页" if lang == "zh" else "&CPage &P of &N")


def write_excel(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    labels: Mapping[str, Label],
    *,
    lang: str = "zh",
    values: Mapping[str, Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Write tables to one workbook: labelled headers, frozen header row, filters, number formats.

    XlsxWriter in constant-memory mode: rows stream to disk, and a column's number format is
    set once for the column (openpyxl took two minutes for a 50,000-parcel list). Text is
    always written as text, never as a formula or link (a cell starting with ``= + - @``, tab
    or CR carries Excel's quote prefix, so editing it keeps it text); coded values are shown in
    ``lang`` (see :func:`shown_values`); columns are as wide as their content; every sheet
    prints landscape, one page wide, with the header row on every page. ``headers`` (column →
    header) replaces the labelled header of the columns it names, in every sheet.
    """
    import xlsxwriter

    headers = headers or {}

    with atomic_path(Path(path)) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "nan_inf_to_errors": True,
                                              "strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter", "border": 1})
        quoted = book.add_format({"quote_prefix": True})
        formats: dict[str, object] = {}
        for name, frame in sheets.items():
            table = _plain(frame)
            ws = book.add_worksheet(name[:31])
            heads = [headers.get(c) or header(c, labels, lang) for c in table.columns]
            shown = shown_values(table, lang, values)
            for i, column in enumerate(table.columns):
                label = labels.get(column)
                fmt = _number_format(label.unit if label else "", table[column])
                if fmt and fmt not in formats:
                    formats[fmt] = book.add_format({"num_format": fmt})
                ws.set_column(i, i, column_width(heads[i], shown.iloc[:, i], fmt), formats.get(fmt) if fmt else None)
            ws.set_row(0, 30)
            for c, text in enumerate(heads):
                ws.write_string(0, c, text, head)
            # Text cells a spreadsheet would run get Excel's quote prefix, written over the row
            # (write_row itself writes strings as strings: strings_to_formulas/urls are off).
            hostile: dict[int, list[tuple[int, str]]] = {}
            for c in range(shown.shape[1]):
                series = shown.iloc[:, c]
                if not _is_text(series):
                    continue
                texts = series.astype(object)
                is_str = texts.map(lambda v: isinstance(v, str))
                if not is_str.any():
                    continue
                lengths = texts[is_str].str.len()
                if lengths.max() > EXCEL_TEXT_MAX:  # write_row would stop at the cell (XlsxWriter returns -2)
                    texts = texts.map(lambda v: v[:EXCEL_TEXT_MAX] if isinstance(v, str) else v)
                    shown.isetitem(c, texts)
                flagged = texts[is_str].str.startswith(FORMULA_START)
                for r in np.flatnonzero(is_str.to_numpy())[flagged.to_numpy()]:
                    hostile.setdefault(int(r) + 1, []).append((c, texts.iat[int(r)]))
            rows = shown.astype(object).where(shown.notna(), None).to_numpy().tolist()
            for r, row in enumerate(rows, start=1):
                ws.write_row(r, 0, row)
                for c, text in hostile.get(r, ()):
                    ws.write_string(r, c, text, quoted)
            ws.freeze_panes(1, 0)
            if len(table.columns):
                ws.autofilter(0, 0, max(len(table), 1), len(table.columns) - 1)
            _print_setup(ws, lang)
        book.close()
    return Path(path)
