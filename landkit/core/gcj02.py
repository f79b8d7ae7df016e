"""WGS84 ↔ GCJ-02 ("Mars coordinates"), for drawing landkit's layers on Gaode/Amap and Tencent tiles.

Why overlays must be shifted
----------------------------
Online maps published in mainland China must obfuscate positions. Gaode/Amap and Tencent tiles
(and the coordinates their APIs return) are drawn in GCJ-02: longitude/latitude shifted by a
smooth, non-linear offset of a few hundred metres. Across Minhang the offset is about 470–495 m
towards the east-south-east (bearing about 116°), so a parcel layer in CGCS2000 or WGS84 drawn
unshifted on a Gaode basemap lands a few blocks away from the plot it describes. Shift the layer
with :func:`to_gcj02` before adding it to such a map; use :func:`from_gcj02` for points digitised
on (or geocoded by) Gaode or Tencent. Tianditu tiles are CGCS2000, which agrees with WGS84 to well
under a metre (PROJ treats the two as identical), and need no shift; OpenStreetMap and Esri
imagery are WGS84 and need none either.

Name and origin of the formula
------------------------------
GCJ is 国测局 (国家测绘局, the State Bureau of Surveying and Mapping) and 02 the year 2002; the
official name is 地形图非线性保密处理算法 ("non-linear confidentiality processing of topographic
maps"). It is not a published GB/T standard: the algorithm is confidential. What every open
implementation uses, and what this module implements, is the forward formula that has circulated
publicly since the early 2010s and was collected in the MIT-licensed *eviltransform* project
(github.com/googollee/eviltransform, in a dozen languages) and in *coordtransform*
(github.com/wandergis/coordtransform): two fixed trigonometric polynomials give an offset in
metres, which is turned into degrees with the radii of curvature of the Krasovsky 1940 ellipsoid
(a = 6 378 245 m, e² = 0.00669342162296594323). It reproduces the published test values of
those projects and the example of Gaode's own conversion API to the 10⁻⁶° Gaode returns (see
the tests), so the forward direction is taken as exact; the inverse has no closed form and is
solved by fixed-point iteration to 10⁻¹⁰° (about 0.01 mm).

Points outside the rough box around mainland China that the public implementations use
(:data:`CHINA_BBOX`) are returned unchanged, as GCJ-02 software does. The box is a rough
rectangle that also covers neighbouring countries (Seoul, Hanoi and Ulaanbaatar are inside it),
where the shift means nothing: use this module for mainland China only.

Why it lives here
-----------------
The PyPI packages found for this (``eviltransform``, ``coord-convert``, ``coordTransform_py``,
``prcoords``) convert one point per call in pure Python, and ``xyconvert`` (numpy arrays, last
released 2020) does not handle shapely geometries either. None transforms a GeoDataFrame, and
the formula is twenty lines, so landkit implements it vectorised with numpy and applies it to all
geometry types at once with :func:`shapely.transform`.

There is no EPSG code for GCJ-02. Layers returned by :func:`to_gcj02` carry ``EPSG:4326`` as
their CRS because web maps read that as "longitude/latitude degrees", but their coordinates are
GCJ-02: never reproject, measure or save them as if they were WGS84.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from landkit.core.errors import CRSError
from landkit.core.i18n import _

#: Semi-major axis (m) of the Krasovsky 1940 ellipsoid, used by the public GCJ-02 formula.
KRASOVSKY_A = 6378245.0
#: First eccentricity squared of the Krasovsky 1940 ellipsoid, as written in the public formula.
KRASOVSKY_EE = 0.00669342162296594323
#: (lon_min, lat_min, lon_max, lat_max): the box the public implementations shift (ends included).
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)
#: The CRS label carried by GCJ-02 layers (no EPSG code exists for GCJ-02 itself).
GCJ02_CRS_LABEL = "EPSG:4326"

_Coords = tuple[NDArray[np.float64], NDArray[np.float64]]
_CoordFunc = Callable[[NDArray[np.float64], NDArray[np.float64]], _Coords]


def in_china_bbox(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Tell which points lie in :data:`CHINA_BBOX`, the box where GCJ-02 shifts coordinates.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude in degrees (broadcast against each other). NaN is outside.

    Returns
    -------
    ndarray of bool
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lon_min, lat_min, lon_max, lat_max = CHINA_BBOX
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _offset_m(x: NDArray[np.float64], y: NDArray[np.float64]) -> _Coords:
    """Evaluate the public offset polynomials (``transform_lon``, ``transform_lat``), in metres.

    ``x`` and ``y`` are longitude − 105° and latitude − 35° (degrees).
    """
    pi = np.pi
    common = (20.0 * np.sin(6.0 * pi * x) + 20.0 * np.sin(2.0 * pi * x)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    d_lon += (20.0 * np.sin(pi * x) + 40.0 * np.sin(pi * x / 3.0)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(pi * x / 12.0) + 300.0 * np.sin(pi * x / 30.0)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    d_lat += (20.0 * np.sin(pi * y) + 40.0 * np.sin(pi * y / 3.0)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(pi * y / 12.0) + 320.0 * np.sin(pi * y / 30.0)) * 2.0 / 3.0
    return d_lon, d_lat


def gcj02_offset(lon: ArrayLike, lat: ArrayLike) -> _Coords:
    """Return the GCJ-02 offset (degrees) that the forward formula adds at WGS84 ``(lon, lat)``.

    The offset is computed everywhere, inside :data:`CHINA_BBOX` or not; :func:`wgs84_to_gcj02`
    applies it only inside.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees (broadcast against each other).

    Returns
    -------
    dlon, dlat : ndarray
        Offsets in degrees of longitude and latitude.
    """
    lon, lat = (a.astype(float) for a in np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float)))
    d_lon_m, d_lat_m = _offset_m(lon - 105.0, lat - 35.0)
    phi = np.radians(lat)
    w2 = 1.0 - KRASOVSKY_EE * np.sin(phi) ** 2
    w = np.sqrt(w2)
    meridian_radius = KRASOVSKY_A * (1.0 - KRASOVSKY_EE) / (w2 * w)  # M
    parallel_radius = KRASOVSKY_A / w * np.cos(phi)  # N cos φ
    return np.degrees(d_lon_m / parallel_radius), np.degrees(d_lat_m / meridian_radius)


def _scalar_if_0d(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unwrap 0-d arrays into numpy scalars so that scalar input gives scalar output."""
    return a[()] if a.ndim == 0 else a


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> _Coords:
    """Convert WGS84 (or CGCS2000) longitude/latitude to GCJ-02 with the public forward formula.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude in degrees; any shapes that broadcast together.

    Returns
    -------
    lon, lat : ndarray or numpy.float64
        GCJ-02 longitude and latitude in degrees, with the broadcast shape of the inputs (numpy
        scalars for scalar inputs). Points outside :data:`CHINA_BBOX` and NaNs are returned
        unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.42, 31.08)  # Minhang: 490 m east-south-east
    >>> round(float(lon), 5), round(float(lat), 5)
    (121.42463, 31.07808)
    """
    lon_a, lat_a = (a.astype(float) for a in np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float)))
    d_lon, d_lat = gcj02_offset(lon_a, lat_a)
    inside = in_china_bbox(lon_a, lat_a)
    out_lon = np.where(inside, lon_a + d_lon, lon_a)
    out_lat = np.where(inside, lat_a + d_lat, lat_a)
    return _scalar_if_0d(out_lon), _scalar_if_0d(out_lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30) -> _Coords:
    """Convert GCJ-02 longitude/latitude back to WGS84 by fixed-point iteration.

    Starting at the GCJ-02 point ``g``, each step moves the estimate ``w`` by the remaining
    mismatch: ``w ← w − (wgs84_to_gcj02(w) − g)``, i.e. ``w ← g − offset(w)``. The offset
    changes by well under 1 % of itself per unit of position, so every step gains more than two
    digits; 10⁻¹⁰° is reached in four or five steps. Points are iterated until their own
    mismatch is at most ``tol_deg`` in both coordinates.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees; any shapes that broadcast together.
    tol_deg : float, default 1e-10
        Stop a point once ``wgs84_to_gcj02`` of its estimate is within this many degrees of the
        input (10⁻¹⁰° is about 0.01 mm).
    max_iter : int, default 30
        Upper bound on the number of steps; points not converged by then keep their last
        estimate. In practice every point converges in at most five steps.

    Notes
    -----
    The forward shift stops abruptly at the edges of :data:`CHINA_BBOX`, so within about 0.01°
    of them (up to 1 km; the edges lie outside mainland China, e.g. 137.83°E and 55.83°N) a
    WGS84 point whose GCJ-02 image falls outside the box cannot be recovered: that image is
    returned unchanged, as the public implementations do.

    Returns
    -------
    lon, lat : ndarray or numpy.float64
        WGS84 longitude and latitude in degrees, shaped like the broadcast inputs (numpy scalars
        for scalar inputs). Points outside :data:`CHINA_BBOX` and NaNs come back unchanged.
    """
    if not tol_deg > 0:
        raise ValueError(f"tol_deg must be positive, got {tol_deg!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}")
    g_lon, g_lat = (a.astype(float) for a in np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float)))
    w_lon = g_lon.ravel().copy()
    w_lat = g_lat.ravel().copy()
    t_lon = g_lon.ravel()
    t_lat = g_lat.ravel()
    active = np.arange(w_lon.size)
    for _iteration in range(max_iter):
        if active.size == 0:
            break
        f_lon, f_lat = wgs84_to_gcj02(w_lon[active], w_lat[active])
        r_lon = f_lon - t_lon[active]
        r_lat = f_lat - t_lat[active]
        # NaN residuals compare False: NaN inputs stop at once and stay NaN.
        moving = (np.abs(r_lon) > tol_deg) | (np.abs(r_lat) > tol_deg)
        idx = active[moving]
        w_lon[idx] -= r_lon[moving]
        w_lat[idx] -= r_lat[moving]
        active = idx
    shape = g_lon.shape
    return _scalar_if_0d(w_lon.reshape(shape)), _scalar_if_0d(w_lat.reshape(shape))


def _transform_geometries(geoms: NDArray[np.object_], func: _CoordFunc) -> NDArray[np.object_]:
    """Apply ``func(lon, lat)`` to every vertex of every geometry, keeping Z where there is one."""

    def xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    result = geoms.copy()
    has_z = shapely.has_z(geoms)
    if (~has_z).any():
        result[~has_z] = shapely.transform(geoms[~has_z], xy)
    if has_z.any():
        result[has_z] = shapely.transform(geoms[has_z], xy, include_z=True)
    return result


def _replace_geometry(gdf: gpd.GeoDataFrame, func: _CoordFunc) -> gpd.GeoDataFrame:
    """``gdf`` (a copy, already in lon/lat) with its active geometry shifted by ``func``, CRS 4326."""
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    shifted = _transform_geometries(geoms, func)
    gdf[gdf.geometry.name] = gpd.GeoSeries(shifted, index=gdf.index, crs=GCJ02_CRS_LABEL)
    return gdf


def to_gcj02(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Shift a layer onto GCJ-02, to draw it on Gaode/Amap or Tencent tiles.

    The layer is first reprojected from its CRS (any CRS: CGCS2000 EPSG:4490, Gauss–Krüger
    EPSG:4549/4550, the working CRS, …) to WGS84 longitude/latitude, then every vertex of every
    geometry (all geometry types, Z kept) is shifted with :func:`wgs84_to_gcj02`. CGCS2000 is
    taken as equal to WGS84, as PROJ does (they differ by well under a metre).

    Parameters
    ----------
    gdf : GeoDataFrame
        A layer with a CRS. It is not modified. Only the active geometry column is converted.

    Returns
    -------
    GeoDataFrame
        A copy whose geometries are in GCJ-02 longitude/latitude. Its CRS is labelled
        ``EPSG:4326`` because there is no EPSG code for GCJ-02 and web maps take that label as
        "degrees": the coordinates are nevertheless GCJ-02, so do not reproject, measure or
        export them as WGS84; use :func:`from_gcj02` to come back.

    Raises
    ------
    CRSError
        If ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        raise CRSError(
            _("the layer has no CRS, so it cannot be shifted to GCJ-02; set its CRS first, "
              "e.g. gdf.set_crs('EPSG:4490')")
        )
    return _replace_geometry(gdf.to_crs("EPSG:4326"), wgs84_to_gcj02)


def from_gcj02(gdf: gpd.GeoDataFrame, *, tol_deg: float = 1e-10, max_iter: int = 30) -> gpd.GeoDataFrame:
    """Shift a layer digitised on (or geocoded by) Gaode/Amap or Tencent back from GCJ-02 to WGS84.

    The coordinates are taken as GCJ-02 longitude/latitude whatever geographic CRS the layer
    declares (GCJ-02 has no EPSG code, so such layers say EPSG:4326, EPSG:4490 or nothing).
    Every vertex is converted with :func:`gcj02_to_wgs84`; the result is within 0.1 mm of the
    WGS84 point that :func:`wgs84_to_gcj02` maps onto it.

    Parameters
    ----------
    gdf : GeoDataFrame
        A layer in GCJ-02 longitude/latitude, with a geographic CRS or none. It is not modified.
        Only the active geometry column is converted.
    tol_deg, max_iter
        Passed to :func:`gcj02_to_wgs84`.

    Returns
    -------
    GeoDataFrame
        A copy in true WGS84 longitude/latitude, CRS ``EPSG:4326``; reproject it with ``to_crs``
        as usual (e.g. to EPSG:4490 or the working CRS).

    Raises
    ------
    CRSError
        If the layer declares a projected CRS, or has no CRS and coordinates that are not degrees.
    """
    if gdf.crs is not None and not CRS(gdf.crs).is_geographic:
        raise CRSError(
            _("the layer's CRS {crs} is projected, but GCJ-02 data are longitude/latitude "
              "degrees; a projected layer cannot be in GCJ-02").format(crs=CRS(gdf.crs).to_string())
        )
    if gdf.crs is None and not gdf.empty:
        xmin, ymin, xmax, ymax = gdf.total_bounds
        if np.isfinite([xmin, ymin, xmax, ymax]).all() and (xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90):
            raise CRSError(
                _("the layer has no CRS and coordinates ({xmin:.0f}, {ymin:.0f}) … ({xmax:.0f}, {ymax:.0f}) "
                  "that are not degrees; GCJ-02 data are longitude/latitude").format(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax)
            )

    def inverse(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Coords:
        return gcj02_to_wgs84(lon, lat, tol_deg=tol_deg, max_iter=max_iter)

    return _replace_geometry(gdf.copy(), inverse)
