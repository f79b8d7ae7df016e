"""`landkit assess`: the two assessments, the list and the revitalisation paths, written to a folder."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from landkit.cli.options import echo, input_options, load_project, overwrite_opt, schema_name
from landkit.core.db_url import is_db_url
from landkit.core.i18n import _
from landkit.core.progress import Progress
from landkit.data.dataset import load_dataset
from landkit.deliver.writer import OUTPUT_FILES, write_assessment
from landkit.engine import ENGINES, engine_named
from landkit.engine.local import DEFAULT_PARTITION_SIZE
from landkit.io.columns import require_columns
from landkit.io.postgis.connect import DEFAULT_SCHEMA
from landkit.io.postgis.write import DbTarget, check_target
from landkit.io.run_folder import locked
from landkit.io.write import check_writable
from landkit.pipeline import assess, summary_lines

log = logging.getLogger("landkit")

STAGES = 14  # read, validate, read, zonal, performance, value, rings, inventory, scatter, export, workbook, surfaces, map, report (+ database with --db)


@click.command("assess")
@input_options
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@overwrite_opt
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="Where the per-parcel geometry work runs: this process, or a Dask cluster (spatial partitions).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler to use with --engine dask, e.g. tcp://10.0.0.5:8786 (default: start a local cluster).")
@click.option("--partition-size", type=click.IntRange(min=100), default=DEFAULT_PARTITION_SIZE, show_default=True,
              help="Parcels per spatial partition with --engine dask.")
@click.option("--db", metavar="URL", help="Also write the layers to PostGIS: postgresql://user@host:port/db "
              "(password from PGPASSWORD, ~/.pgpass or a service file).")
@click.option("--schema", metavar="NAME", callback=schema_name,
              help=f"Schema --db writes into (created if missing). Default: {DEFAULT_SCHEMA}.")
@click.option("--lang", "out_lang", type=click.Choice(["zh", "en"]),
              help="Language of the report, map and workbook. Default: the project's map.lang (zh).")
@click.option("--overrides", "overrides_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Decisions applied on top of the results (.csv or .xlsx: parcel id, field, value, reason, approved by, date).")
@click.option("--objections", "objections_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The 公示/异议 register (.csv or .xlsx: objection id, parcel id, status received/upheld/rejected ...).")
def command(parcels: Path | str | None, enterprises: Path | str | None, sheet: str | None, blocks: Path | str | None,
            layer: str | None, encoding: str | None, crs: str | None, config_path: Path | None, out_dir: Path,
            overwrite: bool, engine: str, scheduler: str | None, partition_size: int, db: str | None,
            schema: str | None, out_lang: str | None, overrides_file: Path | None, objections_file: Path | None) -> None:
    """Assess PARCELS: grades A/B/C/D, values, the low-efficiency list and disposal paths.

    Writes OUTPUT/landkit.gpkg (layers parcels, inventory, watchlist, blocks, rings ... and
    their QGIS styles), OUTPUT/inventory.xlsx, OUTPUT/summary.json, OUTPUT/manifest.json, the
    surfaces OUTPUT/*.tif, the interactive map OUTPUT/map.html and the printable report
    OUTPUT/report.html. The run is whole or absent: written aside and moved into place at the end.
    """
    project = load_project(
        config_path, parcels=parcels, layer=layer, encoding=encoding, crs=crs,
        enterprises=enterprises, sheet=sheet, blocks=blocks, overrides=overrides_file, objections=objections_file,
    )
    if out_lang is not None:
        project = project.model_copy(update={"map": project.map.model_copy(update={"lang": out_lang})})
    if project.inputs.parcels is None:
        raise click.UsageError(_("give PARCELS, or a project file (-c) that names inputs.parcels"))
    check_writable([out_dir / name for name in OUTPUT_FILES], overwrite=overwrite)
    target = _db_target(db, schema, overwrite=overwrite)
    quiet = click.get_current_context().find_root().obj.get("verbosity", 0) < 0
    # the folder's lock from the start (writable, and no other run in it), not only once written
    with locked(out_dir), Progress(STAGES + (db is not None), enabled=not quiet) as progress:
        with engine_named(engine, scheduler=scheduler, partition_size=partition_size):  # connect before the work
            data = load_dataset(project, stage=progress)
            for issue in require_columns(data.columns, project, derived=data.parcels.columns):
                log.warning("%s", issue.message)
            result = assess(data, project, stage=progress)
        paths = write_assessment(out_dir, project, data, result, map_path=out_dir / "map.html", stage=progress, db=target)
    for line in summary_lines(result.summary):
        echo(line)
    for path in paths:
        echo(_("Wrote {path}").format(path=path))
    if target is not None:
        echo(_("Wrote the layers to {target}").format(target=target.label))


def _db_target(db: str | None, schema: str | None, *, overwrite: bool) -> DbTarget | None:
    """Return the --db target, checked before any work (reachable, writable, no table in the way)."""
    if db is None:
        if schema is not None:
            raise click.UsageError(_("--schema names where --db writes: give --db postgresql://... too"))
        return None
    if not is_db_url(db):
        raise click.BadParameter(_("give a postgresql:// URL, e.g. postgresql://planner@gis-server:5432/park"), param_hint="--db")
    target = DbTarget(db, schema or DEFAULT_SCHEMA, overwrite=overwrite)
    check_target(target)
    return target
