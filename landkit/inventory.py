"""一清单 and 一盘活: the low-efficiency land inventory and a revitalisation path per listed parcel.

A parcel is listed (``low_efficiency``) when any inventory rule holds; it carries the codes of
the rules that hold (``reasons``: ``D;IDLE``) and their texts in Chinese and English. Each
listed parcel then takes the path of the first disposal rule that holds, and its estimated gain:

- ``land_freed_mu``: the parcel's area, for paths that take the land back (``frees_land``);
- ``floor_area_added_m2``: max(0, target FAR × area − floor area), for paths that add floor
  space (``adds_floor_area``);
- ``potential_tax_wan``: the tax the parcel would pay at its block's median tax per 亩 (the
  park's median outside blocks), and ``tax_gain_wan`` = that − its tax now (at least 0).

Rules are expressions over the parcel columns (``grade``, ``status``, ``far``, ``area_mu``,
``inside_block``, ``idle_years``, ``far_min``, every indicator, ``small``/``isolated``/
``scattered`` from 小而散, ``r_<CODE>`` for each listed reason, ``ring`` and ``function_fit``
when rings are known) and ``@params``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config import Disposal, Inventory, Rule
from landkit.formula import check_expression, evaluate_condition

SEPARATOR = ";"


def rule_frame(parcels: pd.DataFrame, inventory: Inventory, *, year: int) -> pd.DataFrame:
    """Return the parcel columns the rules read, with the derived ones added.

    ``idle_years`` counts from ``idle_since_year`` when given, else from the lease start for
    parcels that never produced; ``far_min`` is the minimum FAR of the parcel's land use.
    """
    frame = parcels.copy()
    frame["inside_block"] = frame["inside_block"].fillna(False).astype(bool) if "inside_block" in frame else False
    since = pd.Series(np.nan, index=frame.index)
    if "idle_since_year" in frame:
        since = frame["idle_since_year"].astype(float)
    if "lease_start_year" in frame:
        never = frame["production_start_year"].isna() if "production_start_year" in frame else True
        since = since.fillna(frame["lease_start_year"].astype(float).where(never))
    frame["idle_years"] = year - since
    far_min = inventory.params.get("far_min", {})
    frame["far_min"] = frame["land_use"].map(far_min).astype(float) if isinstance(far_min, dict) and "land_use" in frame else np.nan
    for column in ("grade", "status", "industry", "ring", "land_use"):
        if column not in frame:
            frame[column] = None
    if "graded" not in frame:
        frame["graded"] = False
    return frame


def _check_rules(rules: list[Rule], frame: pd.DataFrame, params: dict, key: str) -> None:
    for i, rule in enumerate(rules):
        check_expression(rule.when, key=f"{key}.rules[{i}] ({rule.code})", columns=set(frame.columns), params=params)


def list_low_efficiency(parcels: pd.DataFrame, inventory: Inventory, *, year: int) -> pd.DataFrame:
    """Apply the inventory rules.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``r_<CODE>`` per rule, ``low_efficiency``, ``reasons`` (codes
        joined by ``;``), ``reasons_zh``, ``reasons_en``.
    """
    frame = rule_frame(parcels, inventory, year=year)
    params = {k: v for k, v in inventory.params.items() if not isinstance(v, dict)}
    _check_rules(inventory.rules, frame, params, "inventory")
    out = pd.DataFrame(index=parcels.index)
    for rule in inventory.rules:
        out[f"r_{rule.code}"] = evaluate_condition(frame, rule.when, params)
    flags = out[[f"r_{r.code}" for r in inventory.rules]]
    out["low_efficiency"] = flags.to_numpy().any(axis=1)
    for column, attr, sep in (("reasons", "code", SEPARATOR), ("reasons_zh", "label_zh", "；"), ("reasons_en", "label_en", "; ")):
        out[column] = join_flags(flags, [getattr(r, attr) for r in inventory.rules], sep)
    out["idle_years"] = frame["idle_years"]
    out["far_min"] = frame["far_min"]
    return out


def join_flags(flags: pd.DataFrame, labels: list[str], sep: str) -> pd.Series:
    """Join the labels of the true flags of each row (``D;IDLE``), a loop over rules not rows."""
    text = pd.Series("", index=flags.index, dtype=object)
    for column, label in zip(flags.columns, labels, strict=True):
        text = text + np.where(flags[column].to_numpy(), label + sep, "")
    return text.str.removesuffix(sep) if sep else text


def block_median_tax_per_mu(parcels: pd.DataFrame) -> pd.Series:
    """Return each parcel's reference tax per 亩: its block's median over graded parcels, else the park's."""
    graded = parcels["graded"].fillna(False).astype(bool) if "graded" in parcels else pd.Series(True, index=parcels.index)
    tax = parcels["tax_wan"] / parcels["area_mu"].where(parcels["area_mu"] > 0)
    tax = tax.where(graded)
    park = tax.median()
    if "block_id" in parcels:
        medians = tax.groupby(parcels["block_id"]).median()
        return parcels["block_id"].map(medians).astype(float).fillna(park)
    return pd.Series(park, index=parcels.index, dtype=float)


def assign_disposal(parcels: pd.DataFrame, listed: pd.DataFrame, disposal: Disposal, *, year: int, inventory: Inventory) -> pd.DataFrame:
    """Give each listed parcel a revitalisation path and its estimated gain.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``disposal`` (path code, empty when not listed),
        ``disposal_zh``, ``disposal_en``, ``land_freed_mu``, ``floor_area_added_m2``,
        ``potential_tax_wan``, ``tax_gain_wan``.
    """
    frame = rule_frame(parcels, inventory, year=year)
    for column in listed.columns.drop(["idle_years", "far_min"]):
        frame[column] = listed[column]
    # Disposal rules see the inventory's parameters too (its own take precedence).
    params = {**{k: v for k, v in inventory.params.items() if not isinstance(v, dict)}, **disposal.params}
    _check_rules(disposal.rules, frame, params, "disposal")
    path = pd.Series("", index=parcels.index, dtype=object)
    for rule in disposal.rules:
        match = evaluate_condition(frame, rule.when, params) & listed["low_efficiency"] & (path == "")
        path[match] = rule.code
    labels = {r.code: (r.label_zh, r.label_en) for r in disposal.rules}
    out = pd.DataFrame(index=parcels.index)
    out["disposal"] = path
    out["disposal_zh"] = path.map({code: zh for code, (zh, _) in labels.items()}).fillna("")
    out["disposal_en"] = path.map({code: en for code, (_, en) in labels.items()}).fillna("")
    area_mu, area_m2 = parcels["area_mu"], parcels["area_m2"]
    floor = parcels["floor_area_m2"].fillna(0.0) if "floor_area_m2" in parcels else pd.Series(0.0, index=parcels.index)
    frees = path.isin(params.get("frees_land", []))
    adds = path.isin(params.get("adds_floor_area", []))
    out["land_freed_mu"] = np.where(frees, area_mu, 0.0)
    target = float(params.get("target_far", 0.0))
    out["floor_area_added_m2"] = np.where(adds, np.maximum(target * area_m2 - floor, 0.0), 0.0)
    reference = block_median_tax_per_mu(parcels)
    potential = reference * area_mu
    tax_now = parcels["tax_wan"].fillna(0.0) if "tax_wan" in parcels else 0.0
    listed_mask = listed["low_efficiency"]
    out["potential_tax_wan"] = potential.where(listed_mask)
    out["tax_gain_wan"] = (potential - tax_now).clip(lower=0).where(listed_mask)
    return out
