"""`landkit compare`: what changed between two runs, year over year (定期监测)."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import config_opt, echo, load_project, overwrite_opt
from landkit.core.i18n import _
from landkit.io.write import check_writable
from landkit.monitor.compare import compare_runs, headline_lines
from landkit.monitor.read import read_run
from landkit.monitor.write import OUTPUT_FILES, write_comparison


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of headers and the map.")
@config_opt
@overwrite_opt
def command(run_a: str, run_b: str, out_dir: Path, lang: str, config_path: Path | None, overwrite: bool) -> None:
    """Compare RUN_A (earlier) with RUN_B (later): output folders of `landkit assess`, their
    landkit.gpkg, or postgresql://.../db?schema=NAME (the schema `landkit assess --db` wrote).

    Reports parcels whose grade changed (with the A/B/C/D/U transition matrix), parcels that
    entered or left the low-efficiency inventory, disposal paths started and completed, new and
    removed parcels, and block and concentration metrics before and after. Writes
    OUTPUT/compare.gpkg (layer `changes` and tables), compare.xlsx, compare.json and the map
    compare.html. A run of a folder's (or schema's) history can be named as FOLDER@RUN_ID while
    its layers are still there (see `landkit history`).
    """
    check_writable([out_dir / name for name in OUTPUT_FILES], overwrite=overwrite)
    project = load_project(config_path)
    a, b = read_run(run_a), read_run(run_b)
    comparison = compare_runs(a, b, project)
    paths = write_comparison(out_dir, comparison, project, b, lang=lang)
    for line in headline_lines(comparison.summary):
        echo(line)
    for path in paths:
        echo(_("Wrote {path}").format(path=path))
