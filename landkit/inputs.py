"""Reading the planner's inputs into canonical GeoDataFrames and tables.

I/O lives here and only here: vector layers through pyogrio (GeoPackage, shapefile, GeoJSON,
FileGDB), tables through pandas (CSV in UTF-8, UTF-8 with BOM or GBK; XLSX through openpyxl),
and tables or queries of a PostgreSQL/PostGIS database through :mod:`landkit.postgis` when the
path is a ``postgresql://`` URL.
Each reader returns canonical columns (:mod:`landkit.schema`) with units converted, plus the
problems found in the cells (:class:`landkit.issues.Issue`), never silently dropping a value.
"""

from __future__ import annotations

import logging
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from landkit.config import Project, Source, unit_of
from landkit.crs import ensure_crs
from landkit.errors import ConfigError, EncodingError, InputError
from landkit.issues import Issue
from landkit.postgis import is_db_url, read_source, source_label
from landkit.schema import CANONICAL, SPATIAL

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


# --- files ---------------------------------------------------------------------------------------


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(f"{what}: file not found: {path}")
    return path


def shapefile_encoding(shp: Path, override: str | None = None) -> str:
    """Decide the text encoding of a shapefile's attributes.

    The ``.cpg`` first, else strict UTF-8, else GBK (as GB18030). The chosen (or overridden)
    encoding is checked against the raw DBF bytes, because GDAL replaces undecodable bytes
    silently and garbled Chinese must not pass.

    Raises
    ------
    EncodingError
        If the declared or overridden encoding does not decode the text, or none tried does.
    """
    dbf = shp.with_suffix(".dbf")
    if not dbf.exists():
        dbf = shp.with_suffix(".DBF")
    if not dbf.exists():
        raise InputError(f"{shp}: the .dbf beside the .shp is missing; copy all the shapefile's files")
    text = _dbf_text_bytes(dbf)
    cpg = next((p for p in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")) if p.exists()), None)
    declared, how = override, "--encoding"
    if declared is None and cpg is not None:
        raw = cpg.read_text(encoding="ascii", errors="replace").strip()
        declared, how = _CPG_ALIASES.get(raw.upper().replace("-", ""), raw), f"{cpg.name}"
    if declared:
        try:
            text.decode(declared)
        except (UnicodeDecodeError, LookupError) as exc:
            guess = _guess_encoding(text)
            hint = f"; it looks like {guess}: pass --encoding {guess.lower()}" if guess else ""
            raise EncodingError(
                f"{shp}: text is not valid {declared} (as {how} says): {_describe(exc)}{hint}"
            ) from None
        # Most bytes decode as GBK, so a UTF-8 file mislabelled GBK would come out garbled; real
        # Chinese GBK text is almost never valid UTF-8, so valid UTF-8 means the label is wrong.
        if declared.upper().replace("-", "") != "UTF8" and not text.isascii() and _guess_encoding(text) == "UTF-8":
            raise EncodingError(
                f"{shp}: {how} says {declared} but the text is UTF-8; pass --encoding utf-8 (or fix the .cpg)"
            )
        return declared
    guess = _guess_encoding(text)
    if guess is None:
        raise EncodingError(
            f"{shp}: attribute text is neither UTF-8 nor GBK; write a .cpg naming its encoding or pass --encoding"
        )
    return guess


def _describe(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"byte {exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}"
    return str(exc)


def _guess_encoding(data: bytes) -> str | None:
    for encoding in FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "UTF-8" if encoding == "utf-8" else "GB18030"
    return None


def _dbf_text_bytes(dbf: Path) -> bytes:
    """Return the field names and character-field bytes of a dBASE file, concatenated.

    Hand-written because no library exposes the undecoded bytes: pyogrio/GDAL decode (and
    replace) on reading. The format is fixed: a 32-byte header (record count at 4, header length
    at 8, record length at 10), 32-byte field descriptors (name 0–10, type 11, length 16) ended
    by 0x0D, then fixed-width records each starting with a deletion flag.
    """
    data = dbf.read_bytes()
    if len(data) < 32:
        raise InputError(f"{dbf}: not a dBASE file (too short)")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    names, slices, offset = [], [], 1
    for start in range(32, header_len - 1, 32):
        desc = data[start : start + 32]
        if not desc or desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00")[0])
        length = desc[16]
        if chr(desc[11]) in "CM":
            slices.append((offset, offset + length))
        offset += length
    body = data[header_len : header_len + n_records * record_len]
    n = len(body) // record_len if record_len else 0
    records = np.frombuffer(body[: n * record_len], dtype=np.uint8).reshape(n, record_len) if n else None
    parts = list(names)
    if records is not None:
        parts += [records[:, a:b].tobytes() for a, b in slices]
    return b"\n".join(parts)


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
    label = f"{path}" + (f" (layer {source.layer})" if source.layer else "")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"{kind}: cannot open {path} as a vector dataset ({exc})") from None
    layer = source.layer
    if layer is None:
        layer = kind if kind in layers else (layers[0] if len(layers) == 1 else None)
        if layer is None:
            raise InputError(f"{kind}: {path} has several layers ({', '.join(layers)}); name one with `layer:`")
    elif layer not in layers:
        raise InputError(f"{kind}: {path} has no layer `{layer}`; layers: {', '.join(layers)}")
    encoding = source.encoding
    if path.suffix.lower() == ".shp":
        encoding = shapefile_encoding(path, source.encoding)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, use_arrow=True)
    except Exception as exc:
        raise InputError(f"{kind}: cannot read {label} ({exc})") from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name is None:
        raise InputError(f"{kind}: {label} has no geometry column")
    return ensure_crs(gdf, name=label, declared=source.crs)


def read_table(source: Source, *, kind: str, project: Project) -> pd.DataFrame:
    """Read a table: CSV (UTF-8, UTF-8 with BOM, GBK) or Excel (.xlsx).

    CSV cells are read as text and Excel cells keep their type (text stays text), so ids keep
    their leading zeros; numbers are converted, with their problems reported, by
    :func:`canonical_columns`. A database table keeps its column types; a land-price table with a
    geometry column is read as a zone layer.
    """
    if is_db_url(source.path):
        frame = read_source(source, kind=kind, geometry="auto" if kind == "land_price" else "drop")
        if isinstance(frame, gpd.GeoDataFrame):
            frame = ensure_crs(frame, name=source_label(source), declared=source.crs)
        return frame
    path = _existing(project.resolve(source.path), kind)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(path, source.sheet, kind)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, source.encoding, kind, sep="\t" if suffix == ".tsv" else ",")
    if suffix == ".xls":
        raise InputError(f"{kind}: {path} is an old .xls workbook; save it as .xlsx in Excel and point to that")
    raise InputError(f"{kind}: {path}: unknown table format `{suffix}`; use .csv or .xlsx")


def _read_excel(path: Path, sheet: str | None, kind: str) -> pd.DataFrame:
    # python-calamine (Rust) reads a 50,000-row sheet in well under a second; openpyxl takes ~10 s.
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(f"{kind}: cannot read {path} as an Excel workbook ({exc})") from None
    if sheet is not None and sheet not in book.sheet_names:
        raise InputError(f"{kind}: {path} has no sheet `{sheet}`; sheets: {', '.join(book.sheet_names)}")
    name = sheet if sheet is not None else book.sheet_names[0]
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows:
        raise InputError(f"{kind}: sheet `{name}` of {path} is empty")
    header, body = rows[0], rows[1:]
    columns = [str(h).strip() if h not in (None, "") else f"column_{i + 1}" for i, h in enumerate(header)]
    width = len(columns)
    body = [row[:width] + [""] * (width - len(row)) for row in body if any(v not in (None, "") for v in row)]
    return pd.DataFrame(body, columns=columns, dtype=object)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_csv(path: Path, encoding: str | None, kind: str, sep: str) -> pd.DataFrame:
    import io

    data = path.read_bytes()
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in tried:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            if encoding:
                guess = _guess_encoding(data.removeprefix(b"\xef\xbb\xbf"))
                hint = f"; it looks like {guess}: pass --encoding {guess.lower()}" if guess else ""
                raise EncodingError(f"{kind}: {path} is not valid {encoding}: {_describe(exc)}{hint}") from None
            continue
        try:
            return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
        except pd.errors.ParserError as exc:
            raise InputError(f"{kind}: cannot parse {path} as CSV ({exc})") from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{kind}: {path} is empty") from None
    raise EncodingError(f"{kind}: {path} is neither UTF-8 nor GBK text; save it as UTF-8 or pass --encoding")


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
    out: dict[str, pd.Series] = {}
    issues: list[Issue] = []
    id_col = _id_column(kind)
    for canonical, column in schema.items():
        spec = mapping.get(canonical)
        names = spec.names if spec else [canonical]
        found = next((present[n] for n in names if n in present), None)
        if found is None:
            if column.required or canonical in explicit:
                raise InputError(
                    f"{kind}: {name} has no column for `{canonical}` (looked for {', '.join(names)}); "
                    f"columns present: {', '.join(map(str, present))}; map it under columns.{kind}.{canonical}"
                )
            continue
        raw = frame[found]
        ids = frame[present[_first_present(mapping, id_col, present)]] if id_col and canonical != id_col else None
        values, problems = _convert(raw, canonical, column.kind, project, ids=ids)
        for row, value, what in problems:
            feature = str(ids.iloc[row]) if ids is not None else f"row {row + 2}"
            issues.append(Issue("error", what, kind, feature, f"column {found} ({canonical}): {value!r} {_WHAT[what]}"))
        if spec is not None and column.kind == "float":
            values = values * unit_of(spec, canonical)
        out[canonical] = values
    table = pd.DataFrame(out, index=frame.index)
    if isinstance(frame, gpd.GeoDataFrame):
        table = gpd.GeoDataFrame(table, geometry=frame.geometry.values, crs=frame.crs, index=frame.index)
    return Table(table, name, issues)


#: Years a canonical year column may hold; numbers beyond :data:`MAX_NUMBER` are refused.
YEAR_RANGE = (1800, 2200)
MAX_NUMBER = 1e15

_WHAT = {
    "non_numeric": "is not a number; fix the cell or leave it empty",
    "unknown_status": "is not a known status; add it under values.status in the project file",
    "unknown_bool": "is not yes/no; use 是/否 or add it under values.true / values.false",
    "not_a_year": f"is not a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}; fix the cell or leave it empty",
    "out_of_range": f"is infinite or beyond ±{MAX_NUMBER:.0e}; fix the cell or leave it empty",
}


def _id_column(kind: str) -> str | None:
    return {"parcels": "parcel_id", "enterprises": "enterprise_id", "blocks": "block_id"}.get(kind)


def _first_present(mapping: dict, canonical: str, present: dict) -> str:
    spec = mapping.get(canonical)
    names = spec.names if spec else [canonical]
    return next((n for n in names if n in present), next(iter(present)))


_BLANKS = ["", "nan", "NaN", "None", "<NA>"]


def _blank(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return raw.isna()
    return raw.isna() | raw.astype("string").str.strip().isin(_BLANKS).fillna(True).astype(bool)


def _convert(raw: pd.Series, canonical: str, kind: str, project: Project, ids: pd.Series | None):
    """Convert one raw column; return the values and (row, raw value, problem) triples."""
    problems: list[tuple[int, object, str]] = []
    blank = _blank(raw)
    if kind == "str":
        if not pd.api.types.is_string_dtype(raw):  # Excel numbers used as ids: 123.0 → "123"
            raw = raw.map(_cell_text, na_action="ignore")
        values = raw.astype("string").str.strip().astype(object).where(~blank, None)
        if canonical == "status":
            lookup = {v.lower(): k for k, vs in project.values.status.items() for v in vs}
            mapped = values.map(lambda s: lookup.get(s.lower()) if isinstance(s, str) else None)
            bad = mapped.isna() & ~blank
            problems += [(i, raw.iloc[i], "unknown_status") for i in np.flatnonzero(bad.to_numpy())]
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
    text = raw.where(~blank, None)
    numbers = pd.to_numeric(text, errors="coerce")
    retry = numbers.isna() & ~blank  # text such as "1,234" or "1 234": cleaned, then parsed again
    if retry.any():
        cleaned = text[retry].astype("string").str.replace(r"[,，\s]", "", regex=True).astype(object)
        numbers = numbers.astype(float)
        numbers[retry] = pd.to_numeric(cleaned, errors="coerce").astype(float)
    bad = numbers.isna() & ~blank
    problems += [(i, raw.iloc[i], "non_numeric") for i in np.flatnonzero(bad.to_numpy())]
    numbers = numbers.astype(float)
    if kind == "int":  # every canonical integer column is a year
        out_of_range = numbers.notna() & ~numbers.between(*YEAR_RANGE)
        problems += [(i, raw.iloc[i], "not_a_year") for i in np.flatnonzero(out_of_range.to_numpy())]
        return numbers.where(~out_of_range).round().astype("Int64"), problems
    out_of_range = numbers.notna() & ~(numbers.abs() <= MAX_NUMBER)  # inf, or beyond any real figure
    problems += [(i, raw.iloc[i], "out_of_range") for i in np.flatnonzero(out_of_range.to_numpy())]
    return numbers.where(~out_of_range), problems



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
        raise ConfigError(f"no input `{kind}`: set inputs.{kind}.path in the project file or pass it as an option")
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
    parts = ids.astype(str).str.strip().str.split(pattern, regex=True).explode().astype(str).str.strip()
    return parts.loc[lambda s: s != ""]


def input_crs(parcels: gpd.GeoDataFrame) -> CRS:
    """Return the parcels' CRS as read (used when outputs keep the input CRS)."""
    return CRS(parcels.crs)
