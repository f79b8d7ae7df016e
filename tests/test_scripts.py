"""The scripts a newcomer runs beside the package: the benchmark's checks and the sample generator at small sizes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_bench_names_missing_baselines_before_any_work(monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    import bench

    monkeypatch.setitem(bench.OPTIONAL, "baselines", (["landkit_no_such_module"], "bench"))
    message = bench.missing_modules(baselines=True, dask=False)
    assert message == ("scripts/bench.py: baselines need landkit_no_such_module: pip install -e '.[bench]' "
                       "(or pass --baseline-max 0)")
    assert bench.missing_modules(baselines=False, dask=False) is None


def test_bench_refuses_at_once_without_the_dask_extra_it_is_asked_for(tmp_path):
    # a run that asks for an engine whose modules are absent stops before generating any city
    code = ("import sys, runpy; sys.modules['distributed'] = None; sys.argv = ['bench.py', '--sizes', '10', '--engines', 'dask', "
            f"'--baseline-max', '0', '--cities', {str(tmp_path)!r}]; runpy.run_path({str(SCRIPTS / 'bench.py')!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "dask need" in done.stderr and "pip install -e '.[dask]'" in done.stderr and "--engines local" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing generated


@pytest.mark.parametrize("parcels", [1_000, 7_500])
def test_the_sample_generator_makes_a_checked_city_at_small_sizes(parcels):
    # 7,500 parcels once left a street a few millimetres short of a road, which noding dropped
    sys.path.insert(0, str(SCRIPTS))
    from make_sample import check, generate

    city = generate(parcels, seed=20250307, year=2025)
    check(city)
    assert len(city["parcels"]) == parcels


def test_a_city_with_more_enterprises_than_a_sheet_holds_gets_them_as_csv(tmp_path, monkeypatch):
    # at about a million parcels the enterprises outgrow an Excel sheet (1,048,575 data rows):
    # the same limit, lowered to fit a 1,000-parcel city, must leave a city landkit still reads
    sys.path.insert(0, str(SCRIPTS))
    import make_sample
    from samplegen import write as sample_write

    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset

    (tmp_path / "enterprises.xlsx").write_bytes(b"left from a smaller city")
    monkeypatch.setattr(sample_write, "XLSX_MAX_ROWS", 500)
    project = make_sample.write_city(1_000, tmp_path)
    assert not (tmp_path / "enterprises.xlsx").exists()  # the stale workbook is gone, not left beside the CSV
    assert "enterprises: {path: enterprises.csv}" in project.read_text(encoding="utf-8")
    assert "enterprises.csv only" in (tmp_path / "README.md").read_text(encoding="utf-8")
    stats = sample_write.verify(tmp_path, excel=False)
    data = load_dataset(load_config(project), rasters=False)
    assert not data.errors and data.parcels["enterprise_count"].sum() > 0
    assert stats["enterprises"] == len(pd.read_csv(tmp_path / "enterprises.csv", encoding="utf-8-sig"))


def test_bench_times_the_assessment_in_a_fresh_process(tmp_path, monkeypatch):
    """The wall times run as the command does, in a process of their own, and write what they time."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import bench

    seconds, process = bench.fresh_wall("gpkg", SCRIPTS.parent / "gis_data" / "minhang.yaml", tmp_path / "run")
    assert 0 < seconds < process
    assert (tmp_path / "run" / "landkit.gpkg").exists() and (tmp_path / "run" / "summary.json").exists()
