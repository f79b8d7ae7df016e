"""A run folder is written whole or not at all, and by one run at a time.

`landkit assess` writes a run into a hidden staging folder inside the output folder
(``OUT/.landkit-part-<pid>``) and publishes it only when every file is complete: the old
``manifest.json`` is removed first, the run's files are renamed into place (same file system,
so each rename is atomic), the outputs of an older run that this one did not write are removed,
and the new ``manifest.json`` comes last. A folder without ``manifest.json`` is therefore never
a complete run, and every command that reads a run refuses one (:func:`require_complete`). A
crash, Ctrl-C or kill before the publication leaves the previous run as it was, and the staging
folder, which the next run into the folder removes.

One run at a time: the output folder's ``.landkit.lock`` is held with ``flock`` for the whole run
(released by the kernel however the process ends, so a killed run never blocks the next one); a
second run into the same folder refuses at once with one line. The lock is re-entrant within a
process (``landkit demo`` writes a run and then runs into its subfolders).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from landkit.core.errors import InputError, OutputError
from landkit.core.i18n import _

log = logging.getLogger(__name__)


GPKG_NAME = "landkit.gpkg"

LOCK_NAME = ".landkit.lock"
STAGING_PREFIX = ".landkit-part-"
MANIFEST = "manifest.json"

#: Locks this process holds: folder → (file descriptor, depth).
_HELD: dict[Path, list[int]] = {}


def _flock(fd: int, folder: Path) -> None:
    try:
        import fcntl
    except ImportError:  # not POSIX (Windows): no lock; one run at a time is then the user's to keep
        log.warning(_("cannot lock {folder} on this system: do not run two landkit commands into it at once")
                    .format(folder=folder))
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputError(_("{folder}: another landkit run is writing this folder; wait for it to finish, "
                            "or write to another folder").format(folder=folder)) from None


@contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the output folder's lock (creating the folder) for the block; refuse if another run holds it.

    Raises
    ------
    OutputError
        If another process holds it, or the folder cannot be created or written.
    """
    folder = Path(folder).absolute()
    held = _HELD.get(folder)
    if held is not None:
        held[1] += 1
        try:
            yield folder
        finally:
            held[1] -= 1
        return
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(_("{folder}: cannot write there ({reason}); choose a folder you can write to")
                          .format(folder=folder, reason=exc.strerror)) from None
    _flock(fd, folder)
    _HELD[folder] = [fd, 1]
    try:
        yield folder
    finally:
        del _HELD[folder]
        os.close(fd)
        if created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:  # a failed first run leaves no folder
            (folder / LOCK_NAME).unlink(missing_ok=True)
            folder.rmdir()


def remove_stale(folder: Path) -> None:
    """Remove what interrupted runs left in ``folder``: staging folders and ``.part`` files.

    Call it holding the folder's lock: no other run can be writing them then.
    """
    for path in Path(folder).iterdir():
        if path.name.startswith(STAGING_PREFIX) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".") and ".part" in path.name and path.is_file():
            path.unlink(missing_ok=True)


@contextmanager
def staged(folder: Path, *, outputs: Iterable[str]) -> Iterator[Path]:
    """Yield a staging folder for a run of ``folder``; publish it into ``folder`` if the block succeeds.

    ``outputs`` names every file a run may write (an older run's file this run did not write is
    removed on publication, so no stale file is taken for part of the new run).
    """
    with locked(folder) as folder:
        remove_stale(folder)
        staging = folder / f"{STAGING_PREFIX}{os.getpid()}"
        staging.mkdir()
        try:
            yield staging
            publish(staging, folder, outputs=outputs)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, folder: Path, *, outputs: Iterable[str]) -> None:
    """Move a complete run from ``staging`` into ``folder``, its manifest last."""
    (folder / MANIFEST).unlink(missing_ok=True)  # from here until the end the folder is no complete run
    written = {p.name for p in staging.iterdir()}
    for name in set(outputs) - written:
        (folder / name).unlink(missing_ok=True)
    for path in sorted(staging.iterdir(), key=lambda p: p.name == MANIFEST):
        os.replace(path, folder / path.name)


def require_complete(folder: Path) -> None:
    """Refuse a run folder without its manifest: an interrupted run, or one still being written.

    Raises
    ------
    InputError
        Naming the folder and the fix.
    """
    folder = Path(folder)
    if not (folder / MANIFEST).exists():
        raise InputError(_("{folder} holds no complete run ({manifest} is missing: a run was interrupted or is "
                           "being written); run `landkit assess` into it again").format(folder=folder, manifest=MANIFEST))
