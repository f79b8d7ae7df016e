"""CRS handling: planar areas against geodesic ones, declared and missing CRSs, bad coordinates.

The reference area of every parcel is pyproj.Geod on GRS80 (the CGCS2000 ellipsoid) applied
directly to the lon/lat polygon the test draws, never landkit's own helpers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod

from landkit.config.models import Source
from landkit.core.crs import ensure_crs, planar_area_m2, to_working
from landkit.core.errors import CRSError
from landkit.io.read import read_vector

GEOD = Geod(ellps="GRS80")
REL = 5e-4  # 0.05 %

#: Minhang's extent (degrees), ends included.
LONS = [121.25, 121.32, 121.40, 121.4644444, 121.52, 121.58]
LATS = [30.97, 31.05, 31.12, 31.20, 31.26]


def _lonlat_parcels() -> gpd.GeoDataFrame:
    """Rectangles and L-shapes (~300 m across) with a corner on each grid point of Minhang.

    Polygons reach inwards from the grid point, so those on the extent's edges touch the ends
    of the range exactly.
    """
    geoms, ids = [], []
    for i, lon in enumerate(LONS):
        for j, lat in enumerate(LATS):
            sx = -1 if lon == LONS[-1] else 1  # stay inside the range at its east and north ends
            sy = -1 if lat == LATS[-1] else 1
            dx, dy = 0.003 * sx, 0.0025 * sy
            if (i + j) % 2 == 0:
                geom = shapely.Polygon([(lon, lat), (lon + dx, lat), (lon + dx, lat + dy), (lon, lat + dy)])
            else:
                geom = shapely.Polygon(
                    [(lon, lat), (lon + dx, lat), (lon + dx, lat + dy / 2), (lon + dx / 2, lat + dy / 2),
                     (lon + dx / 2, lat + dy), (lon, lat + dy)]
                )
            geoms.append(shapely.orient_polygons(geom))
            ids.append(f"G{i}{j}")
    return gpd.GeoDataFrame({"parcel_id": ids, "land_use": "M1"}, geometry=geoms, crs="EPSG:4490")


def _geodesic(gdf_lonlat: gpd.GeoDataFrame) -> np.ndarray:
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in gdf_lonlat.geometry])


@pytest.fixture
def lonlat_parcels() -> gpd.GeoDataFrame:
    return _lonlat_parcels()


def test_extent_covers_both_ends_of_minhang(lonlat_parcels):
    xmin, ymin, xmax, ymax = lonlat_parcels.total_bounds
    assert (xmin, ymin) == pytest.approx((121.25, 30.97), abs=1e-12)
    assert (xmax, ymax) == pytest.approx((121.58, 31.26), abs=1e-12)


def test_planar_areas_in_working_crs_match_geodesic(lonlat_parcels, working_crs):
    reference = _geodesic(lonlat_parcels)
    assert reference.min() > 20_000  # non-trivial parcels (~2–8 ha)
    planar = planar_area_m2(to_working(lonlat_parcels, working_crs).geometry).to_numpy()
    np.testing.assert_allclose(planar, reference, rtol=REL)
    # the working CRS is on Minhang's meridian: in fact far better than 0.05 %
    np.testing.assert_allclose(planar, reference, rtol=5e-5)


def test_to_working_is_a_no_op_in_the_working_crs(parcels, working_crs):
    assert to_working(parcels, working_crs) is parcels


def test_geographic_cgcs2000_geopackage_keeps_lon_lat(tmp_path, project, lonlat_parcels, working_crs):
    lonlat_parcels.to_file(tmp_path / "parcels.gpkg", layer="parcels", driver="GPKG")
    gdf = read_vector(Source(path="parcels.gpkg"), kind="parcels", project=project)
    assert CRS(gdf.crs).equals(CRS.from_epsg(4490))
    xmin, ymin, xmax, ymax = gdf.total_bounds
    assert 121.2 < xmin < xmax < 121.6  # x is longitude
    assert 30.9 < ymin < ymax < 31.3  # y is latitude
    assert gdf["parcel_id"].tolist() == lonlat_parcels["parcel_id"].tolist()
    planar = planar_area_m2(to_working(gdf, working_crs).geometry).to_numpy()
    np.testing.assert_allclose(planar, _geodesic(lonlat_parcels), rtol=REL)


def test_gauss_kruger_inputs_give_the_same_areas(tmp_path, project, lonlat_parcels, working_crs):
    reference = _geodesic(lonlat_parcels)
    areas = {}
    for epsg in (4549, 4528):  # CGCS2000 3° GK CM 120°E, without and with the zone number (40)
        projected = lonlat_parcels.to_crs(epsg=epsg)
        projected.to_file(tmp_path / f"gk{epsg}.gpkg", layer="parcels", driver="GPKG")
        gdf = read_vector(Source(path=f"gk{epsg}.gpkg"), kind="parcels", project=project)
        assert CRS(gdf.crs).equals(CRS.from_epsg(epsg))
        areas[epsg] = planar_area_m2(to_working(gdf, working_crs).geometry).to_numpy()
        np.testing.assert_allclose(areas[epsg], reference, rtol=REL)
    assert gdf.total_bounds[0] > 40_000_000  # EPSG:4528 eastings carry the zone prefix
    np.testing.assert_allclose(areas[4549], areas[4528], rtol=REL)


@pytest.fixture
def shapefile_without_prj(tmp_path, lonlat_parcels):
    lonlat_parcels.to_file(tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    return tmp_path / "noprj.shp"


def test_shapefile_without_prj_is_refused(project, shapefile_without_prj):
    with pytest.raises(CRSError) as err:
        read_vector(Source(path=shapefile_without_prj.name), kind="parcels", project=project)
    msg = str(err.value)
    assert "noprj.shp" in msg
    assert "--crs" in msg


def test_declared_crs_for_shapefile_without_prj(project, shapefile_without_prj, lonlat_parcels, working_crs):
    gdf = read_vector(Source(path=shapefile_without_prj.name, crs="EPSG:4490"), kind="parcels", project=project)
    assert CRS(gdf.crs).equals(CRS.from_epsg(4490))
    planar = planar_area_m2(to_working(gdf, working_crs).geometry).to_numpy()
    np.testing.assert_allclose(planar, _geodesic(lonlat_parcels), rtol=REL)


def test_declared_crs_contradicting_the_file_is_refused(tmp_path, project, lonlat_parcels):
    lonlat_parcels.to_crs(epsg=4549).to_file(tmp_path / "gk.gpkg", layer="parcels")
    with pytest.raises(CRSError, match="4490"):
        read_vector(Source(path="gk.gpkg", crs="EPSG:4490"), kind="parcels", project=project)


def test_metres_labelled_as_degrees_are_refused(tmp_path, project, lonlat_parcels):
    metres = lonlat_parcels.to_crs(epsg=4549).set_crs(epsg=4490, allow_override=True)
    metres.to_file(tmp_path / "wrongprj.shp")
    with pytest.raises(CRSError) as err:
        read_vector(Source(path="wrongprj.shp"), kind="parcels", project=project)
    msg = str(err.value)
    assert "wrongprj.shp" in msg and "not degrees" in msg


def test_metres_labelled_as_degrees_are_refused_in_memory(lonlat_parcels):
    metres = lonlat_parcels.to_crs(epsg=4549).set_crs(epsg=4490, allow_override=True)
    with pytest.raises(CRSError, match="not degrees"):
        ensure_crs(metres, name="parcels.gpkg")


def test_declared_degrees_for_metre_coordinates_are_refused(lonlat_parcels):
    metres = lonlat_parcels.to_crs(epsg=4549)
    metres = metres.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="not degrees"):
        ensure_crs(metres, name="noprj.shp", declared="EPSG:4490")


def test_layer_without_crs_is_refused_in_memory(lonlat_parcels):
    bare = lonlat_parcels.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="--crs"):
        ensure_crs(bare, name="noprj.shp")


def test_swapped_lat_lon_is_refused_with_the_reason(lonlat_parcels):
    swapped = lonlat_parcels.set_geometry(
        shapely.transform(lonlat_parcels.geometry.values, lambda xy: xy[:, ::-1])
    )
    assert swapped.total_bounds[0] < 32  # x now holds the latitude
    with pytest.raises(CRSError) as err:
        ensure_crs(swapped, name="swapped.gpkg")
    msg = str(err.value)
    assert "latitude, longitude" in msg
    assert "longitude first" in msg


def test_swapped_lat_lon_is_refused(lonlat_parcels):
    swapped = lonlat_parcels.set_geometry(
        shapely.transform(lonlat_parcels.geometry.values, lambda xy: xy[:, ::-1])
    )
    with pytest.raises(CRSError, match=r"swapped\.gpkg"):
        ensure_crs(swapped, name="swapped.gpkg")


def test_planar_area_refuses_geographic_series(lonlat_parcels):
    with pytest.raises(CRSError, match="projected"):
        planar_area_m2(lonlat_parcels.geometry)


def test_planar_area_refuses_series_without_crs(parcels):
    with pytest.raises(CRSError, match="projected"):
        planar_area_m2(parcels.geometry.set_crs(None, allow_override=True))


def test_planar_area_refuses_feet(parcels):
    feet = parcels.to_crs(epsg=2263)  # NAD83 / New York Long Island (ftUS)
    with pytest.raises(CRSError, match="metres"):
        planar_area_m2(feet.geometry)


def test_planar_area_of_hand_made_parcels(parcels):
    areas = planar_area_m2(parcels.geometry)
    assert areas.tolist() == pytest.approx(parcels["expected_m2"].tolist(), rel=1e-12)
    assert areas.index.equals(parcels.index)
