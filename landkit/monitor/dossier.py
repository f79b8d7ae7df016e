"""The runs a dossier (一地一档) shows beside its own: those given, and the earlier runs its history records."""

from __future__ import annotations

import logging
from pathlib import Path

from landkit.core.errors import LandkitError
from landkit.core.i18n import _
from landkit.deliver.dossier import DossierRun, HistoryRun
from landkit.io.run_folder import GPKG_NAME
from landkit.monitor.read import Run, read_run

__all__ = ["history_runs"]

log = logging.getLogger(__name__)


def history_runs(source: DossierRun, targets: tuple[str, ...]) -> list[HistoryRun]:
    """Return the other runs of the same parcels: those given, then earlier runs the history records.

    An earlier run recorded in the run's ``landkit_runs`` is read from the output folder it was
    written to when that folder still holds it (its latest run is that run) and it shares parcels
    with this one; the others are only counted on the pages. The run itself, and a run given twice, are left out.

    Raises
    ------
    InputError
        If a run given cannot be read (:func:`landkit.monitor.read.read_run`).
    """
    seen = {_key(source.store.gpkg, source.where)}
    out: list[HistoryRun] = []
    for target in targets:
        other = read_run(target)
        key = _key(other.gpkg, other.where)
        if key in seen:
            log.info("%s", _("{run} is given twice (or is the run itself); it is read once").format(run=other.where))
            continue
        seen.add(key)
        out.append(_history(other))
    given = {h.run_id for h in out if h.run_id}
    runs = source.runs
    if runs is None or not {"run_id", "output"} <= set(runs.columns):
        return out
    for run_id, folder in zip(runs["run_id"].astype(str), runs["output"], strict=True):
        if run_id in (source.run_id, *given) or not isinstance(folder, str) or not folder:
            continue
        gpkg = Path(folder) / GPKG_NAME
        if not gpkg.is_file() or _key(gpkg, "") in seen:
            continue
        try:
            other = read_run(Path(folder))
        except LandkitError as exc:
            log.info("%s", _("earlier run {run} is left out of the history: {error}").format(run=run_id, error=exc))
            continue
        if other.run_id != run_id:  # the folder now holds a later run
            continue
        if not other.parcels["parcel_id"].astype(str).isin(source.parcels["parcel_id"]).any():
            continue  # a run of other parcels (a database's history gathers every folder written to it)
        seen.add(_key(other.gpkg, other.where))
        out.append(_history(other))
    return out


def _key(gpkg: Path | None, where: str) -> str:
    """Return what identifies a run: its GeoPackage's real path, or its database label."""
    return str(gpkg.resolve()) if gpkg is not None else where


def _history(run: Run) -> HistoryRun:
    """Return a run read by :func:`landkit.monitor.read.read_run` as the history of a dossier."""
    return HistoryRun(label=run.label, parcels=run.parcels.drop(columns=run.parcels.geometry.name, errors="ignore"),
                      year=run.year, run_id=run.run_id)
