"""The plan's ten 2026 targets on a hand-made register, each worked out by hand, and their path to 2026."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landkit.assess.kpis import KPI_COLUMNS, KPIS, in_industries, kpi_paths, plan_kpis
from landkit.config.load import load_config

# E2's industry (软件) is no leading industry, but its segment 人工智能 is; E4 reports no R&D and no
# employees; E3 and E4 have blanks in the flags and counts.
FIRMS = pd.DataFrame({
    "enterprise_id": ["E1", "E2", "E3", "E4", "E5"],
    "industry": ["集成电路", "软件", "高端装备", "传统制造", "生物医药"],
    "segment": ["芯片设计", "人工智能", "航天", None, None],
    "revenue_wan": [100_000.0, 50_000.0, 200_000.0, 150_000.0, 30_000.0],
    "rd_spend_wan": [9_000.0, 6_000.0, 8_000.0, np.nan, 3_000.0],
    "value_added_wan": [30_000.0, 20_000.0, 50_000.0, 20_000.0, 9_000.0],
    "employees": [400.0, 300.0, 1000.0, np.nan, 100.0],
    "high_tech": [True, True, False, False, None],
    "champion": [True, False, None, False, True],
    "pct_filings": [10.0, 5.0, np.nan, 0.0, 2.0],
    "talents": [200.0, 100.0, 300.0, 50.0, 80.0],
    "industrial_output_wan": [90_000.0, np.nan, 210_000.0, 160_000.0, 25_000.0],
})
FACILITIES = pd.DataFrame({"facility_kind": ["incubator", "incubator", "school", "incubator"]})


@pytest.fixture(scope="module")
def spec():
    return load_config().kpis


@pytest.fixture(scope="module")
def table(spec):
    with_fund = spec.model_copy(update={"park_figures": {"fund_size_yi": 400.0}})
    return plan_kpis(FIRMS, with_fund, facilities=FACILITIES).set_index("kpi")


def test_each_kpi_by_hand(table):
    actual = table["actual"]
    # R&D over the firms reporting both (E4 has no R&D): (9,000 + 6,000 + 8,000 + 3,000) / (100,000 + 50,000 + 200,000 + 30,000)
    assert actual["rd_share"] == pytest.approx(26_000 / 380_000)
    assert actual["high_tech_firms"] == 2          # E1, E2 (a blank is not a yes)
    assert actual["champions"] == 2                # E1, E5
    assert actual["pct_filings"] == 17             # 10 + 5 + 0 + 2
    # 战略性新兴产业: E1 集成电路 90,000, E2 (人工智能, no output), E3 高端装备 210,000, E5 生物医药 25,000; not 传统制造
    assert actual["strategic_emerging_output_yi"] == pytest.approx(325_000 / 10_000)
    # 三大先导产业: E1 集成电路, E2 by its segment 人工智能, E5 生物医药
    assert actual["leading_industries_yi"] == pytest.approx(180_000 / 10_000)
    assert actual["talents"] == 380                # 200 + 100 + 80
    # value added per person over the firms reporting both (E4 has no employees): 109,000 / 1,800
    assert actual["labour_productivity_wan"] == pytest.approx(109_000 / 1_800)
    assert actual["incubators"] == 3
    assert actual["fund_size_yi"] == 400


def test_targets_ratios_and_sources(table):
    assert list(table.index) == list(KPIS)
    assert list(table.reset_index().columns) == KPI_COLUMNS
    assert table.loc["rd_share", "ratio"] == pytest.approx((26_000 / 380_000) / 0.068)
    met = dict(zip(table.index, table["met"].tolist(), strict=True))
    assert met == {"rd_share": True,                    # 6.84 % ≥ 6.8 %
                   "high_tech_firms": False, "champions": False, "pct_filings": False,
                   "strategic_emerging_output_yi": False,  # 32.5 < 1,380 亿元
                   "leading_industries_yi": False,      # 18 < 675 亿元
                   "labour_productivity_wan": True,     # 60.6 ≥ 53.3
                   "incubators": True,                  # 3 ≥ 2
                   "talents": False,                    # 380 < 34,000
                   "fund_size_yi": True}                # 400 ≥ 350
    assert table.loc["strategic_emerging_output_yi", "target"] == 1380
    assert table.loc["leading_industries_yi", ["unit", "label_zh"]].tolist() == ["亿元", "三大先导产业总规模"]
    assert table.loc["fund_size_yi", "source"] == "project" and (table["source"].drop("fund_size_yi") == "data").all()
    assert (table["missing_zh"] == "").all() and (table["missing_en"] == "").all()


def test_a_park_figure_wins_over_the_data(spec):
    stated = spec.model_copy(update={"park_figures": {"incubators": 1.0, "high_tech_firms": 1600.0}})
    table = plan_kpis(FIRMS, stated, facilities=FACILITIES).set_index("kpi")
    assert table.loc["incubators", ["actual", "source", "met"]].tolist() == [1.0, "project", False]
    assert table.loc["high_tech_firms", ["actual", "source", "met"]].tolist() == [1600.0, "project", True]


def test_absent_or_empty_columns_are_no_data_naming_them(spec):
    firms = FIRMS.drop(columns=["talents", "industrial_output_wan"]).assign(champion=None)
    table = plan_kpis(firms, spec, facilities=pd.DataFrame({"facility_name": ["甲"]})).set_index("kpi")
    assert table.loc["talents", ["source", "missing_zh"]].tolist() == ["none", "无数据：talents 可提供"]
    assert table.loc["strategic_emerging_output_yi", "missing_en"] == "no data: industrial_output_wan would supply it"
    assert table.loc["champions", "missing_en"] == "no data: champion would supply it"   # present, but empty
    assert "inputs.facilities" in table.loc["incubators", "missing_en"]                   # a layer without 设施类型
    assert table.loc["fund_size_yi", "missing_en"] == "no data: kpis.park_figures.fund_size_yi would supply it"
    for name in ("talents", "champions", "incubators", "fund_size_yi"):
        assert np.isnan(table.loc[name, "actual"]) and pd.isna(table.loc[name, "met"]) and np.isnan(table.loc[name, "ratio"])
    assert table.loc["rd_share", "source"] == "data"


def test_only_the_configured_targets_in_the_plans_order(spec):
    two = spec.model_copy(update={"targets": {"talents": 100.0, "rd_share": 0.05}})
    table = plan_kpis(FIRMS, two)
    assert table["kpi"].tolist() == ["rd_share", "talents"]
    assert table["met"].tolist() == [True, True]  # 6.84 % ≥ 5 %; 380 ≥ 100


def test_membership_by_industry_or_segment():
    assert in_industries(FIRMS, ["人工智能", "生物医药"]).tolist() == [False, True, False, False, True]
    assert in_industries(FIRMS.drop(columns=["segment"]), ["人工智能"]).tolist() == [False] * 5


# --- the path toward 2026 ---------------------------------------------------------------------------

HISTORY = pd.DataFrame({
    "year": [2024, 2025, 2023, 2025, 2026, 2024, 2025, 2025, 2025, 2024],
    "kpi": ["pct_filings", "pct_filings", "talents", "talents", "champions", "rd_share", "rd_share", "rd_share", "foo", "incubators"],
    "actual": [50.0, 110.0, 20_000.0, 30_000.0, 9.0, 0.04, 0.05, 0.06, 1.0, np.nan],
})


def test_paths_by_hand(spec):
    paths = kpi_paths(HISTORY, spec).set_index(["kpi", "year"])
    # PCT 50 (2024) → 200 (2026): 125 in 2025; 110 is below; (200 / 110)^(1/1) − 1 needed
    assert paths.loc[("pct_filings", 2024), ["path", "on_track"]].tolist() == [50.0, True]
    assert paths.loc[("pct_filings", 2025), "path"] == pytest.approx(125.0)
    assert not bool(paths.loc[("pct_filings", 2025), "on_track"])
    assert paths.loc[("pct_filings", 2025), "needed_per_year"] == pytest.approx(200 / 110 - 1)
    assert paths.loc[("pct_filings", 2025), "ratio"] == pytest.approx(110 / 200)
    # talents 20,000 (2023) → 34,000 (2026): 2025 is two thirds of the way, 29,333.3; 30,000 is on track
    assert paths.loc[("talents", 2025), "path"] == pytest.approx(20_000 + 14_000 * 2 / 3)
    assert bool(paths.loc[("talents", 2025), "on_track"])
    assert paths.loc[("talents", 2025), "needed_per_year"] == pytest.approx(34_000 / 30_000 - 1)
    assert np.isnan(paths.loc[("talents", 2023), "needed_per_year"])  # only on the latest year
    # first recorded in the target year: the path is the target, no growth left to need
    assert paths.loc[("champions", 2026), ["path", "target"]].tolist() == [8.0, 8.0]
    assert bool(paths.loc[("champions", 2026), "on_track"]) and np.isnan(paths.loc[("champions", 2026), "needed_per_year"])
    # two runs of 2025: the later one (0.06) counts; path 0.04 + (0.068 − 0.04) / 2 = 0.054
    assert paths.loc[("rd_share", 2025), ["actual", "path"]].tolist() == pytest.approx([0.06, 0.054])
    assert paths.loc[("rd_share", 2025), "needed_per_year"] == pytest.approx(0.068 / 0.06 - 1)
    # KPIs without a target, and runs without a value, are left out
    assert set(paths.index.get_level_values("kpi")) == {"pct_filings", "talents", "champions", "rd_share"}


def test_paths_with_a_later_target_year_and_beyond_it(spec):
    later = spec.model_copy(update={"target_year": 2028})
    history = pd.DataFrame({"year": [2024, 2026, 2029], "kpi": ["pct_filings"] * 3, "actual": [40.0, 100.0, 150.0]})
    paths = kpi_paths(history, later).set_index("year")
    # 40 (2024) → 200 (2028): 40 a year, so 120 in 2026; past 2028 the path stays at the target
    assert paths["path"].tolist() == pytest.approx([40.0, 120.0, 200.0])
    assert paths["on_track"].tolist() == [True, False, False]
    assert np.isnan(paths.loc[2029, "needed_per_year"])  # the target year has passed
    assert paths.loc[2024, "target"] == 200


def test_no_history_gives_an_empty_table(spec):
    empty = kpi_paths(HISTORY.iloc[:0], spec)
    assert empty.empty and list(empty.columns) == ["kpi", "year", "actual", "target", "path", "on_track", "ratio", "needed_per_year"]
