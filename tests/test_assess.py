"""The assessments, the list and the paths on twelve parcels computed by hand (one track)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.assess.performance import grade_by_rank, grade_by_score, normalise
from landkit.config.load import load_config
from landkit.core.errors import ConfigError
from landkit.core.units import M2_PER_MU
from landkit.data.dataset import Dataset
from landkit.data.parcels import add_areas
from landkit.pipeline import assess

CONFIG = """
year: 2025
assessment:
  indicators:
    far: {benchmark: 2.0, cap: 1.0}
  tracks:
    - {name: all, label_zh: 全部, label_en: All, weights: {tax_per_mu: 60, far: 40}}
valuation:
  district_default_yuan_m2: {工业: 1500}
scatter:
  small_plot_mu: {default: 5}
"""

TEN_MU = 10 * M2_PER_MU  # 6666.67 m²

# id, land use, status, area m², tax 万元, FAR, enterprises, industry, founded, inside block
ROWS = [
    ("P01", "M1", "operating", TEN_MU, 900.0, 2.0, 1, "高端装备", 2005, True),
    ("P02", "M1", "operating", TEN_MU, 600.0, 1.0, 1, "高端装备", 2005, True),
    ("P03", "M1", "operating", TEN_MU, 350.0, 2.5, 1, "生物医药", 2005, True),
    ("P04", "M1", "operating", TEN_MU, 80.0, 0.5, 1, "传统制造", 2005, True),
    ("P05", "M1", "operating", TEN_MU, 450.0, 1.5, 1, "高端装备", 2005, True),
    ("P06", "M1", "idle", TEN_MU, np.nan, 0.0, 0, None, None, True),
    ("P07", "M1", "construction", TEN_MU, np.nan, 0.0, 0, None, None, True),
    ("P08", "U", "operating", TEN_MU, np.nan, 0.075, 0, None, None, True),
    ("P09", "M1", "operating", TEN_MU, np.nan, 1.2, 0, None, None, True),
    ("P10", "M1", "operating", TEN_MU, 680.0, 0.6, 1, "数字经济", 2005, True),
    ("P11", "M1", "operating", 3 * M2_PER_MU, 90.0, 1.0, 1, "高端装备", 2005, False),
    ("P12", "M1", "operating", TEN_MU, 100.0, 1.5, 1, "脑机接口", 2024, True),
]


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def dataset(project):
    geoms, x = [], 500_000.0
    for row in ROWS:
        side = row[3] ** 0.5
        y = 3_430_000.0 if row[9] else 3_440_000.0
        geoms.append(shapely.box(x, y, x + side, y + side))
        x += 200
    frame = pd.DataFrame(ROWS, columns=["parcel_id", "land_use", "status", "_area", "tax_wan", "_far",
                                        "enterprise_count", "industry", "founded_year", "inside_block"])
    frame["block_id"] = np.where(frame["inside_block"], "B1", None)
    frame["lease_start_year"] = 2015
    frame["lease_end_year"] = 2045
    frame["production_start_year"] = pd.array([2010] * 5 + [None] * 4 + [2010, 2010, 2024], dtype="Int64")
    frame["founded_year"] = frame["founded_year"].astype("Int64")
    parcels = add_areas(gpd.GeoDataFrame(frame.drop(columns="_area"), geometry=geoms, crs=project.crs.working))
    parcels["floor_area_m2"] = parcels.pop("_far") * parcels["area_m2"]
    # 建筑系数 35 % (footprint never above the floor area), P04's 20 %
    parcels["footprint_m2"] = np.minimum(0.35 * parcels["area_m2"], parcels["floor_area_m2"])
    parcels.loc[parcels["parcel_id"] == "P04", "footprint_m2"] = 0.2 * TEN_MU
    blocks = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]},
                              geometry=[shapely.box(499_000, 3_429_000, 503_000, 3_432_000)], crs=project.crs.working)
    land_price = pd.DataFrame({"price_zone": ["B1"], "land_price_yuan_m2": [2000.0]})  # no zone layer: zones are blocks
    return Dataset(parcels=parcels, input_crs=parcels.crs, blocks=blocks, land_price=land_price)


@pytest.fixture
def result(dataset, project):
    return assess(dataset, project).parcels.set_index("parcel_id")


def test_scores_by_hand(result):
    # score = 100 × (60 × min(tax per mu / 60, 1.5) + 40 × min(FAR / 2, 1)) / (60 × 1.5 + 40 × 1)
    expected = {"P01": 130, "P02": 80, "P03": 75, "P04": 18, "P05": 75, "P10": 80, "P11": 50}
    for pid, points in expected.items():
        assert result.loc[pid, "score"] == pytest.approx(100 * points / 130, abs=1e-6), pid
    assert result.loc["P04", "tax_per_mu"] == pytest.approx(8.0)
    assert result.loc["P04", "tax_per_mu_pts"] == pytest.approx(8.0)
    assert result.loc["P03", "far_pts"] == pytest.approx(40.0)  # FAR 2.5 capped at the benchmark
    # what each indicator cost P04, in score points: 100 × (max − points) / 130; score + losses = 100
    assert result.loc["P04", "tax_per_mu_lost"] == pytest.approx(100 * (90 - 8) / 130)
    assert result.loc["P04", "far_lost"] == pytest.approx(100 * (40 - 10) / 130)
    assert result.loc["P04", "tax_per_mu_bench"] == 60 and result.loc["P04", "far_bench"] == 2.0
    assert result.loc["P04", "weakest_zh"] == f"亩均税收失{100 * 82 / 130:.1f}分；容积率失{100 * 30 / 130:.1f}分"
    assert result.loc["P01", "weakest_zh"] == ""  # lost nothing


def test_ungraded_parcels_get_u_with_the_reason(result):
    assert result.loc["P07", "ungraded_reason"] == "在建用地不参评"
    assert result.loc["P08", "ungraded_reason"] == "公用设施等用地不参评"
    assert result.loc["P06", "ungraded_reason"] == "闲置土地(依法认定，按闲置土地处置)"  # never started, due 2016
    assert result.loc["P09", "ungraded_reason"] == "无企业数据"
    assert result.loc["P12", "ungraded_reason"] == "初创企业(成立不足2年)"
    for pid in ("P06", "P07", "P08", "P09", "P12"):
        assert result.loc[pid, "grade"] == "U" and np.isnan(result.loc[pid, "score"])
    assert not result["score"].isin([np.inf, -np.inf]).any()


def test_grades_and_ranks_with_a_tie_at_the_cut(result):
    # 7 graded: A if rank ≤ 1.75, B ≤ 4.9, C ≤ 6.65, else D. P05 and P03 tie at ranks 4–5 across
    # the B cut and both take B (rank 4).
    grades = result["grade"].to_dict()
    assert {p for p, g in grades.items() if g == "A"} == {"P01"}
    assert {p for p, g in grades.items() if g == "B"} == {"P02", "P10", "P05", "P03"}
    assert {p for p, g in grades.items() if g == "C"} == {"P11"}
    assert {p for p, g in grades.items() if g == "D"} == {"P04"}
    assert result.loc["P10", "rank_in_track"] == 2 and result.loc["P03", "rank_in_track"] == 4
    assert result.loc["P04", "rank_in_block"] == 6  # 6 ranked parcels in B1
    assert pd.isna(result.loc["P11", "rank_in_block"])


def test_row_order_does_not_change_grades(dataset, project):
    shuffled = dataset.parcels.sample(frac=1, random_state=3)
    again = assess(Dataset(parcels=shuffled, input_crs=dataset.input_crs, blocks=dataset.blocks,
                           land_price=dataset.land_price), project).parcels.set_index("parcel_id")
    base = assess(dataset, project).parcels.set_index("parcel_id")
    pd.testing.assert_series_equal(again["grade"].sort_index(), base["grade"].sort_index())


def test_inventory_reasons(result):
    listed = result[result["low_efficiency"]]
    assert set(listed.index) == {"P04", "P06", "P11"}  # D, legally idle, C
    assert result.loc["P06", "reasons"] == "IDLE;LOW_FAR;LOW_COEFF"
    assert result.loc["P06", "reasons_zh"] == "闲置土地(闲置9年)；容积率低于控制指标；建筑系数低于30%"
    assert result.loc["P06", "idle_years"] == 9  # never produced: agreed start = 2015 lease + 1
    # P04: 传统制造's norm FAR 0.7 > 0.5; 建筑系数 20 %; 8 万元/亩 < 10
    assert result.loc["P04", "reasons"] == "D;LOW_FAR;LOW_COEFF;LOW_TAX"
    assert result.loc["P04", "far_min"] == 0.7
    assert result.loc["P11", "reasons"] == "C;SPORADIC;SMALL;ISOLATED"
    assert not result.loc["P07", "low_efficiency"]  # under construction: FAR 0 is not low FAR
    # an A/B parcel below its industry's FAR (数字经济 1.0 > 0.6) is watched, never listed
    assert result.loc["P10", "watch"] and not result.loc["P10", "low_efficiency"] and result.loc["P10", "reasons"] == "LOW_FAR"
    assert not result.loc[["P01", "P02", "P03", "P05"], "watch"].any()


def test_disposal_paths_and_gains(result):
    assert result.loc["P06", "disposal"] == "idle_free" and result.loc["P06", "disposal_zh"] == "无偿收回(闲置满两年)"
    assert result.loc["P06", "land_freed_mu"] == pytest.approx(10) and result.loc["P06", "compensation_wan"] == 0
    assert result.loc["P04", "disposal"] == "reclaim"  # D inside the block, not small
    assert result.loc["P04", "land_freed_mu"] == pytest.approx(10)
    assert result.loc["P04", "compensation_wan"] == pytest.approx(result.loc["P04", "total_value_wan"])
    # B1's median tax per 亩 over its graded parcels: median(90, 60, 35, 8, 45, 68) = 52.5
    assert result.loc["P04", "potential_tax_wan"] == pytest.approx(525)
    assert result.loc["P04", "tax_gain_wan"] == pytest.approx(525 - 80)
    assert result.loc["P06", "tax_gain_wan"] == pytest.approx(525)
    assert result.loc["P11", "disposal"] == "watch" and result.loc["P11", "review_year"] == 2026  # C, FAR and 建筑系数 fine
    assert result.loc["P11", "tax_gain_wan"] == 0 and result.loc["P11", "compensation_wan"] == 0
    assert result.loc["P10", "disposal"] == "vertical"  # light industry, FAR below 2.0, inside the block
    assert result.loc["P10", "floor_area_added_m2"] == pytest.approx(2.0 * TEN_MU - 0.6 * TEN_MU)
    assert result.loc["P01", "disposal"] == "support" and result.loc["P02", "disposal"] == "support"  # 高端装备 is not light
    for pid in ("P07", "P08", "P09", "P12"):  # U: no path
        assert result.loc[pid, "disposal"] == ""


def test_value_by_hand(result):
    k = (1 - 1.06**-20) / (1 - 1.06**-50)  # 20 years left of a 50-year term at 6 %
    assert result.loc["P01", "lease_factor"] == pytest.approx(k)
    # FAR 2.0: 容积率修正 1.05 (the profile's last point); inside the block: ΣK = 0
    assert result.loc["P01", "land_value_wan"] == pytest.approx(2000 * 1.05 * TEN_MU * k / 1e4)
    # floor 2 × 10 亩 of 钢混 (the default structure), built 2010: 15 years old, 35 of its 50-year
    # life left but only 20 lease years: 成新率 = 20 / (15 + 20)
    assert result.loc["P01", "building_share"] == pytest.approx(20 / 35)
    assert result.loc["P01", "building_value_wan"] == pytest.approx(2 * TEN_MU * 3000 * 20 / 35 / 1e4)
    total = 2000 * 1.05 * TEN_MU * k / 1e4 + 2 * TEN_MU * 3000 * 20 / 35 / 1e4
    assert result.loc["P01", "value_per_mu_wan"] == pytest.approx(total / 10)
    # outside blocks: the district default for 工业; 零星 ΣK −5 %; FAR 1.0: 1.0
    assert result.loc["P11", "land_price_yuan_m2"] == 1500
    assert result.loc["P11", "land_value_wan"] == pytest.approx(1500 * 0.95 * 3 * M2_PER_MU * k / 1e4)
    # a utility has no price use: no value, and the reason
    assert np.isnan(result.loc["P08", "total_value_wan"]) and "U" in result.loc["P08", "value_missing_reason"]


def test_grade_cut_boundaries():
    score = pd.Series(np.arange(20, 0, -1, dtype=float))
    grade, _rank = grade_by_rank(score, {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05})
    assert grade.value_counts().to_dict() == {"A": 5, "B": 9, "C": 5, "D": 1}
    tied = pd.Series([10.0, 9, 9, 9, 1])  # n = 5: A ≤ 1.25 → only rank 1
    assert list(grade_by_rank(tied, {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05})[0]) == ["A", "B", "B", "B", "D"]
    assert list(grade_by_score(pd.Series([85, 84.99, 70, 50, 49.9]), {"A": 85, "B": 70, "C": 50})) == ["A", "B", "B", "C", "D"]


def test_minmax_and_percentile(project):
    far = project.assessment.indicators["far"]
    values = pd.Series([1.0, 2.0, 3.0])
    norm, cap = normalise(values, far.model_copy(update={"method": "minmax"}), None)
    assert list(norm) == pytest.approx([0.2, 0.6, 1.0]) and cap == 1.0
    norm, _ = normalise(values, far.model_copy(update={"method": "minmax", "direction": "lower"}), None)
    assert list(norm) == pytest.approx([1.0, 0.6, 0.2])
    norm, _ = normalise(values, far.model_copy(update={"method": "percentile"}), None)
    assert list(norm) == pytest.approx([1 / 3, 2 / 3, 1.0])
    norm, _ = normalise(pd.Series([0.0, 4.0]), far.model_copy(update={"direction": "lower"}), None)
    assert list(norm) == pytest.approx([1.0, 0.5])  # lower is better: b / x capped; x = 0 scores the cap


def test_group_benchmark_and_derived_benchmark(project):
    from landkit.assess.performance import benchmarks
    from landkit.config.models import Derive

    track = project.assessment.tracks[0]
    tax = project.assessment.indicators["tax_per_mu"].model_copy(update={"benchmark_by_group": {"生物医药": 120.0}})
    values, groups = pd.Series([60.0, 60.0]), pd.Series(["高端装备", "生物医药"])
    bench = benchmarks(values, tax, track, "tax_per_mu", groups)
    assert list(bench) == [60.0, 120.0]
    # the benchmarks table names where each came from, in the same order of precedence
    from landkit.assess.performance import benchmark_source

    assert [benchmark_source(tax, track, "tax_per_mu", g) for g in ("高端装备", "生物医药")] == [
        "track" if "tax_per_mu" in track.benchmarks else "profile", "group"]
    norm, _ = normalise(values, tax, bench)
    assert list(norm) == pytest.approx([1.0, 0.5])
    # 淮安: about twice the average: 2 × mean(10, 20, 60) = 60; by group: 2 × each group's mean
    derived = tax.model_copy(update={"derive": Derive(statistic="mean", factor=2.0)})
    assert list(benchmarks(pd.Series([10.0, 20.0, 60.0]), derived, track, "tax_per_mu", pd.Series(["a", "a", "b"]))) == [60.0] * 3
    assert benchmark_source(derived, track, "tax_per_mu", "生物医药") == "derived"
    by_group = tax.model_copy(update={"derive": Derive(statistic="mean", factor=2.0, by="group")})
    assert list(benchmarks(pd.Series([10.0, 20.0, 60.0]), by_group, track, "tax_per_mu", pd.Series(["a", "a", "b"]))) == [30.0, 30.0, 120.0]


def test_a_derived_benchmark_with_nothing_to_derive_from_says_why(project):
    """A group whose parcels all lack the indicator has no mean (not 'a mean of nan'); a zero mean is named as such."""
    from landkit.assess.performance import benchmarks
    from landkit.config.models import Derive
    from landkit.core import i18n

    track = project.assessment.tracks[0]
    derived = project.assessment.indicators["tax_per_mu"].model_copy(update={"derive": Derive(statistic="median", by="group")})
    groups = pd.Series(["a", "b", "b"])
    with pytest.raises(ConfigError, match=r"no parcel of track `\w+`, group `b` has a value of `tax_per_mu`.*its median"):
        benchmarks(pd.Series([10.0, np.nan, np.nan]), derived, track, "tax_per_mu", groups)
    with pytest.raises(ConfigError, match=r"the median of track `\w+`, group `b` is 0, so no benchmark"):
        benchmarks(pd.Series([10.0, 0.0, 0.0]), derived, track, "tax_per_mu", groups)
    i18n.set_language("zh")  # the fixture of conftest.py goes back to English after the test
    with pytest.raises(ConfigError, match=r"没有地块具有 `tax_per_mu` 的数值，无法由其中位数推导出基准值"):
        benchmarks(pd.Series([10.0, np.nan, np.nan]), derived, track, "tax_per_mu", groups)


def test_indicator_with_absent_input_is_a_clear_error(dataset, tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(CONFIG.replace("{tax_per_mu: 60, far: 40}", "{tax_per_mu: 60, va_per_energy: 40}"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"indicator `va_per_energy` .* needs energy_tce, .*columns\.enterprises\.energy_tce"):
        assess(dataset, load_config(path))


def test_bad_rule_names_the_rule(dataset, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(CONFIG + "inventory:\n  reasons:\n    - {code: X, label_zh: 甲, label_en: x, when: \"grde == 'D'\"}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inventory.reasons\[0\] \(X\).*`grde`"):
        assess(dataset, load_config(path))


def test_surface_resolution_is_capped_for_a_large_extent(project):
    from landkit.deliver.writer import MAX_SURFACE_PIXELS, surface_resolution

    small = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs=project.crs.working)
    assert surface_resolution(small, 20) == 20
    city = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(199_000, 99_000, 200_000, 100_000)],
                            crs=project.crs.working)
    coarse = surface_resolution(city, 20)
    assert coarse > 20 and (200_000 / coarse) * (100_000 / coarse) <= MAX_SURFACE_PIXELS


def test_long_sheets_go_to_csv_beside_the_workbook(dataset, project, tmp_path, monkeypatch):
    import openpyxl

    from landkit.deliver import writer

    monkeypatch.setattr(writer, "MAX_SHEET_ROWS", 5)  # the 12 parcels' graded list is "long"
    result = assess(dataset, project)
    paths = writer.write_workbook(tmp_path, project, result)
    graded = pd.read_csv(tmp_path / "graded.csv", encoding="utf-8-sig")
    assert len(graded) == int(result.parcels["graded"].sum()) > 5
    book = openpyxl.load_workbook(paths[0], read_only=True)
    note = [row for row in book["分级清单"].iter_rows(values_only=True)]
    assert "graded.csv" in note[1][0]
    listed = int(result.parcels["low_efficiency"].sum())
    assert (tmp_path / "inventory.csv").exists() == (listed > 5)


def test_block_land_development_rate_counts_supplied_land_over_the_blocks_land():
    """土地开发率 = supplied or built parcel land / all the block's parcel land (未供应 included),
    not parcel area over the block outline; 闲置土地率 counts legally idle land, not stopped firms."""
    from landkit.assess.blocks import block_indicators

    frame = pd.DataFrame({
        "block_id": ["B1"] * 5,
        "area_m2": [60_000.0, 20_000.0, 10_000.0, 10_000.0, 5_000.0],
        "status": ["operating", "unsupplied", "idle", "operating", "stopped"],
        "land_use": ["M1", "M1", "M1", "C65", "M2"],
        "legally_idle": [False, False, True, False, False],
    })
    table = block_indicators(frame, pd.Series({"B1": 200_000.0}))  # the outline, streets included, is twice the land
    b1 = table.loc["B1"]
    assert b1["land_development_rate"] == pytest.approx(85_000 / 105_000)
    assert b1["industrial_land_share"] == pytest.approx(75_000 / 85_000)
    assert b1["idle_rate"] == pytest.approx(10_000 / 85_000)
    assert table.loc["PARK", "land_development_rate"] == pytest.approx(85_000 / 105_000)


def test_the_far_norm_of_an_industry_group_applies(dataset, tmp_path):
    """`industry_groups` map industries onto the norm's groups; the group's minimum FAR is used."""
    path = tmp_path / "g.yaml"
    parcels = dataset.parcels.copy()
    parcels.loc[parcels["parcel_id"] == "P02", "industry"] = "航天装备"  # an industry the norm's table does not name
    dataset = Dataset(parcels=parcels, input_crs=dataset.input_crs, blocks=dataset.blocks, land_price=dataset.land_price)
    config = CONFIG.replace("assessment:\n", "assessment:\n  industry_groups: {通用设备制造业: [航天装备]}\n", 1)
    path.write_text(config + "inventory:\n  params:\n    far_min: {通用设备制造业: 1.2, default: 0.5}\n", encoding="utf-8")
    result = assess(dataset, load_config(path)).parcels.set_index("parcel_id")
    assert result.loc["P02", "industry_group"] == "通用设备制造业"
    assert result.loc["P02", "far_min"] == 1.2 and result.loc["P02", "r_LOW_FAR"]  # FAR 1.0 < 1.2
    assert result.loc["P01", "far_min"] == 0.7  # 高端装备: its own entry (the industry before its group)


def test_price_zone_is_the_first_zone_holding_the_representative_point():
    """Against a brute force over every parcel and zone: the sample's four grade zones, and a point
    on the shared edge of two zones (in both: the first in the layer's order)."""
    from pathlib import Path

    from landkit.assess.valuation import price_zone_of

    root = Path(__file__).resolve().parent.parent / "gis_data"
    parcels = gpd.read_file(root / "minhang.gpkg", layer="parcels").to_crs("EPSG:32651")
    zones = gpd.read_file(root / "minhang.gpkg", layer="price_zones").to_crs("EPSG:32651")
    zones = zones.rename(columns={zones.columns[0]: "price_zone"})
    got = price_zone_of(parcels, zones)
    points = parcels.geometry.representative_point()
    for i in range(0, len(parcels), 7):  # every 7th parcel, each against every zone
        holding = [k for k, zone in enumerate(zones.geometry) if zone.intersects(points.iloc[i])]
        assert got.iloc[i] == (str(zones["price_zone"].iloc[holding[0]]) if holding else None)
    two = gpd.GeoDataFrame({"price_zone": ["二级", "一级"]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
                           crs="EPSG:32651")
    on_edge = gpd.GeoDataFrame(geometry=[shapely.LineString([(10, 2), (10, 8)]), shapely.box(12, 1, 13, 2)], crs="EPSG:32651")
    assert price_zone_of(on_edge, two).tolist() == ["二级", "一级"]
