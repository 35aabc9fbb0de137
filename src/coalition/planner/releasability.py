"""Releasability of derived data: the one place that decides what a reader sees of aggregates.

The policy (docs/access-control.md, "Derived data"): a reader's gap pictures, plans,
explanations, map and dashboard are computed from, or cut down to, the pledges the reader may
see (its own nation's and those released to it, through :func:`coalition.auth.scope.restrict`
with the stored revision's markings). Of the pledges it may not see, it learns exactly one thing
per requirement line: whether the coalition as a whole fills it (``coalition_filled``, a yes/no,
never a count). Nothing else of them — no per-nation totals, no units, personnel, tonnage, dates
or corridors of their unit lines, no reasons, condition names, caveats or explanations — reaches
it, so no difference between two answers (e.g. two force options) can reveal them either.

The query functions of :mod:`coalition.planner.visible` (called by the API's routers and the
dashboard's pages alike) call :func:`reader_view`, then :func:`gaps_for` or :func:`plan_of_run`;
nothing redacts by hand. Pure apart from the caches: no database, no HTTP.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from coalition.auth.schemas import Principal
from coalition.auth.scope import Scope, restrict
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Pledge, Scenario

BASIS = "pledges visible to you (your nation's and those released to you)"


@dataclass(frozen=True)
class ReaderView:
    """Which pledges of a scenario the reader may see."""

    visible: frozenset[str]
    hidden: frozenset[str]
    nations: frozenset[str]  # nations every pledge of which the reader may see (and its own)
    own_nation: str

    @property
    def complete(self) -> bool:
        """The reader sees every pledge: aggregates need no cutting down."""
        return not self.hidden


def reader_view(principal: Principal, state: ScenarioState) -> ReaderView:
    """The reader's view of a stored revision (its pledge markings decide); cached per revision
    state and the two things the scope depends on, the reader's nation and roles."""
    key = (principal.nation, principal.roles)
    hit = VIEWS.get(state, key)
    if hit is None:
        hit = _reader_view(principal, state)
        VIEWS.put(state, key, hit)
    return hit


def _reader_view(principal: Principal, state: ScenarioState) -> ReaderView:
    sc = state.scenario
    scope: Scope[Pledge] = restrict(principal, "pledge.view", lambda p: state.marking("pledge", p))
    visible = frozenset(p.id for p in scope.filter(sc.pledges))
    hidden = frozenset(p.id for p in sc.pledges) - visible
    partly_hidden = {p.nation for p in sc.pledges if p.id in hidden}
    nations = frozenset({principal.nation} | {p.nation for p in sc.pledges} - partly_hidden)
    return ReaderView(visible, hidden, nations, principal.nation)


def visible_scenario(sc: Scenario, view: ReaderView) -> Scenario:
    """The scenario as the reader may know it: only the pledges it may see."""
    if view.complete:
        return sc
    return sc.model_copy(update={"pledges": tuple(p for p in sc.pledges if p.id in view.visible)})


# --------------------------------------------------------------------------------------------
# Gap pictures (cached: the same question from the same view gets the same answer)
# --------------------------------------------------------------------------------------------


_Anchor = TypeVar("_Anchor")
_Value = TypeVar("_Value")


class _Cache(Generic[_Anchor, _Value]):
    """Values by (anchor object, key), kept while the anchor is the same object (a scenario
    revision, a revision state, a run's key); least recently used out first."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[Any, ...], tuple[_Anchor, _Value]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, sc: _Anchor, key: tuple[Any, ...]) -> _Value | None:
        with self._lock:
            hit = self._items.get((id(sc), *key))
            if hit is not None and hit[0] is sc:  # the same cached scenario revision
                self._items.move_to_end((id(sc), *key))
                return hit[1]
        return None

    def put(self, sc: _Anchor, key: tuple[Any, ...], value: _Value) -> None:
        with self._lock:
            self._items[(id(sc), *key)] = (sc, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


GAPS: _Cache[Scenario, bytes] = _Cache()
VIEWS: _Cache[ScenarioState, ReaderView] = _Cache(size=256)

#: ``compute(scenario, visible, option, at, assume) -> bytes``: the encoded answer of a cache
#: miss. The API hands in one that runs :func:`gaps_json` in its worker pool with a time limit.
GapsCompute = Callable[[Scenario, "frozenset[str] | None", str, "str | None", "list[str]"], bytes]


def _picture(sc: Scenario, option: str, at: str | None, assume: list[str]) -> dict[str, Any]:
    """The full picture (problems name the shared resolution's fields; the API renames them)."""
    from coalition.forcegen.gaps import check_option, gap_picture
    from coalition.forcegen.inputs import resolve_inputs

    check_option(sc, option, field="option")
    assumptions, engine, day = resolve_inputs(sc, assume, at, [option])
    return gap_picture(sc, option, day, assumptions, engine=engine).to_json(explain=True)


def compute_gaps(
    sc: Scenario, visible: frozenset[str] | None, option: str, at: str | None, assume: list[str]
) -> dict[str, Any]:
    """The gap picture of ``option`` computed from the pledges in ``visible`` (None: every
    pledge), with ``coalition_filled`` per line from the full computation (see the module's
    policy). Pure and CPU-bound: the API runs it in its worker pool."""
    full = _picture(sc, option, at, assume)
    if visible is None or visible >= {p.id for p in sc.pledges}:
        out = {**full, "basis": "all pledges", "redacted": False}
        return out
    partial = sc.model_copy(update={"pledges": tuple(p for p in sc.pledges if p.id in visible)})
    out = _picture(partial, option, at, assume)
    coalition = {line["line"]: line["filled_units"] >= line["required_units"] for line in full.get("lines", [])}
    out["lines"] = [{**line, "coalition_filled": coalition.get(line["line"], False)} for line in out.get("lines", [])]
    out["basis"] = BASIS
    out["redacted"] = True
    return out


def gaps_json(sc: Scenario, visible: frozenset[str] | None, option: str, at: str | None, assume: list[str]) -> bytes:
    """:func:`compute_gaps`, encoded (the form the caches keep and the API sends)."""
    return _encode(compute_gaps(sc, visible, option, at, assume))


_INFLIGHT: dict[tuple[Any, ...], Future[bytes]] = {}
_INFLIGHT_LOCK = threading.Lock()


def gaps_key(view: ReaderView, option: str, at: str | None, assume: list[str]) -> tuple[Any, ...]:
    """What a cached gap picture is keyed by, besides the scenario revision (the cached
    scenario object): the question, and the reader's whole view (its nation and the exact set
    of pledges it may see), so no answer computed for one view is ever served to another. A
    question without a date is also keyed by today's date, which it defaults to."""
    from datetime import date

    day = at if at is not None else f"today={date.today().isoformat()}"
    return (option, day, tuple(assume), view)


def gaps_encoded(
    sc: Scenario,
    view: ReaderView,
    option: str,
    at: str | None,
    assume: list[str],
    *,
    compute: GapsCompute | None = None,
) -> bytes:
    """The reader's gap picture as JSON bytes: from the cache, else computed once (concurrent
    requests for the same missing answer wait for the one computation)."""
    key = gaps_key(view, option, at, assume)
    hit = GAPS.get(sc, key)
    if hit is not None:
        return hit
    flight_key = (id(sc), *key)
    with _INFLIGHT_LOCK:
        running = _INFLIGHT.get(flight_key)
        mine = running is None
        if mine:
            running = _INFLIGHT[flight_key] = Future()
    assert running is not None
    if not mine:
        return running.result()
    try:
        visible = None if view.complete else view.visible
        body = (compute or gaps_json)(sc, visible, option, at, list(assume))
        GAPS.put(sc, key, body)
        running.set_result(body)
        return body
    except BaseException as exc:
        running.set_exception(exc)
        raise
    finally:
        with _INFLIGHT_LOCK:
            _INFLIGHT.pop(flight_key, None)


# --------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------


PLANS: _Cache[_RunKey, dict[str, Any]] = _Cache(size=256)


class _RunKey:
    """Cache anchor of a finished run (its result never changes once it is done)."""


_RUN_ANCHORS: dict[tuple[int, int], _RunKey] = {}
_ANCHOR_LOCK = threading.Lock()


def plan_of_run(run: Any, view: ReaderView, load: Callable[[], dict[str, Any]], *, owner: object) -> dict[str, Any]:
    """:func:`plan_for` of a finished plan run, cached per owner (the app's scenario cache), run
    and view; ``load`` (which reads the stored plan) is called only on a miss."""
    with _ANCHOR_LOCK:
        anchor = _RUN_ANCHORS.setdefault((id(owner), int(run.id)), _RunKey())
    key = (str(run.finished_at), run.reused_from, view)
    hit = PLANS.get(anchor, key)
    if hit is not None:
        return hit
    out = plan_for(load() or {}, view)
    PLANS.put(anchor, key, out)
    return out


_ENCODED: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()
_ENCODED_LOCK = threading.Lock()


def encoded(value: dict[str, Any]) -> bytes:
    """The UTF-8 JSON of a cached answer, encoded once per cached object (answers from the
    caches above are shared and never changed); the interfaces send these bytes as they are."""
    with _ENCODED_LOCK:
        hit = _ENCODED.get(id(value))
        body = hit[1] if hit is not None and hit[0] is value else None
    if body is None:
        body = _encode(value)
        with _ENCODED_LOCK:
            _ENCODED[id(value)] = (value, body)
            while len(_ENCODED) > 512:
                _ENCODED.popitem(last=False)
    return body


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _covers(line: dict[str, Any], start: int, end: int) -> bool:
    first = line.get("arrival_day", line.get("tour_start_day", 0))
    last = line.get("tour_end_day", first)
    return first is not None and last is not None and first < end and last >= start


# Plan fields a partial view keeps as they are (about the question, not the answer) ...
PLAN_HEADER = frozenset(
    {
        "schema_version",
        "scenario",
        "scenario_illustrative",
        "option",
        "at",
        "c_day",
        "c_day_assumed",
        "assumptions",
        "period_days",
        "horizon_days",
        "seed",
        "weights",
    }
)
# ... and the fields :func:`plan_for` rebuilds for the reader's own pledges.
PLAN_CUT = frozenset(
    {
        "solve",
        "unit_lines",
        "assignments",
        "rotations",
        "active_pledges",
        "inactive_pledges",
        "fill",
        "gaps",
        "warnings",
    }
)


def plan_for(plan: dict[str, Any], view: ReaderView) -> dict[str, Any]:
    """A stored plan as this reader may see it (see the module's policy)."""
    if view.complete:
        return {**plan, "redacted": False}
    visible = view.visible
    # An allow-list, not a deny-list: a section added to the plan later (precedence, medical:
    # computed over the whole force) is withheld from a partial view until it is cut for it.
    out: dict[str, Any] = {k: v for k, v in plan.items() if k in PLAN_HEADER}
    out["withheld"] = sorted(k for k in plan if k not in PLAN_HEADER and k not in PLAN_CUT)
    out["solve"] = {k: v for k, v in (plan.get("solve") or {}).items() if k in ("solver", "status", "best_so_far")}
    lines = [ln for ln in plan.get("unit_lines", []) if ln.get("pledge") in visible]
    out["unit_lines"] = lines
    out["assignments"] = [
        {**a, "alternatives": [alt for alt in a.get("alternatives", []) if alt.get("pledge") in visible]}
        for a in plan.get("assignments", [])
        if a.get("pledge") in visible
    ]
    out["rotations"] = [r for r in plan.get("rotations", []) if r.get("nation") in view.nations]
    out["active_pledges"] = [p for p in plan.get("active_pledges", []) if p in visible]
    out["inactive_pledges"] = [p for p in plan.get("inactive_pledges", []) if p in visible]
    period = int(plan.get("period_days") or 28)
    out["fill"] = [
        {
            "capability": f.get("capability"),
            "hub": f.get("hub"),
            "period": f.get("period"),
            "start_day": f.get("start_day"),
            "required": f.get("required"),
            "filled": sum(
                1
                for ln in lines
                if ln.get("capability") == f.get("capability")
                and ln.get("hub") == f.get("hub")
                and _covers(ln, f.get("start_day") or 0, (f.get("start_day") or 0) + period)
            ),
            "coalition_filled": (f.get("filled") or 0) >= (f.get("required") or 0),
        }
        for f in plan.get("fill", [])
    ]
    out["gaps"] = [
        {
            "requirement": g.get("requirement"),
            "capability": g.get("capability"),
            "place": g.get("place"),
            "priority": g.get("priority"),
            "short": True,
        }
        for g in plan.get("gaps", [])
    ]
    hidden_words = set(view.hidden) | ({p for p in _nations_of(plan)} - set(view.nations))
    out["warnings"] = [w for w in plan.get("warnings", []) if not any(word in w for word in hidden_words)]
    out["redacted"] = True
    out["basis"] = BASIS
    return out


def _nations_of(plan: dict[str, Any]) -> set[str]:
    return {str(ln.get("nation")) for ln in plan.get("unit_lines", []) if ln.get("nation")}
