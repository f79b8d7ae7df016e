"""The report as a director gets it: the shipped sample's ``report.html`` printed on A4.

The sample is run as a planner runs it (``landkit -q assess -c gis_data/minhang.yaml -o …``, once
in Chinese and once with ``map.lang: en``); its report is opened in the real headless Chromium
(``browser.py``), laid out for print at the printable width of A4 portrait and printed to PDF.
Every element must lie inside the printable width, every table must read as a report (labels
and units, no column names of the data, no True/False, no ``nan``, counts whole, shares in
percent), and the printed pages, rendered to pixels, must have nothing in their right margin.

The pages are rendered by poppler's ``pdftoppm`` when it is installed, else by Chromium's own
PDF viewer; the margin test is skipped only when neither can render them. The number formats
and the splitting of wide tables are tested on figures worked out by hand.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.deliver import report, report_page, report_tables
from landkit.deliver.report import metric_unit, shown_columns, value_reason
from landkit.deliver.report_tables import auto_decimals, column_groups, fmt_change, fmt_share, min_text_em, text_em

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data" / "minhang.yaml"

#: A4 portrait and the report's ``@page`` margins (mm): the printable width is 186 mm.
A4_MM = (210.0, 297.0)
MARGIN_LEFT_RIGHT_MM = 12.0
PX_PER_MM = 96 / 25.4
#: The printable width in CSS px (703).
PRINT_WIDTH_PX = round((A4_MM[0] - 2 * MARGIN_LEFT_RIGHT_MM) * PX_PER_MM)
#: A4 in PDF points (1/72 in).
A4_PT = (A4_MM[0] / 25.4 * 72, A4_MM[1] / 25.4 * 72)

#: Text that is program output, not a report: booleans, missing values, snake_case identifiers
#: (an upper-case acronym with "_", FRAGSTATS' AREA_MN, is a metric's name and may stay).
RAW_WORDS = re.compile(r"\b(?:True|False|None|nan|NaN|NaT|inf)\b")
IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
WORD = re.compile(r"[A-Za-z0-9_]+")
CJK = re.compile(r"[\u3400-\u9fff]")
#: Headers of English tables whose cells are data typed in Chinese (names), not the report's text.
EN_DATA_COLUMNS = {"Block", "Enterprises", "Main industry", "Chain", "Stage", "Stages present", "Stages at the start",
                   "Stages at the end", "Enterprise", "Grades"}  # names from the data and the configuration

#: The report's side margins printed as the body's padding instead of the page's: the layout and
#: the page breaks stay the same, but what overflows the printable width is drawn in the margin,
#: where a pixel test sees it, instead of being clipped away at the edge of the page area as
#: Chromium does with ``@page`` margins.
VISIBLE_MARGINS_CSS = "@page { size: A4; margin: 15mm 0; } @media print { body { padding: 0 12mm !important; } }"

#: Reads the print layout: what lies outside the printable width or overflows its own box, and
#: every table's caption, header and cells as rendered.
LAYOUT_JS = """(width) => {
  const out = {overflow: [], tables: [], docWidth: document.documentElement.scrollWidth};
  const boxes = new Set(['TD', 'TH', 'P', 'H1', 'H2', 'H3', 'LI', 'DT', 'DD', 'FIGCAPTION', 'CAPTION']);
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not laid out (the contents, hidden in print)
    const where = (el.closest('section') || {}).id || el.tagName;
    const text = (el.innerText || '').slice(0, 40);
    if (r.right > width + 0.5 || r.left < -0.5) out.overflow.push([el.tagName, where, r.left, r.right, text]);
    else if (boxes.has(el.tagName) && el.scrollWidth > el.clientWidth + 1)
      out.overflow.push([el.tagName, where, el.clientWidth, el.scrollWidth, text]);
  }
  for (const t of document.querySelectorAll('table')) {
    const rows = [...t.rows].map(row => [...row.cells].map(c => c.innerText.trim()));
    out.tables.push({section: (t.closest('section') || {}).id || '', caption: t.caption ? t.caption.innerText : '',
                     right: t.getBoundingClientRect().right, head: rows[0] || [], body: rows.slice(1)});
  }
  return out;
}"""


class Run(NamedTuple):
    """One run of the sample: its language and output folder."""

    lang: str
    out: Path


class Printed(NamedTuple):
    """A report as laid out for print and printed: the layout read in the browser, and the PDFs.

    ``pdf`` is the report printed as it is; ``pdf_margins`` the same with its side margins as
    padding (:data:`VISIBLE_MARGINS_CSS`).
    """

    lang: str
    layout: dict[str, Any]
    pdf: Path
    pdf_margins: Path


# --- the runs (once per language) ----------------------------------------------------------------


def _config(lang: str, folder: Path) -> Path:
    """The sample's project file, or a copy of it in English (inputs read from gis_data)."""
    if lang == "zh":
        return SAMPLE
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["base_dir"] = str(SAMPLE.parent)
    data["map"] = {**(data.get("map") or {}), "lang": "en"}
    path = folder / "minhang-en.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["zh", "en"])
def run(request, tmp_path_factory) -> Run:
    lang = request.param
    folder = tmp_path_factory.mktemp(f"print-{lang}")
    out = folder / "run"
    result = CliRunner().invoke(cli, ["-q", "assess", "-c", str(_config(lang, folder)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file()
    return Run(lang, out)


@pytest.fixture(scope="module")
def printed(run, chromium) -> Printed:  # chromium: the session's browser
    pdf, pdf_margins = run.out / "report.pdf", run.out / "report-margins.pdf"
    with open_page(run.out / "report.html", width=PRINT_WIDTH_PX, height=1000) as bp:
        bp.page.emulate_media(media="print")
        layout = bp.page.evaluate(LAYOUT_JS, PRINT_WIDTH_PX)
        bp.page.pdf(path=str(pdf), format="A4")
        bp.page.add_style_tag(content=VISIBLE_MARGINS_CSS)
        bp.page.pdf(path=str(pdf_margins), format="A4")
        bp.assert_offline_clean()
    return Printed(run.lang, layout, pdf, pdf_margins)


@pytest.fixture(scope="module")
def internal_names(run) -> set[str]:
    """Column names of every layer the run wrote, and the codes of the small-and-scattered metrics."""
    gpkg = run.out / "landkit.gpkg"
    names: set[str] = set()
    for layer, _ in pyogrio.list_layers(gpkg):
        if layer not in ("layer_styles", "landkit_runs"):
            names.update(str(f) for f in pyogrio.read_info(gpkg, layer=layer)["fields"])
    metrics = pyogrio.read_dataframe(gpkg, layer="scatter_before_after", read_geometry=False)
    names.update(str(m) for m in metrics["metric"])
    names.update(rule.code for rule in load_config(SAMPLE).inventory.reasons)  # LOW_FAR …
    return names


def _cells(printed: Printed) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Every (table, header, cell text) of the printed report, headers too (header = "")."""
    for table in printed.layout["tables"]:
        for head in table["head"]:
            yield table, "", head
        for row in table["body"]:
            for head, cell in zip(table["head"], row, strict=False):
                yield table, head, cell


# --- the layout fits A4 portrait -----------------------------------------------------------------


def test_every_element_lies_inside_the_printable_width(printed):
    assert printed.layout["overflow"] == []
    assert printed.layout["docWidth"] <= PRINT_WIDTH_PX


def test_every_table_is_inside_the_printable_width(printed):
    tables = printed.layout["tables"]
    assert len(tables) >= 15
    too_wide = [(t["section"], t["head"][:3], t["right"]) for t in tables if t["right"] > PRINT_WIDTH_PX + 0.5]
    assert too_wide == []
    sections = {t["section"] for t in tables}
    assert {"grades", "inventory", "blocks", "park", "rings", "scatter"} <= sections


def test_the_pdf_is_a4_portrait_with_a_plausible_number_of_pages(printed):
    data = printed.pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    boxes = [tuple(float(v) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)]
    assert len(boxes) == pages
    for x0, y0, x1, y1 in boxes:
        assert (x0, y0) == (0, 0) and x1 == pytest.approx(A4_PT[0], abs=1) and y1 == pytest.approx(A4_PT[1], abs=1)
    # each major section starts a page: the title page, then at least one page for each of the
    # seven; the sample's report is about a dozen pages, never dozens
    assert 8 <= pages <= 30, pages


# --- the tables read as a report -----------------------------------------------------------------


def test_no_program_output_in_any_table(printed, internal_names):
    raw = [(t["section"], head, text) for t, head, text in _cells(printed) if RAW_WORDS.search(text)]
    assert raw == []
    identifiers = [(t["section"], head, text) for t, head, text in _cells(printed) if IDENTIFIER.search(text)]
    assert identifiers == []
    codes = [(t["section"], head, text) for t, head, text in _cells(printed)
             if any("_" in w and w in internal_names for w in WORD.findall(text))]
    assert codes == []
    if printed.lang == "zh":  # a Chinese table shows no column name, metric code or English word alone
        names = [(t["section"], head, text) for t, head, text in _cells(printed) if text in internal_names]
        assert names == []


def test_no_table_repeats_a_column(printed):
    repeated = [(t["section"], t["head"]) for t in printed.layout["tables"] if len(set(t["head"])) < len(t["head"])]
    assert repeated == []


def test_headers_are_in_the_language_of_the_report(printed):
    headers = [head for t in printed.layout["tables"] for head in t["head"]]
    if printed.lang == "zh":
        assert [h for h in headers if not CJK.search(h)] == []
        return
    assert [h for h in headers if CJK.search(h)] == []
    assert [t["caption"] for t in printed.layout["tables"] if CJK.search(t["caption"])] == []
    chinese = {(head, text) for _, head, text in _cells(printed)
               if head and CJK.search(text) and head not in EN_DATA_COLUMNS}
    assert chinese == set()


def _numbers(text: str) -> bool:
    return text in ("", "—") or re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})*(?:\.\d+)?", text) is not None


def test_numbers_have_report_formats(printed):
    for table, head, text in _cells(printed):
        if not head or not _numbers(text) or text in ("", "—"):
            continue
        decimals = len(text.split(".")[1]) if "." in text else 0
        assert decimals <= 3, (table["section"], head, text)
        if "(宗)" in head or "(家)" in head or head in ("Parcels", "区块排名", "Block rank"):
            assert decimals == 0, (table["section"], head, text)  # counts are whole
        if head.endswith("(%)"):
            assert decimals <= 1, (table["section"], head, text)  # shares in percent, one decimal
            assert abs(float(text.replace(",", ""))) <= 1000, (table["section"], head, text)
        if "万元" in head or "10k yuan" in head:
            assert decimals <= 1, (table["section"], head, text)
    # figures of thousands have separators
    big = [text for _, head, text in _cells(printed) if head and re.fullmatch(r"[+-]?\d{4,}(?:\.\d+)?", text)]
    assert big == []


def test_ring_profiles_are_two_tables_that_fit(printed, run):
    tables = [t for t in printed.layout["tables"] if t["section"] == "rings"]
    assert len(tables) == 2
    profiles = pyogrio.read_dataframe(run.out / "landkit.gpkg", layer="ring_profiles", read_geometry=False)
    project = load_config(SAMPLE)
    names = [project.rings.labels[r][printed.lang] for r in profiles["ring"]]
    for table in tables:
        assert table["head"][0] == ("圈层" if printed.lang == "zh" else "Ring")
        assert [row[0] for row in table["body"]] == names
    head = [h for t in tables for h in t["head"][1:]]
    assert len(head) == len(profiles.columns) - 2  # every figure once; the ring's code and name as one column
    if printed.lang == "zh":
        assert {"地块数(宗)", "用地面积(公顷)", "平均综合得分(分)", "地均税收(万元/公顷)", "地均营业收入(万元/公顷)",
                "主导行业", "研发用地占比(%)", "D类用地占比(%)", "功能不符用地占比(%)"} <= set(head)
    cells = {h: [row[i] for row in t["body"]] for t in tables for i, h in enumerate(t["head"])}
    share = "研发用地占比(%)" if printed.lang == "zh" else "R&D land(%)"
    assert cells[share] == [f"{v * 100:.1f}" for v in profiles["share_rd"]]
    parcels = "地块数(宗)" if printed.lang == "zh" else "Parcels"
    assert cells[parcels] == [f"{int(v):,}" for v in profiles["parcels"]]


def test_scatter_table_reads_before_and_after(printed, run):
    (table,) = [t for t in printed.layout["tables"] if t["section"] == "scatter"]
    if printed.lang == "zh":
        assert table["head"] == ["指标", "整治前", "整治后", "变化", "变化率(%)", "改善方向", "是否改善"]
        yes_no, directions = {"是", "否", "—"}, {"降低", "提高", "—"}
    else:
        assert table["head"] == ["Metric", "Before", "After", "Change", "Change(%)", "Better when", "Improved"]
        yes_no, directions = {"yes", "no", "—"}, {"lower", "higher", "—"}
    assert {row[6] for row in table["body"]} <= yes_no and {row[5] for row in table["body"]} <= directions
    metrics = pyogrio.read_dataframe(run.out / "landkit.gpkg", layer="scatter_before_after", read_geometry=False)
    assert len(table["body"]) == len(metrics)
    first = table["body"][0]  # parcels: a count, shown whole
    assert first[0] == ("地块数(宗)" if printed.lang == "zh" else "Parcels")
    assert first[1] == f"{int(metrics['before'][0]):,}" and first[3] == f"{int(metrics['change'][0]):+,}"


# --- the printed pages: nothing in the right margin ----------------------------------------------


def _pdf_pages_poppler(pdf: Path, folder: Path) -> list[Any]:
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "page")], check=True, timeout=120)
    return [Image.open(p).convert("L") for p in sorted(folder.glob("page*.png"))]


def _page_bands(gray: Any) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each white page on the PDF viewer's dark background."""
    pixels = np.asarray(gray)
    columns = np.flatnonzero((pixels > 200).mean(axis=0) > 0.3)
    if not len(columns):
        return []
    probe = pixels[:, columns[0] + 2]  # just inside the pages' left edge: always blank paper
    bands, top = [], None
    for y, light in enumerate([*(probe > 200), False]):
        if light and top is None:
            top = y
        elif not light and top is not None:
            if y - top > 100:
                xs = np.flatnonzero(pixels[top + 2:y - 2].max(axis=0) > 200)  # the page's width
                bands.append((int(xs[0]), top, int(xs[-1]) + 1, y))
            top = None
    return bands


def _has_ink(image: Any) -> bool:
    return int((np.asarray(image) < 128).sum()) > 100


def _pdf_pages_chromium(pdf: Path, browser: Any, pages: int) -> list[Any]:
    """The PDF's pages as rendered by Chromium's own PDF viewer, all in one tall viewport.

    The viewer draws pages as they come: the picture is taken once every page is there with
    ink on it and two screenshots half a second apart are the same. None after 30 s: [].
    """
    from PIL import Image

    width = 420
    context = browser.new_context(viewport={"width": width, "height": int(pages * width * 1.45) + 200})
    try:
        page = context.new_page()
        page.goto(pdf.resolve().as_uri() + "#toolbar=0&navpanes=0&view=FitH")
        previous = None
        for _ in range(60):
            page.wait_for_timeout(500)
            shot = page.screenshot()
            image = Image.open(io.BytesIO(shot)).convert("L")
            crops = [image.crop(band) for band in _page_bands(image)]
            if shot == previous and len(crops) == pages and all(_has_ink(c) for c in crops):
                return crops
            previous = shot
    finally:
        context.close()
    return []


def render_pdf(pdf: Path, browser: Any, folder: Path) -> list[Any]:
    """The PDF's pages as greyscale images (poppler if installed, else Chromium); skip if neither can."""
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes()))
    folder.mkdir(parents=True, exist_ok=True)
    images = _pdf_pages_poppler(pdf, folder) if shutil.which("pdftoppm") else _pdf_pages_chromium(pdf, browser, pages)
    if len(images) != pages:
        pytest.skip(f"cannot render the PDF's pages: no pdftoppm, and Chromium's PDF viewer drew {len(images)} of {pages}")
    return images


def dark_in_right_margin(page: Any) -> int:
    """Dark pixels in a page's right margin: the 12 mm strip less 1.5 mm on the text side and 1 mm at the edge."""
    pixels = np.asarray(page)
    per_mm = pixels.shape[1] / A4_MM[0]
    left = math.ceil(pixels.shape[1] - (MARGIN_LEFT_RIGHT_MM - 1.5) * per_mm)
    right = math.floor(pixels.shape[1] - 1.0 * per_mm)
    strip = pixels[2:-2, left:right]
    return int((strip < 128).sum())


def test_nothing_is_cut_off_at_the_right_margin(printed, chromium, tmp_path):
    as_printed = render_pdf(printed.pdf, chromium, tmp_path / "as-printed")
    with_margins = render_pdf(printed.pdf_margins, chromium, tmp_path / "with-margins")
    assert len(with_margins) == len(as_printed)  # the same pages: margins as padding change no break
    for images in (as_printed, with_margins):
        assert all(image.width / image.height == pytest.approx(A4_MM[0] / A4_MM[1], rel=0.02) for image in images)
        dark = {n: dark_in_right_margin(image) for n, image in enumerate(images, start=1)}
        assert {n: d for n, d in dark.items() if d} == {}
        assert all(_has_ink(image) for image in images)  # printed pages, not blank ones


def test_the_margin_check_sees_a_table_cut_off(chromium, tmp_path):
    # Printed as it is, the table would be clipped at the edge of the page area and the margin
    # stay white: with the margins as padding (as the report's pages are checked) it is seen.
    cells = "".join(f"<td>第{i}列数据 column {i}</td>" for i in range(30))
    html = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>{report.CSS}</style></head>'
            f'<body><p>一段正文。</p><table><tr>{cells}</tr></table></body></html>')
    pdf = tmp_path / "wide.pdf"
    with open_page(html) as bp:
        bp.page.add_style_tag(content=VISIBLE_MARGINS_CSS)
        bp.page.pdf(path=str(pdf), format="A4")
    (page,) = render_pdf(pdf, chromium, tmp_path / "pages")
    assert dark_in_right_margin(page) > 0


# --- number formats and table splitting, worked out by hand ---------------------------------------


def test_fmt_share_is_percent_without_the_sign():
    assert fmt_share(0.2994) == "29.9"  # 29.94 %
    assert fmt_share(1.0) == "100.0"
    assert fmt_share(0.0) == "0.0"
    assert fmt_share(0.1234, 2) == "12.34"
    assert fmt_share(12.5) == "1,250.0"
    assert fmt_share(None) == fmt_share(float("nan")) == "—"


def test_fmt_change_has_a_sign_except_at_zero():
    assert fmt_change(-687.0) == "-687"
    assert fmt_change(2.3972, 1) == "+2.4"
    assert fmt_change(1234.5, 1) == "+1,234.5"
    assert fmt_change(-915) == "-915"
    assert fmt_change(0.0004, 2) == "0.00"  # rounds to zero: no sign
    assert fmt_change(-0.004, 2) == "0.00"
    assert fmt_change(0) == "0"
    assert fmt_change(float("nan")) == fmt_change(None) == "—"


def test_auto_decimals_by_the_largest_figure():
    assert auto_decimals([2618.3, 140.2]) == 0  # 2,618 and 140
    assert auto_decimals([-250.0]) == 0
    assert auto_decimals([82.18, 62.83]) == 1  # 82.2 and 62.8
    assert auto_decimals([9.91, 12.31]) == 1  # the larger, 12.31, decides
    assert auto_decimals([1.5, 0.2]) == 2
    assert auto_decimals([0.377, 0.483]) == 3
    assert auto_decimals([0.0]) == 0
    assert auto_decimals([float("nan"), None]) == 0
    assert auto_decimals([float("inf"), 5.0]) == 2  # infinity is no figure


def test_text_widths():
    # CJK 1 em; M 0.9, H 0.7, digits 0.62; the widest word of a wrapping text
    assert text_em("地块数") == 3.0
    assert text_em("MH01") == pytest.approx(0.9 + 0.7 + 0.62 + 0.62)
    assert min_text_em("地块数(宗)") == pytest.approx(0.3 + 1.0 + 0.3)  # "(宗)" does not break
    assert min_text_em("Keep under watch") == pytest.approx(0.9 + 0.56 + 0.4 + 0.56 + 0.56)  # "watch"
    assert min_text_em("MH-002158") == pytest.approx(text_em("MH-002158"))  # no break before a digit
    assert min_text_em("non-industrial", wrap=False) == pytest.approx(text_em("non-industrial"))


def test_a_table_that_fits_is_not_split():
    assert column_groups([100, 200, 300], keys=1, limit=800) == [[0, 1, 2]]
    assert column_groups([500, 500], keys=1, limit=800) == [[0, 1]]  # one column beside the keys: nothing to split


def test_a_wide_table_is_split_evenly_with_its_keys_repeated():
    # 100 + 7 × 100 + 50 = 850 > 800: first fit would give 7 columns and 1; two parts of 4
    # (400 px) and 3 + the 50 (350 px) are the even split
    widths = [100, 100, 100, 100, 100, 100, 100, 100, 50]
    assert column_groups(widths, keys=1, limit=800) == [[0, 1, 2, 3, 4], [0, 5, 6, 7, 8]]
    # two key columns (block id and name) in each part
    assert column_groups([60, 90, 300, 300, 300], keys=2, limit=800) == [[0, 1, 2, 3], [0, 1, 4]]
    # a column wider than the room goes alone
    assert column_groups([100, 900, 100], keys=1, limit=800) == [[0, 1], [0, 2]]


def test_value_reason_drops_the_configuration_key_and_translates():
    reason = "用地性质U无基准地价用途(valuation.price_uses)"
    assert value_reason(reason, "zh") == "用地性质U无基准地价用途"
    assert value_reason(reason, "en") == "Land use U has no benchmark price use"
    assert value_reason("地价表无3级研发用地价格，且未设区县默认地价", "en") == (
        "The price table has no zone 3 price for 研发 land, and there is no district default")
    assert value_reason("不在任何地价级别区内工业用地价格，且未设区县默认地价", "en") == (
        "Outside every price zone, and no district default price for 工业 land")
    assert value_reason("其他原因", "en") == "其他原因"  # an unknown form stays as it is


def test_metric_units():
    assert metric_unit("ha", "zh") == "公顷" and metric_unit("ha", "en") == "ha"
    assert metric_unit("个/100ha", "zh") == "个/百公顷" and metric_unit("个/100ha", "en") == "per 100 ha"
    assert metric_unit("宗", "zh") == "宗" and metric_unit("宗", "en") == ""
    assert metric_unit("亩", "en") == "mu" and metric_unit("%", "en") == "%"
    assert metric_unit(None, "zh") == metric_unit("", "en") == ""


def test_shown_columns_keep_one_language_and_no_bare_code():
    columns = ["metric", "label_zh", "label_en", "unit"]
    assert shown_columns(columns, "zh") == ["metric", "label_zh", "unit"]
    assert shown_columns(columns, "en") == ["metric", "label_en", "unit"]
    assert shown_columns(["disposal", "disposal_zh", "disposal_en"], "zh") == ["disposal_zh"]
    assert shown_columns(["disposal", "disposal_zh", "disposal_en"], "en") == ["disposal_en"]
    assert shown_columns(["ungraded_reason", "ungraded_reason_en"], "zh") == ["ungraded_reason"]
    assert shown_columns(["ungraded_reason", "ungraded_reason_en"], "en") == ["ungraded_reason_en"]


def test_is_share_column():
    assert report.is_share_column("share_rd") and report.is_share_column("main_industry_share")
    assert report.is_share_column("idle_rate")  # a block indicator's rate
    assert not report.is_share_column("inside_block_pct")  # percent already
    assert not report.is_share_column("area_mu")


@pytest.fixture(scope="module")
def project():
    return load_config(SAMPLE)


@pytest.mark.parametrize("lang, expected_headers, expected_rows", [
    ("zh", ["圈层", "地块数(宗)", "研发用地占比(%)", "是否改善", "改善方向", "地均税收(万元/公顷)"],
     [["核心功能圈", "427", "67.0", "是", "降低", "786"], ["圈外", "1,787", "0.0", "", "提高", "591"]]),
    ("en", ["Ring", "Parcels", "R&D land(%)", "Improved", "Better when", "Tax per hectare(10k yuan/ha)"],
     [["Core function ring", "427", "67.0", "yes", "lower", "786"],
      ["Outside the rings", "1,787", "0.0", "", "higher", "591"]]),
])
def test_a_frame_becomes_a_table_a_person_reads(project, lang, expected_headers, expected_rows):
    frame = pd.DataFrame({
        "ring": ["core", "outside"],
        "ring_name": ["核心功能圈", "圈外"],  # the ring again: left out
        "parcels": [427.0, 1787.0],  # floats of whole counts: 427, not 427.00
        "share_rd": [0.67, 0.0],
        "improved": [True, None],
        "better": ["lower", "higher"],
        "tax_per_ha_wan": [785.96, 590.93],
    })
    columns, headers, rows = report._frame_cells(frame, report_page.Page(project, lang))
    assert columns == ["ring", "parcels", "share_rd", "improved", "better", "tax_per_ha_wan"]
    assert [report_tables.plain_text(h) for h in headers] == expected_headers
    assert [[report_tables.plain_text(c) for c in row] for row in rows] == expected_rows
