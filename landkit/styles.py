"""QGIS layer styles: the run's layers open in colour, from the GeoPackage and from PostGIS alike.

QGIS applies a layer's default style from a ``layer_styles`` table beside it:

- in a GeoPackage (OGR provider), the table QGIS and GDAL write themselves ("Save as default
  style in the database"), camel-case columns (``styleName``, ``styleQML``, ``useAsDefault`` ...),
  rows matched on ``f_table_schema = ''``, ``f_table_name`` and ``f_geometry_column``
  (:func:`layer_styles_table`);
- in PostgreSQL (postgres provider), ``public.layer_styles`` with QGIS's own definition
  (:data:`QGIS_STYLES_DDL`, lower-case columns, a serial ``id``), rows matched on
  ``f_table_catalog`` (the database), ``f_table_schema``, ``f_table_name``,
  ``f_geometry_column`` and ``(type = <the URI's geometry type> OR type IS NULL)``, the
  ``useasdefault`` row first (:func:`qgis_style_rows`; :mod:`landkit.postgis` writes them).
  landkit writes ``type`` NULL: QGIS 3.22 asks for ``type='Unknown geometry'`` when the layer's
  URI names no geometry type (a layer from a project file, PyQGIS, DB Manager), ``'Polygon'``
  when it does (the browser); only NULL matches both (seen in the server's statement log).

The styles are QML documents for QGIS 3.x: a ``categorizedSymbol`` or ``singleSymbol``
renderer whose symbols have one ``SimpleFill``, ``SimpleLine`` or ``SimpleMarker`` layer, as
the layer's geometry needs. Each symbol layer carries its properties twice, as QGIS 3.16–3.28
write them: ``<Option type="Map">`` (read by QGIS ≥ 3.26) and ``<prop k= v=>`` (read by the
QGIS 3.22 of today's desktops). :func:`with_fields` adds the attribute table's Chinese column
names (aliases) and, for coded columns, a value map, so that QGIS shows ``在产`` for
``operating`` while the layer keeps its codes (other clients and ``landkit compare`` read them);
the formats are those QGIS 3.22's ``exportNamedStyle`` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

import pandas as pd

QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
#: The QGIS version the QML declares (the oldest of those it is written for).
QML_VERSION = "3.22.0"
#: ``owner`` of the rows landkit writes; with :data:`STYLE_MARK` ending the description, it marks
#: the rows a later run replaces (a style a person saved from QGIS is never deleted).
STYLE_OWNER = "landkit"
STYLE_MARK = "(landkit)"

#: Geometry kind → QGIS symbol type.
SYMBOL_TYPES = {"polygon": "fill", "line": "line", "point": "marker"}

#: ``public.layer_styles`` as QGIS's postgres provider creates it (``QgsPostgresUtils::createStylesTable``,
#: QGIS 3.14 and later: ``type`` and ``r_raster_column`` added to the table of earlier versions).
QGIS_STYLES_DDL = (
    "id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, "
    "f_geometry_column varchar, styleName text, styleQML xml, styleSLD xml, useAsDefault boolean, "
    "description text, owner varchar(63) DEFAULT CURRENT_USER, ui xml, "
    "update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar, r_raster_column varchar"
)
#: The columns a table must have for QGIS to read styles from it (lower case, as PostgreSQL folds them).
QGIS_STYLES_REQUIRED = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                        "styleqml", "useasdefault")


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _symbol_layer(layer_class: str, props: Mapping[str, str]) -> str:
    """One symbol layer, its properties as ``<Option>`` (QGIS ≥ 3.26) and ``<prop>`` (QGIS ≤ 3.24)."""
    options = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items())
    old = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return (f'<layer class="{layer_class}" enabled="1" pass="0" locked="0">'
            f'<Option type="Map">{options}</Option>{old}</layer>')


def _symbol(kind: str, name: str, layer: str) -> str:
    return (f'<symbol type="{SYMBOL_TYPES[kind]}" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0">{layer}</symbol>')


def fill_symbol(name: str, colour: str, *, alpha: int = 255, outline: str = "#3c3c3c", outline_width: float = 0.1,
                filled: bool = True) -> str:
    """A fill symbol (``SimpleFill``): ``colour`` at ``alpha`` (0–255), or no fill; an outline in mm."""
    return _symbol("polygon", name, _symbol_layer("SimpleFill", {
        "color": _rgba(colour, alpha),
        "style": "solid" if filled else "no",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{outline_width:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
    }))


def line_symbol(name: str, colour: str, *, width: float = 0.4, alpha: int = 255) -> str:
    """A line symbol (``SimpleLine``) ``width`` mm wide."""
    return _symbol("line", name, _symbol_layer("SimpleLine", {
        "line_color": _rgba(colour, alpha),
        "line_style": "solid",
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
        "capstyle": "round",
        "joinstyle": "round",
        "offset": "0",
        "offset_unit": "MM",
    }))


def marker_symbol(name: str, colour: str, *, size: float = 3.0, outline: str = "#ffffff", shape: str = "circle") -> str:
    """A point symbol (``SimpleMarker``): a ``shape`` ``size`` mm across."""
    return _symbol("point", name, _symbol_layer("SimpleMarker", {
        "name": shape,
        "color": _rgba(colour),
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": "0.3",
        "outline_width_unit": "MM",
        "size": f"{size:g}",
        "size_unit": "MM",
        "angle": "0",
        "scale_method": "diameter",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
        "horizontal_anchor_point": "1",
        "vertical_anchor_point": "1",
    }))


def symbol(kind: str, name: str, colour: str, **options: object) -> str:
    """A symbol for a geometry ``kind`` (``polygon``, ``line``, ``point``), options as the maker takes them."""
    makers: dict[str, Callable[..., str]] = {"polygon": fill_symbol, "line": line_symbol, "point": marker_symbol}
    make = makers.get(kind)
    if make is None:
        raise ValueError(f"no QGIS symbol for geometry kind {kind!r}; use one of {', '.join(SYMBOL_TYPES)}")
    return make(name, colour, **options)


def _document(renderer: str) -> str:
    return f'{QML_HEAD}\n<qgis version="{QML_VERSION}" styleCategories="Symbology">{renderer}</qgis>'


def with_fields(qml: str, fields: Mapping[str, tuple[str, Mapping[str, str] | None]]) -> str:
    """Return ``qml`` with field aliases and value maps (QGIS's "Fields" and "Forms" style categories).

    Parameters
    ----------
    qml : str
        A document of :func:`categorized_qml` or :func:`single_symbol_qml`.
    fields : mapping
        Column → (alias, code → shown value or None). A value map makes QGIS's attribute table
        and forms show the values (``ValueMap`` widget); the data keep the codes.
    """
    if not fields:
        return qml
    config = []
    aliases = []
    for index, (name, (alias, values)) in enumerate(fields.items()):
        if values:
            entries = "".join(f'<Option type="Map"><Option value={quoteattr(str(code))} type="QString" name={quoteattr(str(shown))}/></Option>'
                              for code, shown in values.items())
            widget = f'<editWidget type="ValueMap"><config><Option type="Map"><Option type="List" name="map">{entries}</Option></Option></config></editWidget>'
            config.append(f'<field name={quoteattr(name)} configurationFlags="None">{widget}</field>')
        aliases.append(f'<alias field={quoteattr(name)} name={quoteattr(alias)} index="{index}"/>')
    added = f"<fieldConfiguration>{''.join(config)}</fieldConfiguration><aliases>{''.join(aliases)}</aliases>"
    return (qml.replace('styleCategories="Symbology"', 'styleCategories="Symbology|Fields|Forms"', 1)
            .removesuffix("</qgis>") + added + "</qgis>")


def categorized_qml(field: str, categories: Sequence[tuple[str, str, str]], kind: str = "polygon",
                    options: Mapping[str, Mapping[str, object]] | None = None, **common: object) -> str:
    """Return a QML document: a categorised renderer on ``field``.

    Parameters
    ----------
    field : str
        The attribute to categorise on.
    categories : sequence of (value, label, colour)
        One category per value, colour as ``#rrggbb``; the value ``""`` is QGIS's "all other values".
    kind : {"polygon", "line", "point"}
        The layer's geometry: fill, line or marker symbols.
    options : mapping, optional
        Value → symbol options for that category only (a line's ``width`` ...).
    **common
        Symbol options for every category (``alpha``, ``outline`` ...).
    """
    options = options or {}
    cats = "".join(
        f'<category value={quoteattr(value)} label={quoteattr(label)} symbol="{i}" render="true"/>'
        for i, (value, label, _) in enumerate(categories)
    )
    symbols = "".join(symbol(kind, str(i), colour, **{**common, **options.get(value, {})})
                      for i, (value, _, colour) in enumerate(categories))
    return _document(
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols><rotation/><sizescale/></renderer-v2>"
    )


def single_symbol_qml(colour: str, kind: str = "polygon", **options: object) -> str:
    """Return a QML document: one symbol for every feature (options as :func:`symbol` takes them)."""
    return _document(
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{symbol(kind, '0', colour, **options)}</symbols><rotation/><sizescale/></renderer-v2>"
    )


def geometry_kind(frame: pd.DataFrame, default: str | None = None) -> str | None:
    """Return a layer's geometry kind (``polygon``, ``line``, ``point``), ``default`` for an empty or mixed one.

    None for a plain table (no geometry).
    """
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    types = {str(t).removeprefix("Multi").lower() for t in frame.geom_type.dropna().unique()}
    names = {"polygon": "polygon", "linestring": "line", "point": "point"}
    kinds = {names.get(t) for t in types}
    return kinds.pop() if len(kinds) == 1 and None not in kinds else default


def layer_styles_table(styles: Mapping[str, tuple[str, str, str]], geometry_column: str = "geom") -> pd.DataFrame:
    """Return the GeoPackage's ``layer_styles`` table: one default style per layer.

    Parameters
    ----------
    styles : mapping
        Layer name → (style name, description, QML). The description should end with
        :data:`STYLE_MARK` (the PostGIS rows of a later run replace the rows so marked).
    geometry_column : str
        The layers' geometry column (GDAL writes ``geom`` in a GeoPackage).
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": layer,
            "f_geometry_column": geometry_column,
            "styleName": name,
            "styleQML": qml,
            "styleSLD": "",
            "useAsDefault": True,
            "description": description,
            "owner": STYLE_OWNER,
            "ui": "",
            "update_time": now,
        }
        for layer, (name, description, qml) in styles.items()
    ]
    return pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                                       "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"])


def qgis_style_rows(styles: pd.DataFrame, *, catalog: str, schema: str,
                    geometry: Mapping[str, str]) -> pd.DataFrame:
    """Return the rows of ``public.layer_styles`` for a run written to PostGIS (QGIS's columns).

    Parameters
    ----------
    styles : DataFrame
        The GeoPackage's ``layer_styles`` (:func:`layer_styles_table`); columns matched ignoring case.
    catalog, schema : str
        The database and the schema the layers are in.
    geometry : mapping
        Table name → geometry column: the spatial tables written. Styles of other tables are
        left out.
    """
    columns = {str(c).lower(): c for c in styles.columns}
    rows: list[dict[str, object]] = []
    for _, row in styles.iterrows():
        table = str(row[columns["f_table_name"]])
        if table not in geometry:
            continue
        column = geometry[table]
        description = str(row.get(columns.get("description", ""), "") or "")
        rows.append({
            "id": len(rows) + 1,
            "f_table_catalog": catalog,
            "f_table_schema": schema,
            "f_table_name": table,
            "f_geometry_column": column,
            "stylename": str(row[columns["stylename"]]),
            "styleqml": str(row[columns["styleqml"]]),
            "stylesld": None,
            "useasdefault": bool(row[columns["useasdefault"]]),
            "description": description if description.endswith(STYLE_MARK) else f"{description} {STYLE_MARK}".strip(),
            "owner": STYLE_OWNER,
            "ui": None,
            "update_time": pd.Timestamp(str(row[columns["update_time"]])) if "update_time" in columns
            else pd.Timestamp.now(tz="UTC").tz_localize(None),
            "type": None,  # matched by every query QGIS makes (see the module's docstring)
        })
    return pd.DataFrame(rows, columns=["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                                       "styleqml", "stylesld", "useasdefault", "description", "owner", "ui", "update_time", "type"])
