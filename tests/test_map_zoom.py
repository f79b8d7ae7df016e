"""The map at park zoom (issue 15 item 5), in a real browser (Debian's headless Chromium), offline.

A planner opened the map of the whole Minhang sub-park (~1400×900): the plots of 小而散 and
调整建议 were smaller than a pixel and invisible; overlays drew over 评价等级 in the grades'
own reds and oranges; and the popup said ``unreachable`` for 通行时间圈层. So, on the map
``landkit assess`` writes for the shipped sample:

* every plot of a small-plot layer shows, by pixels, in the layer's colour at park zoom (a dot),
  above the grades whichever was switched on first, and as its polygon once zoomed in;
* no overlay draws in a grade colour, nor in one near it, in its features or its legend;
* popups, tooltips and legends show every code by its name, in Chinese and in English.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.deliver.labels import DISPOSAL_COLOURS, GRADE_COLOURS, VALUE_LABELS

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml"

#: The planner's window: the whole sub-park in view.
PARK = {"width": 1400, "height": 900}

#: The layers made to show small plots, and the parcels each shows (a pandas query on the run).
SMALL_PLOT_LAYERS = {
    "scatter": "small or isolated",
    "adjustments": "adjustment != ''",
    "function_fit": "not function_fit",
}

#: Layers drawn in the palettes of landkit.deliver.labels on purpose: the grades, the score (the grade's
#: own measure, on the grade ramp) and the disposal paths (the palette QGIS and charts share).
RESERVED = {"grades", "score", "disposal"}

#: A small plot shows at least this many pixels of its layer's colour in the 7×7 around its centre
#: (a polygon of 1–3 pixels shows at most 9, and blended with its outline).
DOT_PIXELS = 20

#: An overlay colour is at least this far (CIE76 ΔE) from every grade colour, and this far from
#: every disposal colour.
MIN_DELTA_E = 20.0
MIN_DELTA_E_DISPOSAL = 10.0

#: True once the page script has run and Leaflet is not animating.
SETTLED_JS = """() => { const m = window.landkit && window.landkit.map;
    return !!(m && m._loaded && !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress)); }"""

#: Shows exactly the given layers, switched on in the given order.
SHOW_ONLY_JS = """keys => { const m = landkit.map;
    for (const v of Object.values(landkit.layers)) m.removeLayer(v.layer);
    for (const k of keys) m.addLayer(landkit.layers[k].layer); }"""

#: The page's configuration (the map's JSON data block).
CONFIG_JS = "() => JSON.parse(document.getElementById('landkit-data').textContent)"

#: The colours each vector layer draws with, read from the drawn features (all layers switched on):
#: key -> [outline colours, fill colours].
DRAWN_COLOURS_JS = """() => { const out = {};
    for (const [k, v] of Object.entries(landkit.layers)) {
        if (!v.layer.eachLayer) continue;  // an image overlay
        landkit.map.addLayer(v.layer);
        const strokes = new Set(), fills = new Set();
        v.layer.eachLayer(l => { const o = l.options;
            if (o.stroke !== false) strokes.add(o.color);
            if (o.fill) fills.add(o.fillColor || o.color); });
        out[k] = [[...strokes], [...fills]];
    }
    return out; }"""

#: The swatches of every legend: layer key -> [[background colour, border colour], ...].
LEGEND_SWATCHES_JS = """() => Object.fromEntries([...document.querySelectorAll('div.landkit-legend')].map(l =>
    [l.dataset.layer, [...l.querySelectorAll('.landkit-swatch')].map(s => {
        const c = getComputedStyle(s); return [c.backgroundColor, c.borderTopColor]; })]))"""


# --- the run (built once per module, by the command a planner types) ----------------------------------


def _landkit(*args: object) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """``landkit assess`` of the shipped sample (its map.html in Chinese) and ``landkit map --lang en``."""
    out = tmp_path_factory.mktemp("park") / "minhang"
    _landkit("-q", "assess", "-c", SAMPLE, "-o", out)
    _landkit("-q", "map", out, "--lang", "en", "-o", out / "map_en.html")
    return out


@pytest.fixture(scope="module")
def parcels(run):
    """The run's parcels, each with a point inside it (lon, lat)."""
    frame = pyogrio.read_dataframe(run / "landkit.gpkg", layer="parcels").to_crs("EPSG:4326")
    inside = frame.geometry.representative_point()
    return frame.assign(lon=inside.x, lat=inside.y)


@pytest.fixture(scope="module")
def project():
    return load_config(SAMPLE)


@contextmanager
def park_map(path: Path) -> Iterator:
    """The map at 1400×900, opened at its opening view (the whole sub-park), settled."""
    with open_page(path, **PARK) as bp:
        bp.page.wait_for_function(SETTLED_JS)
        yield bp


# --- colours -----------------------------------------------------------------------------------------


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rgb``, ``#rrggbb`` or ``rgb(r, g, b)`` as a tuple."""
    colour = colour.strip().lower()
    if colour.startswith("rgb"):
        return tuple(int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])  # type: ignore[return-value]
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def lab(colour: str) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour."""
    c = np.array(rgb(colour)) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> float:
    return float(np.linalg.norm(lab(a) - lab(b)))


def _is_colour(value: object) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?|rgb\(.*\)", value.strip()))


def config_colours(spec: dict) -> list[str]:
    """Every colour a layer's configuration names: style, categories, ramp stops, missing, legend."""
    colours = [v for v in (spec.get("style") or {}).values() if _is_colour(v)]
    colours += list((spec.get("colors") or {}).values())
    colours += ["rgb({},{},{})".format(*s) for s in spec.get("stops", [])] if spec.get("mode") == "ramp" else []
    colours += [spec["missing"]] if spec.get("missing") else []
    colours += [item[0] for item in (spec.get("legend") or {}).get("items", [])]
    return colours


def _visible(swatch: list[str]) -> list[str]:
    return [c for c in swatch if not re.fullmatch(r"rgba\(.*,\s*0\)|transparent", c)]


# --- pixels ------------------------------------------------------------------------------------------


def _screenshot(bp) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(bp.screenshot())).convert("RGB")).astype(int)


def _container_points(page, lonlat: np.ndarray) -> np.ndarray:
    points = page.evaluate("ll => ll.map(([x, y]) => { const p = landkit.map.latLngToContainerPoint([y, x]); return [p.x, p.y]; })",
                           lonlat.tolist())
    return np.round(np.array(points)).astype(int)


def _under_controls(page, points: np.ndarray, margin: int = 8) -> np.ndarray:
    """Which points lie under a control (title, search, legends, layer list) or off the screen."""
    boxes = page.eval_on_selector_all(".leaflet-control", "els => els.map(e => { const r = e.getBoundingClientRect(); "
                                                          "return [r.left, r.top, r.right, r.bottom]; })")
    hidden = (points[:, 0] < margin) | (points[:, 1] < margin) | (points[:, 0] >= PARK["width"] - margin) | (points[:, 1] >= PARK["height"] - margin)
    for left, top, right, bottom in boxes:
        hidden |= ((points[:, 0] >= left - margin) & (points[:, 0] <= right + margin)
                   & (points[:, 1] >= top - margin) & (points[:, 1] <= bottom + margin))
    return hidden


def layer_pixels(image: np.ndarray, points: np.ndarray, colours: list[str], half: int = 3, tolerance: int = 6) -> np.ndarray:
    """How many pixels of the (2·half+1)² window around each point are one of the colours."""
    palette = np.array([rgb(c) for c in colours])
    counts = []
    for x, y in points:
        window = image[y - half:y + half + 1, x - half:x + half + 1].reshape(-1, 1, 3)
        counts.append(int((np.abs(window - palette[None]).max(axis=2) <= tolerance).any(axis=1).sum()))
    return np.array(counts)


def _plot_sizes_px(page, frame) -> np.ndarray:
    """Each plot's size on screen now: the geometric mean of its box's sides, in pixels."""
    west, south, east, north = (frame.geometry.bounds[c].to_numpy() for c in ("minx", "miny", "maxx", "maxy"))
    a = _container_points(page, np.column_stack([west, south])).astype(float)
    b = _container_points(page, np.column_stack([east, north])).astype(float)
    return np.sqrt(np.abs(b[:, 0] - a[:, 0]) * np.abs(b[:, 1] - a[:, 1]))


# --- 1. small plots are visible at park zoom ---------------------------------------------------------------


@pytest.mark.parametrize("key", list(SMALL_PLOT_LAYERS))
def test_small_plots_show_at_park_zoom(run, parcels, key):
    """With only the layer on, each of its tiny plots (under 4 px) shows in the layer's colour around
    its centre; with the blocks and grades switched on after it, the plots stay on top."""
    members = parcels.query(SMALL_PLOT_LAYERS[key])
    assert len(members) > 10
    with park_map(run / "map.html") as bp:
        page = bp.page
        bounds = page.evaluate(CONFIG_JS)["bounds"]
        assert page.evaluate("b => landkit.map.getBounds().contains(b)", bounds)  # the whole park in view
        spec = next(s for s in page.evaluate(CONFIG_JS)["layers"] if s["key"] == key)
        colours = list((spec.get("colors") or {}).values()) or [spec["style"]["fillColor"]]
        sizes = _plot_sizes_px(page, members)
        tiny = sizes < 4  # plots "smaller than a pixel" or a few: invisible as polygons
        assert tiny.mean() > 0.5, f"{key}: the sample's plots should mostly be tiny at park zoom ({np.median(sizes):.1f} px)"
        points = _container_points(page, members[["lon", "lat"]].to_numpy())
        shown = ~_under_controls(page, points) & tiny
        assert shown.sum() > 10

        page.evaluate(SHOW_ONLY_JS, [key])
        page.wait_for_timeout(100)
        alone = layer_pixels(_screenshot(bp), points[shown], colours)
        assert (alone >= 1).all(), f"{key}: {(alone == 0).sum()} of {shown.sum()} tiny plots invisible"
        assert (alone >= DOT_PIXELS).all(), f"{key}: {(alone < DOT_PIXELS).sum()} of {shown.sum()} tiny plots show too little"

        page.evaluate(SHOW_ONLY_JS, [key, "blocks", "grades"])  # the grades switched on after the layer
        page.wait_for_timeout(100)
        above = layer_pixels(_screenshot(bp), points[shown], colours)
        assert (above >= DOT_PIXELS).all(), f"{key}: the grades hide {(above < DOT_PIXELS).sum()} plots"
        bp.assert_offline_clean()


def test_a_small_plot_is_its_polygon_once_zoomed_in(run, parcels):
    """At park zoom a small plot is a dot of fixed size; zoomed in on it, its polygon; back, a dot."""
    plot = parcels.query(SMALL_PLOT_LAYERS["scatter"]).iloc[0]
    with park_map(run / "map.html") as bp:
        page = bp.page
        page.evaluate(SHOW_ONLY_JS, ["scatter"])
        shape_js = """id => { const d = landkit.datasets.parcels, i = d.ids.indexOf(id);
            const g = landkit.layers.scatter.layer, mine = g.getLayers().filter(l => l._lk === i);
            return [mine.length, mine.map(l => l instanceof L.Polygon ? 'polygon' : l instanceof L.CircleMarker ? 'dot' : '?'),
                    mine.map(l => l.getRadius ? l.getRadius() : null), g.getLayers().length]; }"""
        count = page.evaluate("landkit.layers.scatter.count")
        n, shapes, radii, total = page.evaluate(shape_js, plot["parcel_id"])
        assert (n, shapes, total) == (1, ["dot"], count) and radii[0] >= 3
        assert page.evaluate("id => landkit.select(id)", plot["parcel_id"])  # zooms in on it
        page.wait_for_function(SETTLED_JS)
        assert page.evaluate("landkit.map.getZoom()") >= 16
        n, shapes, _, total = page.evaluate(shape_js, plot["parcel_id"])
        assert (n, shapes, total) == (1, ["polygon"], count)
        page.evaluate("b => { landkit.map.fitBounds(b, {animate: false}); }", page.evaluate(CONFIG_JS)["bounds"])
        page.wait_for_function(SETTLED_JS)
        assert page.evaluate(shape_js, plot["parcel_id"])[1] == ["dot"]
        bp.assert_offline_clean()


# --- 2. overlays never draw in grade colours ----------------------------------------------------------------


def _assert_no_grade_colour(where: str, colours: list[str], *, disposal_too: bool) -> None:
    for colour in colours:
        for grade, reserved in GRADE_COLOURS.items():
            assert rgb(colour) != rgb(reserved), f"{where}: {colour} is grade {grade}'s colour"
            assert delta_e(colour, reserved) >= MIN_DELTA_E, f"{where}: {colour} is near grade {grade}'s colour {reserved}"
        if disposal_too:
            for path, reserved in DISPOSAL_COLOURS.items():
                assert rgb(colour) != rgb(reserved), f"{where}: {colour} is the disposal path {path}'s colour"
                assert delta_e(colour, reserved) >= MIN_DELTA_E_DISPOSAL, f"{where}: {colour} is near path {path}'s {reserved}"


def test_no_overlay_takes_a_grade_colour(run):
    with park_map(run / "map.html") as bp:
        page = bp.page
        specs = {s["key"]: s for s in page.evaluate(CONFIG_JS)["layers"]}
        assert set(specs) >= RESERVED | {"scatter", "adjustments", "inventory", "rings", "travel_time"}
        overlays = [k for k in specs if k not in RESERVED]
        for key in overlays:  # the page's configuration
            _assert_no_grade_colour(f"{key} (config)", config_colours(specs[key]), disposal_too=True)
        drawn = page.evaluate(DRAWN_COLOURS_JS)  # the features as drawn (ramps interpolated, fallbacks)
        for key in overlays:
            strokes, fills = drawn[key]
            assert strokes or fills, key
            _assert_no_grade_colour(f"{key} (drawn)", strokes + fills, disposal_too=True)
        assert {rgb(c) for c in drawn["grades"][1]} == {rgb(c) for c in GRADE_COLOURS.values()}  # the test sees grade colours
        swatches = page.evaluate(LEGEND_SWATCHES_JS)  # the legends show what is drawn, as it is drawn
        for key in overlays:
            if key not in swatches:
                continue
            shown = [c for sw in swatches[key] for c in _visible(sw)]
            _assert_no_grade_colour(f"{key} (legend)", shown, disposal_too=True)
            items = {rgb(item[0]) for item in specs[key]["legend"].get("items", [])}
            assert items <= {rgb(c) for c in shown}, f"{key}: the legend's swatches are not its items"
            if specs[key]["mode"] != "ramp":
                strokes, fills = drawn[key]
                keyed = fills if (specs[key]["style"].get("fill", True) and fills) else strokes
                assert {rgb(c) for c in keyed} <= items, f"{key}: draws colours its legend does not show"
        for key in ("rings", "clusters"):  # zones are outlines, which leave the grades visible
            assert specs[key]["style"].get("fill") is False
            assert all(not _visible([bg]) for bg, _ in swatches[key]), f"{key}: its legend should show outlines"
        bp.assert_offline_clean()


# --- 3. codes by their names ------------------------------------------------------------------------------


def raw_codes(project) -> set[str]:
    """Every code a parcel, ring or link carries, as the data store it (never what a popup shows)."""
    codes = {code for names in VALUE_LABELS.values() for code in names}
    codes |= {t.name for t in project.assessment.tracks} | set(project.rings.labels) | {"unreachable"}
    codes |= set(GRADE_COLOURS) | {r.code for r in project.disposal.rules}
    codes |= {"pair", "core", "nearest", "move_out", "bring_in", "merge", "sporadic", "isolated", "small"}
    return codes | {"True", "False", "true", "false"}


def _popup_rows(page) -> dict[str, str]:
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")
    rows = page.locator(".leaflet-popup-content tr").all()
    return {r.locator("th").inner_text(): r.locator("td").inner_text() for r in rows}


#: Popup rows that show the planner's own classes as entered: land use (M1, W1, U …, the codes of
#: the land-use classification itself, whose U is not the grade U).
AS_ENTERED = {"用地性质", "Land use"}


def _assert_no_raw_code(where: str, rows: dict[str, str], codes: set[str]) -> None:
    for header, text in rows.items():
        if header in AS_ENTERED:
            continue
        assert text not in codes, f"{where}: {header} shows the raw code {text!r}"
        assert not re.fullmatch(r"[a-z_]+", text), f"{where}: {header} shows {text!r}"


def _parcels_covering_every_code(parcels) -> list[str]:
    """One parcel per value of each coded column: every status, track, grade, ring (unreachable too)."""
    ids: list[str] = []
    for column in ("status", "track", "grade", "ring", "ring_modelled", "list_basis", "disposal", "adjustment"):
        ids += parcels.groupby(parcels[column].fillna("").astype(str))["parcel_id"].first().tolist()
    return list(dict.fromkeys(ids))


def test_chinese_popups_name_every_code(run, parcels, project):
    unreachable = parcels.loc[parcels["ring_modelled"] == "unreachable", "parcel_id"].tolist()
    assert unreachable, "the sample has parcels that cannot reach the core"
    codes, tracks = raw_codes(project), [t.label_zh for t in project.assessment.tracks]
    with park_map(run / "map.html") as bp:
        page = bp.page
        for parcel_id in unreachable[:3]:
            assert page.evaluate("id => landkit.select(id)", parcel_id)
            rows = _popup_rows(page)
            assert rows["地块编号"] == parcel_id
            assert rows["通行时间圈层"] == "不可达"
            assert "unreachable" not in page.locator(".leaflet-popup-content").inner_text()
            _assert_no_raw_code(parcel_id, rows, codes)
        for parcel_id in _parcels_covering_every_code(parcels):
            assert page.evaluate("id => landkit.select(id)", parcel_id)
            rows = _popup_rows(page)
            _assert_no_raw_code(parcel_id, rows, codes)
            assert rows.get("评价分组", tracks[0]) in tracks
            assert re.fullmatch(r"[ABCD]类|不参评", rows["评价等级"])
            assert re.fullmatch(r"\d{4}", rows.get("复核年份 (年)", "2026"))  # a year, not 2,026
        bp.assert_offline_clean()


def test_chinese_tooltips_legends_and_link_popups_name_every_code(run, parcels, project):
    parcel_id = parcels.loc[parcels["ring_modelled"] == "unreachable", "parcel_id"].iloc[0]
    codes = raw_codes(project)
    with park_map(run / "map.html") as bp:
        page = bp.page
        page.evaluate(SHOW_ONLY_JS, ["rings_modelled", "travel_time", "linkage", "rings"])
        hover = page.evaluate("""id => { const d = landkit.datasets.parcels, i = d.ids.indexOf(id);
            const l = landkit.layers.rings_modelled.layer.getLayers().find(l => l._lk === i);
            l.fire('mouseover', {latlng: l.getBounds().getCenter()}, true);
            return document.querySelector('.leaflet-tooltip').textContent; }""", parcel_id)
        assert hover == f"{parcel_id} · 不可达"
        for key in ("rings_modelled", "travel_time"):
            legend = page.locator(f'div.landkit-legend[data-layer="{key}"]').inner_text()
            assert "不可达" in legend and "unreachable" not in legend, legend
        for key in ("rings_modelled", "rings", "linkage", "scatter", "adjustments", "inventory", "disposal"):
            legend = page.locator(f'div.landkit-legend[data-layer="{key}"]').text_content()
            assert not re.search(r"(?<![A-Za-z])[a-z_]{3,}(?![A-Za-z])", legend), f"{key}: {legend}"
        kinds = page.evaluate("""() => { const g = landkit.layers.linkage.layer, seen = {};
            g.getLayers().forEach(l => { seen[landkit.datasets.linkage.props.kind[l._lk]] = l; });
            return Object.keys(seen).map(k => { const l = seen[k];
                l.fire('click', {latlng: l.getCenter()}, true);
                const rows = [...document.querySelectorAll('.leaflet-popup-content tr')].map(r => [r.cells[0].textContent, r.cells[1].textContent]);
                return [k, rows]; }); }""")
        assert {k for k, _ in kinds} == {"pair", "core", "nearest"}
        for kind, rows in kinds:
            shown = dict(rows)["连接类型"]
            assert shown in {"联动组合", "至核心", "相邻区块"}, (kind, shown)
            _assert_no_raw_code(f"link {kind}", dict(rows), codes)
        bp.assert_offline_clean()


def test_english_map_names_codes_in_english(run, parcels, project):
    parcel_id = parcels.loc[parcels["ring_modelled"] == "unreachable", "parcel_id"].iloc[0]
    ungraded = parcels.loc[parcels["grade"] == "U", "parcel_id"].iloc[0]
    tracks = {t.name: t.label_en for t in project.assessment.tracks}
    graded = parcels[parcels["track"].isin(list(tracks))].iloc[0]
    with park_map(run / "map_en.html") as bp:
        page = bp.page
        assert page.evaluate("id => landkit.select(id)", parcel_id)
        rows = _popup_rows(page)
        assert rows["Ring by travel time"] == "Unreachable by road"
        assert "unreachable" not in " ".join(rows.values())
        assert page.evaluate("id => landkit.select(id)", ungraded)
        assert _popup_rows(page)["Grade"] == "Not graded"
        assert page.evaluate("id => landkit.select(id)", graded["parcel_id"])
        rows = _popup_rows(page)
        assert rows["Track"] == tracks[graded["track"]] and rows["Grade"] in {"A", "B", "C", "D"}
        page.evaluate(SHOW_ONLY_JS, ["rings_modelled", "travel_time", "scatter", "adjustments", "linkage"])
        for key in ("rings_modelled", "travel_time", "scatter", "adjustments", "linkage"):
            legend = page.locator(f'div.landkit-legend[data-layer="{key}"]').inner_text()
            assert not re.search(r"[\u4e00-\u9fff]", legend), legend
            assert "unreachable" not in legend
        assert "Unreachable by road" in page.locator('div.landkit-legend[data-layer="rings_modelled"]').inner_text()
        bp.assert_offline_clean()
