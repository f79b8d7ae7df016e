"""Exceptions raised by landkit.

Every error a planner can cause (a missing file, a bad configuration key, a layer without a CRS)
is a :class:`LandkitError`. The command line turns it into one line and exit code 1 in a single
place (:mod:`landkit.cli.main`), so library code raises and never prints or exits.

A message is shown in the command line's language when it is written as
``_("{path}: ... {value} ...").format(path=..., value=...)`` with ``_`` from :mod:`landkit.core.i18n`
(the English text is the msgid; ``scripts/i18n.py`` adds it to the catalogue for translation);
an f-string stays English.
"""

from __future__ import annotations


class LandkitError(Exception):
    """Base class of the errors landkit reports to its user."""


class ConfigError(LandkitError, ValueError):
    """The project configuration is malformed or names something that does not exist."""


class InputError(LandkitError):
    """An input file or table cannot be read or lacks what landkit needs."""


class CRSError(InputError, ValueError):
    """A layer has no CRS, or its coordinates do not fit the CRS it declares."""


class EncodingError(InputError, UnicodeError):
    """Text in an input cannot be decoded with the encodings tried."""


class DataError(InputError, ValueError):
    """The data are readable but break a rule (invalid geometry, duplicate ids, bad values)."""


class OutputExistsError(LandkitError, FileExistsError):
    """An output exists and ``--overwrite`` was not given."""


class OutputError(LandkitError, OSError):
    """An output folder that cannot be written, or that another run is writing."""


class DatabaseError(LandkitError):
    """A database cannot be reached, refuses the login, or refuses what landkit asks of it."""
