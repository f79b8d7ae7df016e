"""Options shared by several commands, and turning them into a project configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import click

from landkit.config.load import load_config
from landkit.config.models import Project
from landkit.core.db_url import is_db_url
from landkit.core.i18n import _

if TYPE_CHECKING:
    from landkit.io.runs import RunStore

    # click >= 8.2 types ParamType by the value it converts to; older versions cannot be subscripted
    _ParamType: TypeAlias = click.ParamType[Path | str]
else:
    _ParamType = click.ParamType

DEFAULT_PROJECT_FILE = "landkit.yaml"

#: A function that click decorates into a command.
_F = TypeVar("_F", bound=Callable[..., Any])


class PathOrURL(_ParamType):
    """A file path (a :class:`~pathlib.Path`) or a ``postgresql://`` URL (kept as text, unchanged)."""

    name = "path|url"

    def __init__(self, **path_options: Any) -> None:
        self.path = click.Path(path_type=Path, **path_options)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        if is_db_url(value):
            return str(value).strip()
        return self.path.convert(value, param, ctx)


config_opt = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Project file (YAML). Default: ./{DEFAULT_PROJECT_FILE} if it exists, else the default profile.",
)
run_config_opt = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Project file (YAML) whose settings to use. Default: those the run was made with (its manifest.json).",
)
overwrite_opt = click.option("--overwrite", is_flag=True, help="Replace outputs that already exist.")


def echo(message: str = "") -> None:
    """Print a line of a command's report on stdout, unless ``-q`` asked for errors only."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (ctx.find_root().obj or {}).get("verbosity", 0) < 0:
        return
    click.echo(message)


def schema_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse an empty schema name (an empty --schema is a mistake, not the default)."""
    if value is not None and not value.strip():
        raise click.BadParameter(_("is empty: give a schema name, or leave --schema out for the default"), param=param)
    return value


run_schema_opt = click.option(
    "--schema", metavar="NAME", callback=schema_name,
    help="With a postgresql:// RUN: the schema `landkit assess --db` wrote (or ?schema=NAME in the URL; default: landkit).",
)
layer_opt = click.option("--layer", help="Layer of the parcel file (GeoPackage, FileGDB with several layers).")
encoding_opt = click.option(
    "--encoding", help="Text encoding of the parcel file, e.g. gbk or utf-8 (default: .cpg, else UTF-8, else GBK)."
)
crs_opt = click.option("--crs", help="CRS of a parcel layer that has none, e.g. EPSG:4490 or EPSG:4549.")
enterprises_opt = click.option(
    "--enterprises", "-e", type=PathOrURL(dir_okay=False),
    help="Enterprise table (.xlsx or .csv), or postgresql://.../db?table=schema.table (or ?query=SELECT ...).",
)
sheet_opt = click.option("--sheet", help="Sheet of the enterprise workbook (default: the first).")
blocks_opt = click.option(
    "--blocks", type=PathOrURL(dir_okay=False), help="Block (sub-park) polygons: a file or a postgresql:// URL."
)
#: PARCELS: a file, or postgresql://user@host:port/db?table=schema.table (or ?query=SELECT ...; --layer names the table).
parcels_arg = click.argument("parcels", required=False, type=PathOrURL())


def input_options(command: _F) -> _F:
    """Add the options naming a project's inputs: PARCELS, -e, --sheet, --blocks, --layer, --encoding, --crs, -c."""
    for option in reversed((parcels_arg, enterprises_opt, sheet_opt, blocks_opt, layer_opt, encoding_opt, crs_opt, config_opt)):
        command = option(command)
    return command


def load_project(
    config_path: Path | None,
    *,
    parcels: Path | str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    enterprises: Path | str | None = None,
    sheet: str | None = None,
    blocks: Path | str | None = None,
    overrides: Path | None = None,
    objections: Path | None = None,
    find_project_file: bool = True,
) -> Project:
    """Load the project file (or the default profile) with the command line's inputs on top.

    Paths given on the command line are relative to the current directory; paths in the
    project file are relative to the file. A ``postgresql://`` URL is kept as given. Without
    ``config_path``, ./landkit.yaml is read when it exists (unless ``find_project_file`` is False:
    the default profile).
    """
    if config_path is None and find_project_file and Path(DEFAULT_PROJECT_FILE).exists():
        config_path = Path(DEFAULT_PROJECT_FILE)
    inputs: dict[str, Any] = {}
    if parcels is not None:
        inputs["parcels"] = _source(parcels, layer=layer, encoding=encoding, crs=crs)
    elif any(v is not None for v in (layer, encoding, crs)):
        inputs["parcels"] = {k: v for k, v in {"layer": layer, "encoding": encoding, "crs": crs}.items() if v}
    if enterprises is not None:
        inputs["enterprises"] = _source(enterprises, sheet=sheet)
    if blocks is not None:
        inputs["blocks"] = _source(blocks)
    for kind, path in (("overrides", overrides), ("objections", objections)):
        if path is not None:
            inputs[kind] = _source(path)
    return load_config(config_path, overrides={"inputs": inputs} if inputs else None)


def run_project(store: RunStore, config_path: Path | None) -> Project:
    """Return the settings to work on a run with: the project file given (-c), else those the run recorded.

    A run's ``manifest.json`` holds the whole configuration it was made with; without a
    manifest (a database run) the default profile is used, with a warning saying so.
    """
    import json
    import logging

    from pydantic import ValidationError

    from landkit.core.errors import ConfigError
    from landkit.io.run_folder import MANIFEST as MANIFEST_NAME

    if config_path is not None:
        return load_project(config_path)
    manifest = store.folder / MANIFEST_NAME if store.folder is not None else None
    if manifest is None or not manifest.exists():
        logging.getLogger("landkit").warning("%s", _("{run} records no settings: using the default profile (give the "
                                                   "project file with -c)").format(run=store.label))
        return load_project(None, find_project_file=False)
    config = json.loads(manifest.read_text(encoding="utf-8")).get("config")
    try:
        return Project.model_validate({**config, "base_dir": str(store.folder)})
    except (ValidationError, ConfigError, TypeError) as exc:  # a run of another landkit version
        raise ConfigError(_("{manifest}: the run's settings do not load in this landkit ({error}); give the project file "
                            "with -c").format(manifest=manifest, error=str(exc).splitlines()[0])) from None


def _source(path: Path | str, **extra: str | None) -> dict[str, Any]:
    if is_db_url(path):  # a whole new source: nothing of the project file's (a file's layer, sheet ...) carries over
        return {"path": str(path), "layer": None, "query": None, "sheet": None, "encoding": None, "crs": None, **extra}
    source: dict[str, Any] = {"path": str(Path(path).expanduser().resolve())}
    source.update({k: v for k, v in extra.items() if v is not None})
    return source
