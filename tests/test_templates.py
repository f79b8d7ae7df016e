"""The report and the map come from Jinja2 templates: text from data is escaped, never run or evaluated.

Hostile text (a script tag, an attribute breaking out of its quotes, Jinja's own syntax) is put in
the project's name, in block names and in enterprise names of the shipped sample; both pages must
show it as text, in the page's source and in a real browser, and a template given too little must
fail instead of writing an empty string.
"""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.deliver.report import build_report
from landkit.deliver.templates import environment, render
from landkit.deliver.webmap import build_map
from landkit.deliver.writer import map_layers
from landkit.pipeline import assess

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml"
PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}", "{% raw %}")
#: The project's name: all of them at once.
NAME = " ".join(PAYLOADS)


class Elements(HTMLParser):
    """The elements of a page (tag and attributes) and the text of its ``<title>`` and ``<h1>``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._in: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in = tag if tag in ("title", "h1") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.text[self._in] = self.text.get(self._in, "") + data

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]


@pytest.fixture(scope="module")
def hostile():
    """The sample assessed with a payload in the names of its first blocks and largest listed parcels' firms."""
    project = load_config(SAMPLE).model_copy(update={"name": NAME})
    data = load_dataset(project)
    blocks = data.blocks.copy()
    blocks.loc[blocks.index[: len(PAYLOADS)], "block_name"] = list(PAYLOADS)
    data = dataclasses.replace(data, blocks=blocks)
    result = assess(data, project)
    parcels = result.parcels.copy()
    largest = result.inventory.sort_values("area_mu", ascending=False).index[: len(PAYLOADS)]
    parcels["enterprise_names"] = parcels["enterprise_names"].astype(object)
    parcels.loc[largest, "enterprise_names"] = list(PAYLOADS)
    return project, data, dataclasses.replace(result, parcels=parcels)


@pytest.fixture(scope="module")
def report_pages(hostile):
    project, _, result = hostile
    return {lang: build_report(result, project, maps=[(NAME, "map.html")], lang=lang) for lang in ("zh", "en")}


@pytest.fixture(scope="module")
def map_page(hostile):
    project, data, result = hostile
    return build_map(map_layers(result, data), project)


def _no_injected_markup(page: Elements, scripts: int) -> None:
    """No element came from the data: only the page's own scripts, no image but charts, no handler."""
    assert len(page.tags("script")) == scripts
    assert all((img.get("src") or "").startswith("data:image/png;base64,") for img in page.tags("img"))
    assert not [attrs for _, attrs in page.elements if any(name.startswith("on") for name in attrs)]


# --- the report ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hostile_names_are_text_in_the_report(report_pages, lang):
    text = report_pages[lang]
    page = Elements(text)
    _no_injected_markup(page, scripts=0)
    assert page.text["h1"] == NAME  # not "… 49 …": the name is never a template
    assert page.text["title"].startswith(NAME)
    assert "<script" not in text.lower() and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "{{ 7*7 }}" in text and "{% raw %}" in text
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    for payload in PAYLOADS:  # in the block ranking (block names) and the largest parcels (firms)
        shown = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
        assert cells.count(shown) >= 2, payload


def test_hostile_names_do_not_run_in_the_report(report_pages, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(report_pages["zh"], encoding="utf-8")
    with open_page(path) as bp:
        dialogs: list[str] = []
        bp.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        assert bp.page.title().startswith(NAME)
        assert bp.page.inner_text("h1") == NAME
        assert bp.page.evaluate("() => document.scripts.length") == 0
        assert bp.page.evaluate("() => [...document.images].every(i => i.src.startsWith('data:image/png'))")
        assert dialogs == []
        bp.assert_offline_clean()


# --- the map -------------------------------------------------------------------------------------


def _config(text: str) -> dict:
    block = re.search(r'<script type="application/json" id="landkit-data">(.*?)</script>', text, re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


def test_hostile_names_are_text_in_the_map(map_page):
    page = Elements(map_page)
    _no_injected_markup(page, scripts=4)  # landkit-map.js, Leaflet, the data, the start
    assert page.text["title"] == NAME
    assert "<script>alert(1)</script>" not in map_page and "<img src=x" not in map_page
    config = _config(map_page)
    assert config["title"] == NAME  # the JSON keeps the name exactly: "<" and ">" only escaped as \u003c …
    blocks = config["datasets"]["blocks"]["props"]["block_name"]
    names = blocks if isinstance(blocks, list) else blocks["d"]
    assert set(PAYLOADS) <= set(names)
    firms = config["datasets"]["parcels"]["props"]["enterprise_names"]
    assert set(PAYLOADS) <= set(firms if isinstance(firms, list) else firms["d"])


def test_hostile_names_do_not_run_in_the_map(map_page, tmp_path):
    path = tmp_path / "map.html"
    path.write_text(map_page, encoding="utf-8")
    with open_page(path) as bp:
        dialogs: list[str] = []
        bp.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        assert bp.page.evaluate("() => window.landkitReady.then(() => true)")
        assert bp.page.title() == NAME
        assert NAME in bp.page.inner_text(".landkit-title")
        assert bp.page.evaluate("() => document.querySelectorAll('img[src=x], [onerror]').length") == 0
        assert bp.page.evaluate("() => document.scripts.length") == 4
        assert dialogs == []
        bp.assert_offline_clean()


# --- the templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.html.j2", "map.html.j2"])
def test_a_missing_variable_fails_loudly(name):
    assert environment().autoescape(name) is True
    with pytest.raises(jinja2.UndefinedError):
        render(name)
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("<p>{{ shown }}</p>").render()


def test_a_missing_attribute_fails_loudly():
    page = render("report.html.j2", lang="en", title="t", project_name="p", subtitle="s", year_label="y", year="2025",
                  synthetic="", contents="c", sections=[], footer="f")
    assert "<h1>p</h1>" in page
    with pytest.raises(jinja2.UndefinedError):
        render("report.html.j2", lang="en", title="t", project_name="p", subtitle="s", year_label="y", year="2025",
               synthetic="", contents="c", sections=[object()], footer="f")  # a section without id or title


def test_one_environment():
    assert environment() is environment()
