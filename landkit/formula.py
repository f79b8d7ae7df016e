"""Expressions from the configuration (indicator formulas, rule conditions) evaluated on frames.

The profile states formulas and rules as text (``tax_wan / area_mu``, ``grade == 'D'``) so that
planners can read and change them. They are checked before any work — every name must be a
column of the data or a parameter — and evaluated with pandas' expression engine, vectorised.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from landkit.errors import ConfigError

_KEYWORDS = {"and", "or", "not", "in", "True", "False"}


def names_in(expression: str, *, key: str) -> set[str]:
    """Return the column names an expression uses (``@params`` excluded).

    Raises
    ------
    ConfigError
        If the expression is not valid Python-like syntax, naming ``key``.
    """
    try:
        tree = ast.parse(expression.replace("@", "__param__"), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"{key}: `{expression}` is not a valid expression ({exc.msg})") from None
    return {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not node.id.startswith("__param__")
    } - _KEYWORDS


def params_in(expression: str) -> set[str]:
    """Return the ``@name`` parameters an expression uses."""
    tree = ast.parse(expression.replace("@", "__param__"), mode="eval")
    return {
        node.id.removeprefix("__param__")
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id.startswith("__param__")
    }


def check_expression(expression: str, *, key: str, columns: set[str], params: Mapping[str, Any] = {}) -> None:
    """Refuse an expression that uses a column or parameter that does not exist.

    Raises
    ------
    ConfigError
        Naming the configuration key, the missing name and what exists.
    """
    missing = sorted(names_in(expression, key=key) - columns)
    if missing:
        raise ConfigError(
            f"{key}: `{expression}` uses {', '.join(f'`{m}`' for m in missing)}, which the data lack; "
            f"available: {', '.join(sorted(columns))}"
        )
    unknown = sorted(params_in(expression) - set(params))
    if unknown:
        raise ConfigError(f"{key}: `{expression}` uses parameter(s) {', '.join('@' + u for u in unknown)} not defined in its params")


def evaluate(frame: pd.DataFrame, expression: str, params: Mapping[str, Any] = {}) -> pd.Series:
    """Evaluate an arithmetic expression; divisions by zero give NaN (a missing value), never inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = frame.eval(expression, local_dict=dict(params), engine="python")
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=frame.index)
    result = pd.to_numeric(result, errors="coerce").astype(float)
    return result.replace([np.inf, -np.inf], np.nan)


def evaluate_condition(frame: pd.DataFrame, expression: str, params: Mapping[str, Any] = {}) -> pd.Series:
    """Evaluate a condition to booleans; comparisons with missing values are False."""
    result = frame.eval(expression, local_dict=dict(params), engine="python")
    if not isinstance(result, pd.Series):
        result = pd.Series(bool(result), index=frame.index)
    return result.fillna(False).astype(bool)
