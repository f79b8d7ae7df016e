"""Coordinate reference systems: checking what a layer declares and measuring in metres.

Areas and distances are always computed in the project's projected working CRS (by default a
transverse Mercator on Shanghai's meridian, see the default profile), never in degrees.
:func:`geodesic_area_m2` (pyproj.Geod on the GRS80 ellipsoid, which CGCS2000 uses) is the
reference the tests hold planar areas to.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError as ProjError

from landkit.core.errors import CRSError, LandkitError
from landkit.core.i18n import _

#: China's extent in degrees, used to catch swapped or mislabelled coordinates.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def parse_crs(value: str, *, what: str) -> CRS:
    """Parse a user-given CRS (``EPSG:4490``, ``4549``, WKT or PROJ string).

    Raises
    ------
    CRSError
        Naming ``what`` the CRS was for.
    """
    try:
        return CRS.from_user_input(value)
    except ProjError:
        raise CRSError(_("{what}: `{value}` is not a CRS PROJ understands; use e.g. EPSG:4490")
                       .format(what=what, value=value)) from None


def ensure_crs(gdf: gpd.GeoDataFrame, *, name: str, declared: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` with a checked CRS.

    A layer without a CRS is refused unless one is declared; coordinates that cannot belong to
    the CRS (degrees out of range, lat/lon swapped) are refused with the likely cause.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer as read.
    name : str
        The file (and layer) for messages.
    declared : str, optional
        A CRS the user declared for this layer (``--crs`` or ``crs:`` in the project file). It
        applies only to a layer without a CRS; a layer that has a different one is refused.
    """
    if declared is not None:
        crs = parse_crs(declared, what=name)
        if gdf.crs is None:
            gdf = gdf.set_crs(crs)
        elif not CRS(gdf.crs).equals(crs, ignore_axis_order=True):
            raise CRSError(
                _("{name}: the file says its CRS is {crs} but {declared} was declared; "
                  "remove the declaration or reproject the file").format(
                    name=name, crs=CRS(gdf.crs).to_string(), declared=declared)
            )
    if gdf.crs is None:
        raise CRSError(
            _("{name}: the layer has no CRS (.prj missing?); declare it with --crs EPSG:4490 "
              "(or `crs:` under the input in the project file)").format(name=name)
        )
    check_coordinates(gdf, name=name)
    return gdf


def check_coordinates(gdf: gpd.GeoDataFrame, *, name: str) -> None:
    """Refuse coordinates that cannot be in the layer's CRS.

    Raises
    ------
    CRSError
        For a geographic CRS with values outside ±180/±90 (projected coordinates labelled as
        degrees), or with values that fit China only with latitude and longitude swapped.
    """
    crs = CRS(gdf.crs)
    if gdf.empty:
        return
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if not np.isfinite([xmin, ymin, xmax, ymax]).all():
        return
    if not crs.is_geographic:
        _check_projected(crs, (xmin, ymin, xmax, ymax), name=name)
        return
    in_china = CHINA_LON[0] <= xmin and xmax <= CHINA_LON[1] and CHINA_LAT[0] <= ymin and ymax <= CHINA_LAT[1]
    swapped = CHINA_LAT[0] <= xmin and xmax <= CHINA_LAT[1] and CHINA_LON[0] <= ymin and ymax <= CHINA_LON[1]
    if swapped and not in_china:
        raise CRSError(
            _("{name}: coordinates look like latitude, longitude (x {xmin:.2f}–{xmax:.2f}, y {ymin:.2f}–{ymax:.2f}); "
              "write the file with longitude first (x = longitude)").format(
                name=name, xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)
        )
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise CRSError(
            _("{name}: coordinates ({xmin:.0f}, {ymin:.0f}) … ({xmax:.0f}, {ymax:.0f}) are not degrees "
              "but the CRS is geographic ({crs}); the layer's CRS is wrong: for a shapefile delete the "
              ".prj and pass --crs (e.g. EPSG:4549), otherwise re-label it: ogr2ogr -a_srs EPSG:4549 fixed.gpkg "
              "input.gpkg").format(name=name, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, crs=crs.to_string())
        )


def _check_projected(crs: CRS, bounds: tuple[float, float, float, float], *, name: str) -> None:
    """Refuse projected coordinates far outside where the CRS is defined (a wrong CRS, or garbage)."""
    area = crs.area_of_use
    if area is None:
        return
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    xmin, ymin, xmax, ymax = bounds
    lon, lat = to_lonlat.transform([xmin, xmax, xmin, xmax], [ymin, ymin, ymax, ymax], errcheck=False)
    lon, lat = np.asarray(lon), np.asarray(lat)
    margin = 5.0  # degrees: a layer may reach a little beyond the official area of use
    inside = (np.isfinite(lon).all() and np.isfinite(lat).all() and area.west - margin <= lon.min()
              and lon.max() <= area.east + margin and area.south - margin <= lat.min() and lat.max() <= area.north + margin)
    if not inside:
        raise CRSError(
            _("{name}: coordinates ({xmin:.0f}, {ymin:.0f}) … ({xmax:.0f}, {ymax:.0f}) lie outside where "
              "{crs} is defined ({area}: {west:g}–{east:g}°E, {south:g}–{north:g}°N); "
              "the layer's CRS is wrong or its coordinates are: check them in QGIS, re-label the CRS "
              "(ogr2ogr -a_srs EPSG:… fixed.gpkg input.gpkg) or fix the coordinates").format(
                name=name, xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, crs=crs.to_string(), area=area.name,
                west=area.west, east=area.east, south=area.south, north=area.north)
        )


#: Largest area error the working CRS may make over a layer (the README's promise): 0.05 %.
MAX_AREA_ERROR = 0.0005


def tm_area_error(lonlat_bounds: tuple[float, float, float, float], meridian: float, k0: float = 1.0) -> float:
    """Return the largest areal scale error of a transverse Mercator on ``meridian`` over the bounds.

    The areal scale at Δλ from the central meridian is about k0² (1 + (Δλ cos φ)²) (Snyder 1987,
    eq. 8-8, squared), largest at the corner farthest from the meridian and nearest the equator.
    """
    west, south, east, north = lonlat_bounds
    dlon = np.radians(max(abs(west - meridian), abs(east - meridian)))
    phi = np.radians(min(abs(south), abs(north)))
    return float(abs(k0 ** 2 * (1 + (dlon * np.cos(phi)) ** 2) - 1))


def suggested_working_crs(lonlat_bounds: tuple[float, float, float, float]) -> str:
    """Return a working CRS for a layer's extent: a transverse Mercator on its meridian if that keeps
    areas within :data:`MAX_AREA_ERROR`, else an Albers equal-area conic fitted to it (areas exact,
    distances a little off), both on the GRS80 ellipsoid of CGCS2000."""
    west, south, east, north = lonlat_bounds
    centre = round((west + east) / 2, 2)
    if tm_area_error(lonlat_bounds, centre) <= MAX_AREA_ERROR:
        return f"+proj=tmerc +lat_0=0 +lon_0={centre:g} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    span = north - south
    lat1, lat2 = round(south + span / 6, 2), round(north - span / 6, 2)  # the 1/6 rule for standard parallels
    return (f"+proj=aea +lat_1={lat1:g} +lat_2={lat2:g} +lat_0={round((south + north) / 2, 2):g} +lon_0={centre:g} "
            "+x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs")


def check_working_crs(lonlat_bounds: tuple[float, float, float, float], working: str | CRS, *, name: str) -> None:
    """Refuse a transverse Mercator working CRS whose scale error over the layer passes 0.05 % of area.

    See :func:`tm_area_error`; at the layer's farthest corner it must stay within
    :data:`MAX_AREA_ERROR`.

    Raises
    ------
    CRSError
        With a working CRS on the layer's own meridian to put in the project file.
    """
    spec = CRS.from_user_input(working).to_json_dict().get("conversion", {})
    if "Transverse Mercator" not in spec.get("method", {}).get("name", ""):
        return
    params = {p["name"]: p["value"] for p in spec.get("parameters", [])}
    meridian, k0 = params.get("Longitude of natural origin"), params.get("Scale factor at natural origin", 1.0)
    if meridian is None:
        return
    error = tm_area_error(lonlat_bounds, meridian, k0)
    if error > MAX_AREA_ERROR:
        west, east = lonlat_bounds[0], lonlat_bounds[2]
        raise CRSError(
            _("{name}: the layer spans {west:.2f}–{east:.2f}°E, from the working CRS's central meridian "
              "({meridian:g}°E) its areas would be off by up to {error:.2f} % (landkit allows "
              "{allowed:g} %); set a working CRS that suits it in the project file: "
              "crs: {{working: \"{working}\"}}").format(
                name=name, west=west, east=east, meridian=meridian, error=100 * error,
                allowed=100 * MAX_AREA_ERROR, working=suggested_working_crs(lonlat_bounds))
        )


def to_working(gdf: gpd.GeoDataFrame, working: str | CRS) -> gpd.GeoDataFrame:
    """Reproject to the working CRS (no copy when it is already there)."""
    target = CRS.from_user_input(working)
    if CRS(gdf.crs).equals(target):
        return gdf
    return gdf.to_crs(target)


def output_crs(setting: str, *, input_crs: CRS, working: str) -> CRS:
    """Resolve the ``crs.output`` setting (``input``, ``working`` or a CRS) to a CRS."""
    if setting == "input":
        return CRS(input_crs)
    if setting == "working":
        return named_crs(working)
    return parse_crs(setting, what="crs.output")


def named_crs(crs: str | CRS) -> CRS:
    """Return ``crs`` with a name, so that QGIS and GDAL show what it is rather than "unknown".

    A PROJ string (the working CRS) has none: it is named after its projection and central
    meridian, and a GRS80 ellipsoid without a datum becomes CGCS2000 (EPSG:4490), whose
    ellipsoid it is.
    """
    crs = CRS.from_user_input(crs)
    spec = crs.to_json_dict()
    if spec.get("name") not in (None, "unknown"):
        return crs
    params = {p["name"]: p["value"] for p in spec.get("conversion", {}).get("parameters", [])}
    meridian = params.get("Longitude of natural origin")
    method = spec.get("conversion", {}).get("method", {}).get("name", "projection")
    spec["name"] = f"{method}, central meridian {meridian:g}° (landkit working CRS)" if meridian is not None else \
        f"{method} (landkit working CRS)"
    base = spec.get("base_crs", {})
    if base.get("name") == "unknown" and "GRS 1980" in str(base.get("datum", {}).get("ellipsoid", {})):
        cgcs = CRS.from_epsg(4490).to_json_dict()
        cgcs.pop("$schema", None)
        cgcs.pop("id", None)
        spec["base_crs"] = cgcs
    return CRS.from_json_dict(spec)


#: Axis unit names pyproj gives a metre.
METRE_UNITS = frozenset({"metre", "meter", "m"})


@overload
def require_metric(crs: Any, what: str, *, error: type[LandkitError] = ...,
                   missing_ok: Literal[False] = ...) -> CRS: ...
@overload
def require_metric(crs: Any, what: str, *, error: type[LandkitError] = ..., missing_ok: bool) -> CRS | None: ...


def require_metric(crs: Any, what: str, *, error: type[LandkitError] = CRSError, missing_ok: bool = False) -> CRS | None:
    """Return ``crs`` as a pyproj CRS if it is projected with its axes in metres; refuse it otherwise.

    The one check of every measurement landkit makes in a CRS (areas, distances, road lengths,
    raster resolutions, kernel bandwidths).

    Parameters
    ----------
    crs : CRS-like
        Anything pyproj reads (a CRS, ``"EPSG:4549"``, WKT ...).
    what : str
        What is being measured, for the message (``"areas"``, ``"roads"`` ...).
    error : exception class
        What to raise: :class:`~landkit.core.errors.CRSError` (the data's CRS) by default,
        :class:`~landkit.core.errors.ConfigError` for a CRS the project file names.
    missing_ok : bool
        Take a layer without a CRS as being in metres (None is returned): for functions that
        also serve bare geometry (tests, scripts).

    Raises
    ------
    error
        If ``crs`` is missing, geographic, or projected in another unit (feet).
    """
    if crs is None:
        if missing_ok:
            return None
        raise error(_("{what}: the layer has no CRS, and landkit measures in a projected CRS in metres: declare it "
                      "(crs: EPSG:...)").format(what=what))
    parsed = CRS.from_user_input(crs)
    if not parsed.is_projected:
        raise error(_("{what}: {name} is in degrees, not projected: landkit measures in a projected CRS in metres; "
                      "reproject to the working CRS first").format(what=what, name=parsed.name))
    units = {axis.unit_name for axis in parsed.axis_info}
    if not units <= METRE_UNITS:
        raise error(_("{what}: {name} is in {units}, not metres; reproject to the working CRS first")
                    .format(what=what, name=parsed.name, units=", ".join(sorted(units))))
    return parsed


def planar_area_m2(geometry: gpd.GeoSeries) -> pd.Series:
    """Return polygon areas in m² from a GeoSeries in a projected CRS in metres.

    Raises
    ------
    CRSError
        If the series is not in a projected CRS in metres (:func:`require_metric`).
    """
    require_metric(geometry.crs, _("areas"))
    return pd.Series(shapely.area(geometry.values), index=geometry.index, name="area_m2")


def geodesic_area_m2(geometry: gpd.GeoSeries, ellps: str = "GRS80") -> pd.Series:
    """Return polygon areas in m² on the ellipsoid (the reference for planar areas).

    One pyproj call per geometry: this is the slow, exact reference used by tests and checks,
    not a hot path.
    """
    geographic = geometry.to_crs(CRS.from_user_input("EPSG:4490"))
    geod = Geod(ellps=ellps)
    areas = [abs(geod.geometry_area_perimeter(g)[0]) if g is not None else np.nan for g in geographic.values]
    return pd.Series(areas, index=geometry.index, name="geodesic_area_m2")


def transformer(src: CRS | str, dst: CRS | str) -> Transformer:
    """Return an ``always_xy`` transformer (longitude, latitude order for geographic CRSs)."""
    return Transformer.from_crs(src, dst, always_xy=True)
