"""What a principal may see of the custody ledger (query functions: principal + session).

Events are the acting nation's, released to the nations holding title to what they touch and
to HQ; the scope is applied in the query (a nation's own and titled events only) and then
again record by record through :func:`coalition.auth.scope.restrict`. The API's ledger routes
and the dashboard call these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal
from coalition.auth.scope import restrict


def event_marking(row: tuple[Any, set[str]]) -> Marking:
    event, title_nations = row
    return Marking(origin=event.nation, releasable_to=tuple(sorted(title_nations | {HQ})))


def chain_nations(body: str | bytes) -> set[str]:
    """The title nations of an event: the nations its signed chain links name (the append links
    exactly the title holders whose items the event affects, the same set it indexes as ``T:``
    refs, and verify's replay refuses an event whose links name any other set)."""
    chain = json.loads(body).get("chain")
    return set(chain) if isinstance(chain, dict) else set()


def titles(session: Session, seqs: list[int]) -> dict[int, set[str]]:
    """The title nations of events ``seqs`` (:func:`chain_nations`), read by primary key from
    the signed bodies rather than from the unhashed ``ledger_event_ref`` index."""
    from coalition.ledger.models import LedgerEvent

    out: dict[int, set[str]] = {s: set() for s in seqs}
    if not seqs:
        return out
    for seq, body in session.execute(select(LedgerEvent.seq, LedgerEvent.body).where(LedgerEvent.seq.in_(seqs))):
        out[int(seq)] = chain_nations(body)
    return out


def event_out(event: Any, title_nations: set[str], *, body: bool = False) -> dict[str, Any]:
    out = {
        "seq": event.seq,
        "time": event.time,
        "nation": event.nation,
        "person": event.person,
        "type": event.type,
        "batch_id": event.batch_id,
        "title_nations": sorted(title_nations),
        "hash": bytes(event.hash).hex(),
    }
    if body:
        out["body"] = json.loads(event.body)
        out["prev_hash"] = bytes(event.prev_hash).hex()
    return out


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class EventFilter:
    """Which custody events to list; ``None`` (or empty) leaves a field unfiltered.

    ``location``: events whose signed body names that place or one below it as a JSON string
    value (``"UA-LVIV/LV-D1"`` also finds ``"UA-LVIV/LV-D1/SH-1"``); ``since`` / ``until``: event
    times (UTC ISO 8601 text, compared as text; a bare date ``until`` includes that day)."""

    type: str | None = None
    nation: str | None = None
    ref: str | None = None
    location: str | None = None
    since: str | None = None
    until: str | None = None


def visible_events(
    session: Session,
    principal: Principal,
    *,
    offset: int,
    limit: int,
    where: EventFilter | None = None,
    newest_first: bool = False,
) -> dict[str, Any]:
    """One page of the custody events the principal may see, filtered (``where``) and paged in SQL."""
    from coalition.ledger.models import LedgerEvent, LedgerEventRef

    f = where or EventFilter()
    type, nation, ref, location, since, until = f.type, f.nation, f.ref, f.location, f.since, f.until  # noqa: A001

    scope = restrict(principal, "custody.view", event_marking)
    query = select(LedgerEvent)
    if not principal.is_hq:  # narrow in SQL; the scope below still decides every row
        mine = select(LedgerEventRef.seq).where(LedgerEventRef.ref == f"T:{principal.nation}")
        query = query.where(or_(LedgerEvent.nation == principal.nation, LedgerEvent.seq.in_(mine)))
    if type:
        query = query.where(LedgerEvent.type == type)
    if nation:
        query = query.where(LedgerEvent.nation == nation)
    if ref:
        query = query.where(LedgerEvent.seq.in_(select(LedgerEventRef.seq).where(LedgerEventRef.ref == ref)))
    if location:
        place = _like(location.strip().strip("/"))
        query = query.where(
            or_(LedgerEvent.body.like(f'%"{place}"%', escape="\\"), LedgerEvent.body.like(f'%"{place}/%', escape="\\"))
        )
    if since:
        query = query.where(LedgerEvent.time >= since)
    if until:
        query = query.where(LedgerEvent.time <= (until + "T99" if len(until) == 10 else until))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = LedgerEvent.seq.desc() if newest_first else LedgerEvent.seq
    rows = list(session.scalars(query.order_by(order).offset(offset).limit(limit)))
    visible = scope.filter([(r, chain_nations(r.body)) for r in rows])
    return {"items": [event_out(e, t) for e, t in visible], "total": total, "offset": offset, "limit": limit}


def pinned_trust(settings: Any) -> Any:
    """The pinned trust file named in settings; else the one the server's demo key store implies
    (:mod:`coalition.ledger.trust`). Raises ConflictError when the ledger has no keys yet."""
    from coalition.errors import ConflictError
    from coalition.ledger.keyevents import trust_from_keyring
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.trust import load_trust

    path = settings.trust_path
    if path.exists():
        return load_trust(path)
    keys = settings.demo_keystore
    if not keys.is_dir():
        raise ConflictError(
            "the custody ledger has no keys yet; run `coalition ledger init` (or `coalition serve --demo-users`) first"
        )
    return trust_from_keyring(KeyRing.load(keys, settings.demo_passphrase))


def ledger_health(session: Session, trust: Any) -> dict[str, Any]:
    """Last checkpoint and a full verification of the log against the pinned ``trust``."""
    from coalition.ledger import checkpoints, service
    from coalition.ledger.verify import verify_log

    size, _ = service.head(session)
    cp = checkpoints.latest_checkpoint(session)
    report = verify_log(session, trust=trust)
    problem = None
    if not report.ok:
        first = report.first_bad_seq()
        problem = f"{len(report.findings)} finding(s); first bad sequence number {first}: {report.findings[0].message}"
    return {
        "events": size,
        "verified": report.ok,
        "problem": problem,
        "checkpoint": {
            "id": cp.checkpoint_id,
            "size": cp.size,
            "root": cp.root.hex(),
            "at": cp.time,
            "cosigners": list(cp.cosigners),
        }
        if cp
        else None,
        "behind": size - cp.size if cp else size,
        "checked": {
            "events": report.events,
            "batches": report.batches,
            "signatures": report.signatures,
            "checkpoints": report.checkpoints,
        },
        "note": "hashes, Merkle tree, batch signatures and checkpoint signatures checked on this request",
    }


__all__ = ["event_marking", "event_out", "ledger_health", "pinned_trust", "titles", "visible_events"]


def key_nations(session: Session) -> set[str]:
    """Nations with a registered signing key (the ledger's members)."""
    from coalition.ledger.models import LedgerKey

    return {str(n) for n in session.scalars(select(LedgerKey.nation).where(LedgerKey.nation.is_not(None)).distinct())}
