"""Batched, still durable audit entries for reads (group commit).

A read of restricted detail must leave an audit entry before its answer is sent, but giving each
read its own transaction makes every such read wait for its own disk flush (tens of ms on
SQLite with ``synchronous=FULL``) and for the chain's head lock. Here the entries of concurrent
reads are appended by one writer thread in one transaction and one commit; each request waits
until *its* batch is committed before its answer goes out, so the guarantee is unchanged (no
answer without its durable entry; a failed write fails the request) while N concurrent reads
share one flush. Requests that also change state keep their entries in their own transaction.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

log = logging.getLogger("coalition.api")

MAX_BATCH = 256


class AuditBatcher:
    def __init__(self, session_factory: Any) -> None:
        self._factory = session_factory
        self._queue: queue.Queue[tuple[list[dict[str, Any]], Future[None]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()

    async def write(self, entries: list[dict[str, Any]]) -> None:
        """Append ``entries`` (keyword arguments of :func:`coalition.audit.service.append`);
        returns once they are committed."""
        if not entries:
            return
        self._start()
        done: Future[None] = Future()
        self._queue.put((entries, done))
        await asyncio.wrap_future(done)

    def _run(self) -> None:
        from coalition.audit import service as audit
        from coalition.store.db import transaction

        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                with transaction(self._factory) as db:
                    for entries, _done in batch:
                        for entry in entries:
                            audit.append(db, **entry)
            except Exception as exc:  # noqa: BLE001 - every waiting request fails with it
                log.exception("audit batch of %d request(s) failed", len(batch))
                for _entries, done in batch:
                    done.set_exception(exc)
                continue
            for _entries, done in batch:
                done.set_result(None)

    def shutdown(self) -> None:
        self._queue.put(None)
