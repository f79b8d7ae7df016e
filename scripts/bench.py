"""One benchmark for the whole pipeline: stage times, peak memory, engines and baselines, per city size.

For each size (default 5,000, 50,000 and 500,000 parcels) a synthetic city is generated with
the sample generator (or reused from ``--cities DIR``) and, in a fresh process (so peak memory
is that size's own), the whole pipeline runs ``--repeat`` times: read, validate, zonal,
performance, value, rings, inventory, scatter, export, workbook, surfaces, map, report — each
stage's median. In the same process and run:

* the I/O floor: pyogrio (Arrow) reading the input layers and writing the parcel layer twice
  (parcels and inventory) and the blocks;
* the stages' floors, each printed with the stage's ratio to it: the read floor (pyogrio,
  python-calamine and pandas reading every input file as it is), against read + validate; the
  export floor (pyogrio's Arrow write of the run GeoPackage's very frames), against the export;
* the engines (``--engines local dask``): ``assess()`` alone on the same loaded data, on the
  single-machine engine and on a local Dask cluster (one worker process per core; its start-up
  is timed apart, and the workers' peak memory is reported);
* up to ``--baseline-max`` parcels, two wall times, each in a fresh process as the command runs
  (after its imports, and the whole process): the assessment proper (load, assess, the run's
  GeoPackage and summary) and ``landkit assess`` without the map (every other output);
  and the plain tools: rasterstats for the zonal statistics of the
  same rasters (``boundless=False``, its fastest mode), and ``geopandas.explore()`` for the map
  (HTML rendered, size compared; the browser-load comparison is ``scripts/bench_map.py``).

The table is printed and written as JSON (``--json``), so a later change can be compared with an
earlier one. ``--assess-only`` skips the outputs (for 2,000,000 parcels: engines only).
The baselines need the ``bench`` extra and the Dask engine the ``dask`` extra: both are checked
before any work (``--baseline-max 0`` and ``--engines local`` do without them).

    python scripts/bench.py [--sizes 5000 50000 500000] [--repeat 3] [--engines local dask] [--json bench.json]
    python scripts/bench.py --sizes 2000000 --repeat 1 --assess-only --cities /tmp/cities
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
ASSESS_STAGES = ("zonal", "performance", "value", "rings", "scatter", "inventory", "assembly", "plan")
STAGES = ("read", "validate", *ASSESS_STAGES, "export", "workbook", "surfaces", "map", "report")
TOOLTIP = ["parcel_id", "grade", "score"]


def _vm_hwm_mb() -> float:
    """This process's peak resident memory (MB) from /proc/self/status (reset by exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class SystemMemory:
    """Peak memory in use on the whole machine (MemTotal − MemAvailable) while running, above the
    level at start: counts forked and Dask worker processes, and pages they share only once."""

    def __init__(self, interval_s: float = 0.2) -> None:
        import threading

        self.interval_s, self.peak_mb = interval_s, 0.0
        self.start_mb = self._used_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _used_mb() -> float:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        kb = lambda key: float(info[key].split()[0])  # noqa: E731
        return (kb("MemTotal") - kb("MemAvailable")) / 1024

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, self._used_mb() - self.start_mb)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def city(n: int, cities: Path | None, tmp: Path) -> tuple[Path, float]:
    """Return the project file of a city of ``n`` parcels (generated, or reused from ``cities``) and the seconds it took."""
    from make_sample import write_city

    folder = (cities or tmp) / f"city{n}"
    if cities is not None and (folder / "minhang.yaml").exists():
        return folder / "minhang.yaml", 0.0
    start = time.perf_counter()
    project = write_city(n, folder)
    return project, time.perf_counter() - start


def io_floor(gpkg: Path, out: Path) -> float:
    """Seconds for pyogrio to read the parcels and blocks and write the parcels twice and the blocks."""
    import pyogrio

    start = time.perf_counter()
    parcels = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    blocks = pyogrio.read_dataframe(gpkg, layer="blocks", use_arrow=True)
    for name, frame in (("parcels", parcels), ("inventory", parcels), ("blocks", blocks)):
        pyogrio.write_dataframe(frame, out, layer=name, use_arrow=True)
    return time.perf_counter() - start


def read_floor(project) -> float:
    """Seconds for the plain readers to read every configured input file as it is (the read's floor).

    pyogrio (Arrow) for the vector layers, python-calamine for a spreadsheet's sheet, pandas for a
    CSV: the bytes into frames, without landkit's column mapping, units, checks or reprojection.
    """
    import pandas as pd
    import pyogrio
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    for name in type(project.inputs).model_fields:
        source = getattr(project.inputs, name)
        if name == "rasters" or source is None:
            continue
        path = project.resolve(source.path)
        if path.suffix.lower() in (".xlsx", ".xls"):
            book = CalamineWorkbook.from_path(str(path))
            book.get_sheet_by_name(source.sheet or book.sheet_names[0]).to_python()
        elif path.suffix.lower() == ".csv":
            pd.read_csv(path, encoding=source.encoding or "utf-8-sig")
        else:
            pyogrio.read_dataframe(path, layer=source.layer, use_arrow=True)
    return time.perf_counter() - start


def export_floor(layers: dict, out: Path) -> float:
    """Seconds for pyogrio's Arrow write of the run's GeoPackage layers and tables, as they are (the export's floor).

    The same frames, columns and rows as ``landkit.gpkg``; the export adds their reprojection to
    the output CRS, the QGIS styles, the value labels and the run record, and writes atomically.
    """
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    start = time.perf_counter()
    for name, frame in layers.items():
        frame = frame if isinstance(frame, gpd.GeoDataFrame) else pd.DataFrame(frame)
        pyogrio.write_dataframe(frame, out, layer=name, driver="GPKG", use_arrow=True)
    return time.perf_counter() - start


def engines(data, project, names: list[str], repeat: int) -> dict:
    """Median seconds of ``assess()`` per engine on the same data; Dask start-up and worker memory apart."""
    from landkit.engine.dask import DaskEngine, dask_client
    from landkit.engine.local import DEFAULT_PARTITION_SIZE, LocalEngine, use_engine
    from landkit.pipeline import assess

    out: dict = {}
    for name in names:
        if name == "local":
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                with use_engine(LocalEngine()):
                    assess(data, project)
                runs.append(time.perf_counter() - start)
            out["local_s"] = statistics.median(runs)
        elif name == "dask":
            start = time.perf_counter()
            with dask_client() as client:
                out["dask_startup_s"] = time.perf_counter() - start
                out["dask_workers"] = len(client.scheduler_info()["workers"])
                # the default partition size, or four partitions for a small city (the default would
                # run a city of up to 50,000 parcels in-process: no cluster to measure)
                size = min(DEFAULT_PARTITION_SIZE, max(1_000, len(data.parcels) // 4))
                runs = []
                for _ in range(repeat):
                    start = time.perf_counter()
                    with use_engine(DaskEngine(client, partition_size=size)) as engine:
                        assess(data, project)
                    runs.append(time.perf_counter() - start)
                out.update(dask_s=statistics.median(runs), dask_partition_size=size, dask_tasks=engine.tasks)
                # VmHWM: the worker's own peak (ru_maxrss would carry the spawning process's size over exec)
                peaks = client.run(_vm_hwm_mb)
                out["dask_worker_peak_mb"] = max(peaks.values())
    return out


def zonal_baseline(parcels, project) -> dict:
    """Seconds for rasterstats (``boundless=False``) and for landkit's zonal statistics of the same rasters."""
    from rasterstats import zonal_stats as rs_zonal_stats

    from landkit.metrics.zonal import zonal_stats

    theirs = ours = 0.0
    for source in project.inputs.rasters:
        path = project.resolve(source.path)
        import rasterio

        with rasterio.open(path) as ds:
            geoms = parcels.geometry.to_crs(ds.crs).values
        start = time.perf_counter()
        rs_zonal_stats(geoms, str(path), stats=["mean", "sum", "count"], boundless=False)
        theirs += time.perf_counter() - start
        start = time.perf_counter()
        zonal_stats(parcels, source, path, stats=["mean", "sum", "count"])
        ours += time.perf_counter() - start
    return {"rasterstats_s": theirs, "landkit_zonal_s": ours}


def map_baseline(assessed, data, project, out: Path, repeat: int) -> dict:
    """Median seconds (and megabytes) of landkit's map alone and of ``geopandas.explore()`` on the same parcels.

    Side by side, in turns (a change in the machine's load falls on both alike): landkit's
    ``build_map`` + ``write_map`` of the run's layers (no surface overlays), and ``explore()``
    rendering the parcels (tooltip parcel_id, grade, score) to HTML.
    """
    from landkit.deliver.webmap import build_map, write_map
    from landkit.deliver.writer import map_layers

    ours, theirs = [], []
    parcels = assessed.parcels[[*TOOLTIP, "geometry"]]
    for _ in range(repeat):
        start = time.perf_counter()
        write_map(out / "landkit.html", build_map(map_layers(assessed, data), project))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        fmap = parcels.to_crs("EPSG:4326").explore(column="grade", tooltip=TOOLTIP, tiles=None)
        (out / "explore.html").write_text(fmap.get_root().render(), encoding="utf-8")
        theirs.append(time.perf_counter() - start)
    return {"map_alone_s": statistics.median(ours), "explore_s": statistics.median(theirs),
            "map_alone_mb": (out / "landkit.html").stat().st_size / 1e6, "explore_mb": (out / "explore.html").stat().st_size / 1e6}


def run_size(n: int, repeat: int, *, engine_names: list[str], baseline_max: int, assess_only: bool, cities: Path | None) -> dict:
    """Run the pipeline ``repeat`` times on a city of ``n`` parcels (in this process)."""
    sys.path.insert(0, str(HERE))
    from landkit.config.load import load_config
    from landkit.core.progress import StageTimer
    from landkit.data.dataset import load_dataset
    from landkit.deliver.writer import output_layers, write_assessment
    from landkit.pipeline import assess

    timer = StageTimer()
    floors, totals, read_floors, export_floors = [], [], [], []
    result: dict = {"parcels": n, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project_file, result["generate_s"] = city(n, cities, tmp)
        project = load_config(project_file)
        gpkg = project_file.parent / "minhang.gpkg"
        memory = SystemMemory()
        for i in range(repeat):
            floors.append(io_floor(gpkg, tmp / f"floor{i}.gpkg"))
            if assess_only:
                continue
            start = time.perf_counter()
            data = load_dataset(project, stage=timer)
            assessed = assess(data, project, stage=timer)
            run = tmp / f"run{i}"
            write_assessment(run, project, data, assessed, map_path=run / "map.html", stage=timer)
            totals.append(time.perf_counter() - start)
            read_floors.append(read_floor(project))
            export_floors.append(export_floor(output_layers(run, project, data, assessed), tmp / f"export{i}.gpkg"))
        result["io_floor_s"] = statistics.median(floors)
        if not assess_only:
            medians = {}
            for name in STAGES:
                runs = timer.seconds.get(name, [])
                if runs:  # `read` runs twice per pipeline run: add its parts per run
                    per_run = [sum(runs[k * len(runs) // repeat:(k + 1) * len(runs) // repeat]) for k in range(repeat)]
                    medians[name] = statistics.median(per_run)
            result.update(read_floor_s=statistics.median(read_floors), export_floor_s=statistics.median(export_floors))
            result.update(stages_s=medians, total_s=statistics.median(totals),
                          assess_s=sum(medians.get(s, 0.0) for s in ("read", "validate", *ASSESS_STAGES, "export")),
                          map_mb=(tmp / "run0" / "map.html").stat().st_size / 1e6)
            result["peak_mb"] = _peak_mb()
            result["system_peak_mb"] = memory.stop()
        start = time.perf_counter()
        data = load_dataset(project)
        result["load_s"] = time.perf_counter() - start
        result["engines"] = engines(data, project, engine_names, repeat)
        if "system_peak_mb" not in result:  # --assess-only: the machine's peak over the engines' runs
            result["system_peak_mb"] = memory.stop()
        result.setdefault("peak_mb", _peak_mb())
        if n <= baseline_max and not assess_only:
            # the two wall times, each run in a fresh process as `landkit assess` runs (this one holds
            # the earlier runs' data, which slows the next by some seconds); in turns
            walls: dict[str, list[tuple[float, float]]] = {"gpkg": [], "nomap": []}
            for i in range(repeat):
                for kind, runs in walls.items():
                    runs.append(fresh_wall(kind, project_file, tmp / f"{kind}{i}"))
            for kind, key in (("gpkg", "to_gpkg"), ("nomap", "nomap")):
                result[f"{key}_s"] = statistics.median(r[0] for r in walls[kind])
                result[f"{key}_process_s"] = statistics.median(r[1] for r in walls[kind])
        if n <= baseline_max:
            assessed = assess(data, project)
            result["baselines"] = {**zonal_baseline(data.parcels, project), **map_baseline(assessed, data, project, tmp, repeat)}
    return result


def wall_once(kind: str, project_file: Path, out: Path) -> float:
    """Return the seconds of one run in this process, its imports done first (``kind``: gpkg or nomap).

    ``gpkg``: the assessment proper (load, assess, the run's GeoPackage and summary); ``nomap``:
    `landkit assess` without the map (load, assess, every other output).
    """
    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset
    from landkit.deliver.writer import output_layers, write_assessment
    from landkit.io.run_folder import GPKG_NAME
    from landkit.io.write import write_json, write_layers
    from landkit.pipeline import assess

    project = load_config(project_file)
    start = time.perf_counter()
    loaded = load_dataset(project)
    assessed = assess(loaded, project)
    if kind == "gpkg":
        out.mkdir()
        write_layers(out / GPKG_NAME, output_layers(out, project, loaded, assessed))
        write_json(out / "summary.json", assessed.summary)
    else:
        write_assessment(out, project, loaded, assessed)
    return time.perf_counter() - start


def fresh_wall(kind: str, project_file: Path, out: Path) -> tuple[float, float]:
    """Run :func:`wall_once` in a fresh process; return its seconds and the whole process's (imports included)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--wall", kind, str(project_file), str(out)], stdout=subprocess.PIPE,
                          text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return float(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def _row(label: str, values: list, fmt: str = "{:>12.2f}") -> str:
    return f"{label:<16}" + "".join(f"{'—':>12}" if v is None else fmt.format(v) for v in values)


def print_table(results: list[dict], repeat: int) -> None:
    print(f"cores: {results[0]['cores']}; medians of {repeat} runs; seconds unless stated")
    print(f"{'':<16}" + "".join(f"{r['parcels']:>12,}" for r in results))
    for stage in STAGES:
        print(_row(stage, [r.get("stages_s", {}).get(stage) for r in results]))
    get = lambda key: [r.get(key) for r in results]  # noqa: E731
    print(_row("assess*", get("assess_s")))
    print(_row("total", get("total_s")))
    print(_row("assess→gpkg", get("to_gpkg_s")))
    print(_row("assess→gpkg/floor", [r["to_gpkg_s"] / r["io_floor_s"] if "to_gpkg_s" in r else None for r in results], "{:>11.1f}×"))
    print(_row("all but the map", get("nomap_s")))
    print(_row("… the command", get("nomap_process_s")))
    print(_row("… /10 s target", [r["nomap_s"] / 10 if "nomap_s" in r else None for r in results], "{:>11.2f}×"))
    print(_row("I/O floor", get("io_floor_s")))
    stage = lambda r, *names: sum(r["stages_s"].get(n, 0.0) for n in names) if "stages_s" in r else None  # noqa: E731
    print(_row("read floor", get("read_floor_s")))
    print(_row("read+validate/floor", [stage(r, "read", "validate") / r["read_floor_s"] if "read_floor_s" in r else None
                                       for r in results], "{:>11.1f}×"))
    print(_row("export floor", get("export_floor_s")))
    print(_row("export/floor", [stage(r, "export") / r["export_floor_s"] if "export_floor_s" in r else None
                                for r in results], "{:>11.1f}×"))
    print(_row("assess*/floor", [r["assess_s"] / r["io_floor_s"] if "assess_s" in r else None for r in results], "{:>11.1f}×"))
    print(_row("peak MB", get("peak_mb"), "{:>12,.0f}"))
    print(_row("machine MB", get("system_peak_mb"), "{:>12,.0f}"))
    eng = [r.get("engines", {}) for r in results]
    print(_row("assess() local", [e.get("local_s") for e in eng]))
    print(_row("assess() dask", [e.get("dask_s") for e in eng]))
    print(_row("dask/local", [e["dask_s"] / e["local_s"] if "dask_s" in e and "local_s" in e else None for e in eng], "{:>11.2f}×"))
    print(_row("dask start-up", [e.get("dask_startup_s") for e in eng]))
    print(_row("dask worker MB", [e.get("dask_worker_peak_mb") for e in eng], "{:>12,.0f}"))
    base = [r.get("baselines") for r in results]
    print(_row("zonal landkit", [b and b["landkit_zonal_s"] for b in base]))
    print(_row("zonal rasterstats", [b and b["rasterstats_s"] for b in base]))
    print(_row("rasterstats/ours", [b and b["rasterstats_s"] / b["landkit_zonal_s"] for b in base], "{:>11.1f}×"))
    print(_row("map in the run", [r.get("stages_s", {}).get("map") for r in results]))
    print(_row("map alone", [b and b["map_alone_s"] for b in base]))
    print(_row("map explore()", [b and b["explore_s"] for b in base]))
    print(_row("alone/explore()", [b and b["map_alone_s"] / b["explore_s"] for b in base], "{:>11.2f}×"))
    print(_row("map MB landkit", get("map_mb")))
    print(_row("map MB explore()", [b and b["explore_mb"] for b in base]))
    print("assess* = read + validate + zonal + performance + value + rings + inventory + scatter + export (GeoPackage);")
    print("total = the whole pipeline, every output (the workbook in its own process, the map in a thread, beside the rest);")
    print("peak MB = this process (the pipeline and the engines);")
    print("machine MB = the machine's memory in use above the level at start, all processes (the pipeline runs);")
    print("assess→gpkg = load + assess + the run's GeoPackage and summary.json, wall time (the issue's `assess`);")
    print("all but the map = `landkit assess` without the map: load, assess, GeoPackage, workbook, surfaces, report (wall);")
    print("  both in a fresh process each, as the command runs, after its imports; … the command = that process whole")
    print("read floor = pyogrio, python-calamine and pandas reading every input file as it is (no mapping or checks);")
    print("export floor = pyogrio's Arrow write of the GeoPackage's very frames (export = those, reprojected, styled, atomic)")
    print("map in the run = its stage in the pipeline's runs (a thread beside the other outputs, the surfaces' overlays")
    print("included); map alone = build_map + write_map by itself, side by side with explore() (both medians)")


#: The optional modules each part of the benchmark needs, and the extra that installs them.
OPTIONAL = {
    "baselines": (["rasterstats", "folium", "mapclassify"], "bench"),  # rasterstats; geopandas' explore()
    "dask": (["dask_geopandas", "distributed"], "dask"),
}


def missing_modules(*, baselines: bool, dask: bool) -> str | None:
    """Return a one-line message naming the optional modules this run needs and lacks, and how to install them."""
    import importlib.util

    lines = []
    for part, wanted in (("baselines", baselines), ("dask", dask)):
        modules, extra = OPTIONAL[part]
        absent = [m for m in modules if wanted and importlib.util.find_spec(m) is None]
        if absent:
            skip = "--baseline-max 0" if part == "baselines" else "--engines local"
            lines.append(f"{part} need {', '.join(absent)}: pip install -e '.[{extra}]' (or pass {skip})")
    return "scripts/bench.py: " + "; ".join(lines) if lines else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000, 500_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=["local", "dask"], choices=["local", "dask"])
    parser.add_argument("--baseline-max", type=int, default=50_000, help="largest city the plain tools run on")
    parser.add_argument("--assess-only", action="store_true", help="no outputs: the I/O floor and the engines only")
    parser.add_argument("--cities", type=Path, help="folder to keep generated cities in and reuse them from")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--wall", nargs=3, metavar=("KIND", "PROJECT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.wall:
        kind, project_file, out = args.wall
        print(wall_once(kind, Path(project_file), Path(out)))
        return
    options = ["--repeat", str(args.repeat), "--engines", *args.engines, "--baseline-max", str(args.baseline_max)]
    options += ["--assess-only"] if args.assess_only else []
    options += ["--cities", str(args.cities)] if args.cities else []
    if args.worker:
        result = run_size(args.worker, args.repeat, engine_names=args.engines, baseline_max=args.baseline_max,
                          assess_only=args.assess_only, cities=args.cities)
        print(json.dumps(result))
        return
    # the optional baselines are checked before any work, not found missing after it
    problem = missing_modules(baselines=any(n <= args.baseline_max for n in args.sizes), dask="dask" in args.engines)
    if problem:
        parser.exit(2, problem + "\n")
    results = []
    for n in args.sizes:  # each size in a fresh process: its own peak memory
        out = subprocess.run([sys.executable, __file__, "--worker", str(n), *options], stdout=subprocess.PIPE, text=True,
                             check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{n:,} parcels done", file=sys.stderr)
    print_table(results, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
