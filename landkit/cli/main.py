"""The `landkit` command group: logging, version, language, and the one place errors become messages.

Library errors (:class:`landkit.core.errors.LandkitError`) become one line on stderr and exit code 1;
click's usage errors exit 2; a traceback is shown only with ``-vv``.

The command line speaks Chinese unless asked for English (``--lang en``, ``LANDKIT_LANG=en`` or
an English locale: see :mod:`landkit.core.i18n`). The commands' help texts are written in English in
their modules; :func:`localize` translates them all here, in one place, each time the command
line starts, so no command module needs to know about languages.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import logging
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import click

from landkit import __version__
from landkit.core.errors import LandkitError
from landkit.core.i18n import LANGUAGES, _, display_width, install_click_translations, language, set_language

log = logging.getLogger("landkit")

VERBOSE_HELP = "More log output (-vv: debug and tracebacks)."
QUIET_HELP = "Less output: errors only."
LANG_HELP = "Language of the command line: zh (Chinese, the default) or en; also LANDKIT_LANG=en."


class LandkitGroup(click.Group):
    """A click group that reports library errors in one line at a single place, in the user's language."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the group's options, having chosen the language of everything shown from here on."""
        if ctx.parent is None:  # the command line starts: choose its language before anything is shown
            set_language(_lang_before_command(args))
            localize(self)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the commands' names, loaded or not (sorted, as click lists them)."""
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return the command ``name``, its module imported the first time it is asked for.

        Commands load lazily: `landkit --help` and a command's own run import only what that
        command needs (geopandas and the rest are not loaded to list the commands).
        """
        if name not in self.commands and name in COMMANDS:
            command = importlib.import_module(COMMANDS[name]).command
            self.add_command(with_verbosity_options(command), name)
            localize(command)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, shortened to one line (a Chinese character takes
        two columns), from each command's docstring read without importing its module."""
        names = self.list_commands(ctx)
        if not names:
            return None
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            first = (help_paragraphs(self.commands[name].__dict__.get(_ENGLISH, {}).get("help")
                                     or self.commands[name].help)
                     if name in self.commands else help_paragraphs(command_summary(name)))[:1]
            english = first[0] if first else ""
            if language() == "en":
                # click.utils' __getattr__ (typed as returning object) gives it, deprecated since click 8.2
                short_help = cast("Callable[[str, int], str]", click.utils.make_default_short_help)
                rows.append((name, short_help(english, limit)))
            else:
                rows.append((name, shorten(_short_help(english) or english, limit)))
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)
        return None

    def invoke(self, ctx: click.Context) -> Any:
        """Invoke the command, its library errors, interruptions and bugs turned into one-line messages."""
        try:
            return super().invoke(ctx)
        except LandkitError as exc:
            _debug_traceback(ctx)
            raise click.ClickException(str(exc)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(_("Interrupted; no output was left half-written."), err=True)
            ctx.exit(130)
        except BrokenPipeError:
            raise  # the reader went away: main() ends quietly
        except PermissionError as exc:  # an output where the user may not write
            _debug_traceback(ctx)
            raise click.ClickException(
                _("{path}: permission denied; choose a place you can write to").format(path=exc.filename or exc)
            ) from None
        except Exception as exc:  # a bug: still one line unless -vv
            _debug_traceback(ctx)
            raise click.ClickException(
                _("internal error: {kind}: {error} (run with -vv for the traceback and report it)").format(
                    kind=type(exc).__name__, error=exc)
            ) from None


def _debug_traceback(ctx: click.Context) -> None:
    verbosity = (ctx.obj or {}).get("verbosity", 0)
    if verbosity >= 2:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _lang_before_command(args: list[str]) -> str | None:
    """Return the group's ``--lang`` among ``args`` (those before the command's name), if valid.

    Read before click parses, so that ``landkit --help --lang en`` (help is shown as soon as it
    is parsed) is English too. An invalid value is left to click to refuse.
    """
    rest = iter(args)
    for arg in rest:
        if arg == "--lang":
            value = next(rest, None)
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        elif arg == "--" or not arg.startswith("-"):
            return None  # the command's name: its options are its own (`landkit export --lang en`)
        else:
            continue
        return value if value in LANGUAGES else None
    return None


def _choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Set the language of everything the command line shows from here on (the --lang callback)."""
    if value is not None and not ctx.resilient_parsing:
        set_language(value)
        localize(ctx.find_root().command)


# --- logging --------------------------------------------------------------------------------------


def level_label(levelname: str) -> str:
    """Return a log level's name in the current language (``WARNING`` → 警告)."""
    labels = {"DEBUG": _("DEBUG"), "INFO": _("INFO"), "WARNING": _("WARNING"), "ERROR": _("ERROR"),
              "CRITICAL": _("CRITICAL")}
    return labels.get(levelname, levelname)


class LogFormatter(logging.Formatter):
    """``LEVEL logger: message``, the level named in the current language."""

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` with its level named in the current language."""
        record = logging.makeLogRecord(record.__dict__)  # a copy: other handlers see the record unchanged
        record.levelname = level_label(record.levelname)
        return super().format(record)


def configure_logging(verbosity: int) -> None:
    """Send landkit's log to stderr: warnings by default, -v info, -vv debug, -q errors only."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(verbosity, 2)), logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("landkit")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


# --- -v and -q after the command's name ---------------------------------------------------------------


def _adjust_verbosity(ctx: click.Context, param: click.Parameter, count: int) -> None:
    """Add a command's -v/-q to the verbosity the group's -v/-q set, as if given before the command."""
    if not count or ctx.resilient_parsing:
        return
    root = ctx.find_root()
    root.ensure_object(dict)
    verbosity = root.obj.get("verbosity", 0) + (count if param.name == "verbose" else -count)
    root.obj["verbosity"] = verbosity
    configure_logging(verbosity)


def with_verbosity_options(command: click.Command) -> click.Command:
    """Give ``command`` (and its subcommands) the group's ``-v``/``-q``: ``landkit validate -vv`` works as
    ``landkit -vv validate`` does. A command that has either option already keeps its own."""
    taken = {name for param in command.params for name in param.opts + param.secondary_opts}
    if not taken & {"-v", "--verbose", "-q", "--quiet"}:
        command.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                           callback=_adjust_verbosity, help=VERBOSE_HELP))
        command.params.append(click.Option(["-q", "--quiet"], count=True, expose_value=False,
                                           callback=_adjust_verbosity, help=QUIET_HELP))
    for sub in getattr(command, "commands", {}).values():
        with_verbosity_options(sub)
    return command


# --- help in the user's language ------------------------------------------------------------------------

_ENGLISH = "_landkit_english"
_SENTENCE_END = re.compile(r"^(.+?[。！？])")


def help_paragraphs(text: str | None) -> list[str]:
    """Return the msgids of a help text: its paragraphs (up to a form feed), whitespace collapsed.

    click rewraps a paragraph, so its line breaks mean nothing and are not part of the msgid; a
    paragraph that click shows as written (one starting with ``\\b``) is kept exactly.
    """
    if not text:
        return []
    text = inspect.cleandoc(text).partition("\f")[0]
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", text):
        if block.strip().startswith("\b"):
            paragraphs.append(block.strip("\n"))
        elif block.strip():
            paragraphs.append(" ".join(block.split()))
    return paragraphs


def translate_help(text: str | None) -> str | None:
    """Return a help text in the current language, paragraph by paragraph (English: unchanged)."""
    if not text or language() == "en":
        return text
    return "\n\n".join(_(paragraph) for paragraph in help_paragraphs(text))


def _short_help(english_help: str | None) -> str | None:
    """Return a command's short help (the list of commands) in Chinese: the first sentence of its
    translated first paragraph; None (click makes it from the English) when that paragraph has no translation."""
    first = help_paragraphs(english_help)[:1]
    if language() == "en" or not first or _(first[0]) == first[0]:
        return None
    translated = _(first[0])
    match = _SENTENCE_END.match(translated)
    return match.group(1) if match else translated


def shorten(text: str, width: int, placeholder: str = "…") -> str:
    """Return ``text`` cut to ``width`` terminal columns, ending in ``placeholder`` if it was cut."""
    if display_width(text) <= width:
        return text
    kept = ""
    for char in text:
        if display_width(kept + char + placeholder) > width:
            break
        kept += char
    return kept.rstrip() + placeholder


def _english(obj: object, attrs: tuple[str, ...]) -> dict[str, str | None]:
    """Return the English texts of ``obj``, recorded the first time it is localized."""
    english: dict[str, str | None] = obj.__dict__.setdefault(_ENGLISH, {attr: getattr(obj, attr) for attr in attrs})
    return english


def localize(command: click.Command) -> None:
    """Show ``command`` and its subcommands in the current language: help, short help, epilog and the
    options' help translated from the English they were written in (English: restored as written)."""
    english = _english(command, ("help", "short_help", "epilog"))
    command.help = translate_help(english["help"])
    command.epilog = translate_help(english["epilog"])
    command.short_help = translate_help(english["short_help"]) or _short_help(english["help"])
    for param in command.params:
        if isinstance(param, click.Option):
            param.help = translate_help(_english(param, ("help",))["help"])
    help_option = getattr(command, "_help_option", None)  # click makes it when first asked, in that language
    if help_option is not None:
        help_option.help = _("Show this message and exit.")
    for sub in getattr(command, "commands", {}).values():
        localize(sub)


def help_texts(command: click.Command, path: str = "landkit") -> Iterator[tuple[str, str]]:
    """Yield every translatable help text of ``command`` and its subcommands as (msgid, where).

    Each is a paragraph (see :func:`help_paragraphs`) of a command's help, short help or epilog
    or of an option's help, in English as written; ``where`` names it, for translators
    (``landkit assess --engine``). ``scripts/i18n.py`` writes them into the catalogue.
    """
    english = _english(command, ("help", "short_help", "epilog"))
    for attr in ("help", "short_help", "epilog"):
        for paragraph in help_paragraphs(english[attr]):
            yield paragraph, path if attr == "help" else f"{path} ({attr})"
    for param in command.params:
        if isinstance(param, click.Option):
            option = f"{path} {max(param.opts, key=len)}"
            for paragraph in help_paragraphs(_english(param, ("help",))["help"]):
                yield paragraph, option
            if param.required:
                yield "required", f"{option} [required]"  # click translates it, but it is no literal there
    yield "Show this message and exit.", f"{path} --help"
    subs = all_commands() if command is cli else getattr(command, "commands", {})
    for name, sub in subs.items():
        yield from help_texts(sub, f"{path} {name}")


# --- the group ------------------------------------------------------------------------------------------


@click.group(cls=LandkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="landkit")
@click.option("--lang", type=click.Choice(LANGUAGES), expose_value=False, is_eager=True, callback=_choose_language,
              help=LANG_HELP)
@click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
@click.option("-q", "--quiet", count=True, help=QUIET_HELP)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """landkit: industrial-land assessment for 两评估、一清单、一盘活.

    Run `landkit demo` to see everything on the shipped Minhang sample, `landkit init` to start a
    project file, `landkit validate PARCELS` to check a parcel layer.
    """
    verbosity = verbose - quiet
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbosity
    configure_logging(verbosity)


#: The commands: name → the module whose ``command`` it is (imported when the command is used).
COMMANDS = {name: f"landkit.cli.{name}" for name in
            ("init", "validate", "assess", "rings", "scatter", "zonal", "export", "map", "history", "compare", "dossier", "scenario", "demo")}


@functools.cache
def command_summary(name: str) -> str:
    """Return the docstring of command ``name`` read from its module's source, without importing it."""
    spec = importlib.util.find_spec(COMMANDS[name])
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    function = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "command"), None)
    return (ast.get_docstring(function) or "") if function is not None else ""


def all_commands() -> dict[str, click.Command]:
    """Every command, loaded (for the message catalogue and the tests)."""
    ctx = click.Context(cli)
    return {name: command for name in cli.list_commands(ctx) if (command := cli.get_command(ctx, name)) is not None}


install_click_translations()  # after the commands are declared: click's default help texts stay English msgids


def main() -> None:
    """Console entry point: also a reader that stops early (`| head`) and Ctrl-C during start-up."""
    try:
        cli(prog_name="landkit")
    except BrokenPipeError:
        # The reader of our output went away (`landkit validate … | head -1`): not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, as the shell reports a pipe's writer
    except KeyboardInterrupt:  # before the command group could catch it (imports, option parsing)
        click.echo(_("Interrupted."), err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
