"""Write a run's layers into a PostGIS schema, in one transaction.

Writing (:func:`write_layers_postgis`) happens in one transaction: typed columns, ``COPY FROM
STDIN`` of CSV written by pyarrow, a primary key and a GiST index per layer; any failure rolls
everything back. The layers' default QGIS styles (a ``layer_styles`` table among the layers) go
into ``public.layer_styles``, where QGIS looks for them, in the same transaction (see
:func:`write_layers_postgis`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landkit.core.db_url import redact
from landkit.core.errors import DatabaseError, LandkitError, OutputExistsError
from landkit.core.i18n import _
from landkit.io.postgis.connect import (
    DEFAULT_SCHEMA,
    GEOMETRY_COLUMN,
    MAX_IDENTIFIER_BYTES,
    ROW_NUMBER,
    ROW_NUMBER_COMMENT,
    _has_postgis,
    _one_line,
    _psycopg,
    _quoted,
    _relation_exists,
    _value,
    connect,
    parse_url,
)

if TYPE_CHECKING:
    import psycopg


log = logging.getLogger(__name__)


#: ``owner`` of the rows landkit writes; with :data:`STYLE_MARK` ending the description, it marks
#: the rows a later run replaces (a style a person saved from QGIS is never deleted).
STYLE_OWNER = "landkit"


STYLE_MARK = "(landkit)"


#: ``public.layer_styles`` as QGIS's postgres provider creates it (``QgsPostgresUtils::createStylesTable``,
#: QGIS 3.14 and later: ``type`` and ``r_raster_column`` added to the table of earlier versions).
QGIS_STYLES_DDL = (
    "id SERIAL PRIMARY KEY, f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, "
    "f_geometry_column varchar, styleName text, styleQML xml, styleSLD xml, useAsDefault boolean, "
    "description text, owner varchar(63) DEFAULT CURRENT_USER, ui xml, "
    "update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar, r_raster_column varchar"
)


#: The columns a table must have for QGIS to read styles from it (lower case, as PostgreSQL folds them).
QGIS_STYLES_REQUIRED = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                        "styleqml", "useasdefault")


def qgis_style_rows(styles: pd.DataFrame, *, catalog: str, schema: str,
                    geometry: Mapping[str, str]) -> pd.DataFrame:
    """Return the rows of ``public.layer_styles`` for a run written to PostGIS (QGIS's columns).

    Parameters
    ----------
    styles : DataFrame
        The GeoPackage's ``layer_styles`` (:func:`layer_styles_table`); columns matched ignoring case.
    catalog, schema : str
        The database and the schema the layers are in.
    geometry : mapping
        Table name → geometry column: the spatial tables written. Styles of other tables are
        left out.
    """
    columns = {str(c).lower(): c for c in styles.columns}
    rows: list[dict[str, object]] = []
    for row in styles.to_dict("records"):
        table = str(row[columns["f_table_name"]])
        if table not in geometry:
            continue
        column = geometry[table]
        description = str(row.get(columns.get("description", ""), "") or "")
        rows.append({
            "id": len(rows) + 1,
            "f_table_catalog": catalog,
            "f_table_schema": schema,
            "f_table_name": table,
            "f_geometry_column": column,
            "stylename": str(row[columns["stylename"]]),
            "styleqml": str(row[columns["styleqml"]]),
            "stylesld": None,
            "useasdefault": bool(row[columns["useasdefault"]]),
            "description": description if description.endswith(STYLE_MARK) else f"{description} {STYLE_MARK}".strip(),
            "owner": STYLE_OWNER,
            "ui": None,
            "update_time": pd.Timestamp(str(row[columns["update_time"]])) if "update_time" in columns
            else pd.Timestamp.now(tz="UTC").tz_localize(None),
            "type": None,  # matched by every query QGIS makes (see the module's docstring)
        })
    return pd.DataFrame(rows, columns=["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                                       "styleqml", "stylesld", "useasdefault", "description", "owner", "ui", "update_time", "type"])
#: Tables that accumulate rows across runs (run history) → the column that identifies a row:
#: rows are appended (those whose key is in the table already are skipped), never replaced.
APPEND_TABLES: Mapping[str, str] = MappingProxyType({"landkit_runs": "run_id"})
#: Rows per CSV chunk sent through COPY.
COPY_BATCH_ROWS = 50_000
#: Columns that become the primary key when present, unique and never empty (first wins).
PRIMARY_KEYS = ("parcel_id", "block_id")
#: The comment on every table landkit writes: with overwrite, a marked table the new run does not
#: write (a layer of an earlier run) is dropped, as it would be from a replaced GeoPackage.
TABLE_COMMENT = "landkit layer"
#: The run's table of QGIS styles (the GeoPackage's ``layer_styles``): its rows also go to
#: :data:`QGIS_STYLES` (schema, table), where QGIS's postgres provider reads them.
STYLES_TABLE = "layer_styles"
QGIS_STYLES = ("public", "layer_styles")


# --- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbTarget:
    """Where ``landkit assess --db`` writes: a database URL, a schema, and whether to replace tables."""

    url: str = field(repr=False)
    schema: str = DEFAULT_SCHEMA
    overwrite: bool = False

    @property
    def label(self) -> str:
        """The target for messages: the redacted URL and the schema."""
        return _target_label(self.url, self.schema)


def _target_label(url: str, schema: str) -> str:
    """Label a database schema for messages: the redacted URL and the schema."""
    return _("{database} (schema {schema})").format(database=redact(parse_url(url).conninfo), schema=schema)


def _writing_to(url: str, schema: str) -> str:
    """How messages about writing to a schema start: ``writing to postgresql://… (schema landkit)``."""
    return _("writing to {target}").format(target=_target_label(url, schema))


#: pandas → PostgreSQL column types written (anything else is written as text).
_INFERRED = {"boolean": "boolean", "integer": "bigint", "floating": "double precision", "mixed-integer-float": "double precision",
             "decimal": "double precision", "datetime64": "timestamp", "datetime": "timestamp", "date": "date"}


def pg_type(values: pd.Series) -> str:
    """Return the PostgreSQL type a column is written as: boolean, bigint, double precision, timestamp(tz), date or text."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        return "text"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    if dtype != np.dtype(object):
        return "text"
    kind = _INFERRED.get(pd.api.types.infer_dtype(values, skipna=True), "text")
    if kind == "timestamp" and getattr(pd.to_datetime(values, errors="coerce").dtype, "tz", None) is not None:
        return "timestamptz"
    return kind


def _arrow_column(values: pd.Series, kind: str) -> Any:
    """Return a column as the pyarrow array whose CSV form PostgreSQL's COPY reads as ``kind``."""
    import pyarrow as pa

    if kind == "boolean":
        return pa.array(pd.array(values.astype(object).where(values.notna(), None), dtype="boolean"))
    if kind == "bigint":
        return pa.array(pd.array(values.astype(object).where(values.notna(), None), dtype="Int64"))
    if kind == "double precision":
        return pa.array(pd.to_numeric(values, errors="coerce").astype("float64"), from_pandas=True)
    if kind == "timestamp":
        return pa.array(pd.to_datetime(values), from_pandas=True)
    if kind == "timestamptz":
        return pa.array(pd.to_datetime(values, utc=True), from_pandas=True)
    if kind == "date":
        return pa.array(values.astype(object).where(values.notna(), None), type=pa.date32())
    try:  # text already (the usual case): no conversion per value
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # mixed values (numbers among text, lists ...): as they print
        text = values.astype(object).where(values.notna(), None)
        return pa.array(text.map(str, na_action="ignore"), type=pa.string(), from_pandas=True)


@dataclass
class _Layer:
    """A layer ready for COPY: column names and types, the arrow table, the keys and the geometry."""

    name: str
    columns: list[tuple[str, str]]
    arrays: list[Any]
    primary_key: str
    row_number: str | None = None
    geometry: str | None = None
    geometries: np.ndarray | None = None
    crs: CRS | None = None
    geometry_type: str = "GEOMETRY"


def _prepare(name: str, frame: pd.DataFrame, *, where: str, key: str | None = None) -> _Layer:
    """Type a layer's columns and convert it to Arrow (pure: nothing touches the database yet)."""
    _check_identifier(name, what=_("table"), where=where)
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    attributes = [c for c in frame.columns if c != geometry_name]
    names = [str(c) for c in attributes]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DatabaseError(_("{where}: layer `{name}` has the column `{column}` twice; PostgreSQL needs distinct names")
                            .format(where=where, name=name, column=twice[0]))
    for n in names:
        _check_identifier(n, what=_("column of `{layer}`").format(layer=name), where=where)
    columns = [(n, pg_type(frame[c])) for n, c in zip(names, attributes, strict=True)]
    arrays = [_arrow_column(frame[c], kind) for c, (_, kind) in zip(attributes, columns, strict=True)]
    candidates = (key,) if key else PRIMARY_KEYS
    key = next((k for k in candidates if k in frame.columns and frame[k].notna().all() and frame[k].is_unique), None)
    layer = _Layer(name, columns, arrays, key or "")
    if geometry_name is not None:
        if frame.crs is None:
            raise DatabaseError(_("{where}: layer `{name}` has no CRS; set one before writing it").format(where=where, name=name))
        layer.geometry = GEOMETRY_COLUMN if GEOMETRY_COLUMN not in names else str(geometry_name)
        layer.geometries = promote_to_multi(np.asarray(frame.geometry.values, dtype=object))  # hex EWKB once the SRID is known
        layer.crs, layer.geometry_type = CRS(frame.crs), _geometry_type(layer.geometries)
    if key is None:
        taken = set(names) | {layer.geometry}
        layer.row_number = next(n for n in (ROW_NUMBER, f"landkit_{ROW_NUMBER}", f"_landkit_{ROW_NUMBER}") if n not in taken)
        layer.primary_key = layer.row_number
    return layer


def _check_identifier(name: str, *, what: str, where: str) -> None:
    if not name or len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES or "\x00" in name:
        raise DatabaseError(
            _("{where}: {what} name `{name}` is empty, holds a NUL or is longer than PostgreSQL's "
              "{limit} bytes ({n}); rename it").format(where=where, what=what, name=name, limit=MAX_IDENTIFIER_BYTES,
                                                     n=len(name.encode("utf-8")))
        )


#: shapely type id of a single-part geometry → its multi-part type and constructor.
_MULTI = {0: (4, shapely.multipoints), 1: (5, shapely.multilinestrings), 3: (6, shapely.multipolygons)}


def promote_to_multi(geoms: np.ndarray) -> np.ndarray:
    """Return ``geoms`` with single parts made multi where a column mixes both (Polygon + MultiPolygon).

    GDAL does the same when it writes such a layer to a GeoPackage, so the database and the
    GeoPackage of a run hold the same geometries (and the column gets one type, as QGIS likes).
    """
    types = shapely.get_type_id(geoms)
    present = set(np.unique(types[types >= 0]).tolist())
    for single, (multi, make) in _MULTI.items():
        if present == {single, multi}:
            geoms = geoms.copy()
            parts = types == single
            geoms[parts] = make(geoms[parts][:, np.newaxis])
    return geoms


def _geometry_type(geoms: np.ndarray) -> str:
    """Return the typmod of a geometry column: one type (POLYGON, POLYGONZ ...) or GEOMETRY(Z), or '' if mixed dimensions."""
    present = geoms[~shapely.is_missing(geoms)]
    if not len(present):
        return "GEOMETRY"
    has_z = shapely.has_z(present)
    if has_z.any() and not has_z.all():
        return ""
    types = np.unique(shapely.get_type_id(present))
    name = _GEOMETRY_NAMES.get(int(types[0]), "GEOMETRY") if len(types) == 1 else "GEOMETRY"
    return name + ("Z" if has_z.all() else "")


_GEOMETRY_NAMES = {0: "POINT", 1: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING", 6: "MULTIPOLYGON",
                   7: "GEOMETRYCOLLECTION"}


def write_layers_postgis(url: str, schema: str, layers: Mapping[str, pd.DataFrame], *, overwrite: bool = False,
                         append: Mapping[str, str] = APPEND_TABLES, prune: bool = True) -> list[str]:
    """Write layers into ``schema`` of a PostGIS database, all in one transaction.

    Each GeoDataFrame becomes a table with a typed geometry column (SRID of its CRS) and a GiST
    index; plain tables become tables without geometry. Columns are typed (boolean, bigint,
    double precision, timestamp, date, text). The primary key is ``parcel_id`` or ``block_id``
    when present, unique and never empty, else a serial ``fid``. The schema is created if missing.

    A ``layer_styles`` table among the layers (the GeoPackage's QGIS styles) is written with
    QGIS's columns (database, schema and geometry column filled, ``type``), and its rows for the
    spatial tables also go into ``public.layer_styles``, where QGIS's postgres provider reads a
    layer's default style: created with QGIS's definition if missing, the rows an earlier
    landkit run wrote for this schema replaced, in this transaction. A role that may not write
    there gets a warning naming the table, not an error (:func:`_write_qgis_styles`).

    Parameters
    ----------
    url : str
        A PostgreSQL URL (credentials as libpq finds them).
    schema : str
        The schema to write into.
    layers : mapping of str to DataFrame
        Table name → layer (the same mapping that goes into the run's GeoPackage).
    overwrite : bool
        Replace tables that exist; without it an existing table is an error (nothing written).
    append : mapping of str to str
        Tables that accumulate rows (run history) → their key column: the rows whose key is not
        in the table yet are added; the table is never replaced.
    prune : bool
        With ``overwrite``, drop the tables an earlier run of landkit wrote there that ``layers``
        does not hold (a whole run replaced, as its GeoPackage is). False replaces only the
        tables of ``layers`` (`landkit rings` and `landkit scatter` adding to a run).

    Returns
    -------
    list of str
        The tables written, as ``schema.name``.

    Raises
    ------
    OutputExistsError
        If a table exists and ``overwrite`` is false.
    DatabaseError
        Unreachable server, refused login, no right to create the schema or tables in it, or a
        layer the database refuses; the transaction is rolled back, nothing is left half-written.
    """
    psycopg = _psycopg()
    conninfo = parse_url(url).conninfo
    where = _writing_to(url, schema)
    _check_identifier(schema, what="schema", where=where)
    styles = layers.get(STYLES_TABLE) if STYLES_TABLE not in append else None
    prepared = [_prepare(str(name), frame, where=where, key=append.get(str(name))) for name, frame in layers.items()
                if styles is None or str(name) != STYLES_TABLE]
    written: list[str] = []
    with connect(conninfo, what=where) as conn:
        rows = None
        if styles is not None:  # the run's copy has QGIS's columns too: the rows written to public.layer_styles
            pass

            rows = qgis_style_rows(styles, catalog=conn.info.dbname, schema=schema, geometry=_style_targets(prepared))
            position = [str(n) for n in layers].index(STYLES_TABLE)
            prepared.insert(position, _prepare(STYLES_TABLE, rows, where=where))
        step = _("checking the schema")
        try:
            with conn.transaction():
                existing = _prepare_schema(conn, schema, [p.name for p in prepared], overwrite=overwrite, append=append,
                                           where=where, create=True, prune=prune)
                srids: dict[str, int] = {}
                for layer in prepared:
                    step = _("writing table `{table}`").format(table=f"{schema}.{layer.name}")
                    mode: Literal["create", "replace", "append"] = (
                        ("append" if layer.name in append else "replace") if layer.name in existing else "create")
                    _write_table(conn, schema, layer, mode=mode, srids=srids, where=where, key=append.get(layer.name))
                    written.append(f"{schema}.{layer.name}")
                if rows is not None:
                    step = _("writing the QGIS styles")
                    _write_qgis_styles(conn, schema, rows, tables=[p.name for p in prepared], where=where)
        except psycopg.Error as exc:
            raise _write_error(exc, conn, where=where, step=step, schema=schema) from None
    log.info("wrote %d tables to %s", len(written), _target_label(url, schema))
    return written


def _style_targets(prepared: list[_Layer]) -> dict[str, str]:
    """Spatial table → its geometry column."""
    return {p.name: p.geometry for p in prepared if p.geometry is not None}


def _write_qgis_styles(conn: psycopg.Connection, schema: str, rows: pd.DataFrame, *, tables: list[str], where: str) -> int:
    """Write the layers' default styles into ``public.layer_styles``, where QGIS's postgres provider reads them.

    The table is created with QGIS's own definition when missing. The rows landkit wrote before
    for this schema's tables (owner ``landkit``, description ending ``(landkit)``) are replaced,
    those of tables no longer there deleted; other styles of the tables written (saved from QGIS)
    are kept, no longer the default. A role that may not write the table (or create it), or a
    table QGIS would not read, gets a warning naming it, never an error: the styles are in the
    GeoPackage and in ``schema.layer_styles`` still. Runs in a savepoint of the caller's
    transaction, so a refusal leaves the layers written. Returns the rows written.
    """
    psycopg = _psycopg()
    from psycopg import sql

    pass

    if rows.empty:
        return 0
    name = ".".join(QGIS_STYLES)
    target = sql.Identifier(*QGIS_STYLES)
    role = conn.info.user
    grant = _("{grant} (and USAGE on its id sequence)").format(
        grant=f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_quoted(conn, *QGIS_STYLES)} TO {_quoted(conn, role)}")
    fallback = _("QGIS will not apply them from the database (they are in the GeoPackage and in {table})").format(
        table=f"{schema}.{STYLES_TABLE}")

    def skip(reason: str) -> int:
        log.warning("%s", _("{where}: styles not written to {table}: {reason}; {fallback}").format(
            where=where, table=name, reason=reason, fallback=fallback))
        return 0

    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [QGIS_STYLES[0]]).fetchone() is None:
        return skip(_("database `{database}` has no schema `{schema}`").format(database=conn.info.dbname,
                                                                             schema=QGIS_STYLES[0]))
    if not _relation_exists(conn, *QGIS_STYLES):
        if not _value(conn.execute("SELECT has_schema_privilege(%s, 'CREATE')", [QGIS_STYLES[0]])):
            return skip(_("role `{role}` may not create it in schema `{schema}` (ask for GRANT CREATE ON SCHEMA "
                          "{quoted} TO {quoted_role}, or have QGIS save a style there once)").format(
                role=role, schema=QGIS_STYLES[0], quoted=_quoted(conn, QGIS_STYLES[0]), quoted_role=_quoted(conn, role)))
        present = None
    else:
        present = {r[0] for r in conn.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped", list(QGIS_STYLES)).fetchall()}
        missing = [c for c in QGIS_STYLES_REQUIRED if c not in present]
        if missing:
            return skip(_("the table there is not QGIS's (no column {columns})").format(columns=", ".join(missing)))
        may = _value(conn.execute("SELECT has_table_privilege(%s, 'SELECT, INSERT, UPDATE, DELETE')",
                                  [_quoted(conn, *QGIS_STYLES)]))
        if not may:
            return skip(_("role `{role}` may not write it (ask its owner for {grant})").format(role=role, grant=grant))
    try:
        with conn.transaction():  # a savepoint: a refusal here leaves the layers written
            if present is None:
                conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, sql.SQL(QGIS_STYLES_DDL)))
                present = {c.split()[0].lower() for c in QGIS_STYLES_DDL.split(", ")}
            conn.execute("SET LOCAL xmloption = document")  # a QML document starts with its DOCTYPE
            mine = sql.SQL("f_table_catalog = %s AND f_table_schema = %s AND owner = %s AND description LIKE %s")
            mine_params = [conn.info.dbname, schema, STYLE_OWNER, "%" + STYLE_MARK]  # (the mark holds no % or _)
            gone = sql.SQL("NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = f_table_schema AND c.relname = f_table_name)")
            conn.execute(sql.SQL("DELETE FROM {} WHERE {} AND (f_table_name = ANY(%s) OR {})").format(target, mine, gone),
                         [*mine_params, tables])
            conn.execute(sql.SQL("UPDATE {} SET useasdefault = false WHERE f_table_catalog = %s AND f_table_schema = %s "
                                 "AND f_table_name = ANY(%s) AND useasdefault").format(target),
                         [conn.info.dbname, schema, list(rows["f_table_name"])])
            columns = [c for c in ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "stylename",
                                   "styleqml", "useasdefault", "description", "owner", "update_time", "type") if c in present]
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                target, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns)))
            values = [[_plain(row[c]) for c in columns] for _, row in rows.iterrows()]
            with conn.cursor() as cur:
                cur.executemany(insert, values)
    except psycopg.Error as exc:
        if getattr(exc, "sqlstate", None) == "42501":
            return skip(_("role `{role}` was refused ({error}; ask for {grant})").format(role=role, error=_one_line(exc),
                                                                                      grant=grant))
        return skip(_one_line(exc))
    log.info("%s: wrote %d default styles to %s", where, len(values), name)
    return len(values)


def _plain(value: Any) -> Any:
    """Return a value as psycopg adapts it (a pandas Timestamp as datetime, a missing value as NULL)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def check_target(target: DbTarget, *, tables: Collection[str] = ("parcels", "inventory")) -> None:
    """Check, before any work, that ``target`` can be written: reachable, writable, no table in the way.

    Raises
    ------
    OutputExistsError, DatabaseError
        As :func:`write_layers_postgis` would, naming the table, role or schema.
    """
    psycopg = _psycopg()
    conninfo = parse_url(target.url).conninfo
    where = _writing_to(target.url, target.schema)
    _check_identifier(target.schema, what="schema", where=where)
    with connect(conninfo, what=where, read_only=True) as conn:
        try:
            with conn.transaction():
                _prepare_schema(conn, target.schema, list(tables), overwrite=target.overwrite, append=APPEND_TABLES.keys(),
                                where=where, create=False)
        except psycopg.Error as exc:
            raise _write_error(exc, conn, where=where, step=_("checking the schema"), schema=target.schema) from None


def _prepare_schema(conn: psycopg.Connection, schema: str, names: list[str], *, overwrite: bool,
                    append: Collection[str], where: str, create: bool, prune: bool = True) -> set[str]:
    """Check the rights on ``schema`` (creating it if asked) and return the tables it already holds."""
    from psycopg import sql

    role = conn.info.user
    row = conn.execute(
        "SELECT has_schema_privilege(n.oid, 'USAGE') AND has_schema_privilege(n.oid, 'CREATE'), pg_get_userbyid(n.nspowner) "
        "FROM pg_namespace n WHERE n.nspname = %s",
        [schema],
    ).fetchone()
    if row is None:
        may = _value(conn.execute("SELECT has_database_privilege(d.oid, 'CREATE') FROM pg_database d "
                                  "WHERE d.datname = current_database()"))
        if not may:
            raise DatabaseError(
                _("{where}: role `{role}` may not create schema `{schema}` in database `{database}`; ask the database owner "
                  "to run GRANT CREATE ON DATABASE {quoted_database} TO {quoted_role}, or to create it: CREATE SCHEMA "
                  "{quoted_schema} AUTHORIZATION {quoted_role}").format(
                    where=where, role=role, schema=schema, database=conn.info.dbname,
                    quoted_database=_quoted(conn, conn.info.dbname), quoted_role=_quoted(conn, role),
                    quoted_schema=_quoted(conn, schema))
            )
        if create:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return set()
    allowed, owner = row
    if not allowed:
        raise DatabaseError(
            _("{where}: role `{role}` may not create tables in schema `{schema}` of database `{database}` (owner "
              "`{owner}`); ask the owner to run GRANT USAGE, CREATE ON SCHEMA {quoted_schema} TO {quoted_role}, or pass "
              "--schema with a schema you may write to").format(
                where=where, role=role, schema=schema, database=conn.info.dbname, owner=owner,
                quoted_schema=_quoted(conn, schema), quoted_role=_quoted(conn, role))
        )
    existing = {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
        [schema, names],
    ).fetchall()}
    clash = [n for n in names if n in existing and n not in append]
    if clash and not overwrite:
        more = ""
        if len(clash) > 1:
            more = _(" (and {n} more: {names})").format(
                n=len(clash) - 1, names=", ".join(clash[1:4]) + (" …" if len(clash) > 4 else ""))
        raise OutputExistsError(
            _("{where}: table `{table}` exists{more}; pass --overwrite to replace the tables, or choose "
              "another schema (--schema)").format(where=where, table=f"{schema}.{clash[0]}", more=more)
        )
    if create and overwrite and prune:  # layers of an earlier run that this one does not write (never a table of yours)
        stale = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') = %s AND NOT c.relname = ANY(%s)",
            [schema, TABLE_COMMENT, [*names, *append]],
        ).fetchall()]
        for name in stale:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, name)))
        if stale:
            log.info("%s: dropped %s (layers of an earlier run)", where, ", ".join(stale))
    return existing


def _srid_for(conn: psycopg.Connection, crs: CRS, *, where: str) -> int:
    """Return the SRID of ``crs`` in spatial_ref_sys, adding a ``landkit`` row for a CRS without one."""
    authority = crs.to_authority(min_confidence=100)
    if authority is not None:
        row = conn.execute("SELECT srid FROM spatial_ref_sys WHERE upper(auth_name) = %s AND auth_srid = %s ORDER BY srid LIMIT 1",
                           [authority[0].upper(), int(authority[1])]).fetchone() if authority[1].isdigit() else None
        if row is not None:
            return int(row[0])
    for srid, srtext in conn.execute("SELECT srid, srtext FROM spatial_ref_sys WHERE auth_name = 'landkit'").fetchall():
        if srtext and CRS.from_user_input(srtext).equals(crs):
            return int(srid)
    srid = int(_value(conn.execute("SELECT coalesce(max(srid), 899999) + 1 FROM spatial_ref_sys "
                                   "WHERE srid BETWEEN 900000 AND 998999")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wkt, proj4 = crs.to_wkt("WKT1_GDAL"), crs.to_proj4()
    conn.execute("INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) VALUES (%s, 'landkit', %s, %s, %s)",
                 [srid, srid, wkt, proj4])
    log.info("%s: added the output CRS to spatial_ref_sys as SRID %d", where, srid)
    return srid


def _write_table(conn: psycopg.Connection, schema: str, layer: _Layer, *, mode: Literal["create", "replace", "append"],
                 srids: dict[str, int], where: str, key: str | None = None) -> None:
    """Create (or replace) one table and COPY the layer into it; or append the rows with a new ``key``."""
    import pyarrow as pa
    from psycopg import sql
    from pyarrow import csv

    table = sql.Identifier(schema, layer.name)
    columns = list(layer.columns)
    arrays = list(layer.arrays)
    if layer.geometry is not None:
        if not _has_postgis(conn):
            raise DatabaseError(_("{where}: database `{database}` has no PostGIS; run CREATE EXTENSION postgis in it "
                                  "(as its owner or a superuser)").format(where=where, database=conn.info.dbname))
        assert layer.crs is not None  # (_prepare sets it with the geometry)
        key = layer.crs.to_wkt()
        if key not in srids:
            srids[key] = _srid_for(conn, layer.crs, where=where)
        srid = srids[key]
        hexes = shapely.to_wkb(shapely.set_srid(layer.geometries, srid), hex=True, include_srid=True)
        arrays.append(pa.array(hexes, type=pa.string(), from_pandas=True))
        typmod = f"geometry({layer.geometry_type}, {srid})" if layer.geometry_type else "geometry"
        columns.append((layer.geometry, typmod))
    if mode == "replace":
        conn.execute(sql.SQL("DROP TABLE {}").format(table))
    target = table
    if mode == "append":
        present = {r[0] for r in conn.execute(
            "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped", [schema, layer.name]).fetchall()}
        for name, kind in columns:
            if name not in present:
                conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(table, sql.Identifier(name), sql.SQL(kind)))
        # COPY into a scratch table, then add the rows whose key the table does not hold yet.
        target = sql.Identifier("landkit_append")
        conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(target))
        conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {}) ON COMMIT DROP").format(target, table))
    else:
        definitions = [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(k)) for n, k in columns]
        if layer.row_number:
            definitions.insert(0, sql.SQL("{} bigserial").format(sql.Identifier(layer.row_number)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(definitions)))
        conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(TABLE_COMMENT)))
    data = pa.table(arrays, names=[f"c{i}" for i in range(len(arrays))]) if arrays else None
    names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in columns)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, names)
    rows = data.num_rows if data is not None else 0
    if columns and data is not None and rows:
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for start in range(0, rows, COPY_BATCH_ROWS):
                sink = pa.BufferOutputStream()
                csv.write_csv(data.slice(start, COPY_BATCH_ROWS), sink,
                              csv.WriteOptions(include_header=False, quoting_style="needed"))
                copy.write(sink.getvalue().to_pybytes())
    if mode == "append":
        new: sql.Composable = sql.SQL("")
        if key is not None and key in {n for n, _ in columns}:
            new = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE t.{} = n.{})").format(
                table, sql.Identifier(key), sql.Identifier(key))
        conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} n{}").format(table, names, names, target, new))
        conn.execute(sql.SQL("DROP TABLE {}").format(target))
        return
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(table, sql.Identifier(layer.primary_key)))
    if layer.row_number:
        conn.execute(sql.SQL("COMMENT ON COLUMN {} IS {}").format(sql.Identifier(schema, layer.name, layer.row_number),
                                                                 sql.Literal(ROW_NUMBER_COMMENT)))
    if layer.geometry is not None:
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist ({})").format(table, sql.Identifier(layer.geometry)))


def _write_error(exc: Exception, conn: psycopg.Connection, *, where: str, step: str, schema: str) -> LandkitError:
    message = _one_line(exc)
    state = getattr(exc, "sqlstate", None)
    role = conn.info.user if not conn.closed else _("(you)")
    if state == "42501":  # insufficient_privilege
        if "spatial_ref_sys" in message:
            return DatabaseError(
                _("{where}: role `{role}` may not add the output CRS to spatial_ref_sys ({message}); ask an administrator "
                  "to GRANT INSERT ON spatial_ref_sys TO {quoted_role}, or set crs.output to an EPSG CRS such as EPSG:4490")
                .format(where=where, role=role, message=message, quoted_role=_quoted(conn, role))
            )
        return DatabaseError(
            _("{where}: role `{role}` was refused while {step} ({message}); ask the owner of schema `{schema}` for the "
              "right (e.g. GRANT USAGE, CREATE ON SCHEMA {quoted_schema} TO {quoted_role}; replacing a table "
              "needs its ownership); nothing was written").format(
                where=where, role=role, step=step, message=message, schema=schema, quoted_schema=_quoted(conn, schema),
                quoted_role=_quoted(conn, role))
        )
    return DatabaseError(_("{where}: {step} failed ({message}); nothing was written (the transaction was rolled back)")
                         .format(where=where, step=step, message=message))
