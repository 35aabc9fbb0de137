"""Pure view models for the sustainment and analysis pages: the numbers the services return,
arranged for a table and an inline SVG (no chart library: a few rectangles and polylines).
Nothing is computed here beyond layout; every figure comes from the service's answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coalition.dashboard.i18n import N_

# supply classes: plain words (translated where shown); the code stays in a tooltip
CLASS_WORDS: dict[str, str] = {
    "I": N_("food"),
    "water": N_("water"),
    "II": N_("clothing and equipment"),
    "III(B)": N_("bulk fuel"),
    "III(P)": N_("packaged fuel and oil"),
    "IV": N_("construction material"),
    "V": N_("ammunition"),
    "VI": N_("personal items"),
    "VIII": N_("medical supplies"),
    "IX": N_("spare parts"),
}
CHART_W, CHART_H, PAD = 640, 180, 34


@dataclass
class Series:
    cls: str
    index: int
    points: str  # SVG polyline points (a step line over the day ranges)


@dataclass
class DosChart:
    hub: str
    name: str
    y_max: float
    horizon: int
    series: list[Series]
    rows: list[dict[str, Any]]  # one per day range: start, end, personnel, {class: dos}
    classes: list[str]
    ticks: list[tuple[float, int]] = field(default_factory=list)  # (x, day)


def _x(day: float, horizon: int) -> float:
    return round(PAD + (CHART_W - 2 * PAD) * day / max(1, horizon), 1)


def _y(value: float, y_max: float) -> float:
    return round(CHART_H - PAD - (CHART_H - 2 * PAD) * value / y_max, 1)


def dos_charts(demand: dict[str, Any]) -> list[DosChart]:
    """Days of supply on hand per hub and class over the plan's day ranges (the demand
    section's ``classes[*].dos_on_hand``), as a step line per class and a table."""
    horizon = int(demand.get("horizon_days") or 1)
    out = []
    for hub in demand["hubs"]:
        ranges = hub["ranges"]
        classes = [c for c in CLASS_WORDS if any(c in r["classes"] for r in ranges)]
        values = [
            r["classes"][c]["dos_on_hand"]
            for r in ranges
            for c in classes
            if c in r["classes"] and r["classes"][c]["dos_on_hand"] is not None
        ]
        y_max = max([1.0, *values])
        series = []
        for i, c in enumerate(classes):
            pts: list[str] = []
            for r in ranges:
                v = r["classes"].get(c, {}).get("dos_on_hand")
                if v is None:
                    continue
                y = _y(v, y_max)
                pts += [f"{_x(r['start_day'], horizon)},{y}", f"{_x(r['end_day'] + 1, horizon)},{y}"]
            series.append(Series(cls=c, index=i, points=" ".join(pts)))
        rows = [
            {
                "start": r["start_day"],
                "end": r["end_day"],
                "personnel": r["personnel"],
                "dos": {c: r["classes"].get(c, {}).get("dos_on_hand") for c in classes},
                "flags": sorted({f for c in classes for f in r["classes"].get(c, {}).get("flags", [])}),
            }
            for r in ranges
        ]
        step = max(30, (horizon // 6 // 30) * 30)
        ticks = [(_x(d, horizon), d) for d in range(0, horizon + 1, step)]
        out.append(
            DosChart(
                hub=hub["hub"],
                name=hub["name"],
                y_max=y_max,
                horizon=horizon,
                series=series,
                rows=rows,
                classes=classes,
                ticks=ticks,
            )
        )
    return out


@dataclass
class HeatCell:
    text: str  # the number (or band word) shown
    se: float | None
    cls: str
    band: str | None = None
    needed: bool = True


def fill_band_class(p: float) -> str:
    """The heatmap colour class of a fill probability (same 5 steps as the gap heatmap)."""
    return f"h{min(4, int(p * 5))}"


BAND_CLASS = {"always": "h4", "sometimes": "h2", "never": "h0"}


def mc_heatmap(result: dict[str, Any]) -> tuple[list[str], list[tuple[str, list[HeatCell | None]]]]:
    """Requirement line x reporting day (D+30/60/90): fill probability and its standard error
    in the full view, the band (always / sometimes / never) in a redacted one."""
    days = sorted({d for ln in result.get("lines") or [] for d in ln["by_day"]}, key=int)
    rows = []
    for ln in result.get("lines") or []:
        cells: list[HeatCell | None] = []
        for d in days:
            c = ln["by_day"].get(d)
            if c is None:
                cells.append(None)
            elif "band" in c and "p" not in c:
                b = c["band"]
                cells.append(
                    HeatCell(text="", se=None, cls=BAND_CLASS.get(b or "", "hnone"), band=b, needed=b is not None)
                )
            elif c.get("p") is None:
                cells.append(HeatCell(text="", se=None, cls="hnone", needed=False))
            else:
                cells.append(HeatCell(text=f"{c['p']:.2f}", se=c.get("se"), cls=fill_band_class(c["p"])))
        rows.append((ln["line"], cells))
    return days, rows


@dataclass
class Bar:
    label: str
    value: float | None
    width: float  # per cent of the widest bar
    lines_broken: list[str]


def tornado(result: dict[str, Any]) -> list[Bar]:
    """N-1 withdrawal impact per nation. Full view: bars of the change in essential coverage,
    largest loss first. Redacted view: no figure is released and the rows stay in the order
    the policy gives (by nation: an order by damage would rank them), so no bar length."""
    rows = result.get("n_1") or []
    full = not result.get("redacted")
    bars = [
        Bar(
            label=" + ".join(r["nations"]),
            value=r.get("delta_essential_coverage_pct") if full else None,
            width=0.0,
            lines_broken=list(r.get("lines_broken", [])),
        )
        for r in rows
    ]
    if full:
        bars.sort(key=lambda b: (b.value if b.value is not None else 0.0, b.label))
        widest = max([abs(b.value) for b in bars if b.value is not None] or [0.0])
        for b in bars:
            if b.value is not None and widest > 0:
                b.width = round(100 * abs(b.value) / widest, 1)
    return bars


def medical_layer(medical: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The map's 10-1-2 layer: per hub, its uncovered day ranges (the medical section's
    ``uncovered``, in order); a hub absent from it is covered over the plan, or holds no one."""
    out: dict[str, list[dict[str, Any]]] = {}
    for u in medical.get("uncovered", []):
        out.setdefault(u["hub"], []).append(u)
    return out
