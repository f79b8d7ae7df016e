"""一清单 and 一盘活: the low-efficiency inventory drawn from the classes, and a path per parcel.

**The list.** 一清单 is the A/B/C/D classification of every graded parcel (U with its reason). The
low-efficiency inventory (``low_efficiency``) is drawn from it: the parcels of
``inventory.classes`` (C and D), plus legally idle land whatever its class
(:mod:`landkit.land_status`). The ``reasons`` rules (low FAR against the 2008 norm for the
parcel's industry, 建筑系数 below 30 %, low tax per 亩, stopped, 零星, small, isolated) are flags
on every parcel (``r_<CODE>``): on a listed parcel they explain the listing; on a parcel of
``watch_classes`` (A, B) any of those with ``watch: true`` puts it on the watch table (``watch``,
关注) and never on the inventory. U parcels are never listed, except legally idle land.

``reasons`` holds the codes (``D;LOW_FAR``): the class (``C``, ``D``, or ``IDLE``) first,
then each flag that holds; ``reasons_zh`` / ``reasons_en`` their texts.

**The paths.** Every graded parcel and all legally idle land take the path of the first
disposal rule that holds; every listed parcel must find one (else a one-line error naming it).
Each path states its gains and its cost:

- ``land_freed_mu``: the parcel's area, for paths that gain ``land``;
- ``floor_area_added_m2``: max(0, target FAR × area − floor area), for ``floor_area``;
- ``potential_tax_wan``: the tax at the block's median tax per 亩 over graded parcels (the
  park's outside blocks), and ``tax_gain_wan`` = max(0, that − the tax now), for ``tax``;
- ``compensation_wan``: ``none`` 0 (无偿收回 of idle land, or no taking); ``residual``: the land
  and building value (:mod:`landkit.valuation`); ``reduction``: the district's 减量化
  standard per 亩 × area;
- ``net_land_value_wan``: for paths that free land, its value at a full new term less the
  compensation; ``payback_years``: compensation / yearly tax gain;
- ``review_year``: for paths with ``review`` (观察保留), the year of the next review.

Rules are expressions over the parcel columns (``grade``, ``status``, ``far``, ``far_min``,
``building_coefficient``, ``area_mu``, ``inside_block``, ``sporadic``, ``small``, ``isolated``,
``legally_idle``, ``idle_years``, ``stopped_years``, every indicator, ``r_<CODE>``, ``ring`` and
``function_fit`` when rings are known, ``high_tech_firms``) and ``@params``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config import Disposal, Inventory, Rule, Valuation
from landkit.errors import ConfigError
from landkit.formula import check_expression, evaluate_condition, with_rule_defaults
from landkit.i18n import _
from landkit.parcels import first_flagged

SEPARATOR = ";"

#: The listing's own reason, by basis: code, Chinese, English.
LISTING = {
    "C": ("C", "综合绩效评价C类", "class C"),
    "D": ("D", "综合绩效评价D类", "class D"),
    "IDLE": ("IDLE", "闲置土地", "legally idle land"),
}


def far_minimum(parcels: pd.DataFrame, far_min: dict[str, float] | float | None) -> pd.Series:
    """Return each parcel's minimum FAR: by ``industry``, then ``industry_group``, then ``default``."""
    if not isinstance(far_min, dict):
        return pd.Series(np.nan if far_min is None else float(far_min), index=parcels.index)
    result = pd.Series(np.nan, index=parcels.index, dtype=float)
    for column in ("industry", "industry_group"):
        if column in parcels:
            result = result.fillna(parcels[column].map(far_min).astype(float))
    return result.fillna(float(far_min.get("default", np.nan)))


def rule_frame(parcels: pd.DataFrame, inventory: Inventory) -> pd.DataFrame:
    """Return the parcel columns the rules read, with the derived and defaulted ones added."""
    frame = with_rule_defaults(
        parcels, flags=("inside_block", "sporadic", "small", "isolated", "legally_idle", "graded"),
        labels=("grade", "status", "industry", "ring", "land_use", "function_fit"),
        numbers=("idle_years", "stopped_years", "high_tech_firms", "rd_intensity", "far"))
    frame["far_min"] = far_minimum(frame, inventory.params.get("far_min"))
    area = frame["area_m2"].astype(float).where(frame["area_m2"] > 0)
    built = frame["footprint_m2"].astype(float) if "footprint_m2" in frame else pd.Series(np.nan, index=frame.index)
    yard = frame["yard_m2"].astype(float).fillna(0.0) if "yard_m2" in frame else 0.0
    frame["building_coefficient"] = (built + yard) / area
    return frame


def _params(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if not isinstance(v, dict)}


def _check_rules(rules: list[Rule], frame: pd.DataFrame, params: dict, key: str) -> None:
    for i, rule in enumerate(rules):
        check_expression(rule.when, key=f"{key}[{i}] ({rule.code})", columns=set(frame.columns), params=params)


def join_flags(flags: pd.DataFrame, labels: list[str], sep: str) -> pd.Series:
    """Join the labels of the true flags of each row (``D;IDLE``), a loop over rules not rows."""
    text = pd.Series("", index=flags.index, dtype=object)
    for column, label in zip(flags.columns, labels, strict=True):
        text = text + np.where(flags[column].to_numpy(), label + sep, "")
    return text.str.removesuffix(sep) if sep else text


def list_low_efficiency(parcels: pd.DataFrame, inventory: Inventory) -> pd.DataFrame:
    """Draw the low-efficiency inventory and the watch table from the classes.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``r_<CODE>`` per reason, ``low_efficiency``, ``watch``,
        ``list_basis`` (``C``, ``D``, ``IDLE`` or ""), ``reasons`` (codes joined by ``;``),
        ``reasons_zh``, ``reasons_en``, ``far_min``, ``building_coefficient``.
    """
    frame = rule_frame(parcels, inventory)
    params = _params(inventory.params)
    _check_rules(inventory.reasons, frame, params, "inventory.reasons")
    out = pd.DataFrame(index=parcels.index)
    for rule in inventory.reasons:
        out[f"r_{rule.code}"] = evaluate_condition(frame, rule.when, params)
    flags = out[[f"r_{r.code}" for r in inventory.reasons]]
    grade = frame["grade"]
    idle = frame["legally_idle"]
    by_class = grade.isin(inventory.classes)
    out["low_efficiency"] = by_class | idle
    watching = flags[[f"r_{r.code}" for r in inventory.reasons if r.watch]]
    out["watch"] = grade.isin(inventory.watch_classes) & watching.to_numpy().any(axis=1) & ~out["low_efficiency"]
    basis = pd.Series("", index=parcels.index, dtype=object)
    basis[by_class] = grade[by_class]
    basis[idle] = "IDLE"
    out["list_basis"] = basis
    for code in LISTING:  # the listing's own reason as a flag too, so the codes can be rebuilt from flags
        out[f"r_{code}"] = basis == code
    shown = out["low_efficiency"] | out["watch"]
    direct = frame["grade_reason_zh"] if "grade_reason_zh" in frame else pd.Series("", index=frame.index)
    direct_en = frame["grade_reason_en"] if "grade_reason_en" in frame else pd.Series("", index=frame.index)
    idle_years = frame["idle_years"].astype(float).round(0)
    head = {"reasons": basis.map(lambda b: LISTING[b][0] if b else "")}
    head_zh = basis.map(lambda b: LISTING[b][1] if b else "")
    head_en = basis.map(lambda b: LISTING[b][2] if b else "")
    head_zh = head_zh.where(basis != "IDLE", "闲置土地(闲置" + idle_years.astype("Int64").astype(str) + "年)")
    head_en = head_en.where(basis != "IDLE", "legally idle land (" + idle_years.astype("Int64").astype(str) + " years)")
    has_direct = (direct != "") & (basis != "IDLE")
    head_zh = head_zh.where(~has_direct, head_zh + "：" + direct)
    head_en = head_en.where(~has_direct, head_en + ": " + direct_en)
    for column, attr, sep, first in (("reasons", "code", SEPARATOR, head["reasons"]), ("reasons_zh", "label_zh", "；", head_zh),
                                     ("reasons_en", "label_en", "; ", head_en)):
        rest = join_flags(flags, [getattr(r, attr) for r in inventory.reasons], sep)
        text = first + np.where((first != "") & (rest != ""), sep, "") + rest
        out[column] = text.where(shown, "")
    out["far_min"] = frame["far_min"]
    out["building_coefficient"] = frame["building_coefficient"]
    return out


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
    eligible = frame["graded"] | frame["legally_idle"]
    path = pd.Series("", index=parcels.index, dtype=object)
    for rule in disposal.rules:
        match = evaluate_condition(frame, rule.when, params) & eligible & (path == "")
        path[match] = rule.code
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
