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
  ``useasdefault`` row first (:func:`qgis_style_rows`; :mod:`landkit.io.postgis.write` writes them).
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

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import pandas as pd

from landkit.assess.performance import GRADES, UNGRADED
from landkit.config.models import Project
from landkit.deliver.labels import DISPOSAL_COLOURS, GRADE_COLOURS, header, labels_for, value_labels
from landkit.io.postgis.write import STYLE_OWNER

QML_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
#: The QGIS version the QML declares (the oldest of those it is written for).
QML_VERSION = "3.22.0"

#: Geometry kind → QGIS symbol type.
SYMBOL_TYPES = {"polygon": "fill", "line": "line", "point": "marker"}


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
    """Return a fill symbol (``SimpleFill``): ``colour`` at ``alpha`` (0–255), or no fill; an outline in mm."""
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
    """Return a line symbol (``SimpleLine``) ``width`` mm wide."""
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
    """Return a point symbol (``SimpleMarker``): a ``shape`` ``size`` mm across."""
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
    """Return a symbol for a geometry ``kind`` (``polygon``, ``line``, ``point``), options as the maker takes them."""
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


log = logging.getLogger(__name__)


#: Linkage line kinds in Chinese.
LINK_NAMES = {"pair": "联动组合", "core": "至核心", "nearest": "相邻区块"}


def qgis_styles(project: Project, layers: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Return the QGIS default styles of the run's spatial layers (the GeoPackage's ``layer_styles``).

    Parcels and the watch table by grade, the inventory by disposal path, blocks as outlines,
    rings by ring, linkage lines by kind, roads by class, clusters and core sites in one colour;
    any other spatial layer in one colour for its geometry. Without ``layers``: the three parcel
    layers only.
    """
    from landkit.deliver.labels import LINK_COLOURS, OVERLAY_COLOURS, RING_COLOURS
    from landkit.deliver.styles import geometry_kind, single_symbol_qml

    grade = categorized_qml("grade", [(g, f"{g}类" if g != "U" else "不参评", GRADE_COLOURS[g]) for g in (*GRADES, UNGRADED)])
    paths = [(r.code, r.label_zh, DISPOSAL_COLOURS.get(r.code, "#999999")) for r in project.disposal.rules]
    styles: dict[str, tuple[str, str, str]] = {
        "parcels": ("评价等级", "地块按评价等级着色 (landkit)", grade),
        "inventory": ("盘活路径", "低效用地按盘活路径着色 (landkit)", categorized_qml("disposal", paths)),
        "watchlist": ("评价等级", "关注清单按评价等级着色 (landkit)", grade),
    }
    if layers is None:
        return layer_styles_table(styles)

    def present(name: str, column: str) -> list[str]:
        frame = layers.get(name)
        if frame is None or column not in frame:
            return []
        return [str(v) for v in pd.unique(frame[column].dropna()) if str(v) != ""]

    assembly_colours = OVERLAY_COLOURS["assembly_sites"]
    ring_names = coded_values(project)["ring"]
    rings = [*(r for r in RING_COLOURS if r in present("rings", "ring")),
             *(r for r in present("rings", "ring") if r not in RING_COLOURS)]
    link_names = LINK_NAMES
    kinds = [*(k for k in LINK_COLOURS if k in present("linkage", "kind")),
             *(k for k in present("linkage", "kind") if k not in LINK_COLOURS)]
    # roads: the classes of the speed table first (fastest first: widest, darkest), then the others
    ranked = list(project.rings.default_speed_kmh)
    classes = [*(c for c in ranked if c in present("roads", "road_class")),
               *(c for c in present("roads", "road_class") if c not in ranked)]
    road_shades = ["#e31a1c", "#fd8d3c", "#636363", "#969696", "#bdbdbd"]
    road_widths = [1.2, 1.0, 0.8, 0.5, 0.3]
    rank = {c: min(ranked.index(c) if c in ranked else len(road_shades) - 1, len(road_shades) - 1) for c in classes}
    specific = {
        "blocks": ("区块边界", "区块边界 (landkit)",
                   single_symbol_qml("#1f4e79", "polygon", filled=False, outline="#1f4e79", outline_width=0.6)),
        "rings": ("规划圈层", "规划圈层按圈层着色 (landkit)",
                  categorized_qml("ring", [(r, ring_names.get(r, r), RING_COLOURS.get(r, "#999999")) for r in rings],
                                  "polygon", alpha=90, outline_width=0.4,
                                  options={r: {"outline": RING_COLOURS.get(r, "#999999")} for r in rings})),
        "clusters": ("集聚簇", "产业用地集聚簇 (landkit)",
                     single_symbol_qml("#cab2d6", "polygon", alpha=77, outline="#6a3d9a", outline_width=0.3)),
        "linkage": ("联动网络", "联动网络按连接类型着色 (landkit)",
                    categorized_qml("kind", [(k, link_names.get(k, k), LINK_COLOURS.get(k, "#999999")) for k in kinds],
                                    "line", width=0.8)),
        "roads": ("道路等级", "道路按道路等级着色 (landkit)",
                  categorized_qml("road_class", [*((c, c, road_shades[rank[c]]) for c in classes), ("", "其他", "#bdbdbd")],
                                  "line", options={**{c: {"width": road_widths[rank[c]]} for c in classes}, "": {"width": 0.3}})
                  if "road_class" in layers.get("roads", pd.DataFrame()) else single_symbol_qml("#8c8c8c", "line", width=0.4)),
        "core_sites": ("核心载体", "核心载体 (landkit)",
                       single_symbol_qml("#ef3b2c", "point", size=3.5, outline="#b2182b")),
        "assembly_sites": ("连片整合地块", "连片整合地块 (landkit)",
                           single_symbol_qml(assembly_colours["100"], "polygon", alpha=128, outline=assembly_colours["line"],
                                             outline_width=0.6)),
    }
    defaults = {"parcels": "polygon", "inventory": "polygon", "watchlist": "polygon", "blocks": "polygon", "rings": "polygon",
                "clusters": "polygon", "linkage": "line", "roads": "line", "core_sites": "point", "assembly_sites": "polygon"}
    out = {}
    for name, frame in layers.items():
        kind = geometry_kind(frame, defaults.get(name))
        if kind is None:
            continue  # a plain table, or a layer of mixed geometry
        if name in styles and kind == "polygon":
            out[name] = styles[name]
        elif name in specific and kind == defaults[name]:
            out[name] = specific[name]
        else:  # a layer without a style of its own, or of an unexpected geometry: one colour
            out[name] = (name, f"{name} (landkit)", single_symbol_qml("#8c8c8c", kind))
    fields = field_setup(project, coded_values(project))
    out = {name: (style, description, with_fields(qml, fields(layers[name]))) for name, (style, description, qml) in out.items()}
    return layer_styles_table(out)


def coded_values(project: Project) -> dict[str, dict[str, str]]:
    """Return the run's own coded columns in Chinese: grade, disposal path, ring, linkage kind."""
    return {"grade": {g: f"{g}类" if g != UNGRADED else "不参评" for g in (*GRADES, UNGRADED)},
            "disposal": {r.code: r.label_zh for r in project.disposal.rules},
            "ring": {**{r: v.get("zh", r) for r, v in project.rings.labels.items()}, "unreachable": "不可达"},
            "kind": LINK_NAMES}


def field_setup(project: Project, coded: dict[str, dict[str, str]] | None = None
                ) -> Callable[[pd.DataFrame], dict[str, tuple[str, dict[str, str] | None]]]:
    """Return a function giving a layer's QGIS field setup: column → (Chinese header, value map or None).

    The headers are those of the workbook (:func:`landkit.deliver.labels.header`); the value maps are
    :func:`landkit.deliver.labels.value_labels` in Chinese and ``coded`` (column → code → shown value).
    Columns without a label keep their name and get no entry.
    """
    labels = labels_for(project)
    values = {**value_labels(project, "zh"), **(coded or {})}

    def setup(frame: pd.DataFrame) -> dict[str, tuple[str, dict[str, str] | None]]:
        geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
        return {str(c): (header(str(c), labels, "zh"), values.get(str(c))) for c in frame.columns
                if c != geometry and (c in labels or c in values)}
    return setup
