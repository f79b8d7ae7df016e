#!/usr/bin/env python
"""Generate the synthetic Minhang sample data set that landkit ships and tests on.

The data imitate what planners of the Minhang sub-park of the Zhangjiang Hi-Tech Zone hold for
the "两评估、一清单、一盘活" campaign: 19 industrial blocks, land parcels with Chinese attribute
names, a routable road network, the 大零号湾 core sites, an enterprise table keyed by parcel id,
benchmark land prices and two rasters. Everything is **synthetic**: the block sites follow the
real places roughly, every number is drawn from a seeded ``numpy.random.Generator``.

What the action plan's spatial items need (issue #17) comes from ``samplegen/plan.py`` and the
local roads of ``samplegen/roads.py``, each from a stream of its own (``default_rng([seed, 17, k])``)
so that the rest of the city stays as it was: 土地权属 (国有/集体/国有载体), 产业区块类型 (104/195/198),
the building survey (楼面荷载, 层高, 货梯载重, 火灾危险性类别), commercial and office land with 空置率 in
莘庄工业区 and 莘庄商务区 (商办→研发), the firms' 细分领域, 链主企业, 独角兽或隐形冠军, PCT filings,
talents and industrial output, a ``facilities`` layer (人才公寓, 学校, 社区卫生服务中心, 食堂, 地铁站,
公交站, 孵化器), a road hierarchy down to 支路, and land for the dynamic adjustment of the blocks: a
few well-taxed superblocks cut out just outside their blocks (调入) and poorly performing patches
set apart from a block's core (调出). ``gis_data/README.md`` describes each.

Geometry is built in a local transverse Mercator (:data:`TMERC`, metres) and written in
CGCS2000 geographic coordinates (EPSG:4490). For large ``--parcels`` the synthetic city grows by
tiling further copies of the district around Minhang (a square spiral), so parcel sizes stay
realistic.

Usage::

    python scripts/make_sample.py [--parcels 3200] [--seed 20250307] [--year 2025]
                                  [--out gis_data] [--overwrite] [--next-year]
    python scripts/make_sample.py --check     # are the shipped files what the generator makes?

``--next-year`` also writes the same city one year on (:func:`evolve`): the parcels and the
enterprise register of ``year + 1`` (``minhang_2026.gpkg``, ``enterprises_2026.xlsx``); the
blocks, roads, prices and rasters are shared with the first year.

From Python::

    from make_sample import generate, check, write
    datasets = generate(3200, 20250307, 2025)
    check(datasets)
    write(datasets, "gis_data", overwrite=True)

The generator itself is the package ``scripts/samplegen/``, one module per part of the city in
the order it is built: ``constants``, ``places``, ``geometry``, ``land`` (blocks, lots, streets and
the lot-line local roads), ``roads``, ``parcels``, ``enterprises``, ``surfaces`` (prices and rasters),
``plan`` (the plan's items, added last), then ``generate`` (and the checks), ``write`` and
``next_year``; this script is its command line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from samplegen.constants import DEFAULT_PARCELS, DEFAULT_SEED, DEFAULT_YEAR, OUTPUT_FILES, default_out
from samplegen.generate import check, generate
from samplegen.next_year import check_next_year, check_shipped, evolve, next_year_files, write_next_year
from samplegen.write import verify, write

# ---- CLI -------------------------------------------------------------------------------------


def write_city(n_parcels: int, out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, year: int = 2025) -> Path:
    """Generate and write a synthetic city of ``n_parcels`` with the sample's project file; return that file.

    For benchmarks: the city's files and a copy of ``gis_data/minhang.yaml`` go to ``out_dir``.
    """
    out = Path(out_dir)
    datasets = generate(n_parcels, seed=seed, year=year)
    write(datasets, out, overwrite=True)
    return write_project(datasets, out)


def write_project(datasets: dict, out: Path) -> Path:
    """Write ``out/minhang.yaml``: the sample's project file, with a working CRS fitted to a wide city.

    The shipped ``gis_data/minhang.yaml`` itself is never rewritten (it is the sample's, with comments).
    """
    from landkit.core.crs import MAX_AREA_ERROR, suggested_working_crs, tm_area_error

    project = out / "minhang.yaml"
    if project.resolve() == (default_out() / "minhang.yaml").resolve():
        return project
    text = (default_out() / "minhang.yaml").read_text(encoding="utf-8")
    if not (out / "enterprises.xlsx").exists():  # more enterprises than a sheet holds: the CSV only
        workbook = "enterprises: {path: enterprises.xlsx, sheet: 企业}"
        assert workbook in text, "gis_data/minhang.yaml no longer names the enterprises as the generator expects"
        text = text.replace(workbook, "enterprises: {path: enterprises.csv}")
    bounds = tuple(datasets["parcels"].to_crs("EPSG:4326").total_bounds)
    if tm_area_error(bounds, 121.4644444) > MAX_AREA_ERROR:  # a city wider than the default working CRS suits
        text += f'\ncrs:\n  working: "{suggested_working_crs(bounds)}"   # fitted to the synthetic city\n'
    project.write_text(text, encoding="utf-8")
    return project


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    ap = argparse.ArgumentParser(description="Generate the synthetic Minhang sample data (landkit).")
    ap.add_argument("--parcels", type=int, default=DEFAULT_PARCELS, help="number of parcels (default 3200)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 20250307)")
    ap.add_argument("--year", type=int, default=DEFAULT_YEAR, help="data year (default 2025)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <repo>/gis_data)")
    ap.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    ap.add_argument("--next-year", action="store_true",
                    help="also write the same city one year on (minhang_<year+1>.gpkg, enterprises_<year+1>.xlsx)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing: regenerate both years and check the files in --out are byte-identical")
    args = ap.parse_args(argv)
    if args.parcels < 20:
        ap.error("--parcels must be at least 20")
    out = args.out if args.out is not None else default_out()
    if args.check:
        differ = check_shipped(out, args.parcels, args.seed, args.year)
        if differ:
            print(f"error: {out}: {', '.join(differ)} differ from what the generator makes now; "
                  "regenerate with --next-year --overwrite (and commit), or revert the generator", file=sys.stderr)
            return 1
        print(f"{out}: the sample files of {args.year} and {args.year + 1} are what the generator makes")
        return 0
    existing = [f for f in OUTPUT_FILES if (out / f).exists()]
    if args.next_year:
        existing += [f for f in next_year_files(args.year + 1) if (out / f).exists()]
    if existing and not args.overwrite:
        print(f"error: {out} already holds {', '.join(existing)}; pass --overwrite to replace them",
              file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    datasets = generate(args.parcels, args.seed, args.year)
    t1 = time.perf_counter()
    check(datasets)
    t2 = time.perf_counter()
    sizes = write(datasets, out, overwrite=args.overwrite)
    project = write_project(datasets, out)  # a city written elsewhere than gis_data/ gets its project file
    t3 = time.perf_counter()
    stats = verify(out, excel=len(datasets["enterprises"]) <= 100_000)
    total_mb = stats["total_mb"]
    t4 = time.perf_counter()
    print(f"synthetic Minhang sample -> {out}")
    print(f"  blocks {stats['blocks']} ({stats['block_area_ha']:.2f} ha), parcels {stats['parcels']} "
          f"({stats['parcels_in_blocks']} in blocks, {stats['parcels_scattered']} scattered; "
          f"median {stats['parcel_median_mu']} 亩), roads {stats['road_segments']} segments")
    print(f"  enterprises {stats['enterprises']} ({stats['enterprises_spanning']} on several parcels), "
          f"median tax {stats['median_tax_per_mu']} 万元/亩")
    for f, s in sizes.items():
        print(f"  {f:<22} {s / 1e6:8.3f} MB")
    print(f"  total {total_mb:.3f} MB; generate {t1 - t0:.1f}s, check {t2 - t1:.1f}s, "
          f"write {t3 - t2:.1f}s, verify {t4 - t3:.1f}s")
    print(f"  project file {project}: run `landkit assess -c {project} -o OUT`")
    if args.next_year:
        second = evolve(datasets, args.seed)
        counts = check_next_year(datasets, second)
        sizes = write_next_year(second, out, overwrite=args.overwrite)
        print(f"  next year {second['meta']['year']}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for f, s in sizes.items():
            print(f"  {f:<22} {s / 1e6:8.3f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
