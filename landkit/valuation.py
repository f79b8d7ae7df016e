"""产业用地综合价值评估: what each parcel's land and buildings are worth, for buy-back or banking.

Land value (万元) = benchmark land price (元/m², by block from a table, or from a zone layer)
× area (m²) × K / 10⁴, where K corrects the benchmark's full term N to the n years left on the
lease (the annuity factor of land appraisal, 年期修正系数):

    K = (1 − (1 + r)^−n) / (1 − (1 + r)^−N),   n = clip(lease_end_year − year, 0, N)

Building value (万元) = floor area (m²) × replacement cost (元/m²) × max(0, 1 − age / design
life) / 10⁴, with age counted from the production start year, else the lease start year. A
parcel with no recorded floor area has no building value (0). Values per 亩 divide by the area
in 亩. Parcels without a price (no block, no zone, no default) get no land value (missing).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config import Valuation


def lease_factor(remaining_years: pd.Series | np.ndarray, *, rate: float, full_years: int) -> np.ndarray:
    """Return K = (1 − (1+r)^−n) / (1 − (1+r)^−N) for remaining years n (clipped to 0 … N)."""
    n = np.clip(np.asarray(remaining_years, dtype=float), 0, full_years)
    return (1 - (1 + rate) ** -n) / (1 - (1 + rate) ** -full_years)


def parcel_land_price(parcels: gpd.GeoDataFrame, land_price: pd.DataFrame | None, default: float | None) -> pd.Series:
    """Return each parcel's benchmark land price (元/m²).

    From a table keyed by ``block_id``, or from a polygon layer of price zones (the zone holding
    the parcel's representative point), else ``default``.
    """
    price = pd.Series(np.nan, index=parcels.index, dtype=float)
    if isinstance(land_price, gpd.GeoDataFrame):
        zones = land_price.to_crs(parcels.crs)
        points = parcels.geometry.representative_point().values
        left, right = zones.sindex.query(points, predicate="within", sort=True)
        first = pd.Series(right, index=left).groupby(level=0).min()
        price.iloc[first.index.to_numpy()] = zones["land_price_yuan_m2"].to_numpy()[first.to_numpy()]
    elif land_price is not None and "block_id" in parcels:
        table = land_price.drop_duplicates("block_id").set_index("block_id")["land_price_yuan_m2"]
        price = parcels["block_id"].map(table).astype(float)
    if default is not None:
        price = price.fillna(default)
    return price


def assess_value(
    parcels: gpd.GeoDataFrame, spec: Valuation, *, year: int, land_price: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the value assessment per parcel.

    Returns
    -------
    DataFrame
        ``land_price_yuan_m2``, ``lease_years_left``, ``lease_factor``, ``land_value_wan``,
        ``building_value_wan``, ``total_value_wan``, ``value_per_mu_wan``.
    """
    out = pd.DataFrame(index=parcels.index)
    out["land_price_yuan_m2"] = parcel_land_price(parcels, land_price, spec.default_land_price_yuan_m2)
    end = parcels["lease_end_year"].astype(float) if "lease_end_year" in parcels else pd.Series(np.nan, index=parcels.index)
    left = (end - year).clip(lower=0)
    # Without a lease end year the full standard term is assumed.
    left = left.fillna(spec.standard_lease_years).clip(upper=spec.standard_lease_years)
    out["lease_years_left"] = left
    out["lease_factor"] = lease_factor(left, rate=spec.cap_rate, full_years=spec.standard_lease_years)
    out["land_value_wan"] = out["land_price_yuan_m2"] * parcels["area_m2"] * out["lease_factor"] / 1e4

    built = _first_present(parcels, ["production_start_year", "lease_start_year"])
    age = (year - built).clip(lower=0)
    remaining_share = (1 - age / spec.design_life_years).clip(lower=0, upper=1).fillna(1.0)
    floor = parcels["floor_area_m2"].astype(float).fillna(0.0) if "floor_area_m2" in parcels else 0.0
    out["building_value_wan"] = floor * spec.replacement_cost_yuan_m2 * remaining_share / 1e4
    out["total_value_wan"] = out["land_value_wan"] + out["building_value_wan"]
    area_mu = parcels["area_mu"].where(parcels["area_mu"] > 0)
    out["value_per_mu_wan"] = out["total_value_wan"] / area_mu
    return out


def _first_present(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    result = pd.Series(np.nan, index=frame.index, dtype=float)
    for column in columns:
        if column in frame:
            result = result.fillna(frame[column].astype(float))
    return result
