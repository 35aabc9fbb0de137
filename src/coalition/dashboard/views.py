"""View models for the dashboard (pure): the map layers, the fill heatmap and the Gantt chart.

They take typed scenario values and plan JSON and return plain data for the templates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from coalition.dashboard import geo, maplabels
from coalition.dashboard.i18n import N_
from coalition.scenario.schemas import Scenario

NATION_COLOURS = (
    "#1f5fa8",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#66a182",
    "#8e6c8a",
    "#e07a5f",
    "#3d405b",
    "#81b29a",
    "#f2cc8f",
    "#6d597a",
    "#b56576",
    "#355070",
    "#2a9d8f",
    "#e76f51",
    "#264653",
)
RESTRICTED_COLOUR = "#b8bfc7"


@dataclass
class MapModel:
    width: int
    height: int
    countries: list[Any]
    hubs: list[dict[str, Any]]
    rear_nodes: list[dict[str, Any]]
    corridors: list[dict[str, Any]]
    contact: str | None
    buffer_px: float
    buffer_km: float
    attribution: str
    regions: list[dict[str, Any]] = field(default_factory=list)  # regional lines' fill
    scale_km: int = 200
    scale_px: float = 0.0
    depots: list[dict[str, Any]] = field(default_factory=list)
    country_labels: list[dict[str, Any]] = field(default_factory=list)
    px_per_km: float = geo.PX_PER_KM
    levels: tuple[int, ...] = maplabels.LEVELS


def hub_fill(fill: list[dict[str, Any]]) -> dict[str, float]:
    """Share of required unit-periods filled, per hub, from a plan's fill cells."""
    req: dict[str, int] = defaultdict(int)
    got: dict[str, int] = defaultdict(int)
    for cell in fill:
        req[cell["hub"]] += int(cell["required"])
        got[cell["hub"]] += min(int(cell["filled"]), int(cell["required"]))
    return {h: got[h] / r for h, r in req.items() if r}


COUNTRY_LABELS = ("UKR", "POL", "ROU", "BLR", "MDA", "HUN", "SVK", "RUS", "BGR")
HUB_R, RING_R, REAR_R, DEPOT_R = 7.0, 11.0, 5.0, 4.5
DEPOT_OFFSET = (-9.0, -9.0)  # a depot's diamond sits up and left of its place, at level 1


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain), counter-clockwise; one or two points come back as given."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def region_path(points: list[tuple[float, float]]) -> str:
    """SVG path of a region's area: the hull of its hubs (drawn with a wide round stroke, so one
    hub is a disc and two a rounded bar)."""
    hull = _hull(points)
    if not hull:
        return ""
    if len(hull) == 1:
        x, y = hull[0]
        return f"M{x},{y}L{x},{y}"
    body = "L".join(f"{x},{y}" for x, y in hull)
    return f"M{body}" + ("Z" if len(hull) > 2 else "")


def map_labels(m: MapModel) -> list[maplabels.Label]:
    """Every label of the map, by priority: hubs (largest first), rear nodes, country names."""
    out = []
    top = max([h["capacity"] for h in m.hubs] or [1]) or 1
    for h in m.hubs:
        out.append(
            maplabels.Label(
                f"hub:{h['id']}",
                h["name"],
                h["x"],
                h["y"],
                2 + h["capacity"] / top,
                marker=RING_R if h["cls"] else HUB_R,
            )
        )
    for r in m.rear_nodes:
        out.append(maplabels.Label(f"rear:{r['id']}", r["name"], r["x"], r["y"], 1.0, marker=REAR_R))
    for c in m.country_labels:
        out.append(
            maplabels.Label(
                f"country:{c['iso3']}", c["name"], c["x"], c["y"], 0.5, size=11.0, marker=0.0, bold=False, centred=True
            )
        )
    return out


def _obstacles(m: MapModel) -> list[maplabels.Label]:
    """Depot diamonds: markers labels must not cover (they carry no text of their own)."""
    return [
        maplabels.Label(
            f"depot:{d['id']}", "", d["x"] + DEPOT_OFFSET[0], d["y"] + DEPOT_OFFSET[1], -1.0, marker=DEPOT_R
        )
        for d in m.depots
    ]


def place_labels(m: MapModel) -> None:
    """Lay out every label at every zoom level (:mod:`maplabels`) and attach the result: each
    hub, rear node and country label gets ``label`` = {x, y, anchor, hidden, pl} where ``pl`` is
    the placement per level ("x,y,anchor" in map units, "-" when hidden at that level)."""
    labels = map_labels(m)
    obstacles = _obstacles(m)
    per_level = [maplabels.place(labels, m.width, m.height, k, obstacles=obstacles) for k in maplabels.LEVELS]
    by_key = {lb.key: lb for lb in labels}

    def attach(item: dict[str, Any], key: str) -> None:
        lb = by_key[key]
        parts = []
        for k, chosen in zip(maplabels.LEVELS, per_level, strict=True):
            p = chosen[key]
            parts.append("-" if p is None else f"{round(lb.x + p.dx / k, 1)},{round(lb.y + p.dy / k, 1)},{p.anchor}")
        first = per_level[0][key]
        x, y, anchor = parts[0].split(",") if first is not None else (str(lb.x), str(lb.y), "start")
        item["label"] = {"x": x, "y": y, "anchor": anchor, "hidden": first is None, "pl": "|".join(parts)}

    for h in m.hubs:
        attach(h, f"hub:{h['id']}")
    for r in m.rear_nodes:
        attach(r, f"rear:{r['id']}")
    for c in m.country_labels:
        attach(c, f"country:{c['iso3']}")


CountryName = Callable[[str, str], str]  # (iso3, source name) -> the name shown


def _regions(scenario: Scenario, hubs: list[dict[str, Any]], fill: dict[str, float]) -> list[dict[str, Any]]:
    """Requirement lines set on a region, not a hub: their fill is listed beside the map and
    drawn as the area of the region's hubs, and the hubs of that region point to it (a hub with
    no line of its own is not "—" then)."""
    hub_ids = {h.id for h in scenario.hubs}
    regions: list[dict[str, Any]] = []
    for place, ratio in sorted(fill.items()):
        if place in hub_ids:
            continue
        # the plan names a region's lines "region:<name>" (planner.tables); hubs name the region
        name = place.removeprefix("region:")
        members = [(hub, item) for hub, item in zip(scenario.hubs, hubs, strict=True) if hub.region == name]
        regions.append(
            {
                "name": name,
                "fill": round(100 * ratio),
                "cls": heat_class(ratio),
                "hubs": sorted(hub.name for hub, _item in members),
                "path": region_path([(float(item["x"]), float(item["y"])) for _hub, item in members]),
            }
        )
    by_region = {r["name"]: r for r in regions}
    for item, hub in zip(hubs, scenario.hubs, strict=True):
        if item["fill"] is None and hub.region in by_region:
            item["region_fill"] = by_region[hub.region]["fill"]
            item["region"] = hub.region
    return regions


def _depot_items(depots: list[Any], where: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """A diamond per depot the reader may see, beside the place it serves."""
    depot_items: list[dict[str, Any]] = []
    for d in depots:
        if d.hub in where:
            x, y = where[d.hub]
            depot_items.append(
                {
                    "id": d.id,
                    "name": d.name,
                    "place": d.hub,
                    "x": x,
                    "y": y,
                    "dx": DEPOT_OFFSET[0],
                    "dy": DEPOT_OFFSET[1],
                }
            )
    return depot_items


def map_model(
    scenario: Scenario,
    fill: dict[str, float] | None = None,
    depots: list[Any] | None = None,
    country_name: CountryName | None = None,
) -> MapModel:
    """The map's layers; ``depots``: the depots the reader may see (their diamonds);
    ``country_name``: the country names in the reader's language (before the labels are
    placed, so a longer name gets a box of its own size)."""
    hubs: list[dict[str, Any]] = []
    for h in scenario.hubs:
        x, y = geo.project(h.lat, h.lon)
        ratio = (fill or {}).get(h.id)
        hubs.append(
            {
                "id": h.id,
                "name": h.name,
                "x": x,
                "y": y,
                "kind": h.kind.value,
                "capacity": h.personnel_capacity,
                "lead": h.lead_nation or "",
                "fill": None if ratio is None else round(100 * ratio),
                "cls": "" if ratio is None else heat_class(ratio),
            }
        )
    rears: list[dict[str, Any]] = []
    for r in scenario.rear_nodes:
        x, y = geo.project(r.lat, r.lon)
        rears.append({"id": r.id, "name": r.name, "x": x, "y": y, "kind": r.kind.value, "country": r.country})
    where = {h["id"]: (h["x"], h["y"]) for h in hubs} | {r["id"]: (r["x"], r["y"]) for r in rears}
    corridors = []
    for c in scenario.corridors:
        if c.rear_node in where and c.hub in where:
            (x1, y1), (x2, y2) = where[c.rear_node], where[c.hub]
            corridors.append(
                {
                    "id": c.id,
                    "x1": x1,
                    "y1": y1,
                    "x2": x2,
                    "y2": y2,
                    "mode": c.mode.value,
                    "per_day": c.personnel_per_day,
                    "transit": c.transit_days,
                }
            )
    contact, buffer_px, buffer_km = None, 0.0, 0.0
    if scenario.contact_line is not None:
        contact = geo.polyline([(p.lat, p.lon) for p in scenario.contact_line.points])
        buffer_km = scenario.contact_line.buffer_km
        buffer_px = round(buffer_km * geo.PX_PER_KM, 2)  # total width, centred on the line
    regions = _regions(scenario, hubs, fill or {})
    depot_items = _depot_items(depots or [], where)
    shapes = list(geo.countries())
    if country_name is not None:
        shapes = [replace(c, name=country_name(c.iso3, c.name)) for c in shapes]
    country_labels = [
        {"iso3": c.iso3, "name": c.name, "x": c.label_x, "y": c.label_y}
        for c in shapes
        if c.iso3 in COUNTRY_LABELS and 0 < c.label_x < geo.WIDTH and 0 < c.label_y < geo.HEIGHT
    ]
    m = MapModel(
        geo.WIDTH,
        geo.HEIGHT,
        shapes,
        hubs,
        rears,
        corridors,
        contact,
        buffer_px,
        buffer_km,
        geo.attribution(),
        regions,
        200,
        round(200 * geo.PX_PER_KM, 1),
        depot_items,
        country_labels,
    )
    place_labels(m)
    return m


@dataclass
class Heatmap:
    capabilities: list[str]
    hubs: list[str]
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def heat_class(ratio: float | None) -> str:
    if ratio is None:
        return "hnone"
    return f"h{min(4, int(ratio * 5 - 1e-9)) if ratio < 1 else 4}" if ratio > 0 else "h0"


def heatmap_from_fill(fill: list[dict[str, Any]]) -> Heatmap:
    """Capability × hub: required and filled unit-periods summed over the horizon."""
    req: dict[tuple[str, str], int] = defaultdict(int)
    got: dict[tuple[str, str], int] = defaultdict(int)
    for cell in fill:
        key = (cell["capability"], cell["hub"])
        req[key] += int(cell["required"])
        got[key] += min(int(cell["filled"]), int(cell["required"]))
    caps = sorted({k[0] for k in req})
    hubs = sorted({k[1] for k in req})
    hm = Heatmap(caps, hubs)
    for key, r in req.items():
        ratio = got[key] / r if r else None
        hm.cells[key] = {
            "required": r,
            "filled": got[key],
            "pct": None if ratio is None else round(100 * ratio),
            "cls": heat_class(ratio),
        }
    return hm


def heatmap_from_cells(cells: list[dict[str, Any]]) -> Heatmap:
    """Capability × place from the gap picture's cells: units required and filled, all phases."""
    req: dict[tuple[str, str], int] = defaultdict(int)
    got: dict[tuple[str, str], int] = defaultdict(int)
    for cell in cells:
        key = (cell["capability"], cell["place"])
        req[key] += int(cell["required_units"])
        got[key] += min(int(cell["filled_units"]), int(cell["required_units"]))
    hm = Heatmap(sorted({k[0] for k in req}), sorted({k[1] for k in req}))
    for key, r in req.items():
        ratio = got[key] / r if r else None
        hm.cells[key] = {
            "required": r,
            "filled": got[key],
            "pct": None if ratio is None else round(100 * ratio),
            "cls": heat_class(ratio),
        }
    return hm


@dataclass
class Gantt:
    width: int
    height: int
    rows: list[dict[str, Any]]
    ticks: list[dict[str, Any]]
    legend: list[tuple[str, str]]
    left: int


def gantt(unit_lines: list[dict[str, Any]], horizon_days: int) -> Gantt:
    """One row per requirement × rotation slot; a bar per tour, coloured by nation. Every unit
    line is drawn (no row cap: a plan of a few hundred lines is a few hundred SVG rects)."""
    left, right, row_h, top = 190, 16, 16, 24
    plot_w = 1000
    lines = sorted(unit_lines, key=lambda u: (u["hub"], u["requirement"], u["tour_start_day"]))
    lanes: dict[tuple[str, str], list[list[dict[str, Any]]]] = defaultdict(list)
    for u in lines:
        key = (u["hub"], u["requirement"])
        for lane in lanes[key]:
            if lane[-1]["tour_end_day"] <= u["tour_start_day"]:
                lane.append(u)
                break
        else:
            lanes[key].append([u])
    nations = sorted({u["nation"] for u in lines if not u.get("restricted")})
    colour = {n: NATION_COLOURS[i % len(NATION_COLOURS)] for i, n in enumerate(nations)}
    span = max(1, horizon_days)

    def xpos(day: int) -> float:
        return round(left + max(0, min(day, span)) / span * plot_w, 1)

    rows: list[dict[str, Any]] = []
    for (hub, req), lane_list in sorted(lanes.items()):
        for i, lane in enumerate(lane_list):
            y = top + len(rows) * row_h
            bars = []
            for u in lane:
                x1, x2 = xpos(u["arrival_day"]), xpos(u["tour_end_day"])
                restricted = bool(u.get("restricted"))
                bars.append(
                    {
                        "uln": u["uln"],
                        "x": x1,
                        "w": max(1.5, x2 - x1),
                        "y": y + 2,
                        "h": row_h - 4,
                        "colour": RESTRICTED_COLOUR if restricted else colour[u["nation"]],
                        "title": (
                            f"{u['uln']} {u['nation']} {u['unit']} {u['capability']} at {hub}: "
                            f"arrives day {u['arrival_day']}, tour to day {u['tour_end_day']}, "
                            f"rotation {u.get('rotation', 1)}"
                            + (f", {u['days_late']} days late" if u.get("days_late") else "")
                        ),
                        "late": int(u.get("days_late") or 0),
                        "late_x": xpos(u["required_day"]),
                    }
                )
            rows.append(
                {"label": f"{hub} · {req}" + (f" #{i + 1}" if len(lane_list) > 1 else ""), "y": y, "bars": bars}
            )
    height = top + len(rows) * row_h + 10
    ticks = [{"x": xpos(d), "label": f"C+{d}"} for d in range(0, span + 1, 91)]
    legend = [(n, colour[n]) for n in nations]
    if any(u.get("restricted") for u in lines):
        legend.append((N_("restricted (another nation)"), RESTRICTED_COLOUR))
    return Gantt(left + plot_w + right, height, rows, ticks, legend, left)


ULN_COLUMNS = (
    "uln",
    "nation",
    "unit",
    "capability",
    "requirement",
    "hub",
    "corridor",
    "arrival_day",
    "tour_start_day",
    "tour_end_day",
    "days_late",
)
ULN_FILTERS = ("nation", "hub", "capability")


@dataclass
class UlnTable:
    rows: list[dict[str, Any]]
    total: int  # lines matching the search and filters
    all_lines: int  # lines of the plan the reader sees
    page: int
    pages: int
    options: dict[str, list[str]]  # the values each filter can take


def uln_table(
    unit_lines: list[dict[str, Any]],
    *,
    q: str = "",
    filters: dict[str, str] | None = None,
    sort: str = "uln",
    desc: bool = False,
    page: int = 1,
    size: int = 50,
) -> UlnTable:
    """The unit-line table (TPFDD-like): search in every text column, exact filters, a sort on
    any column (numbers as numbers, ties by ULN), and pages of ``size`` lines."""
    filters = {k: v for k, v in (filters or {}).items() if k in ULN_FILTERS and v}
    options = {k: sorted({str(u.get(k) or "") for u in unit_lines} - {""}) for k in ULN_FILTERS}
    needle = q.strip().lower()

    def hit(u: dict[str, Any]) -> bool:
        if any(str(u.get(k) or "") != v for k, v in filters.items()):
            return False
        return not needle or any(needle in str(u.get(k) or "").lower() for k in ULN_COLUMNS)

    chosen = [u for u in unit_lines if hit(u)]
    key = sort if sort in ULN_COLUMNS else "uln"

    def order(u: dict[str, Any]) -> tuple[Any, ...]:
        value = u.get(key)
        if isinstance(value, int | float):
            return (0, value, "", u["uln"])
        return (1 if value is None else 0, 0, str(value or ""), u["uln"])

    chosen.sort(key=order, reverse=desc)
    pages = max(1, -(-len(chosen) // size))
    page = min(max(1, page), pages)
    return UlnTable(chosen[(page - 1) * size : page * size], len(chosen), len(unit_lines), page, pages, options)
