"""The column report of the commands that read a planner's inputs (`validate`, `init --from`)."""

from __future__ import annotations

from collections.abc import Mapping

from landkit.core.i18n import _, language
from landkit.deliver.labels import COLUMNS
from landkit.deliver.workbook import text_width
from landkit.io.columns import ColumnReport, Use


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

    def zh(canonical: str) -> str:  # the column's name for people, in the command line's language
        label = COLUMNS.get(canonical)
        if label is None:
            return ""
        return f" {label.zh}" if language() == "zh" else f" ({label.en})"

    by_source = {source: canonical for canonical, source in report.read.items()}
    width = max((text_width(str(c)) for c in (*by_source, *report.unread)), default=0)
    lines = [_("Columns of {kind} ({name}):").format(kind=report.kind, name=report.name)]
    for source, canonical in by_source.items():
        lines.append(f"  {pad(source)}  → {canonical}{zh(canonical)}")
    for source in report.unread:
        if source in report.suggestions:
            canonical = report.suggestions[source]
            lines.append(f"  {pad(source)}  ✗ " + _("not read: looks like {label} (columns.{kind}.{canonical}: [{column}])")
                         .format(label=f"{canonical}{zh(canonical)}", canonical=canonical, kind=report.kind, column=source))
        else:
            lines.append(f"  {pad(source)}  ✗ " + _("not read"))
    absent = [c for c in report.absent if c not in report.suggestions.values()]
    if absent:
        used = [c for c in absent if absent_uses and c in absent_uses]
        if used:
            lines.append("  " + _("absent, used by the project: {columns}").format(columns=", ".join(f"{c}{zh(c)}" for c in used)))
        rest = len(absent) - len(used)
        if rest:
            lines.append("  " + _("absent, not used: {n} other canonical column(s)").format(n=rest))
    return lines
