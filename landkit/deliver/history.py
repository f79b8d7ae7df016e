"""Run history: every `landkit assess` run recorded as one row of the table ``landkit_runs``.

The table lives in the run's GeoPackage (``landkit.gpkg``) beside the layers it describes. A run
written over an earlier one with ``--overwrite`` carries the earlier rows over and appends its
own, so a folder that is re-assessed every year keeps the history of its headline figures. With
``landkit assess --db URL --schema NAME`` the same row is appended to ``NAME.landkit_runs`` in
the database, which so gathers the runs of every output folder written there.

A row holds the run id (sortable: ``20261126T072000Z-1a2b3c``), the time (UTC), the landkit
version, the assessment year, the configuration hash and the input hashes (as in
``manifest.json``), the headline figures of ``summary.json``, the park's metrics (``park``: JSON
of ``summary.json``'s ``park``, which `landkit compare` reads for a run in a database) and the
output folder.

Only the *figures* of earlier runs are kept, not their layers: the layers in a GeoPackage are
always those of its latest run. To compare two runs parcel by parcel (`landkit compare`), keep
each run in its own folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.core.schema import is_missing
from landkit.deliver.manifest import manifest

if TYPE_CHECKING:
    from landkit.config.models import Project
    from landkit.data.dataset import Dataset
    from landkit.io.runs import RunStore
    from landkit.result import AssessmentResult

log = logging.getLogger(__name__)

#: Name of the history table in a run's GeoPackage (and database schema).
RUNS_TABLE = "landkit_runs"

#: Grades counted in a run's row, in order.
GRADES = ("A", "B", "C", "D", "U")

#: Columns of the history table, in order.
RUN_COLUMNS = [
    "run_id", "created", "landkit_version", "year", "config_sha256", "inputs", "parcels", "area_mu",
    *(f"grade_{g}" for g in GRADES),
    "inventory_parcels", "inventory_area_mu", "land_freed_mu", "floor_area_added_m2", "tax_gain_wan", "park", "kpis", "decisions",
    "output",
]


def new_run_id(now: datetime) -> str:
    """Return a run id that sorts by time: ``YYYYMMDDTHHMMSSZ-`` and 6 random hex digits."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def run_record(project: Project, data: Dataset, result: AssessmentResult, out_dir: Path) -> dict[str, Any]:
    """Return the history row of a run: who, when, with what, and its headline figures.

    Parameters
    ----------
    project, data, result
        The configuration, the inputs and the assessment of the run.
    out_dir : Path
        The folder the run is written to.

    Returns
    -------
    dict
        One value per column of :data:`RUN_COLUMNS`; ``inputs`` is JSON text
        (``{kind: {"path": ..., "sha256": ...}}``), the hashes those of ``manifest.json``;
        ``park`` JSON text of the park's metrics (``summary["park"]``).
    """
    now = datetime.now(UTC).replace(microsecond=0)
    meta = manifest(project, data)
    summary = result.summary
    grades = summary.get("grades", {})
    inventory = summary.get("inventory", {})
    record: dict[str, Any] = {
        "run_id": new_run_id(now),
        "created": now.isoformat(),
        "landkit_version": meta["landkit_version"],
        "year": int(summary["year"]),
        "config_sha256": meta["config_sha256"],
        "inputs": json.dumps(meta["inputs"], ensure_ascii=False, sort_keys=True),
        "parcels": int(summary["parcels"]),
        "area_mu": float(summary["area_mu"]),
    }
    for grade in GRADES:
        record[f"grade_{grade}"] = int(grades.get(grade, {}).get("parcels", 0))
    record.update(
        inventory_parcels=int(inventory.get("parcels", 0)),
        inventory_area_mu=float(inventory.get("area_mu", 0.0)),
        land_freed_mu=float(inventory.get("land_freed_mu", 0.0)),
        floor_area_added_m2=float(inventory.get("floor_area_added_m2", 0.0)),
        tax_gain_wan=float(inventory.get("tax_gain_wan", 0.0)),
        park=json.dumps(summary.get("park") or {}, ensure_ascii=False, default=_plain),
        kpis=json.dumps({str(k): (None if pd.isna(v) else float(v)) for k, v in zip(result.kpis.get("kpi", []), result.kpis.get("actual", []),
                                                                                      strict=True)}, ensure_ascii=False),
        decisions=json.dumps(summary.get("decisions") or {}, ensure_ascii=False, default=_plain),  # overrides and objections
        output=str(Path(out_dir).resolve()),
    )
    return record


def _plain(value: Any) -> Any:
    """Return a numpy scalar as its Python value (for JSON)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def append_run(layers: MutableMapping[str, pd.DataFrame], record: dict[str, Any], previous: pd.DataFrame | None) -> None:
    """Add the history table to the layers of a run: the earlier rows, then this run's.

    Parameters
    ----------
    layers : dict
        The layers :func:`landkit.deliver.writer.write_assessment` writes; ``landkit_runs`` is set.
    record : dict
        This run's row (:func:`run_record`).
    previous : DataFrame or None
        The history read from the GeoPackage being replaced (:func:`previous_runs`).
    """
    row = pd.DataFrame([record])
    if previous is None or previous.empty:
        table = row
    else:
        table = pd.concat([previous[previous["run_id"] != record["run_id"]], row], ignore_index=True)
    columns = [c for c in RUN_COLUMNS if c in table] + [c for c in table.columns if c not in RUN_COLUMNS]
    layers[RUNS_TABLE] = table[columns].reset_index(drop=True)


def kpi_history(runs: pd.DataFrame | None) -> pd.DataFrame:
    """Return the plan KPIs recorded in a run history: one row per run and KPI (``year``, ``kpi``, ``actual``).

    Runs recorded before KPIs were (no ``kpis`` column, or an empty one) give no rows.
    """
    rows: list[dict[str, Any]] = []
    if runs is not None and "kpis" in runs:
        for year, text in zip(runs["year"], runs["kpis"], strict=True):
            if is_missing(text) or not str(text).strip():
                continue
            values = json.loads(str(text))
            rows += [{"year": int(year), "kpi": k, "actual": v} for k, v in values.items() if v is not None]
    return pd.DataFrame(rows, columns=["year", "kpi", "actual"])


def previous_runs(gpkg: Path) -> pd.DataFrame | None:
    """Return the history of the GeoPackage about to be replaced, or None if it has none.

    A GeoPackage written before history was recorded has no table: the history starts now. An
    unreadable one is reported in the log and replaced (the run itself was checked already).
    """
    gpkg = Path(gpkg)
    if not gpkg.exists():
        return None
    try:
        return read_runs(gpkg)
    except InputError as exc:
        log.warning("%s", _("{error}; the history starts with this run").format(error=exc))
        return None


def read_runs(target: str | Path | RunStore, *, schema: str | None = None) -> pd.DataFrame:
    """Read the run history of an output folder, its GeoPackage, or a PostGIS database.

    Parameters
    ----------
    target : path, str or RunStore
        An output folder, a ``landkit.gpkg``, or a ``postgresql://`` URL (``?schema=NAME``).
    schema : str, optional
        The database schema holding ``landkit_runs`` (database targets only; default the
        URL's ``?schema=``, else that of ``landkit assess --db``,
        :data:`landkit.io.postgis.connect.DEFAULT_SCHEMA`).

    Returns
    -------
    DataFrame
        One row per run, in the order they were run (columns :data:`RUN_COLUMNS` first).

    Raises
    ------
    InputError
        If there is no landkit output there, or it has no history.
    """
    from landkit.io.runs import RunStore, list_layers, open_run

    store = target if isinstance(target, RunStore) else open_run(target, schema=schema)
    if store.is_database:
        from landkit.core.db_url import redact
        from landkit.io.postgis.connect import parse_url
        from landkit.io.postgis.read import read_table_postgis

        table = read_table_postgis(store.url or "", store.schema or "", RUNS_TABLE)
        if table is None:
            raise InputError(_("{database} has no run history in schema {schema} (table {table}); `landkit assess --db URL "
                               "--schema NAME` records runs there (name it with ?schema=NAME or --schema)").format(
                database=redact(parse_url(store.url or "").conninfo), schema=store.schema, table=RUNS_TABLE))
        table = pd.DataFrame(table)
        return _ordered(table.sort_values("created", kind="stable") if "created" in table else table)
    import pyogrio

    gpkg = store.gpkg
    if RUNS_TABLE not in list_layers(store):
        raise InputError(_("{path} has no run history (table {table}): it was written before landkit recorded runs, or "
                           "not by `landkit assess`; the next `landkit assess --overwrite` into it starts one").format(
            path=gpkg, table=RUNS_TABLE))
    return _ordered(pd.DataFrame(pyogrio.read_dataframe(gpkg, layer=RUNS_TABLE, read_geometry=False)))


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Return the history in the order the runs were appended, known columns first."""
    columns = [c for c in RUN_COLUMNS if c in table] + [c for c in table.columns if c not in RUN_COLUMNS]
    return table[columns].reset_index(drop=True)


def latest_run(run: Path | RunStore) -> dict[str, Any] | None:
    """Return the newest row of a run's history (the run its layers belong to), or None."""
    try:
        runs = read_runs(run)
    except InputError:
        return None
    if runs.empty:
        return None
    row = runs.iloc[-1].to_dict()
    return {k: (None if is_missing(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}


def runs_records(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the history as plain records (for JSON), ``inputs`` and ``park`` parsed into mappings."""
    out = []
    for row in runs.to_dict("records"):
        record: dict[str, Any] = {k: (None if is_missing(v) else (v.item() if hasattr(v, "item") else v))
                                  for k, v in row.items()}
        for key in ("inputs", "park"):
            value = record.get(key)
            if isinstance(value, str):
                with contextlib.suppress(json.JSONDecodeError):
                    record[key] = json.loads(value)
        out.append(record)
    return out
