"""`landkit scenario`: named variants of the profile assessed on the same data, against the base."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from landkit.cli.options import echo, load_project, overwrite_opt, run_project
from landkit.config.models import Project
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.core.progress import Progress
from landkit.data.dataset import load_dataset
from landkit.decide.scenarios import read_scenarios, run_scenarios, scenario_summary, variant_projects
from landkit.decide.write import SCENARIO_FILES, write_scenarios
from landkit.io.run_folder import MANIFEST, locked
from landkit.io.runs import open_run
from landkit.io.write import check_writable


@click.command("scenario")
@click.argument("source", metavar="RUN_OR_PROJECT", type=click.Path(exists=True, path_type=Path))
@click.option("-s", "--scenarios", "scenarios_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The scenarios file (YAML): a list of variants, each with a name, a description and `set:` of profile keys.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@overwrite_opt
@click.option("--lang", "out_lang", type=click.Choice(["zh", "en"]), help="Language of the page, map and workbook. Default: the project's map.lang.")
def command(source: Path, scenarios_file: Path, out_dir: Path, overwrite: bool, out_lang: str | None) -> None:
    """Assess the variants of SCENARIOS on the data of RUN_OR_PROJECT (a project file, or an
    output folder of `landkit assess`, whose recorded settings and inputs are used) and compare
    each with the base.

    Per variant: the class counts and areas, the list, the paths, the land freed, the floor area
    added, the tax gain and the compensation; and the parcels that change class, with the
    indicator that moved them. Writes OUTPUT/scenarios.gpkg, scenarios.xlsx, scenarios.json,
    scenarios.html (charts) and scenarios_map.html (a layer per variant). The variants share
    every step their settings do not touch.
    """
    project = load_project(source) if source.suffix.lower() in (".yaml", ".yml") else _run_inputs(source)
    if out_lang is not None:
        project = project.model_copy(update={"map": project.map.model_copy(update={"lang": out_lang})})
    variants = read_scenarios(scenarios_file)
    variant_projects(project, variants, source=str(scenarios_file))  # every variant checked before any work
    check_writable([out_dir / name for name in SCENARIO_FILES], overwrite=overwrite)
    quiet = click.get_current_context().find_root().obj.get("verbosity", 0) < 0
    started = time.perf_counter()
    with locked(out_dir), Progress(4 + 1 + len(variants) + 1, enabled=not quiet) as progress:
        data = load_dataset(project, stage=progress)
        run = run_scenarios(data, project, variants, source=str(scenarios_file), stage=progress)
        with progress("export"):
            paths = write_scenarios(out_dir, run, project, data, lang=project.map.lang)
    summary = scenario_summary(run)
    for row in summary.itertuples(index=False):
        echo(_("{name}: A {a}, B {b}, C {c}, D {d}; listed {listed} ({mu:,.0f} mu); land freed {freed:,.0f} mu; "
               "{changes} change class").format(name=row.scenario, a=row.A_parcels, b=row.B_parcels, c=row.C_parcels,
                                                d=row.D_parcels, listed=row.listed_parcels, mu=row.listed_mu,
                                                freed=row.land_freed_mu, changes=row.class_changes))
    echo(_("{n} variants in {seconds:.1f} s").format(n=len(variants), seconds=time.perf_counter() - started))
    for path in paths:
        echo(_("Wrote {path}").format(path=path))


def _run_inputs(run: Path) -> Project:
    """Return the settings a run was made with, its inputs found where its project file's folder was.

    Raises
    ------
    InputError
        If the run does not record that folder (made by an earlier landkit), or it is gone.
    """
    store = open_run(run)
    project = run_project(store, None)
    manifest = store.folder / MANIFEST if store.folder is not None else None
    folder = json.loads(manifest.read_text(encoding="utf-8")).get("project_folder") if manifest and manifest.exists() else None
    if not folder or not Path(folder).is_dir():
        raise InputError(_("{run} does not record where its inputs are (or that folder is gone); give the project file "
                           "instead, e.g. `landkit scenario landkit.yaml -s …`").format(run=store.label))
    return project.model_copy(update={"base_dir": folder})
