"""`landkit compare`: two runs joined on parcel id, against answers worked out by hand.

The hand-built pair: twelve parcels assessed in 2025 (run A) and again in 2026 (run B) after
known changes — a firm's tax falls, an intensified parcel, an idle parcel reclaimed and re-let, a
construction site that started producing, one parcel removed and one new. Grades, the list and
the paths of both years follow from the scoring rule (written out below), so every list and the
transition matrix are known in advance.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.core.units import M2_PER_MU
from landkit.data.dataset import Dataset
from landkit.data.parcels import add_areas
from landkit.deliver.writer import write_assessment
from landkit.monitor.compare import compare_runs
from landkit.monitor.read import read_run
from landkit.pipeline import assess

ROOT = Path(__file__).resolve().parent.parent
GIS = ROOT / "gis_data"

CONFIG = """
name: 对比测试园区
year: {year}
assessment:
  tracks:
    - {{name: all, label_zh: 全部, label_en: All, weights: {{tax_per_mu: 60, far: 40}}}}
  indicators:
    far: {{benchmark: 2.0, cap: 1.0}}
valuation:
  district_default_yuan_m2: {{工业: 1500}}
"""

# Score = 100 × (60 × min(tax per mu / 60, 1.5) + 40 × min(FAR / 2, 1)) / 130 (benchmarks of the
# default profile: 60 万元/亩, FAR 2). Parcels are 12 亩 (P11: 3 亩 outside the block), so none is
# a small plot inside the block. Grades by rank of n graded: A ≤ 0.25 n, B ≤ 0.70 n, C ≤ 0.95 n.
#
# id, land use, status, area 亩, tax 万元/亩, FAR, firms, industry, founded, inside, production start, lease start
YEAR_A = [
    ("P01", "M1", "operating", 12, 90.0, 2.0, 1, "高端装备", 2005, True, 2010, 2008),  # 130 points
    ("P02", "M1", "operating", 12, 60.0, 1.0, 1, "高端装备", 2005, True, 2010, 2008),  # 80
    ("P03", "M1", "operating", 12, 30.0, 2.5, 1, "生物医药", 2005, True, 2010, 2008),  # 70
    ("P04", "M1", "operating", 12, 8.0, 0.5, 1, "传统制造", 2005, True, 2010, 2008),  # 18: LOW_FAR, LOW_TAX
    ("P05", "M1", "operating", 12, 45.0, 1.5, 1, "高端装备", 2005, True, 2010, 2008),  # 75
    ("P06", "M1", "idle", 12, np.nan, 0.0, 0, None, None, True, 2010, 2015),  # 0: a vacated factory (produced): D
    ("P07", "M1", "construction", 12, np.nan, 0.0, 0, None, None, True, None, 2023),  # U
    ("P08", "U", "operating", 12, np.nan, 0.075, 0, None, None, True, 2010, 2008),  # U (utility)
    ("P09", "M1", "operating", 12, np.nan, 1.2, 0, None, None, True, 2010, 2008),  # U (no firm)
    ("P10", "M1", "operating", 12, 60.0, 1.0, 1, "数字经济", 2005, True, 2010, 2008),  # 80
    ("P11", "M1", "operating", 3, 30.0, 1.0, 1, "高端装备", 2005, False, 2010, 2008),  # 50: SPORADIC, SMALL, ISOLATED
    ("P12", "M1", "operating", 12, 10.0, 1.5, 1, "脑机接口", 2024, True, 2024, 2023),  # U (start-up)
]
# 2025: graded P01 130, P02 80, P10 80, P05 75, P03 70, P11 50, P04 18, P06 0 (n = 8):
#   A = ranks ≤ 2 (P02 and P10 tie at 2) {P01, P02, P10}; B ≤ 5.6 {P05, P03}; C ≤ 7.6 {P11, P04}; D {P06}.
#   Listed (C and D): P04 (C; LOW_FAR, LOW_TAX → 城市更新), P06 (D → 收回/收储), P11 (C; SPORADIC … → 观察保留).

CHANGES_B = {
    "P02": {"tax": 20.0},  # the firm shrinks: 20 + 20 = 40 points
    "P04": {"tax": 45.0, "far": 2.0},  # 城市更新 done: 45 + 40 = 85 points, class B, no longer listed
    "P06": {"status": "construction", "lease": 2025},  # reclaimed and re-let: under construction, not graded
    "P07": {"status": "operating", "tax": 45.0, "far": 1.5, "firms": 1, "industry": "高端装备", "founded": 2005,
            "production": 2025},  # 45 + 30 = 75 points
}
NEW_B = ("P13", "M1", "operating", 12, 90.0, 2.0, 1, "高端装备", 2010, True, 2012, 2010)  # 130
# 2026: graded P01 130, P13 130, P04 85, P10 80, P05 75, P07 75, P03 70, P11 50, P02 40 (n = 9):
#   A = ranks ≤ 2.25 {P01, P13}; B ≤ 6.3 {P04, P10, P05, P07}; C ≤ 8.55 {P03, P11}; D {P02}.
#   Listed: P02 (D → 收回/收储), P03 (C → 观察保留), P11 (C → 观察保留).
GRADES_A = {"P01": "A", "P02": "A", "P10": "A", "P05": "B", "P03": "B", "P11": "C", "P04": "C", "P06": "D",
            "P07": "U", "P08": "U", "P09": "U", "P12": "U"}
GRADES_B = {"P01": "A", "P13": "A", "P10": "B", "P05": "B", "P07": "B", "P04": "B", "P03": "C", "P11": "C", "P02": "D",
            "P06": "U", "P08": "U", "P09": "U"}


def year_b_rows() -> list[tuple]:
    """Year A's rows with CHANGES_B applied, P12 dropped and P13 added."""
    rows = []
    for row in YEAR_A:
        pid, use, status, mu, tax, far, firms, industry, founded, inside, production, lease = row
        if pid == "P12":
            continue
        change = CHANGES_B.get(pid, {})
        rows.append((pid, use, change.get("status", status), mu, change.get("tax", tax), change.get("far", far),
                     change.get("firms", firms), change.get("industry", industry), change.get("founded", founded), inside,
                     change.get("production", production), change.get("lease", lease)))
    return [*rows, NEW_B]


def make_dataset(rows: list[tuple], project) -> Dataset:
    """The parcels of ``rows`` as squares 200 m apart (fixed by id, so both years share geometry)."""
    crs = project.crs.working
    geoms = []
    for row in rows:
        index, side = int(row[0][1:]), (row[3] * M2_PER_MU) ** 0.5
        x, y = 500_000.0 + 200 * index, 3_430_000.0 if row[9] else 3_440_000.0
        geoms.append(shapely.box(x, y, x + side, y + side))
    frame = pd.DataFrame(rows, columns=["parcel_id", "land_use", "status", "_mu", "_tax_per_mu", "_far", "enterprise_count",
                                        "industry", "founded_year", "inside_block", "production_start_year", "lease_start_year"])
    frame["tax_wan"] = frame["_tax_per_mu"] * frame["_mu"]
    frame["block_id"] = np.where(frame["inside_block"], "B1", None)
    frame["lease_end_year"] = frame["lease_start_year"] + 20
    for column in ("founded_year", "production_start_year", "lease_start_year", "lease_end_year"):
        frame[column] = frame[column].astype("Int64")
    parcels = add_areas(gpd.GeoDataFrame(frame.drop(columns=["_mu", "_tax_per_mu"]), geometry=geoms, crs=crs))
    parcels["floor_area_m2"] = parcels.pop("_far") * parcels["area_m2"]
    parcels["footprint_m2"] = np.minimum(0.35 * parcels["area_m2"], parcels["floor_area_m2"])  # 建筑系数 35 % where built
    blocks = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]},
                              geometry=[shapely.box(499_000, 3_429_000, 504_000, 3_432_000)], crs=crs)
    land_price = pd.DataFrame({"price_zone": ["B1"], "land_price_yuan_m2": [2000.0]})
    return Dataset(parcels=parcels, input_crs=parcels.crs, blocks=blocks, land_price=land_price)


def write_run(folder: Path, rows: list[tuple], year: int, *, output_crs: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "landkit.yaml"
    text = CONFIG.format(year=year) + (f"crs:\n  output: '{output_crs}'\n" if output_crs else "")
    config.write_text(text, encoding="utf-8")
    project = load_config(config)
    data = make_dataset(rows, project)
    result = assess(data, project)
    write_assessment(folder / "out", project, data, result)
    return folder / "out"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("hand")
    return write_run(base / "a", YEAR_A, 2025), write_run(base / "b", year_b_rows(), 2026)


@pytest.fixture(scope="module")
def comparison(runs):
    a, b = read_run(runs[0]), read_run(runs[1])
    return compare_runs(a, b, load_config())


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# --- the hand-built pair --------------------------------------------------------------------------


def test_the_runs_grade_and_list_as_worked_out(runs):
    for out, grades, listed in ((runs[0], GRADES_A, {"P04", "P06", "P11"}), (runs[1], GRADES_B, {"P02", "P03", "P11"})):
        parcels = pyogrio.read_dataframe(out / "landkit.gpkg", layer="parcels").set_index("parcel_id")
        assert parcels["grade"].to_dict() == grades
        assert set(parcels.index[parcels["low_efficiency"].astype(bool)]) == listed


def test_grade_changes_and_transition_matrix(comparison):
    changes = comparison.changes.set_index("parcel_id")
    changed = changes[changes["grade_change"] != ""]
    assert changed["grade_change"].to_dict() == {"P02": "A→D", "P03": "B→C", "P04": "C→B", "P06": "D→U", "P07": "U→B", "P10": "A→B"}
    # the eleven parcels in both runs, by hand from GRADES_A and GRADES_B
    expected = {g: dict.fromkeys("ABCDU", 0) for g in "ABCDU"}
    for pid, before in GRADES_A.items():
        if pid in GRADES_B:
            expected[before][GRADES_B[pid]] += 1
    assert expected["A"] == {"A": 1, "B": 1, "C": 0, "D": 1, "U": 0}
    assert comparison.summary["grades"]["transitions"] == expected
    matrix = comparison.transitions.set_index("transition_from")
    assert matrix.loc["total", "total"] == 11 and matrix.loc["U", "total"] == 3
    grades = comparison.summary["grades"]
    assert (grades["changed"], grades["up"], grades["down"], grades["graded"], grades["ungraded"]) == (6, 1, 3, 1, 1)


def test_inventory_entries_exits_and_reasons(comparison):
    changes = comparison.changes.set_index("parcel_id")
    assert set(changes.index[changes["inventory_change"] == "entered"]) == {"P02", "P03"}
    assert set(changes.index[changes["inventory_change"] == "left"]) == {"P04", "P06"}
    assert changes.loc["P02", "reasons_added"] == "D" and changes.loc["P02", "reasons_added_zh"] == "综合绩效评价D类"
    assert changes.loc["P03", "reasons_added"] == "C"
    assert changes.loc["P04", "reasons_removed"] == "C;LOW_FAR;LOW_TAX"
    assert changes.loc["P06", "reasons_removed"] == "D;LOW_FAR;LOW_COEFF;LOW_TAX"
    inv = comparison.summary["inventory"]
    assert (inv["a"], inv["b"], inv["entered"], inv["left"], inv["delta"]) == (3, 3, 2, 2, 0)
    assert list(comparison.by_reason["code"]) == ["C", "D", "LOW_FAR", "LOW_COEFF", "LOW_TAX", "SPORADIC", "SMALL", "ISOLATED"]
    by_reason = comparison.by_reason.set_index("code")
    assert by_reason.loc["D", ["parcels_a", "parcels_b", "added", "cleared"]].tolist() == [1, 1, 1, 1]
    assert by_reason.loc["C", ["parcels_a", "parcels_b", "added", "cleared"]].tolist() == [2, 2, 1, 1]
    assert by_reason.loc["SPORADIC", ["parcels_a", "parcels_b", "added", "cleared"]].tolist() == [1, 1, 0, 0]


def test_reason_codes_come_from_the_flags_when_the_text_is_missing(runs, comparison):
    a, b = read_run(runs[0]), read_run(runs[1])
    for run in (a, b):
        codes = ["C", "D", "IDLE", "LOW_FAR", "LOW_COEFF", "LOW_TAX", "STOPPED", "SPORADIC", "SMALL", "ISOLATED"]
        flags = pyogrio.read_dataframe(run.gpkg, layer="parcels", columns=["parcel_id", *(f"r_{c}" for c in codes)],
                                       read_geometry=False)
        run.parcels = run.parcels.drop(columns="reasons").merge(flags, on="parcel_id")
    again = compare_runs(a, b, load_config())
    columns = ["parcel_id", "reasons_added", "reasons_removed"]
    pd.testing.assert_frame_equal(pd.DataFrame(again.changes[columns]), pd.DataFrame(comparison.changes[columns]))
    pd.testing.assert_frame_equal(again.by_reason, comparison.by_reason)


def test_paths_started_and_completed(comparison):
    changes = comparison.changes.set_index("parcel_id")
    assert changes.loc["P02", "path_change"] == "started" and changes.loc["P02", "disposal_b"] == "reclaim"
    assert changes.loc["P02", "disposal_zh_b"] == "收回/收储"
    assert changes.loc["P03", "path_change"] == "started" and changes.loc["P03", "disposal_b"] == "watch"
    completed = changes[changes["path_change"] == "completed"]
    assert completed["disposal_a"].to_dict() == {"P04": "renew", "P06": "reclaim"}
    assert "土地状态闲置→在建" in changes.loc["P06", "completion_zh"]
    assert "腾退土地12.00亩" in changes.loc["P06", "completion_zh"]
    assert "建筑面积增加" in changes.loc["P04", "completion_zh"]
    by_path = comparison.by_path.set_index("code")
    assert by_path.loc["reclaim", ["parcels_a", "parcels_b", "started", "completed"]].tolist() == [1, 1, 1, 1]
    assert by_path.loc["renew", ["parcels_a", "parcels_b", "started", "completed"]].tolist() == [1, 0, 0, 1]
    assert by_path.loc["watch", ["parcels_a", "parcels_b", "started", "completed"]].tolist() == [1, 2, 1, 0]
    assert by_path.loc["reclaim", "land_freed_done_mu"] == pytest.approx(12)
    paths = comparison.summary["paths"]
    assert (paths["started"], paths["completed"], paths["changed"]) == (2, 2, 0)
    # P04's floor area went from FAR 0.5 to 2.0 on 12 亩
    assert paths["floor_area_added_m2"] == pytest.approx(1.5 * 12 * M2_PER_MU)


def test_new_and_removed_parcels_and_the_change_layer(comparison, runs):
    changes = comparison.changes.set_index("parcel_id")
    assert changes["change_type"].to_dict() == {
        "P13": "new", "P12": "removed", "P04": "left", "P06": "left", "P02": "entered", "P03": "entered", "P07": "graded",
        "P10": "down",
    }
    assert changes.loc["P13", "change_zh"] == "新增地块" and changes.loc["P12", "presence"] == "removed"
    # geometry from B, or from A for the removed parcel
    a = pyogrio.read_dataframe(runs[0] / "landkit.gpkg", layer="parcels").set_index("parcel_id")
    b = pyogrio.read_dataframe(runs[1] / "landkit.gpkg", layer="parcels").set_index("parcel_id")
    assert changes.geometry["P12"].equals(a.geometry["P12"]) and changes.geometry["P13"].equals(b.geometry["P13"])
    assert changes.crs == b.crs
    assert comparison.summary["parcels"] == {"common": 11, "new": 1, "removed": 1}


def test_block_and_concentration_metrics_before_and_after(comparison, runs):
    blocks_a = pyogrio.read_dataframe(runs[0] / "landkit.gpkg", layer="blocks", read_geometry=False).set_index("block_id")
    blocks_b = pyogrio.read_dataframe(runs[1] / "landkit.gpkg", layer="blocks", read_geometry=False).set_index("block_id")
    table = comparison.blocks.set_index(["block_id", "metric"])
    for metric in ("block_score", "far", "tax_per_ha_wan", "idle_rate", "parcels"):
        row = table.loc[("B1", metric)]
        assert row["value_a"] == pytest.approx(blocks_a.loc["B1", metric])
        assert row["value_b"] == pytest.approx(blocks_b.loc["B1", metric])
        assert row["change"] == pytest.approx(blocks_b.loc["B1", metric] - blocks_a.loc["B1", metric])
    assert table.loc[("B1", "idle_rate"), "value_b"] == 0  # the only idle parcel was re-let
    scatter_a = pyogrio.read_dataframe(runs[0] / "landkit.gpkg", layer="scatter_metrics").set_index(["level", "group"])
    scatter_b = pyogrio.read_dataframe(runs[1] / "landkit.gpkg", layer="scatter_metrics").set_index(["level", "group"])
    scatter = comparison.scatter.set_index(["level", "group", "metric"])
    for key in scatter_a.index:
        for metric in ("np", "class_area_ha", "parcels"):
            row = scatter.loc[(*key, metric)]
            assert row["value_a"] == pytest.approx(scatter_a.loc[key, metric], nan_ok=True)
            assert row["value_b"] == pytest.approx(scatter_b.loc[key, metric], nan_ok=True)
    park = scatter.loc[("park", "park", "parcels")]
    assert (park["value_a"], park["value_b"]) == (12, 12)


# --- the command ------------------------------------------------------------------------------------


def test_compare_command_writes_the_outputs(runs, tmp_path):
    out = tmp_path / "cmp"
    result = invoke("compare", runs[0], runs[1], "-o", out)
    assert result.exit_code == 0, result.output
    assert "对比 2025 → 2026" in result.output and "新列入 2 宗, 移出 2 宗" in result.output
    layers = dict(pyogrio.list_layers(out / "compare.gpkg"))
    assert layers["changes"] == "Polygon" and {"transitions", "summary", "inventory_by_path", "block_metrics"} <= set(layers)
    changes = pyogrio.read_dataframe(out / "compare.gpkg", layer="changes")
    assert sorted(changes["parcel_id"]) == ["P02", "P03", "P04", "P06", "P07", "P10", "P12", "P13"]
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert summary["inventory"]["entered"] == 2 and summary["a"]["year"] == 2025 and summary["b"]["year"] == 2026
    book = load_workbook(out / "compare.xlsx", read_only=True)
    assert book.sheetnames[:3] == ["概况", "变化地块", "等级转移矩阵"]
    header = [c.value for c in next(book["变化地块"].iter_rows(max_row=1))]
    assert "上期评价等级" in header and "本期评价等级" in header and "变化类型" in header
    matrix = [c.value for c in next(book["等级转移矩阵"].iter_rows(max_row=1))]
    assert matrix[:3] == ["上期等级", "本期A类(宗)", "本期B类(宗)"]
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert '"changes"' in page and "年度变化" in page
    again = invoke("compare", runs[0], runs[1], "-o", out)
    assert again.exit_code == 1 and "--overwrite" in again.output
    assert invoke("compare", runs[0], runs[1], "-o", out, "--overwrite").exit_code == 0


def test_a_run_id_is_accepted_while_its_layers_are_there(runs, tmp_path):
    from landkit.deliver.history import read_runs

    run_id = read_runs(runs[1])["run_id"].iloc[-1]
    result = invoke("compare", runs[0], f"{runs[1]}@{run_id}", "-o", tmp_path / "ok")
    assert result.exit_code == 0, result.output
    bad = invoke("compare", runs[0], f"{runs[1]}@20000101T000000Z-abcdef", "-o", tmp_path / "bad")
    assert bad.exit_code == 1 and "has no run `20000101T000000Z-abcdef`" in bad.output


def test_a_replaced_run_is_refused_with_the_reason(runs, tmp_path):
    from landkit.deliver.history import read_runs

    folder = tmp_path / "again"
    write_run(folder, year_b_rows(), 2026)
    old = read_runs(folder / "out")["run_id"].iloc[-1]
    write_run(folder, year_b_rows(), 2026)  # the same folder re-assessed: the first run's parcels are gone
    runs_now = read_runs(folder / "out")
    assert len(runs_now) == 2 and runs_now["run_id"].iloc[0] == old
    line = _one_line_error(invoke("compare", runs[0], f"{folder / 'out'}@{old}", "-o", tmp_path / "x"))
    assert f"run {old}" in line and f"replaced by run {runs_now['run_id'].iloc[1]}" in line


def test_a_run_against_itself_has_no_change(runs, tmp_path):
    from browser import open_page

    result = invoke("compare", runs[0], runs[0], "-o", tmp_path / "same")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "same" / "compare.json").read_text(encoding="utf-8"))
    assert summary["grades"]["changed"] == summary["inventory"]["entered"] == summary["paths"]["started"] == 0
    assert sum(summary["grades"]["transitions"][g][g] for g in "ABCDU") == 12
    assert len(pyogrio.read_dataframe(tmp_path / "same" / "compare.gpkg", layer="changes")) == 0
    with open_page(tmp_path / "same" / "compare.html") as bp:
        bp.page.wait_for_function("() => window.landkit && window.landkit.map && window.landkit.map._loaded")
        assert "changes" not in bp.page.evaluate("Object.keys(landkit.layers)")
        bp.assert_offline_clean()


def test_runs_in_a_database_compare_as_their_folders(runs, db, tmp_path):
    """The pair in two PostGIS schemas (the layers `landkit assess --db` writes) compares as the folders do."""
    from landkit.core.db_url import redact
    from landkit.deliver.history import read_runs
    from landkit.io.postgis.write import write_layers_postgis

    urls = []
    for out, schema in zip(runs, ("cmp_a", "cmp_b"), strict=True):
        gpkg = out / "landkit.gpkg"
        layers = {str(n): pyogrio.read_dataframe(gpkg, layer=str(n), use_arrow=True) for n, _ in pyogrio.list_layers(gpkg)}
        write_layers_postgis(db, schema, layers)
        urls.append(f"{db}?schema={schema}")
    files = invoke("compare", runs[0], runs[1], "-o", tmp_path / "files")
    database = invoke("compare", *urls, "-o", tmp_path / "db")
    assert files.exit_code == 0 and database.exit_code == 0, database.output
    headlines = [line for line in database.output.splitlines() if not line.startswith("Wrote ")]
    assert headlines == [line for line in files.output.splitlines() if not line.startswith("Wrote ")]
    expected = json.loads((tmp_path / "files" / "compare.json").read_text(encoding="utf-8"))
    found = json.loads((tmp_path / "db" / "compare.json").read_text(encoding="utf-8"))
    for side, schema in (("a", "cmp_a"), ("b", "cmp_b")):
        assert found[side].pop("path") == f"{redact(db)} (schema {schema})"
        expected[side].pop("path")
    assert found == expected
    changes = pyogrio.read_dataframe(tmp_path / "db" / "compare.gpkg", layer="changes").set_index("parcel_id")
    reference = pyogrio.read_dataframe(tmp_path / "files" / "compare.gpkg", layer="changes").set_index("parcel_id")
    assert changes["change_type"].to_dict() == reference["change_type"].to_dict()
    assert shapely.equals_exact(np.asarray(changes.geometry), np.asarray(reference.loc[changes.index].geometry), 0).all()
    run_id = read_runs(urls[1])["run_id"].iloc[-1]  # a run of the schema's history, named after the URL
    assert invoke("compare", urls[0], f"{urls[1]}@{run_id}", "-o", tmp_path / "id").exit_code == 0
    assert "has no run `20000101T000000Z-abcdef`" in _one_line_error(
        invoke("compare", urls[0], f"{urls[1]}@20000101T000000Z-abcdef", "-o", tmp_path / "bad"))


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_bad_inputs_are_one_line_errors(runs, tmp_path):
    # not a landkit output: a folder without landkit.gpkg, and a GeoPackage without parcels
    line = _one_line_error(invoke("compare", tmp_path, runs[1], "-o", tmp_path / "x"))
    assert "landkit.gpkg" in line
    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), other, layer="stuff")
    assert "not a landkit output" in _one_line_error(invoke("compare", other, runs[1], "-o", tmp_path / "x"))
    # different CRS
    moved = write_run(tmp_path / "crs", YEAR_A, 2025, output_crs="EPSG:4549")
    assert "EPSG:4549" in _one_line_error(invoke("compare", moved, runs[1], "-o", tmp_path / "x"))
    # no common parcels
    renamed = tmp_path / "renamed"
    shutil.copytree(runs[0], renamed)
    parcels = pyogrio.read_dataframe(renamed / "landkit.gpkg", layer="parcels")
    parcels["parcel_id"] = "X" + parcels["parcel_id"]
    pyogrio.write_dataframe(parcels, renamed / "landkit.gpkg", layer="parcels", layer_options={"OVERWRITE": "YES"})
    assert "share no parcel id" in _one_line_error(invoke("compare", renamed, runs[1], "-o", tmp_path / "x"))
    assert not (tmp_path / "x").exists()


# --- the shipped sample: 2025 against 2026 ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_pair(tmp_path_factory) -> tuple[Path, Path, Path]:
    """`landkit demo` on the shipped sample: 2025 in OUT, 2026 in OUT/2026, their comparison in OUT/compare."""
    base = tmp_path_factory.mktemp("demo")
    out, maps = base / "demo", base / "maps"
    result = invoke("-q", "demo", "--data", GIS, "-o", out, "--maps", maps)
    assert result.exit_code == 0, result.output
    assert "对比 2025 → 2026" in result.output and "低效用地 " in result.output
    page = (maps / "minhang_compare.html").read_text(encoding="utf-8")
    assert '"changes"' in page and "年度对比 2025 → 2026" in page
    assert not (out / "2026" / "map.html").exists() and (out / "2026" / "landkit.gpkg").exists()
    return out, out / "2026", out / "compare"


def test_year_two_project_differs_from_year_one_only_in_year_and_data():
    import yaml

    one = yaml.safe_load((GIS / "minhang.yaml").read_text(encoding="utf-8"))
    two = yaml.safe_load((GIS / "minhang_2026.yaml").read_text(encoding="utf-8"))
    assert two.pop("year") == one.pop("year") + 1
    assert two["inputs"].pop("parcels") == {"path": "minhang_2026.gpkg", "layer": "parcels"}
    assert two["inputs"].pop("enterprises") == {"path": "enterprises_2026.xlsx", "sheet": "企业"}
    # the decisions after the 2025 list's publication (公示) are data of the second year
    assert two["inputs"].pop("overrides") == {"path": "overrides_2026.csv"}
    assert two["inputs"].pop("objections") == {"path": "objections_2026.csv"}
    one["inputs"].pop("parcels"), one["inputs"].pop("enterprises")
    assert one == two


def test_sample_files_are_what_the_generator_makes():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from make_sample import check_shipped

    assert check_shipped(GIS) == []


def test_sample_comparison_adds_up(sample_pair):
    a, b, out = sample_pair
    pa = pyogrio.read_dataframe(a / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")
    pb = pyogrio.read_dataframe(b / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert pa.index.equals(pb.index)  # the same parcels, a year on
    inv = summary["inventory"]
    assert inv["a"] == sa["inventory"]["parcels"] and inv["b"] == sb["inventory"]["parcels"]
    assert inv["entered"] - inv["left"] == inv["b"] - inv["a"] == inv["delta"]
    listed_a, listed_b = pa["low_efficiency"].astype(bool), pb["low_efficiency"].astype(bool)
    assert inv["entered"] == int((listed_b & ~listed_a).sum()) > 0 and inv["left"] == int((listed_a & ~listed_b).sum()) > 0
    # the transition matrix: rows are 2025's grade counts, columns 2026's
    matrix = summary["grades"]["transitions"]
    assert {g: sum(row.values()) for g, row in matrix.items()} == {g: v["parcels"] for g, v in sa["grades"].items()}
    assert {g: sum(matrix[f][g] for f in matrix) for g in "ABCDU"} == {g: v["parcels"] for g, v in sb["grades"].items()}
    assert summary["grades"]["changed"] == int((pa["grade"] != pb["grade"]).sum()) == len(pa) - sum(matrix[g][g] for g in "ABCDU")
    # each path: after − before = started − completed − changed to another path
    for row in summary["paths"]["by_path"]:
        assert row["parcels_b"] - row["parcels_a"] == row["started"] - row["completed"] - row["changed_from"], row["code"]
    per_path = pa.loc[listed_a, "disposal"].value_counts().to_dict()  # the listed parcels' paths
    assert {r["code"]: r["parcels_a"] for r in summary["paths"]["by_path"] if r["parcels_a"]} == per_path
    # every parcel with a change is in the layer, and no other
    path_a = pa["disposal"].where(listed_a, "")
    path_b = pb["disposal"].where(listed_b, "")
    changed = (pa["grade"] != pb["grade"]) | (listed_a != listed_b) | (path_a != path_b)
    changes = pyogrio.read_dataframe(out / "compare.gpkg", layer="changes")
    assert set(changes["parcel_id"]) == set(pa.index[changed])
    # the generator's reclaimed parcels (idle → under construction) left the list with their path completed
    reclaimed = pa.index[(pa["status"] == "idle") & (pb["status"] == "construction") & listed_a]
    assert len(reclaimed) > 10
    done = changes.set_index("parcel_id").loc[reclaimed]
    off = ~listed_b[reclaimed]
    assert off.all()  # land under construction is not graded, so never listed
    assert (done.loc[off.to_numpy(), "path_change"] == "completed").all()
    assert done.loc[off.to_numpy(), "completion_zh"].str.contains("土地状态闲置→在建").all()
    # blocks and concentration before and after
    blocks = pyogrio.read_dataframe(out / "compare.gpkg", layer="block_metrics")
    assert set(blocks["block_id"]) == {"park", *pyogrio.read_dataframe(a / "landkit.gpkg", layer="blocks")["block_id"]}
    scatter = pyogrio.read_dataframe(out / "compare.gpkg", layer="scatter_metrics")
    assert {"park", "block", "ring"} <= set(scatter["level"])


# --- the map in a real browser (offline) ---------------------------------------------------------------


def test_compare_map_opens_offline_with_the_changes_layer(runs, tmp_path):
    from browser import open_page

    out = tmp_path / "cmp"
    assert invoke("compare", runs[0], runs[1], "-o", out).exit_code == 0
    with open_page(out / "compare.html") as bp:
        page = bp.page
        page.wait_for_function("() => window.landkit && window.landkit.map && window.landkit.map._loaded")
        layers = page.evaluate("""() => Object.fromEntries(Object.entries(landkit.layers).map(([k, v]) =>
            [k, [v.title, v.count, landkit.map.hasLayer(v.layer), v.layer.getLayers().length]]))""")
        assert layers["changes"] == ["年度变化", 8, True, 8]
        assert layers["parcels_b"][1] == 12  # 2026's parcels behind them
        legend = page.locator('div.landkit-legend[data-layer="changes"]')
        assert legend.is_visible()
        for text in ("新增地块", "已注销地块", "移出低效清单", "新列入低效清单", "等级下降", "新参评"):
            assert text in legend.inner_text()
        # a click on P06 opens its popup: what changed, in Chinese
        popup_text = page.evaluate("""() => {
            const d = landkit.datasets.changes, i = d.ids.indexOf('P06');
            const f = landkit.layers.changes.layer.getLayers().find(l => l._lk === i);
            f.fire('click', {latlng: f.getBounds().getCenter()}, true);
            return document.querySelector('.leaflet-popup-content').textContent; }""")
        for text in ("P06", "移出低效清单", "D→U", "收回/收储", "已完成", "土地状态闲置→在建"):
            assert text in popup_text, text
        assert page.evaluate("landkit.search('P13')") == ["P13"]
        assert bp.screenshot_variance() > 10
        bp.assert_offline_clean()
