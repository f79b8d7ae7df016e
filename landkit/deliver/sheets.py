"""The workbook's sheets: which columns of an assessment each sheet shows, in which order."""

from __future__ import annotations

import logging

import pandas as pd

from landkit.config.models import Project
from landkit.pipeline import _ordered
from landkit.result import AssessmentResult

log = logging.getLogger(__name__)


#: Columns of the Excel sheets (the GeoPackage and `landkit export` carry every column).
INVENTORY_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "ownership", "status", "area_mu", "enterprise_names", "industry",
    "track", "grade", "grade_computed", "score", "weakest_zh", "reasons_zh", "idle_years", "far", "far_min", "tax_per_mu", "disposal_zh",
    "override_note", "land_freed_mu", "floor_area_added_m2", "tax_gain_wan", "compensation_basis", "compensation_wan", "net_land_value_wan",
    "payback_years", "review_year", "total_value_wan", "value_missing_reason",
]
WATCH_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "area_mu", "enterprise_names", "industry", "track", "grade",
    "score", "reasons_zh", "far", "far_min", "tax_per_mu", "disposal_zh", "floor_area_added_m2",
]
GRADED_SHEET = [
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "enterprise_names", "industry", "tax_wan",
    "revenue_wan", "track", "score", "grade", "grade_basis", "grade_reason_zh", "rank_in_track", "rank_in_block",
    "weakest_zh", "low_efficiency", "watch", "disposal_zh", "grade_computed", "override_note",
]
PATH_SHEET = [
    "parcel_id", "block_id", "block_name", "ownership", "area_mu", "grade", "list_basis", "disposal_zh", "land_freed_mu",
    "floor_area_added_m2", "potential_tax_wan", "tax_gain_wan", "compensation_basis", "compensation_wan",
    "net_land_value_wan", "payback_years", "review_year", "land_value_wan", "building_value_wan", "total_value_wan",
    "value_missing_reason", "disposal_computed", "override_note",
]
UNGRADED_SHEET = ["parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "ungraded_reason", "low_efficiency", "disposal_zh"]


def _present(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(frame[[c for c in dict.fromkeys(columns) if c in frame]])


def score_detail_columns(project: Project, parcels: pd.DataFrame) -> list[str]:
    """Return the columns that explain a parcel's score: each indicator's value, benchmark, points, loss."""
    columns = ["parcel_id", "track", "score", "grade", "weakest_zh"]
    for name in project.assessment.indicators:
        columns += [c for c in (name, f"{name}_bench", f"{name}_pts", f"{name}_lost") if c in parcels]
    return columns


def workbook_sheets(project: Project, result: AssessmentResult) -> dict[str, pd.DataFrame]:
    """Return the sheets of ``inventory.xlsx``: the lists, the score detail, the paths, summaries, KPIs."""
    parcels = _ordered(result.parcels)
    graded = parcels[parcels["graded"]].sort_values(["track", "rank_in_track"], kind="stable")
    indicators = [c for c in project.assessment.indicators if c in parcels]
    return {
        "低效用地清单": _present(_ordered(result.inventory), INVENTORY_SHEET),
        "关注清单": _present(_ordered(result.watchlist), WATCH_SHEET),
        "分级清单": _present(graded, GRADED_SHEET + indicators),
        "评分明细": _present(graded, score_detail_columns(project, graded)),
        "不参评地块": _present(parcels[~parcels["graded"]], UNGRADED_SHEET),
        "盘活路径": _present(parcels[parcels["disposal"] != ""], PATH_SHEET),
        "按路径汇总": result.tables["by_path"],
        "按等级汇总": result.tables["by_grade"],
        "等级与清单": result.tables["by_listing"],
        "分组等级": result.tables["by_track"],
        "评价基准": result.tables.get("benchmarks", pd.DataFrame()),
        "区块评价": result.blocks if result.blocks is not None else pd.DataFrame(),
        "规划指标": result.kpis,
        **{sheet: result.tables[key] for sheet, key in PLAN_SHEETS.items() if key in result.tables},
        **({"区块调整建议": pd.DataFrame(result.layers["block_changes"].drop(columns="geometry"))} if "block_changes" in result.layers else {}),
        **({"连片整合": pd.DataFrame(result.layers["assembly_sites"].drop(columns="geometry"))} if "assembly_sites" in result.layers else {}),
    }


#: The plan's items 12–14 (and ownership): sheet name → the result's table.
PLAN_SHEETS = {"土地权属": "by_ownership", "区块调整前后": "block_before_after", "商办转研发": "conversion", "工业上楼": "vertical",
               "公共服务可达": "service_access", "公共服务短板区块": "service_short_blocks", "道路网密度": "road_hierarchy",
               "道路网级配": "road_grading", "产业链覆盖": "chain_coverage", "链主企业": "chain_leaders",
               "研发制造联动": "chain_flows", "人工调整记录": "overrides", "异议登记": "objections"}


#: Rows above which a sheet goes to a CSV file beside the workbook (Excel holds 1,048,576 rows
#: and opens a few hundred thousand slowly; the GeoPackage has every row anyway).
MAX_SHEET_ROWS = 200_000

#: Long sheets written as CSV, by sheet name.
SHEET_CSV = {"低效用地清单": "inventory.csv", "关注清单": "watchlist.csv", "分级清单": "graded.csv", "评分明细": "score_detail.csv",
             "不参评地块": "ungraded.csv", "盘活路径": "paths.csv"}
