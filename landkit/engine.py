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
import math
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.errors import ConfigError
from landkit.i18n import _

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


class DaskEngine:
    """Run the kernels on a Dask cluster, one task per Hilbert partition of the parcels.

    Parameters
    ----------
    client : distributed.Client
        The cluster to run on (:func:`dask_client` starts or connects to one).
    partition_size : int
        Rows per partition (the last is smaller); at least one partition per worker.
    """

    name = "dask"

    def __init__(self, client: Any, partition_size: int = DEFAULT_PARTITION_SIZE) -> None:
        self.client = client
        self.partition_size = int(partition_size)
        self.tasks = 0  # tasks sent to the cluster so far

    def partitions(self, work: gpd.GeoDataFrame) -> list[np.ndarray]:
        """Return the positions of each partition: consecutive runs along the Hilbert curve, each sorted."""
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        n = max(min(workers, len(work)), math.ceil(len(work) / self.partition_size), 1)
        valid = ~(work.geometry.isna() | work.geometry.is_empty).to_numpy()
        distance = np.full(len(work), -1, dtype=np.int64)  # empty rows go first; kernels skip them
        if valid.any():
            distance[valid] = work.geometry[valid].hilbert_distance(total_bounds=work.geometry[valid].total_bounds)
        order = np.argsort(distance, kind="stable")
        return [np.sort(chunk) for chunk in np.array_split(order, n) if len(chunk)]

    def map_parcels(self, kernel: Kernel, frame: gpd.GeoDataFrame, *, halo_m: float | None = None, **kwargs: Any) -> pd.DataFrame:
        import dask_geopandas

        if len(frame) <= self.partition_size:  # one partition: no cluster round trip
            return LocalEngine().map_parcels(kernel, frame, halo_m=halo_m, **kwargs)
        work = positional(frame)
        chunks = self.partitions(work)
        # arrays and frames (e.g. the road nodes) go to every worker once, not with every task
        kwargs = {k: self.client.scatter(v, broadcast=True) if isinstance(v, (np.ndarray, pd.DataFrame, pd.Series)) else v
                  for k, v in kwargs.items()}
        if halo_m is None:
            # A dask-geopandas frame in Hilbert order; each task gets one partition.
            ordered = work.iloc[np.concatenate(chunks)]
            ddf = dask_geopandas.from_geopandas(ordered, npartitions=len(chunks), sort=False)
            futures = [self.client.submit(kernel, part, None, **kwargs) for part in self.client.compute(ddf.to_delayed())]
            results = self.client.gather(futures)
        else:
            results = self._with_halos(kernel, work, chunks, halo_m, kwargs)
        self.tasks += len(results)
        log.debug("%s: %d rows in %d partitions on the cluster", kernel.__name__, len(work), len(chunks))
        return _sorted(results)

    def _with_halos(self, kernel: Kernel, work: gpd.GeoDataFrame, chunks: list[np.ndarray], halo_m: float,
                    kwargs: dict[str, Any]) -> list[pd.DataFrame]:
        """Run ``kernel`` on each partition with its halo, two partitions per worker in flight at most
        (a partition with its halo is several times its size: the workers never hold them all)."""
        from distributed import as_completed

        contexts = halo_contexts(work, chunks, halo_m)
        window = 2 * max(1, len(self.client.scheduler_info().get("workers", {})))
        results: list[pd.DataFrame | None] = [None] * len(chunks)
        partition_of: dict[str, int] = {}

        def submit(i: int) -> Any:
            [ctx] = self.client.scatter([work.iloc[contexts[i]]])
            future = self.client.submit(_with_context, kernel, ctx, chunks[i], **kwargs)
            partition_of[future.key] = i
            return future

        pending = iter(range(len(chunks)))
        running = as_completed([submit(i) for i in (next(pending) for _ in range(min(window, len(chunks))))])
        for future in running:
            results[partition_of[future.key]] = future.result()
            following = next(pending, None)
            if following is not None:
                running.add(submit(following))
        return results


def _with_context(kernel: Kernel, context: gpd.GeoDataFrame, own: np.ndarray, **kwargs: Any) -> pd.DataFrame:
    return kernel(context.loc[own], context, **kwargs)


def partition_hulls(work: gpd.GeoDataFrame, chunks: list[np.ndarray]) -> np.ndarray:
    """Return each partition's convex hull (its spatial extent, as dask-geopandas' ``spatial_partitions``)."""
    geoms = work.geometry.values
    return np.array([shapely.convex_hull(shapely.geometrycollections(shapely.envelope(np.asarray(geoms[c])))) for c in chunks])


def halo_contexts(work: gpd.GeoDataFrame, chunks: list[np.ndarray], halo_m: float) -> list[np.ndarray]:
    """Return, per partition, the sorted positions of its rows and of every row within ``halo_m`` of its hull."""
    hulls = partition_hulls(work, chunks)
    # padded: a pair exactly `halo_m` apart must not be lost to rounding in the hull's distance
    padded = float(halo_m) * (1 + 1e-9) + 1e-6
    part, near = work.sindex.query(hulls, predicate="dwithin", distance=padded)
    return [np.union1d(chunks[i], near[part == i]) for i in range(len(chunks))]


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


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int | None = None) -> Iterator[Any]:
    """Connect to the Dask scheduler at ``scheduler`` (``tcp://host:8786``), or start a local cluster.

    The local cluster has one single-threaded worker process per core (``workers``), so the
    kernels' Python parts run in parallel; it is closed on exit.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the dependency is declared
        raise ConfigError(_("--engine dask needs the packages dask-geopandas and distributed: pip install 'landkit[dask]'")) from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise ConfigError(_("cannot reach the Dask scheduler at {scheduler} ({error}); start it with `dask scheduler` or "
                                "leave out --scheduler for a local cluster").format(scheduler=scheduler, error=exc)) from exc
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        log.info("started a local Dask cluster: %d workers", n)
        yield client


ENGINES = ("local", "dask")


@contextlib.contextmanager
def engine_named(name: str, *, scheduler: str | None = None, partition_size: int = DEFAULT_PARTITION_SIZE) -> Iterator[Engine]:
    """Run the kernels of the ``with`` block on the engine the command line names (``local`` or ``dask``)."""
    if name == "local":
        if scheduler:
            raise ConfigError(_("--scheduler needs --engine dask"))
        with use_engine(LocalEngine()) as engine:
            yield engine
        return
    if name != "dask":
        raise ConfigError(_("unknown engine {name!r}; use one of {engines}").format(name=name, engines=", ".join(ENGINES)))
    with dask_client(scheduler) as client, use_engine(DaskEngine(client, partition_size)) as engine:
        yield engine
