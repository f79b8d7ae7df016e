"""一地一档: a dossier of parcels, one printable A4 page each, from a run of `landkit assess`.

Each page holds everything the run knows about one parcel: a map inset (an inline SVG of the
parcel and of the parcels and roads around it, drawn in the run's working CRS, no network), its
facts (block, land use, status, ownership, area in 亩 and 公顷, lease, floor area, enterprises),
each performance indicator of its track against its benchmark with its weight and points, its
score, class and why (rank in its track, direct class or why not graded, the costliest
indicators, the class probabilities as the weights vary), the list and its reasons, the
revitalisation path with what it gains and costs, the land and building value, the decisions
and objections on it, and its history across runs.

:func:`read_dossier_run` reads a run's whole parcels layer and its tables through
:mod:`landkit.io.runs`; :func:`select_parcels` picks the parcels (ids, the list, or all);
:func:`build_dossier` renders the pages (the template ``templates/dossier.html.j2``, autoescaped:
every text from the data is escaped); :func:`write_dossier` writes them, whole or not at all
(staged and published by :func:`landkit.io.run_folder.staged`), as ``index.html`` and one
``<parcel id>.html`` per parcel, or one combined ``dossier.html`` (``single``), and prints the
combined pages to ``dossier.pdf`` with one call of the system Chromium (:func:`print_pdf`).

The work is done per column, not per parcel: the figures of all the pages are formatted column by
column, the insets' neighbours come from one :class:`shapely.STRtree` query of all the pages'
frames, the roads are clipped to them in one vectorised intersection, and the SVG path data of
every parcel drawn are written once; what is left per parcel is one template rendering.

The pages' words are in :data:`TEXT` (Chinese, English), as the report's are in
:data:`landkit.deliver.report_page.TEXT`: a dossier's language is its own (``lang``), not the
command line's. Column labels, units and coded values come from :mod:`landkit.deliver.labels`
(through :class:`~landkit.deliver.report_page.Page`) and the indicators' names from the
project. History from other runs is passed in as :class:`HistoryRun` (the command line reads
them, with :func:`landkit.monitor.read.read_run`: this layer does not import the monitor).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

import landkit
from landkit.assess.performance import GRADES, UNGRADED
from landkit.config.models import Project
from landkit.core.errors import InputError, OutputError
from landkit.core.i18n import _
from landkit.core.progress import Stage, no_stage
from landkit.core.schema import is_missing
from landkit.deliver.history import RUNS_TABLE
from landkit.deliver.labels import GRADE_COLOURS
from landkit.deliver.report_page import Page
from landkit.deliver.templates import environment
from landkit.io.run_folder import GPKG_NAME, LOCK_NAME, MANIFEST, staged
from landkit.io.runs import RunStore, layer_fields, list_layers, read_layer
from landkit.io.write import check_writable

log = logging.getLogger(__name__)

#: The template of the pages (and its style sheet, ``dossier.css``, which it includes).
TEMPLATE = "dossier.html.j2"
#: The files of a dossier folder besides the parcels' pages.
INDEX = "index.html"
COMBINED = "dossier.html"
PDF = "dossier.pdf"
RECORD = "dossier.json"
#: The neighbourhood an inset shows around its parcel (m).
INSET_RADIUS_M = 300.0
#: Scale-bar lengths an inset chooses from (m).
SCALE_BARS_M = (25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)
#: Enterprises named on a page (the rest are counted).
MAX_ENTERPRISES = 6
#: Objections and decisions listed on a page (the rest are counted).
MAX_DECISIONS = 4
#: Browsers :func:`find_browser` looks for on PATH, in order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: The indicators a parcels layer may carry (with ``_bench``, ``_pts`` and ``_lost``), in the
#: order of the default profile; the run's project says which it used and with what weights.
INDICATORS = ("tax_per_mu", "value_added_per_mu", "va_per_energy", "va_per_emission", "labour_productivity",
              "rd_intensity", "tax_per_kwh")
MISSING = "—"

#: The dossier's words: key → (Chinese, English).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("一地一档", "Parcel dossier"),
    "index_title": ("一地一档 · {name}", "Parcel dossiers · {name}"),
    "index_sub": ("{year}年评估 · {n}宗地块 · {where}", "{year} assessment · {n} parcels · {where}"),
    "subtitle": ("{name} · {year}年评估 · {block}", "{name} · {year} assessment · {block}"),
    "outside_blocks": ("区块外", "outside the blocks"),
    "facts": ("地块概况", "The parcel"),
    "map": ("区位图", "Location"),
    "this_parcel": ("本地块", "This parcel"),
    "map_note": ("周边约{r}米内地块按评价等级着色", "parcels within about {r} m, coloured by class"),
    "enterprises": ("用地企业", "Enterprises"),
    "more_firms": ("等{n}家", "and {n} more"),
    "area": ("{mu} 亩（{ha} 公顷）", "{mu} mu ({ha} ha)"),
    "lease": ("出让年期", "Lease"),
    "lease_value": ("{start}—{end}年（剩余{left}年）", "{start}–{end} ({left} years left)"),
    "lease_open": ("{start}年起", "from {start}"),
    "far": ("容积率", "FAR"),
    "assessment": ("综合绩效评价", "Performance assessment"),
    "points": ("分", "points"),
    "rank": ("组内第{r}名/共{n}宗", "rank {r} of {n} in its track"),
    "robustness": ("权重变动下的等级概率", "Class probabilities as the weights vary"),
    "stable": ("等级稳定", "class stable"),
    "unstable": ("等级不稳定", "class unstable"),
    "unstable_with": ("等级不稳定（取决于{names}的权重）", "class unstable (it depends on the weights of {names})"),
    "listing": ("低效用地清单", "Low-efficiency list"),
    "listed_badge": ("低效用地", "Listed"),
    "indicators": ("评价指标与基准", "Indicators against their benchmarks"),
    "indicator": ("指标", "Indicator"),
    "value": ("本地块", "Value"),
    "benchmark": ("基准值", "Benchmark"),
    "weight": ("权重", "Weight"),
    "points_of": ("得分/满分", "Points / max"),
    "lost": ("失分", "Score lost"),
    "path": ("盘活路径", "Revitalisation path"),
    "value_section": ("土地与建筑物价值", "Land and building value"),
    "history": ("历次评估", "History"),
    "year": ("年份", "Year"),
    "grade": ("等级", "Class"),
    "score": ("得分", "Score"),
    "listed": ("列入清单", "Listed"),
    "this_run": ("{year}（本次）", "{year} (this run)"),
    "not_in_run": ("未参评(无此地块)", "not in that run"),
    "no_history": ("无其他年份的地块评估记录，本次为唯一一次。", "No other run of this parcel is on record: this is the only one."),
    "history_gone": ("运行记录另有{n}次较早的运行（{years}），其地块图层已被替换，仅存汇总；以 --history 给出其输出文件夹可在此列出。",
                     "The run history records {n} earlier run(s) ({years}) whose parcel layers were replaced (only their "
                     "figures remain); give their output folders with --history to list them here."),
    "decisions": ("人工调整与异议", "Decisions and objections"),
    "overridden": ("人工调整", "Decided"),
    "override_note": ("调整说明", "Decision"),
    "grade_computed": ("计算等级", "Computed class"),
    "basis_override": ("人工调整定级", "set by a decision"),
    "no_decisions": ("无人工调整，无异议。", "No decision and no objection."),
    "override_row": ("调整 {field}：{computed} → {value}（{reason}；{by}，{date}）",
                     "Decision on {field}: {computed} → {value} ({reason}; {by}, {date})"),
    "objection_row": ("异议 {id}（{status}，{date}）：{subject}。{note}", "Objection {id} ({status}, {date}): {subject}. {note}"),
    "more_rows": ("另有{n}项，见运行的 overrides/objections 表。", "{n} more in the run's overrides and objections tables."),
    "received": ("已受理", "received"),
    "upheld": ("异议成立", "upheld"),
    "rejected": ("驳回", "rejected"),
    "footer": ("由 landkit {v} 生成 · 运行 {run} · {where}", "Made by landkit {v} · run {run} · {where}"),
    "synthetic": ("合成示例数据，不描述任何真实地块或企业。", "Synthetic data: describes no real parcel or firm."),
}


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class HistoryRun:
    """Another run of the same parcels, for the history of each page.

    ``parcels`` holds ``parcel_id`` and, those it has, ``grade``, ``score``, ``low_efficiency``,
    ``disposal``, ``disposal_zh`` and ``disposal_en``.
    """

    label: str
    parcels: pd.DataFrame
    year: int | None = None
    run_id: str | None = None


@dataclass
class DossierRun:
    """What a dossier is made from: a run's whole parcels layer, its tables and its settings."""

    store: RunStore
    project: Project
    parcels: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame | None = None
    #: The run history (table ``landkit_runs``), oldest first.
    runs: pd.DataFrame | None = None
    overrides: pd.DataFrame | None = None
    objections: pd.DataFrame | None = None
    year: int | None = None
    run_id: str | None = None

    @property
    def where(self) -> str:
        """The run for messages: its GeoPackage, or the database and schema."""
        return self.store.label


def read_dossier_run(store: RunStore, project: Project) -> DossierRun:
    """Read a run's parcels layer (every column), roads, history, decisions and objections.

    Parameters
    ----------
    store : RunStore
        The run (:func:`landkit.io.runs.open_run`).
    project : Project
        The settings the run was made with (its manifest's), for the indicators and labels.

    Returns
    -------
    DossierRun
        The run; ``year`` from ``summary.json``, else the history, else the project.

    Raises
    ------
    InputError
        If the run has no parcels layer with parcel ids, or its ids are empty or repeated.
    """
    where = store.label
    layers = set(list_layers(store))
    if "parcels" not in layers or "parcel_id" not in layer_fields(store, "parcels"):
        raise InputError(_("{where}: not a landkit output (no `parcels` layer with parcel_id); give a folder "
                           "`landkit assess -o` wrote").format(where=where))
    parcels = read_layer(store, "parcels")
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise InputError(_("{where}: its parcels layer has no geometry; give a folder `landkit assess -o` wrote")
                         .format(where=where))
    ids = parcels["parcel_id"]
    if ids.isna().any() or ids.astype(str).duplicated().any():
        twice = ids[ids.astype(str).duplicated()].astype(str)
        raise InputError(_("{where}: parcel ids are empty or repeated ({ids}); a dossier is one page per parcel id")
                         .format(where=where, ids=", ".join(twice.head(3))))
    parcels["parcel_id"] = ids.astype(str)
    roads = read_layer(store, "roads") if "roads" in layers else None
    runs = read_layer(store, RUNS_TABLE, geometry=False) if RUNS_TABLE in layers else None
    overrides = read_layer(store, "overrides", geometry=False) if "overrides" in layers else None
    objections = read_layer(store, "objections", geometry=False) if "objections" in layers else None
    record = runs.iloc[-1].to_dict() if runs is not None and not runs.empty else {}
    year = _summary_year(store)
    if year is None and not is_missing(record.get("year")):
        year = int(record["year"])
    if year is None:
        year = project.year
    run_id = None if is_missing(record.get("run_id")) else str(record["run_id"])
    return DossierRun(store=store, project=project, parcels=parcels,
                      roads=roads if isinstance(roads, gpd.GeoDataFrame) else None,
                      runs=None if runs is None else pd.DataFrame(runs),
                      overrides=None if overrides is None else pd.DataFrame(overrides),
                      objections=None if objections is None else pd.DataFrame(objections), year=year, run_id=run_id)


def _summary_year(store: RunStore) -> int | None:
    """Return the assessment year of a run folder's summary.json, if it has a readable one."""
    path = store.folder / "summary.json" if store.folder is not None else None
    if path is None or not path.exists():
        return None
    try:
        year = json.loads(path.read_text(encoding="utf-8")).get("year")
    except (OSError, ValueError, AttributeError):
        return None
    return None if is_missing(year) else int(year)


def select_parcels(run: DossierRun, ids: Sequence[str] = (), *, listed: bool = False) -> np.ndarray:
    """Return the positions in ``run.parcels`` of the parcels to write: ``ids``, the list, or all.

    Parameters
    ----------
    run : DossierRun
        The run.
    ids : sequence of str
        Parcel ids, in the order the pages take (repeats are dropped); none: see ``listed``.
    listed : bool
        Without ids: the parcels on the low-efficiency list (``low_efficiency``); else every parcel.

    Raises
    ------
    InputError
        If an id is not a parcel of the run, or the run lists no parcel.
    """
    parcel_ids = run.parcels["parcel_id"]
    if ids:
        wanted = list(dict.fromkeys(str(i) for i in ids))
        index = pd.Index(parcel_ids)
        positions = index.get_indexer(wanted)
        unknown = [i for i, pos in zip(wanted, positions, strict=True) if pos < 0]
        if unknown:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise InputError(_("{where}: no parcel {ids}; give ids from the parcels layer (column parcel_id, e.g. {example})")
                             .format(where=run.where, ids=shown, example=parcel_ids.iloc[0] if len(parcel_ids) else "—"))
        return np.asarray(positions, dtype=np.intp)
    if listed:
        if "low_efficiency" not in run.parcels:
            raise InputError(_("{where}: its parcels have no low_efficiency column, so no list; give parcel ids or --all")
                             .format(where=run.where))
        flags = _flags(run.parcels["low_efficiency"])
        if not flags.any():
            raise InputError(_("{where}: no parcel is on the low-efficiency list; give parcel ids or --all")
                             .format(where=run.where))
        return np.flatnonzero(flags)
    return np.arange(len(run.parcels), dtype=np.intp)


# --- formatting, column by column -------------------------------------------------------------------------


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a column as floats (NaN where missing or absent)."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    return np.asarray(pd.to_numeric(frame[column], errors="coerce"), dtype=float)


def _fmt(values: np.ndarray, decimals: int = 0, unit: str = "") -> list[str]:
    """Format figures with thousands separators and ``decimals``; a unit after each; ``—`` when missing."""
    suffix = f" {unit}" if unit else ""
    return [f"{v:,.{decimals}f}{suffix}" if math.isfinite(v) else MISSING for v in values.tolist()]


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    """Return a text column as stripped strings ('' where missing or absent)."""
    if column not in frame:
        return [""] * len(frame)
    return ["" if is_missing(v) else str(v).strip() for v in frame[column].tolist()]


def _flags(values: pd.Series) -> np.ndarray:
    """Return a flag column (bool, 0/1, or text) as booleans, missing as False."""
    if values.dtype == bool:
        return np.asarray(values.to_numpy(), dtype=bool)
    text = values.astype("string").str.strip().str.lower()
    return np.asarray(text.isin(["true", "1", "1.0", "yes", "是"]).fillna(False), dtype=bool)


def _decimals(benchmarks: np.ndarray) -> int:
    """Return the decimals an indicator's figures take: by the size of its benchmarks (or values)."""
    finite = np.abs(benchmarks[np.isfinite(benchmarks)])
    if not finite.size:
        return 2
    largest = float(finite.max())
    return 0 if largest >= 100 else 1 if largest >= 10 else 2 if largest >= 1 else 3


def file_names(ids: Sequence[str]) -> list[str]:
    """Return a safe, unique file name (``<id>.html``) for each parcel id.

    Characters other than letters, digits, ``.``, ``-`` and ``_`` become ``_``; names that would
    be the dossier's own files (``index``, ``dossier``) or repeat another (ignoring case) get a
    number.
    """
    names: list[str] = []
    seen = {"index", "dossier"}
    for pid in ids:
        stem = re.sub(r"[^\w.\-]+", "_", str(pid)).strip("._")[:120] or "parcel"
        candidate, n = stem, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem}-{n}"
        seen.add(candidate.lower())
        names.append(f"{candidate}.html")
    return names


# --- the map insets ---------------------------------------------------------------------------------------


def svg_paths(geoms: np.ndarray, origin: tuple[float, float]) -> list[str]:
    """Return the SVG path data of each geometry, in metres from ``origin`` with y downwards.

    Polygons (and multipolygons) become closed rings, lines open paths; an empty or missing
    geometry gives ``""``. Coordinates are rounded to 0.1 m.
    """
    out = [""] * len(geoms)
    if not len(geoms):
        return out
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    if not len(parts):
        return out
    kind = shapely.get_type_id(parts)
    polygon, line = kind == 3, (kind == 1) | (kind == 2)
    rings, ring_of = shapely.get_rings(parts[polygon], return_index=True)
    pieces = np.concatenate([rings, parts[line]])
    owner = np.concatenate([part_of[polygon][ring_of], part_of[line]])
    closed = np.concatenate([np.ones(len(rings), dtype=bool), np.zeros(int(line.sum()), dtype=bool)])
    coords, coord_of = shapely.get_coordinates(pieces, return_index=True)
    xs = (coords[:, 0] - origin[0]).round(1).tolist()
    ys = (origin[1] - coords[:, 1]).round(1).tolist()
    points = [f"{x:.1f} {y:.1f}" for x, y in zip(xs, ys, strict=True)]
    starts = np.searchsorted(coord_of, np.arange(len(pieces) + 1)).tolist()
    by_geom: dict[int, list[str]] = {}
    for k, geom in enumerate(owner.tolist()):
        ring = points[starts[k]:starts[k + 1]]
        if closed[k]:
            ring = ring[:-1]
        if len(ring) >= 2:
            by_geom.setdefault(geom, []).append("M" + " ".join(ring) + ("Z" if closed[k] else ""))
    for geom, paths in by_geom.items():
        out[geom] = "".join(paths)
    return out


def _groups(inputs: np.ndarray, hits: np.ndarray, n: int) -> list[np.ndarray]:
    """Split the hits of a tree query (input index, tree index) into one array per input."""
    order = np.argsort(inputs, kind="stable")
    inputs, hits = inputs[order], hits[order]
    bounds = np.searchsorted(inputs, np.arange(n + 1))
    return [hits[bounds[i]:bounds[i + 1]] for i in range(n)]


def insets(geoms: np.ndarray, positions: np.ndarray, grades: Sequence[str], *, roads: np.ndarray | None = None,
           radius: float = INSET_RADIUS_M) -> list[dict[str, Any]]:
    """Return the map inset of each parcel of ``positions``: it, its neighbours and the roads around it.

    An inset is the square around the parcel's envelope widened by ``radius`` on every side; it
    shows every parcel that reaches into that square (one :class:`shapely.STRtree` query of all
    the squares) coloured by class, and the roads clipped to it (one vectorised intersection).

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Every parcel of the run, in a metric CRS.
    positions : ndarray of int
        The parcels that get a page.
    grades : sequence of str
        The class of every parcel (A–D, U), aligned to ``geoms``.
    roads : ndarray of shapely geometries, optional
        The run's roads, in the same CRS.
    radius : float
        The neighbourhood shown (m).

    Returns
    -------
    list of dict
        Per page: ``view_box``, ``parcel`` (path data), ``neighbours`` ((path data, class) pairs),
        ``roads`` (path data), and the scale bar and north arrow (``bar_*``, ``label_y``,
        ``north*``, ``font``), all in the SVG's user units (metres).
    """
    n = len(positions)
    if not n:
        return []
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    valid = geoms[present] if not present.all() else geoms
    minx, _, _, maxy = shapely.total_bounds(valid)
    origin = (float(math.floor(minx / 100) * 100), float(math.ceil(maxy / 100) * 100))
    bounds = shapely.bounds(geoms[positions])
    bounds = np.where(np.isfinite(bounds), bounds, np.array([minx, maxy, minx, maxy]))
    cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    half = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 2 + radius
    frames = shapely.box(cx - half, cy - half, cx + half, cy + half)

    tree = shapely.STRtree(geoms)
    inputs, hits = tree.query(frames, predicate="intersects")
    neighbours = _groups(inputs, hits, n)
    drawn = np.unique(np.concatenate([positions, hits]))
    paths = dict(zip(drawn.tolist(), svg_paths(geoms[drawn], origin), strict=True))

    road_paths: list[list[str]] = [[] for _ in range(n)]
    if roads is not None and len(roads):
        road_tree = shapely.STRtree(roads)
        r_inputs, r_hits = road_tree.query(frames, predicate="intersects")
        clipped = shapely.intersection(roads[r_hits], frames[r_inputs])
        for i, d in zip(r_inputs.tolist(), svg_paths(clipped, origin), strict=True):
            if d:
                road_paths[i].append(d)

    out: list[dict[str, Any]] = []
    for i, pos in enumerate(positions.tolist()):
        side = 2 * float(half[i])
        x0, y0 = float(cx[i] - half[i] - origin[0]), float(origin[1] - (cy[i] + half[i]))
        bar = max([b for b in SCALE_BARS_M if b <= side / 4] or [SCALE_BARS_M[0]])
        w = side * 0.022
        nx, ny = x0 + side * 0.94, y0 + side * 0.035
        out.append({
            "view_box": f"{x0:.1f} {y0:.1f} {side:.1f} {side:.1f}",
            "parcel": paths.get(pos, ""),
            "neighbours": [(paths[j], grades[j]) for j in neighbours[i].tolist() if j != pos and paths.get(j)],
            "roads": road_paths[i],
            "bar_x": f"{x0 + side * 0.05:.1f}", "bar_y": f"{y0 + side * 0.93:.1f}", "bar_length": f"{bar:.1f}",
            "bar_height": f"{side * 0.012:.1f}", "label_y": f"{y0 + side * 0.915:.1f}",
            "bar_label": f"{bar / 1000:g} km" if bar >= 1000 else f"{bar} m",
            "north": f"M{nx:.1f} {ny:.1f}L{nx + w:.1f} {ny + 2.4 * w:.1f}L{nx:.1f} {ny + 1.8 * w:.1f}L{nx - w:.1f} {ny + 2.4 * w:.1f}Z",
            "north_x": f"{nx:.1f}", "north_y": f"{ny + 2.4 * w + side * 0.04:.1f}", "font": f"{side * 0.035:.1f}",
        })
    return out


# --- the pages --------------------------------------------------------------------------------------------


@dataclass
class Dossier:
    """The rendered pages of a dossier, and what its index and record need."""

    lang: str
    title: str
    subtitle: str
    parcel_ids: list[str]
    files: list[str]
    #: Each parcel's page (rendered and escaped by the template, view "sheet").
    sheets: list[str]
    headers: list[str]
    rows: list[dict[str, str]]
    run: str
    run_id: str | None = None
    year: int | None = None


class _Words:
    """The dossier's words in one language, and the labels of :class:`Page`."""

    def __init__(self, project: Project, lang: str) -> None:
        self.lang = lang
        self.zh = lang == "zh"
        self.page = Page(project, lang)

    def t(self, key: str, **kw: Any) -> str:
        """Return the text ``key`` of :data:`TEXT` in this language, formatted with ``kw``."""
        zh, en = TEXT[key]
        return (zh if self.zh else en).format(**kw)

    def label(self, column: str) -> str:
        """Return a column's label (without its unit)."""
        return self.page.label(column)

    def unit(self, column: str) -> str:
        """Return a column's unit in this language ('' if it has none)."""
        label = self.page.labels.get(column)
        return self.page.unit(label.unit) if label is not None else ""

    def pick(self, base: str, zh_column: str | None = None) -> str:
        """Return the column of a text in this language: ``<base>_zh`` (or ``zh_column``) or ``<base>_en``."""
        return (zh_column or f"{base}_zh") if self.zh else f"{base}_en"


def _history_rows(run: DossierRun, ids: list[str], history: Sequence[HistoryRun], words: _Words
                  ) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """Return each page's history rows (oldest first; none when this is the only run) and the notes all pages share."""
    current = HistoryRun(label=str(run.year) if run.year is not None else run.where, parcels=run.parcels,
                         year=run.year, run_id=run.run_id)
    entries = sorted([(h, False) for h in history] + [(current, True)],
                     key=lambda e: (e[0].year is None, e[0].year or 0, e[0].label))
    rows: list[list[dict[str, Any]]] = [[] for _ in ids]
    if len(entries) > 1:
        path_column = words.pick("disposal")
        for entry, is_current in entries:
            wanted = [c for c in ("parcel_id", "grade", "score", "low_efficiency", "disposal", path_column)
                      if c in entry.parcels.columns]
            frame = pd.DataFrame(entry.parcels[wanted])
            frame = frame.assign(parcel_id=frame["parcel_id"].astype(str)).drop_duplicates("parcel_id")
            frame = frame.set_index("parcel_id").reindex(ids)
            present = frame.index.isin(entry.parcels["parcel_id"].astype(str))
            year = entry.label if entry.year is None else str(entry.year)
            year = words.t("this_run", year=year) if is_current else year
            grades = _texts(frame, "grade")
            scores = _fmt(_numbers(frame, "score"), 1)
            listed = _flags(frame["low_efficiency"]) if "low_efficiency" in frame else np.zeros(len(ids), dtype=bool)
            named = _texts(frame, path_column)
            codes = _texts(frame, "disposal")
            for i in range(len(ids)):
                if not present[i]:
                    rows[i].append({"year": year, "grade": words.t("not_in_run"), "score": "", "listed": "", "path": "",
                                    "current": is_current})
                    continue
                rows[i].append({"year": year, "grade": words.page.grade(grades[i]) if grades[i] else MISSING,
                                "score": scores[i], "listed": words.page.boolean(listed[i]),
                                "path": named[i] or (words.page.path(codes[i]) if codes[i] else MISSING),
                                "current": is_current})
    notes = [] if len(entries) > 1 else [words.t("no_history")]
    if run.runs is not None and {"run_id", "year"} <= set(run.runs.columns):
        known = {h.run_id for h in history} | {run.run_id}
        gone = run.runs[~run.runs["run_id"].astype(str).isin({str(k) for k in known if k})]
        if len(gone):
            years = ", ".join(dict.fromkeys(str(int(y)) for y in gone["year"] if not is_missing(y)))
            notes.append(words.t("history_gone", n=len(gone), years=years or MISSING))
    return rows, notes


def _decision_rows(run: DossierRun, ids: list[str], words: _Words) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return the overrides and the objections of the run as lines, by parcel id."""
    overrides: dict[str, list[str]] = {}
    objections: dict[str, list[str]] = {}
    wanted = set(ids)
    if run.overrides is not None and "parcel_id" in run.overrides:
        table = run.overrides[run.overrides["parcel_id"].astype(str).isin(wanted)]
        for row in table.to_dict("records"):
            column = str(row.get("field") or "")
            shown = {k: MISSING if is_missing(row.get(k)) else str(row.get(k)) for k in
                     ("computed", "value", "reason", "approved_by", "approved_date")}
            for k in ("computed", "value"):
                if shown[k] != MISSING:
                    shown[k] = words.page.value(column, shown[k])
            named = words.pick(column) if f"{column}_zh" in words.page.labels else column  # disposal: 盘活路径
            overrides.setdefault(str(row["parcel_id"]), []).append(words.t(
                "override_row", field=words.label(named), computed=shown["computed"], value=shown["value"],
                reason=shown["reason"], by=shown["approved_by"], date=shown["approved_date"]))
    if run.objections is not None and "parcel_id" in run.objections:
        table = run.objections[run.objections["parcel_id"].astype(str).isin(wanted)]
        for row in table.to_dict("records"):
            status = str(row.get("objection_status") or "")
            date = row.get("decision_date") if not is_missing(row.get("decision_date")) else row.get("received_date")
            objections.setdefault(str(row["parcel_id"]), []).append(words.t(
                "objection_row", id=_plain(row.get("objection_id")),
                status=words.t(status) if status in ("received", "upheld", "rejected") else status or MISSING,
                date=_plain(date), subject=_plain(row.get("subject")), note=_plain(row.get("note"), "")).rstrip(" .。"))
    return overrides, objections


def _plain(value: Any, missing: str = MISSING) -> str:
    return missing if is_missing(value) else str(value).strip()


def _facts(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop the facts without a value."""
    return [(label, value) for label, value in items if value and value != MISSING]


def run_insets(run: DossierRun, positions: np.ndarray) -> list[dict[str, Any]]:
    """Return the map inset of each parcel of ``positions`` (:func:`insets`), in the run's working CRS."""
    working = run.project.crs.working
    metric = run.parcels.geometry
    if metric.crs is not None:
        metric = metric.to_crs(working)
    road_geoms = None
    if run.roads is not None and len(run.roads):
        roads = run.roads.geometry
        road_geoms = (roads.to_crs(working) if roads.crs is not None else roads).to_numpy()
    grades = [g if g in (*GRADES, UNGRADED) else UNGRADED for g in _texts(run.parcels, "grade")]
    return insets(metric.to_numpy(), positions, grades, roads=road_geoms)


def parcel_views(run: DossierRun, positions: np.ndarray, words: _Words, maps: Sequence[dict[str, Any]], *,
                 history: Sequence[HistoryRun] = ()) -> list[dict[str, Any]]:
    """Return what each page shows (the template's ``p``), the figures formatted column by column.

    Parameters
    ----------
    run : DossierRun
        The run.
    positions : ndarray of int
        The parcels, as positions in ``run.parcels``.
    words : _Words
        The dossier's language.
    maps : sequence of dict
        The parcels' map insets (:func:`run_insets`).
    history : sequence of HistoryRun
        Other runs of the same parcels.
    """
    project, page = run.project, words.page
    parcels = run.parcels
    sub = pd.DataFrame(parcels.iloc[positions].drop(columns=parcels.geometry.name)).reset_index(drop=True)
    n = len(sub)
    ids = sub["parcel_id"].astype(str).tolist()

    grades = [g if g in (*GRADES, UNGRADED) else UNGRADED for g in _texts(sub, "grade")]
    listed = _flags(sub["low_efficiency"]) if "low_efficiency" in sub else np.zeros(n, dtype=bool)
    watch = _flags(sub["watch"]) if "watch" in sub else np.zeros(n, dtype=bool)
    overridden = _flags(sub["overridden"]) if "overridden" in sub else np.zeros(n, dtype=bool)
    stable = _flags(sub["stable"]) if "stable" in sub else np.ones(n, dtype=bool)
    text = {c: _texts(sub, c) for c in (
        "block_id", "block_name", "land_use", "status", "ownership", "town", "industry", "enterprise_names", "track",
        "grade_basis", "list_basis", "disposal", "compensation_basis", "grade_computed", "override_note",
        "grade_unstable_with", "value_missing_reason", words.pick("grade_reason"), words.pick("weakest"),
        words.pick("ungraded_reason", "ungraded_reason"), words.pick("reasons"), words.pick("disposal"))}
    num = {c: _numbers(sub, c) for c in (
        "area_mu", "area_ha", "lease_start_year", "lease_end_year", "lease_years_left", "floor_area_m2", "far",
        "building_coefficient", "enterprise_count", "tax_wan", "score", "rank_in_track", "land_freed_mu",
        "floor_area_added_m2", "tax_gain_wan", "compensation_wan", "payback_years", "review_year", "land_value_wan",
        "building_value_wan", "total_value_wan", "value_per_mu_wan", "p_A", "p_B", "p_C", "p_D")}
    shown = {
        "area_mu": _fmt(num["area_mu"], 2), "area_ha": _fmt(num["area_ha"], 2),
        "floor_area_m2": _fmt(num["floor_area_m2"], 0, "m²"), "far": _fmt(num["far"], 2),
        "building_coefficient": _fmt(num["building_coefficient"], 2),
        "enterprise_count": _fmt(num["enterprise_count"], 0, words.unit("enterprise_count")),
        "tax_wan": _fmt(num["tax_wan"], 0, words.unit("tax_wan")), "score": _fmt(num["score"], 1),
        **{c: _fmt(num[c], 2, words.unit(c)) for c in ("land_freed_mu",)},
        **{c: _fmt(num[c], 0, words.unit(c)) for c in ("floor_area_added_m2", "tax_gain_wan", "compensation_wan",
                                                      "land_value_wan", "building_value_wan", "total_value_wan",
                                                      "value_per_mu_wan")},
        "payback_years": _fmt(num["payback_years"], 1, words.unit("payback_years")),
        "review_year": _fmt(num["review_year"], 0),
    }
    track_sizes = (parcels.groupby(parcels["track"].astype(str))["rank_in_track"].count().to_dict()
                   if {"track", "rank_in_track"} <= set(parcels.columns) else {})

    spec = project.assessment
    tracks = {t.name: t for t in spec.tracks}
    indicator_cells: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys([*spec.indicators, *INDICATORS]):
        if name not in sub or name not in spec.indicators:
            continue
        indicator = spec.indicators[name]
        values, bench = _numbers(sub, name), _numbers(sub, f"{name}_bench")
        points, lost = _numbers(sub, f"{name}_pts"), _numbers(sub, f"{name}_lost")
        decimals = _decimals(bench if np.isfinite(bench).any() else values)
        label = indicator.label_zh if words.zh else indicator.label_en
        shown_unit = page.unit(indicator.unit)
        indicator_cells[name] = {
            "label": (f"{label}({shown_unit})" if words.zh else f"{label} ({shown_unit})") if shown_unit else label,
            "value": _fmt(values, decimals), "bench": _fmt(bench, decimals), "points": points,
            "points_shown": _fmt(points, 1), "lost": _fmt(lost, 1),
            "cap": indicator.cap if indicator.method == "benchmark" else 1.0,
            "benchmark": indicator.method == "benchmark",
        }
    indicator_names = {name: (ind.label_zh if words.zh else ind.label_en) for name, ind in spec.indicators.items()}

    history_rows, history_notes = _history_rows(run, ids, history, words)
    overrides, objections = _decision_rows(run, ids, words)

    views: list[dict[str, Any]] = []
    files = file_names(ids)
    block_column, reasons_column = text["block_name"], text[words.pick("reasons")]
    codes = _texts(sub, "reasons")
    separator = "；" if words.zh else "; "
    reasons_column = [shown_text or separator.join(page.reason(c) for c in code.split(";") if c)
                      for shown_text, code in zip(reasons_column, codes, strict=True)]
    for i, pid in enumerate(ids):
        grade = grades[i]
        block = block_column[i] or text["block_id"][i] or words.t("outside_blocks")
        lease = MISSING
        if math.isfinite(num["lease_start_year"][i]):
            start = int(num["lease_start_year"][i])
            if math.isfinite(num["lease_end_year"][i]):
                left = num["lease_years_left"][i]
                lease = words.t("lease_value", start=start, end=int(num["lease_end_year"][i]),
                                left=f"{left:g}" if math.isfinite(left) else MISSING)
            else:
                lease = words.t("lease_open", start=start)
        names = [x for x in re.split(r"[、;；,，]\s*", text["enterprise_names"][i]) if x]
        firms = "、".join(names[:MAX_ENTERPRISES]) if words.zh else ", ".join(names[:MAX_ENTERPRISES])
        if len(names) > MAX_ENTERPRISES:
            firms += (" " if not words.zh else "") + words.t("more_firms", n=len(names) - MAX_ENTERPRISES)
        area = (words.t("area", mu=shown["area_mu"][i], ha=shown["area_ha"][i]) if shown["area_mu"][i] != MISSING
                else MISSING)
        track = text["track"][i]
        rank = ""
        if math.isfinite(num["rank_in_track"][i]) and track in track_sizes:
            rank = words.t("rank", r=int(num["rank_in_track"][i]), n=int(track_sizes[track]))

        rows: list[dict[str, Any]] = []
        spec_track = tracks.get(track)
        if spec_track is not None:
            for name, cells in indicator_cells.items():
                weight = spec_track.weights.get(name)
                if weight is None:
                    continue
                maximum = weight * cells["cap"]
                pts = cells["points"][i]
                rows.append({"name": name, "label": cells["label"], "value": cells["value"][i], "bench": cells["bench"][i],
                             "weight": f"{weight:g}", "points": f"{cells['points_shown'][i]} / {maximum:g}",
                             "lost": cells["lost"][i],
                             "short": bool(cells["benchmark"] and math.isfinite(pts) and pts < weight - 1e-9)})

        probabilities = [(g, num[f"p_{g}"][i]) for g in GRADES]
        robustness = ([(g, f"{p * 100:.1f}", f"{p * 100:.0f}%") for g, p in probabilities if p > 0]
                      if any(math.isfinite(p) for _, p in probabilities) else [])
        unstable_names = [indicator_names.get(c.strip(), c.strip()) for c in text["grade_unstable_with"][i].split(",")
                          if c.strip()]
        stable_text = (words.t("stable") if stable[i] else
                       words.t("unstable_with", names="、".join(unstable_names) if words.zh else ", ".join(unstable_names))
                       if unstable_names else words.t("unstable"))

        path_name = text[words.pick("disposal")][i] or (page.path(text["disposal"][i]) if text["disposal"][i] else "")
        value_reason = text["value_missing_reason"][i]
        if value_reason:
            from landkit.deliver.report import value_reason as shown_reason

            value_reason = shown_reason(value_reason, words.lang)
        lines_o, lines_x = overrides.get(pid, []), objections.get(pid, [])
        decisions = _facts([
            (words.t("overridden"), page.boolean(True) if overridden[i] else ""),
            (words.t("override_note"), "" if lines_o else text["override_note"][i]),  # the decisions' own lines say it
            (words.t("grade_computed"), page.grade(text["grade_computed"][i])
             if text["grade_computed"][i] and text["grade_computed"][i] != grade else ""),
        ])
        more = max(0, len(lines_o) + len(lines_x) - MAX_DECISIONS)
        lines_o = lines_o[:MAX_DECISIONS]
        lines_x = lines_x[:max(0, MAX_DECISIONS - len(lines_o))]
        if more:
            lines_x = [*lines_x, words.t("more_rows", n=more)]
        if not decisions and not lines_o and not lines_x:
            lines_x = [words.t("no_decisions")]

        views.append({
            "parcel_id": pid, "file": files[i], "anchor": "p-" + files[i][:-len(".html")], "grade": grade,
            "colour": GRADE_COLOURS.get(grade, GRADE_COLOURS[UNGRADED]), "grade_label": page.grade(grade),
            "listed": bool(listed[i]),
            "subtitle": words.t("subtitle", name=project.name, year=run.year if run.year is not None else MISSING,
                                block=block),
            "inset": maps[i],
            "index": {"block": block, "land_use": text["land_use"][i] or MISSING, "area": shown["area_mu"][i],
                      "path": path_name or MISSING},
            "facts": _facts([
                (words.label("block_name"), block),
                (words.label("town"), text["town"][i]),
                (words.label("land_use"), text["land_use"][i]),
                (words.label("status"), page.value("status", text["status"][i]) if text["status"][i] else ""),
                (words.label("ownership"), page.value("ownership", text["ownership"][i]) if text["ownership"][i] else ""),
                (words.label("area_mu"), area),
                (words.t("lease"), lease),
                (words.label("floor_area_m2"), shown["floor_area_m2"][i]),
                (words.t("far"), shown["far"][i]),
                (words.label("building_coefficient"), shown["building_coefficient"][i]),
                (words.label("enterprise_count"), shown["enterprise_count"][i]),
                (words.label("industry"), text["industry"][i]),
                (words.label("tax_wan"), shown["tax_wan"][i]),
            ]),
            "enterprises": firms,
            "score": shown["score"][i] if shown["score"][i] != MISSING else "",
            "rank": rank,
            "grading": _facts([
                (words.label("track"), page.value("track", track) if track else ""),
                (words.label("grade_basis"), "" if not text["grade_basis"][i] else words.t("basis_override")
                 if text["grade_basis"][i] == "override" else page.value("grade_basis", text["grade_basis"][i])),
                (words.label(words.pick("grade_reason")), text[words.pick("grade_reason")][i]),
                (words.label(words.pick("ungraded_reason", "ungraded_reason")),
                 text[words.pick("ungraded_reason", "ungraded_reason")][i]),
                (words.label(words.pick("weakest")), text[words.pick("weakest")][i]),
            ]),
            "robustness": robustness,
            "stable": stable_text,
            "listing": _facts([
                (words.label("low_efficiency"), page.boolean(listed[i])),
                (words.label("list_basis"), page.value("list_basis", text["list_basis"][i]) if listed[i] else ""),
                (words.label("watch"), page.boolean(True) if watch[i] else ""),
                (words.label(words.pick("reasons")), reasons_column[i]),
            ]),
            "indicators": rows,
            "path": _facts([
                (words.label(words.pick("disposal")), path_name),
                *((words.label(c), shown[c][i]) for c in ("land_freed_mu", "floor_area_added_m2", "tax_gain_wan")),
                (words.label("compensation_basis"), page.value("compensation_basis", text["compensation_basis"][i])
                 if text["compensation_basis"][i] else ""),
                (words.label("compensation_wan"), shown["compensation_wan"][i]),
                (words.label("payback_years"), shown["payback_years"][i]),
                (words.label("review_year"), shown["review_year"][i]),
            ]) or [(words.label(words.pick("disposal")), MISSING)],
            "value": _facts([
                *((words.label(c), shown[c][i]) for c in ("land_value_wan", "building_value_wan", "total_value_wan",
                                                          "value_per_mu_wan")),
                (words.label("value_missing_reason"), value_reason),
            ]) or [(words.label("total_value_wan"), MISSING)],
            "history": history_rows[i],
            "history_notes": history_notes,
            "decisions": decisions,
            "overrides": lines_o,
            "objections": lines_x,
        })
    return views


def build_dossier(run: DossierRun, positions: np.ndarray, *, lang: str = "zh", history: Sequence[HistoryRun] = (),
                  stage: Stage = no_stage) -> Dossier:
    """Render the pages of the parcels at ``positions`` (one template rendering per parcel).

    Parameters
    ----------
    run : DossierRun
        The run (:func:`read_dossier_run`).
    positions : ndarray of int
        The parcels (:func:`select_parcels`), in the order of the pages.
    lang : {"zh", "en"}
        The dossier's language.
    history : sequence of HistoryRun
        Other runs of the same parcels (earlier years), for each page's history.
    stage : callable
        Progress (:mod:`landkit.core.progress`).

    Returns
    -------
    Dossier
        The pages, and the index's rows.
    """
    words = _Words(run.project, lang)
    with stage("Drawing the maps"):
        maps = run_insets(run, positions)
    with stage("Laying out the pages"):
        views = parcel_views(run, positions, words, maps, history=history)
    synthetic = "合成" in run.project.name or "synthetic" in run.project.name.lower()
    footer = words.t("footer", v=landkit.__version__, run=run.run_id or MISSING, where=run.where)
    if synthetic:
        footer += " · " + words.t("synthetic")
    template = environment().get_template(TEMPLATE)
    t: dict[str, Any] = {key: words.t(key) for key in ("title", "facts", "map", "this_parcel", "enterprises", "assessment", "points",
                                        "robustness", "listing", "listed_badge", "indicators", "indicator", "value",
                                        "benchmark", "weight", "points_of", "lost", "path", "value_section", "history",
                                        "year", "grade", "score", "listed", "decisions")}
    t["map_note"] = words.t("map_note", r=f"{INSET_RADIUS_M:g}")
    t["legend"] = [(g, GRADE_COLOURS[g], words.page.grade(g) if g != UNGRADED else words.page.t("ungraded"))
                 for g in (*GRADES, UNGRADED)]
    t["footer"] = footer
    with stage("Rendering the pages"):
        sheets = [template.render(view="sheet", p=view, t=t) for view in views]
    files = [str(v["file"]) for v in views]
    page = words.page
    rows = [{"parcel_id": v["parcel_id"], "href": quote(f), **v["index"], "score": v["score"] or MISSING,
             "grade": v["grade_label"], "listed": page.boolean(v["listed"])} for v, f in zip(views, files, strict=True)]
    headers = [page.label("parcel_id"), page.label("block_name"), page.label("land_use"), page.header("area_mu"),
               page.header("score"), page.label("grade"), words.t("listed"), words.t("path")]
    year = run.year if run.year is not None else MISSING
    return Dossier(lang=lang, title=words.t("index_title", name=run.project.name),
                   subtitle=words.t("index_sub", year=year, n=f"{len(views):,}", where=run.where),
                   parcel_ids=[v["parcel_id"] for v in views], files=files, sheets=sheets, headers=headers, rows=rows,
                   run=run.where, run_id=run.run_id, year=run.year)


def render_document(dossier: Dossier, sheets: Sequence[str], *, contents: bool = False, index: bool = False,
                    title: str | None = None) -> str:
    """Return a whole HTML file: ``sheets`` (pages of :func:`build_dossier`), the contents or the index.

    ``contents`` puts the table of the parcels (shown on screen, not printed) before the pages,
    linking to them in the file; ``index`` makes it the table alone, linking to the parcels' files.
    """
    rows = dossier.rows if (contents or index) else []
    if contents:
        rows = [{**row, "href": "#" + quote("p-" + name[:-len(".html")])} for row, name in zip(rows, dossier.files, strict=True)]
    return environment().get_template(TEMPLATE).render(
        view="document", lang="zh-CN" if dossier.lang == "zh" else "en", title=title or dossier.title,
        subtitle=dossier.subtitle, headers=dossier.headers, rows=rows,
        # the pages were rendered, and their texts escaped, by this same template (view "sheet")
        sheets=[Markup(s) for s in sheets])


# --- writing ----------------------------------------------------------------------------------------------


def check_output(out_dir: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, an output folder that is a file, a run, or a dossier kept without ``overwrite``.

    Raises
    ------
    OutputError
        If ``out_dir`` is a file or holds a landkit run (a dossier has a folder of its own).
    OutputExistsError
        If it holds files and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(_("{path} is a file; give the dossier a folder").format(path=out_dir))
    if (out_dir / GPKG_NAME).exists() or (out_dir / MANIFEST).exists():
        raise OutputError(_("{folder} holds a landkit run; give the dossier a folder of its own, e.g. {example}")
                          .format(folder=out_dir, example=out_dir / "dossier"))
    if out_dir.is_dir() and any(p.name != LOCK_NAME for p in out_dir.iterdir()):
        check_writable([out_dir], overwrite=overwrite)


def _previous_files(out_dir: Path) -> set[str]:
    """Return the files an earlier dossier in ``out_dir`` wrote (its record's), to remove those not written again."""
    try:
        record = json.loads((out_dir / RECORD).read_text(encoding="utf-8"))
        return {Path(str(name)).name for name in record.get("files", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def write_dossier(out_dir: Path, dossier: Dossier, *, single: bool = False, browser: str | None = None,
                  overwrite: bool = False, stage: Stage = no_stage) -> list[Path]:
    """Write a dossier folder, whole or not at all: the pages, and the PDF when a browser is given.

    Parameters
    ----------
    out_dir : Path
        The folder (created; an earlier dossier there is replaced only with ``overwrite``, its
        files that this one does not write removed).
    dossier : Dossier
        The pages (:func:`build_dossier`).
    single : bool
        One combined ``dossier.html`` instead of ``index.html`` and one file per parcel.
    browser : str, optional
        A Chromium (:func:`find_browser`): also print the pages to ``dossier.pdf``, one page per parcel.
    overwrite : bool
        Replace an earlier dossier.
    stage : callable
        Progress (:mod:`landkit.core.progress`).

    Returns
    -------
    list of Path
        The files written: the index (or the combined file), the PDF, the record ``dossier.json``.

    Raises
    ------
    OutputExistsError
        If the folder holds files and ``overwrite`` is false.
    OutputError
        If the folder holds a run, another landkit command writes it, or the PDF cannot be printed.
    """
    out_dir = Path(out_dir)
    check_output(out_dir, overwrite=overwrite)
    names = [COMBINED] if single else [INDEX, *dossier.files]
    if browser is not None:
        names.append(PDF)
    names.append(RECORD)
    previous = _previous_files(out_dir) if overwrite else set()
    with staged(out_dir, outputs=previous | {INDEX, COMBINED, PDF, RECORD}) as staging:
        with stage("Writing the files"):
            combined = None
            if single or browser is not None:
                combined = render_document(dossier, dossier.sheets, contents=True)
            if single:
                (staging / COMBINED).write_text(combined or "", encoding="utf-8")
            else:
                (staging / INDEX).write_text(render_document(dossier, [], index=True), encoding="utf-8")
                for name, sheet, pid in zip(dossier.files, dossier.sheets, dossier.parcel_ids, strict=True):
                    (staging / name).write_text(render_document(dossier, [sheet], title=f"{pid} · {dossier.title}"),
                                                encoding="utf-8")
        if browser is not None:
            with stage("Printing the PDF"):
                source = staging / COMBINED
                if not single:
                    source = staging / ".print.html"
                    source.write_text(combined or "", encoding="utf-8")
                print_pdf(source, staging / PDF, browser=browser, pages=len(dossier.sheets))
                if not single:
                    source.unlink()
        record = {"landkit_version": landkit.__version__, "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
                  "run": dossier.run, "run_id": dossier.run_id, "year": dossier.year, "lang": dossier.lang,
                  "parcels": dossier.parcel_ids, "files": names}
        (staging / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    written = [out_dir / (COMBINED if single else INDEX)]
    if browser is not None:
        written.append(out_dir / PDF)
    return written


# --- printing ---------------------------------------------------------------------------------------------


def find_browser() -> str:
    """Return the Chromium that prints the PDF: the first of :data:`BROWSERS` on PATH.

    Raises
    ------
    OutputError
        If there is none.
    """
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise OutputError(_("--pdf needs Chromium, and none is installed (chromium, chromium-browser or google-chrome on "
                        "PATH); install it (Debian: apt-get install chromium) or leave out --pdf"))


def print_pdf(html: Path, pdf: Path, *, browser: str, pages: int = 1) -> Path:
    """Print ``html`` to ``pdf`` with one call of headless Chromium, offline (A4, the page's own margins).

    Parameters
    ----------
    html : Path
        A self-contained page (landkit's own: no script, nothing outside itself).
    pdf : Path
        The PDF to write.
    browser : str
        The Chromium executable (:func:`find_browser`).
    pages : int
        The pages expected, for the time allowed.

    Raises
    ------
    OutputError
        If Chromium fails, takes too long, or writes no PDF.
    """
    timeout = 120 + 0.5 * pages
    with tempfile.TemporaryDirectory(prefix="landkit-chromium-") as profile:
        command = [
            browser, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            # the page is landkit's own file, without script: no sandbox (it cannot start as root with one)
            "--no-sandbox",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", "--print-to-pdf-no-header", f"--print-to-pdf={pdf}", Path(html).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                  env={**os.environ, "LANG": os.environ.get("LANG", "C.UTF-8")})
        except subprocess.TimeoutExpired:
            raise OutputError(_("{browser} took more than {seconds:.0f} s to print {path}; print fewer parcels at a time")
                              .format(browser=browser, seconds=timeout, path=html)) from None
        except OSError as exc:
            raise OutputError(_("{browser} cannot be started ({error}); install Chromium or leave out --pdf")
                              .format(browser=browser, error=exc.strerror or exc)) from None
    ok = pdf.exists() and pdf.stat().st_size > 0 and pdf.read_bytes()[:5] == b"%PDF-"
    if done.returncode != 0 or not ok:
        lines = [line for line in (done.stderr or "").splitlines() if line.strip() and "dbus" not in line.lower()]
        raise OutputError(_("{browser} could not print {path} ({error}); check that `{browser} --headless` runs here")
                          .format(browser=browser, path=html,
                                  error=(lines[-1].strip() if lines else f"exit code {done.returncode}")[:200]))
    return pdf
