"""商办用地转研发用地: commercial and office land that the rules mark for conversion to R&D use.

Plan item 13 asks 莘庄工业区 to "推进商办用地转研发用地规划调整". Here a parcel whose land use is one of
``conversion.land_uses`` (B1, B2, B29, C2, C8 by default) gets one flag per reason of
``conversion.reasons`` (``cv_<CODE>``: where it lies — a conversion zone, a ring that fits R&D —
and how it is used — vacancy, FAR, tax per 亩), and is a candidate when ``conversion.candidate_when``
holds over those flags. Reasons are expressions over the parcel columns, evaluated by the same
rule language as the list's (:mod:`landkit.config.formula`); ``@zones`` and ``@towns`` are the
configured blocks and towns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config.formula import check_expression, evaluate_condition, with_rule_defaults
from landkit.config.models import Conversion
from landkit.listing.inventory import join_flags


def conversion_candidates(parcels: pd.DataFrame, spec: Conversion) -> pd.DataFrame:
    """Return which commercial and office parcels are candidates for R&D use, and why.

    Parameters
    ----------
    parcels : DataFrame
        Assessed parcels: ``land_use`` and, where the data have them, ``block_id``, ``town``,
        ``ring``, ``vacancy_rate``, ``far``, ``status``, ``tax_per_mu``, ``floor_area_m2``,
        ``area_m2``.
    spec : Conversion
        ``project.conversion``.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``cv_<CODE>`` per reason (False off the commercial and office
        land), ``conversion_candidate``, ``conversion_reasons`` (codes joined by ``;``),
        ``conversion_reasons_zh``, ``conversion_reasons_en`` (of candidates only) and
        ``conversion_floor_area_m2``: the floor space a candidate offers R&D (its buildings).

    Raises
    ------
    ConfigError
        A reason or ``candidate_when`` outside the rule language or naming an unknown column.
    """
    frame = with_rule_defaults(parcels, labels=("land_use", "block_id", "town", "ring", "status"),
                               numbers=("vacancy_rate", "far", "tax_per_mu", "floor_area_m2"))
    params = {**spec.params, "zones": list(spec.zones), "towns": list(spec.towns)}
    eligible = frame["land_use"].isin(spec.land_uses)
    out = pd.DataFrame(index=parcels.index)
    for i, rule in enumerate(spec.reasons):
        key = f"conversion.reasons[{i}] ({rule.code})"
        check_expression(rule.when, key=key, columns=set(frame.columns), params=params)
        out[f"cv_{rule.code}"] = evaluate_condition(frame, rule.when, params, key=key) & eligible
    check_expression(spec.candidate_when, key="conversion.candidate_when", columns=set(out.columns), params=params)
    out["conversion_candidate"] = evaluate_condition(out, spec.candidate_when, params, key="conversion.candidate_when") & eligible
    flags = out[[f"cv_{r.code}" for r in spec.reasons]]
    shown = out["conversion_candidate"]
    for column, attr, sep in (("conversion_reasons", "code", ";"), ("conversion_reasons_zh", "label_zh", "；"),
                              ("conversion_reasons_en", "label_en", "; ")):
        out[column] = join_flags(flags, [getattr(r, attr) for r in spec.reasons], sep).where(shown, "")
    floor = frame["floor_area_m2"].astype(float)
    out["conversion_floor_area_m2"] = np.where(shown, floor, np.nan)
    return out


def conversion_summary(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return the candidates per block: parcels, area (亩) and floor area (m²), largest first."""
    candidates = parcels[parcels["conversion_candidate"]]
    block = candidates["block_id"].fillna("区块外") if "block_id" in candidates else pd.Series("全部", index=candidates.index)
    table = (candidates.assign(block_id=block)
             .groupby("block_id")
             .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"), conversion_floor_area_m2=("conversion_floor_area_m2", "sum"))
             .sort_values("area_mu", ascending=False)
             .reset_index())
    return table
