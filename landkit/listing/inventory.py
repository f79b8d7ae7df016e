"""一清单: the low-efficiency inventory drawn from the classes, with each parcel's reasons.

**The list.** 一清单 is the A/B/C/D classification of every graded parcel (U with its reason). The
low-efficiency inventory (``low_efficiency``) is drawn from it: the parcels of
``inventory.classes`` (C and D), plus legally idle land whatever its class
(:mod:`landkit.assess.land_status`). The ``reasons`` rules (low FAR against the 2008 norm for the
parcel's industry, 建筑系数 below 30 %, low tax per 亩, stopped, 零星, small, isolated) are flags
on every parcel (``r_<CODE>``): on a listed parcel they explain the listing; on a parcel of
``watch_classes`` (A, B) any of those with ``watch: true`` puts it on the watch table (``watch``,
关注) and never on the inventory. U parcels are never listed, except legally idle land.

``reasons`` holds the codes (``D;LOW_FAR``): the class (``C``, ``D``, or ``IDLE``) first,
then each flag that holds; ``reasons_zh`` / ``reasons_en`` their texts.

Rules are expressions over the parcel columns (``grade``, ``status``, ``far``, ``far_min``,
``building_coefficient``, ``area_mu``, ``inside_block``, ``sporadic``, ``small``, ``isolated``,
``legally_idle``, ``idle_years``, ``stopped_years``, every indicator, ``r_<CODE>``, ``ring`` and
``function_fit`` when rings are known, ``high_tech_firms``) and ``@params``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from landkit.config.formula import check_expression, evaluate_condition, with_rule_defaults
from landkit.config.models import Inventory, Rule

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
        labels=("grade", "status", "industry", "ring", "land_use", "function_fit", "ownership", "zone_type"),
        numbers=("idle_years", "stopped_years", "high_tech_firms", "rd_intensity", "far"))
    frame["far_min"] = far_minimum(frame, inventory.params.get("far_min"))
    area = frame["area_m2"].astype(float).where(frame["area_m2"] > 0)
    built = frame["footprint_m2"].astype(float) if "footprint_m2" in frame else pd.Series(np.nan, index=frame.index)
    yard = frame["yard_m2"].astype(float).fillna(0.0) if "yard_m2" in frame else 0.0
    frame["building_coefficient"] = (built + yard) / area
    return frame


def _params(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if not isinstance(v, dict)}


def _check_rules(rules: Sequence[Rule], frame: pd.DataFrame, params: dict[str, Any], key: str) -> None:
    for i, rule in enumerate(rules):
        check_expression(rule.when, key=f"{key}[{i}] ({rule.code})", columns=set(frame.columns), params=params)


def join_flags(flags: pd.DataFrame, labels: list[str], sep: str) -> pd.Series:
    """Join the labels of the true flags of each row (``D;IDLE``): once per combination of flags, not per row."""
    if flags.shape[1] == 0 or len(flags) == 0:
        return pd.Series("", index=flags.index, dtype=object)
    bits = flags.to_numpy(dtype=bool)
    # each row's combination as one fixed-width byte string (a bit per flag), then its text once
    packed = np.ascontiguousarray(np.packbits(bits, axis=1))
    _, first, inverse = np.unique(packed.view(f"S{packed.shape[1]}").ravel(), return_index=True, return_inverse=True)
    texts = np.array([sep.join(label for label, on in zip(labels, bits[row], strict=True) if on) for row in first], dtype=object)
    return pd.Series(texts[inverse.ravel()], index=flags.index, dtype=object)


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
    head = {"reasons": basis.map({"": "", **{b: texts[0] for b, texts in LISTING.items()}})}
    head_zh = basis.map({"": "", **{b: texts[1] for b, texts in LISTING.items()}})
    head_en = basis.map({"": "", **{b: texts[2] for b, texts in LISTING.items()}})
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
