"""A task for the API's CPU pool that holds its worker until the test opens a gate.

It is pickled by name into the pool's ``spawn`` workers, so it lives in a module that imports
nothing heavy. A test holds every worker with it, sends real requests (which queue behind it,
unable to finish) and checks what the server does meanwhile; then it opens the gate.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def hold(started: str, gate: str, give_up_s: float) -> int:
    """Mark ``started``, wait until the file ``gate`` exists (at most ``give_up_s``), and
    return this worker's process id."""
    Path(started).touch()
    deadline = time.monotonic() + give_up_s
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()
