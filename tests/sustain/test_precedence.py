"""Enablers first: the default rules and their per-scenario override."""

from __future__ import annotations

from coalition.scenario.schemas import PrecedenceRule, PrecedenceScope
from coalition.sustain.precedence import DEFAULT_RULES, check_precedence, effective_rules
from tests.sustain.builders import scenario, sustainment, ul


def _rules(vs):  # type: ignore[no-untyped-def]
    return sorted((v.rule, v.scope) for v in vs)


def test_force_hq_and_signals_precede_the_first_manoeuvre_line_anywhere() -> None:
    lines = [ul("hq", "hq", "a", 20, 99), ul("sig", "sig", "a", 10, 99), ul("inf", "inf", "c", 15, 99)]
    vs = check_precedence(lines, scenario())
    assert ("force-hq-first", "force") in _rules(vs)  # HQ day 20 after infantry day 15 (another hub)
    assert ("force-signals-first", "force") not in _rules(vs)  # signals day 10 is in time
    v = next(v for v in vs if v.rule == "force-hq-first")
    assert (v.before_day, v.after_day, v.after_uln) == (20, 15, "inf")


def test_missing_force_hq_is_a_violation() -> None:
    vs = check_precedence([ul("inf", "inf", "a", 5, 9)], scenario())
    assert {"force-hq-first", "force-signals-first"} <= {v.rule for v in vs}
    assert all(v.before_day is None for v in vs if v.rule.startswith("force-"))


def test_hub_command_first_and_medical_before_manoeuvre_in_region() -> None:
    lines = [ul("hq", "hq", "a", 0, 99), ul("sig", "sig", "a", 0, 99),
             ul("log", "log", "a", 5, 99), ul("hq2", "hq", "b", 8, 99), ul("log2", "log", "b", 3, 99),
             ul("m2", "r2", "b", 12, 99), ul("inf", "inf", "a", 10, 99)]
    vs = _rules(check_precedence(lines, scenario()))
    assert ("hub-command-first", "b") in vs and ("hub-command-first", "a") not in vs
    assert ("region-medical-before-manoeuvre", "r1") in vs  # Role 2 day 12 after infantry day 10, region r1


def test_all_good_plan_has_no_violation() -> None:
    lines = [ul("hq", "hq", "a", 0, 99), ul("sig", "sig", "a", 0, 99), ul("m2", "r2", "b", 1, 99),
             ul("inf", "inf", "a", 2, 99), ul("trg", "trg", "b", 2, 99)]
    assert check_precedence(lines, scenario()) == []


def test_scenario_overrides_and_disables_by_id() -> None:
    off = PrecedenceRule(id="force-hq-first", before_roles=("command",), after_roles=("deterrence",),
                         scope=PrecedenceScope.FORCE, enabled=False)
    extra = PrecedenceRule(id="log-first", before_roles=("logistics",), after_roles=("training",))
    sc = scenario(sustainment=sustainment(precedence=(off, extra)))
    ids = [r.id for r in effective_rules(sc)]
    assert "force-hq-first" not in ids and ids[-1] == "log-first" and len(ids) == len(DEFAULT_RULES)
    vs = _rules(check_precedence([ul("trg", "trg", "a", 1, 9), ul("log", "log", "a", 4, 9)], sc))
    assert ("log-first", "a") in vs and ("force-hq-first", "force") not in vs


def test_rule_groups_resolve_roles_to_capabilities() -> None:
    from coalition.sustain.precedence import rule_groups

    g = {r.rule: r for r in rule_groups(scenario())}
    assert g["force-hq-first"].before == {"hq"} and g["force-hq-first"].after == {"inf"}
    assert g["hub-command-first"].before == {"hq", "sig"}
    assert g["hub-command-first"].after == {"inf", "trg", "r2", "r3", "heli", "log"}
    assert g["region-medical-before-manoeuvre"].after == {"inf", "trg"}
