"""Medical coverage against NATO's 10-1-2 (pure, numpy).

For every hub and day with personnel: the time to Role 1, Role 2 and Role 3 care. A facility is a
unit line whose capability has a medical role (``sustainment.medical_roles``: 1, 2 or 3; a Role 3
also gives Role 2 and Role 1 care, a Role 2 also Role 1). It is at its hub from ``arrival_day`` to
``tour_end_day``.

* **Road**: great-circle distance x ``road_detour_factor`` / road speed. The speed is the slower
  of the two hubs' regions (a ``road`` speed with that region, else the one without a region). No
  road speed = no road time (never a guess). Same hub: 0 minutes.
* **Air**: when a MEDEVAC unit (a capability with role ``medevac``) is present somewhere that day,
  flying from its base to the casualty's hub and on to the facility, straight lines, at the
  ``helicopter`` cruise speed. Its base is the pledge's ``sustainment.medevac`` base (a hub or
  rear node), else its own hub. Lift is not rationed: one helicopter present counts for every hub
  (the report says so).
* Time to Role r = the smaller of road and air over the facilities present with role >= r.

The 10-1-2 test on a hub-day: Role 1 within 60 minutes and Role 2 within 120 minutes
(:func:`covered`). It is a **constraint** where a manoeuvre (role ``deterrence``) or training
(role ``training``) unit is present (:func:`medical_feasible`, the predicate the planner's block
will use); every other hub-day with personnel that fails it is still named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coalition.errors import InputError, Problem
from coalition.geo import haversine_km
from coalition.scenario.schemas import Scenario, SpeedMode
from coalition.sustain.demand import PlanLine, PlanView

ROLE1_MINUTES = 60.0  # AJP-4.10(C) 10-1-2: advanced resuscitation within 1 hour
ROLE2_MINUTES = 120.0  # damage-control surgery within 2 hours
CONSTRAINED_ROLES = frozenset({"deterrence", "training"})
MEDEVAC_ROLE = "medevac"


def covered(role1_minutes: float | None, role2_minutes: float | None) -> bool:
    """The 10-1-2 test of one hub-day: Role 1 within 1 h and Role 2 within 2 h."""
    return (
        role1_minutes is not None
        and role1_minutes <= ROLE1_MINUTES
        and role2_minutes is not None
        and role2_minutes <= ROLE2_MINUTES
    )


def medical_feasible(constrained_units: int, role1_minutes: float | None, role2_minutes: float | None) -> bool:
    """The planner's hard constraint on one hub-day: no manoeuvre or training unit there unless
    10-1-2 holds. ``constrained_units``: how many such units are present."""
    return constrained_units == 0 or covered(role1_minutes, role2_minutes)


@dataclass(frozen=True, slots=True)
class MedicalRange:
    hub: str
    start_day: int
    end_day: int
    personnel: int
    constrained_units: int
    role1_minutes: float | None
    role2_minutes: float | None
    role3_minutes: float | None

    @property
    def covered(self) -> bool:
        return covered(self.role1_minutes, self.role2_minutes)


@dataclass(frozen=True, slots=True)
class Uncovered:
    hub: str
    start_day: int
    end_day: int
    reason: str
    constrained: bool


@dataclass(frozen=True, slots=True)
class MedicalPicture:
    ranges: tuple[MedicalRange, ...]
    share_within_1h: float | None  # personnel-days with Role 1 <= 60 min / all personnel-days
    share_within_2h: float | None  # personnel-days with Role 2 <= 120 min / all personnel-days
    uncovered: tuple[Uncovered, ...]
    assumptions: tuple[str, ...]
    air_used: bool = False  # some time counts a MEDEVAC flight (lift not rationed: flagged)

    def to_json(self) -> dict[str, object]:
        """The plan-JSON ``medical`` section (issue 15)."""
        return {
            "share_within_1h": None if self.share_within_1h is None else round(self.share_within_1h, 4),
            "share_within_2h": None if self.share_within_2h is None else round(self.share_within_2h, 4),
            "ranges": [
                {
                    "hub": r.hub,
                    "start_day": r.start_day,
                    "end_day": r.end_day,
                    "personnel": r.personnel,
                    "constrained_units": r.constrained_units,
                    "role1_minutes": _m(r.role1_minutes),
                    "role2_minutes": _m(r.role2_minutes),
                    "role3_minutes": _m(r.role3_minutes),
                }
                for r in self.ranges
            ],
            "uncovered": [
                {
                    "hub": u.hub,
                    "start_day": u.start_day,
                    "end_day": u.end_day,
                    "reason": u.reason,
                    "constrained": u.constrained,
                }
                for u in self.uncovered
            ],
            "assumptions": list(self.assumptions),
        }


def _m(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def _roles(scenario: Scenario) -> tuple[dict[str, int], set[str], set[str]]:
    med = {m.capability: m.role for m in scenario.sustainment.medical_roles}
    constrained = {c.code for c in scenario.capabilities if CONSTRAINED_ROLES & set(c.roles)}
    medevac = {c.code for c in scenario.capabilities if MEDEVAC_ROLE in c.roles}
    return med, constrained, medevac


def _places(scenario: Scenario) -> dict[str, tuple[float, float, str | None]]:
    out: dict[str, tuple[float, float, str | None]] = {}
    for r in scenario.rear_nodes:
        out[r.id] = (r.lat, r.lon, None)
    for h in scenario.hubs:
        out[h.id] = (h.lat, h.lon, h.region)
    return out


def _speeds(scenario: Scenario) -> tuple[dict[str | None, float], float | None]:
    road: dict[str | None, float] = {}
    heli = None
    for s in scenario.sustainment.speeds:
        if s.mode is SpeedMode.ROAD:
            road[s.region] = s.kmh
        elif s.mode is SpeedMode.HELICOPTER:
            heli = s.kmh if heli is None else min(heli, s.kmh)
    return road, heli


def _check(
    view: PlanView, scenario: Scenario, places: dict[str, tuple[float, float, str | None]], medevac: set[str]
) -> dict[str, str]:
    """Every hub of the plan has coordinates; every MEDEVAC line has a base with coordinates."""
    problems: list[Problem] = []
    for i, ln in enumerate(view.lines, start=1):
        if ln.hub not in places:
            problems.append(
                Problem(
                    f"hub {ln.hub!r} of unit line {ln.uln} has no coordinates (not a hub or rear node of the scenario)",
                    file="plan",
                    row=i,
                    field="hub",
                )
            )
    bases = {m.pledge: m.base for m in scenario.sustainment.medevac}
    out: dict[str, str] = {}
    for ln in view.lines:
        if ln.capability not in medevac:
            continue
        base = bases.get(ln.pledge)
        if not base:
            problems.append(
                Problem(
                    f"MEDEVAC pledge {ln.pledge!r} (unit line {ln.uln}) has no base",
                    file="scenario.yaml",
                    field="sustainment.medevac",
                    hint="add {pledge: ID, base: HUB_OR_REAR_NODE} to sustainment.medevac",
                )
            )
            continue
        if base not in places:
            problems.append(
                Problem(
                    f"MEDEVAC base {base!r} of pledge {ln.pledge!r} has no coordinates",
                    file="scenario.yaml",
                    field="sustainment.medevac",
                )
            )
        out[ln.uln] = base
    if problems:
        raise InputError(problems)
    return out


def _presence(lines: Sequence[PlanLine], T: int) -> list[tuple[PlanLine, int, int]]:
    out = []
    for ln in lines:
        a, b = max(ln.arrival_day, 0), min(ln.tour_end_day, T - 1)
        if a <= b:
            out.append((ln, a, b))
    return out


@dataclass(frozen=True)
class Travel:
    """Travel times between places (hubs and rear nodes) by road and by MEDEVAC helicopter: the
    one definition the report, the planner's Medical-* blocks and the plan checker share."""

    places: dict[str, tuple[float, float, str | None]]
    road_speed: dict[str | None, float]
    heli_kmh: float | None
    detour: float

    @classmethod
    def of(cls, scenario: Scenario) -> Travel:
        road, heli = _speeds(scenario)
        return cls(_places(scenario), road, heli, scenario.sustainment.road_detour_factor)

    def km(self, p: str, q: str) -> float:
        return haversine_km(self.places[p][:2], self.places[q][:2])

    def road_minutes(self, p: str, q: str) -> float:
        """Road minutes from ``p`` to ``q`` (inf: no road speed known; 0: the same place)."""
        if p == q:
            return 0.0
        speeds = [self.road_speed.get(self.places[x][2], self.road_speed.get(None)) for x in (p, q)]
        known = [s for s in speeds if s is not None]
        if len(known) < len(speeds):
            return float(np.inf)
        return self.km(p, q) * self.detour / min(known) * 60.0

    def air_minutes(self, base: str, casualty: str, facility: str) -> float:
        """Helicopter minutes base -> casualty's hub -> facility, straight lines (inf: no speed)."""
        if self.heli_kmh is None:
            return float(np.inf)
        leg = 0.0 if casualty == facility else self.km(casualty, facility)
        return (self.km(base, casualty) + leg) / self.heli_kmh * 60.0


def medevac_bases(scenario: Scenario) -> dict[str, str]:
    """Pledge id -> MEDEVAC base of the pledges that have one."""
    return {m.pledge: m.base for m in scenario.sustainment.medevac if m.base}


def medical_picture(view: PlanView, scenario: Scenario) -> MedicalPicture:
    """Times to Role 1/2/3 per hub and day range, shares within 1 h / 2 h, uncovered hub-days."""
    med, constrained_caps, medevac_caps = _roles(scenario)
    places = _places(scenario)
    bases = _check(view, scenario, places, medevac_caps)
    travel = Travel.of(scenario)
    road_speed, heli = travel.road_speed, travel.heli_kmh
    T = view.horizon_days
    present = _presence(view.lines, T)
    hubs = sorted({ln.hub for ln, _, _ in present if ln.personnel > 0})
    hix = {h: i for i, h in enumerate(hubs)}
    H = len(hubs)
    pers = np.zeros((H, T + 1))
    man = np.zeros((H, T + 1))
    for ln, a, b in present:
        if ln.hub in hix:
            i = hix[ln.hub]
            pers[i, a] += ln.personnel
            pers[i, b + 1] -= ln.personnel
            if ln.capability in constrained_caps:
                man[i, a] += 1
                man[i, b + 1] -= 1
    pers, man = np.cumsum(pers, axis=1)[:, :T], np.cumsum(man, axis=1)[:, :T]

    dist, road_minutes = travel.km, travel.road_minutes

    # nearest MEDEVAC base present, per hub and day (km)
    near = np.full((H, T), np.inf)
    if heli is not None:
        for ln, a, b in present:
            if ln.uln in bases:
                d = np.array([dist(bases[ln.uln], h) for h in hubs])
                np.minimum(near[:, a : b + 1], d[:, None], out=near[:, a : b + 1])
    best = {r: np.full((H, T), np.inf) for r in (1, 2, 3)}
    fac_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ln, a, b in present:
        role = med.get(ln.capability)
        if role is None:
            continue
        if ln.hub not in fac_cache:
            fac_cache[ln.hub] = (
                np.array([road_minutes(h, ln.hub) for h in hubs]),
                np.array([0.0 if h == ln.hub else dist(h, ln.hub) for h in hubs]),
            )
        road, leg = fac_cache[ln.hub]
        t = road[:, None]
        if heli is not None:
            t = np.minimum(t, (near[:, a : b + 1] + leg[:, None]) / heli * 60.0)
        for r in range(1, role + 1):
            np.minimum(best[r][:, a : b + 1], t, out=best[r][:, a : b + 1])
    pic = _assemble(hubs, pers, man, best, heli, road_speed, scenario)
    air = heli is not None and bool(np.isfinite(near).any())
    return MedicalPicture(pic.ranges, pic.share_within_1h, pic.share_within_2h, pic.uncovered, pic.assumptions, air)


def _assemble(
    hubs: list[str],
    pers: np.ndarray,
    man: np.ndarray,
    best: dict[int, np.ndarray],
    heli: float | None,
    road_speed: dict[str | None, float],
    scenario: Scenario,
) -> MedicalPicture:
    T = pers.shape[1] if pers.ndim == 2 else 0
    ranges: list[MedicalRange] = []
    uncovered: list[Uncovered] = []
    total = float(pers.sum())
    ok1 = float(pers[best[1] <= ROLE1_MINUTES].sum()) if total else 0.0
    ok2 = float(pers[best[2] <= ROLE2_MINUTES].sum()) if total else 0.0
    for i, hub in enumerate(hubs):
        keys = np.stack([pers[i], man[i], best[1][i], best[2][i], best[3][i]])
        change = np.ones(T, dtype=bool)
        if T > 1:
            change[1:] = np.any(keys[:, 1:] != keys[:, :-1], axis=0)
        starts = np.flatnonzero(change).tolist() + [T]
        for a, b in zip(starts, starts[1:], strict=False):
            p = int(pers[i, a])
            if p <= 0:
                continue
            t1, t2, t3 = (None if np.isinf(best[r][i, a]) else float(best[r][i, a]) for r in (1, 2, 3))
            rng = MedicalRange(hub, a, b - 1, p, int(man[i, a]), t1, t2, t3)
            ranges.append(rng)
            if not rng.covered:
                u = Uncovered(hub, a, b - 1, _reason(t1, t2), rng.constrained_units > 0)
                last = uncovered[-1] if uncovered else None
                if last and (last.hub, last.end_day + 1, last.reason, last.constrained) == (
                    hub,
                    a,
                    u.reason,
                    u.constrained,
                ):
                    u = Uncovered(hub, last.start_day, b - 1, u.reason, u.constrained)
                    uncovered.pop()
                uncovered.append(u)
    assumptions = [
        f"road: great-circle x {scenario.sustainment.road_detour_factor:g} at the slower region's road speed"
        + ("" if road_speed else " (NO road speed in the scenario: road times unknown)"),
        f"air: helicopter cruise {heli:g} km/h, base -> hub -> facility, straight lines"
        if heli is not None
        else "air: no helicopter speed in the scenario: no MEDEVAC by air",
        "MEDEVAC lift is not rationed: one helicopter present serves every hub in reach",
        f"10-1-2 (AJP-4.10(C)): Role 1 within {ROLE1_MINUTES:g} min, Role 2 within {ROLE2_MINUTES:g} min",
    ]
    return MedicalPicture(
        tuple(ranges),
        ok1 / total if total else None,
        ok2 / total if total else None,
        tuple(uncovered),
        tuple(assumptions),
    )


def _reason(t1: float | None, t2: float | None) -> str:
    parts = []
    if t2 is None:
        parts.append("no Role 2 reachable")
    elif t2 > ROLE2_MINUTES:
        parts.append(f"Role 2 at {t2:.0f} min (> {ROLE2_MINUTES:g})")
    if t1 is None:
        parts.append("no Role 1 reachable")
    elif t1 > ROLE1_MINUTES:
        parts.append(f"Role 1 at {t1:.0f} min (> {ROLE1_MINUTES:g})")
    return "; ".join(parts)


def medical_flags(scenario: Scenario) -> list[str]:
    """Every medical-coverage figure depends on the speeds, MEDEVAC bases and medical roles of the
    scenario: each one that is not a reported fact is named (evidence label in brackets)."""
    out = []
    s = scenario.sustainment
    for sp in s.speeds:
        if sp.evidence.value != "R":
            where = f" in {sp.region}" if sp.region else ""
            out.append(f"medical: {sp.mode.value} speed {sp.kmh:g} km/h{where} [{sp.evidence.value}]")
    for m in s.medevac:
        if m.evidence.value != "R":
            out.append(f"medical: MEDEVAC base {m.base} [{m.evidence.value}]")
    for r in s.medical_roles:
        if r.evidence.value != "R":
            out.append(f"medical: {r.capability} gives Role {r.role} care [{r.evidence.value}]")
    if s.speeds and "road_detour_factor" not in s.model_fields_set:
        out.append(f"medical: road detour factor {s.road_detour_factor:g} is the default [I]")
    return out
