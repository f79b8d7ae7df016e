"""The result of an assessment: a dataclass every stage after the assessment reads (a leaf module).

:func:`landkit.pipeline.assess` makes it; the writers, the report and the run history read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from landkit.analyses.chains import ChainResult
from landkit.analyses.rings import RingResult
from landkit.analyses.scatter import ScatterResult
from landkit.analyses.services import ServicesResult


@dataclass
class AssessmentResult:
    """Everything an assessment produces, in the working CRS."""

    parcels: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame | None
    kpis: pd.DataFrame
    park: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    rings: RingResult | None = None
    scatter: ScatterResult | None = None
    services: ServicesResult | None = None
    chains: ChainResult | None = None
    #: Further layers of the plan's spatial items (``block_changes``, ``proposed_blocks`` …): written
    #: to the GeoPackage and drawn on the map.
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def inventory(self) -> gpd.GeoDataFrame:
        """The low-efficiency inventory (C, D and legally idle land): worst first."""
        listed = self.parcels[self.parcels["low_efficiency"]]
        return listed.sort_values(["score", "parcel_id"], na_position="first", kind="stable")

    @property
    def watchlist(self) -> gpd.GeoDataFrame:
        """The watch table (关注): A/B parcels a reason flags, never on the inventory."""
        watched = self.parcels[self.parcels["watch"]]
        return watched.sort_values(["grade", "score", "parcel_id"], kind="stable")
