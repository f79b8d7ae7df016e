"""The command line: exit codes, one-line errors, never overwriting, outputs that reopen."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.config.load import load_config

WORKING = load_config().crs.working


def square(x0: float, y0: float, size: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + size, y0 + size)


def parcel_layer(geoms, ids=None) -> gpd.GeoDataFrame:
    n = len(geoms)
    ids = ids or [f"P{i + 1}" for i in range(n)]
    frame = gpd.GeoDataFrame(
        {
            "地块编号": ids,
            "用地性质": ["M1"] * n,
            "土地状态": ["在产"] * n,
            "建筑面积": [1000.0] * n,
            "基底面积": [400.0] * n,
        },
        geometry=geoms,
        crs=WORKING,
    )
    return frame.to_crs("EPSG:4490")


@pytest.fixture
def clean_parcels(tmp_path) -> Path:
    path = tmp_path / "parcels.gpkg"
    geoms = [square(500_000 + 100 * i, 3_430_000, 50) for i in range(4)]
    pyogrio.write_dataframe(parcel_layer(geoms), path, layer="parcels")
    return path


@pytest.fixture
def bad_parcels(tmp_path) -> Path:
    path = tmp_path / "bad.gpkg"
    bowtie = shapely.Polygon([(500_000, 3_430_000), (500_050, 3_430_050), (500_050, 3_430_000), (500_000, 3_430_050)])
    geoms = [bowtie, square(500_100, 3_430_000, 50), square(500_200, 3_430_000, 50)]
    pyogrio.write_dataframe(parcel_layer(geoms, ids=["BOW", "DUP", "DUP"]), path, layer="parcels")
    return path


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(cli, list(args))


def test_help_and_version():
    assert run("--help").exit_code == 0
    result = run("--version")
    assert result.exit_code == 0 and "landkit, version" in result.output
    for command in ("init", "validate", "demo"):
        assert run(command, "--help").exit_code == 0


def test_init_writes_a_loadable_file_and_never_overwrites(tmp_path):
    target = tmp_path / "p.yaml"
    assert run("init", str(target)).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert "inputs:" in text and "#" in text
    load_config(target)
    result = run("init", str(target))
    assert result.exit_code == 1
    assert "exists; pass --overwrite" in result.output
    assert target.read_text(encoding="utf-8") == text
    assert run("init", str(target), "--full", "--overwrite").exit_code == 0
    assert "assessment:" in target.read_text(encoding="utf-8")
    load_config(target)


def test_validate_clean_layer_exits_0(clean_parcels):
    result = run("validate", str(clean_parcels))
    assert result.exit_code == 0, result.output
    assert "Checked 4 parcels" in result.output and "0 error(s)" in result.output


def test_validate_reports_problems_by_parcel_id_and_exits_1(bad_parcels, tmp_path):
    report = tmp_path / "issues.csv"
    result = run("validate", str(bad_parcels), "--report", str(report))
    assert result.exit_code == 1
    assert "parcels BOW: invalid geometry: Self-intersection" in result.output
    assert "parcels DUP: parcel_id appears 2 times" in result.output
    issues = pd.read_csv(report, encoding="utf-8-sig")
    assert set(issues["check"]) == {"invalid_geometry", "duplicate_id", "column"}
    # the columns the project reads and this bare layer lacks: warnings (a parcel layer checked alone)
    assert set(issues.loc[issues["check"] == "column", "severity"]) == {"warning"}
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")


def test_validate_fix_writes_a_repaired_copy(bad_parcels, tmp_path):
    fixed = tmp_path / "fixed.gpkg"
    result = run("validate", str(bad_parcels), "--fix", "-o", str(fixed))
    assert "fixed: BOW: made valid (Self-intersection" in result.output
    assert result.exit_code == 1  # duplicate ids cannot be repaired automatically
    assert "invalid_geometry" not in result.output
    repaired = pyogrio.read_dataframe(fixed)
    assert repaired.geometry.is_valid.all() and len(repaired) == 3
    assert list(repaired["地块编号"]) == ["BOW", "DUP", "DUP"]
    # the bow-tie's two triangles: 2 × (50 × 25 / 2) m²
    area = repaired.to_crs(WORKING).geometry.area.iloc[0]
    assert area == pytest.approx(1250.0, rel=1e-6)


def test_validate_fix_needs_an_output(bad_parcels):
    result = run("validate", str(bad_parcels), "--fix")
    assert result.exit_code == 2 and "give its path with -o" in result.output


def test_usage_error_without_parcels(tmp_path):
    result = run("validate", cwd=tmp_path)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.gpkg", "file not found"),
        (lambda d: (d / "x.gpkg").write_text("not a gpkg") and d / "x.gpkg", "cannot open"),
    ],
)
def test_bad_files_give_one_line_and_exit_1(tmp_path, make, expected):
    result = run("validate", str(make(tmp_path)))
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_layer_without_crs_suggests_the_option(tmp_path):
    shp = tmp_path / "nocrs.shp"
    layer = parcel_layer([square(500_000, 3_430_000, 50)]).to_crs(WORKING)
    pyogrio.write_dataframe(layer.set_crs(None, allow_override=True), shp, encoding="GBK")
    result = run("validate", str(shp))
    assert result.exit_code == 1 and "has no CRS" in result.output and "--crs" in result.output
    result = run("validate", str(shp), "--crs", WORKING)
    assert result.exit_code == 0, result.output


def test_wrong_layer_name(clean_parcels):
    result = run("validate", str(clean_parcels), "--layer", "地块")
    assert result.exit_code == 1 and "no layer `地块`; layers: parcels" in result.output


def test_enterprises_matching_nothing_is_an_error(clean_parcels, tmp_path):
    table = tmp_path / "e.csv"
    table.write_text("统一社会信用代码,地块编号,税收(万元)\nE1,X9,10\nE2,X8,20\n", encoding="utf-8")
    result = run("validate", str(clean_parcels), "-e", str(table))
    assert result.exit_code == 1 and "no enterprise matches any parcel" in result.output


def test_config_error_is_one_line(tmp_path, clean_parcels):
    bad = tmp_path / "bad.yaml"
    bad.write_text("validaton: {}\n", encoding="utf-8")
    result = run("validate", str(clean_parcels), "-c", str(bad))
    assert result.exit_code == 1
    assert "unknown key `validaton`" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_verbose_shows_traceback_only_with_vv(tmp_path):
    missing = str(tmp_path / "missing.gpkg")
    assert "Traceback" not in run("-v", "validate", missing).output
    assert "Traceback" in run("-vv", "validate", missing).output
