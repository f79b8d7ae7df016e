"""What the report's template shows: cells, tables, figures and sections; numbers formatted; tables
fitted to an A4 page (columns measured in em, split into groups that fit).
"""

from __future__ import annotations

import base64
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from landkit.core.schema import is_missing

if TYPE_CHECKING:

    pass


URL_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)", re.I)
ALLOWED_SCHEMES = ("http:", "https:", "file:")


# --- formatting ----------------------------------------------------------------------------------


def fmt_number(value: Any, decimals: int = 0) -> str:
    """Return ``value`` with thousands separators and ``decimals`` decimals; ``—`` when missing."""
    if is_missing(value):
        return "—"
    return f"{float(value):,.{decimals}f}"


def fmt_int(value: Any) -> str:
    """Return a count with thousands separators; ``—`` when missing."""
    return "—" if is_missing(value) else f"{round(float(value)):,}"


def fmt_pct(value: Any, decimals: int = 1) -> str:
    """Return a share (0.25) as a percentage (``25.0 %``); ``—`` when missing."""
    return "—" if is_missing(value) else f"{float(value) * 100:,.{decimals}f} %"


def fmt_share(value: Any, decimals: int = 1) -> str:
    """Return a share (0.25) in percent without the sign (``25.0``), for a column headed ``(%)``.

    Parameters
    ----------
    value : float
        A share of one (0.25 is a quarter).
    decimals : int
        Decimals of the percentage.

    Returns
    -------
    str
        The percentage with thousands separators, or ``—`` when missing.
    """
    return "—" if is_missing(value) else f"{float(value) * 100:,.{decimals}f}"


def fmt_change(value: Any, decimals: int = 0) -> str:
    """Return a change with its sign (``+2.4``, ``-687``); zero has none; ``—`` when missing.

    Parameters
    ----------
    value : float
        The change (after − before).
    decimals : int
        Decimals shown.

    Returns
    -------
    str
        E.g. ``+1,234.5``; a change that rounds to zero is ``0`` (or ``0.0`` …) without a sign.
    """
    if is_missing(value):
        return "—"
    shown = f"{float(value):+,.{decimals}f}"
    return shown[1:] if float(shown.replace(",", "")) == 0 else shown


def auto_decimals(values: Iterable[Any]) -> int:
    """Return the decimals that show figures of this size sensibly: fewer for larger figures.

    The largest magnitude decides, so a column (or a before/after pair) shares one format:
    ≥ 100 → 0 decimals (``2,618``), ≥ 10 → 1 (``82.2``), ≥ 1 → 2 (``9.91``), smaller → 3
    (``0.061``). No finite value → 0.

    Parameters
    ----------
    values : iterable of float
        The figures shown together.

    Returns
    -------
    int
        0, 1, 2 or 3.
    """
    finite = [abs(float(v)) for v in values if not is_missing(v) and math.isfinite(float(v))]
    if not finite:
        return 0
    largest = max(finite)
    if largest >= 100:
        return 0
    if largest >= 10:
        return 1
    if largest >= 1:
        return 2
    return 3 if largest > 0 else 0


# --- what the template shows ---------------------------------------------------------------------


class Cell:
    """A table cell: its text (plain, escaped by the template), a CSS class and a colour swatch.

    Parameters
    ----------
    text : any
        The value shown (``str()`` of it; nothing when missing).
    cls : str
        CSS class of the cell (``num``, ``nowrap``, ``name``, ``met`` …).
    swatch : str
        A colour (``#1a9641``) drawn as a small square before the text; none when empty.
    """

    __slots__ = ("cls", "swatch", "text")

    def __init__(self, text: Any = "", *, cls: str = "", swatch: str = "") -> None:
        self.text, self.cls, self.swatch = text, cls, swatch

    @property
    def shown(self) -> str:
        """The text shown: ``str()`` of the value, empty when it is missing."""
        return "" if is_missing(self.text) else str(self.text)


def num(text: str) -> Cell:
    """Return a cell of a figure (right-aligned, on one line)."""
    return Cell(text, cls="num")


class TablePart(NamedTuple):
    """One printed table: a whole table, or one part of a table split to fit the page (:func:`table_piece`)."""

    caption: str
    cls: str
    head: list[Cell]
    rows: list[list[Cell]]
    total: list[Cell] | None


class Figure(NamedTuple):
    """A chart: a PNG as a data URI, and its caption (also its alternative text)."""

    src: str
    alt: str


class Card(NamedTuple):
    """A headline figure: its key and exact value (``data-*`` attributes), label, text shown and unit."""

    key: str
    label: str
    value: str
    shown: str
    unit: str


class Link(NamedTuple):
    """A link to a map."""

    title: str
    href: str


class Piece(NamedTuple):
    """One piece of a section, shown by the template's macro of its ``kind``.

    ``content`` is a text (``heading``: an ``<h3>``, ``note``, ``paragraph``), a list of
    :class:`TablePart` (``table``), a :class:`Figure`, a list of :class:`Card` (``headline``)
    or a list of :class:`Link` (``links``).
    """

    kind: Literal["heading", "note", "paragraph", "table", "figure", "headline", "links"]
    content: Any


class Section(NamedTuple):
    """A section of the report: its anchor, its title (heading and entry in the contents) and pieces.

    ``major`` sections start a printed page.
    """

    id: str
    title: str
    pieces: list[Piece]
    major: bool = True


def heading(text: str) -> Piece:
    """Return a sub-heading (``<h3>``)."""
    return Piece("heading", text)


def note(text: str) -> Piece:
    """Return a note (small grey paragraph)."""
    return Piece("note", text)


# --- fitting tables on A4 ------------------------------------------------------------------------
#
# A table wider than the printable width is cut off when printed: Chromium clips it at the edge
# of the page area. So each table is measured before it is written, from how narrow its columns
# can get (the widest word of a wrapping cell, the whole text of a number or a name kept on one
# line), with Latin characters as wide as in DejaVu Sans and CJK at 1 em; a table that does not
# fit A4 portrait is split into two (or more) tables, its first ``keys`` columns repeated in each.
# Portrait throughout, rather than landscape pages for wide tables: the report reads, prints and
# binds in one orientation, and on screen, at the same width, as it prints.

#: CSS pixels per millimetre.
PX_PER_MM = 96 / 25.4
#: The printable width of A4 portrait: 210 mm less the ``@page`` margins (12 mm a side). The
#: body has the same width on screen.
PRINT_WIDTH_MM = 186.0
#: Width a table may take (px): the printable width less 3 % for fonts wider than assumed.
TABLE_WIDTH_PX = PRINT_WIDTH_MM * PX_PER_MM * 0.97
#: Font size of table text (px): 9 pt, and 8 pt in tables of class ``wide``.
TABLE_FONT_PX = {"": 9 * 96 / 72, "wide": 8 * 96 / 72}
#: Left and right padding of a cell (px): 1.5 mm each.
CELL_PADDING_PX = 2 * 1.5 * PX_PER_MM
#: Width of a colour swatch and its margin (px).
SWATCH_PX = 4.5 * PX_PER_MM + 2
#: Texts of a table column no wider than this (em) are kept on one line (names, codes).
SHORT_TEXT_EM = 8.0
#: Bold (headers, totals) is this much wider.
BOLD = 1.1
#: Break opportunities inside a wrapping text: after a space or a hyphen (not one before a digit),
#: and around each CJK character (a CJK text breaks between any two characters).
CJK_RANGES = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
TOKEN = re.compile(rf"[(（“《「]?[{CJK_RANGES}][)）”》」,，.。;；:：、%]?|(?:[^\s{CJK_RANGES}-]|-(?=\d))+-?|-")


def char_em(char: str) -> float:
    """Return an estimate of a character's width in em: CJK 1, Latin as in DejaVu Sans (``i`` 0.3, ``m`` 0.9 …).

    The Latin widths lie between those of the CJK fonts' own Latin letters (WenQuanYi Micro Hei,
    Noto Sans CJK) and DejaVu Sans, the widest sans-serif a report is likely to be set in.
    """
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char in "mwMW%@—":
        return 0.9
    if char in "ijlI.,:;'|!()[] ":
        return 0.3
    if char in "frt-/":
        return 0.4
    if char.isdigit():
        return 0.62
    return 0.7 if char.isupper() else 0.56


def text_em(text: str) -> float:
    """Return an upper estimate of a text's width in em, on one line."""
    return sum(char_em(c) for c in text)


def min_text_em(text: str, *, wrap: bool = True) -> float:
    """Return an upper estimate (em) of how narrow a text can be set: its widest unbreakable piece."""
    if not wrap:
        return text_em(text)
    return max((text_em(token) for token in TOKEN.findall(text)), default=0.0)


def plain_text(cell: Cell) -> str:
    """Return a cell's text, as shown."""
    return cell.shown


def cell_min_px(cell: Cell, font_px: float, *, bold: bool = False, header: bool = False) -> float:
    """Return an upper estimate (px) of the narrowest a cell can be: headers wrap, numbers do not."""
    wrap = header or cell.cls not in ("num", "nowrap")
    text = plain_text(cell).replace("(", " (") if header else plain_text(cell)  # <wbr>( in headers
    width = min_text_em(text, wrap=wrap) * font_px * (BOLD if bold else 1.0)
    if cell.cls == "name":
        width = max(width, 6.5 * font_px)  # td.name { min-width: 6.5em }
    if cell.swatch:
        width += SWATCH_PX
    return width + CELL_PADDING_PX


def column_min_px(headers: Sequence[Cell], rows: Sequence[Sequence[Cell]], total: Sequence[Cell] | None,
                  font_px: float) -> list[float]:
    """Return each column's least width (px), over its header, rows and total row."""
    widths = [cell_min_px(h, font_px, bold=True, header=True) for h in headers]
    lines = [(row, False) for row in rows] + ([(total, True)] if total is not None else [])
    for row, bold in lines:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_min_px(cell, font_px, bold=bold))
    return widths


def first_fit(widths: Sequence[float], room: float) -> list[list[int]]:
    """Consecutive groups of column positions, each as wide as ``room`` at most (or one column)."""
    groups: list[list[int]] = []
    used = room + 1.0
    for i, width in enumerate(widths):
        if used + width > room:
            groups.append([])
            used = 0.0
        groups[-1].append(i)
        used += width
    return groups


def column_groups(widths: Sequence[float], keys: int = 1, limit: float = TABLE_WIDTH_PX) -> list[list[int]]:
    """Return the columns of each table a wide table is split into (indices, the keys first in each).

    Parameters
    ----------
    widths : sequence of float
        Each column's least width (px).
    keys : int
        Leading columns repeated in every part (the row's name: block id and name …).
    limit : float
        The width a table may take (px).

    Returns
    -------
    list of list of int
        One list (all columns) when the table fits. Else as few parts as fit, the other columns
        in order and shared out evenly (two parts of four columns, not one of seven and one of
        one); a column wider than the room left goes alone.
    """
    keys = min(keys, len(widths))
    if sum(widths) <= limit or len(widths) <= keys + 1:
        return [list(range(len(widths)))]
    rest = list(widths[keys:])
    room = max(limit - sum(widths[:keys]), max(rest))
    parts = len(first_fit(rest, room))
    low, high = max(rest), room  # the narrowest room that still needs no more parts: bisect
    for _ in range(30):
        middle = (low + high) / 2
        if len(first_fit(rest, middle)) <= parts:
            high = middle
        else:
            low = middle
    return [[*range(keys), *(keys + i for i in group)] for group in first_fit(rest, high)]


def to_cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def table_piece(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, total: Sequence[Any] | None = None,
           caption: str = "", cls: str = "", keys: int = 1, continued: str = "") -> Piece:
    """Return a table, split into several when it would not fit the printed page.

    Parameters
    ----------
    headers, rows, total : sequences of str or Cell
        Header cells, body rows and an optional total row (shown bold, last).
    caption : str
        Caption of the (first) table.
    cls : str
        CSS class of the table(s) (``wide``: smaller type).
    keys : int
        Leading columns repeated in each part of a split table.
    continued : str
        Caption of the parts after the first (e.g. 续表).

    Returns
    -------
    Piece
        A ``table`` piece: one :class:`TablePart` per printed table, the keys first in each.
    """
    head = [to_cell(h) for h in headers]
    body = [[to_cell(v) for v in row] for row in rows]
    last = None if total is None else [to_cell(v) for v in total]
    font_px = TABLE_FONT_PX["wide" if "wide" in cls.split() else ""]
    groups = column_groups(column_min_px(head, body, last, font_px), keys)
    parts = []
    for n, group in enumerate(groups):
        title = caption if n == 0 else (f"{caption} ({continued})" if caption else continued)
        parts.append(TablePart(title, cls, [head[i] for i in group], [[row[i] for i in group] for row in body],
                               None if last is None else [last[i] for i in group]))
    return Piece("table", parts)


def figure_piece(png: bytes | None, alt: str) -> Piece | None:
    """Return a chart (a PNG) with its caption, or None without one."""
    if not png:
        return None
    return Piece("figure", Figure("data:image/png;base64," + base64.b64encode(png).decode("ascii"), alt))


def checked_href(href: str) -> str:
    """Refuse map links that would run code (``javascript:``, ``data:`` …)."""
    scheme = URL_SCHEME.match(re.sub(r"[\x00-\x20]", "", href))  # browsers drop tabs and newlines in URLs
    if scheme and scheme.group(0).lower() not in ALLOWED_SCHEMES:
        raise ValueError(f"map link {href!r}: only relative paths, file:, http: and https: links are allowed")
    return href
