"""Fuzzing Image.expression: bad input raises ExpressionError only; good input matches numpy.

No input ever reaches Python evaluation: ``eval``, ``exec`` and ``compile`` are replaced by a function
that fails the test while the expression is parsed and compiled.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reducer as ee
import reducer.expression  # noqa: F401  (imported before eval, exec and compile are replaced)
from reducer.errors import ExpressionError
from tests.common import no_python_evaluation, write_tif

X = np.array([[1.5, -2.0, 0.0], [4.0, np.nan, 0.25], [-7.0, 8.0, 3.0]])
Y = np.array([[2.0, 0.0, -1.0], [0.5, 1.0, np.nan], [3.0, -4.0, 3.0]])
Q = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [np.nan, 7.0, 8.0]])
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    path = write_tif(
        tmp_path_factory.mktemp("fuzz") / "xy.tif", np.stack([X, Y, Q]), nodata=np.nan, descriptions=["p", "r", "q"]
    )
    img = ee.Image(str(path))
    return img, {"x": img.select("p"), "y": img.select("r"), "z": img.select(["q"])}


def build_only(img, variables, text):
    """Parse and compile; the only exception allowed is ExpressionError."""
    with no_python_evaluation():
        try:
            out = img.expression(text, variables)
        except ExpressionError:
            return None
    assert isinstance(out, ee.Image)
    return out


CHARS = "0123456789.eE+-*/%()!?:<>=&|,'\"[]{}$#@;\\ _abxyzpqr\t\n\u00e9\u2212"
TOKENS = [
    "x", "y", "z", "b", "b('p')", "b(1)", "z.q", "z[0]", "(", ")", "+", "-", "*", "/", "%", "**", "?", ":",
    "<", "<=", ">", ">=", "==", "!=", "&&", "||", "!", ",", "1", "0", "2.5", "1e3", ".5", "sqrt", "min", "max",
    "pow", "abs", "'p'", "[", "]", ".", "=", "nd", "__import__", "__class__", "lambda", ";",
]  # fmt: skip


@settings(max_examples=60, **SETTINGS)
@given(st.text(alphabet=CHARS, max_size=40))
def test_random_text_gives_an_image_or_expression_error(images, text):
    img, variables = images
    build_only(img, variables, text)


@settings(max_examples=60, **SETTINGS)
@given(st.lists(st.sampled_from(TOKENS), max_size=20).map(" ".join))
def test_random_token_streams_give_an_image_or_expression_error(images, text):
    img, variables = images
    build_only(img, variables, text)


# -- well-formed expressions against a numpy evaluator ------------------------------------------------

BINARY = ["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "==", "!=", "&&", "||"]
FUNCS1 = ["abs", "sqrt", "exp", "log", "floor", "ceil", "round"]
FUNCS2 = ["min", "max", "pow"]
LEAVES = {"x": X, "y": Y, "b('p')": X, "b(1)": Y, "z.q": Q, "z['q']": Q}

numbers = st.one_of(st.integers(0, 9), st.sampled_from([0.5, 2.25, 1e-3, 1e2]))
leaf = st.one_of(numbers.map(lambda v: ("num", v)), st.sampled_from(sorted(LEAVES)).map(lambda v: ("var", v)))


def _extend(kids):
    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(BINARY), kids, kids),
        st.tuples(st.just("un"), st.sampled_from(["-", "!"]), kids),
        st.tuples(st.just("fn1"), st.sampled_from(FUNCS1), kids),
        st.tuples(st.just("fn2"), st.sampled_from(FUNCS2), kids, kids),
        st.tuples(st.just("tern"), kids, kids, kids),
    )


trees = st.recursive(leaf, _extend, max_leaves=8)


def render(t):
    kind = t[0]
    if kind == "num":
        return repr(t[1])
    if kind == "var":
        return t[1]
    if kind == "bin":
        return f"({render(t[2])} {t[1]} {render(t[3])})"
    if kind == "un":
        return f"({t[1]}({render(t[2])}))"  # parenthesised: '-a ** b' is '-(a ** b)
    if kind == "fn1":
        return f"{t[1]}({render(t[2])})"
    if kind == "fn2":
        return f"{t[1]}({render(t[2])}, {render(t[3])})"
    return f"({render(t[1])} ? {render(t[2])} : {render(t[3])})"


def _masked(cond, *xs):
    bad = np.zeros(X.shape, bool)
    for x in xs:
        bad |= np.isnan(x)
    return np.where(bad, np.nan, cond.astype(float))


def reference(t):
    """Earth Engine's semantics in plain numpy: masks are NaN, x / 0 = 0, comparisons keep masks."""
    kind = t[0]
    if kind == "num":
        return np.full(X.shape, float(t[1]))
    if kind == "var":
        return LEAVES[t[1]]
    if kind == "bin":
        a, b = reference(t[2]), reference(t[3])
        op = t[1]
        zero = (b == 0) & ~np.isnan(a)
        safe = np.where(b == 0, 1.0, b)
        return {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: np.where(zero, 0.0, a / safe),
            "%": lambda: np.where(zero, 0.0, np.fmod(a, safe)),
            "**": lambda: np.power(a, b),
            "<": lambda: _masked(a < b, a, b),
            "<=": lambda: _masked(a <= b, a, b),
            ">": lambda: _masked(a > b, a, b),
            ">=": lambda: _masked(a >= b, a, b),
            "==": lambda: _masked(a == b, a, b),
            "!=": lambda: _masked(a != b, a, b),
            "&&": lambda: _masked((a != 0) & (b != 0), a, b),
            "||": lambda: _masked((a != 0) | (b != 0), a, b),
        }[op]()
    if kind == "un":
        a = reference(t[2])
        return -a if t[1] == "-" else _masked(a == 0, a)
    if kind == "fn1":
        a = reference(t[2])
        fn = {"abs": np.abs, "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "floor": np.floor, "ceil": np.ceil}
        return np.floor(a + 0.5) if t[1] == "round" else fn[t[1]](a)
    if kind == "fn2":
        a, b = reference(t[2]), reference(t[3])
        return {"min": np.minimum, "max": np.maximum, "pow": np.power}[t[1]](a, b)
    c, a, b = reference(t[1]), reference(t[2]), reference(t[3])
    return np.where(np.isnan(c), np.nan, np.where(c != 0, a, b))


@settings(max_examples=70, **SETTINGS)
@given(trees)
def test_well_formed_expressions_match_numpy(images, tree):
    img, variables = images
    text = render(tree)
    out = build_only(img, variables, text)
    assert out is not None, text
    assert len(out.bandNames().getInfo()) == 1
    with np.errstate(all="ignore"):
        expected = reference(tree)
    with np.errstate(all="ignore"):
        actual = np.asarray(out.raster.stack(img.raster.grid).compute())[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=0, equal_nan=True, err_msg=text)
