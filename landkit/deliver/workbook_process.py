"""The run's workbook written in a process of its own, so that it shares no GIL with the writer.

:func:`start` hands the tables to a fresh interpreter (``python -m landkit.deliver.workbook_process
TASK``: spawned, never forked from the writer, which holds threads) through a pickle in the
staging folder; :meth:`WorkbookProcess.wait` returns the files it wrote. The child asks the kernel
to kill it when landkit dies (kill -9 included), and the writer kills it on any failure: no
process outlives the command.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from landkit.core.errors import LandkitError
from landkit.core.i18n import _
from landkit.deliver.labels import Label


class WorkbookProcess:
    """A workbook being written by a child process (:func:`start`)."""

    def __init__(self, process: subprocess.Popen[bytes], result: Path) -> None:
        self.process, self.result = process, result

    def wait(self) -> tuple[list[Path], float]:
        """Wait for the child; return the paths it wrote and the seconds it took.

        Raises
        ------
        LandkitError
            When the child failed (its last line of error output in the message).
        """
        _out, err = self.process.communicate()
        if self.process.returncode != 0 or not self.result.exists():
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise LandkitError(_("the workbook could not be written: {error}").format(
                error=lines[-1] if lines else f"exit status {self.process.returncode}"))
        paths, seconds = pickle.loads(self.result.read_bytes())
        self.result.unlink()
        return paths, seconds

    def kill(self) -> None:
        """Stop the child if it still runs (a failure elsewhere in the run)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def start(out_dir: Path, sheets: Mapping[str, pd.DataFrame], csvs: Mapping[str, pd.DataFrame],
          labels: Mapping[str, Label], *, lang: str, values: Mapping[str, Mapping[str, str]] | None) -> WorkbookProcess:
    """Start writing ``inventory.xlsx`` (and the CSV files of ``csvs``) into ``out_dir`` in a child process."""
    out_dir = Path(out_dir)
    fd, name = tempfile.mkstemp(prefix=".workbook-", suffix=".pickle", dir=out_dir)
    task = Path(name)
    with os.fdopen(fd, "wb") as f:
        pickle.dump((out_dir, dict(sheets), dict(csvs), dict(labels), lang, values), f, protocol=pickle.HIGHEST_PROTOCOL)
    result = task.with_suffix(".result")
    process = subprocess.Popen([sys.executable, "-m", __name__, str(task), str(result), str(os.getpid())],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return WorkbookProcess(process, result)


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when landkit dies, kill -9 included (Linux; elsewhere nothing).

    Linux's ``prctl(PR_SET_PDEATHSIG)``, through ctypes (no library offers it); a parent that
    died before the call is caught by the ``getppid`` check after it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def main(argv: list[str]) -> None:
    """Write the workbook of the task pickle ``argv[0]``; pickle (paths, seconds) to ``argv[1]``."""
    from landkit.deliver.workbook import write_workbook_files

    task, result, parent = Path(argv[0]), Path(argv[1]), int(argv[2])
    die_with_parent(parent)
    start_time = time.perf_counter()
    out_dir, sheets, csvs, labels, lang, values = pickle.loads(task.read_bytes())
    task.unlink()
    paths = write_workbook_files(out_dir, sheets, csvs, labels, lang=lang, values=values)
    result.write_bytes(pickle.dumps((paths, time.perf_counter() - start_time)))


if __name__ == "__main__":
    main(sys.argv[1:])
