"""The report and a compressed large map in a real browser (Debian's headless Chromium), offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.deliver.report import build_report, write_report
from landkit.deliver.webmap import build_map, write_map
from landkit.deliver.writer import map_layers
from landkit.pipeline import assess

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml"


@pytest.fixture(scope="module")
def assessed():
    project = load_config(SAMPLE)
    data = load_dataset(project)
    return project, data, assess(data, project)


def test_report_opens_offline_with_its_charts(assessed, tmp_path):
    project, _, result = assessed
    path = write_report(tmp_path / "report.html", build_report(result, project, maps=[("交互地图", "map.html")]))
    with open_page(path) as bp:
        page = bp.page
        images = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
        assert images and all(done and width > 0 for done, width in images)
        text = page.inner_text("body")
        assert f"{result.summary['parcels']:,}" in text
        assert bp.screenshot_variance() > 50
        bp.assert_offline_clean()


def test_compressed_map_inflates_in_the_browser(assessed, tmp_path):
    project, data, result = assessed
    packed = project.model_copy(update={"map": project.map.model_copy(update={"compress": "always"})})
    html = build_map(map_layers(result, data), packed)
    assert 'id="landkit-data-gz"' in html and 'id="landkit-data"' not in html
    path = write_map(tmp_path / "packed.html", html)
    with open_page(path) as bp:
        counts = bp.page.evaluate(
            "() => window.landkitReady.then(api => Object.fromEntries("
            "Object.entries(api.layers).map(([k, v]) => [k, v.count])))"
        )
        assert counts["grades"] == len(result.parcels)
        assert counts["inventory"] == int(result.parcels["low_efficiency"].sum())
        bp.assert_offline_clean()


def test_surface_overlays_on_the_map(assessed, tmp_path):
    from landkit.deliver.writer import surface_overlays, write_surfaces

    project, data, result = assessed
    write_surfaces(tmp_path, result, project)
    html = build_map(map_layers(result, data), project, images=surface_overlays(tmp_path, project))
    path = write_map(tmp_path / "surfaces.html", html)
    with open_page(path) as bp:
        page = bp.page
        layers = page.evaluate("() => Object.fromEntries(Object.entries(landkit.layers).map(([k, v]) => [k, v.title]))")
        assert {"surface_score", "surface_low_efficiency_density"} <= set(layers)
        page.evaluate("() => { landkit.layers.surface_score.layer.addTo(landkit.map); }")
        src = page.evaluate("() => document.querySelector('.leaflet-image-layer').getAttribute('src').slice(0, 22)")
        assert src == "data:image/png;base64,"
        visible = page.evaluate("() => getComputedStyle(document.querySelector('.landkit-legend[data-layer=surface_score]')).display")
        assert visible != "none"
        bp.assert_offline_clean()
