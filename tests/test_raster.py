"""Rasters: exact zonal statistics, raster indicators, surfaces and cloud-optimised GeoTIFFs.

Every raster here is built in the test with values written down (a gradient ``10 r + c``,
constant blocks, classes), and every polygon covers pixels in fractions worked out by hand, so
the expected means, sums and counts below are arithmetic, not library output.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

from landkit.config.load import load_config
from landkit.config.models import RasterSource
from landkit.core.errors import ConfigError, DataError, InputError
from landkit.deliver import rasters
from landkit.deliver.rasters import overlay_png, write_cog
from landkit.metrics import zonal
from landkit.metrics.surfaces import kernel_density, rasterize_column
from landkit.metrics.zonal import NODATA, assess_rasters, raster_indicators, zonal_stats

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data" / "minhang.yaml"

UTM = "EPSG:32651"
GK = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
#: Top-left corner of the hand-made 10 m grids (UTM 51N, in Minhang).
X0, Y0 = 350_000.0, 3_450_000.0
RES = 10.0

#: The gradient raster: value 10 r + c at row r, column c (6 × 6 pixels of 10 m).
GRADIENT = (10 * np.arange(6)[:, None] + np.arange(6)[None, :]).astype(np.float32)


def write_tif(path: Path, array: np.ndarray, *, transform: Affine | None = None, crs: str | None = UTM,
              nodata: float | None = None) -> Path:
    """Write a GeoTIFF (one band for a 2-D array, one band per layer for a 3-D one)."""
    bands = array[None] if array.ndim == 2 else array
    profile = {"driver": "GTiff", "width": bands.shape[2], "height": bands.shape[1], "count": bands.shape[0],
               "dtype": bands.dtype.name, "nodata": nodata}
    if crs is not None:
        profile.update(crs=crs, transform=transform or from_origin(X0, Y0, RES, RES))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
    return path


def cells(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A rectangle given in pixel units of the hand-made grid (column, row from the top-left)."""
    return box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def parcels_of(*geoms: shapely.Geometry, crs: str = UTM, index: list | None = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs,
                            index=index)


def source(name: str = "r", **kwargs) -> RasterSource:
    return RasterSource(name=name, path=f"{name}.tif", **kwargs)


ALL = ["mean", "sum", "min", "max", "count", "std"]


# --- exact coverage -----------------------------------------------------------------------------


def test_four_whole_pixels_and_two_halves(tmp_path):
    path = write_tif(tmp_path / "g.tif", GRADIENT)
    # columns 0–1 of rows 0–1 whole (values 0, 1, 10, 11), half of column 2 in rows 0–1 (2, 12)
    parcels = parcels_of(cells(0, 0, 2.5, 2))
    out = zonal_stats(parcels, source(), path, stats=ALL)
    total = 0 + 1 + 10 + 11 + 0.5 * (2 + 12)  # 29
    assert out.loc[0, "r_sum"] == pytest.approx(total)
    assert out.loc[0, "r_count"] == pytest.approx(5.0)
    assert out.loc[0, "r_mean"] == pytest.approx(total / 5)  # 5.8
    assert out.loc[0, "r_min"] == 0 and out.loc[0, "r_max"] == 12
    values = np.array([0, 1, 10, 11, 2, 12.0])
    weights = np.array([1, 1, 1, 1, 0.5, 0.5])
    variance = (weights * (values - 5.8) ** 2).sum() / weights.sum()  # population, coverage-weighted
    assert out.loc[0, "r_std"] == pytest.approx(np.sqrt(variance))
    assert out.loc[0, "r_nodata_frac"] == 0 and out.loc[0, "r_outside_frac"] == 0


def test_constant_blocks(tmp_path):
    blocks = np.full((4, 4), 100.0, np.float32)
    blocks[:, 2:] = 200.0
    path = write_tif(tmp_path / "b.tif", blocks)
    # 1.5 columns of the 100 block and 0.5 of the 200 block, 2 rows: (3 × 100 + 1 × 200) / 4
    out = zonal_stats(parcels_of(cells(0.5, 1, 2.5, 3)), source(), path, stats=["mean", "sum", "count"])
    assert out.loc[0, "r_mean"] == pytest.approx(125.0)
    assert out.loc[0, "r_sum"] == pytest.approx(500.0)
    assert out.loc[0, "r_count"] == pytest.approx(4.0)


def test_polygon_smaller_than_a_pixel_gets_its_share(tmp_path):
    path = write_tif(tmp_path / "g.tif", GRADIENT)
    tiny = cells(4.4, 3.4, 4.6, 3.6)  # 2 m × 2 m inside the pixel of value 34
    corner = cells(2.8, 1.8, 3.2, 2.2)  # 4 m × 4 m over the corner of pixels 12, 13, 22, 23
    out = zonal_stats(parcels_of(tiny, corner), source(), path, stats=["mean", "sum", "count"])
    assert out.loc[0, "r_count"] == pytest.approx(0.04)
    assert out.loc[0, "r_sum"] == pytest.approx(0.04 * 34)
    assert out.loc[0, "r_mean"] == pytest.approx(34.0)
    assert out.loc[1, "r_count"] == pytest.approx(4 * 0.04)
    assert out.loc[1, "r_mean"] == pytest.approx((12 + 13 + 22 + 23) / 4)


def test_nodata_excluded_and_its_share_reported(tmp_path):
    grid = GRADIENT.copy()
    grid[0, 0] = -9999
    grid[4:, 4:] = -9999
    path = write_tif(tmp_path / "n.tif", grid, nodata=-9999)
    parcels = parcels_of(
        cells(0, 0, 2, 2),  # 4 pixels, one nodata: values 1, 10, 11
        cells(0.5, 0, 2, 1),  # half the nodata pixel and pixel 1 whole
        cells(4, 4, 6, 6),  # nodata only
    )
    out = zonal_stats(parcels, source(), path, stats=["mean", "sum", "count"])
    assert out.loc[0, "r_mean"] == pytest.approx(22 / 3)
    assert out.loc[0, "r_count"] == pytest.approx(3.0)
    assert out.loc[0, "r_nodata_frac"] == pytest.approx(0.25)
    assert out.loc[1, "r_mean"] == pytest.approx(1.0)
    assert out.loc[1, "r_nodata_frac"] == pytest.approx(0.5 / 1.5)
    # no valid pixel: every statistic NaN (not a sum or count of 0), nodata share 1
    assert out.loc[2, ["r_mean", "r_sum", "r_count"]].isna().all()
    assert out.loc[2, "r_nodata_frac"] == 1.0
    assert out.loc[2, "r_outside_frac"] == 0.0


def test_half_outside_and_wholly_outside(tmp_path):
    path = write_tif(tmp_path / "g.tif", GRADIENT)  # extent: 6 columns, 6 rows
    parcels = parcels_of(
        cells(5, 0, 7, 2),  # column 5 of rows 0–1 (values 5, 15), the other half east of the raster
        cells(8, 0, 9, 1),  # wholly east of the raster
        cells(-0.5, 2, 0.5, 3),  # half west: half of pixel 20
    )
    out = zonal_stats(parcels, source(), path, stats=ALL)
    assert out.loc[0, "r_outside_frac"] == pytest.approx(0.5)
    assert out.loc[0, "r_mean"] == pytest.approx(10.0)
    assert out.loc[0, "r_sum"] == pytest.approx(20.0)  # the inside part only, not extrapolated
    assert out.loc[0, "r_count"] == pytest.approx(2.0)
    assert out.loc[1, "r_outside_frac"] == 1.0
    assert out.loc[1, [f"r_{s}" for s in ALL]].isna().all()  # NaN, never 0
    assert np.isnan(out.loc[1, "r_nodata_frac"])
    assert out.loc[2, "r_outside_frac"] == pytest.approx(0.5)
    assert out.loc[2, "r_mean"] == pytest.approx(20.0)
    assert out.loc[2, "r_count"] == pytest.approx(0.5)


def test_result_aligned_to_the_parcels_index_and_null_geometry(tmp_path):
    path = write_tif(tmp_path / "g.tif", GRADIENT)
    parcels = parcels_of(cells(1, 1, 2, 2), None, cells(2, 2, 3, 3), index=["a", "b", "c"])
    out = zonal_stats(parcels, source(), path, stats=["mean"])
    assert list(out.index) == ["a", "b", "c"]
    assert out.loc["a", "r_mean"] == 11 and out.loc["c", "r_mean"] == 22
    assert out.loc["b"].isna().all()


def test_batches_give_the_same_result_as_one_read(tmp_path, monkeypatch):
    # parcels are summarised in batches, each batch's window read ahead of time; tiny batches
    # (and parcels reaching past the raster, read directly) must change nothing
    rng = np.random.default_rng(3)
    grid = rng.uniform(0, 100, (40, 50)).astype(np.float32)
    grid[10:14, 20:25] = -9999
    path = write_tif(tmp_path / "r.tif", grid, nodata=-9999)
    corners = rng.uniform([-3, -3], [48, 38], (80, 2))
    sizes = rng.uniform(0.2, 6, (80, 2))
    parcels = parcels_of(*[cells(c, r, c + w, r + h) for (c, r), (w, h) in zip(corners, sizes, strict=True)])
    stats = ["mean", "sum", "count", "min", "max", "nonzero_frac", "nonzero_mean"]
    whole = zonal_stats(parcels, source(), path, stats=stats)
    monkeypatch.setattr(zonal, "BATCH_PX", 4)
    with rasterio.open(path) as ds:
        assert len(zonal._batches(parcels.geometry.to_numpy(), ds)) > 20
    pd.testing.assert_frame_equal(zonal_stats(parcels, source(), path, stats=stats), whole)
    assert whole["r_count"].notna().sum() > 60 and (whole["r_outside_frac"] > 0).any()


def test_stats_default_to_the_source_and_unknown_stat_refused(tmp_path):
    path = write_tif(tmp_path / "g.tif", GRADIENT)
    out = zonal_stats(parcels_of(cells(1, 1, 2, 2)), source(stats=["max", "count"]), path)
    assert list(out.columns) == ["r_max", "r_count", "r_nodata_frac", "r_outside_frac"]
    with pytest.raises(ConfigError, match="median"):
        zonal_stats(parcels_of(cells(1, 1, 2, 2)), source(), path, stats=["median"])


def test_categorical_majority(tmp_path):
    classes = np.array([[3, 3, 5, 5], [3, 3, 5, 5]], np.uint8)
    path = write_tif(tmp_path / "c.tif", classes, nodata=0)
    # 1.5 pixels of class 3 in row 0 and 1 pixel of class 5 … then 0.5 of 3 and 2 of 5 in row 1
    parcels = parcels_of(cells(0.5, 0, 3, 1), cells(1.5, 1, 4, 2))
    out = zonal_stats(parcels, source(kind="categorical", stats=["majority"]), path)
    assert out["r_majority"].tolist() == [3, 5]


# --- CRS, types, bands --------------------------------------------------------------------------


def _field(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """A smooth field defined on the ground (lon/lat), so it is the same in any CRS."""
    return 100 + 1000 * (lon - 121.3) + 2000 * (lat - 31.0) + 5 * np.sin(lon * 900)


def _field_raster(path: Path, crs: str, centre_lonlat: tuple[float, float], size_m: float = 2000) -> Path:
    """Sample :func:`_field` at the pixel centres of a 10 m grid in ``crs`` around a point."""
    cx, cy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*centre_lonlat)
    left, top = np.floor((cx - size_m / 2) / RES) * RES, np.ceil((cy + size_m / 2) / RES) * RES
    n = int(size_m / RES)
    xs = left + (np.arange(n) + 0.5) * RES
    ys = top - (np.arange(n) + 0.5) * RES
    x, y = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    return write_tif(path, _field(lon, lat).astype(np.float32), transform=from_origin(left, top, RES, RES),
                     crs=crs)


def test_raster_in_another_crs_gives_the_same_result(tmp_path):
    centre = (121.40, 31.10)
    in_utm = _field_raster(tmp_path / "utm.tif", UTM, centre)
    in_gk = _field_raster(tmp_path / "gk.tif", GK, centre)
    cx, cy = Transformer.from_crs("EPSG:4326", GK, always_xy=True).transform(*centre)
    parcels = parcels_of(
        box(cx - 300, cy - 200, cx - 150, cy - 100),  # 150 m × 100 m
        shapely.Polygon([(cx, cy), (cx + 240, cy + 30), (cx + 90, cy + 210)]),  # a triangle
        shapely.Polygon([(cx - 500, cy + 300), (cx - 200, cy + 320), (cx - 210, cy + 520), (cx - 520, cy + 480)]),
        crs=GK,
    )
    a = zonal_stats(parcels, source("v"), in_utm, stats=["mean", "sum", "count"])  # parcels moved to UTM
    b = zonal_stats(parcels, source("v"), in_gk, stats=["mean", "sum", "count"])  # no transformation
    np.testing.assert_allclose(a["v_mean"], b["v_mean"], rtol=1e-3)
    # the covered area (count × 100 m²) is the parcel's area, up to the two projections' scale
    np.testing.assert_allclose(a["v_count"] * 100, parcels.area, rtol=2e-3)
    np.testing.assert_allclose(b["v_count"] * 100, parcels.area, rtol=1e-7)
    np.testing.assert_allclose(a["v_sum"], b["v_sum"], rtol=2e-3)


def test_geographic_raster(tmp_path):
    # a 0.001° grid in EPSG:4326 with a constant west half and east half; parcels in the GK CRS
    grid = np.full((50, 50), 7.0, np.float32)
    grid[:, 25:] = 9.0
    path = write_tif(tmp_path / "geo.tif", grid, transform=from_origin(121.40, 31.12, 0.001, 0.001),
                     crs="EPSG:4326")
    to_gk = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
    west = shapely.transform(box(121.405, 31.100, 121.410, 31.105), lambda xy: np.column_stack(
        to_gk.transform(xy[:, 0], xy[:, 1])))
    out = zonal_stats(parcels_of(west, crs=GK), source(), path, stats=["mean", "min", "max"])
    assert out.loc[0, "r_mean"] == pytest.approx(7.0)
    assert out.loc[0, "r_outside_frac"] == 0


def test_uint8_sums_do_not_overflow(tmp_path):
    path = write_tif(tmp_path / "u8.tif", np.full((100, 100), 250, np.uint8), nodata=255)
    out = zonal_stats(parcels_of(cells(0, 0, 100, 100), cells(0, 0, 50.5, 1)), source(), path,
                      stats=["sum", "mean", "count"])
    assert out["r_sum"].dtype == np.float64
    assert out.loc[0, "r_sum"] == 2_500_000.0  # 250 × 10 000: uint8 arithmetic would wrap
    assert out.loc[0, "r_count"] == 10_000.0
    assert out.loc[1, "r_sum"] == pytest.approx(250 * 50.5)


def test_band_selection_and_a_band_that_does_not_exist(tmp_path):
    stack = np.stack([np.full((4, 4), v, np.float32) for v in (10, 20, 30)])
    path = write_tif(tmp_path / "multi.tif", stack)
    parcels = parcels_of(cells(0, 0, 2, 2))
    assert zonal_stats(parcels, source(band=2), path, stats=["mean"]).loc[0, "r_mean"] == 20
    assert zonal_stats(parcels, source(band=3), path, stats=["mean"]).loc[0, "r_mean"] == 30
    with pytest.raises(InputError, match=r"multi\.tif has 3 bands; band 4 does not exist"):
        zonal_stats(parcels, source(band=4), path)


# --- nodata declared or not ---------------------------------------------------------------------


def test_no_nodata_declared_warns_and_counts_every_pixel(tmp_path, caplog):
    grid = GRADIENT.copy()
    grid[0, 0] = -9999
    path = write_tif(tmp_path / "plain.tif", grid)  # no nodata in the file
    parcels = parcels_of(cells(0, 0, 2, 1))
    with caplog.at_level(logging.WARNING, logger="landkit.metrics.zonal"):
        out = zonal_stats(parcels, source(), path, stats=["mean", "count"])
    assert "no nodata is assumed" in caplog.text and "plain.tif" in caplog.text
    assert out.loc[0, "r_count"] == 2 and out.loc[0, "r_mean"] == pytest.approx((-9999 + 1) / 2)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="landkit.metrics.zonal"):
        out = zonal_stats(parcels, source(nodata=-9999), path, stats=["mean", "count"])
    assert "no nodata" not in caplog.text
    assert out.loc[0, "r_count"] == 1 and out.loc[0, "r_mean"] == 1
    assert out.loc[0, "r_nodata_frac"] == pytest.approx(0.5)


def test_internal_mask_marks_invalid_pixels(tmp_path, caplog):
    path = tmp_path / "masked.tif"
    mask = np.full((6, 6), 255, np.uint8)
    mask[0, 0] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(
        path, "w", driver="GTiff", width=6, height=6, count=1, dtype="float32", crs=UTM,
        transform=from_origin(X0, Y0, RES, RES),
    ) as dst:
        dst.write(GRADIENT, 1)
        dst.write_mask(mask)
    with caplog.at_level(logging.WARNING, logger="landkit.metrics.zonal"):
        out = zonal_stats(parcels_of(cells(0, 0, 2, 1)), source(), path, stats=["mean", "count"])
    assert "no nodata" not in caplog.text
    assert out.loc[0, "r_mean"] == 1 and out.loc[0, "r_nodata_frac"] == pytest.approx(0.5)


def test_nan_is_nodata_in_float_rasters(tmp_path):
    grid = GRADIENT.copy()
    grid[0, 1] = np.nan
    path = write_tif(tmp_path / "nan.tif", grid)
    out = zonal_stats(parcels_of(cells(0, 0, 3, 1)), source(nodata=-1), path, stats=["mean", "count"])
    assert out.loc[0, "r_mean"] == pytest.approx(1.0)  # (0 + 2) / 2
    assert out.loc[0, "r_nodata_frac"] == pytest.approx(1 / 3)


# --- bad rasters --------------------------------------------------------------------------------


def test_raster_not_overlapping_the_parcels(tmp_path):
    path = write_tif(tmp_path / "far.tif", GRADIENT, transform=from_origin(X0 + 50_000, Y0, RES, RES))
    with pytest.raises(InputError, match=r"far\.tif does not overlap any parcel"):
        zonal_stats(parcels_of(cells(0, 0, 2, 2)), source(), path)


def test_unreadable_missing_and_non_georeferenced_rasters(tmp_path):
    parcels = parcels_of(cells(0, 0, 2, 2))
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00 this is not a GeoTIFF")
    with pytest.raises(InputError, match=r"broken\.tif"):
        zonal_stats(parcels, source(), bad)
    with pytest.raises(InputError, match=r"file not found: .*missing\.tif"):
        zonal_stats(parcels, source(), tmp_path / "missing.tif")
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        plain = write_tif(tmp_path / "plain.tif", GRADIENT, crs=None)
    with pytest.raises(InputError, match=r"plain\.tif is not georeferenced"), \
            pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        zonal_stats(parcels, source(), plain)


# --- indicators ---------------------------------------------------------------------------------


def test_floor_area_estimate_by_hand():
    parcels = pd.DataFrame({"area_m2": [1000.0, 2000.0, 1000.0, 500.0, 800.0],
                            "footprint_m2": [400.0, np.nan, np.nan, 200.0, 300.0]})
    stats = pd.DataFrame({
        "building_height_nonzero_mean": [21.0, 14.0, 7.0, np.nan, np.nan],
        "building_height_nonzero_frac": [0.5, 0.25, np.nan, 0.0, np.nan],
        "night_light_mean": [30.0, 2.0, np.nan, 5.0, 0.0],
    })
    out = raster_indicators(parcels, stats, storey_height_m=3.5, coverage=0.4)
    est = out["floor_area_est_m2"]
    assert est[0] == pytest.approx(21 / 3.5 * 400)  # 6 storeys × footprint
    assert est[1] == pytest.approx(14 / 3.5 * 2000 * 0.25)  # no footprint: area × built share
    assert est[2] == pytest.approx(7 / 3.5 * 1000 * 0.4)  # nor built share: the coverage parameter
    assert est[3] == 0  # valid pixels, all 0: no building
    assert np.isnan(est[4])  # no height data
    assert out["night_light_mean"].tolist()[:2] == [30.0, 2.0]


def test_floor_area_from_plain_mean_and_register_coverage():
    parcels = pd.DataFrame({"area_m2": [1000.0, 1000.0, 1000.0], "footprint_m2": [300.0, 500.0, np.nan]})
    stats = pd.DataFrame({"h_mean": [7.0, 14.0, 10.5]})
    out = raster_indicators(parcels, stats, storey_height_m=3.5, height_raster="h", light_raster="nl")
    # the third parcel has no footprint: the register's median coverage (0.3, 0.5 → 0.4)
    assert out["floor_area_est_m2"].tolist() == pytest.approx([600.0, 2000.0, 10.5 / 3.5 * 1000 * 0.4])
    assert "night_light_mean" not in out
    with pytest.raises(ConfigError):
        raster_indicators(parcels, stats, storey_height_m=0)


def test_assess_rasters_combines_sources(tmp_path):
    height = np.zeros((6, 6), np.uint8)
    height[:2, :2] = 14  # a 14 m building on the four pixels at the top left
    height[5, :] = 255
    light = np.full((3, 3), 40.0, np.float32)
    h = write_tif(tmp_path / "h.tif", height, nodata=255)
    nl = write_tif(tmp_path / "nl.tif", light, transform=from_origin(X0, Y0, 20, 20), nodata=-9999)
    parcels = parcels_of(cells(0, 0, 4, 2), cells(2, 2, 4, 4))
    parcels["area_m2"] = parcels.area
    parcels["footprint_m2"] = [400.0, np.nan]
    sources = [(RasterSource(name="building_height", path="h.tif"), h),
               (RasterSource(name="night_light", path="nl.tif", stats=["mean", "max"]), nl)]
    out = assess_rasters(parcels, sources, storey_height_m=3.5)
    assert out.loc[0, "building_height_mean"] == pytest.approx(7.0)  # half the parcel built
    assert out.loc[0, "building_height_nonzero_mean"] == pytest.approx(14.0)
    assert out.loc[0, "building_height_nonzero_frac"] == pytest.approx(0.5)
    assert out.loc[0, "floor_area_est_m2"] == pytest.approx(14 / 3.5 * 400)
    assert out.loc[1, "floor_area_est_m2"] == 0  # no building on the raster
    assert out.loc[0, "night_light_max"] == 40
    assert "night_light_mean" in out and list(out.columns).count("night_light_mean") == 1
    with pytest.raises(ConfigError, match="used twice"):
        assess_rasters(parcels, [sources[0], sources[0]])


# --- surfaces -----------------------------------------------------------------------------------


def test_rasterize_column(tmp_path):
    parcels = parcels_of(cells(0, 0, 3, 2), cells(4, 0, 6, 2), cells(0, 3, 2, 5))
    parcels["score"] = [80.5, np.nan, 40.0]
    array, transform = rasterize_column(parcels, "score", resolution_m=10, crs=UTM)
    assert transform.a == 10 and transform.c % 10 == 0 and transform.f % 10 == 0
    assert array.dtype == np.float32 and array.shape == (5, 6)
    assert (array[0:2, 0:3] == np.float32(80.5)).all()
    assert (array[0:2, 4:6] == NODATA).all()  # missing value
    assert (array[3:5, 0:2] == 40).all()
    assert (array[2, :] == NODATA).all()  # in no parcel
    with pytest.raises(ConfigError, match="no column"):
        rasterize_column(parcels, "nope", resolution_m=10)
    with pytest.raises(ConfigError, match="not projected"):
        rasterize_column(parcels, "score", resolution_m=10, crs="EPSG:4326")


@pytest.mark.parametrize("chunk", [10**9, 7])  # one pass; chunks of a few centres (one geometry each)
def test_burn_centres_matches_gdal_rasterize(monkeypatch, chunk):
    """Pixel for pixel as GDAL's rasterize (rasterio, all_touched=False): the sample's parcels at
    two resolutions, and shapes with a hole, two parts, an overlap (the later wins) and a sliver."""
    from rasterio.features import rasterize

    from landkit.metrics import surfaces
    from landkit.metrics.surfaces import _grid, burn_centres

    monkeypatch.setattr(surfaces, "CENTRES_PER_CHUNK", chunk)
    rng = np.random.default_rng(7)
    hand = [
        box(3, 3, 57, 41).difference(box(15, 12, 33, 30)),  # a hole
        shapely.MultiPolygon([box(60, 0, 71, 9), box(75, 20, 92, 37)]),
        shapely.Polygon([(10, 50), (48, 44), (40, 80), (12, 71)]),
        box(30, 60, 70, 95),  # overlaps the one before: it wins where both hold a centre
        box(80, 50, 80.5, 90),  # narrower than a pixel: the centres it holds, if any
    ]
    hand = np.array([shapely.affinity.translate(g, 350_000 + rng.random(), 3_430_000 + rng.random()) for g in hand])
    sample = gpd.read_file(ROOT / "gis_data" / "minhang.gpkg", layer="parcels").to_crs(UTM).geometry.to_numpy()
    for geoms, resolution in ((hand, 3.0), (hand, 7.0), (sample[:400], 10.0), (sample[:400], 35.0)):
        values = np.arange(1, len(geoms) + 1, dtype=float)
        transform, height, width = _grid(shapely.total_bounds(geoms), resolution)
        ours = np.full((height, width), NODATA, np.float32)
        burn_centres(ours, transform, geoms.copy(), values)
        gdal = rasterize(zip(geoms, values, strict=True), out_shape=(height, width), transform=transform,
                         fill=NODATA, all_touched=False, dtype="float32")
        assert (ours != NODATA).sum() > 0
        np.testing.assert_array_equal(ours, gdal)


def test_kernel_density_integrates_to_the_total_weight():
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 800, (60, 2)) + np.array([X0, Y0])
    geoms = [box(x, y, x + rng.uniform(40, 150), y + rng.uniform(40, 150)) for x, y in centres]
    parcels = parcels_of(*geoms)
    parcels["area_mu"] = parcels.area / (10000 / 15)
    density, transform = kernel_density(parcels, weight_column="area_mu", resolution_m=25, bandwidth_m=300)
    cell_km2 = (25 / 1000) ** 2
    assert density.sum() * cell_km2 == pytest.approx(parcels["area_mu"].sum(), rel=0.01)
    assert transform.a == 25 and (density >= 0).all()
    # the peak is near the cluster's centre
    row, col = np.unravel_index(np.argmax(density), density.shape)
    x, y = rasterio.transform.xy(transform, row, col)
    assert abs(x - X0) < 600 and abs(y - Y0) < 600
    parcels["area_mu"] = 0.0
    with pytest.raises(DataError, match="no parcel has a positive weight"):
        kernel_density(parcels, resolution_m=25, bandwidth_m=300)


def _check_cog(path: Path, *, crs: str, nodata: float) -> rasterio.io.DatasetReader:
    ds = rasterio.open(path)
    assert ds.driver == "GTiff"
    assert ds.profile["tiled"] and ds.block_shapes == [(512, 512)]
    assert ds.compression == rasterio.enums.Compression.deflate
    assert ds.overviews(1), "no overviews"
    assert ds.crs == rasterio.crs.CRS.from_user_input(crs)
    assert ds.nodata == nodata
    return ds


def test_write_cog(tmp_path):
    array = np.linspace(0, 100, 1200 * 1000, dtype=np.float32).reshape(1000, 1200)
    array[:10, :10] = np.nan
    path = write_cog(tmp_path / "out" / "surface.tif", array, from_origin(X0, Y0, 20, 20), UTM, -9999.0,
                     tags={"unit": "亩/km²"})
    with _check_cog(path, crs=UTM, nodata=-9999.0) as ds:
        if rasters._cog_driver_available():
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1) == [2, 4]
        assert ds.tags()["unit"] == "亩/km²"
        data = ds.read(1)
    assert data[0, 0] == -9999.0 and data[500, 600] == array[500, 600]
    assert [p.name for p in path.parent.iterdir()] == ["surface.tif"]  # no temporary file left


def test_write_cog_small_raster_still_has_overviews(tmp_path):
    path = write_cog(tmp_path / "small.tif", np.ones((200, 300), np.float32), from_origin(X0, Y0, 50, 50), UTM,
                     -9999.0)
    with _check_cog(path, crs=UTM, nodata=-9999.0):
        pass


def test_write_cog_fallback_without_the_cog_driver(tmp_path, monkeypatch):
    monkeypatch.setattr(rasters, "_cog_driver_available", lambda: False)
    array = np.arange(1100 * 700, dtype=np.float32).reshape(700, 1100)
    path = write_cog(tmp_path / "fallback.tif", array, from_origin(X0, Y0, 10, 10), GK, NODATA)
    with _check_cog(path, crs=GK, nodata=NODATA) as ds:
        assert ds.tags(ns="rio_overview") == {"resampling": "average"}
        assert ds.overviews(1) == [2, 4]
        assert (ds.read(1) == array).all()


def test_overlay_png(tmp_path):
    import matplotlib.image

    array = np.arange(100 * 80, dtype=np.float32).reshape(80, 100)
    array[:, :20] = NODATA
    png, bounds = overlay_png(array, from_origin(X0, Y0, 50, 50), UTM, nodata=NODATA, cmap="magma")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = matplotlib.image.imread(io.BytesIO(png))
    assert image.shape[2] == 4
    assert image[image.shape[0] // 2, 1, 3] == 0  # nodata (west) transparent
    assert image[image.shape[0] // 2, -2, 3] == 1  # data opaque
    (south, west), (north, east) = bounds
    assert 121 < west < east < 122 and 30.9 < south < north < 31.3
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(X0, Y0)
    assert west == pytest.approx(lon, abs=1e-3) and north == pytest.approx(lat, abs=1e-3)
    png4326, _ = overlay_png(array, from_origin(X0, Y0, 50, 50), UTM, nodata=NODATA, dst_crs="EPSG:4326")
    assert png4326.startswith(b"\x89PNG")


# --- the shipped sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    from landkit.data.dataset import load_dataset

    project = load_config(SAMPLE)
    data = load_dataset(project)
    sources = [
        (RasterSource(name="night_light", path="night_light.tif", stats=["mean", "max"]),
         project.resolve("night_light.tif")),
        (RasterSource(name="building_height", path="building_height.tif"), project.resolve("building_height.tif")),
    ]
    return data.parcels, assess_rasters(data.parcels, sources, storey_height_m=4.5)


def test_sample_rasters_give_plausible_values(sample):
    parcels, out = sample
    assert out.index.equals(parcels.index)
    assert (out["night_light_outside_frac"] == 0).all() and (out["building_height_outside_frac"] == 0).all()
    light = out["night_light_mean"]
    # a parcel wholly under the cloud-masked patch has no value, and says so
    assert (light.isna() == (out["night_light_nodata_frac"] == 1)).all() and light.notna().mean() > 0.95
    assert (light.dropna() >= 0).all() and light.max() < 500  # nW/cm²/sr
    by_status = light.groupby(parcels["status"]).median()
    assert by_status["idle"] < 0.6 * by_status["operating"]  # idle land is dark
    # 30 m building heights (generated with 4.5 m storeys) give back the register's floor area
    built = parcels["floor_area_m2"] > 0
    ratio = (out["floor_area_est_m2"] / parcels["floor_area_m2"])[built]
    assert ratio.median() == pytest.approx(1.0, abs=0.05)
    assert ratio.between(0.8, 1.25).mean() > 0.75
    height = out["building_height_nonzero_mean"].dropna()
    assert height.between(1, 254).all()
