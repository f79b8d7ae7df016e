"""`landkit export` in the planner's terms: their own column names, Chinese names for landkit's.

Two runs: the shipped sample, and a planner-style copy of it whose parcel layer names its
columns 宗地编号, 使用现状 and 建筑面积(公顷) (in hectares, mapped with ``unit: 公顷``), read
through ``columns:`` in a project file. Shapefiles are checked byte by byte (the DBF header's
field names), with GDAL's own ``ogrinfo`` (Debian's GDAL 3.6) and read back by pyogrio.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.deliver.export import (
    SHAPEFILE_FIELD_BYTES,
    SHORT_ZH,
    STEM_ZH,
    abbreviate_zh,
    default_name_style,
    full_field_names,
    shapefile_field_names,
    source_names,
)
from landkit.deliver.labels import COLUMNS, Label

ROOT = Path(__file__).resolve().parent.parent
GIS = ROOT / "gis_data"
SAMPLE = GIS / "minhang.yaml"

#: The planner's names in the copy: landkit's sample name → the planner's.
RENAMED = {"地块编号": "宗地编号", "土地状态": "使用现状", "建筑面积": "建筑面积(公顷)"}


#: A field as `ogrinfo -so` lists it: ``宗地编号: String (80.0)``.
FIELD_LINE = re.compile(r"^(.+): (?:String|Real|Integer|Integer64|Date) \(", re.MULTILINE)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def dbf_field_names(dbf: Path) -> list[bytes]:
    """The field names of a DBF file as its header stores them (raw bytes, NUL padding removed)."""
    data = dbf.read_bytes()
    header_length = int.from_bytes(data[8:10], "little")
    names = []
    for offset in range(32, header_length - 1, 32):
        if data[offset] == 0x0D:  # the header's terminator
            break
        names.append(data[offset:offset + 11].split(b"\0", 1)[0])
    return names


def dictionary(shp: Path) -> pd.DataFrame:
    return pd.read_csv(shp.with_name(shp.stem + "_fields.csv"), encoding="utf-8-sig", keep_default_na=False)


def ogrinfo(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "run"
    result = invoke("-q", "assess", "-c", SAMPLE, "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def planner_run(tmp_path_factory):
    """The sample with the planner's column names: a copy of its parcel layer, a copy of its project file."""
    folder = tmp_path_factory.mktemp("planner")
    parcels = pyogrio.read_dataframe(GIS / "minhang.gpkg", layer="parcels")
    parcels["建筑面积"] = parcels["建筑面积"] / 10_000  # in hectares, as the mapping's unit says
    parcels = parcels.rename(columns=RENAMED)
    pyogrio.write_dataframe(parcels, folder / "parcels.gpkg", layer="地块")
    project = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    inputs = project["inputs"]
    for source in inputs.values():  # every other input: the shipped file, by its absolute path
        for item in source if isinstance(source, list) else [source]:
            item["path"] = str(GIS / item["path"])
    inputs["parcels"] = {"path": str(folder / "parcels.gpkg"), "layer": "地块"}
    project["columns"] = {"parcels": {"parcel_id": ["宗地编号"], "status": ["使用现状"],
                                      "floor_area_m2": {"column": "建筑面积(公顷)", "unit": "公顷"}}}
    (folder / "landkit.yaml").write_text(yaml.safe_dump(project, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = folder / "run"
    result = invoke("-q", "assess", "-c", folder / "landkit.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    return out, parcels


def test_the_run_records_the_planners_columns(planner_run):
    out, _ = planner_run
    recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["source_columns"]
    assert recorded["parcels"]["parcel_id"] == "宗地编号" and recorded["parcels"]["status"] == "使用现状"
    names = source_names(json.loads((out / "manifest.json").read_text(encoding="utf-8")), "inventory")
    assert names["parcel_id"] == "宗地编号" and names["status"] == "使用现状" and names["block_id"] == "区块编号"
    assert "floor_area_m2" not in names  # converted from hectares: 建筑面积(公顷) would name the wrong unit
    assert "tax_wan" not in names and "electricity_kwh" not in names  # parcel totals, not the enterprise's cells


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_shapefile_field_names_fit_and_are_the_planners(planner_run, tmp_path, encoding):
    out, parcels = planner_run
    shp = tmp_path / f"inv_{encoding}.shp"
    result = invoke("export", out, "-o", shp, "--encoding", encoding, "--names", "source")
    assert result.exit_code == 0, result.output
    assert shp.with_suffix(".cpg").read_text() == encoding.upper()
    raw = dbf_field_names(shp.with_suffix(".dbf"))
    assert raw and all(len(name) <= SHAPEFILE_FIELD_BYTES for name in raw)
    names = [name.decode(encoding) for name in raw]
    assert len({n.lower() for n in names}) == len(names)
    fields = dictionary(shp)
    # the dictionary is complete and says what the header holds, in its order
    assert fields["field"].tolist() == names
    run_columns = [c for c in pyogrio.read_info(out / "landkit.gpkg", layer="inventory")["fields"]]
    assert fields["column"].tolist() == run_columns
    assert (fields["label_zh"] != "").all() and set(fields.columns) >= {"label_en", "unit", "source"}
    by_column = fields.set_index("column")
    assert by_column.loc["parcel_id", "source"] == "宗地编号"
    assert by_column.loc["tax_wan", "source"] == "" and by_column.loc["tax_wan", "unit"] == "万元"
    # read back with the .cpg's encoding, and with it given: the same names and the planner's ids
    back = pyogrio.read_dataframe(shp, encoding=encoding)
    assert [c for c in back.columns if c != "geometry"] == names
    inventory = pyogrio.read_dataframe(out / "landkit.gpkg", layer="inventory", read_geometry=False)
    id_field = by_column.loc["parcel_id", "field"]
    assert back[id_field].tolist() == inventory["parcel_id"].tolist()
    assert set(back[id_field]) <= set(parcels["宗地编号"])
    if encoding == "gbk":  # 5 Chinese characters: the planner's names whole
        assert {"宗地编号", "使用现状", "评价等级", "综合得分", "亩均税收", "盘活路径", "税收"} <= set(names)
        assert "建筑面积(公顷)" not in names and by_column.loc["floor_area_m2", "field"] == "建筑面积"
    else:  # 3 Chinese characters, when asked
        assert id_field == "宗地编"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "gb18030"])
def test_gdal_opens_the_shapefile_without_a_warning(planner_run, tmp_path, encoding):
    out, _ = planner_run
    shp = tmp_path / f"p_{encoding}.shp"
    result = invoke("export", out, "--layer", "parcels", "-o", shp, "--encoding", encoding, "--names", "source")
    assert result.exit_code == 0, result.output
    assert "cannot store" not in result.output  # landkit's own texts (−, m²) are written in GBK's terms
    shown = ogrinfo(shp)
    assert shown.returncode == 0 and shown.stderr == "" and "Warning" not in shown.stdout, shown.stderr
    expected = dictionary(shp)["field"].tolist()
    listed = FIELD_LINE.findall(shown.stdout)
    assert listed == expected  # recoded from the .cpg's encoding: the names as written


def test_the_default_is_the_planners_names_in_gbk(planner_run, tmp_path):
    out, _ = planner_run
    shp = tmp_path / "default.shp"
    result = invoke("export", out, "-o", shp)
    assert result.exit_code == 0, result.output
    assert shp.with_suffix(".cpg").read_text() == "GBK"
    names = [n.decode("gbk") for n in dbf_field_names(shp.with_suffix(".dbf"))]
    assert names[:5] == ["宗地编号", "区块编号", "区块名称", "用地性质", "使用现状"]
    # a UTF-8 shapefile: 3 Chinese characters are too few, so English unless asked
    utf8 = tmp_path / "utf8.shp"
    assert invoke("export", out, "-o", utf8, "--encoding", "utf-8").exit_code == 0
    assert dbf_field_names(utf8.with_suffix(".dbf"))[:2] == [b"parcel_id", b"block_id"]


def test_names_en_gives_the_old_english_names(sample_run, tmp_path):
    shp = tmp_path / "en.shp"
    result = invoke("export", sample_run, "-o", shp, "--names", "en")
    assert result.exit_code == 0, result.output
    names = [n.decode("gbk") for n in dbf_field_names(shp.with_suffix(".dbf"))]
    assert {"parcel_id", "grade", "score", "tax_wan", "revenue_pe", "va_per__p", "r_SPORADIC"} <= set(names)
    columns = list(pyogrio.read_info(sample_run / "landkit.gpkg", layer="inventory")["fields"])
    from landkit.cli.options import load_project
    from landkit.deliver.labels import labels_for

    old = shapefile_field_names(columns, labels_for(load_project(None, find_project_file=False)), "gbk")
    assert names == list(old.values())  # the names landkit wrote before --names (the library's default)
    assert dictionary(shp)["source"].iloc[0] == "地块编号"  # the dictionary still says where it came from


def test_sample_run_exports_chinese_names(sample_run, tmp_path):
    shp = tmp_path / "sample.shp"
    assert invoke("export", sample_run, "-o", shp).exit_code == 0
    names = [n.decode("gbk") for n in dbf_field_names(shp.with_suffix(".dbf"))]
    assert {"地块编号", "土地状态", "评价等级", "综合得分", "亩均税收", "亩均税得分", "盘活路径", "因停产"} <= set(names)
    assert not any(n.startswith(("revenue_pe", "va_per_", "r_")) for n in names)


def test_geopackage_and_tables_use_the_full_names(planner_run, tmp_path):
    out, _ = planner_run
    gpkg = tmp_path / "inv.gpkg"
    assert invoke("export", out, "-o", gpkg).exit_code == 0
    fields = list(pyogrio.read_info(gpkg)["fields"])
    assert {"宗地编号", "使用现状", "评价等级", "综合得分(分)", "亩均税收(万元/亩)", "税收(万元)"} <= set(fields)
    assert len(set(fields)) == len(fields)
    assert dictionary(gpkg)["field"].tolist() == fields
    shown = ogrinfo(gpkg)
    assert shown.returncode == 0 and "Warning" not in shown.stderr + shown.stdout, shown.stderr
    en = tmp_path / "en.gpkg"
    assert invoke("export", out, "-o", en, "--names", "en").exit_code == 0
    run_fields = pyogrio.read_info(out / "landkit.gpkg", layer="inventory")["fields"]
    assert list(pyogrio.read_info(en)["fields"]) == list(run_fields)
    assert not en.with_name("en_fields.csv").exists()
    # tables keep their labelled headers (Chinese with units) unless the planner's names are asked for
    csv, xlsx = tmp_path / "inv.csv", tmp_path / "inv.xlsx"
    assert invoke("export", out, "-o", csv).exit_code == 0
    head = pd.read_csv(csv, encoding="utf-8-sig", nrows=0).columns.tolist()
    assert head[0] == "地块编号" and "土地状态" in head and "出让年份(年)" in head
    for target in (csv, xlsx):
        assert invoke("export", out, "-o", target, "--names", "source", "--overwrite").exit_code == 0
    for table in (pd.read_csv(csv, encoding="utf-8-sig"), pd.read_excel(xlsx)):
        head = table.columns.tolist()
        assert head[0] == "宗地编号" and "使用现状" in head and "税收(万元)" in head and "综合得分(分)" in head
        assert table["宗地编号"].tolist() == pyogrio.read_dataframe(out / "landkit.gpkg", layer="inventory",
                                                                    read_geometry=False)["parcel_id"].tolist()
    assert invoke("export", out, "-o", csv, "--lang", "en", "--overwrite").exit_code == 0
    assert pd.read_csv(csv, encoding="utf-8-sig", nrows=0).columns[0] == "Parcel id"


def test_a_run_without_source_columns_falls_back(planner_run, tmp_path):
    out, _ = planner_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    del manifest["source_columns"]
    (old / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    shp = tmp_path / "old.shp"
    result = invoke("export", old, "-o", shp)
    assert result.exit_code == 0, result.output
    names = [n.decode("gbk") for n in dbf_field_names(shp.with_suffix(".dbf"))]
    assert names[0] == "地块编号" and "宗地编号" not in names  # landkit's Chinese names
    assert (dictionary(shp)["source"] == "").all()


# --- the names themselves -------------------------------------------------------------------------


def test_the_short_name_tables_fit_gbk():
    assert all(len(name.encode("gbk")) <= SHAPEFILE_FIELD_BYTES for name in SHORT_ZH.values())
    assert all(len(stem.encode("gbk")) <= SHAPEFILE_FIELD_BYTES - len("得分".encode("gbk")) for stem in STEM_ZH.values())
    reasons = {f"r_{c}" for c in ("C", "D", "IDLE", "LOW_FAR", "LOW_COEFF", "LOW_TAX", "STOPPED", "SPORADIC", "SMALL",
                                  "ISOLATED")}
    assert set(SHORT_ZH) <= set(COLUMNS) | reasons | set(STEM_ZH)


def test_abbreviation_is_deterministic_and_fits():
    assert abbreviate_zh("约定动工年份") == "约定动工年"
    assert abbreviate_zh("闲置土地(依法认定)") == "闲置土地"
    assert abbreviate_zh("亩均营业收入") == "亩均营收"
    assert abbreviate_zh("亩均税收") == "亩均税收"  # a name that fits is kept
    for text in ("研发经费占营业收入比重", "区域及个别因素修正(ΣK)", "零星工业用地(规划工业区块外)"):
        for encoding in ("gbk", "utf-8"):
            short = abbreviate_zh(text, encoding)
            assert short and len(short.encode(encoding)) <= SHAPEFILE_FIELD_BYTES
            assert short == abbreviate_zh(text, encoding)


def test_collisions_get_a_numeric_suffix_and_the_planners_name_wins():
    labels = {"a": Label("圈层", "Ring"), "b": Label("圈层", "Ring name"), "c": Label("评价等级", "Grade")}
    assert shapefile_field_names(["a", "b"], labels, "gbk", style="zh") == {"a": "圈层", "b": "圈层1"}
    # the planner called their column 评价等级: theirs keeps it, landkit's grade takes the suffix
    named = shapefile_field_names(["c", "x"], labels, "gbk", style="source", sources={"x": "评价等级"})
    assert named == {"c": "评价等级1", "x": "评价等级"}
    long = shapefile_field_names(["a", "b"], {"a": Label("五个汉字名", ""), "b": Label("五个汉字名", "")}, "gbk", style="zh")
    assert long == {"a": "五个汉字名", "b": "五个汉字1"} and all(len(v.encode("gbk")) <= 10 for v in long.values())
    assert full_field_names(["a", "b"], labels, style="zh") == {"a": "圈层", "b": "圈层1"}


def test_default_style():
    assert default_name_style(Path("x.shp"), lang="zh", encoding="gbk") == "source"
    assert default_name_style(Path("x.shp"), lang="zh", encoding="utf-8") == "en"
    assert default_name_style(Path("x.gpkg"), lang="zh", encoding="utf-8") == "source"
    assert default_name_style(Path("x.xlsx"), lang="en", encoding="gbk") == "en"
    assert default_name_style(Path("x.csv"), lang="zh", encoding="gbk") == "zh"  # labelled headers, as before
