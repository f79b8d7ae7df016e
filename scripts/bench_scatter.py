"""Benchmark the 小而散 analysis on a synthetic city, stage by stage.

Loads the synthetic city (default ``/tmp/city50k/minhang.yaml``; with ``--parcels N`` and no
project file a city is generated with ``scripts/make_sample.py`` into a temporary folder), grades
it with ``landkit.pipeline.assess``, then times ``landkit.analyses.scatter.assess_scatter`` ``--repeat``
times and prints the median of each stage, and, in the same run and process, the baseline a
planner would write by hand: one plain ``sindex.nearest(..., exclusive=True)`` query for every
parcel's nearest neighbour.

    python scripts/bench_scatter.py [--project /tmp/city50k/minhang.yaml] [--parcels 50000]
                                    [--repeat 3] [--json bench.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from landkit.analyses.scatter import assess_scatter
from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.pipeline import assess

DEFAULT_PROJECT = Path("/tmp/city50k/minhang.yaml")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def nearest_baseline(parcels) -> None:
    """Every parcel's nearest other parcel and its distance: one plain spatial-index query."""
    parcels.sindex.nearest(parcels.geometry.values, return_all=False, return_distance=True, exclusive=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help=f"project file of the city (default {DEFAULT_PROJECT} if it exists)")
    parser.add_argument("--parcels", type=int, default=50_000, help="parcels of a generated city (no --project)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        project_file = args.project or (DEFAULT_PROJECT if DEFAULT_PROJECT.exists() else None)
        if project_file is None:
            from make_sample import generate, write

            t_gen, datasets = timed(lambda: generate(args.parcels, seed=20250307, year=2025))
            write(datasets, tmp, overwrite=True)
            project_file = Path(tmp) / "minhang.yaml"
            print(f"generated a {args.parcels:,}-parcel city in {t_gen:.1f} s")
        project = load_config(project_file)
        t_load, data = timed(lambda: load_dataset(project))
        t_assess, result = timed(lambda: assess(data, project))
        parcels = result.parcels
        print(f"{project_file}: {len(parcels):,} parcels, {0 if data.blocks is None else len(data.blocks)} blocks; "
              f"load {t_load:.2f} s, assess (grades) {t_assess:.2f} s")

        runs, baseline = [], []
        for _ in range(args.repeat):
            t_base, _ = timed(lambda: nearest_baseline(parcels))
            baseline.append(t_base)
            t_total, scatter = timed(lambda: assess_scatter(parcels, project, blocks=data.blocks))
            runs.append({**scatter.report["seconds"], "total": t_total})

    stages = list(runs[0])
    median = {s: statistics.median(r[s] for r in runs) for s in stages}
    base = statistics.median(baseline)
    print(f"\nassess_scatter, median of {args.repeat} (seconds):")
    for stage in stages:
        print(f"  {stage:<18} {median[stage]:7.3f}")
    print(f"\nbaseline: sindex.nearest(exclusive=True) for every parcel: {base:.3f} s")
    print(f"landkit's nearest distances (pairs from the neighbour graph + nearest for the rest): "
          f"{median['nearest_distance']:.3f} s, neighbour graph {median['neighbour_graph']:.3f} s")
    report = scatter.report
    print(f"\n{report['parcels']:,} parcels: {report['small']:,} small, {report['isolated']:,} isolated, "
          f"{report['scattered']:,} scattered; {report['clusters']:,} clusters; proposals "
          + ", ".join(f"{k} {v['parcels']:,}" for k, v in report["adjustments"].items()))
    table = scatter.before_after.set_index("metric")
    print(f"patches {table.loc['np', 'before']:.0f} → {table.loc['np', 'after']:.0f}, "
          f"入区率 {table.loc['inside_block_pct', 'before']:.2f} % → {table.loc['inside_block_pct', 'after']:.2f} %")
    if args.json:
        args.json.write_text(json.dumps({"parcels": len(parcels), "repeat": args.repeat, "median_s": median,
                                         "baseline_nearest_s": base, "load_s": t_load, "assess_s": t_assess},
                                        indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
