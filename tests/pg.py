"""PostgreSQL for the tests: the throwaway server scripts/postgres.sh starts, URLs, one-off SQL.

The session fixtures that use these (``server``, ``db``, ``password``, ``pw_db``) are in
``conftest.py``; a test module imports the helpers: ``from pg import execute, with_db``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


def with_db(url: str, dbname: str, **query: str) -> str:
    """``url`` pointing at database ``dbname`` (and with ``?key=value`` parameters)."""
    parts = urlsplit(url)
    params = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return urlunsplit(parts._replace(path="/" + dbname, query=params))


def execute(url: str, statement, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else None


def start_server() -> tuple[dict[str, str], bool]:
    if os.environ.get("LANDKIT_TEST_PG") and os.environ.get("LANDKIT_TEST_PG_PW"):
        return {k: os.environ[k] for k in ("LANDKIT_TEST_PG", "LANDKIT_TEST_PG_PW")}, False
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(
            "the PostGIS tests need PostgreSQL with PostGIS and could not start it: "
            f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode} "
            "(run `make test`, or `bash scripts/system-deps.sh` as root and then "
            "`eval \"$(bash scripts/postgres.sh start)\"`)",
            pytrace=False,
        )
    env = dict(re.findall(r"^export (\w+)='?([^'\n]*)'?$", proc.stdout, flags=re.MULTILINE))
    return env, env.get("LANDKIT_PG_STARTED") == "1"
