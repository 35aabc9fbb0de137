"""A seeded synthetic scenario generator (for benchmarks and stress tests).

``generate(size, seed)`` returns an ordinary :class:`Scenario` (save it with
``coalition.scenario.service.save_scenario``). Everything in it is SYNTHETIC: nation codes are
made up (``QAA``, ``QAB``...; ISO 3166 reserves the ``Q..`` range for user-assigned codes),
places are random points in a box roughly over Ukraine, numbers are drawn from ranges that
resemble the planning factors in ``shared/reference/planning-concepts.md`` (tours of 4, 6 or 12
months, recovery of one or two tours, notice-to-move 7-90 days). Same size and seed -> the same
scenario, byte for byte.

Sizes (fixed by the planner issue): S 12 nations / 60 units / 8 hubs / 26 weeks; M 35 / 600 /
30 / 104 weeks; L 60 / 3,000 / 120 / 156 weeks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import numpy as np

from coalition.scenario.schemas import (
    Capability,
    CapabilityDomain,
    Caveats,
    CoalitionRole,
    ConditionDef,
    ContactLine,
    Corridor,
    CorridorMode,
    Event,
    Evidence,
    ForceOption,
    Hub,
    HubKind,
    Nation,
    Pledge,
    Point,
    Priority,
    RearNode,
    RearNodeKind,
    Requirement,
    Scenario,
)


class _Place(TypedDict, total=False):
    """Where a generated requirement is: exactly one of a hub or a region."""

    hub: str
    region: str


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    nations: int
    units: int
    hubs: int
    weeks: int
    regions: int
    rear_nodes: int


SIZES: dict[str, Size] = {
    "S": Size("S", 12, 60, 8, 26, 2, 2),
    "M": Size("M", 35, 600, 30, 104, 5, 4),
    "L": Size("L", 60, 3000, 120, 156, 12, 8),
}

# (code, domain, personnel, tonnage): synthetic catalogue, typical sizes
CATALOGUE: tuple[tuple[str, CapabilityDomain, int, float], ...] = (
    ("inf_bn", CapabilityDomain.LAND, 600, 900.0),
    ("mech_bn", CapabilityDomain.LAND, 650, 2600.0),
    ("recce_sqn", CapabilityDomain.LAND, 150, 400.0),
    ("eng_coy", CapabilityDomain.LAND, 150, 500.0),
    ("eod_team", CapabilityDomain.LAND, 40, 60.0),
    ("log_bn", CapabilityDomain.LAND, 450, 1500.0),
    ("med_role2", CapabilityDomain.JOINT, 80, 150.0),
    ("mp_coy", CapabilityDomain.LAND, 120, 150.0),
    ("sig_coy", CapabilityDomain.JOINT, 120, 250.0),
    ("training_team", CapabilityDomain.LAND, 50, 40.0),
    ("hq_bde", CapabilityDomain.JOINT, 250, 350.0),
    ("isr_det", CapabilityDomain.AIR, 60, 120.0),
    ("ftr_sqn", CapabilityDomain.AIR, 250, 1200.0),
    ("cbrn_coy", CapabilityDomain.LAND, 100, 200.0),
    ("mcm_group", CapabilityDomain.MARITIME, 200, 800.0),
    ("airlift_det", CapabilityDomain.AIR, 80, 300.0),
)

LINES_PER_UNITS = 4
_LAT = (45.6, 51.6)
_LON = (23.0, 35.0)

SYN = "SYNTHETIC (coalition scenario generator)"


@dataclass(frozen=True, slots=True)
class _Draw:
    """What every phase of :func:`generate` draws from: the size, the seeded random stream and
    the catalogue with its (random) weights."""

    sz: Size
    rng: np.random.Generator
    caps: tuple[Capability, ...]
    cap_weight: np.ndarray


def _code(i: int) -> str:
    return "Q" + chr(ord("A") + i // 26) + chr(ord("A") + i % 26)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _capabilities() -> tuple[Capability, ...]:
    return tuple(
        Capability(
            code=c,
            name=c.replace("_", " "),
            domain=d,
            personnel=p,
            tonnage=t,
            evidence=Evidence.ILLUSTRATIVE,
            source=SYN,
        )
        for c, d, p, t in CATALOGUE
    )


def _hubs(draw: _Draw) -> list[Hub]:
    """Hubs spread over the regions (longitude bands), capacity still 0 (set by :func:`generate`
    from what the requirements need)."""
    sz, rng = draw.sz, draw.rng
    bands = np.linspace(_LON[0], _LON[1], sz.regions + 1)
    hubs: list[Hub] = []
    for i in range(sz.hubs):
        r = i % sz.regions
        lon = float(rng.uniform(bands[r], bands[r + 1]))
        lat = float(rng.uniform(*_LAT))
        hubs.append(
            Hub(
                id=f"H{i + 1:03d}",
                name=f"Hub {i + 1}",
                country="UKR",
                region=f"R{r + 1:02d}",
                kind=HubKind.LOGISTICS,
                lat=round(lat, 4),
                lon=round(lon, 4),
                personnel_capacity=0,
                host_nation="UKR",
                source=SYN,
            )
        )
    return hubs


def _rear_nodes(draw: _Draw) -> list[RearNode]:
    rng = draw.rng
    return [
        RearNode(
            id=f"RN{i + 1:02d}",
            name=f"Rear node {i + 1}",
            country=("POL", "ROU", "SVK", "HUN")[i % 4],
            kind=RearNodeKind.RAIL,
            lat=round(float(rng.uniform(46.0, 51.5)), 4),
            lon=round(float(rng.uniform(19.0, 22.5)), 4),
            source=SYN,
        )
        for i in range(draw.sz.rear_nodes)
    ]


def _corridors(draw: _Draw, hubs: list[Hub], rears: list[RearNode]) -> list[Corridor]:
    """Each hub is joined to its nearest one or two rear nodes."""
    rng = draw.rng
    corridors: list[Corridor] = []
    for h in hubs:
        d = sorted((_km(r.lat, r.lon, h.lat, h.lon), r.id) for r in rears)
        k = 1 if rng.random() < 0.4 else 2
        for dist, rid in d[:k]:
            corridors.append(
                Corridor(
                    id=f"C-{rid}-{h.id}",
                    rear_node=rid,
                    hub=h.id,
                    mode=CorridorMode.RAIL if rng.random() < 0.6 else CorridorMode.ROAD,
                    personnel_per_day=int(rng.integers(150, 1200)),
                    tonnage_per_day=float(rng.integers(400, 4000)),
                    transit_days=int(1 + dist // 350),
                    distance_km=round(dist, 1),
                    source=SYN,
                )
            )
    return corridors


def _n_leads(sz: Size) -> int:
    return max(1, sz.nations // 10)


def _nations(sz: Size) -> list[Nation]:
    return [
        Nation(
            code=_code(i),
            name=f"Synthetic nation {i + 1}",
            groups=("synthetic",),
            role=CoalitionRole.LEAD if i < _n_leads(sz) else CoalitionRole.CONTRIBUTOR,
            source=SYN,
        )
        for i in range(sz.nations)
    ]


def _units_per_nation(draw: _Draw) -> np.ndarray:
    """The nations' numbers of units, summing to the size's total: a few large contributors."""
    sz = draw.sz
    share = draw.rng.pareto(1.5, sz.nations) + 0.3
    share /= share.sum()
    nation_units = np.maximum(1, np.floor(share * sz.units)).astype(int)
    nation_units[0] += sz.units - nation_units.sum()  # exact total
    if nation_units[0] < 1:
        nation_units = np.full(sz.nations, sz.units // sz.nations)
        nation_units[0] += sz.units - nation_units.sum()
    return nation_units


@dataclass(frozen=True, slots=True)
class _Home:
    """One nation's draws that hold for all its pledges."""

    ni: int
    nation: Nation
    caps: np.ndarray  # indices into the catalogue
    sector: tuple[str, ...]
    rear: str
    sector_share: float


def _home(draw: _Draw, ni: int, nation: Nation, regions: list[str], rears: list[RearNode]) -> _Home:
    """A nation's capabilities, its sector (a block of neighbouring regions: caveats sort units
    by region, as in ISAF) and its home rear node."""
    rng, n_caps = draw.rng, len(draw.caps)
    home_caps = rng.choice(n_caps, size=min(n_caps, 3 + ni % 4), replace=False, p=draw.cap_weight)
    width = max(1, -(-len(regions) // 4))
    first = int(rng.integers(0, len(regions)))
    sector = tuple(sorted(regions[(first + i) % len(regions)] for i in range(width)))
    home_rear = rears[int(rng.integers(0, len(rears)))].id
    return _Home(ni, nation, home_caps, sector, home_rear, 0.3 if len(regions) < 4 else 0.6)


def _pledge(draw: _Draw, home: _Home, k: int, take: int) -> Pledge:
    rng = draw.rng
    cap = draw.caps[int(home.caps[(k - 1) % len(home.caps)])]
    tour = int(rng.choice([119, 182, 182, 364]))
    cav = Caveats()
    roll = rng.random()
    if roll < home.sector_share:
        cav = Caveats(allowed_regions=home.sector)
    elif roll < home.sector_share + 0.15:
        cav = Caveats(min_distance_km=float(rng.choice([100, 200, 300])))
    return Pledge(
        id=f"{home.nation.code}-{k:02d}",
        nation=home.nation.code,
        capability=cap.code,
        units=take,
        personnel_per_unit=int(cap.personnel * rng.uniform(0.85, 1.15)),
        readiness_level=int(rng.integers(1, 5)),
        notice_days=int(rng.choice([7, 14, 30, 30, 60, 90])),
        tour_days=tour,
        recovery_days=int(tour * rng.choice([1, 2, 2, 3])),
        sustainable_rotations=None if rng.random() < 0.5 else int(rng.integers(1, 4)),
        caveats=cav,
        condition="ceasefire",
        rear_node=None if rng.random() < 0.1 else home.rear,
        lead=home.ni < _n_leads(draw.sz),
        source=SYN,
    )


def _pledges(draw: _Draw, nations: list[Nation], hubs: list[Hub], rears: list[RearNode]) -> list[Pledge]:
    """Every nation's units, pledged in blocks of 1-6."""
    nation_units = _units_per_nation(draw)
    regions = sorted({h.region for h in hubs})
    pledges: list[Pledge] = []
    for ni, nat in enumerate(nations):
        left = int(nation_units[ni])
        k = 0
        home = _home(draw, ni, nat, regions, rears)
        while left > 0:
            k += 1
            take = min(left, int(draw.rng.integers(1, 7)))
            left -= take
            pledges.append(_pledge(draw, home, k, take))
    return pledges


def _requirement(draw: _Draw, i: int, hubs: list[Hub], hub_need: np.ndarray) -> Requirement:
    """Requirement line ``i``; adds what it needs to ``hub_need`` (personnel per hub)."""
    rng, horizon = draw.rng, draw.sz.weeks * 7
    cap = draw.caps[int(rng.choice(len(draw.caps), p=draw.cap_weight))]
    qty = int(rng.choice([1, 1, 1, 2, 2, 3]))
    start = int(rng.choice([0, 0, 14, 30, 60, 90, 120]))
    start = min(start, horizon // 2)
    end = horizon - 1 if rng.random() < 0.7 else int(rng.integers(start + 56, horizon + 56))
    end = min(end, horizon - 1)
    pr = rng.choice([Priority.ESSENTIAL, Priority.IMPORTANT, Priority.IMPORTANT, Priority.DESIRABLE])
    if rng.random() < 0.15:
        region = str(rng.choice(sorted({h.region for h in hubs})))
        place: _Place = {"region": region}
        for hi, h in enumerate(hubs):
            if h.region == region:
                hub_need[hi] += qty * cap.personnel / max(1, sum(x.region == region for x in hubs))
    else:
        hi = int(rng.integers(0, draw.sz.hubs))
        place = {"hub": hubs[hi].id}
        hub_need[hi] += qty * cap.personnel
    return Requirement(
        id=f"L{i + 1:04d}",
        option="gen",
        capability=cap.code,
        quantity=qty,
        start_day=start,
        end_day=end,
        priority=pr,
        max_notice_days=int(rng.choice([60, 90, 90, 120])),
        source=SYN,
        **place,
    )


def _requirements(draw: _Draw, hubs: list[Hub]) -> tuple[list[Requirement], list[Hub]]:
    """The requirement lines, and the hubs with a capacity of about what their lines need (with
    head room that varies)."""
    n_lines = max(4, draw.sz.units // LINES_PER_UNITS)
    hub_need = np.zeros(draw.sz.hubs)
    reqs = [_requirement(draw, i, hubs, hub_need) for i in range(n_lines)]
    sized = [
        h.model_copy(update={"personnel_capacity": int(max(300, hub_need[i] * draw.rng.uniform(0.7, 1.5)))})
        for i, h in enumerate(hubs)
    ]
    return reqs, sized


_CONTACT_LINE = (
    Point(lat=51.5, lon=37.2),
    Point(lat=49.0, lon=37.8),
    Point(lat=47.0, lon=36.0),
    Point(lat=46.4, lon=33.0),
)


def generate(size: str, seed: int = 0) -> Scenario:
    """A synthetic scenario of the given size ('S', 'M' or 'L')."""
    sz = SIZES[size.upper()]
    rng = np.random.default_rng([seed, ord(sz.name)])
    caps = _capabilities()
    cap_weight = rng.uniform(0.5, 2.0, len(caps))
    cap_weight /= cap_weight.sum()
    draw = _Draw(sz, rng, caps, cap_weight)
    hubs = _hubs(draw)
    rears = _rear_nodes(draw)
    corridors = _corridors(draw, hubs, rears)
    nations = _nations(sz)
    host = Nation(
        code="UKR", name="Ukraine", role=CoalitionRole.HOST, position="host nation of every synthetic hub", source=SYN
    )
    pledges = _pledges(draw, nations, hubs, rears)
    reqs, hubs = _requirements(draw, hubs)
    return Scenario(
        id=f"synthetic-{sz.name.lower()}-{seed}",
        name=f"Synthetic {sz.name} (seed {seed})",
        description=f"{SYN}: {sz.nations} nations, {sz.units} units, {sz.hubs} hubs, {sz.weeks} weeks. Not real data.",
        illustrative=True,
        horizon_days=sz.weeks * 7,
        nations=(*nations, host),
        conditions=(ConditionDef(name="ceasefire", description="synthetic ceasefire", source=SYN),),
        timeline=(Event(on=date(2026, 6, 1), condition="ceasefire", value=True, source=SYN),),
        capabilities=caps,
        force_options=(ForceOption(id="gen", name="Generated option", source=SYN),),
        requirements=tuple(reqs),
        pledges=tuple(pledges),
        hubs=tuple(hubs),
        rear_nodes=tuple(rears),
        corridors=tuple(corridors),
        contact_line=ContactLine(points=_CONTACT_LINE, buffer_km=20, source=SYN),
    )
