"""Overrides and the 公示/异议 register: applied, audited, and refused when invalid (issue 18).

The hand-made park: eight parcels of 100 m × 80 m = 8,000 m² = 12 亩, 200 m apart in one block
B1, all M1 and operating, one firm each (高端装备, founded 2005, no high-tech status, no R&D
figure), built over 35 % of the plot. One track weights 亩均税收 60 (benchmark 60 万元/亩, cap 1.5)
and 容积率 40 (benchmark 2, cap 1), so

    score = 100 × (60 × min(t / 60, 1.5) + 40 × min(FAR / 2, 1)) / 130

for t the tax per 亩. The default grading ranks the n = 8 graded parcels: A rank ≤ 0.25 n = 2,
B ≤ 0.70 n = 5.6, C ≤ 0.95 n = 7.6, D the rest. The default paths (A/B: 工业上楼 for light
industries, 提容增效 with a low FAR, 科技创新 for high-tech firms, else 重点扶持; C: 城市更新 with a
low FAR, else 观察保留; D: 减量化 when sporadic, 回购 when small, else 收回/收储), the FAR norm of
高端装备 (0.7), the tax floor (10 万元/亩) and the target FAR (2) give the lists and paths below.
Every expected value is worked out here from these rules, not asked of landkit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import WORKING, X0, Y0

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.core.errors import DataError
from landkit.core.schema import OBJECTION_STATUSES
from landkit.data.dataset import load_dataset
from landkit.data.overrides import (
    AUDIT_COLUMNS,
    FIELD_NAMES_ZH,
    apply_overrides,
    audit_table,
    check_objections,
    check_overrides,
    objection_register,
    objection_summary,
    overridable_fields,
)
from landkit.monitor.compare import compare_runs, decision_summary, decision_table
from landkit.monitor.read import read_run
from landkit.pipeline import assess

ROOT = Path(__file__).resolve().parent.parent
GIS = ROOT / "gis_data"
SOURCE = "decisions.csv"

# --- the park -----------------------------------------------------------------------------------

#: id, tax per 亩 (万元), FAR
ROWS = [("Q1", 90, 2.0), ("Q2", 75, 2.0), ("Q3", 60, 1.5), ("Q4", 50, 1.5), ("Q5", 40, 1.2), ("Q6", 20, 1.0),
        ("Q7", 12, 0.5), ("Q8", 2, 0.4)]
IDS = [pid for pid, _, _ in ROWS]
AREA_M2, AREA_MU = 8000.0, 12.0  # 100 m × 80 m; 8000 / (10000 / 15)
TAX = {pid: t * AREA_MU for pid, t, _ in ROWS}  # 万元 a year
FAR = {pid: far for pid, _, far in ROWS}

CONFIG = """\
year: 2025
inputs:
  parcels: {path: parcels.gpkg, layer: parcels}
  blocks: {path: blocks.gpkg, layer: blocks}
  enterprises: {path: enterprises.csv}
assessment:
  tracks:
    - {name: all, label_zh: 全部, label_en: All, weights: {tax_per_mu: 60, far: 40}}
  indicators:
    far: {benchmark: 2.0, cap: 1.0}
valuation:
  district_default_yuan_m2: {工业: 1500}
"""


def score(tax_per_mu: float, far: float) -> float:
    """The track's score, by hand."""
    return 100 * (60 * min(tax_per_mu / 60, 1.5) + 40 * min(far / 2, 1.0)) / 130


# Scores: Q1 100, Q2 88.5, Q3 69.2, Q4 61.5, Q5 49.2, Q6 30.8, Q7 16.9, Q8 7.7: ranks 1 … 8.
GRADES = {"Q1": "A", "Q2": "A", "Q3": "B", "Q4": "B", "Q5": "B", "Q6": "C", "Q7": "C", "Q8": "D"}
# Q6: C, FAR 1.0 ≥ 0.7 → watch; Q7: C, FAR 0.5 < 0.7 → renew; Q8: D in B1, 12 亩 (not small) → reclaim;
# A/B parcels: not a light industry, FAR ≥ 0.7, no high-tech firm → support.
PATHS = {**dict.fromkeys(["Q1", "Q2", "Q3", "Q4", "Q5"], "support"), "Q6": "watch", "Q7": "renew", "Q8": "reclaim"}
# B1's median tax per 亩 over the graded parcels: 2 12 20 40 | 50 60 75 90 → (40 + 50) / 2 = 45
# (with Q8 decided at 3 万元/亩 still 45). The tax a path aims at: 45 × 12 亩 = 540 万元.
POTENTIAL_TAX = 45 * AREA_MU
REDUCTION_WAN_PER_MU = 30  # the profile's 减量化 compensation per 亩

#: The decisions file (Chinese headers; Chinese and English field names; a lower-case class with 类;
#: a path by its Chinese label): rows 2 to 5.
DECISIONS_CSV = """\
地块编号,调整字段,调整后值,调整理由,审批人,审批日期
Q6,等级,D,复核：主要产线已迁出,区产业用地工作专班,2025-11-20
Q7,grade,b类,异议成立：税收在外区汇总缴纳,,
Q8,盘活路径,减量化,区政府常务会议决定减量化,区政府,2025-11-27
Q8,税收,36,税务数据更正,区税务局,2025-11-18
"""
#: The register: 成立 → upheld, 驳回 → rejected, 已受理 and 处理中 → received.
OBJECTIONS_CSV = """\
异议编号,地块编号,企业名称,处理状态,处理意见
Y1,Q7,甲公司,成立,按B类对待
Y2,Q8,乙公司,驳回,维持原评价
Y3,Q6,丙公司,已受理,核查中
Y4,Q5,丁公司,处理中,核查中
"""


def park_layer() -> gpd.GeoDataFrame:
    """The parcel layer as a planner would give it (canonical column names)."""
    return gpd.GeoDataFrame(
        {
            "parcel_id": IDS,
            "land_use": "M1",
            "status": "operating",
            "lease_start_year": 2008,
            "lease_end_year": 2058,
            "production_start_year": 2010,
            "floor_area_m2": [FAR[pid] * AREA_M2 for pid in IDS],
            "footprint_m2": 0.35 * AREA_M2,
        },
        geometry=[shapely.box(X0 + 200 * i, Y0, X0 + 200 * i + 100, Y0 + 80) for i in range(len(IDS))],
        crs=WORKING,
    )


def park_blocks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]},
                            geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 1700, Y0 + 200)], crs=WORKING)


def park_enterprises() -> pd.DataFrame:
    return pd.DataFrame({"enterprise_id": [f"E{i}" for i in range(len(IDS))], "parcel_id": IDS, "industry": "高端装备",
                         "tax_wan": [TAX[pid] for pid in IDS], "founded_year": 2005})


def write_park(folder: Path) -> Path:
    """Write the park's inputs, its project file and the decision files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    park_layer().to_file(folder / "parcels.gpkg", layer="parcels", driver="GPKG")
    park_blocks().to_file(folder / "blocks.gpkg", layer="blocks", driver="GPKG")
    park_enterprises().to_csv(folder / "enterprises.csv", index=False, encoding="utf-8")
    (folder / "landkit.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / SOURCE).write_text(DECISIONS_CSV, encoding="utf-8-sig")
    (folder / "objections.csv").write_text(OBJECTIONS_CSV, encoding="utf-8-sig")
    return folder


def load_park(folder: Path, **inputs: str):
    """Load the park with optional ``overrides`` / ``objections`` files (names in ``folder``)."""
    project = load_config(folder / "landkit.yaml", overrides={"inputs": {k: {"path": v} for k, v in inputs.items()}})
    return load_dataset(project), project


@pytest.fixture(scope="module")
def park_dir(tmp_path_factory) -> Path:
    return write_park(tmp_path_factory.mktemp("park"))


@pytest.fixture(scope="module")
def base(park_dir):
    """The park assessed without any decision: parcels by id."""
    data, project = load_park(park_dir)
    return assess(data, project)


@pytest.fixture(scope="module")
def decided(park_dir):
    """The park assessed with DECISIONS_CSV and OBJECTIONS_CSV: (dataset, result)."""
    data, project = load_park(park_dir, overrides=SOURCE, objections="objections.csv")
    return data, assess(data, project)


def by_id(result) -> pd.DataFrame:
    return pd.DataFrame(result.parcels.drop(columns=result.parcels.geometry.name)).set_index("parcel_id")


# --- check_overrides: refused, one line naming the file, the row, the parcel and the fix ----------------


@pytest.fixture(scope="module")
def profile():
    return load_config(overrides={"year": 2025})


def decisions(*rows: tuple) -> pd.DataFrame:
    """Canonical decision rows (parcel_id, field, value, reason), as the reader gives them."""
    return pd.DataFrame(list(rows), columns=["parcel_id", "field", "value", "reason"], dtype=object)


def refusal(frame: pd.DataFrame, project, *, row: int, parcel: str) -> str:
    """Return the one-line message check_overrides raises, checked to name the file, the row and the parcel."""
    with pytest.raises(DataError) as caught:
        check_overrides(frame, pd.Series(IDS), project, source=SOURCE)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{SOURCE}, row {row} (parcel {parcel}): "), message
    return message


OK = ("Q1", "grade", "B", "复核")  # a valid first row: the bad one is row 3

REFUSED = {
    "unknown parcel": (("Q9", "grade", "B", "r"), "no such parcel in the parcel layer; correct the id or remove the row"),
    "parcel id": (("Q2", "parcel_id", "Q9", "r"), "field `parcel_id` cannot be overridden; use grade, disposal or an input column"),
    "block id": (("Q2", "block_id", "B2", "r"), "field `block_id` cannot be overridden; use grade, disposal"),
    "nonsense field": (("Q2", "colour", "red", "r"), "field `colour` cannot be overridden; use grade, disposal"),
    "a result other than class and path": (("Q2", "score", "99", "r"), "field `score` cannot be overridden"),
    "the list itself": (("Q2", "low_efficiency", "否", "r"), "field `low_efficiency` cannot be overridden"),
    "class E": (("Q2", "grade", "E", "r"), "class `E` is not one of A, B, C, D, U"),
    "class 甲": (("Q2", "等级", "甲", "r"), "class `甲` is not one of A, B, C, D, U"),
    "no class": (("Q2", "grade", None, "r"), "class `` is not one of A, B, C, D, U"),
    "unknown path": (("Q2", "disposal", "demolish", "r"), "path `demolish` is not a rule of disposal.rules (collective_bank, "),
    "path by English label": (("Q2", "盘活路径", "Reclaim or bank", "r"), "path `Reclaim or bank` is not a rule of disposal.rules"),
    "tax not a number": (("Q2", "tax_wan", "abc", "r"), "`abc` is not a number for tax_wan"),
    "tax in Chinese not a number": (("Q2", "税收", "三十", "r"), "`三十` is not a number for tax_wan"),
    "floor area not a number": (("Q2", "floor_area_m2", "很多", "r"), "`很多` is not a number for floor_area_m2"),
    "empty number": (("Q2", "revenue_wan", "", "r"), "`` is not a number for revenue_wan"),
    "negative tax": (("Q2", "tax_wan", "-5", "r"), "tax_wan must be a finite number ≥ 0, not -5"),
    "infinite tax": (("Q2", "tax_wan", "inf", "r"), "tax_wan must be a finite number ≥ 0, not inf"),
    "year with a fraction": (("Q2", "lease_end_year", "2060.5", "r"), "lease_end_year is a year: a whole number, not 2060.5"),
    "unknown status": (("Q2", "使用现状", "半死不活", "r"), "`半死不活` is not a value of status (operating, idle, stopped, "),
    "not yes or no": (("Q2", "illegal_use", "也许", "r"), "`也许` is neither yes nor no"),
    "no reason": (("Q2", "grade", "B", "  "), "no reason given; every override states why"),
    "reason missing": (("Q2", "grade", "B", None), "no reason given; every override states why"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_invalid_decision_is_refused_naming_file_row_parcel_and_fix(case, profile):
    bad, fix = REFUSED[case]
    message = refusal(decisions(OK, bad), profile, row=3, parcel=bad[0])
    assert fix in message


def test_an_unknown_parcel_in_the_first_row_is_row_2(profile):
    message = refusal(decisions(("MH-404", "grade", "B", "r"), OK), profile, row=2, parcel="MH-404")
    assert "no such parcel" in message


def test_a_field_decided_twice_is_refused_at_its_second_row(profile):
    # 等级 and grade are one field: the third row repeats the first (rows 2 and 4 of the file)
    frame = decisions(("Q3", "grade", "B", "r1"), ("Q4", "tax_wan", "1", "r2"), ("Q3", "等级", "C", "r3"))
    message = refusal(frame, profile, row=4, parcel="Q3")
    assert message.endswith("field `grade` is decided twice for this parcel; keep one row")
    # 税收 and tax_wan likewise; two fields of one parcel, or one field of two parcels, are fine
    refusal(decisions(("Q5", "税收", "1", "r"), ("Q5", "tax_wan", "2", "r")), profile, row=3, parcel="Q5")
    check_overrides(decisions(("Q5", "税收", "1", "r"), ("Q5", "grade", "A", "r"), ("Q6", "tax_wan", "2", "r")),
                    pd.Series(IDS), profile, source=SOURCE)


def test_the_path_must_be_a_rule_of_the_projects_disposal_rules():
    project = load_config(overrides={"disposal": {"rules": [
        {"code": "keep", "label_zh": "保留", "label_en": "Keep", "when": "True"}]}})
    checked = check_overrides(decisions(("Q1", "disposal", "keep", "r"), ("Q2", "盘活路径", "保留", "r")),
                              pd.Series(IDS), project, source=SOURCE)
    assert checked["value"].tolist() == ["keep", "keep"]
    # buyback is a rule of the default profile, not of this project
    message = refusal(decisions(("Q1", "disposal", "buyback", "r")), project, row=2, parcel="Q1")
    assert message.endswith("path `buyback` is not a rule of disposal.rules (keep)")


def test_values_are_converted_to_the_fields_domain(profile):
    frame = decisions(
        ("Q1", "等级", "b类", "r"),          # lower case and 类: B
        ("Q2", "grade", " a ", "r"),
        ("Q3", "盘活路径", "减量化", "r"),     # the Chinese label of `reduce`
        ("Q4", "disposal", "buyback", "r"),
        ("Q5", "税收", "1,234.5", "r"),      # thousands separator
        ("Q6", "使用现状", "停产", "r"),       # the profile's values.status
        ("Q7", "illegal_use", "是", "r"),
        ("Q8", "illegal_use", "否", "r"),
        ("Q1", "lease_end_year", "2060", "r"),
        ("Q2", "营业收入", "2500", "r"),
        ("Q3", "structure", "钢混", "r"),
        ("Q4", "ownership", "集体建设用地", "r"),
    )
    checked = check_overrides(frame, pd.Series(IDS), profile, source=SOURCE)
    assert list(checked.columns) == ["parcel_id", "field", "value", "reason", "approved_by", "approved_date", "row"]
    assert checked["field"].tolist() == ["grade", "grade", "disposal", "disposal", "tax_wan", "status", "illegal_use",
                                         "illegal_use", "lease_end_year", "revenue_wan", "structure", "ownership"]
    assert checked["value"].tolist() == ["B", "A", "reduce", "buyback", 1234.5, "stopped", True, False, 2060.0, 2500.0,
                                         "钢混", "collective"]
    assert checked["row"].tolist() == list(range(2, 14))
    assert checked["approved_by"].isna().all() and checked["approved_date"].isna().all()  # optional columns


def test_every_chinese_field_name_is_an_overridable_field():
    fields = set(overridable_fields())
    assert set(FIELD_NAMES_ZH.values()) <= fields
    assert {FIELD_NAMES_ZH[name] for name in ("等级", "盘活路径", "税收", "使用现状")} == {"grade", "disposal", "tax_wan", "status"}
    assert {"grade", "disposal", "tax_wan", "status", "floor_area_m2", "revenue_wan"} <= fields
    assert not {"parcel_id", "block_id", "score", "low_efficiency"} & fields


def test_a_file_with_chinese_headers_and_field_names_is_read(tmp_path, make_project):
    (tmp_path / SOURCE).write_text(DECISIONS_CSV, encoding="utf-8-sig")
    objections = pd.DataFrame({"异议编号": ["Y1", "Y2", "Y3", "Y4"], "地块编号": ["Q7", "Q8", "Q6", "Q5"],
                               "处理状态": ["成立", "驳回", "已受理", "处理中"]})
    project = make_project(tmp_path, {"inputs": {"overrides": {"path": SOURCE}}}, parcels=park_layer(),
                           blocks=park_blocks(), enterprises=park_enterprises(), objections=objections)
    data = load_dataset(project)
    assert not data.errors
    o = data.overrides
    assert o["parcel_id"].tolist() == ["Q6", "Q7", "Q8", "Q8"]
    assert o["field"].tolist() == ["grade", "grade", "disposal", "tax_wan"]
    assert o["value"].tolist() == ["D", "B", "reduce", 36.0]
    assert o["row"].tolist() == [2, 3, 4, 5]
    assert o["approved_by"].tolist()[::2] == ["区产业用地工作专班", "区政府"]
    assert pd.isna(o["approved_by"].iloc[1]) and pd.isna(o["approved_date"].iloc[1])  # Q7's are empty
    assert data.sources["overrides"].endswith(SOURCE)
    # the register's Chinese statuses are the canonical ones
    assert data.objections["objection_status"].tolist() == ["upheld", "rejected", "received", "received"]
    assert data.objections["row"].tolist() == [2, 3, 4, 5]


def test_loading_refuses_a_bad_file_naming_it(tmp_path, make_project):
    (tmp_path / SOURCE).write_text(DECISIONS_CSV + "Q99,等级,B,补录,,\n", encoding="utf-8-sig")
    project = make_project(tmp_path, {"inputs": {"overrides": {"path": SOURCE}}}, parcels=park_layer(),
                           enterprises=park_enterprises())
    with pytest.raises(DataError) as caught:
        load_dataset(project)
    assert str(caught.value) == (f"{tmp_path / SOURCE}, row 6 (parcel Q99): no such parcel in the parcel layer; "
                                 "correct the id or remove the row")


# --- check_objections -------------------------------------------------------------------------------


def register(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["objection_id", "parcel_id", "objection_status"], dtype=object)


@pytest.mark.parametrize(("bad", "fix"), [
    (("Y2", "Q99", "upheld"), "objection Y2: no such parcel in the parcel layer"),
    (("Y2", "Q2", None), "objection Y2: status must be received, upheld or rejected (已受理, 成立, 驳回)"),
    (("Y2", "Q2", "pending"), "objection Y2: status must be received, upheld or rejected"),
    (("Y1", "Q2", "rejected"), "objection id Y1 appears twice; give each objection its own id"),
])
def test_an_invalid_objection_is_refused_naming_file_row_and_parcel(bad, fix):
    with pytest.raises(DataError) as caught:
        check_objections(register(("Y1", "Q1", "received"), bad), pd.Series(IDS), source="objections.csv")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"objections.csv, row 3 (parcel {bad[1]}): ")
    assert fix in message


def test_a_valid_register_is_kept_with_its_rows():
    frame = register(("Y1", "Q1", "received"), ("Y2", "Q1", "upheld"), ("Y3", "Q8", "rejected"))
    checked = check_objections(frame, pd.Series(IDS), source="objections.csv")
    assert checked["objection_id"].tolist() == ["Y1", "Y2", "Y3"] and checked["row"].tolist() == [2, 3, 4]


# --- apply_overrides, stage by stage -------------------------------------------------------------------


def test_apply_overrides_stage_by_stage(profile):
    parcels = pd.DataFrame({"parcel_id": ["Q1", "Q2", "Q3"], "tax_wan": [100.0, 200.0, 300.0],
                            "status": ["operating", "stopped", "operating"], "grade": ["A", "C", "D"],
                            "grade_basis": ["rank", "rank", "rank"]}, index=[10, 11, 12])
    frame = decisions(("Q2", "grade", "B", "异议成立"), ("Q2", "税收", "250", "更正"), ("Q3", "disposal", "buyback", "回购"),
                      ("Q2", "使用现状", "在产", "复产"))
    frame["approved_by"] = pd.Series(["专班", None, "区政府", None], dtype=object)
    frame["approved_date"] = pd.Series(["2025-11-20", None, "2025-11-27", None], dtype=object)
    checked = check_overrides(frame, parcels["parcel_id"], profile, source=SOURCE)
    before = parcels.copy()

    inputs = apply_overrides(parcels, checked, stage="inputs")
    pd.testing.assert_frame_equal(parcels, before)  # the caller's frame is left as it was
    assert inputs.index.equals(parcels.index)
    assert inputs["tax_wan"].tolist() == [100.0, 250.0, 300.0] and inputs["tax_wan_computed"].tolist() == [100.0, 200.0, 300.0]
    assert inputs["status"].tolist() == ["operating", "operating", "operating"]
    assert inputs["status_computed"].tolist() == ["operating", "stopped", "operating"]
    assert inputs["grade"].tolist() == ["A", "C", "D"] and "grade_computed" not in inputs  # the class waits for its stage
    assert inputs["overridden"].tolist() == [False, True, False]
    assert inputs["override_fields"].tolist() == ["", "tax_wan,status", ""]
    assert inputs.loc[11, "override_note"] == "税收 200.0→250.0（更正）；使用现状 stopped→operating（复产）"

    graded = apply_overrides(inputs, checked, stage="grade")
    assert graded["grade"].tolist() == ["A", "B", "D"] and graded["grade_computed"].tolist() == ["A", "C", "D"]
    assert graded["grade_basis"].tolist() == ["rank", "override", "rank"]
    assert graded.loc[11, "override_fields"] == "tax_wan,status,grade"
    assert graded.loc[11, "override_note"].endswith("；等级 C→B（异议成立；批准：专班，2025-11-20）")

    paths = apply_overrides(graded, checked, stage="disposal")
    assert paths["override_disposal"].tolist() == ["", "", "buyback"]
    assert paths["overridden"].tolist() == [False, True, True]
    assert paths.loc[12, "override_fields"] == "disposal"
    assert paths.loc[12, "override_note"] == "路径定为buyback（回购；批准：区政府，2025-11-27）"
    assert paths.loc[10, ["override_fields", "override_note", "override_disposal"]].tolist() == ["", "", ""]


def test_apply_overrides_without_decisions_adds_the_audit_columns_only():
    parcels = pd.DataFrame({"parcel_id": ["Q1", "Q2"], "grade": ["A", "D"]})
    for overrides in (None, decisions().assign(approved_by=None, approved_date=None, row=None)):
        out = apply_overrides(parcels, overrides, stage="inputs")
        assert list(out.columns) == ["parcel_id", "grade", *AUDIT_COLUMNS]
        pd.testing.assert_frame_equal(out[["parcel_id", "grade"]], parcels)
        assert not out["overridden"].any() and (out[["override_fields", "override_note", "override_disposal"]] == "").all().all()


# --- the park assessed: the decisions applied and the rest left alone ------------------------------------


def test_the_park_without_decisions_is_as_worked_out(base):
    parcels = by_id(base)
    assert parcels["area_m2"].to_numpy() == pytest.approx(AREA_M2) and parcels["area_mu"].to_numpy() == pytest.approx(AREA_MU)
    for pid, tax, far in ROWS:
        assert parcels.loc[pid, "score"] == pytest.approx(score(tax, far)), pid
    assert parcels["grade"].to_dict() == GRADES
    assert parcels["disposal"].to_dict() == PATHS
    assert set(parcels.index[parcels["low_efficiency"]]) == {"Q6", "Q7", "Q8"}
    assert parcels["reasons"][["Q6", "Q7", "Q8"]].tolist() == ["C", "C;LOW_FAR", "D;LOW_FAR;LOW_TAX"]
    assert not parcels["overridden"].any() and "grade_computed" not in parcels
    assert base.summary["decisions"] == {"overrides": 0, "overridden_parcels": 0, "by_field": {}, "class_changed": 0,
                                         "objections": dict.fromkeys(OBJECTION_STATUSES, 0)}


def test_a_decided_class_down_lists_the_parcel_and_gives_it_the_classes_path(decided):
    parcels = by_id(decided[1])
    q6 = parcels.loc["Q6"]
    assert (q6["grade"], q6["grade_computed"], q6["grade_basis"]) == ("D", "C", "override")
    assert q6["score"] == pytest.approx(score(20, 1.0))  # the score is the computed one
    assert bool(q6["overridden"]) and q6["override_fields"] == "grade"
    assert q6["override_note"] == "等级 C→D（复核：主要产线已迁出；批准：区产业用地工作专班，2025-11-20）"
    # the list and the path follow D: reclaim (D in B1, 12 亩), land back, tax up to B1's median
    assert bool(q6["low_efficiency"]) and q6["list_basis"] == "D" and q6["reasons"] == "D"
    assert q6["disposal"] == "reclaim" and q6["disposal_computed"] == "reclaim"  # the rules' path for the decided class
    assert q6["land_freed_mu"] == pytest.approx(AREA_MU)
    assert q6["potential_tax_wan"] == pytest.approx(POTENTIAL_TAX)
    assert q6["tax_gain_wan"] == pytest.approx(POTENTIAL_TAX - TAX["Q6"])  # 540 − 240 = 300
    assert q6["compensation_basis"] == "residual" and q6["compensation_wan"] == pytest.approx(q6["total_value_wan"])


def test_a_decided_class_up_takes_the_parcel_off_the_list(decided):
    parcels = by_id(decided[1])
    q7 = parcels.loc["Q7"]
    assert (q7["grade"], q7["grade_computed"], q7["grade_basis"]) == ("B", "C", "override")
    assert q7["override_note"] == "等级 C→B（异议成立：税收在外区汇总缴纳）"  # no approver, no date in the file
    # B with a FAR of 0.5 < 0.7: on the watch table, not the list; path 提容增效 to the target FAR 2
    assert not q7["low_efficiency"] and bool(q7["watch"]) and q7["list_basis"] == ""
    assert q7["reasons"] == "LOW_FAR"
    assert q7["disposal"] == "intensify"
    assert q7["floor_area_added_m2"] == pytest.approx(2 * AREA_M2 - 0.5 * AREA_M2)
    assert q7["land_freed_mu"] == 0 and q7["tax_gain_wan"] == 0 and q7["compensation_wan"] == 0


def test_a_decided_path_replaces_the_rules_and_is_costed_as_decided(decided, base):
    parcels = by_id(decided[1])
    q8 = parcels.loc["Q8"]
    assert q8["grade"] == "D" and q8["grade_basis"] == "rank" and q8["grade_computed"] == "D"
    assert (q8["disposal"], q8["disposal_computed"], q8["override_disposal"]) == ("reduce", "reclaim", "reduce")
    assert q8["disposal_zh"] == "减量化"
    # 减量化: the land back, compensated at 30 万元/亩, no tax aimed at
    assert q8["land_freed_mu"] == pytest.approx(AREA_MU)
    assert q8["compensation_basis"] == "reduction"
    assert q8["compensation_wan"] == pytest.approx(REDUCTION_WAN_PER_MU * AREA_MU)
    assert q8["tax_gain_wan"] == 0 and np.isnan(q8["potential_tax_wan"]) and np.isnan(q8["payback_years"])
    # without the decision, the rules' reclaim: compensated at the residual value, tax up to the median
    b8 = by_id(base).loc["Q8"]
    assert b8["disposal"] == "reclaim" and b8["compensation_basis"] == "residual"
    assert b8["compensation_wan"] == pytest.approx(b8["total_value_wan"])
    assert b8["tax_gain_wan"] == pytest.approx(POTENTIAL_TAX - TAX["Q8"])
    # the other parcels have no decided path: theirs is the rules'
    others = parcels.drop(index="Q8")
    assert (others["disposal_computed"] == others["disposal"]).all() and (others["override_disposal"] == "").all()


def test_a_decided_input_figure_changes_the_indicator_and_the_score(decided):
    parcels = by_id(decided[1])
    q8 = parcels.loc["Q8"]
    assert q8["tax_wan"] == pytest.approx(36.0) and q8["tax_wan_computed"] == pytest.approx(TAX["Q8"])
    assert q8["tax_per_mu"] == pytest.approx(36.0 / AREA_MU)  # 3 万元/亩
    assert q8["score"] == pytest.approx(100 * (60 * 3 / 60 + 40 * 0.4 / 2) / 130)  # 8.46, was 7.69
    assert q8["score"] != pytest.approx(score(2, 0.4))
    # still last of eight: D; both decisions recorded, the input's first
    assert q8["override_fields"] == "tax_wan,disposal"
    assert q8["override_note"] == ("税收 24.0→36.0（税务数据更正；批准：区税务局，2025-11-18）；"
                                   "路径定为reduce（区政府常务会议决定减量化；批准：区政府，2025-11-27）")


def test_parcels_without_decisions_are_as_without_the_file(decided, base):
    with_file, without = by_id(decided[1]), by_id(base)
    assert set(with_file.columns) - set(without.columns) == {"grade_computed", "disposal_computed", "tax_wan_computed"}
    assert set(without.columns) <= set(with_file.columns)
    untouched = ["Q1", "Q2", "Q3", "Q4", "Q5"]
    # the same values; a decided column may hold another dtype (grade: object, tax_wan: float)
    pd.testing.assert_frame_equal(with_file.loc[untouched, without.columns], without.loc[untouched], check_dtype=False)
    rows = with_file.loc[untouched]
    assert not rows["overridden"].any() and (rows["override_note"] == "").all()
    assert (rows["grade_computed"] == rows["grade"]).all() and (rows["tax_wan_computed"] == rows["tax_wan"]).all()
    assert with_file.index[with_file["overridden"]].tolist() == ["Q6", "Q7", "Q8"]
    # the geometry too
    geometry = decided[1].parcels.set_index("parcel_id").geometry
    assert geometry.loc[untouched].geom_equals(base.parcels.set_index("parcel_id").geometry.loc[untouched]).all()


def test_the_audit_table_has_one_row_per_decision(decided):
    table = decided[1].tables["overrides"]
    assert list(table.columns) == ["parcel_id", "field", "computed", "value", "reason", "approved_by", "approved_date", "row"]
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    assert rows == [
        {"parcel_id": "Q6", "field": "grade", "computed": "C", "value": "D", "reason": "复核：主要产线已迁出",
         "approved_by": "区产业用地工作专班", "approved_date": "2025-11-20", "row": 2},
        {"parcel_id": "Q7", "field": "grade", "computed": "C", "value": "B", "reason": "异议成立：税收在外区汇总缴纳",
         "approved_by": None, "approved_date": None, "row": 3},
        {"parcel_id": "Q8", "field": "disposal", "computed": "reclaim", "value": "reduce", "reason": "区政府常务会议决定减量化",
         "approved_by": "区政府", "approved_date": "2025-11-27", "row": 4},
        {"parcel_id": "Q8", "field": "tax_wan", "computed": "24.0", "value": "36.0", "reason": "税务数据更正",
         "approved_by": "区税务局", "approved_date": "2025-11-18", "row": 5},
    ]
    assert audit_table(decided[1].parcels, None).columns.tolist() == list(table.columns) and not len(audit_table(decided[1].parcels, None))


def test_the_summary_counts_the_decisions_and_the_objections(decided):
    assert decided[1].summary["decisions"] == {
        "overrides": 4, "overridden_parcels": 3, "by_field": {"grade": 2, "disposal": 1, "tax_wan": 1},
        "class_changed": 2, "objections": {"received": 2, "upheld": 1, "rejected": 1},
    }


def test_the_objection_register_shows_each_parcels_class_and_decision(decided):
    data, result = decided
    table = result.tables["objections"]
    assert table["objection_id"].tolist() == ["Y1", "Y2", "Y3", "Y4"]
    assert table["objection_status"].tolist() == ["upheld", "rejected", "received", "received"]
    assert table["enterprise_name"].tolist() == ["甲公司", "乙公司", "丙公司", "丁公司"]
    assert table["grade"].tolist() == ["B", "D", "D", "B"]  # Q7 decided B, Q8 D, Q6 decided D, Q5 B
    assert table["grade_computed"].tolist() == ["C", "D", "C", "B"]
    assert table["overridden"].tolist() == [True, True, True, False]
    assert table["override_note"].iloc[0] == "等级 C→B（异议成立：税收在外区汇总缴纳）" and table["override_note"].iloc[3] == ""
    assert "row" not in table
    # called directly, on the run's parcels and the checked register
    again = objection_register(result.parcels, data.objections)
    assert again["grade"].tolist() == ["B", "D", "D", "B"]
    assert objection_summary(data.objections) == {"received": 2, "upheld": 1, "rejected": 1}


def test_objection_summary_counts_every_status():
    assert objection_summary(None) == {"received": 0, "upheld": 0, "rejected": 0}
    frame = register(("Y1", "Q1", "upheld"), ("Y2", "Q2", "upheld"), ("Y3", "Q3", "upheld"))
    assert objection_summary(frame) == {"received": 0, "upheld": 3, "rejected": 0}
    assert list(objection_summary(frame)) == list(OBJECTION_STATUSES)


# --- the command line: a bad file is one line, and no run is written ------------------------------------


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


BAD_FILES = {
    "unknown parcel": ("overrides", DECISIONS_CSV + "MH-404,等级,B,补录,,\n", 6, "MH-404", "no such parcel in the parcel layer"),
    "fixed field": ("overrides", DECISIONS_CSV.replace("Q7,grade,b类", "Q7,block_id,B2"), 3, "Q7", "cannot be overridden"),
    "class": ("overrides", DECISIONS_CSV.replace("Q6,等级,D", "Q6,等级,E"), 2, "Q6", "not one of A, B, C, D, U"),
    "twice": ("overrides", DECISIONS_CSV + "Q8,tax_wan,40,又一次更正,,\n", 6, "Q8", "decided twice"),
    "objection": ("objections", OBJECTIONS_CSV + "Y4,Q1,戊公司,已受理,\n", 6, "Q1", "objection id Y4 appears twice"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_assess_refuses_a_bad_decision_file_in_one_line(case, park_dir, tmp_path):
    option, text, row, parcel, problem = BAD_FILES[case]
    bad = tmp_path / f"bad_{option}.csv"
    bad.write_text(text, encoding="utf-8-sig")
    out = tmp_path / "out"
    result = invoke("assess", "-c", park_dir / "landkit.yaml", f"--{option}", bad, "-o", out)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {bad}, row {row} (parcel {parcel}): ") and problem in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()  # a run is whole or absent


@pytest.fixture(scope="module")
def pair(park_dir):
    """Two runs of the park by `landkit assess`: A with a register of three received objections; B with
    Y1 upheld and answered by a decided class (Q7 C → B), Y2 new, Y0 gone, and a corrected tax (Q5)."""
    folder = park_dir / "pair"
    folder.mkdir()
    (folder / "objections_a.csv").write_text("异议编号,地块编号,处理状态\nY0,Q1,已受理\nY1,Q7,已受理\nY3,Q6,受理\n",
                                             encoding="utf-8-sig")
    (folder / "objections_b.csv").write_text("异议编号,地块编号,处理状态\nY1,Q7,异议成立\nY2,Q8,驳回\nY3,Q6,处理中\n",
                                             encoding="utf-8-sig")
    (folder / "overrides_b.csv").write_text("地块编号,调整字段,调整后值,调整理由,审批人,审批日期\n"
                                            "Q7,等级,B,异议成立(Y1),专班,2025-12-01\nQ5,税收,500,税务更正,税务局,2025-12-02\n",
                                            encoding="utf-8-sig")
    config = park_dir / "landkit.yaml"
    a = invoke("-q", "assess", "-c", config, "--objections", folder / "objections_a.csv", "-o", folder / "a")
    assert a.exit_code == 0, a.output
    b = invoke("assess", "-c", config, "--overrides", folder / "overrides_b.csv", "--objections", folder / "objections_b.csv",
               "-o", folder / "b")
    assert b.exit_code == 0, b.output
    return folder / "a", folder / "b", b.output


def test_assess_writes_the_decisions_into_the_run(pair):
    _, b, output = pair
    summary = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    assert summary["decisions"] == {"overrides": 2, "overridden_parcels": 2, "by_field": {"grade": 1, "tax_wan": 1},
                                    "class_changed": 1, "objections": {"received": 1, "upheld": 1, "rejected": 1}}
    assert "人工调整 2 项 (2 宗, 其中直接改定等级 1 宗); 异议 3 件: 已受理 1, 成立 1, 驳回 1" in output
    parcels = pyogrio.read_dataframe(b / "landkit.gpkg", layer="parcels", read_geometry=False).set_index("parcel_id")
    assert parcels.loc["Q7", ["grade", "grade_computed"]].tolist() == ["B", "C"]
    assert parcels.loc["Q5", "tax_wan"] == pytest.approx(500) and parcels.loc["Q5", "tax_wan_computed"] == pytest.approx(TAX["Q5"])
    assert parcels.loc["Q5", "score"] == pytest.approx(score(500 / AREA_MU, 1.2))
    assert parcels["overridden"].astype(bool).sum() == 2
    audit = pyogrio.read_dataframe(b / "landkit.gpkg", layer="overrides")
    assert audit[["parcel_id", "field", "computed", "value"]].values.tolist() == [["Q7", "grade", "C", "B"],
                                                                                  ["Q5", "tax_wan", str(TAX["Q5"]), "500.0"]]
    register_b = pyogrio.read_dataframe(b / "landkit.gpkg", layer="objections")
    assert register_b["objection_status"].tolist() == ["upheld", "rejected", "received"]


def test_a_bad_file_leaves_an_earlier_run_as_it_was(pair, tmp_path):
    _, b, _ = pair
    before = {p.name: p.read_bytes() for p in b.iterdir() if p.is_file()}
    bad = tmp_path / "bad.csv"
    bad.write_text("地块编号,调整字段,调整后值,调整理由\nQ1,等级,Z,打错了\n", encoding="utf-8-sig")
    result = invoke("assess", "-c", b.parent.parent / "landkit.yaml", "--overrides", bad, "-o", b, "--overwrite")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{bad}, row 2 (parcel Q1): class `Z` is not one of A, B, C, D, U" in result.output
    assert {p.name: p.read_bytes() for p in b.iterdir() if p.is_file()} == before


# --- landkit compare: the objections followed from one run to the next -----------------------------------


def test_decision_table_follows_the_objections(pair):
    a, b, _ = pair
    table = decision_table(read_run(a), read_run(b))
    columns = ["objection_id", "parcel_id", "status_a", "status_b", "status_changed", "new_in_b", "grade_a", "grade_b",
               "grade_computed_b", "overridden_b"]
    rows = [tuple(r) for r in table[columns].itertuples(index=False)]
    assert rows == [
        ("", "Q5", "", "", False, False, "B", "B", "B", True),  # overridden in B, no objection
        ("Y0", "Q1", "received", "", False, False, "A", "A", "A", False),  # not in B's register: no status change
        ("Y1", "Q7", "received", "upheld", True, False, "C", "B", "C", True),
        ("Y2", "Q8", "", "rejected", False, True, "D", "D", "D", False),  # new in B
        ("Y3", "Q6", "received", "received", False, False, "C", "C", "C", False),
    ]
    notes = table.set_index("objection_id")["override_note_b"]
    assert notes["Y1"] == "等级 C→B（异议成立(Y1)；批准：专班，2025-12-01）"
    assert notes[""] == "税收 480.0→500.0（税务更正；批准：税务局，2025-12-02）"
    assert notes["Y2"] == notes["Y3"] == ""
    assert decision_summary(table) == {"objections": 4, "by_status_b": {"upheld": 1, "rejected": 1, "received": 1},
                                       "status_changed": 1, "new": 1, "overridden_b": 2}


def test_compare_runs_carries_the_decisions(pair, park_dir):
    a, b, _ = pair
    comparison = compare_runs(read_run(a), read_run(b), load_config(park_dir / "landkit.yaml"))
    assert comparison.summary["decisions"] == {"objections": 4, "by_status_b": {"upheld": 1, "rejected": 1, "received": 1},
                                               "status_changed": 1, "new": 1, "overridden_b": 2}
    assert "decisions" in comparison.tables() and len(comparison.tables()["decisions"]) == 5


# --- the shipped 2026 sample: four decisions and four objections -------------------------------------------

SAMPLE_2026 = GIS / "minhang_2026.yaml"


@pytest.fixture(scope="module")
def sample_2026():
    """The 2026 sample assessed in process (its overrides and objections from the project file)."""
    project = load_config(SAMPLE_2026)
    data = load_dataset(project)
    return project, data, assess(data, project)


def sample_file(name: str) -> list[dict[str, str]]:
    with (GIS / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_sample_decisions_in_the_summary(sample_2026):
    _, _, result = sample_2026
    rows = sample_file("overrides_2026.csv")
    assert [r["调整字段"] for r in rows] == ["使用现状", "等级", "盘活路径", "税收"]
    assert result.summary["decisions"] == {
        "overrides": 4, "overridden_parcels": 4, "by_field": {"status": 1, "grade": 1, "disposal": 1, "tax_wan": 1},
        "class_changed": 1,  # one class decided directly (MH-002465); MH-001426's follows its decided status
        "objections": {"received": 1, "upheld": 2, "rejected": 1},
    }


def test_sample_audit_table_is_the_file(sample_2026):
    _, _, result = sample_2026
    rows = sample_file("overrides_2026.csv")
    audit = result.tables["overrides"]
    assert audit["parcel_id"].tolist() == [r["地块编号"] for r in rows] == ["MH-001426", "MH-002465", "MH-000297", "MH-002934"]
    assert audit["field"].tolist() == ["status", "grade", "disposal", "tax_wan"]
    assert audit["value"].tolist() == ["operating", "B", "buyback", "30.2"]  # 在产 is `operating`
    assert audit["computed"].tolist()[:3] == ["stopped", "C", "reclaim"]
    assert float(audit["computed"].iloc[3]) == pytest.approx(16.83)
    assert audit["reason"].tolist() == [r["调整理由"] for r in rows]
    assert audit["approved_by"].tolist() == [r["审批人"] for r in rows]
    assert audit["row"].tolist() == [2, 3, 4, 5]


def test_sample_enterprise_back_in_production(sample_2026):
    project, _, result = sample_2026
    p = by_id(result).loc["MH-001426"]
    assert (p["status_computed"], p["status"]) == ("stopped", "operating")
    # by hand: stopped since 2021, 2026 − 2021 = 5 ≥ the profile's 2 years → 停产满两年, a direct D without the decision
    assert int(p["stopped_since_year"]) == 2021 and project.year - 2021 >= project.assessment.params["stopped_years"]
    # with the status decided, the parcel is ranked like any producing one
    assert p["grade"] == "A" and p["grade_basis"] == "rank" and p["direct_grade"] == ""
    assert bool(p["overridden"]) and p["override_fields"] == "status" and not p["low_efficiency"]
    assert p["override_note"].startswith("使用现状 stopped→operating（异议成立：企业2026年6月已复产")
    # by hand, a 规下 parcel: 亩均税收 against 黄岩's 11.5932, 单位电耗税收 against the track's mean, each
    # capped at 1.5; score = 100 × Σ 50 × min(x / b, 1.5) / 150
    small = result.parcels[result.parcels["track"] == "small"]
    ranked = small[small["grade_basis"] == "rank"]
    # the mean over the track's graded parcels (ranked or given a class directly) that report
    # electricity (the others are given that mean: it stays the same)
    graded = small[small["grade_computed"].isin(list("ABCD"))]
    mean_kwh = (graded["tax_wan"] * 10_000 / graded["electricity_kwh"].where(graded["electricity_kwh"] > 0)).mean()
    x_mu, x_kwh = p["tax_wan"] / p["area_mu"], p["tax_wan"] * 10_000 / p["electricity_kwh"]
    by_hand = 100 * (50 * min(x_mu / 11.5932, 1.5) + 50 * min(x_kwh / mean_kwh, 1.5)) / 150
    assert p["track"] == "small" and p["score"] == pytest.approx(by_hand, abs=1e-5)
    # A: within the top 25 % of the ranked 规下 parcels (ties share the best rank)
    assert p["rank_in_track"] == (ranked["score"] > p["score"] + 1e-9).sum() + 1 <= 0.25 * len(ranked)
    # the class computed from the decided inputs: A (the status, not the class, was decided)
    assert p["grade_computed"] == "A"


def test_sample_class_decided_after_the_tax_check(sample_2026):
    _, _, result = sample_2026
    p = by_id(result).loc["MH-002465"]
    assert (p["grade_computed"], p["grade"], p["grade_basis"]) == ("C", "B", "override")
    assert not p["low_efficiency"] and p["list_basis"] == ""
    assert p["disposal"] in {"vertical", "intensify", "innovation", "support"}  # an A/B path
    assert p["override_note"].startswith("等级 C→B（异议成立：三家企业合计纳税在外区汇总缴纳")


def test_sample_platform_buy_back_instead_of_reclaiming(sample_2026):
    _, _, result = sample_2026
    p = by_id(result).loc["MH-000297"]
    assert (p["disposal_computed"], p["disposal"], p["override_disposal"]) == ("reclaim", "buyback", "buyback")
    assert p["grade"] == "D" and bool(p["low_efficiency"]) and p["disposal_zh"] == "平台回购+统租统管"
    # buy-back: the land back, compensated at the residual value (land + buildings)
    assert p["land_freed_mu"] == pytest.approx(p["area_mu"])
    assert p["compensation_basis"] == "residual" and p["compensation_wan"] == pytest.approx(p["total_value_wan"])
    assert p["override_note"] == "路径定为buyback（企业同意由园区平台协议回购后统租统管；批准：区政府常务会议，2026-11-27）"


def test_sample_corrected_tax_figure(sample_2026):
    _, _, result = sample_2026
    p = by_id(result).loc["MH-002934"]
    assert p["tax_wan"] == pytest.approx(30.2) and p["tax_wan_computed"] == pytest.approx(16.83)
    assert p["tax_per_mu"] == pytest.approx(30.2 / p["area_mu"])
    assert p["override_fields"] == "tax_wan" and p["grade_basis"] == "rank"


def test_sample_objection_register(sample_2026):
    _, _, result = sample_2026
    rows = sample_file("objections_2026.csv")
    table = result.tables["objections"]
    assert table["objection_id"].tolist() == [r["异议编号"] for r in rows]
    assert [r["处理状态"] for r in rows] == ["成立", "成立", "驳回", "已受理"]
    assert table["objection_status"].tolist() == ["upheld", "upheld", "rejected", "received"]
    assert table["parcel_id"].tolist() == ["MH-001426", "MH-002465", "MH-002984", "MH-002736"]
    assert table["overridden"].tolist() == [True, True, False, False]  # the upheld ones are answered by a decision
    assert table.set_index("parcel_id").loc["MH-002465", ["grade", "grade_computed"]].tolist() == ["B", "C"]
    rejected = table.set_index("objection_id").loc["YY-2026-003"]
    assert rejected["grade"] == rejected["grade_computed"] and rejected["override_note"] == ""


# --- known defects, kept as strict expected failures (see each reason) -----------------------------------


def test_a_decided_input_column_the_layer_lacks_is_applied(park_dir, tmp_path):
    (tmp_path / "illegal.csv").write_text("parcel_id,field,value,reason\nQ1,违法用地,是,执法认定\n", encoding="utf-8")
    data, project = load_park(park_dir, overrides=str(tmp_path / "illegal.csv"))
    parcels = by_id(assess(data, project))
    assert bool(parcels.loc["Q1", "illegal_use"]) and parcels.loc["Q1", "grade"] == "D"  # 违法用地: direct D


def test_an_unknown_objection_status_in_the_file_is_a_data_error(park_dir, tmp_path):
    (tmp_path / "register.csv").write_text("异议编号,地块编号,处理状态\nY1,Q7,待定\n", encoding="utf-8-sig")
    with pytest.raises(DataError, match="待定"):
        load_park(park_dir, objections=str(tmp_path / "register.csv"))


def _title_row_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["2025年人工调整记录"], ["地块编号", "调整字段", "调整后值", "调整理由"], ["Q7", "等级", "B", "复核"],
                ["Q99", "税收", 36, "补录"]):
        sheet.append(row)
    book.save(path)


def _blank_line_csv(path: Path) -> None:
    path.write_text("地块编号,调整字段,调整后值,调整理由\nQ7,等级,B,复核\n\nQ99,税收,36,补录\n", encoding="utf-8-sig")


def _title_and_blank_row_xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (["调整记录"], ["地块编号", "调整字段", "调整后值", "调整理由"], [None], ["Q99", "税收", 36, "补录"]):
        sheet.append(row)
    book.save(path)


@pytest.mark.parametrize("write", [_title_row_xlsx, _blank_line_csv, _title_and_blank_row_xlsx],
                         ids=["title row", "blank line", "title and blank row"])
def test_the_row_named_is_the_files_row(write, park_dir, tmp_path):
    path = tmp_path / ("decisions.xlsx" if write.__name__.endswith("xlsx") else "decisions.csv")
    write(path)
    with pytest.raises(DataError) as caught:
        load_park(park_dir, overrides=str(path))
    assert str(caught.value).startswith(f"{path}, row 4 (parcel Q99): ")  # Q99 is on the file's fourth row


def test_a_class_decided_for_an_ungraded_parcel_is_given_a_path_or_refused_naming_the_file(park_dir, tmp_path):
    layer = park_layer()
    layer.loc[layer["parcel_id"] == "Q1", "status"] = "construction"  # not graded: U
    folder = write_park(tmp_path / "park")
    layer.to_file(folder / "parcels.gpkg", layer="parcels", driver="GPKG")
    (folder / "u.csv").write_text("parcel_id,field,value,reason\nQ1,grade,D,停工多年\n", encoding="utf-8")
    assert by_id(assess(*load_park(folder))).loc["Q1", ["grade", "graded"]].tolist() == ["U", False]  # as computed
    data, project = load_park(folder, overrides="u.csv")
    try:
        parcels = by_id(assess(data, project))
    except Exception as error:  # refused: then naming the decisions file
        assert "u.csv" in str(error)
    else:
        assert parcels.loc["Q1", "grade"] == "D" and parcels.loc["Q1", "disposal"] != ""


def test_file_rows_skip_the_header_and_the_blank_rows_by_hand():
    from landkit.io.read import file_rows

    assert file_rows(None, 3).tolist() == [2, 3, 4]
    # header on rows 2–3 (a title above), blank rows 5 and 6 and 8: data on 4, 7, 9, 10
    assert file_rows({"row": 2, "rows": 2, "blank": [8, 5, 6]}, 4).tolist() == [4, 7, 9, 10]
