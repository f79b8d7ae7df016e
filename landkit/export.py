"""Exports a planner opens elsewhere: shapefile (GBK or UTF-8), GeoPackage, Excel and CSV.

- Shapefile: field names of at most 10 bytes in the chosen encoding, without collisions, a
  ``.cpg`` always, strings cut to 254 bytes at a character boundary, and a data dictionary
  (``<name>_fields.csv``: short name → column → Chinese label → English label → unit) beside it.
- Excel: Chinese (or English) headers with units, frozen header row, number formats, filters,
  and a summary sheet.
- CSV: UTF-8 with BOM (Excel then reads Chinese correctly), labelled headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from landkit.errors import LandkitError
from landkit.labels import Label, header
from landkit.output import atomic_path, write_layers, write_vector

SHAPEFILE_FIELD_BYTES = 10
SHAPEFILE_STRING_BYTES = 254


def _fits(name: str, encoding: str) -> bool:
    return len(name.encode(encoding)) <= SHAPEFILE_FIELD_BYTES


def _cut(name: str, encoding: str, limit: int = SHAPEFILE_FIELD_BYTES) -> str:
    while len(name.encode(encoding)) > limit:
        name = name[:-1]
    return name


def shapefile_field_names(columns: list[str], labels: Mapping[str, Label], encoding: str = "utf-8") -> dict[str, str]:
    """Return column → shapefile field name (≤ 10 bytes in ``encoding``, unique, case-insensitive).

    The label table's short name is used when there is one; otherwise the column name (or, for
    ``<name>_pts``, the short name of ``<name>`` with ``_p``) cut to 10 bytes; a collision gets a
    numeric suffix.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        label = labels.get(column)
        base = label.short if label and label.short else ""
        if not base and column.endswith("_pts"):
            stem = labels.get(column[:-4])
            base = (stem.short if stem and stem.short else column[:-4])[:7] + "_p"
        if not base and column.endswith("_score"):
            stem = labels.get(column[:-6])
            base = (stem.short if stem and stem.short else column[:-6])[:7] + "_s"
        base = _cut(base or column, encoding)
        name, n = base, 1
        while name.lower() in taken:
            suffix = str(n)
            name = _cut(base, encoding, SHAPEFILE_FIELD_BYTES - len(suffix)) + suffix
            n += 1
        taken.add(name.lower())
        out[column] = name
    return out


def data_dictionary(fields: Mapping[str, str], labels: Mapping[str, Label]) -> pd.DataFrame:
    """Return the data dictionary of a shapefile: short name, column, labels and unit."""
    rows = []
    for column, short in fields.items():
        label = labels.get(column, Label(column, column))
        rows.append({"field": short, "column": column, "label_zh": label.zh, "label_en": label.en, "unit": label.unit})
    return pd.DataFrame(rows, columns=["field", "column", "label_zh", "label_en", "unit"])


def _cut_text(value: object, encoding: str) -> object:
    if not isinstance(value, str):
        return value
    data = value.encode(encoding, errors="replace")
    if len(data) <= SHAPEFILE_STRING_BYTES:
        return value.encode(encoding, errors="replace").decode(encoding)
    return data[:SHAPEFILE_STRING_BYTES].decode(encoding, errors="ignore")


def write_shapefile(path: Path, layer: gpd.GeoDataFrame, labels: Mapping[str, Label], *, encoding: str = "utf-8") -> list[Path]:
    """Write a layer as a shapefile with its data dictionary; return the files written.

    Characters the encoding cannot hold (rare outside GBK) become ``?``; strings longer than
    254 bytes are cut at a character boundary.
    """
    codec = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}.get(encoding.lower())
    if codec is None:
        raise LandkitError(f"shapefile encoding `{encoding}` is not supported; use utf-8 or gbk")
    columns = [c for c in layer.columns if c != layer.geometry.name]
    fields = shapefile_field_names(columns, labels, codec)
    frame = layer.rename(columns=fields)
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        series = frame[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            frame[column] = series.map(lambda v: _cut_text(v, codec)).astype(object)
        elif pd.api.types.is_bool_dtype(series):
            frame[column] = series.astype("Int64") if series.hasnans else series.astype(int)
    shp = write_vector(Path(path), frame, encoding=codec.upper())
    dictionary = Path(path).with_name(Path(path).stem + "_fields.csv")
    with atomic_path(dictionary) as tmp:
        data_dictionary(fields, labels).to_csv(tmp, index=False, encoding="utf-8-sig")
    return [shp, dictionary]


def labelled(frame: pd.DataFrame, labels: Mapping[str, Label], lang: str) -> pd.DataFrame:
    """Return a plain table with labelled headers (geometry dropped)."""
    table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame)
    return table.rename(columns={c: header(c, labels, lang) for c in table.columns})


def write_csv(path: Path, frame: pd.DataFrame, labels: Mapping[str, Label], *, lang: str = "zh") -> Path:
    """Write a table as CSV in UTF-8 with BOM with labelled headers, atomically."""
    with atomic_path(Path(path)) as tmp:
        labelled(frame, labels, lang).to_csv(tmp, index=False, encoding="utf-8-sig")
    return Path(path)


def _number_format(unit: str, series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series) or unit in ("年", "家", "人", "宗"):
        return "0"
    if unit in ("万元", "m²", "元/m²", "亩", "公顷", "万元/亩", "分"):
        return "#,##0.00"
    return "0.000"


def write_excel(
    path: Path,
    sheets: Mapping[str, pd.DataFrame],
    labels: Mapping[str, Label],
    *,
    lang: str = "zh",
) -> Path:
    """Write tables to one workbook: labelled headers, frozen header row, filters, number formats.

    XlsxWriter in constant-memory mode: rows stream to disk, and a column's number format is
    set once for the column (openpyxl took two minutes for a 50,000-parcel list).
    """
    import xlsxwriter

    with atomic_path(Path(path)) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "nan_inf_to_errors": True})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter", "border": 1})
        formats: dict[str, object] = {}
        for name, frame in sheets.items():
            table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if isinstance(frame, gpd.GeoDataFrame) else frame)
            ws = book.add_worksheet(name[:31])
            headers = [header(c, labels, lang) for c in table.columns]
            for i, column in enumerate(table.columns):
                label = labels.get(column)
                fmt = _number_format(label.unit if label else "", table[column])
                if fmt and fmt not in formats:
                    formats[fmt] = book.add_format({"num_format": fmt})
                width = min(max(len(headers[i]) * 2, 10), 40)
                ws.set_column(i, i, width, formats.get(fmt) if fmt else None)
            ws.set_row(0, 30)
            ws.write_row(0, 0, headers, head)
            values = table.astype(object).where(table.notna(), None).to_numpy().tolist()
            for r, row in enumerate(values, start=1):
                ws.write_row(r, 0, row)
            ws.freeze_panes(1, 0)
            if len(table.columns):
                ws.autofilter(0, 0, max(len(table), 1), len(table.columns) - 1)
        book.close()
    return Path(path)


def export_layer(
    path: Path,
    layer: gpd.GeoDataFrame,
    labels: Mapping[str, Label],
    *,
    encoding: str = "utf-8",
    lang: str = "zh",
    layer_name: str = "layer",
) -> list[Path]:
    """Write a layer in the format the suffix names: .shp, .gpkg, .geojson, .xlsx or .csv."""
    suffix = Path(path).suffix.lower()
    if suffix == ".shp":
        return write_shapefile(path, layer, labels, encoding=encoding)
    if suffix == ".gpkg":
        return [write_layers(Path(path), {layer_name: layer})]
    if suffix in (".geojson", ".json"):
        return [write_vector(Path(path), layer.to_crs("EPSG:4326"))]
    if suffix == ".xlsx":
        return [write_excel(path, {layer_name: layer}, labels, lang=lang)]
    if suffix == ".csv":
        return [write_csv(path, layer, labels, lang=lang)]
    raise LandkitError(f"{path}: unknown export format `{suffix}`; use .shp, .gpkg, .geojson, .xlsx or .csv")
