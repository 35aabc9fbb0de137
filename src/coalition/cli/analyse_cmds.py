"""CLI commands `coalition analyse montecarlo | withdrawal | hedge | discover` (thin).

Each command loads the scenario, parses ``--assume``, calls :mod:`coalition.analysis.service`
and renders the summary with Rich. ``--json FILE`` writes the summary (``-`` for stdout, then
nothing else goes to stdout). Bad input: every problem named, exit status 2.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coalition.cli.gaps_cmds import AssumeOpt, JsonOpt, ScenarioOpt, load, write_json
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from coalition.analysis.sampling import Method

analyse_app = typer.Typer(
    name="analyse",
    help="Scenario analysis: how robust is the force to the politics (docs/analysis.md).",
    no_args_is_help=True,
)

OptionReq = Annotated[str, typer.Option("--option", "-o", help="force option id")]
SeedOpt = Annotated[int, typer.Option("--seed", help="seed of the experiment design")]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="run folder (records/*.parquet + summary.json); an existing folder of the same run is resumed",
        show_default=False,
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Dask scheduler address tcp://HOST:8786 (default: a LocalCluster sized to this machine)",
        show_default=False,
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        help="LocalCluster worker processes (default: one per core; 0 = in this process, no Dask)",
        show_default=False,
    ),
]
TimeOpt = Annotated[float, typer.Option("--time-limit", help="solver seconds per world")]
GapOpt = Annotated[float, typer.Option("--mip-gap", help="relative MIP gap per world")]
XlsxOpt = Annotated[
    Path | None,
    typer.Option("--xlsx", help="also write every table of the summary to this XLSX file", show_default=False),
]


def _check_xlsx(path: Path | None) -> None:
    """Before the run: a bad --xlsx name is refused before any work is done."""
    if path is not None and path.suffix.lower() != ".xlsx":
        raise InputError(
            [
                Problem(
                    f"{path} is not an .xlsx file name",
                    file=str(path),
                    field="--xlsx",
                    hint="give a file name ending in .xlsx",
                )
            ]
        )
    if path is not None and path.is_dir():
        raise InputError(
            [Problem(f"{path} is a folder", file=str(path), field="--xlsx", hint="give a file name ending in .xlsx")]
        )


def _xlsx(path: Path, summary: dict[str, Any], console: Console) -> None:
    from coalition.analysis.export import write_xlsx

    _check_xlsx(path)
    try:
        write_xlsx(path, summary)
    except OSError as exc:
        raise InputError(
            [
                Problem(
                    f"cannot write {path} ({exc.strerror or exc})",
                    file=str(path),
                    field="--xlsx",
                    hint="give a writable file",
                )
            ]
        ) from exc
    console.print(f"wrote {path}")


def _method(method: str) -> Method:
    """The sampling method named by ``--method`` (exit 2 naming the valid ones otherwise)."""
    from coalition.analysis.sampling import Method

    try:
        return Method(method)
    except ValueError:
        raise InputError(
            [Problem(f"unknown method {method!r}", field="--method", hint="valid: mc, lhs, sobol")]
        ) from None


def _fail(err: InputError) -> None:
    from coalition.cli.scenario_cmds import fail

    fail(err)


def _assumptions(scen: Any, assume: list[str] | None) -> tuple[Any, list[str]]:
    from coalition.conditions.engine import check_assumptions, parse_assumptions

    texts = list(assume or [])
    parsed = parse_assumptions(texts)
    problems = check_assumptions(parsed, scen)
    if problems:
        raise InputError(problems)
    return parsed, texts


def _progress(console: Console, label: str) -> tuple[Progress, Any]:
    prog = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
    )
    task = prog.add_task(label, total=None)

    def cb(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total)

    return prog, cb


def _pse(cell: dict[str, Any]) -> str:
    if cell.get("p") is None:
        return "[dim]-[/]"
    p, se = cell["p"], cell["se"]
    colour = "green" if p >= 0.9 else "yellow" if p >= 0.5 else "red"
    return f"[{colour}]{p:.2f}[/] ± {se:.2f}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def quantile_text(p: dict[str, Any]) -> str:
    """A quantile with its 95 % interval for the console: one decimal; a bound the sample
    cannot give is said so (the summary's ``note``), never printed as None."""
    if p.get("value") is None:
        return f"- ({p.get('note', 'no value')})"
    lo, hi, note = p.get("lo"), p.get("hi"), p.get("note")
    if lo is not None and hi is not None and lo == hi == p["value"]:
        return f"{_num(p['value'])} (exact)"
    if lo is not None and hi is not None:
        return f"{_num(p['value'])} (95% CI {_num(lo)} .. {_num(hi)})"
    if lo is None and hi is None:
        return f"{_num(p['value'])} (no 95% CI: {note})"
    bound = f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}"
    return f"{_num(p['value'])} (95% CI: {bound}; {note})"


def render_montecarlo(console: Console, s: dict[str, Any], priorities: dict[str, str]) -> None:
    console.print(
        f"[bold]Monte Carlo[/] {s['scenario']} option {s['option']}: {s['samples']} "
        f"world(s), {s['method']}, seed {s['seed']}, evaluation: {s['evaluation']}"
    )
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    t = Table(title="probability of being filled (± Monte Carlo standard error)")
    for col in ("line", "priority", "D+30", "D+60", "D+90", "expected shortfall"):
        t.add_column(col)
    for ln in s["lines"]:
        es = ln["expected_shortfall"]
        t.add_row(
            ln["line"],
            priorities.get(ln["line"], ""),
            *(_pse(ln["by_day"][d]) for d in ("30", "60", "90")),
            f"{es['mean']:.1f} ± {es['se']:.1f}",
        )
    console.print(t)
    sh = s["shortfall"]
    console.print(
        f"shortfall ({sh['unit']}): expected {sh['expected']['mean']:.1f} ± "
        f"{sh['expected']['se']:.1f}; P90 {quantile_text(sh['p90'])}"
    )
    for key in ("essential", "all"):
        c = s["coverage"][key]
        if c:
            q = c["quantiles"]
            console.print(
                f"{key} coverage %: mean {c['mean']:.1f} ± {c['se']:.1f}; P5 {q['0.05']:.1f}, "
                f"median {q['0.5']:.1f}, P95 {q['0.95']:.1f}; P(below 80%) {c['p_below_80']:.2f}"
            )
    conv = s["convergence"]["essential_coverage_pct"]
    console.print(
        "convergence (essential coverage % against N): "
        + ", ".join(f"N={p['n']}: {p['mean']:.2f}" + (f" ± {p['se']:.2f}" if p.get("se") else "") for p in conv)
    )
    if s.get("failed_samples"):
        console.print(f"[red]{s['failed_samples']} world(s) without a plan were left out[/]")
    if s.get("time_limited_samples"):
        console.print(
            f"[yellow]{s['time_limited_samples']} world(s) hit the per-world time limit (best plan so far used)[/]"
        )


def montecarlo(
    option: OptionReq,
    scenario: ScenarioOpt = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="number of worlds")] = 200,
    seed: SeedOpt = 0,
    method: Annotated[str, typer.Option("--method", help="mc | lhs | sobol")] = "lhs",
    quick: Annotated[bool, typer.Option("--quick", help="gap picture instead of the planner")] = False,
    exact: Annotated[bool, typer.Option("--exact", help="enumerate every joint outcome (se = 0)")] = False,
    assume: AssumeOpt = None,
    out: OutOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    time_limit: TimeOpt = 30.0,
    mip_gap: GapOpt = 2e-2,  # analysis.evaluate.ANALYSIS_MIP_GAP (not imported: CLI start-up)
    json_out: JsonOpt = None,
    xlsx: XlsxOpt = None,
) -> None:
    """Fill probability of every requirement line at D+30/60/90 over sampled joint scenarios."""
    from coalition.analysis.runner import Execution
    from coalition.analysis.service import Sampling, SolveLimits
    from coalition.analysis.service import montecarlo as run

    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    try:
        _check_xlsx(xlsx)
        scen = load(scenario)
        m = _method(method)
        if samples < 1 and not exact:
            raise InputError([Problem("give at least one sample", field="--samples")])
        if workers is not None and workers < 0:
            raise InputError([Problem("workers must be 0 or more", field="--workers")])
        parsed, texts = _assumptions(scen, assume)
        prog, cb = _progress(Console(stderr=True), "worlds")
        with prog:
            summary = run(
                scen,
                option,
                sampling=Sampling(samples, seed, m, exact),
                quick=quick,
                assumptions=parsed,
                assumption_texts=texts,
                solve=SolveLimits(time_limit=time_limit, mip_gap=mip_gap),
                execution=Execution(folder=out, scheduler=scheduler, workers=workers, progress=cb),
            )
        if json_out is not None:
            write_json(json_out, summary, console)
        if xlsx is not None:
            _xlsx(xlsx, summary, console)
            if to_stdout:
                return
    except InputError as err:
        _fail(err)
        return
    prios = {r.id: str(r.priority) for r in scen.requirements_of(option)}
    render_montecarlo(console, summary, prios)
    if out is not None:
        console.print(f"run folder: {out}")


def render_withdrawal(console: Console, s: dict[str, Any]) -> None:
    b = s["baseline"]
    console.print(
        f"[bold]Nation withdrawal[/] {s['scenario']} option {s['option']} "
        f"(baseline world: {s['baseline_world']}): essential coverage "
        f"{b['essential_coverage_pct']:.1f}%, {len(s['nations'])} pledging nation(s); "
        f"{s['solves']} plan(s) solved, {s['shortcuts']} by the exact shortcut"
        + (f", {s['start_proven']} proven from a subset's plan without a solve" if s.get("start_proven") else "")
    )
    unproven = Counter(r.get("status") for r in s["n_1"] + s["n_2"] if r.get("status") != "optimal")
    if unproven:
        console.print(
            "rows not proven at the MIP gap (their bound is valid, the gap is objective - bound): "
            + ", ".join(f"{n} {st}" for st, n in sorted(unproven.items(), key=lambda t: str(t[0])))
        )
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")

    def table(title: str, rows: list[dict[str, Any]], limit: int | None) -> None:
        t = Table(title=title)
        for col in ("nations", "Δ essential coverage (pts)", "lines broken", "filled in by"):
            t.add_column(col)
        for r in rows[:limit]:
            fill = sorted({f["nation"] for f in r["fill_in"]})
            t.add_row(
                ", ".join(r["nations"]),
                f"{r['delta_essential_coverage_pct']:+.1f}",
                ", ".join(r["lines_broken"]) or "-",
                ", ".join(fill) or "-",
            )
        console.print(t)

    table("N-1: one nation withdraws (worst first)", s["n_1"], None)
    if s["n_2"]:
        table("N-2: two nations withdraw (worst 10)", s["n_2"], 10)
    wk = s["worst_k"]
    if wk.get("nations"):
        r = wk.get("row", {})
        console.print(
            f"[bold]worst {wk['k']}[/]: {', '.join(wk['nations'])}: essential coverage "
            f"{r.get('delta_essential_coverage_pct', 0):+.1f} pts, lines broken: "
            f"{', '.join(r.get('lines_broken', [])) or '-'}"
        )
        console.print(f"  {wk['status']}: {wk['proof']}")
    if s["shapley"]:
        t = Table(title="Shapley share of essential coverage (sampled, 95% CI)")
        for col in ("nation", "share (pts)", "95% CI"):
            t.add_column(col)
        for r in s["shapley"]:
            lo, hi = r["ci95"]
            t.add_row(r["nation"], f"{r['shapley_essential_coverage_pct']:.2f}", f"{lo:.2f} .. {hi:.2f}")
        console.print(t)


def withdrawal(
    option: OptionReq,
    scenario: ScenarioOpt = None,
    k: Annotated[int, typer.Option("--k", help="size of the worst-case withdrawal set")] = 3,
    baseline: Annotated[
        str,
        typer.Option(
            "--baseline", help="nominal (conditions as known or assumed) | all-hold (every uncertain condition holds)"
        ),
    ] = "nominal",
    pairs: Annotated[bool, typer.Option("--pairs/--no-pairs", help="all N-2 pairs")] = True,
    shapley: Annotated[int, typer.Option("--shapley", help="random orders for Shapley (0 = off)")] = 20,
    seed: SeedOpt = 0,
    assume: AssumeOpt = None,
    out: OutOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    time_limit: TimeOpt = 30.0,
    mip_gap: GapOpt = 2e-2,  # analysis.evaluate.ANALYSIS_MIP_GAP (not imported: CLI start-up)
    max_solves: Annotated[int, typer.Option("--max-solves", help="solve budget of the worst-k search")] = 400,
    stall: Annotated[
        float,
        typer.Option(
            "--stall",
            help="stop a withdrawn set's solve after this many CPU seconds without a better plan "
            "(status 'stalled', its gap reported; 0: off; the baseline always runs to the gap or the limit)",
        ),
    ] = 0.0,  # off: analysis.service.STALL_SECONDS (not imported: CLI start-up)
    json_out: JsonOpt = None,
    xlsx: XlsxOpt = None,
) -> None:
    """N-1 over every pledging nation, all N-2 pairs, the worst k (with proof), Shapley shares."""
    from coalition.analysis.runner import Execution
    from coalition.analysis.service import SolveLimits, WithdrawalSearch
    from coalition.analysis.service import withdrawal as run

    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    try:
        _check_xlsx(xlsx)
        scen = load(scenario)
        if workers is not None and workers < 0:
            raise InputError([Problem("workers must be 0 or more", field="--workers")])
        parsed, texts = _assumptions(scen, assume)
        prog, cb = _progress(Console(stderr=True), "plans")
        with prog:
            summary = run(
                scen,
                option,
                search=WithdrawalSearch(
                    k=k,
                    baseline=baseline,
                    pairs=pairs,
                    shapley_permutations=shapley,
                    seed=seed,
                    max_solves=max_solves,
                    stall_seconds=stall,
                ),
                assumptions=parsed,
                assumption_texts=texts,
                solve=SolveLimits(time_limit=time_limit, mip_gap=mip_gap),
                execution=Execution(folder=out, scheduler=scheduler, workers=workers, progress=cb),
            )
        if json_out is not None:
            write_json(json_out, summary, console)
        if xlsx is not None:
            _xlsx(xlsx, summary, console)
            if to_stdout:
                return
    except InputError as err:
        _fail(err)
        return
    render_withdrawal(console, summary)


def render_hedge(console: Console, s: dict[str, Any]) -> None:
    console.print(
        f"[bold]Hedged first wave[/] {s['scenario']} option {s['option']}: {s['worlds']} "
        f"world(s) ({s['method']}), re-tasking delay {s['delay_days']:g} days"
    )
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    t = Table(title="two-stage plan against the expected-value plan (cost: " + s["objective_unit"] + ")")
    for col in ("measure", "value"):
        t.add_column(col)
    t.add_row("RP: hedged plan, expected cost", f"{s['rp']['objective']:,.1f}")
    t.add_row("EEV: expected-value plan, expected cost", f"{s['eev']:,.1f}")
    t.add_row("WS: wait-and-see (perfect information)", f"{s['ws']:,.1f}")
    t.add_row("[bold]VSS[/] = EEV - RP", f"{s['vss']:,.1f}")
    t.add_row("[bold]EVPI[/] = RP - WS", f"{s['evpi']:,.1f}")
    if "price_of_hedging" in s:
        p = s["price_of_hedging"]
        t.add_row("price of hedging (nominal world)", f"{p['price']:,.1f}")
    if "out_of_sample" in s:
        o = s["out_of_sample"]
        lo, hi = o["vss"]["ci95"]
        t.add_row(
            f"VSS out of sample ({o['worlds']} worlds)", f"{o['vss']['mean']:,.1f} (95% CI {lo:,.1f} .. {hi:,.1f})"
        )
    console.print(t)
    first = [f"{r['line']} {r['committed_units']}/{r['required_units']}" for r in s["first_wave"]]
    console.print("first wave committed here and now (units/required): " + ", ".join(first))


def hedge(
    option: OptionReq,
    scenario: ScenarioOpt = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="worlds of the extensive form")] = 50,
    seed: SeedOpt = 0,
    method: Annotated[str, typer.Option("--method", help="mc | lhs | sobol")] = "lhs",
    exact: Annotated[bool, typer.Option("--exact", help="every joint outcome instead of samples")] = False,
    out_of_sample: Annotated[int, typer.Option("--out-of-sample", help="independent worlds for the CI")] = 100,
    delay: Annotated[float, typer.Option("--delay", help="days a re-tasked unit loses")] = 30.0,
    assume: AssumeOpt = None,
    out: OutOpt = None,
    mip_gap: Annotated[float, typer.Option("--mip-gap", help="relative MIP gap")] = 1e-4,
    json_out: JsonOpt = None,
    xlsx: XlsxOpt = None,
) -> None:
    """A two-stage first wave (commit now, re-task per world) with VSS, EVPI, price of hedging."""
    from coalition.analysis.service import HedgeSettings, Sampling
    from coalition.analysis.service import hedge as run

    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    try:
        _check_xlsx(xlsx)
        scen = load(scenario)
        m = _method(method)
        parsed, texts = _assumptions(scen, assume)
        with console.status("solving the extensive form"):
            summary = run(
                scen,
                option,
                sampling=Sampling(samples, seed, m, exact),
                settings=HedgeSettings(out_of_sample=out_of_sample, delay=delay, mip_gap=mip_gap),
                assumptions=parsed,
                assumption_texts=texts,
                out=out,
            )
        if json_out is not None:
            write_json(json_out, summary, console)
        if xlsx is not None:
            _xlsx(xlsx, summary, console)
            if to_stdout:
                return
    except InputError as err:
        _fail(err)
        return
    render_hedge(console, summary)


def discover(
    option: Annotated[
        str | None, typer.Option("--option", "-o", help="force option id (with a fresh run)", show_default=False)
    ] = None,
    scenario: ScenarioOpt = None,
    run: Annotated[
        Path | None,
        typer.Option("--run", help="run folder of `analyse montecarlo` (default: a fresh run)", show_default=False),
    ] = None,
    threshold: Annotated[float, typer.Option("--threshold", help="coverage %% below which a sample counts")] = 80.0,
    metric: Annotated[
        str, typer.Option("--metric", help="essential_coverage_pct | coverage_pct")
    ] = "essential_coverage_pct",
    samples: Annotated[int, typer.Option("--samples", "-n", help="worlds of a fresh run")] = 500,
    seed: SeedOpt = 0,
    full: Annotated[bool, typer.Option("--full", help="a fresh run with the planner (default: --quick)")] = False,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    json_out: JsonOpt = None,
    xlsx: XlsxOpt = None,
) -> None:
    """Conditions under which coverage falls below a threshold (PRIM boxes, in plain words)."""
    from coalition.analysis.runner import Execution
    from coalition.analysis.service import BoxSearch, Sampling
    from coalition.analysis.service import discover as run_discover

    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    try:
        _check_xlsx(xlsx)
        scen = None
        if run is None:
            if option is None:
                raise InputError([Problem("give --option for a fresh run, or --run FOLDER", field="--option")])
            scen = load(scenario)
        prog, cb = _progress(Console(stderr=True), "worlds")
        with prog:
            summary = run_discover(
                scen,
                option,
                run=run,
                boxes=BoxSearch(threshold=threshold, metric=metric),
                sampling=Sampling(samples, seed),
                quick=not full,
                execution=Execution(scheduler=scheduler, workers=workers, progress=cb),
            )
        if json_out is not None:
            write_json(json_out, summary, console)
        if xlsx is not None:
            _xlsx(xlsx, summary, console)
            if to_stdout:
                return
    except InputError as err:
        _fail(err)
        return
    console.print(
        f"[bold]Scenario discovery[/]: {summary['cases']} of {summary['samples']} "
        f"sample(s) have {summary['metric']} below {summary['threshold']:g}%"
    )
    for b in summary["boxes"]:
        lo, hi = b["density_ci95"]
        console.print(f"• {b['statement']} [dim](95% CI {lo:.0%}..{hi:.0%})[/]")
    if not summary["boxes"]:
        console.print(summary["statement"])


def register(app: typer.Typer) -> None:
    analyse_app.command("montecarlo")(montecarlo)
    analyse_app.command("withdrawal")(withdrawal)
    analyse_app.command("hedge")(hedge)
    analyse_app.command("discover")(discover)
    app.add_typer(analyse_app, name="analyse")
