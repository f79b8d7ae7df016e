"""The demo: every step landkit has, run on the synthetic Minhang sample in ``gis_data/``.

Later steps (rings, scatter, rasters, maps) join :func:`run_demo` as they land.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import landkit
from landkit.assess import OUTPUT_FILES, assess, summary_lines, write_assessment
from landkit.config import load_config
from landkit.dataset import load_dataset
from landkit.errors import InputError
from landkit.output import check_writable
from landkit.progress import Stage, no_stage

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
    stage: Stage = no_stage,
) -> list[Path]:
    """Run the pipeline on the sample project and return the files written."""
    project = load_config(project_file)
    map_path = maps_dir / "minhang_demo.html"
    check_writable([out_dir / name for name in OUTPUT_FILES if name != "map.html"] + [map_path], overwrite=overwrite)
    echo("1/3 reading and checking the inputs …")
    data = load_dataset(project, stage=stage)
    firms = 0 if data.enterprises is None else len(data.enterprises)
    echo(f"    {len(data.parcels):,} parcels, {firms:,} enterprises, "
         f"{len(data.blocks) if data.blocks is not None else 0} blocks; {len(data.issues)} warning(s)")
    echo("2/3 assessing (两评估、一清单、一盘活, 三圈协同, 小而散, rasters) …")
    result = assess(data, project, stage=stage)
    for line in summary_lines(result.summary):
        echo("    " + line)
    echo("3/3 writing the outputs, surfaces, map and report …")
    return write_assessment(out_dir, project, data, result, map_path=map_path, stage=stage)
