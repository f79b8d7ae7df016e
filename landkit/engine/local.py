"""Where the per-parcel geometry work runs: in this process, or on a Dask cluster.

An assessment has two kinds of work. The *global* steps — benchmark statistics and rank-based
grade cuts over the whole population, connected components, shortest paths on the road
graph, metrics and proposals — run in this process on whole-population arrays, whatever the
engine, so both engines give the same answer by construction. The *kernels* that touch every
geometry — zonal statistics, neighbour pairs, nearest neighbours, nearest road nodes — go
through :func:`current_engine` and may run on spatially partitioned data elsewhere.

A kernel is a function ``kernel(part, context, **kwargs)`` of GeoDataFrames indexed by
position in the whole frame (0 … n − 1). ``part`` holds the rows it answers for; ``context``
(only when the caller gives ``halo_m``) holds ``part`` plus every row within ``halo_m`` of it,
so a search that crosses a partition border sees the rows on the other side. A kernel returns
a DataFrame; the engine concatenates them. :class:`LocalEngine` calls the kernel once with
the whole frame as both; :class:`DaskEngine` cuts the frame along the Hilbert curve (as
dask-geopandas' ``spatial_shuffle`` does), with the partitions' convex hulls as their spatial
extent (dask-geopandas' ``spatial_partitions``), and runs one task per partition on a Dask
cluster.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd

log = logging.getLogger(__name__)

Kernel = Callable[..., pd.DataFrame]

#: Parcels per partition of the Dask engine (a few partitions per worker at 500,000 parcels).
DEFAULT_PARTITION_SIZE = 50_000


class Engine(Protocol):
    """Runs kernels over the parcels (see the module's docstring)."""

    name: str

    def map_parcels(self, kernel: Kernel, frame: gpd.GeoDataFrame, *, halo_m: float | None = None, **kwargs: Any) -> pd.DataFrame:
        """Return the concatenated results of ``kernel`` over ``frame``, sorted by position."""
        ...


def positional(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` indexed by position (0 … n − 1), the index kernels see (itself if it is)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1:
        return frame
    return frame.reset_index(drop=True)


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(parts) if len(parts) > 1 else parts[0]
    return out if out.index.is_monotonic_increasing else out.sort_index(kind="stable")


class LocalEngine:
    """The single-machine engine: each kernel runs once, on the whole frame."""

    name = "local"

    def map_parcels(self, kernel: Kernel, frame: gpd.GeoDataFrame, *, halo_m: float | None = None, **kwargs: Any) -> pd.DataFrame:
        work = positional(frame)
        return kernel(work, work if halo_m is not None else None, **kwargs)


# --- the current engine ------------------------------------------------------------------------

_current: ContextVar[Engine] = ContextVar("landkit_engine", default=LocalEngine())  # noqa: B039 (stateless, shared)


def current_engine() -> Engine:
    """Return the engine kernels run on (the single-machine engine unless :func:`use_engine` says otherwise)."""
    return _current.get()


@contextlib.contextmanager
def use_engine(engine: Engine) -> Iterator[Engine]:
    """Run the kernels called inside the ``with`` block on ``engine``."""
    token = _current.set(engine)
    try:
        yield engine
    finally:
        _current.reset(token)
