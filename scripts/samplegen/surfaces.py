"""Land prices and rasters: price zones, the benchmark price table, night light and building height."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from samplegen.constants import (
    BUILDING_HEIGHT_CRS,
    BUILDING_HEIGHT_RES_M,
    LAND_PRICE_COLUMNS,
    NIGHT_LIGHT_CRS,
    NIGHT_LIGHT_RES_DEG,
    PRICE_LEVELS,
    PRICE_USES,
    STOREY_HEIGHT_M,
    TMERC,
)
from samplegen.enterprises import BASE_LAND_PRICE, PRICE_ZONE_CENTRE, PRICE_ZONE_RADII_M
from samplegen.geometry import Layout, Raster, to_tm_xy
from samplegen.land import district_outline


def make_price_zones(rng: np.random.Generator, layout: Layout) -> pd.DataFrame:
    """Grade zones of the base land price (一级 … 四级), concentric-ish around 大零号湾.

    The zone edges are one wobbly closed curve scaled to each radius (so they nest), clipped to
    the district; the four zones cover each tile's district exactly. One MultiPolygon per grade.

    Returns
    -------
    pandas.DataFrame
        ``级别`` and ``geom`` (tmerc MultiPolygon), four rows.
    """
    theta = np.linspace(0.0, 2 * np.pi, 181)[:-1]
    ph = rng.uniform(0, 2 * np.pi, 2)
    wobble = 1.0 + 0.12 * np.sin(2 * theta + ph[0]) + 0.06 * np.sin(3 * theta + ph[1])
    c = to_tm_xy([PRICE_ZONE_CENTRE[0]], [PRICE_ZONE_CENTRE[1]])[0]
    district = district_outline()
    discs = [shapely.Polygon(np.column_stack([c[0] + r * wobble * np.cos(theta), c[1] + r * wobble * np.sin(theta)]))
             for r in PRICE_ZONE_RADII_M]
    zones, inner = [], shapely.Polygon()
    for disc in [*discs, district]:
        zones.append(shapely.difference(shapely.intersection(district, disc), inner))
        inner = shapely.union(inner, disc)
    geoms = []
    for z in zones:
        copies = [shapely.affinity.translate(z, t.dx, t.dy) for t in layout.tiles]
        parts = [g for g in shapely.get_parts(shapely.union_all(np.array(copies, dtype=object))) if g.area > 1.0]
        geoms.append(shapely.MultiPolygon(parts))
    return pd.DataFrame({"级别": list(PRICE_LEVELS), "geom": geoms})


def make_land_price() -> pd.DataFrame:
    """Base land price table: one row per grade (级别) and use (用途: 工业, 研发, 仓储), 元/m²."""
    rows = [{"级别": lvl, "用途": use, "基准地价(元/平方米)": int(BASE_LAND_PRICE[use][k])}
            for k, lvl in enumerate(PRICE_LEVELS) for use in PRICE_USES]
    return pd.DataFrame(rows, columns=list(LAND_PRICE_COLUMNS))


def _gaussian_blur(arr: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur with edge padding (:func:`scipy.ndimage.gaussian_filter`, kernel ±3σ), float32."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(arr.astype(np.float32), sigma_px, mode="nearest", truncate=3.0)


def make_night_light(rng: np.random.Generator, parcels: pd.DataFrame, geoms_geo: np.ndarray,
                     outlines_geo: np.ndarray) -> Raster:
    """VIIRS-like night light (nW/cm²/sr), EPSG:4326, 0.001° pixels, with a cloud-masked patch.

    Background glow falls off from the city centre (north-east); operating parcels add light in
    proportion to their floor area ratio; idle parcels are dark.
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    res = NIGHT_LIGHT_RES_DEG
    minx, miny, maxx, maxy = shapely.total_bounds(outlines_geo)
    minx, miny = np.floor(minx / res - 5) * res, np.floor(miny / res - 5) * res
    maxx, maxy = np.ceil(maxx / res + 5) * res, np.ceil(maxy / res + 5) * res
    width, height = round(float((maxx - minx) / res)), round(float((maxy - miny) / res))
    transform = from_origin(minx, maxy, res, res)
    lon = minx + (np.arange(width) + 0.5) * res
    lat = maxy - (np.arange(height) + 0.5) * res
    # distance (km) to central Shanghai, repeated for every tile's own "city centre"
    d = np.hypot((lon[None, :] - 121.47) * 95.3, (lat[:, None] - 31.23) * 111.0)
    glow = (3.0 + 14.0 * np.exp(-d / 14.0)).astype(np.float32)
    status = parcels["土地状态"].to_numpy()
    far = (parcels["建筑面积"] / parcels["area_m2"]).to_numpy()
    bright = np.where(status == "在产", 12.0 + 14.0 * np.clip(far, 0, 3.5), 0.0)
    bright = np.where(status == "停产", 3.0, bright)
    bright = np.where(status == "在建", 8.0, bright)
    bright = np.where(parcels["用地性质"].to_numpy() == "C65", bright * 1.2, bright)
    lit = ~np.isin(status, ["闲置", "未供应"])
    shapes = ((g, float(v)) for g, v in zip(geoms_geo[lit], bright[lit], strict=True))
    burn = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0.0,
                     all_touched=True, dtype="float32", merge_alg=_merge_add())
    idle_mask = rasterize(((g, 1) for g in geoms_geo[~lit]), out_shape=(height, width),
                          transform=transform, fill=0, dtype="uint8") if (~lit).any() else \
        np.zeros((height, width), np.uint8)
    small_scale = _gaussian_blur(rng.lognormal(0.0, 0.5, (height, width)).astype(np.float32), 2.0)
    value = glow * small_scale + _gaussian_blur(burn, 1.2)
    value = np.where(idle_mask > 0, value * 0.35, value)
    value = np.round(value, 2).astype(np.float32)
    # a small cloud-masked patch and a few isolated bad pixels
    r0, c0 = int(rng.integers(height // 4, 3 * height // 4)), int(rng.integers(width // 4, 3 * width // 4))
    value[r0:r0 + 5, c0:c0 + 7] = -9999.0
    bad = rng.integers(0, height * width, 6)
    value.ravel()[bad] = -9999.0
    return Raster(value, transform, NIGHT_LIGHT_CRS, -9999.0,
                  "Synthetic night-time light radiance (nW/cm2/sr); -9999 = cloud mask")


def _merge_add() -> Any:
    """rasterio's additive merge mode (imported lazily)."""
    from rasterio.enums import MergeAlg

    return MergeAlg.add


def make_building_height(parcels: pd.DataFrame, geoms_tm: np.ndarray, outlines_tm: np.ndarray) -> Raster:
    """Building height (m, uint8) on a 30 m UTM 51N grid; 255 outside the district.

    Each parcel's buildings are its polygon shrunk about the centroid to the footprint area;
    height is floors (floor area / footprint) × :data:`STOREY_HEIGHT_M`.
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    to_utm = Transformer.from_crs(TMERC, BUILDING_HEIGHT_CRS, always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = to_utm.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    foot = parcels["基底面积"].to_numpy()
    floor = parcels["建筑面积"].to_numpy()
    built = foot > 0
    g = geoms_tm[built]
    ratio = np.sqrt(foot[built] / parcels["area_m2"].to_numpy()[built])
    coords, idx = shapely.get_coordinates(g, return_index=True)
    cen = shapely.get_coordinates(shapely.centroid(g))
    coords = cen[idx] + (coords - cen[idx]) * ratio[idx, None]
    shrunk = shapely.set_coordinates(g.copy(), coords)  # new geometries; the parcels stay as they are
    shrunk = shapely.transform(shrunk, fn)
    height = np.clip(np.round(floor[built] / foot[built] * STOREY_HEIGHT_M), 1, 254).astype(int)
    outl = shapely.transform(outlines_tm, fn)
    res = BUILDING_HEIGHT_RES_M
    minx, miny, maxx, maxy = shapely.total_bounds(outl)
    minx, miny = np.floor(minx / res) * res - res, np.floor(miny / res) * res - res
    maxx, maxy = np.ceil(maxx / res) * res + res, np.ceil(maxy / res) * res + res
    width, h = round(float((maxx - minx) / res)), round(float((maxy - miny) / res))
    transform = from_origin(minx, maxy, res, res)
    arr = rasterize(((o, 0) for o in outl), out_shape=(h, width), transform=transform, fill=255,
                    dtype="uint8")
    if len(shrunk):
        order = np.argsort(height, kind="stable")  # taller buildings win shared pixels
        burn = rasterize(((s, int(v)) for s, v in zip(shrunk[order], height[order], strict=True)),
                         out_shape=(h, width), transform=transform, fill=0, dtype="uint8")
        arr = np.where(burn > 0, burn, arr).astype(np.uint8)
    return Raster(arr, transform, BUILDING_HEIGHT_CRS, 255,
                  "Synthetic building height (m) = floor area / footprint x 4.5 m; 255 = outside district")
