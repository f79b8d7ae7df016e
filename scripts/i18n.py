"""Update, compile and check landkit's message catalogue (the Chinese command line).

    .venv/bin/python scripts/i18n.py            # update, then compile, then check (the usual)
    .venv/bin/python scripts/i18n.py update     # extract every message, merge into landkit.po
    .venv/bin/python scripts/i18n.py compile    # landkit.po → landkit.mo (shipped as package data)
    .venv/bin/python scripts/i18n.py check      # list what has no translation yet (exit 1 if any)

Messages come from three places, all in English as written (the msgids):

* landkit's code: ``_("...")`` / ``ngettext(...)`` calls, and the names of progress stages
  (``stage("read")``, ``record_stage(stage, "workbook", s)``), found by ``pybabel extract``;
* the help of every command and option, found by walking the click command tree
  (:func:`landkit.cli.main.help_texts`): docstrings are not ``_()``-wrapped;
* click's own strings (``Usage:``, ``Error: {message}``, ...), found by ``pybabel extract`` in
  the installed click.

``update`` writes them into a template in a temporary folder and runs ``pybabel update`` on
``landkit/locale/zh_CN/LC_MESSAGES/landkit.po``: a new message gets an empty translation, a
changed one a *fuzzy* guess (its previous msgid kept as ``#|``). Translate those (and remove the
``#, fuzzy`` line), then run the script again: ``compile`` skips untranslated and fuzzy entries,
and ``check`` (also run by the tests) names every one left. Needs Babel (``pip install -e
'.[test]'``).
"""

from __future__ import annotations

import argparse
import string
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "landkit" / "locale"
DOMAIN = "landkit"
LOCALE = "zh_CN"
PO = LOCALE_DIR / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
#: Calls whose string arguments are messages, beyond gettext's own: progress stage names. Each set is
#: extracted apart: in ``record_stage(stage, "workbook", s)`` babel would take ``stage`` for a call.
KEYWORDS = (("stage",), ("record_stage:2",))
HOW_TO_FIX = (f"run `.venv/bin/python scripts/i18n.py update`, translate the entries it lists in "
              f"{PO.relative_to(ROOT)} (and delete their `#, fuzzy` lines), then `.venv/bin/python scripts/i18n.py`")


def pybabel(*args: str, cwd: Path = ROOT) -> None:
    """Run ``pybabel`` (Babel's command line) with this interpreter."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "--quiet", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)


def extract_code(folder: Path) -> Catalog:
    """Extract the messages of landkit's code (``_()`` calls and stage names) with ``pybabel extract``."""
    catalog = Catalog()
    for index, keywords in enumerate(KEYWORDS):
        output = folder / f"code-{index}.pot"
        defaults = [] if index == 0 else ["--no-default-keywords"]
        pybabel("extract", *defaults, *[arg for keyword in keywords for arg in ("-k", keyword)],
                "--add-location=file", "--sort-by-file", "-o", str(output), "landkit")
        merge(catalog, _read(output))
    return catalog


def extract_click(output: Path) -> Catalog:
    """Extract click's own messages from the installed click with ``pybabel extract``."""
    import click

    folder = Path(click.__file__).resolve().parent
    pybabel("extract", "--add-location=file", "--sort-by-file", "-o", str(output), folder.name,
            cwd=folder.parent)
    return _read(output)


def help_catalog() -> Catalog:
    """The help texts of every command and option, walked from the click tree."""
    from landkit.cli.main import cli, help_texts

    catalog = Catalog()
    for msgid, where in help_texts(cli):
        message = catalog.get(msgid)
        if message is None:
            catalog.add(msgid, auto_comments=[f"help: {where}"])
        elif len(message.auto_comments) < 3:
            message.auto_comments.append(f"help: {where}")
    return catalog


def template(folder: Path) -> Catalog:
    """Return (and write to ``folder/landkit.pot``) the template of every message: code, help, click."""
    from landkit import __version__

    catalog = Catalog(project="landkit", version=__version__, copyright_holder="landkit developers", fuzzy=False)
    for part in (extract_code(folder), help_catalog(), extract_click(folder / "click.pot")):
        merge(catalog, part)
    with open(folder / f"{DOMAIN}.pot", "wb") as out:
        write_po(out, catalog, width=100)
    return catalog


def merge(catalog: Catalog, other: Catalog) -> None:
    """Add ``other``'s messages to ``catalog`` (a message in both keeps all its locations and comments)."""
    for message in other:
        if not message.id:
            continue
        known = catalog.get(message.id, context=message.context)
        if known is None:
            catalog.add(message.id, locations=message.locations, flags=message.flags - {"fuzzy"},
                        auto_comments=message.auto_comments, context=message.context)
        else:
            known.locations += [loc for loc in message.locations if loc not in known.locations]
            known.auto_comments += [c for c in message.auto_comments if c not in known.auto_comments]
            known.flags |= message.flags - {"fuzzy"}


def _messages(catalog: Catalog) -> dict:
    """What a catalogue says of its messages, translations aside: ids, where they are, flags."""
    return {(m.id, m.context): (sorted(m.locations), m.auto_comments, sorted(m.flags - {"fuzzy"}))
            for m in catalog if m.id}


def update() -> None:
    """Extract every message and merge it into landkit.po (created if missing; unchanged if up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = template(Path(tmp))
        if PO.exists() and _messages(pot) == _messages(_read(PO)):
            print(f"{PO.relative_to(ROOT)} is up to date")
            return
        pybabel("update", "--init-missing", "--ignore-obsolete", "--previous", "-w", "100",
                "-i", str(Path(tmp) / f"{DOMAIN}.pot"), "-d", str(LOCALE_DIR), "-D", DOMAIN, "-l", LOCALE)
    print(f"Updated {PO.relative_to(ROOT)}")


def compile_catalogue(po: Path = PO, mo: Path = MO) -> None:
    """Compile ``po`` into ``mo`` with ``pybabel compile`` (untranslated and fuzzy entries left out)."""
    pybabel("compile", "-l", LOCALE, "-D", DOMAIN, "-i", str(po), "-o", str(mo))


def _read(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f, locale=LOCALE if path.suffix == ".po" else None)


def _fields(text: str) -> set[str] | None:
    """The ``{field}`` names of a ``str.format`` message (None if it is not one)."""
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return None


def _translations(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def _label(message) -> str:
    return repr(message.id if isinstance(message.id, str) else message.id[0])


def problems(expected: Catalog, po: Path = PO) -> list[str]:
    """Name every message of ``expected`` that ``po`` lacks, every entry of ``po`` untranslated or
    fuzzy, and every translation whose placeholders differ from its msgid's."""
    catalogue = _read(po)
    found = [f"missing (run the update): {_label(m)}" for m in expected
             if m.id and catalogue.get(m.id, context=m.context) is None]
    if catalogue.fuzzy:
        found.append("the catalogue's header is marked fuzzy (`pybabel compile` would skip it)")
    for entry in catalogue:
        if not entry.id:
            continue
        if entry.fuzzy:
            found.append(f"fuzzy: {_label(entry)}")
        elif not all(_translations(entry)):
            found.append(f"untranslated: {_label(entry)}")
        else:
            ids = [entry.id] if isinstance(entry.id, str) else list(entry.id)
            wanted = _fields(ids[-1])
            found.extend(f"placeholders {sorted(_fields(text) or [])} differ from {sorted(wanted)}: {_label(entry)}"
                         for text in _translations(entry)
                         if wanted is not None and "{" in ids[-1] and _fields(text) != wanted)
    for entry, errors in catalogue.check():
        found += [f"{error}: {_label(entry)}" for error in errors]
    return found


def check() -> int:
    """Print what has no translation yet; return the exit status (1 if anything)."""
    with tempfile.TemporaryDirectory() as tmp:
        found = problems(template(Path(tmp)))
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} message(s) need a translation: {HOW_TO_FIX}", file=sys.stderr)
        return 1
    print(f"{PO.relative_to(ROOT)}: every message is translated")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line of the script (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=("update", "compile", "check", "all"), default="all")
    action = parser.parse_args(argv).action
    if action in ("update", "all"):
        update()
    if action in ("compile", "all"):
        compile_catalogue()
        print(f"Compiled {MO.relative_to(ROOT)}")
    if action in ("check", "all"):
        return check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
