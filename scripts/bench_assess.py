"""Benchmark `landkit assess` against the I/O floor on a synthetic city.

Builds a synthetic city with the sample generator (default 50,000 parcels), then times, in the
same run and process, (a) pyogrio merely reading the input layers and writing the same output
layers (the I/O floor) and (b) the whole assessment: load and check, assess, write every output.
Prints the median of each stage over the repeats and the ratio of (b) to (a).

    python scripts/bench_assess.py [--parcels 50000] [--repeat 3] [--json bench.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyogrio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_sample import write_city  # noqa: E402

from landkit.assess import assess, workbook_sheets, write_assessment  # noqa: E402
from landkit.export import write_excel  # noqa: E402
from landkit.labels import labels_for  # noqa: E402
from landkit.config import load_config  # noqa: E402
from landkit.dataset import load_dataset  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def io_floor(gpkg: Path, out: Path) -> None:
    """Read the input layers and write parcels twice (parcels, inventory) and blocks: no work."""
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    blocks = pyogrio.read_dataframe(gpkg, layer="blocks", use_arrow=True)
    if out.exists():
        out.unlink()
    pyogrio.write_dataframe(parcels, out, layer="parcels", use_arrow=True)
    pyogrio.write_dataframe(parcels, out, layer="inventory", use_arrow=True)
    pyogrio.write_dataframe(blocks, out, layer="blocks", use_arrow=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_gen, project_file = timed(lambda: write_city(args.parcels, tmp))
        project = load_config(project_file)
        print(f"synthetic city: {args.parcels:,} parcels generated in {t_gen:.1f} s")
        times: dict[str, list[float]] = {
            "io_floor": [], "load": [], "assess": [], "write": [], "workbook": [], "total": [], "total_no_xlsx": []
        }
        for i in range(args.repeat):
            t, _ = timed(lambda: io_floor(tmp / "minhang.gpkg", tmp / "floor.gpkg"))
            times["io_floor"].append(t)
            t_load, dataset = timed(lambda: load_dataset(project))
            t_assess, result = timed(lambda: assess(dataset, project))
            t_write, _ = timed(lambda: write_assessment(tmp / f"run{i}", project, dataset, result, workbook=False))
            sheets = workbook_sheets(project, result)
            t_book, _ = timed(lambda: write_excel(tmp / f"run{i}" / "inventory.xlsx", sheets, labels_for(project)))
            times["load"].append(t_load)
            times["assess"].append(t_assess)
            times["write"].append(t_write)
            times["workbook"].append(t_book)
            times["total_no_xlsx"].append(t_load + t_assess + t_write)
            times["total"].append(t_load + t_assess + t_write + t_book)
        medians = {k: statistics.median(v) for k, v in times.items()}
        ratio = medians["total"] / medians["io_floor"]
        cells = sum(s.shape[0] * s.shape[1] for s in sheets.values())
        print(f"{'stage':<10} {'median s':>9}   (runs: {args.repeat})")
        for stage, value in medians.items():
            print(f"{stage:<10} {value:>9.2f}")
        print(f"workbook: {cells:,} cells")
        print(f"assess / I/O floor = {ratio:.1f}× (without the Excel workbook: {medians['total_no_xlsx'] / medians['io_floor']:.1f}×)")
        if args.json:
            args.json.write_text(json.dumps({"parcels": args.parcels, "medians_s": medians, "ratio": ratio, "cells": cells}, indent=2))


if __name__ == "__main__":
    main()
