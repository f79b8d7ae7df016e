"""`landkit map`: the interactive map of a run, as one HTML file that opens offline."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import PathOrURL, echo, overwrite_opt, run_config_opt, run_project, run_schema_opt
from landkit.core.i18n import _
from landkit.deliver.webmap import BASEMAPS, build_map, layers_from_run, write_map
from landkit.io.runs import open_run
from landkit.io.write import check_writable


@click.command("map")
@click.argument("run", type=PathOrURL(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file (default: RUN/map.html; required for a database run).")
@run_schema_opt
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Label language (default: the project's, zh).")
@click.option("--basemap", type=click.Choice(list(BASEMAPS)), help="none (offline, default), osm, amap (GCJ-02), tianditu.")
@click.option("--tianditu-key", help="Your Tianditu key, for --basemap tianditu.")
@click.option("--cdn", is_flag=True, help="Link Leaflet from its CDN instead of inlining it (needs internet).")
@run_config_opt
@overwrite_opt
def command(run: Path | str, output: Path | None, schema: str | None, lang: str | None, basemap: str | None,
            tianditu_key: str | None, cdn: bool, config_path: Path | None, overwrite: bool) -> None:
    """Draw RUN (an output folder of `landkit assess`, its landkit.gpkg, or
    postgresql://.../db?schema=NAME that `landkit assess --db` wrote) as an interactive map."""
    store = open_run(run, schema=schema)
    if output is None:
        if store.folder is None:
            raise click.UsageError(_("a run in a database has no folder: give the HTML file with -o"))
        output = store.folder / "map.html"
    check_writable([output], overwrite=overwrite)
    project = run_project(store, config_path)
    html = build_map(layers_from_run(store), project, lang=lang, basemap=basemap, tianditu_key=tianditu_key, cdn=cdn)
    write_map(output, html)
    echo(_("Wrote {path} ({size:.1f} MB)").format(path=output, size=len(html.encode()) / 1e6))
