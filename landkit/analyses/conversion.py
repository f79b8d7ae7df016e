"""商办用地转研发用地: commercial and office land that the rules mark for conversion to R&D use.

Plan item 13 asks 莘庄工业区 to "推进商办用地转研发用地规划调整". Here a parcel whose land use is one of
``conversion.land_uses`` (B1, B2, B29, C2, C8 by default) gets one flag per reason of
``conversion.reasons`` (``cv_<CODE>``): where it lies (a conversion zone — ``zones`` blocks or
``towns`` — or a ring whose functions include R&D) and how it is used (vacancy, FAR, tax per
亩). It is a candidate for ``conversion.target_use`` (C65) when ``conversion.candidate_when``
holds over those flags and the parcel columns.

Reasons are rules in the list's language, checked and evaluated by
:mod:`landkit.config.formula` (as :mod:`landkit.listing.inventory` does its reasons): expressions
over the parcel columns (``land_use``, ``block_id``, ``town``, ``ring``, ``status``,
``vacancy_rate``, ``far``, ``tax_per_mu``, ``floor_area_m2``, ``area_mu`` and any other the data
carry; absent ones read "not known") and the parameters ``@zones``, ``@towns`` and those of
``conversion.params``. Shanghai lets business buildings take in R&D (沪府办发〔2025〕13号,
商务楼宇更新提升: in 地区中心 "允许商务楼宇兼容 … 研发创新"); sources of the defaults are in the profile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config.formula import check_expression, evaluate_condition, with_rule_defaults
from landkit.config.models import Conversion
from landkit.listing.inventory import SEPARATOR, join_flags

__all__ = ["conversion_candidates", "conversion_frame", "conversion_summary"]

#: Columns a rule may read that the data may lack (absent: not known).
LABELS = ("land_use", "block_id", "town", "ring", "status", "ownership", "zone_type", "grade")
NUMBERS = ("vacancy_rate", "far", "tax_per_mu", "floor_area_m2", "area_mu")


def conversion_frame(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return the parcel columns the rules read, the absent ones added as "not known".

    ``far`` is ``floor_area_m2 / area_m2`` where the data have no FAR.
    """
    frame = with_rule_defaults(pd.DataFrame(parcels), labels=LABELS, numbers=NUMBERS)
    if "area_m2" in frame:
        area = frame["area_m2"].astype(float)
        frame["far"] = frame["far"].astype(float).fillna(frame["floor_area_m2"].astype(float) / area.where(area > 0))
    return frame


def conversion_candidates(parcels: pd.DataFrame, spec: Conversion) -> pd.DataFrame:
    """Mark the commercial and office parcels that are candidates for R&D use, with the reasons.

    Parameters
    ----------
    parcels : DataFrame
        Assessed parcels: ``land_use`` and, where the data have them, ``block_id``, ``town``,
        ``ring``, ``vacancy_rate``, ``far`` (else ``floor_area_m2 / area_m2``), ``status``,
        ``tax_per_mu``, ``floor_area_m2``, ``area_m2``.
    spec : Conversion
        ``project.conversion``.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``cv_<CODE>`` per reason (False off the commercial and office
        land), ``conversion_candidate``, ``conversion_target_use`` (``spec.target_use`` for a
        candidate, else ""), ``conversion_reasons`` (codes joined by ``;``),
        ``conversion_reasons_zh``, ``conversion_reasons_en`` (of candidates only) and
        ``conversion_floor_area_m2``: the floor space a candidate's buildings offer R&D
        (``floor_area_m2``, else FAR × area; NaN off the candidates).

    Raises
    ------
    ConfigError
        A reason or ``candidate_when`` outside the rule language, or naming an unknown column or
        parameter (the message names the key, e.g. ``conversion.reasons[2] (VACANT)``).
    """
    frame = conversion_frame(parcels)
    params = {**spec.params, "zones": list(spec.zones), "towns": list(spec.towns)}
    eligible = frame["land_use"].isin(spec.land_uses)
    out = pd.DataFrame(index=parcels.index)
    for i, rule in enumerate(spec.reasons):
        key = f"conversion.reasons[{i}] ({rule.code})"
        check_expression(rule.when, key=key, columns=set(frame.columns), params=params)
        out[f"cv_{rule.code}"] = evaluate_condition(frame, rule.when, params, key=key) & eligible
    both = frame.drop(columns=[c for c in out.columns if c in frame]).join(out)
    key = "conversion.candidate_when"
    check_expression(spec.candidate_when, key=key, columns=set(both.columns), params=params)
    candidate = evaluate_condition(both, spec.candidate_when, params, key=key) & eligible
    out["conversion_candidate"] = candidate
    out["conversion_target_use"] = np.where(candidate, spec.target_use, "")
    flags = out[[f"cv_{r.code}" for r in spec.reasons]]
    for column, attr, sep in (("conversion_reasons", "code", SEPARATOR), ("conversion_reasons_zh", "label_zh", "；"),
                              ("conversion_reasons_en", "label_en", "; ")):
        out[column] = join_flags(flags, [getattr(r, attr) for r in spec.reasons], sep).where(candidate, "")
    floor = frame["floor_area_m2"].astype(float)
    if "area_m2" in frame:
        floor = floor.fillna(frame["far"].astype(float) * frame["area_m2"].astype(float))
    out["conversion_floor_area_m2"] = floor.where(candidate)
    return out


def conversion_summary(parcels: pd.DataFrame) -> pd.DataFrame:
    """Return the candidates per block: parcels, area (亩) and floor area (m²), largest area first.

    Parcels outside every block are counted under ``区块外``.
    """
    candidates = parcels[parcels["conversion_candidate"].fillna(False).astype(bool)]
    block = candidates["block_id"].fillna("区块外") if "block_id" in candidates else pd.Series("全部", index=candidates.index)
    return (candidates.assign(block_id=block)
            .groupby("block_id")
            .agg(parcels=("parcel_id", "size"), area_mu=("area_mu", "sum"),
                 conversion_floor_area_m2=("conversion_floor_area_m2", "sum"))
            .sort_values("area_mu", ascending=False, kind="stable")
            .reset_index())
