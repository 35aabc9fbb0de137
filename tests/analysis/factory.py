"""Tiny scenarios for the analysis tests, whose probabilities can be worked out by hand."""

from __future__ import annotations

from coalition.scenario.uncertainty import ConditionUncertainty, Participation, Uncertainty
from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    CoalitionRole,
    ConditionDef,
    Corridor,
    CorridorMode,
    ForceOption,
    Hub,
    Nation,
    Pledge,
    RearNode,
    Requirement,
    Scenario,
)

# Own builders (not the planner tests' factory, which another issue is changing).


def capability(code: str = "inf", personnel: int = 100, tonnage: float = 50.0) -> Capability:
    return Capability(code=code, name=code, domain=CapabilityDomain.LAND, personnel=personnel,
                      tonnage=tonnage)


def pledge(pid: str, nation_code: str = "GBR", cap: str = "inf", units: int = 1,
           personnel: int = 100, notice: int = 0, tour: int = 56, recovery: int = 0,
           **kw: object) -> Pledge:
    return Pledge(id=pid, nation=nation_code, capability=cap, units=units,
                  personnel_per_unit=personnel, notice_days=notice, tour_days=tour,
                  recovery_days=recovery, **kw)


def requirement(rid: str, qty: int = 1, start: int = 0, end: int = 55, cap: str = "inf",
                priority: str = "important") -> Requirement:
    return Requirement(id=rid, option="opt", capability=cap, quantity=qty, hub="H1",
                       start_day=start, end_day=end, priority=priority)


def scenario(*, pledges, requirements, caps=None, horizon: int = 56, nations=()) -> Scenario:
    codes = sorted({p.nation for p in pledges} | set(nations))
    return Scenario(
        id="tiny", name="tiny", horizon_days=horizon,
        nations=tuple(Nation(code=c, name=c, role=CoalitionRole.CONTRIBUTOR) for c in codes),
        capabilities=tuple(caps or (capability(),)),
        force_options=(ForceOption(id="opt", name="opt"),),
        requirements=tuple(requirements),
        pledges=tuple(pledges),
        hubs=(Hub(id="H1", name="H1", country="UKR", region="west", lat=49.8, lon=24.0,
                  personnel_capacity=10_000, host_nation="UKR"),),
        rear_nodes=(RearNode(id="R1", name="R1", country="POL", lat=50.1, lon=22.0),),
        corridors=(Corridor(id="C1", rear_node="R1", hub="H1", mode=CorridorMode.ROAD,
                            personnel_per_day=10_000, tonnage_per_day=1e6, transit_days=2,
                            distance_km=100.0),),
    )


def conditions(*names: str) -> tuple[ConditionDef, ...]:
    return tuple(ConditionDef(name=n) for n in ("ceasefire",) + names)


def either_fills(p1: float = 0.5, p2: float = 0.8, **uncertainty: object) -> Scenario:
    """Two independent pledges (nations AAA under c1, BBB under c2), each of one unit; either
    fills the one line L1 (1 unit from D+5 to D+119). P(L1 filled) = 1 - (1-p1)(1-p2)."""
    sc = scenario(
        pledges=[pledge("A-1", "AAA", tour=182, condition="c1"),
                 pledge("B-1", "BBB", tour=182, condition="c2")],
        requirements=[requirement("L1", qty=1, start=5, end=119, priority="essential")],
        horizon=120, nations=("UKR",),
    )
    u = Uncertainty(conditions=(
        ConditionUncertainty(condition="c1", probability=p1, source="test"),
        ConditionUncertainty(condition="c2", probability=p2, source="test"),
    ), **uncertainty)
    return sc.model_copy(update={"conditions": conditions("c1", "c2"), "uncertainty": u})


def three_nations() -> Scenario:
    """Line L1 needs 2 units; AAA pledges 2, BBB 1, CCC 1 (all unconditional); line L2 (1 unit)
    only AAA can fill. Hand: without AAA, L1 keeps 2 (BBB+CCC) and L2 breaks."""
    sc = scenario(
        pledges=[pledge("A-1", "AAA", units=3, tour=182), pledge("B-1", "BBB", tour=182),
                 pledge("C-1", "CCC", tour=182),
                 pledge("A-2", "AAA", cap="eng", tour=182)],
        requirements=[requirement("L1", qty=2, start=0, end=119, priority="essential"),
                      requirement("L2", qty=1, start=0, end=119, cap="eng", priority="essential")],
        caps=(capability(), capability("eng")),
        horizon=120, nations=("UKR",),
    )
    return sc


def with_participation(sc: Scenario, nation: str, values: tuple[float, ...], weights: tuple[float, ...]) -> Scenario:
    u = sc.uncertainty or Uncertainty()
    part = Participation(nation=nation, distribution="discrete", values=values, weights=weights,
                         source="test")
    return sc.model_copy(update={"uncertainty": u.model_copy(update={"participation": (part,)})})


def random_coalition(seed: int, nations: int = 4, lines: int = 3) -> Scenario:
    """A random tiny coalition: every nation pledges 1-2 units of 'inf' (some with a long
    notice), lines of 1-2 units with mixed priorities and windows. Unconditional."""
    import random

    rnd = random.Random(seed)
    codes = [f"N{chr(65 + i)}{chr(65 + i)}" for i in range(nations)]
    pledges = []
    for i, c in enumerate(codes):
        for j in range(rnd.randint(1, 2)):
            pledges.append(pledge(f"{c}-{j}", c, units=rnd.randint(1, 2), tour=rnd.choice([56, 84, 182]),
                                  recovery=rnd.choice([0, 28]), notice=rnd.choice([0, 0, 40])))
    reqs = [requirement(f"L{i}", qty=rnd.randint(1, 2), start=rnd.choice([5, 30, 60]), end=119,
                        priority=rnd.choice(["essential", "important", "desirable"]))
            for i in range(lines)]
    return scenario(pledges=pledges, requirements=reqs, horizon=120, nations=("UKR",))


def random_uncertain(seed: int, nations: int = 4, lines: int = 3) -> Scenario:
    """``random_coalition`` where each nation's pledges hold under its own condition c<i>,
    with a random probability (some nations certain)."""
    import random

    rnd = random.Random(1000 + seed)
    sc = random_coalition(seed, nations, lines)
    codes = sorted({p.nation for p in sc.pledges})
    cond = {c: f"c{i}" for i, c in enumerate(codes)}
    pledges = tuple(p.model_copy(update={"condition": cond[p.nation]}) for p in sc.pledges)
    rows = tuple(ConditionUncertainty(condition=cond[c], probability=rnd.choice([0.3, 0.6, 0.9, 1.0]),
                                      source="test") for c in codes)
    return sc.model_copy(update={"pledges": pledges, "conditions": conditions(*cond.values()),
                                 "uncertainty": Uncertainty(conditions=rows)})
