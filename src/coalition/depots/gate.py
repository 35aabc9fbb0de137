"""The one safety gate: every change to what a storehouse holds passes through here.

Placement, ledger receipts, transfers, returns and corrections all call :func:`admit` (or, for a
whole proposal, :func:`verify_placement`) with the storehouse's current stock and what arrives and
leaves. Anything arriving is refused when the prospective state of that storehouse breaks any rule,
including one it already broke (adding explosives never makes a violation acceptable); stock may
always leave. Pure: the callers load the stock and own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.rules import check_depot, check_prospective
from coalition.depots.schemas import Catalogue, Depot, Finding, StockLine


@dataclass(frozen=True)
class Decision:
    """The gate's answer: admitted or not, with every error finding of the prospective state."""

    admitted: bool
    findings: tuple[Finding, ...]

    @property
    def reasons(self) -> list[str]:
        return [f.message for f in self.findings if f.is_error]


def admit(
    depot: Depot,
    storehouse: str,
    current: Sequence[StockLine],
    arriving: Sequence[StockLine],
    catalogue: Catalogue,
    *,
    leaving: Sequence[StockLine] = (),
    book: RuleBook | None = None,
) -> Decision:
    """May ``arriving`` enter ``storehouse`` (and ``leaving`` leave it)? Refused when the prospective
    state has any error: an unlicensed storehouse, an unsurveyed depot, an unknown lot, a mixing,
    licence, capacity or quantity-distance violation, a formula outside its validated range."""
    book = book or load_rulebook()
    findings = check_prospective(storehouse, depot, current, arriving, catalogue=catalogue, leaving=leaving, book=book)
    arrives = any(line.quantity > 0 for line in arriving if line.storehouse == storehouse)
    errors = tuple(f for f in findings if f.is_error)
    return Decision(admitted=not (arrives and errors), findings=tuple(findings))


def verify_placement(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    placed: Sequence[StockLine],
    *,
    book: RuleBook | None = None,
) -> list[Finding]:
    """Errors a placement proposal would add (empty = safe): every storehouse it puts stock into
    must pass the whole check afterwards."""
    return placement_check(depot, catalogue, current, placed, book=book)[0]


def placement_check(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    placed: Sequence[StockLine],
    *,
    book: RuleBook | None = None,
) -> tuple[list[Finding], dict[str, tuple[str, ...]]]:
    """(errors in the storehouses the proposal touches, unverified records per touched storehouse)."""
    if not placed:
        return [], {}
    book = book or load_rulebook()
    after = check_depot(depot, [*current, *placed], catalogue, book=book)
    touched = {line.storehouse for line in placed}
    flags = {r.storehouse: r.unverified for r in after.storehouses if r.storehouse in touched}
    return [f for f in after.errors if f.storehouse in touched], flags
