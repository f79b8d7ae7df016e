"""`landkit export`: a layer of a run's GeoPackage as shapefile, GeoPackage, GeoJSON, Excel or CSV."""

from __future__ import annotations

from pathlib import Path

import click
import pyogrio

from landkit.cli.options import config_opt, load_project, overwrite_opt
from landkit.errors import InputError
from landkit.export import export_layer
from landkit.labels import labels_for
from landkit.output import check_writable, vector_parts


@click.command("export")
@click.argument("run", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--layer", default="inventory", show_default=True, help="Layer of the run's GeoPackage.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .shp, .gpkg, .geojson, .xlsx or .csv.")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"], case_sensitive=False), default="utf-8",
              show_default=True, help="Shapefile text encoding (GBK for ArcGIS on Chinese Windows).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language (Excel, CSV).")
@config_opt
@overwrite_opt
def command(run: Path, layer: str, output: Path, encoding: str, lang: str, config_path, overwrite: bool) -> None:
    """Export LAYER of RUN (an output folder or its landkit.gpkg) to another format."""
    gpkg = run / "landkit.gpkg" if run.is_dir() else run
    if not gpkg.exists():
        raise InputError(f"{gpkg}: no landkit.gpkg here; give the folder `landkit assess -o` wrote")
    layers = [str(name) for name, _ in pyogrio.list_layers(gpkg)]
    if layer not in layers:
        raise InputError(f"{gpkg} has no layer `{layer}`; layers: {', '.join(layers)}")
    check_writable(vector_parts(output) + ([output.with_name(output.stem + "_fields.csv")] if output.suffix.lower() == ".shp" else []), overwrite=overwrite)
    frame = pyogrio.read_dataframe(gpkg, layer=layer, use_arrow=True)
    labels = labels_for(load_project(config_path))
    for path in export_layer(output, frame, labels, encoding=encoding, lang=lang, layer_name=layer):
        click.echo(f"Wrote {path}")
