"""Reading the planner's inputs into canonical GeoDataFrames and tables.

I/O lives here and only here: vector layers through pyogrio (GeoPackage, shapefile, GeoJSON,
FileGDB), tables through pandas (CSV in UTF-8, UTF-8 with BOM or GBK; XLSX through python-calamine),
and tables or queries of a PostgreSQL/PostGIS database through :mod:`landkit.io.postgis.write` when the
path is a ``postgresql://`` URL.
Each reader returns canonical columns (:mod:`landkit.core.schema`) with units converted, plus the
problems found in the cells (:class:`landkit.core.issues.Issue`), never silently dropping a value.

Spreadsheets from government offices are read as they come: title rows above the header are
skipped (the header is found by its column names, or given as ``header_row:``), a two-row header
of merged cells is flattened to ``上级/下级`` names, and a date in a year column gives its year.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import math
import re
import struct
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from landkit.config.models import ColumnSpec, Project, Source, unit_of
from landkit.core.crs import ensure_crs
from landkit.core.db_url import is_db_url
from landkit.core.errors import ConfigError, EncodingError, InputError
from landkit.core.i18n import _
from landkit.core.issues import Issue
from landkit.core.schema import CANONICAL, CODED_COLUMNS, SPATIAL
from landkit.io.columns import ColumnReport, column_report, matched_columns, suggest_column
from landkit.io.postgis.read import read_source, source_label

log = logging.getLogger(__name__)

#: Separators between parcel ids when one enterprise spans several parcels.
#: Separators of several parcel ids in one enterprise cell (``A；B``), unless the project names its own
#: (``values.parcel_id_separators``). Not a space or ``/``: ids such as ``MH 000001`` hold them.
PARCEL_ID_SEPARATORS = ("；", ";", "、")

#: File suffixes read as vector layers (a price-zone layer may stand in for a price table).
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".gdb", ".fgb")

#: The encodings tried, in order, for a text file or shapefile without a declared encoding.
#: GB18030 is the superset of GBK (and GB2312) that Chinese Windows writes as "ANSI".
FALLBACK_ENCODINGS = ("utf-8", "gb18030")

#: What .cpg files say, and GDAL's name for it.
_CPG_ALIASES = {"65001": "UTF-8", "UTF8": "UTF-8", "936": "GBK", "CP936": "GBK", "GB2312": "GBK", "ANSI": None}


@dataclass
class Table:
    """A canonical table read from an input, with the problems found while reading it."""

    frame: pd.DataFrame
    name: str
    issues: list[Issue] = field(default_factory=list)
    #: Which of the input's columns were read as what (:func:`landkit.io.columns.column_report`).
    columns: ColumnReport | None = None


# --- files ---------------------------------------------------------------------------------------


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(_("{what}: file not found: {path}").format(what=what, path=path))
    return path


@dataclass(frozen=True)
class DbfText:
    """A dBASE file's undecoded text: field names and, per character field, its records' bytes."""

    names: list[bytes]
    #: Character field (its index) → (width, the records' bytes of that field, concatenated).
    fields: dict[int, tuple[int, bytes]]

    def records(self) -> bytes:
        """All character fields' bytes."""
        return b"\n".join(data for _, data in self.fields.values())


def shapefile_encoding(shp: Path, override: str | None = None) -> str:
    """Decide the text encoding of a shapefile's attributes.

    The ``.cpg`` first, else strict UTF-8, else GBK (as GB18030). The chosen (or overridden)
    encoding is checked against the raw DBF bytes, because GDAL replaces undecodable bytes
    silently and garbled Chinese must not pass. Field names are checked leniently: ArcGIS and
    GDAL cut names at 10 bytes, which may split a character's bytes (``占地面积(亩)`` →
    ``占地面积(`` and half of ``亩``); such a name is decoded up to its last whole character
    (:func:`shapefile_field_names`).

    Raises
    ------
    EncodingError
        If the declared or overridden encoding does not decode the text, or none tried does;
        naming the field and the record.
    """
    text = _dbf_text(_dbf_path(shp))
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()), None)
    declared, how = override, "--encoding"
    if declared is None and cpg is not None:
        raw = cpg.read_text(encoding="ascii", errors="replace").strip()
        declared, how = _CPG_ALIASES.get(raw.upper().replace("-", ""), raw), f"{cpg.name}"
    if declared:
        problem = _undecodable(text, declared)
        if problem:
            guess = _guess_dbf_encoding(text)
            hint = _encoding_hint(guess)
            raise EncodingError(_("{file}: text is not valid {encoding} (as {how} says): {problem}{hint}").format(
                file=shp, encoding=declared, how=how, problem=problem, hint=hint))
        # Most bytes decode as GBK, so a UTF-8 file mislabelled GBK would come out garbled; real
        # Chinese GBK text is almost never valid UTF-8, so valid UTF-8 means the label is wrong.
        if declared.upper().replace("-", "") != "UTF8" and not text.records().isascii() and _guess_dbf_encoding(text) == "UTF-8":
            raise EncodingError(
                _("{file}: {how} says {encoding} but the text is UTF-8; pass --encoding utf-8 (or fix the .cpg)")
                .format(file=shp, how=how, encoding=declared)
            )
        return declared
    guess = _guess_dbf_encoding(text)
    if guess is None:
        raise EncodingError(
            _("{file}: attribute text is neither UTF-8 nor GBK ({problem}); "
              "write a .cpg naming its encoding or pass --encoding").format(file=shp, problem=_undecodable(text, "gb18030"))
        )
    return guess


def _encoding_hint(guess: str | None) -> str:
    """``; it looks like GB18030: pass --encoding gb18030`` (empty without a guess)."""
    if not guess:
        return ""
    return _("; it looks like {encoding}: pass --encoding {option}").format(encoding=guess, option=guess.lower())


def shapefile_field_names(shp: Path, encoding: str) -> tuple[list[str], list[str]]:
    """Return a shapefile's field names decoded with ``encoding``, and those that were cut.

    A name whose last character was cut by the 10-byte limit is decoded up to its last whole
    character (the cut bytes dropped) and listed in the second list, for a warning.
    """
    names, cut = [], []
    for raw in _dbf_text(_dbf_path(shp)).names:
        name, whole = _field_name(raw, encoding)
        names.append(name)
        if not whole:
            cut.append(name)
    return names, cut


def _dbf_path(shp: Path) -> Path:
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        raise InputError(_("{file}: the .dbf beside the .shp is missing; copy all the shapefile's files").format(file=shp))
    return dbf


def _field_name(raw: bytes, encoding: str) -> tuple[str, bool]:
    """Decode a field name; if it ends in a cut character (at most 3 bytes), without it. (name, whole?)"""
    for drop in range(4):
        try:
            return raw[: len(raw) - drop].decode(encoding), drop == 0
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError(encoding, raw, 0, len(raw), "not a field name in this encoding")


def _undecodable(text: DbfText, encoding: str) -> str | None:
    """Return where ``text`` does not decode as ``encoding`` (the field, the record), or None."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return _("`{encoding}` is not an encoding Python knows (e.g. gbk, gb18030, utf-8)").format(encoding=encoding)
    for index, raw in enumerate(text.names):
        try:
            _field_name(raw, encoding)
        except UnicodeDecodeError:
            return _("the name of field {n} ({raw!r})").format(n=index + 1, raw=raw)
    for index, (width, data) in text.fields.items():
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            name = _field_name(text.names[index], encoding)[0]
            record = exc.start // width + 1 if width else 1
            return _("field {name}, record {record}: byte {byte!r}").format(
                name=name, record=record, byte=exc.object[exc.start:exc.start + 1])
    return None


def _guess_encoding(data: bytes) -> str | None:
    """Return the first of UTF-8 and GB18030 that decodes a text file's bytes."""
    for encoding in FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _ENCODING_NAMES[encoding]
    return None


def _guess_dbf_encoding(text: DbfText) -> str | None:
    """Return the first of UTF-8 and GB18030 that decodes a dBASE file's names and text (:func:`_undecodable`)."""
    return next((_ENCODING_NAMES[e] for e in FALLBACK_ENCODINGS if _undecodable(text, e) is None), None)


#: The names the messages give the fallback encodings.
_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030"}


def _dbf_text(dbf: Path) -> DbfText:
    """Return the field names and character-field bytes of a dBASE file, undecoded.

    Hand-written because no library exposes the undecoded bytes: pyogrio/GDAL decode (and
    replace) on reading. The format is fixed: a 32-byte header (record count at 4, header length
    at 8, record length at 10), 32-byte field descriptors (name 0–10, type 11, length 16) ended
    by 0x0D, then fixed-width records each starting with a deletion flag.
    """
    data = dbf.read_bytes()
    if len(data) < 32:
        raise InputError(_("{file}: not a dBASE file (too short)").format(file=dbf))
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    names: list[bytes] = []
    slices: dict[int, tuple[int, int]] = {}
    offset = 1
    for start in range(32, header_len - 1, 32):
        desc = data[start : start + 32]
        if not desc or desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00")[0])
        length = desc[16]
        if chr(desc[11]) in "CM":
            slices[len(names) - 1] = (offset, offset + length)
        offset += length
    body = data[header_len : header_len + n_records * record_len]
    n = len(body) // record_len if record_len else 0
    records = np.frombuffer(body[: n * record_len], dtype=np.uint8).reshape(n, record_len) if n else None
    fields = {i: (b - a, records[:, a:b].tobytes() if records is not None else b"") for i, (a, b) in slices.items()}
    return DbfText(names, fields)


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _("byte {byte!r} at offset {offset}").format(byte=exc.object[exc.start:exc.start + 1], offset=exc.start)
    return str(exc)


def read_vector(source: Source, *, kind: str, project: Project) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoPackage, shapefile, GeoJSON, FileGDB) with a checked CRS.

    Parameters
    ----------
    source : Source
        Path, layer, encoding override and declared CRS.
    kind : str
        The input kind (``parcels``, ``blocks``, ...): names messages and picks the default
        layer of a multi-layer file.
    project : Project
        Resolves relative paths.
    """
    if is_db_url(source.path):
        gdf = read_source(source, kind=kind, geometry="require")
        return ensure_crs(gdf, name=source_label(source), declared=source.crs)
    path = _existing(project.resolve(source.path), kind)
    label = f"{path}" + (_(" (layer {layer})").format(layer=source.layer) if source.layer else "")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(_("{kind}: cannot open {path} as a vector dataset ({error})").format(
            kind=kind, path=path, error=exc)) from None
    layer = source.layer
    if layer is None:
        layer = kind if kind in layers else (layers[0] if len(layers) == 1 else None)
        if layer is None:
            raise InputError(_("{kind}: {path} has several layers ({layers}); name one with `layer:`").format(
                kind=kind, path=path, layers=", ".join(layers)))
    elif layer not in layers:
        raise InputError(_("{kind}: {path} has no layer `{layer}`; layers: {layers}").format(
            kind=kind, path=path, layer=layer, layers=", ".join(layers)))
    encoding = source.encoding
    names: list[str] | None = None
    if path.suffix.lower() == ".shp":
        encoding = shapefile_encoding(path, source.encoding)
        names, cut = shapefile_field_names(path, encoding)
        for name in cut:
            log.warning("%s", _("{file}: the field name {name} was cut at 10 bytes in the middle of a character (as "
                              "ArcGIS and GDAL write shapefiles); it is read as {name}: map it under that name")
                        .format(file=label, name=name))
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, use_arrow=True)
    except Exception as exc:
        raise InputError(_("{kind}: cannot read {label} ({error})").format(kind=kind, label=label, error=exc)) from None
    if names is not None and isinstance(gdf, gpd.GeoDataFrame):  # GDAL's decoding of a cut name varies: ours
        columns = [c for c in gdf.columns if c != gdf.geometry.name]
        if len(columns) == len(names):
            gdf = gdf.rename(columns=dict(zip(columns, names, strict=True)))
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name is None:
        raise InputError(_("{kind}: {label} has no geometry column").format(kind=kind, label=label))
    return ensure_crs(gdf, name=label, declared=source.crs)


def read_table(source: Source, *, kind: str, project: Project) -> pd.DataFrame:
    """Read a table: CSV (UTF-8, UTF-8 with BOM, GBK) or Excel (.xlsx).

    CSV cells are read as text and Excel cells keep their type (text stays text), so ids keep
    their leading zeros; numbers are converted, with their problems reported, by
    :func:`canonical_columns`. The header row of a file is found by :func:`find_header` (or given
    as ``header_row``) and a two-row header is flattened (:func:`header_names`); the frame's
    ``attrs["header"]`` says which rows were used. A database table keeps its column types; a land-price table with a
    geometry column is read as a zone layer.
    """
    if is_db_url(source.path):
        frame = read_source(source, kind=kind, geometry="auto" if kind == "land_price" else "drop")
        if isinstance(frame, gpd.GeoDataFrame):
            frame = ensure_crs(frame, name=source_label(source), declared=source.crs)
        return frame
    path = _existing(project.resolve(source.path), kind)
    suffix = path.suffix.lower()
    known = _known_names(kind, project)
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, source.sheet, kind, known=known, header_row=source.header_row)
    if suffix in (".csv", ".txt", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        return _read_csv(path, source.encoding, kind, sep=sep, known=known, header_row=source.header_row)
    if suffix == ".xls":
        raise InputError(_("{kind}: {path} is an old .xls workbook; save it as .xlsx in Excel and point to that")
                         .format(kind=kind, path=path))
    raise InputError(_("{kind}: {path}: unknown table format `{suffix}`; use .csv or .xlsx").format(
        kind=kind, path=path, suffix=suffix))


def _read_excel(path: Path, sheet: str | None, kind: str, *, known: AbstractSet[str] = frozenset(),
                header_row: int | None = None) -> pd.DataFrame:
    # python-calamine (Rust) reads a 50,000-row sheet in well under a second; openpyxl takes ~10 s.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(_("{kind}: cannot read {path} as an Excel workbook ({error})").format(
            kind=kind, path=path, error=exc)) from None
    if sheet is not None and sheet not in book.sheet_names:
        raise InputError(_("{kind}: {path} has no sheet `{sheet}`; sheets: {sheets}").format(
            kind=kind, path=path, sheet=sheet, sheets=", ".join(book.sheet_names)))
    name = sheet if sheet is not None else book.sheet_names[0]
    table = book.get_sheet_by_name(name)
    rows = table.to_python(skip_empty_area=False)  # from A1, every row as wide as the sheet
    if not any(not _is_blank(v) for row in rows for v in row):
        raise InputError(_("{kind}: sheet `{sheet}` of {path} is empty").format(kind=kind, sheet=name, path=path))
    # Merged ranges as ((first row, first column), (last row, last column)), 0-based; calamine
    # puts a merged range's value in its top-left cell and leaves the others empty.
    merges = getattr(table, "merged_cell_ranges", None) or []
    where = _("{kind}: sheet `{sheet}` of {path}").format(kind=kind, sheet=name, path=path)
    top, how = find_header(rows, known, header_row=header_row, where=where)
    columns, depth = header_names(rows, top, merges=merges, known=known, where=where)
    _log_header(where, top, depth, how)
    width = len(columns)
    body: list[list[object]] = []
    blank: list[int] = []  # the sheet rows left out, for the row numbers of messages (:func:`file_rows`)
    for number, row in enumerate(rows[top + depth :], start=top + depth + 1):
        if any(not _is_blank(v) for v in row):
            body.append([*row[:width], *[""] * (width - len(row))])
        else:
            blank.append(number)
    frame = pd.DataFrame(body, columns=_unique(columns), dtype=object)
    frame.attrs["header"] = {"row": top + 1, "rows": depth, "how": how, "blank": blank}
    return frame


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_csv(path: Path, encoding: str | None, kind: str, sep: str, *, known: AbstractSet[str] = frozenset(),
              header_row: int | None = None) -> pd.DataFrame:
    data = path.read_bytes()
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in tried:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            if encoding:
                hint = _encoding_hint(_guess_encoding(data.removeprefix(b"\xef\xbb\xbf")))
                raise EncodingError(_("{kind}: {path} is not valid {encoding}: {problem}{hint}").format(
                    kind=kind, path=path, encoding=encoding, problem=_describe(exc), hint=hint)) from None
            continue
        return _csv_frame(text.removeprefix("\ufeff"), path, kind, sep, known=known, header_row=header_row)
    raise EncodingError(_("{kind}: {path} is neither UTF-8 nor GBK text; save it as UTF-8 or pass --encoding").format(
        kind=kind, path=path))


def _csv_frame(text: str, path: Path, kind: str, sep: str, *, known: AbstractSet[str],
               header_row: int | None) -> pd.DataFrame:
    """Parse CSV text whose header may sit below title lines, or span two lines."""
    where = f"{kind}: {path}"
    # The first lines as records (a blank line is an empty record, so record N is line N as Excel
    # shows the file), with the number of physical lines read up to each.
    lines = io.StringIO(text, newline=None).readlines()
    reader = csv.reader(lines, delimiter=sep, skipinitialspace=True)
    head: list[list[str]] = []
    ends: list[int] = []
    wanted = max(HEADER_SEARCH_ROWS, header_row or 0) + 1
    try:
        for record in reader:
            head.append(record)
            ends.append(reader.line_num)
            if len(head) >= wanted:
                break
    except csv.Error:  # what the csv module cannot split pandas may: look at the records before it
        pass
    options = {"sep": sep, "dtype": str, "keep_default_na": False, "skipinitialspace": True}
    if not any(not _is_blank(v) for row in head for v in row):
        if not head and text.strip():
            return _pandas_csv(text, path, kind, options, {"row": 1, "rows": 1, "how": "first non-empty row"})
        raise InputError(_("{kind}: {path} is empty").format(kind=kind, path=path))
    width = max(len(r) for r in head)
    head = [r + [""] * (width - len(r)) for r in head]
    top, how = find_header(head, known, header_row=header_row, where=where)
    if top + 1 >= len(head):  # the header is the last record read: no second header row to look at
        head.append([""] * width)
    columns, depth = header_names(head, top, merges=None, known=known, where=where)
    _log_header(where, top, depth, how)
    header = {"row": top + 1, "rows": depth, "how": how, "blank": _blank_records(lines, sep, below=top + depth)}
    if top == 0 and depth == 1:  # an ordinary file: read as it is
        return _pandas_csv(text, path, kind, options, header)
    # The flattened header on one line, then the lines below the header.
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerow(columns)
    rest = "".join(lines[ends[min(top + depth, len(ends)) - 1] :])
    return _pandas_csv(out.getvalue() + rest, path, kind, options, header)


def _blank_records(lines: list[str], sep: str, *, below: int) -> list[int]:
    """Return the numbers of the blank records below record ``below``: the lines pandas skips, so that the rows named stay the file's."""
    if not any(not line.strip() for line in lines[below:]):
        return []
    reader = csv.reader(lines, delimiter=sep, skipinitialspace=True)
    try:
        return [number for number, record in enumerate(reader, start=1)
                if number > below and len(record) <= 1 and not "".join(record).strip()]
    except csv.Error:  # a file the csv module cannot split: number the rows as pandas reads them
        return []


def file_rows(header: Mapping[str, Any] | None, count: int) -> np.ndarray:
    """Return the file's row number (as Excel shows it) of each of ``count`` data rows read under ``header``.

    Parameters
    ----------
    header : mapping or None
        A table's ``attrs["header"]``: the header's first ``row`` (1-based), its ``rows``, and the
        ``blank`` rows below it that were left out. None for a table with a header on row 1.
    count : int
        How many data rows were read.

    Returns
    -------
    ndarray of int
        Row numbers, increasing; the first data row follows the header, blank rows are skipped.
    """
    header = header or {}
    numbers: np.ndarray = np.arange(count) + int(header.get("row", 1)) + int(header.get("rows", 1))
    for blank in sorted(header.get("blank", [])):  # each blank row at or above a row pushes it one down
        numbers[numbers >= blank] += 1
    return numbers


def _pandas_csv(text: str, path: Path, kind: str, options: dict[str, Any], header: dict[str, Any]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), **options)
    except pd.errors.ParserError as exc:
        raise InputError(_("{kind}: cannot parse {path} as CSV ({error})").format(kind=kind, path=path, error=exc)) from None
    except pd.errors.EmptyDataError:
        raise InputError(_("{kind}: {path} is empty").format(kind=kind, path=path)) from None
    frame.attrs["header"] = header
    return frame


# --- header rows ----------------------------------------------------------------------------------

#: How many rows at the top of a sheet are searched for the header row (below a title and notes).
HEADER_SEARCH_ROWS = 15

#: Joins the two levels of a flattened two-row header: 税收 over 增值税 is the column ``税收/增值税``.
HEADER_SEPARATOR = "/"


def _known_names(kind: str, project: Project) -> set[str]:
    """Return the column names that identify a header row of ``kind``: every candidate name, and the canonical names."""
    names = set(CANONICAL.get(kind, {}))
    for spec in (getattr(project.columns, kind, None) or {}).values():
        names.update(str(n).strip() for n in spec.names)
    return names


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _text(value: object) -> str:
    """Return a header cell as text ("" when empty; 2023.0 → "2023")."""
    return "" if _is_blank(value) else _cell_text(value).strip()


def find_header(rows: Sequence[Sequence[object]], known: AbstractSet[str], *, header_row: int | None = None,
                where: str = "table") -> tuple[int, str]:
    """Find the (first) header row of a sheet: ``(0-based index, how it was found)``.

    ``header_row`` (1-based) is taken as given. Otherwise the header is the first of the first
    :data:`HEADER_SEARCH_ROWS` rows holding at least two different ``known`` column names, so a
    title (闵行区2025年企业名录), a blank row or a unit note (单位：万元) above it is skipped. When no
    row holds two known names, the first of those rows with at least two filled cells (a title row
    has one) is taken, else the first non-empty row; the missing columns are then reported by
    :func:`canonical_columns` against real headers.

    Raises
    ------
    InputError
        If ``header_row`` is beyond the sheet or names an empty row.
    """
    if header_row is not None:
        if header_row > len(rows):
            raise InputError(_("{where}: header_row {row} is beyond the last row ({last})").format(
                where=where, row=header_row, last=len(rows)))
        if all(_is_blank(v) for v in rows[header_row - 1]):
            raise InputError(_("{where}: header_row {row} is an empty row; give the row of the column names").format(
                where=where, row=header_row))
        return header_row - 1, "header_row"
    top = rows[:HEADER_SEARCH_ROWS]
    for i, row in enumerate(top):
        if len({t for t in map(_text, row) if t in known}) >= 2:
            return i, "names"
    for i, row in enumerate(top):
        if sum(not _is_blank(v) for v in row) >= 2:
            return i, "first filled row"
    return next(i for i, row in enumerate(rows) if any(not _is_blank(v) for v in row)), "first non-empty row"


#: A text cell that reads as a number or a date: in a second header row it means data.
_NUMBER_TEXT = re.compile(r"^[+-]?(\d[\d,，\s]*\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


def _is_value(value: object) -> bool:
    """Whether a cell holds a number, a date or a yes/no of Excel, or text reading as a number or date."""
    if isinstance(value, (bool, int, float, dt.date, dt.time, dt.timedelta)):
        return not _is_blank(value)
    text = str(value).strip()
    if re.fullmatch(r"\d{4}\s*年", text):  # 2023年: a label (营业收入 over 2023年, 2024年) as much as a value
        return False
    return bool(text) and (bool(_NUMBER_TEXT.match(text)) or _text_year(text) is not None)


def header_names(rows: Sequence[Sequence[object]], top: int, *,
                 merges: Sequence[tuple[tuple[int, int], tuple[int, int]]] | None = None,
                 known: AbstractSet[str] = frozenset(), where: str = "table") -> tuple[list[str], int]:
    """Name the columns from the header at row ``top``, flattening a two-row header.

    Returns the column names and how many rows the header takes (1 or 2). The row below the
    header is a second header row when all of these hold:

    1. a *group* of the header spans several columns and the row below has a cell under it — a
       group is a horizontal merged range in the header row (Excel: ``税收`` merged over D:E) or,
       among cells in no merged range, a filled cell followed by empty cells or by repeats of
       itself (``税收, , `` or ``税收, 税收``, as a workbook saved without its merges or
       a CSV gives it);
    2. it is not a data row: it holds no number, date or yes/no — nor text reading as one, but
       ``2023年`` is a label — except, under a *merged* group, numbers such as years (营业收入
       over 2023, 2024);
    3. every column headed by a single-row cell (filled, in no group and not merged down) is
       empty in it — a data row fills its id and name columns; a cell merged down over both
       rows (营业收入(万元) over rows 3–4) is empty below in the sheet, as calamine reads it.

    Flattened names are ``上级/下级`` (``税收/增值税``); a column with one level keeps its name
    (a cell merged down, or an empty cell over a sub-header keeps the sub-header). Empty names
    are ``column_N``. Three-row headers are not recognised (give ``header_row`` of the lowest).
    """
    header = list(rows[top])
    width = len(header)
    names = [_text(v) for v in header]
    below = list(rows[top + 1]) + [""] * (width - len(rows[top + 1])) if top + 1 < len(rows) else [""] * width
    lower = [_text(v) for v in below[:width]]
    # group_of[c]: the first column of the group column c belongs to (None: a single-row column).
    group_of: list[int | None] = [None] * width
    merged_group = [False] * width
    covered = [False] * width  # part of a merged range starting in the header row
    for (r0, c0), (r1, c1) in merges or []:
        if r0 != top or c0 >= width:
            continue
        for c in range(c0, min(c1, width - 1) + 1):
            covered[c] = True
            if r1 == top and c1 > c0:  # merged across, not down: a group
                group_of[c], merged_group[c] = c0, True
    c = 0
    while c < width:  # unmerged runs: a name followed by empty cells or repeats of it
        if covered[c] or not names[c]:
            c += 1
            continue
        end = c + 1
        while end < width and not covered[end] and names[end] in ("", names[c]):
            end += 1
        if end - c > 1:
            for k in range(c, end):
                group_of[k] = c
        c = end
    under_group = [group_of[k] is not None and lower[k] != "" for k in range(width)]
    two_rows = (
        any(under_group)
        and all(
            not _is_value(below[k]) or (merged_group[k] and isinstance(below[k], (int, float)))
            for k in range(width)
            if lower[k]
        )
        and all(not lower[k] for k in range(width) if names[k] and group_of[k] is None and not covered[k])
    )
    if not two_rows:
        columns = [n or f"column_{k + 1}" for k, n in enumerate(names)]
        return columns, 1
    columns = []
    for k in range(width):
        group = group_of[k]
        upper = names[group] if group is not None else names[k]
        sub = lower[k]
        if upper and sub and sub != upper:
            columns.append(f"{upper}{HEADER_SEPARATOR}{sub}")
        else:
            columns.append(upper or sub or f"column_{k + 1}")
    for start in sorted({g for g in group_of if g is not None}):
        if names[start] in known and names[start] not in columns:
            parts = [columns[k] for k in range(width) if group_of[k] == start]
            log.warning("%s", _("{where}: the header {header} spans {parts}; map the one to use by that name "
                                "(e.g. {{column: {first}}})").format(
                where=where, header=names[start], parts=", ".join(parts), first=parts[0]))
    return columns, 2


def _how_found(how: str, *, names: str | None = None) -> str:
    """How the header row was found, for a message: ``as header_row says``, ``the first filled row`` ..."""
    texts = {"header_row": _("as header_row says"), "first filled row": _("the first filled row"),
             "first non-empty row": _("the first non-empty row"), "names": names or _("the names")}
    return texts.get(how, f"the {how}")


def _log_header(where: str, top: int, depth: int, how: str) -> None:
    rows = (_("rows {first}–{last}, flattened to 上级/下级 names").format(first=top + 1, last=top + depth)
            if depth == 2 else _("row {row}").format(row=top + 1))
    found = _how_found(how, names=_("found by its column names"))
    skipped = ""
    if top:
        skipped = (_("; rows 1–{top} above it skipped") if top > 1 else _("; row {top} above it skipped")).format(top=top)
    log.info("%s", _("{where}: header in {rows} ({how}){skipped}").format(where=where, rows=rows, how=found,
                                                                          skipped=skipped))


def _unique(columns: list[str]) -> list[str]:
    """Column names made unique as pandas does for CSV: a repeat of ``名称`` is ``名称.1``."""
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        if c in seen:
            seen[c] += 1
            c = f"{c}.{seen[c]}"
        else:
            seen[c] = 0
        out.append(c)
    return out


# --- canonical columns ----------------------------------------------------------------------------


def canonical_columns(frame: pd.DataFrame, *, kind: str, project: Project, name: str) -> Table:
    """Map a raw table onto canonical columns, converting types, units and vocabularies.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        The input as read; a GeoDataFrame keeps its geometry.
    kind : str
        Which canonical schema applies.
    project : Project
        Column mapping, vocabularies.
    name : str
        The file, for messages.

    Returns
    -------
    Table
        Canonical columns present in the input (required ones always), and the cell problems:
        non-numeric numbers, unknown statuses or yes/no values.

    Raises
    ------
    InputError
        If a required column, or a column the project file names explicitly, is absent.
    """
    mapping = getattr(project.columns, kind)
    explicit = set(project.explicit_columns.get(kind, []))
    schema = CANONICAL[kind]
    present = {str(c).strip(): c for c in frame.columns}
    read: dict[str, str] = {}
    out: dict[str, pd.Series] = {}
    issues: list[Issue] = []
    id_col = _id_column(kind)
    header = frame.attrs.get("header") or {}
    rows = file_rows(header, len(frame))  # the sheet row of each data row
    matched = matched_columns(present, mapping, kind)
    for canonical, column in schema.items():
        spec = mapping.get(canonical)
        names = spec.names if spec else [canonical]
        found = present[matched[canonical]] if canonical in matched else None
        if found is None:
            if column.required or canonical in explicit:
                alike = suggest_column([str(c) for c in present], canonical, names)
                fix = (_("if {source} holds it, map it: columns.{kind}.{column}: [{source}]").format(
                           source=alike, kind=kind, column=canonical) if alike
                       else _("map it under columns.{kind}.{column}").format(kind=kind, column=canonical))
                raise InputError(_(
                    "{kind}: {name} has no column for `{column}` (looked for {names}); columns present: {present}{hint}; {fix}"
                ).format(kind=kind, name=name, column=canonical, names=", ".join(names),
                         present=", ".join(map(str, present)), hint=_header_hint(frame, kind), fix=fix))
            continue
        raw = frame[found]
        read[canonical] = str(found)
        ids = frame[present[_first_present(mapping, id_col, present)]] if id_col and canonical != id_col else None
        values, problems = _convert(raw, canonical, column.kind, project, ids=ids)
        for row, value, what in problems:
            feature = str(ids.iloc[row]) if ids is not None else _("row {row}").format(row=rows[row])
            issues.append(Issue("error", what, kind, feature, _("column {column} ({canonical}): {value!r} {problem}")
                                .format(column=found, canonical=canonical, value=value, problem=_cell_problem(what))))
        if spec is not None and column.kind == "float":
            values = values * unit_of(spec, canonical)
        out[canonical] = values
    table = pd.DataFrame(out, index=frame.index)
    if isinstance(frame, gpd.GeoDataFrame):
        table = gpd.GeoDataFrame(table, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    table.attrs["header"] = header  # for the rows named by later checks (:func:`file_rows`)
    geometry = [frame.geometry.name] if isinstance(frame, gpd.GeoDataFrame) else []
    report = column_report(frame.columns, read, kind=kind, project=project, name=name, ignore=geometry)
    return Table(table, name, issues, report)


#: Years a canonical year column may hold; numbers beyond :data:`MAX_NUMBER` are refused.
YEAR_RANGE = (1800, 2200)
MAX_NUMBER = 1e15


def _cell_problem(what: str) -> str:
    """Say what is wrong with a cell (``non_numeric``, ``unknown_status`` ...), in the current language."""
    problems = {
        "non_numeric": _("is not a number; fix the cell or leave it empty"),
        "unknown_status": _("is not a known status; add it under values.status in the project file"),
        "unknown_ownership": _("is not a known ownership (国有, 集体, 国有载体); add it under values.ownership in the project file"),
        "unknown_fire_class": _("is not a fire hazard class (甲, 乙, 丙, 丁, 戊); add it under values.fire_class in the project file"),
        "unknown_facility_kind": _("is not a known kind of facility; add it under values.facility_kind in the project file"),
        "unknown_objection_status": _("is not a status of an objection (已受理, 成立, 驳回 …); add it under values.objection_status "
                                      "in the project file"),
        "unknown_bool": _("is not yes/no; use 是/否 or add it under values.true / values.false"),
        "not_a_year": _("is not a year between {low} and {high}; fix the cell or leave it empty").format(
            low=YEAR_RANGE[0], high=YEAR_RANGE[1]),
        "out_of_range": _("is infinite or beyond ±{limit:.0e}; fix the cell or leave it empty").format(limit=MAX_NUMBER),
    }
    return problems.get(what, _("is not allowed here; fix the cell"))


def _header_hint(frame: pd.DataFrame, kind: str) -> str:
    """Where the header was read, when it was not simply the first row found by its names."""
    header = frame.attrs.get("header") if hasattr(frame, "attrs") else None
    if not header or (header["row"] == 1 and header["how"] != "header_row"):
        return ""
    rows = (_("rows {first}–{last}").format(first=header["row"], last=header["row"] + 1) if header["rows"] == 2
            else _("row {row}").format(row=header["row"]))
    return _(" (header read from {rows}, {how}; if the header is another row, set inputs.{kind}.header_row)").format(
        rows=rows, how=_how_found(header["how"]), kind=kind)


def _id_column(kind: str) -> str | None:
    return {"parcels": "parcel_id", "enterprises": "enterprise_id", "blocks": "block_id"}.get(kind)


def _first_present(mapping: Mapping[str, ColumnSpec], canonical: str, present: Mapping[str, Any]) -> str:
    spec = mapping.get(canonical)
    names = spec.names if spec else [canonical]
    return next((n for n in names if n in present), next(iter(present)))


_BLANKS = ["", "nan", "NaN", "None", "<NA>"]


def _blank(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return raw.isna()
    return raw.isna() | raw.astype("string").str.strip().isin(_BLANKS).fillna(True).astype(bool)


def _convert(raw: pd.Series, canonical: str, kind: str, project: Project,
             ids: pd.Series | None) -> tuple[pd.Series, list[tuple[np.intp, object, str]]]:
    """Convert one raw column; return the values and (row, raw value, problem) triples."""
    problems: list[tuple[np.intp, object, str]] = []
    blank = _blank(raw)
    if kind == "str":
        if not pd.api.types.is_string_dtype(raw):  # Excel numbers used as ids: 123.0 → "123"
            raw = raw.map(_cell_text, na_action="ignore")
        values = raw.astype("string").str.strip().astype(object).where(~blank, None)
        if canonical in CODED_COLUMNS and (vocabulary := getattr(project.values, canonical)):
            lookup = {v.lower(): k for k, vs in vocabulary.items() for v in [k, *vs]}
            mapped = values.map(lambda s: lookup.get(s.lower()) if isinstance(s, str) else None)
            bad = mapped.isna() & ~blank
            problems += [(i, raw.iloc[i], f"unknown_{canonical}") for i in np.flatnonzero(bad.to_numpy())]
            values = mapped
        return values, problems
    if kind == "bool":
        yes = {v.lower() for v in project.values.true}
        no = {v.lower() for v in project.values.false}
        text = raw.map(lambda v: str(v).strip().lower(), na_action="ignore")
        values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        values[text.isin(yes)] = True
        values[text.isin(no)] = False
        bad = values.isna() & ~blank
        problems += [(i, raw.iloc[i], "unknown_bool") for i in np.flatnonzero(bad.to_numpy())]
        return values, problems
    original = raw  # problems name the cell as it was
    if kind == "int":  # every canonical integer column is a year: a date gives its year
        raw = _years(raw)
    text = raw.where(~blank, None)
    numbers = pd.to_numeric(text, errors="coerce")
    retry = numbers.isna() & ~blank  # text such as "1,234" or "1 234": cleaned, then parsed again
    if retry.any():
        cleaned = text[retry].astype("string").str.replace(r"[,，\s]", "", regex=True).astype(object)
        numbers = numbers.astype(float)
        numbers[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
    bad = numbers.isna() & ~blank
    problems += [(i, original.iloc[i], "non_numeric") for i in np.flatnonzero(bad.to_numpy())]
    numbers = numbers.astype(float)
    if kind == "int":
        out_of_range = numbers.notna() & ~numbers.between(*YEAR_RANGE)
        problems += [(i, original.iloc[i], "not_a_year") for i in np.flatnonzero(out_of_range.to_numpy())]
        # The whole year, not the nearest: 2015.6 typed in a year cell is June 2015 (2015.6 = 2015年6月).
        return np.floor(numbers.where(~out_of_range)).astype("Int64"), problems
    out_of_range = numbers.notna() & ~(numbers.abs() <= MAX_NUMBER)  # inf, or beyond any real figure
    problems += [(i, original.iloc[i], "out_of_range") for i in np.flatnonzero(out_of_range.to_numpy())]
    return numbers.where(~out_of_range), problems


#: Text dates whose year a year column takes: 2015-06-30, 2015/6/30, 2015.06, 2015-06-30 08:00:00.
_DATE_SEPARATED = re.compile(
    r"^(\d{4})\s*([-/.])\s*(\d{1,2})(?:\s*\2\s*(\d{1,2}))?(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
#: 2015年, 2015年6月, 2015年6月30日 (and 2015 年 6 月).
_DATE_CHINESE = re.compile(r"^(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?)?$")


def _text_year(text: str) -> int | None:
    """Return the year of a text date (``2015-06-30``, ``2015/6/30``, ``2015.06``, ``2015年6月``), else None.

    The month (and day) must be a real one, so ``2015.13`` is left to be read as a number.
    """
    text = text.strip()
    m = _DATE_SEPARATED.match(text)
    if m:
        year, month, day = int(m[1]), int(m[3]), m[4]
    else:
        m = _DATE_CHINESE.match(text)
        if not m:
            return None
        year, month, day = int(m[1]), int(m[2] or 1), m[3]
    try:
        dt.date(year, month, int(day) if day else 1)
    except ValueError:
        return None
    return year


def _year_of(value: object) -> object:
    if isinstance(value, (dt.date, np.datetime64)) and not pd.isna(value):  # datetime and Timestamp too
        return pd.Timestamp(value).year if isinstance(value, np.datetime64) else value.year
    if isinstance(value, str):
        year = _text_year(value)
        return value if year is None else year
    return value


def _years(raw: pd.Series) -> pd.Series:
    """Replace the dates of a year column by their years (Excel dates, GeoPackage dates, text dates)."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.year.astype(float)
    if pd.api.types.is_object_dtype(raw) or pd.api.types.is_string_dtype(raw):
        return raw.map(_year_of).astype(object)
    return raw


# --- the project's inputs ------------------------------------------------------------------------------


def read_input(kind: str, project: Project) -> Table:
    """Read one configured input into canonical columns.

    Raises
    ------
    ConfigError
        If the project names no such input.
    """
    source: Source | None = getattr(project.inputs, kind)
    if source is None:
        raise ConfigError(_("no input `{kind}`: set inputs.{kind}.path in the project file or pass it as an option")
                          .format(kind=kind))
    database = is_db_url(source.path)
    name = source_label(source) if database else str(project.resolve(source.path))
    if kind in SPATIAL or (not database and Path(source.path).suffix.lower() in VECTOR_SUFFIXES):
        frame = read_vector(source, kind=kind, project=project)
    else:
        frame = read_table(source, kind=kind, project=project)
    log.info("read %s: %d rows from %s", kind, len(frame), name)
    return canonical_columns(frame, kind=kind, project=project, name=name)


def split_parcel_ids(ids: pd.Series, separators: Sequence[str] = PARCEL_ID_SEPARATORS) -> pd.Series:
    """Split cells that list several parcel ids (``A；B``) into one row per id (same index), ids stripped."""
    pattern = "|".join(re.escape(s) for s in separators) if separators else r"(?!)"
    parts = ids.where(ids.notna(), "").astype(str).str.strip().str.split(pattern, regex=True).explode().astype(str).str.strip()
    return parts.loc[lambda s: s != ""]


def input_crs(parcels: gpd.GeoDataFrame) -> CRS:
    """Return the parcels' CRS as read (used when outputs keep the input CRS)."""
    return CRS(parcels.crs)
