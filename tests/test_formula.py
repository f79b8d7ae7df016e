"""The expression language of the project file: results worked out by hand, and what it refuses.

The frame ``F`` (four parcels, p1 … p4)::

          a      b   grade   flag    opt
    p1   10.0    2   'D'     True    True
    p2    0.0    0   'A'     False   None
    p3    NaN    1   None    True    False
    p4    4.0    4   'C'     False   True
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd
import pytest

from landkit.config import formula
from landkit.config.formula import check_expression, evaluate, evaluate_condition, names_in, params_in
from landkit.config.load import load_config
from landkit.config.models import Project
from landkit.core.errors import ConfigError

NAN = math.nan
INDEX = ["p1", "p2", "p3", "p4"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [10.0, 0.0, NAN, 4.0],
            "b": [2, 0, 1, 4],
            "grade": np.array(["D", "A", None, "C"], dtype=object),
            "flag": [True, False, True, False],
            "opt": np.array([True, None, False, True], dtype=object),
        },
        index=INDEX,
    )


def values(series: pd.Series) -> list:
    assert list(series.index) == INDEX
    return series.tolist()


def same(got: list, expected: list) -> bool:
    return len(got) == len(expected) and all(
        (isinstance(g, float) and math.isnan(g) and isinstance(e, float) and math.isnan(e)) or g == pytest.approx(e)
        for g, e in zip(got, expected, strict=True)
    )


# --- results --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a + b", [12.0, 0.0, NAN, 8.0]),
        ("a - b * 2", [6.0, 0.0, NAN, -4.0]),
        ("a / b", [5.0, NAN, NAN, 1.0]),            # 0 / 0 → NaN
        ("b / a", [0.2, NAN, NAN, 1.0]),            # 0 / 0 → NaN; NaN stays NaN
        ("1 / (b - 2)", [NAN, -0.5, -1.0, 0.5]),    # 1 / 0 → NaN, not inf
        ("a // 3", [3.0, 0.0, NAN, 1.0]),
        ("a // b", [5.0, NAN, NAN, 1.0]),
        ("a % 3", [1.0, 0.0, NAN, 1.0]),
        ("a % b", [0.0, NAN, NAN, 0.0]),
        ("b ** 2", [4.0, 0.0, 1.0, 16.0]),
        ("2 ** -b", [0.25, 1.0, 0.5, 0.0625]),      # integers to negative powers: floats
        ("-a", [-10.0, -0.0, NAN, -4.0]),
        ("+b", [2.0, 0.0, 1.0, 4.0]),
        ("-(a - b) * 10000 / b", [-40000.0, NAN, NAN, 0.0]),
        ("abs(b - a)", [8.0, 0.0, NAN, 0.0]),
        ("min(a, b)", [2.0, 0.0, NAN, 4.0]),        # a missing argument gives a missing minimum
        ("max(a, b, 3)", [10.0, 3.0, NAN, 4.0]),
        ("log(b)", [math.log(2), NAN, 0.0, math.log(4)]),   # log 0 is missing, not -inf
        ("sqrt(b - 1)", [1.0, NAN, 0.0, math.sqrt(3)]),     # sqrt of a negative: missing
        ("where(a > 5, a, b)", [10.0, 0.0, 1.0, 4.0]),      # NaN > 5 is False → b
        ("where(isna(a), 0, a)", [10.0, 0.0, 0.0, 4.0]),
        ("flag + 1", [2.0, 1.0, 2.0, 1.0]),         # a flag counts 0/1
        ("a > b", [1.0, 0.0, 0.0, 0.0]),            # a condition as a number
        ("2 * 3", [6.0, 6.0, 6.0, 6.0]),            # a scalar fills the index
        ("1 / 0", [NAN, NAN, NAN, NAN]),
        ("9 ** 9 ** 9 ** 9", [NAN, NAN, NAN, NAN]),  # overflow: missing, at once (floats, not big integers)
        ("None", [NAN, NAN, NAN, NAN]),
    ],
)
def test_arithmetic(frame: pd.DataFrame, expression: str, expected: list) -> None:
    result = evaluate(frame, expression)
    assert result.dtype == float
    assert same(values(result), expected), values(result)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a > 5", [True, False, False, False]),     # NaN > 5: False
        ("a <= 5", [False, True, False, True]),     # NaN <= 5: False too
        ("a == 0", [False, True, False, False]),
        ("a != 0", [True, False, True, True]),      # != is not ==: NaN != 0 holds
        ("b >= 2", [True, False, False, True]),
        ("a == b", [False, True, False, True]),
        ("0 < a < 10", [False, False, False, True]),
        ("0 <= a <= b * 5", [True, True, False, True]),
        ("grade == 'D'", [True, False, False, False]),    # None == 'D': False
        ("grade != 'D'", [False, True, True, True]),      # None != 'D': True (not 'D')
        ("grade < 'B'", [False, True, False, False]),     # None < 'B': False, no TypeError
        ("grade >= 'C'", [True, False, False, True]),
        ("'B' > grade", [False, True, False, False]),     # a constant on the left
        ("opt == True", [True, False, False, True]),
        ("opt == False", [False, False, True, False]),    # None is neither
        ("flag", [True, False, True, False]),
        ("opt", [True, False, False, True]),               # a missing value is False
        ("a", [True, False, False, True]),                 # 0 and NaN are False
        ("grade", [True, True, False, True]),
        ("flag and a > 5", [True, False, False, False]),
        ("flag or opt", [True, False, True, True]),
        ("not flag", [False, True, False, True]),
        ("not opt", [False, True, True, False]),
        ("not (a > 5)", [False, True, True, True]),
        ("a > 5 or b == 1 or grade == 'C'", [True, False, True, True]),
        ("flag and not opt or grade == 'A'", [False, True, True, False]),   # and binds tighter than or
        ("grade in ['A', 'D']", [True, True, False, False]),
        ("grade not in ['A', 'D']", [False, False, True, True]),          # None is not in the list
        ("b in [0, 4]", [False, True, False, True]),
        ("b in (1, -2)", [False, False, True, False]),
        ("grade in []", [False, False, False, False]),
        ("isna(grade)", [False, False, True, False]),
        ("notna(opt)", [True, False, True, True]),
        ("isna(a) or a > 5", [True, False, True, False]),
        ("abs(a - b) > 1 and max(a, b) > 5", [True, False, False, False]),
        ("where(flag, a, b) > 3", [True, False, False, True]),   # where's NaN → False
        ("True", [True, True, True, True]),
        ("1 > 2", [False, False, False, False]),
        ("grade == 'a@b'", [False, False, False, False]),       # `@` in text is text
    ],
)
def test_conditions(frame: pd.DataFrame, expression: str, expected: list) -> None:
    result = evaluate_condition(frame, expression)
    assert result.dtype == bool
    assert values(result) == expected


def test_parameters(frame: pd.DataFrame) -> None:
    params = {"limit": 3, "grades": ["C", "D"], "floor": 0.5, "zone": "A"}
    assert values(evaluate_condition(frame, "a >= @limit", params)) == [True, False, False, True]
    assert values(evaluate_condition(frame, "grade in @grades", params)) == [True, False, False, True]
    assert values(evaluate_condition(frame, "grade not in @grades and b < @limit", params)) == [False, True, True, False]
    assert values(evaluate_condition(frame, "grade == @zone", params)) == [False, True, False, False]
    assert same(values(evaluate(frame, "a * @floor + @limit", params)), [8.0, 3.0, NAN, 5.0])
    assert params_in("a >= @limit and grade in @grades") == {"limit", "grades"}
    assert names_in("a >= @limit and grade in @grades", key="k") == {"a", "grade"}
    assert names_in("abs(a) + max(b, 1) > 0 and isna(opt)", key="k") == {"a", "b", "opt"}   # functions are not columns
    check_expression("a >= @limit and grade in @grades", key="k", columns={"a", "grade"}, params=params)


def test_missing_names_and_parameters(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"^inventory\.reasons\[0\] \(X\): `grde == 'D'` uses `grde`, which the data lack; available: a, b"):
        check_expression("grde == 'D'", key="inventory.reasons[0] (X)", columns={"a", "b"})
    with pytest.raises(ConfigError, match=r"^k: `a > @limit` uses parameter\(s\) @limit not defined in its params$"):
        check_expression("a > @limit", key="k", columns={"a"}, params={})
    with pytest.raises(ConfigError, match="uses `zz`, which the data lack"):
        evaluate(frame, "zz + 1")
    with pytest.raises(ConfigError, match="@limit not defined"):
        evaluate_condition(frame, "a > @limit")


def test_parameter_kinds(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"^k: `grade in @g` uses `in @g`, but parameter g is 'C', not a list$"):
        check_expression("grade in @g", key="k", columns={"grade"}, params={"g": "C"})
    with pytest.raises(ConfigError, match="uses @g as a value, but it is a list"):
        evaluate_condition(frame, "a < @g", {"g": [1, 2]})
    with pytest.raises(ConfigError, match=r"arithmetic on 'x' \(column 3\) fails on the data"):
        evaluate(frame, "a + @g", {"g": "x"})


def test_text_compared_with_numbers(frame: pd.DataFrame) -> None:
    assert values(evaluate_condition(frame, "grade == 1")) == [False] * 4   # never equal, no error
    with pytest.raises(ConfigError, match=r"^`grade < 1` — a comparison of different kinds of values .*\(column 9\) fails on the data$"):
        evaluate_condition(frame, "grade < 1")


def test_results_are_new_series_on_the_index(frame: pd.DataFrame) -> None:
    before = frame.copy()
    result = evaluate(frame, "a")
    result[:] = 0.0
    evaluate_condition(frame, "not flag")
    pd.testing.assert_frame_equal(frame, before)
    empty = frame.iloc[:0]
    assert len(evaluate(empty, "a / b")) == 0 and len(evaluate_condition(empty, "1 < 2")) == 0


def test_compiled_once() -> None:
    text = "a / b + 0 * 12345.5"
    assert formula._compile(text) is formula._compile(text)


# --- what is refused --------------------------------------------------------------------------------


ATTACKS = [
    # the issue's strings; {tmp} is a fresh directory, to show nothing is written
    ('footprint_m2.__class__.__init__.__globals__["np"].save("{tmp}/x", 1)', "attribute access", 13),
    ("a.to_csv('{tmp}/y')", "attribute access", 2),
    ("__import__('os').system('touch {tmp}/z')", "the function `__import__`", 1),
    ("[x for x in a]", "comprehension", 1),
    ("lambda: 1", "lambda", 1),
    ("a[0]", "subscript", 2),
    ("b > 0 and a['x'] > 1", "subscript", 12),
    ("open('{tmp}/w', 'w').write('x')", "the function `open`", 1),
    ("eval('1')", "the function `eval`", 1),
    ("(lambda: 1)()", "a call of anything but abs/min/max/log/sqrt/where/isna/notna", 1),
    ("@p.__class__", "attribute access", 3),
    ("a if b else 1", "if-expression", 1),
    ("f'{{a}}'", "f-string", 1),
    ("{{'a': 1}}", "dict", 1),
    ("{{a}}", "set", 1),
    ("(y := 1)", "assignment `:=`", 2),
    ("a & b", "`&`", 3),
    ("a | b", "`|`", 3),
    ("~flag", "`~`", 1),
    ("a is None", "`is`", 6),
    ("a in b", "`in` with something other than a list [...] or an @parameter", 6),
    ("a in [b, 1]", "a list element other than a number, text, True/False/None", 7),
    ("[1, 2]", "list outside `in [...]`", 1),
    ("'x' * 100000000", "text in arithmetic", 1),
    ("__builtins__", "the name `__builtins__`", 1),
    ("a == b'x'", "the constant b'x'", 6),
    ("sum(a)", "the function `sum`", 1),
    ("abs(a, b)", "abs() with 2 arguments", 1),
    ("max(a)", "max() with 1 argument", 1),
    ("abs(a, x=1)", "a keyword argument to abs()", 10),
    ("a @b", "`@` between values", 3),
]


@pytest.mark.parametrize(("template", "construct", "column"), ATTACKS)
def test_refused_before_any_work(frame: pd.DataFrame, tmp_path, template: str, construct: str, column: int) -> None:
    expression = template.format(tmp=tmp_path)
    key = "assessment.indicators.x.formula"
    pattern = rf"^{key}: `.*` — {_escape(construct)} \(column {column}\) is not allowed; "
    columns = {"a", "b", "flag", "footprint_m2"}
    with pytest.raises(ConfigError, match=pattern) as err:
        check_expression(expression, key=key, columns=columns, params={"p": 1})
    assert "\n" not in str(err.value) and f"`{expression}`" in str(err.value)
    with pytest.raises(ConfigError, match=pattern):
        names_in(expression, key=key)
    with pytest.raises(ConfigError, match=rf"^`.*` — {_escape(construct)} \(column {column}\) is not allowed"):
        evaluate(frame.assign(footprint_m2=1.0), expression, {"p": 1})
    with pytest.raises(ConfigError, match=_escape(construct)):
        evaluate_condition(frame.assign(footprint_m2=1.0), expression, {"p": 1})
    assert list(tmp_path.iterdir()) == []


def _escape(text: str) -> str:
    return re.escape(text)


def test_message_of_the_issue() -> None:
    with pytest.raises(ConfigError) as err:
        check_expression("a.b", key="assessment.indicators.x.formula", columns={"a"})
    assert str(err.value) == (
        "assessment.indicators.x.formula: `a.b` — attribute access (column 2) is not allowed; use column names, "
        "numbers, arithmetic, comparisons, and/or/not, in [...], and abs/min/max/log/sqrt/where/isna/notna"
    )


def test_unknown_function() -> None:
    with pytest.raises(ConfigError) as err:
        names_in("a > 0 and mean(a) > 1", key="inventory.reasons[2] (LOW)")
    assert str(err.value).startswith("inventory.reasons[2] (LOW): `a > 0 and mean(a) > 1` — the function `mean` (column 11) is not allowed; use")


def test_leftmost_construct_and_columns_in_characters() -> None:
    with pytest.raises(ConfigError, match=r"attribute access \(column 21\)"):
        names_in("x in @p and '甲' == a.b", key="k")   # columns count characters, `@p` as written
    with pytest.raises(ConfigError, match=r"`a and\s+b.c` — attribute access \(column 10\)"):
        names_in("a and\n  b.c", key="k")   # shown on one line, a line break counting one column


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("a +", r"`a \+` is not a valid expression \(invalid syntax\)"),
        ("a and (b", r"is not a valid expression \('\(' was never closed, column 7\)"),
        ("", r"`` is not a valid expression \(empty\)"),
        ("@ limit", r"`@` without a parameter name \(column 1\)"),
        ("-" * 5000 + "1", r"an expression this deeply nested is not allowed"),
    ],
)
def test_not_an_expression(expression: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        names_in(expression, key="k")


# --- the shipped default profile -----------------------------------------------------------------


@functools.cache
def shipped_project() -> Project:
    return load_config()


def shipped_expressions() -> list[tuple[str, str, str]]:
    """(key, kind, text) of every formula and `when` of the default profile."""
    project = shipped_project()
    a = project.assessment
    found = [(f"assessment.indicators.{n}.formula", "formula", i.formula) for n, i in a.indicators.items()]
    found += [(f"assessment.tracks[{i}].when", "when", t.when) for i, t in enumerate(a.tracks) if t.when]
    found += [(f"assessment.direct_grades[{i}]", "when", r.when) for i, r in enumerate(a.direct_grades)]
    found += [(f"inventory.reasons[{i}]", "when", r.when) for i, r in enumerate(project.inventory.reasons)]
    found += [(f"disposal.rules[{i}]", "when", r.when) for i, r in enumerate(project.disposal.rules)]
    found += [(f"valuation.site_factors[{i}]", "when", f.when) for i, f in enumerate(project.valuation.site_factors)]
    return found


def shipped_params() -> dict:
    project = shipped_project()
    params = {**project.assessment.params, **project.inventory.params, **project.disposal.params,
              "free_reclaim_years": project.inventory.idle_land.free_reclaim_years}
    return {k: v for k, v in params.items() if not isinstance(v, dict)}


#: Parcels for the shipped rules: q1 large, operating; q2 under construction; q3 status unknown;
#: q4 stopped three years, grade D; q5 legally idle three years.
PARCELS = pd.DataFrame(
    {
        "tax_wan": [120.0, 0.0, 30.0, 5.0, NAN],
        "area_mu": [15.0, 7.5, 0.0, 15.0, 15.0],
        "electricity_kwh": [600_000.0, 0.0, 1000.0, NAN, 0.0],
        "revenue_wan": [3000.0, 0.0, 1999.0, 400.0, NAN],
        "status": np.array(["operating", "construction", None, "stopped", "idle"], dtype=object),
        "stopped_years": [NAN, NAN, NAN, 3.0, NAN],
        "illegal_use": np.array([None, False, True, None, None], dtype=object),
        "far": [0.8, NAN, 0.3, 0.4, 0.0],
        "far_min": [1.0, 1.0, 0.5, 0.7, 0.5],
        "building_coefficient": [0.2, 0.1, 0.5, NAN, 0.0],
        "graded": [True, False, True, True, False],
        "tax_per_mu": [8.0, NAN, NAN, 0.33, NAN],
        "sporadic": [False, False, True, False, False],
        "small": [False, True, False, True, False],
        "grade": np.array(["A", None, "C", "D", None], dtype=object),
        "industry": np.array(["集成电路", "集成电路", None, "传统制造", None], dtype=object),
        "legally_idle": [False, False, False, False, True],
        "idle_years": [NAN, NAN, NAN, NAN, 3.0],
        "function_fit": np.array([True, None, False, None, None], dtype=object),
        "r_LOW_FAR": [True, False, True, True, False],
        "r_LOW_COEFF": [True, False, False, False, False],
        "high_tech_firms": [0.0, NAN, 2.0, NAN, NAN],
        "rd_intensity": [0.05, NAN, NAN, NAN, NAN],
    },
    index=["q1", "q2", "q3", "q4", "q5"],
)


def test_every_shipped_expression_compiles() -> None:
    params = shipped_params()
    expressions = shipped_expressions()
    assert len(expressions) >= 30
    for key, _, text in expressions:
        columns = names_in(text, key=key)
        check_expression(text, key=key, columns=columns, params=params)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # formulas: tax per mu, tax per kWh (万元 → 元); division by zero and missing inputs → NaN
        ("tax_wan / area_mu", [8.0, 0.0, NAN, 1 / 3, NAN]),
        ("tax_wan * 10000 / electricity_kwh", [2.0, NAN, 300.0, NAN, NAN]),
        # conditions: the default profile's, by hand
        ("revenue_wan >= 2000", [True, False, False, False, False]),
        ("status == 'stopped' and stopped_years >= @stopped_years", [False, False, False, True, False]),
        ("illegal_use == True", [False, False, True, False, False]),
        # q2 is under construction; q3's unknown status is not 'construction', so its FAR counts
        ("status != 'construction' and far < far_min", [True, False, True, True, True]),
        ("status != 'construction' and building_coefficient < @coefficient_min", [True, False, False, False, True]),
        ("graded and tax_per_mu < @tax_floor_wan_per_mu", [True, False, False, True, False]),
        ("legally_idle and idle_years >= @free_reclaim_years", [False, False, False, False, True]),
        ("grade == 'D' and small", [False, False, False, True, False]),
        ("grade == 'C' and (r_LOW_FAR or r_LOW_COEFF)", [False, False, True, False, False]),
        ("grade == 'C' and function_fit == False", [False, False, True, False, False]),
        ("grade in ['A', 'B'] and far < @target_far and industry in @light_industries and not sporadic",
         [True, False, False, False, False]),
        ("grade in ['A', 'B'] and (high_tech_firms > 0 or rd_intensity >= @rd_support_min)", [False, False, False, False, False]),
        ("sporadic", [False, False, True, False, False]),
    ],
)
def test_shipped_expressions_by_hand(text: str, expected: list) -> None:
    assert text in {t for _, _, t in shipped_expressions()}
    params = shipped_params()
    if any(isinstance(e, float) for e in expected):
        got = evaluate(PARCELS, text, params).tolist()
        assert same(got, expected), got
    else:
        assert evaluate_condition(PARCELS, text, params).tolist() == expected


def test_large_frames_are_vectorised() -> None:
    n = 200_000
    rng = np.random.default_rng(1)
    big = pd.DataFrame({"a": rng.random(n), "b": rng.integers(0, 3, n), "grade": rng.choice(["A", "B", "C", "D"], n)})
    result = evaluate_condition(big, "a / b > 0.5 and grade in ['A', 'B'] or isna(a)")
    expected = ((big["a"] / big["b"].where(big["b"] != 0)) > 0.5) & big["grade"].isin(["A", "B"])
    assert (result == expected).all()
