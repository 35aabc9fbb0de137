"""Can this pledge serve this requirement line, and if not, why not? (pure)

Eligibility is about the *fit* of a pledge to a line at a hub, independent of the pledge's
conditions (activation is :mod:`coalition.forcegen.activation`) and of how many units other
lines take (allocation is :mod:`coalition.forcegen.gaps`). Every reason a pledge cannot serve is
returned, not just the first, each with a stable ``code``:

============== ===========================================================================
code           meaning
============== ===========================================================================
capability     the pledge offers another capability than the line asks for
caveat:country the hub's country is not in the pledge's ``allowed_countries``
caveat:region  the hub's region is not in the pledge's ``allowed_regions``
caveat:distance the hub is closer to the contact line than the pledge's ``min_distance_km``
caveat:buffer  the hub lies inside the buffer zone (no coalition unit may be placed there)
caveat:role    the line's role is one of the pledge's ``excluded_roles``
readiness      notice-to-move longer than the line's ``max_notice_days``, or the unit cannot
               arrive by the line's start day
window         the pledge's availability window does not cover the line's phase window
no-hub         the line names a region that has no hub
============== ===========================================================================

Timing rule: the activation order goes out on ``request_day`` (days from C-day, default 0 = on
C-day). A unit moves ``notice_days`` later and reaches the hub after the shortest corridor transit
into it (from its preferred rear node when it names one that has a corridor to the hub; a hub
with no corridor counts 0 transit days). It arrives in time when
``request_day + notice_days + transit_days <= start_day``.

A line with a ``region`` instead of a ``hub`` can be served at any hub of that region: use
:func:`candidate_hubs` / :func:`eligible_hubs`, or pass ``hub=``.

For model building, :func:`eligibility_matrix` returns a boolean matrix pledges x (line, hub)
with a bit mask of reasons per cell, computed with numpy one pledge row at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntFlag

import numpy as np

from coalition.geo import distance_to_contact_line_km
from coalition.scenario.schemas import Hub, Pledge, Requirement, Scenario


class Reason(IntFlag):
    """Eligibility reasons as bits (for the matrix); ``code`` gives the stable text code."""

    CAPABILITY = 1
    COUNTRY = 2
    REGION = 4
    DISTANCE = 8
    BUFFER = 16
    ROLE = 32
    READINESS = 64
    WINDOW = 128
    NO_HUB = 256

    @property
    def code(self) -> str:
        return _CODES[self]


_CODES: dict[Reason, str] = {
    Reason.CAPABILITY: "capability",
    Reason.COUNTRY: "caveat:country",
    Reason.REGION: "caveat:region",
    Reason.DISTANCE: "caveat:distance",
    Reason.BUFFER: "caveat:buffer",
    Reason.ROLE: "caveat:role",
    Reason.READINESS: "readiness",
    Reason.WINDOW: "window",
    Reason.NO_HUB: "no-hub",
}
#: reason bits in the order they are reported (most specific first)
REASON_ORDER: tuple[Reason, ...] = tuple(_CODES)
#: reasons that depend on the place (hub) rather than on the pledge and line alone
PLACE_REASONS = Reason.COUNTRY | Reason.REGION | Reason.DISTANCE | Reason.BUFFER | Reason.READINESS


def decode(mask: int) -> tuple[str, ...]:
    """The stable codes of the bits set in ``mask``, most specific first."""
    return tuple(_CODES[r] for r in REASON_ORDER if mask & r)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One reason a pledge cannot serve a requirement line (or a gap has units missing).

    ``code`` is stable (see the module doc and ``docs/gaps.md``); ``message`` is for people.
    ``hub`` names the hub when the reason is about a place.
    """

    code: str
    message: str
    hub: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "hub": self.hub}


# ---------------------------------------------------------------------------------------------
# Geography of a scenario, computed once and reused
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Geography:
    """Per-hub facts eligibility needs: distance to the contact line, buffer membership,
    shortest transit (overall and per rear node)."""

    distance_km: dict[str, float]  # inf when the scenario has no contact line
    in_buffer: dict[str, bool]
    transit_days: dict[str, int]  # shortest transit into the hub over all corridors (0 if none)
    transit_from: dict[tuple[str, str], int]  # (rear node, hub) -> shortest transit

    @classmethod
    def of(cls, scenario: Scenario) -> Geography:
        cached = _GEO_CACHE.get(id(scenario))
        if cached is not None and cached[0] is scenario:
            return cached[1]
        line = scenario.contact_line
        half = line.buffer_km / 2 if line is not None else 0.0
        dist: dict[str, float] = {}
        buf: dict[str, bool] = {}
        for h in scenario.hubs:
            d = distance_to_contact_line_km((h.lat, h.lon), line) if line else float("inf")
            dist[h.id] = d
            buf[h.id] = line is not None and line.buffer_km > 0 and d <= half
        transit: dict[str, int] = {}
        transit_from: dict[tuple[str, str], int] = {}
        for c in scenario.corridors:
            transit[c.hub] = min(transit.get(c.hub, c.transit_days), c.transit_days)
            key = (c.rear_node, c.hub)
            transit_from[key] = min(transit_from.get(key, c.transit_days), c.transit_days)
        geo = cls(dist, buf, transit, transit_from)
        if len(_GEO_CACHE) > 32:
            _GEO_CACHE.clear()
        _GEO_CACHE[id(scenario)] = (scenario, geo)
        return geo

    def transit(self, pledge: Pledge, hub_id: str) -> int:
        if pledge.rear_node is not None:
            own = self.transit_from.get((pledge.rear_node, hub_id))
            if own is not None:
                return own
        return self.transit_days.get(hub_id, 0)


# keyed by id(); the scenario itself is kept in the entry so the id cannot be reused meanwhile
_GEO_CACHE: dict[int, tuple[Scenario, Geography]] = {}


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------


def candidate_hubs(requirement: Requirement, scenario: Scenario) -> tuple[Hub, ...]:
    """The hubs a line can be served at: its hub, or every hub of its region (in file order)."""
    if requirement.hub is not None:
        hub = scenario.hub(requirement.hub)
        return (hub,) if hub is not None else ()
    return tuple(h for h in scenario.hubs if h.region == requirement.region)


def arrival_day(pledge: Pledge, hub_id: str, scenario: Scenario, *, request_day: int = 0) -> int:
    """Earliest day (from C-day) the pledged unit can be at the hub (see the timing rule)."""
    return request_day + pledge.notice_days + Geography.of(scenario).transit(pledge, hub_id)


# ---------------------------------------------------------------------------------------------
# Scalar eligibility
# ---------------------------------------------------------------------------------------------


def _mask_at(pledge: Pledge, requirement: Requirement, hub: Hub, geo: Geography, request_day: int) -> int:
    m = 0
    if pledge.capability != requirement.capability:
        m |= Reason.CAPABILITY
    cav = pledge.caveats
    if cav.allowed_countries and hub.country not in cav.allowed_countries:
        m |= Reason.COUNTRY
    if cav.allowed_regions and hub.region not in cav.allowed_regions:
        m |= Reason.REGION
    if cav.min_distance_km > 0 and geo.distance_km.get(hub.id, float("inf")) < cav.min_distance_km:
        m |= Reason.DISTANCE
    if geo.in_buffer.get(hub.id, False):
        m |= Reason.BUFFER
    if requirement.role and requirement.role.casefold() in {r.casefold() for r in cav.excluded_roles}:
        m |= Reason.ROLE
    arrive = request_day + pledge.notice_days + geo.transit(pledge, hub.id)
    if pledge.notice_days > requirement.max_notice_days or arrive > requirement.start_day:
        m |= Reason.READINESS
    if pledge.available_from_day > requirement.start_day or (
        pledge.available_to_day is not None and pledge.available_to_day < requirement.end_day
    ):
        m |= Reason.WINDOW
    return m


def _message(reason: Reason, pledge: Pledge, req: Requirement, hub: Hub | None, geo: Geography, rd: int) -> str:
    cav = pledge.caveats
    at = f"hub {hub.id}" if hub is not None else "the line's place"
    if reason is Reason.CAPABILITY:
        return f"pledge {pledge.id} offers {pledge.capability}, line {req.id} needs {req.capability}"
    if reason is Reason.COUNTRY and hub is not None:
        allowed = ", ".join(cav.allowed_countries)
        return f"{pledge.nation} caveat: only in {allowed}; {at} is in {hub.country}"
    if reason is Reason.REGION and hub is not None:
        allowed = ", ".join(cav.allowed_regions)
        return f"{pledge.nation} caveat: only in regions {allowed}; {at} is in {hub.region}"
    if reason is Reason.DISTANCE and hub is not None:
        d = geo.distance_km[hub.id]
        return (
            f"{pledge.nation} caveat: at least {cav.min_distance_km:g} km from the contact line; "
            f"{at} is {d:.0f} km from it"
        )
    if reason is Reason.BUFFER and hub is not None:
        d = geo.distance_km[hub.id]
        return f"{at} lies inside the buffer zone ({d:.0f} km from the contact line)"
    if reason is Reason.ROLE:
        return f"{pledge.nation} caveat: excludes the role '{req.role}' of line {req.id}"
    if reason is Reason.READINESS:
        if pledge.notice_days > req.max_notice_days:
            return f"notice-to-move {pledge.notice_days} d exceeds the line's maximum {req.max_notice_days} d"
        transit = geo.transit(pledge, hub.id) if hub is not None else 0
        arrive = rd + pledge.notice_days + transit
        return (
            f"arrives day {arrive} (notice {pledge.notice_days} d + transit {transit} d), "
            f"line starts day {req.start_day}"
        )
    if reason is Reason.WINDOW:
        to = "open" if pledge.available_to_day is None else f"day {pledge.available_to_day}"
        return f"available day {pledge.available_from_day} to {to}; line needs day {req.start_day} to day {req.end_day}"
    if reason is Reason.NO_HUB:
        return f"line {req.id} names region '{req.region}', which has no hub"
    return reason.code  # pragma: no cover - every reason has a message above


def _exclusions(
    mask: int, pledge: Pledge, req: Requirement, hub: Hub | None, geo: Geography, rd: int
) -> list[Exclusion]:
    out: list[Exclusion] = []
    for r in REASON_ORDER:
        if mask & r:
            place = hub.id if (hub is not None and r & PLACE_REASONS) else None
            out.append(Exclusion(r.code, _message(r, pledge, req, hub, geo, rd), place))
    return out


def eligibility(
    pledge: Pledge,
    requirement: Requirement,
    scenario: Scenario,
    *,
    hub: Hub | str | None = None,
    request_day: int = 0,
) -> list[Exclusion]:
    """Every reason ``pledge`` cannot serve ``requirement``; empty when it can.

    With ``hub`` given, judge at that hub. Otherwise at the line's hub, or - for a line with a
    region - across the region's hubs: empty when at least one hub fits, else the reasons that
    hold at every hub once plus each hub's own place reasons (``Exclusion.hub`` set).
    """
    geo = Geography.of(scenario)
    if hub is not None:
        at = scenario.hub(hub) if isinstance(hub, str) else hub
        if at is None:
            raise ValueError(f"unknown hub {hub!r}")
        hubs: tuple[Hub, ...] = (at,)
    else:
        hubs = candidate_hubs(requirement, scenario)
    if not hubs:
        mask = int(Reason.NO_HUB) | (Reason.CAPABILITY if pledge.capability != requirement.capability else 0)
        return _exclusions(mask, pledge, requirement, None, geo, request_day)
    masks = [_mask_at(pledge, requirement, h, geo, request_day) for h in hubs]
    if any(m == 0 for m in masks):
        return []
    if len(hubs) == 1:
        return _exclusions(masks[0], pledge, requirement, hubs[0], geo, request_day)
    common = masks[0]
    for m in masks[1:]:
        common &= m
    common_general = common & ~PLACE_REASONS
    out = _exclusions(common_general, pledge, requirement, None, geo, request_day)
    for h, m in zip(hubs, masks, strict=True):
        out.extend(_exclusions(m & PLACE_REASONS, pledge, requirement, h, geo, request_day))
    return out


def eligible_hubs(
    pledge: Pledge, requirement: Requirement, scenario: Scenario, *, request_day: int = 0
) -> tuple[Hub, ...]:
    """The candidate hubs of the line at which the pledge fits (no exclusion)."""
    geo = Geography.of(scenario)
    return tuple(
        h for h in candidate_hubs(requirement, scenario) if _mask_at(pledge, requirement, h, geo, request_day) == 0
    )


# ---------------------------------------------------------------------------------------------
# The matrix, for model building
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EligibilityMatrix:
    """pledges x (line, hub) eligibility.

    ``ok[i, j]`` is True when pledge ``pledge_ids[i]`` can serve ``columns[j] = (line id, hub
    id)``; ``reasons[i, j]`` is the bit mask of :class:`Reason` (``decode()`` gives the codes).
    A region line has one column per hub of the region; a line whose region has no hub has no
    column (see ``unplaced``).
    """

    pledge_ids: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    ok: np.ndarray  # bool, shape (P, C)
    reasons: np.ndarray  # uint16, shape (P, C)
    unplaced: tuple[str, ...]  # line ids with no candidate hub

    def codes(self, pledge_id: str, line_id: str, hub_id: str) -> tuple[str, ...]:
        i = self.pledge_ids.index(pledge_id)
        j = self.columns.index((line_id, hub_id))
        return decode(int(self.reasons[i, j]))


def eligibility_matrix(
    pledges: Sequence[Pledge],
    requirements: Sequence[Requirement],
    scenario: Scenario,
    *,
    request_day: int = 0,
) -> EligibilityMatrix:
    """Eligibility of every pledge for every (line, candidate hub), vectorised over columns.

    Agrees cell by cell with :func:`eligibility` at that hub (a property test checks it).
    """
    geo = Geography.of(scenario)
    cols: list[tuple[Requirement, Hub]] = []
    unplaced: list[str] = []
    for req in requirements:
        hubs = candidate_hubs(req, scenario)
        if not hubs:
            unplaced.append(req.id)
        cols.extend((req, h) for h in hubs)
    n = len(cols)
    cap = np.array([r.capability for r, _ in cols], dtype=object)
    country = np.array([h.country for _, h in cols], dtype=object)
    region = np.array([h.region for _, h in cols], dtype=object)
    dist = np.array([geo.distance_km.get(h.id, np.inf) for _, h in cols], dtype=float)
    buffer = np.array([geo.in_buffer.get(h.id, False) for _, h in cols], dtype=bool)
    role = np.array([r.role.casefold() for r, _ in cols], dtype=object)
    start = np.array([r.start_day for r, _ in cols], dtype=np.int64)
    end = np.array([r.end_day for r, _ in cols], dtype=np.int64)
    max_notice = np.array([r.max_notice_days for r, _ in cols], dtype=np.int64)
    hub_ids = [h.id for _, h in cols]
    base_transit = np.array([geo.transit_days.get(h, 0) for h in hub_ids], dtype=np.int64)

    reasons = np.zeros((len(pledges), n), dtype=np.uint16)
    for i, p in enumerate(pledges):
        if n == 0:
            break
        m = np.where(cap != p.capability, int(Reason.CAPABILITY), 0)
        cav = p.caveats
        if cav.allowed_countries:
            m |= np.where(np.isin(country, list(cav.allowed_countries)), 0, int(Reason.COUNTRY))
        if cav.allowed_regions:
            m |= np.where(np.isin(region, list(cav.allowed_regions)), 0, int(Reason.REGION))
        if cav.min_distance_km > 0:
            m |= np.where(dist < cav.min_distance_km, int(Reason.DISTANCE), 0)
        m |= np.where(buffer, int(Reason.BUFFER), 0)
        if cav.excluded_roles:
            excluded = [r.casefold() for r in cav.excluded_roles]
            m |= np.where((role != "") & np.isin(role, excluded), int(Reason.ROLE), 0)
        transit = base_transit
        if p.rear_node is not None:
            own = [geo.transit_from.get((p.rear_node, h)) for h in hub_ids]
            transit = np.array(
                [t if t is not None else b for t, b in zip(own, base_transit, strict=True)],
                dtype=np.int64,
            )
        slow = (p.notice_days > max_notice) | (request_day + p.notice_days + transit > start)
        m |= np.where(slow, int(Reason.READINESS), 0)
        late = start < p.available_from_day
        if p.available_to_day is not None:
            late = late | (end > p.available_to_day)
        m |= np.where(late, int(Reason.WINDOW), 0)
        reasons[i] = m
    return EligibilityMatrix(
        pledge_ids=tuple(p.id for p in pledges),
        columns=tuple((r.id, h.id) for r, h in cols),
        ok=reasons == 0,
        reasons=reasons,
        unplaced=tuple(unplaced),
    )


__all__ = [
    "PLACE_REASONS",
    "REASON_ORDER",
    "EligibilityMatrix",
    "Exclusion",
    "Geography",
    "Reason",
    "arrival_day",
    "candidate_hubs",
    "decode",
    "eligibility",
    "eligibility_matrix",
    "eligible_hubs",
]
