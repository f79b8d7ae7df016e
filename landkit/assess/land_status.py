"""The legal and economic status of each parcel's land: 闲置土地 and 停产, apart.

闲置土地 is a legal status (闲置土地处置办法, 国土资源部令第53号, 2012, 第二条): supplied land not
started one year after the agreed start date (约定动工日期); past two years it may be taken back
without compensation (第十四条). Here a parcel is *legally idle* when its status is one of
``inventory.idle_land.statuses`` (闲置), it never produced (no ``production_start_year``) and
at least ``min_years`` have passed since the agreed start year — ``agreed_start_year`` where the
data give it, else ``lease_start_year + start_lag_years``. An idle parcel whose deadline has not
passed is *not yet due*. A factory that stopped producing (停产) is not 闲置土地: its low output
is a performance matter, and ``stopped_years`` counts from ``stopped_since_year``.

The regulation's second case (started, but under a third built or a quarter invested, and
stopped a year) needs the planned floor area or investment, which the inputs do not carry: it
is not detected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landkit.config.models import IdleLand


def _years(parcels: pd.DataFrame, column: str) -> pd.Series:
    if column not in parcels:
        return pd.Series(np.nan, index=parcels.index, dtype=float)
    return parcels[column].astype(float)


def land_status(parcels: pd.DataFrame, spec: IdleLand, *, year: int) -> pd.DataFrame:
    """Return, per parcel, whether its land is legally idle and for how long, and years stopped.

    Parameters
    ----------
    parcels : DataFrame
        Canonical parcels: ``status`` and, where given, ``agreed_start_year``,
        ``lease_start_year``, ``production_start_year``, ``idle_since_year``,
        ``stopped_since_year``.
    spec : IdleLand
        ``inventory.idle_land``.
    year : int
        The assessment year.

    Returns
    -------
    DataFrame
        Aligned to ``parcels``: ``agreed_start_year_used`` (the agreed start year, or the lease
        start plus the lag), ``idle_years`` (years since the agreed start for never-started idle
        land, NaN otherwise), ``legally_idle``, ``idle_not_due`` (idle, never started, deadline
        not passed a year yet) and ``stopped_years`` (since ``stopped_since_year``; NaN when
        not stopped or unknown).
    """
    status = parcels["status"] if "status" in parcels else pd.Series(None, index=parcels.index, dtype=object)
    agreed = _years(parcels, "agreed_start_year").fillna(_years(parcels, "lease_start_year") + spec.start_lag_years)
    never_started = _years(parcels, "production_start_year").isna()
    idle = status.isin(spec.statuses) & never_started
    idle_years = (year - agreed).where(idle)
    legally = idle & (idle_years >= spec.min_years)
    stopped = (year - _years(parcels, "stopped_since_year")).where(status == "stopped")
    return pd.DataFrame({
        "agreed_start_year_used": agreed.astype("Int64"),
        "idle_years": idle_years,
        "legally_idle": legally.astype(bool),
        "idle_not_due": (idle & ~legally).astype(bool),
        "stopped_years": stopped,
    }, index=parcels.index)
