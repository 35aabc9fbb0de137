"""The app's start-up step: the objects alive before serving are frozen out of the collector's
sight (gc.freeze), so a full collection no longer walks the imported modules each time."""

from __future__ import annotations

import gc

from coalition.api.app import settle_heap


def test_settle_heap_freezes_what_is_alive_and_full_collections_walk_less() -> None:
    gc.unfreeze()
    gc.collect()  # count what is alive, not the garbage a long test session leaves behind
    before = len(gc.get_objects())
    try:
        settle_heap()
        assert gc.get_freeze_count() >= before * 0.9  # (nearly) everything alive is frozen
        assert len(gc.get_objects()) < before / 10  # what a full collection still walks
    finally:
        gc.unfreeze()
