"""The column report of the commands that read a planner's inputs (`validate`, `init --from`)."""

from __future__ import annotations

from collections.abc import Mapping

from landkit.columns import ColumnReport, Use
from landkit.export import text_width
from landkit.labels import COLUMNS


def report_lines(report: ColumnReport, absent_uses: Mapping[str, list[Use]] | None = None) -> list[str]:
    """Return the column report of one input for a terminal: each column and what it was read as.

    Parameters
    ----------
    report : ColumnReport
    absent_uses : mapping, optional
        Canonical column → its uses (:func:`column_uses`); absent columns with uses are listed
        with what they feed, the others counted.
    """
    def pad(text: str) -> str:
        return text + " " * (width - text_width(text))

    def zh(canonical: str) -> str:
        label = COLUMNS.get(canonical)
        return f" {label.zh}" if label is not None else ""

    by_source = {source: canonical for canonical, source in report.read.items()}
    width = max((text_width(str(c)) for c in (*by_source, *report.unread)), default=0)
    lines = [f"Columns of {report.kind} ({report.name}):"]
    for source, canonical in by_source.items():
        lines.append(f"  {pad(source)}  → {canonical}{zh(canonical)}")
    for source in report.unread:
        if source in report.suggestions:
            canonical = report.suggestions[source]
            lines.append(f"  {pad(source)}  ✗ not read: looks like {canonical}{zh(canonical)} "
                         f"(columns.{report.kind}.{canonical}: [{source}])")
        else:
            lines.append(f"  {pad(source)}  ✗ not read")
    absent = [c for c in report.absent if c not in report.suggestions.values()]
    if absent:
        used = [c for c in absent if absent_uses and c in absent_uses]
        if used:
            lines.append("  absent, used by the project: " + ", ".join(f"{c}{zh(c)}" for c in used))
        rest = len(absent) - len(used)
        if rest:
            lines.append(f"  absent, not used: {rest} other canonical column(s)")
    return lines
