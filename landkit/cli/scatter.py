"""`landkit scatter`: the small-and-scattered analysis of a run, written into its GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd

from landkit.analyses.scatter import PARCEL_COLUMNS, assess_scatter
from landkit.cli.options import PathOrURL, echo, run_config_opt, run_project, run_schema_opt
from landkit.cli.relist import relisted, restyled
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.io.runs import list_layers, open_run, read_layer, replace_layers
from landkit.io.write import write_json


@click.command("scatter")
@click.argument("run", type=PathOrURL(exists=True))
@run_schema_opt
@run_config_opt
def command(run: Path | str, schema: str | None, config_path: Path | None) -> None:
    """Add 小而散 to RUN (an output folder of `landkit assess`, its landkit.gpkg, or
    postgresql://.../db?schema=NAME that `landkit assess --db` wrote), with the settings the run
    was made with (or those of the project file given with -c).

    Writes the parcel columns small, isolated, sporadic, cluster_id, nn_distance_m, adjustment,
    the layer `clusters`, the tables `scatter_metrics` and `scatter_before_after`, and
    RUN/scatter.json; the list, the watch table, the paths and summary.json are recomputed.
    """
    store = open_run(run, schema=schema)
    project = run_project(store, config_path)
    present = set(list_layers(store))
    if "parcels" not in present:
        raise InputError(_("{run} has no `parcels` layer; run `landkit assess` first").format(run=store.label))
    parcels = read_layer(store, "parcels")
    out_crs = parcels.crs
    blocks = read_layer(store, "blocks").to_crs(project.crs.working) if "blocks" in present else None
    result = assess_scatter(parcels.to_crs(project.crs.working), project, blocks=blocks)
    updated = parcels.drop(columns=[c for c in PARCEL_COLUMNS if c in parcels]).join(result.parcels.set_axis(parcels.index))
    # the list's reasons and the paths read `small`, `isolated`, `sporadic`: recompute them
    layers, tables = relisted(store, updated, project, blocks=blocks)
    layers = {name: frame.to_crs(out_crs) for name, frame in layers.items()}
    if len(result.clusters):
        layers["clusters"] = result.clusters.to_crs(out_crs)
    layers.update(tables, scatter_metrics=result.metrics, scatter_before_after=result.before_after)
    layers["layer_styles"] = restyled(store, project, {n: f for n, f in layers.items() if isinstance(f, gpd.GeoDataFrame)})
    replace_layers(store, layers)
    if store.folder is not None:
        write_json(store.folder / "scatter.json", {"before_after": result.before_after.to_dict("records"), "report": result.report})
        echo(_("小而散 written into {gpkg} (layers clusters, scatter_metrics, scatter_before_after)").format(gpkg=store.gpkg))
    else:
        echo(_("小而散 written into {run} (tables clusters, scatter_metrics, scatter_before_after)").format(run=store.label))
    for row in result.before_after.itertuples():
        echo(f"  {row.metric}: {row.before:,.2f} → {row.after:,.2f}")
