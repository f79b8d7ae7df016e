"""`landkit dossier`: 一地一档, one printable page per parcel of a run (HTML, and PDF on request)."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import PathOrURL, echo, overwrite_opt, run_config_opt, run_project, run_schema_opt
from landkit.core.i18n import _
from landkit.core.progress import Progress
from landkit.deliver.dossier import (
    build_dossier,
    check_output,
    find_browser,
    read_dossier_run,
    select_parcels,
    write_dossier,
)
from landkit.io.runs import open_run
from landkit.monitor.dossier import history_runs

#: The stages of a dossier: reading, maps, layout, rendering, files (with --pdf one more).
STAGES = 5


@click.command("dossier")
@click.argument("run", type=PathOrURL(exists=True))
@click.argument("parcel_ids", nargs=-1, metavar="[PARCEL_ID]...")
@click.option("--listed", is_flag=True, help="Every parcel on the low-efficiency list.")
@click.option("--all", "all_parcels", is_flag=True, help="Every parcel of the run.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (a new one, or an earlier dossier's with --overwrite).")
@click.option("--single", is_flag=True, help="One combined dossier.html, a printed page per parcel, instead of a file per parcel.")
@click.option("--pdf", is_flag=True, help="Also print the pages to OUTPUT/dossier.pdf with the system Chromium (one page per parcel).")
@click.option("--history", "history", multiple=True, metavar="RUN",
              help="Another run of the same parcels (an earlier year's output folder): its class, score, listing and "
                   "path on each page. Repeatable.")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the pages (default: the project's, zh).")
@run_schema_opt
@run_config_opt
@overwrite_opt
def command(run: Path | str, parcel_ids: tuple[str, ...], listed: bool, all_parcels: bool, out_dir: Path, single: bool,
            pdf: bool, history: tuple[str, ...], lang: str | None, schema: str | None, config_path: Path | None,
            overwrite: bool) -> None:
    """Write 一地一档: a printable page for each parcel of RUN (an output folder of `landkit assess`,
    its landkit.gpkg, or postgresql://.../db?schema=NAME), chosen by PARCEL_ID, --listed or --all.

    Each page shows the parcel on a map of its neighbourhood, its facts and enterprises, each
    indicator against its benchmark with its points, its score, class and why, the list and its
    reasons, its path and value, decisions and objections, and its history across runs: the runs
    given with --history, and earlier runs recorded in RUN's history whose folders still hold them.
    Writes OUTPUT/index.html and OUTPUT/<PARCEL_ID>.html (with --single one OUTPUT/dossier.html);
    --pdf also prints OUTPUT/dossier.pdf. The folder is written whole or not at all.
    """
    chosen = sum((bool(parcel_ids), listed, all_parcels))
    if chosen != 1:
        raise click.UsageError(_("choose the parcels: give parcel ids, --listed or --all (one of them)"))
    check_output(out_dir, overwrite=overwrite)
    browser = find_browser() if pdf else None
    ctx = click.get_current_context()
    quiet = (ctx.find_root().obj or {}).get("verbosity", 0) < 0
    with Progress(STAGES + pdf, enabled=not quiet) as progress:
        with progress("Reading the run"):
            store = open_run(run, schema=schema)
            project = run_project(store, config_path)
            source = read_dossier_run(store, project)
            positions = select_parcels(source, parcel_ids, listed=listed)
            others = history_runs(source, history)
        dossier = build_dossier(source, positions, lang=lang or project.map.lang, history=others, stage=progress)
        paths = write_dossier(out_dir, dossier, single=single, browser=browser, overwrite=overwrite, stage=progress)
    pages = len(dossier.sheets)
    echo(_("Wrote {n} parcel pages to {folder}").format(n=pages, folder=out_dir))
    for path in paths:
        echo(_("Wrote {path}").format(path=path))
