"""Compatibility mixing: may these groups share a storehouse? (pure, table-driven)

Every pair of stored entries is looked up in the profile's mixing table (rulebook ``mixing``).
``X`` passes, a blank fails, and a footnoted cell passes only when its condition holds: the plan
asserts it (fn1, fn2, fn4) and its checkable part holds (no HD 1.1 for fn1/fn2; identical items
for fn3). Every failing pair is reported, not just the first.

An assertion is scoped: in a depot it names the items or lots it covers (``covers``), so a footnote
cell between two kinds of ammunition passes only when one assertion of that footnote covers both
items; an item placed later needs its own. (The ``coalition depots mix`` command asserts for the
groups it is given.) Where a footnote requires matching numbers, :mod:`coalition.depots.rules`
counts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import NamedTuple

from coalition.depots.rulebook import RuleBook, Status, load_rulebook
from coalition.errors import InputError, Problem, closest


class MixEntry(NamedTuple):
    """One kind of thing in a storehouse: its CG, and when known its HD and item type.

    A named tuple rather than a dataclass: placement hashes entries millions of times, and a tuple's
    hash runs in C."""

    cg: str
    hd: str | None = None
    item: str | None = None

    def key(self) -> tuple[str, str, str]:
        return (self.cg, self.hd or "", self.item or "")

    def label(self) -> str:
        text = self.cg if self.hd is None else f"{self.hd}{self.cg}"
        return text + (f" ({self.item})" if self.item else "")

    @property
    def group(self) -> MixEntry:
        """The entry without its item (what the table cell depends on), except for CG L."""
        return self if self.cg == "L" else MixEntry(self.cg, self.hd)


#: covers(footnote, item_a, item_b): one assertion of that footnote covers both items
Covers = Callable[[str, "str | None", "str | None"], bool]


@dataclass(frozen=True, slots=True)
class PairResult:
    a: MixEntry
    b: MixEntry
    allowed: bool
    cell: str  # "X", ".", "fn1".."fn4"
    reason: str
    record: str  # rulebook id the answer rests on
    unverified: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "a": self.a.label(),
            "b": self.b.label(),
            "allowed": self.allowed,
            "cell": self.cell,
            "reason": self.reason,
            "record": self.record,
            "unverified": self.unverified,
        }


def pair(
    a: MixEntry,
    b: MixEntry,
    asserted: frozenset[str] = frozenset(),
    *,
    profile: str = "iatg",
    table: str | None = None,
    book: RuleBook | None = None,
    covers: Covers | None = None,
) -> PairResult:
    """Whether two entries may share a storehouse under ``profile`` (or a named table).

    With ``covers`` a footnote cell needs an assertion covering both entries' items; without it,
    the footnote ids in ``asserted`` apply to any pair."""
    book = book or load_rulebook()
    if table is None:
        table, cells, status, _ = book.mixing_for(profile)
    else:
        cells, status = book.mixing_tables[table]["cells"], book.mixing_tables[table]["status"]
    a, b = sorted((a, b), key=MixEntry.key)  # symmetric by construction
    tok = cells[(a.cg, b.cg)]
    record = f"mixing.{table}.{a.cg}{b.cg}"
    table_unverified = status == Status.UNVERIFIED
    if tok == "X":
        if a.cg == b.cg == "L" and a.item != b.item and table == "transport":
            return PairResult(a, b, True, "X", "L with L (transport table)", record, table_unverified)
        return PairResult(a, b, True, "X", f"{a.cg} with {b.cg} permitted", record, table_unverified)
    if tok == ".":
        return PairResult(a, b, False, ".", f"{a.cg} with {b.cg} not permitted", record, table_unverified)
    fn = book.footnotes[f"fn{tok}"]
    unverified = table_unverified or fn.status == Status.UNVERIFIED
    if fn.requires_identical_item:
        same = a.item == b.item
        reason = "identical L items" if same else f"{fn.id}: {fn.text} — these are different items"
        return PairResult(a, b, same, fn.id, reason, fn.id, unverified)
    if fn.requires_assertion and covers is not None and not covers(fn.id, a.item, b.item):
        missing = [e.item or e.label() for e in (a, b)]
        return PairResult(
            a,
            b,
            False,
            fn.id,
            f"only under {fn.id} ({fn.text}); no {fn.id} assertion covers both {' and '.join(dict.fromkeys(missing))}",
            fn.id,
            unverified,
        )
    if fn.requires_assertion and covers is None and fn.id not in asserted:
        return PairResult(
            a,
            b,
            False,
            fn.id,
            f"only under {fn.id} ({fn.text}); the plan does not assert {fn.id}",
            fn.id,
            unverified,
        )
    bad_hd = [e.label() for e in (a, b) if e.hd is not None and e.hd in fn.forbids_hd]
    if bad_hd:
        return PairResult(
            a,
            b,
            False,
            fn.id,
            f"{fn.id} asserted but its condition fails: {', '.join(bad_hd)} is HD {'/'.join(fn.forbids_hd)}",
            fn.id,
            unverified,
        )
    note = (
        ""
        if all(e.hd is not None for e in (a, b)) or not fn.forbids_hd
        else (f"; assumes none of it is HD {'/'.join(fn.forbids_hd)}")
    )
    return PairResult(a, b, True, fn.id, f"permitted under asserted {fn.id} ({fn.text}){note}", fn.id, unverified)


def check_set(
    entries: list[MixEntry] | tuple[MixEntry, ...],
    asserted: frozenset[str] = frozenset(),
    *,
    profile: str = "iatg",
    table: str | None = None,
    book: RuleBook | None = None,
    covers: Covers | None = None,
) -> list[PairResult]:
    """Every pair (including an entry with itself) of the distinct entries; failing ones included.

    Entries of the same CG and HD differ only by item; pairs whose table cell is X or blank are
    decided once per group pair, footnote cells item by item (assertions are scoped to items)."""
    book = book or load_rulebook()
    cells = book.mixing_for(profile)[1] if table is None else book.mixing_tables[table]["cells"]
    distinct = sorted(set(entries), key=MixEntry.key)
    groups: dict[MixEntry, list[MixEntry]] = {}
    for e in distinct:
        groups.setdefault(e.group, []).append(e)
    out: list[PairResult] = []
    keys = sorted(groups, key=MixEntry.key)
    for gx, gy in combinations_with_replacement(keys, 2):
        if gx == gy and gx.cg != "L":
            continue  # a group with itself is X for every group except L (handled by identity)
        tok = cells[(gx.cg, gy.cg)]
        if tok in ("X", ".") and gx.cg != "L":
            out.append(pair(gx, gy, asserted, profile=profile, table=table, book=book, covers=covers))
            continue
        for x in groups[gx]:
            for y in groups[gy]:
                if gx == gy and MixEntry.key(x) >= MixEntry.key(y) and not (x == y and x.cg == "L"):
                    continue
                out.append(pair(x, y, asserted, profile=profile, table=table, book=book, covers=covers))
    return out


def parse_groups(tokens: list[str], book: RuleBook | None = None) -> list[MixEntry]:
    """CLI tokens 'C', 'd', '1.1D' → entries; a repeated L means two different L items."""
    book = book or load_rulebook()
    problems: list[Problem] = []
    entries: list[MixEntry] = []
    l_count = 0
    for n, raw in enumerate(tokens, start=1):
        tok = raw.strip().upper()
        hd = None
        if len(tok) == 4 and tok[:3] in book.legal_codes:
            hd, tok = tok[:3], tok[3]
            if tok not in book.legal_codes[hd]:
                problems.append(
                    Problem(
                        f"'{raw}' is not one of the 35 legal codes",
                        field=f"group {n}",
                        hint=f"HD {hd} permits {', '.join(hd + c for c in book.legal_codes[hd])}",
                    )
                )
                continue
        if tok not in book.groups:
            hint = closest(tok, list(book.groups))
            problems.append(
                Problem(
                    f"'{raw}' is not a compatibility group",
                    field=f"group {n}",
                    hint=f"valid: {' '.join(book.groups)}" + (f"; did you mean '{hint}'?" if hint else ""),
                )
            )
            continue
        item = None
        if tok == "L":
            l_count += 1
            item = f"L-item-{l_count}"
        entries.append(MixEntry(tok, hd, item))
    if problems:
        raise InputError(problems)
    return entries
