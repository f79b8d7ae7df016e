"""Progress of long runs: a bar on a terminal, plain log lines elsewhere, timings for benchmarks.

Library functions take a ``stage`` callable and wrap each step in ``with stage("name"):``; the
default does nothing. The command line passes :class:`Progress` (a rich progress bar when stderr
is a terminal, log lines otherwise, so CI logs stay readable); benchmarks pass
:class:`StageTimer`, which records how long each step took.

Stage names are English words, the keys of :class:`StageTimer`; :class:`Progress` shows them in
the command line's language (:mod:`landkit.core.i18n`). ``scripts/i18n.py`` finds them for the
catalogue in every ``stage("...")`` and ``record_stage(stage, "...", seconds)`` call, so give a
stage its name as a literal there.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from landkit.core.i18n import _

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

log = logging.getLogger("landkit")

Stage = Callable[[str], AbstractContextManager[None]]


@contextmanager
def no_stage(name: str) -> Iterator[None]:
    """Run a stage that does nothing (the library default)."""
    yield


class StageTimer:
    """Record the wall time of every stage (several runs append to the same names)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name].append(time.perf_counter() - start)

    def record(self, name: str, seconds: float) -> None:
        """Record a stage that ran elsewhere (another process) and took ``seconds``."""
        self.seconds[name].append(seconds)


class Progress:
    """Show stages as a progress bar on a terminal, as log lines otherwise.

    Parameters
    ----------
    total : int
        The number of stages expected (the bar's length).
    enabled : bool
        False keeps it silent (``-q``).
    """

    def __init__(self, total: int, *, enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                     TimeElapsedColumn(), transient=True)
            self._task = self._bar.add_task("landkit", total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=_(name))
        try:
            yield
        finally:
            if self._bar is not None and self._task is not None:
                self._bar.advance(self._task)
            elif self.enabled:
                log.info("%s: %.1f s", _(name), time.perf_counter() - start)

    def record(self, name: str, seconds: float) -> None:
        """Show a stage that ran elsewhere (another process) and took ``seconds``."""
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
        elif self.enabled:
            log.info("%s: %.1f s", _(name), seconds)


def record_stage(stage: Stage, name: str, seconds: float) -> None:
    """Report to ``stage`` a step that ran in another process and took ``seconds``."""
    record = getattr(stage, "record", None)
    if record is not None:
        record(name, seconds)
    else:
        with stage(name):
            pass
