"""The demo: every step landkit has, run on the synthetic Minhang sample in ``gis_data/``.

The sample's first year (2025) is assessed into the output folder; when the sample has its next
year (``minhang_2026.yaml``), that is assessed into ``OUT/2026`` and compared with the first
(``OUT/compare``, map ``minhang_compare.html``): the year-over-year monitoring (定期监测).
The decision tools follow: the policy scenarios of ``scenarios_2025.yaml`` on the first year
(``OUT/scenarios``), and the 一地一档 dossiers of the listed parcels of the last year assessed
(``OUT/dossier``), each page with the parcel's history across both years.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import landkit
from landkit.config.load import load_config
from landkit.config.models import Project
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.core.progress import Stage, no_stage
from landkit.data.dataset import load_dataset
from landkit.decide.scenarios import read_scenarios, run_scenarios, scenario_summary
from landkit.decide.write import SCENARIO_FILES, write_scenarios
from landkit.deliver.dossier import build_dossier, check_output, read_dossier_run, select_parcels, write_dossier
from landkit.deliver.writer import OUTPUT_FILES, write_assessment
from landkit.io.columns import require_columns
from landkit.io.runs import open_run
from landkit.io.write import check_writable
from landkit.monitor.compare import compare_runs, headline_lines
from landkit.monitor.dossier import history_runs
from landkit.monitor.read import read_run
from landkit.monitor.write import OUTPUT_FILES as COMPARE_FILES
from landkit.monitor.write import write_comparison
from landkit.pipeline import assess, summary_lines

SAMPLE_PROJECT = "minhang.yaml"
#: The sample one year on (optional: a data folder without it runs the first year only).
NEXT_YEAR_PROJECT = "minhang_2026.yaml"
#: The sample's policy scenarios (optional).
SCENARIOS = "scenarios_2025.yaml"
#: Progress stages of one assessment, of the decision tools (scenarios: the variants and the
#: writing; dossiers: reading, maps, layout, rendering, files), and of the demo with both years
#: and the comparison.
RUN_STAGES = 14
DECISION_STAGES = 8 + 5
DEMO_STAGES = 2 * RUN_STAGES + 1 + DECISION_STAGES


#: Warnings of the inputs the demo prints (the rest are counted).
SHOWN_WARNINGS = 5


def find_sample(data_dir: Path | None = None) -> Path:
    """Return the sample project file: in ``data_dir``, else ./gis_data, else beside the package."""
    candidates = [data_dir] if data_dir else [Path("gis_data"), Path(landkit.__file__).resolve().parent.parent / "gis_data"]
    for folder in candidates:
        if folder is not None and (folder / SAMPLE_PROJECT).exists():
            return folder / SAMPLE_PROJECT
    where = ", ".join(str(c) for c in candidates)
    raise InputError(
        f"sample project {SAMPLE_PROJECT} not found in {where}; run from the landkit checkout or pass --data "
        "(regenerate it with `python scripts/make_sample.py`)"
    )


def run_demo(
    project_file: Path,
    out_dir: Path,
    *,
    maps_dir: Path,
    overwrite: bool = False,
    echo: Callable[[str], None] = print,
    stage: Stage = no_stage,
) -> list[Path]:
    """Run the pipeline on the sample project (and its next year, compared) and return the files written."""
    project = load_config(project_file)
    map_path = maps_dir / "minhang_demo.html"
    next_file = project_file.with_name(NEXT_YEAR_PROJECT)
    next_project = load_config(next_file) if next_file.exists() else None
    planned = [out_dir / name for name in OUTPUT_FILES if name != "map.html"] + [map_path]
    if next_project is not None:
        next_dir, compare_dir = out_dir / str(next_project.year), out_dir / "compare"
        compare_map = maps_dir / "minhang_compare.html"
        planned += [next_dir / name for name in OUTPUT_FILES if name != "map.html"]
        planned += [compare_dir / name for name in COMPARE_FILES if name != "compare.html"] + [compare_map]
    scenarios_file = project_file.with_name(SCENARIOS)
    scenario_dir, dossier_dir = out_dir / "scenarios", out_dir / "dossier"
    if scenarios_file.exists():
        planned += [scenario_dir / name for name in SCENARIO_FILES]
    check_writable(planned, overwrite=overwrite)
    check_output(dossier_dir, overwrite=overwrite)
    steps = (3 if next_project is None else 5) + 1 + scenarios_file.exists()
    echo(_("{step}/{steps} reading and checking the inputs …").format(step=1, steps=steps))
    data = load_dataset(project, stage=stage)
    data.issues += require_columns(data.columns, project, derived=data.parcels.columns)  # shown with the others
    firms = 0 if data.enterprises is None else len(data.enterprises)
    echo("    " + _("{parcels:,} parcels, {firms:,} enterprises, {blocks} blocks; {warnings} warning(s)").format(
        parcels=len(data.parcels), firms=firms, blocks=len(data.blocks) if data.blocks is not None else 0,
        warnings=len(data.issues)))
    for issue in data.issues[:SHOWN_WARNINGS]:
        echo(f"      {issue.line()}")
    if len(data.issues) > SHOWN_WARNINGS:
        echo("      " + _("… and {n} more (`landkit validate -c {path}` lists them)").format(
            n=len(data.issues) - SHOWN_WARNINGS, path=project_file))
    echo(_("{step}/{steps} assessing (两评估、一清单、一盘活, 三圈协同, 小而散, rasters) …").format(step=2, steps=steps))
    result = assess(data, project, stage=stage)
    for line in summary_lines(result.summary):
        echo("    " + line)
    echo(_("{step}/{steps} writing the outputs, surfaces, map and report …").format(step=3, steps=steps))
    written = write_assessment(out_dir, project, data, result, map_path=map_path, stage=stage)
    step = 3
    if next_project is not None:
        written += _next_year(project, next_project, out_dir, next_dir, compare_dir, compare_map, echo=echo, stage=stage,
                              steps=steps)
        step = 5
    if scenarios_file.exists():
        step += 1
        echo(_("{step}/{steps} policy scenarios ({file}) on {year} …").format(step=step, steps=steps, file=scenarios_file.name,
                                                                              year=project.year))
        variants = read_scenarios(scenarios_file)
        scenarios = run_scenarios(data, project, variants, source=str(scenarios_file), stage=stage, base=result)
        with stage("export"):
            written += write_scenarios(scenario_dir, scenarios, project, data, lang=project.map.lang)
        for row in scenario_summary(scenarios).iloc[1:].itertuples(index=False):
            echo("    " + _("{name}: {changes} change class, list {listed:,} parcels ({mu:,.0f} mu), land freed {freed:,.0f} mu").format(
                name=row.scenario, changes=row.class_changes, listed=row.listed_parcels, mu=row.listed_mu,
                freed=row.land_freed_mu))
    last_dir = out_dir if next_project is None else next_dir
    echo(_("{step}/{steps} 一地一档: a page per listed parcel of {folder} …").format(step=step + 1, steps=steps, folder=last_dir))
    with stage("Reading the run"):
        last = next_project if next_project is not None else project
        source = read_dossier_run(open_run(last_dir), last)
        others = history_runs(source, ())
    dossier = build_dossier(source, select_parcels(source, listed=True), lang=last.map.lang, history=others, stage=stage)
    written += write_dossier(dossier_dir, dossier, overwrite=overwrite, stage=stage)
    echo("    " + _("{n} pages, each with its parcel's history in {runs} run(s)").format(n=len(dossier.sheets),
                                                                                        runs=len(others) + 1))
    return written


def _next_year(project: Project, next_project: Project, out_dir: Path, next_dir: Path, compare_dir: Path, compare_map: Path, *,
               echo: Callable[[str], None], stage: Stage, steps: int) -> list[Path]:
    """Assess the sample's next year into ``next_dir`` and compare the two years into ``compare_dir``."""
    echo(_("{step}/{steps} the same park one year on ({year}): assessing into {folder} …").format(
        step=4, steps=steps, year=next_project.year, folder=next_dir))
    next_data = load_dataset(next_project, stage=stage)
    require_columns(next_data.columns, next_project, derived=next_data.parcels.columns)  # (its warnings: as the first year's)
    next_result = assess(next_data, next_project, stage=stage)
    for line in summary_lines(next_result.summary):
        echo("    " + line)
    written = write_assessment(next_dir, next_project, next_data, next_result, stage=stage, history_from=out_dir)  # the KPIs over both years
    echo(_("{step}/{steps} comparing {before} → {after} (定期监测) …").format(
        step=5, steps=steps, before=project.year, after=next_project.year))
    with stage("compare"):
        before, after = read_run(out_dir), read_run(next_dir)
        comparison = compare_runs(before, after, next_project)
        written += write_comparison(compare_dir, comparison, next_project, after, map_path=compare_map,
                                    lang=next_project.map.lang)
    for line in headline_lines(comparison.summary):
        echo("    " + line)
    return written
