"""PostGIS in and out: inputs read from a PostgreSQL database, a run's layers written into a schema.

Sources
-------
A database input is a libpq URL plus a table or a query:

- ``postgresql://user@host:5432/db?table=schema.parcels`` (or ``#schema.parcels``); a table
  without a schema is looked up in the search path (``public``);
- ``postgresql://user@host/db?query=SELECT * FROM parcels WHERE town = '马桥镇'``: ``query=``
  comes last and runs to the end of the URL (percent escapes are decoded: write ``%`` as ``%25``);
- in a project file ``{path: postgresql://..., layer: schema.table}`` or ``{path: ..., query: SELECT ...}``;
  on the command line the URL as PARCELS, ``--enterprises`` or ``--blocks``, with ``--layer``
  naming the parcels' table.

Table and schema names are exact (case-sensitive); ``"my.schema".parcels`` quotes a dot. They
reach SQL only as :class:`psycopg.sql.Identifier` (quoted by the driver), never formatted in.

Credentials come from wherever libpq finds them: the URL, the ``PG*`` environment variables
(``PGHOST``, ``PGUSER``, ``PGPASSWORD`` ...), ``~/.pgpass``, or a service file
(``postgresql:///?service=gis&table=parcels``). Passwords are never printed: every message and
log line shows the URL through :func:`redact`.

Reading runs ``COPY (SELECT ...) TO STDOUT`` as CSV, parsed by pyarrow (the same Arrow path
pyogrio uses for files); geometry travels as hex EWKB, so a query's SRID comes with its values.
Writing (:func:`write_layers_postgis`) happens in one transaction: typed columns, ``COPY FROM
STDIN`` of CSV written by pyarrow, a primary key and a GiST index per layer; any failure rolls
everything back. The layers' default QGIS styles (a ``layer_styles`` table among the layers) go
into ``public.layer_styles``, where QGIS looks for them, in the same transaction (see
:func:`write_layers_postgis`).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from landkit.db_url import is_db_url, redact
from landkit.errors import ConfigError, CRSError, DatabaseError, InputError, LandkitError, OutputExistsError
from landkit.i18n import _

if TYPE_CHECKING:
    import psycopg

    from landkit.config import Source

log = logging.getLogger(__name__)

#: Schema ``landkit assess --db`` writes into unless ``--schema`` names another.
DEFAULT_SCHEMA = "landkit"
#: Tables that accumulate rows across runs (run history) → the column that identifies a row:
#: rows are appended (those whose key is in the table already are skipped), never replaced.
APPEND_TABLES: Mapping[str, str] = MappingProxyType({"landkit_runs": "run_id"})
#: Seconds to wait for a server before giving up (unless the URL or PGCONNECT_TIMEOUT says).
CONNECT_TIMEOUT_S = 10
#: Rows per CSV chunk sent through COPY.
COPY_BATCH_ROWS = 50_000
#: Columns that become the primary key when present, unique and never empty (first wins).
PRIMARY_KEYS = ("parcel_id", "block_id")
#: The serial key added to layers without one, and the comment that marks it as landkit's.
ROW_NUMBER = "fid"
ROW_NUMBER_COMMENT = "row number added by landkit"
#: The comment on every table landkit writes: with overwrite, a marked table the new run does not
#: write (a layer of an earlier run) is dropped, as it would be from a replaced GeoPackage.
TABLE_COMMENT = "landkit layer"
#: Name of the geometry column written (unless the layer has an attribute of that name).
GEOMETRY_COLUMN = "geom"
#: PostgreSQL identifiers longer than this many bytes are silently truncated by the server.
MAX_IDENTIFIER_BYTES = 63
#: The run's table of QGIS styles (the GeoPackage's ``layer_styles``): its rows also go to
#: :data:`QGIS_STYLES` (schema, table), where QGIS's postgres provider reads them.
STYLES_TABLE = "layer_styles"
QGIS_STYLES = ("public", "layer_styles")


# --- URLs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbSource:
    """A table or a query in a PostgreSQL database.

    ``conninfo`` is the URL libpq connects with (landkit's own parameters removed); it may hold
    a password, so it is kept out of ``repr`` and only ever shown through :func:`redact`.
    """

    conninfo: str = field(repr=False)
    table: str | None = None
    query: str | None = None
    schema: str | None = None

    @property
    def label(self) -> str:
        """The source for messages: the redacted URL and the table (or ``query``)."""
        if self.table is not None:
            return _("{database} (table {table})").format(database=redact(self.conninfo), table=self.table)
        return _("{database} (query)").format(database=redact(self.conninfo))


def parse_url(url: str) -> DbSource:
    """Split a landkit database URL into libpq's URL and the table or query it names.

    ``?table=schema.name`` (``?layer=`` too) or ``#schema.name`` name a table; ``?query=`` (last:
    it runs to the end) a query; ``?schema=`` the schema of an unqualified table, or of a run
    (:mod:`landkit.runs`). Other parameters (``sslmode``, ``service`` ...) stay for libpq.
    """
    text = url.strip()
    query = None
    match = re.search(r"[?&]query=", text, flags=re.IGNORECASE)
    if match:
        query = unquote(text[match.end():]).strip() or None
        text = text[: match.start()]
    text, _sep, fragment = text.partition("#")
    base, _sep, params = text.partition("?")
    kept, table, schema = [], None, None
    for part in params.split("&") if params else []:
        key, _sep, value = part.partition("=")
        if key.lower() in ("table", "layer"):
            table = unquote(value).strip() or None
        elif key.lower() == "schema":
            schema = unquote(value) or None
        elif part:
            kept.append(part)
    if fragment:
        named = unquote(fragment).strip()
        if table is not None and named != table:
            raise ConfigError(_("{url} names two tables (`{table}` and `{named}`); give one").format(
                url=redact(url), table=table, named=named))
        table = named or table
    return DbSource(base + ("?" + "&".join(kept) if kept else ""), table, query, schema)


def db_source(url: str, *, layer: str | None = None, query: str | None = None) -> DbSource:
    """Return the table or query a URL and an input's ``layer:``/``query:`` name together.

    Raises
    ------
    ConfigError
        If they name two different tables, both a table and a query, or neither.
    """
    parsed = parse_url(url)
    table, sql_text = parsed.table, parsed.query
    if layer is not None:
        if table is not None and table != layer:
            raise ConfigError(_("{url} names table `{table}` but the layer given is `{layer}`; give one").format(
                url=redact(url), table=table, layer=layer))
        table = layer
    if query is not None:
        if sql_text is not None and sql_text != query:
            raise ConfigError(_("{url} carries a query and another is given; give one").format(url=redact(url)))
        sql_text = query
    if table is not None and sql_text is not None:
        raise ConfigError(_("{url}: give a table or a query, not both").format(url=redact(url)))
    if table is None and sql_text is None:
        raise ConfigError(
            _("{url}: name the table (?table=schema.table in the URL, `layer:` in the project file "
              "or --layer) or a query (?query=SELECT ... or `query:`)").format(url=redact(url))
        )
    if table is not None and parsed.schema is not None and split_table_name(table)[0] is None:
        table = qualified_name(parsed.schema, split_table_name(table)[1])  # ?schema=src&table=parcels
    return DbSource(parsed.conninfo, table, sql_text, parsed.schema)


def qualified_name(schema: str, name: str) -> str:
    """Return ``"schema"."name"``, the form :func:`split_table_name` splits back exactly."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


def split_table_name(text: str) -> tuple[str | None, str]:
    """Split ``schema.table`` (or ``table``) into its schema (None if absent) and name.

    Names are exact; a part in double quotes may hold dots (``"a.b".c``, ``""`` for a quote).
    Only the first unquoted dot separates: ``public.my.table`` is table ``my.table``.

    Raises
    ------
    ConfigError
        For an empty name or an unterminated quote.
    """
    first, rest = _identifier(text.strip(), whole=False, given=text)
    if not rest:
        return None, first
    second, _rest = _identifier(rest[1:], whole=True, given=text)
    return first, second


def _identifier(text: str, *, whole: bool, given: str) -> tuple[str, str]:
    if text.startswith('"'):
        out, i = [], 1
        while True:
            j = text.find('"', i)
            if j < 0:
                raise ConfigError(_("table name `{name}` has an unterminated double quote").format(name=given))
            out.append(text[i:j])
            if text[j + 1 : j + 2] == '"':
                out.append('"')
                i = j + 2
                continue
            name, rest = "".join(out), text[j + 1 :]
            break
        if rest and (whole or not rest.startswith(".")):
            raise ConfigError(_("table name `{name}`: unexpected `{rest}` after a quoted name").format(name=given, rest=rest))
    elif whole:
        name, rest = text, ""
    else:
        dot = text.find(".")
        name, rest = (text, "") if dot < 0 else (text[:dot], text[dot:])
    if not name:
        raise ConfigError(_("table name `{name}` has an empty part").format(name=given))
    return name, rest


# --- connecting -----------------------------------------------------------------------------------


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is in the `postgis` and `test` extras
        raise LandkitError(
            _("PostgreSQL needs the psycopg package: pip install 'landkit[postgis]' (or conda install -c conda-forge psycopg)")
        ) from None
    return psycopg


def _secrets(conninfo: str) -> list[str]:
    from psycopg.conninfo import conninfo_to_dict

    found = [os.environ.get("PGPASSWORD", "")]
    try:
        found.append(str(conninfo_to_dict(conninfo).get("password") or ""))
    except Exception:  # noqa: BLE001 - an unparsable URL (libpq quotes it whole in its message): the password as redact() sees it
        found.extend(_url_passwords(conninfo))
    return [s for s in found if len(s) >= 4]  # (scrubbing a 1–3 character password would garble every message)


def _url_passwords(url: str) -> list[str]:
    """The password(s) of a URL found the way :func:`redact` finds them (the user part, ``password=``)."""
    if not is_db_url(url):
        return []
    rest = url.strip().split("://", 1)[1]
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    found = re.findall(r"(?i)[?&]password=([^&#]*)", tail)
    at = authority.rfind("@")
    if at >= 0 and ":" in authority[:at]:
        found.append(authority[:at].split(":", 1)[1])
    return [v for p in found for v in {p, unquote(p)}]


def _one_line(exc: BaseException | str, conninfo: str = "") -> str:
    """Return an error message on one line, without any password the connection used."""
    text = str(exc)
    diag = getattr(exc, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None):
        text = diag.message_primary
    for secret in _secrets(conninfo) if conninfo else ():
        text = text.replace(secret, "***")
    return " ".join(text.split())


@contextmanager
def connect(conninfo: str, *, what: str, read_only: bool = False) -> Iterator[psycopg.Connection]:
    """Open a connection (closed on exit), turning libpq's failures into one-line errors.

    Parameters
    ----------
    conninfo : str
        A libpq URL (or key=value string); missing parts come from ``PG*`` variables, the
        service file and ``~/.pgpass``, as libpq does.
    what : str
        What is being read or written, to start messages with.
    read_only : bool
        Refuse any change to the database (reads).

    Raises
    ------
    DatabaseError
        Server unreachable (naming host and port), login refused, database or role missing.
    """
    psycopg = _psycopg()
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.Error as exc:
        reason = _one_line(exc, conninfo).replace(conninfo, redact(conninfo))
        raise ConfigError(_("{what}: {url} is not a valid PostgreSQL URL ({reason})").format(
            what=what, url=redact(conninfo), reason=reason)) from None
    extra: dict[str, Any] = {"client_encoding": "utf8"}
    if "application_name" not in params:
        extra["application_name"] = "landkit"
    if "connect_timeout" not in params and "PGCONNECT_TIMEOUT" not in os.environ:
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        conn = psycopg.connect(conninfo, **extra)
    except psycopg.Error as exc:
        raise _connection_error(exc, params, what=what, conninfo=conninfo) from None
    try:
        conn.read_only = read_only
        yield conn
    finally:
        conn.close()


_UNREACHABLE = ("connection refused", "could not connect", "timeout expired", "failed to resolve host",
                "could not translate host name", "no such file or directory", "network is unreachable",
                "no route to host", "connection timed out", "server closed the connection")


def _connection_error(exc: Exception, params: dict[str, Any], *, what: str, conninfo: str) -> DatabaseError:
    """Classify a failed connection into one line naming host and port, never the password."""
    raw = str(exc)
    for secret in _secrets(conninfo):
        raw = raw.replace(secret, "***")
    first = raw.split("\n")[0]
    reason = " ".join(first.rsplit("failed: ", 1)[-1].replace("FATAL:", "").split())
    low = raw.lower()
    where = _server(raw, params)
    url = redact(conninfo)
    user = params.get("user") or os.environ.get("PGUSER") or _local_user()
    if "authentication failed" in low or "no password supplied" in low or "password" in low and "fe_sendauth" in low:
        return DatabaseError(
            _("{what}: the PostgreSQL server at {server} refused the login of role `{user}` ({reason}); "
              "check the user and password (in the URL, PGUSER/PGPASSWORD, ~/.pgpass or the service file)").format(
                what=what, server=where, user=user, reason=reason)
        )
    if m := re.search(r'database "(.+?)" does not exist', raw):
        return DatabaseError(
            _("{what}: database `{database}` does not exist on the PostgreSQL server at {server}; "
              "fix the database name in {url} or create it (createdb {database})").format(
                what=what, database=m[1], server=where, url=url)
        )
    if m := re.search(r'role "(.+?)" does not exist', raw):
        return DatabaseError(_("{what}: role `{role}` does not exist on the PostgreSQL server at {server}; fix the user name "
                               "in {url}").format(what=what, role=m[1], server=where, url=url))
    if m := re.search(r'definition of service "(.+?)" not found', raw):
        return DatabaseError(
            _("{what}: service `{service}` is not defined; add it to ~/.pg_service.conf (or the file PGSERVICEFILE "
              "names) or fix service= in {url}").format(what=what, service=m[1], url=url)
        )
    if any(s in low for s in _UNREACHABLE):
        return DatabaseError(
            _("{what}: cannot reach the PostgreSQL server at {server} ({reason}); check that it is running there "
              "and accepts connections, and the host and port in {url}").format(what=what, server=where, reason=reason,
                                                                              url=url)
        )
    return DatabaseError(_("{what}: cannot connect to the PostgreSQL server at {server} ({reason}); URL {url}").format(
        what=what, server=where, reason=reason, url=url))


def _local_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return _("(your login name)")


def _server(message: str, params: dict[str, Any]) -> str:
    """Return ``host:port`` (or the socket) of the server a connection tried, from libpq's message."""
    if m := re.search(r'server at "([^"]+)"(?: \([^)]*\))?, port (\d+)', message):
        return f"{m[1]}:{m[2]}"
    if m := re.search(r'server on socket "([^"]+)"', message):
        return _("socket {path}").format(path=m[1])
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    if m := re.search(r"failed to resolve host '([^']+)'", message):
        host = m[1]
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    return f"{host}:{port}"


def _quoted(conn: psycopg.Connection, *names: str) -> str:
    """Return names as SQL would need them (for messages that suggest a GRANT to copy)."""
    from psycopg import sql

    return sql.Identifier(*names).as_string(conn)


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


def _relation_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
        [schema, name],
    ).fetchone()
    return row is not None


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
    typnames = dict(conn.execute("SELECT oid::int8, typname FROM pg_type WHERE oid = ANY(%s)",
                                 [sorted({int(o) for _, o in described})]).fetchall())
    return [_Column(n, typnames.get(int(o), "")) for n, o in described]


def _has_postgis(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regtype('geometry') IS NOT NULL").fetchone()[0]


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
    types = {n: _arrow_type(pa, c.typname) for n, c in zip(names, keep)}
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
    """The layer's SRID: the column's (geometry_columns), else the one its values all carry."""
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
    """A database schema for messages: the redacted URL and the schema."""
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
    columns = [(n, pg_type(frame[c])) for n, c in zip(names, attributes)]
    arrays = [_arrow_column(frame[c], kind) for c, (_, kind) in zip(attributes, columns)]
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
            from landkit.styles import qgis_style_rows

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
                    mode = ("append" if layer.name in append else "replace") if layer.name in existing else "create"
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

    from landkit.styles import QGIS_STYLES_DDL, QGIS_STYLES_REQUIRED, STYLE_MARK, STYLE_OWNER

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
        if not conn.execute("SELECT has_schema_privilege(%s, 'CREATE')", [QGIS_STYLES[0]]).fetchone()[0]:
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
        may = conn.execute("SELECT has_table_privilege(%s, 'SELECT, INSERT, UPDATE, DELETE')",
                           [_quoted(conn, *QGIS_STYLES)]).fetchone()[0]
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
    """A value as psycopg adapts it (a pandas Timestamp as datetime, a missing value as NULL)."""
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
        may = conn.execute("SELECT has_database_privilege(d.oid, 'CREATE') FROM pg_database d "
                           "WHERE d.datname = current_database()").fetchone()[0]
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
    srid = int(conn.execute("SELECT coalesce(max(srid), 899999) + 1 FROM spatial_ref_sys "
                            "WHERE srid BETWEEN 900000 AND 998999").fetchone()[0])
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
    if columns and rows:
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for start in range(0, rows, COPY_BATCH_ROWS):
                sink = pa.BufferOutputStream()
                csv.write_csv(data.slice(start, COPY_BATCH_ROWS), sink,
                              csv.WriteOptions(include_header=False, quoting_style="needed"))
                copy.write(sink.getvalue().to_pybytes())
    if mode == "append":
        new = sql.SQL("")
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
