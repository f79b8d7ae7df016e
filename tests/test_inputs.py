"""Reading inputs: shapefile encodings, CSV and Excel tables, canonical columns, input errors."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from landkit.config.load import load_config
from landkit.config.models import Source
from landkit.core.errors import EncodingError, InputError
from landkit.io.read import canonical_columns, read_input, read_table, read_vector, shapefile_encoding

# --- (a) shapefile text encodings -----------------------------------------------------------------

#: Values that exercise GBK: a character outside GB2312 (镕), full-width brackets, middle dot.
GBK_ROWS = {
    "地块编号": ["闵-0001", "闵-0002", "闵-0003", "闵-0004"],
    "用地性质": ["M1", "工业（镕）", "仓储·物流", "研发"],
    "土地状态": ["在产", "闲置", "在建", "停产"],
    "建筑面积": [1234.5, 0.0, 880.25, 100.0],
}


def _square(i: int, x0: float = 500_000.0, y0: float = 3_430_000.0) -> shapely.Polygon:
    return shapely.box(x0 + 100 * i, y0, x0 + 100 * i + 50, y0 + 40)


def _layer(columns: dict[str, list], crs: str) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(dict(columns), geometry=[_square(i) for i in range(n)], crs=crs)


@pytest.fixture
def gbk_shapefile(tmp_path, working_crs):
    """A GBK shapefile with Chinese names and values; its .cpg is removed (tests add their own)."""
    path = tmp_path / "parcels_gbk.shp"
    pyogrio.write_dataframe(_layer(GBK_ROWS, working_crs), path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    # the bytes on disk really are GBK
    dbf = path.with_suffix(".dbf").read_bytes()
    assert "仓储·物流".encode("gbk") in dbf and "地块编号".encode("gbk") in dbf
    assert "仓储".encode() not in dbf
    return path


def _assert_same_text(frame: pd.DataFrame, expected: dict[str, list]) -> None:
    for column, values in expected.items():
        assert column in frame.columns, f"column {column!r} not read back; got {list(frame.columns)}"
        got = frame[column].tolist()
        if isinstance(values[0], str):
            assert [v.encode("utf-8") for v in got] == [v.encode("utf-8") for v in values]
        else:
            assert got == pytest.approx(values)


@pytest.mark.parametrize("cpg", [None, "GBK", "936", "CP936", "ANSI"])
def test_gbk_shapefile_reads_back_identical_text(gbk_shapefile, project, cpg):
    if cpg is not None:
        gbk_shapefile.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    gdf = read_vector(Source(path=gbk_shapefile.name), kind="parcels", project=project)
    _assert_same_text(gdf, GBK_ROWS)


def test_gbk_shapefile_without_cpg_is_detected_as_gbk(gbk_shapefile):
    assert shapefile_encoding(gbk_shapefile).upper() in ("GBK", "GB18030", "CP936")


def test_gbk_shapefile_with_lying_cpg_is_refused(gbk_shapefile, project):
    gbk_shapefile.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    with pytest.raises(EncodingError) as err:
        read_vector(Source(path=gbk_shapefile.name), kind="parcels", project=project)
    msg = str(err.value)
    assert "parcels_gbk.shp" in msg
    assert "gbk" in msg.lower() or "gb18030" in msg.lower()
    assert "--encoding" in msg


def test_utf8_override_on_gbk_shapefile_is_refused_not_garbled(gbk_shapefile, project):
    with pytest.raises(EncodingError) as err:
        read_vector(Source(path=gbk_shapefile.name, encoding="utf-8"), kind="parcels", project=project)
    msg = str(err.value)
    assert "parcels_gbk.shp" in msg and "gb18030" in msg.lower()


def test_gbk_override_on_gbk_shapefile(gbk_shapefile, project):
    gdf = read_vector(Source(path=gbk_shapefile.name, encoding="gbk"), kind="parcels", project=project)
    _assert_same_text(gdf, GBK_ROWS)


def test_gbk_shapefile_canonical_columns(gbk_shapefile, project):
    project = load_config(overrides={"base_dir": str(gbk_shapefile.parent), "inputs": {"parcels": {"path": gbk_shapefile.name}}})
    table = read_input("parcels", project)
    frame = table.frame
    assert table.issues == []
    assert frame["parcel_id"].tolist() == GBK_ROWS["地块编号"]
    assert frame["land_use"].tolist() == GBK_ROWS["用地性质"]
    assert frame["status"].tolist() == ["operating", "idle", "construction", "stopped"]
    assert frame["floor_area_m2"].tolist() == pytest.approx(GBK_ROWS["建筑面积"])
    assert isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None


#: UTF-8 shapefile fields: names of at most 10 bytes in UTF-8 (the dBASE limit; GDAL cuts longer
#: Chinese names in the middle of a character).
UTF8_ROWS = {
    "DKBH": ["闵-0001", "闵-0002", "闵-0003"],
    "YDXZ": ["工业（镕）", "仓储·物流", "研发"],
    "状态": ["在产", "闲置", "在建"],
    "街镇": ["莘庄", "颛桥", "浦江"],
}


@pytest.mark.parametrize("cpg", ["UTF-8", "65001", None])
def test_utf8_shapefile_reads_back_identical_text(tmp_path, project, working_crs, cpg):
    path = tmp_path / "parcels_utf8.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no field name may be laundered
        pyogrio.write_dataframe(_layer(UTF8_ROWS, working_crs), path, encoding="UTF-8")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert "仓储·物流".encode() in path.with_suffix(".dbf").read_bytes()
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    gdf = read_vector(Source(path=path.name), kind="parcels", project=project)
    _assert_same_text(gdf, UTF8_ROWS)
    table = canonical_columns(gdf, kind="parcels", project=project, name=path.name)
    assert table.frame["parcel_id"].tolist() == UTF8_ROWS["DKBH"]
    assert table.frame["town"].tolist() == UTF8_ROWS["街镇"]


def test_utf8_shapefile_with_lying_gbk_cpg_is_not_garbled(tmp_path, project, working_crs):
    rows = {"DKBH": ["工业用地", "研发用地"], "YDXZ": ["研发用地", "工业用地"]}
    assert "工业用地".encode().decode("gbk") == "宸ヤ笟鐢ㄥ湴"  # the trap: valid, but wrong
    path = tmp_path / "lying.shp"
    pyogrio.write_dataframe(_layer(rows, working_crs), path, encoding="UTF-8")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    try:
        gdf = read_vector(Source(path=path.name), kind="parcels", project=project)
    except EncodingError as err:
        assert "lying.shp" in str(err) and "utf-8" in str(err).lower()
    else:
        _assert_same_text(gdf, rows)


def test_shapefile_without_dbf_is_an_input_error(gbk_shapefile, project):
    gbk_shapefile.with_suffix(".dbf").unlink()
    with pytest.raises(InputError, match=r"\.dbf"):
        shapefile_encoding(gbk_shapefile)


# --- (b) tables ------------------------------------------------------------------------------------

ENTERPRISE_CSV = (
    "统一社会信用代码,企业名称,地块编号,行业,税收(万元),营业收入(万元),从业人员(人),高新技术企业\n"
    "00123,上海闵行精密机械有限公司,闵-0001,集成电路,120.5,3000,85,是\n"
    "00456,莘庄生物医药（上海）有限公司,闵-0002；闵-0003,生物医药,60,1500,40,否\n"
    "07890,颛桥镕达物流有限公司,闵-0004,仓储物流,,800,12,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings_give_identical_frames(tmp_path, project, encoding):
    (tmp_path / "reference.csv").write_text(ENTERPRISE_CSV, encoding="utf-8")
    (tmp_path / "enterprises.csv").write_bytes(ENTERPRISE_CSV.encode(encoding))
    if encoding == "utf-8-sig":
        assert (tmp_path / "enterprises.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    reference = read_table(Source(path="reference.csv"), kind="enterprises", project=project)
    frame = read_table(Source(path="enterprises.csv"), kind="enterprises", project=project)
    pd.testing.assert_frame_equal(frame, reference)
    # and the content is what was written, by hand
    assert next(iter(frame.columns)) == "统一社会信用代码"  # no BOM glued to the first header
    assert frame["统一社会信用代码"].tolist() == ["00123", "00456", "07890"]
    assert frame["企业名称"].tolist()[1] == "莘庄生物医药（上海）有限公司"
    assert frame["地块编号"].tolist()[1] == "闵-0002；闵-0003"
    assert frame["税收(万元)"].tolist() == ["120.5", "60", ""]


def test_csv_encoding_override_that_does_not_fit_is_refused(tmp_path, project):
    (tmp_path / "enterprises.csv").write_bytes(ENTERPRISE_CSV.encode("gbk"))
    with pytest.raises(EncodingError) as err:
        read_table(Source(path="enterprises.csv", encoding="utf-8"), kind="enterprises", project=project)
    msg = str(err.value)
    assert "enterprises.csv" in msg and "gb18030" in msg.lower()


def test_csv_canonical_enterprises(tmp_path, make_project):
    (tmp_path / "enterprises.csv").write_bytes(ENTERPRISE_CSV.encode("gbk"))
    project = make_project(tmp_path, enterprises="enterprises.csv")
    table = read_input("enterprises", project)
    frame = table.frame
    assert table.issues == []
    assert frame["enterprise_id"].tolist() == ["00123", "00456", "07890"]  # leading zeros kept
    assert frame["parcel_id"].tolist() == ["闵-0001", "闵-0002；闵-0003", "闵-0004"]
    assert frame["tax_wan"].tolist()[:2] == [120.5, 60.0] and np.isnan(frame["tax_wan"].iloc[2])
    assert frame["revenue_wan"].tolist() == [3000.0, 1500.0, 800.0]
    assert frame["employees"].tolist() == [85.0, 40.0, 12.0]
    assert frame["high_tech"].tolist()[:2] == [True, False] and pd.isna(frame["high_tech"].iloc[2])
    assert frame["industry"].tolist() == ["集成电路", "生物医药", "仓储物流"]


@pytest.fixture
def workbook(tmp_path):
    """An .xlsx with an explanatory first sheet and the data on a sheet named 企业名单."""
    path = tmp_path / "enterprises.xlsx"
    data = pd.DataFrame(
        {
            "统一社会信用代码": ["00123", "00456", "07890"],
            "企业名称": ["上海闵行精密机械有限公司", "莘庄生物医药（上海）有限公司", "颛桥镕达物流有限公司"],
            "地块编号": ["闵-0001", "闵-0002", "闵-0004"],
            "税收(万元)": [120.5, 60, None],
            "营业收入(万元)": [3000, 1500.0, 800],  # 1500.0 is stored as a float
            "从业人员(人)": [85, 40, 12],
        },
        dtype=object,
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"说明": ["数据来源：区统计局"]}).to_excel(writer, sheet_name="说明", index=False)
        data.to_excel(writer, sheet_name="企业名单", index=False)
    return path


def test_xlsx_sheet_selection(workbook, project):
    frame = read_table(Source(path=workbook.name, sheet="企业名单"), kind="enterprises", project=project)
    assert list(frame.columns) == ["统一社会信用代码", "企业名称", "地块编号", "税收(万元)", "营业收入(万元)", "从业人员(人)"]
    assert frame["统一社会信用代码"].tolist() == ["00123", "00456", "07890"]
    assert frame["企业名称"].tolist()[1] == "莘庄生物医药（上海）有限公司"
    # Excel cells keep their type (numbers stay numbers; canonical_columns converts); text ids keep zeros.
    assert frame["营业收入(万元)"].tolist() == [3000, 1500, 800]
    assert frame["税收(万元)"].tolist() == [120.5, 60, ""]


def test_xlsx_first_sheet_by_default(workbook, project):
    frame = read_table(Source(path=workbook.name), kind="enterprises", project=project)
    assert list(frame.columns) == ["说明"]


def test_xlsx_wrong_sheet_lists_the_sheets(workbook, project):
    with pytest.raises(InputError) as err:
        read_table(Source(path=workbook.name, sheet="企业"), kind="enterprises", project=project)
    msg = str(err.value)
    assert "企业" in msg and "enterprises.xlsx" in msg
    assert "说明" in msg and "企业名单" in msg


def test_xlsx_canonical_enterprises(workbook, make_project):
    project = make_project(workbook.parent, enterprises={"path": workbook.name, "sheet": "企业名单"})
    table = read_input("enterprises", project)
    assert table.issues == []
    assert table.frame["enterprise_id"].tolist() == ["00123", "00456", "07890"]
    assert table.frame["revenue_wan"].tolist() == [3000.0, 1500.0, 800.0]
    assert table.frame["tax_wan"].iloc[:2].tolist() == [120.5, 60.0] and np.isnan(table.frame["tax_wan"].iloc[2])


# --- (c) canonical columns ----------------------------------------------------------------------


def _enterprises(**extra) -> pd.DataFrame:
    columns = {"统一社会信用代码": ["E01", "E02", "E03"], "地块编号": ["P1", "P2", "P3"]}
    columns.update(extra)
    return pd.DataFrame(columns)


def _parcels(**extra) -> pd.DataFrame:
    columns = {"地块编号": ["P1", "P2", "P3", "P4", "P5"], "用地性质": ["M1"] * 5}
    columns.update(extra)
    return pd.DataFrame(columns)


def test_default_chinese_headers_map_to_canonical(project):
    frame = pd.DataFrame(
        {
            "地块编号": ["P1"], "用地性质": ["M1"], "土地状态": ["在产"], "出让年份": ["2005"],
            "到期年份": ["2055"], "投产年份": ["2007"], "建筑面积": ["12000"], "基底面积": ["4000"],
            "区块编号": ["B1"], "所属街镇": ["莘庄镇"], "备注": ["不读"],
        }
    )
    table = canonical_columns(frame, kind="parcels", project=project, name="parcels.csv")
    row = table.frame.iloc[0]
    assert table.issues == []
    assert row["parcel_id"] == "P1" and row["land_use"] == "M1" and row["status"] == "operating"
    assert (row["lease_start_year"], row["lease_end_year"], row["production_start_year"]) == (2005, 2055, 2007)
    assert (row["floor_area_m2"], row["footprint_m2"]) == (12000.0, 4000.0)
    assert (row["block_id"], row["town"]) == ("B1", "莘庄镇")
    assert "备注" not in table.frame.columns


def test_tax_in_yuan_is_converted_to_wan(tmp_path):
    config = tmp_path / "landkit.yaml"
    config.write_text("columns:\n  enterprises:\n    tax_wan: {column: 税收(元), unit: 元}\n", encoding="utf-8")
    project = load_config(config)
    frame = _enterprises(**{"税收(元)": ["1234500", "0", ""]})
    table = canonical_columns(frame, kind="enterprises", project=project, name="enterprises.csv")
    tax = table.frame["tax_wan"]
    assert tax.iloc[0] == pytest.approx(123.45)
    assert tax.iloc[1] == 0.0 and np.isnan(tax.iloc[2])
    assert table.issues == []


def test_floor_area_in_mu_is_converted_to_m2(tmp_path):
    config = tmp_path / "landkit.yaml"
    config.write_text("columns:\n  parcels:\n    floor_area_m2: {column: 建筑面积(亩), unit: 亩}\n", encoding="utf-8")
    project = load_config(config)
    frame = _parcels(**{"建筑面积(亩)": ["3", "1.5", "15", "", "0"]})
    floor = canonical_columns(frame, kind="parcels", project=project, name="p").frame["floor_area_m2"]
    # 3 亩 = 3 × 10000/15 = 2000 m²; 1.5 亩 = 1000 m²; 15 亩 = 1 ha
    assert floor.iloc[[0, 1, 2, 4]].tolist() == pytest.approx([2000.0, 1000.0, 10_000.0, 0.0])
    assert np.isnan(floor.iloc[3])


def test_non_numeric_cell_becomes_nan_and_an_issue(project):
    frame = _enterprises(**{"税收(万元)": ["12.5", "abc", " 7 "]})
    table = canonical_columns(frame, kind="enterprises", project=project, name="enterprises.csv")
    tax = table.frame["tax_wan"]
    assert tax.iloc[0] == 12.5 and np.isnan(tax.iloc[1]) and tax.iloc[2] == 7.0
    assert len(table.issues) == 1
    issue = table.issues[0]
    assert issue.severity == "error" and issue.layer == "enterprises"
    assert issue.feature == "E02"
    assert "税收(万元)" in issue.message and "tax_wan" in issue.message and "'abc'" in issue.message


def test_thousands_separator_parses(project):
    # pandas >= 3 holds text as the `str` dtype, not object: separators must go for both
    frame = _enterprises(**{"税收(万元)": ["1,234", "12,345.5", "2，500"]})
    table = canonical_columns(frame, kind="enterprises", project=project, name="enterprises.csv")
    assert table.frame["tax_wan"].tolist() == [1234.0, 12345.5, 2500.0]
    assert table.issues == []


def test_thousands_separator_parses_from_csv(tmp_path, make_project):
    (tmp_path / "enterprises.csv").write_text('企业编号,地块编号,营业收入(万元)\nE01,P1,"1,234"\n', encoding="utf-8")
    table = read_input("enterprises", make_project(tmp_path, enterprises="enterprises.csv"))
    assert table.frame["revenue_wan"].tolist() == [1234.0]
    assert table.issues == []


def test_thousands_separator_parses_from_object_cells(project):
    frame = _enterprises(**{"税收(万元)": pd.Series(["1,234", "12,345.5", "7"], dtype=object)})
    table = canonical_columns(frame, kind="enterprises", project=project, name="enterprises.xlsx")
    assert table.frame["tax_wan"].tolist() == [1234.0, 12345.5, 7.0]
    assert table.issues == []


def test_status_values_map_and_unknown_is_an_issue(project):
    frame = _parcels(土地状态=["在产", "闲置", "在建", "停产", "拆除中"])
    table = canonical_columns(frame, kind="parcels", project=project, name="parcels.gpkg")
    assert table.frame["status"].tolist()[:4] == ["operating", "idle", "construction", "stopped"]
    assert table.frame["status"].iloc[4] is None or pd.isna(table.frame["status"].iloc[4])
    assert [(i.check, i.feature) for i in table.issues] == [("unknown_status", "P5")]
    assert "拆除中" in table.issues[0].message and "土地状态" in table.issues[0].message


def test_ownership_fire_class_and_floor_load_map_and_unknown_is_an_issue(project):
    frame = _parcels(土地权属=["国有", "集体建设用地", "国有载体", "集体", "宅基地"], 火灾危险性类别=["丙类", "戊", "丁", "甲", "X"],
                     **{"楼面荷载(吨/平方米)": [1.2, 0.8, 2.0, 1.0, 1.5]})
    table = canonical_columns(frame, kind="parcels", project=project, name="parcels.gpkg")
    assert table.frame["ownership"].tolist()[:4] == ["state", "collective", "platform", "collective"]
    assert table.frame["fire_class"].tolist()[:4] == ["丙", "戊", "丁", "甲"]
    assert table.frame["floor_load_t_m2"].tolist() == [1.2, 0.8, 2.0, 1.0, 1.5]
    assert sorted((i.check, i.feature) for i in table.issues) == [("unknown_fire_class", "P5"), ("unknown_ownership", "P5")]
    message = next(i.message for i in table.issues if i.check == "unknown_ownership")
    assert "宅基地" in message and "土地权属" in message and "values.ownership" in message


def test_floor_load_in_kn_per_m2_converts_to_tonnes(tmp_path):
    from landkit.config.load import load_config

    project = load_config(overrides={"base_dir": str(tmp_path),
                                     "columns": {"parcels": {"floor_load_t_m2": {"column": "荷载", "unit": "kN/m2"}}}})
    frame = _parcels(荷载=[9.80665, 19.6133, 0, 4.903325, 12])
    table = canonical_columns(frame, kind="parcels", project=project, name="parcels.gpkg")
    assert table.frame["floor_load_t_m2"].round(6).tolist()[:4] == [1.0, 2.0, 0.0, 0.5]


def test_blank_status_is_missing_without_an_issue(project):
    frame = _parcels(土地状态=["在产", "", " ", "闲置", "在建"])
    table = canonical_columns(frame, kind="parcels", project=project, name="p")
    assert pd.isna(table.frame["status"].iloc[1]) and pd.isna(table.frame["status"].iloc[2])
    assert table.issues == []


def test_yes_no_map_to_booleans(project):
    frame = _enterprises(高新技术企业=["是", "否", "也许"])
    table = canonical_columns(frame, kind="enterprises", project=project, name="e")
    high_tech = table.frame["high_tech"]
    assert high_tech.iloc[0] is True or high_tech.iloc[0] == True  # noqa: E712 (pandas BooleanDtype)
    assert high_tech.iloc[1] == False  # noqa: E712
    assert pd.isna(high_tech.iloc[2])
    assert [(i.check, i.feature) for i in table.issues] == [("unknown_bool", "E03")]


def test_missing_required_column_names_it_and_lists_present(project):
    frame = pd.DataFrame({"统一社会信用代码": ["E01"], "企业名称": ["某公司"], "税收(万元)": ["1"]})
    with pytest.raises(InputError) as err:
        canonical_columns(frame, kind="enterprises", project=project, name="enterprises.csv")
    msg = str(err.value)
    assert "`parcel_id`" in msg and "enterprises.csv" in msg
    for present in ("统一社会信用代码", "企业名称", "税收(万元)"):
        assert present in msg


def test_optional_column_absent_is_fine(project):
    table = canonical_columns(_enterprises(), kind="enterprises", project=project, name="e")
    assert "energy_tce" not in table.frame.columns
    assert list(table.frame.columns) == ["enterprise_id", "parcel_id"]


def test_explicitly_mapped_optional_column_absent_raises(tmp_path):
    config = tmp_path / "landkit.yaml"
    config.write_text("columns:\n  enterprises:\n    energy_tce: 综合能耗(吨)\n", encoding="utf-8")
    project = load_config(config)
    with pytest.raises(InputError) as err:
        canonical_columns(_enterprises(), kind="enterprises", project=project, name="enterprises.csv")
    msg = str(err.value)
    assert "`energy_tce`" in msg and "综合能耗(吨)" in msg


def test_names_form_of_a_column_mapping_is_used(tmp_path):
    config = tmp_path / "landkit.yaml"
    config.write_text("columns:\n  enterprises:\n    tax_wan: {column: [税收(元)], unit: 元}\n", encoding="utf-8")
    frame = _enterprises(**{"税收(万元)": ["5", "6", "7"], "税收(元)": ["10000", "20000", "30000"]})
    table = canonical_columns(frame, kind="enterprises", project=load_config(config), name="e")
    assert table.frame["tax_wan"].tolist() == pytest.approx([1.0, 2.0, 3.0])


def test_names_key_of_a_column_mapping_is_used(tmp_path):
    config = tmp_path / "landkit.yaml"
    config.write_text("columns:\n  enterprises:\n    tax_wan: {names: [税收(元)], unit: 元}\n", encoding="utf-8")
    frame = _enterprises(**{"税收(万元)": ["5", "6", "7"], "税收(元)": ["10000", "20000", "30000"]})
    table = canonical_columns(frame, kind="enterprises", project=load_config(config), name="e")
    # 10,000 元 = 1 万元, read from 税收(元) as the project says (not 5 万元 × 10⁻⁴ from 税收(万元))
    assert table.frame["tax_wan"].tolist() == pytest.approx([1.0, 2.0, 3.0])


def test_first_present_candidate_wins(project):
    frame = pd.DataFrame({"宗地编号": ["Z1"], "地块代码": ["D1"], "用地性质": ["M1"]})
    table = canonical_columns(frame, kind="parcels", project=project, name="p")
    # default candidates: 地块编号, 地块代码, 宗地编号, ... → 地块代码 comes first
    assert table.frame["parcel_id"].tolist() == ["D1"]


def test_geometry_is_kept(parcels, project):
    raw = parcels.rename(columns={"parcel_id": "地块编号", "land_use": "用地性质", "status": "土地状态"})
    raw["土地状态"] = ["在产", "在产", "闲置", "在产", "在建"]
    table = canonical_columns(raw, kind="parcels", project=project, name="p")
    assert isinstance(table.frame, gpd.GeoDataFrame)
    assert table.frame.crs == parcels.crs
    assert table.frame.geometry.equals(parcels.geometry)


# --- (d) input errors ----------------------------------------------------------------------------


def test_wrong_layer_in_multi_layer_geopackage_lists_layers(tmp_path, project, parcels):
    path = tmp_path / "data.gpkg"
    parcels.to_file(path, layer="地块", driver="GPKG")
    parcels.head(1).to_file(path, layer="区块", driver="GPKG")
    with pytest.raises(InputError) as err:
        read_vector(Source(path="data.gpkg", layer="parcel"), kind="parcels", project=project)
    msg = str(err.value)
    assert "parcel" in msg and "data.gpkg" in msg
    assert "地块" in msg and "区块" in msg


def test_multi_layer_geopackage_without_layer_asks_for_one(tmp_path, project, parcels):
    path = tmp_path / "data.gpkg"
    parcels.to_file(path, layer="地块", driver="GPKG")
    parcels.head(1).to_file(path, layer="区块", driver="GPKG")
    with pytest.raises(InputError, match="layer"):
        read_vector(Source(path="data.gpkg"), kind="parcels", project=project)
    gdf = read_vector(Source(path="data.gpkg", layer="地块"), kind="parcels", project=project)
    assert gdf["parcel_id"].tolist() == parcels["parcel_id"].tolist()


def test_missing_file_names_the_path(tmp_path, project):
    with pytest.raises(InputError) as err:
        read_vector(Source(path="nowhere/parcels.gpkg"), kind="parcels", project=project)
    assert str(tmp_path / "nowhere" / "parcels.gpkg") in str(err.value)
    with pytest.raises(InputError) as err:
        read_table(Source(path="企业.xlsx"), kind="enterprises", project=project)
    assert str(tmp_path / "企业.xlsx") in str(err.value)


def test_xls_workbook_is_a_clear_error(tmp_path, project):
    (tmp_path / "enterprises.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(InputError) as err:
        read_table(Source(path="enterprises.xls"), kind="enterprises", project=project)
    msg = str(err.value)
    assert "enterprises.xls" in msg and ".xlsx" in msg


def test_unknown_table_format_is_an_error(tmp_path, project):
    (tmp_path / "enterprises.ods").write_bytes(b"PK")
    with pytest.raises(InputError, match=r"\.csv or \.xlsx"):
        read_table(Source(path="enterprises.ods"), kind="enterprises", project=project)


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".geojson", "GeoJSON"), (".gdb", "OpenFileGDB")],
)
def test_parcels_from_every_vector_format(tmp_path, suffix, driver):
    """The same layer from GeoPackage, shapefile, GeoJSON and FileGDB reads to the same canonical parcels."""
    import shapely

    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset

    working = load_config().crs.working
    layer = gpd.GeoDataFrame(
        {"地块编号": ["A1", "A2"], "用地性质": ["M1", "C65"], "建筑面积": [1200.0, 3000.0]},
        geometry=[shapely.box(500_000, 3_430_000, 500_040, 3_430_050), shapely.box(500_100, 3_430_000, 500_130, 3_430_030)],
        crs=working,
    ).to_crs("EPSG:4490")
    path = tmp_path / f"parcels{suffix}"
    extra = {"encoding": "GBK"} if driver == "ESRI Shapefile" else {}
    pyogrio.write_dataframe(layer, path, driver=driver, layer="parcels", **extra)
    project = load_config(overrides={"inputs": {"parcels": {"path": str(path)}}})
    data = load_dataset(project)
    assert list(data.parcels["parcel_id"]) == ["A1", "A2"]
    assert list(data.parcels["land_use"]) == ["M1", "C65"]
    assert data.parcels["area_m2"].tolist() == pytest.approx([2000.0, 900.0], rel=1e-6)
