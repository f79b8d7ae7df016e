"""Problems found in the inputs: one record per problem, reported together.

Reading and checking collect :class:`Issue` records instead of stopping at the first problem, so
`landkit validate` can list them all; the other commands call :func:`raise_on_errors` to stop
with one clear line before any work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from landkit.core.errors import DataError
from landkit.core.i18n import _

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem: where it is, what it is, and how bad."""

    severity: Severity
    check: str
    layer: str
    feature: str
    message: str

    def line(self) -> str:
        """Return the issue as one line for a terminal or log."""
        where = f"{self.layer} {self.feature}".strip()
        severity = {"error": _("error"), "warning": _("warning")}.get(self.severity, self.severity)
        return f"{severity}: {where}: {self.message}"


def issues_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    """Return the issues as a table (severity, check, layer, feature, message)."""
    rows = [asdict(i) for i in issues]
    return pd.DataFrame(rows, columns=["severity", "check", "layer", "feature", "message"])


def raise_on_errors(issues: Iterable[Issue]) -> None:
    """Raise :class:`DataError` summarising the errors among ``issues``, if any.

    The message gives the count, the first error in full and how to see and fix the rest.
    """
    errors = [i for i in issues if i.severity == "error"]
    if not errors:
        return
    more = _(" and {n} more").format(n=len(errors) - 1) if len(errors) > 1 else ""
    first = errors[0].line().removeprefix(_("error") + ": ")  # the CLI says "Error:" already
    raise DataError(
        _("{first}{more}; run `landkit validate` for the full list (`--fix` repairs geometry)").format(
            first=first, more=more)
    )
