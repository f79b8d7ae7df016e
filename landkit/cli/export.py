"""`landkit export`: a layer of a run's GeoPackage as shapefile, GeoPackage, GeoJSON, Excel or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.cli.options import PathOrURL, config_opt, load_project, overwrite_opt, run_schema_opt
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.deliver.export import NAME_STYLES, default_name_style, export_files, export_layer, read_source_names
from landkit.deliver.labels import labels_for, value_labels
from landkit.io.runs import list_layers, open_run, read_layer
from landkit.io.write import check_writable

ENCODING_HELP = (
    "Shapefile text encoding. GBK, the default: ArcGIS on Chinese Windows reads it, QGIS and GDAL by the .cpg, "
    "and a field name holds 5 Chinese characters; GB18030 also keeps the characters GBK cannot; UTF-8 leaves "
    "3 Chinese characters to a field name, so its names are English unless --names asks."
)
NAMES_HELP = (
    "Field names. source (the default): the planner's own names for the columns the run read from their files "
    "(宗地编号, 使用现状) and Chinese names for landkit's computed ones (评价等级, 综合得分, 亩均税收), as a planner "
    "reads them; zh: landkit's Chinese names for every column; en: landkit's English names, as before. A shapefile's "
    "names are cut to 10 bytes, and NAME_fields.csv beside it gives each in full (beside a .gpkg or .geojson too, "
    "unless en). Default en with --lang en, and for a UTF-8 shapefile (3 Chinese characters are too few to read). "
    "Excel and CSV headers stay labelled in --lang (Chinese with units), with the planner's names on their columns "
    "only when --names source asks."
)


@click.command("export")
@click.argument("run", type=PathOrURL(exists=True))
@click.option("--layer", default="inventory", show_default=True, help="Layer of the run's GeoPackage (or table of its schema).")
@run_schema_opt
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .shp, .gpkg, .geojson, .xlsx or .csv.")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk", "gb18030"], case_sensitive=False), default="gbk",
              show_default=True, help=ENCODING_HELP)
@click.option("--names", type=click.Choice(NAME_STYLES), default=None, help=NAMES_HELP)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language (Excel, CSV).")
@config_opt
@overwrite_opt
def command(run: Path | str, layer: str, schema: str | None, output: Path, encoding: str, names: str | None, lang: str,
            config_path: Path | None, overwrite: bool) -> None:
    """Export LAYER of RUN (an output folder, its landkit.gpkg, or postgresql://.../db?schema=NAME
    that `landkit assess --db` wrote) to another format."""
    store = open_run(run, schema=schema)
    layers = list_layers(store)
    if layer not in layers:
        raise InputError(_("{run} has no layer `{layer}`; layers: {layers}").format(
            run=store.label, layer=layer, layers=", ".join(layers)))
    style = names or default_name_style(output, lang=lang, encoding=encoding)
    check_writable(export_files(output, style), overwrite=overwrite)
    frame = read_layer(store, layer)
    project = load_project(config_path)
    labels = labels_for(project)
    sources = read_source_names(store.folder, layer)
    for path in export_layer(output, frame, labels, encoding=encoding, lang=lang, layer_name=layer,
                             values=value_labels(project, lang), names=style, sources=sources):
        click.echo(_("Wrote {path}").format(path=path))
