"""The difference between any two revisions of a stored scenario, as a reader may see it.

Records are compared table by table (the eleven tables of :mod:`coalition.scenario.tables`, the
depots, stock lines, lots and item types of the depot network, the assumption sets, and the
document's own fields) by their key, field by field: *added*, *removed* or *changed* (each
changed field with its value before and after). A pledge's or a depot's marking (to whom it is
released) is one more field of the record, ``releasable_to``.

Releasability (docs/access-control.md): a restricted record (a pledge or a depot, and what
belongs to a depot: its stock lines and the lots in them) is compared only when the reader may
see it under the markings of *each* revision it exists in among the two compared and the head
(a record the head no longer holds: only for its own nation and HQ). Otherwise it is left out
entirely: no row, no count, no field name, so a diff never tells a nation what changed in a
record it may not see, nor how many such records changed. Sections that may describe pledges
without being pledge records (the sustainment and uncertainty sections) are compared only for a
reader who sees every pledge in the revisions compared and the head. The result says whether
anything may have been left out (``partial``: the reader does not see everything, whether or
not any such record changed, so the flag itself reveals nothing).

Pure comparison (:func:`diff_states`) plus one query function (:func:`visible_diff`); the
dashboard page ``/scenario/diff``, ``GET /api/scenarios/{ref}/diff`` and ``coalition scenario
diff`` all call :func:`visible_diff`, choose the revisions with :func:`chosen_range` and (API,
``--json``) show the result as :func:`diff_json`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from coalition.auth.schemas import Principal
from coalition.auth.scope import Scope, restrict
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Pledge
from coalition.scenario.tables import TABLES

if TYPE_CHECKING:
    from coalition.depots.schemas import Depot

# Document fields compared as one record each (the tables are compared record by record).
SECTIONS_FOR_ALL = ("id", "name", "description", "illustrative", "attribution", "horizon_days", "contact_line")
SECTIONS_COMPLETE_ONLY = ("sustainment", "uncertainty")


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RecordChange:
    key: str
    what: str  # "added", "removed" or "changed"
    fields: tuple[FieldChange, ...]  # changed: each field that differs; added/removed: all


@dataclass(frozen=True)
class TableChanges:
    table: str
    records: tuple[RecordChange, ...]


@dataclass(frozen=True)
class RevisionDiff:
    scenario_id: int
    from_revision: int
    to_revision: int
    head: int
    tables: tuple[TableChanges, ...]  # only tables with a change, in the documents' order
    partial: bool  # records the reader may not see were left out (said whatever changed)

    @property
    def count(self) -> int:
        return sum(len(t.records) for t in self.tables)


# ---------------------------------------------------------------------------------------------
# Pure comparison
# ---------------------------------------------------------------------------------------------

Rows = dict[str, dict[str, Any]]  # key -> flat JSON fields


def _json(value: Any) -> Any:
    """A field's value as the diff shows it: plain values as they are, others as compact JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _rows(records: Iterable[Any], key: str) -> Rows:
    out: Rows = {}
    for r in records:
        dumped = r.model_dump(mode="json")
        out[str(dumped.get(key))] = {k: _json(v) for k, v in dumped.items()}
    return out


def compare_rows(before: Rows, after: Rows) -> tuple[RecordChange, ...]:
    """Added, removed and changed records of one table (keys in sorted order)."""
    out = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None and b is not None:
            out.append(
                RecordChange(
                    key,
                    "added",
                    tuple(FieldChange(f, None, v) for f, v in b.items() if v not in (None, "", "[]", "{}")),
                )
            )
        elif b is None and a is not None:
            out.append(
                RecordChange(
                    key,
                    "removed",
                    tuple(FieldChange(f, v, None) for f, v in a.items() if v not in (None, "", "[]", "{}")),
                )
            )
        elif a is not None and b is not None and a != b:
            out.append(
                RecordChange(
                    key,
                    "changed",
                    tuple(FieldChange(f, a.get(f), b.get(f)) for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f)),
                )
            )
    return tuple(out)


#: may(kind, key) -> whether the reader may see that restricted record (kinds: "pledge",
#: "depot", "stock", "lot"); None: every record may be compared.
Visibility = Callable[[str, str], bool]


def _with_marking(rows: Rows, state: ScenarioState, kind: str, records: Iterable[Any]) -> Rows:
    for r in records:
        key = str(r.id)
        if key in rows:
            rows[key]["releasable_to"] = _json(list(_marking(state, kind, r).releasable_to))
    return rows


def _marking(state: ScenarioState, kind: str, record: Any) -> Any:
    if kind == "depot":
        from coalition.depots.queries import depot_marking

        return depot_marking(state, record)
    return state.marking(kind, record)


def _stock_rows(state: ScenarioState) -> Rows:
    net = state.scenario.depots
    out: Rows = {}
    for line in net.stock:  # one row per storehouse and lot (lines of both are summed)
        key = f"{line.storehouse}/{line.lot}"
        row = out.setdefault(key, {"storehouse": line.storehouse, "lot": line.lot, "quantity": 0})
        row["quantity"] += line.quantity
    return out


_TABLES: OrderedDict[int, tuple[ScenarioState, dict[str, Rows]]] = OrderedDict()
_TABLES_LOCK = threading.Lock()


def state_tables(state: ScenarioState) -> dict[str, Rows]:
    """Every comparable table of one revision, flat (restricted records included); kept for
    the few revisions compared last (a revision's state never changes; the value is shared and
    never changed: the filters below copy)."""
    with _TABLES_LOCK:
        hit = _TABLES.get(id(state))
        if hit is not None and hit[0] is state:
            _TABLES.move_to_end(id(state))
            return hit[1]
    out = _flatten(state)
    with _TABLES_LOCK:
        _TABLES[id(state)] = (state, out)
        while len(_TABLES) > 8:
            _TABLES.popitem(last=False)
    return out


def _flatten(state: ScenarioState) -> dict[str, Rows]:
    sc = state.scenario
    out: dict[str, Rows] = {}
    for t in TABLES:
        out[t.name] = _rows(getattr(sc, t.name), t.key)
    _with_marking(out["pledges"], state, "pledge", sc.pledges)
    net = sc.depots
    out["depots"] = _with_marking(_rows(net.depots, "id"), state, "depot", net.depots)
    out["stock"] = _stock_rows(state)
    out["lots"] = _rows(net.lots, "id")
    out["items"] = _rows(net.items, "id")
    out["assumption_sets"] = {
        s.name: {"name": s.name, "owner": s.owner, "assumptions": _json(list(s.assumptions))}
        for s in state.assumption_sets.values()
    }
    dumped = sc.model_dump(mode="json", include=set(SECTIONS_FOR_ALL + SECTIONS_COMPLETE_ONLY))
    out["document"] = {name: {"value": _json(dumped.get(name))} for name in SECTIONS_FOR_ALL + SECTIONS_COMPLETE_ONLY}
    return out


RESTRICTED = {"pledges": "pledge", "depots": "depot", "stock": "stock", "lots": "lot"}
TABLE_ORDER = (*(t.name for t in TABLES), "depots", "stock", "lots", "items", "assumption_sets", "document")


def diff_states(
    a: ScenarioState, b: ScenarioState, may: Visibility | None = None, complete: bool = True
) -> tuple[TableChanges, ...]:
    """Every difference from ``a`` to ``b`` of the records ``may`` lets the reader see
    (``complete``: the reader sees every pledge, so the sections that may describe pledges are
    compared too)."""
    if a is b:
        return ()
    ta, tb = state_tables(a), state_tables(b)
    out = []
    for name in TABLE_ORDER:
        before, after = ta[name], tb[name]
        kind = RESTRICTED.get(name)
        if kind is not None and may is not None:
            before = {k: v for k, v in before.items() if may(kind, k)}
            after = {k: v for k, v in after.items() if may(kind, k)}
        if name == "document" and not complete:
            before = {k: v for k, v in before.items() if k not in SECTIONS_COMPLETE_ONLY}
            after = {k: v for k, v in after.items() if k not in SECTIONS_COMPLETE_ONLY}
        records = compare_rows(before, after)
        if records:
            out.append(TableChanges(name, records))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# What a reader may see
# ---------------------------------------------------------------------------------------------


def _visible_keys(principal: Principal, state: ScenarioState) -> dict[str, set[str]]:
    """The restricted records of one revision the reader may see, by kind."""
    from coalition.auth.rules import has_permission
    from coalition.depots.queries import depot_marking

    sc = state.scenario
    net = sc.depots
    seen_pledges: set[str] = set()
    seen_depots: set[str] = set()
    if has_permission(principal, "pledge.view"):
        pledges: Scope[Pledge] = restrict(principal, "pledge.view", lambda p: state.marking("pledge", p))
        seen_pledges = {p.id for p in pledges.filter(sc.pledges)}
    if has_permission(principal, "depot.view"):
        depots: Scope[Depot] = restrict(principal, "depot.view", lambda d: depot_marking(state, d))
        seen_depots = {d.id for d in depots.filter(net.depots)}
    where = {s.id: d.id for d in net.depots for s in d.storehouses}
    stock = {f"{x.storehouse}/{x.lot}" for x in net.stock if where.get(x.storehouse) in seen_depots}
    hidden_lots = {x.lot for x in net.stock if where.get(x.storehouse) not in seen_depots}
    shown_lots = {x.lot for x in net.stock if where.get(x.storehouse) in seen_depots}
    return {"pledge": seen_pledges, "depot": seen_depots, "stock": stock, "lot": shown_lots - hidden_lots}


def _all_keys(state: ScenarioState) -> dict[str, set[str]]:
    net = state.scenario.depots
    return {
        "pledge": {p.id for p in state.scenario.pledges},
        "depot": {d.id for d in net.depots},
        "stock": {f"{x.storehouse}/{x.lot}" for x in net.stock},
        "lot": {lot.id for lot in net.lots},
    }


def _origin_nations(states: Iterable[ScenarioState]) -> dict[tuple[str, str], set[str]]:
    """Nation(s) owning each pledge and depot in these revisions (a record the head lost is
    compared only for them)."""
    from coalition.depots.queries import depot_marking

    out: dict[tuple[str, str], set[str]] = {}
    for st in states:
        for p in st.scenario.pledges:
            out.setdefault(("pledge", p.id), set()).add(st.marking("pledge", p).origin)
        for d in st.scenario.depots.depots:
            out.setdefault(("depot", d.id), set()).add(depot_marking(st, d).origin)
    return out


def reader_visibility(principal: Principal, states: list[ScenarioState]) -> tuple[Visibility, bool]:
    """``may(kind, key)`` for a reader over revisions ``states`` (the two compared, then the
    head), and whether the reader sees every restricted record in all of them."""
    distinct = {id(st): st for st in states}  # a revision compared with itself or the head
    seen_of = {k: _visible_keys(principal, st) for k, st in distinct.items()}
    every_of = {k: _all_keys(st) for k, st in distinct.items()}
    seen = [seen_of[id(st)] for st in states]
    every = [every_of[id(st)] for st in states]
    head_all = every[-1]
    origins = _origin_nations(states)
    complete = all(seen[i][k] >= every[i][k] for i in range(len(states)) for k in every[i])

    def may(kind: str, key: str) -> bool:
        for s, e in zip(seen, every, strict=True):
            if key in e[kind] and key not in s[kind]:
                return False
        if key not in head_all[kind] and kind in ("pledge", "depot"):
            return principal.is_hq or principal.nation in origins.get((kind, key), set())
        return True

    return may, complete


def visible_diff(
    session: Session,
    principal: Principal,
    *,
    scenario_id: int,
    from_revision: int,
    to_revision: int,
    cache: store.ScenarioCache | None = None,
) -> RevisionDiff:
    """The changes from one revision to another (either order; any two of 1..head) that the
    reader may see. Unknown revisions are a NotFoundError naming the valid range."""
    restrict(principal, "scenario.view", lambda _r: _public())
    _sid, head = store.scenario_header(session, ref=scenario_id)
    for rev in (to_revision, from_revision):  # "to" first: a default "from" derives from it
        if rev < 1 or rev > head:
            from coalition.errors import NotFoundError

            raise NotFoundError(f"scenario {scenario_id} has no revision {rev} (revisions are 1..{head})")
    a = store.state_at(session, scenario_id=scenario_id, revision=from_revision, cache=cache)
    b = store.state_at(session, scenario_id=scenario_id, revision=to_revision, cache=cache)
    h = store.state_at(session, scenario_id=scenario_id, revision=head, cache=cache)
    may, complete = reader_visibility(principal, [a, b, h])
    tables = diff_states(a, b, None if complete else may, complete)
    return RevisionDiff(scenario_id, from_revision, to_revision, head, tables, not complete)


def chosen_range(head: int, from_revision: int | None, to_revision: int | None) -> tuple[int, int]:
    """The two revisions compared when the reader names one or none: ``to`` defaults to the
    head, ``from`` to the revision before ``to`` (the head's own change)."""
    to = head if to_revision is None else to_revision
    return (max(1, to - 1) if from_revision is None else from_revision), to


def diff_json(diff: RevisionDiff) -> dict[str, Any]:
    """The diff as plain JSON (the API's answer and ``coalition scenario diff --json``)."""
    return {**asdict(diff), "count": diff.count}


def _public() -> Any:
    from coalition.auth.rules import PUBLIC

    return PUBLIC


__all__ = [
    "FieldChange",
    "RecordChange",
    "RevisionDiff",
    "TableChanges",
    "chosen_range",
    "compare_rows",
    "diff_json",
    "diff_states",
    "reader_visibility",
    "state_tables",
    "visible_diff",
]
