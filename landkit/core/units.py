"""Units: conversion of the planner's units into landkit's canonical ones.

A canonical column carries its unit in its name (``floor_area_m2``, ``tax_wan``,
``land_price_yuan_m2``); the suffix names the dimension and this module converts any accepted
unit of that dimension into it. 1 亩 = 10000/15 m² exactly (1 公顷 = 15 亩).
"""

from __future__ import annotations

import pandas as pd

from landkit.core.errors import ConfigError
from landkit.core.i18n import _

M2_PER_MU = 10_000.0 / 15.0
M2_PER_HA = 10_000.0

#: Canonical suffix → accepted unit names → factor that converts a value into the canonical unit.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "m2": {"m2": 1.0, "平方米": 1.0, "㎡": 1.0, "m²": 1.0, "mu": M2_PER_MU, "亩": M2_PER_MU, "ha": M2_PER_HA, "公顷": M2_PER_HA},
    "wan": {"yuan": 1e-4, "元": 1e-4, "wan": 1.0, "万元": 1.0, "yi": 1e4, "亿元": 1e4},
    "yuan_m2": {"yuan_m2": 1.0, "元/平方米": 1.0, "wan_mu": 1e4 / M2_PER_MU, "万元/亩": 1e4 / M2_PER_MU},
    "kwh": {"kwh": 1.0, "千瓦时": 1.0, "度": 1.0, "wan_kwh": 1e4, "万千瓦时": 1e4, "万kwh": 1e4, "万度": 1e4, "mwh": 1e3, "兆瓦时": 1e3},
    "t": {"t": 1.0, "吨": 1.0, "kg": 1e-3, "千克": 1e-3},
    # floor loads: tonnes per m² as 工业上楼 standards state them; kN/m² as GB 50009 does (1 t = 9.80665 kN)
    "t_m2": {"t_m2": 1.0, "吨/平方米": 1.0, "t/m2": 1.0, "kn_m2": 1 / 9.80665, "kn/m2": 1 / 9.80665, "千牛/平方米": 1 / 9.80665},
    "tce": {"tce": 1.0, "吨标准煤": 1.0, "吨标煤": 1.0, "kgce": 1e-3, "千克标准煤": 1e-3, "wan_tce": 1e4, "万吨标准煤": 1e4,
            "万吨标煤": 1e4},
}


def dimension_of(canonical: str) -> str | None:
    """Return the unit suffix of a canonical column name, or None for unitless columns.

    Parameters
    ----------
    canonical : str
        A canonical column name such as ``tax_wan``.
    """
    for suffix in sorted(UNIT_FACTORS, key=len, reverse=True):
        if canonical.endswith("_" + suffix):
            return suffix
    return None


def unit_dimension(unit: str) -> str | None:
    """Return the dimension (a key of :data:`UNIT_FACTORS`) a unit name belongs to, or None.

    Case and spaces are ignored (``万kWh`` is ``万kwh``). ``吨`` is both a mass and, in
    ``吨标准煤``, energy: the whole name decides.
    """
    text = unit.lower().replace(" ", "")
    return next((dim for dim, factors in UNIT_FACTORS.items() if text in {u.lower() for u in factors}), None)


def unit_name(canonical: str, unit: str) -> str | None:
    """Return ``unit`` as :data:`UNIT_FACTORS` spells it for ``canonical``'s dimension, or None."""
    dim = dimension_of(canonical)
    if dim is None:
        return None
    text = unit.lower().replace(" ", "")
    return next((u for u in UNIT_FACTORS[dim] if u.lower() == text), None)


def unit_factor(canonical: str, unit: str) -> float:
    """Return the factor that converts values in ``unit`` into the unit of ``canonical``.

    Raises
    ------
    ConfigError
        If ``unit`` is not a unit of the column's dimension.
    """
    dim = dimension_of(canonical)
    if dim is None:
        raise ConfigError(_("column `{column}` has no unit; remove `unit: {unit}` from its mapping").format(
            column=canonical, unit=unit))
    factors = UNIT_FACTORS[dim]
    unit = unit_name(canonical, unit) or unit
    if unit not in factors:
        allowed = ", ".join(factors)
        raise ConfigError(_("unit `{unit}` for column `{column}` is not one of: {allowed}").format(
            unit=unit, column=canonical, allowed=allowed))
    return factors[unit]


def to_mu(area_m2: pd.Series | float) -> pd.Series | float:
    """Convert square metres to 亩."""
    return area_m2 / M2_PER_MU


def to_ha(area_m2: pd.Series | float) -> pd.Series | float:
    """Convert square metres to 公顷 (hectares)."""
    return area_m2 / M2_PER_HA
