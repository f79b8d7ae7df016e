"""The plan's ten 2026 targets on a hand-made register of five firms, and their path across two years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landkit.assess.kpis import KPIS, kpi_paths, plan_kpis
from landkit.config.load import load_config

FIRMS = pd.DataFrame({
    "enterprise_id": ["E1", "E2", "E3", "E4", "E5"],
    "industry": ["集成电路", "生物医药", "数字经济", "高端装备", "传统制造"],
    "revenue_wan": [200_000.0, 100_000.0, 50_000.0, 400_000.0, 250_000.0],
    "rd_spend_wan": [20_000.0, 10_000.0, 5_000.0, 8_000.0, 2_000.0],
    "value_added_wan": [60_000.0, 30_000.0, 10_000.0, 100_000.0, 50_000.0],
    "employees": [1000.0, 500.0, 500.0, 2000.0, 1000.0],
    "high_tech": [True, True, False, True, False],
    "champion": [True, False, False, True, False],
    "pct_filings": [30.0, 12.0, 0.0, 8.0, np.nan],
    "talents": [400.0, 300.0, 100.0, 900.0, 50.0],
    "industrial_output_wan": [180_000.0, 90_000.0, np.nan, 420_000.0, 260_000.0],
})


@pytest.fixture(scope="module")
def spec():
    return load_config().kpis


def test_every_kpi_by_hand(spec):
    facilities = pd.DataFrame({"facility_kind": ["incubator", "school", "incubator"]})
    table = plan_kpis(FIRMS, spec.model_copy(update={"park_figures": {"fund_size_yi": 120.0}}), facilities=facilities).set_index("kpi")
    assert list(table.index) == list(KPIS)  # all ten, in the plan's order
    actual = table["actual"]
    assert actual["rd_share"] == pytest.approx(45_000 / 1_000_000)
    assert actual["high_tech_firms"] == 3 and actual["champions"] == 2
    assert actual["pct_filings"] == 50
    # 战略性新兴产业: 集成电路, 生物医药, 数字经济 (no output), 高端装备; 传统制造 is not one — in 亿元
    assert actual["strategic_emerging_output_yi"] == pytest.approx((180_000 + 90_000 + 420_000) / 10_000)
    # 三大先导产业 (集成电路, 生物医药, 数字经济): revenue and talents
    assert actual["leading_industries_yi"] == pytest.approx(350_000 / 10_000)
    assert actual["talents"] == 800
    assert actual["labour_productivity_wan"] == pytest.approx(250_000 / 5000)
    assert actual["incubators"] == 2
    assert actual["fund_size_yi"] == 120 and table.loc["fund_size_yi", "source"] == "project"
    assert table.loc["rd_share", "target"] == 0.068 and table.loc["rd_share", "ratio"] == pytest.approx(0.045 / 0.068)
    assert table.loc["labour_productivity_wan", "met"] == False  # noqa: E712  (50 < 53.3)
    assert (table["source"].drop("fund_size_yi") == "data").all()


def test_a_missing_column_is_no_data_naming_it(spec):
    table = plan_kpis(FIRMS.drop(columns=["pct_filings", "champion"]), spec).set_index("kpi")
    assert np.isnan(table.loc["pct_filings", "actual"]) and table.loc["pct_filings", "source"] == "none"
    assert table.loc["pct_filings", "missing_zh"] == "无数据：pct_filings 可提供"
    assert table.loc["champions", "missing_en"] == "no data: champion would supply it"
    assert "inputs.facilities" in table.loc["incubators", "missing_zh"]
    assert table.loc["fund_size_yi", "missing_zh"] == "无数据：kpis.park_figures.fund_size_yi 可提供"
    assert table.loc["pct_filings", "met"] is None
    assert plan_kpis(None, spec)["actual"].isna().all()


def test_path_toward_2026_from_two_years(spec):
    # rd_share 0.050 in 2024 and 0.062 in 2025, target 0.068 in 2026: the straight path from 2024
    # passes 0.059 in 2025 (on track); high-tech firms 1000 then 1100 against a path of 1275.
    history = pd.DataFrame({"year": [2024, 2025, 2024, 2025], "kpi": ["rd_share", "rd_share", "high_tech_firms", "high_tech_firms"],
                            "actual": [0.050, 0.062, 1000.0, 1100.0]})
    paths = kpi_paths(history, spec).set_index(["kpi", "year"])
    assert paths.loc[("rd_share", 2025), "path"] == pytest.approx(0.059)
    assert bool(paths.loc[("rd_share", 2025), "on_track"])
    assert paths.loc[("high_tech_firms", 2025), "path"] == pytest.approx(1275)
    assert not bool(paths.loc[("high_tech_firms", 2025), "on_track"])
    assert paths.loc[("high_tech_firms", 2025), "needed_per_year"] == pytest.approx(1550 / 1100 - 1)
    assert np.isnan(paths.loc[("high_tech_firms", 2024), "needed_per_year"])  # only on the latest year
    assert paths.loc[("rd_share", 2024), "path"] == pytest.approx(0.050)
    assert kpi_paths(history.iloc[:0], spec).empty
