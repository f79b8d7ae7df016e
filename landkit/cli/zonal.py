"""`landkit zonal`: exact zonal statistics of rasters over the parcels."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click

from landkit.cli.options import (
    config_opt,
    crs_opt,
    echo,
    encoding_opt,
    layer_opt,
    load_project,
    overwrite_opt,
    parcels_arg,
)
from landkit.config.models import RasterSource
from landkit.core.i18n import _
from landkit.data.dataset import load_dataset
from landkit.deliver.export import export_layer
from landkit.deliver.labels import labels_for, value_labels
from landkit.deliver.manifest import to_output
from landkit.io.write import check_writable, vector_parts
from landkit.metrics.zonal import assess_rasters

#: A statistic of :class:`~landkit.config.models.RasterSource`.
_Statistic = Literal["mean", "sum", "min", "max", "count", "std", "majority"]


@click.command("zonal")
@parcels_arg
@click.option("-r", "--raster", "rasters", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A raster (repeatable); default: the project's inputs.rasters.")
@click.option("--band", type=int, default=1, show_default=True, help="Band of --raster.")
@click.option("--stats", default="mean,sum,min,max,count,std", show_default=True, help="Statistics of --raster, comma-separated.")
@click.option("--categorical", is_flag=True, help="--raster holds classes: report the majority class.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Parcels with the statistics: .gpkg, .shp, .csv or .xlsx.")
@layer_opt
@encoding_opt
@crs_opt
@config_opt
@overwrite_opt
def command(parcels: Path | str | None, rasters: tuple[Path, ...], band: int, stats: str, categorical: bool,
            output: Path, layer: str | None, encoding: str | None, crs: str | None, config_path: Path | None,
            overwrite: bool) -> None:
    """Summarise rasters over PARCELS with exact pixel coverage (a half-covered pixel counts half)."""
    project = load_project(config_path, parcels=parcels, layer=layer, encoding=encoding, crs=crs)
    if project.inputs.parcels is None:
        raise click.UsageError(_("give PARCELS, or a project file (-c) that names inputs.parcels"))
    if rasters:
        wanted = ["majority"] if categorical else [s.strip() for s in stats.split(",") if s.strip()]
        allowed = ("mean", "sum", "min", "max", "count", "std")
        unknown = [s for s in wanted if s not in (*allowed, "majority")]
        if unknown:
            raise click.BadParameter(_("unknown statistic(s) {unknown}; choose from {allowed}").format(
                unknown=", ".join(unknown), allowed=", ".join(allowed)), param_hint="--stats")
        sources = [(RasterSource(name=p.stem, path=str(p), band=band, kind="categorical" if categorical else "continuous",
                                 stats=cast("list[_Statistic]", wanted)), p)  # checked above
                   for p in rasters]
    else:
        sources = [(r, project.resolve(r.path)) for r in project.inputs.rasters]
    if not sources:
        raise click.UsageError(_("no raster: give --raster or list inputs.rasters in the project file"))
    check_writable(vector_parts(output), overwrite=overwrite)
    data = load_dataset(project, rasters=False)
    table = assess_rasters(data.parcels, sources, storey_height_m=project.surfaces.storey_height_m)
    keep = ["parcel_id", "area_m2", data.parcels.geometry.name]
    result = to_output(data.parcels[keep].join(table), project, data)
    for path in export_layer(output, result, labels_for(project), layer_name="zonal", values=value_labels(project)):
        echo(_("Wrote {path}").format(path=path))
