"""A run's provenance and output CRS: the manifest that makes every figure traceable.

The manifest records the inputs (with SHA-256 hashes), the full configuration used and the
landkit version, so any figure can be traced and re-run to the same result.
"""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd

import landkit
from landkit.config.models import Project
from landkit.core.crs import output_crs
from landkit.core.db_url import is_db_url
from landkit.data.dataset import Dataset


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
    """Return the run's manifest: version, time, inputs with hashes, configuration, the columns read."""
    inputs = {}
    for kind, name in data.sources.items():
        path = Path(name)
        shown = name if is_db_url(name) else str(path)  # a database source: its (redacted) URL, no file hash
        inputs[kind] = {"path": shown, "sha256": file_hash(path) if path.exists() else None}
    config = project.model_dump(mode="json", exclude={"base_dir", "explicit_columns"})
    return {
        "landkit_version": landkit.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "inputs": inputs,
        "config_sha256": hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest(),
        "config": config,
        # where the project's relative input paths start: `landkit scenario RUN` reads the inputs again from there
        "project_folder": str(Path(project.base_dir).resolve()),
        # input kind → canonical column → the planner's column it was read from (exports can use their names)
        "source_columns": {kind: dict(report.read) for kind, report in data.columns.items()},
    }


def to_output(layer: gpd.GeoDataFrame, project: Project, data: Dataset) -> gpd.GeoDataFrame:
    """Reproject a working-CRS layer to the configured output CRS."""
    return layer.to_crs(output_crs(project.crs.output, input_crs=data.input_crs, working=project.crs.working))
