"""Benchmark landkit's exact zonal statistics against rasterstats on a synthetic city.

On the 50,000-parcel synthetic city (make it with
``python scripts/make_sample.py --parcels 50000 --out /tmp/city50k``) this script

1. reads the parcels as landkit does (canonical columns, working CRS);
2. makes a 10 m float32 raster over the parcels' extent in EPSG:32651 (a smooth field plus
   250 m blocks and a nodata disc; tiled 512 × 512, DEFLATE) — about 13,600 × 13,600 pixels;
3. times, in the same run, ``landkit.metrics.zonal.zonal_stats`` (mean, sum, count; exact coverage
   fractions; the parcels transformed from the working CRS to the raster's inside the timing)
   against ``rasterstats.zonal_stats`` (mean, sum, count; pixel-centre rule; given the parcels
   already in the raster's CRS, untimed), each run in a fresh subprocess, median of ``--repeat``
   runs, with the peak memory of each subprocess (``resource.getrusage``'s ``ru_maxrss``) and
   the call's own peak above the memory in use before it (Linux: the peak mark is reset before
   the call and read from /proc/self/status after it). rasterstats runs in two ways:

   * ``boundless=False``: plain windowed reads — its fastest setting, valid here because the
     raster covers every parcel (it raises on a parcel reaching past the raster);
   * its default (``boundless=True``): every read goes through a boundless VRT. In one call over
     the 50,000 parcels its memory grows without bound on this raster (past 8 GB after ~20,000
     parcels with rasterio 1.4.4 / GDAL 3.10.3), so it is run on chunks of ``--chunk`` parcels,
     each in a fresh process, and the chunks' times are added;

4. compares the two means (a) on pixel-aligned rectangles (each parcel's bounding box shrunk to
   whole pixels: every pixel is wholly in or wholly out, so the two methods must agree to
   rounding) and (b) on the real parcels wholly inside the raster with no nodata (the difference
   is the partial boundary pixels: a share in landkit, all-or-nothing by centre in rasterstats).

    python scripts/bench_zonal.py [--project /tmp/city50k/minhang.yaml] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STATS = ["mean", "sum", "count"]
RASTER_CRS = "EPSG:32651"
NODATA = -9999.0


def _rss_peak_mb() -> float:
    """Peak resident memory of this process so far (``ru_maxrss``, KiB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _start_call() -> float:
    """Reset the peak-RSS mark (Linux: ``clear_refs`` 5) and return the resident memory now (MB)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS") or _rss_peak_mb()


def _call_peak() -> float:
    """Peak resident memory since :func:`_start_call` (MB; ``ru_maxrss`` where /proc is missing)."""
    return _status_mb("VmHWM") or _rss_peak_mb()


# --- inputs -------------------------------------------------------------------------------------


def load_parcels(project_path: Path):
    """The parcels as landkit reads them: canonical columns, in the project's working CRS."""
    from landkit.config.load import load_config
    from landkit.core.crs import to_working
    from landkit.io.read import read_input

    project = load_config(project_path)
    table = read_input("parcels", project)
    return to_working(table.frame, project.crs.working)[["parcel_id", "geometry"]]


def make_raster(path: Path, bounds: tuple[float, float, float, float], resolution: float) -> tuple[int, int]:
    """Write a float32 raster over ``bounds`` (EPSG:32651) strip by strip; return (width, height)."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    minx, miny, maxx, maxy = bounds
    left = np.floor(minx / resolution) * resolution - 10 * resolution
    top = np.ceil(maxy / resolution) * resolution + 10 * resolution
    width = int(np.ceil((maxx - left) / resolution)) + 10
    height = int(np.ceil((top - miny) / resolution)) + 10
    transform = Affine(resolution, 0.0, left, 0.0, -resolution, top)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "float32",
               "crs": RASTER_CRS, "transform": transform, "nodata": NODATA, "tiled": True, "blockxsize": 512,
               "blockysize": 512, "compress": "DEFLATE", "predictor": 3, "BIGTIFF": "IF_SAFER"}
    xs = left + (np.arange(width) + 0.5) * resolution
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, height, 512):
            n = min(512, height - r0)
            ys = top - (np.arange(r0, r0 + n) + 0.5) * resolution
            x, y = np.meshgrid(xs, ys)
            value = 20 + 10 * np.sin(x / 1700.0) * np.cos(y / 2300.0) + ((x // 250 + y // 250) % 7) * 3
            value = np.round(value, 1).astype(np.float32)
            value[np.hypot(x - cx - 8000, y - cy + 5000) < 2500] = NODATA  # a cloud-masked disc
            dst.write(value, 1, window=Window(0, r0, width, n))
    return width, height


# --- workers (run in their own process) ---------------------------------------------------------


def worker(tool: str, workdir: Path, out: Path, start: int = 0, stop: int | None = None) -> None:
    """Load the inputs, time one zonal statistics call, save its results, print timing as JSON."""
    import geopandas as gpd

    raster = workdir / "raster.tif"
    if tool == "landkit":
        from landkit.config.models import RasterSource
        from landkit.metrics.zonal import zonal_stats

        parcels = gpd.read_parquet(workdir / "parcels_working.parquet").iloc[start:stop]
        src = RasterSource(name="r", path=raster.name, stats=STATS)
        before = _start_call()
        t0 = time.perf_counter()
        frame = zonal_stats(parcels, src, raster)
        seconds = time.perf_counter() - t0
        call_peak = _call_peak()
        result = {s: frame[f"r_{s}"].to_numpy(float) for s in STATS}
        result["nodata_frac"] = frame["r_nodata_frac"].to_numpy(float)
        result["outside_frac"] = frame["r_outside_frac"].to_numpy(float)
    else:
        from rasterstats import zonal_stats as rs_zonal_stats

        geoms = gpd.read_parquet(workdir / "parcels_raster.parquet").geometry.to_numpy()[start:stop]
        before = _start_call()
        t0 = time.perf_counter()
        rows = rs_zonal_stats(geoms, str(raster), stats=STATS, nodata=NODATA,
                              boundless=tool == "rasterstats-default")
        seconds = time.perf_counter() - t0
        call_peak = _call_peak()
        result = {s: np.array([np.nan if r[s] is None else r[s] for r in rows], float) for s in STATS}
    np.savez(out, **result)
    print(json.dumps({"tool": tool, "seconds": seconds, "peak_mb": _rss_peak_mb(), "before_mb": before,
                      "call_peak_mb": call_peak}))


def run_worker(tool: str, workdir: Path, out: Path, start: int = 0, stop: int | None = None) -> dict:
    command = [sys.executable, __file__, "--worker", tool, "--workdir", str(workdir), "--out", str(out),
               "--start", str(start)] + (["--stop", str(stop)] if stop is not None else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tool} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_chunked(tool: str, workdir: Path, n: int, chunk: int) -> dict:
    """Run ``tool`` on consecutive chunks of parcels, each in a fresh process; add the times."""
    runs, parts = [], []
    for start in range(0, n, chunk):
        out = workdir / f"{tool}.{start}.npz"
        runs.append(run_worker(tool, workdir, out, start, min(start + chunk, n)))
        parts.append(out)
    merged = {k: np.concatenate([np.load(p)[k] for p in parts]) for k in np.load(parts[0]).files}
    np.savez(workdir / f"{tool}.npz", **merged)
    worst = max(runs, key=lambda r: r["call_peak_mb"] - r["before_mb"])
    return {"tool": tool, "seconds": sum(r["seconds"] for r in runs), "peak_mb": max(r["peak_mb"] for r in runs),
            "before_mb": worst["before_mb"], "call_peak_mb": worst["call_peak_mb"], "chunks": len(runs)}


# --- comparison ---------------------------------------------------------------------------------


def pixel_aligned(geoms: np.ndarray, transform, sample: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Each sampled parcel's bounding box shrunk to whole pixels (at least one pixel wide)."""
    import shapely

    res, left, top = transform.a, transform.c, transform.f
    b = shapely.bounds(geoms)
    c0 = np.ceil((b[:, 0] - left) / res)
    c1 = np.floor((b[:, 2] - left) / res)
    r0 = np.ceil((top - b[:, 3]) / res)
    r1 = np.floor((top - b[:, 1]) / res)
    ok = np.flatnonzero((c1 > c0) & (r1 > r0))
    pick = np.sort(np.random.default_rng(seed).choice(ok, size=min(sample, len(ok)), replace=False))
    rects = shapely.box(left + c0[pick] * res, top - r1[pick] * res, left + c1[pick] * res, top - r0[pick] * res)
    return rects, pick


def describe(diff: np.ndarray) -> dict:
    diff = np.abs(diff[np.isfinite(diff)])
    if not len(diff):
        return {"n": 0}
    return {"n": len(diff), "median": float(np.median(diff)), "p95": float(np.percentile(diff, 95)),
            "max": float(diff.max())}


def compare(workdir: Path, landkit_npz: Path, rasterstats_npz: Path, sample: int) -> dict:
    """Mean differences on pixel-aligned rectangles and on the real parcels with full valid coverage."""
    import geopandas as gpd
    import rasterio
    from rasterstats import zonal_stats as rs_zonal_stats

    from landkit.config.models import RasterSource
    from landkit.metrics.zonal import zonal_stats

    raster = workdir / "raster.tif"
    with rasterio.open(raster) as ds:
        transform = ds.transform
    in_raster = gpd.read_parquet(workdir / "parcels_raster.parquet")
    rects, _ = pixel_aligned(in_raster.geometry.to_numpy(), transform, sample)
    frame = gpd.GeoDataFrame(geometry=rects, crs=in_raster.crs)
    ours = zonal_stats(frame, RasterSource(name="r", path=raster.name, stats=STATS), raster)
    theirs = rs_zonal_stats(rects, str(raster), stats=STATS, nodata=NODATA)
    t_mean = np.array([np.nan if r["mean"] is None else r["mean"] for r in theirs], float)
    t_count = np.array([r["count"] for r in theirs], float)
    both = ours["r_mean"].notna().to_numpy() & np.isfinite(t_mean)
    aligned = {
        "rectangles": len(rects),
        "with_values": int(both.sum()),
        "count_equal": bool(np.allclose(ours["r_count"].to_numpy()[both], t_count[both], rtol=0, atol=1e-6)),
        "abs_diff_mean": describe(ours["r_mean"].to_numpy()[both] - t_mean[both]),
    }

    a, b = np.load(landkit_npz), np.load(rasterstats_npz)
    full = (a["nodata_frac"] == 0) & (a["outside_frac"] == 0) & np.isfinite(a["mean"])
    has_rs = np.isfinite(b["mean"])
    sel = full & has_rs
    diff = a["mean"][sel] - b["mean"][sel]
    real = {
        "parcels_fully_covered": int(full.sum()),
        "compared": int(sel.sum()),
        "no_value_in_rasterstats": int((np.isfinite(a["mean"]) & ~has_rs).sum()),
        "abs_diff_mean": describe(diff),
        "rel_diff_mean": describe(diff / b["mean"][sel]),
    }
    default = workdir / "rasterstats-default.npz"
    if default.exists():  # the two rasterstats modes must agree (the raster covers every parcel)
        c = np.load(default)["mean"]
        real["rasterstats_modes_max_abs_diff"] = float(np.nanmax(np.abs(c - b["mean"]))) if len(c) == len(b["mean"]) \
            else None
    return {"pixel_aligned": aligned, "real_parcels": real}


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("/tmp/city50k/minhang.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resolution", type=float, default=10.0)
    parser.add_argument("--sample", type=int, default=5000, help="pixel-aligned rectangles compared")
    parser.add_argument("--chunk", type=int, default=5000, help="parcels per process for rasterstats' default mode")
    parser.add_argument("--limit", type=int, help="use only the first N parcels (a quick check)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", choices=["landkit", "rasterstats", "rasterstats-default"], help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--stop", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.workdir, args.out, args.start, args.stop)
        return
    if not args.project.exists():
        raise SystemExit(f"{args.project} not found; make it with "
                         "`python scripts/make_sample.py --parcels 50000 --out /tmp/city50k`")

    import exactextract
    import rasterio
    import rasterstats

    with tempfile.TemporaryDirectory(prefix="bench_zonal.") as tmp:
        workdir = Path(tmp)
        parcels = load_parcels(args.project)
        if args.limit:
            parcels = parcels.iloc[: args.limit]
        parcels.to_parquet(workdir / "parcels_working.parquet")
        in_raster = parcels.to_crs(RASTER_CRS)
        in_raster.to_parquet(workdir / "parcels_raster.parquet")
        start = time.perf_counter()
        width, height = make_raster(workdir / "raster.tif", tuple(in_raster.total_bounds), args.resolution)
        t_raster = time.perf_counter() - start
        size_mb = (workdir / "raster.tif").stat().st_size / 1e6
        print(f"{len(parcels):,} parcels; raster {width:,} × {height:,} px of {args.resolution:g} m "
              f"({width * height / 1e6:.0f} Mpx, {size_mb:.0f} MB on disk) made in {t_raster:.0f} s")
        print(f"exactextract {exactextract.__version__}, rasterstats {rasterstats.__version__}, "
              f"rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__})")

        tools = ["landkit", "rasterstats", "rasterstats-default"]
        runs: dict[str, list[dict]] = {tool: [] for tool in tools}
        for i in range(args.repeat):
            for tool in tools:
                if tool == "rasterstats-default":
                    run = run_chunked(tool, workdir, len(parcels), args.chunk)
                else:
                    run = run_worker(tool, workdir, workdir / f"{tool}.npz")
                runs[tool].append(run)
                chunks = f" ({run['chunks']} chunks)" if "chunks" in run else ""
                print(f"  run {i + 1} {tool:<19} {run['seconds']:8.2f} s{chunks}  peak RSS {run['peak_mb']:7.0f} MB "
                      f"(+{run['call_peak_mb'] - run['before_mb']:.0f} MB during the call)", flush=True)
        summary = {}
        for tool, rs in runs.items():
            summary[tool] = {
                "seconds_median": statistics.median(r["seconds"] for r in rs),
                "seconds": [r["seconds"] for r in rs],
                "peak_rss_mb_median": statistics.median(r["peak_mb"] for r in rs),
                "call_rss_increase_mb_median": statistics.median(r["call_peak_mb"] - r["before_mb"] for r in rs),
            }
        ours = summary["landkit"]["seconds_median"]
        ratios = {tool: summary[tool]["seconds_median"] / ours for tool in tools[1:]}
        for tool in tools:
            line = (f"{tool:<19} median {summary[tool]['seconds_median']:7.2f} s, peak RSS "
                    f"{summary[tool]['peak_rss_mb_median']:.0f} MB (+{summary[tool]['call_rss_increase_mb_median']:.0f}"
                    " MB in the call)")
            if tool in ratios:
                line += f" → landkit {ratios[tool]:.1f}× faster"
            print(line)

        diffs = compare(workdir, workdir / "landkit.npz", workdir / "rasterstats.npz", args.sample)
        al, real = diffs["pixel_aligned"], diffs["real_parcels"]
        print(f"pixel-aligned rectangles (whole pixels only): {al['with_values']:,} of {al['rectangles']:,} compared; "
              f"counts equal: {al['count_equal']}; |Δ mean| max {al['abs_diff_mean'].get('max', float('nan')):.2e}")
        ad, rd = real["abs_diff_mean"], real["rel_diff_mean"]
        print(f"real parcels wholly inside with no nodata: {real['compared']:,} of {real['parcels_fully_covered']:,}; "
              f"|Δ mean| median {ad['median']:.4f}, p95 {ad['p95']:.4f}, max {ad['max']:.3f} "
              f"(relative median {rd['median']:.2e}, p95 {rd['p95']:.2e}, max {rd['max']:.2e}); "
              f"{real['no_value_in_rasterstats']} parcels have no value in rasterstats (no pixel centre inside)")
        if real.get("rasterstats_modes_max_abs_diff") is not None:
            print(f"rasterstats default vs boundless=False: max |Δ mean| {real['rasterstats_modes_max_abs_diff']:.2e}")
        report = {"parcels": len(parcels), "raster": {"width": width, "height": height,
                                                      "resolution_m": args.resolution, "crs": RASTER_CRS},
                  "times": summary, "speed_ratio": ratios, "chunk": args.chunk, "mean_differences": diffs,
                  "versions": {"exactextract": exactextract.__version__, "rasterstats": rasterstats.__version__,
                               "rasterio": rasterio.__version__, "gdal": rasterio.__gdal_version__}}
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
