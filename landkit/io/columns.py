"""Which of the planner's columns were read as what, what the absent ones cost, and suggested mappings.

A planner's parcel layer and enterprise table rarely use exactly the names of the default
profile (``columns:``). Three things keep a name landkit does not know from silently changing
the results:

- :func:`column_report`: per input, each of the planner's columns and the canonical column it
  was read as, the columns left unread, and, for each unread one, the canonical column it most
  likely holds (:func:`suggest`: the candidate names compared character by character, units in
  brackets checked against the canonical column's unit);
- :func:`column_uses`: for each canonical column, the indicators, rules and paths of the
  project that read it, directly or through a derived column (``far`` ← ``floor_area_m2``,
  ``legally_idle`` ← ``status`` ...);
- :func:`column_issues`: an absent column that an indicator in the weights needs is an error
  (``landkit assess`` would stop); one that a rule, path or built-in step reads is a warning
  naming what it does to the results; an unread column with a suggestion is a warning naming
  the mapping to add.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Literal

from landkit.config.formula import names_in
from landkit.config.models import Project
from landkit.core.errors import ConfigError
from landkit.core.i18n import _, language
from landkit.core.issues import Issue
from landkit.core.schema import CANONICAL
from landkit.core.units import dimension_of, unit_dimension

#: Derived columns the pipeline computes, and the canonical inputs each is made from (the
#: indicators' own formulas are read from the project). A condition reading one of these reads
#: its inputs.
DERIVED: dict[str, tuple[str, ...]] = {
    "building_coefficient": ("footprint_m2", "yard_m2"),
    "stopped_years": ("status", "stopped_since_year"),
    "idle_years": ("status", "agreed_start_year", "lease_start_year"),
    "legally_idle": ("status", "agreed_start_year", "lease_start_year"),
    "idle_not_due": ("status", "agreed_start_year", "lease_start_year"),
    "high_tech_firms": ("high_tech",),
    "industry_group": ("industry",),
    "far_min": ("industry",),
}

#: What built-in steps (not formulas of the project) read each canonical column:
#: column → [(Chinese, English)].
BUILT_IN_USES: dict[str, list[tuple[str, str]]] = {
    "status": [("闲置土地认定与停产年限: 缺此列时每宗地视为在产, 闲置土地与其收回路径为空",
                "idle-land finding and years stopped: without it every parcel reads as operating, no idle land, "
                "no idle-land reclaim paths")],
    "agreed_start_year": [("闲置土地认定(约定动工年份; 缺此列时以出让年份+1计)",
                           "idle-land finding (agreed start year; without it, lease start + 1)")],
    "lease_start_year": [("闲置土地认定与建筑成新率", "idle-land finding and building depreciation")],
    "lease_end_year": [("土地估价的剩余年期", "the land value's remaining term")],
    "stopped_since_year": [("停产年限(停产满两年定为D类)", "years stopped (two years or more: class D)")],
    "floor_area_m2": [("容积率与建筑物估价", "FAR and building value")],
    "structure": [("建筑物估价(结构类别与耐用年限)", "building value (structure class and life)")],
    "footprint_m2": [("建筑系数", "building coefficient")],
    "yard_m2": [("建筑系数(缺此列时只计建筑基底, 不计构筑物及堆场)", "building coefficient (without it, buildings only, no yards)")],
    "industry": [("行业分组、容积率控制指标与三圈产业匹配", "industry groups, FAR minima and the rings' industry fit")],
    "illegal_use": [("违法用地直接定为D类", "illegal use graded D directly")],
    "high_tech": [("高新技术企业数(KPI与科技创新支持路径)", "high-tech firms (KPI and innovation-support path)")],
    "founded_year": [("新设企业不参评的判断", "young enterprises left ungraded")],
    "employees": [("劳动生产率KPI", "labour productivity KPI")],
    "rd_spend_wan": [("研发经费占比KPI", "R&D share KPI")],
    "revenue_wan": [("规上/规下分类与营业收入指标", "the large/small track split and revenue indicators")],
}

#: Similarity (0–1, :class:`difflib.SequenceMatcher` on the names without their bracketed unit)
#: from which an unread column is suggested for a canonical one [assumed: tried on the planner
#: headers of issue 15 — 从业人员数, 使用现状, 研发费用(万元), 能耗(吨标煤) score 0.5–0.9; unrelated
#: names below 0.4].
SUGGEST_FROM = 0.5

_BRACKET = re.compile(r"^\s*(?P<base>.*?)\s*[(（\[【](?P<unit>[^)）\]】]*)[)）\]】]\s*$")

@dataclass
class ColumnReport:
    """How one input's columns were read.

    Attributes
    ----------
    kind, name : str
        The input kind (``parcels``, ``enterprises`` ...) and its file or table.
    read : dict
        Canonical column → the planner's column it was read from.
    unread : list of str
        The planner's columns landkit does not read.
    suggestions : dict
        Unread column → the canonical column it most likely holds.
    """

    kind: str
    name: str
    read: dict[str, str] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    suggestions: dict[str, str] = field(default_factory=dict)

    @property
    def absent(self) -> list[str]:
        """The canonical columns of this kind not found in the input."""
        return [c for c in CANONICAL[self.kind] if c not in self.read]


def split_unit(name: str) -> tuple[str, str | None]:
    """Return a column name without its bracketed unit, and the unit: ``能耗(吨标煤)`` → (``能耗``, ``吨标煤``)."""
    match = _BRACKET.match(str(name))
    if match and match["base"]:
        return match["base"], match["unit"].strip() or None
    return str(name).strip(), None


def _unit_dimension(unit: str | None) -> str | None:
    """Return the dimension of a bracketed unit (``万元`` → ``wan``); ``万元/亩`` and the like by their numerator."""
    if not unit:
        return None
    return unit_dimension(unit) or unit_dimension(unit.split("/")[0])


def similarity(a: str, b: str) -> float:
    """Return how alike two column names are, 0–1, ignoring case, spaces, ``_`` and bracketed units."""
    def norm(text: str) -> str:
        return re.sub(r"[\s_\-]", "", split_unit(text)[0].lower())

    x, y = norm(a), norm(b)
    if not x or not y:
        return 0.0
    return SequenceMatcher(None, x, y, autojunk=False).ratio()


def suggest(column: str, candidates: Mapping[str, Iterable[str]]) -> tuple[str, float] | None:
    """Return the canonical column a planner's column most likely holds, and how alike the names are.

    Parameters
    ----------
    column : str
        The planner's column name, e.g. ``从业人员数`` or ``能耗(吨标煤)``.
    candidates : mapping
        Canonical column → its candidate names (the project's ``columns.<kind>`` names, the
        canonical name included).

    Returns
    -------
    (str, float) or None
        The best canonical column with a similarity of at least :data:`SUGGEST_FROM`, whose unit
        (when the column has one in brackets and the canonical name has one) measures the same
        quantity; None when no name is alike enough.
    """
    unit = _unit_dimension(split_unit(column)[1])
    best: tuple[str, float] | None = None
    for canonical, names in candidates.items():
        wanted = dimension_of(canonical)
        if unit is not None and wanted is not None and unit != wanted:
            continue  # 万元 is no area
        score = max((similarity(column, n) for n in (*names, canonical)), default=0.0)
        if score >= SUGGEST_FROM and (best is None or score > best[1]):
            best = (canonical, score)
    return best


def matched_columns(columns: Iterable[str], mapping: Mapping[str, object], kind: str) -> dict[str, str]:
    """Return canonical column → the input column read for it: the first of its candidate names present.

    ``mapping`` is the project's ``columns.<kind>`` (canonical → :class:`~landkit.config.models.ColumnSpec`);
    a canonical column without one is looked for under its own name. Names are compared after
    stripping spaces at their ends.
    """
    present = {str(c).strip() for c in columns}
    out = {}
    for canonical in CANONICAL[kind]:
        spec = mapping.get(canonical)
        names = spec.names if spec is not None else [canonical]  # type: ignore[attr-defined]
        found = next((n for n in names if n in present), None)
        if found is None:  # a shapefile's name, cut at 10 bytes by ArcGIS or GDAL: 约定动工年份 → 约定动工年
            found = next((t for n in names for t in shapefile_names(n) if t in present), None)
        if found is not None:
            out[canonical] = found
    return out


#: The limit of a dBASE field name, in bytes.
DBF_NAME_BYTES = 10


def shapefile_names(name: str) -> list[str]:
    """Return ``name`` as a shapefile field would hold it if it is longer than 10 bytes: cut to
    the last whole character within 10 bytes, in GBK and in UTF-8 (empty when it fits)."""
    out = []
    for encoding in ("gbk", "utf-8"):
        try:
            data = name.encode(encoding)
        except UnicodeEncodeError:
            continue
        if len(data) > DBF_NAME_BYTES:
            cut = data[:DBF_NAME_BYTES].decode(encoding, errors="ignore")
            if cut and cut not in out:
                out.append(cut)
    return out


def suggest_column(columns: Iterable[str], canonical: str, names: Iterable[str]) -> str | None:
    """Return the one of ``columns`` most like a canonical column (its ``names``), or None."""
    scored = [(c, found[1]) for c in columns if (found := suggest(c, {canonical: list(names)})) is not None]
    return max(scored, key=lambda s: s[1])[0] if scored else None


def column_report(columns: Iterable[object], read: Mapping[str, str], *, kind: str, project: Project,
                  name: str, ignore: Iterable[str] = ()) -> ColumnReport:
    """Return how an input's columns were read, with a suggestion for each unread one.

    Parameters
    ----------
    columns : iterable
        The input's columns as read (geometry excluded).
    read : mapping
        Canonical column → the input column it was read from (:func:`landkit.io.read.canonical_columns`).
    kind, name : str
        The input kind and its file, for messages.
    project : Project
        The candidate names (``columns.<kind>``).
    ignore : iterable of str
        Columns that are never data (a geometry column, an OGR fid).

    Notes
    -----
    Suggestions are only made for canonical columns not read already, each at most once (the
    most alike column wins).
    """
    mapping = getattr(project.columns, kind)
    used = set(read.values())
    skipped = set(ignore)
    unread = [str(c) for c in columns if str(c) not in used and str(c) not in skipped]
    report = ColumnReport(kind, name, dict(read), unread)
    open_ = {c: (mapping[c].names if c in mapping else []) for c in CANONICAL[kind] if c not in read}
    scored = [(col, *found) for col in unread if (found := suggest(col, open_)) is not None]
    for col, canonical, _score in sorted(scored, key=lambda s: -s[2]):
        if canonical not in report.suggestions.values():
            report.suggestions[col] = canonical
    return report


@dataclass(frozen=True)
class Use:
    """Something of the project that reads a column: ``what`` is e.g. ``indicator``, ``label`` its name."""

    what: str
    key: str
    label_zh: str
    label_en: str
    needed: bool = False  # True: the assessment stops without it (an indicator in the weights)


def column_uses(project: Project) -> dict[str, list[Use]]:
    """Return canonical column → the project's uses of it, through derived columns and indicators.

    Indicators used by a track's weights are ``needed`` (``landkit assess`` refuses to run
    without their inputs); the others (track conditions, direct grades, listing reasons,
    disposal paths, built-in steps) make rules that never apply or values that are missing.
    """
    from landkit.config.models import used_indicators

    assessment = project.assessment
    indicators = assessment.indicators

    def inputs_of(names: set[str], seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for n in names - seen:
            if n in indicators:
                out |= inputs_of(names_in(indicators[n].formula, key=f"assessment.indicators.{n}.formula"), seen | {n})
            elif n in DERIVED:
                out |= set(DERIVED[n])
            else:
                out.add(n)
        return out

    uses: dict[str, list[Use]] = {}

    def add(expression: str, key: str, use: Use) -> None:
        for column in inputs_of(names_in(expression, key=key)):
            uses.setdefault(column, []).append(use)

    weighted = set(used_indicators(assessment))
    for name, ind in indicators.items():
        add(ind.formula, f"assessment.indicators.{name}.formula",
            Use("indicator", name, ind.label_zh, ind.label_en, needed=name in weighted))
    for i, track in enumerate(assessment.tracks):
        if track.when:
            add(track.when, f"assessment.tracks[{i}].when", Use("track", track.name, track.label_zh, track.label_en))
    for i, direct in enumerate(assessment.direct_grades):
        add(direct.when, f"assessment.direct_grades[{i}]", Use("direct_grade", direct.code, direct.label_zh, direct.label_en))
    for i, reason in enumerate(project.inventory.reasons):
        add(reason.when, f"inventory.reasons[{i}]", Use("reason", reason.code, reason.label_zh, reason.label_en))
    for i, path in enumerate(project.disposal.rules):
        add(path.when, f"disposal.rules[{i}]", Use("path", path.code, path.label_zh, path.label_en))
    for column, steps in BUILT_IN_USES.items():
        for zh, en in steps:
            uses.setdefault(column, []).append(Use("step", column, zh, en))
    return uses


#: What a use is, as people say it: (Chinese, English).
_WHAT = {"indicator": ("指标", "indicator"), "track": ("评价类别", "track"), "direct_grade": ("直接定级", "direct class"),
         "reason": ("列入原因", "listing reason"), "path": ("盘活路径", "path"), "step": ("", "")}


def consequence(uses: list[Use], lang: str | None = None) -> str:
    """Return what a column's absence does, e.g. ``盘活路径 收回/收储 (reclaim); 指标 亩均税收 (tax_per_mu)``.

    In ``lang`` (default: the command line's, :func:`landkit.core.i18n.language`).
    """
    zh = (lang or language()) == "zh"
    parts = []
    for use in uses:
        label = use.label_zh if zh else use.label_en
        what = _WHAT[use.what][0 if zh else 1]
        parts.append(label if use.what == "step" else f"{what} {label} ({use.key})")
    return "; ".join(dict.fromkeys(parts))


def column_issues(reports: Mapping[str, ColumnReport], project: Project, *,
                  derived: Iterable[str] = ()) -> list[Issue]:
    """Return the column problems of the inputs read: absent columns the project uses, and unread lookalikes.

    Parameters
    ----------
    reports : mapping
        Input kind → its :class:`ColumnReport` (parcels, enterprises ...).
    project : Project
    derived : iterable of str
        Columns the data have although no input names them (``area_mu``, enterprise sums ...).

    Returns
    -------
    list of Issue
        ``check = "column"``. Errors: an absent column an indicator in the weights needs.
        Warnings: an absent column some rule, path or step reads (with what it does), and each
        unread column that looks like a canonical one (with the mapping to add).
    """
    uses = column_uses(project)
    have = set(derived)
    for report in reports.values():
        have |= set(report.read)
    owner = {c: k for k in ("enterprises", "parcels") for c in CANONICAL[k] if k in reports}
    suggested = {canonical: (report.kind, col) for report in reports.values() for col, canonical in report.suggestions.items()}
    issues: list[Issue] = []
    absent_used = {c for c in uses if c not in have and c in owner}  # (not area_mu, ring ... nor another input's)
    for report in reports.values():
        for col, canonical in report.suggestions.items():
            if canonical not in absent_used:  # (those are named with their consequence below)
                issues.append(Issue("warning", "column", report.kind, col, _(
                    "column {column} is not read; it looks like `{canonical}`: if it is, map it under "
                    "columns.{kind}.{canonical}: [{column}] in the project file").format(
                        column=col, canonical=canonical, kind=report.kind)))
    for column, column_uses_ in uses.items():
        if column not in absent_used:
            continue
        kind = owner[column]
        hint = (_("if {source} holds it, map it: columns.{kind}.{column}: [{source}]").format(
                    source=suggested[column][1], kind=kind, column=column) if column in suggested
                else _("map the planner's column that holds it under columns.{kind}.{column}").format(kind=kind, column=column))
        needed = [u for u in column_uses_ if u.needed]
        severity: Literal["error", "warning"] = "error" if needed else "warning"
        issues.append(Issue(severity, "column", kind, column, _("no `{column}` column in {name}; it is read by: {uses}; {hint}")
                            .format(column=column, name=reports[kind].name, uses=consequence(column_uses_), hint=hint)))
    return issues


def require_columns(reports: Mapping[str, ColumnReport], project: Project, *,
                    derived: Iterable[str] = ()) -> list[Issue]:
    """Refuse a run whose inputs lack columns the weighted indicators need; return the other column warnings.

    All the errors of :func:`column_issues` in one line (each with the planner's column that looks
    like it). Called by the commands that assess, after the data are read, which show the warnings
    (`landkit validate` lists all of them instead).

    Raises
    ------
    ConfigError
        Naming every absent column an indicator in the weights needs, and the mapping to add.
    """
    issues = column_issues(reports, project, derived=derived)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise ConfigError(" | ".join(i.message for i in errors))
    return issues

