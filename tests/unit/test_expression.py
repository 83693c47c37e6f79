"""Image.expression: the language, names, errors with columns, and no Python evaluation."""

from __future__ import annotations

import numpy as np
import pytest

import reducer as ee
from reducer.errors import ExpressionError
from reducer.expression import MAX_DEPTH, parse, tokenize
from reducer.grid import Grid
from reducer.sources import READ_COUNTER
from tests.common import CRS, TRANSFORM_3x3, no_python_evaluation, write_tif

GRID = Grid(CRS, TRANSFORM_3x3, 3, 3)
NODATA = 0
B2 = np.array([[300, 400, 500], [600, 700, 800], [900, 1000, 1100]], dtype="uint16")
B4 = np.array([[500, 600, 700], [800, 0, 1000], [1100, 1200, 1300]], dtype="uint16")
B8 = np.array([[3000, 2500, 2000], [1500, 1000, 900], [800, 700, 600]], dtype="uint16")


def f(x):
    return np.where(x == NODATA, np.nan, x).astype("f8")


@pytest.fixture(scope="module")
def s2(tmp_path_factory):
    path = write_tif(
        tmp_path_factory.mktemp("expr") / "s2_2024-06-01.tif",
        np.stack([B2, B4, B8]),
        nodata=NODATA,
        descriptions=["B2", "B4", "B8"],
    )
    return ee.Image(str(path))


def px(image, grid=None):
    return np.asarray(image.raster.stack(grid or image.raster.grid or GRID).compute())


def value(expr, mapping=None):
    """The value of an expression over constants (every pixel is the same)."""
    return float(px(ee.Image().expression(expr, mapping), GRID)[0, 0, 0])


# -- the language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 % 4", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("8 / 4 / 2", 1),
        ("1 / 0", 0),
        ("2 ** 3 ** 2", 512),
        ("-2 ** 2", -4),
        ("2 ** -1", 0.5),
        ("-(-3)", 3),
        ("+4", 4),
        ("!0", 1),
        ("!5", 0),
        ("!!5", 1),
        ("1 < 2", 1),
        ("2 <= 2", 1),
        ("3 > 4", 0),
        ("4 >= 5", 0),
        ("1 == 1", 1),
        ("1 != 1", 0),
        ("1 < 2 == 1", 1),
        ("1 && 0", 0),
        ("1 || 0", 1),
        ("0 || 0 && 1", 0),
        ("1 || 0 && 0", 1),
        ("1 ? 2 : 3", 2),
        ("0 ? 2 : 3", 3),
        ("0 ? 2 : 1 ? 4 : 5", 4),
        ("1 > 2 ? 10 : 20 + 1", 21),
        ("abs(-3)", 3),
        ("sqrt(16)", 4),
        ("exp(0)", 1),
        ("log(1)", 0),
        ("log10(1000)", 3),
        ("floor(2.7)", 2),
        ("ceil(2.1)", 3),
        ("round(2.5)", 3),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("pow(2, 10)", 1024),
        ("hypot(3, 4)", 5),
        ("atan2(0, 1)", 0),
        ("cos(0)", 1),
        (".5 + 1.", 1.5),
        ("1e3 + 2.5E-1", 1000.25),
        ("  3\t*\n2 ", 6),
    ],
)
def test_operators_precedence_and_functions(expr, expected):
    assert value(expr) == pytest.approx(expected)


def test_evi_against_numpy(s2):
    evi = s2.divide(10000).expression(
        "2.5 * ((NIR - RED) / (NIR + 6 * RED - 7.5 * BLUE + 1))",
        {
            "NIR": s2.select("B8").divide(10000),
            "RED": s2.select("B4").divide(10000),
            "BLUE": s2.select("B2").divide(10000),
        },
    )
    assert evi.bandNames().getInfo() == ["constant"]
    nir, red, blue = f(B8) / 1e4, f(B4) / 1e4, f(B2) / 1e4
    expected = 2.5 * ((nir - red) / (nir + 6 * red - 7.5 * blue + 1))
    np.testing.assert_allclose(px(evi)[0], expected, rtol=1e-6, equal_nan=True)
    assert np.isnan(px(evi)[0][1, 1])  # B4 is nodata there


def test_band_access_forms(s2):
    expected = f(B8) - f(B4)
    for expr, mapping in [
        ("b('B8') - b('B4')", None),
        ('b("B8") - b(1)', None),
        ("b(2) - b(1)", None),
        ("img.B8 - img.B4", {"img": s2}),
        ("img['B8'] - img[1]", {"img": s2}),
        ("N - R", {"N": s2.select("B8"), "R": s2.select("B4")}),
    ]:
        out = s2.expression(expr, mapping)
        np.testing.assert_allclose(px(out)[0], expected, equal_nan=True)
    # several bands at once, and a variable or b() alone is every band
    two = s2.expression("b(2, 'B4') * 2")
    assert two.bandNames().getInfo() == ["B8", "B4"]
    assert s2.expression("b()").bandNames().getInfo() == ["B2", "B4", "B8"]
    assert s2.expression("x", {"x": s2}).bandNames().getInfo() == ["B2", "B4", "B8"]
    np.testing.assert_allclose(px(s2.expression("b() / b('B8')"))[1], f(B4) / f(B8), equal_nan=True)


def test_output_names(s2):
    m = {"NIR": s2.select("B8"), "RED": s2.select("B4")}
    assert s2.expression("(NIR - RED) / (NIR + RED)", m).bandNames().getInfo() == ["B8"]
    assert s2.expression("2.5 * (NIR - RED)", m).bandNames().getInfo() == ["constant"]
    assert s2.expression("-RED", m).bandNames().getInfo() == ["B4"]
    assert s2.expression("sqrt(RED)", m).bandNames().getInfo() == ["B4"]
    assert s2.expression("ndvi = (NIR - RED) / (NIR + RED)", m).bandNames().getInfo() == ["ndvi"]
    assert s2.expression("RED > 1000 ? NIR : RED", m).bandNames().getInfo() == ["B8"]
    out = s2.expression("ndvi = (NIR - RED) / (NIR + RED)", m)
    assert out.propertyNames().getInfo() == []


def test_ternary_and_masks(s2):
    out = s2.expression("b('B4') > 700 ? b('B8') : -1")
    b4, b8 = f(B4), f(B8)
    expected = np.where(np.isnan(b4), np.nan, np.where(b4 > 700, b8, -1))
    np.testing.assert_allclose(px(out)[0], expected, equal_nan=True)
    # comparisons keep masks: a masked pixel is not 0
    assert np.isnan(px(s2.expression("b('B4') > 1"))[0][1, 1])


def test_numbers_in_the_map(s2):
    out = s2.expression("b('B8') * k", {"k": 0.5})
    np.testing.assert_allclose(px(out)[0], f(B8) * 0.5)
    assert value("k + 1", {"k": ee.Number(2)}) == 3


def test_tokens_and_tree():
    assert [t.text for t in tokenize("a<=b&&!c")] == ["a", "<=", "b", "&&", "!", "c", ""]
    name, tree = parse("x = a ? b : c")
    assert name == "x" and tree.kind == "ternary"


# -- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, column, fragment",
    [
        ("1 +", 4, "expected a number"),
        ("(1 + 2", 7, "expected ')'"),
        ("1 + 2)", 6, "expected an operator or the end"),
        ("1 $ 2", 3, "unexpected character '$'"),
        ("b('B4) + 1", 3, "unterminated string"),
        ("nope + 1", 1, "unknown name 'nope'"),
        ("1 + frob(2)", 5, "unknown function 'frob'"),
        ("sqrt(1, 2)", 1, "sqrt() takes 1 argument(s), got 2"),
        ("min(1)", 1, "min() takes at least 2"),
        ("b('B9')", 3, "no band 'B9'"),
        ("b(7)", 3, "band index 7 is out of range"),
        ("b(1.5)", 3, "a band selector must be"),
        ("b(-1)", 3, "a band selector must be"),
        ("'B4' + 1", 1, "can only name a band"),
        ("1 ? 2", 6, "expected ':'"),
        ("a = 1 = 2", 7, "'=' can only name the result"),
        ("x.", 3, "expected a band name after '.'"),
        ("x[]", 2, "'[]' selects nothing"),
        ("2x", 2, "expected an operator"),
        ("b(0, 1) + b(0, 1, 2)", 9, "cannot match 2 bands"),
        ("ab = b()", 1, "names a single band"),
        ("", None, "empty"),
        ("   ", None, "empty"),
    ],
)
def test_errors_name_the_column(s2, expr, column, fragment):
    with pytest.raises(ExpressionError) as info:
        s2.expression(expr, {"x": s2})
    message = str(info.value)
    assert fragment in message
    if column is not None:
        assert f"at column {column}." in message
        caret_line = message.splitlines()[2]
        assert caret_line.index("^") - 4 == column - 1


def test_bad_arguments_are_expression_errors(s2):
    with pytest.raises(ExpressionError, match="must be a string"):
        s2.expression(42)
    with pytest.raises(ExpressionError, match="map must be a dict"):
        s2.expression("a", [1])
    with pytest.raises(ExpressionError, match="map keys must be names"):
        s2.expression("a", {1: s2})
    with pytest.raises(ExpressionError, match=r"map\['a'\]"):
        s2.expression("a", {"a": "B4"})
    assert isinstance(ExpressionError("x"), ValueError)


@pytest.mark.parametrize(
    "expr",
    [
        "__import__('os').system('echo hacked')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd')",
        "eval('1')",
        "lambda: 1",
        "[x for x in y]",
        "1; 2",
        "a if b else c",
        "exec",
        "b.__class__",
        "b('B4').__dict__",
        "x.__class__",
        "`id`",
        "1 // 2",
        "1 << 2",
        "'a' 'b'",
        "b'B4'",
        "f'{1}'",
        "\\x41",
        "True and False",
    ],
)
def test_hostile_inputs_raise_expression_error(s2, expr):
    with no_python_evaluation():
        with pytest.raises(ExpressionError):
            s2.expression(expr, {"x": s2})


def test_limits(s2):
    with pytest.raises(ExpressionError, match="nested more than"):
        s2.expression("(" * 3000 + "1" + ")" * 3000)
    with pytest.raises(ExpressionError, match="nested more than"):
        s2.expression("-" * 5000 + "1")
    # a flat chain is long, not nested (issue 16): it is accepted
    assert value(" + ".join(["1"] * (MAX_DEPTH + 5))) == MAX_DEPTH + 5
    with pytest.raises(ExpressionError, match="characters long"):
        s2.expression("1+" * 6000 + "1")
    assert value("(" * 40 + "1" + ")" * 40) == 1
    assert value("9" * 400) == np.inf  # a huge literal is a float, never a crash


def test_opt_map_keyword(s2):
    assert s2.expression("a * 2", opt_map={"a": s2.select("B2")}).bandNames().getInfo() == ["B2"]


def test_building_reads_no_pixel(s2):
    READ_COUNTER.reset()
    with no_python_evaluation():
        out = s2.expression(
            "evi = 2.5 * ((NIR - RED) / (NIR + 6 * RED - 7.5 * BLUE + 1))",
            {"NIR": s2.select("B8"), "RED": s2.select("B4"), "BLUE": s2.select("B2")},
        )
        out.raster.stack(s2.raster.grid)
    assert out.bandNames().getInfo() == ["evi"]
    assert READ_COUNTER.reads == 0
