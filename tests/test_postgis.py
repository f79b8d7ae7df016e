"""PostGIS in and out, against a real PostgreSQL with PostGIS (Debian's packages, on loopback).

`make test` starts the server with ``scripts/postgres.sh`` and exports ``LANDKIT_TEST_PG``; run
alone, the ``server`` fixture starts it the same way. Without PostgreSQL and PostGIS these tests
FAIL with the reason (they never skip: CI must prove they ran). Each session gets a fresh
database with ``CREATE EXTENSION postgis``, dropped at the end.

The expected answers come from outside the code under test: the GeoPackage path (pyogrio) for
the assessment, the frames written for the round trips, and PostgreSQL's own catalogue
(pg_indexes, information_schema, geometry_columns) for keys, indexes and SRIDs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from click.testing import CliRunner
from pg import execute, with_db
from psycopg import sql

from landkit.cli.main import cli
from landkit.config.load import load_config
from landkit.core.db_url import is_db_url, redact
from landkit.core.errors import ConfigError, DatabaseError, OutputExistsError
from landkit.io.postgis.connect import db_source, parse_url, qualified_name, split_table_name
from landkit.io.postgis.read import list_tables_postgis, read_table_postgis
from landkit.io.postgis.write import DbTarget, write_layers_postgis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data"
WORKING = load_config().crs.working
#: The table name of issue 9: quotes and semicolons that must stay a name.
NASTY = 'pa"rcels; DROP TABLE x;--'


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def read_sample(layer: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(SAMPLE / "minhang.gpkg", layer=layer, use_arrow=True)


@pytest.fixture(scope="session")
def sample(db) -> str:
    """The shipped sample loaded into schema ``src`` with landkit's writer (raw columns, EPSG:4490)."""
    from landkit.io.read import read_table

    project = load_config(SAMPLE / "minhang.yaml")
    layers = {name: read_sample(name) for name in ("parcels", "blocks", "roads", "core_sites", "price_zones", "facilities")}
    layers["enterprises"] = read_table(project.inputs.enterprises, kind="enterprises", project=project)
    layers["land_price"] = read_table(project.inputs.land_price, kind="land_price", project=project)
    write_layers_postgis(db, "src", layers)
    # a schema landkit_pw may read (for the credential tests)
    execute(db, "CREATE SCHEMA shared")
    execute(db, "CREATE TABLE shared.parcels AS SELECT * FROM src.parcels ORDER BY fid LIMIT 40")
    execute(db, "GRANT USAGE ON SCHEMA shared TO landkit_pw")
    execute(db, "GRANT SELECT ON ALL TABLES IN SCHEMA shared TO landkit_pw")
    return db


# --- URLs and names (pure) --------------------------------------------------------------------------


def test_db_urls_are_recognised_and_passwords_redacted():
    assert is_db_url("postgresql://h/db") and is_db_url("postgres://h/db") and is_db_url(" POSTGRESQL://h/db")
    assert not is_db_url("parcels.gpkg") and not is_db_url(Path("postgresql:/x")) and not is_db_url(None)
    assert redact("postgresql://planner:s3cr@t/x@gis:5432/park?table=a") == "postgresql://planner:***@gis:5432/park?table=a"
    assert redact("postgresql://planner@gis/park") == "postgresql://planner@gis/park"
    assert redact("postgresql:///park?user=u&password=pw1&sslmode=require") == "postgresql:///park?user=u&password=***&sslmode=require"
    assert redact("parcels.gpkg") == "parcels.gpkg"


def test_source_urls_name_a_table_or_a_query():
    src = parse_url("postgresql://u@h:5432/db?sslmode=disable&table=src.parcels")
    assert (src.conninfo, src.table, src.query) == ("postgresql://u@h:5432/db?sslmode=disable", "src.parcels", None)
    assert parse_url("postgresql:///db#public.%E5%9C%B0%E5%9D%97").table == "public.地块"
    assert parse_url("postgresql:///?service=gis&table=parcels").conninfo == "postgresql:///?service=gis"
    q = parse_url("postgresql://h/db?query=SELECT * FROM p WHERE town = '马桥镇' AND a%25 > 1 & b")
    assert q.conninfo == "postgresql://h/db" and q.query == "SELECT * FROM p WHERE town = '马桥镇' AND a% > 1 & b"
    assert db_source("postgresql://h/db", layer="s.t").table == "s.t"
    scoped = db_source("postgresql://h/db?schema=my.src&table=parcels")  # ?schema= qualifies a bare table name
    assert (scoped.conninfo, split_table_name(scoped.table)) == ("postgresql://h/db", ("my.src", "parcels"))
    assert parse_url("postgresql://u@h/db?schema=run&sslmode=disable").schema == "run"
    assert db_source("postgresql://h/db", query="SELECT 1").query == "SELECT 1"
    with pytest.raises(ConfigError, match="name the table"):
        db_source("postgresql://h/db")
    with pytest.raises(ConfigError, match="not both"):
        db_source("postgresql://h/db?table=a", query="SELECT 1")
    with pytest.raises(ConfigError, match="names table `a` but the layer given is `b`"):
        db_source("postgresql://h/db?table=a", layer="b")


def test_table_names_split_on_the_first_unquoted_dot():
    assert split_table_name("parcels") == (None, "parcels")
    assert split_table_name("src.parcels") == ("src", "parcels")
    assert split_table_name("public.my.table") == ("public", "my.table")
    assert split_table_name('"a.b"."c""d"') == ("a.b", 'c"d')
    assert split_table_name(NASTY) == (None, NASTY)
    assert split_table_name(qualified_name('we"ird; schema', NASTY)) == ('we"ird; schema', NASTY)
    with pytest.raises(ConfigError, match="unterminated"):
        split_table_name('"open')


def test_a_query_in_a_project_file_needs_a_database_path(tmp_path):
    with pytest.raises(ConfigError, match="`query` reads from a database"):
        load_config(overrides={"inputs": {"parcels": {"path": "p.gpkg", "query": "SELECT 1"}}})


def test_the_manifest_configuration_never_holds_a_password():
    project = load_config(overrides={"inputs": {"parcels": {"path": "postgresql://u:topsecret@h/db", "layer": "p"}}})
    dumped = json.dumps(project.model_dump(mode="json"))
    assert "topsecret" not in dumped and "postgresql://u:***@h/db" in dumped


# --- writing and reading back ------------------------------------------------------------------------


def typed_layer() -> gpd.GeoDataFrame:
    """Every column type the writer knows, with missing values, awkward text and a missing geometry."""
    return gpd.GeoDataFrame(
        {
            "parcel_id": ["A", "B", "C", "D"],
            "flag": [True, False, True, False],
            "maybe": pd.array([True, None, False, None], dtype="boolean"),
            "count": np.array([1, -2, 3, 2**40], dtype="int64"),
            "count_na": pd.array([1, None, 3, None], dtype="Int64"),
            "value": [1.5, np.nan, np.inf, -1e-300],
            "text": ['逗号,引号"和\n换行', "", None, "back\\slash\ttab"],
            "when": pd.to_datetime(["2025-01-02 03:04:05.123456", None, "1999-12-31 23:59:59", "2025-06-01 00:00:00"], format="ISO8601"),
            "when_tz": pd.to_datetime(["2025-01-02 03:04:05", None, "1999-12-31 23:59:59", "2025-06-01 00:00:00"], format="ISO8601").tz_localize("Asia/Shanghai"),
        },
        geometry=[shapely.box(121.40, 31.00, 121.41, 31.01), None, shapely.box(121.42, 31.02, 121.43, 31.03),
                  shapely.Polygon([(121.5, 31.1), (121.6, 31.1), (121.55, 31.2)])],
        crs="EPSG:4490",
    )


def test_a_layer_round_trips_with_its_types(db):
    layer = typed_layer()
    table = pd.DataFrame({"kpi": ["研发投入强度", "人均产出"], "target": [6.8, 53.3], "met": [True, False],
                          "note": ["长" * 2_000_000, ""]})  # a row longer than any CSV block
    assert write_layers_postgis(db, "roundtrip", {"parcels": layer, "kpis": table}) == ["roundtrip.parcels", "roundtrip.kpis"]
    types = dict(execute(db, "SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'roundtrip' AND table_name = 'parcels'"))
    assert types == {"parcel_id": "text", "flag": "boolean", "maybe": "boolean", "count": "bigint", "count_na": "bigint",
                     "value": "double precision", "text": "text", "when": "timestamp without time zone",
                     "when_tz": "timestamp with time zone", "geom": "USER-DEFINED"}
    back = read_table_postgis(db, "roundtrip", "parcels")
    assert list(back.columns) == [*layer.columns[:-1], "geom"] and back.crs.to_epsg() == 4490
    assert back["parcel_id"].tolist() == ["A", "B", "C", "D"]
    assert back["flag"].tolist() == [True, False, True, False]
    assert [None if pd.isna(v) else bool(v) for v in back["maybe"]] == [True, None, False, None]
    assert back["count"].tolist() == [1, -2, 3, 2**40]
    assert [None if pd.isna(v) else int(v) for v in back["count_na"]] == [1, None, 3, None]
    np.testing.assert_array_equal(back["value"].to_numpy(), [1.5, np.nan, np.inf, -1e-300])
    assert [None if pd.isna(v) else v for v in back["text"]] == ['逗号,引号"和\n换行', "", None, "back\\slash\ttab"]
    assert back["when"].tolist()[0] == pd.Timestamp("2025-01-02 03:04:05.123456") and pd.isna(back["when"].iloc[1])
    assert back["when_tz"].iloc[0] == pd.Timestamp("2025-01-01 19:04:05", tz="UTC")
    assert back.geometry.iloc[1] is None
    present = np.array([0, 2, 3])
    assert shapely.equals_exact(np.asarray(back.geometry)[present], np.asarray(layer.geometry)[present], 0).all()
    kpis = read_table_postgis(db, "roundtrip", "kpis")
    pd.testing.assert_frame_equal(kpis, table, check_dtype=False)  # fid (landkit's row number) is not read back
    assert read_table_postgis(db, "roundtrip", "no_such_table") is None
    assert read_table_postgis(db, "no_such_schema", "parcels") is None


def test_keys_and_spatial_index_of_written_layers(db):
    blocks = gpd.GeoDataFrame({"block_id": ["MH01", "MH02"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
                              crs="EPSG:4549")
    not_unique = pd.DataFrame({"block_id": ["MH01", "MH01"], "path": ["a", "b"]})
    write_layers_postgis(db, "keys", {"blocks": blocks, "by_block_path": not_unique})
    keys = dict(execute(db, """
        SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
        WHERE tc.table_schema = 'keys' AND tc.constraint_type = 'PRIMARY KEY'"""))
    assert keys == {"blocks": "block_id", "by_block_path": "fid"}
    gist = execute(db, "SELECT tablename FROM pg_indexes WHERE schemaname = 'keys' AND indexdef LIKE '%USING gist (geom)%'")
    assert gist == [("blocks",)]
    assert execute(db, "SELECT srid, type FROM geometry_columns WHERE f_table_schema = 'keys'") == [(4549, "POLYGON")]


def test_a_crs_without_an_epsg_code_gets_its_own_srid(db):
    layer = gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[shapely.box(500_000, 3_430_000, 500_100, 3_430_050)], crs=WORKING)
    write_layers_postgis(db, "custom_crs", {"parcels": layer})
    ((srid, auth),) = execute(db, "SELECT g.srid, s.auth_name FROM geometry_columns g JOIN spatial_ref_sys s USING (srid) "
                                  "WHERE f_table_schema = 'custom_crs'")
    assert 900000 <= srid <= 998999 and auth == "landkit"
    back = read_table_postgis(db, "custom_crs", "parcels")
    assert back.crs.equals(layer.crs)
    assert back.geometry.area.iloc[0] == 5000.0  # 100 m × 50 m, in the working CRS as written
    write_layers_postgis(db, "custom_crs2", {"parcels": layer})  # the same CRS reuses its row
    assert execute(db, "SELECT count(*) FROM spatial_ref_sys WHERE auth_name = 'landkit'") == [(1,)]


def test_existing_tables_need_overwrite_and_history_is_appended(db):
    runs = pd.DataFrame({"run_id": ["r1", "r2"], "parcels": [10, 11]})
    parcels = typed_layer()
    write_layers_postgis(db, "again", {"parcels": parcels, "landkit_runs": runs, "clusters": parcels})
    execute(db, "CREATE TABLE again.planner_notes (note text)")  # not landkit's: never dropped
    with pytest.raises(OutputExistsError, match=r"table `again.parcels` exists; pass --overwrite"):
        write_layers_postgis(db, "again", {"parcels": parcels.head(2), "landkit_runs": runs})
    more = pd.DataFrame({"run_id": ["r1", "r2", "r3"], "parcels": [10, 11, 12]})  # the history so far, plus r3
    write_layers_postgis(db, "again", {"parcels": parcels.head(2), "landkit_runs": more}, overwrite=True)
    assert len(read_table_postgis(db, "again", "parcels")) == 2  # replaced
    tables = {r[0] for r in execute(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'again'")}
    assert tables == {"parcels", "landkit_runs", "planner_notes"}  # the earlier run's `clusters` went with it
    history = read_table_postgis(db, "again", "landkit_runs")
    assert history["run_id"].tolist() == ["r1", "r2", "r3"] and history["parcels"].tolist() == [10, 11, 12]  # appended


def snapshot(url: str, schema: str) -> dict[str, list]:
    tables = [r[0] for r in execute(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                                         "ORDER BY 1", [schema])]
    return {t: execute(url, sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(schema, t))) for t in tables}


def test_a_failed_write_leaves_the_schema_unchanged(db):
    keep = pd.DataFrame({"parcel_id": ["P1", "P2"], "score": [80.0, 20.0]})
    write_layers_postgis(db, "atomic", {"keep": keep})
    before = snapshot(db, "atomic")
    unwritable = pd.DataFrame({"name": ["fine", "NUL\x00byte"]})  # PostgreSQL text cannot hold NUL
    changed = pd.DataFrame({"parcel_id": ["P9"], "score": [1.0]})
    with pytest.raises(DatabaseError, match=r"writing table `atomic.bad` failed .*nothing was written"):
        write_layers_postgis(db, "atomic", {"keep": changed, "extra": changed, "bad": unwritable}, overwrite=True)
    assert snapshot(db, "atomic") == before == {"keep": [("P1", 80.0), ("P2", 20.0)]}
    with pytest.raises(DatabaseError, match="rolled back"):
        write_layers_postgis(db, "never_made", {"extra": changed, "bad": unwritable})
    assert execute(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'never_made'") == [(0,)]


def test_a_table_name_with_quotes_and_semicolons_stays_a_name(sample, tmp_path):
    schema = 'we"ird; schema'
    parcels = read_sample("parcels").head(30)
    write_layers_postgis(sample, schema, {NASTY: parcels})
    assert execute(sample, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = %s AND c.relkind = 'r'", [schema]) == [(NASTY,)]
    back = read_table_postgis(sample, schema, NASTY)
    assert back["地块编号"].tolist() == parcels["地块编号"].tolist()
    # through the command line: the name percent-encoded in the URL, and in a project file
    url = f"{sample}?table={quote(qualified_name(schema, NASTY), safe='')}"
    result = invoke("validate", url)
    assert result.exit_code == 0, result.output
    assert "Checked 30 parcels" in result.output
    project = tmp_path / "p.yaml"
    project.write_text(yaml.safe_dump({"inputs": {"parcels": {"path": sample, "layer": qualified_name(schema, NASTY)}}},
                                      allow_unicode=True), encoding="utf-8")
    assert invoke("validate", "-c", project).exit_code == 0
    unqualified = invoke("validate", f"{sample}?table={quote(NASTY, safe='')}")  # not on the search path
    assert unqualified.exit_code == 1 and f"table `{NASTY}` does not exist" in unqualified.output
    assert execute(sample, "SELECT to_regclass('public.x') IS NOT NULL") == [(True,)]  # x was never dropped


# --- the assessment from PostGIS equals the one from the GeoPackage ------------------------------------


@pytest.fixture(scope="session")
def runs(sample, tmp_path_factory):
    """The sample assessed from its files and from PostGIS (parcels, enterprises and blocks given
    as URLs on the command line; roads, core sites and land prices in the project file), the
    second also written to schema ``run`` with --db."""
    root = tmp_path_factory.mktemp("assess")
    reference = invoke("-q", "assess", "-c", SAMPLE / "minhang.yaml", "-o", root / "gpkg")
    assert reference.exit_code == 0, reference.output
    project = yaml.safe_load((SAMPLE / "minhang.yaml").read_text(encoding="utf-8"))
    project["inputs"] = {
        "roads": {"path": sample, "layer": "src.roads"},
        "core_sites": {"path": f"{sample}?table=src.core_sites"},
        "land_price": {"path": sample, "query": "SELECT * FROM src.land_price"},
        "price_zones": {"path": sample, "layer": "src.price_zones"},
        "facilities": {"path": sample, "layer": "src.facilities"},
        "rasters": [{**r, "path": str(SAMPLE / r["path"])} for r in project["inputs"]["rasters"]],
    }
    config = root / "postgis.yaml"
    config.write_text(yaml.safe_dump(project, allow_unicode=True), encoding="utf-8")
    result = invoke("assess", with_db(sample, urlsplit(sample).path.lstrip("/"), table="src.parcels"),  # (its report read)
                    "-e", f"{sample}#src.enterprises", "--blocks", f"{sample}?table=src.blocks",
                    "-c", config, "-o", root / "postgis", "--db", sample, "--schema", "run")
    assert result.exit_code == 0, result.output
    return root / "gpkg", root / "postgis", result.output


def test_assess_from_postgis_equals_assess_from_files(runs):
    files, database, _ = runs
    assert json.loads((database / "summary.json").read_text()) == json.loads((files / "summary.json").read_text())
    a = pyogrio.read_dataframe(files / "landkit.gpkg", layer="parcels")
    b = pyogrio.read_dataframe(database / "landkit.gpkg", layer="parcels")
    assert list(a.columns) == list(b.columns) and len(a) == 3200
    for column in a.columns:
        if column == "geometry":
            assert shapely.equals_exact(np.asarray(a.geometry), np.asarray(b.geometry), 0).all()
        else:
            pd.testing.assert_series_equal(a[column], b[column], obj=column)
    inputs = json.loads((database / "manifest.json").read_text())["inputs"]
    assert inputs["parcels"]["path"].startswith("postgresql://") and "src.parcels" in inputs["parcels"]["path"]


def test_assess_db_writes_every_layer_with_keys_indexes_and_srid(runs, sample):
    _, database, output = runs
    assert f"Wrote the layers to {redact(sample)} (schema run)" in output
    gpkg = database / "landkit.gpkg"
    layers = {str(name): geom for name, geom in pyogrio.list_layers(gpkg)}
    tables = {r[0] for r in execute(sample, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'run'")}
    assert tables == set(layers)
    keys = dict(execute(sample, """
        SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
        WHERE tc.table_schema = 'run' AND tc.constraint_type = 'PRIMARY KEY'"""))
    assert set(keys) == set(layers)  # every table has a primary key
    assert keys["parcels"] == keys["inventory"] == "parcel_id" and keys["blocks"] == "block_id"
    assert keys["landkit_runs"] == "run_id" and keys["kpis"] == "fid"
    spatial = {name for name, geom in layers.items() if geom}
    gist = {r[0] for r in execute(sample, "SELECT tablename FROM pg_indexes WHERE schemaname = 'run' "
                                          "AND indexdef LIKE '%USING gist (geom)%'")}
    assert gist == spatial
    columns = {t: (srid, kind) for t, srid, kind in execute(
        sample, "SELECT f_table_name, srid, type FROM geometry_columns WHERE f_table_schema = 'run'")}
    assert columns == {name: (4490, layers[name].upper()) for name in spatial}
    for name in layers:
        written = pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True)
        stored = read_table_postgis(sample, "run", name)
        assert len(stored) == len(written), name
        if name in spatial:
            assert shapely.equals_exact(np.asarray(stored.geometry), np.asarray(written.geometry), 0).all(), name
    parcels = read_table_postgis(sample, "run", "parcels")
    written = pyogrio.read_dataframe(gpkg, layer="parcels", use_arrow=True)
    for column in written.columns.drop("geometry"):
        pd.testing.assert_series_equal(parcels[column], written[column], obj=column, check_dtype=False)


def test_assess_db_refuses_existing_tables_then_replaces_them_and_appends_history(runs, sample, tmp_path):
    args = ("-q", "assess", "-c", SAMPLE / "minhang.yaml", "--db", sample, "--schema", "run")
    refused = invoke(*args, "-o", tmp_path / "a")
    assert refused.exit_code == 1
    assert "table `run.parcels` exists" in refused.output and "--overwrite" in refused.output
    assert not (tmp_path / "a").exists()  # refused before any work
    assert len(read_table_postgis(sample, "run", "landkit_runs")) == 1
    again = invoke(*args, "-o", tmp_path / "b", "--overwrite")
    assert again.exit_code == 0, again.output
    history = read_table_postgis(sample, "run", "landkit_runs")
    assert len(history) == 2 and history["run_id"].is_unique
    assert len(read_table_postgis(sample, "run", "parcels")) == 3200


def assert_same_table(stored: pd.DataFrame, written: pd.DataFrame, name: str) -> None:
    """A table read from PostGIS equals the GeoPackage's: columns in order, values (floats to 1e-9), geometry exactly."""
    geometry = [c for c in written.columns if c == "geometry"]
    assert list(stored.columns) == [c for c in written.columns if c != "geometry"] + (["geom"] if geometry else []), name
    for column in written.columns.drop(geometry):
        a, b = stored[column], written[column]
        if pd.api.types.is_bool_dtype(a.dropna().infer_objects()) and not pd.api.types.is_bool_dtype(b.dropna().infer_objects()):
            # a column of True/False/None: a boolean in PostgreSQL, text in the GeoPackage (GDAL has no nullable boolean)
            a, b = (x.map(lambda v: None if pd.isna(v) else str(v)).astype(object) for x in (a, b))
        pd.testing.assert_series_equal(a, b, obj=f"{name}.{column}", check_dtype=False, rtol=1e-9)
    if geometry:
        assert shapely.equals_exact(np.asarray(stored.geometry), np.asarray(written.geometry), 0).all(), name


def test_run_commands_take_the_schema_assess_db_wrote(runs, sample, tmp_path):
    """rings, scatter, map, export, history and compare read a run from its schema as from its folder."""
    files, _, _ = runs
    folder = tmp_path / "folder"
    shutil.copytree(files, folder)
    gpkg = folder / "landkit.gpkg"
    write_layers_postgis(sample, "cli_run", {str(n): pyogrio.read_dataframe(gpkg, layer=str(n), use_arrow=True)
                                             for n, _ in pyogrio.list_layers(gpkg)})  # the layers `assess --db` writes
    url = f"{sample}?schema=cli_run"
    for run, out in ((url, tmp_path / "db"), (folder, tmp_path / "files")):
        assert invoke("export", run, "--layer", "inventory", "-o", out / "inventory.csv").exit_code == 0
        assert invoke("map", run, "-o", out / "map.html", "-c", SAMPLE / "minhang.yaml").exit_code == 0
    assert (tmp_path / "db" / "inventory.csv").read_bytes() == (tmp_path / "files" / "inventory.csv").read_bytes()
    page = [re.sub(r"_[0-9a-f]{32}\b", "_ID", (out / "map.html").read_text(encoding="utf-8"))  # folium's random element ids
            for out in (tmp_path / "db", tmp_path / "files")]
    assert page[0] == page[1]
    assert invoke("history", url, "--json").output == invoke("history", folder, "--json").output
    same = invoke("compare", folder, url, "-o", tmp_path / "cmp")
    assert same.exit_code == 0 and "评价等级变化 0 宗" in same.output and "新列入 0 宗, 移出 0 宗" in same.output, same.output

    tables = set(list_tables_postgis(sample, "cli_run"))
    for command in ("rings", "scatter"):
        for run in (url, folder):
            result = invoke("-q", command, run, "-c", SAMPLE / "minhang.yaml")
            assert result.exit_code == 0, result.output
    added = {"rings", "linkage", "ring_profiles", "clusters", "scatter_metrics", "scatter_before_after"}
    assert set(list_tables_postgis(sample, "cli_run")) == tables | added  # the run's other tables kept
    for name in ("parcels", *sorted(added)):
        assert_same_table(read_table_postgis(sample, "cli_run", name), pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True), name)
    assert len(read_table_postgis(sample, "cli_run", "landkit_runs")) == 1

    assert invoke("map", url).exit_code == 2  # a database run has no folder to put map.html in
    fails("export", f"{sample}?schema=nowhere", "-o", tmp_path / "x.csv", expect="(schema nowhere): the schema does not exist")
    fails("export", url, "--layer", "nope", "-o", tmp_path / "x.csv", expect="has no layer `nope`; layers: ")


# --- bad input: one line, exit 1, never a password -----------------------------------------------------


def fails(*args, expect: str, secret: str | None = None) -> str:
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert expect in lines[0], lines[0]
    if secret:
        assert secret not in result.output
    return lines[0]


def test_an_unreachable_server_names_host_and_port_not_the_password(password):
    line = fails("validate", f"postgresql://landkit_pw:{password}@127.0.0.1:1/park?table=parcels",
                 expect="cannot reach the PostgreSQL server at 127.0.0.1:1 (Connection refused)", secret=password)
    assert "postgresql://landkit_pw:***@127.0.0.1:1/park" in line


def test_a_password_is_never_printed_by_any_command(sample, pw_db, password, tmp_path):
    for args in (("map", f"{pw_db}?schema=nowhere", "-o", tmp_path / "m.html"), ("export", pw_db, "-o", tmp_path / "x.csv"),
                 ("rings", f"{pw_db}?schema=src", "-c", SAMPLE / "minhang.yaml"), ("scatter", f"{pw_db}?schema=src"), ("history", pw_db),
                 ("compare", pw_db, f"{pw_db}?schema=src", "-o", tmp_path / "c"),
                 ("validate", f"postgresql://landkit_pw:{password}@[bad/db?table=x")):
        for verbosity in ((), ("-vv",)):
            result = invoke(*verbosity, *args)
            assert result.exit_code == 1, result.output
            assert password not in result.output and "***" in result.output, result.output


def test_a_refused_login_says_so_without_the_password(pw_db, password):
    wrong = pw_db.replace(password, "not-" + password)
    fails("validate", f"{wrong}?table=shared.parcels", expect="refused the login of role `landkit_pw`", secret=password)
    nopw = pw_db.replace(f":{password}@", "@")
    fails("validate", f"{nopw}?table=shared.parcels", expect="no password supplied")


def test_a_missing_database_table_or_schema_is_named(sample):
    fails("validate", with_db(sample, "no_such_db", table="parcels"), expect="database `no_such_db` does not exist")
    fails("validate", f"{sample}?table=src.nope", expect="table `src.nope` does not exist")
    line = fails("validate", f"{sample}?table=nope.parcels", expect="schema `nope` does not exist")
    assert "src" in line  # the schemas there are listed
    fails("validate", f"{sample}?table=nope", expect="table `nope` does not exist")


def test_a_table_without_geometry_is_refused_as_parcels(sample):
    fails("validate", f"{sample}?table=src.enterprises", expect="has no geometry column")


def test_srid_0_is_refused_unless_a_crs_is_declared(sample):
    execute(sample, "CREATE TABLE src.parcels_srid0 AS SELECT fid, 地块编号, 用地性质, 土地状态, ST_SetSRID(geom, 0) AS geom "
                    "FROM src.parcels ORDER BY fid LIMIT 25")
    line = fails("validate", f"{sample}?table=src.parcels_srid0", expect="has SRID 0")
    assert "UpdateGeometrySRID" in line and "--crs" in line
    ok = invoke("validate", f"{sample}?table=src.parcels_srid0", "--crs", "EPSG:4490")
    assert ok.exit_code == 0 and "Checked 25 parcels" in ok.output, ok.output
    query = "SELECT 地块编号, 用地性质, ST_SetSRID(geom, 0) AS g FROM src.parcels"
    fails("validate", f"{sample}?query={quote(query)}", expect="wrap it in ST_SetSRID(g, 4490)")


def test_a_query_reads_its_rows_with_the_srid_of_its_values(sample):
    query = "SELECT 地块编号, 用地性质, ST_Transform(geom, 4549) AS geom FROM src.parcels WHERE 所属街镇 = '吴泾镇'"
    expected = int((read_sample("parcels")["所属街镇"] == "吴泾镇").sum())
    result = invoke("validate", f"{sample}?query={query}")  # spaces and Chinese unescaped: the rest of the URL is the SQL
    assert result.exit_code == 0, result.output
    assert f"Checked {expected:,} parcels" in result.output and expected > 0
    fails("validate", f"{sample}?query=SELEC 1", expect="failed: syntax error")


def test_permission_denied_names_role_schema_and_grant(sample, pw_db, password):
    fails("validate", f"{pw_db}?table=src.parcels", secret=password,
          expect="role `landkit_pw` may not read")
    args = ("assess", "-c", SAMPLE / "minhang.yaml", "-o", "unused", "--db", pw_db)
    line = fails(*args, "--schema", "src", secret=password, expect="role `landkit_pw` may not create tables in schema `src`")
    assert 'GRANT USAGE, CREATE ON SCHEMA "src" TO "landkit_pw"' in line
    line = fails(*args, "--schema", "mine", secret=password, expect="role `landkit_pw` may not create schema `mine`")
    assert "GRANT CREATE ON DATABASE" in line and 'CREATE SCHEMA "mine" AUTHORIZATION "landkit_pw"' in line


def test_credentials_from_the_environment_and_a_service_file(sample, pw_db, password, monkeypatch, tmp_path):
    host = urlsplit(pw_db)
    dbname = host.path.lstrip("/")
    monkeypatch.setenv("PGUSER", "landkit_pw")
    monkeypatch.setenv("PGPASSWORD", password)
    result = invoke("-vv", "validate", f"postgresql://{host.hostname}:{host.port}/{dbname}?table=shared.parcels")
    assert result.exit_code == 0 and "Checked 40 parcels" in result.output, result.output
    assert password not in result.output  # not even in the debug log
    monkeypatch.delenv("PGUSER")
    monkeypatch.delenv("PGPASSWORD")
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[landkit_test]\nhost={host.hostname}\nport={host.port}\ndbname={dbname}\n"
                        f"user=landkit_pw\npassword={password}\n", encoding="utf-8")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    result = invoke("-vv", "validate", "postgresql:///?service=landkit_test&table=shared.parcels")
    assert result.exit_code == 0 and "Checked 40 parcels" in result.output, result.output
    assert password not in result.output
    fails("validate", "postgresql:///?service=nowhere&table=shared.parcels", expect="service `nowhere` is not defined")


def test_db_option_needs_a_url_and_schema_needs_db():
    result = invoke("assess", "-c", SAMPLE / "minhang.yaml", "-o", "unused", "--db", "parcels.gpkg")
    assert result.exit_code == 2 and "postgresql://" in result.output
    result = invoke("assess", "-c", SAMPLE / "minhang.yaml", "-o", "unused", "--schema", "x")
    assert result.exit_code == 2 and "--db" in result.output


def test_db_target_never_shows_its_password():
    target = DbTarget("postgresql://u:hunter2@h/db", "s")
    assert "hunter2" not in repr(target) and "hunter2" not in target.label
