"""`landkit rings`, `scatter` and `map` on a run use the settings the run was made with, unless -c overrides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from landkit.cli.main import cli
from landkit.cli.options import run_project
from landkit.core.errors import ConfigError
from landkit.io.runs import open_run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data" / "minhang.yaml"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("settings") / "run"
    result = invoke("-q", "assess", "-c", SAMPLE, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_rings_and_scatter_read_the_runs_own_settings(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    rings = invoke("-q", "rings", run)  # no -c: the sample's ring definitions, from the manifest
    assert rings.exit_code == 0, rings.output
    assert "defines no rings" not in rings.output
    scatter = invoke("-q", "scatter", run)
    assert scatter.exit_code == 0, scatter.output


def test_the_settings_are_the_projects(run_dir):
    recorded = run_project(open_run(run_dir), None)
    given = run_project(open_run(run_dir), SAMPLE)
    assert recorded.rings.designated == given.rings.designated and recorded.name == given.name
    assert recorded.model_dump(exclude={"base_dir", "explicit_columns"}) == given.model_dump(exclude={"base_dir", "explicit_columns"})


def test_settings_that_no_longer_load_are_named(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["config"]["no_such_key"] = 1
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ConfigError,
                       match=r"the run's settings do not load in this landkit.*give the project file with -c"):
        run_project(open_run(run), None)
