"""Rich renderers for the activation picture and the gap report (used by `status`, `gaps`, `plan`).

Rendering only: every number comes from the typed pictures of
:mod:`coalition.forcegen.activation` and :mod:`coalition.forcegen.gaps`.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from coalition.conditions.engine import Truth, Verdict
from coalition.forcegen.schemas import (
    ActivationPicture,
    ActivationStatus,
    GapPicture,
    LineFill,
)

_STATUS_STYLE = {
    ActivationStatus.ACTIVE: "green",
    ActivationStatus.INACTIVE: "red",
    ActivationStatus.UNKNOWN: "yellow",
    ActivationStatus.WITHDRAWN: "magenta",
    ActivationStatus.EXPIRED: "magenta",
    ActivationStatus.NOT_YET: "cyan",
}
_TRUTH_STYLE = {Truth.TRUE: "green", Truth.FALSE: "red", Truth.UNKNOWN: "yellow"}


def _rate_style(rate: float) -> str:
    if rate >= 0.999:
        return "green"
    if rate >= 0.5:
        return "yellow"
    return "red"


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def context_line(picture: ActivationPicture) -> Text:
    """'at 2026-06-01 (C-day 2026-06-01, D+0); assumed: ceasefire=2026-06-01'."""
    text = Text()
    if picture.illustrative:
        text.append("ILLUSTRATIVE scenario ", style="bold yellow")
        text.append(f"'{picture.scenario}' (not an official plan; figures marked I are choices)\n")
    text.append(f"at {picture.at.isoformat()}", style="bold")
    if picture.c_day is None:
        text.append(" (C-day unknown: give --assume ceasefire=YYYY-MM-DD)", style="yellow")
    else:
        day = picture.day or 0
        text.append(f" (C-day {picture.c_day.isoformat()}, D{'+' if day >= 0 else '-'}{abs(day)})")
    if picture.assumptions:
        parts = []
        for a in picture.assumptions:
            parts.append(f"{a.condition}={a.on.isoformat() if a.on else str(a.value).lower()}")
        text.append("; assumed: " + ", ".join(parts), style="cyan")
    if picture.options.min_state.value != "offered":
        text.append(f"; counting pledges {picture.options.min_state.value} or later")
    return text


def verdict_tree(verdict: Verdict, label: str | Text | None = None) -> Tree:
    """The explanation tree of a verdict as a Rich tree."""

    def node_text(v: Verdict) -> Text:
        t = Text()
        t.append(v.expr, style="bold")
        t.append(" = ")
        t.append(v.value.value, style=_TRUTH_STYLE[v.value])
        t.append(f"  {v.why}", style="dim")
        return t

    tree = Tree(label if label is not None else node_text(verdict))
    branch = tree.add(node_text(verdict)) if label is not None else tree

    def add(parent: Tree, v: Verdict) -> None:
        for c in v.children:
            add(parent.add(node_text(c)), c)

    add(branch, verdict)
    return tree


def render_activation(
    console: Console,
    picture: ActivationPicture,
    *,
    pledges: bool = True,
    explain: bool = False,
    only: frozenset[str] | None = None,
    baseline: ActivationPicture | None = None,
    baseline_label: str = "vs baseline",
) -> None:
    """Which nations' pledges activate and why.

    A per-nation summary, then (``pledges=True``) one row per pledge with its status and
    reason; ``explain=True`` adds each pledge's explanation tree; ``only`` limits the pledge
    rows (and trees) to those ids. With ``baseline`` (e.g. the same date without assumptions)
    a column shows how many pledges each nation gains or loses against it.
    """
    console.print(context_line(picture))
    counts = {s: 0 for s in ActivationStatus}
    for p in picture.pledges:
        counts[p.status] += 1
    summary = Text("pledges: ")
    summary.append(", ".join(f"{n} {s.value}" for s, n in counts.items() if n))
    active_pers = sum(p.personnel for p in picture.pledges if p.active)
    total_pers = sum(p.personnel for p in picture.pledges)
    summary.append(f"; active personnel {active_pers:,} of {total_pers:,} pledged")
    console.print(summary)

    nations = Table(title="Activation by nation", header_style="bold", title_justify="left")
    nations.add_column("nation")
    nations.add_column("pledges active", justify="right")
    nations.add_column("units active", justify="right")
    nations.add_column("personnel active", justify="right")
    before: dict[str, int] = {}
    if baseline is not None:
        nations.add_column(baseline_label, justify="right")
        before = {n.nation: n.active_pledges for n in baseline.by_nation()}
    nations.add_column("held back by", overflow="fold")
    for n in picture.by_nation():
        style = "green" if n.active_pledges == n.pledges else ("red" if not n.active_pledges else "yellow")
        cells: list[Text | str] = [
            n.nation,
            Text(f"{n.active_pledges}/{n.pledges}", style=style),
            f"{n.active_units}/{n.units}",
            f"{n.active_personnel:,}/{n.personnel:,}",
        ]
        if baseline is not None:
            delta = n.active_pledges - before.get(n.nation, 0)
            cells.append(Text(f"{delta:+d}" if delta else "", style="green" if delta > 0 else "red"))
        cells.append(", ".join(n.blocking))
        nations.add_row(*cells)
    console.print(nations)
    if not pledges:
        return
    rows = [p for p in picture.pledges if only is None or p.pledge in only]
    table = Table(title="Pledges", header_style="bold", title_justify="left")
    table.add_column("pledge", no_wrap=True)
    table.add_column("nation")
    table.add_column("capability")
    table.add_column("units", justify="right")
    table.add_column("personnel", justify="right")
    table.add_column("lifecycle")
    table.add_column("ev.", justify="center")
    table.add_column("status")
    table.add_column("why", overflow="fold")
    for p in rows:
        why = p.reason + ("; " + "; ".join(p.notes) if p.notes else "")
        table.add_row(
            p.pledge,
            p.nation,
            p.capability,
            str(p.units),
            f"{p.personnel:,}",
            p.state.value,
            p.evidence,
            Text(p.status.value, style=_STATUS_STYLE[p.status]),
            why,
        )
    console.print(table)
    console.print(
        Text(
            "ev.: evidence of the pledge record - R reported, A approximate, U unknown, "
            "I illustrative (a scenario choice, not a fact)",
            style="dim",
        )
    )
    if explain:
        for p in rows:
            if p.verdict is not None:
                label = Text()
                label.append(f"{p.pledge} ({p.nation} {p.capability}): ", style="bold")
                label.append(p.status.value, style=_STATUS_STYLE[p.status])
                console.print(verdict_tree(p.verdict, label))


def _lines_table(gap: GapPicture) -> Table:
    table = Table(
        title=f"Requirement lines of option '{gap.option}' ({gap.option_name})",
        header_style="bold",
        title_justify="left",
    )
    for col, kw in (
        ("line", {"no_wrap": True}),
        ("capability", {}),
        ("place", {}),
        ("phase", {}),
        ("priority", {}),
        ("units", {"justify": "right"}),
        ("personnel", {"justify": "right"}),
        ("fill", {"justify": "right"}),
        ("filled by", {"overflow": "fold"}),
    ):
        table.add_column(col, **kw)
    for f in gap.lines:
        by: dict[str, int] = {}
        for a in f.assignments:
            by[a.nation] = by.get(a.nation, 0) + a.units
        table.add_row(
            f.line,
            f.capability,
            f.place + (" (region)" if f.place_kind == "region" else ""),
            f"{f.phase}..D+{f.end_day}" if f.end_day >= 0 else f"{f.phase}..D{f.end_day}",
            f.priority.value,
            f"{f.filled_units}/{f.required_units}",
            f"{f.filled_personnel:,}/{f.required_personnel:,}",
            Text(_pct(f.fill_rate), style=_rate_style(f.fill_rate)),
            ", ".join(f"{n} {u}" for n, u in by.items()),
        )
    return table


def _matrix_table(gap: GapPicture) -> Table:
    places = list(dict.fromkeys(f.place for f in gap.lines))  # in the order lines name them
    caps = list(dict.fromkeys(f.capability for f in gap.lines))
    acc: dict[tuple[str, str], list[int]] = {}
    for c in gap.cells:  # sum the phases of a capability x place
        v = acc.setdefault((c.capability, c.place), [0, 0])
        v[0] += c.filled_units
        v[1] += c.required_units
    table = Table(
        title="Fill rate: capability x hub/region (units filled/required, all phases)",
        header_style="bold",
        title_justify="left",
    )
    table.add_column("capability", no_wrap=True)
    for p in places:
        table.add_column(p, justify="center")
    for cap in caps:
        cells: list[Text | str] = []
        for p in places:
            cell = acc.get((cap, p))
            if cell is None:
                cells.append("")
            else:
                rate = cell[0] / cell[1] if cell[1] else 1.0
                cells.append(Text(f"{cell[0]}/{cell[1]}", style=_rate_style(rate)))
        table.add_row(cap, *cells)
    return table


def _gap_lines(f: LineFill, max_reasons: int | None) -> Tree:
    head = Text()
    head.append(f"{f.line}", style="bold")
    head.append(f" {f.capability} at {f.place} from {f.phase} ({f.priority.value}): ")
    head.append(f"{f.short_units} of {f.required_units} unit(s) short", style="red")
    tree = Tree(head)
    reasons = f.reasons if max_reasons is None else f.reasons[:max_reasons]
    for r in reasons:
        t = Text()
        t.append(r.code, style="bold")
        t.append(f"  {r.message}")
        tree.add(t)
    if max_reasons is not None and len(f.reasons) > max_reasons:
        tree.add(Text(f"... {len(f.reasons) - max_reasons} more (see --json)", style="dim"))
    return tree


def render_gaps(
    console: Console,
    gap: GapPicture,
    *,
    lines: bool = True,
    matrix: bool = True,
    max_reasons: int | None = None,
    header: bool = True,
) -> None:
    """The gap report of one force option: totals, fill per line, the fill-rate matrix, and
    every gap with its reasons (most specific first). ``header=False`` skips the date and
    assumptions line (when several options are rendered one after another)."""
    act = gap.activation
    if header:
        console.print(context_line(act))
    total = Text()
    total.append(f"Option '{gap.option}' ({gap.option_name}): ", style="bold")
    total.append(
        f"{gap.filled_units}/{gap.required_units} units, "
        f"{gap.filled_personnel:,}/{gap.required_personnel:,} personnel, "
    )
    total.append(f"fill {_pct(gap.fill_rate)}", style=_rate_style(gap.fill_rate))
    pri = gap.by_priority()
    total.append(
        "; lines filled: " + ", ".join(f"{k} {v['filled_lines']}/{v['lines']}" for k, v in pri.items() if v["lines"])
    )
    console.print(total)
    if lines:
        console.print(_lines_table(gap))
    if matrix and gap.cells:
        console.print(_matrix_table(gap))
    gaps = gap.gaps()
    if not gaps:
        console.print(Text("No gaps: every line is filled.", style="green"))
        return
    console.print(Text(f"Gaps ({len(gaps)} line(s) short), reasons most specific first:", style="bold"))
    for f in gaps:
        console.print(_gap_lines(f, max_reasons))


__all__ = ["context_line", "render_activation", "render_gaps", "verdict_tree"]
