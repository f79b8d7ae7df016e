"""`landkit rings`: the three-ring analysis of a run, written into its GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click
import pyogrio

from landkit.cli.options import config_opt, load_project
from landkit.errors import InputError
from landkit.output import atomic_path, write_json
from landkit.rings import assess_rings


@click.command("rings")
@click.argument("run", type=click.Path(exists=True, path_type=Path))
@config_opt
def command(run: Path, config_path: Path | None) -> None:
    """Add the three rings to RUN (an output folder of `landkit assess`, or its landkit.gpkg).

    Uses the run's parcels (with their scores), blocks, roads and core sites, and the ring
    definitions of the project file (-c): writes the layers `rings` and `linkage`, the parcel
    columns ring, ring_modelled, travel_min_to_core, function_fit, and RUN/rings.json.
    """
    import shutil

    gpkg = run / "landkit.gpkg" if run.is_dir() else run
    if not gpkg.exists():
        raise InputError(f"{gpkg}: no landkit.gpkg here; give the folder `landkit assess -o` wrote")
    project = load_project(config_path)
    if not project.rings.designated:
        raise InputError("the project defines no rings: list each ring's blocks under rings.designated")
    present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    for needed in ("parcels", "blocks"):
        if needed not in present:
            raise InputError(f"{gpkg} has no `{needed}` layer; run `landkit assess` with blocks first")
    read = {name: pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True).to_crs(project.crs.working)
            for name in ("parcels", "blocks", "roads", "core_sites") if name in present}
    parcels = read["parcels"]
    result = assess_rings(parcels.drop(columns=[c for c in ("ring", "ring_modelled", "travel_min_to_core", "function_fit",
                                                            "function_misfit_reason") if c in parcels]),
                          read["blocks"], project, roads=read.get("roads"), core_sites=read.get("core_sites"))
    out_crs = pyogrio.read_info(gpkg, layer="parcels")["crs"]
    updated = parcels.drop(columns=[c for c in result.parcels.columns if c in parcels]).join(result.parcels)
    with atomic_path(gpkg) as tmp:
        shutil.copyfile(gpkg, tmp)
        layers = {"parcels": updated, "rings": result.rings, "linkage": result.linkage}
        for name, frame in layers.items():
            if len(frame):
                pyogrio.write_dataframe(frame.to_crs(out_crs), tmp, layer=name, driver="GPKG",
                                        layer_options={"OVERWRITE": "YES"})
        profile = result.profiles
        pyogrio.write_dataframe(profile, tmp, layer="ring_profiles", driver="GPKG", layer_options={"OVERWRITE": "YES"})
    summary = {"profiles": profile.to_dict("records"), "disagreements": result.disagreements.to_dict("records"), **result.report}
    write_json(gpkg.parent / "rings.json", summary)
    click.echo(f"Rings written into {gpkg} (layers rings, linkage, ring_profiles) and {gpkg.parent / 'rings.json'}")
    for row in result.disagreements.itertuples():
        click.echo(f"  {row.block_id}: {row.reason}")
