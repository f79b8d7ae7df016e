"""`landkit history`: the runs recorded in an output folder (or its GeoPackage), oldest first."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import click
import pandas as pd

from landkit.cli.options import run_schema_opt
from landkit.core.i18n import _
from landkit.deliver.history import read_runs, runs_records

#: Columns shown, with their Chinese and English headers.
SHOWN = {
    "run_id": ("运行编号", "Run"),
    "created": ("时间(UTC)", "Time (UTC)"),
    "landkit_version": ("版本", "Version"),
    "year": ("评估年份", "Year"),
    "config_sha256": ("配置哈希", "Config hash"),
    "parcels": ("地块数", "Parcels"),
    "area_mu": ("面积(亩)", "Area (mu)"),
    "grade_A": ("A类", "A"),
    "grade_B": ("B类", "B"),
    "grade_C": ("C类", "C"),
    "grade_D": ("D类", "D"),
    "grade_U": ("不参评", "U"),
    "inventory_parcels": ("低效地块", "Listed"),
    "inventory_area_mu": ("低效面积(亩)", "Listed (mu)"),
    "land_freed_mu": ("可腾退(亩)", "Freed (mu)"),
    "floor_area_added_m2": ("新增建面(万m²)", "Floor added (10k m²)"),
    "tax_gain_wan": ("税收增量(万元)", "Tax gain (10k yuan)"),
}


def display_width(text: str) -> int:
    """Return the width of text in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(column: str, value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column == "created":
        return str(value).replace("+00:00", "").replace("T", " ")
    if column == "year":
        return str(int(value))
    if column == "config_sha256":
        return str(value)[:12]
    if column == "floor_area_added_m2":
        return f"{float(value) / 1e4:,.1f}"
    if column in ("area_mu", "inventory_area_mu", "land_freed_mu", "tax_gain_wan"):
        return f"{float(value):,.0f}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def format_runs(runs: pd.DataFrame, lang: str = "zh") -> str:
    """Return the history as an aligned text table (numbers right-aligned)."""
    columns = [c for c in SHOWN if c in runs]
    headers = [SHOWN[c][0 if lang == "zh" else 1] for c in columns]
    rows = [[_cell(c, v) for c, v in zip(columns, values, strict=True)]
            for values in runs[columns].itertuples(index=False)]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    left = {"run_id", "created", "landkit_version", "config_sha256"}

    def line(cells: list[str]) -> str:
        out = []
        for column, cell, width in zip(columns, cells, widths, strict=True):
            pad = " " * (width - display_width(cell))
            out.append(cell + pad if column in left else pad + cell)
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


@click.command("history")
@click.argument("run", required=False, default=".")
@run_schema_opt
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Header language.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON (every column, inputs with their hashes).")
def command(run: str, schema: str | None, lang: str, as_json: bool) -> None:
    """List the runs recorded in RUN: an output folder of `landkit assess` (default: here), its
    landkit.gpkg, or postgresql://.../db?schema=NAME that `landkit assess --db` wrote to.

    Each `landkit assess` run adds a row: run id, time, landkit version, year, configuration and
    input hashes, and the headline figures. Runs replaced with --overwrite keep their row.
    """
    if schema is not None and not run.strip().lower().startswith(("postgresql://", "postgres://")):
        raise click.UsageError(_("--schema goes with a postgresql:// URL"))
    runs = read_runs(run, schema=schema)
    if as_json:
        click.echo(json.dumps(runs_records(runs), ensure_ascii=False, indent=2))
        return
    click.echo(format_runs(runs, lang))
    count = len(runs)
    click.echo(f"{count} 次运行" if lang == "zh" else f"{count} run{'s' if count != 1 else ''}")
