"""Map label placement (pure): candidate positions per label, greedy by priority, hide the rest.

Every label belongs to a point (a hub, a rear node, a country's anchor). It may sit at one of a
few candidate positions around its point; labels are taken in priority order and each gets the
first candidate whose box overlaps no box already placed, no point marker and stays inside the
map. A label with no free candidate is hidden (its point keeps its name as an accessible name
and tooltip, and the tables beside the map list every hub).

The map zooms in steps ("levels" 1, 2, 4): at level k markers and labels are drawn 1/k of
their size in map units, so they keep their size on screen while the map grows, and the layout
is done again for each level (more labels fit when zoomed in). Boxes are estimated from the
text (a per-character width table for the sans-serif the stylesheet uses, on the safe side,
plus the halo), so the server can place labels without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LEVELS: tuple[int, ...] = (1, 2, 4)
GAP = 2.5  # map units at level 1 between a marker and its label
HALO = 1.5  # half the width of the label's halo stroke

# Width of a character in em, a little above what DejaVu Sans / Liberation Sans draw in bold.
_NARROW = set("iljtfI.,;:'!|()[] ")
_WIDE = set("mwMWOQGDHNU@%")


def text_width(text: str, size: float, bold: bool = True) -> float:
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.36
        elif ch in _WIDE:
            em += 0.92
        elif ch.isupper() or ch.isdigit():
            em += 0.74
        else:
            em += 0.62
    return em * size * (1.0 if bold else 0.94)


@dataclass(frozen=True)
class Label:
    key: str  # unique (e.g. "hub:UA-LVIV")
    text: str
    x: float  # the point (map units)
    y: float
    priority: float  # higher is placed first
    size: float = 11.5  # font size at level 1 (map units)
    marker: float = 7.0  # the point marker's half-size at level 1 (0: no marker)
    bold: bool = True
    centred: bool = False  # a country name: centred on the point, nudged if it must


@dataclass(frozen=True)
class Placement:
    """Where a label's text goes, relative to its point at level 1 (divide by the level)."""

    dx: float
    dy: float  # baseline
    anchor: str  # "start", "middle" or "end"


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _candidates(label: Label) -> list[Placement]:
    s, r = label.size, label.marker
    if label.centred:
        return [
            Placement(0, 0, "middle"),
            Placement(0, -s, "middle"),
            Placement(0, s, "middle"),
            Placement(-2 * s, 0, "middle"),
            Placement(2 * s, 0, "middle"),
        ]
    off = r + GAP
    mid = 0.35 * s  # baseline that centres the text vertically on the point
    diag = 0.72 * off
    return [
        Placement(off, mid, "start"),  # east
        Placement(-off, mid, "end"),  # west
        Placement(diag, -diag, "start"),  # north-east
        Placement(diag, diag + 0.7 * s, "start"),  # south-east
        Placement(-diag, -diag, "end"),  # north-west
        Placement(-diag, diag + 0.7 * s, "end"),  # south-west
        Placement(0, -off - 0.25 * s, "middle"),  # north
        Placement(0, off + 0.8 * s, "middle"),  # south
    ]


def box(label: Label, p: Placement, level: int = 1) -> Box:
    """The label's box in map units at ``level`` when placed at ``p``."""
    w = text_width(label.text, label.size, label.bold) + 2 * HALO
    x0 = {"start": p.dx - HALO, "middle": p.dx - w / 2, "end": p.dx - w + HALO}[p.anchor]
    top = p.dy - 0.8 * label.size - HALO
    bottom = p.dy + 0.25 * label.size + HALO
    k = float(level)
    return (label.x + x0 / k, label.y + top / k, label.x + (x0 + w) / k, label.y + bottom / k)


def marker_box(label: Label, level: int = 1) -> Box | None:
    if label.marker <= 0:
        return None
    r = (label.marker + 1.0) / level
    return (label.x - r, label.y - r, label.x + r, label.y + r)


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place(
    labels: list[Label], width: float, height: float, level: int = 1, *, obstacles: Sequence[Label] = ()
) -> dict[str, Placement | None]:
    """Greedy placement at one level: key -> placement, or None when the label is hidden.
    ``obstacles``: further markers (without text) no label may cover."""
    markers = {lb.key: m for lb in [*labels, *obstacles] if (m := marker_box(lb, level)) is not None}
    placed: list[Box] = []
    out: dict[str, Placement | None] = {}
    for lb in sorted(labels, key=lambda item: (-item.priority, item.key)):
        out[lb.key] = None
        for cand in _candidates(lb):
            b = box(lb, cand, level)
            if b[0] < 0 or b[1] < 0 or b[2] > width or b[3] > height:
                continue
            if any(overlaps(b, other) for other in placed):
                continue
            if any(overlaps(b, m) for key, m in markers.items() if key != lb.key):
                continue
            placed.append(b)
            out[lb.key] = cand
            break
    return out


def layout(
    labels: list[Label], width: float, height: float, *, obstacles: Sequence[Label] = ()
) -> dict[str, tuple[Placement | None, ...]]:
    """:func:`place` at every level: key -> one placement (or None) per level of LEVELS."""
    per_level = [place(labels, width, height, k, obstacles=obstacles) for k in LEVELS]
    return {lb.key: tuple(level[lb.key] for level in per_level) for lb in labels}


__all__ = ["LEVELS", "Label", "Placement", "box", "layout", "marker_box", "overlaps", "place", "text_width"]
