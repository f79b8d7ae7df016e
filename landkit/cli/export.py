"""`landkit export`: a layer of a run's GeoPackage as shapefile, GeoPackage, GeoJSON, Excel or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import PathOrURL, config_opt, load_project, overwrite_opt, run_schema_opt
from landkit.errors import InputError
from landkit.export import export_layer
from landkit.labels import labels_for, value_labels
from landkit.output import check_writable, vector_parts
from landkit.runs import list_layers, open_run, read_layer


@click.command("export")
@click.argument("run", type=PathOrURL(exists=True))
@click.option("--layer", default="inventory", show_default=True, help="Layer of the run's GeoPackage (or table of its schema).")
@run_schema_opt
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .shp, .gpkg, .geojson, .xlsx or .csv.")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk", "gb18030"], case_sensitive=False), default="utf-8",
              show_default=True, help="Shapefile text encoding (GBK for ArcGIS on Chinese Windows; GB18030 keeps "
              "every character GBK cannot).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language (Excel, CSV).")
@config_opt
@overwrite_opt
def command(run, layer: str, schema, output: Path, encoding: str, lang: str, config_path, overwrite: bool) -> None:
    """Export LAYER of RUN (an output folder, its landkit.gpkg, or postgresql://.../db?schema=NAME
    that `landkit assess --db` wrote) to another format."""
    store = open_run(run, schema=schema)
    layers = list_layers(store)
    if layer not in layers:
        raise InputError(f"{store.label} has no layer `{layer}`; layers: {', '.join(layers)}")
    check_writable(vector_parts(output) + ([output.with_name(output.stem + "_fields.csv")] if output.suffix.lower() == ".shp" else []), overwrite=overwrite)
    frame = read_layer(store, layer)
    project = load_project(config_path)
    labels = labels_for(project)
    for path in export_layer(output, frame, labels, encoding=encoding, lang=lang, layer_name=layer,
                             values=value_labels(project, lang)):
        click.echo(f"Wrote {path}")
