"""The conditions engine (pure): evaluate condition expressions at a date, three-valued.

Values come from, in order of precedence:

1. **assumptions** (``--assume ceasefire=2026-06-01``: true from that date, false before it;
   ``--assume us_backstop=false``: false at every date). An assumption overrides both the
   timeline and, for a derived condition, its definition;
2. for a **derived** condition (``ConditionDef.expression`` set): its expression;
3. for a **base** condition: the latest timeline event on or before the date. Before its first
   event, and when nothing sets it at all, a base condition is **unknown**;
4. **instrument tests** use the instrument's dated history (draft before the first change).

``all``/``any``/``not`` follow Kleene's strong three-valued logic: ``all`` is false if any
argument is false, else unknown if any is unknown, else true; ``any`` dually; ``not`` swaps true
and false and keeps unknown.

Every evaluation returns a :class:`Verdict`: the value plus an explanation tree whose nodes say
which event, assumption, instrument state or definition set each sub-expression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from coalition.conditions.expr import (
    AllOf,
    Const,
    Expr,
    ExpressionError,
    InstrumentTest,
    Name,
    Not,
    names,
    parse,
)
from coalition.errors import InputError, Problem, closest
from coalition.scenario.schemas import (
    INSTRUMENT_STATE_ORDER,
    Assumption,
    Event,
    Instrument,
    InstrumentState,
    Scenario,
)

CEASEFIRE = "ceasefire"


class Truth(StrEnum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool) -> Truth:
        return cls.TRUE if value else cls.FALSE

    def __invert__(self) -> Truth:  # Kleene not
        if self is Truth.UNKNOWN:
            return self
        return Truth.FALSE if self is Truth.TRUE else Truth.TRUE


def kleene_all(values: Iterable[Truth]) -> Truth:
    seen_unknown = False
    for v in values:
        if v is Truth.FALSE:
            return Truth.FALSE
        seen_unknown |= v is Truth.UNKNOWN
    return Truth.UNKNOWN if seen_unknown else Truth.TRUE


def kleene_any(values: Iterable[Truth]) -> Truth:
    seen_unknown = False
    for v in values:
        if v is Truth.TRUE:
            return Truth.TRUE
        seen_unknown |= v is Truth.UNKNOWN
    return Truth.UNKNOWN if seen_unknown else Truth.FALSE


class Source(StrEnum):
    """What set a node's value."""

    CONSTANT = "constant"
    EVENT = "event"
    ASSUMPTION = "assumption"
    NO_DATA = "no-data"
    INSTRUMENT = "instrument"
    DEFINITION = "definition"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A node of the explanation tree.

    ``expr`` is the printed sub-expression, ``value`` its truth at the date, ``source`` what set
    it, ``why`` a sentence for people, ``since`` the date the deciding fact took effect (event,
    assumption or instrument change) when there is one, ``children`` the sub-verdicts.
    """

    expr: str
    value: Truth
    source: Source
    why: str
    since: date | None = None
    children: tuple[Verdict, ...] = ()
    condition: str | None = None  # the condition name, for a name node

    def to_json(self) -> dict[str, object]:
        return {
            "expr": self.expr,
            "value": self.value.value,
            "source": self.source.value,
            "why": self.why,
            "since": self.since.isoformat() if self.since else None,
            "condition": self.condition,
            "children": [c.to_json() for c in self.children],
        }

    def culprits(self) -> tuple[str, ...]:
        """The leaves (base conditions, instrument tests) that decide this verdict's value.

        For a false ``all``: its false arguments; for a true ``any``: its true arguments; for an
        unknown node: its unknown arguments; ``not`` passes through; a derived condition looks
        into its definition. Each leaf once, in order.
        """
        out: dict[str, None] = {}
        self._culprits(out)
        return tuple(out)

    def _culprits(self, out: dict[str, None]) -> None:
        if self.source in (Source.EVENT, Source.ASSUMPTION, Source.NO_DATA):
            out.setdefault(self.condition or self.expr)
            return
        if self.source is Source.INSTRUMENT:
            out.setdefault(self.expr)
            return
        # ``not`` has one child of the opposite value: the fallback to all children covers it
        deciding = [c for c in self.children if c.value is self.value]
        for c in deciding or self.children:
            c._culprits(out)

    def render(self, indent: str = "") -> str:
        """A plain-text tree, one node a line."""
        lines = [f"{indent}{self.expr} = {self.value.value}: {self.why}"]
        for c in self.children:
            lines.append(c.render(indent + "  "))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Assumptions from the command line
# ---------------------------------------------------------------------------------------------

ASSUME_HINT = "NAME=VALUE where VALUE is a date (YYYY-MM-DD), true or false, e.g. ceasefire=2026-06-01"


def parse_assumption(text: str, *, option: str = "--assume") -> Assumption:
    """Parse ``NAME=VALUE`` (VALUE: ISO date, ``true`` or ``false``) into an :class:`Assumption`.

    Raises :class:`InputError` naming ``option`` and what would be valid.
    """
    return parse_assumptions([text], option=option)[0]


def parse_assumptions(texts: Sequence[str], *, option: str = "--assume") -> tuple[Assumption, ...]:
    """Parse several ``NAME=VALUE`` strings, reporting every bad one at once.

    The same condition assumed twice is an error (which one should win is not obvious).
    """
    problems: list[Problem] = []
    out: list[Assumption] = []
    seen: set[str] = set()
    for text in texts:
        name, sep, raw = (t.strip() for t in text.partition("="))
        if not sep or not name or not raw:
            problems.append(Problem(f"bad assumption {text!r}: expected NAME=VALUE", field=option, hint=ASSUME_HINT))
            continue
        lowered = raw.lower()
        try:
            if lowered in ("true", "false"):
                assumption = Assumption(condition=name, value=lowered == "true")
            else:
                try:
                    on = date.fromisoformat(raw)
                except ValueError:
                    problems.append(
                        Problem(
                            f"bad assumption {text!r}: value {raw!r} is not a date, true or false",
                            field=option,
                            hint=ASSUME_HINT,
                        )
                    )
                    continue
                assumption = Assumption(condition=name, value=True, on=on)
        except ValueError:  # pydantic rejects the condition name
            problems.append(
                Problem(
                    f"bad assumption {text!r}: {name!r} is not a condition name",
                    field=option,
                    hint="condition names look like 'ceasefire' or 'parliament.GBR'; " + ASSUME_HINT,
                )
            )
            continue
        if name in seen:
            problems.append(
                Problem(
                    f"condition {name!r} is assumed more than once",
                    field=option,
                    hint="give each condition at most one --assume",
                )
            )
            continue
        seen.add(name)
        out.append(assumption)
    if problems:
        raise InputError(problems)
    return tuple(out)


def known_condition_names(scenario: Scenario) -> set[str]:
    """Every condition name the scenario declares, sets by an event or refers to somewhere."""
    known = {c.name for c in scenario.conditions} | {e.condition for e in scenario.timeline}
    for text in [c.expression for c in scenario.conditions] + [p.condition for p in scenario.pledges]:
        try:
            known.update(names(text))
        except ExpressionError:
            continue
    return known


def check_assumptions(
    assumptions: Sequence[Assumption], scenario: Scenario, *, option: str = "--assume"
) -> list[Problem]:
    """Problems with assumptions that name no condition of the scenario ('did you mean')."""
    known = known_condition_names(scenario)
    problems = []
    for a in assumptions:
        if a.condition not in known:
            guess = closest(a.condition, known)
            hint = f"did you mean '{guess}'?" if guess else "known: " + ", ".join(sorted(known))
            problems.append(Problem(f"unknown condition {a.condition!r} in assumption", field=option, hint=hint))
    return problems


# ---------------------------------------------------------------------------------------------
# Cycles among derived conditions
# ---------------------------------------------------------------------------------------------


class ConditionCycleError(InputError):
    """Derived conditions that depend on themselves."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            problems=[
                Problem(
                    "derived conditions form a cycle: " + " -> ".join(self.cycle),
                    field="conditions.expression",
                    hint="a derived condition must not depend on itself, directly or indirectly",
                )
            ]
        )


def find_cycles(definitions: Mapping[str, Expr | str]) -> list[tuple[str, ...]]:
    """Every elementary cycle found by depth-first search over derived definitions.

    Each cycle is reported once, as a path that starts and ends with the same name
    (``('a', 'b', 'a')``), rotated to start at its smallest name.
    """
    graph = {name: [n for n in names(d) if n in definitions] for name, d in definitions.items()}
    cycles: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                ring = stack[stack.index(nxt) :]
                k = ring.index(min(ring))
                ring = ring[k:] + ring[:k]
                cycles.add((*ring, ring[0]))
            elif state.get(nxt) is None:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return sorted(cycles)


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


def _fmt(d: date) -> str:
    return d.isoformat()


@dataclass
class ConditionEngine:
    """Evaluation context for one scenario and one set of assumptions. Build once, reuse.

    Pure: holds only the scenario's values; caches verdicts per (name, date).
    """

    scenario: Scenario
    assumptions: tuple[Assumption, ...] = ()
    _events: dict[str, list[Event]] = field(init=False, repr=False)
    _derived: dict[str, Expr] = field(init=False, repr=False)
    _instruments: dict[str, Instrument] = field(init=False, repr=False)
    _assumed: dict[str, Assumption] = field(init=False, repr=False)
    _memo: dict[tuple[str, date], Verdict] = field(init=False, repr=False)
    _declared: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.assumptions = tuple(self.assumptions)
        self._events = {}
        for e in sorted(self.scenario.timeline, key=lambda e: e.on):  # stable: file order per day
            self._events.setdefault(e.condition, []).append(e)
        self._derived = {}
        problems: list[Problem] = []
        for c in self.scenario.conditions:
            if c.expression.strip():
                try:
                    self._derived[c.name] = parse(c.expression)
                except ExpressionError as err:
                    problems.append(err.problem(field=f"conditions[{c.name}].expression"))
        if problems:
            raise InputError(problems)
        cycles = find_cycles(self._derived)
        if cycles:
            raise ConditionCycleError(cycles[0])
        self._instruments = {i.id: i for i in self.scenario.instruments}
        self._assumed = {a.condition: a for a in self.assumptions}
        self._memo = {}
        self._declared = frozenset(c.name for c in self.scenario.conditions)

    # -- public ----------------------------------------------------------------------------------
    def evaluate(self, expr: Expr | str, at: date) -> Verdict:
        """The verdict of an expression at a date."""
        tree = parse(expr) if isinstance(expr, str) else expr
        return self._eval(tree, at)

    def value(self, name: str, at: date) -> Truth:
        """The truth of a named condition at a date."""
        return self._name(name, at).value

    def c_day(self, condition: str = CEASEFIRE) -> date | None:
        """C-day: the date the ``ceasefire`` condition becomes (and stays) true.

        The start of the last run of dates on which the condition is true, provided it is still
        true after the last dated fact (event, assumption, instrument change). None when it is
        not true then, or when it is true at every date with no dated start (e.g.
        ``--assume ceasefire=true`` and no event).
        """
        points = sorted(self.change_dates())
        if not points:
            return None
        if self.value(condition, points[-1]) is not Truth.TRUE:
            return None
        start: date | None = None
        for d in reversed(points):
            if self.value(condition, d) is Truth.TRUE:
                start = d
            else:
                break
        if start == points[0]:
            # true from the first dated fact on; is it true even before it?
            before = date.fromordinal(points[0].toordinal() - 1)
            if self.value(condition, before) is Truth.TRUE:
                return None
        return start

    def change_dates(self) -> set[date]:
        """Every date on which some fact changes (events, assumptions, instrument history)."""
        dates = {e.on for e in self.scenario.timeline}
        dates |= {a.on for a in self.assumptions if a.on is not None}
        dates |= {h.on for i in self.scenario.instruments for h in i.history}
        return dates

    # -- evaluation ------------------------------------------------------------------------------
    def _eval(self, node: Expr, at: date) -> Verdict:
        if isinstance(node, Const):
            return Verdict(str(node), Truth.of(node.value), Source.CONSTANT, "constant")
        if isinstance(node, Name):
            return self._name(node.name, at)
        if isinstance(node, InstrumentTest):
            return self._instrument(node, at)
        if isinstance(node, Not):
            child = self._eval(node.arg, at)
            value = ~child.value
            why = f"{child.expr} is {child.value.value}"
            return Verdict(str(node), value, Source.OPERATOR, why, child.since, (child,))
        kids = tuple(self._eval(a, at) for a in node.args)
        if isinstance(node, AllOf):
            value = kleene_all(k.value for k in kids)
            word = "all"
        else:
            value = kleene_any(k.value for k in kids)
            word = "any"
        deciding = [k.expr for k in kids if k.value is value]
        if value is Truth.TRUE and word == "all" or value is Truth.FALSE and word == "any":
            why = f"every argument is {value.value}"
        else:
            why = f"{', '.join(deciding)} {'is' if len(deciding) == 1 else 'are'} {value.value}"
        return Verdict(str(node), value, Source.OPERATOR, why, None, kids)

    def _name(self, name: str, at: date) -> Verdict:
        key = (name, at)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        verdict = self._name_uncached(name, at)
        self._memo[key] = verdict
        return verdict

    def _name_uncached(self, name: str, at: date) -> Verdict:
        a = self._assumed.get(name)
        if a is not None:
            if a.on is None:
                return Verdict(
                    name,
                    Truth.of(a.value),
                    Source.ASSUMPTION,
                    f"assumed {str(a.value).lower()} at every date",
                    None,
                    (),
                    name,
                )
            if at >= a.on:
                return Verdict(
                    name,
                    Truth.TRUE,
                    Source.ASSUMPTION,
                    f"assumed true from {_fmt(a.on)}",
                    a.on,
                    (),
                    name,
                )
            return Verdict(
                name,
                Truth.FALSE,
                Source.ASSUMPTION,
                f"assumed true only from {_fmt(a.on)}; false before",
                None,
                (),
                name,
            )
        definition = self._derived.get(name)
        if definition is not None:
            inner = self._eval(definition, at)
            return Verdict(
                name,
                inner.value,
                Source.DEFINITION,
                f"defined as {definition}",
                inner.since,
                (inner,),
                name,
            )
        events = self._events.get(name, [])
        last: Event | None = None
        for e in events:
            if e.on <= at:
                last = e
            else:
                break
        if last is not None:
            why = f"set {str(last.value).lower()} on {_fmt(last.on)} by the timeline"
            if last.note:
                why += f" ({last.note})"
            return Verdict(name, Truth.of(last.value), Source.EVENT, why, last.on, (), name)
        if events:
            why = f"no event sets it on or before {_fmt(at)} (first event {_fmt(events[0].on)})"
        elif name in self._declared:
            why = "no event or assumption sets it"
        else:
            why = "not defined in the scenario, and no event or assumption sets it"
        return Verdict(name, Truth.UNKNOWN, Source.NO_DATA, why, None, (), name)

    def _instrument(self, node: InstrumentTest, at: date) -> Verdict:
        inst = self._instruments.get(node.instrument)
        if inst is None:
            return Verdict(
                str(node), Truth.UNKNOWN, Source.NO_DATA, f"instrument {node.instrument!r} is not in the scenario"
            )
        state = InstrumentState.DRAFT
        since: date | None = None
        for h in inst.history:
            if h.on <= at:
                state, since = h.state, h.on
            else:
                break
        value = instrument_test(state, node.op, node.state)
        when = f" since {_fmt(since)}" if since else " (no dated change yet)"
        why = f"{inst.id} is {state.value}{when}"
        if state is InstrumentState.WITHDRAWN and node.op != "==":
            why += "; a withdrawn instrument passes no '>=' or '>' test"
        return Verdict(str(node), Truth.of(value), Source.INSTRUMENT, why, since)


def instrument_test(state: InstrumentState, op: str, wanted: InstrumentState) -> bool:
    """``state op wanted`` over the order draft < signed < ratified < in-force.

    With ``>=`` or ``>`` a withdrawn instrument fails (``>= withdrawn`` holds only when
    withdrawn); ``==`` compares exactly.
    """
    if op == "==":
        return state is wanted
    if wanted is InstrumentState.WITHDRAWN:
        return op == ">=" and state is InstrumentState.WITHDRAWN
    if state is InstrumentState.WITHDRAWN:
        return False
    rank = INSTRUMENT_STATE_ORDER.index
    return rank(state) >= rank(wanted) if op == ">=" else rank(state) > rank(wanted)


# ---------------------------------------------------------------------------------------------
# Functional front doors
# ---------------------------------------------------------------------------------------------


def evaluate(expr: Expr | str, at: date, scenario: Scenario, assumptions: Sequence[Assumption] = ()) -> Verdict:
    """Evaluate one expression at a date (builds a throw-away engine; reuse
    :class:`ConditionEngine` when evaluating many)."""
    return ConditionEngine(scenario, tuple(assumptions)).evaluate(expr, at)


def c_day(scenario: Scenario, assumptions: Sequence[Assumption] = (), *, condition: str = CEASEFIRE) -> date | None:
    """C-day: the date ``ceasefire`` becomes true, from assumptions or the timeline."""
    return ConditionEngine(scenario, tuple(assumptions)).c_day(condition)


__all__ = [
    "CEASEFIRE",
    "ConditionCycleError",
    "ConditionEngine",
    "Source",
    "Truth",
    "Verdict",
    "c_day",
    "check_assumptions",
    "evaluate",
    "find_cycles",
    "instrument_test",
    "kleene_all",
    "kleene_any",
    "known_condition_names",
    "parse_assumption",
    "parse_assumptions",
]
