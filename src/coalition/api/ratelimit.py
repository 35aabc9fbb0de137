"""Fair use: a per-token rate limit on the expensive operations (429 + Retry-After).

A token bucket per credential (the bearer token, or the dashboard session), refilled at
``Settings.rate_limit_per_minute`` and holding at most ``Settings.rate_limit_burst`` requests.
The key is a SHA-256 of the credential, so no database lookup is needed before refusing, and
unknown or forged tokens exhaust only their own bucket. The buckets live in the worker process:
with ``--workers N`` a token gets up to N times the limit. Which operations are expensive is
:data:`coalition.api.errors.EXPENSIVE` (uploads, validation, gap pictures with assumptions,
plan runs).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict


class RateLimited(Exception):
    def __init__(self, retry_after_s: int, per_minute: int) -> None:
        super().__init__(
            f"rate limit reached: at most {per_minute} expensive requests a minute "
            f"per token; retry in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s


class RateLimiter:
    def __init__(self, *, per_minute: int, burst: int, max_keys: int = 10_000) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, credential: str, now: float | None = None) -> None:
        """Spend one request of this credential's bucket, or raise :class:`RateLimited`."""
        if self.per_minute <= 0:
            return  # limit switched off
        key = hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()
        at = time.monotonic() if now is None else now
        with self._lock:
            level, last = self._buckets.pop(key, (float(self.burst), at))
            level = min(float(self.burst), level + (at - last) * self.rate)
            if level < 1.0:
                self._buckets[key] = (level, at)
                raise RateLimited(max(1, math.ceil((1.0 - level) / self.rate)), self.per_minute)
            self._buckets[key] = (level - 1.0, at)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
