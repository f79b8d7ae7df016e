"""Benchmark `landkit scenario`: ten policy variants on a synthetic city, against assessing each one on its own.

Loads the city once (default ``/tmp/cities/city50000/minhang.yaml``; with no project file a
city of ``--parcels`` is generated with ``scripts/make_sample.py``), then, ``--repeat`` times,
runs the base and ten variants the way `landkit scenario` does (:func:`run_scenarios`: the
variants share every stage their settings leave alone) and writes the outputs; and, in the same
run and process, the baseline: one variant assessed from scratch (:func:`landkit.pipeline.assess`
without reuse), what each variant would cost if the variants shared nothing. Prints medians and
the ratio; the issue's target is ten variants on 50,000 parcels in under a minute on 2 cores.

    python scripts/bench_scenarios.py [--project FILE] [--parcels 50000] [--repeat 3] [--json bench.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.decide.scenarios import Variant, run_scenarios, variant_project
from landkit.decide.write import write_scenarios
from landkit.pipeline import assess

DEFAULT_PROJECT = Path("/tmp/cities/city50000/minhang.yaml")
SHARES = {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05}

#: Ten variants of the kinds planners argue about: weights, shares, benchmarks, the list, the paths' standards.
VARIANTS = [
    Variant("huaian_shares", {"assessment.grading.rank_shares": {"A": 0.20, "B": 0.40, "C": 0.35, "D": 0.05}}),
    Variant("d_10pct", {"assessment.grading.rank_shares": {"A": 0.25, "B": 0.40, "C": 0.25, "D": 0.10}}),
    Variant("a_20pct", {"assessment.grading.rank_shares": {"A": 0.20, "B": 0.50, "C": 0.25, "D": 0.05}}),
    Variant("tax_45", {"assessment.tracks.large.weights": {"tax_per_mu": 45, "value_added_per_mu": 15, "va_per_energy": 15,
                                                            "va_per_emission": 10, "labour_productivity": 5, "rd_intensity": 10}}),
    Variant("rd_20", {"assessment.tracks.large.weights": {"tax_per_mu": 25, "value_added_per_mu": 20, "va_per_energy": 15,
                                                           "va_per_emission": 10, "labour_productivity": 10, "rd_intensity": 20}}),
    Variant("small_tax_70", {"assessment.tracks.small.weights": {"tax_per_mu": 70, "tax_per_kwh": 30}}),
    Variant("tax_bench_150", {"assessment.tracks.large.benchmarks.tax_per_mu": 150}),
    Variant("list_d_only", {"inventory.classes": ["D"]}),
    Variant("target_far_2_21", {"disposal.params.target_far": 2.21}),
    Variant("reduction_50", {"valuation.compensation.reduction_wan_per_mu": 50}),
]


@contextlib.contextmanager
def _stage(seconds: dict[str, float], name: str) -> Iterator[None]:
    """Time a stage into ``seconds``."""
    start = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - start


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


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
        print(f"{project_file}: {len(data.parcels):,} parcels; load and check (once) {t_load:.2f} s")

        runs: list[dict[str, float]] = []
        alone: list[float] = []
        variant = variant_project(project, VARIANTS[3], source="bench")  # a weight change: performance onward
        for k in range(args.repeat):
            seconds: dict[str, float] = {}
            start = time.perf_counter()
            run = run_scenarios(data, project, VARIANTS, source="bench", stage=partial(_stage, seconds))
            t_run = time.perf_counter() - start
            start = time.perf_counter()
            write_scenarios(Path(tmp) / f"out{k}", run, project, data)
            t_write = time.perf_counter() - start
            base = seconds.pop("基准")
            runs.append({"base": base, "variants": sum(seconds.values()), "per_variant": statistics.median(seconds.values()),
                         "write": t_write, "total": t_run + t_write})
            start = time.perf_counter()
            assess(data, variant)
            alone.append(time.perf_counter() - start)

    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    one = statistics.median(alone)
    total = t_load + median["total"]
    print(f"\nmedian of {args.repeat} (seconds), {len(VARIANTS)} variants:")
    for key, value in median.items():
        print(f"  {key:<12} {value:8.2f}")
    print(f"  {'load (once)':<12} {t_load:8.2f}")
    print(f"\nscenario command (load + base + {len(VARIANTS)} variants + outputs): {total:.1f} s (target < 60 s)")
    print(f"baseline: one variant assessed on its own: {one:.2f} s; shared variant / on its own = "
          f"{median['per_variant'] / one:.2f}; all {len(VARIANTS) + 1} assessed on their own would take ~"
          f"{t_load + (len(VARIANTS) + 1) * one + median['write']:.1f} s ({(t_load + (len(VARIANTS) + 1) * one + median['write']) / total:.1f}× this)")
    if args.json:
        args.json.write_text(json.dumps({"parcels": len(data.parcels), "variants": len(VARIANTS), "repeat": args.repeat,
                                         "median_s": median, "load_s": t_load, "total_s": total, "alone_s": one},
                                        indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
