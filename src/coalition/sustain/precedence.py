"""Enablers first: precedence rules as data, and a pure checker over a plan's unit lines.

A rule says: in each scope (a hub, a region, or the whole force), the first unit with one of the
``before`` roles arrives no later than the first unit with one of the ``after`` roles ("before"
compares arrival days). A unit that has a ``before`` role is never counted in the ``after``
group of the same rule. ``require_present``: a scope with ``after`` units but no ``before`` unit
at all is a violation too (the force HQ must exist before manoeuvre starts).

The defaults (:data:`DEFAULT_RULES`) follow doctrine's "command, signals, medical and enablers
first"; a scenario overrides one by giving a rule with the same ``id`` in
``sustainment.precedence`` (``enabled: false`` switches it off) or adds its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coalition.scenario.schemas import Evidence, PrecedenceRule, PrecedenceScope, Scenario
from coalition.sustain.demand import PlanLine

_DOCTRINE = (
    "doctrine: command, signals, medical and enablers deploy first (issue 15; the order in "
    "which TPFDD planning phases enablers); the rule's form is illustrative [I]"
)

DEFAULT_RULES: tuple[PrecedenceRule, ...] = (
    PrecedenceRule(
        id="force-hq-first",
        before_roles=("command",),
        after_roles=("deterrence",),
        scope=PrecedenceScope.FORCE,
        require_present=True,
        evidence=Evidence.ILLUSTRATIVE,
        source=_DOCTRINE,
    ),
    PrecedenceRule(
        id="force-signals-first",
        before_roles=("signals",),
        after_roles=("deterrence",),
        scope=PrecedenceScope.FORCE,
        require_present=True,
        evidence=Evidence.ILLUSTRATIVE,
        source=_DOCTRINE,
    ),
    PrecedenceRule(
        id="hub-command-first",
        before_roles=("command", "signals"),
        after_roles=("*",),
        scope=PrecedenceScope.HUB,
        evidence=Evidence.ILLUSTRATIVE,
        source=_DOCTRINE,
    ),
    PrecedenceRule(
        id="region-medical-before-manoeuvre",
        before_roles=("medical",),
        after_roles=("deterrence", "training"),
        scope=PrecedenceScope.REGION,
        evidence=Evidence.ILLUSTRATIVE,
        source=_DOCTRINE,
    ),
)


def effective_rules(scenario: Scenario) -> tuple[PrecedenceRule, ...]:
    """Defaults, each replaced by the scenario's rule of the same id; the scenario's new rules
    after them; disabled rules dropped."""
    own = {r.id: r for r in scenario.sustainment.precedence}
    out = [own.pop(r.id, r) for r in DEFAULT_RULES]
    out += [r for r in scenario.sustainment.precedence if r.id in own]
    return tuple(r for r in out if r.enabled)


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    scope: str  # "force", or the hub / region id
    before_day: int | None  # first arrival of the before group (None: absent)
    after_day: int
    after_uln: str
    message: str


def _matches(roles: frozenset[str], wanted: Sequence[str]) -> bool:
    return "*" in wanted or bool(roles & set(wanted))


def check_precedence(
    lines: Sequence[PlanLine], scenario: Scenario, rules: Sequence[PrecedenceRule] | None = None
) -> list[Violation]:
    """Every violation of the rules by the plan's unit lines (pure)."""
    rules = effective_rules(scenario) if rules is None else tuple(rules)
    roles = {c.code: frozenset(c.roles) for c in scenario.capabilities}
    region = {h.id: h.region for h in scenario.hubs}
    out: list[Violation] = []
    for rule in rules:
        first_before: dict[str, int] = {}
        first_after: dict[str, tuple[int, str]] = {}
        for ln in lines:
            r = roles.get(ln.capability, frozenset())
            key = (
                "force"
                if rule.scope is PrecedenceScope.FORCE
                else ln.hub
                if rule.scope is PrecedenceScope.HUB
                else region.get(ln.hub, ln.hub)
            )
            if _matches(r, rule.before_roles) and "*" not in rule.before_roles:
                first_before[key] = min(first_before.get(key, ln.arrival_day), ln.arrival_day)
            elif _matches(r, rule.after_roles):
                cur = first_after.get(key)
                if cur is None or (ln.arrival_day, ln.uln) < cur:
                    first_after[key] = (ln.arrival_day, ln.uln)
        for key in sorted(first_after):
            day, uln = first_after[key]
            b = first_before.get(key)
            where = "the force" if key == "force" else key
            if b is None:
                if rule.require_present:
                    out.append(
                        Violation(
                            rule.id,
                            key,
                            None,
                            day,
                            uln,
                            f"{rule.id}: no {'/'.join(rule.before_roles)} unit in {where}, but "
                            f"{uln} ({'/'.join(rule.after_roles)}) arrives on day {day}",
                        )
                    )
            elif b > day:
                out.append(
                    Violation(
                        rule.id,
                        key,
                        b,
                        day,
                        uln,
                        f"{rule.id}: first {'/'.join(rule.before_roles)} unit in {where} arrives on "
                        f"day {b}, after {uln} on day {day}",
                    )
                )
    return out


@dataclass(frozen=True, slots=True)
class RuleGroups:
    """A rule resolved to capability codes: what the planner's precedence block needs."""

    rule: str
    scope: PrecedenceScope
    before: frozenset[str]
    after: frozenset[str]
    require_present: bool


def rule_groups(scenario: Scenario, rules: Sequence[PrecedenceRule] | None = None) -> list[RuleGroups]:
    """Each effective rule with its before/after capability sets (a capability in both counts as
    before, as in :func:`check_precedence`)."""
    rules = effective_rules(scenario) if rules is None else tuple(rules)
    out = []
    for rule in rules:
        before = frozenset(
            c.code
            for c in scenario.capabilities
            if "*" not in rule.before_roles and _matches(frozenset(c.roles), rule.before_roles)
        )
        after = frozenset(
            c.code
            for c in scenario.capabilities
            if c.code not in before and _matches(frozenset(c.roles), rule.after_roles)
        )
        out.append(RuleGroups(rule.id, rule.scope, before, after, rule.require_present))
    return out
