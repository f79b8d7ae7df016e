"""The planner's HTML report, built from an assessment of the shipped synthetic sample."""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.deliver import charts, report_tables
from landkit.deliver.report import build_report, write_report
from landkit.deliver.report_page import TEXT
from landkit.deliver.report_tables import fmt_number
from landkit.pipeline import assess

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "gis_data" / "minhang.yaml"
XSS = "<script>alert(1)</script>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project():
    # Without rings: the sections that depend on other analyses are tested by adding their tables.
    return load_config(SAMPLE, overrides={"rings": {"designated": {}}})


@pytest.fixture(scope="module")
def data(project):
    return load_dataset(project)


@pytest.fixture(scope="module")
def result(data, project):
    result = assess(data, project)
    for name in ("scatter_before_after", "scatter_metrics"):  # sections tested by adding them back
        result.tables.pop(name)
    return result


@pytest.fixture(scope="module")
def page(result, project) -> str:
    return build_report(result, project)


@pytest.fixture(scope="module")
def page_en(result, project) -> str:
    return build_report(result, project, lang="en")


# --- a strict reading of the page ----------------------------------------------------------------


class Page(HTMLParser):
    """Tags, attributes and text of a page; fails on unbalanced or misnested elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_tag: dict[str, list[str]] = {}
        self._current: list[list[str]] = []
        self.errors: list[str] = []
        self.tables: list[list[list[str]]] = []  # each table's rows, each row's cells
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        if tag == "tr" and self.tables:
            self.tables[-1].append([])
        if tag not in VOID:
            self.stack.append(tag)
            self._current.append([])

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        text = "".join(self._current.pop()).strip()
        self.text_by_tag.setdefault(tag, []).append(text)
        if tag in ("td", "th") and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(text)
        if self._current:
            self._current[-1].append(text)

    def handle_data(self, data):
        if self._current:
            self._current[-1].append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def headline(text: str) -> dict[str, tuple[float, str]]:
    """The headline figures: key → (value, shown text)."""
    found = re.findall(r'<dd data-key="([^"]+)" data-value="([^"]+)">([^<]*)<', text)
    return {key: (float(value), shown) for key, value, shown in found}


def png_images(text: str) -> list[bytes]:
    out = []
    for attrs in Page(text).find("img"):
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,"), src[:60]
        out.append(base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True))
    return out


# --- the page ------------------------------------------------------------------------------------


def test_page_parses_with_balanced_tags(page):
    parsed = Page(page)
    assert parsed.errors == []
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.find("html", lang="zh-CN")
    assert parsed.find("meta", charset="utf-8")


def test_page_is_self_contained(page):
    parsed = Page(page)
    assert "http://" not in page and "https://" not in page
    assert not parsed.find("script") and not parsed.find("link") and not parsed.find("iframe")
    assert "url(" not in page and "@import" not in page
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), (tag, name, value[:60])


def test_only_the_given_map_links_are_external(result, project):
    maps = [("在线底图 & 等级", "https://example.org/m.html?a=1&b=2"), ("地块", "maps/grades.html")]
    text = build_report(result, project, maps=maps)
    parsed = Page(text)
    assert parsed.errors == []
    urls = re.findall(r"https?://[^\s\"'<>]*", text)
    assert urls == ["https://example.org/m.html?a=1&amp;b=2"]
    links = {a["href"] for a in parsed.find("a") if not (a["href"] or "").startswith("#")}
    assert links == {"https://example.org/m.html?a=1&b=2", "maps/grades.html"}
    assert "在线底图 &amp; 等级" in text
    assert parsed.find("section", id="maps")


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<p>", " vbscript:x"]
)
def test_map_links_that_run_code_are_refused(result, project, href):
    with pytest.raises(ValueError, match="map link"):
        build_report(result, project, maps=[("x", href)])


def test_no_maps_no_maps_section(page):
    assert 'id="maps"' not in page


def test_images_are_inline_pngs(page):
    images = png_images(page)
    assert len(images) == 3  # grades, paths, blocks
    for data in images:
        assert data.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG" and im.width > 300 and im.height > 150


def test_headline_equals_summary(page, result):
    s = result.summary
    inv = s["inventory"]
    figures = headline(page)
    graded = sum(v["parcels"] for g, v in s["grades"].items() if g != "U")
    expected = {
        "parcels": s["parcels"],
        "area_mu": s["area_mu"],
        "area_ha": s["area_mu"] / 15,
        "graded": graded,
        "inventory_parcels": inv["parcels"],
        "inventory_area_mu": inv["area_mu"],
        "watch_parcels": s["watch"]["parcels"],
        "land_freed_mu": s["paths"]["land_freed_mu"],
        "floor_area_added_wan_m2": s["paths"]["floor_area_added_m2"] / 1e4,
        "tax_gain_wan": s["paths"]["tax_gain_wan"],
        "compensation_yi": s["paths"]["compensation_wan"]["total"] / 1e4,
        "total_value_yi": s["value"]["total_value_wan"]["total"] / 1e4,
        "value_per_mu_wan": s["value"]["total_value_wan"]["total"] / s["value"]["valued_area_mu"],
        "park_score": result.park["block_score"],
    }
    assert set(figures) == set(expected)
    for key, value in expected.items():
        assert figures[key][0] == pytest.approx(value, rel=1e-12), key
    # shown with thousands separators
    assert figures["parcels"][1] == f"{s['parcels']:,}" == "3,200"
    assert figures["graded"][1] == f"{graded:,}"
    assert figures["inventory_parcels"][1] == f"{inv['parcels']:,}"
    assert figures["area_mu"][1] == f"{s['area_mu']:,.0f}"
    assert figures["tax_gain_wan"][1] == f"{s['paths']['tax_gain_wan']:,.0f}"


def test_units_follow_the_figures(page):
    for unit in ("亩", "公顷", "万m²", "万元/年", "亿元", "万元/亩"):
        assert f'<span class="unit">{unit}</span>' in page


def test_tables_carry_the_summary(page, result, project):
    parsed = Page(page)
    cells = parsed.text_by_tag["td"]
    # grades: each count shown, and the total
    for g, v in result.summary["grades"].items():
        assert f"{v['parcels']:,}" in cells, g
    # paths: every path's label, in the configuration's order
    path_labels = [r.label_zh for r in project.disposal.rules if r.code in set(result.tables["by_path"]["disposal"])]
    positions = [page.index(f"</span>{label}</td>") for label in path_labels]
    assert positions == sorted(positions)
    # reasons: every rule's label with its count
    for rule in project.inventory.reasons:
        assert rule.label_zh in cells
    # the block × path table: each block of the pivot, its total, and the grand total
    by_block = result.tables["by_block_path"]
    names = dict(zip(result.blocks["block_id"], result.blocks["block_name"], strict=True))
    (table,) = [t for t in parsed.tables if t[0][:2] == ["区块编号", "区块名称"]]
    assert table[0][2:-4] == [r.label_zh for r in project.disposal.rules if r.code in set(by_block["disposal"])]
    pivot = {row[0] or row[1]: row for row in table[1:]}
    assert len(pivot) == by_block["block_id"].nunique() + 1  # and the total
    for block_id, n in by_block.groupby("block_id")["parcels"].sum().items():
        row = pivot[block_id]  # the id, or for parcels outside the blocks the name 区块外
        assert row[1] == names.get(block_id, "区块外")
        assert row[-4] == f"{n:,}"  # total parcels of the block
    assert pivot["合计"][-4] == f"{int(by_block['parcels'].sum()):,}" == f"{result.summary['inventory']['parcels']:,}"
    # block ranking: every block's name, rank 1 first
    for name in result.blocks["block_name"]:
        assert name in cells
    first = result.blocks.sort_values("block_rank").iloc[0]
    assert page.index(first["block_name"]) < page.index(result.blocks.sort_values("block_rank").iloc[-1]["block_name"])
    # KPIs: each met or not
    assert cells.count(TEXT["met_yes"][0]) == int(result.kpis["met"].eq(True).sum())
    assert cells.count(TEXT["met_no"][0]) == int(result.kpis["met"].eq(False).sum())


def test_synthetic_data_is_said(page, result, project):
    assert "合成" in project.name
    assert TEXT["synthetic"][0] in page
    real = project.model_copy(update={"name": "闵行园区"})
    assert TEXT["synthetic"][0] not in build_report(result, real)


def test_print_stylesheet(page):
    assert "@page { size: A4" in page
    assert "@media print" in page and "break-before: page" in page
    assert page.count('class="major"') >= 4


# --- escaping ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(data, project):
    """A result whose first block and largest listed parcel's firm are named with a script tag."""
    blocks = data.blocks.copy()
    blocks.loc[blocks.index[0], "block_name"] = XSS
    result = assess(dataclasses.replace(data, blocks=blocks), project)
    parcels = result.parcels.copy()
    largest = result.inventory["area_mu"].idxmax()
    parcels["enterprise_names"] = parcels["enterprise_names"].astype(object)
    parcels.loc[largest, "enterprise_names"] = f'"><img src=x onerror=alert(2)>{XSS}'
    return dataclasses.replace(result, parcels=parcels), blocks.iloc[0]["block_id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_names_from_data_are_escaped(hostile, project, lang):
    result, block_id = hostile
    text = build_report(result, project, lang=lang)
    parsed = Page(text)
    assert parsed.errors == []
    assert "<script" not in text.lower()
    assert not parsed.find("script")
    assert all((a.get("src") or "").startswith("data:image/png") for a in parsed.find("img"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in text  # the quote as Jinja's autoescape writes it
    assert XSS in parsed.text_by_tag["td"]  # shown as text, in the block ranking
    assert block_id in parsed.text_by_tag["td"]


# --- languages -----------------------------------------------------------------------------------


def test_chinese_by_default(page):
    parsed = Page(page)
    h2 = parsed.text_by_tag["h2"]
    assert h2[:8] == [TEXT[k][0] for k in ("headline", "grades", "method", "inventory", "watch", "value", "blocks", "park")]
    assert set(h2[8:]) <= {TEXT[k][0] for k in ("adjustment", "plan_screens", "chains", "services", "kpi_paths", "ownership", "robustness", "assembly", "decisions")}  # the plan's items, as the data allow
    assert "地块数(宗)" in parsed.text_by_tag["th"]


def test_method_shows_every_weight_benchmark_and_its_source(page, result, project):
    start = page.index('<section id="method"')
    (table,) = Page(page[start:page.index("</section>", start) + len("</section>")]).tables
    rows = [r for r in table if r and r[0] != "评价分组"]  # the rows under the header
    tracks = project.assessment.tracks
    assert len(rows) == sum(len(t.weights) for t in tracks)
    for track in tracks:  # every track's weights, which sum to 100
        shown = [r for r in rows if r[0] == track.label_zh]
        assert [float(r[2]) for r in shown] == list(track.weights.values()) and sum(float(r[2]) for r in shown) == 100
    small = {r[1]: r for r in rows if r[0] == "规下企业用地"}
    assert small["亩均税收"][3:] == ["11.59", "万元/亩", "1.5", "配置(本评价分组)"]
    # 单位电耗税收 against the mean of the track's graded parcels (ranked or given a class directly),
    # worked out here from their tax and electricity (those without electricity get that mean)
    graded = result.parcels[(result.parcels["track"] == "small") & result.parcels["grade"].isin(list("ABCD"))]
    mean = (graded["tax_wan"] * 10_000 / graded["electricity_kwh"].where(graded["electricity_kwh"] > 0)).mean()
    assert small["单位电耗税收"][3:] == [f"{mean:,.2f}", "元/千瓦时", "1.5", "本组数据：平均值 × 1"]
    large = {r[1]: r for r in rows if r[0] == "规上企业用地"}
    assert large["单位排放增加值"][3:] == ["4,929.81", "万元/吨", "1.5", "配置(指标默认值)"]


def test_english_headings(page_en):
    parsed = Page(page_en)
    assert parsed.errors == []
    assert parsed.find("html", lang="en")
    h2 = parsed.text_by_tag["h2"]
    assert h2[:8] == ["Headline figures", "Performance grades", "Indicators and benchmarks", "Low-efficiency inventory and revitalisation paths",
                      "Watch table (A/B)", "Land and building value", "Block ranking", "Park indicators and plan targets"]
    assert set(h2[8:]) <= {TEXT[k][1] for k in ("adjustment", "plan_screens", "chains", "services", "kpi_paths", "ownership", "robustness",
                                                "assembly", "decisions")}
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert not any(cjk.search(h) for h in h2 + parsed.text_by_tag["h3"])
    headers = parsed.text_by_tag["th"]
    assert "Parcels" in headers and "Land freed(mu)" in headers and "Tax gain(10k yuan/year)" in headers
    assert "Reclaim or bank" in parsed.text_by_tag["td"] and "class D" in parsed.text_by_tag["td"]
    assert "not met" in parsed.text_by_tag["td"]
    assert "Outside the blocks" in parsed.text_by_tag["td"]
    assert "Industrial linkage ring" in parsed.text_by_tag["td"]  # the blocks' ring names, translated


def test_unknown_language_is_refused(result, project):
    with pytest.raises(ValueError, match="lang"):
        build_report(result, project, lang="fr")


# --- sections that appear only with their data ---------------------------------------------------


def test_ring_and_scatter_sections_absent_without_tables(page, page_en, result):
    assert "ring_profiles" not in result.tables and "scatter_before_after" not in result.tables
    for text in (page, page_en):
        assert 'id="rings"' not in text and 'id="scatter"' not in text
        assert TEXT["rings"][0] not in text and TEXT["scatter"][0] not in text


def _with_tables(result, **tables):
    extra = copy.copy(result)
    extra.tables = {**result.tables, **tables}
    return extra


def test_ring_and_scatter_sections_shown_with_tables(result, project):
    rings = pd.DataFrame({
        "ring": ["core", "spillover", "linkage"],
        "parcels": [120, 480, 2000],
        "area_mu": [1500.5, 9000.25, 40000.0],
        "note": ["核心", XSS, None],
    })
    scatter = pd.DataFrame({"stage": ["before", "after"], "parcels": [570, 182], "area_mu": [2079.54, 667.0]})
    scatter = scatter.set_index("stage")
    text = build_report(_with_tables(result, ring_profiles=rings, scatter_before_after=scatter), project)
    parsed = Page(text)
    assert parsed.errors == []
    assert parsed.find("section", id="rings") and parsed.find("section", id="scatter")
    assert TEXT["rings"][0] in parsed.text_by_tag["h2"] and TEXT["scatter"][0] in parsed.text_by_tag["h2"]
    cells = parsed.text_by_tag["td"]
    assert {"核心功能圈", "溢出辐射圈", "产业联动圈"} <= set(cells)  # ring codes shown by their names
    assert "40,000" in cells and "2,080" in cells and "before" in cells and "after" in cells
    assert "&lt;script&gt;" in text and not parsed.find("script")
    assert f'<a href="#rings">{TEXT["rings"][0]}</a>' in text  # and in the contents

    only_rings = build_report(_with_tables(result, ring_profiles=rings), project, lang="en")
    assert 'id="rings"' in only_rings and 'id="scatter"' not in only_rings
    assert "Core function ring" in only_rings and "Three rings: ring profiles" in only_rings


def test_empty_optional_table_is_omitted(result, project):
    text = build_report(_with_tables(result, ring_profiles=pd.DataFrame()), project)
    assert 'id="rings"' not in text


def test_without_blocks(data, project):
    result = assess(dataclasses.replace(data, blocks=None), project)
    text = build_report(result, project)
    parsed = Page(text)
    assert parsed.errors == []
    assert 'id="blocks"' not in text
    assert "park_score" not in headline(text)
    assert TEXT["kpis"][0] in parsed.text_by_tag["h3"]  # the plan's KPIs need no blocks
    assert len(png_images(text)) == 2


# --- fonts, speed, writing -----------------------------------------------------------------------


def test_charts_without_a_chinese_font_are_english(result, project, monkeypatch, caplog):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="landkit.deliver.charts"):
        text = build_report(result, project)
    assert any("no font with Chinese glyphs" in r.getMessage() for r in caplog.records)
    images = png_images(text)
    assert len(images) == 3 and all(i.startswith(PNG_SIGNATURE) for i in images)
    assert Page(text).text_by_tag["h2"][1] == TEXT["grades"][0]  # the page itself stays Chinese
    assert 'alt="Area by grade (mu)"' in text


def test_a_chinese_font_is_used_when_installed():
    font = charts.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei)")
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    from matplotlib.ft2font import FT2Font

    assert FT2Font(path).get_char_index(ord("亩")) != 0


def test_a_chinese_font_installed_after_matplotlib_cached_its_fonts_is_found(monkeypatch):
    from matplotlib import font_manager

    files = [f for f in font_manager.findSystemFonts() if charts.CJK_FILE.search(Path(f).name)]
    if not files:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-wqy-microhei)")
    stale = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    assert charts.cjk_font.__wrapped__() is not None


def test_same_result_same_page(result, project, page):
    assert build_report(result, project) == page



def test_write_report(tmp_path, page):
    path = write_report(tmp_path / "out" / "report.html", page)
    assert path == tmp_path / "out" / "report.html"
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temporary file left
    write_report(path, "<!DOCTYPE html>\n")
    assert path.read_text(encoding="utf-8") == "<!DOCTYPE html>\n"


def test_number_formats():
    assert fmt_number(1234567.891) == "1,234,568"
    assert fmt_number(1234.5678, 2) == "1,234.57"
    assert fmt_number(None) == fmt_number(float("nan")) == "—"
    assert report_tables.fmt_int(3200.0) == "3,200"
    assert report_tables.fmt_pct(0.0531) == "5.3 %"


def test_block_chart_of_a_city_shows_the_best_and_worst(result, project):
    from landkit.deliver.charts import CHART_BLOCKS

    many = copy.copy(result)
    blocks = pd.concat([result.blocks] * 4, ignore_index=True)  # 19 blocks × 4 = 76
    blocks["block_id"] = [f"K{i:03d}" for i in range(len(blocks))]
    blocks["block_rank"] = blocks["block_score"].rank(ascending=False, method="first")
    many.blocks = blocks
    text = build_report(many, project)
    assert f"前{CHART_BLOCKS}名与后{CHART_BLOCKS}名，共76个区块" in text
    assert text.count("<tr") >= 76  # the table still lists every block
