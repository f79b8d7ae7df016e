"""The Dask engine: kernels run per spatial partition (Hilbert order, convex hulls, a halo for
searches across partition borders) on a local or remote Dask cluster.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.engine.local import DEFAULT_PARTITION_SIZE, Kernel, LocalEngine, _sorted, positional

log = logging.getLogger(__name__)


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
        first = [submit(i) for i in (next(pending) for _ in range(min(window, len(chunks))))]
        running = as_completed(first)  # type: ignore[no-untyped-call]  # (distributed is unannotated)
        for future in running:
            results[partition_of[future.key]] = future.result()
            following = next(pending, None)
            if following is not None:
                running.add(submit(following))  # type: ignore[no-untyped-call]  # (distributed is unannotated)
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
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]  # (distributed is unannotated)
        except OSError as exc:
            raise ConfigError(_("cannot reach the Dask scheduler at {scheduler} ({error}); start it with `dask scheduler` or "
                                "leave out --scheduler for a local cluster").format(scheduler=scheduler, error=exc)) from exc
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]  # (distributed is unannotated)
        return
    n = workers or os.cpu_count() or 1
    # (distributed is unannotated: its calls are untyped)
    with (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                     dashboard_address=None) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        log.info("started a local Dask cluster: %d workers", n)
        yield client
