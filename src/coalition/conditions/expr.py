"""Condition expressions: the parser and the typed, immutable syntax tree.

The syntax (documented on ``ConditionExpr`` in ``coalition.scenario.schemas`` and in
``docs/conditions.md``)::

    expr    := "true" | "false"
             | "all" "(" expr ("," expr)* ")"
             | "any" "(" expr ("," expr)* ")"
             | "not" "(" expr ")"
             | "instrument" "(" IDENT ")" OP STATE
             | NAME
    OP      := ">=" | ">" | "=="
    STATE   := "draft" | "signed" | "ratified" | "in-force" | "withdrawn"
    NAME    := [a-z][a-z0-9_]* ("." [A-Za-z0-9_-]+)?        e.g. ceasefire, parliament.GBR
    IDENT   := [A-Za-z0-9][A-Za-z0-9_.-]*                    an instrument id

Whitespace between tokens is free. The empty string means "always" (``true``).

The parser is a small hand-written recursive descent rather than a parser library: the grammar
has six productions, and we want exact character positions and a plain-words "expected ..." in
every error so the scenario validator can point a planner at the offending character.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

from coalition.errors import InputError, Problem
from coalition.scenario.schemas import InstrumentState

KEYWORDS = frozenset({"true", "false", "all", "any", "not", "instrument"})
OPERATORS = (">=", "==", ">")  # longest first for the scanner
STATES = tuple(s.value for s in InstrumentState)


# ---------------------------------------------------------------------------------------------
# The syntax tree
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    """``true`` or ``false``."""

    value: bool
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a named condition (base or derived)."""

    name: str
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class AllOf:
    """``all(a, b, ...)``: true when every argument is true."""

    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return "all(" + ", ".join(str(a) for a in self.args) + ")"


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``any(a, b, ...)``: true when at least one argument is true."""

    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return "any(" + ", ".join(str(a) for a in self.args) + ")"


@dataclass(frozen=True, slots=True)
class Not:
    """``not(a)``."""

    arg: Expr
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"not({self.arg})"


@dataclass(frozen=True, slots=True)
class InstrumentTest:
    """``instrument(ID) >= signed``: a test of an instrument's lifecycle state at the date.

    States are ordered draft < signed < ratified < in-force. With ``>=`` or ``>`` a withdrawn
    instrument makes the test false; ``== withdrawn`` tests for withdrawal itself.
    """

    instrument: str
    op: str
    state: InstrumentState
    pos: int = field(default=0, compare=False, repr=False)

    def __str__(self) -> str:
        return f"instrument({self.instrument}) {self.op} {self.state.value}"


Expr = Union[Const, Name, AllOf, AnyOf, Not, InstrumentTest]  # noqa: UP007 - readable alias
TRUE = Const(True)
FALSE = Const(False)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class ExpressionError(InputError):
    """A condition expression that does not parse.

    ``position`` is the 0-based character offset of the problem in ``text``; ``expected`` says in
    plain words what would be valid there. ``problem()`` re-locates it in a file/row/field.
    """

    def __init__(self, text: str, position: int, expected: str, found: str) -> None:
        self.text = text
        self.position = position
        self.expected = expected
        self.found = found
        super().__init__(problems=[self.problem()])

    def problem(self, *, file: str | None = None, row: int | None = None, field: str | None = None) -> Problem:
        """The problem, placed in a file, row and field (none of them by default)."""
        return Problem(
            message=(
                f"bad condition expression {self.text!r}: at position {self.position} "
                f"expected {self.expected}, found {self.found}"
            ),
            hint="syntax: NAME, all(a, b), any(a, b), not(a), true, false, instrument(ID) >= signed|ratified|in-force",
            file=file,
            row=row,
            field=field,
        )

    def pointer(self) -> str:
        """Two lines: the text and a caret under the failing character."""
        return f"{self.text}\n{' ' * self.position}^"


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------

_NAME_START = set("abcdefghijklmnopqrstuvwxyz")
_NAME_BODY = _NAME_START | set("0123456789_")
_SUFFIX_BODY = _NAME_BODY | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
_IDENT_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_IDENT_BODY = _IDENT_START | set("_.-")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    # -- scanning helpers ----------------------------------------------------------------------
    def _skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def _found(self) -> str:
        if self.i >= len(self.text):
            return "end of expression"
        j = self.i
        while j < len(self.text) and j - self.i < 12 and not self.text[j].isspace():
            j += 1
        return repr(self.text[self.i : j])

    def _fail(self, expected: str, at: int | None = None) -> ExpressionError:
        if at is not None:
            self.i = at
        return ExpressionError(self.text, self.i, expected, self._found())

    def _expect(self, char: str, what: str | None = None) -> None:
        self._skip()
        if self.text.startswith(char, self.i):
            self.i += len(char)
            return
        raise self._fail(what or repr(char))

    def _word(self, body: set[str]) -> str:
        start = self.i
        while self.i < len(self.text) and self.text[self.i] in body:
            self.i += 1
        return self.text[start : self.i]

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Expr:
        self._skip()
        if self.i >= len(self.text):
            return Const(True, 0)
        expr = self._expr()
        self._skip()
        if self.i < len(self.text):
            raise self._fail("end of expression (join conditions with all(...) or any(...))")
        return expr

    def _expr(self) -> Expr:
        self._skip()
        start = self.i
        if self.i >= len(self.text) or self.text[self.i] not in _NAME_START:
            raise self._fail("a condition name, all(, any(, not(, instrument(, true or false")
        word = self._word(_NAME_BODY)
        if word in ("true", "false"):
            self._no_suffix(start, word)
            return Const(word == "true", start)
        if word in ("all", "any"):
            self._expect("(", f"'(' after '{word}'")
            args = [self._expr()]
            while True:
                self._skip()
                if self.text.startswith(",", self.i):
                    self.i += 1
                    args.append(self._expr())
                    continue
                self._expect(")", "',' or ')'")
                break
            cls = AllOf if word == "all" else AnyOf
            return cls(tuple(args), start)
        if word == "not":
            self._expect("(", "'(' after 'not'")
            arg = self._expr()
            self._expect(")", "')' closing not(")
            return Not(arg, start)
        if word == "instrument":
            return self._instrument(start)
        # a plain condition name, optionally with a '.SUFFIX' (e.g. parliament.GBR)
        if self.i < len(self.text) and self.text[self.i] == ".":
            self.i += 1
            suffix = self._word(_SUFFIX_BODY)
            if not suffix:
                raise self._fail("a name part after '.' (e.g. parliament.GBR)")
            word = f"{word}.{suffix}"
        if len(word) > 80:
            raise self._fail("a condition name of at most 80 characters", at=start)
        return Name(word, start)

    def _no_suffix(self, start: int, word: str) -> None:
        if self.i < len(self.text) and self.text[self.i] in _SUFFIX_BODY | {"."}:
            raise self._fail(f"'{word}' to stand alone (it is a reserved word)", at=start)

    def _instrument(self, start: int) -> InstrumentTest:
        self._expect("(", "'(' after 'instrument'")
        self._skip()
        if self.i >= len(self.text) or self.text[self.i] not in _IDENT_START:
            raise self._fail("an instrument id (letters, digits, '_', '.', '-')")
        ident = self._word(_IDENT_BODY)
        self._expect(")", "')' after the instrument id")
        self._skip()
        op = next((o for o in OPERATORS if self.text.startswith(o, self.i)), None)
        if op is None:
            raise self._fail("a comparison '>=', '>' or '=='")
        self.i += len(op)
        self._skip()
        state_at = self.i
        word = self._word(_NAME_BODY | {"-"})
        if word not in STATES:
            raise self._fail("an instrument state: " + ", ".join(STATES), at=state_at)
        return InstrumentTest(ident, op, InstrumentState(word), start)


@lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse a condition expression. The empty (or blank) string means ``true``.

    Raises :class:`ExpressionError` with the character position and what was expected.
    Results are cached: the tree is immutable, so sharing it is safe.
    """
    if len(text) > 2000:
        raise ExpressionError(text[:40] + "...", 2000, "at most 2000 characters", "more")
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------
# Queries over the tree
# ---------------------------------------------------------------------------------------------


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, depth first, parents before children."""
    yield expr
    if isinstance(expr, AllOf | AnyOf):
        for arg in expr.args:
            yield from walk(arg)
    elif isinstance(expr, Not):
        yield from walk(expr.arg)


def names(expr: Expr | str) -> tuple[str, ...]:
    """The condition names an expression refers to, each once, in order of first appearance."""
    tree = parse(expr) if isinstance(expr, str) else expr
    seen: dict[str, None] = {}
    for node in walk(tree):
        if isinstance(node, Name):
            seen.setdefault(node.name)
    return tuple(seen)


def instruments(expr: Expr | str) -> tuple[str, ...]:
    """The instrument ids an expression tests, each once, in order of first appearance."""
    tree = parse(expr) if isinstance(expr, str) else expr
    seen: dict[str, None] = {}
    for node in walk(tree):
        if isinstance(node, InstrumentTest):
            seen.setdefault(node.instrument)
    return tuple(seen)


def name_positions(expr: Expr | str) -> tuple[tuple[str, int], ...]:
    """(name, character position) for every condition reference, for precise error messages."""
    tree = parse(expr) if isinstance(expr, str) else expr
    return tuple((n.name, n.pos) for n in walk(tree) if isinstance(n, Name))


def polarity(expr: Expr | str, name: str) -> set[int]:
    """The signs (+1 under an even number of ``not``, -1 under odd) with which ``name`` occurs.

    An expression is monotone non-decreasing in ``name`` when the result is ``{+1}`` (or empty).
    """
    tree = parse(expr) if isinstance(expr, str) else expr
    signs: set[int] = set()

    def visit(node: Expr, sign: int) -> None:
        if isinstance(node, Name) and node.name == name:
            signs.add(sign)
        elif isinstance(node, AllOf | AnyOf):
            for arg in node.args:
                visit(arg, sign)
        elif isinstance(node, Not):
            visit(node.arg, -sign)

    visit(tree, 1)
    return signs


__all__ = [
    "FALSE",
    "TRUE",
    "AllOf",
    "AnyOf",
    "Const",
    "Expr",
    "ExpressionError",
    "InstrumentTest",
    "Name",
    "Not",
    "instruments",
    "name_positions",
    "names",
    "parse",
    "polarity",
    "walk",
]
