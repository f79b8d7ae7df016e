"""产业用地综合绩效评估: the performance assessment of each parcel.

For each graded parcel: raw indicator values from the configured formulas, a missing-data
policy, normalised points per indicator, a total score from 0 to 100, a grade A/B/C/D, and ranks
in the district and in its block. Parcels that are not graded get grade ``U`` and the reason.

Normalisation of indicator *i* with weight *w* (its track's weight), value *x*:

- ``benchmark``: points = w × min(x / b, cap) (``lower``: w × min(b / x, cap)); b may differ by
  industry (``benchmark_by_industry``). x = 0 with ``lower`` scores the cap.
- ``minmax``: points = w × (20 + 80 × (x − min) / (max − min)) / 100 over the graded parcels of
  the same track (``lower`` reverses it); when max = min everyone scores w.
- ``percentile``: points = w × the parcel's percentile rank (average rank of ties, in (0, 1]).

The total is 100 × Σ points / Σ maximum points (w × cap for benchmark indicators, w otherwise),
so it runs from 0 to 100 whatever the caps, and ranks as the plain sum would.

Grading by ``rank``: the graded parcels are ranked by score, ties sharing the best rank of their
group (competition ranking, the same every run whatever the row order); a parcel of rank r among
n is A when r ≤ 0.25 n, B when r ≤ 0.70 n, C when r ≤ 0.95 n, else D (with the default shares), so
tied parcels at a cut all take the better grade. Grading by ``score``: fixed minimum scores.

A ratio whose denominator is zero or missing (no employees, no energy use, no area) is missing,
and the indicator's missing-data policy applies (``mean`` of the track, ``zero``, or ``exclude``:
the parcel is not graded). No inf or NaN ever reaches a score.
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd

from landkit.config import Assessment, Indicator, Project
from landkit.formula import check_expression, evaluate, evaluate_condition
from landkit.schema import ADDITIVE_ENTERPRISE_COLUMNS

log = logging.getLogger(__name__)

GRADES = ("A", "B", "C", "D")
UNGRADED = "U"
SCORE_DECIMALS = 6  # rounding before ranking, so float noise never splits a tie


def assessment_year(project: Project) -> int:
    """Return the year the assessment counts from (``year`` in the project, else this year)."""
    if project.year is not None:
        return project.year
    year = dt.date.today().year
    log.warning("no `year` in the project file; counting lease and firm ages from %d", year)
    return year


def used_indicators(assessment: Assessment) -> list[str]:
    """Return the indicators some track weights, in definition order."""
    used = {name for track in assessment.tracks for name in track.weights}
    return [name for name in assessment.indicators if name in used]


def check_inputs(parcels: pd.DataFrame, assessment: Assessment) -> None:
    """Refuse, before any work, formulas and track conditions that use columns the data lack.

    Raises
    ------
    ConfigError
        Naming the indicator or track and the missing column.
    """
    columns = set(parcels.columns)
    for name in used_indicators(assessment):
        check_expression(assessment.indicators[name].formula, key=f"assessment.indicators.{name}.formula", columns=columns)
    for i, track in enumerate(assessment.tracks):
        if track.when:
            check_expression(track.when, key=f"assessment.tracks[{i}].when", columns=columns)


def indicator_values(parcels: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """Return the raw value of every used indicator per parcel (NaN where undefined)."""
    return pd.DataFrame(
        {name: evaluate(parcels, assessment.indicators[name].formula) for name in used_indicators(assessment)},
        index=parcels.index,
    )


def ungraded_reasons(parcels: pd.DataFrame, project: Project, year: int) -> pd.Series:
    """Return, per parcel, why it is not graded (Chinese; empty string for graded parcels)."""
    rules = project.assessment.ungraded
    reason = pd.Series("", index=parcels.index, dtype=object)

    def mark(mask: pd.Series, text: str) -> None:
        reason[mask.fillna(False).astype(bool) & (reason == "")] = text

    if "land_use" in parcels:
        mark(parcels["land_use"].isin(rules.land_uses), "公用设施等用地不参评")
    status = parcels["status"] if "status" in parcels else pd.Series("operating", index=parcels.index)
    mark(status.isin(rules.statuses), "在建用地不参评")
    has_firms = parcels.get("enterprise_count", pd.Series(0, index=parcels.index)).fillna(0) > 0
    producing = status.isin(["operating"]) | status.isna()
    if rules.require_enterprise:
        mark(producing & ~has_firms, "无企业数据")
    if "founded_year" in parcels and rules.min_enterprise_age_years > 0:
        young = (year - parcels["founded_year"].astype(float)) < rules.min_enterprise_age_years
        mark(young, f"初创企业(成立不足{rules.min_enterprise_age_years}年)")
    return reason


def assign_tracks(parcels: pd.DataFrame, assessment: Assessment) -> pd.Series:
    """Return the track name of every parcel: the first track whose condition holds."""
    track = pd.Series(None, index=parcels.index, dtype=object)
    for spec in assessment.tracks:
        match = evaluate_condition(parcels, spec.when) if spec.when else pd.Series(True, index=parcels.index)
        track[match & track.isna()] = spec.name
    return track


def normalise(values: pd.Series, indicator: Indicator, industry: pd.Series | None) -> tuple[pd.Series, float]:
    """Return the normalised value (0 … cap) of an indicator over one comparison set, and its cap.

    ``values`` must have no missing entries (the missing-data policy is applied before).
    """
    higher = indicator.direction == "higher"
    if indicator.method == "benchmark":
        bench = pd.Series(indicator.benchmark, index=values.index, dtype=float)
        if indicator.benchmark_by_industry and industry is not None:
            bench = industry.map(indicator.benchmark_by_industry).astype(float).fillna(indicator.benchmark)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = values / bench if higher else bench / values
        ratio = ratio.replace(np.inf, indicator.cap).fillna(indicator.cap if not higher else 0.0)
        return ratio.clip(lower=0.0, upper=indicator.cap), indicator.cap
    if indicator.method == "minmax":
        lo, hi = values.min(), values.max()
        if not np.isfinite(hi - lo) or hi == lo:
            return pd.Series(1.0, index=values.index), 1.0
        t = (values - lo) / (hi - lo) if higher else (hi - values) / (hi - lo)
        return (20 + 80 * t) / 100, 1.0
    ranked = values.rank(pct=True, method="average", ascending=higher)
    return ranked, 1.0


def apply_missing(values: pd.Series, indicator: Indicator) -> tuple[pd.Series, pd.Series]:
    """Fill missing values by the indicator's policy; return the filled values and who to exclude."""
    missing = values.isna()
    if indicator.missing == "zero":
        return values.fillna(0.0), pd.Series(False, index=values.index)
    if indicator.missing == "mean":
        mean = values.mean()
        return values.fillna(0.0 if np.isnan(mean) else mean), pd.Series(False, index=values.index)
    return values, missing


def grade_by_rank(score: pd.Series, shares: dict[str, float]) -> tuple[pd.Series, pd.Series]:
    """Return grades and competition ranks (1 = best; ties share the best rank) from scores."""
    rank = score.rank(method="min", ascending=False)
    n = len(score)
    grade = pd.Series("D", index=score.index, dtype=object)
    cumulative = 0.0
    limits = {}
    for letter in GRADES[:-1]:
        cumulative += shares[letter]
        limits[letter] = cumulative * n + 1e-9
    for letter in reversed(GRADES[:-1]):
        grade[rank <= limits[letter]] = letter
    return grade, rank


def grade_by_score(score: pd.Series, minimum: dict[str, float]) -> pd.Series:
    """Return grades from fixed minimum scores (below C's minimum is D)."""
    grade = pd.Series("D", index=score.index, dtype=object)
    for letter in ("C", "B", "A"):
        grade[score >= minimum[letter]] = letter
    return grade


def assess_performance(parcels: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Run the performance assessment.

    Parameters
    ----------
    parcels : DataFrame
        Canonical parcels with areas and enterprise sums (:func:`landkit.dataset.load_dataset`).
    project : Project
        Indicators, tracks, grading and the ungraded rules.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``<indicator>`` (raw value) and ``<indicator>_pts`` (points) for
        every used indicator, ``track``, ``graded``, ``score`` (0–100), ``grade`` (A–D or U),
        ``ungraded_reason``, ``rank_district``, ``rank_in_block``.
    """
    spec = project.assessment
    year = assessment_year(project)
    frame = with_production_zeros(parcels)
    check_inputs(frame, spec)
    raw = indicator_values(frame, spec)
    reason = ungraded_reasons(frame, project, year)
    track = assign_tracks(frame, spec)
    industry = frame["industry"] if "industry" in frame else None

    points = pd.DataFrame(np.nan, index=frame.index, columns=[f"{n}_pts" for n in raw.columns])
    max_points = pd.Series(0.0, index=frame.index)
    candidates = reason == ""
    for track_spec in spec.tracks:
        members = candidates & (track == track_spec.name)
        for name in track_spec.weights:
            indicator = spec.indicators[name]
            _, excluded = apply_missing(raw.loc[members, name], indicator)
            if excluded.any():
                lacking = excluded[excluded].index
                reason[lacking] = reason[lacking].where(reason[lacking] != "", f"缺少{indicator.label_zh}数据")
    graded = reason == ""
    for track_spec in spec.tracks:
        members = graded & (track == track_spec.name)
        if not members.any():
            continue
        for name, weight in track_spec.weights.items():
            indicator = spec.indicators[name]
            filled, _ = apply_missing(raw.loc[members, name], indicator)
            norm, cap = normalise(filled, indicator, industry.loc[members] if industry is not None else None)
            points.loc[members, f"{name}_pts"] = weight * norm
            max_points[members] += weight * cap

    total = points.sum(axis=1, min_count=1)
    score = (100 * total / max_points.where(max_points > 0)).round(SCORE_DECIMALS)
    score[~graded] = np.nan

    out = raw.copy()
    out = pd.concat([out, points], axis=1)
    out["track"] = track.where(graded)
    out["graded"] = graded
    out["score"] = score
    out["grade"] = UNGRADED
    out["ungraded_reason"] = reason
    out["rank_district"] = np.nan
    if graded.any():
        if spec.grading.method == "rank":
            grade, rank = grade_by_rank(score[graded], spec.grading.rank_shares)
        else:
            grade = grade_by_score(score[graded], spec.grading.score_min)
            rank = score[graded].rank(method="min", ascending=False)
        out.loc[graded, "grade"] = grade
        out.loc[graded, "rank_district"] = rank
    out["rank_in_block"] = np.nan
    if "block_id" in frame and graded.any():
        in_block = graded & frame["block_id"].notna()
        out.loc[in_block, "rank_in_block"] = (
            score[in_block].groupby(frame.loc[in_block, "block_id"]).rank(method="min", ascending=False)
        )
    out["rank_district"] = out["rank_district"].astype("Int64")
    out["rank_in_block"] = out["rank_in_block"].astype("Int64")
    counts = out["grade"].value_counts().reindex([*GRADES, UNGRADED], fill_value=0)
    log.info("grades: %s", ", ".join(f"{g} {c}" for g, c in counts.items()))
    return out


def with_production_zeros(parcels: pd.DataFrame) -> pd.DataFrame:
    """Idle and stopped parcels without enterprise figures produce nothing: their sums are 0."""
    frame = parcels.copy()
    if "status" not in frame:
        return frame
    idle = frame["status"].isin(["idle", "stopped"])
    for column in ADDITIVE_ENTERPRISE_COLUMNS:
        if column in frame:
            frame.loc[idle, column] = frame.loc[idle, column].fillna(0.0)
    return frame
