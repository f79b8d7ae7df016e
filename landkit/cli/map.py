"""`landkit map`: the interactive map of a run, as one HTML file that opens offline."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import config_opt, load_project, overwrite_opt
from landkit.errors import InputError
from landkit.output import check_writable
from landkit.webmap import BASEMAPS, build_map, layers_from_run, write_map


@click.command("map")
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="HTML file (default: RUN/map.html).")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Label language (default: the project's, zh).")
@click.option("--basemap", type=click.Choice(list(BASEMAPS)), help="none (offline, default), osm, amap (GCJ-02), tianditu.")
@click.option("--tianditu-key", help="Your Tianditu key, for --basemap tianditu.")
@click.option("--cdn", is_flag=True, help="Link Leaflet from its CDN instead of inlining it (needs internet).")
@config_opt
@overwrite_opt
def command(run: Path, output: Path | None, lang, basemap, tianditu_key, cdn, config_path, overwrite) -> None:
    """Draw RUN (an output folder of `landkit assess`, or its landkit.gpkg) as an interactive map."""
    gpkg = run / "landkit.gpkg" if run.is_dir() else run
    if not gpkg.exists():
        raise InputError(f"{gpkg}: no landkit.gpkg here; give the folder `landkit assess -o` wrote")
    output = output or gpkg.parent / "map.html"
    check_writable([output], overwrite=overwrite)
    project = load_project(config_path)
    html = build_map(layers_from_run(gpkg), project, lang=lang, basemap=basemap, tianditu_key=tianditu_key, cdn=cdn)
    write_map(output, html)
    click.echo(f"Wrote {output} ({len(html.encode()) / 1e6:.1f} MB)")
