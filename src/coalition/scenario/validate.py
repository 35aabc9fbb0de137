"""Consistency checks of a scenario: pure ``check_*`` functions returning ``list[Problem]``.

Field-level rules (types, ranges, formats) live on the pydantic models and are translated into
problems when files are read (``coalition.scenario.io``). The checks here look *across* records:
duplicate ids, references to unknown nations, capabilities, hubs, rear nodes, options,
conditions and instruments (each with the closest valid name), condition expressions that do
not parse or refer to unknown names, cyclic derived conditions, contradictory timeline events,
and numbers that are allowed but absurd (warnings).

Each check takes the :class:`Scenario` and, optionally, a :class:`Locator` that says where each
record came from, so a problem names the file, row and field. ``check_scenario`` runs them all;
``strict=True`` turns warnings into errors (like PyPSA's consistency checks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from coalition.conditions import expr as cexpr
from coalition.conditions.engine import find_cycles
from coalition.errors import Problem, closest
from coalition.scenario.io import Locator, Origin
from coalition.scenario.schemas import Scenario
from coalition.scenario.uncertainty import check_uncertainty

#: In ``also_known``: the table could not be read at all, so references to it are not checked
#: (the file's own problem is reported; "unknown X" for every reference would only be noise).
ANY = "*"

# Thresholds above which a number is allowed but almost certainly a typo (warnings).
ABSURD = {
    "units": 200,
    "personnel_per_unit": 6_000,
    "notice_days": 365,
    "tour_days": 730,
    "capability_personnel": 20_000,
    "requirement_quantity": 500,
    "transit_days": 30,
    "hub_capacity": 200_000,
    "corridor_personnel_per_day": 50_000,
}


def _hint(name: str, valid: Iterable[str]) -> str:
    valid = sorted(set(valid))
    guess = closest(name, valid)
    if guess:
        return f"did you mean '{guess}'?"
    if not valid:
        return "the table is empty"
    shown = ", ".join(valid[:12]) + (", ..." if len(valid) > 12 else "")
    return f"valid: {shown}"


class _Ctx:
    def __init__(self, scenario: Scenario, locator: Locator | None, also_known: dict[str, set[str]] | None) -> None:
        self.sc = scenario
        self.loc = locator or Locator()
        self.also_known = also_known or {}

    def problem(
        self,
        table: str,
        index: int,
        field: str | tuple[Any, ...] | None,
        message: str,
        hint: str | None = None,
        severity: str = "error",
    ) -> Problem:
        path: tuple[Any, ...] = () if field is None else (field if isinstance(field, tuple) else (field,))
        where = self.loc.at(table, index, *path)
        return Problem(message, hint=hint, severity=severity, **where)

    def known(self, table: str, attr: str) -> set[str]:
        values = (getattr(r, attr, None) for r in getattr(self.sc, table))
        return {v for v in values if isinstance(v, str)} | self.also_known.get(table, set())


# ---------------------------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------------------------

_KEYS = (
    ("nations", "code"),
    ("instruments", "id"),
    ("conditions", "name"),
    ("capabilities", "code"),
    ("force_options", "id"),
    ("requirements", "id"),
    ("pledges", "id"),
    ("hubs", "id"),
    ("rear_nodes", "id"),
    ("corridors", "id"),
)


def check_duplicates(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """Every id must be unique within its table (the first occurrence is kept as the original)."""
    ctx = _Ctx(scenario, locator, None)
    out: list[Problem] = []
    for table, attr in _KEYS:
        first: dict[str, int] = {}
        for i, rec in enumerate(getattr(scenario, table)):
            key = getattr(rec, attr)
            if key in first:
                where = ctx.loc.at(table, first[key], attr)
                out.append(
                    ctx.problem(
                        table,
                        i,
                        attr,
                        f"duplicate {attr} '{key}'",
                        hint=f"first given at {where['file']} row {where['row']}; ids must be unique",
                    )
                )
            else:
                first[key] = i
    return out


# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def check_references(
    scenario: Scenario,
    locator: Locator | None = None,
    also_known: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """Every reference names an existing record; ``also_known`` ids (rows that failed field
    validation) are not reported again."""
    ctx = _Ctx(scenario, locator, also_known)
    out: list[Problem] = []
    nations = ctx.known("nations", "code")
    caps = ctx.known("capabilities", "code")
    hubs = ctx.known("hubs", "id")
    rears = ctx.known("rear_nodes", "id")
    options = ctx.known("force_options", "id")
    conditions = ctx.known("conditions", "name")
    regions = {_g(h, "region") for h in scenario.hubs} | ctx.also_known.get("regions", set())
    regions.discard(None)

    def ref(table: str, i: int, field: str | tuple[Any, ...], value: Any, valid: set[str], what: str) -> None:
        if value is None or not isinstance(value, str) or value in valid or ANY in valid:
            return
        out.append(ctx.problem(table, i, field, f"unknown {what} '{value}'", _hint(value, valid)))

    for i, p in enumerate(scenario.pledges):
        ref("pledges", i, "nation", _g(p, "nation"), nations, "nation")
        ref("pledges", i, "capability", _g(p, "capability"), caps, "capability")
        ref("pledges", i, "rear_node", _g(p, "rear_node"), rears, "rear node")
        caveats = _g(p, "caveats")
        for region in _g(caveats, "allowed_regions") or ():
            if regions and region not in regions:
                out.append(
                    ctx.problem(
                        "pledges",
                        i,
                        ("caveats", "allowed_regions"),
                        f"caveat names unknown region '{region}'",
                        _hint(region, regions),
                        severity="warning",
                    )
                )
    for i, r in enumerate(scenario.requirements):
        ref("requirements", i, "option", _g(r, "option"), options, "force option")
        ref("requirements", i, "capability", _g(r, "capability"), caps, "capability")
        ref("requirements", i, "hub", _g(r, "hub"), hubs, "hub")
        region = _g(r, "region")
        if isinstance(region, str) and region not in regions and ANY not in ctx.also_known.get("hubs", set()):
            out.append(
                ctx.problem(
                    "requirements",
                    i,
                    "region",
                    f"unknown region '{region}'",
                    _hint(region, regions) + " (regions are those of the hubs)",
                )
            )
    for i, c in enumerate(scenario.corridors):
        ref("corridors", i, "hub", _g(c, "hub"), hubs, "hub")
        ref("corridors", i, "rear_node", _g(c, "rear_node"), rears, "rear node")
    for i, h in enumerate(scenario.hubs):
        ref("hubs", i, "host_nation", _g(h, "host_nation"), nations, "nation")
        ref("hubs", i, "lead_nation", _g(h, "lead_nation"), nations, "nation")
    for i, inst in enumerate(scenario.instruments):
        for party in _g(inst, "parties") or ():
            ref("instruments", i, "parties", party, nations, "nation")
    derived = {
        _g(c, "name") for c in scenario.conditions if isinstance(_g(c, "expression"), str) and c.expression.strip()
    }
    derived |= ctx.also_known.get("derived", set())
    for i, ev in enumerate(scenario.timeline):
        cond = _g(ev, "condition")
        ref("timeline", i, "condition", cond, conditions, "condition")
        if cond in derived:
            out.append(
                ctx.problem(
                    "timeline",
                    i,
                    "condition",
                    f"'{cond}' is a derived condition; events can only set base conditions",
                    hint="set the conditions its expression refers to instead",
                )
            )
    out += _options_without_lines(scenario, ctx)
    return out


def _options_without_lines(scenario: Scenario, ctx: _Ctx) -> list[Problem]:
    """A warning for every force option that no requirement line names."""
    requirement_options = {_g(r, "option") for r in scenario.requirements}
    requirement_options |= ctx.also_known.get("requirement_options", set())
    return [
        ctx.problem(
            "force_options", i, "id", f"force option '{_g(o, 'id')}' has no requirement lines", severity="warning"
        )
        for i, o in enumerate(scenario.force_options)
        if _g(o, "id") not in requirement_options
    ]


def _g(record: Any, name: str) -> Any:
    """A field of a record, or None when a record that failed validation lacks it."""
    return getattr(record, name, None) if record is not None else None


def known_ids(scenario: Scenario, also_known: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every id per table (plus regions, derived conditions and options that have lines), for
    checking records that failed field validation against the rest."""
    out = {table: {getattr(r, attr) for r in getattr(scenario, table)} for table, attr in _KEYS}
    out["regions"] = {h.region for h in scenario.hubs}
    out["derived"] = {c.name for c in scenario.conditions if c.expression.strip()}
    out["requirement_options"] = {r.option for r in scenario.requirements}
    for key, values in (also_known or {}).items():
        out.setdefault(key, set()).update(values)
    return out


# ---------------------------------------------------------------------------------------------
# Condition expressions
# ---------------------------------------------------------------------------------------------


def _expression_problems(
    ctx: _Ctx, table: str, i: int, field: str, text: str, conditions: set[str], instruments: set[str]
) -> list[Problem]:
    out: list[Problem] = []
    try:
        tree = cexpr.parse(text)
    except cexpr.ExpressionError as exc:
        where = ctx.loc.at(table, i, field)
        return [exc.problem(**where)]
    for name in cexpr.names(tree):
        if name not in conditions and ANY not in conditions:
            out.append(ctx.problem(table, i, field, f"unknown condition '{name}' in '{text}'", _hint(name, conditions)))
    for inst in cexpr.instruments(tree):
        if inst not in instruments and ANY not in instruments:
            out.append(
                ctx.problem(table, i, field, f"unknown instrument '{inst}' in '{text}'", _hint(inst, instruments))
            )
    return out


def check_conditions(
    scenario: Scenario,
    locator: Locator | None = None,
    also_known: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """Pledge conditions and derived-condition expressions parse and name known conditions and
    instruments; derived conditions are not cyclic."""
    ctx = _Ctx(scenario, locator, also_known)
    conditions = ctx.known("conditions", "name")
    instruments = ctx.known("instruments", "id")
    out: list[Problem] = []
    for i, p in enumerate(scenario.pledges):
        text = _g(p, "condition")
        if isinstance(text, str):
            out += _expression_problems(ctx, "pledges", i, "condition", text, conditions, instruments)
    definitions: dict[str, str] = {}
    index: dict[str, int] = {}
    for i, c in enumerate(scenario.conditions):
        if not isinstance(_g(c, "expression"), str) or not c.expression.strip():
            continue
        found = _expression_problems(ctx, "conditions", i, "expression", c.expression, conditions, instruments)
        out += found
        if not isinstance(_g(c, "name"), str):
            continue
        try:
            cexpr.parse(c.expression)
        except cexpr.ExpressionError:
            continue
        definitions[c.name] = c.expression
        index[c.name] = i
    for cycle in find_cycles(definitions):  # each cycle as ('a', 'b', 'a')
        out.append(
            ctx.problem(
                "conditions",
                index[cycle[0]],
                "expression",
                "cyclic derived condition: " + " -> ".join(cycle),
                hint="a derived condition may not depend on itself; make one of them a base "
                "condition (empty expression) set by the timeline",
            )
        )
    return out


def check_dates(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """Timeline events that contradict each other; pledge renewal after expiry; windows outside
    the planning horizon."""
    ctx = _Ctx(scenario, locator, None)
    out: list[Problem] = []
    seen: dict[tuple[str, Any], tuple[int, bool]] = {}
    for i, ev in enumerate(scenario.timeline):
        key = (ev.condition, ev.on)
        if key in seen and seen[key][1] != ev.value:
            out.append(
                ctx.problem(
                    "timeline",
                    i,
                    "value",
                    f"'{ev.condition}' is set both true and false on {ev.on.isoformat()}",
                    hint="one event per condition and day; move one of them to another date",
                )
            )
        seen.setdefault(key, (i, ev.value))
    for i, p in enumerate(scenario.pledges):
        if p.renewal_date and p.expiry_date and p.renewal_date > p.expiry_date:
            out.append(
                ctx.problem(
                    "pledges",
                    i,
                    "renewal_date",
                    f"renewal {p.renewal_date} is after expiry {p.expiry_date}",
                    hint="renew before the pledge expires",
                    severity="warning",
                )
            )
        if p.available_from_day > scenario.horizon_days:
            out.append(
                ctx.problem(
                    "pledges",
                    i,
                    "available_from_day",
                    f"available from day {p.available_from_day}, after the horizon ({scenario.horizon_days} days)",
                    severity="warning",
                )
            )
    for i, r in enumerate(scenario.requirements):
        if r.start_day > scenario.horizon_days:
            out.append(
                ctx.problem(
                    "requirements",
                    i,
                    "start_day",
                    f"starts on day {r.start_day}, after the horizon ({scenario.horizon_days} days)",
                    severity="warning",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Numbers that are allowed but absurd
# ---------------------------------------------------------------------------------------------


def check_numbers(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """Warnings for numbers far outside what a reassurance force would use (likely typos)."""
    ctx = _Ctx(scenario, locator, None)
    out: list[Problem] = []

    def warn(table: str, i: int, field: str, value: float, limit: float, what: str) -> None:
        if value > limit:
            out.append(
                ctx.problem(
                    table,
                    i,
                    field,
                    f"{what} {value:g} looks absurd",
                    hint=f"expected at most {limit:g}; check for a typo",
                    severity="warning",
                )
            )

    caps = {c.code: c for c in scenario.capabilities}
    for i, p in enumerate(scenario.pledges):
        warn("pledges", i, "units", p.units, ABSURD["units"], "units")
        warn(
            "pledges", i, "personnel_per_unit", p.personnel_per_unit, ABSURD["personnel_per_unit"], "personnel per unit"
        )
        warn("pledges", i, "notice_days", p.notice_days, ABSURD["notice_days"], "notice-to-move")
        warn("pledges", i, "tour_days", p.tour_days, ABSURD["tour_days"], "tour length")
        cap = caps.get(p.capability)
        if cap and not (cap.personnel / 4 <= p.personnel_per_unit <= cap.personnel * 4):
            out.append(
                ctx.problem(
                    "pledges",
                    i,
                    "personnel_per_unit",
                    f"{p.personnel_per_unit} personnel per unit, but a typical '{cap.code}' has {cap.personnel}",
                    hint="within a factor of 4 of the catalogue; split or merge units",
                    severity="warning",
                )
            )
    for i, c in enumerate(scenario.capabilities):
        warn("capabilities", i, "personnel", c.personnel, ABSURD["capability_personnel"], "personnel")
    for i, r in enumerate(scenario.requirements):
        warn("requirements", i, "quantity", r.quantity, ABSURD["requirement_quantity"], "quantity")
    for i, corridor in enumerate(scenario.corridors):
        warn("corridors", i, "transit_days", corridor.transit_days, ABSURD["transit_days"], "transit days")
        warn(
            "corridors",
            i,
            "personnel_per_day",
            corridor.personnel_per_day,
            ABSURD["corridor_personnel_per_day"],
            "personnel per day",
        )
        if corridor.personnel_per_day == 0 and corridor.tonnage_per_day == 0:
            out.append(
                ctx.problem(
                    "corridors",
                    i,
                    "personnel_per_day",
                    "corridor carries nothing (0 personnel and 0 tonnes per day)",
                    severity="warning",
                )
            )
    for i, h in enumerate(scenario.hubs):
        warn("hubs", i, "personnel_capacity", h.personnel_capacity, ABSURD["hub_capacity"], "personnel capacity")
    return out


# ---------------------------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------------------------

#: A site this far from the contact line is almost certainly a typo (e.g. lat and lon swapped).
FAR_FROM_LINE_KM = 3000.0


def check_geography(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """Warnings: a hub inside the buffer zone (no unit can go there), a hub or rear node
    implausibly far from the contact line (swapped coordinates?), a corridor shorter than the
    straight line between its ends."""
    from coalition.geo import distance_to_contact_line_km, haversine_km

    ctx = _Ctx(scenario, locator, None)
    out: list[Problem] = []
    line = scenario.contact_line
    if line is not None:
        half = line.buffer_km / 2
        for table in ("hubs", "rear_nodes"):
            for i, site in enumerate(getattr(scenario, table)):
                km = distance_to_contact_line_km((site.lat, site.lon), line)
                if table == "hubs" and km <= half:
                    out.append(
                        ctx.problem(
                            table,
                            i,
                            "lat",
                            f"hub '{site.id}' lies inside the buffer zone ({km:.0f} km from the "
                            f"contact line; the zone reaches {half:g} km each side)",
                            hint="no unit can be placed there; move the hub or narrow buffer_km",
                            severity="warning",
                        )
                    )
                elif km > FAR_FROM_LINE_KM:
                    out.append(
                        ctx.problem(
                            table,
                            i,
                            "lat",
                            f"'{site.id}' is {km:,.0f} km from the contact line",
                            hint="check lat/lon (swapped? sign?)",
                            severity="warning",
                        )
                    )
    hubs = {h.id: h for h in scenario.hubs}
    rears = {r.id: r for r in scenario.rear_nodes}
    for i, c in enumerate(scenario.corridors):
        hub, rear = hubs.get(c.hub), rears.get(c.rear_node)
        if hub is None or rear is None or c.distance_km == 0:
            continue
        straight = haversine_km((hub.lat, hub.lon), (rear.lat, rear.lon))
        if c.distance_km < 0.9 * straight:
            out.append(
                ctx.problem(
                    "corridors",
                    i,
                    "distance_km",
                    f"{c.distance_km:g} km is shorter than the straight line from "
                    f"'{c.rear_node}' to '{c.hub}' ({straight:.0f} km)",
                    hint="check distance_km or the coordinates of its ends",
                    severity="warning",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Depots
# ---------------------------------------------------------------------------------------------


def check_depots(scenario: Scenario, origin: Origin | None = None, *, raw_depots: Any = None) -> list[Problem]:
    """Every depot sits at a known hub or rear node. (The depot network's own rules, such as
    storehouse ids and lots, are checked by the depots package.)

    ``raw_depots``: the depot network's raw mapping when it failed validation, so the places of
    its depots are still checked.
    """
    places = {h.id for h in scenario.hubs} | {r.id for r in scenario.rear_nodes}
    if raw_depots is not None:
        items = raw_depots.get("depots") if isinstance(raw_depots, dict) else None
        depots = [
            (str(d.get("id", "?")), d.get("hub"))
            for d in (items if isinstance(items, list) else [])
            if isinstance(d, dict)
        ]
    else:
        depots = [(d.id, d.hub) for d in getattr(scenario.depots, "depots", ())]
    out: list[Problem] = []
    for i, (depot_id, hub) in enumerate(depots):
        if not isinstance(hub, str) or hub in places:
            continue
        path = ("depots", i, "hub")
        where = (
            {"file": origin.file, "row": origin.row_of(path), "field": origin.field_name(path)}
            if origin is not None
            else {"file": "depots", "row": i + 1, "field": "hub"}
        )
        out.append(
            Problem(f"depot '{depot_id}' is at unknown hub or rear node '{hub}'", hint=_hint(hub, places), **where)
        )
    return out


# ---------------------------------------------------------------------------------------------
# The uncertainty section (issue 14)
# ---------------------------------------------------------------------------------------------


def check_uncertainty_section(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """The optional ``uncertainty:`` section (rules in :mod:`coalition.scenario.uncertainty`)."""
    if scenario.uncertainty is None:
        return []
    return check_uncertainty(
        scenario.uncertainty,
        conditions={c.name: c.expression for c in scenario.conditions},
        nations={p.nation for p in scenario.pledges},
        where=(locator or Locator()).at,
    )


# ---------------------------------------------------------------------------------------------
# Sustainment data (issue 15)
# ---------------------------------------------------------------------------------------------


def check_sustainment(scenario: Scenario, locator: Locator | None = None) -> list[Problem]:
    """References of ``sustainment`` (capabilities, hubs, regions, pledges, MEDEVAC bases), and
    every pledge of a MEDEVAC capability (role ``medevac``) has a base."""
    s = getattr(scenario, "sustainment", None)
    if s is None:
        return []
    ctx = _Ctx(scenario, locator, None)
    caps = ctx.known("capabilities", "code")
    hubs = ctx.known("hubs", "id")
    places = hubs | ctx.known("rear_nodes", "id")
    regions = {_g(h, "region") for h in scenario.hubs}
    pledges = {p.id: p for p in scenario.pledges}
    out: list[Problem] = []

    def bad(field: str, message: str, hint: str | None = None) -> None:
        out.append(Problem(message, file="scenario.yaml", field=f"sustainment.{field}", hint=hint))

    for i, f in enumerate(s.factors):
        if f.capability not in caps:
            bad(f"factors[{i}].capability", f"unknown capability '{f.capability}'", _hint(f.capability, caps))
    for name in ("policies", "host_nation", "on_hand"):
        for i, r in enumerate(getattr(s, name)):
            if r.hub is not None and r.hub not in hubs:
                bad(f"{name}[{i}].hub", f"unknown hub '{r.hub}'", _hint(r.hub, hubs))
    for i, sp in enumerate(s.speeds):
        if sp.region is not None and sp.region not in regions:
            bad(f"speeds[{i}].region", f"unknown region '{sp.region}'", _hint(sp.region, regions))
    for i, m in enumerate(s.medical_roles):
        if m.capability not in caps:
            bad(f"medical_roles[{i}].capability", f"unknown capability '{m.capability}'", _hint(m.capability, caps))
    out += _medevac_problems(scenario, ctx, places, pledges)
    return out


def _medevac_problems(scenario: Scenario, ctx: _Ctx, places: set[str], pledges: dict[str, Any]) -> list[Problem]:
    """``sustainment.medevac`` names known pledges and bases; every MEDEVAC pledge has a base."""
    s = scenario.sustainment
    out: list[Problem] = []
    based = set()
    for i, m in enumerate(s.medevac):
        if m.pledge not in pledges:
            out.append(
                Problem(
                    f"unknown pledge '{m.pledge}'",
                    file="scenario.yaml",
                    field=f"sustainment.medevac[{i}].pledge",
                    hint=_hint(m.pledge, pledges),
                )
            )
        if not m.base:
            out.append(
                Problem(
                    f"MEDEVAC pledge '{m.pledge}' has no base",
                    file="scenario.yaml",
                    field=f"sustainment.medevac[{i}].base",
                    hint="give the hub or rear node its helicopters fly from",
                )
            )
        elif m.base not in places:
            out.append(
                Problem(
                    f"unknown MEDEVAC base '{m.base}'",
                    file="scenario.yaml",
                    field=f"sustainment.medevac[{i}].base",
                    hint=_hint(m.base, places),
                )
            )
        else:
            based.add(m.pledge)
    medevac_caps = {c.code for c in scenario.capabilities if "medevac" in (_g(c, "roles") or ())}
    for i, p in enumerate(scenario.pledges):
        if p.capability in medevac_caps and p.id not in based and p.id not in {m.pledge for m in s.medevac}:
            out.append(
                ctx.problem(
                    "pledges",
                    i,
                    "capability",
                    f"MEDEVAC pledge '{p.id}' has no base",
                    "add {pledge: ID, base: HUB_OR_REAR_NODE} to sustainment.medevac",
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# All together
# ---------------------------------------------------------------------------------------------

CHECKS = (
    check_duplicates,
    check_references,
    check_conditions,
    check_dates,
    check_numbers,
    check_geography,
    check_depots,
    check_uncertainty_section,
    check_sustainment,
)


def check_scenario(
    scenario: Scenario,
    locator: Locator | None = None,
    *,
    also_known: dict[str, set[str]] | None = None,
    depots_origin: Origin | None = None,
    raw_depots: Any = None,
    strict: bool = False,
) -> list[Problem]:
    """Run every check. ``strict``: warnings become errors."""
    out: list[Problem] = []
    out += check_depots(scenario, depots_origin, raw_depots=raw_depots)
    out += check_duplicates(scenario, locator)
    out += check_references(scenario, locator, also_known)
    out += check_conditions(scenario, locator, also_known)
    out += check_dates(scenario, locator)
    out += check_numbers(scenario, locator)
    out += check_geography(scenario, locator)
    out += check_uncertainty_section(scenario, locator)
    out += check_sustainment(scenario, locator)
    if strict:
        out = [replace(p, severity="error") for p in out]
    return out


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity != "error"]


def summary(scenario: Scenario) -> dict[str, int]:
    """Record counts per table (for the 'valid' message)."""
    counts = Counter(
        {
            "nations": len(scenario.nations),
            "pledges": len(scenario.pledges),
            "capabilities": len(scenario.capabilities),
            "force_options": len(scenario.force_options),
            "requirements": len(scenario.requirements),
            "hubs": len(scenario.hubs),
            "rear_nodes": len(scenario.rear_nodes),
            "corridors": len(scenario.corridors),
            "conditions": len(scenario.conditions),
            "instruments": len(scenario.instruments),
            "events": len(scenario.timeline),
        }
    )
    return dict(counts)
