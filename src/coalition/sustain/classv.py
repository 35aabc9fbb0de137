"""Legal Class V days per hub from its depots' explosives licences, by hazard division (pure).

A hub's daily Class V demand (gross kg, the plan's peak) becomes a daily NEQ per hazard division
with the scenario's ``class_v_neq_share`` (kg NEQ per kg of Class V, by HD; illustrative). The
hub can legally hold ``D`` days when a storage plan exists that puts ``D`` days of every HD into
its depots' storehouses within each storehouse's licence. A storehouse's licence for an HD is the
*smaller* of the issued limit (none recorded = unlicensed = 0) and the limit its layout supports
(the depots package's licence computation, with the exposed site or storehouse that controls it).

Each storehouse is dedicated to one HD in the plan we look for. Such a plan needs no
mixed-storage aggregation and keeps every storehouse within its own licence, so ``D`` is a
holding that is legal as it stands: a *lower bound* of what the hub could hold (a mixed plan may
do better where the aggregation rules allow it). The storage plan that achieves ``D`` is
returned with it. Compatibility-group segregation inside an HD and pallet floor space are not
checked here; the report says so. The best dedicated plan is found by enumeration when the
hub's storehouses and HDs are few (the normal case), else by a max-min greedy (also a legal
plan, possibly below the best dedicated one; reported as such).

The depots package is reached through one function, :func:`storehouse_limits`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coalition.scenario.schemas import Scenario

HDS: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4")
_ENUM_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class HdLimit:
    """One storehouse's legal limit for one HD, and what sets it."""

    kg: float
    issued_kg: float  # 0 when no licence is recorded for the HD
    layout_kg: float  # inf = not limited by any site
    controlling: str | None  # exposed site or storehouse that limits the layout figure
    relation: str | None
    distance_m: float | None

    @property
    def by_issue(self) -> bool:
        return self.issued_kg <= self.layout_kg


@dataclass(frozen=True, slots=True)
class StorehouseLimit:
    depot: str
    storehouse: str
    hd: Mapping[str, HdLimit]
    unverified: tuple[str, ...] = ()


def storehouse_limits(scenario: Scenario, hub: str) -> list[StorehouseLimit]:
    """The legal limit per HD of every storehouse of every depot at ``hub``.

    The ONE place this package touches the depots package (its public licence computation).
    """
    from coalition.depots.licence import compute_licences

    out: list[StorehouseLimit] = []
    for depot in scenario.depots.depots:
        if depot.hub != hub:
            continue
        for lic in compute_licences(depot):
            issued = lic.issued or {}
            hd: dict[str, HdLimit] = {}
            for h in HDS:
                line = lic.lines.get(h)
                heavy = lic.heavy_case_1_1
                if h == "1.1" and heavy is not None and (line is None or heavy.q_max_kg < line.q_max_kg):
                    line = heavy  # the mix may hold heavy-case HD 1.1 items: the smaller limit applies
                layout = line.q_max_kg if line is not None else 0.0
                iss = float(issued.get(h, 0.0))
                hd[h] = HdLimit(
                    min(iss, layout),
                    iss,
                    layout,
                    line.controlling if line else None,
                    line.relation if line else None,
                    line.distance_m if line else None,
                )
            out.append(StorehouseLimit(depot.id, lic.storehouse, hd, tuple(lic.unverified)))
    return out


@dataclass(frozen=True, slots=True)
class ClassVDays:
    hub: str
    days: float | None  # None: Class V demand or its NEQ mix unknown, or no demand at all
    neq_per_day: Mapping[str, float]
    assignment: Mapping[str, str]  # storehouse -> HD in the storage plan that achieves `days`
    limiting_hd: str | None
    limiting: str | None  # the storehouse or exposed site that limits it
    raise_by: tuple[str, ...]  # layout or licensing changes that would raise it
    method: str  # "enumeration" (best dedicated plan) | "greedy" (lower bound) | reason
    notes: tuple[str, ...]


def _days(cap: Mapping[str, float], need: Mapping[str, float]) -> float:
    return min(cap.get(h, 0.0) / need[h] for h in need)


def best_dedicated(limits: Sequence[StorehouseLimit], need: Mapping[str, float]) -> tuple[float, dict[str, str], str]:
    """The storage plan (storehouse -> HD) that maximises the days every HD can be held."""
    hds = sorted(need)
    usable = [s for s in limits if any(s.hd[h].kg > 0 for h in hds)]
    if len(hds) ** len(usable) <= _ENUM_LIMIT:
        best, plan = -1.0, {}
        for combo in itertools.product(hds, repeat=len(usable)):
            cap = {h: 0.0 for h in hds}
            for s, h in zip(usable, combo, strict=True):
                cap[h] += s.hd[h].kg
            d = _days(cap, need)
            if d > best + 1e-12:
                best, plan = d, {s.storehouse: h for s, h in zip(usable, combo, strict=True)}
        return max(best, 0.0), plan, "enumeration"
    cap = {h: 0.0 for h in hds}
    plan = {}
    left = list(usable)
    while left:
        h = min(hds, key=lambda x: (cap[x] / need[x], x))
        s = max(left, key=lambda x: (x.hd[h].kg, x.storehouse))
        if s.hd[h].kg <= 0:
            # the poorest HD cannot gain; give the rest to whichever gains most relative to need
            h = max(hds, key=lambda x: (s.hd[x].kg / need[x], x))
        cap[h] += s.hd[h].kg
        plan[s.storehouse] = h
        left.remove(s)
    return _days(cap, need), plan, "greedy"


def _suggestions(limits: Sequence[StorehouseLimit], plan: Mapping[str, str], hd: str) -> tuple[str | None, list[str]]:
    mine = sorted((s for s in limits if plan.get(s.storehouse) == hd), key=lambda s: -s.hd[hd].kg)
    out: list[str] = []
    limiting: str | None = None
    for s in mine:
        lim = s.hd[hd]
        if lim.by_issue and lim.layout_kg > lim.issued_kg:
            lay = "no site limit" if math.isinf(lim.layout_kg) else f"{math.floor(lim.layout_kg):,} kg"
            out.append(
                f"{s.storehouse}: raise the issued HD {hd} limit {lim.issued_kg:,.0f} kg toward what the "
                f"layout supports ({lay}); a licensing action, no layout change"
            )
            limiting = limiting or s.storehouse
        elif lim.controlling:
            out.append(
                f"{s.storehouse}: its HD {hd} limit {lim.layout_kg:,.0f} kg is set by {lim.controlling} "
                f"({lim.relation}, {lim.distance_m:,.0f} m): more separation from it, relocating it, "
                "or a protective construction that reduces the required distance would raise it"
            )
            limiting = limiting or lim.controlling
    out.append(f"add storehouse capacity licensed for HD {hd} at this site")
    return limiting or (mine[0].storehouse if mine else None), out


def legal_class_v_days(
    scenario: Scenario,
    hub: str,
    class_v_kg_per_day: float | None,
    limits: Sequence[StorehouseLimit] | None = None,
) -> ClassVDays:
    """How many days of Class V ``hub`` can legally hold at ``class_v_kg_per_day`` (gross)."""
    limits = storehouse_limits(scenario, hub) if limits is None else limits
    notes = [
        "compatibility-group segregation and pallet floor space are not checked here",
        "HD 1.1 uses the heavy-case limit where it is the smaller (the Class V mix may hold such items)",
        "each storehouse is dedicated to one HD: a legal lower bound (mixed storage may hold more)",
    ]
    unverified = sorted({u for s in limits for u in s.unverified})
    if unverified:
        notes.append("unverified rule defaults in the licences: " + ", ".join(unverified))
    licensed = any(lim.kg > 0 for s in limits for lim in s.hd.values())
    if not licensed:
        why = "no depot at the hub" if not limits else "no storehouse at the hub holds a licence"
        return ClassVDays(hub, 0.0, {}, {}, None, None, ("licensed Class V storage at the site",), why, tuple(notes))
    share = scenario.sustainment.class_v_neq_share
    if class_v_kg_per_day is None or not share:
        why = "Class V demand unknown" if class_v_kg_per_day is None else "no Class V NEQ mix in the scenario"
        return ClassVDays(hub, None, {}, {}, None, None, (), why, tuple(notes))
    need = {h: class_v_kg_per_day * f for h, f in share.items() if f > 0 and class_v_kg_per_day > 0}
    if not need:
        return ClassVDays(hub, None, {}, {}, None, None, (), "no Class V demand at the hub", tuple(notes))
    days, plan, method = best_dedicated(limits, need)
    by_id = {s.storehouse: s for s in limits}
    plan = {k: h for k, h in plan.items() if by_id[k].hd[h].kg > 0}  # a storehouse that adds nothing holds nothing
    cap = {h: sum(s.hd[h].kg for s in limits if plan.get(s.storehouse) == h) for h in need}
    hd = min(need, key=lambda h: (cap[h] / need[h], h))
    limiting, raise_by = _suggestions(limits, plan, hd)
    if method == "greedy":
        notes.append("greedy storage plan: the days are a lower bound")
    return ClassVDays(hub, days, need, plan, hd, limiting, tuple(raise_by), method, tuple(notes))
