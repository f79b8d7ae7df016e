"""Read a run for comparison: from an output folder, its GeoPackage or a PostGIS schema, by run id.

A run id (``OUT@20261126T072000Z-1a2b3c``, ``postgresql://.../db?schema=NAME@RUN_ID``) selects a
run of a folder's (or schema's) history, and is accepted only while that run's layers are still
there (it is the latest run).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from landkit.core.db_url import is_db_url
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.deliver.history import latest_run
from landkit.io.runs import RunStore, layer_fields, list_layers, open_run, read_layer

log = logging.getLogger(__name__)

#: Parcel columns read from each run (those present); ``parcel_id``, ``grade`` and
#: ``low_efficiency`` are required.
PARCEL_COLUMNS = (
    "parcel_id", "block_id", "block_name", "land_use", "status", "area_mu", "grade", "score", "low_efficiency",
    "reasons", "disposal", "disposal_zh", "disposal_en", "tax_wan", "floor_area_m2", "land_freed_mu", "enterprise_names",
    "grade_computed", "overridden", "override_note",
)
REQUIRED = ("parcel_id", "grade", "low_efficiency")


@dataclass
class Run:
    """One run of `landkit assess`, as read back for a comparison."""

    store: RunStore
    parcels: gpd.GeoDataFrame
    blocks: pd.DataFrame | None = None
    scatter_metrics: pd.DataFrame | None = None
    #: The run's 公示/异议 register (table ``objections``), when it had one.
    objections: pd.DataFrame | None = None
    record: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    name: str | None = None

    @property
    def year(self) -> int | None:
        """The assessment year (from the run's history or summary.json), if known."""
        for source in (self.record, self.summary):
            if source and source.get("year") is not None:
                return int(source["year"])
        return None

    @property
    def gpkg(self) -> Path | None:
        """The run's GeoPackage (None for a run in a database)."""
        return self.store.gpkg

    @property
    def where(self) -> str:
        """Where the run is, for messages: its GeoPackage, or the database (redacted) and schema."""
        return self.store.label

    @property
    def run_id(self) -> str | None:
        """The id of the run whose layers these are, if the GeoPackage records its history."""
        return (self.record or {}).get("run_id")

    @property
    def label(self) -> str:
        """A short name for messages: the year if known, else the file."""
        return str(self.year) if self.year is not None else self.where


# --- reading ------------------------------------------------------------------------------------


def split_run_id(target: str | Path) -> tuple[str | Path, str | None]:
    """Split ``OUT@RUN_ID`` (or ``postgresql://...?schema=NAME@RUN_ID``) into the run and the run id.

    A path that exists is taken whole; in a URL only an ``@`` after the host part counts.
    """
    text = str(target)
    if is_db_url(text):
        scheme, rest = text.split("://", 1)
        slash = rest.find("/")
        if slash < 0 or "@" not in rest[slash:]:
            return text, None
        head, run_id = rest[slash:].rsplit("@", 1)
        return f"{scheme}://{rest[:slash]}{head}", run_id or None
    if Path(text).exists() or "@" not in text:
        return Path(text), None
    path, run_id = text.rsplit("@", 1)
    return Path(path), run_id or None


def read_run(target: str | Path) -> Run:
    """Read the parts of a run a comparison needs.

    Parameters
    ----------
    target : path or str
        An output folder of `landkit assess`, its ``landkit.gpkg``, a ``postgresql://`` URL of
        the schema ``landkit assess --db`` wrote (``?schema=NAME``), or any of these followed by
        ``@RUN_ID`` (a run of its history; only its latest run still has its layers).

    Raises
    ------
    InputError
        If it is not a landkit output, or the run id names a run whose layers were replaced.
    """
    path, run_id = split_run_id(target)
    store = open_run(path)
    where = store.label
    layers = set(list_layers(store))
    fields = set(layer_fields(store, "parcels")) if "parcels" in layers else set()
    missing = [c for c in REQUIRED if c not in fields]
    if "parcels" not in layers or missing:
        what = (_("no `parcels` layer") if "parcels" not in layers
                else _("its parcels have no {columns}").format(columns=", ".join(missing)))
        raise InputError(_("{where}: not a landkit output ({what}); give a folder `landkit assess -o` wrote, or the schema "
                           "`landkit assess --db` wrote (?schema=NAME)").format(where=where, what=what))
    record = latest_run(store)
    if run_id is not None:
        _check_run_id(store, run_id, record)
    columns = [c for c in PARCEL_COLUMNS if c in fields]
    if "reasons" not in fields:  # the reason codes then come from the r_<CODE> flags
        columns += sorted(c for c in fields if c.startswith("r_"))
    parcels = read_layer(store, "parcels", columns=columns)
    if parcels["parcel_id"].isna().any() or parcels["parcel_id"].duplicated().any():
        dup = parcels.loc[parcels["parcel_id"].duplicated(), "parcel_id"]
        raise InputError(_("{where}: parcel ids are empty or repeated ({ids}); a comparison joins on parcel_id").format(
            where=where, ids=", ".join(map(str, dup.head(3)))))
    blocks = read_layer(store, "blocks", geometry=False) if "blocks" in layers else None
    scatter = read_layer(store, "scatter_metrics", geometry=False) if "scatter_metrics" in layers else None
    objections = read_layer(store, "objections", geometry=False) if "objections" in layers else None
    summary = None
    summary_path = store.folder / "summary.json" if store.folder is not None else None
    if summary_path is not None and summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            log.warning("%s", _("{path} cannot be read; the park's figures are left out of the comparison").format(
                path=summary_path))
    elif record is not None and isinstance(record.get("park"), str):  # a run in a database: its history row
        try:
            summary = {"year": record.get("year"), "park": json.loads(record["park"])}
        except json.JSONDecodeError:
            log.warning("%s", _("{where}: the park's figures of run {run} cannot be read; they are left out of the "
                                "comparison").format(where=where, run=record.get("run_id")))
    name = _project_name(store.folder / "manifest.json") if store.folder is not None else None
    return Run(store=store, parcels=parcels, blocks=None if blocks is None else pd.DataFrame(blocks),
               scatter_metrics=None if scatter is None else pd.DataFrame(scatter),
               objections=None if objections is None else pd.DataFrame(objections), record=record, summary=summary, name=name)


def _project_name(path: Path) -> str | None:
    """Return the project name recorded in a run's manifest.json, if there is one."""
    try:
        name: str | None = json.loads(path.read_text(encoding="utf-8"))["config"]["name"]
        return name
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_run_id(store: RunStore, run_id: str, record: dict[str, Any] | None) -> None:
    from landkit.deliver.history import read_runs

    where = store.label
    if record is None:
        raise InputError(_("{where} has no run history, so no run `{run}`; give the run without @{run}").format(
            where=where, run=run_id))
    if record["run_id"] == run_id:
        return
    ids = list(read_runs(store)["run_id"])
    if run_id in ids:
        raise InputError(_("run {run} of {where} was replaced by run {latest}: its parcels are gone (only its figures "
                           "remain, see `landkit history`); keep each run in its own folder (or schema) to compare runs")
                         .format(run=run_id, where=where, latest=record["run_id"]))
    raise InputError(_("{where} has no run `{run}`; its runs: {runs} (see `landkit history`)").format(
        where=where, run=run_id, runs=", ".join(ids[-5:])))
