"""The demo: every step landkit has, run on the synthetic Minhang sample in ``gis_data/``.

Later steps (assessment, rings, scatter, rasters, maps) join :func:`run_demo` as they land.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import landkit
from landkit.config import load_config
from landkit.dataset import load_dataset
from landkit.errors import InputError
from landkit.output import check_writable
from landkit.results import parcel_summary, write_run

SAMPLE_PROJECT = "minhang.yaml"


def find_sample(data_dir: Path | None = None) -> Path:
    """Return the sample project file: in ``data_dir``, else ./gis_data, else beside the package."""
    candidates = [data_dir] if data_dir else [Path("gis_data"), Path(landkit.__file__).resolve().parent.parent / "gis_data"]
    for folder in candidates:
        if folder is not None and (folder / SAMPLE_PROJECT).exists():
            return folder / SAMPLE_PROJECT
    where = ", ".join(str(c) for c in candidates)
    raise InputError(
        f"sample project {SAMPLE_PROJECT} not found in {where}; run from the landkit checkout or pass --data "
        "(regenerate it with `python scripts/make_sample.py`)"
    )


def run_demo(
    project_file: Path,
    out_dir: Path,
    *,
    maps_dir: Path,
    overwrite: bool = False,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    """Run the pipeline on the sample project and return the files written."""
    project = load_config(project_file)
    targets = [out_dir / "landkit.gpkg", out_dir / "summary.json", out_dir / "manifest.json"]
    check_writable(targets, overwrite=overwrite)
    data = load_dataset(project)
    summary = parcel_summary(data)
    echo(
        f"{summary['parcels']:,} parcels, {summary['area_ha']:,.1f} ha "
        f"({summary['inside_block_share']:.0%} of the area inside the {summary['blocks']} blocks), "
        f"{summary['enterprises']:,} enterprises"
    )
    return write_run(out_dir, project, data, layers={}, summary=summary)
