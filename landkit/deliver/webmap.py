"""Interactive maps: one self-contained HTML file that opens offline, in Chinese by default.

The page comes from the template ``landkit/deliver/templates/map.html.j2`` and Leaflet draws it; both
Leaflet's files and ours are inlined, so opening the file makes no network request (unless a web
basemap is chosen). Leaflet comes from the ``xstatic-leaflet`` package (PyPI, pinned by version),
never from files copied into the repo.

For a whole city the map does what the field does: coordinates as integers at 10⁻⁶° (~0.1 m),
delta-encoded; shared parcel boundaries simplified together (GEOS coverage simplification, so
neighbours stay neighbours); canvas rendering; one array per attribute, holding only what the
popups and styles need; and each thematic layer built only when first switched on.

On Gaode/Amap tiles every overlay is shifted from WGS84 to GCJ-02 (:mod:`landkit.core.gcj02`), else
parcels sit ~500 m off their streets in Minhang. Tianditu (CGCS2000) needs no shift but a key.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup
from pyproj import CRS, Transformer

from landkit.config.models import Project
from landkit.core.errors import ConfigError, LandkitError
from landkit.deliver.labels import (
    BOOLEAN_LABELS,
    CHANGE_TYPES,
    DISPOSAL_COLOURS,
    GRADE_COLOURS,
    OVERLAY_COLOURS,
    VALUE_LABELS,
    Label,
    labels_for,
    unit,
)
from landkit.deliver.templates import render
from landkit.io.write import atomic_path
from landkit.listing.inventory import LISTING

if TYPE_CHECKING:
    from landkit.io.runs import RunStore

#: Web basemaps. Only `none` works offline.
BASEMAPS: dict[str, dict[str, Any]] = {
    "none": {"zh": "无底图 (离线)", "en": "No basemap (offline)"},
    "osm": {
        "zh": "OpenStreetMap", "en": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "© OpenStreetMap contributors",
    },
    "amap": {
        "zh": "高德地图", "en": "Amap (Gaode)", "gcj02": True, "subdomains": "1234",
        "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attribution": "© 高德地图 (GCJ-02)",
    },
    "tianditu": {
        "zh": "天地图", "en": "Tianditu", "subdomains": "01234567", "key": True,
        "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
               "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "overlay": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default"
                   "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attribution": "© 天地图",
    },
}

#: Parcel attributes shown in popups, in order (those present).
PARCEL_POPUP = [
    "parcel_id", "block_name", "land_use", "status", "area_mu", "enterprise_names", "industry", "track", "score", "grade",
    "grade_reason_{lang}", "weakest_{lang}", "ungraded_reason{_en}", "rank_in_track", "tax_per_mu", "far", "far_min",
    "total_value_wan", "value_per_mu_wan", "value_missing_reason", "reasons_{lang}", "disposal_{lang}", "land_freed_mu",
    "floor_area_added_m2", "tax_gain_wan", "compensation_wan", "review_year", "ring", "ring_modelled",
    "travel_min_to_core", "function_misfit_reason", "scatter_reason_{lang}", "nn_distance_m", "cluster_area_mu",
    "adjustment_{lang}",
]
#: The score's ramp: the grade colours (D red … A green), as score and grade mean the same.
SCORE_STOPS = [(215, 25, 28), (253, 174, 97), (255, 255, 191), (166, 217, 106), (26, 150, 65)]

#: Layers drawn in the reserved palettes of ``landkit.deliver.labels`` (shared with QGIS styles and charts):
#: the grades, the score (the grade's own measure, on the grade ramp) and the disposal paths (whose
#: reds, oranges and greens are the paths of D, C and A/B parcels). Every other layer is an overlay.
RESERVED_PALETTE_LAYERS = ("grades", "score", "disposal")

#: Travel time to the core, near (navy) to far (pink); parcels that cannot reach it are black.
TRAVEL_STOPS = [(8, 48, 107), (122, 1, 119), (221, 52, 151), (250, 159, 181)]
UNREACHABLE_COLOUR = OVERLAY_COLOURS["rings"]["unreachable"]
#: Plots smaller than this (pixels, geometric mean of the box's sides) at the current zoom are drawn
#: as a dot this wide in the layers made to show small plots (``LayerSpec.min_px``).
SMALL_PLOT_PX = 8.0

TEXT = {
    "zh": {"scatter": "小而散地块", "scatter_sporadic": "零星小地块(规划工业区块外)", "scatter_isolated": "孤立地块",
           "scatter_small": "小地块", "clusters": "产业用地集聚簇", "adjustments": "小地块归并建议",
           "adjust_merge": "归并", "rings": "规划圈层", "rings_modelled": "通行时间圈层", "travel": "至核心通行时间", "misfit": "功能不符地块",
           "linkage": "联动网络", "misfit_item": "与圈层功能不符", "link_pair": "联动组合", "link_core": "至核心",
           "link_nearest": "相邻区块","blocks": "区块", "roads": "道路", "grades": "评价等级", "score": "综合得分", "inventory": "低效用地",
           "disposal": "盘活路径", "watch": "关注清单(A/B类)", "core_sites": "核心载体", "block_edge": "区块边界", "search": "搜索地块编号或企业名称",
           "ungraded": "不参评", "grade": "{g}类", "synthetic": "合成示例数据", "unreachable": "不可达",
           "dots": "过小而看不见的地块以圆点显示，放大后显示地块轮廓",
           "ownership": "集体建设用地与国有载体", "own_collective": "集体建设用地", "own_platform": "国有载体(园区平台)",
           "conversion": "商办转研发候选地块", "overridden": "人工调整地块", "unstable": "等级不稳定地块", "vertical": "工业上楼适宜地块", "vertical_1": "优先区域(大零号湾等)", "vertical_2": "其他区域",
           "facilities": "公共服务设施", "block_changes": "园区区块动态调整", "change_move_out": "调出", "change_bring_in": "调入",
           "change_merge": "区块合并", "change_redraw": "边界重划", "proposed_blocks": "调整后区块边界",
           "assembly_sites": "连片整合地块", "assembly_size": "≥{size} 亩"},
    "en": {"scatter": "Small and scattered plots", "scatter_sporadic": "Small and sporadic (outside the blocks)",
           "scatter_isolated": "Isolated", "scatter_small": "Small", "clusters": "Clusters of industrial land",
           "adjustments": "Small plots to merge",
           "adjust_merge": "Merge", "rings": "Designated rings", "rings_modelled": "Rings by travel time", "travel": "Travel time to the core",
           "misfit": "Function misfits", "linkage": "Linkage graph", "misfit_item": "Misfit for its ring",
           "link_pair": "Named pair", "link_core": "To the core", "link_nearest": "Nearest blocks", "blocks": "Blocks", "roads": "Roads", "grades": "Grade", "score": "Score", "inventory": "Low-efficiency land",
           "disposal": "Revitalisation path", "watch": "Watch table (A/B)", "core_sites": "Core sites", "block_edge": "Block boundary",
           "search": "Search parcel id or enterprise", "ungraded": "Not graded", "grade": "Grade {g}",
           "synthetic": "synthetic sample data", "unreachable": "Unreachable by road",
           "dots": "Plots too small to see are drawn as dots; zoom in for their outlines",
           "ownership": "Collective land and state carriers", "own_collective": "Collective construction land",
           "own_platform": "State carrier (park platform)", "conversion": "Commercial/office land to convert to R&D", "overridden": "Overridden parcels", "unstable": "Parcels of unstable class",
           "vertical": "Suitable for vertical factories", "vertical_1": "Priority zones (大零号湾 …)", "vertical_2": "Elsewhere",
           "facilities": "Public services", "block_changes": "Dynamic adjustment of the blocks", "change_move_out": "Move out",
           "change_bring_in": "Bring in", "change_merge": "Merge blocks", "change_redraw": "Redraw", "proposed_blocks": "Proposed block boundaries",
           "assembly_sites": "Assembled sites", "assembly_size": "≥ {size} mu"},
}


@dataclass(frozen=True)
class LayerSpec:
    """A thematic layer: which dataset, how it is coloured, its legend, whether it starts on.

    ``min_px``: polygons smaller than this many pixels at the current zoom are drawn as a dot of
    that diameter at their centre (0: never), for layers that exist to show small plots.
    ``z``: stacking; a layer with a higher ``z`` (then a later one) is drawn above, whichever was
    switched on first. ``missing``: the colour of features without a value or a colour.
    """

    key: str
    title: str
    dataset: str
    mode: str = "plain"  # plain | category | ramp
    field: str | None = None
    colors: Mapping[str, str] | None = None
    legend: Mapping[str, Any] | None = None
    filter: str | None = None
    on: bool = False
    popup: bool = True
    tooltip: tuple[str, ...] = ()
    style: Mapping[str, Any] | None = None
    vmin: float = 0.0
    vmax: float = 100.0
    stops: tuple[tuple[int, int, int], ...] = tuple(SCORE_STOPS)
    min_px: float = 0.0
    z: int = 2
    missing: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the layer's description for the page's script."""
        out: dict[str, Any] = {"key": self.key, "title": self.title, "dataset": self.dataset, "mode": self.mode,
                               "on": self.on, "popup": self.popup, "style": dict(self.style or {}), "z": self.z}
        if self.min_px > 0:
            out["min_px"] = self.min_px
        if self.missing:
            out["missing"] = self.missing
        if self.field:
            out["field"] = self.field
        if self.colors:
            out["colors"] = dict(self.colors)
        if self.legend:
            out["legend"] = dict(self.legend)
        if self.filter:
            out["filter"] = self.filter
        if self.tooltip:
            out["tooltip"] = list(self.tooltip)
        if self.mode == "ramp":
            out.update(min=self.vmin, max=self.vmax, stops=[list(s) for s in self.stops])
        return out


# --- encoding ---------------------------------------------------------------------------------------


def _parts_and_rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Return ``(coords, vertices per ring, rings per part, parts per feature, polygonal)`` of geometries.

    One call to :func:`shapely.to_ragged_array` where it applies (one geometry type, or single and
    multi of one, none empty or missing: most layers), which builds no intermediate geometry; else
    parts, rings and coordinates taken apart one level at a time. A line or a point is one "ring"
    of one part.
    """
    geoms = np.asarray(geoms, dtype=object)
    ragged = None
    if len(geoms) and not (shapely.is_missing(geoms) | shapely.is_empty(geoms)).any():
        try:
            ragged = shapely.to_ragged_array(geoms, include_z=False)
        except (ValueError, NotImplementedError):  # mixed types, collections
            ragged = None
    if ragged is not None:
        kind, coords, offsets = ragged
        steps = [np.diff(o) for o in offsets]

        def ones(k: int) -> np.ndarray:
            return np.ones(k, dtype=np.int64)

        n = len(geoms)
        if kind == shapely.GeometryType.POINT:
            return coords, ones(n), ones(n), ones(n), False
        if kind == shapely.GeometryType.MULTIPOINT:
            return coords, ones(len(coords)), ones(len(coords)), steps[0], False
        if kind == shapely.GeometryType.LINESTRING:
            return coords, steps[0], ones(n), ones(n), False
        if kind == shapely.GeometryType.MULTILINESTRING:
            return coords, steps[0], ones(len(steps[0])), steps[1], False
        if kind == shapely.GeometryType.POLYGON:
            return coords, steps[0], steps[1], ones(n), True
        return coords, steps[0], steps[1], steps[2], True  # multipolygons
    parts, feature_of_part = shapely.get_parts(geoms, return_index=True)
    polygonal = bool((shapely.get_type_id(parts) == shapely.GeometryType.POLYGON).any())
    if polygonal:
        rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    else:
        rings, part_of_ring = parts, np.arange(len(parts))
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    return (coords, np.bincount(ring_of_coord, minlength=len(rings)), np.bincount(part_of_ring, minlength=len(parts)),
            np.bincount(feature_of_part, minlength=len(geoms)), polygonal)


#: A function moving longitude and latitude arrays (e.g. onto GCJ-02: :func:`landkit.core.gcj02.wgs84_to_gcj02`).
CoordShift = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
WGS84 = CRS.from_epsg(4326)


class EncodedGeometry(NamedTuple):
    """A layer's geometry as the page takes it (:func:`encode_geometry`) and its extent in lon/lat."""

    geom: dict[str, list[int] | None]
    bounds: tuple[float, float, float, float] | None  # west, south, east, north; None when no vertex


def encode_layer_geometry(geoms: np.ndarray, decimals: int, *, crs: Any = None, shift: CoordShift | None = None) -> EncodedGeometry:
    """Encode geometries as flat integer arrays (see the page script's ``decodeFeature``), with their extent.

    Coordinates become integers at 10^-decimals degrees, delta-encoded within each ring (the
    first vertex absolute); polygon rings drop their closing vertex. Counts: ``r`` vertices per
    ring, ``p`` rings per part, ``f`` parts per feature (``None`` when all are 1). Fully
    vectorised: no loop over features, and no geometry rebuilt.

    ``crs``: the geometries' CRS, if not WGS84 lon/lat: the vertices are projected to WGS84 here,
    as coordinate arrays (the transformation ``to_crs`` applies, vertex by vertex); ``shift``
    then moves them (GCJ-02 for Amap).
    """
    scale = 10.0**decimals
    coords, counts, rings_per_part, parts_per_feature, polygonal = _parts_and_rings(geoms)
    if polygonal:  # Leaflet closes polygons itself
        last = np.cumsum(counts) - 1
        keep = np.ones(len(coords), dtype=bool)
        keep[last[counts > 0]] = False
        coords = coords[keep]
        counts = np.maximum(counts - 1, 0)
    x, y = coords[:, 0], coords[:, 1]
    if crs is not None and not CRS.from_user_input(crs).is_exact_same(WGS84):
        x, y = Transformer.from_crs(crs, WGS84, always_xy=True).transform(x, y)
    if shift is not None:
        x, y = shift(x, y)
    bounds = (float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))) if len(x) else None
    q = np.empty((len(x), 2), dtype=np.int64)
    q[:, 0] = np.round(np.asarray(x) * scale)
    q[:, 1] = np.round(np.asarray(y) * scale)
    starts = np.cumsum(counts) - counts
    deltas = q.copy()
    deltas[1:] -= q[:-1]
    deltas[starts[counts > 0]] = q[starts[counts > 0]]
    geom = {"c": deltas.ravel().tolist(), "r": counts.tolist(), "p": _counts(rings_per_part), "f": _counts(parts_per_feature)}
    return EncodedGeometry(geom, bounds)


def encode_geometry(geoms: np.ndarray, decimals: int) -> dict[str, list[int] | None]:
    """Encode lon/lat geometries as flat integer arrays: :func:`encode_layer_geometry` without the extent."""
    return encode_layer_geometry(geoms, decimals).geom


def _counts(counts: np.ndarray) -> list[int] | None:
    """Return counts per item, or None when every count is 1 (the usual: one ring, one part)."""
    return None if bool((counts == 1).all()) else counts.tolist()


#: Numbers with fewer distinct values than this (a year, a few FAR limits) are dictionary-encoded.
NUMBER_DICTIONARY_MAX = 100


def encode_column(values: pd.Series) -> list[Any] | dict[str, list[Any]]:
    """Return a column ready for JSON, as small as it can be without losing what a popup shows.

    Numbers keep 3–4 significant figures (2 decimals below 100, 1 below 1,000, none above);
    missing values are null. Values that repeat become a dictionary and codes, ``{"d": [values],
    "k": [codes, -1 for missing]}`` (the page expands them back): text that repeats (block, land
    use, reasons, paths), booleans (``[false, true]``: one digit a value, not five) and numbers of
    a few distinct values. Vectorised: each distinct value is made a Python object once.
    """
    n = len(values)
    if pd.api.types.is_bool_dtype(values):  # numpy or nullable booleans: true, false or null
        codes = values.fillna(False).to_numpy(dtype=bool).astype(np.int8)
        codes[values.isna().to_numpy()] = -1
        return {"d": [False, True], "k": codes.tolist()}
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float).to_numpy()
        magnitude = np.abs(numbers)
        decimals = np.where(magnitude >= 1000, 0, np.where(magnitude >= 100, 1, 2))
        rounded = np.round(numbers * 10.0**decimals) / 10.0**decimals
        rounded[~np.isfinite(rounded)] = np.nan  # missing (and ±inf): null
        codes, uniques = pd.factorize(rounded, use_na_sentinel=True)
        if len(uniques) < min(NUMBER_DICTIONARY_MAX, n / 2):
            return {"d": _numbers(uniques), "k": codes.tolist()}
        return _numbers(rounded)
    # Factorised first (hashing, no per-value Python), then each distinct value made text once.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [u if isinstance(u, str) else str(u) for u in np.asarray(uniques, dtype=object)]  # not iterating Arrow arrays
    if len(uniques) < n / 2:
        return {"d": names, "k": codes.tolist()}
    text: list[Any] = np.array([*names, None], dtype=object)[codes].tolist()  # code -1 (missing): the last, None
    return text


def _numbers(rounded: np.ndarray) -> list[int | float | None]:
    """Return rounded floats for JSON: whole ones as integers (``3``, not ``3.0``), NaN as null."""
    out = rounded.astype(object)
    missing = np.isnan(rounded)
    out[missing] = None
    whole = ~missing & (rounded == np.round(rounded))
    out[whole] = rounded[whole].astype(np.int64)
    numbers: list[int | float | None] = out.tolist()
    return numbers


def _json_for_script(data: Any) -> str:
    """Serialise for a ``<script type="application/json">`` block: no ``<``, ``>`` or ``&`` can close it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def dataset_payload(frame: gpd.GeoDataFrame, kind: str, *, id_column: str, fields: list[tuple[str, str, str]],
                    extra: list[str], decimals: int, geometry: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return one dataset of the page: ids, geometry, the needed attributes and popup fields.

    ``geometry``: the frame's geometry already encoded (:func:`layer_geometry`); by default the
    frame's geometry (lon/lat) is encoded here.
    """
    columns = list(dict.fromkeys([c for c, _, _ in fields] + extra))
    props = {c: encode_column(frame[c]) for c in columns if c in frame}
    if id_column in props:  # the attribute's name: the page takes the ids from it (parcel_id once, not twice)
        ids: Any = id_column
    else:
        ids = encode_column(frame[id_column]) if id_column in frame else list(range(len(frame)))
    geom = geometry if geometry is not None else encode_geometry(frame.geometry.values, decimals)
    return {"kind": kind, "ids": ids, "geom": geom, "props": props, "fields": [list(f) for f in fields if f[0] in frame]}


# --- the page ---------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("landkit.deliver.assets").joinpath(name).read_text(encoding="utf-8")


def leaflet_assets() -> tuple[str, str, str]:
    """Return Leaflet's version, JavaScript and CSS (images inlined as data URIs) from xstatic-leaflet."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError:  # pragma: no cover - a declared dependency
        raise LandkitError("the offline map needs the package xstatic-leaflet: pip install xstatic-leaflet") from None
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        image = base / match.group(1)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)
    return xleaflet.VERSION, js, css


class Leaflet(NamedTuple):
    """Leaflet's files as the page takes them: their contents (``inline``), or their CDN addresses."""

    inline: bool
    js: str
    css: str


def _script(js: str) -> Markup:
    """Return JavaScript to inline in a ``<script>`` element: no ``</script`` in it can end the element."""
    # Markup: code of landkit or Leaflet, not text; HTML-escaping would break it.
    return Markup(js.replace("</script", "<\\/script"))


def _style(css: str) -> Markup:
    """Return CSS to inline in a ``<style>`` element: no ``</style`` in it can end the element."""
    # Markup: a style sheet of landkit or Leaflet, not text; HTML-escaping would break it.
    return Markup(css.replace("</style", "<\\/style"))


def leaflet_files(cdn: bool) -> Leaflet:
    """Return Leaflet for the page: inlined from xstatic-leaflet, or linked from its CDN (``cdn``)."""
    version, js, css = leaflet_assets()
    if cdn:
        return Leaflet(False, f"https://cdn.jsdelivr.net/npm/leaflet@{version}/dist/leaflet.js",
                       f"https://cdn.jsdelivr.net/npm/leaflet@{version}/dist/leaflet.css")
    return Leaflet(True, _script(js), _style(css))


#: Options of the Leaflet map (its centre aside): the view is then fitted to the data's bounds.
MAP_OPTIONS: dict[str, Any] = {"zoom": 12, "zoomControl": True, "preferCanvas": True, "zoomSnap": 0.25}


def _field(column: str, labels: Mapping[str, Label], lang: str) -> tuple[str, str, str]:
    label = labels.get(column, Label(column, column))
    return (column, label.zh if lang == "zh" else label.en, unit(label, lang))


def map_datasets(layers: Mapping[str, gpd.GeoDataFrame], project: Project, *, lang: str, decimals: int,
                 geometry: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the page's datasets (parcels, blocks, roads, core sites: those given).

    ``geometry``: layer name → its encoded geometry (see :func:`dataset_payload`); by default the
    layers' geometries, in lon/lat, are encoded here.
    """
    labels = labels_for(project)
    out: dict[str, Any] = {}
    geom = geometry or {}
    parcels = layers.get("parcels")
    if parcels is not None:
        parcels = parcels.copy()  # coded columns stay codes: the page shows them by the config's `codes`
        if "disposal" in parcels:
            parcels["has_path"] = parcels["disposal"].fillna("").astype(str) != ""
        if "function_fit" in parcels:
            parcels["function_misfit"] = ~parcels["function_fit"].fillna(True).astype(bool)
        if "small" in parcels:
            small, isolated, sporadic = (parcels[c].fillna(False).astype(bool) for c in ("small", "isolated", "sporadic"))
            parcels["scatter_class"] = np.select([small & sporadic, isolated, small], ["sporadic", "isolated", "small"], "")
            parcels["scatter_flag"] = small | isolated
        if "adjustment" in parcels:
            parcels["has_adjustment"] = parcels["adjustment"].fillna("").astype(str) != ""
        fields = [_field(c.format(lang=lang, _en="" if lang == "zh" else "_en"), labels, lang) for c in PARCEL_POPUP]
        if "ownership" in parcels:
            parcels["own_special"] = parcels["ownership"].isin(["collective", "platform"])
        if "stable" in parcels:
            parcels["unstable_class"] = ~parcels["stable"].fillna(True).astype(bool)
        if "vertical_suitable" in parcels:
            parcels["vertical_class"] = parcels["vertical_priority"].astype("Int64").astype(str) if "vertical_priority" in parcels else "1"
        extra = ["grade", "score", "low_efficiency", "watch", "list_basis", "disposal", "has_path", "enterprise_names", "ring_modelled",
                 "function_misfit", "scatter_class", "scatter_flag", "adjustment", "has_adjustment", "ownership", "own_special",
                 "conversion_candidate", "vertical_suitable", "vertical_class", "overridden", "override_note", "unstable_class",
                 "grade_unstable_with"]
        out["parcels"] = dataset_payload(parcels, "polygon", id_column="parcel_id", fields=fields, extra=extra, decimals=decimals,
                                         geometry=geom.get("parcels"))
    blocks = layers.get("blocks")
    if blocks is not None:
        fields = [_field(c, labels, lang) for c in ("block_id", "block_name", "block_type", "block_score", "block_rank")]
        out["blocks"] = dataset_payload(blocks, "polygon", id_column="block_id", fields=fields, extra=[], decimals=decimals,
                                        geometry=geom.get("blocks"))
    roads = layers.get("roads")
    if roads is not None:
        fields = [("road_name", "道路名称" if lang == "zh" else "Road", ""), ("road_class", "道路等级" if lang == "zh" else "Class", "")]
        out["roads"] = dataset_payload(roads, "line", id_column="road_name", fields=fields, extra=[], decimals=decimals,
                                       geometry=geom.get("roads"))
    rings = layers.get("rings")
    if rings is not None:
        names = ring_names(project, lang)
        rings = rings.assign(ring_name=rings["ring"].map(lambda r: names.get(r, r)))
        fields = [_field(c, labels, lang) for c in ("ring_name", "parcels", "area_ha", "mean_score", "tax_per_ha_wan")]
        out["rings"] = dataset_payload(rings, "polygon", id_column="ring", fields=fields, extra=["ring"], decimals=decimals,
                                       geometry=geom.get("rings"))
    clusters = layers.get("clusters")
    if clusters is not None:
        fields = [_field(c, labels, lang) for c in ("cluster_id", "parcels", "area_mu", "mean_score", "main_block_id")]
        fields = [(c, {"parcels": "地块数" if lang == "zh" else "Parcels", "main_block_id": "主要区块" if lang == "zh" else "Main block"}.get(c, n), u)
                  for c, n, u in fields]
        out["clusters"] = dataset_payload(clusters, "polygon", id_column="cluster_id", fields=fields, extra=[], decimals=decimals,
                                          geometry=geom.get("clusters"))
    linkage = layers.get("linkage")
    if linkage is not None:
        fields = [_field(c, labels, lang) for c in ("from_id", "to_id", "minutes", "kind")]
        out["linkage"] = dataset_payload(linkage, "line", id_column="from_id", fields=fields, extra=["kind"], decimals=decimals,
                                         geometry=geom.get("linkage"))
    for name in [n for n in layers if n == "changes" or n.startswith("changes_")]:
        # `landkit compare` (changes) and `landkit scenario` (changes_1 …): the popup shows every column given, in order
        changes = layers[name]
        fields = [_field(c, labels, lang) for c in changes.columns if c not in (changes.geometry.name, "change_type")]
        out[name] = dataset_payload(changes, "polygon", id_column="parcel_id", fields=fields, extra=["change_type"], decimals=decimals,
                                    geometry=geom.get(name))
    facilities = layers.get("facilities")
    if facilities is not None and "facility_kind" in facilities:
        fields = [_field(c, labels, lang) for c in ("facility_name", "facility_kind")]
        out["facilities"] = dataset_payload(facilities, "point", id_column="facility_name", fields=fields, extra=["facility_kind"],
                                            decimals=decimals, geometry=geom.get("facilities"))
    for name in ("block_changes", "proposed_blocks"):  # 园区地块动态调整: the proposals and the blocks as they would be
        frame = layers.get(name)
        if frame is not None:
            shown = [c for c in ("proposal_id", "block_id", f"kind_{lang}" if lang == "en" else "kind_zh", "parcels", "area_mu", f"reason_{lang}")
                     if c in frame]
            out[name] = dataset_payload(frame, "polygon", id_column="proposal_id" if "proposal_id" in frame else "block_id",
                                        fields=[_field(c, labels, lang) for c in shown], extra=["change_kind"], decimals=decimals,
                                        geometry=geom.get(name))
    assembled = layers.get("assembly_sites")
    if assembled is not None:  # 连片整合: the sites, coloured by their size class
        shown = ["site_id", "area_mu", "parcels", "acquisition_wan", "cost_per_mu_wan", "tax_wan", "block_ids", "enterprise_names"]
        frame = assembled.assign(size_class=assembled["size_class_mu"].astype(int).astype(str))
        out["assembly_sites"] = dataset_payload(frame, "polygon", id_column="site_id", fields=[_field(c, labels, lang) for c in shown if c in frame],
                                                extra=["size_class"], decimals=decimals, geometry=geom.get("assembly_sites"))
    sites = layers.get("core_sites")
    if sites is not None:
        fields = [("site_name", "名称" if lang == "zh" else "Name", ""), ("site_type", "类型" if lang == "zh" else "Type", "")]
        out["core_sites"] = dataset_payload(sites, "point", id_column="site_name", fields=fields, extra=[], decimals=decimals,
                                            geometry=geom.get("core_sites"))
    return out


#: Stacking (``LayerSpec.z``): outlines of context, layers of every parcel, layers of some parcels,
#: the dots of small plots, outlines of zones, lines, points.
Z_CONTEXT, Z_BASE, Z_SUBSET, Z_DOTS, Z_ZONES, Z_LINES, Z_POINTS = range(7)


def default_layer_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, *, lang: str, basemap: str) -> list[LayerSpec]:
    """Return the thematic layers the data allow, in the order of the layer list.

    The grades, the score and the paths keep the palettes of :mod:`landkit.deliver.labels`
    (:data:`RESERVED_PALETTE_LAYERS`); every overlay takes :data:`~landkit.deliver.labels.OVERLAY_COLOURS`, none of
    which is a grade colour. Zones are dashed outlines, which leave the grades beneath visible.
    """
    makers = (_context_specs, _assessment_specs, _ring_specs, _scatter_specs, _plan_specs, _network_specs)
    return [spec for make in makers for spec in make(layers, project, lang, basemap)]


def _context_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Blocks (outlines, on) and roads (on without a basemap)."""
    t, specs = TEXT[lang], list[LayerSpec]()
    if "blocks" in layers:
        line = OVERLAY_COLOURS["blocks"]["line"]
        specs.append(LayerSpec("blocks", t["blocks"], "blocks", style={"color": line, "weight": 1.6, "fillColor": line, "fillOpacity": 0.04},
                               legend={"title": t["blocks"], "items": [[line, t["block_edge"]]]}, on=True, tooltip=("block_name",),
                               z=Z_CONTEXT))
    if "roads" in layers:
        specs.append(LayerSpec("roads", t["roads"], "roads", style={"color": OVERLAY_COLOURS["roads"]["line"], "weight": 1.2, "fill": False},
                               on=basemap == "none", tooltip=("road_name",), z=Z_CONTEXT))
    return specs


def _assessment_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Grades (on), score, the low-efficiency list, the watch table and the paths."""
    t, parcels = TEXT[lang], layers.get("parcels")
    specs: list[LayerSpec] = []
    if parcels is None:
        return specs
    if "grade" in parcels:
        names = grade_names(lang)
        swatches = [[GRADE_COLOURS[g], names[g]] for g in ("A", "B", "C", "D", "U")]
        specs.append(LayerSpec("grades", t["grades"], "parcels", mode="category", field="grade", colors=GRADE_COLOURS,
                               legend={"title": t["grades"], "items": swatches}, on=True, tooltip=("parcel_id", "grade"), z=Z_BASE))
    if "score" in parcels:
        specs.append(LayerSpec("score", t["score"], "parcels", mode="ramp", field="score",
                               legend={"title": t["score"], "ramp": ["0", "100"]}, tooltip=("parcel_id", "score"), z=Z_BASE))
    if "low_efficiency" in parcels:
        items = [(code, zh if lang == "zh" else en) for code, zh, en in LISTING.values()]
        specs.append(_coded_layer("inventory", t["inventory"], "list_basis", items, OVERLAY_COLOURS["inventory"],
                                  filter="low_efficiency", tooltip=f"reasons_{lang}", z=Z_SUBSET))
    if "watch" in parcels:
        colour = OVERLAY_COLOURS["watch"]
        specs.append(LayerSpec("watch", t["watch"], "parcels", filter="watch", style={"fillColor": colour["fill"], "color": colour["line"]},
                               tooltip=("parcel_id", f"reasons_{lang}"), legend={"title": t["watch"], "items": [[colour["fill"], t["watch"]]]},
                               z=Z_SUBSET))
    if "disposal" in parcels:
        items = [(r.code, r.label_zh if lang == "zh" else r.label_en) for r in project.disposal.rules]
        specs.append(_coded_layer("disposal", t["disposal"], "disposal", items, DISPOSAL_COLOURS,
                                  filter="has_path", tooltip=f"disposal_{lang}", z=Z_BASE))
    return specs


def _ring_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Return the layers of the designated rings (dashed outlines), rings by travel time, travel time, function misfits."""
    t, specs, parcels = TEXT[lang], list[LayerSpec](), layers.get("parcels")
    colours, names = OVERLAY_COLOURS["rings"], ring_names(project, lang)
    if "rings" in layers:
        present = [r for r in colours if r in set(layers["rings"]["ring"])]
        specs.append(LayerSpec("rings", t["rings"], "rings", mode="category", field="ring", colors=colours,
                               style={"fill": False, "weight": 2.5, "dashArray": "8 5", "opacity": 0.95}, tooltip=("ring_name",),
                               legend={"title": t["rings"], "items": [[colours[r], names[r]] for r in present]}, z=Z_ZONES))
    if parcels is not None and "ring_modelled" in parcels:
        values = [r for r in colours if r in set(parcels["ring_modelled"])]
        specs.append(LayerSpec("rings_modelled", t["rings_modelled"], "parcels", mode="category", field="ring_modelled",
                               colors=colours, tooltip=("parcel_id", "ring_modelled"), z=Z_BASE,
                               legend={"title": t["rings_modelled"], "items": [[colours[r], names[r]] for r in values]}))
    if parcels is not None and "travel_min_to_core" in parcels:
        top = float(max(project.rings.time_bands_min.values(), default=60))
        specs.append(LayerSpec("travel_time", t["travel"], "parcels", mode="ramp", field="travel_min_to_core", vmin=0, vmax=top,
                               stops=tuple(TRAVEL_STOPS), missing=UNREACHABLE_COLOUR, tooltip=("parcel_id", "travel_min_to_core"),
                               legend={"title": t["travel"] + (" (分钟)" if lang == "zh" else " (min)"), "ramp": ["0", f"≥{top:.0f}"],
                                       "items": [[UNREACHABLE_COLOUR, t["unreachable"]]]}, z=Z_BASE))
    if parcels is not None and "function_fit" in parcels:
        colour = OVERLAY_COLOURS["misfit"]
        specs.append(LayerSpec("function_fit", t["misfit"], "parcels", filter="function_misfit",
                               style={"fillColor": colour["fill"], "color": colour["line"]}, tooltip=("parcel_id", "function_misfit_reason"),
                               legend={"title": t["misfit"], "items": [[colour["fill"], t["misfit_item"]]], "note": t["dots"]},
                               min_px=SMALL_PLOT_PX, z=Z_DOTS))
    return specs


def _scatter_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Small and scattered plots and the adjustment proposals (dots at park zoom), clusters (outlines)."""
    t, specs, parcels = TEXT[lang], list[LayerSpec](), layers.get("parcels")
    if parcels is not None and "small" in parcels:
        colours = OVERLAY_COLOURS["scatter"]
        items = [[colours[k], t[f"scatter_{k}"]] for k in ("sporadic", "isolated", "small")]
        specs.append(LayerSpec("scatter", t["scatter"], "parcels", mode="category", field="scatter_class", colors=colours,
                               filter="scatter_flag", tooltip=("parcel_id", f"scatter_reason_{lang}"),
                               legend={"title": t["scatter"], "items": items, "note": t["dots"]}, min_px=SMALL_PLOT_PX, z=Z_DOTS))
    if "clusters" in layers:
        line = OVERLAY_COLOURS["clusters"]["line"]
        specs.append(LayerSpec("clusters", t["clusters"], "clusters", style={"color": line, "weight": 1.6, "dashArray": "5 4", "fill": False},
                               tooltip=("cluster_id", "area_mu"), legend={"title": t["clusters"], "items": [[line, t["clusters"]]]}, z=Z_ZONES))
    if parcels is not None and "adjustment" in parcels:
        colours = OVERLAY_COLOURS["adjustments"]
        items = [[colours[k], t[f"adjust_{k}"]] for k in colours]
        specs.append(LayerSpec("adjustments", t["adjustments"], "parcels", mode="category", field="adjustment",
                               colors=colours, filter="has_adjustment", tooltip=("parcel_id", f"adjustment_{lang}"),
                               legend={"title": t["adjustments"], "items": items, "note": t["dots"]}, min_px=SMALL_PLOT_PX, z=Z_DOTS))
    return specs


def _plan_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Return the layers of the plan's items 12–14: block changes, collective land, 商办→研发, 工业上楼, services."""
    t, specs, parcels = TEXT[lang], list[LayerSpec](), layers.get("parcels")
    if "block_changes" in layers:
        colours = OVERLAY_COLOURS["block_changes"]
        changes = layers["block_changes"]
        kinds = [k for k in colours if (changes["change_kind"] == k).any()] if "change_kind" in changes else list(colours)
        specs.append(LayerSpec("block_changes", t["block_changes"], "block_changes", mode="category", field="change_kind", colors=colours,
                               style={"weight": 2, "fillOpacity": 0.45}, tooltip=("proposal_id", f"reason_{lang}"),
                               legend={"title": t["block_changes"], "items": [[colours[k], t[f"change_{k}"]] for k in kinds]}, z=Z_SUBSET))
    if "assembly_sites" in layers:
        colours = {k: v for k, v in OVERLAY_COLOURS["assembly_sites"].items() if k != "line"}
        sizes = sorted({str(int(v)) for v in layers["assembly_sites"]["size_class_mu"]}, key=int)
        colours = {size: colours.get(size, colours["100"]) for size in sizes}
        specs.append(LayerSpec("assembly_sites", t["assembly_sites"], "assembly_sites", mode="category", field="size_class", colors=colours,
                               style={"weight": 2, "fillOpacity": 0.5, "color": OVERLAY_COLOURS["assembly_sites"]["line"]},
                               tooltip=("site_id", "area_mu"),
                               legend={"title": t["assembly_sites"], "items": [[colours[k], t["assembly_size"].format(size=k)] for k in sizes]},
                               z=Z_SUBSET))
    if "proposed_blocks" in layers:
        line = OVERLAY_COLOURS["proposed_blocks"]["line"]
        specs.append(LayerSpec("proposed_blocks", t["proposed_blocks"], "proposed_blocks",
                               style={"color": line, "weight": 2, "dashArray": "8 4", "fill": False}, tooltip=("block_id",),
                               legend={"title": t["proposed_blocks"], "items": [[line, t["proposed_blocks"]]]}, z=Z_ZONES))
    if parcels is not None and "ownership" in parcels and parcels["ownership"].isin(["collective", "platform"]).any():
        colours = OVERLAY_COLOURS["ownership"]
        specs.append(LayerSpec("ownership", t["ownership"], "parcels", mode="category", field="ownership", colors=colours,
                               filter="own_special", tooltip=("parcel_id", "ownership"),
                               legend={"title": t["ownership"], "items": [[colours[k], t[f"own_{k}"]] for k in colours]},
                               min_px=SMALL_PLOT_PX, z=Z_SUBSET))
    if parcels is not None and "conversion_candidate" in parcels and parcels["conversion_candidate"].fillna(False).any():
        colour = OVERLAY_COLOURS["conversion"]
        specs.append(LayerSpec("conversion", t["conversion"], "parcels", filter="conversion_candidate",
                               style={"fillColor": colour["fill"], "color": colour["line"]},
                               tooltip=("parcel_id", f"conversion_reasons_{lang}"),
                               legend={"title": t["conversion"], "items": [[colour["fill"], t["conversion"]]]}, min_px=SMALL_PLOT_PX, z=Z_SUBSET))
    if parcels is not None and "stable" in parcels and (~parcels["stable"].fillna(True).astype(bool)).any():
        colour = OVERLAY_COLOURS["unstable"]
        specs.append(LayerSpec("unstable", t["unstable"], "parcels", filter="unstable_class",
                               style={"fillColor": colour["fill"], "color": colour["line"], "weight": 1.5},
                               tooltip=("parcel_id", "grade_unstable_with"),
                               legend={"title": t["unstable"], "items": [[colour["fill"], t["unstable"]]]}, min_px=SMALL_PLOT_PX, z=Z_SUBSET))
    if parcels is not None and "overridden" in parcels and parcels["overridden"].fillna(False).astype(bool).any():
        colour = OVERLAY_COLOURS["overridden"]
        specs.append(LayerSpec("overridden", t["overridden"], "parcels", filter="overridden",
                               style={"fillColor": colour["fill"], "color": colour["line"], "weight": 2},
                               tooltip=("parcel_id", "override_note"),
                               legend={"title": t["overridden"], "items": [[colour["fill"], t["overridden"]]]}, min_px=SMALL_PLOT_PX, z=Z_SUBSET))
    if parcels is not None and "vertical_suitable" in parcels and parcels["vertical_suitable"].fillna(False).any():
        colours = OVERLAY_COLOURS["vertical"]
        specs.append(LayerSpec("vertical", t["vertical"], "parcels", mode="category", field="vertical_class", colors=colours,
                               filter="vertical_suitable", tooltip=("parcel_id", "vertical_floor_area_added_m2"),
                               legend={"title": t["vertical"], "items": [[colours[k], t[f"vertical_{k}"]] for k in colours]},
                               min_px=SMALL_PLOT_PX, z=Z_SUBSET))
    if "facilities" in layers:
        colours = OVERLAY_COLOURS["facilities"]
        names = {code: (zh if lang == "zh" else en) for code, (zh, en) in VALUE_LABELS["facility_kind"].items()}
        specs.append(LayerSpec("facilities", t["facilities"], "facilities", mode="category", field="facility_kind", colors=colours,
                               style={"color": "#ffffff", "weight": 1, "radius": 5}, tooltip=("facility_name", "facility_kind"),
                               legend={"title": t["facilities"], "items": [[colours[k], names[k]] for k in colours]}, z=Z_POINTS))
    return specs


def _network_specs(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str, basemap: str) -> list[LayerSpec]:
    """Return the layers of the linkage graph (lines) and the core sites (points, on)."""
    t, specs = TEXT[lang], list[LayerSpec]()
    if "linkage" in layers:
        colours = OVERLAY_COLOURS["linkage"]
        kinds = [("pair", t["link_pair"]), ("core", t["link_core"]), ("nearest", t["link_nearest"])]
        specs.append(LayerSpec("linkage", t["linkage"], "linkage", mode="category", field="kind", colors=colours,
                               style={"weight": 3, "opacity": 0.8, "fill": False}, tooltip=("from_id", "to_id", "minutes"),
                               legend={"title": t["linkage"], "items": [[colours[k], name] for k, name in kinds]}, z=Z_LINES))
    if "core_sites" in layers:
        colour = OVERLAY_COLOURS["core_sites"]
        specs.append(LayerSpec("core_sites", t["core_sites"], "core_sites", style={"color": colour["line"], "weight": 2,
                               "fillColor": colour["fill"], "radius": 6}, legend={"title": t["core_sites"], "items": [[colour["fill"], t["core_sites"]]]},
                               on=True, tooltip=("site_name",), z=Z_POINTS))
    return specs


def _coded_layer(key: str, title: str, field: str, items: list[tuple[str, str]], colours: Mapping[str, str], *,
                 filter: str, tooltip: str, z: int) -> LayerSpec:
    """Return a layer of some parcels (``filter``) coloured by a code (listing basis, disposal path)."""
    colors = {code: colours.get(code, "#999999") for code, _ in items}
    legend = [[colors[code], text] for code, text in items]
    return LayerSpec(key, title, "parcels", mode="category", field=field, colors=colors, filter=filter,
                     legend={"title": title, "items": legend}, tooltip=("parcel_id", tooltip), z=z)


# --- codes as people read them --------------------------------------------------------------------


def ring_names(project: Project, lang: str) -> dict[str, str]:
    """Return ring code → name in ``lang``: the project's rings, and ``unreachable`` (不可达)."""
    names = {ring: next((name for language, name in text.items() if language == lang), ring)
             for ring, text in project.rings.labels.items()}
    names.setdefault("unreachable", TEXT[lang]["unreachable"])
    return names


def grade_names(lang: str) -> dict[str, str]:
    """Return grade → name in ``lang``: ``A类`` … ``D类`` and 不参评 for U; ``A`` … and Not graded."""
    t = TEXT[lang]
    return {g: t["ungraded"] if g == "U" else (t["grade"].format(g=g) if lang == "zh" else g) for g in GRADE_COLOURS}


def code_labels(project: Project, lang: str) -> dict[str, dict[str, str]]:
    """Return column → code → shown text, in ``lang``, of every coded column a map can show.

    :data:`landkit.deliver.labels.VALUE_LABELS` (status, grade basis, listing basis, …) in either language
    (English tables keep codes; an English map shows English), the project's tracks, rings and
    paths, and the map's own codes: grades, linkage kinds, scatter classes, adjustments, changes.
    """
    k, t = (0 if lang == "zh" else 1), TEXT[lang]
    table = {column: {code: names[k] for code, names in codes.items()} for column, codes in VALUE_LABELS.items()}
    grades, rings = grade_names(lang), ring_names(project, lang)
    paths = {r.code: r.label_zh if lang == "zh" else r.label_en for r in project.disposal.rules}
    table.update({
        "track": {track.name: track.label_zh if lang == "zh" else track.label_en for track in project.assessment.tracks},
        "grade": grades, "grade_a": grades, "grade_b": grades,
        "disposal": paths, "disposal_a": paths, "disposal_b": paths,
        "ring": rings, "ring_modelled": rings,
        "kind": {kind: t[f"link_{kind}"] for kind in ("pair", "core", "nearest")},
        "scatter_class": {c: t[f"scatter_{c}"] for c in ("sporadic", "isolated", "small")},
        "adjustment": {a: t[f"adjust_{a}"] for a in OVERLAY_COLOURS["adjustments"]},
        "change_type": {c: names[k] for c, names in CHANGE_TYPES.items()},
        "change_kind": {c: t[f"change_{c}"] for c in OVERLAY_COLOURS["block_changes"]},
        "vertical_class": {c: t[f"vertical_{c}"] for c in OVERLAY_COLOURS["vertical"]},
    })
    return table


def shown_codes(project: Project, lang: str, datasets: Mapping[str, Any], specs: list[LayerSpec]) -> dict[str, dict[str, str]]:
    """Return :func:`code_labels` of the columns the page shows (in popups and tooltips)."""
    shown = {f[0] for d in datasets.values() for f in d["fields"]} | {c for spec in specs for c in spec.tooltip}
    return {column: names for column, names in code_labels(project, lang).items() if column in shown and names}


#: Layers simplified as coverages (shared edges kept shared) before they are drawn.
COVERAGES = ("parcels", "blocks")


def layer_geometry(name: str, frame: gpd.GeoDataFrame, *, basemap: str, simplify_m: float, working: str,
                   decimals: int) -> EncodedGeometry:
    """Return a layer's geometry encoded for the page, in lon/lat (GCJ-02 for Amap), and its extent.

    Parcels and blocks are simplified as coverages in the working CRS first (GEOS coverage
    simplification: no slivers or gaps between neighbours). The projection to lon/lat and the
    GCJ-02 shift are applied to the encoded vertices (:func:`encode_layer_geometry`), no geometry
    rebuilt for them.
    """
    geoms = frame.geometry.values
    if geoms.crs is None:
        raise LandkitError(f"the layer `{name}` has no CRS: it cannot be drawn on the map")
    crs = geoms.crs
    if simplify_m > 0 and name in COVERAGES:
        geoms = geoms.to_crs(working)
        crs, geoms = geoms.crs, shapely.coverage_simplify(geoms, simplify_m)
    shift = None
    if BASEMAPS[basemap].get("gcj02"):
        from landkit.core.gcj02 import wgs84_to_gcj02

        shift = wgs84_to_gcj02
    return encode_layer_geometry(geoms, decimals, crs=crs, shift=shift)


def build_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    project: Project,
    *,
    lang: str | None = None,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    cdn: bool = False,
    title: str | None = None,
    simplify_m: float | None = None,
    extra_specs: list[LayerSpec] | None = None,
    images: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] | None = None,
) -> str:
    """Return the interactive map as one HTML page.

    Parameters
    ----------
    layers : mapping
        GeoDataFrames by name: ``parcels`` (with the assessment's columns), ``blocks``,
        ``roads``, ``core_sites``; any CRS; those absent are left out.
    project : Project
        Labels, rules (legend entries) and map defaults (``map.lang``, ``map.basemap``).
    lang, basemap : str, optional
        ``zh``/``en``; ``none`` (offline), ``osm``, ``amap`` (overlays shifted to GCJ-02),
        ``tianditu`` (needs ``tianditu_key``).
    cdn : bool
        Link Leaflet from its CDN instead of inlining it (smaller file, needs internet).
    images : list of dict, optional
        Raster surfaces as image overlays: ``key``, ``title``, ``png`` (bytes), ``bounds``
        (``[[south, west], [north, east]]`` in WGS84), ``cmap`` and ``legend`` (min, max labels);
        or a function returning them, called once the layers are encoded (so the surfaces can
        be computed meanwhile).
    """
    lang = lang or project.map.lang
    basemap = basemap or project.map.basemap
    if basemap not in BASEMAPS:
        raise ConfigError(f"basemap `{basemap}` is not one of: {', '.join(BASEMAPS)}")
    key = tianditu_key or project.map.tianditu_key
    if BASEMAPS[basemap].get("key") and not key:
        raise ConfigError("the Tianditu basemap needs a key: pass --tianditu-key or set map.tianditu_key")
    simplify = project.map.simplify_m if simplify_m is None else simplify_m
    present = {name: frame for name, frame in layers.items() if frame is not None and not frame.empty}
    if not present:
        raise LandkitError("nothing to map: no layer has features")
    decimals = coordinate_decimals(project, present)
    specs = default_layer_specs(present, project, lang=lang, basemap=basemap) + list(extra_specs or [])
    basemaps = []
    for name in dict.fromkeys([basemap, "none"]):
        b = BASEMAPS[name]
        entry = {"title": b[lang]}
        if "url" in b:
            entry.update(url=b["url"].replace("{key}", key or ""), attribution=b["attribution"], subdomains=b.get("subdomains", "abc"))
            if "overlay" in b:
                entry["overlay"] = b["overlay"].replace("{key}", key or "")
        basemaps.append(entry)
    encoded = {name: layer_geometry(name, frame, basemap=basemap, simplify_m=simplify, working=project.crs.working,
                                    decimals=decimals) for name, frame in present.items()}
    datasets = map_datasets(present, project, lang=lang, decimals=decimals,
                            geometry={name: geometry.geom for name, geometry in encoded.items()})
    box = encoded["parcels" if "parcels" in encoded else next(iter(encoded))].bounds
    w, s, e, n = box or (0.0, 0.0, 0.0, 0.0)
    config = {
        "lang": lang,
        "scale": 10**decimals,
        "title": title or project.name,
        "subtitle": subtitle(layers, project, lang),
        "datasets": datasets,
        "layers": [spec.to_json() for spec in specs],
        "codes": shown_codes(project, lang, datasets, specs),
        "booleans": [BOOLEAN_LABELS[value][0 if lang == "zh" else 1] for value in (True, False)],
        "basemaps": basemaps,
        "bounds": [[s, w], [n, e]],
        "search": {"dataset": "parcels", "fields": ["enterprise_names"], "placeholder": TEXT[lang]["search"]},
        "images": [image_overlay(image, basemap) for image in (images() if callable(images) else images or [])],
    }

    html = render(
        "map.html.j2",
        title=config["title"],
        landkit_css=_style(_asset("landkit-map.css")),
        landkit_js=_script(_asset("landkit-map.js")),
        leaflet=leaflet_files(cdn),
        data=data_block(config, project.map.compress, lang),
        # Markup: JSON escaped for a script by _json_for_script (no "<", ">" or "&" in it).
        center=Markup(_json_for_script([(s + n) / 2, (w + e) / 2])),
        options=Markup(_json_for_script(MAP_OPTIONS)),
    )
    if not cdn:
        refuse_network_assets(html)
    return html


#: Above this many parcels, "auto" coordinates keep 5 decimals (1.1 m) instead of 6 (0.1 m).
AUTO_DECIMALS_LIMIT = 20_000


def coordinate_decimals(project: Project, layers: Mapping[str, gpd.GeoDataFrame]) -> int:
    """Return the decimals of map coordinates: the configured number, or by size for ``auto``."""
    setting = project.map.coordinate_decimals
    if setting != "auto":
        return int(setting)
    parcels = layers.get("parcels")
    return 5 if parcels is not None and len(parcels) > AUTO_DECIMALS_LIMIT else 6


#: With ``map.compress: auto``, data larger than this are gzip-compressed in the page.
COMPRESS_ABOVE_BYTES = 4_000_000
OLD_BROWSER = {
    "zh": "此地图数据较大，已压缩存储，需用 Chrome/Edge 80、Firefox 113、Safari 16.4 或更新版本打开；"
          "也可设置 map.compress: never 重新生成。",
    "en": "This large map is stored compressed and needs Chrome/Edge 80, Firefox 113, Safari 16.4 or newer; "
          "or regenerate it with map.compress: never.",
}


class DataBlock(NamedTuple):
    """The page's data: JSON (``packed`` false), or gzip + base64 with a note for browsers that cannot inflate it."""

    packed: bool
    text: Markup
    note: str


def data_block(config: dict[str, Any], compress: str, lang: str) -> DataBlock:
    """Return the page's data block: JSON, or gzip + base64 for a large map (``map.compress``)."""
    text = _json_for_script(config)
    size = len(text.encode("utf-8"))
    if compress == "never" or (compress == "auto" and size <= COMPRESS_ABOVE_BYTES):
        # Markup: JSON escaped for a script by _json_for_script; HTML-escaping would break it.
        return DataBlock(False, Markup(text), "")
    import gzip

    # Level 3: a whole city's 140 MB of JSON in 1.5 s instead of 5.3 s at level 6, 9 % larger.
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)).decode("ascii")
    # Markup: base64 (letters, digits, "+", "/", "="), nothing to escape.
    return DataBlock(True, Markup(packed), OLD_BROWSER[lang])


def subtitle(layers: Mapping[str, gpd.GeoDataFrame], project: Project, lang: str) -> str:
    """Return the map's subtitle: parcel count and data year."""
    parcels = layers.get("parcels")
    n = 0 if parcels is None else len(parcels)
    year = project.year or ""
    return f"{n:,} 宗地块 · {year} 年数据" if lang == "zh" else f"{n:,} parcels · data year {year}"


def image_overlay(image: Mapping[str, Any], basemap: str) -> dict[str, Any]:
    """Return an image overlay for the page: the PNG inlined as a data URI, bounds (shifted for Amap)."""
    from matplotlib import colormaps

    (s, w), (n, e) = image["bounds"]
    if BASEMAPS[basemap].get("gcj02"):
        from landkit.core.gcj02 import wgs84_to_gcj02

        (w, e), (s, n) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
    cmap = colormaps[image.get("cmap", "viridis")]
    stops = [[round(255 * c) for c in cmap(x)[:3]] for x in np.linspace(0, 1, 5)]
    return {
        "key": image["key"], "title": image["title"], "bounds": [[float(s), float(w)], [float(n), float(e)]],
        "url": "data:image/png;base64," + base64.b64encode(image["png"]).decode("ascii"),
        "legend": {"title": image["title"], "ramp": list(image.get("legend", ["", ""]))}, "stops": stops,
    }


def refuse_network_assets(html: str) -> None:
    """Refuse a page that would load a script or style sheet from the network.

    Raises
    ------
    LandkitError
        If the page links a script or a style sheet by an http(s) address.
    """
    leftover = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    if leftover:
        raise LandkitError(f"the map would load {leftover[0]} from the network; it must open offline")


def write_map(path: Path, html: str) -> Path:
    """Write the page atomically."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)


def layers_from_run(run: Path | RunStore) -> dict[str, gpd.GeoDataFrame]:
    """Read the mappable layers of a run (its GeoPackage, or a :class:`landkit.io.runs.RunStore`), those present."""
    from landkit.io.runs import RunStore, read_layers

    store = run if isinstance(run, RunStore) else RunStore(gpkg=Path(run))
    return read_layers(store, ("parcels", "blocks", "roads", "core_sites", "rings", "linkage", "clusters", "facilities", "block_changes",
                               "proposed_blocks", "assembly_sites"))
