"""Policy scenarios (issue 18 item 1) on a hand-made park whose classes are worked out by hand, and on the sample.

Six 100 m × 100 m parcels (15 亩) of one track ``t``: weights 亩均税收 50 (benchmark 10 万元/亩) and
容积率 50 (benchmark 1.0), caps 1, graded by score (A ≥ 80, B ≥ 60, C ≥ 40, else D). A parcel's
score is 50 min(t / 10, 1) + 50 min(f, 1) for tax per 亩 t and FAR f:

======  =====  ====  ===========  ===========================
parcel  t      f     base 50/50   variant 80/20
======  =====  ====  ===========  ===========================
P1      15     0.5   75 B         80 + 10 = 90 A (far costs less)
P2      5      1.0   75 B         40 + 20 = 60 B
P3      3      1.0   65 B         24 + 20 = 44 C (tax costs more)
P4      15     0.1   55 C         80 + 2 = 82 A (far costs less)
P5      1      0.1   10 D         8 + 2 = 10 D
P6      8      0.9   85 A         64 + 18 = 82 A
======  =====  ====  ===========  ===========================
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import WORKING, X0, Y0

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.core.errors import ConfigError
from landkit.data.dataset import Dataset
from landkit.data.parcels import add_areas
from landkit.decide.scenarios import (
    BASE,
    Variant,
    class_changes,
    read_scenarios,
    run_scenarios,
    scenario_summary,
    variant_project,
)
from landkit.decide.write import change_kind
from landkit.pipeline import Reuse, assess

SAMPLE = Path(__file__).resolve().parent.parent / "gis_data"
TRACK = {"name": "t", "label_zh": "全部", "label_en": "All", "weights": {"tax_per_mu": 50, "far": 50},
         "benchmarks": {"tax_per_mu": 10, "far": 1.0},
         "grading": {"method": "score", "rank_shares": {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05},
                     "score_min": {"A": 80, "B": 60, "C": 40}}}
#: parcel → (tax per 亩, FAR)
FIGURES = {"P1": (15, 0.5), "P2": (5, 1.0), "P3": (3, 1.0), "P4": (15, 0.1), "P5": (1, 0.1), "P6": (8, 0.9)}
BASE_CLASSES = {"P1": "B", "P2": "B", "P3": "B", "P4": "C", "P5": "D", "P6": "A"}
VARIANT_CLASSES = {"P1": "A", "P2": "B", "P3": "C", "P4": "A", "P5": "D", "P6": "A"}


@pytest.fixture(scope="module")
def project():
    caps = {"tax_per_mu": {"cap": 1.0}, "far": {"cap": 1.0}}
    return load_config(overrides={"year": 2025, "assessment": {"tracks": [TRACK], "indicators": caps}, "robustness": {"samples": 200}})


@pytest.fixture(scope="module")
def data() -> Dataset:
    rows = []
    for i, (pid, (tax, far)) in enumerate(FIGURES.items()):
        rows.append({"parcel_id": pid, "land_use": "M1", "status": "operating", "block_id": "B1", "lease_start_year": 2010,
                     "lease_end_year": 2060, "production_start_year": 2011, "floor_area_m2": far * 10_000, "footprint_m2": 4_000.0,
                     "structure": "钢混", "enterprise_count": 1, "tax_wan": tax * 15.0, "revenue_wan": 5_000.0,
                     "geometry": shapely.box(X0 + 120 * i, Y0, X0 + 120 * i + 100, Y0 + 100)})
    parcels = add_areas(gpd.GeoDataFrame(rows, geometry="geometry", crs=WORKING))
    blocks = gpd.GeoDataFrame({"block_id": ["B1"], "block_name": ["测试区块"]},
                              geometry=[shapely.box(X0 - 10, Y0 - 10, X0 + 800, Y0 + 110)], crs=WORKING)
    return Dataset(parcels=parcels, input_crs=parcels.crs, blocks=blocks)


WEIGHTS_80_20 = Variant("税收80", {"assessment.tracks.t.weights": {"tax_per_mu": 80, "far": 20}}, "亩均税收 80、容积率 20")
SAME = Variant("同基准", {"assessment.grading.rank_shares": {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05},
                          "assessment.tracks.t.weights.far": 50})


@pytest.fixture(scope="module")
def run(data, project):
    return run_scenarios(data, project, [WEIGHTS_80_20, SAME], source="test.yaml")


def classes(result) -> dict[str, str]:
    return dict(zip(result.parcels["parcel_id"], result.parcels["grade"], strict=True))


def test_base_classes_are_the_hand_made_ones(run):
    assert classes(run.base) == BASE_CLASSES
    assert run.base.parcels.set_index("parcel_id")["score"].to_dict() == pytest.approx(
        {"P1": 75, "P2": 75, "P3": 65, "P4": 55, "P5": 10, "P6": 85})


def test_moving_one_weight_moves_exactly_the_parcels_worked_out_by_hand(run):
    assert classes(run.results["税收80"]) == VARIANT_CLASSES
    changes = class_changes(run).set_index("parcel_id")
    assert set(changes.index) == {"P1", "P3", "P4"}
    assert (changes["scenario"] == "税收80").all()
    assert changes.loc["P1", ["grade_base", "grade_scenario"]].tolist() == ["B", "A"]
    assert changes.loc["P3", ["grade_base", "grade_scenario"]].tolist() == ["B", "C"]
    # what moved them: P1's FAR now costs 10 points instead of 25 (+15); P3's tax 56 instead of 35 (−21); P4's FAR 18 for 45
    assert changes["moved_by"].to_dict() == {"P1": "far", "P3": "tax_per_mu", "P4": "far"}
    assert changes["moved_points"].to_dict() == pytest.approx({"P1": 15.0, "P3": -21.0, "P4": 27.0})
    assert changes.loc["P3", "moved_by_zh"] == "亩均税收"
    # P3 joins the list (B → C), P4 leaves it (C → A)
    assert changes.loc["P3", ["listed_base", "listed_scenario"]].tolist() == [False, True]
    assert change_kind(changes.reset_index()).tolist() == ["up", "entered", "left"]


def test_summary_counts_and_changes(run):
    summary = scenario_summary(run).set_index("scenario")
    assert list(summary.index) == [BASE, "税收80", "同基准"]
    assert summary.loc[BASE, ["A_parcels", "B_parcels", "C_parcels", "D_parcels"]].tolist() == [1, 3, 1, 1]
    assert summary.loc["税收80", ["A_parcels", "B_parcels", "C_parcels", "D_parcels"]].tolist() == [3, 1, 1, 1]
    assert summary.loc["税收80", ["class_changes", "up", "down", "listed_in", "listed_out"]].tolist() == [3, 2, 1, 1, 1]
    assert summary.loc["税收80", "A_mu"] == pytest.approx(45.0)
    # the list is C and D: base P4, P5; variant P3, P5
    assert summary.loc[BASE, "listed_parcels"] == 2 and summary.loc["税收80", "listed_parcels"] == 2


def test_a_variant_identical_to_the_base_changes_nothing(run):
    summary = scenario_summary(run).set_index("scenario")
    figures = [c for c in summary.columns if c not in ("description",)]
    pd.testing.assert_series_equal(summary.loc["同基准", figures], summary.loc[BASE, figures], check_names=False)
    same = run.results["同基准"].parcels
    shown = ["grade", "score", "low_efficiency", "disposal", "land_freed_mu", "tax_gain_wan", "compensation_wan"]
    pd.testing.assert_frame_equal(pd.DataFrame(same[shown]), pd.DataFrame(run.base.parcels[shown]))
    assert not (class_changes(run)["scenario"] == "同基准").any()


def test_reuse_gives_what_a_whole_assessment_gives(data, project):
    base = assess(data, project)
    again = assess(data, project, reuse=Reuse(base, project))
    pd.testing.assert_frame_equal(pd.DataFrame(again.parcels), pd.DataFrame(base.parcels))
    assert again.summary == base.summary
    variant = variant_project(project, WEIGHTS_80_20, source="t")
    reused = assess(data, variant, reuse=Reuse(base, project))
    alone = assess(data, variant)
    pd.testing.assert_frame_equal(pd.DataFrame(reused.parcels), pd.DataFrame(alone.parcels))


# --- the scenarios file and its mistakes ---------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_file_and_enters_lists_by_name(tmp_path, project):
    path = write(tmp_path, "scenarios:\n  - name: A\n    description: d\n    set:\n      assessment.tracks.t.weights: {tax_per_mu: 70, far: 30}\n"
                           "      inventory.classes: [D]\n")
    [variant] = read_scenarios(path)
    assert variant.name == "A" and variant.description == "d"
    changed = variant_project(project, variant, source=str(path))
    assert changed.assessment.tracks[0].weights == {"tax_per_mu": 70, "far": 30}
    assert changed.inventory.classes == ["D"]
    assert changed.robustness.samples == 0  # sampled for the base only
    assert project.assessment.tracks[0].weights == {"tax_per_mu": 50, "far": 50}  # the base is untouched


@pytest.mark.parametrize(("text", "words"), [
    ("scenarios: []\n", "no `scenarios:` list"),
    ("scenarios:\n  - description: x\n    set: {year: 2024}\n", "scenario 1 has no name"),
    ("scenarios:\n  - name: A\n    set: {}\n", "`set:` must map"),
    ("scenarios:\n  - name: A\n    set: {year: 2024}\n  - name: A\n    set: {year: 2023}\n", "used twice"),
    ("scenarios:\n  - name: A\n    sett: {year: 2024}\n", "unknown key sett"),
    ("scenario:\n  - name: A\n", "unknown top-level key scenario"),
])
def test_file_mistakes_are_one_line(tmp_path, text, words):
    with pytest.raises(ConfigError) as info:
        read_scenarios(write(tmp_path, text))
    message = str(info.value)
    assert words in message and "scenarios.yaml" in message and "\n" not in message


@pytest.mark.parametrize(("settings", "words"), [
    ({"assessment.trackz.t.weights": {}}, "no key assessment.trackz"),
    ({"assessment.tracks.nope.weights.far": 10}, "no item nope in assessment.tracks (items: t)"),
    ({"assessment.tracks.t.weights": {"tax_per_mu": 80, "far": 30}}, "100"),
    ({"assessment.grading.rank_shares": {"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5}}, "sum to 1"),
    ({"year.value": 3}, "goes below a value"),
])
def test_variant_mistakes_name_the_file_the_variant_and_the_key(project, settings, words):
    with pytest.raises(ConfigError) as info:
        variant_project(project, Variant("坏情景", settings), source="s.yaml")
    message = str(info.value)
    assert words in message and message.startswith("s.yaml: scenario 坏情景") and "\n" not in message


def test_every_variant_is_checked_before_any_runs(data, project):
    bad = Variant("坏情景", {"inventory.nope": 1})
    with pytest.raises(ConfigError, match="坏情景"):
        run_scenarios(data, project, [WEIGHTS_80_20, bad], source="s.yaml",
                      stage=lambda name: pytest.fail(f"{name} ran before the check"))  # type: ignore[arg-type]


# --- the command on the sample -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenarios") / "out"
    result = CliRunner().invoke(cli, ["scenario", str(SAMPLE / "minhang.yaml"), "-s", str(SAMPLE / "scenarios_2025.yaml"),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_sample_writes_every_output(sample_out):
    out, output = sample_out
    for name in ("scenarios.gpkg", "scenarios.xlsx", "scenarios.json", "scenarios.html", "scenarios_map.html"):
        assert (out / name).stat().st_size > 0, name
    record = json.loads((out / "scenarios.json").read_text(encoding="utf-8"))
    names = [v.name for v in read_scenarios(SAMPLE / "scenarios_2025.yaml")]
    assert [row["scenario"] for row in record["summary"]] == [BASE, *names]
    summary = {row["scenario"]: row for row in record["summary"]}
    assert summary["淮安分档"]["class_changes"] > 0
    assert summary["只列D类"]["listed_parcels"] == summary[BASE]["listed_parcels"] - summary[BASE]["C_parcels"]  # C leaves the list
    assert summary["上楼目标容积率2.21"]["floor_area_added_m2"] > summary[BASE]["floor_area_added_m2"]
    assert summary["减量化补偿50万元每亩"]["compensation_wan"] > summary[BASE]["compensation_wan"]
    changes = gpd.read_file(out / "scenarios.gpkg", layer="class_changes")
    assert set(changes["scenario"]) <= set(names) and len(changes) == sum(r["class_changes"] for r in record["summary"])
    assert "7 variants" in output


def test_an_existing_output_is_not_replaced(sample_out):
    out, _ = sample_out
    before = (out / "scenarios.json").read_bytes()
    result = CliRunner().invoke(cli, ["scenario", str(SAMPLE / "minhang.yaml"), "-s", str(SAMPLE / "scenarios_2025.yaml"),
                                      "-o", str(out)])
    assert result.exit_code == 1 and "--overwrite" in result.output
    assert (out / "scenarios.json").read_bytes() == before


def test_a_bad_key_is_one_line_and_writes_nothing(tmp_path):
    path = write(tmp_path, "scenarios:\n  - name: 坏\n    set:\n      assessment.grading.rank_sharez: {A: 1}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scenario", str(SAMPLE / "minhang.yaml"), "-s", str(path), "-o", str(out)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "rank_sharez" in lines[0] and "Traceback" not in result.output
    assert not out.exists()


def test_a_run_folder_gives_its_settings_and_inputs(tmp_path, sample_out):
    run = tmp_path / "run"
    assessed = CliRunner().invoke(cli, ["-q", "assess", "-c", str(SAMPLE / "minhang.yaml"), "-o", str(run)])
    assert assessed.exit_code == 0, assessed.output
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["scenario", str(run), "-s", str(SAMPLE / "scenarios_2025.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    from_run = json.loads((out / "scenarios.json").read_text(encoding="utf-8"))["summary"]
    from_project = json.loads((sample_out[0] / "scenarios.json").read_text(encoding="utf-8"))["summary"]
    assert from_run == from_project  # the same settings and inputs as the project file's
