#!/usr/bin/env python
"""Benchmark of the run's workbook (``inventory.xlsx``): the writer alone, on the sheets of one run.

A synthetic city (``--parcels``, default 50,000; generated with the sample generator, or reused
from ``--cities DIR``) is assessed once; the sheets ``landkit assess`` writes
(:func:`landkit.deliver.sheets.workbook_sheets`, long sheets replaced by their note as
:func:`landkit.deliver.writer.write_workbook` does) are then written by each writer ``--repeat`` times
(median), in this one process:

* ``xlsxwriter``: :func:`landkit.deliver.workbook.write_excel`, ``engine="xlsxwriter"``: XlsxWriter
  in constant-memory mode (the writer before rustpy, and the fallback), the reference of the ratios;
* ``pyexcelerate``: PyExcelerate on the same prepared sheets (:func:`landkit.deliver.workbook.excel_sheets`);
* ``rustpy``: :func:`landkit.deliver.workbook.write_excel`, ``engine="rust"``: rustpy-xlsxwriter (Rust
  ``rust_xlsxwriter``) on the same prepared sheets, as Arrow tables.

The writers take turns (round robin), so a change in the machine's load falls on all alike.
``--gil`` also times each writer in a thread while the main thread runs a CPU-bound pure-Python
loop, against each alone: a writer that releases the GIL leaves the loop (nearly) as fast as alone.
``--check`` opens each workbook with openpyxl (headers, the first rows and the rows holding the
injected hostile text of every sheet, against the shown values) and, where ``soffice`` is
installed, has LibreOffice convert a sheet to CSV. Writers whose package is not installed are
skipped (``pip install pyexcelerate rustpy-xlsxwriter``).

    python scripts/bench_workbook.py [--parcels 50000] [--cities /tmp/cities] [--repeat 3] [--gil] [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: Text a spreadsheet would run, put in the first rows of a text column of the first sheet (and a too long text).
HOSTILE = ["=1+1", "+A1", "-2", "@SUM(A1)", "\t=2", "{=1+1}", "http://evil.example/a", "y" * 40_000]


# --- the sheets -------------------------------------------------------------------------------------


def run_sheets(parcels: int, cities: Path | None, tmp: Path) -> dict:
    """Return the sheets of a run on a city of ``parcels`` (with the labels, values and language of the workbook)."""
    sys.path.insert(0, str(HERE))
    from make_sample import write_city

    from landkit.config.load import load_config
    from landkit.data.dataset import load_dataset
    from landkit.deliver.labels import labels_for, value_labels
    from landkit.deliver.sheets import MAX_SHEET_ROWS, workbook_sheets
    from landkit.pipeline import assess

    folder = (cities or tmp) / f"city{parcels}"
    cache = folder / "workbook_sheets.pkl"
    if cities is not None and cache.exists():
        return pickle.loads(cache.read_bytes())
    project_file = folder / "minhang.yaml"
    if not project_file.exists():
        project_file = write_city(parcels, folder)
    project = load_config(project_file)
    result = assess(load_dataset(project), project)
    sheets = {}
    for name, frame in workbook_sheets(project, result).items():
        if len(frame) > MAX_SHEET_ROWS:  # written to CSV by write_workbook; the sheet holds a note
            frame = pd.DataFrame({"说明": [f"共 {len(frame):,} 行"]})
        sheets[name] = frame
    run = {"sheets": sheets, "labels": labels_for(project), "values": value_labels(project, project.map.lang),
           "lang": project.map.lang}
    if cities is not None:
        cache.write_bytes(pickle.dumps(run))
    return run


def with_hostile(sheets: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], str, int]:
    """Return the sheets with :data:`HOSTILE` in the first rows of a text column of the first long sheet."""
    from landkit.deliver.workbook import _is_text, _plain

    sheets = dict(sheets)
    name = max(sheets, key=lambda n: len(sheets[n]))
    frame = _plain(sheets[name]).copy()
    c = next(i for i in range(1, frame.shape[1]) if _is_text(frame.iloc[:, i]))
    texts = frame.iloc[:, c].astype(object).to_numpy().copy()
    texts[: len(HOSTILE)] = HOSTILE
    frame.isetitem(c, pd.Series(texts, index=frame.index, dtype=object))
    sheets[name] = frame
    return sheets, name, c


# --- the writers ------------------------------------------------------------------------------------


def pyexcelerate_writer(path: Path, sheets, labels, *, lang, values) -> Path:
    """PyExcelerate on landkit's prepared sheets. It has no print setup (landscape, fit to width,
    repeated header, footer): those are not written. A string starting with ``=`` is a formula to
    it, so the header row and the hostile cells carry an explicit string data type."""
    from pyexcelerate import Alignment, Color, Fill, Font, Format, Panes, Style, Workbook
    from pyexcelerate.Border import Border
    from pyexcelerate.Borders import Borders
    from pyexcelerate.DataTypes import DataTypes

    from landkit.deliver.workbook import excel_sheets

    book = Workbook()
    line = Border(style="thin")
    head = Style(font=Font(bold=True), fill=Fill(background=Color(0xDD, 0xEB, 0xF7)),
                 alignment=Alignment(vertical="center", wrap_text=True), borders=Borders(line, line, line, line),
                 size=30, data_type=DataTypes.INLINE_STRING)
    for sheet in excel_sheets(sheets, labels, lang=lang, values=values):
        rows = [list(sheet.heads), *map(list, sheet.rows())]
        ws = book.new_sheet(sheet.name, data=rows)
        ws.set_row_style(1, head)
        for c, (fmt, width) in enumerate(zip(sheet.formats, sheet.widths, strict=True), start=1):
            ws.set_col_style(c, Style(size=width, format=Format(fmt) if fmt else None))
        for c, flagged in sheet.quoted.items():
            style = Style(quote_prefix=True, data_type=DataTypes.INLINE_STRING)
            for r in flagged.tolist():
                ws.set_cell_style(r + 2, c + 1, style)
        ws.panes = Panes(0, 1)
        ws.auto_filter = True
    book.save(str(path))
    return path


def writers() -> dict[str, Callable]:
    from functools import partial

    from landkit.deliver.workbook import write_excel

    out: dict[str, Callable] = {"xlsxwriter": partial(write_excel, engine="xlsxwriter")}
    if importlib.util.find_spec("pyexcelerate"):
        out["pyexcelerate"] = pyexcelerate_writer
    if importlib.util.find_spec("rustpy_xlsxwriter"):
        out["rustpy"] = partial(write_excel, engine="rust")
    return out


# --- timing -----------------------------------------------------------------------------------------


def spin(n: int) -> int:
    """A CPU-bound pure-Python loop (holds the GIL)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def loop_rate(seconds: float = 2.0, chunk: int = 200_000) -> float:
    """Iterations a second of :func:`spin` alone."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        spin(chunk)
        done += chunk
    return done / (time.perf_counter() - start)


def gil_test(write: Callable[[], object], chunk: int = 200_000) -> dict[str, float]:
    """The writer in a thread while the main thread runs :func:`spin` until it ends: the writer's
    wall time and the loop's iterations a second meanwhile."""
    seconds: dict[str, float] = {}

    def in_thread() -> None:
        seconds["writer"] = timed(write)

    thread = threading.Thread(target=in_thread)
    done, start = 0, time.perf_counter()
    thread.start()
    while thread.is_alive():
        spin(chunk)
        done += chunk
    thread.join()
    seconds["rate"] = done / (time.perf_counter() - start)
    return seconds


# --- checks -----------------------------------------------------------------------------------------


def check(path: Path, run: dict, hostile_sheet: str, hostile_col: int, rows: int = 200) -> list[str]:
    """Return what differs between a written workbook and the shown values (headers, first rows, hostile rows)."""
    from openpyxl import load_workbook

    from landkit.deliver.workbook import EXCEL_TEXT_MAX, excel_sheets

    problems = []
    book = load_workbook(path, read_only=True)
    if book.sheetnames != [n[:31] for n in run["sheets"]]:
        problems.append(f"sheet names {book.sheetnames}")
    for sheet in excel_sheets(run["sheets"], run["labels"], lang=run["lang"], values=run["values"]):
        ws = book[sheet.name]
        got = [[c for c in r] for r in ws.iter_rows(min_row=1, max_row=rows + 1)]
        if [c.value for c in got[0]] != sheet.heads:
            problems.append(f"{sheet.name}: header")
        want = [list(r) for _, r in zip(range(rows), sheet.rows(), strict=False)]  # the first rows
        for i, (row, expect) in enumerate(zip(got[1:], want, strict=False), start=2):
            values = [c.value for c in row] + [None] * (len(expect) - len(row))
            for c, (v, e) in enumerate(zip(values, expect, strict=False)):
                same = (v == e or (e == "" and v is None) or (isinstance(e, float) and isinstance(v, (int, float)) and abs(v - e) <= 1e-9 * max(1, abs(e)))
                        or (isinstance(e, str) and isinstance(v, str) and v.replace("_x000D_", "\r") == e))
                if not same and not (isinstance(e, float) and not np.isfinite(e)):
                    problems.append(f"{sheet.name}!R{i}C{c + 1}: {str(v)[:30]!r} != {str(e)[:30]!r}")
                    break
        if len(got) - 1 != min(rows, len(sheet.table)):
            problems.append(f"{sheet.name}: {len(got) - 1} rows read")
        if sheet.name == hostile_sheet:
            for i, text in enumerate(HOSTILE, start=2):
                cell = got[i - 1][hostile_col]
                expect = text[:EXCEL_TEXT_MAX]
                if cell.data_type != "s" or (cell.value or "").replace("_x000D_", "\r") != expect:
                    problems.append(f"hostile {text[:20]!r} read as {cell.data_type} {str(cell.value)[:20]!r}")
                elif text.startswith(("=", "+", "-", "@", "\t")) and not cell.style_array.quotePrefix:
                    problems.append(f"hostile {text[:20]!r}: no quote prefix")
    book.close()
    return problems


def print_setup(path: Path) -> dict[str, bool]:
    """Which of the print setup, frozen header and filter the first sheet's XML holds."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        book = z.read("xl/workbook.xml").decode()
    return {"frozen": 'state="frozen"' in xml, "filter": "<autoFilter" in xml, "landscape": 'orientation="landscape"' in xml,
            "fit width": 'fitToHeight="0"' in xml, "repeat header": "Print_Titles" in book, "footer": "<oddFooter>" in xml}


def libreoffice(path: Path, out: Path) -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return "soffice not installed"
    done = subprocess.run([soffice, "--headless", "--convert-to", "csv", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=600)
    csv = out / (path.stem + ".csv")
    return f"ok, {csv.stat().st_size:,} bytes of CSV" if csv.exists() else f"failed: {done.stderr.strip()[:200]}"


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=50_000, help="parcels of the synthetic city (default 50,000)")
    parser.add_argument("--cities", type=Path, help="folder to keep generated cities (and their sheets) in and reuse them from")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each writer (the median is shown; default 3)")
    parser.add_argument("--only", nargs="+", help="writers to run (names as printed)")
    parser.add_argument("--gil", action="store_true", help="also time each writer in a thread beside a pure-Python loop")
    parser.add_argument("--check", action="store_true", help="open each workbook with openpyxl (and LibreOffice) and check it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        run = run_sheets(args.parcels, args.cities, tmp)
        run["sheets"], hostile_sheet, hostile_col = with_hostile(run["sheets"])
        cells = sum(f.shape[0] * f.shape[1] for f in run["sheets"].values())
        print(f"{len(run['sheets'])} sheets, {sum(len(f) for f in run['sheets'].values()):,} rows, {cells:,} cells "
              f"({time.perf_counter() - start:.1f} s to get them)")
        kw = {"lang": run["lang"], "values": run["values"]}
        chosen = {n: w for n, w in writers().items() if not args.only or n.split(" ")[0] in args.only}
        results: dict[str, dict] = {}
        paths = {name: tmp / f"{name.split(' ')[0]}.xlsx" for name in chosen}

        def once(name: str) -> object:
            return chosen[name](paths[name], run["sheets"], run["labels"], **kw)

        for round_ in range(args.repeat):  # round robin: a change in the machine's load falls on every writer alike
            for name in list(chosen):
                try:
                    seconds = timed(lambda name=name: once(name))
                except Exception as e:
                    print(f"{name}: {type(e).__name__}: {e}")
                    del chosen[name]
                    continue
                results.setdefault(name, {"runs": [], "path": paths[name]})["runs"].append(seconds)
                print(f"round {round_ + 1}: {name:>18} {seconds:.2f} s", flush=True)
        for name, r in results.items():
            r["median"], r["size"] = statistics.median(r["runs"]), r["path"].stat().st_size
            if args.gil:
                r["loop_alone"] = loop_rate()
                r["gil"] = gil_test(lambda name=name: once(name))
                print(f"{name:>18} in a thread: {r['gil']['writer']:.2f} s", flush=True)

        reference = next(iter(results.values()))["median"] if results else float("nan")
        print(f"\n{'writer':>18} {'median s':>9} {'ratio':>7} {'MB':>6}"
              + (f" {'in thread s':>12} {'loop beside/alone':>18}" if args.gil else ""))
        for name, r in results.items():
            line = f"{name:>18} {r['median']:>9.2f} {r['median'] / reference:>7.2f} {r['size'] / 1e6:>6.1f}"
            if args.gil:
                line += f" {r['gil']['writer']:>12.2f} {r['gil']['rate'] / r['loop_alone']:>18.0%}"
            print(line)
        print("(ratio: median / the first writer's; in thread s: the writer's wall time in a thread beside a "
              "pure-Python loop; loop beside/alone: the loop's speed meanwhile, against alone)" if args.gil else
              "(ratio: median / the first writer's)")

        if args.check:
            print()
            for name, r in results.items():
                problems = check(r["path"], run, hostile_sheet, hostile_col)
                setup = print_setup(r["path"])
                missing = [k for k, v in setup.items() if not v]
                print(f"{name:>18}: {'values ok' if not problems else '; '.join(problems[:6])}; "
                      f"{'print setup, frozen header, filter ok' if not missing else 'lacks ' + ', '.join(missing)}; "
                      f"LibreOffice: {libreoffice(r['path'], tmp / name.split(' ')[0])}")


if __name__ == "__main__":
    main()
