"""One benchmark for the whole pipeline: stage times, peak memory and baselines, per city size.

For each size (default 5,000 and 50,000 parcels; add 500000 with ``--sizes``) a synthetic city
is generated with the sample generator and the whole pipeline is run several times in a fresh
process (so peak memory is that size's own): read, validate, zonal, performance, value, rings,
inventory, scatter, export, workbook, surfaces, map, report — each stage's median. In the same
process and run, the baseline: pyogrio reading the input layers and writing the parcel layer
twice and the blocks (the I/O floor). The table is printed and written as JSON, so a later
change can be compared with an earlier one.

    python scripts/bench.py [--sizes 5000 50000] [--repeat 3] [--json bench.json]

The map and zonal statistics have their own baselines (``geopandas.explore()`` and rasterstats)
in ``scripts/bench_map.py`` and ``scripts/bench_zonal.py``: they take minutes at 50,000 parcels.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSESS_STAGES = ("zonal", "performance", "value", "rings", "inventory", "scatter")
STAGES = ("read", "validate", *ASSESS_STAGES, "export", "workbook", "surfaces", "map", "report")


def run_size(n: int, repeat: int) -> dict:
    """Run the pipeline ``repeat`` times on a city of ``n`` parcels (in this process)."""
    sys.path.insert(0, str(HERE))
    import pyogrio
    from make_sample import write_city

    from landkit.assess import assess, write_assessment
    from landkit.config import load_config
    from landkit.dataset import load_dataset
    from landkit.progress import StageTimer

    timer = StageTimer()
    floors, totals = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        project = load_config(write_city(n, tmp / "city"))
        generate_s = time.perf_counter() - start
        gpkg = tmp / "city" / "minhang.gpkg"
        for i in range(repeat):
            start = time.perf_counter()
            parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
            blocks = pyogrio.read_dataframe(gpkg, layer="blocks", use_arrow=True)
            floor = tmp / f"floor{i}.gpkg"
            for name, frame in (("parcels", parcels), ("inventory", parcels), ("blocks", blocks)):
                pyogrio.write_dataframe(frame, floor, layer=name, use_arrow=True)
            floors.append(time.perf_counter() - start)
            start = time.perf_counter()
            data = load_dataset(project, stage=timer)
            result = assess(data, project, stage=timer)
            write_assessment(tmp / f"run{i}", project, data, result, map_path=tmp / f"run{i}" / "map.html", stage=timer)
            totals.append(time.perf_counter() - start)
    medians = {}
    for name in STAGES:
        runs = timer.seconds.get(name, [])
        if runs:  # `read` runs twice per pipeline run: add its parts per run
            per_run = [sum(runs[k * len(runs) // repeat:(k + 1) * len(runs) // repeat]) for k in range(repeat)]
            medians[name] = statistics.median(per_run)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "parcels": n, "generate_s": generate_s, "stages_s": medians, "total_s": statistics.median(totals),
        "io_floor_s": statistics.median(floors), "peak_mb": peak_mb,
        "assess_s": sum(medians.get(s, 0.0) for s in ("read", "validate", *ASSESS_STAGES, "export")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_size(args.worker, args.repeat)))
        return
    results = []
    for n in args.sizes:  # each size in a fresh process: its own peak memory
        out = subprocess.run([sys.executable, __file__, "--worker", str(n), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"cores: {os.cpu_count()}; medians of {args.repeat} runs")
    header = f"{'stage':<12}" + "".join(f"{r['parcels']:>12,}" for r in results)
    print(header)
    for stage in STAGES:
        print(f"{stage:<12}" + "".join(f"{r['stages_s'].get(stage, float('nan')):>12.2f}" for r in results))
    for key, label in (("assess_s", "assess*"), ("total_s", "total"), ("io_floor_s", "I/O floor"), ("peak_mb", "peak MB")):
        print(f"{label:<12}" + "".join(f"{r[key]:>12.1f}" if key == "peak_mb" else f"{r[key]:>12.2f}" for r in results))
    print(f"{'assess*/floor':<12}" + "".join(f"{r['assess_s'] / r['io_floor_s']:>11.1f}×" for r in results))
    print("assess* = read + validate + zonal + performance + value + rings + inventory + scatter + export (GeoPackage)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
