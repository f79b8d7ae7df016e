"""`landkit dossier` (一地一档): one printable page per parcel, checked on a small run built by hand.

The runs: five parcels of 12 亩, squares 200 m apart (P05 far off, 5 km east), assessed in 2025 and
again in 2026 with one track (亩均税收 60 points on a benchmark of 60 万元/亩, capped at 1.5; FAR 40
points on a benchmark of 2.0, capped at 1). In 2026 P02's tax falls to 20 万元/亩 with FAR 1.0: 20 + 20
= 40 of 130 points, score 30.8; by rank among five it is class C (rank 4 ≤ 0.95 × 5), listed, on its
path. P01 carries an enterprise named ``<script>alert(1)</script>``; P04 a decision on its path and
P02 an objection whose note carries markup.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from browser import chromium, open_page  # noqa: F401  (chromium: session fixture)
from click.testing import CliRunner

from landkit.cli.dossier import history_runs
from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.core.errors import InputError
from landkit.core.units import M2_PER_MU
from landkit.data.dataset import Dataset
from landkit.data.overrides import check_objections, check_overrides
from landkit.data.parcels import add_areas
from landkit.deliver.dossier import (
    file_names,
    insets,
    read_dossier_run,
    select_parcels,
    svg_paths,
)
from landkit.deliver.writer import write_assessment
from landkit.io.runs import open_run
from landkit.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
name: 一地一档测试园区
year: {year}
assessment:
  tracks:
    - {{name: all, label_zh: 全部, label_en: All, weights: {{tax_per_mu: 60, far: 40}}}}
  indicators:
    far: {{benchmark: 2.0, cap: 1.0}}
valuation:
  district_default_yuan_m2: {{工业: 1500}}
"""

SCRIPT = "<script>alert(1)</script>"
# id, tax 万元/亩, FAR, enterprise
YEAR_2025 = [("P01", 90.0, 2.0, f"{SCRIPT}科技有限公司"), ("P02", 60.0, 1.0, "上海甲机械有限公司"),
             ("P03", 30.0, 2.5, "上海乙生物有限公司"), ("P04", 8.0, 0.5, "上海丙制造有限公司"),
             ("P05", 45.0, 1.5, "上海丁装备有限公司")]
YEAR_2026 = [(pid, 20.0, 1.0, name) if pid == "P02" else (pid, tax, far, name) for pid, tax, far, name in YEAR_2025]
OBJECTION_NOTE = "<img src=x onerror=alert(2)>核查中"


def write_run(folder: Path, rows: list[tuple], year: int) -> Path:
    """Assess ``rows`` (12 亩 squares 200 m apart; P05 5 km away) and write the run to ``folder/out``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "landkit.yaml").write_text(CONFIG.format(year=year), encoding="utf-8")
    project = load_config(folder / "landkit.yaml")
    side = (12 * M2_PER_MU) ** 0.5
    geoms = [shapely.box(x, 3_430_000.0, x + side, 3_430_000.0 + side)
             for x in (500_000.0 + (5_000 if pid == "P05" else 200 * int(pid[1:])) for pid, *_ in rows)]
    frame = pd.DataFrame({
        "parcel_id": [r[0] for r in rows], "land_use": "M1", "status": "operating", "enterprise_count": 1,
        "industry": "高端装备", "founded_year": 2005, "production_start_year": 2010, "lease_start_year": 2008,
        "block_id": "B1", "inside_block": True, "enterprise_names": [r[3] for r in rows],
    })
    frame["lease_end_year"] = frame["lease_start_year"] + 40
    for column in ("founded_year", "production_start_year", "lease_start_year", "lease_end_year"):
        frame[column] = frame[column].astype("Int64")
    parcels = add_areas(gpd.GeoDataFrame(frame, geometry=geoms, crs=project.crs.working))
    parcels["tax_wan"] = [r[1] * 12 for r in rows]
    parcels["floor_area_m2"] = [r[2] * parcels["area_m2"].iloc[0] for r in rows]
    parcels["footprint_m2"] = np.minimum(0.35 * parcels["area_m2"], parcels["floor_area_m2"])
    blocks = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]},
                              geometry=[shapely.box(499_000, 3_429_000, 506_000, 3_432_000)], crs=project.crs.working)
    overrides = check_overrides(pd.DataFrame({
        "parcel_id": ["P04"], "field": ["disposal"], "value": ["reclaim"], "reason": ["企业同意交还"],
        "approved_by": ["区专班"], "approved_date": [f"{year}-11-20"]}), parcels["parcel_id"], project, source="overrides.csv")
    objections = check_objections(pd.DataFrame({
        "objection_id": ["YY-1"], "parcel_id": ["P02"], "objection_status": ["received"], "subject": ["等级"],
        "received_date": [f"{year}-11-28"], "note": [OBJECTION_NOTE]}), parcels["parcel_id"], source="objections.csv")
    data = Dataset(parcels=parcels, input_crs=parcels.crs, blocks=blocks, overrides=overrides, objections=objections,
                   land_price=pd.DataFrame({"price_zone": ["B1"], "land_price_yuan_m2": [2000.0]}))
    write_assessment(folder / "out", project, data, assess(data, project))
    return folder / "out"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("dossier")
    return write_run(base / "y2025", YEAR_2025, 2025), write_run(base / "y2026", YEAR_2026, 2026)


@pytest.fixture(scope="module")
def layer(runs) -> pd.DataFrame:
    """The 2026 run's parcels, as written."""
    return pyogrio.read_dataframe(runs[1] / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def dossier(runs, tmp_path_factory) -> Path:
    """The 2026 run's dossier of every parcel (Chinese), with 2025 as its history."""
    out = tmp_path_factory.mktemp("pages") / "dossier"
    result = CliRunner().invoke(cli, ["dossier", str(runs[1]), "--all", "--history", str(runs[0]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()}


# --- the run, worked out by hand ---------------------------------------------------------------------


def test_the_run_grades_as_worked_out(layer):
    assert layer.loc["P02", "score"] == pytest.approx(100 * (60 * 20 / 60 + 40 * 1.0 / 2.0) / 130)
    assert layer.loc["P02", "grade"] == "C" and bool(layer.loc["P02", "low_efficiency"])
    assert layer.loc["P02", "tax_per_mu_bench"] == 60
    assert layer.loc["P01", "enterprise_names"].startswith(SCRIPT)


# --- (a) a page shows its parcel's numbers, in the browser ----------------------------------------------


def test_a_page_shows_the_parcels_numbers_in_the_browser(dossier, layer):
    row = layer.loc["P02"]
    with open_page(dossier / "P02.html", width=900, height=1300) as bp:
        text = bp.page.inner_text("body")
        assert f"{row['area_mu']:,.2f} 亩（{row['area_ha']:,.2f} 公顷）" in text  # 12.00 亩（0.80 公顷）
        assert bp.page.inner_text("[data-key=score]") == "30.8"
        assert bp.page.get_attribute("[data-grade]", "data-grade") == "C" and "C类" in text
        cells = bp.page.eval_on_selector("tr[data-indicator=tax_per_mu]",
                                         "r => [...r.cells].map(c => c.innerText.trim())")
        assert cells[1:4] == ["20.0", "60.0", "60"]  # value, benchmark, weight
        assert cells[4] == f"{row['tax_per_mu_pts']:.1f} / 90"  # 60 × cap 1.5
        assert "亩均税收" in cells[0]
        assert str(row["disposal_zh"]) in text
        assert f"{row['compensation_wan']:,.0f} 万元" in text
        assert "YY-1" in text and "已受理" in text  # the objection
        history = bp.page.eval_on_selector_all("table.history tbody tr", "rs => rs.map(r => r.innerText)")
        assert len(history) == 2 and history[0].startswith("2025") and "2026" in history[1]
        # the inset: the parcel and its two neighbours 200 m away (P05 is 5 km off), inside the drawing
        assert bp.page.locator("svg path.nb").count() == 2
        box, frame = bp.page.locator("svg path.me").bounding_box(), bp.page.locator("svg").bounding_box()
        assert box["width"] > 5 and frame["x"] < box["x"] < frame["x"] + frame["width"] - box["width"]
        assert bp.screenshot_variance() > 50
        bp.assert_offline_clean()


def test_the_index_links_every_page(dossier, layer):
    with open_page(dossier / "index.html") as bp:
        links = bp.page.eval_on_selector_all("nav a", "as => as.map(a => a.getAttribute('href'))")
        bp.assert_offline_clean()
    assert links == [f"{pid}.html" for pid in layer.index]
    assert {p.name for p in dossier.glob("P*.html")} == {f"{pid}.html" for pid in layer.index}


def test_english_pages(runs, tmp_path, layer):
    out = tmp_path / "en"
    assert invoke("dossier", runs[1], "P02", "-o", out, "--lang", "en").exit_code == 0
    html = (out / "P02.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Parcel dossier" in html and "Performance assessment" in html
    assert f"{layer.loc['P02', 'area_mu']:,.2f} mu" in html and "Grade C" in html
    assert "No other run of this parcel is on record" in html  # no --history, and the run records none earlier


# --- (b) text from the data is escaped -----------------------------------------------------------------


def test_text_from_the_data_is_escaped(dossier):
    html = (dossier / "P01.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;科技有限公司" in html
    assert "<script" not in html.lower()
    objection = (dossier / "P02.html").read_text(encoding="utf-8")
    assert "<img" not in objection and "&lt;img src=x onerror=alert(2)&gt;" in objection
    with open_page(dossier / "P01.html") as bp:
        assert SCRIPT in bp.page.inner_text("body")  # shown as text
        assert bp.page.evaluate("() => document.scripts.length") == 0
        bp.assert_offline_clean()


# --- (c) mistakes are one line --------------------------------------------------------------------------


def test_an_unknown_parcel_is_one_line_and_exit_1(runs, tmp_path):
    out = tmp_path / "none"
    done = subprocess.run([sys.executable, "-m", "landkit.cli.main", "dossier", str(runs[1]), "P02", "MH-9", "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "LANDKIT_LANG": "en"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "no parcel MH-9" in lines[0] and "give ids from the parcels layer" in lines[0]
    assert str(runs[1]) in lines[0]
    assert not out.exists()


def test_the_parcels_must_be_chosen_once(runs, tmp_path):
    for args in ((), ("P01", "--all"), ("--listed", "--all")):
        result = invoke("dossier", runs[1], *args, "-o", tmp_path / "x")
        assert result.exit_code == 2 and "--listed or --all" in result.output
    assert not (tmp_path / "x").exists()


def test_a_run_folder_is_no_dossier_folder(runs):
    before = snapshot(runs[1])
    result = invoke("dossier", runs[1], "P01", "-o", runs[1], "--overwrite")
    assert result.exit_code == 1 and "holds a landkit run" in result.output
    assert snapshot(runs[1]) == before


# --- (d) an existing dossier is kept without --overwrite -------------------------------------------------


def test_an_existing_dossier_is_refused_without_overwrite(runs, tmp_path):
    out = tmp_path / "d"
    assert invoke("dossier", runs[1], "P01", "P02", "-o", out).exit_code == 0
    before = snapshot(out)
    result = invoke("dossier", runs[1], "P03", "-o", out)
    assert result.exit_code == 1 and "exists; pass --overwrite" in result.output
    assert snapshot(out) == before
    # with --overwrite it is replaced whole: the pages of the earlier dossier go
    assert invoke("dossier", runs[1], "P03", "-o", out, "--overwrite").exit_code == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["P03.html", "dossier.json", "index.html"]


def test_a_failed_dossier_leaves_no_folder(runs, tmp_path, monkeypatch):
    from landkit.deliver import dossier as module

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(module, "render_document", fail)
    out = tmp_path / "half"
    result = invoke("dossier", runs[1], "P01", "-o", out)
    assert result.exit_code == 1
    assert not out.exists()


# --- (e) the PDF: a page per parcel -------------------------------------------------------------------


def pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data[:5] == b"%PDF-"
    try:
        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    return len(PdfReader(path).pages)


def test_pdf_prints_one_page_per_parcel(runs, tmp_path):
    out = tmp_path / "pdf"
    result = invoke("dossier", runs[1], "--all", "--history", runs[0], "--pdf", "-o", out)
    assert result.exit_code == 0, result.output
    assert pdf_pages(out / "dossier.pdf") == 5
    assert (out / "index.html").exists() and (out / "P05.html").exists()
    assert not list(out.glob(".*.html"))  # the combined page printed is not left behind


def test_single_file_and_its_pdf(runs, tmp_path):
    out = tmp_path / "single"
    assert invoke("dossier", runs[1], "P02", "P01", "--single", "--pdf", "-o", out).exit_code == 0
    html = (out / "dossier.html").read_text(encoding="utf-8")
    assert html.count('<section class="sheet"') == 2 and html.index('data-parcel="P02"') < html.index('data-parcel="P01"')
    assert pdf_pages(out / "dossier.pdf") == 2
    assert not (out / "index.html").exists() and not (out / "P01.html").exists()


def test_pdf_without_a_browser_is_one_line(runs, tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = invoke("dossier", runs[1], "P01", "--pdf", "-o", tmp_path / "p")
    assert result.exit_code == 1 and "--pdf needs Chromium" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()


# --- (f) --listed -----------------------------------------------------------------------------------------


def test_listed_gives_exactly_the_listed_parcels(runs, tmp_path, layer):
    out = tmp_path / "listed"
    assert invoke("dossier", runs[1], "--listed", "-o", out).exit_code == 0
    listed = [pid for pid, flag in layer["low_efficiency"].items() if bool(flag)]
    assert listed and len(listed) < len(layer)
    record = json.loads((out / "dossier.json").read_text(encoding="utf-8"))
    assert record["parcels"] == listed
    assert sorted(p.stem for p in out.glob("P*.html")) == sorted(listed)


# --- the parts ---------------------------------------------------------------------------------------------


def test_select_parcels_keeps_the_order_given_and_names_unknown_ids(runs):
    store = open_run(runs[1])
    run = read_dossier_run(store, load_config(runs[1].parent / "landkit.yaml"))
    assert run.parcels["parcel_id"].iloc[select_parcels(run, ["P03", "P01", "P03"])].tolist() == ["P03", "P01"]
    with pytest.raises(InputError, match=r"no parcel X1, X2; give ids"):
        select_parcels(run, ["P01", "X1", "X2"])


def test_earlier_runs_recorded_in_the_history_are_found(runs):
    run = read_dossier_run(open_run(runs[1]), load_config(runs[1].parent / "landkit.yaml"))
    assert history_runs(run, ()) == []  # its history records no earlier run
    earlier = pyogrio.read_dataframe(runs[0] / "landkit.gpkg", layer="landkit_runs")
    run.runs = pd.concat([earlier, run.runs], ignore_index=True)
    found = history_runs(run, ())
    assert [(h.year, h.run_id) for h in found] == [(2025, earlier["run_id"].iloc[-1])]
    assert history_runs(run, (str(runs[0]),))[0].run_id == found[0].run_id  # given and recorded: read once
    assert len(history_runs(run, (str(runs[0]),))) == 1


def test_svg_paths_of_polygons_holes_and_lines():
    square = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(2, 2), (4, 2), (4, 4)]])
    line = shapely.LineString([(0, 0), (5, 5)])
    paths = svg_paths(np.array([square, line, None, shapely.Polygon()], dtype=object), (0.0, 10.0))
    assert paths[0] == "M0.0 10.0 10.0 10.0 10.0 0.0 0.0 0.0ZM2.0 8.0 4.0 8.0 4.0 6.0Z"
    assert paths[1] == "M0.0 10.0 5.0 5.0" and paths[2:] == ["", ""]


def test_insets_show_the_neighbours_within_the_radius():
    boxes = np.array([shapely.box(x, 0, x + 50, 50) for x in (0, 200, 600, 2000)], dtype=object)
    maps = insets(boxes, np.array([0, 3]), ["A", "B", "C", "D"], radius=300)
    assert [g for _, g in maps[0]["neighbours"]] == ["B"]  # 200 m off: drawn; 600 m: outside the 650 m frame
    assert maps[1]["neighbours"] == []
    assert maps[0]["view_box"].split()[2:] == ["650.0", "650.0"] and maps[0]["bar_label"] == "100 m"


def test_file_names_are_safe_and_unique():
    assert file_names(["MH-1", "a/b", "A/B", "index", "..", "地块 1"]) == [
        "MH-1.html", "a_b.html", "A_B-2.html", "index-2.html", "parcel.html", "地块_1.html"]


def test_the_command_is_listed(runs):
    result = invoke("--help")
    assert result.exit_code == 0 and "dossier" in result.output
    assert ROOT.joinpath("landkit", "deliver", "templates", "dossier.html.j2").is_file()
