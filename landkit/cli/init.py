"""`landkit init`: write a commented starter project file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from landkit.cli.options import DEFAULT_PROJECT_FILE, overwrite_opt
from landkit.config import default_profile_text, load_config
from landkit.output import check_writable, write_text


def starter_text(*, full: bool = False) -> str:
    """Return the starter project file; with ``full``, the whole default profile joined to it."""
    starter = resources.files("landkit.profiles").joinpath("project.yaml").read_text(encoding="utf-8")
    if not full:
        return starter
    head, _, crs_part = starter.partition("\ncrs:")
    profile = default_profile_text().replace("version: 1\nname: landkit\n", "version: 1\n")
    profile = profile.replace("# inputs: set in the project file (paths relative to it). See `landkit init`.\n", "")
    return head.rstrip() + "\n\n# ---- the default profile, to edit ----\n" + profile


@click.command("init")
@click.argument("path", required=False, default=DEFAULT_PROJECT_FILE, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Write every key of the default profile, not just the inputs.")
@overwrite_opt
def command(path: Path, full: bool, overwrite: bool) -> None:
    """Write a commented starter project file (default: ./landkit.yaml)."""
    check_writable([path], overwrite=overwrite)
    text = starter_text(full=full)
    write_text(path, text)
    load_config(path)  # what we write must load
    click.echo(f"Wrote {path}. Edit the paths under `inputs`, then run: landkit validate -c {path}")
