"""Grade robustness (issue 18 item 2): class probabilities under sampled weights, checked independently.

Answers come from the assessment itself (no spread gives its classes back), from probabilities
worked out by hand as ratios of areas in the square of two uniform weight factors, and from a
plain loop over the samples that grades each one with :func:`grade_by_rank` / :func:`grade_by_score`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landkit.analyses.robustness import (
    COLUMNS,
    PROBABILITY_COLUMNS,
    SUMMARY_COLUMNS,
    TrackSamples,
    grade_robustness,
    robustness_summary,
    track_counts,
)
from landkit.assess.performance import GRADES, assess_performance, grade_by_rank, grade_by_score
from landkit.config.load import load_config
from landkit.config.models import Project
from landkit.core.errors import DataError
from landkit.core.units import M2_PER_MU

SCORE_MIN = {"A": 85, "B": 70, "C": 50}
RANK = {"method": "rank", "rank_shares": {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05}, "score_min": SCORE_MIN}
SCORE = {"method": "score", "rank_shares": {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05},
         "score_min": {"A": 80, "B": 60, "C": 40}}
#: Caps of the profile's indicators used here (default.yaml): 亩均税收 1.5, 容积率 1.5, 建筑密度 1.0.
CAP = {"tax_per_mu": 1.5, "far": 1.5, "coverage": 1.0}


def with_robustness(project: Project, **settings: object) -> Project:
    """Return the project with ``robustness`` settings replaced."""
    return project.model_copy(update={"robustness": project.robustness.model_copy(update=settings)})


def one_track_project(weights: dict[str, float], grading: dict[str, object]) -> Project:
    """Return the default profile with one track ``t`` of these weights and this grading."""
    track = {"name": "t", "label_zh": "全部", "label_en": "All", "weights": weights, "grading": grading}
    return load_config(overrides={"year": 2025, "assessment": {"tracks": [track]}})


def ranked_frame(points: dict[str, list[float]], basis: str) -> pd.DataFrame:
    """Return an assessed-looking frame of track ``t`` with these points, every parcel ranked by ``basis``."""
    frame = pd.DataFrame({f"{name}_pts": values for name, values in points.items()})
    frame.index = [f"P{i}" for i in range(len(frame))]
    frame["track"] = "t"
    frame["grade"] = "C"  # not read by the sampling
    frame["grade_basis"] = basis
    return frame


# --- an assessed park: no spread gives the assessment's classes back ---------------------------


@pytest.fixture(scope="module")
def park() -> tuple[pd.DataFrame, Project]:
    """Forty parcels assessed on two tracks (rank-graded ``large``, score-graded ``small``), many tied.

    P00 is under construction (U), P01 stopped three years (direct D); values come from small sets
    so that scores tie, also across the cuts.
    """
    project = load_config(overrides={"year": 2025, "assessment": {"tracks": [
        {"name": "large", "label_zh": "规上", "label_en": "Large", "when": "revenue_wan >= 2000",
         "weights": {"tax_per_mu": 60, "far": 40}, "grading": RANK},
        {"name": "small", "label_zh": "规下", "label_en": "Small",
         "weights": {"tax_per_mu": 50, "coverage": 50}, "grading": SCORE},
    ]}})
    rng = np.random.default_rng(7)
    n = 40
    area = np.full(n, 10 * M2_PER_MU)
    parcels = pd.DataFrame({
        "parcel_id": [f"P{i:02d}" for i in range(n)],
        "area_m2": area,
        "area_mu": area / M2_PER_MU,
        "status": "operating",
        "enterprise_count": 1,
        "tax_wan": rng.choice([100.0, 300.0, 600.0, 900.0], n),
        "revenue_wan": np.where(np.arange(n) < 26, 5000.0, 500.0),
        "floor_area_m2": area * rng.choice([0.5, 1.0, 1.5], n),
        "footprint_m2": area * rng.choice([0.2, 0.3, 0.4], n),
        "stopped_years": 0.0,
    })
    parcels.loc[0, "status"] = "construction"
    parcels.loc[1, ["status", "stopped_years"]] = ["stopped", 3.0]
    return assess_performance(parcels, project), project


def test_the_park_has_ties_direct_and_ungraded(park):
    assessed, _ = park
    large = assessed[(assessed["track"] == "large") & (assessed["grade_basis"] == "rank")]
    assert large["score"].duplicated().any()
    assert set(assessed["grade_basis"]) == {"", "rank", "score", "direct"}
    assert assessed.loc[0, "grade"] == "U" and assessed.loc[1, "grade_basis"] == "direct"


def test_no_spread_gives_the_assessed_classes(park):
    assessed, project = park
    out = grade_robustness(assessed, with_robustness(project, weight_range=0.0, share_range=0.0, samples=50))
    assert list(out.columns) == COLUMNS
    assert out.index.equals(assessed.index)
    graded = assessed["grade"] != "U"
    probabilities = out.loc[graded, list(PROBABILITY_COLUMNS)].to_numpy()
    assert set(np.unique(probabilities)) <= {0.0, 1.0}
    np.testing.assert_array_equal(probabilities.sum(axis=1), 1.0)
    assert (out["modal_grade"] == assessed["grade"]).all()
    expected = np.array([[g == grade for g in GRADES] for grade in assessed.loc[graded, "grade"]], dtype=float)
    np.testing.assert_array_equal(probabilities, expected)
    assert out["stable"].all() and (out["grade_unstable_with"] == "").all()


def test_no_samples_keeps_every_class(park):
    assessed, project = park
    out = grade_robustness(assessed, with_robustness(project, samples=0, weight_range=0.5))
    assert (out["modal_grade"] == assessed["grade"]).all()
    graded = assessed["grade"] != "U"
    assert (out.loc[graded, "modal_probability"] == 1.0).all() and out["stable"].all()


def test_spread_moves_some_parcels_and_probabilities_sum_to_one(park):
    assessed, project = park
    out = grade_robustness(assessed, with_robustness(project, weight_range=0.5, samples=400))
    ranked = assessed["grade_basis"].isin(["rank", "score"])
    np.testing.assert_allclose(out.loc[ranked, list(PROBABILITY_COLUMNS)].sum(axis=1), 1.0)
    assert (~out["stable"]).any()
    unstable = ~out["stable"]
    assert (out.loc[unstable, "modal_probability"] < 0.9).all()
    assert (out.loc[out["stable"], "grade_unstable_with"] == "").all()
    assert (out.loc[unstable, "grade_unstable_with"] != "").all()
    named = {n for text in out.loc[unstable, "grade_unstable_with"] for n in text.split(", ")}
    assert named <= {"tax_per_mu", "far", "coverage"}


def test_direct_and_ungraded_parcels_stay_fixed(park):
    assessed, project = park
    out = grade_robustness(assessed, with_robustness(project, weight_range=0.9, share_range=0.5, samples=200))
    direct = out.loc[1]
    assert direct["modal_grade"] == "D" and direct["p_D"] == 1.0 and direct["modal_probability"] == 1.0
    assert direct[["p_A", "p_B", "p_C"]].tolist() == [0.0, 0.0, 0.0]
    assert direct["stable"] and direct["grade_unstable_with"] == ""
    ungraded = out.loc[0]
    assert ungraded["modal_grade"] == "U" and ungraded["stable"]
    assert ungraded[list(PROBABILITY_COLUMNS)].isna().all() and np.isnan(ungraded["modal_probability"])


# --- probabilities worked out by hand ------------------------------------------------------------


def test_score_grading_probability_is_a_ratio_of_areas():
    """Two indicators of weight 50, each parcel at the cap of one of them: score = 100 f1 / (f1 + f2).

    With f1, f2 uniform on [0.8, 1.2] (range ±20 %), parcel x is B (score ≥ 52) when f1 ≥ a f2,
    a = 0.52 / 0.48 = 13/12: in the square of side 0.4 that is the triangle with corners
    (f2, f1) = (0.8, 0.8 a), (0.8, 1.2), (1.2 / a, 1.2). Never A (score ≤ 60 < 90), always C at least.
    Parcel y is the mirror image: the same probability of B.
    """
    project = with_robustness(one_track_project({"tax_per_mu": 50, "far": 50},
                                                {**SCORE, "score_min": {"A": 90, "B": 52, "C": 30}}),
                              samples=20_000, weight_range=0.2, seed=11)
    frame = ranked_frame({"tax_per_mu": [50 * 1.5, 0.0], "far": [0.0, 50 * 1.5]}, "score")
    out = grade_robustness(frame, project)
    a = 0.52 / 0.48
    triangle = 0.5 * (1.2 - 0.8 * a) * (1.2 / a - 0.8)
    p_b = triangle / 0.4**2  # 0.3205…
    tolerance = 4 * np.sqrt(p_b * (1 - p_b) / 20_000)
    for parcel in ("P0", "P1"):
        assert out.loc[parcel, "p_A"] == 0.0 and out.loc[parcel, "p_D"] == 0.0
        assert abs(out.loc[parcel, "p_B"] - p_b) < tolerance
        assert out.loc[parcel, "p_C"] == pytest.approx(1 - out.loc[parcel, "p_B"])
        assert out.loc[parcel, "modal_grade"] == "C"
        assert out.loc[parcel, "stable"] == (out.loc[parcel, "p_C"] >= 0.9)


def test_rank_grading_probability_is_a_ratio_of_areas():
    """Weights 60 and 40; x at the cap of the first, y of the second; one A of two (shares A 50 %, B 50 %).

    x scores 100·60 f1 / (60 f1 + 40 f2), y 100·40 f2 / (…): y wins when f1 < (2/3) f2. With f1, f2
    uniform on [0.5, 1.5] (±50 %) that is the triangle (f2, f1) = (0.75, 0.5), (1.5, 0.5), (1.5, 1.0)
    of area ½ × 0.75 × 0.5 = 0.1875 in the unit square: P(y is A) = 0.1875, the loser is B.
    """
    grading = {"method": "rank", "rank_shares": {"A": 0.5, "B": 0.5, "C": 0.0, "D": 0.0}, "score_min": SCORE_MIN}
    project = with_robustness(one_track_project({"tax_per_mu": 60, "far": 40}, grading),
                              samples=20_000, weight_range=0.5, seed=5)
    frame = ranked_frame({"tax_per_mu": [60 * 1.5, 0.0], "far": [0.0, 40 * 1.5]}, "rank")
    out = grade_robustness(frame, project)
    p = 0.1875
    tolerance = 4 * np.sqrt(p * (1 - p) / 20_000)
    assert abs(out.loc["P1", "p_A"] - p) < tolerance
    assert out.loc["P0", "p_A"] == pytest.approx(1 - out.loc["P1", "p_A"])
    for parcel in ("P0", "P1"):
        assert out.loc[parcel, "p_A"] + out.loc[parcel, "p_B"] == pytest.approx(1.0)
        assert out.loc[parcel, "p_C"] == 0.0 and out.loc[parcel, "p_D"] == 0.0
    assert out.loc["P0", "modal_grade"] == "A" and out.loc["P1", "modal_grade"] == "B"
    assert not out.loc["P0", "stable"]  # 0.8125 < 0.9


def test_the_weight_a_class_depends_on_is_named():
    """Score ≥ 50 ⇔ w_x (1.5 − 0.75) ≥ w_y · 0.75 for parcel P0: its class hangs on x against y, never on z.

    P0 is at the cap of x (1.5), at 0 on y (cap 1.5), and at half of z's cap 1 (which adds exactly
    half of z's maximum, whatever z's weight). Equal weights of x and y: a coin toss. P1 scores
    100 under any weights: stable, nothing named.
    """
    project = with_robustness(one_track_project({"tax_per_mu": 35, "far": 35, "coverage": 30},
                                                {**SCORE, "score_min": {"A": 90, "B": 70, "C": 50}}),
                              samples=4000, weight_range=0.3, seed=3)
    frame = ranked_frame({"tax_per_mu": [35 * 1.5, 35 * 1.5], "far": [0.0, 35 * 1.5], "coverage": [15.0, 30.0]},
                         "score")
    out = grade_robustness(frame, project)
    assert abs(out.loc["P0", "p_C"] - 0.5) < 4 * np.sqrt(0.25 / 4000)
    assert out.loc["P0", "p_C"] + out.loc["P0", "p_D"] == pytest.approx(1.0)
    assert not out.loc["P0", "stable"]
    named = out.loc["P0", "grade_unstable_with"].split(", ")
    assert named[0] in {"tax_per_mu", "far"} and set(named) <= {"tax_per_mu", "far"}
    assert out.loc["P1", "p_A"] == 1.0 and out.loc["P1", "stable"] and out.loc["P1", "grade_unstable_with"] == ""


# --- the vectorised regrading against a loop over the samples ------------------------------------


@pytest.mark.parametrize("method", ["rank", "score"])
def test_vectorised_classes_equal_a_loop_over_samples(method):
    """Every sample graded on its own by grade_by_rank / grade_by_score, shares sampled too; ties included."""
    rng = np.random.default_rng(42)
    n, k, samples = 37, 3, 60
    weights = np.array([50.0, 30.0, 20.0])
    caps = np.array([1.5, 1.5, 1.0])
    maxima = weights * caps
    norm = rng.choice([0.0, 0.25, 0.5, 1.0], size=(n, k)) * caps  # few values: many ties
    points = np.round(weights * norm, 6)
    factors = rng.uniform(0.7, 1.3, size=(samples, k))
    shares = rng.dirichlet([3.0, 5.0, 3.0, 1.0], size=samples)
    grading = load_config().assessment.grading.model_copy(update={"method": method, "score_min": SCORE_MIN})
    sampled = TrackSamples(weights=weights * factors, factors=factors, shares=shares)
    result = track_counts(points, maxima, sampled, grading, batch=16, sampled_shares=True)

    expected = np.zeros((4, n))
    for s in range(samples):
        score = pd.Series(100 * (points * factors[s]).sum(axis=1) / (maxima * factors[s]).sum()).round(6)
        if method == "rank":
            grade, _ = grade_by_rank(score, dict(zip(GRADES, shares[s], strict=True)))
        else:
            grade = grade_by_score(score, SCORE_MIN)
        for g, letter in enumerate(GRADES):
            expected[g] += (grade == letter).to_numpy()
    np.testing.assert_array_equal(result.counts, expected)


# --- reproducibility --------------------------------------------------------------------------------


def test_same_seed_same_answer_other_seed_other_samples(park):
    assessed, project = park
    base = with_robustness(project, weight_range=0.5, samples=300, seed=2025)
    first, again = grade_robustness(assessed, base), grade_robustness(assessed, base)
    pd.testing.assert_frame_equal(first, again)
    other = grade_robustness(assessed, with_robustness(base, seed=2026))
    assert not np.allclose(other[list(PROBABILITY_COLUMNS)].fillna(-1), first[list(PROBABILITY_COLUMNS)].fillna(-1))


def test_batch_size_does_not_change_the_answer(park):
    assessed, project = park
    base = with_robustness(project, weight_range=0.5, share_range=0.2, samples=300)
    small, large = grade_robustness(assessed, with_robustness(base, batch=7)), grade_robustness(assessed, base)
    pd.testing.assert_frame_equal(small[list(PROBABILITY_COLUMNS)], large[list(PROBABILITY_COLUMNS)])
    assert (small["modal_grade"] == large["modal_grade"]).all()


def test_dirichlet_runs_and_probabilities_sum_to_one(park):
    assessed, project = park
    out = grade_robustness(assessed, with_robustness(project, method="dirichlet", concentration=20, samples=300))
    ranked = assessed["grade_basis"].isin(["rank", "score"])
    np.testing.assert_allclose(out.loc[ranked, list(PROBABILITY_COLUMNS)].sum(axis=1), 1.0)
    assert ((out.loc[ranked, list(PROBABILITY_COLUMNS)] >= 0) & (out.loc[ranked, list(PROBABILITY_COLUMNS)] <= 1)).all().all()
    huge = grade_robustness(assessed, with_robustness(project, method="dirichlet", concentration=1e9, samples=50))
    # hardly any spread: every class stays, but for a score exactly on a cut of the small track,
    # which the least change of weights puts on either side
    on_cut = (assessed["track"] == "small") & assessed["score"].isin(SCORE["score_min"].values())
    assert on_cut.any()
    assert (huge.loc[~on_cut, "modal_grade"] == assessed.loc[~on_cut, "grade"]).all()
    assert (huge.loc[on_cut, ["p_A", "p_B", "p_C", "p_D"]] > 0).sum(axis=1).eq(2).all()


def test_missing_points_are_refused():
    project = one_track_project({"tax_per_mu": 50, "far": 50}, SCORE)
    frame = ranked_frame({"tax_per_mu": [10.0, 20.0]}, "score")
    with pytest.raises(DataError, match="far_pts"):
        grade_robustness(frame, project)


# --- the summary ------------------------------------------------------------------------------------


def test_summary_counts_by_track_and_class():
    frame = pd.DataFrame({
        "track": ["t", "t", "t", "t", "u", None],
        "grade": ["A", "A", "B", "D", "C", "U"],
        "grade_basis": ["rank", "rank", "rank", "direct", "score", ""],
        "stable": [True, False, False, True, True, True],
        "modal_probability": [0.95, 0.6, 0.5, 1.0, 1.0, np.nan],
    })
    table = robustness_summary(frame)
    assert list(table.columns) == SUMMARY_COLUMNS
    rows = {(r.track, r.grade): r for r in table.itertuples()}
    assert list(rows) == [("t", "A"), ("t", "B"), ("t", "D"), ("u", "C"), ("park", "all")]
    a, b, d, c, park = rows.values()
    assert (a.graded, a.ranked, a.unstable, a.unstable_share, a.unstable_share_of_graded) == (2, 2, 1, 0.5, 0.5)
    assert a.mean_modal_probability == pytest.approx(0.775)
    assert (b.graded, b.ranked, b.unstable, b.unstable_share) == (1, 1, 1, 1.0)
    assert (d.graded, d.ranked, d.unstable, d.unstable_share_of_graded) == (1, 0, 0, 0.0)
    assert np.isnan(d.unstable_share) and np.isnan(d.mean_modal_probability)
    assert (c.graded, c.ranked, c.unstable) == (1, 1, 0)
    assert (park.graded, park.ranked, park.unstable) == (5, 4, 2)
    assert park.unstable_share == 0.5 and park.unstable_share_of_graded == pytest.approx(0.4)
