"""`landkit validate`: check the inputs and report every problem, optionally repairing geometry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from landkit.cli.columns import report_lines
from landkit.cli.options import input_options, load_project, overwrite_opt
from landkit.config.models import Project
from landkit.core.errors import LandkitError
from landkit.core.i18n import _, display_width
from landkit.core.issues import Issue, Severity, issues_frame
from landkit.data.dataset import Dataset, load_dataset, summarise_rasters
from landkit.data.validate import fix_geometry
from landkit.io.columns import column_issues, column_uses
from landkit.io.read import canonical_columns, read_vector
from landkit.io.write import atomic_path, check_writable, vector_parts, write_vector

SHOWN = 20


def dry_run(data: Dataset, project: Project) -> Issue | None:
    """Run the assessment in memory; return its error as an issue (None when it runs through).

    An error when the project names its enterprises (the whole project is checked); a warning
    when only a parcel layer is checked (its geometry may be fine, but `assess` would stop).
    """
    from landkit.pipeline import assess

    try:
        assess(summarise_rasters(data, project), project)
    except LandkitError as exc:
        severity: Severity = "error" if project.inputs.enterprises is not None else "warning"
        return Issue(severity, "assessment", "project", "", f"`landkit assess` would stop: {exc}")
    return None


@click.command("validate")
@input_options
@click.option("--fix", is_flag=True, help="Repair geometry (make valid, drop empty) and write the result to -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where --fix writes the repaired layer.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write every issue to this CSV file.")
@click.option("--no-assess", is_flag=True, help="Skip the dry run of the assessment (faster on a very large layer).")
@click.option("--no-columns", "quiet_columns", is_flag=True,
              help="Do not list each input's columns and what they were read as.")
@overwrite_opt
def command(parcels: Path | str | None, enterprises: Path | str | None, sheet: str | None, blocks: Path | str | None,
            layer: str | None, encoding: str | None, crs: str | None, config_path: Path | None, fix: bool,
            output: Path | None, report: Path | None, no_assess: bool, quiet_columns: bool, overwrite: bool) -> None:
    """Check PARCELS (and the project's other inputs): geometry, ids, overlaps, columns, values.

    When the inputs are clean, the assessment is also run in memory (nothing written), so that
    every check `landkit assess` makes — the columns each indicator and rule needs, the rules
    of the project file — is made here too. Each input's columns are listed with what they
    were read as; a column not read that looks like one landkit uses is named with the mapping
    to add, and a column the project uses but the inputs lack with what it does to the results.
    Exit status 0 when there are no errors (warnings allowed), 1 otherwise.
    """
    project = load_project(
        config_path, parcels=parcels, layer=layer, encoding=encoding, crs=crs,
        enterprises=enterprises, sheet=sheet, blocks=blocks,
    )
    if project.inputs.parcels is None:
        raise click.UsageError(_("give PARCELS, or a project file (-c) that names inputs.parcels"))
    if fix and output is None:
        raise click.UsageError(_("--fix writes a repaired copy: give its path with -o (e.g. -o parcels_fixed.gpkg)"))
    targets = [p for p in (report,) if p] + (vector_parts(output) if fix and output else [])
    check_writable(targets, overwrite=overwrite)

    if fix and output is not None:  # -o given (checked above)
        raw = read_vector(project.inputs.parcels, kind="parcels", project=project)
        ids = canonical_columns(raw, kind="parcels", project=project, name=str(output)).frame["parcel_id"]
        repaired, changes = fix_geometry(raw, ids)
        write_vector(output, repaired, layer="parcels")
        for line in changes:
            click.echo(_("fixed: {change}").format(change=line))
        click.echo(_("Wrote {path}: {n} change(s); checking the repaired layer.").format(path=output, n=len(changes)))
        source = project.inputs.parcels.model_copy(update={"path": str(output.resolve()), "layer": "parcels" if output.suffix.lower() == ".gpkg" else None, "encoding": None})
        project = project.model_copy(update={"inputs": project.inputs.model_copy(update={"parcels": source})})

    data = load_dataset(project, strict=False, rasters=False)
    columns = column_issues(data.columns, project, derived=data.parcels.columns)
    if project.inputs.enterprises is None:  # a parcel layer checked alone: `assess` needs more, not an error here
        columns = [replace(i, severity="warning") for i in columns]
    data.issues += columns
    if not data.errors and not no_assess and (issue := dry_run(data, project)) is not None:
        data.issues.append(issue)
    if not quiet_columns:
        uses = column_uses(project)
        for read_as in data.columns.values():
            for line in report_lines(read_as, uses):
                click.echo(line)
    frame = issues_frame(data.issues)
    n_err = int((frame["severity"] == "error").sum())
    n_warn = len(frame) - n_err
    checked = (_("Checked {parcels:,} parcels from {source} and {firms:,} enterprises").format(
        parcels=len(data.parcels), source=data.sources["parcels"], firms=len(data.enterprises))
        if data.enterprises is not None else
        _("Checked {parcels:,} parcels from {source}").format(parcels=len(data.parcels), source=data.sources["parcels"]))
    click.echo(checked + _(": {errors} error(s), {warnings} warning(s).").format(errors=n_err, warnings=n_warn))
    if len(frame):
        counts = frame.groupby(["severity", "check"]).size().sort_index()
        for (severity, check), count in counts.items():
            shown = {"error": _("error"), "warning": _("warning")}.get(severity, severity)
            click.echo(f"  {shown}{' ' * max(1, 9 - display_width(shown))}{check:<18} {count:>6}")  # CJK: two columns
        for issue in data.issues[:SHOWN]:
            click.echo(issue.line())
        if len(frame) > SHOWN:
            click.echo(_("… and {n} more").format(n=len(frame) - SHOWN)
                       + ("" if report else _("; --report FILE.csv lists them all")))
    if report:
        with atomic_path(report) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        click.echo(_("Wrote {path}").format(path=report))
    if n_err:
        click.get_current_context().exit(1)
