"""QGIS default styles of a run: in the GeoPackage's ``layer_styles`` and in PostGIS's ``public.layer_styles``.

QGIS's OGR provider takes a GeoPackage layer's default style from ``layer_styles`` (rows with
``f_table_schema = ''``, the layer and its geometry column); its postgres provider from
``public.layer_styles`` with its own definition (``QgsPostgresUtils::createStylesTable``) and
matches ``f_table_catalog`` (the database), ``f_table_schema``, ``f_table_name``,
``f_geometry_column`` and ``type`` (``Point``/``Line``/``Polygon`` or NULL), the default row
first (``QgsPostgresProviderMetadata::loadStoredStyle``). The expected answers come from the
GeoPackage's own catalogue (gpkg_geometry_columns), PostGIS's geometry_columns, and the SQL QGIS
runs, not from the code under test.
"""

from __future__ import annotations

import logging
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pg import execute

from landkit.cli.main import cli
from landkit.deliver.labels import LINK_COLOURS, RING_COLOURS
from landkit.deliver.styles import categorized_qml, geometry_kind, layer_styles_table, single_symbol_qml
from landkit.io.postgis.read import read_table_postgis
from landkit.io.postgis.write import write_layers_postgis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "gis_data"
#: Every spatial layer a run of the sample writes, and the renderer (and attribute) QGIS should get.
RENDERERS = {
    "parcels": ("categorizedSymbol", "grade"), "inventory": ("categorizedSymbol", "disposal"),
    "watchlist": ("categorizedSymbol", "grade"), "blocks": ("singleSymbol", None), "rings": ("categorizedSymbol", "ring"),
    "clusters": ("singleSymbol", None), "linkage": ("categorizedSymbol", "kind"), "roads": ("categorizedSymbol", "road_class"),
    "core_sites": ("singleSymbol", None),
    # the plan's items 12–14: one colour each
    "facilities": ("singleSymbol", None), "block_changes": ("singleSymbol", None), "proposed_blocks": ("singleSymbol", None),
    # 连片整合 (issue 18)
    "assembly_sites": ("singleSymbol", None),
}
#: Geometry type (GeoPackage / PostGIS catalogue) → QGIS symbol type, symbol layer class, QGIS's `type`.
GEOMETRY = {
    "POLYGON": ("fill", "SimpleFill", "Polygon"), "MULTIPOLYGON": ("fill", "SimpleFill", "Polygon"),
    "LINESTRING": ("line", "SimpleLine", "Line"), "MULTILINESTRING": ("line", "SimpleLine", "Line"),
    "POINT": ("marker", "SimpleMarker", "Point"), "MULTIPOINT": ("marker", "SimpleMarker", "Point"),
}
#: The columns of QGIS's public.layer_styles (QGIS ≥ 3.14) and their types, as information_schema names them.
QGIS_COLUMNS = {
    "id": "integer", "f_table_catalog": "character varying", "f_table_schema": "character varying",
    "f_table_name": "character varying", "f_geometry_column": "character varying", "stylename": "text", "styleqml": "xml",
    "stylesld": "xml", "useasdefault": "boolean", "description": "text", "owner": "character varying", "ui": "xml",
    "update_time": "timestamp without time zone", "type": "character varying", "r_raster_column": "character varying",
}
#: What QGIS's postgres provider runs to find a layer's style (loadStoredStyle, QGIS ≥ 3.14).
QGIS_LOAD_STYLE = (
    "SELECT styleName, styleQML FROM layer_styles WHERE f_table_catalog=%s AND f_table_schema=%s AND f_table_name=%s "
    "AND f_geometry_column =%s AND (type=%s OR type IS NULL) ORDER BY CASE WHEN useAsDefault THEN 1 ELSE 2 END, "
    "update_time DESC LIMIT 1"
)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def check_qml(qml: str, *, renderer: str, attr: str | None, symbol_type: str, layer_class: str) -> ET.Element:
    """Parse a QML document (DOCTYPE included) and check its renderer and symbols; return the renderer."""
    root = ET.fromstring(qml)
    assert root.tag == "qgis" and root.get("version", "").startswith("3.")
    found = root.find("renderer-v2")
    assert found is not None and found.get("type") == renderer
    assert found.get("attr") == attr
    symbols = found.find("symbols").findall("symbol")
    assert symbols, "a renderer without symbols"
    for sym in symbols:
        assert sym.get("type") == symbol_type
        layers = sym.findall("layer")
        assert [la.get("class") for la in layers] == [layer_class]
        new = {o.get("name"): o.get("value") for o in layers[0].find("Option").findall("Option")}
        old = {p.get("k"): p.get("v") for p in layers[0].findall("prop")}
        assert new == old and new  # QGIS ≥ 3.26 reads the first, QGIS 3.22 the second
        colour = new["line_color" if symbol_type == "line" else "color"]
        assert len(colour.split(",")) == 4 and all(0 <= int(v) <= 255 for v in colour.split(","))
    if renderer == "singleSymbol":
        assert [s.get("name") for s in symbols] == ["0"]
    else:
        names = {s.get("name") for s in symbols}
        categories = found.find("categories").findall("category")
        assert categories and all(c.get("symbol") in names for c in categories)
    return found


def colours(renderer: ET.Element, key: str = "color") -> dict[str, str]:
    """Category value → the colour (``r,g,b,a``) of its symbol."""
    by_name = {s.get("name"): s for s in renderer.find("symbols").findall("symbol")}
    out = {}
    for cat in renderer.find("categories").findall("category"):
        layer = by_name[cat.get("symbol")].find("layer")
        out[cat.get("value")] = {p.get("k"): p.get("v") for p in layer.findall("prop")}[key]
    return out


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


# --- the GeoPackage ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The shipped sample assessed to files: every layer kind (rings, linkage, clusters, roads, core sites)."""
    out = tmp_path_factory.mktemp("styles") / "run"
    result = invoke("-q", "assess", "-c", SAMPLE / "minhang.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    return out


def gpkg_styles(path: Path) -> tuple[dict[str, tuple], dict[str, tuple[str, str]]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT f_table_name, f_table_schema, f_geometry_column, styleName, styleQML, useAsDefault "
                            "FROM layer_styles").fetchall()
        geometry = {t: (c, g.upper()) for t, c, g in conn.execute(
            "SELECT table_name, column_name, geometry_type_name FROM gpkg_geometry_columns")}
    return {r[0]: r[1:] for r in rows}, geometry


def test_every_spatial_layer_of_the_geopackage_has_one_default_style(run_dir):
    styles, geometry = gpkg_styles(run_dir / "landkit.gpkg")
    with sqlite3.connect(run_dir / "landkit.gpkg") as conn:
        assert conn.execute("SELECT count(*) FROM layer_styles").fetchone()[0] == len(styles)  # one row per layer
    assert set(geometry) == set(RENDERERS)  # the sample's run writes each kind of layer
    assert set(styles) == set(geometry)
    for name, (schema, column, style_name, _, default) in styles.items():
        assert schema == "" and column == geometry[name][0] and default == 1 and style_name, name


def test_each_qml_parses_with_the_renderer_and_symbols_for_its_geometry(run_dir):
    styles, geometry = gpkg_styles(run_dir / "landkit.gpkg")
    for name, (_, _, _, qml, _) in styles.items():
        symbol_type, layer_class, _ = GEOMETRY[geometry[name][1]]
        renderer, attr = RENDERERS[name]
        check_qml(qml, renderer=renderer, attr=attr, symbol_type=symbol_type, layer_class=layer_class)


def test_the_colours_are_the_maps(run_dir):
    styles, _ = gpkg_styles(run_dir / "landkit.gpkg")
    parse = {name: ET.fromstring(row[3]).find("renderer-v2") for name, row in styles.items()}
    rings = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="rings", read_geometry=False)
    ring_colours = colours(parse["rings"])
    assert set(ring_colours) == set(rings["ring"])
    assert all(c.rsplit(",", 1)[0] == rgb(RING_COLOURS[r]) for r, c in ring_colours.items())
    linkage = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="linkage", read_geometry=False)
    link_colours = colours(parse["linkage"], "line_color")
    assert set(link_colours) == set(linkage["kind"])
    assert all(c == rgb(LINK_COLOURS[k]) + ",255" for k, c in link_colours.items())
    roads = pyogrio.read_dataframe(run_dir / "landkit.gpkg", layer="roads", read_geometry=False)
    assert set(colours(parse["roads"], "line_color")) == set(roads["road_class"].dropna()) | {""}  # "" = all other values
    block = {p.get("k"): p.get("v") for p in parse["blocks"].iter("prop")}
    assert block["style"] == "no" and block["outline_style"] == "solid"  # the blocks' outline only
    assert colours(parse["parcels"])["A"].startswith(rgb("#1a9641"))


def test_qml_builders_make_the_symbol_of_each_geometry():
    lines = categorized_qml("kind", [("a", "A", "#ff0000"), ("", "other", "#00ff00")], "line", options={"a": {"width": 1.5}})
    renderer = check_qml(lines, renderer="categorizedSymbol", attr="kind", symbol_type="line", layer_class="SimpleLine")
    widths = {s.get("name"): {p.get("k"): p.get("v") for p in s.iter("prop")}["line_width"] for s in renderer.iter("symbol")}
    assert widths == {"0": "1.5", "1": "0.4"}
    check_qml(single_symbol_qml("#123456", "point"), renderer="singleSymbol", attr=None, symbol_type="marker",
              layer_class="SimpleMarker")
    check_qml(categorized_qml("grade", [("A", "A类", "#1a9641")]), renderer="categorizedSymbol", attr="grade",
              symbol_type="fill", layer_class="SimpleFill")  # the old call: polygons
    with pytest.raises(ValueError, match="no QGIS symbol"):
        single_symbol_qml("#123456", "raster")
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[shapely.Point(0, 0), shapely.MultiPoint([(1, 1)])], crs=4326)
    assert geometry_kind(frame) == "point" and geometry_kind(frame.iloc[:0], "line") == "line"
    assert geometry_kind(pd.DataFrame(frame.drop(columns="geometry"))) is None  # a plain table


# --- PostGIS -----------------------------------------------------------------------------------------


def qgis_catalogue(url: str, schema: str) -> dict[str, tuple[str, str]]:
    """Spatial table → (geometry column, QGIS's `type`), from PostGIS's geometry_columns."""
    return {t: (c, GEOMETRY[k][2]) for t, c, k in execute(
        url, "SELECT f_table_name, f_geometry_column, type FROM geometry_columns WHERE f_table_schema = %s", [schema])}


def public_styles(url: str, schema: str) -> list[tuple]:
    return execute(url, "SELECT id, f_table_catalog, f_table_name, f_geometry_column, stylename, styleqml::text, useasdefault, "
                        "type, owner FROM public.layer_styles WHERE f_table_schema = %s ORDER BY f_table_name, id", [schema])


@pytest.fixture(scope="module")
def db_runs(db, tmp_path_factory):
    """The sample assessed twice into schema ``qgis_run`` (--db, the second with --overwrite):
    public.layer_styles after each, and the folder of the second."""
    root = tmp_path_factory.mktemp("styles_db")
    args = ("-q", "assess", "-c", SAMPLE / "minhang.yaml", "--db", db, "--schema", "qgis_run")
    first = invoke(*args, "-o", root / "a")
    assert first.exit_code == 0, first.output
    after_first = public_styles(db, "qgis_run")
    # a style a planner saved from QGIS as the parcels' default (another owner): kept, no longer the default
    dbname = urlsplit(db).path.lstrip("/")
    execute(db, "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "stylename, styleqml, useasdefault, description, owner, type) VALUES (%s, 'qgis_run', 'parcels', 'geom', "
                "'mine', XMLPARSE(DOCUMENT '<qgis/>'), true, 'saved from QGIS', 'planner', 'Polygon')", [dbname])
    second = invoke(*args, "-o", root / "b", "--overwrite")
    assert second.exit_code == 0, second.output
    return after_first, public_styles(db, "qgis_run"), root / "b"


def test_public_layer_styles_has_qgis_definition(db_runs, db):
    columns = dict(execute(db, "SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = 'public' AND table_name = 'layer_styles'"))
    assert columns == QGIS_COLUMNS
    default = execute(db, "SELECT column_default FROM information_schema.columns WHERE table_schema = 'public' "
                          "AND table_name = 'layer_styles' AND column_name = 'id'")[0][0]
    assert default.startswith("nextval(")  # serial
    key = execute(db, "SELECT kcu.column_name FROM information_schema.table_constraints tc JOIN "
                      "information_schema.key_column_usage kcu USING (constraint_schema, constraint_name) "
                      "WHERE tc.table_schema = 'public' AND tc.table_name = 'layer_styles' AND tc.constraint_type = 'PRIMARY KEY'")
    assert key == [("id",)]


def test_assess_db_writes_one_default_style_per_layer_where_qgis_reads_it(db_runs, db):
    first, _, _ = db_runs
    dbname = urlsplit(db).path.lstrip("/")
    spatial = qgis_catalogue(db, "qgis_run")
    assert set(spatial) == set(RENDERERS)
    assert sorted(r[2] for r in first) == sorted(spatial)  # one row per spatial layer, none for plain tables
    for _, catalog, table, column, _style, qml, default, kind, owner in first:
        # type NULL: matched whether the layer's URI names its geometry type (QGIS's browser) or not
        assert catalog == dbname and column == spatial[table][0] and kind is None and default is True and owner == "landkit", table
        symbol_type, layer_class, _ = GEOMETRY[{"Polygon": "POLYGON", "Line": "LINESTRING", "Point": "POINT"}[spatial[table][1]]]
        check_qml(qml, renderer=RENDERERS[table][0], attr=RENDERERS[table][1], symbol_type=symbol_type, layer_class=layer_class)
    # the query QGIS runs (unqualified: the search path finds public) returns landkit's style for each layer
    for table, (column, kind) in spatial.items():
        for asked in (kind, "Unknown geometry"):  # QGIS 3.22 asks the latter for a URI without `type=`
            found = execute(db, QGIS_LOAD_STYLE, [dbname, "qgis_run", table, column, asked])
            assert len(found) == 1 and found[0][0] == next(r[4] for r in first if r[2] == table), (table, asked)


def test_a_second_run_replaces_its_styles_and_keeps_a_planners(db_runs, db):
    first, second, folder = db_runs
    dbname = urlsplit(db).path.lstrip("/")
    ours = [r for r in second if r[8] == "landkit"]
    assert sorted(r[2] for r in ours) == sorted(r[2] for r in first)  # replaced, not duplicated
    assert not {r[0] for r in ours} & {r[0] for r in first}  # new rows
    assert all(r[6] for r in ours)
    planner = [r for r in second if r[8] == "planner"]
    assert [(r[2], r[4], r[6]) for r in planner] == [("parcels", "mine", False)]  # kept, no longer the default
    found = execute(db, QGIS_LOAD_STYLE, [dbname, "qgis_run", "parcels", "geom", "Polygon"])
    assert found[0][0] == "评价等级"
    # the QML in the database is the GeoPackage's
    gpkg, _ = gpkg_styles(folder / "landkit.gpkg")
    for r in ours:
        assert ET.tostring(ET.fromstring(r[5])) == ET.tostring(ET.fromstring(gpkg[r[2]][3])), r[2]


def test_the_run_schema_keeps_a_copy_with_qgis_columns(db_runs, db):
    _, second, _ = db_runs
    copy = read_table_postgis(db, "qgis_run", "layer_styles", geometry=False)
    assert [c for c in QGIS_COLUMNS if c != "r_raster_column"] == list(copy.columns)
    assert sorted(copy["f_table_name"]) == sorted(r[2] for r in second if r[8] == "landkit")
    assert set(copy["f_table_schema"]) == {"qgis_run"} and set(copy["f_table_catalog"]) == {urlsplit(db).path.lstrip("/")}


def small_layers() -> dict:
    parcels = gpd.GeoDataFrame({"parcel_id": ["P1"], "grade": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)], crs=4549)
    styles = layer_styles_table({"parcels": ("评价等级", "test (landkit)", categorized_qml("grade", [("A", "A类", "#1a9641")]))})
    return {"parcels": parcels, "layer_styles": styles}


def test_a_role_that_may_not_write_public_gets_a_warning_and_the_layers(db_runs, db, pw_db, caplog):
    execute(db, "DROP SCHEMA IF EXISTS pw_styles CASCADE")
    execute(db, "CREATE SCHEMA pw_styles AUTHORIZATION landkit_pw")
    before = execute(db, "SELECT count(*) FROM public.layer_styles")
    with caplog.at_level(logging.WARNING, logger="landkit"):
        assert write_layers_postgis(pw_db, "pw_styles", small_layers()) == ["pw_styles.parcels", "pw_styles.layer_styles"]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "styles not written to public.layer_styles" in warned[0] and "landkit_pw" in warned[0]
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON "public"."layer_styles" TO "landkit_pw"' in warned[0]
    assert execute(db, "SELECT count(*) FROM public.layer_styles") == before
    assert len(read_table_postgis(db, "pw_styles", "parcels")) == 1
    # no table yet, and no right to create it in public (PostgreSQL 15 and later): the same, with the reason
    caplog.clear()
    execute(db, "ALTER TABLE public.layer_styles RENAME TO layer_styles_kept")
    try:
        with caplog.at_level(logging.WARNING, logger="landkit"):
            write_layers_postgis(pw_db, "pw_styles", small_layers(), overwrite=True)
        assert execute(db, "SELECT to_regclass('public.layer_styles')") == [(None,)]
    finally:
        execute(db, "ALTER TABLE public.layer_styles_kept RENAME TO layer_styles")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    may_create = execute(db, "SELECT has_schema_privilege('landkit_pw', 'public', 'CREATE')")[0][0]
    if not may_create:
        assert len(warned) == 1 and "may not create it in schema `public`" in warned[0]


def test_styles_go_to_public_and_a_table_qgis_would_not_read_is_left_alone(db_runs, db, caplog):
    execute(db, "DROP SCHEMA IF EXISTS odd CASCADE")
    execute(db, "CREATE SCHEMA odd")
    execute(db, "CREATE TABLE odd.layer_styles (name text)")  # another schema's table of that name: not QGIS's, not touched
    with caplog.at_level(logging.WARNING, logger="landkit"):
        write_layers_postgis(db, "odd_run", small_layers())
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    rows = execute(db, "SELECT f_table_name, type, useasdefault FROM public.layer_styles WHERE f_table_schema = 'odd_run'")
    assert rows == [("parcels", None, True)]
    assert execute(db, "SELECT count(*) FROM odd.layer_styles") == [(0,)]
    # a public.layer_styles that is not QGIS's: a warning naming it, the layers written, the table untouched
    caplog.clear()
    execute(db, "ALTER TABLE public.layer_styles RENAME TO layer_styles_kept")
    try:
        execute(db, "CREATE TABLE public.layer_styles (name text)")
        with caplog.at_level(logging.WARNING, logger="landkit"):
            write_layers_postgis(db, "odd_run", small_layers(), overwrite=True)
        assert execute(db, "SELECT count(*) FROM public.layer_styles") == [(0,)]
    finally:
        execute(db, "DROP TABLE IF EXISTS public.layer_styles")
        execute(db, "ALTER TABLE public.layer_styles_kept RENAME TO layer_styles")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "public.layer_styles" in warned[0] and "is not QGIS's (no column f_table_catalog" in warned[0]


# --- QGIS itself (Debian's QGIS 3.22, python3-qgis, as on office desktops) opening the run -------------

SYSTEM_PYTHON = "/usr/bin/python3"


def qgis_open(layers: dict[str, tuple[str, str]]) -> dict[str, dict]:
    """What QGIS shows for each layer: name → (uri, provider); tests/qgis_client.py run headless."""
    import json
    import subprocess

    check = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    if check.returncode != 0:
        pytest.fail("QGIS's Python bindings are missing: apt-get install python3-qgis qgis-providers "
                    "(scripts/system-deps.sh does it)", pytrace=False)
    spec = [{"name": name, "uri": uri, "provider": provider} for name, (uri, provider) in layers.items()]
    done = subprocess.run([SYSTEM_PYTHON, str(ROOT / "tests" / "qgis_client.py")], input=json.dumps(spec),
                          capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def check_as_qgis_shows(shown: dict[str, dict], counts: dict[str, int]) -> None:
    """Each layer valid, with its feature count, renderer and attribute; parcels with Chinese fields."""
    assert set(shown) == set(counts)
    for name, layer in shown.items():
        assert layer["valid"], (name, layer)
        assert layer["features"] == counts[name], name
        renderer, attr = RENDERERS[name]
        assert layer["renderer"] == renderer and (attr is None or layer["attribute"] == attr), (name, layer["renderer"])
    parcels = shown["parcels"]
    # the attribute table speaks the workbook's Chinese and shows values, the data keep their codes
    assert parcels["aliases"]["status"] == "土地状态" and parcels["aliases"]["parcel_id"] == "地块编号"
    assert parcels["value_maps"]["status"]["operating"] == "在产"
    assert parcels["value_maps"]["grade"] == {"A": "A类", "B": "B类", "C": "C类", "D": "D类", "U": "不参评"}
    assert "list_basis" in parcels["value_maps"] and parcels["value_maps"]["list_basis"]["IDLE"] == "闲置土地"
    inventory = shown["inventory"]
    assert inventory["value_maps"]["disposal"]["reclaim"] == "收回/收储" and inventory["value_maps"]["disposal"]["reduce"] == "减量化"


def test_qgis_opens_every_layer_of_the_geopackage_styled_and_in_chinese(run_dir):
    gpkg = run_dir / "landkit.gpkg"
    counts = {name: pyogrio.read_info(gpkg, layer=name)["features"]
              for name in RENDERERS if name in {n for n, _ in pyogrio.list_layers(gpkg)}}
    shown = qgis_open({name: (f"{gpkg}|layername={name}", "ogr") for name in counts})
    check_as_qgis_shows(shown, counts)


def test_qgis_opens_every_table_of_the_db_run_styled_from_public_layer_styles(db_runs, db):
    parts = urlsplit(db)
    spatial = qgis_catalogue(db, "qgis_run")
    counts = {t: execute(db, f'SELECT count(*) FROM qgis_run."{t}"')[0][0] for t in spatial}
    conn = (f"dbname='{parts.path.lstrip('/')}' host={parts.hostname} port={parts.port} user='{parts.username}'"
            + (f" password='{parts.password}'" if parts.password else "") + " sslmode=disable")
    # as a project file or PyQGIS names a table (no geometry type), and as QGIS's browser does
    wkb = {"Polygon": "MultiPolygon", "Line": "MultiLineString", "Point": "MultiPoint"}
    plain = qgis_open({t: (f'{conn} table="qgis_run"."{t}" ({column})', "postgres") for t, (column, _) in spatial.items()})
    check_as_qgis_shows(plain, counts)
    typed = qgis_open({t: (f'{conn} type={wkb[kind]} table="qgis_run"."{t}" ({column})', "postgres")
                       for t, (column, kind) in spatial.items()})
    check_as_qgis_shows(typed, counts)


def test_rings_and_scatter_keep_one_styled_default_per_layer(run_dir, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    with sqlite3.connect(run / "landkit.gpkg") as conn:  # as if assess had written no rings or clusters
        conn.execute("DELETE FROM layer_styles WHERE f_table_name IN ('rings', 'linkage', 'clusters')")
    for command in ("rings", "scatter"):
        result = invoke("-q", command, run, "-c", SAMPLE / "minhang.yaml")
        assert result.exit_code == 0, result.output
    _, _styles = gpkg_styles(run / "landkit.gpkg")
    with sqlite3.connect(run / "landkit.gpkg") as conn:
        per_layer = dict(conn.execute("SELECT f_table_name, count(*) FROM layer_styles GROUP BY f_table_name").fetchall())
    assert {"rings", "linkage", "clusters"} <= set(per_layer) and set(per_layer.values()) == {1}
    gpkg = run / "landkit.gpkg"
    shown = qgis_open({name: (f"{gpkg}|layername={name}", "ogr") for name in ("rings", "clusters", "parcels")})
    assert shown["rings"]["renderer"] == "categorizedSymbol" and shown["rings"]["attribute"] == "ring"
    assert shown["clusters"]["valid"] and shown["parcels"]["value_maps"]["grade"]["U"] == "不参评"
