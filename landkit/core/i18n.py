"""The language of landkit's command line: Chinese by default, English on request.

landkit's users are the planners of a Shanghai campaign, so its command line (``--help``, error
and warning lines, progress stages) speaks Chinese unless asked for English. The language is, in
order of precedence:

1. the ``--lang zh|en`` option of the ``landkit`` group (:func:`set_language`);
2. the environment variable ``LANDKIT_LANG`` (``zh`` or ``en``; another value is ignored);
3. the locale: the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set
   gives English when it starts with ``en`` (``en_US.UTF-8``), Chinese otherwise — also for
   ``C.UTF-8``, ``POSIX`` or no locale at all, which is what a fresh server or container has.

Messages are translated with GNU gettext (the standard library's :mod:`gettext`): the
catalogue ``landkit/locale/zh_CN/LC_MESSAGES/landkit.mo``, compiled from ``landkit.po`` next
to it by ``scripts/i18n.py``, whose msgids are the English texts exactly as written. English
needs no catalogue: a message is its own English text.

:func:`install_click_translations` makes click's own strings (``Usage:``, ``Error:``, the
messages of a missing option or an invalid value) follow the same language, and lets click wrap
Chinese help text at the terminal's width.
"""

from __future__ import annotations

import gettext as _gettext
import os
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

#: The gettext domain: the catalogue's file name.
DOMAIN = "landkit"
#: The languages of the command line; the first is the default.
LANGUAGES = ("zh", "en")
#: Where the compiled catalogues are (package data).
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
#: The gettext locale of each language that has a catalogue.
CATALOGUE_LOCALES = {"zh": "zh_CN"}
#: The locale variables read, in gettext's order of precedence.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

#: The language set by --lang (None: from the environment, read at each use).
_chosen: str | None = None


def normalise(value: str | None) -> str | None:
    """Return ``"zh"`` or ``"en"`` for a language name (``zh``, ``zh_CN``, ``en-US`` ...), else None."""
    value = (value or "").strip().lower()
    for language in LANGUAGES:
        if value.startswith(language):
            return language
    return None


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    """Return the language the environment asks for: ``LANDKIT_LANG``, else the locale, else Chinese.

    Parameters
    ----------
    environ : mapping, optional
        The environment (default: :data:`os.environ`).
    """
    environ = os.environ if environ is None else environ
    chosen = normalise(environ.get("LANDKIT_LANG"))
    if chosen is not None:
        return chosen
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "").split(":")[0].strip()
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return LANGUAGES[0]


def set_language(language: str | None) -> None:
    """Use ``language`` (``zh`` or ``en``) from now on; None goes back to the environment's.

    Raises
    ------
    ValueError
        For a language landkit does not speak.
    """
    global _chosen
    if language is not None and normalise(language) is None:
        raise ValueError(f"unknown language {language!r}; use one of {', '.join(LANGUAGES)}")
    _chosen = normalise(language)


def language() -> str:
    """Return the current language: the one set by :func:`set_language`, else the environment's."""
    return _chosen or detect_language()


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """Return the catalogue of ``language`` (English, or a missing catalogue: messages unchanged)."""
    locale = CATALOGUE_LOCALES.get(language)
    if locale is None:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[locale], fallback=True)


def gettext(message: str) -> str:
    """Return ``message`` (its English text, the msgid) in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the singular or plural form of a message for the count ``n``, in the current language."""
    return translations(language()).ngettext(singular, plural, n)


_ = gettext


# --- width of text in a terminal ------------------------------------------------------------------

#: No line starts with these (closing punctuation stays with the character before it).
_CLOSING = frozenset("，。、；：！？）》」』】〕…,.;:!?)%")
#: No line ends with these (opening punctuation stays with the character after it).
_OPENING = frozenset("（《「『【〔“‘(")
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def is_wide(char: str) -> bool:
    """Return True for a character a terminal shows two columns wide (CJK ideographs, full-width forms)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def display_width(text: str) -> int:
    """Return the columns ``text`` takes in a terminal (wide characters count two, ANSI escapes none)."""
    text = _ANSI.sub("", text)
    return sum(2 if is_wide(ch) else 1 for ch in text)


def wrap_chunks(text: str) -> list[str]:
    """Split text into the pieces a line may break between: every wide character is one, ASCII
    words stay whole, and closing (opening) punctuation stays with the piece before (after) it."""
    pieces: list[str] = []
    for char in text:
        if pieces and (char in _CLOSING or pieces[-1][-1] in _OPENING
                       or not (is_wide(char) or is_wide(pieces[-1][-1]))):
            pieces[-1] += char
        else:
            pieces.append(char)
    return pieces


# --- click ------------------------------------------------------------------------------------------

#: The click modules whose messages are marked with gettext's ``_`` and ``ngettext``.
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils",
                 "shell_completion")


def install_click_translations() -> None:
    """Make click speak the current language and wrap Chinese help text at the terminal's width.

    click marks its messages with the standard ``gettext`` functions, bound as ``_`` and
    ``ngettext`` in each of its modules (domain ``messages``); they are rebound to
    :func:`gettext` and :func:`ngettext`, whose catalogue holds click's msgids too. For the help
    layout, widths are measured in terminal columns (:func:`display_width`) and lines may break
    between Chinese characters (:func:`wrap_chunks`). Idempotent. Call it once the commands are
    defined: click translates some default help texts when a command is declared.
    """
    import importlib

    for name in CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        for attr, function in (("_", gettext), ("ngettext", ngettext)):
            if hasattr(module, attr):
                setattr(module, attr, function)
    _install_click_wrapping()


def _install_click_wrapping() -> None:
    """Measure help text in terminal columns and break lines between Chinese characters."""
    from click import _textwrap, formatting

    if getattr(_textwrap.TextWrapper, "landkit_cjk", False):
        return
    base = _textwrap.TextWrapper

    class CJKTextWrapper(base):  # type: ignore[misc, valid-type]
        """click's text wrapper, breaking lines between Chinese characters too."""

        landkit_cjk = True

        def _split(self, text: str) -> list[str]:
            chunks: list[str] = []
            for chunk in super()._split(text):
                chunks.extend(wrap_chunks(chunk) if any(is_wide(ch) for ch in chunk) else [chunk])
            return chunks

    _textwrap.TextWrapper = CJKTextWrapper  # type: ignore[misc]
    _textwrap.term_len = display_width  # type: ignore[attr-defined,assignment]
    formatting.term_len = display_width  # type: ignore[attr-defined,assignment]
