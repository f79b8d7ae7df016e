"""`landkit demo`: run everything landkit has on the shipped Minhang sample."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import overwrite_opt
from landkit.core.i18n import _
from landkit.core.progress import Progress
from landkit.demo import DECISION_STAGES, DEMO_STAGES, NEXT_YEAR_PROJECT, RUN_STAGES, find_sample, run_demo


@click.command("demo")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="Sample folder (default: the shipped gis_data/).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"), show_default=True, help="Output folder.")
@click.option("--maps", type=click.Path(file_okay=False, path_type=Path), default=Path("maps"), show_default=True, help="Folder for the HTML maps.")
@overwrite_opt
def command(data: Path | None, output: Path, maps: Path, overwrite: bool) -> None:
    """Run the whole pipeline on the synthetic Minhang sample (gis_data/), writing to out/demo/.

    With the sample's next year (gis_data/minhang_2026.yaml) it also assesses 2026 into
    OUTPUT/2026 and compares the two years into OUTPUT/compare (map: MAPS/minhang_compare.html).
    """
    project_file = find_sample(data)
    click.echo(_("Sample project: {path} (synthetic data)").format(path=project_file))
    quiet = click.get_current_context().find_root().obj.get("verbosity", 0) < 0
    stages = DEMO_STAGES if project_file.with_name(NEXT_YEAR_PROJECT).exists() else RUN_STAGES + DECISION_STAGES
    with Progress(stages, enabled=not quiet) as progress:
        written = run_demo(project_file, output, maps_dir=maps, overwrite=overwrite, echo=click.echo, stage=progress)
    click.echo(_("Wrote:"))
    for path in written:
        click.echo(f"  {path}")
