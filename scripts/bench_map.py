"""Benchmark the interactive map against geopandas' explore() on a synthetic city.

Builds a synthetic city (default 50,000 parcels), assesses it, then writes in the same run
(a) landkit's map and (b) ``GeoDataFrame.explore()`` of the same parcels with the same tooltip
fields, its Leaflet inlined the same way and its other CDN links removed so both open offline.
Each page is loaded in Debian's headless Chromium with the network blocked; the load time is
measured to the page's ``load`` event (and, for landkit's compressed large maps, the data
inflated: ``window.landkitReady``) plus two animation frames (the map drawn). Prints HTML
sizes, build times and median load times, and the ratios.

    python scripts/bench_map.py [--parcels 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_sample import write_city

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.deliver.webmap import build_map, leaflet_assets
from landkit.deliver.writer import map_layers
from landkit.pipeline import assess

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOOLTIP = ["parcel_id", "grade", "score"]


def explore_offline(parcels) -> str:
    """explore() of the parcels, Leaflet inlined like ours, other CDN assets (jQuery, Bootstrap, icons) removed."""
    fmap = parcels[[*TOOLTIP, "geometry"]].to_crs("EPSG:4326").explore(column="grade", tooltip=TOOLTIP, tiles=None)
    html = fmap.get_root().render()
    _, js, css = leaflet_assets()
    html = re.sub(r'<script[^>]*src="[^"]*leaflet[@/][^"]*leaflet\.js"[^>]*></script>', lambda _: f"<script>{js}</script>", html)
    html = re.sub(r'<link[^>]*href="[^"]*leaflet[@/][^"]*leaflet\.css"[^>]*/?>', lambda _: f"<style>{css}</style>", html)
    html = re.sub(r'<script[^>]*src="https?://[^"]*"[^>]*></script>', "", html)
    return re.sub(r'<link[^>]*href="https?://[^"]*"[^>]*/?>', "", html)


def load_time(browser, path: Path) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort())
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=600_000)
    # landkit's large maps inflate their data after `load`: wait for that, then two frames (drawn).
    page.evaluate("() => Promise.resolve(window.landkitReady).then(() => new Promise(r => "
                  "requestAnimationFrame(() => requestAnimationFrame(r))))")
    elapsed = time.perf_counter() - start
    context.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = load_config(write_city(args.parcels, tmp))
        data = load_dataset(project)
        result = assess(data, project)
        t0 = time.perf_counter()
        ours = build_map(map_layers(result, data), project)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        theirs = explore_offline(result.parcels)
        t_theirs = time.perf_counter() - t0
        (tmp / "ours.html").write_text(ours, encoding="utf-8")
        (tmp / "explore.html").write_text(theirs, encoding="utf-8")
        size_ours, size_theirs = (tmp / "ours.html").stat().st_size, (tmp / "explore.html").stat().st_size
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            loads_ours = [load_time(browser, tmp / "ours.html") for _ in range(args.repeat)]
            loads_theirs = [load_time(browser, tmp / "explore.html") for _ in range(args.repeat)]
            browser.close()
    m_ours, m_theirs = statistics.median(loads_ours), statistics.median(loads_theirs)
    print(f"{args.parcels:,} parcels")
    print(f"{'':<10} {'HTML MB':>8} {'build s':>8} {'load s (median of ' + str(args.repeat) + ')':>24}")
    print(f"{'landkit':<10} {size_ours / 1e6:>8.1f} {t_ours:>8.1f} {m_ours:>24.2f}")
    print(f"{'explore()':<10} {size_theirs / 1e6:>8.1f} {t_theirs:>8.1f} {m_theirs:>24.2f}")
    print(f"ratios: {size_theirs / size_ours:.1f}× smaller, {m_theirs / m_ours:.1f}× faster to load")


if __name__ == "__main__":
    main()
