"""`landkit rings`: the three-ring analysis of a run, written into its GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click

from landkit.analyses.rings import assess_rings
from landkit.cli.options import PathOrURL, echo, run_config_opt, run_project, run_schema_opt
from landkit.cli.relist import relisted, restyled
from landkit.core.errors import InputError
from landkit.core.i18n import _
from landkit.io.runs import list_layers, open_run, read_layer, replace_layers
from landkit.io.write import write_json


@click.command("rings")
@click.argument("run", type=PathOrURL(exists=True))
@run_schema_opt
@run_config_opt
def command(run: Path | str, schema: str | None, config_path: Path | None) -> None:
    """Add the three rings to RUN (an output folder of `landkit assess`, its landkit.gpkg, or
    postgresql://.../db?schema=NAME that `landkit assess --db` wrote).

    Uses the run's parcels (with their scores), blocks, roads and core sites, and the ring
    definitions the run was made with (or those of the project file given with -c): writes the layers `rings` and `linkage`, the parcel
    columns ring, ring_modelled, travel_min_to_core, function_fit, and RUN/rings.json; the list,
    the watch table, the paths and summary.json are recomputed from the new columns.
    """
    store = open_run(run, schema=schema)
    project = run_project(store, config_path)
    if not project.rings.designated:
        raise InputError(_("the project defines no rings: list each ring's blocks under rings.designated"))
    present = set(list_layers(store))
    for needed in ("parcels", "blocks"):
        if needed not in present:
            raise InputError(_("{run} has no `{layer}` layer; run `landkit assess` with blocks first").format(
                run=store.label, layer=needed))
    stored = {name: read_layer(store, name) for name in ("parcels", "blocks", "roads", "core_sites") if name in present}
    out_crs = stored["parcels"].crs
    read = {name: frame.to_crs(project.crs.working) for name, frame in stored.items()}
    parcels = read["parcels"]
    result = assess_rings(parcels.drop(columns=[c for c in ("ring", "ring_modelled", "travel_min_to_core", "function_fit",
                                                            "function_misfit_reason") if c in parcels]),
                          read["blocks"], project, roads=read.get("roads"), core_sites=read.get("core_sites"))
    updated = parcels.drop(columns=[c for c in result.parcels.columns if c in parcels]).join(result.parcels)
    # the list's reasons and the paths read `ring` and `function_fit`: recompute them, never leave them stale
    layers, tables = relisted(store, updated, project, blocks=read["blocks"])
    layers.update({name: frame for name, frame in {"rings": result.rings, "linkage": result.linkage}.items() if len(frame)})
    layers = {name: frame.to_crs(out_crs) for name, frame in layers.items()}
    profile = result.profiles
    replace_layers(store, {**layers, **tables, "ring_profiles": profile, "layer_styles": restyled(store, project, layers)})
    written = ", ".join(n for n in (*layers, "ring_profiles") if n != "parcels")
    if store.folder is not None:
        summary = {"profiles": profile.to_dict("records"), "disagreements": result.disagreements.to_dict("records"), **result.report}
        write_json(store.folder / "rings.json", summary)
        echo(_("Rings written into {gpkg} (layers {layers}) and {json}").format(
            gpkg=store.gpkg, layers=written, json=store.folder / "rings.json"))
    else:
        echo(_("Rings written into {run} (tables {tables})").format(run=store.label, tables=written))
    for row in result.disagreements.itertuples():
        echo(f"  {row.block_id}: {row.reason}")
