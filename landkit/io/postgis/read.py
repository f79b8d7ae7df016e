"""Read PostGIS tables and queries into GeoDataFrames.

Reading runs ``COPY (SELECT ...) TO STDOUT`` as CSV, parsed by pyarrow (the same Arrow path
pyogrio uses for files); geometry travels as hex EWKB, so a query's SRID comes with its values.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landkit.core.db_url import redact
from landkit.core.errors import ConfigError, CRSError, DatabaseError, InputError, LandkitError
from landkit.core.i18n import _
from landkit.io.postgis.connect import (
    ROW_NUMBER_COMMENT,
    DbSource,
    _has_postgis,
    _one_line,
    _psycopg,
    _quoted,
    _relation_exists,
    connect,
    db_source,
    parse_url,
    qualified_name,
    split_table_name,
)

if TYPE_CHECKING:
    import psycopg

    from landkit.config.models import Source

log = logging.getLogger(__name__)


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    typname: str
    srid: int = 0
    comment: str | None = None


#: PostgreSQL type → how it leaves the database (SQL around the column) and how pyarrow parses it.
_READ_TYPES: dict[str, tuple[str, str]] = {
    "bool": ("{}", "bool"),
    "int2": ("{}", "int16"),
    "int4": ("{}", "int32"),
    "int8": ("{}", "int64"),
    "float4": ("{}", "float32"),
    "float8": ("{}", "float64"),
    "numeric": ("{}::float8", "float64"),
    "text": ("{}", "string"),
    "varchar": ("{}", "string"),
    "name": ("{}", "string"),
    "bpchar": ("{}::text", "string"),
    "date": ("{}", "date32"),
    "timestamp": ("{}", "timestamp"),
    "timestamptz": ("({} AT TIME ZONE 'UTC')", "timestamp"),
    "geometry": ("encode(ST_AsEWKB({}), 'hex')", "string"),
    "geography": ("encode(ST_AsEWKB({}::geometry), 'hex')", "string"),
}
GEOMETRY_TYPES = ("geometry", "geography")


def read_source(source: Source, *, kind: str, geometry: Literal["require", "auto", "drop"] = "auto") -> pd.DataFrame:
    """Read an input (a project-file or command-line source whose path is a database URL).

    Parameters
    ----------
    source : Source
        ``path`` the URL, ``layer`` the table (or ``query`` a SELECT), ``crs`` the CRS declared
        for geometry whose SRID is 0.
    kind : str
        The input kind (``parcels``, ``enterprises`` ...), to start messages with.
    geometry : {"require", "auto", "drop"}
        A vector layer (``require``: no geometry column is an error), either, or a plain table
        (geometry columns left out).

    Returns
    -------
    DataFrame or GeoDataFrame
        Every column as stored (typed), the geometry (if any) with the CRS of its SRID, or with
        no CRS when its SRID is 0 and ``source.crs`` declares one (the caller applies it).
    """
    try:
        db = db_source(source.path, layer=source.layer, query=source.query)
    except ConfigError as exc:
        raise ConfigError(_("{source}: {error}").format(source=kind, error=exc)) from None
    return read_db(db, what=kind, geometry=geometry, declared_crs=source.crs)


def source_label(source: Source) -> str:
    """Return how messages name a database source (the URL redacted, the table or ``query``)."""
    try:
        return db_source(source.path, layer=source.layer, query=source.query).label
    except ConfigError:
        return redact(source.path)


def read_db(db: DbSource, *, what: str, geometry: Literal["require", "auto", "drop"] = "auto",
            declared_crs: str | None = None) -> pd.DataFrame:
    """Read a table or the result of a query (see :func:`read_source`)."""
    psycopg = _psycopg()
    from psycopg import sql

    with connect(db.conninfo, what=what, read_only=True) as conn:
        try:
            if db.table is not None:
                schema, name = _find_table(conn, db.table, what=what, db=db)
                columns = _table_columns(conn, schema, name)
                frame = _read(conn, sql.Identifier(schema, name), columns, what=what, label=db.label,
                              geometry=geometry, declared_crs=declared_crs)
            else:
                assert db.query is not None  # (a source names a table or a query)
                query = db.query.strip().rstrip(";").strip()
                relation = sql.SQL("({}) AS q").format(sql.SQL(query))  # the user's SQL, run read-only
                columns = _query_columns(conn, relation, what=what, label=db.label)
                frame = _read(conn, relation, columns, what=what, label=db.label, geometry=geometry,
                              declared_crs=declared_crs, is_query=True)
        except psycopg.Error as exc:
            raise _read_error(exc, conn, what=what, db=db) from None
    log.info("read %d rows from %s", len(frame), db.label)
    return frame


def read_table_postgis(url: str, schema: str, name: str, *, columns: Collection[str] | None = None,
                       geometry: bool = True) -> pd.DataFrame | None:
    """Read table ``schema.name`` (a GeoDataFrame if it has geometry), or None if it does not exist.

    The serial key landkit adds to layers without one (``fid``) orders the rows and is dropped,
    so a table written by :func:`write_layers_postgis` reads back as it was written.

    Parameters
    ----------
    url : str
        A PostgreSQL URL.
    schema, name : str
        The table (exact names).
    columns : collection of str, optional
        Read only these attribute columns (those present), in the table's order.
    geometry : bool
        Read the geometry (the first geometry column); False reads a plain table.
    """
    psycopg = _psycopg()
    from psycopg import sql

    db = DbSource(parse_url(url).conninfo, table=qualified_name(schema, name))
    what = _("reading {schema}.{table}").format(schema=schema, table=name)
    with connect(db.conninfo, what=what, read_only=True) as conn:
        try:
            if not _relation_exists(conn, schema, name):
                return None
            found = _table_columns(conn, schema, name)
            if columns is not None:
                wanted = set(columns)
                found = [c for c in found if c.name in wanted or c.typname in GEOMETRY_TYPES or c.comment == ROW_NUMBER_COMMENT]
            return _read(conn, sql.Identifier(schema, name), found, what=what, label=db.label,
                         geometry="auto" if geometry else "drop")
        except psycopg.Error as exc:
            raise _read_error(exc, conn, what=what, db=db) from None


def table_columns_postgis(url: str, schema: str, name: str) -> list[str] | None:
    """Return the attribute columns of table ``schema.name`` (not its geometry), or None if it does not exist."""
    psycopg = _psycopg()

    db = DbSource(parse_url(url).conninfo, table=qualified_name(schema, name))
    what = _("reading {schema}.{table}").format(schema=schema, table=name)
    with connect(db.conninfo, what=what, read_only=True) as conn:
        try:
            if not _relation_exists(conn, schema, name):
                return None
            return [c.name for c in _table_columns(conn, schema, name)
                    if c.typname not in GEOMETRY_TYPES and c.comment != ROW_NUMBER_COMMENT]
        except psycopg.Error as exc:
            raise _read_error(exc, conn, what=what, db=db) from None


def list_tables_postgis(url: str, schema: str) -> list[str] | None:
    """Return the tables (and views) of ``schema`` by name, or None if the schema does not exist."""
    psycopg = _psycopg()

    conninfo = parse_url(url).conninfo
    what = _("reading schema {schema}").format(schema=schema)
    with connect(conninfo, what=what, read_only=True) as conn:
        try:
            if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is None:
                return None
            return [r[0] for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.oid", [schema]).fetchall()]
        except psycopg.Error as exc:
            raise DatabaseError(_("{what} of {url} failed: {error}").format(what=what, url=redact(conninfo),
                                                                           error=_one_line(exc, conninfo))) from None


def _tables_in(conn: psycopg.Connection, schema: str, limit: int = 12) -> str:
    names = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.relname LIMIT %s",
        [schema, limit + 1],
    ).fetchall()]
    if not names:
        return _("none")
    return ", ".join(names[:limit]) + (" …" if len(names) > limit else "")


def _find_table(conn: psycopg.Connection, given: str, *, what: str, db: DbSource) -> tuple[str, str]:
    """Resolve ``schema.table`` or ``table`` (first in the search path) to an existing relation."""
    schema, name = split_table_name(given)
    where = _("database `{name}` ({url})").format(name=conn.info.dbname, url=redact(db.conninfo))
    if schema is None:
        path = [r[0] for r in conn.execute("SELECT unnest(current_schemas(false))").fetchall()]
        for candidate in path:
            if _relation_exists(conn, candidate, name):
                return candidate, name
        return_to = ", ".join(path) or _("empty")
        listed = "; ".join(_("tables in `{schema}`: {tables}").format(schema=s, tables=_tables_in(conn, s)) for s in path[:2])
        raise InputError(
            _("{what}: table `{table}` does not exist in {where} (search path: {path}); {listed}; "
              "write schema.table for a table in another schema").format(
                what=what, table=name, where=where, path=return_to, listed=listed or _("no schema on the search path"))
        )
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() is None:
        schemas = [r[0] for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY 1"
        ).fetchall()]
        raise InputError(_("{what}: schema `{schema}` does not exist in {where}; schemas there: {schemas}").format(
            what=what, schema=schema, where=where, schemas=", ".join(schemas)))
    if not _relation_exists(conn, schema, name):
        raise InputError(
            _("{what}: table `{table}` does not exist in {where}; tables in `{schema}`: {tables}").format(
                what=what, table=f"{schema}.{name}", where=where, schema=schema, tables=_tables_in(conn, schema))
        )
    return schema, name


def _table_columns(conn: psycopg.Connection, schema: str, name: str) -> list[_Column]:
    rows = conn.execute(
        "SELECT a.attname, t.typname, col_description(c.oid, a.attnum) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [schema, name],
    ).fetchall()
    srids: dict[str, int] = {}
    if any(r[1] in GEOMETRY_TYPES for r in rows) and _has_postgis(conn):
        srids = dict(conn.execute(
            "SELECT f_geometry_column, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s "
            "UNION ALL SELECT f_geography_column, srid FROM geography_columns "
            "WHERE f_table_schema = %s AND f_table_name = %s",
            [schema, name, schema, name],
        ).fetchall())
    return [_Column(n, t, int(srids.get(n) or 0), comment) for n, t, comment in rows]


def _query_columns(conn: psycopg.Connection, relation: Any, *, what: str, label: str) -> list[_Column]:
    from psycopg import sql

    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(relation))
    described = [(d.name, d.type_code) for d in cur.description or []]
    names = [n for n, _ in described]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(_("{what}: the query of {label} returns the column `{column}` more than once; name them apart "
                           "with AS").format(what=what, label=label, column=twice[0]))
    typnames: dict[int, str] = dict(conn.execute("SELECT oid::int8, typname FROM pg_type WHERE oid = ANY(%s)",
                                 [sorted({int(o) for _, o in described})]).fetchall())
    return [_Column(n, typnames.get(int(o), "")) for n, o in described]


def _read(conn: psycopg.Connection, relation: Any, columns: list[_Column], *, what: str, label: str,
          geometry: Literal["require", "auto", "drop"], declared_crs: str | None = None,
          is_query: bool = False) -> pd.DataFrame:
    """COPY the columns of ``relation`` out as CSV and build the (Geo)DataFrame."""
    import io

    import pyarrow as pa
    from psycopg import sql
    from pyarrow import csv

    row_number = next((c.name for c in columns if c.comment == ROW_NUMBER_COMMENT), None)
    geoms = [c for c in columns if c.typname in GEOMETRY_TYPES]
    if geometry == "require" and not geoms:
        has = "" if _has_postgis(conn) else _(" (database `{database}` has no PostGIS)").format(database=conn.info.dbname)
        raise InputError(
            _("{what}: {label} has no geometry column{has}; columns: {columns}; "
              "read a table or query that has one (a PostGIS geometry)").format(
                what=what, label=label, has=has, columns=", ".join(c.name for c in columns))
        )
    active = geoms[0] if geoms and geometry != "drop" else None
    if len(geoms) > 1 and active is not None:
        log.info("%s: using geometry column %s (of %s)", label, active.name, ", ".join(c.name for c in geoms))
    keep = [c for c in columns if c.name != row_number and (c.typname not in GEOMETRY_TYPES or c is active)]
    exprs = [sql.SQL(_READ_TYPES.get(c.typname, ("{}::text", ""))[0]).format(sql.Identifier(c.name)) for c in keep]
    order = sql.SQL(" ORDER BY {}").format(sql.Identifier(row_number)) if row_number else sql.SQL("")
    statement = sql.SQL("COPY (SELECT {} FROM {}{}) TO STDOUT (FORMAT csv)").format(
        sql.SQL(", ").join(exprs) if exprs else sql.SQL("NULL"), relation, order
    )
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    names = [f"c{i}" for i in range(len(keep))]
    types = {n: _arrow_type(pa, c.typname) for n, c in zip(names, keep, strict=True)}
    if buffer.tell() == 0 or not keep:
        table = pa.table({n: pa.array([], type=t) for n, t in types.items()})
    else:
        size = buffer.tell()
        buffer.seek(0)
        table = csv.read_csv(
            buffer,
            # one block for all: a row may be longer than any fixed block (a QML style, a dissolved ring)
            read_options=csv.ReadOptions(column_names=names, block_size=max(1 << 20, min(size + 1, (1 << 31) - 1))),
            parse_options=csv.ParseOptions(newlines_in_values=True),
            convert_options=csv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                               quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"]),
        )
    frame = table.to_pandas()
    frame.columns = [c.name for c in keep]
    for c in keep:
        if c.typname == "timestamptz":
            frame[c.name] = frame[c.name].dt.tz_localize("UTC")
    if active is None:
        return frame
    values = frame[active.name].to_numpy(dtype=object, na_value=None)
    geom = shapely.from_wkb(values)
    srid = _layer_srid(active, shapely.get_srid(geom), what=what, label=label)
    crs = _crs_of_srid(conn, srid, what=what, label=label) if srid else None
    if crs is None and declared_crs is None:
        raise CRSError(_srid0_message(what, label, active.name, relation_is_query=is_query))
    frame[active.name] = shapely.set_srid(geom, 0)
    return gpd.GeoDataFrame(frame, geometry=active.name, crs=crs)


def _arrow_type(pa: Any, typname: str) -> Any:
    kind = _READ_TYPES.get(typname, ("", "string"))[1]
    return {"timestamp": pa.timestamp("us"), "date32": pa.date32()}.get(kind) or getattr(pa, {"bool": "bool_"}.get(kind, kind))()


def _layer_srid(column: _Column, srids: np.ndarray, *, what: str, label: str) -> int:
    """Return the layer's SRID: the column's (geometry_columns), else the one its values all carry."""
    found = np.unique(srids[srids > 0])
    if column.srid:
        return column.srid
    if len(found) > 1:
        raise CRSError(
            _("{what}: the geometries in column `{column}` of {label} mix SRIDs ({srids}); "
              "transform them to one (ST_Transform) before reading").format(
                what=what, column=column.name, label=label, srids=", ".join(map(str, found)))
        )
    return int(found[0]) if len(found) else 0


def _srid0_message(what: str, label: str, column: str, *, relation_is_query: bool) -> str:
    if relation_is_query:
        fix = _("wrap it in ST_SetSRID({column}, 4490) in the query").format(column=column)
    else:
        fix = _("set it in the database (SELECT UpdateGeometrySRID('schema', 'table', '{column}', 4490) with your EPSG "
                "code)").format(column=column)
    return _("{what}: geometry column `{column}` of {label} has SRID 0 (no CRS); {fix}, "
             "or declare the CRS with --crs EPSG:4490 (`crs:` under the input in the project file)").format(
        what=what, column=column, label=label, fix=fix)


def _crs_of_srid(conn: psycopg.Connection, srid: int, *, what: str, label: str) -> CRS:
    row = conn.execute("SELECT auth_name, auth_srid, srtext, proj4text FROM spatial_ref_sys WHERE srid = %s",
                       [srid]).fetchone()
    if row is None:
        raise CRSError(_("{what}: {label} uses SRID {srid}, which is not in the database's spatial_ref_sys; "
                         "declare the CRS with --crs (`crs:` in the project file)").format(what=what, label=label, srid=srid))
    auth_name, auth_srid, srtext, proj4 = row
    if (auth_name or "").upper() == "EPSG" and auth_srid:
        return CRS.from_epsg(int(auth_srid))
    return CRS.from_user_input(srtext or proj4)


def _read_error(exc: Exception, conn: psycopg.Connection, *, what: str, db: DbSource) -> LandkitError:
    message = _one_line(exc, db.conninfo)
    state = getattr(exc, "sqlstate", None)
    role = conn.info.user if not conn.closed else _("(you)")
    if state == "42501":  # insufficient_privilege
        if db.table is not None:
            schema, name = split_table_name(db.table)
            target = _quoted(conn, *(p for p in (schema, name) if p))
            grant = f"GRANT SELECT ON {target} TO {_quoted(conn, role)}"
            if schema:
                grant = _("{grant} (and GRANT USAGE ON SCHEMA {schema} TO {role})").format(
                    grant=grant, schema=_quoted(conn, schema), role=_quoted(conn, role))
            return DatabaseError(_("{what}: role `{role}` may not read {label} ({message}); ask the owner to run {grant}")
                                 .format(what=what, role=role, label=db.label, message=message, grant=grant))
        return DatabaseError(_("{what}: role `{role}` may not run the query of {label} ({message}); ask for SELECT on its "
                               "tables").format(what=what, role=role, label=db.label, message=message))
    if state == "25006":  # read_only_sql_transaction
        return InputError(_("{what}: the query of {label} tries to change the database ({message}); landkit only reads: "
                            "use a SELECT").format(what=what, label=db.label, message=message))
    if db.query is not None and state and state[:2] in ("42", "22", "0A"):
        return InputError(_("{what}: the query of {label} failed: {message}; fix the SQL").format(
            what=what, label=db.label, message=message))
    return DatabaseError(_("{what}: reading {label} failed: {message}").format(what=what, label=db.label, message=message))
