"""Block and park assessment: land-intensity indicators per block and for the park as a whole.

In the manner of the national development-zone land-intensity evaluation
(开发区土地集约利用评价), each indicator is scored against an ideal value,
min(actual / ideal, 1) × 100 (for lower-is-better indicators min(ideal / actual, 1) × 100, and
100 when the actual is 0), and the scores are weighted into a block score (0–100) and a rank.

Definitions (areas of the parcels whose representative point lies in the block):

- ``land_development_rate``: area of the parcels supplied or built (every status but
  ``unsupplied``) / area of all the block's parcels (未供应 land included) — the land parcels of
  the block, not its outline, whose streets are no land parcel (土地开发率 counts land that
  reached supply conditions; here every parcel of the layer has);
- ``industrial_land_share``: area of industrial parcels (land use M…) / area of supplied parcels;
- ``far``: Σ floor area / Σ parcel area; ``coverage``: Σ footprint / Σ parcel area;
- ``tax_per_ha_wan``, ``output_per_ha_wan``: Σ tax, Σ revenue (万元) / Σ parcel area (公顷);
- ``idle_rate``: area of legally idle land (闲置土地; status idle where that is not known) /
  area of supplied parcels — stopped factories are not idle land;
- ``low_grade_share``: area graded C or D / area graded.

The park row (``block_id`` = ``PARK``) pools every parcel inside any block over the blocks' total
area. The plan's KPIs (R&D share of revenue, labour productivity, high-tech firms) are computed
over all enterprises and set against their targets.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from landkit.config.models import BlockAssessment
from landkit.core.units import M2_PER_HA

PARK_ID = "PARK"


class _Sums:
    """Sums of parcel columns per block and over the park (one factorisation, bincounts: no group-by per indicator)."""

    def __init__(self, frame: pd.DataFrame, blocks: pd.Index) -> None:
        self.frame = frame
        self.blocks = blocks
        at = blocks.get_indexer(frame["block_id"])  # −1: a block the blocks layer does not have (counted in the park)
        self.at = np.where(at >= 0, at, len(blocks))  # the park's row is last
        self.index = blocks.append(pd.Index([PARK_ID]))

    def __call__(self, column: str, mask: pd.Series | None = None) -> pd.Series:
        """Return Σ ``column`` (where ``mask``) per block and for the park; NaN where no parcel has a value."""
        if column not in self.frame:
            return pd.Series(np.nan, index=self.index)
        values = self.frame[column].to_numpy(dtype=float, na_value=np.nan)
        if mask is not None:
            values = np.where(mask.to_numpy(dtype=bool), values, 0.0)
        known = ~np.isnan(values)
        n = len(self.blocks) + 1
        total = np.bincount(self.at[known], weights=values[known], minlength=n)
        count = np.bincount(self.at[known], minlength=n)
        total[-1], count[-1] = values[known].sum(), known.sum()  # the park: every parcel inside a block
        return pd.Series(np.where(count > 0, total, np.nan), index=self.index)


def status_of(frame: pd.DataFrame) -> pd.Series:
    """Return the parcels' canonical status (None where the data have none)."""
    return frame["status"] if "status" in frame else pd.Series(None, index=frame.index, dtype=object)


def block_indicators(parcels: pd.DataFrame, block_area_m2: pd.Series) -> pd.DataFrame:
    """Return the raw land-intensity indicators per block (index: block id), plus the park row.

    Parameters
    ----------
    parcels : DataFrame
        Parcels with ``block_id``, ``area_m2`` and, where available, ``land_use``, ``status``,
        ``floor_area_m2``, ``footprint_m2``, ``tax_wan``, ``revenue_wan`` and ``grade``.
    block_area_m2 : Series
        Area of each block (m²), indexed by block id.
    """
    used = ["block_id", "area_m2", "land_use", "status", "legally_idle", "grade", "floor_area_m2", "footprint_m2", "tax_wan",
            "revenue_wan"]
    frame = parcels.loc[parcels["block_id"].notna(), [c for c in used if c in parcels]]
    areas = pd.concat([block_area_m2, pd.Series({PARK_ID: block_area_m2.sum()})])
    sums = _Sums(frame, pd.Index(block_area_m2.index))
    area = sums("area_m2").fillna(0.0)
    supplied_mask = status_of(frame) != "unsupplied"
    supplied = sums("area_m2", supplied_mask)
    land_use = frame["land_use"].astype(str) if "land_use" in frame else pd.Series("", index=frame.index)
    status = status_of(frame)
    idle = frame["legally_idle"].fillna(False).astype(bool) if "legally_idle" in frame else status == "idle"
    grade = frame["grade"] if "grade" in frame else pd.Series(None, index=frame.index)
    graded_area = sums("area_m2", grade.isin(["A", "B", "C", "D"]))
    parcels_in = pd.Series(np.bincount(sums.at, minlength=len(areas)), index=sums.index)
    parcels_in.iloc[-1] = len(frame)
    out = pd.DataFrame(index=areas.index)
    out["block_area_ha"] = areas / M2_PER_HA
    out["parcel_area_ha"] = area / M2_PER_HA
    out["parcels"] = parcels_in.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["land_development_rate"] = supplied / area
        out["industrial_land_share"] = sums("area_m2", land_use.str.startswith("M") & supplied_mask) / supplied
        out["far"] = sums("floor_area_m2") / area
        out["coverage"] = sums("footprint_m2") / area
        out["tax_per_ha_wan"] = sums("tax_wan") / (area / M2_PER_HA)
        out["output_per_ha_wan"] = sums("revenue_wan") / (area / M2_PER_HA)
        out["idle_rate"] = sums("area_m2", idle) / supplied
        out["low_grade_share"] = sums("area_m2", grade.isin(["C", "D"])) / graded_area
    return out.replace([np.inf, -np.inf], np.nan)


def score_blocks(indicators: pd.DataFrame, spec: BlockAssessment) -> pd.DataFrame:
    """Score each indicator against its ideal and weight them into ``block_score`` and ``block_rank``.

    An indicator the data cannot give (missing) is left out of that block's weighted mean.
    """
    out = indicators.copy()
    total = pd.Series(0.0, index=out.index)
    weights = pd.Series(0.0, index=out.index)
    for name, ind in spec.indicators.items():
        actual = out[name] if name in out else pd.Series(np.nan, index=out.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ind.direction == "higher":
                score = np.minimum(actual / ind.ideal, 1.0) * 100 if ind.ideal > 0 else pd.Series(100.0, index=out.index)
            else:
                score = pd.Series(np.where(actual <= 0, 100.0, np.minimum(ind.ideal / actual, 1.0) * 100), index=out.index)
                score[actual.isna()] = np.nan
        out[f"{name}_score"] = score
        present = score.notna()
        total += score.fillna(0.0) * ind.weight
        weights += present * ind.weight
    out["block_score"] = (total / weights.where(weights > 0)).round(6)
    blocks_only = out.index != PARK_ID
    out["block_rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    out.loc[blocks_only, "block_rank"] = out.loc[blocks_only, "block_score"].rank(method="min", ascending=False).astype("Int64")
    return out


def assess_blocks(parcels: pd.DataFrame, blocks: gpd.GeoDataFrame, spec: BlockAssessment) -> gpd.GeoDataFrame:
    """Return the blocks layer with the raw indicators, their scores, the block score and rank.

    The park row is kept apart: see :func:`park_row`.
    """
    area = pd.Series(blocks.geometry.area.to_numpy(), index=blocks["block_id"].to_numpy())
    table = score_blocks(block_indicators(parcels, area), spec)
    joined = blocks.join(table.drop(index=PARK_ID), on="block_id")
    return joined.sort_values("block_rank", kind="stable")


def park_row(parcels: pd.DataFrame, blocks: gpd.GeoDataFrame, spec: BlockAssessment) -> dict[str, float | None]:
    """Return the park-wide indicators and score."""
    area = pd.Series(blocks.geometry.area.to_numpy(), index=blocks["block_id"].to_numpy())
    table = score_blocks(block_indicators(parcels, area), spec)
    return {k: (None if pd.isna(v) else float(v)) for k, v in table.loc[PARK_ID].drop("block_rank").items()}
