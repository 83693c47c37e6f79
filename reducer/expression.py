"""``Image.expression``: Earth Engine's expression language, parsed by hand into lazy band math.

The expression is tokenized, parsed by a Pratt (precedence-climbing) parser into a small syntax
tree and compiled into :mod:`reducer.algebra` operations. No part of the user's string is ever given
to ``eval``, ``exec``, ``compile`` or ``ast``: names are looked up in the ``map`` given and in a
fixed table of functions. A malformed or unsupported expression raises
:class:`~reducer.errors.ExpressionError` naming the column and the problem.

The language
------------
- Numbers: ``2``, ``0.5``, ``.5``, ``1e-4``. Strings (``'B4'`` or ``"B4"``) only name bands.
- Bands of the image the method is called on: ``b('B8')``, ``b(0)``, ``b(0, 'B4')``; ``b()`` is every band.
- Variables from ``map``: ``NIR`` is the whole image given for it; ``img.B4``, ``img[0]`` and
  ``img['B4']`` select its bands.
- Operators, loosest first: ``? :`` (ternary), ``||``, ``&&``, ``== !=``, ``< <= > >=``, ``+ -``,
  ``* / %``, unary ``- + !``, ``**`` (right-associative; ``-2 ** 2`` is ``-(2 ** 2)``).
- Functions: ``abs sqrt exp log log10 floor ceil round sin cos tan asin acos atan`` (one argument),
  ``pow atan2 hypot`` (two), ``min max`` (two or more).
- ``name = expression`` names a single-band result.

Output band names follow the operators' rules (:mod:`reducer.algebra`): a binary operator on two
one-band images keeps the first operand's name, so ``'(NIR - RED) / (NIR + RED)'`` is named after
NIR's band and ``'2.5 * (NIR - RED)'`` is named ``constant``, as in Earth Engine; unary operators and
functions keep their operand's names. Use ``name = ...`` or ``.rename()`` to choose one. The result
has no properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import algebra
from .errors import ExpressionError, ReducerError
from .raster import Raster, rename_bands, select_bands
from .values import ComputedObject, unwrap

__all__ = ["expression", "parse", "tokenize", "Token", "Node", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 10_000
MAX_DEPTH = 100

_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DIGITS = "0123456789"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("**", "&&", "||", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "<", ">", "!", "?", ":")
_OPERATORS += ("(", ")", ",", ".", "[", "]", "=")

_BINARY = {
    "||": (2, "or"),
    "&&": (3, "and"),
    "==": (4, "eq"),
    "!=": (4, "neq"),
    "<": (5, "lt"),
    "<=": (5, "lte"),
    ">": (5, "gt"),
    ">=": (5, "gte"),
    "+": (6, "add"),
    "-": (6, "subtract"),
    "*": (7, "multiply"),
    "/": (7, "divide"),
    "%": (7, "mod"),
    "**": (9, "pow"),
}
_TERNARY_BP = 1
_PREFIX_BP = 8
_POSTFIX_BP = 10

_UNARY_FUNCTIONS = ("abs", "sqrt", "exp", "log", "log10", "floor", "ceil", "round", "sin", "cos", "tan")
_UNARY_FUNCTIONS += ("asin", "acos", "atan")
# name -> (minimum number of arguments, maximum or None, algebra operation)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {name: (1, 1, name) for name in _UNARY_FUNCTIONS}
FUNCTIONS.update({"pow": (2, 2, "pow"), "atan2": (2, 2, "atan2"), "hypot": (2, 2, "hypot")})
FUNCTIONS.update({"min": (2, None, "min"), "max": (2, None, "max")})


@dataclass(frozen=True)
class Token:
    """One token: its kind (``num``, ``str``, ``ident``, ``op``, ``end``), text and 1-based column."""

    kind: str
    text: str
    col: int


@dataclass(frozen=True)
class Node:
    """A syntax-tree node: ``kind``, the column it starts at, a value and child nodes."""

    kind: str
    col: int
    value: Any = None
    children: tuple[Node, ...] = ()
    depth: int = 1


def _error(source: str, col: int, problem: str) -> ExpressionError:
    start = 0 if len(source) <= 200 else max(0, col - 101)
    shown = source[start : start + 200].replace("\n", " ").replace("\t", " ").replace("\r", " ")
    caret_at = col - 1 - start
    return ExpressionError(
        f"Image.expression: {problem} at column {col}.\n    {shown}\n    {' ' * caret_at}^\n"
        "Check the expression against Earth Engine's syntax, e.g. '(NIR - RED) / (NIR + RED)'."
    )


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens.

    Examples
    --------
    >>> [(t.kind, t.text) for t in tokenize("b('B4') ** 2")]
    [('ident', 'b'), ('op', '('), ('str', 'B4'), ('op', ')'), ('op', '**'), ('num', '2'), ('end', '')]
    >>> tokenize("a $ b")
    Traceback (most recent call last):
    ...
    reducer.errors.ExpressionError: Image.expression: unexpected character '$' at column 3. ...
    """
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
            continue
        col = i + 1
        m = _NUMBER.match(source, i)
        if m and (ch in _DIGITS or (ch == "." and i + 1 < n and source[i + 1] in _DIGITS)):
            tokens.append(Token("num", m.group(), col))
            i = m.end()
            continue
        m = _IDENT.match(source, i)
        if m:
            tokens.append(Token("ident", m.group(), col))
            i = m.end()
            continue
        if ch in "'\"":
            end = source.find(ch, i + 1)
            if end < 0:
                raise _error(source, col, f"unterminated string starting with {ch}")
            tokens.append(Token("str", source[i + 1 : end], col))
            i = end + 1
            continue
        op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
        if op is None:
            raise _error(source, col, f"unexpected character {ch!r}")
        tokens.append(Token("op", op, col))
        i += len(op)
    tokens.append(Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.nesting = 0

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        t = self.tokens[self.pos]
        if t.kind != "end":
            self.pos += 1
        return t

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def expect(self, text: str, context: str) -> Token:
        if not self.at(text):
            raise self.unexpected(f"expected {text!r} {context}")
        return self.advance()

    def unexpected(self, expected: str) -> ExpressionError:
        t = self.tok
        found = "the end of the expression" if t.kind == "end" else repr(t.text)
        return _error(self.source, t.col, f"{expected}, found {found}")

    def node(self, kind: str, col: int, value: Any = None, children: tuple[Node, ...] = ()) -> Node:
        if kind == "binary" and children[0].kind == "binary":
            # a chain (a + b - c * d ...) is compiled as a loop: its length is not nesting
            depth = max(children[0].depth, 1 + children[1].depth)
        else:
            depth = 1 + max((c.depth for c in children), default=0)
        if depth > MAX_DEPTH:
            raise _error(self.source, col, f"the expression is nested more than {MAX_DEPTH} levels deep")
        return Node(kind, col, value, children, depth)

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> tuple[str | None, Node]:
        name = None
        if (
            self.tok.kind == "ident"
            and self.tokens[self.pos + 1].text == "="
            and self.tokens[self.pos + 1].kind == "op"
        ):
            name = self.advance().text
            self.advance()
        tree = self.expr(0)
        if self.tok.kind != "end":
            if self.at("="):
                raise _error(
                    self.source, self.tok.col, "'=' can only name the result, as in 'ndvi = (a - b) / (a + b)'"
                )
            raise self.unexpected("expected an operator or the end of the expression")
        return name, tree

    def expr(self, min_bp: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise _error(self.source, self.tok.col, f"the expression is nested more than {MAX_DEPTH} levels deep")
        try:
            left = self.prefix()
            while True:
                t = self.tok
                if t.kind != "op":
                    break
                if t.text == "?" and _TERNARY_BP >= min_bp:
                    self.advance()
                    yes = self.expr(0)
                    self.expect(":", "after the true branch of '? :'")
                    no = self.expr(_TERNARY_BP)
                    left = self.node("ternary", t.col, None, (left, yes, no))
                    continue
                if t.text in _BINARY:
                    bp, op = _BINARY[t.text]
                    if bp < min_bp:
                        break
                    self.advance()
                    right = self.expr(_PREFIX_BP if t.text == "**" else bp + 1)
                    left = self.node("binary", t.col, op, (left, right))
                    continue
                if t.text in (".", "[") and _POSTFIX_BP >= min_bp:
                    left = self.postfix(left)
                    continue
                break
            return left
        finally:
            self.nesting -= 1

    def prefix(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return self.node("num", t.col, t.text)
        if t.kind == "str":
            self.advance()
            return self.node("str", t.col, t.text)
        if t.kind == "ident":
            self.advance()
            if self.at("("):
                self.advance()
                args = self.arguments(")", f"to close the arguments of {t.text}()")
                return self.node("call", t.col, t.text, tuple(args))
            return self.node("var", t.col, t.text)
        if t.kind == "op" and t.text in ("-", "+", "!"):
            self.advance()
            operand = self.expr(_PREFIX_BP)
            op = {"-": "negate", "+": "plus", "!": "not"}[t.text]
            return self.node("unary", t.col, op, (operand,))
        if t.kind == "op" and t.text == "(":
            self.advance()
            inner = self.expr(0)
            self.expect(")", "to close '('")
            return inner
        raise self.unexpected("expected a number, a name, a function call or '('")

    def arguments(self, close: str, context: str) -> list[Node]:
        args: list[Node] = []
        if self.at(close):
            self.advance()
            return args
        while True:
            args.append(self.expr(0))
            if self.at(","):
                self.advance()
                continue
            self.expect(close, context)
            return args

    def postfix(self, target: Node) -> Node:
        t = self.advance()
        if t.text == ".":
            name = self.tok
            if name.kind != "ident":
                raise self.unexpected("expected a band name after '.'")
            self.advance()
            return self.node("select", t.col, None, (target, self.node("str", name.col, name.text)))
        args = self.arguments("]", "to close '['")
        if not args:
            raise _error(self.source, t.col, "'[]' selects nothing; give band names or indices, as in img['B4']")
        return self.node("select", t.col, None, (target, *args))


def parse(source: str) -> tuple[str | None, Node]:
    """Parse an expression into ``(result name or None, syntax tree)``.

    Examples
    --------
    >>> name, tree = parse("ndvi = (a - b) / (a + b)")
    >>> name, tree.kind, tree.value
    ('ndvi', 'binary', 'divide')
    >>> parse("(a + b")
    Traceback (most recent call last):
    ...
    reducer.errors.ExpressionError: Image.expression: expected ')' to close '(', found the end ... at column 7. ...
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"Image.expression: the expression is {len(source)} characters long; at most {MAX_LENGTH} are accepted. "
            "Split it into several expressions."
        )
    if not source.strip():
        raise ExpressionError(
            "Image.expression: the expression is empty. Give one such as '(NIR - RED) / (NIR + RED)'."
        )
    return _Parser(source).parse()


class _Compiler:
    def __init__(self, source: str, image: Raster, variables: dict[str, Raster]):
        self.source = source
        self.image = image
        self.variables = variables

    def fail(self, node: Node, problem: str) -> ExpressionError:
        return _error(self.source, node.col, problem)

    def compile(self, node: Node) -> Raster:
        try:
            return self._compile(node)
        except ExpressionError:
            raise
        except ReducerError as exc:
            raise self.fail(node, str(exc).rstrip(".")) from exc

    def _compile(self, node: Node) -> Raster:
        kind = node.kind
        if kind == "num":
            text = node.value
            value: int | float = int(text) if text.isdigit() and len(text) <= 18 else float(text)
            return algebra.constant(value)
        if kind == "str":
            raise self.fail(node, f"the string {node.value!r} can only name a band, as in b({node.value!r})")
        if kind == "var":
            if node.value not in self.variables:
                known = sorted(self.variables)
                hint = f"the map has {known!r}" if known else "no map was given"
                raise self.fail(node, f"unknown name {node.value!r} ({hint}); use b('band') for this image's bands")
            return self.variables[node.value]
        if kind == "unary":
            operand = self.compile(node.children[0])
            if node.value == "plus":
                return operand
            return algebra.unary(node.value, operand)
        if kind == "binary":
            # the left spine of a chain, folded in a loop (no recursion along the chain's length)
            spine = []
            while node.kind == "binary":
                spine.append(node)
                node = node.children[0]
            acc = self.compile(node)
            for b in reversed(spine):
                right = self.compile(b.children[1])
                try:
                    acc = algebra.binary(b.value, acc, right)
                except ExpressionError:
                    raise
                except ReducerError as exc:
                    raise self.fail(b, str(exc).rstrip(".")) from exc
            return acc
        if kind == "ternary":
            cond, yes, no = (self.compile(c) for c in node.children)
            return algebra.select_value(cond, yes, no, "Image.expression '? :'")
        if kind == "select":
            target = self.compile(node.children[0])
            return self.select(target, node.children[1:], node)
        if kind == "call":
            return self.call(node)
        raise self.fail(node, f"unsupported syntax {kind!r}")  # pragma: no cover - the parser makes no other kinds

    def selectors(self, args: tuple[Node, ...]) -> list[int | str]:
        out: list[int | str] = []
        for a in args:
            if a.kind == "str":
                out.append(a.value)
            elif a.kind == "num" and a.value.isdigit() and len(a.value) <= 9:
                out.append(int(a.value))
            else:
                raise self.fail(a, "a band selector must be a band name in quotes or a non-negative whole number")
        return out

    def select(self, target: Raster, args: tuple[Node, ...], node: Node) -> Raster:
        sels = self.selectors(args)
        names = target.names
        for s, a in zip(sels, args, strict=True):
            if isinstance(s, int) and s >= len(names):
                raise self.fail(a, f"band index {s} is out of range for bands {names!r}")
            if isinstance(s, str) and s not in names:
                raise self.fail(a, f"no band {s!r}; the bands are {names!r}")
        return select_bands(target, sels) if sels else target

    def call(self, node: Node) -> Raster:
        name = node.value
        if name == "b":
            if not node.children:
                if not self.image.bands:
                    raise self.fail(
                        node, "b() selects the bands of the image the expression is called on, which has none"
                    )
                return Raster(self.image.bands)
            return self.select(self.image, node.children, node)
        if name not in FUNCTIONS:
            raise self.fail(node, f"unknown function {name!r}; the functions are {sorted(FUNCTIONS)!r} and b()")
        lo, hi, op = FUNCTIONS[name]
        n = len(node.children)
        if n < lo or (hi is not None and n > hi):
            want = str(lo) if lo == hi else f"at least {lo}"
            raise self.fail(node, f"{name}() takes {want} argument(s), got {n}")
        args = [self.compile(c) for c in node.children]
        if hi == 1:
            return algebra.unary(op, args[0])
        out = args[0]
        for a in args[1:]:
            out = algebra.binary(op, out, a)
        return out


def _variables(map: Any) -> dict[str, Raster]:
    m = unwrap(map) if isinstance(map, ComputedObject) else map
    if m is None:
        return {}
    if not isinstance(m, dict):
        raise ExpressionError(f"Image.expression: map must be a dict of name -> image, got {map!r}.")
    out: dict[str, Raster] = {}
    for k, v in m.items():
        if not isinstance(k, str):
            raise ExpressionError(f"Image.expression: map keys must be names (strings), got {k!r}.")
        try:
            out[k] = algebra.as_raster(v, f"Image.expression: map[{k!r}]")
        except ReducerError as exc:
            raise ExpressionError(str(exc)) from exc
    return out


def expression(image: Raster, expr: Any, map: Any = None, **kwargs: Any) -> Raster:
    """Evaluate an Earth Engine expression on ``image`` with the images in ``map``.

    Parameters
    ----------
    image
        The image whose bands ``b()`` selects.
    expr
        The expression, e.g. ``'2.5 * ((NIR - RED) / (NIR + 6 * RED - 7.5 * BLUE + 1))'``.
    map
        Names used in the expression: images (typically ``img.select('B8')``) or numbers.

    Returns
    -------
    Raster
        Lazy; named as described in the module docstring; no properties.

    Raises
    ------
    ExpressionError
        For a malformed or unsupported expression, an unknown name or band, or bands that cannot
        be matched; the message gives the column.

    Examples
    --------
    >>> img = rename_bands(algebra.constant([0.5, 0.1]), ["B8", "B4"])
    >>> bands = {"NIR": select_bands(img, ["B8"]), "RED": select_bands(img, ["B4"])}
    >>> expression(img, "(NIR - RED) / (NIR + RED)", bands).names
    ['B8']
    >>> expression(img, "2.5 * (b('B8') - b(1))").names
    ['constant']
    >>> expression(img, "ndvi = (b(0) - b(1)) / (b(0) + b(1))").names
    ['ndvi']
    >>> expression(img, "b('B8') +* 2")
    Traceback (most recent call last):
    ...
    reducer.errors.ExpressionError: Image.expression: expected a number, ... found '*' at column 10. ...
    >>> expression(img, "__import__('os')")
    Traceback (most recent call last):
    ...
    reducer.errors.ExpressionError: Image.expression: unknown function '__import__'; ...
    """
    if kwargs:
        raise ExpressionError(f"Image.expression: unknown argument(s) {sorted(kwargs)!r}; use expression, map.")
    source = unwrap(expr) if isinstance(expr, ComputedObject) else expr
    if not isinstance(source, str):
        raise ExpressionError(f"Image.expression: the expression must be a string, got {expr!r}.")
    variables = _variables(map)
    name, tree = parse(source)
    result = _Compiler(source, image, variables).compile(tree)
    if name is not None:
        if len(result.bands) != 1:
            raise _error(source, 1, f"'{name} = ...' names a single band, but the result has {len(result.bands)} bands")
        result = rename_bands(result, [name])
    return Raster(result.bands)
