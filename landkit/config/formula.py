"""Expressions from the configuration (indicator formulas, rule conditions) evaluated on frames.

The profile states formulas and rules as text (``tax_wan / area_mu``, ``grade == 'D'``) so that
planners can read and change them. A project file is data, so its expressions must be data too:
they are read by a small whitelist compiler of our own, never by ``eval`` or pandas' expression
engine (whose ``visit_Attribute`` and ``visit_Call`` do real ``getattr`` and calls, so
``a.to_csv('/path')`` wrote files). Of the libraries in the style guide, simpleeval checks
attributes against a blacklist of prefixes, tests ``in`` on a Series' index and cannot do
``and``/``or`` on arrays, and asteval is a small Python with loops and NumPy behind a blacklist:
both are broader than a formula needs. Here ``ast.parse(mode="eval")`` gives the tree, every node
is checked against a short list, and the tree is compiled once (cached on the text) to a closure
that reads the frame's columns and computes with vectorised pandas/NumPy operations, never a loop
over rows. Nothing outside the list reaches the data, the interpreter or the disk.

The language
------------
* column names (``tax_wan``) and parameters (``@stopped_years``, from the section's ``params``);
* numbers, text in quotes, ``True``, ``False``, ``None``;
* ``+ - * / // % **`` and unary ``+ -``, always on numbers (text is not arithmetic; flags count
  as 0/1); a division, ``//`` or ``%`` by zero is missing (NaN), never inf;
* ``== != < <= > >=``, chained as in ``0 < far < 1``; a comparison with a missing value is False,
  except ``!=``, which is the negation of ``==`` (a missing status is not ``'construction'``);
* ``and``, ``or``, ``not``: element-wise, a missing value counting as False;
* ``x in ['A', 'B']``, ``x not in [...]`` (a list of constants) and ``x in @param`` (a list
  parameter);
* the functions ``abs(x)``, ``min(a, b, ...)``, ``max(a, b, ...)`` (element-wise, missing if any
  argument is), ``log(x)`` (natural; missing for x ≤ 0), ``sqrt(x)`` (missing for x < 0),
  ``where(cond, a, b)``, ``isna(x)``, ``notna(x)``.

Nothing else: no attribute access, subscripts, other calls, lambdas, comprehensions, f-strings,
``if``-expressions or bitwise ``& | ~``. A refused expression raises :class:`ConfigError` with one
line naming the configuration key, the expression, the construct and its column (counted from 1).
"""

from __future__ import annotations

import ast
import functools
import io
import keyword
import operator
import tokenize
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from landkit.core.errors import ConfigError
from landkit.core.i18n import _, ngettext

__all__ = ["check_expression", "evaluate", "evaluate_condition", "names_in", "params_in"]

_PARAM = "__param__"


def N_(message: str) -> str:
    """Mark a message for the catalogue; it is translated where it is shown (with ``_``)."""
    return message


ALLOWED = N_(
    "use column names, numbers, arithmetic, comparisons, and/or/not, in [...], "
    "and abs/min/max/log/sqrt/where/isna/notna"
)

#: name → (minimum, maximum) number of arguments (None: no maximum).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1), "min": (2, None), "max": (2, None), "log": (1, 1), "sqrt": (1, 1),
    "where": (3, 3), "isna": (1, 1), "notna": (1, 1),
}

#: The constructs outside the language, as messages name them (translated where shown).
_CONSTRUCTS: dict[type, str] = {
    ast.Attribute: N_("attribute access"), ast.Subscript: N_("subscript"), ast.Slice: N_("slice"),
    ast.Lambda: "lambda", ast.ListComp: N_("comprehension"), ast.SetComp: N_("comprehension"),
    ast.DictComp: N_("comprehension"), ast.GeneratorExp: N_("comprehension"), ast.JoinedStr: N_("f-string"),
    ast.FormattedValue: N_("f-string"), ast.Dict: N_("dict"), ast.Set: N_("set"), ast.IfExp: N_("if-expression"),
    ast.NamedExpr: N_("assignment `:=`"), ast.Starred: N_("starred `*`"), ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.List: N_("list outside `in [...]`"), ast.Tuple: N_("tuple outside `in [...]`"),
}

_BINARY: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub), ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv), ast.FloorDiv: ("//", operator.floordiv), ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}
_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)
#: Refused operators: (what, advice), translated where shown.
_REFUSED_BINARY: dict[type, tuple[str, str | None]] = {
    ast.BitAnd: ("`&`", N_("use and")), ast.BitOr: ("`|`", N_("use or")), ast.BitXor: ("`^`", None),
    ast.LShift: ("`<<`", None), ast.RShift: ("`>>`", None),
    ast.MatMult: (N_("`@` between values"), N_("write @name, with no space, for a parameter")),
}

_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}

#: A compiled node: (frame, params) → a Series on the frame's index or a scalar.
Node = Callable[[pd.DataFrame, Mapping[str, Any]], Any]


class _Refused(Exception):
    """An expression refused: ``what`` at 1-based ``column`` (None: the whole expression).

    ``kind`` is ``construct`` (outside the language; ``advice`` replaces the list of what is
    allowed), ``syntax`` (not an expression) or ``data`` (fails on the values, e.g. text < number).
    """

    def __init__(self, what: str, column: int | None = None, *, kind: str = "construct", advice: str | None = None) -> None:
        super().__init__(what)
        self.what, self.column, self.kind, self.advice = what, column, kind, advice


def _nested() -> _Refused:
    """Return the refusal of an expression nested too deeply for Python's parser or our compiler."""
    return _Refused(_("an expression this deeply nested"), advice=_("split it into simpler indicators or rules"))


@dataclass(frozen=True)
class Compiled:
    """An expression checked and compiled: its columns, parameters and closure."""

    columns: frozenset[str]
    params: frozenset[str]
    list_params: frozenset[str]     # parameters used as ``in @p``: must be lists
    scalar_params: frozenset[str]   # parameters used as values: must not be lists
    run: Node


# --- public functions ------------------------------------------------------------------------


def names_in(expression: str, *, key: str) -> set[str]:
    """Return the column names an expression uses (``@params`` and function names excluded).

    Raises
    ------
    ConfigError
        If the expression is not valid syntax or uses a construct outside the language, naming ``key``.
    """
    return set(_compiled(expression, key).columns)


def params_in(expression: str, *, key: str = "expression") -> set[str]:
    """Return the ``@name`` parameters an expression uses."""
    return set(_compiled(expression, key).params)


def check_expression(expression: str, *, key: str, columns: set[str], params: Mapping[str, Any] = {}) -> None:
    """Refuse an expression outside the language, or that uses a column or parameter that does not exist.

    Raises
    ------
    ConfigError
        Naming the configuration key, the expression and the refused construct, missing name or
        parameter.
    """
    compiled = _compiled(expression, key)
    missing = sorted(compiled.columns - set(columns))
    if missing:
        raise ConfigError(
            _("{prefix}`{expression}` uses {names}, which the data lack; available: {available}").format(
                prefix=_prefix(key), expression=_shown(expression), names=", ".join(f"`{m}`" for m in missing),
                available=", ".join(sorted(columns)))
        )
    unknown = sorted(compiled.params - set(params))
    if unknown:
        raise ConfigError(_unknown_params(key, expression, unknown))
    _check_param_kinds(compiled, params, key, expression)


def evaluate(frame: pd.DataFrame, expression: str, params: Mapping[str, Any] = {}, *, key: str | None = None) -> pd.Series:
    """Evaluate an arithmetic expression to floats; divisions by zero give NaN (a missing value), never inf."""
    result = _run(frame, expression, params, key)
    if not isinstance(result, pd.Series):
        result = pd.Series(np.nan if result is None else result, index=frame.index)
    result = pd.to_numeric(result, errors="coerce").astype(float)
    return result.replace([np.inf, -np.inf], np.nan).rename(None)


def evaluate_condition(
    frame: pd.DataFrame, expression: str, params: Mapping[str, Any] = {}, *, key: str | None = None
) -> pd.Series:
    """Evaluate a condition to booleans; comparisons with missing values are False, a missing result too."""
    result = _truth(_run(frame, expression, params, key))
    if not isinstance(result, pd.Series):
        return pd.Series(bool(result), index=frame.index)
    return result.rename(None)


# --- errors -------------------------------------------------------------------------------------


def _shown(expression: str) -> str:
    """Return the expression on one line, each line break one space (so columns still count)."""
    return expression.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ")


def _prefix(key: str | None) -> str:
    """``key: `` before a message about an expression (empty without a key)."""
    return _("{key}: ").format(key=key) if key else ""


def _unknown_params(key: str | None, expression: str, unknown: list[str]) -> str:
    return _("{prefix}`{expression}` uses parameter(s) {params} not defined in its params").format(
        prefix=_prefix(key), expression=_shown(expression), params=", ".join("@" + u for u in unknown))


def _error(key: str | None, expression: str, refused: _Refused) -> ConfigError:
    where = _(" (column {column})").format(column=refused.column) if refused.column is not None else ""
    head = f"{_prefix(key)}`{_shown(expression)}`"
    if refused.kind == "syntax":
        if refused.column is None:
            return ConfigError(_("{head} is not a valid expression ({what})").format(head=head, what=refused.what))
        return ConfigError(_("{head} is not a valid expression ({what}, column {column})").format(
            head=head, what=refused.what, column=refused.column))
    if refused.kind == "data":
        return ConfigError(_("{head} — {what}{where} fails on the data").format(head=head, what=refused.what, where=where))
    return ConfigError(_("{head} — {what}{where} is not allowed; {advice}").format(
        head=head, what=refused.what, where=where, advice=refused.advice or _(ALLOWED)))


def _compiled(expression: str, key: str | None) -> Compiled:
    if not isinstance(expression, str):
        raise ConfigError(_("{key}: {expression!r} is not text; write the expression in quotes").format(
            key=key or _("expression"), expression=expression))
    try:
        return _compile(expression)
    except _Refused as exc:
        raise _error(key, expression, exc) from None


def _check_param_kinds(compiled: Compiled, params: Mapping[str, Any], key: str | None, expression: str) -> None:
    prefix = _prefix(key)
    for name in sorted(compiled.list_params & set(params)):
        if not isinstance(params[name], (list, tuple, set, frozenset)):
            raise ConfigError(_("{prefix}`{expression}` uses `in @{name}`, but parameter {name} is {value!r}, not a list")
                              .format(prefix=prefix, expression=_shown(expression), name=name, value=params[name]))
    for name in sorted(compiled.scalar_params & set(params)):
        if isinstance(params[name], (list, tuple, set, frozenset, dict)):
            raise ConfigError(_("{prefix}`{expression}` uses @{name} as a value, but it is a list or mapping; "
                                "use it as `x in @{name}`").format(prefix=prefix, expression=_shown(expression), name=name))


def _run(frame: pd.DataFrame, expression: str, params: Mapping[str, Any], key: str | None) -> Any:
    compiled = _compiled(expression, key)
    missing = sorted(compiled.columns - set(frame.columns))
    if missing:
        raise ConfigError(_("{prefix}`{expression}` uses {names}, which the data lack").format(
            prefix=_prefix(key), expression=_shown(expression), names=", ".join(f"`{m}`" for m in missing)))
    unknown = sorted(compiled.params - set(params))
    if unknown:
        raise ConfigError(_unknown_params(key, expression, unknown))
    _check_param_kinds(compiled, params, key, expression)
    try:
        with np.errstate(all="ignore"):
            return compiled.run(frame, params)
    except _Refused as exc:
        raise _error(key, expression, exc) from None
    except RecursionError:
        raise _error(key, expression, _nested()) from None


# --- parsing ------------------------------------------------------------------------------------


def _source(expression: str) -> tuple[str, list[int], list[int]]:
    """Return the text Python parses (``@name`` → ``__param__name``), its line starts, and the
    positions (in that text) of the inserted prefixes, to give columns in the original."""
    text = expression
    lines = text.split("\n")
    starts = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]]).tolist()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, starts, []     # ast.parse reports the syntax error
    ats = []
    previous = None
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string == "@":
            offset = starts[tok.start[0] - 1] + tok.start[1]
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            value_before = previous is not None and (
                (previous.type == tokenize.NAME and not keyword.iskeyword(previous.string))
                or previous.type in (tokenize.NUMBER, tokenize.STRING) or previous.string in (")", "]", "}"))
            if value_before:
                raise _Refused(_("`@` between values"), offset + 1, advice=_("write @name, with no space, for a parameter"))
            if after is None or after.type != tokenize.NAME or after.start != tok.end:
                raise _Refused(_("`@` without a parameter name"), offset + 1, advice=_("write @name, with no space, for a parameter"))
            ats.append(offset)
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = tok
    if not ats:
        return text, starts, []
    pieces, last, inserted = [], 0, []
    for k, offset in enumerate(ats):
        pieces += [text[last:offset], _PARAM]
        inserted.append(offset + k * (len(_PARAM) - 1))
        last = offset + 1
    pieces.append(text[last:])
    parsed = "".join(pieces)
    lines = parsed.split("\n")
    return parsed, np.cumsum([0] + [len(line) + 1 for line in lines[:-1]]).tolist(), inserted


class _Positions:
    """Map an AST position (line, UTF-8 byte column) to a 1-based column of the original text."""

    def __init__(self, parsed: str, starts: list[int], inserted: list[int], original: str) -> None:
        self.lines = parsed.split("\n")
        self.starts, self.inserted, self.original = starts, inserted, original

    def column(self, lineno: int, col_offset: int, *, skip: str = "") -> int:
        """Return the column; with ``skip``, that of the first character after it not in ``skip``."""
        line = self.lines[lineno - 1]
        at = self.starts[lineno - 1] + len(line.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore"))
        at -= sum(len(_PARAM) - 1 for p in self.inserted if p < at)
        while skip and at < len(self.original) and self.original[at] in skip:
            at += 1
        return at + 1


@functools.lru_cache(maxsize=1024)
def _compile(expression: str) -> Compiled:
    """Check an expression against the language and compile it (cached on the text)."""
    stripped = expression.strip()
    if not stripped:
        raise _Refused(_("empty"), kind="syntax")
    lead = len(expression) - len(expression.lstrip())
    text = _shown(stripped)     # a line break is a space: a YAML block may wrap a long rule
    try:
        parsed, starts, inserted = _source(text)
    except _Refused as exc:
        exc.column = None if exc.column is None else exc.column + lead
        raise
    try:
        tree = ast.parse(parsed, mode="eval")
    except SyntaxError as exc:
        column = None
        if exc.lineno is not None and exc.offset and exc.lineno <= parsed.count("\n") + 1:
            line = parsed.split("\n")[exc.lineno - 1]
            byte = len(line[: max(exc.offset - 1, 0)].encode("utf-8"))   # SyntaxError counts characters
            column = _Positions(parsed, starts, inserted, text).column(exc.lineno, byte) + lead
        raise _Refused(exc.msg, column, kind="syntax") from None
    except ValueError as exc:   # a null character
        raise _Refused(str(exc), kind="syntax") from None
    except (RecursionError, MemoryError):
        raise _nested() from None
    compiler = _Compiler(_Positions(parsed, starts, inserted, text), lead)
    try:
        refused = compiler.refusals(tree.body)
        if refused:
            raise min(refused, key=lambda r: r.column or 0)
        run = compiler.compile(tree.body)
    except RecursionError:
        raise _nested() from None
    return Compiled(frozenset(compiler.columns), frozenset(compiler.params), frozenset(compiler.list_params),
                    frozenset(compiler.scalar_params), run)


# --- checking and compiling -----------------------------------------------------------------------


def _is_constant(node: ast.AST) -> bool:
    """Check for a constant of the language: number, text, True/False/None (a signed number too)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
        return isinstance(node, ast.Constant) and type(node.value) in (int, float)
    return isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (bool, int, float, str))


class _Located(Protocol):
    """A node with its place in the source (every expression node the parser makes)."""

    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


class _Compiler:
    def __init__(self, positions: _Positions, lead: int) -> None:
        self.positions, self.lead = positions, lead
        self.columns: set[str] = set()
        self.params: set[str] = set()
        self.list_params: set[str] = set()
        self.scalar_params: set[str] = set()

    def col(self, node: ast.AST, *, after: ast.AST | None = None) -> int:
        """1-based column of ``node`` (of the character just after ``after`` if given)."""
        if after is not None:
            end = cast(_Located, after)
            return self.positions.column(end.end_lineno, end.end_col_offset, skip=" \t\n)") + self.lead
        start = cast(_Located, node)
        return self.positions.column(start.lineno, start.col_offset) + self.lead

    # Checking: every refused node, so the leftmost can be reported.

    def refusals(self, node: ast.AST) -> list[_Refused]:
        found: list[_Refused] = []
        self._check(node, found)
        return found

    def _check(self, node: ast.AST, found: list[_Refused]) -> None:
        children: list[ast.AST] = []
        if isinstance(node, ast.Name):
            if node.id.startswith("__") and not node.id.startswith(_PARAM):
                found.append(_Refused(_("the name `{name}`").format(name=node.id), self.col(node)))
            elif node.id == _PARAM:
                found.append(_Refused(_("`@` without a parameter name"), self.col(node), advice=_("write @name, with no space, for a parameter")))
        elif isinstance(node, ast.Constant):
            if not _is_constant(node):
                found.append(_Refused(_("the constant {value!r}").format(value=node.value), self.col(node)))
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Invert):
                found.append(_Refused("`~`", self.col(node), advice=_("use not")))
            elif not isinstance(node.op, ast.Not):
                self._no_text(node.operand, found)
            children = [node.operand]
        elif isinstance(node, ast.BinOp):
            if type(node.op) in _REFUSED_BINARY:
                what, advice = _REFUSED_BINARY[type(node.op)]
                found.append(_Refused(_(what), self.col(node.op, after=node.left), advice=advice and _(advice)))
            else:
                self._no_text(node.left, found)
                self._no_text(node.right, found)
            children = [node.left, node.right]
        elif isinstance(node, ast.BoolOp):
            children = list(node.values)
        elif isinstance(node, ast.Compare):
            children = [node.left]
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, (ast.In, ast.NotIn)):
                    if isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                        found.extend(_Refused(_("a list element other than a number, text, True/False/None"),
                                              self.col(element))
                                     for element in right.elts if not _is_constant(element))
                    elif isinstance(right, ast.Name) and right.id.startswith(_PARAM):
                        pass
                    else:
                        found.append(_Refused(_("`in` with something other than a list [...] or an @parameter"),
                                              self.col(right)))
                        children.append(right)
                elif isinstance(op, (ast.Is, ast.IsNot)):
                    found.append(_Refused("`is`", self.col(right),
                                          advice=_("use ==, or isna(x) / notna(x) for missing values")))
                    children.append(right)
                else:
                    children.append(right)
        elif isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Name):
                children = [func, *node.args, *(k.value for k in node.keywords)]
                if not isinstance(func, (ast.Attribute, ast.Subscript)):
                    found.append(_Refused(_("a call of anything but abs/min/max/log/sqrt/where/isna/notna"), self.col(node)))
            elif func.id not in FUNCTIONS:
                found.append(_Refused(_("the function `{name}`").format(name=func.id), self.col(func)))
                children = [*node.args, *(k.value for k in node.keywords)]
            else:
                low, high = FUNCTIONS[func.id]
                if node.keywords:
                    found.append(_Refused(_("a keyword argument to {function}()").format(function=func.id),
                                          self.col(node.keywords[0].value), advice=_("pass the arguments in order")))
                n = len(node.args)
                if n < low or (high is not None and n > high):
                    takes = (_("{function}() takes {n}") if low == high else _("{function}() takes {n} or more"))
                    found.append(_Refused(ngettext("{function}() with {n} argument", "{function}() with {n} arguments", n)
                                          .format(function=func.id, n=n), self.col(func),
                                          advice=takes.format(function=func.id, n=low)))
                children = [a for a in node.args if not isinstance(a, ast.Starred)]
                found.extend(_Refused(_("starred `*`"), self.col(a)) for a in node.args if isinstance(a, ast.Starred))
                children += [k.value for k in node.keywords]
        else:
            what = _(_CONSTRUCTS[type(node)]) if type(node) in _CONSTRUCTS else f"`{type(node).__name__}`"
            # attribute access and subscripts: the column of the `.` or `[`
            column = self.col(node, after=node.value) if isinstance(node, (ast.Attribute, ast.Subscript)) else self.col(node)
            advice = _("use where(cond, a, b)") if isinstance(node, ast.IfExp) else None
            found.append(_Refused(what, column, advice=advice))
            children = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        for child in children:
            self._check(child, found)

    def _no_text(self, node: ast.AST, found: list[_Refused]) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(_Refused(_("text in arithmetic"), self.col(node)))

    # Compiling: the tree is known to be in the language.

    def compile(self, node: ast.AST) -> Node:
        method: Callable[[ast.AST], Node] = getattr(self, f"_c_{type(node).__name__}")
        return method(node)

    def _c_Name(self, node: ast.Name) -> Node:
        name = node.id
        if name.startswith(_PARAM):
            param = name.removeprefix(_PARAM)
            self.params.add(param)
            self.scalar_params.add(param)
            return lambda frame, params: params[param]
        self.columns.add(name)
        return lambda frame, params: frame[name]

    def _c_Constant(self, node: ast.Constant) -> Node:
        value = node.value
        return lambda frame, params: value

    def _c_UnaryOp(self, node: ast.UnaryOp) -> Node:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda frame, params: _not(operand(frame, params))
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        column = self.col(node)
        return lambda frame, params: sign * _number(operand(frame, params), column)

    def _c_BinOp(self, node: ast.BinOp) -> Node:
        left, right = self.compile(node.left), self.compile(node.right)
        _symbol, op = _BINARY[type(node.op)]
        column = self.col(node.op, after=node.left)
        division = isinstance(node.op, _DIVISIONS)

        def run(frame: pd.DataFrame, params: Mapping[str, Any]) -> Any:
            a, b = _number(left(frame, params), column), _number(right(frame, params), column)
            result = op(a, b)
            if division:
                if isinstance(b, pd.Series):
                    result = result.where(b != 0)
                elif b == 0:
                    result = pd.Series(np.nan, index=result.index) if isinstance(result, pd.Series) else np.nan
            return result

        return run

    def _c_BoolOp(self, node: ast.BoolOp) -> Node:
        values = [self.compile(v) for v in node.values]
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_

        def run(frame: pd.DataFrame, params: Mapping[str, Any]) -> Any:
            return functools.reduce(combine, (_truth(v(frame, params)) for v in values))

        return run

    def _c_Compare(self, node: ast.Compare) -> Node:
        terms = [self.compile(node.left)]
        steps: list[Callable[[Any, Any], Any]] = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            column = self.col(right)
            if isinstance(op, (ast.In, ast.NotIn)):
                negate = isinstance(op, ast.NotIn)
                if isinstance(right, ast.Name):     # an @parameter, a list
                    param = right.id.removeprefix(_PARAM)
                    self.params.add(param)
                    self.list_params.add(param)

                    def listed(frame: pd.DataFrame, params: Mapping[str, Any], param: str = param) -> Any:
                        return list(params[param])

                    terms.append(listed)
                else:
                    values = [ast.literal_eval(e) for e in cast("ast.List | ast.Tuple | ast.Set", right).elts]

                    def literal(frame: pd.DataFrame, params: Mapping[str, Any], values: list[Any] = values) -> Any:
                        return values

                    terms.append(literal)
                steps.append(functools.partial(_isin, negate=negate))
            else:
                terms.append(self.compile(right))
                steps.append(functools.partial(_compare, _COMPARE[type(op)], column=column))

        def run(frame: pd.DataFrame, params: Mapping[str, Any]) -> Any:
            values = [t(frame, params) for t in terms]
            return functools.reduce(operator.and_, (step(values[i], values[i + 1]) for i, step in enumerate(steps)))

        return run

    def _c_Call(self, node: ast.Call) -> Node:
        name = cast(ast.Name, node.func).id
        args = [self.compile(a) for a in node.args]
        column = self.col(node.func)
        function = {"abs": _abs, "min": _min, "max": _max, "log": _log, "sqrt": _sqrt,
                    "where": _where, "isna": _isna, "notna": _notna}[name]
        return lambda frame, params: function(column, *(a(frame, params) for a in args))


# --- vectorised operations --------------------------------------------------------------------------


def _number(value: Any, column: int) -> Any:
    """Return a value for arithmetic: a float Series or a float (None → NaN); text is refused."""
    if isinstance(value, pd.Series):
        if is_numeric_dtype(value.dtype) or is_bool_dtype(value.dtype):
            return value.astype(float)
        try:
            return pd.to_numeric(value, errors="coerce").astype(float)
        except (TypeError, ValueError):
            raise _Refused(_("arithmetic on a column of {dtype}").format(dtype=value.dtype), column, kind="data") from None
    if value is None:
        return np.nan
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.float64(value)
    raise _Refused(_("arithmetic on {value!r}").format(value=value), column, kind="data")


def _truth(value: Any) -> Any:
    """Booleans, a missing value being False."""
    if isinstance(value, pd.Series):
        if value.dtype == bool:
            return value
        missing = value.isna()
        if missing.any():
            value = value.astype(object).where(~missing, False)
        return value.astype(bool)
    return False if _missing(value) else bool(value)


def _not(value: Any) -> Any:
    value = _truth(value)
    return ~value if isinstance(value, pd.Series) else not value


def _missing(value: Any) -> Any:
    return value.isna() if isinstance(value, pd.Series) else bool(pd.isna(value))


def _compare(op: Callable[[Any, Any], Any], a: Any, b: Any, *, column: int) -> Any:
    """Compare element-wise; a missing value compares False (True for ``!=``)."""
    missing_is = op is operator.ne
    try:
        result = op(a, b)
    except TypeError:
        series = a if isinstance(a, pd.Series) else b if isinstance(b, pd.Series) else None
        gap = _missing(a) | _missing(b)
        if series is None:
            if gap:
                return missing_is
            raise _Refused(_("comparing {a!r} with {b!r}").format(a=a, b=b), column, kind="data") from None
        result = pd.Series(missing_is, index=series.index, dtype=bool)
        keep = ~gap
        try:
            result[keep] = op(a[keep] if isinstance(a, pd.Series) else a, b[keep] if isinstance(b, pd.Series) else b)
        except TypeError as exc:
            raise _Refused(_("a comparison of different kinds of values ({error})").format(error=exc), column,
                           kind="data") from None
        return result
    if isinstance(result, pd.Series):
        if result.dtype != bool:
            result = result.astype(object).where(result.notna(), missing_is).astype(bool)
        return result
    return missing_is if result is pd.NA else bool(result)


def _isin(a: Any, values: list[Any], *, negate: bool) -> Any:
    if isinstance(a, pd.Series):
        result = a.isin(values)
        return ~result if negate else result
    return (a not in values) if negate else (a in values)


def _elementwise(function: Callable[[np.ndarray], np.ndarray], x: Any) -> Any:
    if isinstance(x, pd.Series):
        return pd.Series(function(x.to_numpy(dtype=float)), index=x.index)
    return np.float64(function(np.asarray(x, dtype=float)))


def _abs(column: int, x: Any) -> Any:
    return np.abs(_number(x, column))


def _log(column: int, x: Any) -> Any:
    return _elementwise(lambda v: np.log(np.where(v > 0, v, np.nan)), _number(x, column))


def _sqrt(column: int, x: Any) -> Any:
    return _elementwise(lambda v: np.sqrt(np.where(v >= 0, v, np.nan)), _number(x, column))


def _min(column: int, *xs: Any) -> Any:
    return functools.reduce(np.minimum, (_number(x, column) for x in xs))


def _max(column: int, *xs: Any) -> Any:
    return functools.reduce(np.maximum, (_number(x, column) for x in xs))


def _isna(column: int, x: Any) -> Any:
    return _missing(x)


def _notna(column: int, x: Any) -> Any:
    return ~x.isna() if isinstance(x, pd.Series) else not _missing(x)


def _where(column: int, condition: Any, a: Any, b: Any) -> Any:
    condition = _truth(condition)
    a, b = (np.nan if v is None else v for v in (a, b))
    series = next((v for v in (condition, a, b) if isinstance(v, pd.Series)), None)
    if series is None:
        return a if condition else b
    arrays = [v.to_numpy() if isinstance(v, pd.Series) else v for v in (condition, a, b)]
    return pd.Series(np.where(*arrays), index=series.index)


def with_rule_defaults(frame: pd.DataFrame, *, flags: Iterable[str] = (), labels: Iterable[str] = (),
                       numbers: Iterable[str] = ()) -> pd.DataFrame:
    """Return a copy of ``frame`` in which every column a rule may read exists.

    ``flags`` become booleans (missing: False), absent ``labels`` None and absent ``numbers``
    NaN, so that a rule over data that lack a column reads "not known" rather than failing.
    """
    out = frame.copy(deep=False)  # copy-on-write (pandas 3): the caller's frame is never changed
    for column in flags:
        out[column] = out[column].fillna(False).astype(bool) if column in out else False
    for column in labels:
        if column not in out:
            out[column] = None
    for column in numbers:
        if column not in out:
            out[column] = np.nan
    return out
