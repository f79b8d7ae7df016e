"""The interactive map in a real browser (Debian's headless Chromium), offline.

The maps are built from the shipped Minhang sample and opened from ``file://`` with the network
blocked (see ``browser.py``): each page must load with zero external requests, no other local
file and no console error, and its layers, legends, search and popups must work. Enterprise
names and block names are data typed by people, so markup in them must reach the page as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.deliver.webmap import build_map, write_map
from landkit.deliver.writer import map_layers
from landkit.pipeline import assess

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml"

#: Enterprise names that would run script if they ever became markup.
XSS_ALERT = "<img src=x onerror=alert(1)>"
XSS_FLAG = "<img src=x onerror=window.__xss=1>"
XSS_BREAKOUT = "</script><script>window.__xss=2</script>"

#: Reads every layer's announced count and, after putting it on the map, the features drawn.
COUNTS_JS = """() => Object.fromEntries(Object.entries(window.landkit.layers).map(([key, v]) => {
    if (!window.landkit.map.hasLayer(v.layer)) v.layer.addTo(window.landkit.map);
    return [key, [v.count, v.layer.getLayers ? v.layer.getLayers().length : 1]];
}))"""


# --- the maps (built once per module) ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    project = load_config(SAMPLE)
    data = load_dataset(project)
    result = assess(data, project)
    return project, data, result


@pytest.fixture(scope="module")
def map_zh(sample, tmp_path_factory) -> Path:
    project, data, result = sample
    html = build_map(map_layers(result, data), project, lang="zh", basemap="none")
    return write_map(tmp_path_factory.mktemp("map-zh") / "map.html", html)


@pytest.fixture(scope="module")
def map_en(sample, tmp_path_factory) -> Path:
    project, data, result = sample
    html = build_map(map_layers(result, data), project, lang="en", basemap="none")
    return write_map(tmp_path_factory.mktemp("map-en") / "map.html", html)


@pytest.fixture(scope="module")
def hostile(sample, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A map whose parcels carry script-like enterprise names (and blocks a script-like name).

    Returns the page and ``{payload: parcel_id}``.
    """
    project, data, result = sample
    layers = dict(map_layers(result, data))
    parcels = layers["parcels"].copy()
    targets = {}
    for row, payload in zip((10, 20, 30), (XSS_ALERT, XSS_FLAG, XSS_BREAKOUT), strict=True):
        parcels.iloc[row, parcels.columns.get_loc("enterprise_names")] = payload
        targets[payload] = str(parcels["parcel_id"].iloc[row])
    layers["parcels"] = parcels
    blocks = layers["blocks"].copy()
    blocks["block_name"] = XSS_FLAG.replace("__xss=1", "__xss=3")
    layers["blocks"] = blocks
    html = build_map(layers, project, lang="zh", basemap="none")
    return write_map(tmp_path_factory.mktemp("map-xss") / "map.html", html), targets


# --- helpers ---------------------------------------------------------------------------------------

#: True once the page script has run and Leaflet is not animating (a person cannot act sooner;
#: ``test_select_right_after_load_zooms`` checks that a script acting sooner is not undone).
SETTLED_JS = """() => { const m = window.landkit && window.landkit.map;
    return !!(m && m._loaded && !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress)); }"""


@contextmanager
def open_map(path, **kwargs) -> Iterator:
    """``open_page`` on a map, once the map is ready for a person to use."""
    with open_page(path, **kwargs) as bp:
        bp.page.wait_for_function(SETTLED_JS)
        yield bp


def _layer_label(page, title: str):
    """The label of an overlay in the layer control, by its exact title."""
    exact = re.compile(rf"^\s*{re.escape(title)}\s*$")
    return page.locator(".leaflet-control-layers-overlays label").filter(has_text=exact)


def _expect_popup_for(bp, parcel_id: str, zoom_before: float):
    """The open popup shows the parcel, the map zoomed in on it, and the popup is in view."""
    page = bp.page
    # a popup being replaced fades out for 0.2 s before it leaves the page
    page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 1")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(state="visible")
    assert parcel_id in popup.text_content()
    assert page.evaluate("window.landkit.map.getZoom()") > zoom_before + 2
    box, view = page.locator(".leaflet-popup").bounding_box(), page.viewport_size
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
    assert 0 <= box["y"] + box["height"] <= view["height"]
    return popup


def _search_haystack(parcels) -> list[tuple[str, str]]:
    names = parcels["enterprise_names"].fillna("").astype(str)
    return [(str(pid), f"{pid} {name}".lower()) for pid, name in zip(parcels["parcel_id"], names, strict=True)]


# --- tests -----------------------------------------------------------------------------------------


def test_map_opens_offline(map_zh, sample):
    project = sample[0]
    with open_map(map_zh) as bp:
        page = bp.page
        assert page.evaluate("typeof L") == "object"
        assert re.fullmatch(r"1\.\d+\.\d+", page.evaluate("L.version"))
        assert page.evaluate("typeof window.landkit.search") == "function"
        assert page.evaluate("typeof window.landkit.select") == "function"
        assert page.title() == project.name
        # Chinese by default
        control = page.locator(".leaflet-control-layers").inner_text()
        assert "评价等级" in control and "低效用地" in control
        assert page.locator("input#landkit-search").get_attribute("placeholder") == "搜索地块编号或企业名称"
        bp.assert_offline_clean()


def test_layers_and_counts_match_the_data(map_zh, sample):
    _, data, result = sample
    parcels = result.parcels
    low = int(parcels["low_efficiency"].sum())
    expected = {
        "blocks": len(result.blocks),
        "roads": len(data.roads),
        "grades": len(parcels),  # every parcel, coloured by grade
        "score": len(parcels),
        "inventory": low,  # the low-efficiency parcels
        "watch": int(parcels["watch"].sum()),  # the A/B parcels on the watch table
        "disposal": int((parcels["disposal"] != "").sum()),  # every graded parcel and all idle land
        "core_sites": len(data.core_sites),
        # three rings (the sample defines them)
        "rings": len(result.rings.rings),
        "rings_modelled": len(parcels),
        "travel_time": len(parcels),
        "function_fit": int((~parcels["function_fit"]).sum()),
        "linkage": len(result.rings.linkage),
        # small and scattered
        "scatter": int((parcels["small"] | parcels["isolated"]).sum()),
        "clusters": len(result.scatter.clusters),
        "adjustments": int((parcels["adjustment"] != "").sum()),
        # the plan's items 12–14
        "block_changes": len(result.layers["block_changes"]),
        "proposed_blocks": len(result.layers["proposed_blocks"]),
        "ownership": int(parcels["ownership"].isin(["collective", "platform"]).sum()),
        "conversion": int(parcels["conversion_candidate"].sum()),
        "vertical": int(parcels["vertical_suitable"].sum()),
        "facilities": len(data.facilities),
        # decision tools: the parcels whose class depends on contested weights
        "unstable": int((~parcels["stable"]).sum()),
        "assembly_sites": len(result.layers["assembly_sites"]),
    }
    assert 0 < low < len(parcels) and low == len(result.inventory)
    with open_map(map_zh) as bp:
        page = bp.page
        titles = page.evaluate("Object.fromEntries(Object.entries(landkit.layers).map(([k, v]) => [k, v.title]))")
        counts = page.evaluate(COUNTS_JS)
        assert {key: announced for key, (announced, _) in counts.items()} == expected
        assert {key: drawn for key, (_, drawn) in counts.items()} == expected
        # each layer is in the layer control under its title
        for title in titles.values():
            assert _layer_label(page, title).count() == 1, title
        bp.assert_offline_clean()


def test_toggling_a_layer_shows_and_hides_its_legend(map_zh):
    with open_map(map_zh) as bp:
        page = bp.page
        layers = page.evaluate(
            "Object.fromEntries(Object.entries(landkit.layers)"
            ".map(([k, v]) => [k, [v.title, landkit.map.hasLayer(v.layer)]]))"
        )
        legends = page.eval_on_selector_all("div.landkit-legend", "els => els.map(e => e.dataset.layer)")
        assert {"grades", "inventory", "score"} <= set(legends)
        for key in ("inventory", "score", "grades"):  # two start off, one on
            title, on = layers[key]
            legend = page.locator(f'div.landkit-legend[data-layer="{key}"]')
            label = _layer_label(page, title)
            assert legend.is_visible() == on, key
            assert label.locator("input").is_checked() == on
            label.click()
            assert legend.is_visible() != on, key
            assert page.evaluate(f"landkit.map.hasLayer(landkit.layers[{key!r}].layer)") != on
            label.click()
            assert legend.is_visible() == on, key
        # a legend is shown for exactly the layers on the map
        for key in legends:
            shown = page.locator(f'div.landkit-legend[data-layer="{key}"]').is_visible()
            assert shown == page.evaluate(f"landkit.map.hasLayer(landkit.layers[{key!r}].layer)"), key
        bp.assert_offline_clean()


def test_search_parcel_id_and_enter_opens_its_popup(map_zh, sample):
    parcel_id = str(sample[2].inventory["parcel_id"].iloc[0])
    with open_map(map_zh) as bp:
        page = bp.page
        zoom = page.evaluate("landkit.map.getZoom()")
        assert page.evaluate("id => landkit.search(id)", parcel_id) == [parcel_id]
        box = page.locator("input#landkit-search")
        box.fill(parcel_id)
        results = page.locator("#landkit-search-results li")
        assert results.count() == 1 and results.first.text_content().startswith(parcel_id)
        box.press("Enter")
        _expect_popup_for(bp, parcel_id, zoom)
        bp.assert_offline_clean()


def test_search_enterprise_name_and_click_opens_its_popup(map_zh, sample):
    parcels = sample[2].parcels
    haystack = _search_haystack(parcels)
    names = parcels["enterprise_names"].dropna().astype(str)
    name = next(n for n in names if "、" not in n and n)  # one firm's full name
    parcel_id = str(parcels.loc[names.index[list(names).index(name)], "parcel_id"])
    expected = [pid for pid, text in haystack if name.lower() in text][:20]
    assert parcel_id in expected
    with open_map(map_zh) as bp:
        page = bp.page
        zoom = page.evaluate("landkit.map.getZoom()")
        assert page.evaluate("q => landkit.search(q)", name) == expected
        page.locator("input#landkit-search").fill(name)
        results = page.locator("#landkit-search-results li")
        assert results.count() == len(expected)
        item = results.filter(has_text=parcel_id)
        assert name in item.text_content()
        item.click()
        popup = _expect_popup_for(bp, parcel_id, zoom)
        assert name in popup.text_content()
        bp.assert_offline_clean()


def test_select_api_opens_popup(map_zh, sample):
    parcel_id = str(sample[2].parcels["parcel_id"].iloc[-1])
    with open_map(map_zh) as bp:
        page = bp.page
        zoom = page.evaluate("landkit.map.getZoom()")
        assert page.evaluate("id => landkit.select(id)", parcel_id)
        _expect_popup_for(bp, parcel_id, zoom)
        assert not page.evaluate("landkit.select('no-such-parcel')")
        bp.assert_offline_clean()


def test_select_right_after_load_zooms(map_zh, sample):
    """A select made as soon as the page has loaded is not undone by the opening zoom."""
    parcel_id = str(sample[2].parcels["parcel_id"].iloc[0])
    with open_page(map_zh) as bp:  # no waiting for the map to settle
        page = bp.page
        zoom = page.evaluate("landkit.map.getZoom()")
        assert page.evaluate("id => landkit.select(id)", parcel_id)
        page.wait_for_function(SETTLED_JS)
        assert page.evaluate("landkit.map.getZoom()") > zoom + 2


def test_markup_in_enterprise_names_stays_text(hostile):
    path, targets = hostile
    with open_map(path) as bp:
        page = bp.page
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        zoom = page.evaluate("landkit.map.getZoom()")
        box = page.locator("input#landkit-search")
        for payload, parcel_id in targets.items():
            assert page.evaluate("q => landkit.search(q)", payload) == [parcel_id]
            box.fill(payload)
            results = page.locator("#landkit-search-results li")
            assert results.count() == 1
            assert payload in results.first.text_content()
            assert page.locator("#landkit-search-results img, #landkit-search-results script").count() == 0
            box.press("Enter")
            popup = _expect_popup_for(bp, parcel_id, zoom)
            assert payload in popup.text_content()
            assert popup.locator("img").count() == 0 and popup.locator("script").count() == 0
        page.wait_for_timeout(200)  # an onerror handler would have run by now
        assert page.evaluate("window.__xss") is None
        assert dialogs == []
        assert page.locator('img[src="x"]').count() == 0
        bp.assert_offline_clean()  # an <img src=x> would also show as a request for a local file


def test_markup_in_tooltips_stays_text(hostile):
    path, _ = hostile
    with open_map(path) as bp:
        page = bp.page
        page.evaluate("""() => { for (const [k, v] of Object.entries(landkit.layers))
                                   if (k !== 'blocks') landkit.map.removeLayer(v.layer); }""")
        x, y = page.evaluate("""() => { const b = landkit.layers.blocks.layer.getLayers()[0];
                                        const p = landkit.map.latLngToContainerPoint(b.getBounds().getCenter());
                                        return [p.x, p.y]; }""")
        for k in range(6):  # a real mouse over the block: the canvas renderer fires mouseover
            page.mouse.move(x + k, y + k)
            page.wait_for_timeout(40)
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for(state="visible")
        assert "onerror" in tooltip.text_content()
        page.wait_for_timeout(200)
        assert tooltip.locator("img").count() == 0
        assert page.evaluate("window.__xss") is None
        bp.assert_offline_clean()


def test_map_is_drawn(map_zh, tmp_path):
    with open_map(map_zh) as bp:
        variance = bp.screenshot_variance(tmp_path / "map.png")
        assert variance > 100, f"the map looks blank (pixel variance {variance:.1f})"
    with open_page("<html><body style='margin:0;background:#f4f3ef'></body></html>") as blank:
        assert blank.screenshot_variance() < 1


def test_english_labels(map_en, sample):
    with open_map(map_en) as bp:
        page = bp.page
        control = page.locator(".leaflet-control-layers").inner_text()
        for title in ("Blocks", "Roads", "Grade", "Score", "Low-efficiency land", "Revitalisation path", "Core sites"):
            assert _layer_label(page, title).count() == 1, title
        assert not re.search(r"[\u4e00-\u9fff]", control), control
        assert page.locator("input#landkit-search").get_attribute("placeholder") == "Search parcel id or enterprise"
        assert page.locator('div.landkit-legend[data-layer="grades"] .landkit-legend-title').inner_text() == "Grade"
        assert "parcels" in page.locator(".landkit-title small").inner_text()
        firms = sample[2].parcels[sample[2].parcels["enterprise_count"] > 0]
        parcel_id = str(firms["parcel_id"].iloc[0])
        assert page.evaluate("id => landkit.select(id)", parcel_id)
        headers = page.locator(".leaflet-popup-content th").all_inner_texts()
        assert headers and "Enterprises" in headers
        names = [re.sub(r"\s*\([^)]*\)$", "", h) for h in headers]  # the label, without its unit
        assert not any(re.search(r"[\u4e00-\u9fff]", n) for n in names), headers
        bp.assert_offline_clean()


def test_english_popup_units(map_en, sample):
    with open_map(map_en) as bp:
        page = bp.page
        assert page.evaluate("id => landkit.select(id)", str(sample[2].inventory["parcel_id"].iloc[0]))
        headers = page.locator(".leaflet-popup-content th").all_inner_texts()
        assert not any(re.search(r"[\u4e00-\u9fff]", h) for h in headers), headers


def test_with_every_layer_on_the_legend_covers_no_layer_entry(map_zh):
    """At 1400×900 with every overlay on, the legends covered the lower entries of the layer list."""
    with open_map(map_zh, width=1400, height=900) as bp:
        page = bp.page
        page.evaluate("Object.values(landkit.layers).forEach(v => landkit.map.addLayer(v.layer))")
        page.wait_for_function(SETTLED_JS)
        legend = page.locator(".landkit-legends").bounding_box()
        assert legend is not None
        for label in page.locator(".leaflet-control-layers label").all():
            box = label.bounding_box()
            if box is None:
                continue
            apart = (box["x"] >= legend["x"] + legend["width"] or box["x"] + box["width"] <= legend["x"]
                     or box["y"] >= legend["y"] + legend["height"] or box["y"] + box["height"] <= legend["y"])
            assert apart, label.inner_text()
        view = page.viewport_size
        control = page.locator(".leaflet-control-layers").bounding_box()
        assert control["y"] + control["height"] <= view["height"] + 1  # the list scrolls inside the screen
        bp.assert_offline_clean()
