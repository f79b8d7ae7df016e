"""Where the per-parcel geometry work runs: in this process (:mod:`~landkit.engine.local`) or on a
Dask cluster (:mod:`~landkit.engine.dask`); :func:`engine_named` picks one from the command line.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from landkit.core.errors import ConfigError
from landkit.core.i18n import _
from landkit.engine.dask import DaskEngine, dask_client
from landkit.engine.local import DEFAULT_PARTITION_SIZE, Engine, LocalEngine, use_engine

log = logging.getLogger(__name__)


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
