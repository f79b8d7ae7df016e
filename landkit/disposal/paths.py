"""一盘活: a path per parcel, with its gains and its cost.

Every graded parcel and all legally idle land take the path of the first
disposal rule that holds; every listed parcel must find one (else a one-line error naming it).
Each path states its gains and its cost:

- ``land_freed_mu``: the parcel's area, for paths that gain ``land``;
- ``floor_area_added_m2``: max(0, target FAR × area − floor area), for ``floor_area``;
- ``potential_tax_wan``: the tax at the block's median tax per 亩 over graded parcels (the
  park's outside blocks), and ``tax_gain_wan`` = max(0, that − the tax now), for ``tax``;
- ``compensation_wan``: ``none`` 0 (无偿收回 of idle land, or no taking); ``residual``: the land
  and building value (:mod:`landkit.assess.valuation`); ``reduction``: the district's 减量化
  standard per 亩 × area;
- ``net_land_value_wan``: for paths that free land, its value at a full new term less the
  compensation; ``payback_years``: compensation / yearly tax gain;
- ``review_year``: for paths with ``review`` (观察保留), the year of the next review.

Rules are expressions over the same columns as the list's (:mod:`landkit.listing.inventory`),
which they see too (``low_efficiency``, ``reasons``), and ``@params``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config.formula import evaluate_condition
from landkit.config.models import Disposal, Inventory, Valuation
from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.data.parcels import first_flagged
from landkit.listing.inventory import _check_rules, _params, rule_frame


def block_median_tax_per_mu(parcels: pd.DataFrame) -> pd.Series:
    """Return each parcel's reference tax per 亩: its block's median over graded parcels, else the park's."""
    graded = parcels["graded"].fillna(False).astype(bool) if "graded" in parcels else pd.Series(True, index=parcels.index)
    tax = parcels["tax_wan"] / parcels["area_mu"].where(parcels["area_mu"] > 0) if "tax_wan" in parcels else pd.Series(np.nan, index=parcels.index)
    tax = tax.where(graded)
    park = tax.median()
    if "block_id" in parcels:
        medians = tax.groupby(parcels["block_id"]).median()
        return parcels["block_id"].map(medians).astype(float).fillna(park)
    return pd.Series(park, index=parcels.index, dtype=float)


def assign_disposal(parcels: pd.DataFrame, listed: pd.DataFrame, disposal: Disposal, *, year: int,
                    inventory: Inventory, valuation: Valuation) -> pd.DataFrame:
    """Give every graded parcel and all legally idle land a revitalisation path, its gains and its cost.

    Parameters
    ----------
    parcels : DataFrame
        Parcels with the assessments (class, indicators, values) and the land status.
    listed : DataFrame
        :func:`list_low_efficiency` of the same parcels.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``disposal`` (path code, "" for parcels without one),
        ``disposal_zh``, ``disposal_en``, ``land_freed_mu``, ``floor_area_added_m2``,
        ``potential_tax_wan``, ``tax_gain_wan``, ``compensation_basis``, ``compensation_wan``,
        ``net_land_value_wan``, ``payback_years``, ``review_year``.

    Raises
    ------
    ConfigError
        When a listed parcel matches no rule (naming it and the fix).
    """
    frame = rule_frame(parcels, inventory)
    for column in listed.columns:
        frame[column] = listed[column]
    # Disposal rules see the inventory's and the idle-land rules' parameters too (their own win).
    params = {**_params(inventory.params), "free_reclaim_years": inventory.idle_land.free_reclaim_years, **_params(disposal.params)}
    _check_rules(disposal.rules, frame, params, "disposal.rules")
    # a class decided for an ungraded parcel (landkit.data.overrides: grade_basis `override`) takes a path too
    decided_class = parcels["grade_basis"].eq("override") if "grade_basis" in parcels else False
    eligible = frame["graded"] | frame["legally_idle"] | decided_class
    path = pd.Series("", index=parcels.index, dtype=object)
    for rule in disposal.rules:
        match = evaluate_condition(frame, rule.when, params) & eligible & (path == "")
        path[match] = rule.code
    decided = parcels["override_disposal"].fillna("").astype(str) if "override_disposal" in parcels else None
    computed = path.copy()
    if decided is not None and (decided != "").any():  # a decided path (landkit.data.overrides) replaces the rules'
        path = path.where(decided == "", decided)
    stranded = listed["low_efficiency"] & (path == "")
    if stranded.any():
        first, pid = first_flagged(parcels, stranded)
        raise ConfigError(
            _("disposal.rules: listed parcel {parcel} (class {grade}) matches no rule ({n} listed parcel(s) in all); end "
              "the rules of each listed class with one that always holds").format(
                parcel=pid, grade=frame.at[first, "grade"], n=int(stranded.sum()))
        )
    rules = {r.code: r for r in disposal.rules}
    out = pd.DataFrame(index=parcels.index)
    out["disposal"] = path
    if decided is not None and (decided != "").any():
        out["disposal_computed"] = computed
    out["disposal_zh"] = path.map({c: r.label_zh for c, r in rules.items()}).fillna("")
    out["disposal_en"] = path.map({c: r.label_en for c, r in rules.items()}).fillna("")

    def having(gain: str) -> pd.Series:
        return path.isin([c for c, r in rules.items() if gain in r.gains])

    area_mu, area_m2 = parcels["area_mu"].astype(float), parcels["area_m2"].astype(float)
    floor = parcels["floor_area_m2"].astype(float).fillna(0.0) if "floor_area_m2" in parcels else pd.Series(0.0, index=parcels.index)
    has_path = path != ""
    out["land_freed_mu"] = np.where(having("land"), area_mu, 0.0)
    target = float(params.get("target_far", 0.0))
    out["floor_area_added_m2"] = np.where(having("floor_area"), np.maximum(target * area_m2 - floor, 0.0), 0.0)
    potential = block_median_tax_per_mu(parcels) * area_mu
    tax_now = parcels["tax_wan"].fillna(0.0) if "tax_wan" in parcels else 0.0
    out["potential_tax_wan"] = potential.where(having("tax"))
    out["tax_gain_wan"] = (potential - tax_now).clip(lower=0).where(having("tax"), 0.0).where(has_path)

    basis = path.map({c: r.compensation for c, r in rules.items()}).fillna("")
    out["compensation_basis"] = basis
    value = parcels["total_value_wan"].astype(float) if "total_value_wan" in parcels else pd.Series(np.nan, index=parcels.index)
    reduction = valuation.compensation.reduction_wan_per_mu * area_mu
    compensation = np.select([basis == "none", basis == "residual", basis == "reduction"], [0.0, value, reduction], np.nan)
    out["compensation_wan"] = pd.Series(compensation, index=parcels.index).where(has_path)
    full = parcels["land_value_full_term_wan"].astype(float) if "land_value_full_term_wan" in parcels else pd.Series(np.nan, index=parcels.index)
    out["net_land_value_wan"] = (full - out["compensation_wan"]).where(having("land"))
    gain = out["tax_gain_wan"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["payback_years"] = (out["compensation_wan"] / gain).where((gain > 0) & (out["compensation_wan"] > 0))
    review = path.isin([c for c, r in rules.items() if r.review])
    out["review_year"] = pd.Series(year + int(params.get("review_years", 1)), index=parcels.index).where(review).astype("Int64")
    return out
