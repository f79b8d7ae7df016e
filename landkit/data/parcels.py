"""Parcels: areas in the working CRS, the block each lies in, and its enterprises summed.

Pure functions on GeoDataFrames; nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.core.crs import planar_area_m2
from landkit.core.schema import ADDITIVE_ENTERPRISE_COLUMNS
from landkit.core.units import to_ha, to_mu
from landkit.io.read import PARCEL_ID_SEPARATORS, split_parcel_ids


def first_flagged(parcels: pd.DataFrame, mask: pd.Series) -> tuple[object, str]:
    """Return the index label and the parcel id of the first parcel ``mask`` flags (for messages)."""
    first = mask[mask].index[0]
    return first, str(parcels.at[first, "parcel_id"]) if "parcel_id" in parcels else str(first)


def add_areas(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with ``area_m2``, ``area_mu`` and ``area_ha`` from the (projected) geometry."""
    out = parcels.copy()
    area = planar_area_m2(out.geometry)
    out["area_m2"] = area
    out["area_mu"] = to_mu(area)
    out["area_ha"] = to_ha(area)
    return out


def assign_blocks(parcels: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with ``block_id`` and ``inside_block`` from the blocks layer.

    A parcel belongs to the block that contains its representative point (a point guaranteed
    inside the parcel), so a parcel straddling a block edge goes to the block holding most of it
    in the usual case, and the answer never depends on row order.
    """
    out = parcels.copy()
    points = gpd.GeoSeries(out.geometry.representative_point(), crs=out.crs)
    blocks = blocks.to_crs(out.crs)
    left, right = blocks.sindex.query(points.values, predicate="within", sort=True)
    block_ids = np.full(len(out), None, dtype=object)
    # A point inside two overlapping blocks takes the first block in the layer's order.
    first = pd.Series(right, index=left).groupby(level=0).min()
    block_ids[first.index.to_numpy()] = blocks["block_id"].to_numpy()[first.to_numpy()]
    out["block_id"] = block_ids
    out["inside_block"] = out["block_id"].notna()
    return out


def enterprise_shares(enterprises: pd.DataFrame, parcel_area: pd.Series,
                      separators: Sequence[str] = PARCEL_ID_SEPARATORS) -> pd.DataFrame:
    """Return one row per (enterprise, parcel) with the enterprise's share on that parcel.

    An enterprise listing several parcels (``A；B``) is shared among them by parcel area; ids
    that match no parcel are kept with a NaN share so callers can report them.

    Parameters
    ----------
    enterprises : DataFrame
        Canonical enterprise table.
    parcel_area : Series
        Parcel area in m², indexed by parcel id.
    """
    ids = split_parcel_ids(enterprises["parcel_id"], separators)
    links = pd.DataFrame({"row": ids.index, "parcel_id": ids.to_numpy()}).drop_duplicates()
    links["area"] = links["parcel_id"].map(parcel_area)
    total = links.groupby("row")["area"].transform("sum")
    links["share"] = np.where(total > 0, links["area"] / total.where(total > 0, 1.0), np.nan)
    one_parcel = links.groupby("row")["parcel_id"].transform("size") == 1
    links.loc[one_parcel & links["area"].notna(), "share"] = 1.0
    return links.drop(columns="area")


def aggregate_enterprises(enterprises: pd.DataFrame, parcel_area: pd.Series,
                          separators: Sequence[str] = PARCEL_ID_SEPARATORS) -> pd.DataFrame:
    """Sum enterprise figures per parcel.

    Additive figures (tax, revenue, value added, employees, R&D, energy) are summed, each
    enterprise's figures multiplied by its share on the parcel (:func:`enterprise_shares`); a
    parcel whose enterprises all lack a figure gets NaN, not 0. The parcel's ``industry`` and
    ``founded_year`` are those of its main enterprise (largest revenue share, then id order);
    ``enterprise_names`` lists all, largest first; ``high_tech_firms`` counts high-tech firms.

    Returns
    -------
    DataFrame
        Indexed by parcel id (parcels without enterprises are absent).
    """
    links = enterprise_shares(enterprises, parcel_area, separators)
    links = links[links["share"].notna()]
    rows = enterprises.loc[links["row"].to_numpy()].reset_index(drop=True)
    rows["parcel_id"] = links["parcel_id"].to_numpy()
    share = links["share"].to_numpy()
    additive = [c for c in ADDITIVE_ENTERPRISE_COLUMNS if c in rows]
    for column in additive:
        rows[column] = rows[column].to_numpy(dtype=float) * share
    grouped = rows.groupby("parcel_id", sort=True)
    out = grouped[additive].sum(min_count=1)
    out["enterprise_count"] = grouped.size()
    order = rows.assign(_rev=rows.get("revenue_wan", 0.0))
    order = order.sort_values(["parcel_id", "_rev", "enterprise_id"], ascending=[True, False, True], kind="stable")
    main = order.drop_duplicates("parcel_id").set_index("parcel_id")
    for column in ("industry", "founded_year"):
        if column in main:
            out[column] = main[column]
    if "enterprise_name" in order:
        # Most parcels host one firm: join names only where there are several.
        names = order["enterprise_name"].fillna("").astype(str)
        several = order["parcel_id"].duplicated(keep=False).to_numpy()
        joined = _join_runs(names[several].to_numpy(dtype=object), order["parcel_id"][several].to_numpy(), "、")
        single = pd.Series(names[~several].to_numpy(), index=order["parcel_id"][~several].to_numpy())
        out["enterprise_names"] = pd.concat([single, joined]).str.strip("、")
    if "high_tech" in rows:
        out["high_tech_firms"] = grouped["high_tech"].sum().astype(int)
    return out


def _join_runs(values: np.ndarray, keys: np.ndarray, separator: str) -> pd.Series:
    """Join the strings of each run of equal ``keys`` (sorted) with ``separator``, indexed by key.

    Arrow's ``binary_join`` over list offsets: one call, where a pandas group-by ``agg`` calls
    ``str.join`` once per group in Python.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], np.int64)
    offsets = pa.array(np.r_[starts, len(keys)].astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(values, pa.string()))
    return pd.Series(pc.binary_join(lists, separator).to_numpy(zero_copy_only=False), index=keys[starts])


def unmatched_enterprises(enterprises: pd.DataFrame, parcel_ids: pd.Index,
                          separators: Sequence[str] = PARCEL_ID_SEPARATORS) -> pd.DataFrame:
    """Return the enterprise rows with a parcel id that matches no parcel (one row per bad id)."""
    ids = split_parcel_ids(enterprises["parcel_id"], separators)
    bad = ids[~ids.isin(parcel_ids)]
    return pd.DataFrame({"enterprise_id": enterprises.loc[bad.index, "enterprise_id"].to_numpy(), "parcel_id": bad.to_numpy()})
