"""`landkit scatter`: the small-and-scattered analysis of a run, written into its GeoPackage."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pyogrio

from landkit.cli.options import config_opt, load_project
from landkit.errors import InputError
from landkit.output import atomic_path, write_json
from landkit.scatter import PARCEL_COLUMNS, assess_scatter


@click.command("scatter")
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@config_opt
def command(run: Path, config_path: Path | None) -> None:
    """Add 小而散 to RUN (an output folder of `landkit assess`, or its landkit.gpkg).

    Writes the parcel columns small, isolated, cluster_id, nn_distance_m, adjustment, the layer
    `clusters`, the tables `scatter_metrics` and `scatter_before_after`, and RUN/scatter.json.
    """
    gpkg = run / "landkit.gpkg" if run.is_dir() else run
    if not gpkg.exists():
        raise InputError(f"{gpkg}: no landkit.gpkg here; give the folder `landkit assess -o` wrote")
    project = load_project(config_path)
    present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    if "parcels" not in present:
        raise InputError(f"{gpkg} has no `parcels` layer; run `landkit assess` first")
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    out_crs = parcels.crs
    blocks = pyogrio.read_dataframe(gpkg, layer="blocks", use_arrow=True).to_crs(project.crs.working) if "blocks" in present else None
    result = assess_scatter(parcels.to_crs(project.crs.working), project, blocks=blocks)
    updated = parcels.drop(columns=[c for c in PARCEL_COLUMNS if c in parcels]).join(result.parcels)
    with atomic_path(gpkg) as tmp:
        shutil.copyfile(gpkg, tmp)
        options = {"OVERWRITE": "YES"}
        pyogrio.write_dataframe(updated, tmp, layer="parcels", driver="GPKG", layer_options=options)
        if len(result.clusters):
            pyogrio.write_dataframe(result.clusters.to_crs(out_crs), tmp, layer="clusters", driver="GPKG", layer_options=options)
        pyogrio.write_dataframe(result.metrics, tmp, layer="scatter_metrics", driver="GPKG", layer_options=options)
        pyogrio.write_dataframe(result.before_after, tmp, layer="scatter_before_after", driver="GPKG", layer_options=options)
    write_json(gpkg.parent / "scatter.json", {"before_after": result.before_after.to_dict("records"), "report": result.report})
    click.echo(f"小而散 written into {gpkg} (layers clusters, scatter_metrics, scatter_before_after)")
    for row in result.before_after.itertuples():
        click.echo(f"  {row.metric}: {row.before:,.2f} → {row.after:,.2f}")
