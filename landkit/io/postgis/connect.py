"""PostGIS connections: database sources, SQL identifiers, and connection errors without secrets.

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
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from landkit.core.db_url import is_db_url, redact
from landkit.core.errors import ConfigError, DatabaseError, LandkitError
from landkit.core.i18n import _

if TYPE_CHECKING:
    import psycopg


log = logging.getLogger(__name__)


def _relation_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
        [schema, name],
    ).fetchone()
    return row is not None


def _value(cursor: psycopg.Cursor[Any]) -> Any:
    """Return the value of a query that returns one row of one column (a function call, an aggregate)."""
    row = cursor.fetchone()
    assert row is not None, "a one-row query returned no row"
    return row[0]


def _has_postgis(conn: psycopg.Connection) -> bool:
    return bool(_value(conn.execute("SELECT to_regtype('geometry') IS NOT NULL")))


#: The serial key added to layers without one, and the comment that marks it as landkit's.
ROW_NUMBER = "fid"


ROW_NUMBER_COMMENT = "row number added by landkit"

#: Schema ``landkit assess --db`` writes into unless ``--schema`` names another.
DEFAULT_SCHEMA = "landkit"
#: Seconds to wait for a server before giving up (unless the URL or PGCONNECT_TIMEOUT says).
CONNECT_TIMEOUT_S = 10
#: Name of the geometry column written (unless the layer has an attribute of that name).
GEOMETRY_COLUMN = "geom"
#: PostgreSQL identifiers longer than this many bytes are silently truncated by the server.
MAX_IDENTIFIER_BYTES = 63


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
    (:mod:`landkit.io.runs`). Other parameters (``sslmode``, ``service`` ...) stay for libpq.
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
        rest: str
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


def _psycopg() -> ModuleType:
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
    except Exception:  # an unparsable URL (libpq quotes it whole in its message): the password as redact() sees it
        found.extend(_url_passwords(conninfo))
    return [s for s in found if len(s) >= 4]  # (scrubbing a 1–3 character password would garble every message)


def _url_passwords(url: str) -> list[str]:
    """Return the password(s) of a URL found the way :func:`redact` finds them (the user part, ``password=``)."""
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
    if "authentication failed" in low or "no password supplied" in low or ("password" in low and "fe_sendauth" in low):
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
    except Exception:
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
