"""The `landkit` command group: logging, version, and the one place errors become messages.

Library errors (:class:`landkit.errors.LandkitError`) become one line on stderr and exit code 1;
click's usage errors exit 2; a traceback is shown only with ``-vv``.
"""

from __future__ import annotations

import logging
import sys

import click

from landkit import __version__
from landkit.errors import LandkitError

log = logging.getLogger("landkit")


class LandkitGroup(click.Group):
    """A click group that reports library errors in one line at a single place."""

    def invoke(self, ctx: click.Context):  # noqa: D102 (click API)
        try:
            return super().invoke(ctx)
        except LandkitError as exc:
            _debug_traceback(ctx)
            raise click.ClickException(str(exc)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted; no output was left half-written.", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            raise  # the reader went away: main() ends quietly
        except PermissionError as exc:  # an output where the user may not write
            _debug_traceback(ctx)
            raise click.ClickException(f"{exc.filename or exc}: permission denied; choose a place you can write to") from None
        except Exception as exc:  # a bug: still one line unless -vv
            _debug_traceback(ctx)
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} (run with -vv for the traceback and report it)"
            ) from None


def _debug_traceback(ctx: click.Context) -> None:
    verbosity = (ctx.obj or {}).get("verbosity", 0)
    if verbosity >= 2:
        import traceback

        traceback.print_exc(file=sys.stderr)


def configure_logging(verbosity: int) -> None:
    """Send landkit's log to stderr: warnings by default, -v info, -vv debug, -q errors only."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(verbosity, 2)), logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("landkit")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@click.group(cls=LandkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="landkit")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug and tracebacks).")
@click.option("-q", "--quiet", count=True, help="Less output: errors only.")
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


def _register() -> None:
    from landkit.cli import assess, compare, demo, export, history, init, map, rings, scatter, validate, zonal

    for module in (init, validate, assess, rings, scatter, zonal, export, map, history, compare, demo):
        cli.add_command(module.command)


_register()


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
        click.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
