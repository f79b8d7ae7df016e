"""产业用地综合绩效评估: the performance assessment of each parcel.

For each graded parcel: raw indicator values from the configured formulas, a missing-data
policy, normalised points per indicator, a total score from 0 to 100, a class A/B/C/D, and its
rank in its track and in its block. Parcels that are not graded get class ``U`` and the reason.

**Tracks.** A parcel's track (规上 / 规下, or industry groups, as configured) is the first whose
``when`` holds; a parcel that matches none is U with that reason. Each track has its own
indicators and weights, may override benchmarks, and is **ranked on its own** with its own
shares or cuts (Zhejiang ranks 规上 and 规下 separately, each with its own A/B/C/D counts).

**Normalisation** of indicator *i* with weight *w* (its track's weight), value *x*:

- ``benchmark``: points = w × min(x / b, cap) (``lower``: w × min(b / x, cap)). The benchmark
  b is the track's (``tracks[].benchmarks``), else the industry group's
  (``benchmark_by_group``), else the indicator's; ``derive`` replaces it with ``factor`` × the
  mean or median of the track's (or the track and group's) graded parcels. x = 0 with
  ``lower`` scores the cap.
- ``minmax``: points = w × (20 + 80 × (x − min) / (max − min)) / 100 over the graded parcels of
  the same track (``lower`` reverses it); when max = min everyone scores w.
- ``percentile``: points = w × the parcel's percentile rank (average rank of ties, in (0, 1]).

The total is 100 × Σ points / Σ maximum points (w × cap for benchmark indicators, w otherwise),
so it runs from 0 to 100. ``<indicator>_lost`` is what the indicator cost the parcel in score
points, 100 × (maximum − points) / Σ maximum, so the score plus every loss is 100; ``weakest_zh``
names the two indicators that cost it most ("why am I C").

**Classes by rank** (per track): the graded parcels of the track are ranked by score, ties
sharing the best rank of their group (competition ranking, the same whatever the row order); a
parcel of rank r among n is A when r ≤ 0.25 n, B when r ≤ 0.70 n, C when r ≤ 0.95 n, else D
(with the default shares), so tied parcels at a cut all take the better class. By ``score``:
fixed minimum scores. **Direct classes** (``direct_grades``: e.g. stopped two years → D) are
given outside the quota: those parcels are not ranked and do not take a place in the shares.
They apply before the track test, so a parcel of no track that meets one is that class, with
``grade_reason_zh`` saying why and no score (there is no indicator set to score it with).

A ratio whose denominator is zero or missing (no employees, no energy use, no area) is missing,
and the indicator's missing-data policy applies (``mean`` of the track, ``zero``, or
``exclude``: the parcel is not graded). No inf or NaN ever reaches a score.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from landkit.config.formula import check_expression, evaluate, evaluate_condition, names_in, with_rule_defaults
from landkit.config.models import Assessment, Grade, Grading, Indicator, Project, Track, used_indicators
from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.core.schema import ADDITIVE_ENTERPRISE_COLUMNS, CANONICAL

log = logging.getLogger(__name__)

GRADES: tuple[Grade, Grade, Grade, Grade] = ("A", "B", "C", "D")
UNGRADED = "U"
SCORE_DECIMALS = 6  # rounding before ranking, so float noise never splits a tie

#: Why a parcel of an ungraded status is not graded.
STATUS_REASONS = {
    "construction": ("在建用地不参评", "land under construction"),
    "unsupplied": ("未供应土地不参评", "land not yet supplied"),
}
NO_TRACK = ("不属于任何评价分组", "matches no assessment track")


def assessment_year(project: Project) -> int:
    """Return the year the assessment counts from (``year`` in the project, else this year)."""
    if project.year is not None:
        return project.year
    year = dt.date.today().year
    log.warning("%s", _("no `year` in the project file; counting lease and firm ages from {year}").format(year=year))
    return year


def industry_group(parcels: pd.DataFrame, assessment: Assessment) -> pd.Series:
    """Return each parcel's industry group: the group of its ``industry`` under ``industry_groups``, else the industry."""
    groups = {industry: group for group, members in assessment.industry_groups.items() for industry in members}
    industry = parcels["industry"] if "industry" in parcels else pd.Series(None, index=parcels.index, dtype=object)
    return industry.map(lambda v: groups.get(v, v) if isinstance(v, str) else None).rename("industry_group")


def rule_columns(parcels: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """Return the parcels with every column the assessment's conditions may read present."""
    frame = with_rule_defaults(parcels, flags=("illegal_use", "legally_idle", "idle_not_due"), labels=("status",),
                               numbers=("stopped_years", "idle_years"))
    if "industry_group" not in frame:
        frame["industry_group"] = industry_group(frame, assessment)
    return frame


def check_inputs(parcels: pd.DataFrame, assessment: Assessment) -> None:
    """Refuse, before any work, formulas and conditions that use columns the data lack.

    Raises
    ------
    ConfigError
        Naming the indicator, track or rule and the missing column.
    """
    columns = set(parcels.columns)
    params = assessment.params
    for name in used_indicators(assessment):
        formula = assessment.indicators[name].formula
        absent = sorted(names_in(formula, key=f"assessment.indicators.{name}.formula") - columns)
        if absent:
            kinds = {c: kind for kind in ("enterprises", "parcels") for c in CANONICAL[kind]}
            where = ", ".join(f"columns.{kinds[c]}.{c}" if c in kinds else f"`{c}`" for c in absent)
            tracks = ", ".join(t.name for t in assessment.tracks if name in t.weights)
            raise ConfigError(
                _("indicator `{name}` ({label}, `{formula}`) needs {columns}, which the inputs lack: map the column that "
                  "holds it under {where} in the project file, or take `{name}` out of the weights of track(s) {tracks}")
                .format(name=name, label=assessment.indicators[name].label_zh, formula=formula, columns=", ".join(absent),
                        where=where, tracks=tracks)
            )
    for i, track in enumerate(assessment.tracks):
        if track.when:
            check_expression(track.when, key=f"assessment.tracks[{i}].when", columns=columns, params=params)
    for i, rule in enumerate(assessment.direct_grades):
        check_expression(rule.when, key=f"assessment.direct_grades[{i}] ({rule.code})", columns=columns, params=params)


def indicator_values(parcels: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """Return the raw value of every indicator per parcel (NaN where undefined).

    The indicators a track weights first (their inputs were checked), then every other
    indicator whose inputs the data have (e.g. 容积率, which the list's reasons read).
    """
    used = used_indicators(assessment)
    columns = set(parcels.columns)
    extra = [n for n, ind in assessment.indicators.items()
             if n not in used and not names_in(ind.formula, key=f"assessment.indicators.{n}.formula") - columns]
    return pd.DataFrame(
        {name: evaluate(parcels, assessment.indicators[name].formula) for name in [*used, *extra]},
        index=parcels.index,
    )


def ungraded_reasons(parcels: pd.DataFrame, project: Project, year: int) -> pd.DataFrame:
    """Return, per parcel, why it is not graded, in Chinese and English (empty when graded).

    In order: slivers (below ``validation.sliver_area_m2``: no ratio of theirs means anything),
    utilities (land uses not graded), ungraded statuses (under construction, not yet
    supplied), legally idle land (a legal status, handled by the list), idle land whose start
    deadline has not passed a year, producing parcels without enterprise data, start-ups.
    """
    rules = project.assessment.ungraded
    zh = pd.Series("", index=parcels.index, dtype=object)
    en = pd.Series("", index=parcels.index, dtype=object)

    def mark(mask: pd.Series, text_zh: str, text_en: str) -> None:
        free = mask.fillna(False).astype(bool) & (zh == "")
        zh[free] = text_zh
        en[free] = text_en

    sliver = project.validation.sliver_area_m2
    mark(parcels["area_m2"] < sliver, f"碎片地块(面积不足{sliver:g}平方米)", f"a sliver (under {sliver:g} m²)")
    if "land_use" in parcels:
        commercial = parcels["land_use"].isin(project.conversion.land_uses)
        mark(parcels["land_use"].isin(rules.land_uses) & commercial, "商办用地不参评(产业用地绩效评估对象外)",
             "commercial and office land is not industrial land: not graded")
        mark(parcels["land_use"].isin(rules.land_uses), "公用设施等用地不参评", "utilities and similar land are not graded")
    status = parcels["status"]
    for value in rules.statuses:
        text_zh, text_en = STATUS_REASONS.get(value, (f"{value}状态不参评", f"status {value} is not graded"))
        mark(status == value, text_zh, text_en)
    mark(parcels["legally_idle"], "闲置土地(依法认定，按闲置土地处置)", "legally idle land (disposed of as idle land)")
    mark(parcels["idle_not_due"], "闲置未满一年(未到认定期限)", "idle, less than a year past the agreed start")
    has_firms = parcels.get("enterprise_count", pd.Series(0, index=parcels.index)).fillna(0) > 0
    producing = status.isin(["operating"]) | status.isna()
    if rules.require_enterprise:
        mark(producing & ~has_firms, "无企业数据", "no enterprise data")
    if "founded_year" in parcels and rules.min_enterprise_age_years > 0:
        young = (year - parcels["founded_year"].astype(float)) < rules.min_enterprise_age_years
        n = rules.min_enterprise_age_years
        mark(young, f"初创企业(成立不足{n}年)", f"start-up (founded less than {n} years ago)")
    return pd.DataFrame({"zh": zh, "en": en})


def assign_tracks(parcels: pd.DataFrame, assessment: Assessment) -> pd.Series:
    """Return the track name of every parcel: the first track whose condition holds (else None)."""
    track = pd.Series(None, index=parcels.index, dtype=object)
    for spec in assessment.tracks:
        match = evaluate_condition(parcels, spec.when, assessment.params) if spec.when else pd.Series(True, index=parcels.index)
        track[match & track.isna()] = spec.name
    return track


def direct_grade_codes(parcels: pd.DataFrame, assessment: Assessment, candidates: pd.Series) -> pd.Series:
    """Return, per parcel, the code of the first direct-class rule that holds ("" for none)."""
    code = pd.Series("", index=parcels.index, dtype=object)
    for rule in assessment.direct_grades:
        match = evaluate_condition(parcels, rule.when, assessment.params) & candidates & (code == "")
        code[match] = rule.code
    return code


def benchmarks(values: pd.Series, indicator: Indicator, track: Track, name: str, group: pd.Series) -> pd.Series:
    """Return the benchmark of an indicator for each member of a track (see the module docstring).

    ``values`` are the track's graded members' values after the missing-data policy.

    Raises
    ------
    ConfigError
        If a derived benchmark comes out zero or undefined (nothing to compare against).
    """
    base = track.benchmarks.get(name, indicator.benchmark)
    bench = pd.Series(base, index=values.index, dtype=float)
    if indicator.benchmark_by_group:
        bench = group.map(indicator.benchmark_by_group).astype(float).fillna(bench)
    if indicator.derive is not None:
        derive = indicator.derive
        keys = group.fillna("") if derive.by == "group" else pd.Series("", index=values.index)
        statistic = values.groupby(keys).transform(derive.statistic)
        derived = derive.factor * statistic
        if not (derived > 0).all():
            bad = keys[~(derived > 0)].iloc[0]
            where = _("track `{track}`").format(track=track.name) + (_(", group `{group}`").format(group=bad) if bad else "")
            value = statistic[keys == bad].iloc[0]
            words = {"mean": _("mean"), "median": _("median")}.get(derive.statistic, derive.statistic)
            if pd.isna(value):  # no parcel there has the indicator: nothing to take a statistic of
                raise ConfigError(
                    _("assessment.indicators.{name}.derive: no parcel of {where} has a value of `{name}`, so no "
                      "benchmark can be derived from its {statistic}; set `benchmark` instead").format(
                        name=name, statistic=words, where=where))
            raise ConfigError(
                _("assessment.indicators.{name}.derive: the {statistic} of {where} is {value:g}, so no benchmark can be "
                  "derived; set `benchmark` instead").format(name=name, statistic=words, where=where, value=value)
            )
        bench = derived
    return bench


def normalise(values: pd.Series, indicator: Indicator, bench: pd.Series | None) -> tuple[pd.Series, float]:
    """Return the normalised value (0 … cap) of an indicator over one comparison set, and its cap.

    ``values`` must have no missing entries (the missing-data policy is applied before); ``bench``
    is the per-parcel benchmark of a ``benchmark`` indicator.
    """
    higher = indicator.direction == "higher"
    if indicator.method == "benchmark":
        if bench is None:
            bench = pd.Series(indicator.benchmark, index=values.index, dtype=float)
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


def benchmark_source(indicator: Indicator, track: Track, name: str, group: str) -> Literal["derived", "group", "track", "profile"]:
    """Return where the benchmark :func:`benchmarks` gives a parcel of ``group`` comes from, in the same order of precedence."""
    if indicator.derive is not None:
        return "derived"
    if group in indicator.benchmark_by_group:
        return "group"
    return "track" if name in track.benchmarks else "profile"


def apply_missing(values: pd.Series, indicator: Indicator) -> tuple[pd.Series, pd.Series]:
    """Fill missing values by the indicator's policy; return the filled values and who to exclude."""
    missing = values.isna()
    if indicator.missing == "zero":
        return values.fillna(0.0), pd.Series(False, index=values.index)
    if indicator.missing == "mean":
        mean = values.mean()
        return values.fillna(0.0 if np.isnan(mean) else mean), pd.Series(False, index=values.index)
    return values, missing


def grade_by_rank(score: pd.Series, shares: Mapping[Grade, float]) -> tuple[pd.Series, pd.Series]:
    """Return classes and competition ranks (1 = best; ties share the best rank) from scores."""
    rank = score.rank(method="min", ascending=False)
    n = len(score)
    grade = pd.Series("D", index=score.index, dtype=object)
    cumulative = 0.0
    limits: dict[Grade, float] = {}
    for letter in GRADES[:-1]:
        cumulative += shares[letter]
        limits[letter] = cumulative * n + 1e-9
    for letter in reversed(GRADES[:-1]):
        grade[rank <= limits[letter]] = letter
    return grade, rank


def grade_by_score(score: pd.Series, minimum: Mapping[Literal["A", "B", "C"], float]) -> pd.Series:
    """Return classes from fixed minimum scores (below C's minimum is D)."""
    grade = pd.Series("D", index=score.index, dtype=object)
    letter: Literal["A", "B", "C"]
    for letter in ("C", "B", "A"):
        grade[score >= minimum[letter]] = letter
    return grade


def grade_track(score: pd.Series, grading: Grading) -> tuple[pd.Series, pd.Series]:
    """Return the classes and ranks of one track's ranked parcels under its grading."""
    if grading.method == "rank":
        return grade_by_rank(score, grading.rank_shares)
    return grade_by_score(score, grading.score_min), score.rank(method="min", ascending=False)


def weakest(lost: pd.DataFrame, labels: dict[str, tuple[str, str]], count: int = 2) -> tuple[pd.Series, pd.Series]:
    """Return, per row, the ``count`` indicators that cost most, as Chinese and English text.

    ``lost`` holds score points lost per indicator (NaN where the indicator does not apply);
    indicators that cost nothing are not named.
    """
    values = lost.to_numpy(dtype=float)
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-filled, axis=1, kind="stable")[:, :count]
    zh = pd.Series("", index=lost.index, dtype=object)
    en = pd.Series("", index=lost.index, dtype=object)
    names_zh = np.array([labels[n][0] for n in lost.columns], dtype=object)
    names_en = np.array([labels[n][1] for n in lost.columns], dtype=object)
    for k in range(min(count, values.shape[1])):
        taken = np.take_along_axis(filled, order[:, [k]], axis=1)[:, 0]
        show = taken > 0.05  # a loss under 0.05 points rounds to nothing
        amount = np.char.mod("%.1f", np.where(show, taken, 0.0))
        label_zh = names_zh[order[:, k]]
        label_en = names_en[order[:, k]]
        sep_zh = np.where(zh.to_numpy() != "", "；", "")
        sep_en = np.where(en.to_numpy() != "", "; ", "")
        zh = zh + np.where(show, sep_zh + label_zh + "失" + amount + "分", "")
        en = en + np.where(show, sep_en + label_en + " −" + amount, "")
    return zh, en


def assess_performance(parcels: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Run the performance assessment.

    Parameters
    ----------
    parcels : DataFrame
        Canonical parcels with areas and enterprise sums (:func:`landkit.data.dataset.load_dataset`),
        and the land status columns of :func:`landkit.assess.land_status.land_status` when known.
    project : Project
        Indicators, tracks, grading, direct classes and the ungraded rules.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``<indicator>`` (raw value), ``<indicator>_bench`` (benchmark
        used), ``<indicator>_pts`` (points) and ``<indicator>_lost`` (score points it cost) for
        every used indicator; ``track``, ``graded``, ``score`` (0–100), ``grade`` (A–D or U),
        ``grade_basis`` (``rank``, ``score`` or ``direct``), ``direct_grade`` (the direct rule's
        code), ``grade_reason_zh``/``_en``, ``ungraded_reason``/``_en``, ``rank_in_track``,
        ``rank_in_block`` (within block and track), ``weakest_zh``/``_en``. The benchmarks
        used are in ``.attrs["benchmarks"]`` (a table).
    """
    spec = project.assessment
    year = assessment_year(project)
    frame = rule_columns(with_production_zeros(parcels), spec)
    check_inputs(frame, spec)
    raw = indicator_values(frame, spec)
    reasons = ungraded_reasons(frame, project, year)
    reason, reason_en = reasons["zh"], reasons["en"]
    track = assign_tracks(frame, spec)
    direct = direct_grade_codes(frame, spec, reason == "")
    no_track = (reason == "") & (direct == "") & track.isna()
    reason[no_track], reason_en[no_track] = NO_TRACK

    labels = {name: (ind.label_zh, ind.label_en) for name, ind in spec.indicators.items()}
    for track_spec in spec.tracks:
        members = (reason == "") & (track == track_spec.name)
        for name in track_spec.weights:
            indicator = spec.indicators[name]
            _, excluded = apply_missing(raw.loc[members, name], indicator)
            lacking = excluded[excluded].index
            reason[lacking] = reason[lacking].where(reason[lacking] != "", f"缺少{indicator.label_zh}数据")
            reason_en[lacking] = reason_en[lacking].where(reason_en[lacking] != "", f"no data for {indicator.label_en}")
    graded = reason == ""

    names = used_indicators(spec)
    points = pd.DataFrame(np.nan, index=frame.index, columns=names)
    bench = pd.DataFrame(np.nan, index=frame.index, columns=names)
    maximum = pd.DataFrame(np.nan, index=frame.index, columns=names)
    bench_rows: list[dict[str, Any]] = []
    for track_spec in spec.tracks:
        members = graded & (track == track_spec.name)
        if not members.any():
            continue
        group = frame.loc[members, "industry_group"]
        for name, weight in track_spec.weights.items():
            indicator = spec.indicators[name]
            filled, _ = apply_missing(raw.loc[members, name], indicator)
            b = benchmarks(filled, indicator, track_spec, name, group) if indicator.method == "benchmark" else None
            norm, cap = normalise(filled, indicator, b)
            points.loc[members, name] = weight * norm
            maximum.loc[members, name] = weight * cap
            if b is not None:
                bench.loc[members, name] = b
                for value, sub in b.groupby(group.fillna("") if indicator.benchmark_by_group or (
                        indicator.derive and indicator.derive.by == "group") else pd.Series("", index=b.index)):
                    bench_rows.append({"indicator": name, "label_zh": indicator.label_zh, "track": track_spec.name,
                                       "group": value, "benchmark": float(sub.iloc[0]), "unit": indicator.unit,
                                       "source": benchmark_source(indicator, track_spec, name, value)})

    total_max = maximum.sum(axis=1, min_count=1)
    score = (100 * points.sum(axis=1, min_count=1) / total_max.where(total_max > 0)).round(SCORE_DECIMALS)
    score[~graded] = np.nan
    lost = (100 * (maximum - points)).div(total_max.where(total_max > 0), axis=0)

    out = pd.concat([raw, bench.add_suffix("_bench"), points.add_suffix("_pts"), lost.add_suffix("_lost")], axis=1)
    unused = [c for c in raw.columns if c not in names]
    out = out[[c for name in names for c in (name, f"{name}_bench", f"{name}_pts", f"{name}_lost")] + unused]
    is_direct = direct != ""
    out["track"] = track.where(graded | is_direct)
    out["graded"] = graded | is_direct
    out["score"] = score
    out["grade"] = UNGRADED
    out["grade_basis"] = ""
    out["direct_grade"] = direct
    rules = {r.code: r for r in spec.direct_grades}
    out["grade_reason_zh"] = direct.map(lambda c: f"{rules[c].label_zh}(直接列入{rules[c].grade}类)" if c else "")
    out["grade_reason_en"] = direct.map(lambda c: f"{rules[c].label_en} (class {rules[c].grade} outside the quota)" if c else "")
    out["ungraded_reason"] = reason.where(~is_direct, "")
    out["ungraded_reason_en"] = reason_en.where(~is_direct, "")
    out["rank_in_track"] = np.nan
    ranked = graded & ~is_direct
    for track_spec in spec.tracks:
        members = ranked & (track == track_spec.name)
        if not members.any():
            continue
        grading = track_spec.grading or spec.grading
        grade, rank = grade_track(score[members], grading)
        out.loc[members, "grade"] = grade
        out.loc[members, "rank_in_track"] = rank
        out.loc[members, "grade_basis"] = grading.method
    out.loc[is_direct, "grade"] = direct[is_direct].map(lambda c: rules[c].grade)
    out.loc[is_direct, "grade_basis"] = "direct"
    out["rank_in_block"] = np.nan
    if "block_id" in frame and ranked.any():
        in_block = ranked & frame["block_id"].notna()
        keys = [frame.loc[in_block, "block_id"], track[in_block]]
        out.loc[in_block, "rank_in_block"] = score[in_block].groupby(keys).rank(method="min", ascending=False)
    out["rank_in_track"] = out["rank_in_track"].astype("Int64")
    out["rank_in_block"] = out["rank_in_block"].astype("Int64")
    out["weakest_zh"], out["weakest_en"] = weakest(lost.where(out["graded"], np.nan), labels)
    out.attrs["benchmarks"] = pd.DataFrame(bench_rows, columns=["indicator", "label_zh", "track", "group", "benchmark", "unit", "source"])
    counts = out["grade"].value_counts().reindex([*GRADES, UNGRADED], fill_value=0)
    log.info("classes: %s", ", ".join(f"{g} {c}" for g, c in counts.items()))
    return out


def with_production_zeros(parcels: pd.DataFrame) -> pd.DataFrame:
    """Idle and stopped parcels without enterprise figures produce nothing: their sums are 0."""
    frame = parcels.copy(deep=False)  # copy-on-write: only the columns set below are copied
    if "status" not in frame:
        return frame
    idle = frame["status"].isin(["idle", "stopped"])
    for column in ADDITIVE_ENTERPRISE_COLUMNS:
        if column in frame:
            frame.loc[idle, column] = frame.loc[idle, column].fillna(0.0)
    return frame
