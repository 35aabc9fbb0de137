"""A quantity-distance map of one depot as a standalone SVG (pure: typed values in, text out).

It draws the storehouses, the exposed sites (points, and polylines for routes) and, for every
storehouse holding stock, one arc per relation at the distance the check requires there (the
largest over that relation's targets, from :func:`coalition.depots.rules.required_distances`).
A target inside its required distance, and the arc it breaks, are drawn in red
(``class="violation"``). The SVG is built with the standard library's ElementTree, so every label
is escaped; the dashboard embeds the same drawing.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import numpy as np

from coalition.depots.layout import _RELATIONS, DIST_TOL, Layout
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.rules import required_distances
from coalition.depots.schemas import Catalogue, Depot, ExposedSiteKind, StockLine

SIZE = 900  # drawing width and height in px, margins included
MARGIN = 60
COLOURS = {
    "IBD": "#1f77b4",
    "IBD-LD": "#17becf",
    "VBD": "#9467bd",
    "PTRD": "#ff7f0e",
    "PBD": "#2ca02c",
    "IMD": "#7f7f7f",
}
SITE_SHAPES = {ExposedSiteKind.ROUTE: "route"}


def depot_svg(
    depot: Depot,
    lines: Sequence[StockLine],
    catalogue: Catalogue,
    *,
    book: RuleBook | None = None,
    title: str | None = None,
) -> str:
    """The Q-D map of ``depot`` holding ``lines`` as an SVG document."""
    book = book or load_rulebook()
    layout, required = required_distances(depot, lines, catalogue, book=book)
    shs = depot.storehouses
    arcs, broken_targets = _arcs(layout, required, len(shs))
    # the frame: every storehouse, site point and arc
    xs = [s.x for s in shs] + [p[0] for e in depot.exposed_sites for p in e.points]
    ys = [s.y for s in shs] + [p[1] for e in depot.exposed_sites for p in e.points]
    for i, _, r, _ in arcs:
        if math.isfinite(r):
            xs += [shs[i].x - r, shs[i].x + r]
            ys += [shs[i].y - r, shs[i].y + r]
    if not xs:
        xs, ys = [0.0], [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1.0)
    scale = (SIZE - 2 * MARGIN) / span

    def px(x: float) -> float:
        return round(MARGIN + (x - x0) * scale, 2)

    def py(y: float) -> float:
        return round(SIZE - MARGIN - (y - y0) * scale, 2)  # y is north: SVG y grows downwards

    svg = ET.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width=str(SIZE),
        height=str(SIZE),
        viewBox=f"0 0 {SIZE} {SIZE}",
        role="img",
    )
    ET.SubElement(svg, "title").text = title or f"Quantity-distance map of {depot.name} ({depot.id})"
    style = ET.SubElement(svg, "style")
    style.text = (
        "text{font:11px sans-serif} circle.arc{fill:none;stroke-width:1.5}"
        " .site{fill:#333;stroke:#333;stroke-width:2} polyline.site{fill:none;stroke-width:4}"
        " .route{fill:none;stroke:#555;stroke-width:3}"
        " svg .violation{stroke:#d62728;fill:#d62728} svg circle.arc.violation{fill:none;stroke-width:3}"
        " svg polyline.violation{fill:none} svg text.violation{stroke:none}"
    )
    ET.SubElement(svg, "rect", x="0", y="0", width=str(SIZE), height=str(SIZE), fill="white")
    g_arcs = ET.SubElement(svg, "g", id="arcs")
    for i, rel, r, bad in arcs:
        if not math.isfinite(r):
            continue  # outside the validated range: listed in the legend, not drawn
        c = ET.SubElement(
            g_arcs,
            "circle",
            {"class": "arc violation" if bad else "arc"},
            cx=str(px(shs[i].x)),
            cy=str(py(shs[i].y)),
            r=str(round(r * scale, 2)),
            stroke=COLOURS.get(rel, "#000"),
        )
        c.set("stroke-dasharray", "6 4")
        ET.SubElement(c, "title").text = f"{shs[i].id}: {rel} needs {r:,.0f} m" + (" — VIOLATED" if bad else "")
    _draw_sites(svg, depot, broken_targets, px, py)
    _draw_storehouses(svg, depot, arcs, broken_targets, (px, py))
    _legend(svg, depot, arcs, span, scale)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"


def _arcs(layout: Layout, required: np.ndarray, n_sh: int) -> tuple[list[tuple[int, str, float, bool]], set[int]]:
    """Per storehouse and relation, the largest required distance and whether it is broken; and
    the targets inside a required distance."""
    arcs: list[tuple[int, str, float, bool]] = []
    broken_targets: set[int] = set()
    for i in range(n_sh):
        for rel_idx, rel in enumerate(_RELATIONS):
            cols = [
                c
                for c in range(layout.dist.shape[1])
                if int(layout.target_relation[c]) == rel_idx and required[i, c] > 0 and np.isfinite(layout.dist[i, c])
            ]
            if not cols:
                continue
            radius = max(float(required[i, c]) for c in cols)
            inside = [c for c in cols if layout.dist[i, c] + DIST_TOL < required[i, c]]
            broken_targets.update(inside)
            arcs.append((i, rel, radius, bool(inside)))
    return arcs, broken_targets


def _draw_sites(
    svg: ET.Element, depot: Depot, broken_targets: set[int], px: Callable[[float], float], py: Callable[[float], float]
) -> None:
    """Each exposed site (a point or a line), red when inside a required distance."""
    g_sites = ET.SubElement(svg, "g", id="exposed-sites")
    for k, e in enumerate(depot.exposed_sites):
        hit = k in broken_targets
        cls = ("route" if e.kind == ExposedSiteKind.ROUTE else "site") + (" violation" if hit else "")
        if len(e.points) > 1:
            el = ET.SubElement(
                g_sites, "polyline", {"class": cls}, points=" ".join(f"{px(x)},{py(y)}" for x, y in e.points)
            )
        else:
            x, y = e.points[0]
            el = ET.SubElement(g_sites, "circle", {"class": cls}, cx=str(px(x)), cy=str(py(y)), r="5")
        ET.SubElement(el, "title").text = f"{e.id} ({e.kind.value}{', ' + e.density if e.density else ''})"
        lx, ly = e.points[0]
        label = ET.SubElement(
            g_sites, "text", {"class": "violation"} if hit else {}, x=str(px(lx) + 7), y=str(py(ly) - 7)
        )
        label.text = e.id


def _draw_storehouses(
    svg: ET.Element,
    depot: Depot,
    arcs: list[tuple[int, str, float, bool]],
    broken_targets: set[int],
    to_px: tuple[Callable[[float], float], Callable[[float], float]],
) -> None:
    """Each storehouse (with its door when earth-covered), red when it breaks or suffers a rule."""
    px, py = to_px
    shs = depot.storehouses
    n_es = len(depot.exposed_sites)
    g_sh = ET.SubElement(svg, "g", id="storehouses")
    for i, s in enumerate(shs):
        hit = any(a[0] == i and a[3] for a in arcs) or (n_es + i) in broken_targets
        el = ET.SubElement(
            g_sh,
            "rect",
            {"class": "violation"} if hit else {},
            x=str(px(s.x) - 6),
            y=str(py(s.y) - 6),
            width="12",
            height="12",
            fill="#8c564b",
        )
        ET.SubElement(el, "title").text = f"{s.id} ({s.kind.value})"
        if s.kind.value == "earth-covered":  # the door (front) as a short tick
            a = math.radians(s.orientation_deg)
            ET.SubElement(
                g_sh,
                "line",
                {"stroke-width": "2"},
                x1=str(px(s.x)),
                y1=str(py(s.y)),
                x2=str(round(px(s.x) + 14 * math.sin(a), 2)),
                y2=str(round(py(s.y) - 14 * math.cos(a), 2)),
                stroke="#000",
            )
        ET.SubElement(g_sh, "text", x=str(px(s.x) + 8), y=str(py(s.y) + 14)).text = s.id


def _legend(svg: ET.Element, depot: Depot, arcs: list[tuple[int, str, float, bool]], span: float, scale: float) -> None:
    """The legend: title line, one entry per relation drawn, what is outside the validated range
    (listed, not drawn), and a scale bar."""
    shs = depot.storehouses
    legend = ET.SubElement(svg, "g", id="legend")
    y = 18
    ET.SubElement(legend, "text", x="10", y=str(y)).text = (
        f"{depot.name} ({depot.id}), profile {depot.profile}; dashed arcs: required distance per relation; "
        "red: inside it" + (" — ILLUSTRATIVE" if depot.illustrative else "")
    )
    y += 16
    x = 10
    shown = [rel for rel in _RELATIONS if any(a[1] == rel for a in arcs)]
    for rel in shown:
        ET.SubElement(
            legend,
            "line",
            {"stroke-width": "3"},
            x1=str(x),
            y1=str(y - 4),
            x2=str(x + 18),
            y2=str(y - 4),
            stroke=COLOURS[rel],
        )
        ET.SubElement(legend, "text", x=str(x + 22), y=str(y)).text = rel
        x += 70
    if not shown:
        ET.SubElement(legend, "text", x="10", y=str(y)).text = "no stock held: no arcs"
    outside = [f"{shs[i].id} {rel}" for i, rel, r, _ in arcs if not math.isfinite(r)]
    if outside:
        y += 16
        t = ET.SubElement(legend, "text", {"class": "violation"}, x="10", y=str(y))
        t.text = "outside the validated range (no distance): " + ", ".join(outside)
    scale_m = 10 ** math.floor(math.log10(span / 4)) if span > 4 else 1
    ET.SubElement(
        legend,
        "line",
        {"stroke-width": "2"},
        x1="10",
        y1=str(SIZE - 20),
        x2=str(10 + scale_m * scale),
        y2=str(SIZE - 20),
        stroke="#000",
    )
    ET.SubElement(legend, "text", x="10", y=str(SIZE - 26)).text = f"{scale_m:,.0f} m"
