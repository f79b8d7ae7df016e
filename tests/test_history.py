"""Run history: every `landkit assess` run is a row of `landkit_runs`, kept across --overwrite."""

from __future__ import annotations

import hashlib
import json
import re

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from landkit import __version__
from landkit.cli.history import display_width, format_runs
from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.deliver.history import RUN_COLUMNS, RUNS_TABLE, append_run, read_runs

WORKING = load_config().crs.working


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def project_dir(tmp_path):
    """Four parcels in one block and three enterprises (taxes chosen so one parcel is listed)."""
    geoms = [shapely.box(500_000 + 120 * i, 3_430_000, 500_100 + 120 * i, 3_430_080) for i in range(4)]
    parcels = gpd.GeoDataFrame(
        {
            "地块编号": ["MH-1", "MH-2", "MH-3", "MH-4"],
            "用地性质": ["M1", "M1", "M2", "M1"],
            "土地状态": ["在产", "在产", "在产", "闲置"],
            "出让年份": [2005, 2006, 2001, 2015],
            "到期年份": [2055, 2056, 2051, 2035],
            "投产年份": [2007, 2008, 2003, None],
            "建筑面积": [12000.0, 6000.0, 3000.0, 0.0],
            "基底面积": [4000.0, 3000.0, 2000.0, 0.0],
        },
        geometry=geoms,
        crs=WORKING,
    ).to_crs("EPSG:4490")
    parcels["投产年份"] = parcels["投产年份"].astype("Int64")
    pyogrio.write_dataframe(parcels, tmp_path / "parcels.gpkg", layer="parcels")
    blocks = gpd.GeoDataFrame({"区块编号": ["MH01"]}, geometry=[shapely.box(499_900, 3_429_900, 500_600, 3_430_200)], crs=WORKING)
    pyogrio.write_dataframe(blocks.to_crs("EPSG:4490"), tmp_path / "blocks.gpkg", layer="blocks")
    write_enterprises(tmp_path, taxes=[800, 300, 20])
    (tmp_path / "landkit.yaml").write_text(
        "name: 历史测试\nyear: 2025\ninputs:\n  parcels: {path: parcels.gpkg}\n  blocks: {path: blocks.gpkg}\n"
        "  enterprises: {path: enterprises.csv}\n",
        encoding="utf-8",
    )
    return tmp_path


def write_enterprises(folder, *, taxes):
    pd.DataFrame({
        "统一社会信用代码": ["913101120000000001", "913101120000000002", "913101120000000003"],
        "企业名称": ["甲公司", "乙公司", "丙公司"],
        "地块编号": ["MH-1", "MH-2", "MH-3"],
        "行业": ["高端装备", "生物医药", "传统制造"],
        "税收(万元)": taxes,
        "营业收入(万元)": [15000, 6000, 800],
        "工业增加值(万元)": [4000, 1500, 200],
        "从业人员(人)": [300, 120, 40],
        "研发投入(万元)": [600, 500, 10],
        "综合能耗(吨标准煤)": [2000, 500, 400],
        "用电量(万千瓦时)": [1000, 250, 200],
        "排放当量(吨)": [4.0, 1.0, 2.0],
        "高新技术企业": ["是", "是", "否"],
        "成立年份": [2005, 2006, 2001],
    }).to_csv(folder / "enterprises.csv", index=False, encoding="utf-8-sig")


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_runs_accumulate_across_overwrites_with_their_hashes_and_figures(project_dir):
    out = project_dir / "out"
    config = project_dir / "landkit.yaml"
    first = invoke("assess", "-c", config, "-o", out)
    assert first.exit_code == 0, first.output
    runs = read_runs(out)
    assert len(runs) == 1 and list(runs.columns) == RUN_COLUMNS
    summary_1 = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    manifest_1 = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    hash_1 = sha256(project_dir / "enterprises.csv")

    write_enterprises(project_dir, taxes=[900, 10, 20])  # next year's figures: a new input hash
    assert invoke("assess", "-c", config, "-o", out).exit_code == 1  # no --overwrite: refused, history untouched
    assert len(read_runs(out)) == 1
    second = invoke("assess", "-c", config, "-o", out, "--overwrite")
    assert second.exit_code == 0, second.output
    summary_2 = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    manifest_2 = json.loads((out / "manifest.json").read_text(encoding="utf-8"))

    runs = read_runs(out / "landkit.gpkg")
    assert len(runs) == 2
    assert runs["run_id"].is_unique and all(re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", r) for r in runs["run_id"])
    assert runs["run_id"].iloc[0] <= runs["run_id"].iloc[1]
    for row, summary, manifest, ent_hash in ((runs.iloc[0], summary_1, manifest_1, hash_1),
                                            (runs.iloc[1], summary_2, manifest_2, sha256(project_dir / "enterprises.csv"))):
        assert row["landkit_version"] == __version__ == manifest["landkit_version"]
        assert row["config_sha256"] == manifest["config_sha256"]
        inputs = json.loads(row["inputs"])
        assert inputs == manifest["inputs"]
        assert inputs["enterprises"]["sha256"] == ent_hash
        assert inputs["parcels"]["sha256"] == sha256(project_dir / "parcels.gpkg")
        assert row["year"] == 2025 and row["parcels"] == summary["parcels"] == 4
        assert row["area_mu"] == pytest.approx(summary["area_mu"])
        for grade in "ABCDU":
            assert row[f"grade_{grade}"] == summary["grades"][grade]["parcels"]
        inv = summary["inventory"]
        assert row["inventory_parcels"] == inv["parcels"]
        for column in ("area_mu", "land_freed_mu", "floor_area_added_m2", "tax_gain_wan"):
            key = "inventory_area_mu" if column == "area_mu" else column
            assert row[key] == pytest.approx(inv[column])
        assert json.loads(row["park"]) == summary["park"] and summary["park"]  # the park's metrics, for `landkit compare`
        assert row["output"] == str(out.resolve())
        assert pd.Timestamp(row["created"]).tzinfo is not None
    assert runs["config_sha256"].nunique() == 1
    assert json.loads(runs["inputs"].iloc[0])["enterprises"] != json.loads(runs["inputs"].iloc[1])["enterprises"]

    # `landkit history`: a table with Chinese headers, one line per run; --lang en; --json
    shown = invoke("history", out)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split()[:4] == ["运行编号", "时间(UTC)", "版本", "评估年份"]
    assert lines[2].startswith(runs["run_id"].iloc[0]) and lines[3].startswith(runs["run_id"].iloc[1])
    assert " 2025 " in lines[2] and "2,025" not in lines[2]
    assert lines[-1] == "2 次运行"
    english = invoke("history", out / "landkit.gpkg", "--lang", "en")
    assert english.output.splitlines()[0].split()[:2] == ["Run", "Time"] and english.output.splitlines()[-1] == "2 runs"
    as_json = json.loads(invoke("history", out, "--json").output)
    assert [r["run_id"] for r in as_json] == list(runs["run_id"])
    assert as_json[1]["inputs"]["enterprises"]["sha256"] == manifest_2["inputs"]["enterprises"]["sha256"]
    assert as_json[1]["park"] == summary_2["park"]


def test_rings_and_scatter_keep_the_history(project_dir):
    out = project_dir / "out"
    assert invoke("assess", "-c", project_dir / "landkit.yaml", "-o", out).exit_code == 0
    before = read_runs(out)
    assert invoke("scatter", out, "-c", project_dir / "landkit.yaml").exit_code == 0
    pd.testing.assert_frame_equal(read_runs(out), before)


def test_append_run_keeps_earlier_rows_and_new_columns():
    layers: dict[str, pd.DataFrame] = {}
    old = pd.DataFrame([{"run_id": "20250101T000000Z-aaaaaa", "year": 2024, "parcels": 3, "legacy": "x"}])
    append_run(layers, {"run_id": "20260101T000000Z-bbbbbb", "year": 2025, "parcels": 4}, old)
    table = layers[RUNS_TABLE]
    assert list(table["run_id"]) == ["20250101T000000Z-aaaaaa", "20260101T000000Z-bbbbbb"]
    assert list(table["parcels"]) == [3, 4] and table["legacy"].iloc[0] == "x"
    append_run(layers, {"run_id": "x", "parcels": 1}, None)
    assert list(layers[RUNS_TABLE]["run_id"]) == ["x"]


def test_history_errors_are_one_line(tmp_path):
    result = invoke("history", tmp_path)
    assert result.exit_code == 1 and "has no landkit.gpkg" in result.output and len(result.output.strip().splitlines()) == 1
    old = tmp_path / "landkit.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), old, layer="parcels")
    result = invoke("history", old)  # a landkit.gpkg without its manifest is no complete run
    assert result.exit_code == 1 and "holds no complete run" in result.output and len(result.output.strip().splitlines()) == 1
    (tmp_path / "manifest.json").write_text("{}")
    result = invoke("history", old)
    assert result.exit_code == 1 and "no run history" in result.output and len(result.output.strip().splitlines()) == 1
    assert invoke("history", tmp_path / "missing").exit_code == 1


def test_table_aligns_chinese_text():
    assert display_width("运行") == 4 and display_width("ab") == 2
    runs = pd.DataFrame([{"run_id": "r1", "year": 2025, "parcels": 3200, "area_mu": 51234.5}])
    lines = format_runs(runs).splitlines()
    assert len({display_width(line) for line in lines}) == 1  # every line as wide as the header
    assert lines[2].endswith("51,234") and "3,200" in lines[2]


# --- history in PostGIS (the real server of test_postgis) ----------------------------------------------


def test_database_history_accumulates_across_output_folders(project_dir, db):
    config = project_dir / "landkit.yaml"
    first = invoke("-q", "assess", "-c", config, "-o", project_dir / "one", "--db", db, "--schema", "hist")
    assert first.exit_code == 0, first.output
    second = invoke("-q", "assess", "-c", config, "-o", project_dir / "two", "--db", db, "--schema", "hist", "--overwrite")
    assert second.exit_code == 0, second.output
    in_files = [read_runs(project_dir / name)["run_id"].iloc[-1] for name in ("one", "two")]
    assert len(read_runs(project_dir / "two")) == 1  # a fresh folder starts its own history
    runs = read_runs(db, schema="hist")
    assert runs["run_id"].tolist() == in_files  # the database keeps both, in order
    assert runs.iloc[1]["inputs"] == read_runs(project_dir / "two").iloc[0]["inputs"]
    shown = invoke("history", db, "--schema", "hist", "--json")
    assert shown.exit_code == 0, shown.output
    assert [r["run_id"] for r in json.loads(shown.output)] == in_files
    assert json.loads(invoke("history", f"{db}?schema=hist", "--json").output) == json.loads(shown.output)
    missing = invoke("history", db, "--schema", "nowhere")
    assert missing.exit_code == 1 and "no run history in schema nowhere" in missing.output
    assert "--schema goes with" in invoke("history", project_dir / "one", "--schema", "x").output
