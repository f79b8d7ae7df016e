"""Shared fixtures: a default project, a project factory writing its inputs to disk, and parcels.

Parcel shapes are drawn by hand in the default profile's working CRS (transverse Mercator on
CM 121°27′52″E, x0 = 500 km, GRS80) around Minhang (x ≈ 500 000, y ≈ 3 430 000); their areas
are written down beside them, worked out by hand.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
import yaml
from pg import ROOT, start_server, with_db
from psycopg import sql

from landkit.config.load import default_profile_text, load_config
from landkit.core.db_url import redact

#: The working CRS of the shipped default profile, read from the YAML (not from landkit code).
WORKING = yaml.safe_load(default_profile_text())["crs"]["working"]

#: Origin of the hand-made parcels: near Minhang in the working CRS.
X0, Y0 = 500_000.0, 3_430_000.0


@pytest.fixture(autouse=True, scope="session")
def english_session():
    """LANDKIT_LANG=en for the session too: module- and session-scoped fixtures run landkit before
    any function-scoped fixture."""
    patch = pytest.MonkeyPatch()
    patch.setenv("LANDKIT_LANG", "en")
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def english_command_line(monkeypatch):
    """Every test sees landkit in English (LANDKIT_LANG=en) unless it asks otherwise (tests/test_i18n.py)."""
    from landkit.core import i18n

    monkeypatch.setenv("LANDKIT_LANG", "en")
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def landkit_logger():
    """Every test starts with the ``landkit`` logger as the library leaves it: a command run in
    process (CliRunner) configures it for a terminal (its own handler, no propagation), which would
    hide the log from a later test's ``caplog``."""
    logger = logging.getLogger("landkit")
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:], logger.level, logger.propagate = [], logging.NOTSET, True  # even after a module fixture ran a command
    yield
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


# --- projects -----------------------------------------------------------------------------------


@pytest.fixture
def working_crs() -> str:
    """The default profile's working CRS (a PROJ string)."""
    return WORKING


@pytest.fixture
def project(tmp_path: Path):
    """The default profile alone, with relative input paths resolved against ``tmp_path``."""
    return load_config(overrides={"base_dir": str(tmp_path)})


def _write_input(folder: Path, kind: str, value: Any) -> dict[str, Any]:
    """Write one input into ``folder`` and return its ``inputs.<kind>`` mapping."""
    if isinstance(value, dict):  # a ready Source mapping, e.g. {"path": "x.shp", "encoding": "gbk"}
        return value
    if isinstance(value, (str, Path)):
        return {"path": str(value)}
    if isinstance(value, gpd.GeoDataFrame):
        path = folder / f"{kind}.gpkg"
        value.to_file(path, layer=kind, driver="GPKG")
        return {"path": path.name}
    if isinstance(value, pd.DataFrame):
        path = folder / f"{kind}.csv"
        value.to_csv(path, index=False, encoding="utf-8")
        return {"path": path.name}
    raise TypeError(f"cannot write a {type(value).__name__} as input `{kind}`")


@pytest.fixture
def make_project():
    """Factory ``make_project(folder, overrides=None, **inputs) -> Project``.

    Each input is a GeoDataFrame (written to ``<folder>/<kind>.gpkg``, layer ``<kind>``), a
    DataFrame (written to ``<folder>/<kind>.csv`` in UTF-8), a path, or a Source mapping. The
    project is the default profile with ``inputs`` pointing at them and ``base_dir`` = folder;
    ``overrides`` are merged over it (e.g. ``{"validation": {"overlap_tolerance_m2": 5}}``).
    """

    def make(folder: Path, overrides: dict[str, Any] | None = None, **inputs: Any):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "base_dir": str(folder),
            "inputs": {kind: _write_input(folder, kind, value) for kind, value in inputs.items()},
        }
        if overrides:
            data.update({k: v for k, v in overrides.items() if k != "inputs"})
            data["inputs"].update(overrides.get("inputs", {}))
        return load_config(overrides=data)

    return make


# --- hand-made parcels in the working CRS -------------------------------------------------------


def _rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


@pytest.fixture
def shapes() -> dict[str, tuple[shapely.Geometry, float]]:
    """Named polygons in the working CRS with their areas in m², computed by hand."""
    l_shape = shapely.Polygon(
        [(X0 + 300, Y0), (X0 + 360, Y0), (X0 + 360, Y0 + 30), (X0 + 330, Y0 + 30), (X0 + 330, Y0 + 60), (X0 + 300, Y0 + 60)]
    )  # 60 × 60 square less its 30 × 30 north-east quarter: 3600 − 900
    holed = shapely.Polygon(
        shell=[(X0 + 500, Y0), (X0 + 580, Y0), (X0 + 580, Y0 + 80), (X0 + 500, Y0 + 80)],
        holes=[[(X0 + 520, Y0 + 20), (X0 + 540, Y0 + 20), (X0 + 540, Y0 + 50), (X0 + 520, Y0 + 50)]],
    )  # 80 × 80 less a 20 × 30 hole: 6400 − 600
    return {
        "rect_100x50": (_rect(0, 0, 100, 50), 5000.0),
        "rect_50x20": (_rect(150, 0, 50, 20), 1000.0),
        "rect_60x50": (_rect(150, 100, 60, 50), 3000.0),
        "l_shape": (l_shape, 2700.0),
        "holed": (holed, 5800.0),
    }


@pytest.fixture
def parcels(shapes) -> gpd.GeoDataFrame:
    """Five valid, disjoint parcels in the working CRS with canonical columns and known areas.

    ``expected_m2`` holds the hand-computed area (not a landkit column).
    """
    names = ["rect_100x50", "rect_50x20", "rect_60x50", "l_shape", "holed"]
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2", "P3", "P4", "P5"],
            "land_use": ["M1", "M1", "M2", "M1", "W1"],
            "status": ["operating", "operating", "idle", "operating", "construction"],
            "expected_m2": [shapes[n][1] for n in names],
        },
        geometry=[shapes[n][0] for n in names],
        crs=WORKING,
    )


# --- PostgreSQL with PostGIS (scripts/postgres.sh's throwaway server): session fixtures ---------------


@pytest.fixture(scope="session")
def server():
    """The test server's admin URL (role ``landkit``) and password-role URL (``landkit_pw``)."""
    env, started = start_server()
    yield env
    if started:
        subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop"], capture_output=True, check=False)


@pytest.fixture(scope="session")
def db(server) -> str:
    """A fresh database with PostGIS (URL as the superuser ``landkit``), dropped after the session."""
    name = f"landkit_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(server["LANDKIT_TEST_PG"], autocommit=True)
    except psycopg.Error as exc:
        pytest.fail(f"cannot connect to the test PostgreSQL ({redact(server['LANDKIT_TEST_PG'])}): {exc}", pytrace=False)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_db(server["LANDKIT_TEST_PG"], name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE TABLE public.x (id int)")  # what NASTY would drop if it were ever SQL
    yield url
    admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture(scope="session")
def password(server) -> str:
    return urlsplit(server["LANDKIT_TEST_PG_PW"]).password


@pytest.fixture(scope="session")
def pw_db(server, db) -> str:
    """The session database as ``landkit_pw`` (password in the URL, no rights beyond PUBLIC's)."""
    return with_db(server["LANDKIT_TEST_PG_PW"], urlsplit(db).path.lstrip("/"))
