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
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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
    for c in range(out.shape[1]):
        column, series = out.columns[c], out.iloc[:, c]
        if pd.api.types.is_bool_dtype(series):
            shown = np.full(len(series), None, dtype=object)
            present = series.notna().to_numpy()
            shown[present] = np.where(series[present].to_numpy(dtype=bool), flags[True], flags[False])
            out.isetitem(c, pd.Series(shown, index=series.index))  # the dtype inferred, as Series.map does
        elif _is_text(series):
            mapping = (values.get(column) if isinstance(column, str) else None) or {}
            out.isetitem(c, _shown_text(series, mapping, flags))
    return out


def _shown_text(series: pd.Series, mapping: Mapping[str, str], flags: Mapping[bool, str]) -> pd.Series:
    """Return a text column's values as shown: codes through ``mapping``, booleans as ``flags``, the rest as they are.

    A column of text (and missing values) is mapped through its distinct values, each looked up
    once; a mixed one (text with booleans or numbers) value by value.
    """
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        texts = series.to_numpy(dtype=object)
        if mapping:
            codes, uniques = pd.factorize(texts)
            shown = np.array([mapping.get(u, u) for u in uniques] + [None], dtype=object)[codes]
            missing = codes < 0
            shown[missing] = texts[missing]  # missing values stay as they were (None, NaN or NA)
            texts = shown
        return pd.Series(texts, index=series.index)  # the dtype inferred, as Series.map does

    def show(v: object) -> object:
        if isinstance(v, str):
            return mapping.get(v, v)
        if isinstance(v, bool | np.bool_):
            return flags[bool(v)]
        return v

    return series.astype(object).map(show)


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


def _lines_width(text: str) -> int:
    """Return the width of the widest line of ``text`` (:func:`text_width`); plain ASCII is its length."""
    if text.isascii() and text.isprintable():
        return len(text)
    return max((text_width(line) for line in text.splitlines()), default=0)


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
    # each distinct value measured once (ids are distinct, but codes and names repeat)
    shown = (value if isinstance(value, str) else _shown_number(value, fmt) for value in pd.unique(present.to_numpy(dtype=object)))
    widest = max(map(_lines_width, shown), default=0)
    heading = max((text_width(line) for line in head.splitlines()), default=0)
    return float(min(max(heading, widest, WIDTH_MIN - 2) + 2, WIDTH_MAX))


def _print_setup(ws: Any, lang: str) -> None:
    """Set landscape A4, one page wide, the header row on every page, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页" if lang == "zh" else "&CPage &P of &N")


class ExcelSheet:
    """One sheet of a workbook, ready to write: headers, shown values, number formats, widths, texts to quote.

    ``table`` holds the values as shown (:func:`shown_values`), text cut to
    :data:`EXCEL_TEXT_MAX` characters; ``quoted`` maps a column (by position) to the (0-based)
    data rows of text a spreadsheet would run (:data:`FORMULA_START`), which get Excel's quote prefix.
    """

    __slots__ = ("formats", "heads", "name", "quoted", "table", "widths")

    def __init__(self, name: str, heads: list[str], table: pd.DataFrame, formats: list[str | None],
                 widths: list[float], quoted: dict[int, np.ndarray]) -> None:
        self.name, self.heads, self.table, self.formats = name, heads, table, formats
        self.widths, self.quoted = widths, quoted

    def rows(self) -> Iterator[tuple[object, ...]]:
        """Return the data rows as tuples of Python values, None where a value is missing."""
        return zip(*(_cells(self.table.iloc[:, c]) for c in range(self.table.shape[1])), strict=True)


def _cells(series: pd.Series) -> list[object]:
    """Return a column's cells as Python values, None where a value is missing."""
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else ""
    out: list[object]
    if kind in "iub" and kind:
        out = series.to_numpy().tolist()
        return out
    if kind == "f":
        values = series.to_numpy()
        missing = np.isnan(values)
        if not missing.any():
            out = values.tolist()
            return out
        cells = values.astype(object)
        cells[missing] = None
        out = cells.tolist()
        return out
    cells = series.to_numpy(dtype=object)
    missing = pd.isna(cells)
    if missing.any():
        cells = cells.copy()
        cells[missing] = None
    out = cells.tolist()
    return out


def _text_cells(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return a text column with its text cut to :data:`EXCEL_TEXT_MAX` characters, and the rows of text a spreadsheet would run."""
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        if not series.notna().any():
            return series, np.empty(0, dtype=np.intp)
        if series.str.len().max() > EXCEL_TEXT_MAX:  # XlsxWriter's write_row would stop at the cell (returns -2)
            series = series.str.slice(0, EXCEL_TEXT_MAX)
        flagged = series.str.startswith(FORMULA_START)
        return series, np.flatnonzero(flagged.fillna(False).to_numpy(dtype=bool))
    texts = series.astype(object)
    is_str = texts.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not is_str.any():
        return series, np.empty(0, dtype=np.intp)
    if texts[is_str].str.len().max() > EXCEL_TEXT_MAX:
        texts = texts.map(lambda v: v[:EXCEL_TEXT_MAX] if isinstance(v, str) else v)
    flagged = texts[is_str].str.startswith(FORMULA_START).to_numpy(dtype=bool)
    return texts, np.flatnonzero(is_str)[flagged]


def excel_sheets(
    sheets: Mapping[str, pd.DataFrame],
    labels: Mapping[str, Label],
    *,
    lang: str = "zh",
    values: Mapping[str, Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[ExcelSheet]:
    """Return the sheets of a workbook ready to write (:class:`ExcelSheet`); see :func:`write_excel`."""
    headers = headers or {}
    out = []
    for name, frame in sheets.items():
        table = _plain(frame)
        heads = [headers.get(c) or header(c, labels, lang) for c in table.columns]
        shown = shown_values(table, lang, values)
        formats, widths, quoted = [], [], {}
        for i, column in enumerate(table.columns):
            label = labels.get(column)
            fmt = _number_format(label.unit if label else "", table.iloc[:, i])
            series = shown.iloc[:, i]
            widths.append(column_width(heads[i], series, fmt))
            if _is_text(series):
                cut, flagged = _text_cells(series)
                if cut is not series:
                    shown.isetitem(i, cut)
                if len(flagged):
                    quoted[i] = flagged
            formats.append(fmt)
        out.append(ExcelSheet(name[:31], heads, shown, formats, widths, quoted))
    return out


#: Workbook writers (``write_excel(engine=...)``): ``rust``, rustpy-xlsxwriter (the Rust
#: rust_xlsxwriter; an optional package, about five times faster; it does not release the GIL
#: for long, so a busy Python thread beside it slows it); ``xlsxwriter``, pure Python; ``auto``,
#: rust where it is installed and can write every sheet (no column mixes text and numbers), else xlsxwriter.
EXCEL_ENGINES = ("auto", "rust", "xlsxwriter")


def _arrow_tables(prepared: list[ExcelSheet]) -> list[object] | None:
    """Return the prepared sheets as Arrow tables (header names may repeat), or None if a column mixes text and other values."""
    import pyarrow as pa

    tables = []
    for sheet in prepared:
        arrays = []
        for c in range(sheet.table.shape[1]):
            series = sheet.table.iloc[:, c]
            if _is_text(series):
                if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
                    return None
                arrays.append(pa.array(series.to_numpy(dtype=object), type=pa.string(), from_pandas=True))
            elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                arrays.append(pa.array(series, from_pandas=True))
            else:
                return None
        tables.append(pa.Table.from_arrays(arrays, names=list(sheet.heads)))
    return tables


def _write_rust(path: Path, prepared: list[ExcelSheet], tables: list[object], lang: str) -> None:
    """Write the workbook with rustpy-xlsxwriter, in one call (the Arrow tables read without copying).

    It takes formats by column only: the quote prefix is on every cell of a text column holding
    text a spreadsheet would run (:attr:`ExcelSheet.quoted`), and ±inf is the text ``#DIV/0!``
    (xlsxwriter: the error value).
    """
    from rustpy_xlsxwriter import Format, write_worksheets

    head = Format().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align("vcenter").set_border("thin")
    quoted = Format().set_quote_prefix()
    numbers: dict[str, Format] = {}
    names = [sheet.name for sheet in prepared]
    footer = "&C第 &P 页，共 &N 页" if lang == "zh" else "&CPage &P of &N"
    setup = {"landscape": True, "paper_size": 9, "fit_to_pages": (1, 0), "repeat_rows": 0,  # as _print_setup
             "margins": {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}, "footer": footer}
    write_worksheets(
        list(zip(names, tables, strict=True)), str(path),
        freeze_panes={"general": {"row": 1, "col": 0}},
        column_widths={s.name: list(s.widths) for s in prepared},
        # None: a column without a format (the package takes it; its stubs say Format)
        column_formats={s.name: [quoted if c in s.quoted else numbers.setdefault(f, Format().set_num_format(f)) if f else None  # type: ignore[misc]
                                 for c, f in enumerate(s.formats)] for s in prepared},
        header_format=dict.fromkeys(names, head), row_heights={n: {0: 30} for n in names},
        autofilter={s.name: bool(s.heads) for s in prepared}, page_setup=dict.fromkeys(names, setup),
        inf_value="#DIV/0!")


def write_excel(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    labels: Mapping[str, Label],
    *,
    lang: str = "zh",
    values: Mapping[str, Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    engine: str = "auto",
) -> Path:
    """Write tables to one workbook: labelled headers, frozen header row, filters, number formats.

    Written by ``engine`` (:data:`EXCEL_ENGINES`): rustpy-xlsxwriter where it is installed,
    else XlsxWriter in constant-memory mode (rows stream to disk, and a column's number format
    is set once for the column; openpyxl took two minutes for a 50,000-parcel list). Text is
    always written as text, never as a formula or link (a cell starting with ``= + - @``, tab
    or CR carries Excel's quote prefix, so editing it keeps it text); coded values are shown in
    ``lang`` (see :func:`shown_values`); columns are as wide as their content; every sheet
    prints landscape, one page wide, with the header row on every page. ``headers`` (column →
    header) replaces the labelled header of the columns it names, in every sheet.
    """
    if engine not in EXCEL_ENGINES:
        raise ValueError(f"unknown workbook engine {engine!r}; use one of {EXCEL_ENGINES}")
    prepared = excel_sheets(sheets, labels, lang=lang, values=values, headers=headers)
    if engine != "xlsxwriter":
        import importlib.util

        tables = _arrow_tables(prepared) if importlib.util.find_spec("rustpy_xlsxwriter") else None
        if tables is not None:
            with atomic_path(Path(path)) as tmp:
                _write_rust(tmp, prepared, tables, lang)
            return Path(path)
        if engine == "rust":
            raise ValueError("the rust workbook engine needs rustpy-xlsxwriter, and no column mixing text and numbers")
    import xlsxwriter

    with atomic_path(Path(path)) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "nan_inf_to_errors": True,
                                              "strings_to_formulas": False, "strings_to_urls": False,
                                              "strings_to_numbers": False})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter", "border": 1})
        quoted = book.add_format({"quote_prefix": True})
        formats: dict[str, object] = {}
        for sheet in prepared:
            ws = book.add_worksheet(sheet.name)
            for i, (fmt, width) in enumerate(zip(sheet.formats, sheet.widths, strict=True)):
                if fmt and fmt not in formats:
                    formats[fmt] = book.add_format({"num_format": fmt})
                ws.set_column(i, i, width, formats.get(fmt) if fmt else None)
            ws.set_row(0, 30)
            for c, text in enumerate(sheet.heads):
                ws.write_string(0, c, text, head)
            # Text cells a spreadsheet would run get Excel's quote prefix, written over the row
            # (write_row itself writes strings as strings: strings_to_formulas/urls are off).
            hostile: dict[int, list[int]] = {}
            for c, rows in sheet.quoted.items():
                for r in rows.tolist():
                    hostile.setdefault(r + 1, []).append(c)
            write_row, write_string = ws.write_row, ws.write_string
            for r, row in enumerate(sheet.rows(), start=1):
                write_row(r, 0, row)
                if r in hostile:
                    for c in hostile[r]:
                        write_string(r, c, row[c], quoted)
            ws.freeze_panes(1, 0)
            if sheet.heads:
                ws.autofilter(0, 0, max(len(sheet.table), 1), len(sheet.heads) - 1)
            _print_setup(ws, lang)
        book.close()
    return Path(path)


def write_workbook_files(out_dir: Path, sheets: Mapping[str, pd.DataFrame], csvs: Mapping[str, pd.DataFrame],
                         labels: Mapping[str, Label], *, lang: str = "zh",
                         values: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """Write ``inventory.xlsx`` with ``sheets``, and each of ``csvs`` (file name → table) beside it.

    Returns the workbook's path first, then the CSV files'.
    """
    out_dir = Path(out_dir)
    written = [write_csv(out_dir / name, frame, labels, lang=lang, values=values) for name, frame in csvs.items()]
    return [write_excel(out_dir / "inventory.xlsx", sheets, labels, lang=lang, values=values), *written]
