"""The plan's ten 2026 targets (行动方案, 主要目标): computed where the data allow, and their path.

Each KPI of :data:`KPIS` is computed from the enterprise register (and the facilities layer for
incubators) when the columns it needs are there; a figure the planner types into the project file
(``kpis.park_figures``) is used as given (and said so), and a KPI neither supplies is "no data",
naming the column that would. :func:`kpi_paths` follows each KPI across the recorded runs toward
its target in ``kpis.target_year``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from landkit.config.models import Kpis

#: 1 亿元 = 10,000 万元.
WAN_PER_YI = 10_000.0


@dataclass(frozen=True)
class Kpi:
    """A plan KPI: its labels, unit and the input columns it is computed from."""

    label_zh: str
    label_en: str
    unit: str
    columns: tuple[str, ...]


#: The ten targets of the plan (主要目标), in its order.
KPIS: dict[str, Kpi] = {
    "rd_share": Kpi("研发经费支出占营业收入比重", "R&D spend as a share of revenue", "%", ("rd_spend_wan", "revenue_wan")),
    "high_tech_firms": Kpi("有效期内高新技术企业", "High-tech firms", "家", ("high_tech",)),
    "champions": Kpi("“独角兽”“隐形冠军”企业", "Unicorns and hidden champions", "家", ("champion",)),
    "pct_filings": Kpi("PCT专利申请量", "PCT filings", "件", ("pct_filings",)),
    "strategic_emerging_output_yi": Kpi("战略性新兴产业工业总产值", "Strategic emerging industries' output", "亿元",
                                        ("industrial_output_wan", "industry")),
    "leading_industries_yi": Kpi("三大先导产业总规模", "The three leading industries' scale", "亿元", ("revenue_wan", "industry")),
    "labour_productivity_wan": Kpi("劳动生产率(人均增加值)", "Labour productivity (value added per person)", "万元/人",
                                   ("value_added_wan", "employees")),
    "incubators": Kpi("高质量孵化器", "High-quality incubators", "家", ("facility_kind",)),
    "talents": Kpi("三大先导产业人才", "Talents in the three leading industries", "人", ("talents", "industry")),
    "fund_size_yi": Kpi("累计集聚基金规模", "Funds gathered", "亿元", ()),
}

#: Columns of :func:`plan_kpis`.
KPI_COLUMNS = ["kpi", "label_zh", "label_en", "unit", "target", "actual", "ratio", "met", "source", "missing_zh", "missing_en"]


def _sum(frame: pd.DataFrame, column: str, mask: pd.Series | None = None) -> float:
    values = pd.to_numeric(frame[column], errors="coerce")
    return float((values if mask is None else values[mask]).sum())


def _ratio(frame: pd.DataFrame, numerator: str, denominator: str) -> float:
    """Return Σ numerator / Σ denominator over the firms that report both (NaN when their denominator sums to 0)."""
    a, b = pd.to_numeric(frame[numerator], errors="coerce"), pd.to_numeric(frame[denominator], errors="coerce")
    both = a.notna() & b.notna()
    total = float(b[both].sum())
    return float(a[both].sum()) / total if total else np.nan


def _count(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].where(frame[column].notna(), False).astype(bool).sum())


def in_industries(enterprises: pd.DataFrame, names: list[str]) -> pd.Series:
    """Return whether each firm's ``industry`` or ``segment`` (细分领域) is one of ``names``."""
    found = pd.Series(False, index=enterprises.index)
    for column in ("industry", "segment"):
        if column in enterprises:
            found |= enterprises[column].astype(str).str.strip().isin(names) & enterprises[column].notna()
    return found


def _computers(spec: Kpis, facilities: pd.DataFrame | None) -> dict[str, Callable[[pd.DataFrame], float]]:
    """Return KPI → how it is computed from the enterprise register (the facilities layer for incubators)."""
    def incubators(_e: pd.DataFrame) -> float:
        return float((facilities["facility_kind"] == "incubator").sum()) if facilities is not None else np.nan

    return {
        "rd_share": lambda e: _ratio(e, "rd_spend_wan", "revenue_wan"),
        "high_tech_firms": lambda e: _count(e, "high_tech"),
        "champions": lambda e: _count(e, "champion"),
        "pct_filings": lambda e: _sum(e, "pct_filings"),
        "strategic_emerging_output_yi": lambda e: _sum(e, "industrial_output_wan", in_industries(e, spec.strategic_emerging_industries))
        / WAN_PER_YI,
        "leading_industries_yi": lambda e: _sum(e, "revenue_wan", in_industries(e, spec.leading_industries)) / WAN_PER_YI,
        "labour_productivity_wan": lambda e: _ratio(e, "value_added_wan", "employees"),
        "talents": lambda e: _sum(e, "talents", in_industries(e, spec.leading_industries)),
        "incubators": incubators,
    }


def _lacking(enterprises: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    """Return the columns the register lacks or holds no value in."""
    return [c for c in columns if c not in enterprises or not enterprises[c].notna().any()]


def plan_kpis(enterprises: pd.DataFrame | None, spec: Kpis, *, facilities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return each of the plan's KPIs: target, actual, the share of the target reached, and where it came from.

    Definitions (sums over the register's firms; 1 亿元 = 10,000 万元):

    - ``rd_share`` = Σ ``rd_spend_wan`` / Σ ``revenue_wan``, and ``labour_productivity_wan`` =
      Σ ``value_added_wan`` / Σ ``employees`` (万元 per person), each over the firms reporting both;
    - ``high_tech_firms``, ``champions``: firms flagged ``high_tech``, ``champion`` (独角兽/隐形冠军);
    - ``pct_filings``: Σ ``pct_filings``;
    - ``strategic_emerging_output_yi``: Σ ``industrial_output_wan`` of the firms whose industry or
      segment is in ``strategic_emerging_industries``, in 亿元;
    - ``leading_industries_yi`` (三大先导产业总规模): Σ ``revenue_wan`` of the firms of
      ``leading_industries``, in 亿元; ``talents``: Σ ``talents`` of the same firms;
    - ``incubators``: the facilities of kind ``incubator`` — every 孵化器 of the layer, not only the
      高质量 ones the plan counts: state that number in ``park_figures`` where it differs;
    - ``fund_size_yi``: only from ``park_figures`` (no register holds it).

    A figure in ``kpis.park_figures`` wins over the data (the planner states it, e.g. from the
    火炬 statistics). A KPI whose columns are absent or empty is "no data", naming them.

    Parameters
    ----------
    enterprises : DataFrame or None
        The enterprise register (canonical columns).
    spec : Kpis
        ``project.kpis``: ``targets`` (KPI → target; only these are reported), ``leading_industries``,
        ``strategic_emerging_industries`` and ``park_figures`` (KPI → a figure the planner states).
    facilities : DataFrame, optional
        The facilities layer (``facility_kind``): incubators are counted from it.

    Returns
    -------
    DataFrame
        One row per target, in the plan's order: ``kpi``, ``label_zh``, ``label_en``, ``unit``,
        ``target``, ``actual`` (NaN: no data), ``ratio`` (actual / target), ``met``, ``source``
        (``data``, ``project`` or ``none``) and, without data, ``missing_zh``/``missing_en`` naming
        the columns that would supply it.
    """
    e = enterprises if enterprises is not None else pd.DataFrame()
    compute = _computers(spec, facilities)
    rows = []
    order = [k for k in KPIS if k in spec.targets] + [k for k in spec.targets if k not in KPIS]
    for name in order:  # a loop over the ten KPIs
        target = float(spec.targets[name])
        kpi = KPIS.get(name, Kpi(name, name, "", ()))
        if name == "incubators":
            available = facilities is not None and "facility_kind" in facilities
            wanted = ["inputs.facilities (设施类型 孵化器)", "kpis.park_figures.incubators"]
        else:
            lacking = _lacking(e, kpi.columns)
            available = bool(kpi.columns) and not lacking and name in compute
            wanted = lacking or ["kpis.park_figures." + name]
        source, missing_zh, missing_en = "none", "", ""
        if name in spec.park_figures:
            value, source = float(spec.park_figures[name]), "project"
        elif available:
            value, source = compute[name](e), "data"
        else:
            value = np.nan
            missing_zh = "无数据：" + "、".join(wanted) + " 可提供"
            missing_en = "no data: " + ", ".join(wanted) + " would supply it"
        rows.append({"kpi": name, "label_zh": kpi.label_zh, "label_en": kpi.label_en, "unit": kpi.unit, "target": target,
                     "actual": value, "ratio": value / target if target and pd.notna(value) else np.nan,
                     "met": bool(value >= target) if pd.notna(value) else None, "source": source,
                     "missing_zh": missing_zh, "missing_en": missing_en})
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def kpi_paths(history: pd.DataFrame, spec: Kpis) -> pd.DataFrame:
    """Return each KPI's recorded values and the straight path from its first record to the target.

    Parameters
    ----------
    history : DataFrame
        ``year``, ``kpi``, ``actual``: one row per recorded run and KPI (the latest run of a year
        wins; rows without a value are dropped).
    spec : Kpis
        ``targets`` and ``target_year``.

    Returns
    -------
    DataFrame
        Per KPI and recorded year: ``actual``, ``target``, ``path`` (the value on the straight line
        from the first recorded year's actual to the target in ``target_year``), ``on_track``
        (actual ≥ path), ``ratio`` (actual / target) and, on each KPI's latest year,
        ``needed_per_year`` (the constant yearly growth that reaches the target in the target
        year: (target / actual)^(1 / years left) − 1; NaN when the target year has come).
    """
    columns = ["kpi", "year", "actual", "target", "path", "on_track", "ratio", "needed_per_year"]
    frame = history.dropna(subset=["actual"])
    frame = frame[frame["kpi"].isin(list(spec.targets))]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.drop_duplicates(["kpi", "year"], keep="last").sort_values(["kpi", "year"], kind="stable")
    target = frame["kpi"].map(spec.targets).astype(float)
    first = frame.groupby("kpi")["year"].transform("min")
    start = frame.groupby("kpi")["actual"].transform("first")
    span = (spec.target_year - first).astype(float)
    share = np.where(span > 0, (frame["year"] - first) / span.where(span > 0, 1.0), 1.0)
    path = start + (target - start) * np.clip(share, 0.0, 1.0)
    out = frame.assign(target=target, path=path, on_track=frame["actual"] >= path - 1e-12, ratio=frame["actual"] / target)
    latest = frame.groupby("kpi")["year"].transform("max") == frame["year"]
    left = (spec.target_year - frame["year"]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(latest & (left > 0) & (frame["actual"] > 0), (target / frame["actual"]) ** (1 / left) - 1, np.nan)
    out["needed_per_year"] = needed
    return out[columns].reset_index(drop=True)
