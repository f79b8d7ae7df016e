"""A run's outputs: the GeoPackage of layers, the summary and the manifest that makes it traceable.

The manifest records the inputs (with SHA-256 hashes), the full configuration used and the
landkit version, so any figure can be traced and re-run to the same result.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

import landkit
from landkit.config import Project
from landkit.crs import output_crs
from landkit.dataset import Dataset
from landkit.output import write_json, write_layers

GPKG_NAME = "landkit.gpkg"


def parcel_summary(data: Dataset) -> dict[str, Any]:
    """Return headline counts and areas of the loaded dataset."""
    parcels = data.parcels
    inside = parcels["inside_block"] if "inside_block" in parcels else pd.Series(False, index=parcels.index)
    area = parcels["area_m2"]
    return {
        "parcels": int(len(parcels)),
        "area_ha": float(area.sum() / 10_000),
        "area_mu": float(parcels["area_mu"].sum()),
        "blocks": int(len(data.blocks)) if data.blocks is not None else 0,
        "inside_block_share": float(area[inside.astype(bool)].sum() / area.sum()) if area.sum() else 0.0,
        "enterprises": int(len(data.enterprises)) if data.enterprises is not None else 0,
        "warnings": len(data.issues) - len(data.errors),
    }


def file_hash(path: Path) -> str:
    """Return the SHA-256 of a file (of all its parts for a shapefile), as hex."""
    path = Path(path)
    digest = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts = sorted(p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    for part in parts:
        with open(part, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def manifest(project: Project, data: Dataset) -> dict[str, Any]:
    """Return the run's manifest: version, time, inputs with hashes, configuration."""
    inputs = {}
    for kind, name in data.sources.items():
        path = Path(name)
        inputs[kind] = {"path": str(path), "sha256": file_hash(path) if path.exists() else None}
    config = project.model_dump(mode="json", exclude={"base_dir", "explicit_columns"})
    return {
        "landkit_version": landkit.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "inputs": inputs,
        "config_sha256": hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest(),
        "config": config,
    }


def to_output(layer: gpd.GeoDataFrame, project: Project, data: Dataset) -> gpd.GeoDataFrame:
    """Reproject a working-CRS layer to the configured output CRS."""
    return layer.to_crs(output_crs(project.crs.output, input_crs=data.input_crs, working=project.crs.working))


def write_run(
    out_dir: Path,
    project: Project,
    data: Dataset,
    *,
    layers: Mapping[str, pd.DataFrame],
    summary: dict[str, Any],
) -> list[Path]:
    """Write the run's GeoPackage (parcels, blocks and ``layers``), summary.json and manifest.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_layers: dict[str, pd.DataFrame] = {"parcels": data.parcels}
    if data.blocks is not None:
        all_layers["blocks"] = data.blocks
    all_layers.update(layers)
    all_layers = {
        name: to_output(frame, project, data) if isinstance(frame, gpd.GeoDataFrame) else frame
        for name, frame in all_layers.items()
    }
    gpkg = write_layers(out_dir / GPKG_NAME, all_layers)
    return [gpkg, write_json(out_dir / "summary.json", summary), write_json(out_dir / "manifest.json", manifest(project, data))]
