"""Spreadsheets as government offices send them: title rows above the header, two-row merged
headers, ``header_row:``, and dates in year columns.

Issue 14, item 8. Workbooks are built with openpyxl (which writes merged ranges as Excel does) and
read back through :func:`landkit.io.read.read_input`, as a project reads them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from landkit.config.load import load_config
from landkit.config.models import Source
from landkit.core.errors import ConfigError, InputError
from landkit.data.validate import check_parcel_values
from landkit.io.read import canonical_columns, read_input, read_table

TITLE = "闵行区2025年企业名录"


def _workbook(path: Path, rows: list[list[object]], merges: tuple[str, ...] = (), sheet: str = "企业") -> Path:
    """Write ``rows`` (row 1 first) to ``sheet`` of a new workbook, merging the given ranges."""
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    book.save(path)
    return path


def _project(folder: Path, source: dict, columns: dict | None = None):
    overrides = {"base_dir": str(folder), "inputs": {"enterprises": source}}
    if columns:
        overrides["columns"] = {"enterprises": columns}
    return load_config(overrides=overrides)


DATA = [
    ["00123", "闵-0001", 3000, 120.5],
    ["00456", "闵-0002", 1500, 60],
]
HEADER = ["统一社会信用代码", "地块编号", "营业收入(万元)", "税收(万元)"]


# --- title rows above the header ------------------------------------------------------------------


@pytest.mark.parametrize(
    "above",
    [
        [[TITLE]],  # a title
        [[TITLE], []],  # a title and a blank row
        [[TITLE], ["单位：万元"]],  # a title and a unit note
        [[], [TITLE, None, None, "制表：区经委"], ["单位：万元"]],  # blank first row; two cells of notes
    ],
    ids=["title", "title-blank", "title-unit", "notes"],
)
def test_title_rows_above_the_header_are_skipped(tmp_path, above, caplog):
    _workbook(tmp_path / "e.xlsx", [*above, HEADER, *DATA], merges=("A1:D1",) if above[0] else ())
    project = _project(tmp_path, {"path": "e.xlsx", "sheet": "企业"})
    with caplog.at_level(logging.INFO, logger="landkit.io.read"):
        table = read_input("enterprises", project)
    assert table.issues == []
    assert table.frame["enterprise_id"].tolist() == ["00123", "00456"]
    assert table.frame["parcel_id"].tolist() == ["闵-0001", "闵-0002"]
    assert table.frame["revenue_wan"].tolist() == [3000.0, 1500.0]
    assert table.frame["tax_wan"].tolist() == [120.5, 60.0]
    row = len(above) + 1
    assert f"header in row {row} (found by its column names)" in caplog.text


def test_title_rows_above_the_header_no_longer_give_a_wrong_diagnosis(tmp_path):
    """Was: "no column for `enterprise_id` … columns present: 闵行区2025年企业名录 … map it under columns…"."""
    _workbook(tmp_path / "e.xlsx", [[TITLE], ["单位：万元"], HEADER, *DATA, ["00789", "", 1, 1]])
    table = read_input("enterprises", _project(tmp_path, {"path": "e.xlsx"}))
    assert table.frame["enterprise_id"].tolist() == ["00123", "00456", "00789"]  # no row lost, none of the title
    assert TITLE not in table.frame.to_numpy().ravel().tolist()


def test_a_header_of_unknown_names_below_a_title_is_the_one_reported(tmp_path):
    """No row holds two known names: the first row with two filled cells is the header, and the
    error names its real columns (not the title) and where the header was read."""
    _workbook(tmp_path / "e.xlsx", [[TITLE], [], ["代码", "地块", "收入"], ["E1", "P1", 1]])
    with pytest.raises(InputError) as err:
        read_input("enterprises", _project(tmp_path, {"path": "e.xlsx"}))
    msg = str(err.value)
    assert "columns present: 代码, 地块, 收入" in msg and TITLE not in msg
    assert "header read from row 3" in msg and "header_row" in msg
    assert "if 代码 holds it, map it: columns.enterprises.enterprise_id: [代码]" in msg  # 代码 is like 企业代码


def test_mapped_names_identify_the_header(tmp_path):
    """The project's own names count as known names when looking for the header."""
    _workbook(tmp_path / "e.xlsx", [[TITLE], ["说明：本表由各镇填报"], ["代码", "地块", "收入"], ["E1", "P1", 7]])
    project = _project(tmp_path, {"path": "e.xlsx"},
                       {"enterprise_id": "代码", "parcel_id": "地块", "revenue_wan": {"column": "收入", "unit": "万元"}})
    table = read_input("enterprises", project)
    assert table.frame["enterprise_id"].tolist() == ["E1"] and table.frame["revenue_wan"].tolist() == [7.0]


# --- header_row --------------------------------------------------------------------------------------


def test_header_row_overrides_the_search(tmp_path, caplog):
    """Row 1 is a legend holding known names, so the search would take it: header_row: 3 says otherwise."""
    rows = [["图例：", "地块编号", "企业名称"], [], HEADER, *DATA]
    _workbook(tmp_path / "e.xlsx", rows)
    found = read_table(Source(path="e.xlsx"), kind="enterprises", project=_project(tmp_path, {"path": "e.xlsx"}))
    assert list(found.columns) == ["图例：", "地块编号", "企业名称", "column_4"]  # what the search alone gives
    project = _project(tmp_path, {"path": "e.xlsx", "sheet": "企业", "header_row": 3})
    assert project.inputs.enterprises.header_row == 3
    with caplog.at_level(logging.INFO, logger="landkit.io.read"):
        table = read_input("enterprises", project)
    assert table.issues == [] and table.frame["enterprise_id"].tolist() == ["00123", "00456"]
    assert "header in row 3 (as header_row says); rows 1–2 above it skipped" in caplog.text


def test_header_row_in_a_csv(tmp_path):
    (tmp_path / "e.csv").write_text("图例：,地块编号,企业名称\n统一社会信用代码,地块编号\nE1,P1\n", encoding="utf-8")
    table = read_input("enterprises", _project(tmp_path, {"path": "e.csv", "header_row": 2}))
    assert table.frame["enterprise_id"].tolist() == ["E1"] and table.frame["parcel_id"].tolist() == ["P1"]


def test_header_row_beyond_the_sheet_or_empty(tmp_path):
    _workbook(tmp_path / "e.xlsx", [HEADER, [], DATA[0]])
    with pytest.raises(InputError, match=r"header_row 9 is beyond the last row \(3\)"):
        read_input("enterprises", _project(tmp_path, {"path": "e.xlsx", "header_row": 9}))
    with pytest.raises(InputError, match="header_row 2 is an empty row"):
        read_input("enterprises", _project(tmp_path, {"path": "e.xlsx", "header_row": 2}))


def test_header_row_must_be_a_row_number(tmp_path):
    with pytest.raises(ConfigError):
        _project(tmp_path, {"path": "e.xlsx", "header_row": 0})


def test_a_wrong_header_row_is_named_in_the_error(tmp_path):
    _workbook(tmp_path / "e.xlsx", [[TITLE], HEADER, *DATA])
    with pytest.raises(InputError) as err:
        read_input("enterprises", _project(tmp_path, {"path": "e.xlsx", "header_row": 3}))
    assert "header read from row 3, as header_row says" in str(err.value)


# --- two-row headers ---------------------------------------------------------------------------------


def _two_row_workbook(path: Path) -> Path:
    """Row 1 title; rows 2–3 the header: single columns merged down, 税收 merged across two."""
    rows = [
        [TITLE],
        ["统一社会信用代码", "地块编号", "营业收入(万元)", "税收", None, "从业人员(人)"],
        [None, None, None, "增值税", "所得税", None],
        ["00123", "闵-0001", 3000, 80, 40.5, 85],
        ["00456", "闵-0002", 1500, 30, 30, 40],
    ]
    merges = ("A1:F1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:F3")
    return _workbook(path, rows, merges)


def test_calamine_reads_a_merged_range_in_its_top_left_cell(tmp_path):
    """What the two-row rule relies on: the other cells of a merged range read empty."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(_two_row_workbook(tmp_path / "e.xlsx"))).get_sheet_by_name("企业")
    rows = sheet.to_python(skip_empty_area=False)
    assert rows[1][3:5] == ["税收", ""] and rows[2][:3] == ["", "", ""] and rows[2][3:5] == ["增值税", "所得税"]
    assert ((1, 3), (1, 4)) in sheet.merged_cell_ranges


def test_two_row_header_is_flattened(tmp_path, caplog):
    _two_row_workbook(tmp_path / "e.xlsx")
    project = _project(tmp_path, {"path": "e.xlsx"})
    with caplog.at_level(logging.INFO, logger="landkit.io.read"):
        frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    assert list(frame.columns) == ["统一社会信用代码", "地块编号", "营业收入(万元)", "税收/增值税", "税收/所得税", "从业人员(人)"]
    assert frame["统一社会信用代码"].tolist() == ["00123", "00456"]  # the sub-header row is not data
    assert "header in rows 2–3, flattened to 上级/下级 names" in caplog.text
    # 税收 is a default name of tax_wan, now split in two: say which name to map.
    assert "the header 税收 spans 税收/增值税, 税收/所得税" in caplog.text


def test_two_row_header_mapped_by_its_flattened_name(tmp_path):
    _two_row_workbook(tmp_path / "e.xlsx")
    project = _project(tmp_path, {"path": "e.xlsx", "sheet": "企业"}, {"tax_wan": {"column": "税收/增值税", "unit": "万元"}})
    table = read_input("enterprises", project)
    assert table.issues == []
    assert table.frame["enterprise_id"].tolist() == ["00123", "00456"]
    assert table.frame["tax_wan"].tolist() == [80.0, 30.0]
    assert table.frame["revenue_wan"].tolist() == [3000.0, 1500.0]  # merged down: keeps its one name
    assert table.frame["employees"].tolist() == [85.0, 40.0]


def test_two_row_header_without_merges(tmp_path):
    """A workbook saved without its merges (or a CSV) repeats or leaves empty the group cells."""
    rows = [
        ["统一社会信用代码", "地块编号", "税收", "税收", "营业收入(万元)", None],
        [None, None, "增值税", "所得税", "2023年", "2024年"],
        ["00123", "闵-0001", 80, 40, 3000, 3200],
    ]
    _workbook(tmp_path / "e.xlsx", rows)
    project = _project(tmp_path, {"path": "e.xlsx"}, {"revenue_wan": {"column": "营业收入(万元)/2024年", "unit": "万元"}})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    assert list(frame.columns) == ["统一社会信用代码", "地块编号", "税收/增值税", "税收/所得税",
                                   "营业收入(万元)/2023年", "营业收入(万元)/2024年"]
    assert read_input("enterprises", project).frame["revenue_wan"].tolist() == [3200.0]


def test_years_under_a_merged_group_are_sub_headers(tmp_path):
    rows = [["统一社会信用代码", "地块编号", "营业收入(万元)", None], [None, None, 2023, 2024], ["E1", "P1", 10, 12]]
    _workbook(tmp_path / "e.xlsx", rows, merges=("A1:A2", "B1:B2", "C1:D1"))
    project = _project(tmp_path, {"path": "e.xlsx"})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    assert list(frame.columns)[2:] == ["营业收入(万元)/2023", "营业收入(万元)/2024"]
    assert frame["统一社会信用代码"].tolist() == ["E1"]


def test_two_row_header_in_a_csv(tmp_path):
    text = f"{TITLE},,,\n统一社会信用代码,地块编号,税收,\n,,增值税,所得税\n00123,闵-0001,80,40\n"
    (tmp_path / "e.csv").write_text(text, encoding="utf-8")
    project = _project(tmp_path, {"path": "e.csv"}, {"tax_wan": {"column": "税收/所得税"}})
    table = read_input("enterprises", project)
    assert table.frame["enterprise_id"].tolist() == ["00123"] and table.frame["tax_wan"].tolist() == [40.0]


@pytest.mark.parametrize(
    "rows, merges",
    [
        # A header cell merged across two data columns (备注 over D:E), data right below.
        ([[*HEADER[:3], "备注", None], ["00123", "闵-0001", 3000, "已核实", "2024年"]], ("D1:E1",)),
        # The same without the merge: an unnamed last column, text below it.
        ([[*HEADER[:3], "备注", None], ["00123", "闵-0001", 3000, "已核实", "补充"]], ()),
        # Repeated names over data: the first data row holds numbers.
        ([["统一社会信用代码", "地块编号", "税收", "税收"], ["", "", 80, 40]], ()),
    ],
    ids=["merged-over-data", "unnamed-column", "numbers-below"],
)
def test_a_data_row_is_never_taken_for_a_second_header_row(tmp_path, rows, merges):
    _workbook(tmp_path / "e.xlsx", rows, merges)
    project = _project(tmp_path, {"path": "e.xlsx"})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    assert list(frame.columns)[:2] == ["统一社会信用代码", "地块编号"]
    assert len(frame) == 1  # the row is data
    assert not any("/" in c for c in frame.columns)


# --- dates in year columns -------------------------------------------------------------------------


def _parcel_attributes(tmp_path: Path, start: list[object], end: list[object]) -> pd.DataFrame:
    rows = [["地块属性表"], ["地块编号", "用地性质", "出让年份", "到期年份"]]
    rows += [[f"P{i + 1}", "M1", s, e] for i, (s, e) in enumerate(zip(start, end, strict=True))]
    _workbook(tmp_path / "parcels.xlsx", rows, sheet="地块")
    project = load_config(overrides={"base_dir": str(tmp_path)})
    frame = read_table(Source(path="parcels.xlsx"), kind="parcels", project=project)
    return canonical_columns(frame, kind="parcels", project=project, name="parcels.xlsx")


def test_excel_dates_in_lease_years_give_their_year(tmp_path):
    start = [dt.date(2015, 6, 30), dt.datetime(2003, 1, 1, 9, 30), 2010, dt.date(2019, 12, 31)]
    end = [dt.date(2065, 6, 29), 2053, dt.datetime(2060, 5, 1), None]
    table = _parcel_attributes(tmp_path, start, end)
    assert table.issues == []
    assert table.frame["lease_start_year"].tolist() == [2015, 2003, 2010, 2019]
    assert table.frame["lease_end_year"].tolist()[:3] == [2065, 2053, 2060]
    assert pd.isna(table.frame["lease_end_year"].iloc[3])
    frame = gpd.GeoDataFrame(table.frame, geometry=[shapely.box(0, 0, 10, 10)] * 4)
    assert not [i for i in check_parcel_values(frame, sliver_area_m2=1) if i.check == "lease_years"]


@pytest.mark.parametrize(
    "text, year",
    [
        ("2015-06-30", 2015), ("2015/6/30", 2015), ("2015年6月", 2015), ("2015年6月30日", 2015),
        ("2015.06", 2015), ("2015.6", 2015), ("2015.12", 2015), ("2015年", 2015), (" 2015 ", 2015),
        ("2015-06-30 00:00:00", 2015), ("2015-06", 2015), ("2015", 2015), ("2015.0", 2015),
    ],
)
def test_text_dates_in_lease_years_give_their_year(tmp_path, text, year):
    table = _parcel_attributes(tmp_path, [text], ["2065-06-29"])
    assert table.issues == []
    assert table.frame["lease_start_year"].tolist() == [year]
    assert table.frame["lease_end_year"].tolist() == [2065]


@pytest.mark.parametrize("text", ["2015-13-01", "2015/2/30", "六月", "2015年13月", "15/6/30"])
def test_a_text_that_is_no_date_is_still_reported(tmp_path, text):
    table = _parcel_attributes(tmp_path, [text], [2065])
    assert [(i.check, i.feature) for i in table.issues] == [("non_numeric", "P1")]
    assert repr(text) in table.issues[0].message  # the cell as it was


def test_a_number_year_with_a_month_takes_the_whole_year(tmp_path):
    """2015.6 typed in a year cell is June 2015: the year is 2015, not 2016."""
    table = _parcel_attributes(tmp_path, [2015.6, 2015.06, 2015.1], [2065.9, 2065, 2065])
    assert table.frame["lease_start_year"].tolist() == [2015, 2015, 2015]
    assert table.frame["lease_end_year"].tolist() == [2065, 2065, 2065]


def test_dates_in_a_csv_year_column(tmp_path, make_project):
    frame = pd.DataFrame({"统一社会信用代码": ["E1", "E2", "E3"], "地块编号": ["P1", "P2", "P3"],
                          "成立年份": ["2008/3/15", "2011年", "2020-01-01"]})
    table = read_input("enterprises", make_project(tmp_path, enterprises=frame))
    assert table.issues == [] and table.frame["founded_year"].tolist() == [2008, 2011, 2020]


def test_an_excel_date_in_an_enterprise_year(tmp_path):
    _workbook(tmp_path / "e.xlsx", [[*HEADER[:2], "成立年份"], ["E1", "P1", dt.date(2008, 3, 15)], ["E2", "P2", 2011]])
    table = read_input("enterprises", _project(tmp_path, {"path": "e.xlsx"}))
    assert table.issues == [] and table.frame["founded_year"].tolist() == [2008, 2011]


def test_geopackage_date_fields_give_their_year(tmp_path, make_project, parcels):
    layer = parcels.drop(columns="expected_m2").assign(
        出让年份=pd.to_datetime(["2015-06-30", "2003-01-01", None, "2010-12-31", "1999-07-01"]),
        到期年份=pd.to_datetime(["2065-06-29", "2053-01-01", "2060-01-01", None, "2049-06-30"]),
    ).drop(columns=["status"])
    table = read_input("parcels", make_project(tmp_path, parcels=layer))
    assert table.issues == []
    assert table.frame["lease_start_year"].tolist()[:2] == [2015, 2003] and pd.isna(table.frame["lease_start_year"].iloc[2])
    assert table.frame["lease_end_year"].iloc[4] == 2049
    assert not [i for i in check_parcel_values(table.frame, sliver_area_m2=1) if i.check == "lease_years"]


# --- CSV ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", [f"{TITLE}\n", f"{TITLE},,,\n\n", f'"{TITLE}"\n单位：万元\n'], ids=["line", "commas-blank", "note"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_with_a_title_line(tmp_path, title, encoding, caplog):
    body = "统一社会信用代码,地块编号,营业收入(万元),税收(万元)\n00123,闵-0001,3000,120.5\n00456,闵-0002,\"1,500\",60\n"
    (tmp_path / "e.csv").write_bytes((title + body).encode(encoding))
    with caplog.at_level(logging.INFO, logger="landkit.io.read"):
        table = read_input("enterprises", _project(tmp_path, {"path": "e.csv"}))
    assert table.issues == []
    assert table.frame["enterprise_id"].tolist() == ["00123", "00456"]  # text: leading zeros kept
    assert table.frame["revenue_wan"].tolist() == [3000.0, 1500.0]
    row = title.count("\n") + 1
    assert f"header in row {row} (found by its column names)" in caplog.text


# --- ordinary sheets unchanged ------------------------------------------------------------------------


def test_an_ordinary_workbook_reads_as_before(tmp_path):
    data = pd.DataFrame({"统一社会信用代码": ["00123", "00456"], "企业名称": ["甲", "乙"], "地块编号": ["闵-0001", "闵-0002"],
                         "税收(万元)": [120.5, None], "备注": ["", "x"]}, dtype=object)
    data.to_excel(tmp_path / "e.xlsx", sheet_name="企业名单", index=False)
    project = _project(tmp_path, {"path": "e.xlsx"})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    assert list(frame.columns) == list(data.columns)
    assert frame["统一社会信用代码"].tolist() == ["00123", "00456"] and frame["税收(万元)"].tolist() == [120.5, ""]
    assert frame.attrs["header"] == {"row": 1, "rows": 1, "how": "names", "blank": []}
    table = read_input("enterprises", project)
    assert table.issues == [] and table.frame["tax_wan"].iloc[0] == 120.5


def test_an_ordinary_csv_reads_as_before(tmp_path):
    text = "统一社会信用代码,地块编号,地块编号,\n00123,P1,P9,x\n\n00456,P2,,\n"
    (tmp_path / "e.csv").write_text(text, encoding="utf-8")
    project = _project(tmp_path, {"path": "e.csv"})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    expected = pd.read_csv(tmp_path / "e.csv", dtype=str, keep_default_na=False, skipinitialspace=True)
    pd.testing.assert_frame_equal(frame, expected)


def test_an_ordinary_header_with_unknown_names_stays_the_first_row(tmp_path):
    (tmp_path / "e.csv").write_text("代码,地块\nE1,P1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_input("enterprises", _project(tmp_path, {"path": "e.csv"}))
    msg = str(err.value)
    assert "columns present: 代码, 地块; if 代码 holds it, map it: columns.enterprises.enterprise_id: [代码]" in msg


def test_repeated_excel_headers_are_made_unique(tmp_path):
    _workbook(tmp_path / "e.xlsx", [["统一社会信用代码", "地块编号", "备注", "备注"], ["E1", "P1", "a", "b"]])
    project = _project(tmp_path, {"path": "e.xlsx"})
    frame = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    # 备注, 备注 over a data row is no two-row header; the repeat is named as pandas names a CSV's.
    assert list(frame.columns) == ["统一社会信用代码", "地块编号", "备注", "备注.1"]
    assert np.array_equal(frame.to_numpy(), np.array([["E1", "P1", "a", "b"]], dtype=object))


def test_group_names_above_the_known_names_are_skipped(tmp_path):
    """基本情况 / 经济指标 merged over the real names: the row of known names is the header."""
    rows = [
        [TITLE],
        ["基本情况", None, "经济指标", None],
        HEADER,
        DATA[0],
    ]
    _workbook(tmp_path / "e.xlsx", rows, merges=("A1:D1", "A2:B2", "C2:D2"))
    table = read_input("enterprises", _project(tmp_path, {"path": "e.xlsx"}))
    assert table.issues == []
    assert table.frame["enterprise_id"].tolist() == ["00123"] and table.frame["tax_wan"].tolist() == [120.5]


def test_a_problem_without_an_id_names_its_sheet_row(tmp_path):
    """A land-price table has no id column: a bad cell is named by its row in the sheet."""
    _workbook(tmp_path / "price.xlsx", [["闵行区基准地价表"], [], ["级别", "用途", "基准地价(元/平方米)"], ["一级", "工业", "abc"]])
    project = load_config(overrides={"base_dir": str(tmp_path), "inputs": {"land_price": {"path": "price.xlsx"}}})
    table = read_input("land_price", project)
    assert [(i.check, i.feature) for i in table.issues] == [("non_numeric", "row 4")]
