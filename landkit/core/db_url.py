"""PostgreSQL URLs: telling one from a path, and showing one without its password.

A leaf module (no landkit imports) so that the configuration, the readers and the writers all
recognise database sources the same way without importing the database code.
"""

from __future__ import annotations

import re

#: URL schemes libpq accepts, and so landkit.
URL_SCHEMES = ("postgresql://", "postgres://")


def is_db_url(text: object) -> bool:
    """Return whether ``text`` is a PostgreSQL URL (``postgresql://`` or ``postgres://``)."""
    return isinstance(text, str) and text.strip().lower().startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """Return ``url`` with its password (in the user part or a ``password=`` parameter) as ``***``.

    Every message and log line that names a database goes through this.

    Examples
    --------
    >>> redact("postgresql://planner:s3cret@gis.example:5432/park?table=parcels")
    'postgresql://planner:***@gis.example:5432/park?table=parcels'
    """
    text = str(url)
    if not is_db_url(text):
        return text
    scheme, rest = text.strip().split("://", 1)
    end = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    at = authority.rfind("@")
    if at >= 0 and ":" in authority[:at]:
        authority = authority[:at].split(":", 1)[0] + ":***" + authority[at:]
    tail = re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{authority}{tail}"
