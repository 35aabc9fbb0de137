"""Pure rules of stored scenarios: the pledge lifecycle, who may make which change, and how a
change (or a whole uploaded document, as a diff) turns one revision's state into the next.

No database here. :mod:`coalition.scenario.store` loads the current state, asks
:func:`refusals` whether the principal may make the change, calls :func:`apply` and writes the
next revision.

Lifecycle: offered → accepted → verified → committed → deployed, one step at a time; any state
except withdrawn → withdrawn (final). Ownership:

* accepting and verifying a pledge are headquarters (HQ) decisions;
* committing, deploying and withdrawing are the pledging nation's (HQ may act for it);
* a pledge's content (units, notice, caveats, …) and its releasability belong to the pledging
  nation only; a pledge is never moved to another nation, never removed (it is withdrawn), and a
  withdrawn pledge is not edited;
* the shared records (nations, requirements, hubs, corridors, timeline, depots, …) are HQ's;
* an assumption set belongs to the nation that first set it (HQ may change any).

Every refusal names the change and the rule, so an upload refused as a whole lists each change
the uploader may not make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal
from coalition.scenario.schemas import Ident, Pledge, PledgeState, Scenario

ORDER = (
    PledgeState.OFFERED,
    PledgeState.ACCEPTED,
    PledgeState.VERIFIED,
    PledgeState.COMMITTED,
    PledgeState.DEPLOYED,
)
HQ_DECISIONS = frozenset({PledgeState.ACCEPTED, PledgeState.VERIFIED})
MARKED_KINDS = ("pledge", "depot")
"""Kinds whose records carry a releasability marking (absent: the kind's default)."""

# Sections of the document that are shared coalition records (HQ changes them), with the key
# field of their records. Pledges are handled record by record; the rest by section.
SHARED_SECTIONS: dict[str, str | None] = {
    "nations": "code",
    "instruments": "id",
    "conditions": "name",
    "timeline": None,
    "capabilities": "code",
    "force_options": "id",
    "requirements": "id",
    "hubs": "id",
    "rear_nodes": "id",
    "corridors": "id",
    "contact_line": None,
    "depots": None,
    "name": None,
    "description": None,
    "illustrative": None,
    "attribution": None,
    "horizon_days": None,
}


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------


def allowed_next(state: PledgeState) -> tuple[PledgeState, ...]:
    if state == PledgeState.WITHDRAWN:
        return ()
    i = ORDER.index(state)
    nxt = (ORDER[i + 1],) if i + 1 < len(ORDER) else ()
    return nxt + (PledgeState.WITHDRAWN,)


# ---------------------------------------------------------------------------------------------
# Typed changes (stored as the JSON of the revision that applied them)
# ---------------------------------------------------------------------------------------------


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = Field(default="", max_length=1000)


class TransitionPledge(_Change):
    kind: Literal["pledge.transition"] = "pledge.transition"
    pledge: Ident
    to: PledgeState


class EditPledge(_Change):
    """Add a pledge (new id, state offered) or replace its content (the state stays)."""

    kind: Literal["pledge.edit"] = "pledge.edit"
    pledge: Pledge


class SetReleasability(_Change):
    kind: Literal["release"] = "release"
    object_kind: Literal["pledge", "depot"] = "pledge"
    object_id: Ident
    releasable_to: tuple[Annotated[str, Field(pattern=r"^([A-Z]{3}|HQ|ALL)$")], ...] = Field(max_length=60)


class SetAssumptions(_Change):
    """A named set of ``NAME=VALUE`` assumptions kept with the scenario (empty: removed)."""

    kind: Literal["assumptions.set"] = "assumptions.set"
    name: Ident
    assumptions: tuple[Annotated[str, Field(max_length=120)], ...] = Field(max_length=50)


class ImportDocument(_Change):
    """A whole document: diffed against the current revision, each difference checked."""

    kind: Literal["import"] = "import"
    scenario: Scenario


Change = Annotated[
    TransitionPledge | EditPledge | SetReleasability | SetAssumptions | ImportDocument,
    Field(discriminator="kind"),
]


class _ChangeBox(BaseModel):
    change: Change


def parse_change(data: Mapping[str, object]) -> BaseModel:
    """A stored change's JSON back to its typed value."""
    return _ChangeBox.model_validate({"change": data}).change


# ---------------------------------------------------------------------------------------------
# State of one revision
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why one change (or one part of an upload) is not allowed, and which rule says so."""

    rule: Literal["lifecycle", "ownership", "missing"]
    message: str

    def __str__(self) -> str:
        return self.message


def _own(message: str) -> Refusal:
    return Refusal("ownership", message)


@dataclass(frozen=True)
class AssumptionSet:
    name: str
    owner: str
    assumptions: tuple[str, ...]


@dataclass(frozen=True)
class ScenarioState:
    """Everything one revision holds: the document, marking overrides, assumption sets."""

    scenario: Scenario
    markings: Mapping[tuple[str, str], Marking] = field(default_factory=dict)
    assumption_sets: Mapping[str, AssumptionSet] = field(default_factory=dict)

    def pledge(self, pledge_id: str) -> Pledge | None:
        return next((p for p in self.scenario.pledges if p.id == pledge_id), None)

    def marking(self, kind: str, record: object) -> Marking:
        key = str(getattr(record, "code", None) or getattr(record, "id", None) or "")
        if not key:
            raise TypeError(f"a {kind} record without an id or code has no marking")
        return self.markings.get((kind, key)) or default_marking(kind, record)

    def to_json(self) -> dict[str, object]:
        return {
            "document": self.scenario.model_dump(mode="json"),
            "markings": [
                {"kind": k, "id": i, "origin": m.origin, "releasable_to": list(m.releasable_to)}
                for (k, i), m in sorted(self.markings.items())
            ],
            "assumption_sets": [
                {"name": s.name, "owner": s.owner, "assumptions": list(s.assumptions)}
                for s in sorted(self.assumption_sets.values(), key=lambda s: s.name)
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScenarioState:
        """The inverse of :meth:`to_json` (``data`` is that JSON, read back from the store)."""
        marks = {
            (str(m["kind"]), str(m["id"])): Marking(origin=m["origin"], releasable_to=tuple(m["releasable_to"]))
            for m in data.get("markings") or ()
        }
        sets = {
            str(s["name"]): AssumptionSet(str(s["name"]), str(s["owner"]), tuple(s["assumptions"]))
            for s in data.get("assumption_sets") or ()
        }
        return cls(Scenario.model_validate(data["document"]), marks, sets)


def default_marking(kind: str, record: object) -> Marking:
    """A record's marking when no override is stored: pledges and depots are their nation's,
    released to HQ; every other kind is public."""
    from coalition.auth.rules import PUBLIC

    if kind == "pledge":
        if not isinstance(record, Pledge):
            raise TypeError(f"a pledge marking needs a Pledge, not {type(record).__name__}")
        return Marking(origin=record.nation, releasable_to=(HQ,))
    if kind == "depot":
        origin = getattr(record, "nation", None) or getattr(record, "operator", None) or HQ
        return Marking(origin=str(origin), releasable_to=(HQ,))
    return PUBLIC


# ---------------------------------------------------------------------------------------------
# Diff of a whole document against the current state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentChange:
    """One difference between an uploaded document and the current revision."""

    what: str  # "pledge.transition", "pledge.edit", "pledge.add", "pledge.remove", "records"
    target: str  # pledge id or section name
    detail: str
    pledge: Pledge | None = None
    before: Pledge | None = None


def diff(current: Scenario, uploaded: Scenario) -> list[DocumentChange]:
    """Every difference an upload would make, pledge by pledge and section by section."""
    out: list[DocumentChange] = []
    old = {p.id: p for p in current.pledges}
    new = {p.id: p for p in uploaded.pledges}
    for pid, before in old.items():
        after = new.get(pid)
        if after is None:
            out.append(DocumentChange("pledge.remove", pid, "removed", before=before))
            continue
        if after.state != before.state:
            out.append(
                DocumentChange("pledge.transition", pid, f"{before.state.value} → {after.state.value}", after, before)
            )
        if after.model_copy(update={"state": before.state}) != before:
            fields = sorted(k for k in Pledge.model_fields if k != "state" and getattr(after, k) != getattr(before, k))
            out.append(DocumentChange("pledge.edit", pid, "changes " + ", ".join(fields), after, before))
    for pid, after in new.items():
        if pid not in old:
            out.append(DocumentChange("pledge.add", pid, f"new pledge of {after.nation}", after))
    for section in SHARED_SECTIONS:
        if getattr(current, section) != getattr(uploaded, section):
            out.append(DocumentChange("records", section, f"changes {section}"))
    return out


# ---------------------------------------------------------------------------------------------
# Ownership: who may make which change
# ---------------------------------------------------------------------------------------------


def _transition_refusals(principal: Principal, pledge: Pledge, to: PledgeState) -> list[Refusal]:
    out: list[Refusal] = []
    legal = allowed_next(pledge.state)
    if to not in legal:
        valid = ", ".join(s.value for s in legal) or "none (withdrawn is final)"
        out.append(
            Refusal(
                "lifecycle",
                f"pledge '{pledge.id}' is {pledge.state.value}; it "
                f"cannot become {to.value} (one step at a time; valid next states: "
                f"{valid})",
            )
        )
    if to in HQ_DECISIONS and principal.nation != HQ:
        out.append(
            _own(
                f"pledge '{pledge.id}' → {to.value}: accepting and verifying are "
                f"headquarters decisions, not {principal.nation}'s"
            )
        )
    elif to not in HQ_DECISIONS and principal.nation not in (HQ, pledge.nation):
        out.append(
            _own(
                f"pledge '{pledge.id}' → {to.value}: only {pledge.nation} (or HQ) "
                f"moves {pledge.nation}'s pledge, not {principal.nation}"
            )
        )
    return out


def _edit_refusals(principal: Principal, before: Pledge | None, after: Pledge) -> list[Refusal]:
    out: list[Refusal] = []
    if before is None:
        if after.nation != principal.nation:
            out.append(
                _own(f"pledge '{after.id}': only {after.nation} pledges for {after.nation}, not {principal.nation}")
            )
        if after.state != PledgeState.OFFERED:
            out.append(
                Refusal(
                    "lifecycle",
                    f"pledge '{after.id}': a new pledge starts offered, "
                    f"not {after.state.value} (valid next states: offered)",
                )
            )
        return out
    if principal.nation != before.nation:
        out.append(
            _own(f"pledge '{before.id}': only {before.nation} changes {before.nation}'s pledge, not {principal.nation}")
        )
    if after.nation != before.nation:
        out.append(_own(f"pledge '{before.id}': a pledge cannot move from {before.nation} to {after.nation}"))
    if before.state == PledgeState.WITHDRAWN:
        out.append(Refusal("lifecycle", f"pledge '{before.id}' is withdrawn (final); it is not edited"))
    if after.state != before.state:
        out.append(Refusal("lifecycle", f"pledge '{before.id}': change the state with a transition, not an edit"))
    return out


def refusals(state: ScenarioState, change: BaseModel, principal: Principal) -> list[Refusal]:
    """Every reason the principal may not make ``change`` (empty: allowed).

    The role (``pledge.transition`` …) is checked by the caller through the access-control
    choke point; this is the domain's ownership and lifecycle check, for every change kind.
    """
    sc = state.scenario
    if isinstance(change, TransitionPledge):
        pledge = state.pledge(change.pledge)
        if pledge is None:
            return [Refusal("missing", f"pledge '{change.pledge}' does not exist")]
        return _transition_refusals(principal, pledge, change.to)
    if isinstance(change, EditPledge):
        return _edit_refusals(principal, state.pledge(change.pledge.id), change.pledge)
    if isinstance(change, SetReleasability):
        records = sc.pledges if change.object_kind == "pledge" else sc.depots.depots
        record = next((r for r in records if r.id == change.object_id), None)
        if record is None:
            return [Refusal("missing", f"{change.object_kind} '{change.object_id}' does not exist")]
        origin = state.marking(change.object_kind, record).origin
        if origin != principal.nation:
            return [
                _own(
                    f"{change.object_kind} '{change.object_id}': only {origin} decides to "
                    f"whom it is released, not {principal.nation}"
                )
            ]
        return []
    if isinstance(change, SetAssumptions):
        existing = state.assumption_sets.get(change.name)
        if existing and principal.nation not in (HQ, existing.owner):
            return [
                _own(
                    f"assumption set '{change.name}' belongs to {existing.owner}; {principal.nation} may not change it"
                )
            ]
        return []
    if isinstance(change, ImportDocument):
        return import_refusals(state, change.scenario, principal)
    return [Refusal("missing", f"unknown change {type(change).__name__}")]


def import_refusals(state: ScenarioState, uploaded: Scenario, principal: Principal) -> list[Refusal]:
    """The diff of an upload, each difference checked by the same rules as a single change."""
    out: list[Refusal] = []
    if uploaded.id != state.scenario.id:
        out.append(Refusal("missing", f"the document is scenario '{uploaded.id}', not '{state.scenario.id}'"))
    for d in diff(state.scenario, uploaded):
        if d.what == "pledge.remove":
            out.append(_own(f"pledge '{d.target}' would be removed; pledges are withdrawn, never removed"))
        elif d.what == "pledge.transition":
            assert d.before is not None and d.pledge is not None
            out += _transition_refusals(principal, d.before, d.pledge.state)
        elif d.what in ("pledge.edit", "pledge.add"):
            assert d.pledge is not None
            before = d.before
            after = d.pledge if before is None else d.pledge.model_copy(update={"state": before.state})
            out += _edit_refusals(principal, before, after)
        elif d.what == "records" and principal.nation != HQ:
            out.append(_own(f"{d.target}: shared records are changed by HQ, not {principal.nation}"))
    return out


# ---------------------------------------------------------------------------------------------
# Applying a change (assumes refusals() returned nothing)
# ---------------------------------------------------------------------------------------------


def _with_pledge(sc: Scenario, pledge: Pledge) -> Scenario:
    if any(p.id == pledge.id for p in sc.pledges):
        pledges = tuple(pledge if p.id == pledge.id else p for p in sc.pledges)
    else:
        pledges = (*sc.pledges, pledge)
    return sc.model_copy(update={"pledges": pledges})


def apply(state: ScenarioState, change: BaseModel, nation: str) -> ScenarioState:
    """The state after ``change`` made by ``nation`` (pure; the caller checked it first)."""
    sc = state.scenario
    if isinstance(change, TransitionPledge):
        pledge = state.pledge(change.pledge)
        assert pledge is not None
        return ScenarioState(
            _with_pledge(sc, pledge.model_copy(update={"state": change.to})), state.markings, state.assumption_sets
        )
    if isinstance(change, EditPledge):
        before = state.pledge(change.pledge.id)
        after = change.pledge if before is None else change.pledge.model_copy(update={"state": before.state})
        return ScenarioState(_with_pledge(sc, after), state.markings, state.assumption_sets)
    if isinstance(change, SetReleasability):
        records = sc.pledges if change.object_kind == "pledge" else sc.depots.depots
        record = next(r for r in records if r.id == change.object_id)
        origin = state.marking(change.object_kind, record).origin
        marks = dict(state.markings)
        marks[(change.object_kind, change.object_id)] = Marking(
            origin=origin, releasable_to=tuple(sorted(set(change.releasable_to)))
        )
        return ScenarioState(sc, marks, state.assumption_sets)
    if isinstance(change, SetAssumptions):
        sets = dict(state.assumption_sets)
        if not change.assumptions:
            sets.pop(change.name, None)
        else:
            owner = sets[change.name].owner if change.name in sets else nation
            sets[change.name] = AssumptionSet(change.name, owner, tuple(change.assumptions))
        return ScenarioState(sc, state.markings, sets)
    if isinstance(change, ImportDocument):
        return ScenarioState(change.scenario, state.markings, state.assumption_sets)
    raise TypeError(f"unknown change {type(change).__name__}")


__all__ = [
    "HQ_DECISIONS",
    "MARKED_KINDS",
    "ORDER",
    "AssumptionSet",
    "Refusal",
    "Change",
    "DocumentChange",
    "EditPledge",
    "ImportDocument",
    "ScenarioState",
    "SetAssumptions",
    "SetReleasability",
    "TransitionPledge",
    "allowed_next",
    "apply",
    "default_marking",
    "diff",
    "import_refusals",
    "parse_change",
    "refusals",
]
