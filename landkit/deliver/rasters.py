"""Surfaces written: cloud-optimised GeoTIFFs (tiled, compressed, with overviews, CRS and nodata; they
open in QGIS), and PNG image overlays for the interactive map.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling

from landkit.core.crs import named_crs
from landkit.io.write import atomic_path

log = logging.getLogger(__name__)

#: Block size (pixels) of the GeoTIFFs :func:`write_cog` writes.
COG_BLOCKSIZE = 512


def _cog_driver_available() -> bool:
    with rasterio.Env() as env:
        return "COG" in env.drivers()


def write_cog(
    path: Path,
    array: np.ndarray,
    transform: Affine,
    crs: Any,
    nodata: float | None,
    *,
    resampling: Literal["average", "nearest", "bilinear", "mode"] = "average",
    tags: dict[str, str] | None = None,
    smooth: bool = True,
) -> Path:
    """Write a single-band cloud-optimised GeoTIFF, atomically (it opens in QGIS).

    DEFLATE-compressed (level 3) 512 × 512 tiles, overviews (at least one level, down to about one tile),
    the CRS and the nodata value. Written with GDAL's COG driver when rasterio's GDAL has it,
    else as a tiled GeoTIFF with overviews built by rasterio (``build_overviews`` and the
    ``rio_overview`` tags).

    Parameters
    ----------
    path : Path
        The output ``.tif``; written to a temporary file beside it and renamed when complete.
    array : ndarray
        2-D values; NaN is written as ``nodata``.
    transform : Affine
        The array's geotransform.
    crs : any CRS rasterio accepts
    nodata : float or None
        The nodata value (None: none).
    resampling : str
        Overview resampling (``average`` for continuous surfaces, ``nearest``/``mode`` for classes).
    tags : dict, optional
        Metadata written into the file (e.g. a description and unit).
    smooth : bool
        A continuous surface (a density): compressed with GDAL's predictor. ``False`` for values
        constant over areas (a parcel column burnt in), which the predictor makes larger and
        slower to write (measured on the 50,000-parcel city: 1.3 MB in 0.25 s instead of 2.4 MB
        in 0.53 s).

    Returns
    -------
    Path
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"write_cog writes one band: a 2-D array, not shape {array.shape}")
    if nodata is not None and array.dtype.kind == "f" and np.isnan(array).any():
        array = np.where(np.isnan(array), nodata, array).astype(array.dtype, copy=False)
    height, width = array.shape
    crs = rasterio.crs.CRS.from_user_input(named_crs(crs).to_wkt())  # a name QGIS shows, not "unknown"
    base = {"width": width, "height": height, "count": 1, "dtype": array.dtype.name, "crs": crs,
            "transform": transform, "nodata": nodata}
    predictor = (3 if array.dtype.kind == "f" else 2) if smooth else 1
    # DEFLATE level 3 [assumed]: against the default 6, 2.7× faster for 4 % more bytes on the score surface
    # (the files open wherever DEFLATE does: QGIS, ArcGIS, GDAL)
    with atomic_path(Path(path)) as tmp:
        if _cog_driver_available():
            options = {"driver": "COG", "compress": "DEFLATE", "level": 3, "predictor": "YES" if smooth else "NO", "blocksize": COG_BLOCKSIZE,
                       "overview_resampling": resampling.upper(), "bigtiff": "IF_SAFER"}
            if max(width, height) <= COG_BLOCKSIZE:
                options["overview_count"] = 1  # AUTO stops at one tile: keep one level all the same
            with rasterio.open(tmp, "w", **base, **options) as dst:
                dst.write(array, 1)
                if tags:
                    dst.update_tags(**tags)
        else:
            options = {"driver": "GTiff", "tiled": True, "compress": "DEFLATE", "zlevel": 3, "predictor": predictor,
                       "blockxsize": COG_BLOCKSIZE, "blockysize": COG_BLOCKSIZE, "bigtiff": "IF_SAFER"}
            with rasterio.open(tmp, "w", **base, **options) as dst:
                dst.write(array, 1)
                if tags:
                    dst.update_tags(**tags)
                factors = [2]
                while max(width, height) / (factors[-1] * 2) >= COG_BLOCKSIZE / 2:
                    factors.append(factors[-1] * 2)
                dst.build_overviews(factors, Resampling[resampling])
                dst.update_tags(ns="rio_overview", resampling=resampling)
    return Path(path)


def overlay_png(
    array: np.ndarray,
    transform: Affine,
    crs: Any,
    *,
    nodata: float | None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    dst_crs: str = "EPSG:3857",
    resampling: Literal["nearest", "bilinear"] = "nearest",
) -> tuple[bytes, tuple[tuple[float, float], tuple[float, float]]]:
    """Return a PNG image overlay of a surface for the interactive map, and where to put it.

    The surface is reprojected (``rasterio.warp.reproject``) to a grid whose rows and columns are
    straight in the map: by default Web Mercator (EPSG:3857), the projection Leaflet draws in, so
    the stretched image sits exactly where it should; ``dst_crs="EPSG:4326"`` gives a lon/lat grid
    instead (off by up to ~15 m mid-image across a 30 km district at Shanghai's latitude under
    Leaflet). Colours from a matplotlib colormap between ``vmin`` and ``vmax`` (default the valid
    minimum and maximum); nodata and NaN are transparent.

    Parameters
    ----------
    array, transform, crs
        The surface (e.g. from :func:`kernel_density` or :func:`rasterize_column`).
    nodata : float or None
        Its nodata value.
    cmap : str
        A matplotlib colormap name.
    vmin, vmax : float, optional
        Colour range.
    dst_crs : str
        ``EPSG:3857`` (default) or ``EPSG:4326``.
    resampling : str
        ``nearest`` (classes, scores) or ``bilinear`` (smooth surfaces).

    Returns
    -------
    (bytes, ((south, west), (north, east)))
        The PNG and its bounds in WGS84 degrees, as Leaflet's ``L.imageOverlay`` and folium's
        ``ImageOverlay(bounds=...)`` take them.
    """
    import matplotlib
    import matplotlib.image
    from matplotlib.colors import Normalize
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds

    array = np.asarray(array, dtype=np.float64)
    height, width = array.shape
    src_crs = rasterio.crs.CRS.from_user_input(CRS.from_user_input(crs).to_wkt())
    dst = rasterio.crs.CRS.from_user_input(dst_crs)
    west, south, east, north = rasterio.transform.array_bounds(height, width, transform)
    dst_transform, dst_width, dst_height = calculate_default_transform(
        src_crs, dst, width, height, left=west, bottom=south, right=east, top=north)
    src = np.where(array == nodata, np.nan, array) if nodata is not None else array
    out = np.full((dst_height, dst_width), np.nan)
    reproject(src, out, src_transform=transform, src_crs=src_crs, src_nodata=np.nan, dst_transform=dst_transform,
              dst_crs=dst, dst_nodata=np.nan, resampling=Resampling[resampling])
    valid = np.isfinite(out)
    lo = vmin if vmin is not None else (float(np.nanmin(out)) if valid.any() else 0.0)
    hi = vmax if vmax is not None else (float(np.nanmax(out)) if valid.any() else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    rgba = matplotlib.colormaps[cmap](Normalize(lo, hi, clip=True)(np.where(valid, out, lo)))
    rgba[..., 3] = np.where(valid, rgba[..., 3], 0.0)
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, (rgba * 255).round().astype(np.uint8), format="png")
    corners = rasterio.transform.array_bounds(dst_height, dst_width, dst_transform)
    w, s, e, n = transform_bounds(dst, "EPSG:4326", *corners)
    return buffer.getvalue(), ((s, w), (n, e))
