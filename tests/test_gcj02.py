"""WGS84 ↔ GCJ-02: published reference points, the Minhang offset, the inverse, GeoDataFrames.

Distances are measured with pyproj.Geod on the WGS84 ellipsoid, never with landkit's helpers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from landkit.core.errors import CRSError
from landkit.core.gcj02 import from_gcj02, gcj02_to_wgs84, in_china_bbox, to_gcj02, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")

# Published pairs from eviltransform's test suite (github.com/googollee/eviltransform: the same
# table in go/transform_test.go, c/test.c and python/test.py), written there as
# (wgsLat, wgsLng, gcjLat, gcjLng); reordered here to lon, lat. eviltransform checks them to
# 5–6 decimals.
EVILTRANSFORM = {
    "shanghai": ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    "shenzhen": ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    "beijing": ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
}

# wandergis/coordtransform README (and test/app.js), "wgs84togcj02(116.404, 39.915)", printed at
# full double precision by an implementation with the same Krasovsky constants.
COORDTRANSFORM_WGS = (116.404, 39.915)
COORDTRANSFORM_GCJ = (116.41024449916938, 39.91640428150164)

# Gaode's own web service: the example of the Amap coordinate-conversion API
# (lbs.amap.com/api/webservice/guide/api/convert, coordsys=gps), as quoted in the README of the
# MapCoords package on PyPI. Gaode returns 6 decimals, so agreement is to ±5e-7° plus rounding.
AMAP_WGS = (116.481499, 39.990475)
AMAP_GCJ = (116.487586, 39.991754)

#: Minhang's extent (degrees), as in test_crs.py.
MINHANG = (121.25, 121.58, 30.97, 31.26)
#: Mainland China, well inside the box where GCJ-02 shifts (Hainan to Mohe, Pamirs to the Wusuli).
MAINLAND = (73.5, 135.0, 18.0, 53.5)


def _distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, dist = GEOD.inv(np.ravel(lon1), np.ravel(lat1), np.ravel(lon2), np.ravel(lat2))
    return np.asarray(dist)


def _grid(extent: tuple[float, float, float, float], step: float) -> tuple[np.ndarray, np.ndarray]:
    lon_min, lon_max, lat_min, lat_max = extent
    lons = np.linspace(lon_min, lon_max, round((lon_max - lon_min) / step) + 1)
    lats = np.linspace(lat_min, lat_max, round((lat_max - lat_min) / step) + 1)
    lon, lat = np.meshgrid(lons, lats)
    return lon.ravel(), lat.ravel()


# --- published reference points ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVILTRANSFORM))
def test_eviltransform_reference_points(name):
    (wlon, wlat), (glon, glat) = EVILTRANSFORM[name]
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-6)
    assert lat == pytest.approx(glat, abs=1e-6)


def test_coordtransform_readme_point():
    lon, lat = wgs84_to_gcj02(*COORDTRANSFORM_WGS)
    # Published at full precision with the same constants: agreement to rounding, not just 1e-6.
    assert lon == pytest.approx(COORDTRANSFORM_GCJ[0], abs=1e-9)
    assert lat == pytest.approx(COORDTRANSFORM_GCJ[1], abs=1e-9)
    # ... and the exact inverse recovers the published input.
    back_lon, back_lat = gcj02_to_wgs84(*COORDTRANSFORM_GCJ)
    assert back_lon == pytest.approx(COORDTRANSFORM_WGS[0], abs=1e-9)
    assert back_lat == pytest.approx(COORDTRANSFORM_WGS[1], abs=1e-9)


def test_gaode_service_example():
    lon, lat = wgs84_to_gcj02(*AMAP_WGS)
    assert lon == pytest.approx(AMAP_GCJ[0], abs=1e-6)
    assert lat == pytest.approx(AMAP_GCJ[1], abs=1e-6)


@pytest.mark.parametrize("name", sorted(EVILTRANSFORM))
def test_inverse_of_reference_points(name):
    (wlon, wlat), (glon, glat) = EVILTRANSFORM[name]
    lon, lat = gcj02_to_wgs84(glon, glat)
    # eviltransform's own "exact" inverse is held to 0.5 m; this one does far better.
    assert _distance_m(lon, lat, wlon, wlat).max() < 0.01


# --- the offset ----------------------------------------------------------------------------------


def test_minhang_offset_is_a_few_hundred_metres():
    lon, lat = wgs84_to_gcj02(121.42, 31.08)
    azimuth, _, dist = GEOD.inv(121.42, 31.08, lon, lat)
    assert 300 < dist < 700
    assert 90 < azimuth < 135  # east-south-east


def test_offset_over_minhang():
    wlon, wlat = _grid(MINHANG, 0.01)
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    dist = _distance_m(wlon, wlat, glon, glat)
    assert dist.min() > 300 and dist.max() < 700


@pytest.mark.parametrize(
    "lon, lat",
    [
        (2.3522, 48.8566),  # Paris
        (-74.006, 40.7128),  # New York
        (151.2093, -33.8688),  # Sydney
        (139.6917, 35.6895),  # Tokyo, east of the box
        (0.0, 0.0),
        (72.0, 35.0),  # just west of the box
        (121.42, 55.9),  # just north of the box
        (110.0, 0.8),  # just south of the box
        (137.9, 45.0),  # just east of the box
    ],
)
def test_points_outside_china_are_unchanged(lon, lat):
    assert not in_china_bbox(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_mixed_arrays_shift_only_points_in_china():
    lon = np.array([121.42, 2.3522, np.nan, 116.404])
    lat = np.array([31.08, 48.8566, 31.0, 39.915])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon[1] == lon[1] and glat[1] == lat[1]
    assert np.isnan(glon[2]) and glat[2] == lat[2]
    assert glon[3] == pytest.approx(COORDTRANSFORM_GCJ[0], abs=1e-9)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert wlon[1] == lon[1] and np.isnan(wlon[2])
    assert _distance_m(wlon[[0, 3]], wlat[[0, 3]], lon[[0, 3]], lat[[0, 3]]).max() < 0.01


def test_shapes_broadcast_and_scalars():
    lon = np.array([[121.3], [121.5]])
    lat = np.array([31.0, 31.1, 31.2])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == glat.shape == (2, 3)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert wlon.shape == (2, 3)
    np.testing.assert_allclose(wlon, np.broadcast_to(lon, (2, 3)), atol=1e-9)
    np.testing.assert_allclose(wlat, np.broadcast_to(lat, (2, 3)), atol=1e-9)
    scalar_lon, scalar_lat = wgs84_to_gcj02(121.42, 31.08)
    assert np.ndim(scalar_lon) == 0 and isinstance(scalar_lat, float)
    assert np.ndim(gcj02_to_wgs84(scalar_lon, scalar_lat)[0]) == 0


# --- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("extent, step", [(MINHANG, 0.005), (MAINLAND, 0.25)], ids=["minhang", "mainland"])
def test_round_trip(extent, step):
    wlon, wlat = _grid(extent, step)
    if extent == MAINLAND:
        # lon 105° is where the formula's sqrt|lon − 105| has its cusp.
        extra = np.linspace(18.0, 53.5, 200)
        wlon = np.concatenate([wlon, np.full(600, 105.0) + np.repeat([0.0, 1e-9, -1e-7], 200)])
        wlat = np.concatenate([wlat, np.tile(extra, 3)])
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    assert in_china_bbox(glon, glat).all()
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    error = _distance_m(wlon, wlat, back_lon, back_lat)
    assert error.max() < 0.5  # the requirement
    assert error.max() < 0.01  # what the iteration gives (about 1e-5 m)


def test_inverse_tolerance_is_honoured():
    wlon, wlat = _grid(MINHANG, 0.03)
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    coarse = gcj02_to_wgs84(glon, glat, tol_deg=1e-5)
    fine = gcj02_to_wgs84(glon, glat, tol_deg=1e-12)
    coarse_err = _distance_m(wlon, wlat, *coarse).max()
    fine_err = _distance_m(wlon, wlat, *fine).max()
    assert fine_err < 1e-6 and fine_err <= coarse_err < 5.0
    with pytest.raises(ValueError):
        gcj02_to_wgs84(121.4, 31.1, tol_deg=0)


# --- GeoDataFrames -------------------------------------------------------------------------------


def _minhang_layer() -> gpd.GeoDataFrame:
    shell = [(121.40, 31.10), (121.41, 31.10), (121.41, 31.11), (121.40, 31.11), (121.40, 31.10)]
    hole = [(121.403, 31.103), (121.406, 31.103), (121.406, 31.106), (121.403, 31.103)]
    return gpd.GeoDataFrame(
        {"name": ["parcel", "road", "gate"], "area_mu": [15.0, np.nan, np.nan]},
        geometry=[
            Polygon(shell, [hole]),
            LineString([(121.30, 31.00), (121.45, 31.15), (121.55, 31.20)]),
            Point(121.42, 31.08),
        ],
        crs="EPSG:4490",
    )


def test_to_gcj02_matches_point_functions():
    layer = _minhang_layer()
    before = layer.copy()
    shifted = to_gcj02(layer)

    assert shifted.crs.to_epsg() == 4326
    assert list(shifted.geom_type) == ["Polygon", "LineString", "Point"]
    assert list(shifted["name"]) == ["parcel", "road", "gate"]
    assert layer.geom_equals_exact(before, tolerance=0).all() and layer.crs == before.crs  # input untouched

    # EPSG:4490 → EPSG:4326 is the identity in PROJ: the vertices are shifted as they stand.
    for src, dst in zip(layer.geometry, shifted.geometry, strict=True):
        xy = shapely.get_coordinates(src)
        expected = np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        np.testing.assert_allclose(shapely.get_coordinates(dst), expected, rtol=0, atol=1e-12)
    assert len(shifted.geometry.iloc[0].interiors) == 1

    back = from_gcj02(shifted)
    assert back.crs.to_epsg() == 4326
    a = shapely.get_coordinates(layer.geometry)
    b = shapely.get_coordinates(back.geometry)
    assert a.shape == b.shape
    error = _distance_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    assert error.max() < 0.5
    assert error.max() < 0.01


def test_to_gcj02_from_projected_crs():
    layer = _minhang_layer()
    projected = layer.to_crs("EPSG:4549")  # Gauss–Krüger CM 120°E, metres
    a = shapely.get_coordinates(to_gcj02(layer).geometry)
    b = shapely.get_coordinates(to_gcj02(projected).geometry)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)  # ~1 mm


def test_z_is_kept_and_missing_geometries_pass():
    layer = gpd.GeoDataFrame(
        geometry=[LineString([(121.3, 31.0, 4.5), (121.4, 31.1, 5.5)]), None, Polygon()], crs="EPSG:4326"
    )
    shifted = to_gcj02(layer)
    xyz = shapely.get_coordinates(shifted.geometry.iloc[0], include_z=True)
    np.testing.assert_array_equal(xyz[:, 2], [4.5, 5.5])
    np.testing.assert_allclose(xyz[:, :2], np.column_stack(wgs84_to_gcj02([121.3, 121.4], [31.0, 31.1])), atol=1e-12)
    assert shifted.geometry.iloc[1] is None
    assert shifted.geometry.iloc[2].is_empty


def test_crs_checks():
    layer = _minhang_layer()
    with pytest.raises(CRSError, match="no CRS"):
        to_gcj02(layer.set_crs(None, allow_override=True))
    with pytest.raises(CRSError, match="projected"):
        from_gcj02(layer.to_crs("EPSG:4549"))
    # GCJ-02 files often carry no CRS at all: they are read as longitude/latitude.
    unlabelled = to_gcj02(layer).set_crs(None, allow_override=True)
    assert from_gcj02(unlabelled).crs.to_epsg() == 4326
