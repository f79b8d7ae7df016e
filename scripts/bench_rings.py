"""Benchmark the three-ring analysis on a synthetic city.

Times, as medians of several runs on the city's parcels: building the road graph, travel time
for every parcel (one multi-source search plus one nearest-node lookup), and the whole
`assess_rings`; and, as the baseline in the same run, one Dijkstra search per parcel on a sample
of parcels, extrapolated to all of them.

    python scripts/bench_rings.py [--parcels 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_sample import write_city

from landkit.analyses.rings import assess_rings
from landkit.config.load import load_config
from landkit.data.dataset import load_dataset
from landkit.metrics.network import build_road_graph, nearest_nodes, travel_minutes


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-sample", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = load_config(write_city(args.parcels, tmp))
        data = load_dataset(project)
    spec = project.rings
    points = data.parcels.geometry.representative_point()
    runs: dict[str, list[float]] = {"graph": [], "travel": [], "rings": []}
    for _ in range(args.repeat):
        t, graph = timed(lambda: build_road_graph(data.roads, default_speed_kmh=spec.default_speed_kmh,
                                                  fallback_speed_kmh=spec.fallback_speed_kmh, snap_tolerance_m=spec.snap_tolerance_m))
        runs["graph"].append(t)
        t, _ = timed(lambda graph=graph: travel_minutes(graph, points, data.core_sites.geometry, access_speed_kmh=spec.access_speed_kmh,
                                            max_target_snap_m=spec.core_snap_max_m))
        runs["travel"].append(t)
        t, _ = timed(lambda: assess_rings(data.parcels, data.blocks, project, roads=data.roads, core_sites=data.core_sites))
        runs["rings"].append(t)
    # baseline: one search per parcel (to the nearest core node), on a sample
    sample = points.sample(args.baseline_sample, random_state=1)
    nodes, _ = nearest_nodes(graph, sample)
    targets, _ = nearest_nodes(graph, data.core_sites.geometry)
    start = time.perf_counter()
    for node in nodes:
        lengths = nx.single_source_dijkstra_path_length(graph.graph, int(node), weight="minutes")
        min((lengths.get(int(t), float("inf")) for t in targets), default=float("inf"))
    per_parcel = (time.perf_counter() - start) / len(sample) * len(points)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{len(points):,} parcels, {graph.report['nodes']:,} nodes, {graph.report['edges']:,} edges")
    for stage, value in medians.items():
        print(f"{stage:<8} {value:8.2f} s (median of {args.repeat})")
    print(f"one search per parcel (extrapolated from {args.baseline_sample}): {per_parcel:.1f} s "
          f"→ {per_parcel / medians['travel']:.0f}× slower than the multi-source search")


if __name__ == "__main__":
    main()
