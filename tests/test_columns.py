"""The planner's own columns: what they were read as, suggestions for the others, what absent ones cost.

Drives a planner-style copy of the shipped sample — a GBK shapefile whose field names ArcGIS/GDAL
cut at 10 bytes (some in the middle of a character) and an enterprise workbook with headers of
their own — through `init --from` → `validate` → `assess`, and checks the suggestion engine
against pairs chosen by hand.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.io.columns import (
    column_report,
    column_uses,
    matched_columns,
    shapefile_names,
    similarity,
    split_unit,
    suggest,
)
from landkit.io.read import read_vector

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data"

#: The planner's names: the parcel fields (before the shapefile cuts them) and the enterprise headers.
PARCEL_NAMES = {"地块编号": "宗地编号", "土地状态": "土地现状", "基底面积": "建筑基底占地面积", "约定动工年份": "约定动工年份"}
ENTERPRISE_NAMES = {"地块编号": "宗地编号", "从业人员(人)": "从业人数", "研发投入(万元)": "研发支出(万元)",
                    "综合能耗(吨标准煤)": "能源消耗量(吨标煤)", "高新技术企业": "高企", "税收(万元)": "实缴税款(元)"}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def dbf_field_names(dbf: Path) -> list[bytes]:
    """The raw field names of a dBASE file (independent of landkit's reader)."""
    data = dbf.read_bytes()
    header_len = struct.unpack("<H", data[8:10])[0]
    return [data[i:i + 11].split(b"\x00")[0] for i in range(32, header_len - 1, 32) if data[i] != 0x0D]


@pytest.fixture(scope="module")
def planner(tmp_path_factory) -> Path:
    """A folder with parcels.shp (GBK, names cut at 10 bytes) and 企业名录2025.xlsx (the planner's headers)."""
    folder = tmp_path_factory.mktemp("planner")
    parcels = gpd.read_file(SAMPLE / "minhang.gpkg", layer="parcels").rename(columns=PARCEL_NAMES)
    parcels["占地面积(亩)"] = parcels.geometry.area / (10_000 / 15)  # 12 bytes in GBK: cut inside 亩
    pyogrio.write_dataframe(parcels, folder / "parcels.shp", encoding="GBK")
    enterprises = pd.read_excel(SAMPLE / "enterprises.xlsx").rename(columns=ENTERPRISE_NAMES)
    enterprises["实缴税款(元)"] = enterprises["实缴税款(元)"] * 10_000  # the planner's table is in 元
    enterprises.to_excel(folder / "企业名录2025.xlsx", index=False)
    return folder


def test_the_shapefile_really_has_names_cut_mid_character(planner):
    names = dbf_field_names(planner / "parcels.dbf")
    assert "占地面积(".encode("gbk") + "亩".encode("gbk")[:1] in names  # half of 亩
    assert "约定动工年".encode("gbk") in names and "建筑基底占".encode("gbk") in names


def test_a_cut_field_name_is_repaired_and_named_in_a_warning(planner, caplog):
    project = load_config(None, overrides={"inputs": {"parcels": {"path": str(planner / "parcels.shp")}}})
    frame = read_vector(project.inputs.parcels, kind="parcels", project=project)
    assert "占地面积(" in frame.columns and "约定动工年" in frame.columns
    assert any("占地面积(" in r.getMessage() and "cut at 10 bytes" in r.getMessage() for r in caplog.records)


def test_a_wrong_byte_in_a_cell_names_the_field_and_the_record(tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["甲", "乙", "丙"]}, geometry=gpd.points_from_xy([0, 1, 2], [0, 1, 2]), crs=4549)
    pyogrio.write_dataframe(frame, tmp_path / "p.shp", encoding="GBK")
    dbf = tmp_path / "p.dbf"
    data = bytearray(dbf.read_bytes())
    second = data.index("乙".encode("gbk"))
    data[second:second + 2] = b"\xff\xff"  # not GBK
    dbf.write_bytes(bytes(data))
    result = invoke("validate", tmp_path / "p.shp", "--no-assess")
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "field 名称, record 2" in line and "as p.cpg says" in line


@pytest.mark.parametrize(("name", "expected"), [
    ("从业人数", "employees"), ("研发支出(万元)", "rd_spend_wan"), ("能源消耗量(吨标煤)", "energy_tce"),
    ("土地现状", "status"), ("建筑基底占", "footprint_m2"), ("实缴税款(元)", "tax_wan"), ("成立日期", "founded_year"),
])
def test_suggestions_for_the_planners_headers(name, expected):
    project = load_config(None)
    kind = "enterprises" if expected in ("employees", "rd_spend_wan", "energy_tce", "tax_wan", "founded_year") else "parcels"
    mapping = getattr(project.columns, kind)
    candidates = {c: spec.names for c, spec in mapping.items()}
    found = suggest(name, candidates)
    assert found is not None and found[0] == expected, (name, found)


def test_a_unit_of_another_quantity_is_never_suggested():
    # 万元 is money: never an area, however alike the names
    assert suggest("建筑面积(万元)", {"floor_area_m2": ["建筑面积"]}) is None
    assert suggest("建筑面积(亩)", {"floor_area_m2": ["建筑面积"]}) == ("floor_area_m2", 1.0)
    assert suggest("企业名称", {"floor_area_m2": ["建筑面积"]}) is None


def test_similarity_and_units_by_hand():
    # SequenceMatcher: 2 × matches / total length; 从业人数 vs 从业人员: 从业人 matches (3), 8 characters
    assert similarity("从业人数", "从业人员") == pytest.approx(2 * 3 / 8)
    assert similarity("Tax_WAN", "tax wan") == 1.0
    assert split_unit("能耗（吨标煤）") == ("能耗", "吨标煤")
    assert split_unit("占地面积(") == ("占地面积(", None)


def test_shapefile_names_cut_like_arcgis():
    assert shapefile_names("约定动工年份") == ["约定动工年", "约定动"]  # 10 bytes: 5 characters of GBK, 3 of UTF-8
    assert shapefile_names("出让年份") == ["出让年"]  # fits GBK (8 bytes), not UTF-8 (12)
    assert shapefile_names("ring") == []
    assert matched_columns(["约定动工年"], {}, "parcels") == {}  # without candidates nothing matches …
    project = load_config(None)
    assert matched_columns(["约定动工年"], project.columns.parcels, "parcels") == {"agreed_start_year": "约定动工年"}


def test_each_suggestion_goes_to_one_column_the_most_alike():
    project = load_config(None)
    report = column_report(["宗地编号", "从业人数", "从业人员数量"], {"parcel_id": "宗地编号"}, kind="enterprises",
                           project=project, name="e.xlsx")
    assert list(report.suggestions.values()).count("employees") == 1
    assert report.read == {"parcel_id": "宗地编号"} and "enterprise_id" in report.absent


def test_column_uses_follow_indicators_and_derived_columns():
    uses = column_uses(load_config(None))
    status = {(u.what, u.key) for u in uses["status"]}
    assert ("path", "idle_free") in status and ("direct_grade", "STOPPED") in status  # via legally_idle, stopped_years
    floor = {(u.what, u.key, u.needed) for u in uses["floor_area_m2"]}
    assert ("indicator", "far", False) in floor or ("indicator", "far", True) in floor  # far = floor_area_m2 / area_m2
    tax = [u for u in uses["tax_wan"] if u.what == "indicator" and u.key == "tax_per_mu"]
    assert tax and tax[0].needed  # tax_per_mu is weighted in both tracks


def test_init_from_writes_the_mapping_to_confirm(planner, tmp_path):
    project_file = planner / "landkit.yaml"
    result = invoke("init", project_file, "--from", planner / "parcels.shp", "-e", planner / "企业名录2025.xlsx", "--overwrite")
    assert result.exit_code == 0, result.output
    assert "土地现状" in result.output and "looks like status" in result.output  # the column report is printed
    text = project_file.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert config["inputs"]["parcels"]["path"] == "parcels.shp"  # relative to the project file
    assert config["columns"]["parcels"]["status"] == ["土地现状"]
    assert config["columns"]["parcels"]["footprint_m2"] == ["建筑基底占"]
    assert config["columns"]["enterprises"]["tax_wan"] == {"column": "实缴税款(元)", "unit": "元"}  # the unit read from the header
    assert config["columns"]["enterprises"]["employees"] == ["从业人数"]
    assert "# suggested: your 土地现状; confirm" in text
    assert "yard_m2" in text  # absent and used: said, with what it feeds
    load_config(project_file)  # loads as written


def test_validate_lists_the_columns_and_the_consequences_without_a_mapping(planner):
    result = invoke("validate", planner / "parcels.shp", "-e", planner / "企业名录2025.xlsx", "--no-assess")
    assert result.exit_code == 1  # indicators in the weights lack their columns: errors, all in one run
    out = result.output
    assert "宗地编号" in out and "→ parcel_id" in out  # what each of the planner's columns was read as
    assert "约定动工年" in out and "→ agreed_start_year" in out  # a cut default name is still recognised
    errors = [line for line in out.splitlines() if line.startswith("error: ")]
    named = {c for c in ("tax_wan", "employees", "rd_spend_wan", "energy_tce") if any(f"`{c}`" in e for e in errors)}
    assert named == {"tax_wan", "employees", "rd_spend_wan", "energy_tce"}
    assert any("if 实缴税款(元) holds it, map it: columns.enterprises.tax_wan: [实缴税款(元)]" in e for e in errors)
    status = next(line for line in out.splitlines() if "no `status` column" in line)
    assert status.startswith("warning: ") and "idle_free" in status and "土地现状" in status  # never silent


def test_assess_refuses_naming_every_absent_column_at_once(planner, tmp_path):
    result = invoke("-q", "assess", planner / "parcels.shp", "-e", planner / "企业名录2025.xlsx", "-o", tmp_path / "run")
    assert result.exit_code != 0
    line = result.output.strip().splitlines()[-1]
    assert all(f"`{c}`" in line for c in ("tax_wan", "employees", "rd_spend_wan", "energy_tce"))
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_the_confirmed_mapping_runs_and_matches_the_sample(planner, tmp_path):
    """With the mapping `init --from` wrote (and the sample's other settings), the planner's copy gives the sample's classes."""
    folder = tmp_path / "p"
    shutil.copytree(planner, folder)
    invoke("init", folder / "landkit.yaml", "--from", folder / "parcels.shp", "-e", folder / "企业名录2025.xlsx", "--overwrite")
    written = yaml.safe_load((folder / "landkit.yaml").read_text(encoding="utf-8"))
    sample = yaml.safe_load((SAMPLE / "minhang.yaml").read_text(encoding="utf-8"))
    for kind, source in sample["inputs"].items():  # the sample's other inputs, by absolute path
        if kind not in ("parcels", "enterprises") and isinstance(source, dict) and "path" in source:
            written["inputs"][kind] = {**source, "path": str((SAMPLE / source["path"]).resolve())}
    written = {**{k: v for k, v in sample.items() if k not in ("inputs", "columns")}, **written,
               "year": sample.get("year", written["year"])}
    (folder / "landkit.yaml").write_text(yaml.safe_dump(written, allow_unicode=True), encoding="utf-8")
    ours = invoke("-q", "assess", "-c", folder / "landkit.yaml", "-o", tmp_path / "ours")
    assert ours.exit_code == 0, ours.output
    theirs = invoke("-q", "assess", "-c", SAMPLE / "minhang.yaml", "-o", tmp_path / "theirs")
    assert theirs.exit_code == 0, theirs.output
    a = gpd.read_file(tmp_path / "ours" / "landkit.gpkg", layer="parcels", ignore_geometry=True).set_index("parcel_id")
    b = gpd.read_file(tmp_path / "theirs" / "landkit.gpkg", layer="parcels", ignore_geometry=True).set_index("parcel_id")
    assert (a["grade"].reindex(b.index) == b["grade"]).all()  # 元 → 万元 converted, the mapping complete
    assert a["tax_wan"].reindex(b.index).round(6).equals(b["tax_wan"].round(6))


def test_the_export_speaks_the_planners_names(planner, tmp_path):
    """init --from → assess → export: the shapefile comes back with the planner's own field names."""
    folder = tmp_path / "p"
    shutil.copytree(planner, folder)
    invoke("init", folder / "landkit.yaml", "--from", folder / "parcels.shp", "-e", folder / "企业名录2025.xlsx", "--overwrite")
    run = invoke("-q", "assess", "-c", folder / "landkit.yaml", "-o", tmp_path / "run")
    assert run.exit_code == 0, run.output
    shp = tmp_path / "parcels_out.shp"
    exported = invoke("export", tmp_path / "run", "--layer", "parcels", "-o", shp)
    assert exported.exit_code == 0, exported.output
    names = [n.decode("gbk") for n in dbf_field_names(shp.with_suffix(".dbf"))]
    assert "宗地编号" in names and "土地现状" in names  # the planner's, as they wrote them
    assert all(len(n.encode("gbk")) <= 10 for n in names)
    ids = pyogrio.read_dataframe(shp, encoding="gbk", read_geometry=False)["宗地编号"]
    assert ids.str.startswith("MH-").all()


def test_the_column_report_and_its_warnings_are_chinese_by_default(planner, monkeypatch):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    result = invoke("validate", planner / "parcels.shp", "--no-assess")
    out = result.output
    assert "parcels 的字段" in out and "未读取：像是 status 土地状态" in out
    status = next(line for line in out.splitlines() if "`status`" in line)
    assert status.startswith("警告: ") and "中没有 `status` 字段；用到它的有：" in status and "盘活路径 无偿收回" in status
    assert "已检查" in out and "个警告" in out
