"""`landkit init`: write a commented starter project file, or one mapped onto the planner's own files."""

from __future__ import annotations

import os
from datetime import date
from importlib import resources
from pathlib import Path

import click
import yaml

from landkit.cli.columns import report_lines
from landkit.cli.options import (
    DEFAULT_PROJECT_FILE,
    PathOrURL,
    crs_opt,
    echo,
    encoding_opt,
    enterprises_opt,
    layer_opt,
    load_project,
    overwrite_opt,
    sheet_opt,
)
from landkit.config.load import default_profile_text, load_config
from landkit.config.models import Project, Source
from landkit.core.i18n import _
from landkit.core.units import unit_name
from landkit.io.columns import ColumnReport, column_report, column_uses, consequence, matched_columns, split_unit
from landkit.io.write import check_writable, write_text


def starter_text(*, full: bool = False) -> str:
    """Return the starter project file; with ``full``, the whole default profile joined to it."""
    starter = resources.files("landkit.config.profiles").joinpath("project.yaml").read_text(encoding="utf-8")
    if not full:
        return starter
    head, _sep, _crs_part = starter.partition("\ncrs:")
    profile = default_profile_text().replace("version: 1\nname: landkit\n", "version: 1\n")
    profile = profile.replace("# inputs: set in the project file (paths relative to it). See `landkit init`.\n", "")
    return head.rstrip() + "\n\n# ---- the default profile, to edit ----\n" + profile


def _flow(value: object) -> str:
    """Return ``value`` in YAML on one line (quoted where YAML needs it)."""
    text: str = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1_000)
    return text.strip().removesuffix("...").strip()


def _source_lines(kind: str, source: Source, folder: Path) -> list[str]:
    path = source.path if "://" in source.path else os.path.relpath(source.path, folder)
    lines = [f"  {kind}:", f"    path: {_flow(path)}"]
    for key in ("layer", "sheet", "encoding", "crs"):
        value = getattr(source, key, None)
        if value:
            lines.append(f"    {key}: {_flow(value)}")
    return lines


def _mapping_value(column: str, canonical: str) -> object:
    """Return the mapping of a suggested column: its name, and its bracketed unit if landkit knows it (元 → ×0.0001)."""
    unit = split_unit(column)[1]
    known = unit_name(canonical, unit) if unit else None
    return {"column": column, "unit": known} if known else [column]


def mapped_project_text(project: Project, reports: dict[str, ColumnReport], folder: Path, *, year: int) -> str:
    """Return a project file for the planner's inputs: their paths, and the column mapping to confirm.

    Columns landkit matched by their names need no line; each suggested mapping (a column whose
    name is like one landkit reads) is written with its similarity's source as a comment, for the
    planner to confirm or correct; unread columns and absent ones the project uses are listed as
    comments, the latter with what they feed.
    """
    uses = column_uses(project)
    lines = [
        "# landkit project file — 项目配置, written by `landkit init --from`.",
        "#",
        "# Paths are relative to this file. Under `columns`, the lines marked `suggested` map one of",
        "# your columns onto one landkit reads because the names are alike: confirm each (or correct",
        "# it), then run `landkit validate -c <this file>`. Everything not set here comes from the",
        "# default profile (`landkit init --full` writes it out).",
        "",
        "name: 我的园区             # project name, shown on maps and reports",
        f"year: {year}                # data year [assumed: the last full statistical year]; change it to your data's",
        "",
        "inputs:",
    ]
    for kind in ("parcels", "enterprises", "blocks"):
        source = getattr(project.inputs, kind)
        if source is not None:
            lines += _source_lines(kind, source, folder)
    mapped = [(kind, r) for kind, r in reports.items() if r.suggestions]
    lines.append("")
    if mapped:
        lines.append("columns:")
        for kind, report in mapped:
            lines.append(f"  {kind}:")
            for column, canonical in report.suggestions.items():
                lines.append(f"    {canonical}: {_flow(_mapping_value(column, canonical))}"
                             f"    # suggested: your {column}; confirm")
    else:
        lines.append("# columns:              # every column was matched by its name; map others here")
    for kind, report in reports.items():
        unread = [c for c in report.unread if c not in report.suggestions]
        if unread:
            lines.append(f"# {kind}: columns not read: {', '.join(unread)}")
        absent = [c for c in report.absent if c in uses and c not in report.suggestions.values()]
        for column in absent:
            lines.append(f"# {kind}: no column for `{column}`; it feeds {consequence(uses[column])}")
    lines += ["", "crs:", "  output: input           # CRS of written layers: input, working or e.g. EPSG:4490", ""]
    return "\n".join(lines)


def read_reports(project: Project) -> dict[str, ColumnReport]:
    """Read the headers of the project's parcel layer and enterprise table and report their columns.

    Only the columns are looked at: nothing is converted, and a required column that is absent
    is reported (with a suggestion), not refused.
    """
    from landkit.io.read import read_table, read_vector

    reports = {}
    for kind in ("parcels", "enterprises"):
        source = getattr(project.inputs, kind)
        if source is None:
            continue
        frame = (read_vector(source, kind=kind, project=project) if kind == "parcels"
                 else read_table(source, kind=kind, project=project))
        mapping = getattr(project.columns, kind)
        geometry = [frame.geometry.name] if hasattr(frame, "geometry") and kind == "parcels" else []
        read = matched_columns(frame.columns, mapping, kind)
        reports[kind] = column_report(frame.columns, read, kind=kind, project=project, name=source.path, ignore=geometry)
    return reports


@click.command("init")
@click.argument("path", required=False, default=DEFAULT_PROJECT_FILE, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Write every key of the default profile, not just the inputs.")
@click.option("--from", "from_parcels", type=PathOrURL(dir_okay=False),
              help="Your parcel layer: write a project file for it (and -e), its columns mapped onto landkit's.")
@enterprises_opt
@sheet_opt
@layer_opt
@encoding_opt
@crs_opt
@overwrite_opt
def command(path: Path, full: bool, from_parcels: Path | str | None, enterprises: Path | str | None, sheet: str | None,
            layer: str | None, encoding: str | None, crs: str | None, overwrite: bool) -> None:
    """Write a commented starter project file (default: ./landkit.yaml).

    With --from PARCELS (and -e ENTERPRISES), the file names your inputs and maps your column
    names onto those landkit reads: names it knows are matched, names alike are suggested for
    you to confirm; the columns of each input and what they were read as are printed.
    """
    if full and from_parcels is not None:
        raise click.UsageError(_("--full and --from do not go together: write the mapped file, then add keys from "
                                 "`landkit init --full`"))
    if from_parcels is None and (enterprises or sheet or layer or encoding or crs):
        raise click.UsageError(_("-e, --sheet, --layer, --encoding and --crs go with --from PARCELS"))
    check_writable([path], overwrite=overwrite)
    if from_parcels is None:
        text = starter_text(full=full)
    else:
        project = load_project(None, parcels=from_parcels, layer=layer, encoding=encoding, crs=crs,
                               enterprises=enterprises, sheet=sheet, find_project_file=False)
        reports = read_reports(project)
        uses = column_uses(project)
        for report in reports.values():
            for line in report_lines(report, uses):
                echo(line)
        text = mapped_project_text(project, reports, path.resolve().parent, year=date.today().year - 1)
    write_text(path, text)
    load_config(path)  # what we write must load
    then = (_("Wrote {path}. Confirm the suggested column mappings, then run: landkit validate -c {path}") if from_parcels
            else _("Wrote {path}. Edit the paths under `inputs`, then run: landkit validate -c {path}"))
    echo(then.format(path=path))
