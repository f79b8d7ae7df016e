"""A run is whole or absent, one at a time, and no process of landkit outlives the command.

The kill test runs the real command on the shipped sample in a subprocess and kills it with
SIGKILL while it writes its outputs (the workbook in a thread); the lock tests hold the folder's lock as a
second run would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.io.run_folder import LOCK_NAME, MANIFEST, STAGING_PREFIX, locked

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "gis_data" / "minhang.yaml"
LANDKIT = [str(Path(sys.executable).parent / "landkit")]  # the console script the package installs


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc; zombies excluded)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return {c for c in found if alive(c)}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_9_when(args: list[str], ready, *, settle_s: float = 10) -> tuple[bool, set[int]]:
    """Run ``args`` and SIGKILL it once ``ready(its live descendants)`` holds.

    Returns whether it was ready before it ended, and its descendants still alive ``settle_s``
    seconds after the kill.
    """
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    seen: set[int] = set()
    reached = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            below = descendants(proc.pid)
            seen |= below
            if ready(below):
                reached = True
                break
            time.sleep(0.05)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline and any(alive(p) for p in seen):
            time.sleep(0.1)
        return reached, {p for p in seen if alive(p)}
    finally:
        if proc.poll() is None:
            proc.kill()


def is_workbook_process(pid: int) -> bool:
    """Whether ``pid`` is a live workbook process of a run (``python -m landkit.deliver.workbook_process``)."""
    try:
        return b"landkit.deliver.workbook_process" in Path(f"/proc/{pid}/cmdline").read_bytes() and alive(pid)
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_kill_9_leaves_no_process_and_no_run(tmp_path):
    out = tmp_path / "run"

    def writing(below: set[int]) -> bool:  # the workbook's own process is running
        return any(is_workbook_process(p) for p in below)

    ready, survivors = kill_9_when([*LANDKIT, "-q", "assess", "-c", str(SAMPLE), "-o", str(out)], writing)
    assert ready, "the run ended before its workbook process started"
    assert not survivors, "a process of the run outlived the command"
    # no complete run: the staging folder holds what was written, the folder has no manifest
    assert not (out / MANIFEST).exists() and not (out / "inventory.xlsx").exists()
    line = invoke("map", out, "-o", tmp_path / "m.html").output.strip().splitlines()
    assert line and "holds no complete run" in line[-1] and len(line) == 1
    assert not (tmp_path / "m.html").exists()


def descendants(pid: int) -> set[int]:
    """The live processes below ``pid``, children's children included."""
    found, todo = set(), [pid]
    while todo:
        kids = children(todo.pop()) - found
        found |= kids
        todo += kids
    return found


def spawned(pid: int) -> bool:
    """Whether ``pid`` is a live process started by multiprocessing's spawn (a Dask nanny or worker)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() and alive(pid)
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_kill_9_of_a_dask_run_leaves_no_worker(tmp_path):
    """The local Dask cluster's nannies and workers (spawned processes) die with the command."""
    out = tmp_path / "run"
    args = [*LANDKIT, "-q", "assess", "-c", str(SAMPLE), "--engine", "dask", "-o", str(out)]
    ready, survivors = kill_9_when(args, lambda below: len({p for p in below if spawned(p)}) >= 2, settle_s=30)  # two workers up
    assert ready, "the run ended before its Dask workers were seen"
    assert not survivors, "a Dask process outlived the command"
    assert not (out / MANIFEST).exists()


def test_the_lock_of_another_process_is_seen(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from landkit.io.run_folder import locked\n"
        f"with locked({str(out)!r}):\n    print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = invoke("assess", "-c", SAMPLE, "-o", out)
        assert result.exit_code == 1
        assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]  # refused before any work
        assert result.output.strip().splitlines()[-1].endswith(
            "another landkit run is writing this folder; wait for it to finish, or write to another folder")
        assert not (out / MANIFEST).exists()
    finally:
        holder.kill()
        holder.wait()
    # killed, it holds nothing: the kernel released the lock
    with locked(out):
        pass


def test_an_interrupted_run_keeps_the_previous_one_and_is_cleaned_up(tmp_path, monkeypatch):
    from landkit.deliver import writer

    out = tmp_path / "run"
    first = invoke("assess", "-c", SAMPLE, "-o", out)
    assert first.exit_code == 0, first.output
    before = (out / MANIFEST).read_bytes()
    (out / f"{STAGING_PREFIX}99999").mkdir()  # what a killed run leaves
    (out / ".summary.99999.part.json").write_text("{}")

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "build_report", fail)  # interrupted after the GeoPackage and the summary
    again = invoke("assess", "-c", SAMPLE, "-o", out, "--overwrite")
    assert again.exit_code != 0
    assert (out / MANIFEST).read_bytes() == before  # the previous run, whole
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != LOCK_NAME]
    assert leftovers == []  # the stale staging folder and .part file were removed, and this run's own
    monkeypatch.undo()
    assert invoke("history", out).exit_code == 0


def test_a_first_run_that_fails_leaves_no_folder(tmp_path, monkeypatch):
    from landkit.deliver import writer

    out = tmp_path / "new"
    monkeypatch.setattr(writer, "write_surfaces", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    result = invoke("assess", "-c", SAMPLE, "-o", out)
    assert result.exit_code != 0
    assert not out.exists()


def test_an_unwritable_folder_is_refused_before_the_work(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        parent = Path("/proc/landkit-cannot-write-here")  # root writes everywhere else
    else:
        parent = tmp_path / "ro"
        parent.mkdir()
        parent.chmod(0o500)

    def no_work(*args, **kwargs):
        raise AssertionError("the inputs were read before the output folder was checked")

    monkeypatch.setattr("landkit.cli.assess.load_dataset", no_work)
    result = invoke("assess", "-c", SAMPLE, "-o", parent / "run")
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "cannot write there" in line and "choose a folder you can write to" in line


# --- one clear line ---------------------------------------------------------------------------------


def test_a_reader_that_stops_early_is_no_error(tmp_path, working_crs):
    import geopandas as gpd
    import shapely

    boxes = [shapely.box(500_000 + 30 * i, 3_430_000, 500_020 + 30 * i, 3_430_020) for i in range(3000)]
    parcels = gpd.GeoDataFrame({"地块编号": ["DUP"] * 3000, "用地性质": ["M1"] * 3000}, geometry=boxes, crs=working_crs)
    parcels.to_file(tmp_path / "p.gpkg", layer="parcels")
    shell = subprocess.run(f"{LANDKIT[0]} validate {tmp_path / 'p.gpkg'} | head -1; echo \"rc=${{PIPESTATUS[0]}}\"",
                           shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "Traceback" not in shell.stderr and "internal error" not in shell.stderr, shell.stderr
    assert shell.stdout.splitlines()[-1] in ("rc=141", "rc=1"), shell.stdout  # 141: stopped by the pipe


@pytest.mark.parametrize(("cell", "what"), [("inf", "is infinite or beyond"), ("1e300", "is infinite or beyond"),
                                           ("-inf", "is infinite or beyond")])
def test_infinite_or_huge_numbers_are_named(tmp_path, make_project, working_crs, cell, what):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from landkit.core.errors import DataError
    from landkit.data.dataset import load_dataset

    parcels = gpd.GeoDataFrame({"parcel_id": ["P1"], "land_use": ["M1"], "floor_area_m2": [cell]},
                               geometry=[shapely.box(500_000, 3_430_000, 500_100, 3_430_100)], crs=working_crs)
    enterprises = pd.DataFrame({"enterprise_id": ["E1"], "parcel_id": ["P1"], "tax_wan": [cell]})
    project = make_project(tmp_path, parcels=parcels, enterprises=enterprises)
    with pytest.raises(DataError) as err:
        load_dataset(project)
    assert "P1" in str(err.value) and what in str(err.value)


def test_a_year_out_of_range_is_named(tmp_path, make_project, working_crs):
    import geopandas as gpd
    import shapely

    from landkit.core.errors import DataError
    from landkit.data.dataset import load_dataset

    parcels = gpd.GeoDataFrame({"parcel_id": ["P1"], "land_use": ["M1"], "lease_start_year": ["99999999999999999999"]},
                               geometry=[shapely.box(500_000, 3_430_000, 500_100, 3_430_100)], crs=working_crs)
    with pytest.raises(DataError, match=r"P1.*is not a year between 1800 and 2200"):
        load_dataset(make_project(tmp_path, parcels=parcels))


def test_an_unknown_statistic_is_a_usage_error(tmp_path):
    raster = ROOT / "gis_data" / "night_light.tif"
    result = invoke("zonal", ROOT / "gis_data" / "minhang.gpkg", "--layer", "parcels", "-r", raster, "--stats", "mean,bogus",
                    "-o", tmp_path / "z.csv")
    assert result.exit_code == 2 and "unknown statistic(s) bogus" in result.output and "Traceback" not in result.output


def test_validate_makes_the_checks_assess_makes(tmp_path, make_project, working_crs):
    """No enterprise table: validate said 0 errors and assess died on the first formula."""
    import geopandas as gpd
    import pandas as pd
    import shapely
    import yaml

    parcels = gpd.GeoDataFrame({"地块编号": ["P1", "P2"], "用地性质": ["M1", "M1"], "土地状态": ["在产", "在产"]},
                               geometry=[shapely.box(500_000, 3_430_000, 500_100, 3_430_100),
                                         shapely.box(500_200, 3_430_000, 500_300, 3_430_100)], crs=working_crs)
    parcels.to_file(tmp_path / "p.gpkg", layer="parcels")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"year": 2025, "inputs": {"parcels": {"path": "p.gpkg"}}}), encoding="utf-8")
    result = invoke("validate", "-c", tmp_path / "p.yaml")  # a parcel layer alone: a warning, the layer is fine
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output and "assess` would stop" in result.output and "columns.enterprises.tax_wan" in result.output
    # with an enterprise table whose money columns are not recognised: an error
    pd.DataFrame({"统一社会信用代码": ["E1"], "地块编号": ["P1"], "纳税额(元)": [1000]}).to_csv(tmp_path / "e.csv", index=False)
    (tmp_path / "q.yaml").write_text(yaml.safe_dump({"year": 2025, "inputs": {"parcels": {"path": "p.gpkg"},
                                                                               "enterprises": {"path": "e.csv"}}}), encoding="utf-8")
    result = invoke("validate", "-c", tmp_path / "q.yaml")
    assert result.exit_code == 1 and "columns.enterprises.tax_wan" in result.output
    # every column the weighted indicators need is named at once, with the planner's lookalike
    assert "if 纳税额(元) holds it, map it: columns.enterprises.tax_wan: [纳税额(元)]" in result.output
    assert "no `value_added_wan` column" in result.output
    assess = invoke("assess", "-c", tmp_path / "p.yaml", "-o", tmp_path / "out")
    assert assess.exit_code == 1 and "columns.enterprises.tax_wan" in assess.output


# --- data that must not pass silently ----------------------------------------------------------------


def test_a_key_given_twice_in_the_project_file_is_refused(tmp_path):
    from landkit.config.load import load_config
    from landkit.core.errors import ConfigError

    path = tmp_path / "p.yaml"
    path.write_text("year: 2025\nname: 甲\nyear: 2026\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3.*key `year` is given twice"):
        load_config(path)


def test_an_empty_schema_is_a_usage_error(tmp_path):
    result = invoke("history", "postgresql://nobody@127.0.0.1:1/none", "--schema", "")
    assert result.exit_code == 2 and "is empty" in result.output


def test_a_sliver_is_not_graded(tmp_path):
    """A 0.01 m² sliver was graded A with score 100 and FAR 664,053."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from landkit.config.load import load_config
    from landkit.data.dataset import Dataset
    from landkit.data.parcels import add_areas
    from landkit.pipeline import assess

    project = load_config(overrides={"year": 2025, "assessment": {"tracks": [
        {"name": "all", "label_zh": "全部", "label_en": "All", "weights": {"tax_per_mu": 100}}]}})
    crs = project.crs.working
    parcels = add_areas(gpd.GeoDataFrame(
        {"parcel_id": ["S", "P1", "P2"], "land_use": ["M1"] * 3, "status": ["operating"] * 3, "tax_wan": [5.0, 100.0, 50.0],
         "enterprise_count": [1, 1, 1], "floor_area_m2": [6640.0, 20_000.0, 10_000.0]},
        geometry=[shapely.box(500_000, 3_430_000, 500_000.1, 3_430_000.1), shapely.box(500_100, 3_430_000, 500_200, 3_430_100),
                  shapely.box(500_300, 3_430_000, 500_400, 3_430_100)], crs=crs))
    result = assess(Dataset(parcels=parcels, input_crs=parcels.crs), project).parcels.set_index("parcel_id")
    assert result.loc["S", "grade"] == "U" and result.loc["S", "ungraded_reason"] == "碎片地块(面积不足1平方米)"
    assert pd.isna(result.loc["S", "score"]) and not result.loc["S", "low_efficiency"]
    assert result.loc["P1", "rank_in_track"] == 1 and result.loc[["P1", "P2"], "graded"].all()  # ranked without it


# --- what GDAL 3.6 (Debian's) sees --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "run"
    result = invoke("-q", "assess", "-c", SAMPLE, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_gdal_opens_the_geopackage_without_a_warning(sample_run, tmp_path):
    exported = tmp_path / "inventory.gpkg"
    assert invoke("export", sample_run, "--layer", "inventory", "-o", exported).exit_code == 0
    for gpkg in (sample_run / "landkit.gpkg", exported):
        shown = subprocess.run(["ogrinfo", "-so", "-al", "-q", str(gpkg)], capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0 and "Warning" not in shown.stderr + shown.stdout, shown.stderr


def test_the_surfaces_carry_a_named_crs(sample_run):
    info = subprocess.run(["gdalinfo", str(sample_run / "score.tif")], capture_output=True, text=True, timeout=60).stdout
    assert 'PROJCRS["Transverse Mercator, central meridian 121.464° (landkit working CRS)"' in info
    assert 'BASEGEOGCRS["China Geodetic Coordinate System 2000"' in info


# --- coordinates that cannot be right ------------------------------------------------------------------


def test_projected_coordinates_far_outside_their_crs_are_refused(tmp_path, make_project):
    import geopandas as gpd
    import shapely

    from landkit.core.errors import CRSError
    from landkit.data.dataset import load_dataset

    parcels = gpd.GeoDataFrame({"parcel_id": ["P1"], "land_use": ["M1"]},
                               geometry=[shapely.box(1e15, 1e15, 1e15 + 100, 1e15 + 100)], crs="EPSG:4549")
    with pytest.raises(CRSError, match=r"lie outside where EPSG:4549 is defined"):
        load_dataset(make_project(tmp_path, parcels=parcels))


def test_a_layer_far_from_shanghai_gets_a_working_crs_that_suits_it(tmp_path, make_project):
    """Near Beijing (116.4°E) the Shanghai meridian's transverse Mercator is 0.4 % off in area."""
    import geopandas as gpd
    import shapely
    from pyproj import Geod

    from landkit.core.crs import MAX_AREA_ERROR
    from landkit.core.errors import CRSError
    from landkit.data.dataset import load_dataset

    square = shapely.box(116.40, 39.90, 116.41, 39.91)
    parcels = gpd.GeoDataFrame({"parcel_id": ["P1"], "land_use": ["M1"]}, geometry=[square], crs="EPSG:4490")
    with pytest.raises(CRSError) as err:
        load_dataset(make_project(tmp_path / "a", parcels=parcels))
    message = str(err.value)
    assert "off by up to" in message and "+proj=tmerc +lat_0=0 +lon_0=116.4 " in message
    working = message.split('working: "')[1].split('"')[0]
    data = load_dataset(make_project(tmp_path / "b", {"crs": {"working": working}}, parcels=parcels))
    geodesic = abs(Geod(ellps="GRS80").geometry_area_perimeter(square)[0])
    assert data.parcels["area_m2"].iloc[0] == pytest.approx(geodesic, rel=MAX_AREA_ERROR)


def test_gbk_export_says_which_rows_lose_characters(tmp_path, caplog, working_crs):
    import geopandas as gpd
    import shapely

    from landkit.deliver.export import write_shapefile
    from landkit.deliver.labels import COLUMNS

    layer = gpd.GeoDataFrame({"parcel_id": ["P1", "P2"], "enterprise_names": ["甲公司😀", "乙公司"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)], crs=working_crs)
    with caplog.at_level("WARNING", logger="landkit"):
        write_shapefile(tmp_path / "gbk.shp", layer, COLUMNS, encoding="gbk")
    assert "1 row(s) hold characters GBK cannot store" in caplog.text and "P1" in caplog.text and "gb18030" in caplog.text
    caplog.clear()
    write_shapefile(tmp_path / "full.shp", layer, COLUMNS, encoding="gb18030")
    import pyogrio

    back = pyogrio.read_dataframe(tmp_path / "full.shp", encoding="gb18030")
    assert back.iloc[0, 1] == "甲公司😀" and "cannot store" not in caplog.text


def test_an_empty_layer_and_an_enterprise_without_a_parcel_id_are_named(tmp_path):
    import geopandas as gpd
    import pandas as pd

    empty = gpd.GeoDataFrame({"地块编号": pd.Series([], dtype=str), "用地性质": pd.Series([], dtype=str)},
                             geometry=gpd.GeoSeries([], crs="EPSG:4490"))
    empty.to_file(tmp_path / "p.gpkg", layer="parcels")
    pd.DataFrame({"统一社会信用代码": ["E1", "E2"], "地块编号": ["", "P9"], "税收(万元)": [1, 2]}).to_csv(tmp_path / "e.csv", index=False)
    result = invoke("validate", tmp_path / "p.gpkg", "-e", tmp_path / "e.csv")
    assert result.exit_code == 1 and "internal error" not in result.output
    assert "holds no parcel" in result.output and "enterprises E1: has no parcel id" in result.output


def test_a_failing_workbook_process_is_one_line_and_leaves_no_process(tmp_path):
    """The workbook's process fails (a sheet name Excel refuses): the writer's error names why, nothing runs on."""
    import pandas as pd

    from landkit.core.errors import LandkitError
    from landkit.deliver import workbook_process
    from landkit.deliver.labels import COLUMNS

    book = workbook_process.start(tmp_path, {"bad[name]": pd.DataFrame({"parcel_id": ["P1"]})}, {}, COLUMNS,
                                  lang="zh", values=None)
    with pytest.raises(LandkitError) as caught:
        book.wait()
    book.kill()
    message = str(caught.value)
    assert message.startswith("the workbook could not be written: ") and "\n" not in message
    assert book.process.poll() is not None
    assert not (tmp_path / "inventory.xlsx").exists()
