"""Spreadsheets landkit writes: text from data never becomes a formula (OWASP CSV injection), the
workbook reads well (widths from content, print setup) and Chinese outputs show Chinese values.

Issue 14, items 1 and 10.
"""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.deliver.labels import COLUMNS, header, labels_for, value_labels
from landkit.deliver.workbook import column_width, defused, text_width, write_csv, write_excel

WORKING = load_config().crs.working


@pytest.fixture(autouse=True, params=["rust", "xlsxwriter"])
def workbook_engine(request, monkeypatch):
    """Run every test with both workbook writers: rustpy-xlsxwriter, and XlsxWriter (the fallback)."""
    monkeypatch.setitem(write_excel.__kwdefaults__, "engine", request.param)
    return request.param

#: Text an attacker (or a careless clerk) puts in a name or id, one per first character.
HOSTILE = [
    '=HYPERLINK("http://evil.example/x","点击")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]
IDS = ["=MH-001", "+MH-002", "-MH-003", "@MH-004", "\tMH-005", "\rMH-006", "=1+1"]


def hostile_table() -> gpd.GeoDataFrame:
    n = len(HOSTILE)
    return gpd.GeoDataFrame(
        {
            "parcel_id": IDS,
            "enterprise_names": HOSTILE,
            "tax_wan": [-5.5, 0.0, 12.25, -0.001, 3.0, 4.0, 1e6],
            "employees": [-3, 1, 2, 3, 4, 5, 6],
            "status": ["operating", "idle", "stopped", "construction", "unsupplied", "operating", "idle"],
        },
        geometry=[shapely.box(500_000 + 10 * i, 3_430_000, 500_005 + 10 * i, 3_430_005) for i in range(n)],
        crs=WORKING,
    )


def cells(path):
    """Every (sheet, cell) of a workbook, header row included."""
    book = load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws, cell


def column(ws, heading: str, text: bool = False) -> list:
    """The values under a header (``text``: the first such column holding text; English labels
    give enterprise_count and enterprise_names the same header, "Enterprises")."""
    headers = [c.value for c in ws[1]]
    for i, value in enumerate(headers):
        if value != heading:
            continue
        values = [row[i].value for row in ws.iter_rows(min_row=2)]
        if not text or any(isinstance(v, str) for v in values):
            return values
    raise ValueError(heading)


def read_csv_rows(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


# --- formula injection ---------------------------------------------------------------------------


def test_workbook_writes_hostile_text_as_text(tmp_path):
    path = write_excel(tmp_path / "x.xlsx", {"地块": hostile_table()}, COLUMNS)
    formulas = [(ws.title, c.coordinate, c.value) for ws, c in cells(path) if c.data_type == "f"]
    assert formulas == []
    ws = load_workbook(path)["地块"]
    # openpyxl leaves Excel's _x000D_ escape of a carriage return as it is; Excel reads it back as CR
    assert [unescape(v) for v in column(ws, "企业名称")] == HOSTILE
    assert [unescape(v) for v in column(ws, "地块编号")] == IDS
    first = {c.value: c for c in ws["B"][1:]}
    assert first[HOSTILE[0]].data_type == "s" and first[HOSTILE[0]].quotePrefix  # Excel keeps it text when edited
    # numbers stay numbers, negative ones too
    assert column(ws, "税收(万元)")[:4] == [-5.5, 0.0, 12.25, -0.001]
    assert column(ws, "从业人员(人)")[0] == -3
    assert all(c.data_type == "n" for c in ws["C"][1:])


def test_workbook_writes_urls_and_array_formulas_as_text(tmp_path):
    table = pd.DataFrame({"enterprise_names": ["http://evil.example/a", "mailto:x@example.com", "{=1+1}", "external:c:\\x.xlsx"]})
    path = write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS)
    ws = load_workbook(path)["s"]
    assert column(ws, "企业名称") == list(table["enterprise_names"])
    assert not ws._hyperlinks and all(c.hyperlink is None for c in ws["A"])
    assert all(c.data_type == "s" for c in ws["A"])


def test_csv_prefixes_hostile_text_and_leaves_numbers(tmp_path):
    path = write_csv(tmp_path / "x.csv", hostile_table(), COLUMNS)
    rows = read_csv_rows(path)
    head = rows[0]
    names = [r[head.index("企业名称")] for r in rows[1:]]
    ids = [r[head.index("地块编号")] for r in rows[1:]]
    assert names == ["'" + t for t in HOSTILE]
    assert ids == ["'" + t for t in IDS]
    assert [r[head.index("税收(万元)")] for r in rows[1:]][:4] == ["-5.5", "0.0", "12.25", "-0.001"]
    assert rows[1][head.index("从业人员(人)")] == "-3"


def test_csv_leaves_ordinary_text_alone():
    assert defused("上海闵芯智能科技有限公司") == "上海闵芯智能科技有限公司"
    assert defused("MH-001") == "MH-001"
    assert defused(" =1") == " =1"
    assert defused(-3.5) == -3.5
    assert defused(None) is None
    for start in "=+-@\t\r":
        assert defused(start + "x") == "'" + start + "x"


def test_hostile_headers_are_text_too(tmp_path):
    table = pd.DataFrame({"=evil()": ["a"], "tax_wan": [1.0]})
    path = write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS)
    assert all(c.data_type != "f" for _, c in cells(path))
    assert load_workbook(path)["s"]["A1"].value == "=evil()"
    assert read_csv_rows(write_csv(tmp_path / "x.csv", table, COLUMNS))[0][0] == "'=evil()"


# --- readability --------------------------------------------------------------------------------


def test_text_width_counts_cjk_double():
    assert text_width("abc") == 3
    assert text_width("上海") == 4
    assert text_width("ＡＢ") == 4  # full-width forms


def test_column_widths_follow_the_content(tmp_path):
    long_name = "上海闵行经济技术开发区某某高端智能装备制造股份有限公司"
    table = pd.DataFrame({
        "parcel_id": ["MH-001", "MH-002"],
        "enterprise_names": ["小厂", long_name],
        "reasons_en": ["x" * 500, "short"],
        "tax_wan": [1.0, 2.0],
    })
    path = write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS)
    widths = {k: v.width for k, v in load_workbook(path)["s"].column_dimensions.items()}
    header_only = text_width("企业名称") + 2
    assert widths["B"] > header_only
    assert widths["B"] >= text_width(long_name)  # the long Chinese name is not cut
    assert widths["B"] > widths["A"]
    assert widths["C"] <= 61  # capped (XlsxWriter adds its padding)
    assert column_width("企业名称", pd.Series([long_name])) > column_width("企业名称", pd.Series(["小厂"]))
    assert column_width("Name", pd.Series(["x" * 1000])) == 60


def test_every_sheet_prints_landscape_one_page_wide_with_the_header_repeated(tmp_path):
    path = write_excel(tmp_path / "x.xlsx", {"一": hostile_table(), "二": pd.DataFrame({"a": [1]})}, COLUMNS)
    book = load_workbook(path)
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # as many pages long as it needs
        assert ws.print_title_rows == "$1:$1"
        assert ws.freeze_panes == "A2"


# --- Chinese values under Chinese headers -------------------------------------------------------


def coded_table() -> pd.DataFrame:
    return pd.DataFrame({
        "status": ["operating", "idle", "stopped", "construction", "unsupplied", None],
        "track": ["large", "small", "large", "small", None, "large"],
        "grade_basis": ["rank", "score", "direct", "", "rank", "rank"],
        "compensation_basis": ["none", "residual", "reduction", "", None, "none"],
        "list_basis": ["C", "D", "IDLE", "", "C", "D"],
        "kpi": ["rd_share", "labour_productivity_wan", "high_tech_firms", "rd_share", "rd_share", "rd_share"],
        "low_efficiency": [True, False, True, False, True, False],
        "met": [True, False, None, True, True, False],
        "tax_wan": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })


ZH = {
    "土地状态": ["在产", "闲置", "停产", "在建", "未供应", None],
    "评价分组": ["规上企业用地", "规下企业用地", "规上企业用地", "规下企业用地", None, "规上企业用地"],
    "定级方式": ["按排名", "按分数", "直接定级", None, "按排名", "按排名"],
    "补偿方式": ["无偿", "土地及建筑物残值", "减量化标准", None, None, "无偿"],
    "列入依据": ["C类", "D类", "闲置土地", None, "C类", "D类"],
    "指标": ["研发经费支出占营业收入比重", "劳动生产率(人均增加值)", "有效期内高新技术企业", "研发经费支出占营业收入比重",
           "研发经费支出占营业收入比重", "研发经费支出占营业收入比重"],  # the plan's wording (landkit.assess.kpis.KPIS)
    "列入低效用地清单": ["是", "否", "是", "否", "是", "否"],
    "是否达标": ["是", "否", None, "是", "是", "否"],
}


def test_chinese_workbook_shows_chinese_values(tmp_path):
    path = write_excel(tmp_path / "x.xlsx", {"s": coded_table()}, COLUMNS)
    ws = load_workbook(path)["s"]
    for heading, expected in ZH.items():
        assert column(ws, heading) == expected, heading
    assert column(ws, "税收(万元)") == [1, 2, 3, 4, 5, 6]
    assert not any(c.data_type == "b" for _, c in cells(path))  # no TRUE/FALSE


def test_chinese_csv_shows_chinese_values(tmp_path):
    rows = read_csv_rows(write_csv(tmp_path / "x.csv", coded_table(), COLUMNS))
    head = rows[0]
    for heading, expected in ZH.items():
        assert [r[head.index(heading)] for r in rows[1:]] == [v or "" for v in expected], heading


def test_english_outputs_keep_the_codes_with_yes_no(tmp_path):
    table = coded_table()
    ws = load_workbook(write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS, lang="en"))["s"]
    assert column(ws, "Status") == [*table["status"][:5], None]
    assert column(ws, "Track") == [*table["track"][:4], None, "large"]
    assert column(ws, "KPI") == list(table["kpi"])
    assert column(ws, "On the low-efficiency list") == ["yes", "no", "yes", "no", "yes", "no"]
    assert column(ws, "Met") == ["yes", "no", None, "yes", "yes", "no"]
    rows = read_csv_rows(write_csv(tmp_path / "x.csv", table, COLUMNS, lang="en"))
    assert [r[rows[0].index("Status")] for r in rows[1:]][:5] == list(table["status"][:5])
    assert [r[rows[0].index("Met")] for r in rows[1:]] == ["yes", "no", "", "yes", "yes", "no"]


def test_project_tracks_are_passed_as_values(tmp_path):
    project = load_config(overrides={"assessment": {"tracks": [
        {"name": "hightech", "label_zh": "高新技术企业用地", "label_en": "High-tech", "weights": {"tax_per_mu": 100}}]}})
    values = value_labels(project)
    assert values["track"] == {"hightech": "高新技术企业用地"}
    table = pd.DataFrame({"track": ["hightech", "other"]})
    ws = load_workbook(write_excel(tmp_path / "x.xlsx", {"s": table}, labels_for(project), values=values))["s"]
    assert column(ws, "评价分组") == ["高新技术企业用地", "other"]
    rows = read_csv_rows(write_csv(tmp_path / "x.csv", table, labels_for(project), values=values))
    assert [r[0] for r in rows[1:]] == ["高新技术企业用地", "other"]
    assert value_labels(project, "en") == {}


def test_translation_does_not_touch_the_callers_frame(tmp_path):
    table = coded_table()
    before = table.copy()
    write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS)
    write_csv(tmp_path / "x.csv", table, COLUMNS)
    pd.testing.assert_frame_equal(table, before)


# --- a whole run ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A small run whose enterprise names and parcel ids start with = + - @."""
    folder = tmp_path_factory.mktemp("hostile")
    ids = ["=MH-001", "+MH-002", "-MH-003", "@MH-004", "MH-005", "MH-006"]
    names = ['=HYPERLINK("http://evil.example/x","点击")', "+SUM(1,2)", "-2+3", "@SUM(A1:A2)",
             "=cmd|' /C calc'!A0", "上海闵行经济技术开发区某某高端智能装备制造股份有限公司"]
    geoms = [shapely.box(500_000 + 120 * i, 3_430_000, 500_100 + 120 * i, 3_430_080) for i in range(len(ids))]
    parcels = gpd.GeoDataFrame(
        {
            "地块编号": ids,
            "用地性质": ["M1"] * 6,
            "土地状态": ["在产", "在产", "在产", "在产", "闲置", "在产"],
            "出让年份": [2005, 2006, 2010, 2001, 2015, 2008],
            "到期年份": [2055, 2056, 2060, 2051, 2035, 2058],
            "投产年份": [2007, 2008, 2012, 2003, None, 2010],
            "建筑面积": [12000.0, 6000.0, 20000.0, 3000.0, 0.0, 9000.0],
            "基底面积": [4000.0, 3000.0, 5000.0, 2000.0, 0.0, 3500.0],
        },
        geometry=geoms, crs=WORKING,
    ).to_crs("EPSG:4490")
    parcels["投产年份"] = parcels["投产年份"].astype("Int64")
    pyogrio.write_dataframe(parcels, folder / "parcels.gpkg", layer="parcels")
    enterprises = pd.DataFrame({
        "统一社会信用代码": [f"91310112000000000{i}" for i in range(6)],
        "企业名称": names,
        "地块编号": ids,
        "行业": ["高端装备", "生物医药", "研发服务", "传统制造", "高端装备", "高端装备"],
        "税收(万元)": [800, 300, 900, 20, 50, 400],
        "营业收入(万元)": [15000, 6000, 9000, 800, 1200, 8000],
        "工业增加值(万元)": [4000, 1500, 3000, 200, 300, 2000],
        "从业人员(人)": [300, 120, 200, 40, 30, 100],
        "研发投入(万元)": [600, 500, 1500, 10, 40, 300],
        "综合能耗(吨标准煤)": [2000, 500, 300, 400, 100, 300],
        "用电量(万千瓦时)": [1000, 250, 150, 200, 50, 150],
        "排放当量(吨)": [4.0, 1.0, 0.5, 2.0, 0.4, 1.0],
        "高新技术企业": ["是", "是", "是", "否", "否", "是"],
        "成立年份": [2005, 2006, 2010, 2001, 2003, 2008],
    })
    enterprises.to_csv(folder / "enterprises.csv", index=False, encoding="utf-8-sig")
    (folder / "landkit.yaml").write_text(
        "year: 2025\ninputs:\n  parcels: {path: parcels.gpkg}\n  enterprises: {path: enterprises.csv}\n", encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(cli, ["assess", "-c", str(folder / "landkit.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, ids, names


def test_run_workbook_has_no_formula_and_chinese_values(hostile_run):
    out, ids, _ = hostile_run
    path = out / "inventory.xlsx"
    assert [(ws.title, c.coordinate) for ws, c in cells(path) if c.data_type == "f"] == []
    assert not any(c.data_type == "b" for _, c in cells(path))
    ws = load_workbook(path)["分级清单"]
    assert set(column(ws, "地块编号")) <= set(ids) and len(column(ws, "地块编号")) > 0
    assert set(column(ws, "评价分组")) <= {"规上企业用地", "规下企业用地"}
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    every = {c.value for _, c in cells(path)}
    assert set(ids) <= every
    assert not every & {"operating", "idle", "rank", "score", "large", "small"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_command_writes_safe_xlsx_and_csv(hostile_run, tmp_path, lang):
    out, ids, names = hostile_run
    xlsx, table = tmp_path / "x.xlsx", tmp_path / "x.csv"
    for target in (xlsx, table):
        result = CliRunner().invoke(cli, ["export", str(out), "--layer", "parcels", "-o", str(target), "--lang", lang])
        assert result.exit_code == 0, result.output
    assert [c.coordinate for _, c in cells(xlsx) if c.data_type == "f"] == []
    ws = load_workbook(xlsx).active
    id_head, name_head, status_head = ("地块编号", "企业名称", "土地状态") if lang == "zh" else ("Parcel id", "Enterprises", "Status")
    assert column(ws, id_head) == ids
    assert column(ws, name_head, text=True) == names
    assert set(column(ws, status_head)) == ({"在产", "闲置"} if lang == "zh" else {"operating", "idle"})
    rows = read_csv_rows(table)
    head = rows[0]
    assert [r[head.index(id_head)] for r in rows[1:]] == [defused(i) for i in ids]
    at = [i for i, h in enumerate(head) if h == name_head][-1]  # enterprise_names comes after enterprise_count
    assert [r[at] for r in rows[1:]] == [defused(n) for n in names]
    area = head.index(header("area_m2", COLUMNS, lang))  # numbers: never prefixed
    assert all(not r[area].startswith("'") and float(r[area]) > 0 for r in rows[1:])
    flags = [r[head.index("参评" if lang == "zh" else "Graded")] for r in rows[1:]]
    assert set(flags) <= ({"是", "否"} if lang == "zh" else {"yes", "no"})


def test_nan_is_blank_and_integers_keep_their_format(tmp_path):
    table = pd.DataFrame({"tax_wan": [np.nan, 1.5], "employees": pd.array([None, 3], dtype="Int64")})
    ws = load_workbook(write_excel(tmp_path / "x.xlsx", {"s": table}, COLUMNS))["s"]
    assert ws["A2"].value is None and ws["A3"].value == 1.5 and ws["A3"].number_format == "#,##0.00"
    assert ws["B2"].value is None and ws["B3"].value == 3
