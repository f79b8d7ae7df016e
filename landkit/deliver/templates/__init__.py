"""The Jinja2 templates of landkit's HTML pages, and the one environment that renders them.

``report.html.j2`` is the printable report (:func:`landkit.deliver.report.build_report`), with its
style sheet ``report.css``; ``map.html.j2`` is the shell of the interactive map
(:func:`landkit.deliver.webmap.build_map`).

Autoescape is on for every ``.html`` and ``.j2`` template: text from data is passed as plain
strings and escaped by the template. Only what landkit itself builds and that must not be
HTML-escaped (script and style contents, JSON escaped for a script block) is passed as
:class:`markupsafe.Markup`, each time with a comment saying why. A variable a template needs
but is not given fails loudly (:class:`jinja2.StrictUndefined`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    """Return the environment of landkit's templates (built once, on first use).

    Returns
    -------
    jinja2.Environment
        Templates from this folder, autoescaped, strict about undefined variables, with
        ``trim_blocks`` and ``lstrip_blocks`` (a line holding only a block tag leaves nothing).
    """
    return Environment(
        loader=PackageLoader("landkit.deliver", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` of this folder with ``context``.

    Parameters
    ----------
    name : str
        The template's file name, e.g. ``report.html.j2``.
    **context
        Its variables: every one it uses must be given.

    Returns
    -------
    str
        The rendered page.

    Raises
    ------
    jinja2.UndefinedError
        If the template uses a variable (or attribute) that is not given.
    """
    return environment().get_template(name).render(**context)
