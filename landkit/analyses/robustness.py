"""Grade robustness (issue 18 item 2): how far each parcel's class depends on contested weights.

The weights of the performance assessment (亩均税收 30, 亩均增加值 20, …) are a policy choice, not a
measurement; a parcel close to a cut may change class under weights any reviewer would find
equally reasonable. This module samples the weights (and optionally the rank shares) around the
profile's, regrades every track under each sample, and reports per parcel the probability of
each class and whether its class is *stable*.

**Scores under sampled weights.** :func:`landkit.assess.performance.assess_performance` gives
indicator *i* of a track ``points_i = w_i × norm_i`` out of ``max_i = w_i × cap_i`` (``cap_i``
the indicator's cap for a ``benchmark`` indicator, 1 otherwise), and the score
``100 × Σ points / Σ max``. Under sampled weights ``w'`` the score is
``100 × Σ w'_i norm_i / Σ w'_i cap_i``; written with the factors ``r_i = w'_i / w_i`` it is
``100 × Σ r_i points_i / Σ r_i max_i``, so the parcel frame's ``<indicator>_pts`` columns are all
that is needed (the normalised values, benchmarks and missing-data policy stay as assessed). The
score is rounded to :data:`~landkit.assess.performance.SCORE_DECIMALS` decimals as the assessment
rounds it, so ties are ties here too. The score does not change when all weights are scaled
together, so the renormalisation only matters for the reported weights.

**Classes.** Per track, a batch of samples gives a matrix of scores (samples × members) by one
matrix product. ``score`` grading compares them with the fixed minimum scores. ``rank`` grading
reproduces :func:`~landkit.assess.performance.grade_by_rank` exactly without ranking: a parcel of
competition rank ``r`` (``method="min"``) among ``n`` is at least class *g* when
``r ≤ L_g = (cumulative share of g) × n + 1e-9``, and ``r ≤ L_g`` holds exactly when its score is
at least the ``⌊L_g⌋``-th largest score of the sample (none when ``⌊L_g⌋ = 0``). These order
statistics come from one :func:`numpy.partition` per batch (linear time; when the shares are
sampled, only the window between the smallest and largest ``⌊L_g⌋`` of the batch is sorted).

**Sampling** (settings ``project.robustness``, :class:`landkit.config.models.Robustness`):

- ``uniform``: every weight × a factor drawn from U(1 − ``weight_range``, 1 + ``weight_range``),
  independently, then renormalised to the track's weight total (100);
- ``dirichlet``: the weights / their total drawn from a Dirichlet distribution with
  α = ``concentration`` × w / Σw (mean: the profile's weights; larger concentration, less spread),
  times the total;
- ``share_range`` > 0: each rank share × U(1 ± ``share_range``), renormalised to the profile's
  total (1); with 0 the profile's shares.

Each track is sampled on its own (tracks are ranked on their own). One
:func:`numpy.random.default_rng` generator per call, seeded with ``seed``, draws every track's
samples up front, in the order of the profile's tracks (weights, then shares), whether or not the
track has parcels: the probabilities depend on the seed and the settings, not on ``batch`` or on
the other tracks' parcels.

**Stability.** A ranked parcel is ``stable`` when its modal class has a probability of at least
``stable_probability``. An unstable parcel's ``grade_unstable_with`` names the weight(s) its class
depends on most: the indicators whose sampled weight correlates most (in absolute value, Pearson
over the samples) with the parcel being in its modal class, computed from sums accumulated in the
same matrix products (the top one, and the second when its correlation is at least half the
top's; none below 0.1). With sampled shares the three cumulative shares count as one more
candidate, named ``rank_shares``.

Direct classes (``grade_basis`` ``direct``) are outside the quota and keep their class with
probability 1; ungraded parcels (U) have no probabilities (NaN) and are stable.

The sampling ranges of the default profile (±20 % per weight, 1,000 samples, stable at 0.9, the
concentration, the share range) are ``[assumed]`` defaults (issue 18's example), not published
figures.

Vectorised: loops run over tracks, sample batches and the three cuts A/B/C only; memory is a few
arrays of members × ``batch`` floats per track.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landkit.assess.performance import GRADES, SCORE_DECIMALS, UNGRADED
from landkit.config.models import Assessment, Grade, Grading, Project, Robustness, Track
from landkit.core.errors import DataError
from landkit.core.i18n import _

log = logging.getLogger(__name__)

#: The probability columns, one per class.
PROBABILITY_COLUMNS = tuple(f"p_{g}" for g in GRADES)
#: The columns :func:`grade_robustness` returns.
COLUMNS = [*PROBABILITY_COLUMNS, "modal_grade", "modal_probability", "stable", "grade_unstable_with"]
#: The columns of :func:`robustness_summary`.
SUMMARY_COLUMNS = ["track", "grade", "graded", "ranked", "unstable", "unstable_share", "unstable_share_of_graded",
                   "mean_modal_probability"]
#: The grading bases of ranked parcels (the parcels whose class the weights decide).
RANKED_BASES = ("rank", "score")
#: The name ``grade_unstable_with`` gives the sampled rank shares.
SHARES_NAME = "rank_shares"
#: The track and class of the park's total row of :func:`robustness_summary`.
PARK, ALL = "park", "all"
#: The least absolute correlation for a weight to be named; the second name's, relative to the first.
MIN_CORRELATION = 0.1
SECOND_NAME_RATIO = 0.5
#: The slack of grade_by_rank's limits (so a limit of exactly r counts rank r in).
RANK_SLACK = 1e-9
#: Slack on the stability test (a probability of 900/1000 is stable at 0.9).
PROBABILITY_SLACK = 1e-12


@dataclass(frozen=True)
class TrackSamples:
    """The samples of one track: weights, the factors they apply, and the rank shares.

    Attributes
    ----------
    weights : ndarray
        Samples × indicators: the sampled weights, renormalised to the track's total.
    factors : ndarray
        Samples × indicators: sampled weight / profile weight (what the points are scaled by).
    shares : ndarray
        Samples × 4: the rank shares A, B, C, D of each sample (the profile's when not sampled).
    """

    weights: np.ndarray
    factors: np.ndarray
    shares: np.ndarray


@dataclass(frozen=True)
class TrackCounts:
    """What the samples of one track give its members (``n`` ranked parcels, ``S`` samples).

    Attributes
    ----------
    counts : ndarray
        4 × n: how many samples put each member in class A, B, C, D.
    correlation : ndarray
        m × n: per candidate (the indicators' weights, then the cumulative shares when sampled),
        the Pearson correlation over the samples between it and the member being in its modal
        class (0 where either does not vary).
    """

    counts: np.ndarray
    correlation: np.ndarray


# --- sampling -----------------------------------------------------------------------------------


def sample_weights(rng: np.random.Generator, weights: np.ndarray, settings: Robustness) -> np.ndarray:
    """Return ``settings.samples`` weight vectors sampled around ``weights``, each summing to their total.

    Parameters
    ----------
    rng : Generator
        The call's generator (draws ``samples × len(weights)`` uniforms, or ``samples`` Dirichlet vectors).
    weights : ndarray
        The profile's weights of one track (positive).
    settings : Robustness
        ``method``, ``weight_range``, ``concentration``, ``samples``.

    Returns
    -------
    ndarray
        Samples × indicators. With ``uniform`` and ``weight_range`` 0, the profile's weights.
    """
    total = float(weights.sum())
    size = (settings.samples, len(weights))
    if settings.method == "dirichlet":
        alpha = settings.concentration * weights / total
        drawn: np.ndarray = rng.dirichlet(alpha, size=settings.samples) * total
        return drawn
    factors = rng.uniform(1 - settings.weight_range, 1 + settings.weight_range, size=size)
    scaled = weights[None, :] * factors
    # the same reduction on both sides: with factors of 1 the scale is exactly 1
    scale = np.sum(weights[None, :], axis=1) / np.sum(scaled, axis=1)
    sampled: np.ndarray = scaled * scale[:, None]
    return sampled


def sample_shares(rng: np.random.Generator, shares: Mapping[Grade, float], settings: Robustness) -> np.ndarray:
    """Return ``settings.samples`` rank-share vectors (A, B, C, D), each × U(1 ± share_range), renormalised.

    With ``share_range`` 0 nothing is drawn and every row is the profile's shares.
    """
    base = np.array([shares[g] for g in GRADES], dtype=float)
    if settings.share_range <= 0:
        return np.broadcast_to(base, (settings.samples, len(GRADES)))
    factors = rng.uniform(1 - settings.share_range, 1 + settings.share_range, size=(settings.samples, len(GRADES)))
    scaled = base[None, :] * factors
    sampled: np.ndarray = scaled * (base.sum() / scaled.sum(axis=1))[:, None]
    return sampled


def track_samples(rng: np.random.Generator, track: Track, grading: Grading, settings: Robustness) -> TrackSamples:
    """Draw one track's samples: its weights, then (when ``share_range`` > 0) its rank shares."""
    weights = np.array(list(track.weights.values()), dtype=float)
    sampled = sample_weights(rng, weights, settings)
    shares = sample_shares(rng, grading.rank_shares, settings)
    return TrackSamples(weights=sampled, factors=sampled / weights[None, :], shares=shares)


# --- classes of a batch ------------------------------------------------------------------------


def batch_scores(points: np.ndarray, maxima: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Return the scores (samples × members) of a batch of weight factors, rounded as the assessment rounds them.

    Parameters
    ----------
    points : ndarray
        Members × indicators: the assessed points (``<indicator>_pts``, 0 where missing).
    maxima : ndarray
        Indicators: the maximum points (weight × cap).
    factors : ndarray
        Batch × indicators: sampled weight / profile weight.
    """
    total = factors @ maxima
    scores: np.ndarray = np.round(100 * (factors @ points.T) / total[:, None], SCORE_DECIMALS)
    return scores


def rank_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Return, per sample, how many top ranks each of the cuts A, B, C admits (``⌊cumulative share × n + 1e-9⌋``).

    The cumulative shares add up in the order A, B, C as :func:`~landkit.assess.performance.grade_by_rank`
    adds them, so the limits are the same floats.
    """
    cumulative = np.cumsum(shares[:, :-1], axis=1)
    return np.clip(np.floor(cumulative * n + RANK_SLACK), 0, n).astype(np.int64)


def rank_thresholds(scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return, per sample and cut, the least score that reaches it: the ``counts``-th largest score.

    A parcel of competition rank ``r`` is within the first ``k`` ranks exactly when its score is at
    least the ``k``-th largest score (with multiplicity); ``k = 0`` admits nobody (+inf).

    Parameters
    ----------
    scores : ndarray
        Batch × members.
    counts : ndarray
        Batch × cuts: the ranks each cut admits (:func:`rank_counts`).

    Returns
    -------
    ndarray
        Batch × cuts.
    """
    batch, n = scores.shape
    position = n - np.clip(counts, 1, n)  # ascending position of the k-th largest
    low, high = position.min(axis=0), position.max(axis=0)
    part = np.partition(scores, np.unique(np.concatenate([low, high])), axis=1)
    rows = np.arange(batch)
    thresholds = np.empty(counts.shape, dtype=float)
    for cut in range(counts.shape[1]):
        if low[cut] == high[cut]:
            thresholds[:, cut] = part[:, low[cut]]
        else:  # sampled shares: sort only the window the batch's limits span
            window = np.sort(part[:, low[cut]:high[cut] + 1], axis=1)
            thresholds[:, cut] = window[rows, position[:, cut] - low[cut]]
    thresholds[counts == 0] = np.inf
    return thresholds


def batch_thresholds(scores: np.ndarray, grading: Grading, shares: np.ndarray) -> np.ndarray:
    """Return the least score of class A, B and C per sample of a batch (batch × 3)."""
    if grading.method == "rank":
        return rank_thresholds(scores, rank_counts(shares, scores.shape[1]))
    minimum = np.array([grading.score_min[g] for g in ("A", "B", "C")], dtype=float)
    return np.broadcast_to(minimum, (scores.shape[0], len(minimum)))


# --- one track ---------------------------------------------------------------------------------


def track_counts(points: np.ndarray, maxima: np.ndarray, samples: TrackSamples, grading: Grading, batch: int,
                 sampled_shares: bool) -> TrackCounts:
    """Regrade one track's members under every sample; return class counts and the weights' correlations.

    Per batch, one matrix product gives the scores; for each cut, the 0/1 matrix "at least this
    class" is multiplied by the batch's candidates (weights, cumulative shares, and a column of
    ones), which accumulates both the counts and the sums the correlations need.

    Parameters
    ----------
    points : ndarray
        Members × indicators.
    maxima : ndarray
        Indicators: weight × cap.
    samples : TrackSamples
        The track's samples.
    grading : Grading
        The track's grading.
    batch : int
        Samples per matrix product.
    sampled_shares : bool
        Whether the shares are sampled (then the cumulative shares are candidates too).
    """
    total = len(samples.weights)
    n = points.shape[0]
    candidates = samples.weights
    if sampled_shares and grading.method == "rank":
        candidates = np.column_stack([candidates, np.cumsum(samples.shares[:, :-1], axis=1)])
    with_ones = np.column_stack([candidates, np.ones(total)])
    m = candidates.shape[1]
    at_least = np.zeros((3, m + 1, n))  # per cut: Σ candidate × [class ≥ cut], and the count (last row)
    for start in range(0, total, batch):
        stop = min(start + batch, total)
        scores = batch_scores(points, maxima, samples.factors[start:stop])
        thresholds = batch_thresholds(scores, grading, samples.shares[start:stop])
        block = with_ones[start:stop].T
        for cut in range(3):
            at_least[cut] += block @ (scores >= thresholds[:, cut:cut + 1]).astype(float)
    all_samples = with_ones.sum(axis=0)[None, :, None] * np.ones((1, 1, n))
    cumulative = np.concatenate([at_least, all_samples], axis=0)  # at least A, B, C, D
    by_class = np.diff(cumulative, axis=0, prepend=0.0)  # 4 × (m + 1) × n
    counts = np.rint(by_class[:, -1, :])
    return TrackCounts(counts=counts, correlation=modal_correlation(by_class[:, :-1, :], counts, candidates))


def modal_correlation(sums: np.ndarray, counts: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Return the correlation between each candidate and "in the modal class", per member (m × n).

    Parameters
    ----------
    sums : ndarray
        4 × m × n: Σ over the samples of candidate × [class = g].
    counts : ndarray
        4 × n: samples per class.
    candidates : ndarray
        Samples × m: the sampled values.
    """
    total = len(candidates)
    modal = counts.argmax(axis=0)
    p = counts[modal, np.arange(counts.shape[1])] / total
    joint = np.take_along_axis(sums, modal[None, None, :], axis=0)[0] / total  # E[x × in modal]
    mean, sd = candidates.mean(axis=0), candidates.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (joint - mean[:, None] * p[None, :]) / (sd[:, None] * np.sqrt(p * (1 - p))[None, :])
    clean: np.ndarray = np.nan_to_num(np.clip(corr, -1.0, 1.0), nan=0.0, posinf=0.0, neginf=0.0)
    return clean


def name_weights(correlation: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Return per member the candidate(s) its class depends on most (see the module docstring), as text."""
    strength = np.abs(correlation)
    order = np.argsort(-strength, axis=0, kind="stable")
    labels = np.asarray(names, dtype=object)
    columns = np.arange(strength.shape[1])
    top = strength[order[0], columns]
    text = np.where(top >= MIN_CORRELATION, labels[order[0]], "")
    if len(names) > 1:
        second = strength[order[1], columns]
        show = (second >= np.maximum(MIN_CORRELATION, SECOND_NAME_RATIO * top)) & (labels[order[1]] != labels[order[0]])
        text = text + np.where(show, ", " + labels[order[1]], "")
    return np.asarray(text, dtype=object)


def track_points(parcels: pd.DataFrame, members: pd.Series, track: Track, assessment: Assessment) -> tuple[np.ndarray, np.ndarray]:
    """Return a track's members' points (members × indicators, 0 where missing) and its maximum points.

    Raises
    ------
    DataError
        If the parcels lack a ``<indicator>_pts`` column of the track.
    """
    columns = [f"{name}_pts" for name in track.weights]
    absent = [c for c in columns if c not in parcels]
    if absent:
        raise DataError(_("grade robustness needs the points of track `{track}` ({columns}): run the performance "
                          "assessment first").format(track=track.name, columns=", ".join(absent)))
    points = np.nan_to_num(parcels.loc[members, columns].to_numpy(dtype=float), nan=0.0)
    caps = [ind.cap if ind.method == "benchmark" else 1.0 for ind in (assessment.indicators[n] for n in track.weights)]
    maxima = np.array(list(track.weights.values()), dtype=float) * np.array(caps)
    return points, maxima


# --- the parcels --------------------------------------------------------------------------------


def fixed_classes(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return every parcel's own class at probability 1 (U: no probabilities), all stable."""
    grade = parcels["grade"].fillna(UNGRADED).astype(str).to_numpy()
    graded = np.isin(grade, GRADES)
    onehot = (grade[:, None] == np.array(GRADES)[None, :]).astype(float)
    onehot[~graded] = np.nan
    out = pd.DataFrame(onehot, index=parcels.index, columns=list(PROBABILITY_COLUMNS))
    out["modal_grade"] = np.where(graded, grade, UNGRADED).astype(object)
    out["modal_probability"] = np.where(graded, 1.0, np.nan)
    out["stable"] = True
    out["grade_unstable_with"] = ""
    return out


def grade_robustness(parcels: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Return each parcel's class probabilities under sampled weights, its modal class and its stability.

    Parameters
    ----------
    parcels : DataFrame
        The parcels with the columns of :func:`~landkit.assess.performance.assess_performance`:
        ``<indicator>_pts`` of every track's indicators, ``track``, ``grade``, ``grade_basis``
        (``rank``, ``score``, ``direct`` or ""), and ``score`` (checked against the points).
    project : Project
        The assessment (tracks, weights, caps, grading) and ``robustness`` (the sampling).

    Returns
    -------
    DataFrame
        Aligned to ``parcels.index``: ``p_A`` … ``p_D`` (summing to 1; a direct class or, with
        ``samples`` 0, every class at 1; NaN for U), ``modal_grade`` (the most probable class, the
        better one on a tie; ``U``), ``modal_probability``, ``stable`` (modal probability ≥
        ``stable_probability``; always for direct and U parcels) and ``grade_unstable_with`` (the
        weight(s) an unstable parcel's class depends on most, "" when stable). The settings used
        are in ``.attrs["robustness"]``.

    Raises
    ------
    DataError
        If the parcels lack the assessment's columns.
    """
    settings = project.robustness
    spec = project.assessment
    absent = [c for c in ("track", "grade", "grade_basis") if c not in parcels]
    if absent:
        raise DataError(_("grade robustness needs the columns {columns} of the performance assessment").format(
            columns=", ".join(absent)))
    out = fixed_classes(parcels)
    out.attrs["robustness"] = settings.model_dump()
    if settings.samples == 0:
        return out
    started = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    basis = parcels["grade_basis"].fillna("").astype(str)
    ranked = basis.isin(RANKED_BASES)
    position = pd.Series(np.arange(len(parcels)), index=parcels.index)
    probabilities = out[list(PROBABILITY_COLUMNS)].to_numpy(copy=True)
    text = out["grade_unstable_with"].to_numpy(copy=True)
    for track in spec.tracks:
        grading = track.grading or spec.grading
        samples = track_samples(rng, track, grading, settings)  # drawn for every track: a fixed order
        members = ranked & (parcels["track"] == track.name)
        if not members.any():
            continue
        if (basis[members] != grading.method).any():
            log.warning("%s", _("track `{track}` was graded by another method than the project's `{method}`: "
                                "robustness regrades it by `{method}`").format(track=track.name, method=grading.method))
        points, maxima = track_points(parcels, members, track, spec)
        check_scores(parcels.loc[members, "score"] if "score" in parcels else None, points, maxima, track)
        result = track_counts(points, maxima, samples, grading, settings.batch,
                              sampled_shares=settings.share_range > 0)
        rows = position[members].to_numpy()
        probabilities[rows] = (result.counts / settings.samples).T
        names = list(track.weights)
        if result.correlation.shape[0] > len(names):
            names += [SHARES_NAME] * (result.correlation.shape[0] - len(names))
        text[rows] = name_weights(result.correlation, names)
    stray = ranked & ~parcels["track"].isin([t.name for t in spec.tracks])
    if stray.any():
        log.warning("%s", _("{count} ranked parcel(s) belong to no track of the project: their classes are kept")
                    .format(count=int(stray.sum())))
    out[list(PROBABILITY_COLUMNS)] = probabilities
    graded = ~np.isnan(probabilities).any(axis=1)
    modal = np.argmax(np.nan_to_num(probabilities, nan=-1.0), axis=1)  # the better class on a tie
    out["modal_grade"] = np.where(graded, np.array(GRADES, dtype=object)[modal], UNGRADED)
    out["modal_probability"] = np.where(graded, probabilities[np.arange(len(out)), modal], np.nan)
    stable = ~graded | (out["modal_probability"].to_numpy() >= settings.stable_probability - PROBABILITY_SLACK)
    out["stable"] = stable
    out["grade_unstable_with"] = np.where(stable, "", text).astype(object)
    unstable = int((~stable).sum())
    log.info("grade robustness: %d samples, %d of %d ranked parcels unstable (%.1f s)", settings.samples, unstable,
             int(ranked.sum()), time.perf_counter() - started)
    return out


def check_scores(score: pd.Series | None, points: np.ndarray, maxima: np.ndarray, track: Track) -> None:
    """Warn when the points do not give the assessed scores (the parcels were assessed with other weights)."""
    if score is None or not len(points):
        return
    rebuilt = np.round(100 * points.sum(axis=1) / maxima.sum(), SCORE_DECIMALS)
    off = ~np.isclose(rebuilt, score.to_numpy(dtype=float), rtol=0, atol=10.0 ** -SCORE_DECIMALS * 5)
    if off.any():
        log.warning("%s", _("{count} parcel(s) of track `{track}` have scores their points and the project's weights "
                            "do not give: were they assessed with another configuration?")
                    .format(count=int(off.sum()), track=track.name))


def robustness_summary(parcels_with_robustness: pd.DataFrame) -> pd.DataFrame:
    """Return the parcels ranked and unstable per track and class, and the park's total.

    Parameters
    ----------
    parcels_with_robustness : DataFrame
        The assessed parcels (``track``, ``grade``, ``grade_basis``) joined with the columns of
        :func:`grade_robustness` (``stable``, ``modal_probability``).

    Returns
    -------
    DataFrame
        :data:`SUMMARY_COLUMNS`: one row per track and assessed class A–D (direct classes
        included; "" for a direct class of no track), then the park (``track`` ``park``, ``grade``
        ``all``): ``graded`` (parcels of the class, ranked or direct), ``ranked`` (those whose
        class the weights decide), ``unstable`` (ranked and not stable), ``unstable_share``
        (unstable / ranked), ``unstable_share_of_graded`` (unstable / graded: the share of graded
        parcels whose class depends on contested weights) and ``mean_modal_probability`` (over
        the ranked parcels).
    """
    frame = parcels_with_robustness
    graded = frame["grade"].isin(GRADES)
    ranked = frame["grade_basis"].fillna("").isin(RANKED_BASES)
    table = pd.DataFrame({
        "track": frame["track"].fillna("").astype(str),
        "grade": frame["grade"],
        "graded": graded,
        "ranked": ranked & graded,
        "unstable": ranked & graded & ~frame["stable"].astype(bool),
        "modal_probability": frame["modal_probability"].where(ranked & graded),
    })[graded]
    aggregate = {"graded": ("graded", "sum"), "ranked": ("ranked", "sum"), "unstable": ("unstable", "sum"),
                 "mean_modal_probability": ("modal_probability", "mean")}
    rows = table.groupby(["track", "grade"], sort=True).agg(**aggregate).reset_index()
    park = table.assign(track=PARK, grade=ALL).groupby(["track", "grade"]).agg(**aggregate).reset_index()
    if park.empty:
        park = pd.DataFrame([{"track": PARK, "grade": ALL, "graded": 0, "ranked": 0, "unstable": 0,
                              "mean_modal_probability": np.nan}])
    out = pd.concat([rows, park], ignore_index=True)
    for column in ("graded", "ranked", "unstable"):
        out[column] = out[column].astype(int)
    out["unstable_share"] = out["unstable"] / out["ranked"].where(out["ranked"] > 0)
    out["unstable_share_of_graded"] = out["unstable"] / out["graded"].where(out["graded"] > 0)
    return out[SUMMARY_COLUMNS]
