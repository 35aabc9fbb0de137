"""Run every registered benchmark module (`python -m benchmarks [name ...]`).

Each benchmark module exposes ``run() -> dict`` and writes its own JSON into
``benchmarks/results/``; this runner only finds and calls them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

import benchmarks


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    Path(__file__).with_name("results").mkdir(exist_ok=True)
    for name in names:
        mod = importlib.import_module(f"benchmarks.{name}")
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        mod.run()
        print(f"== {name} done in {time.perf_counter() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
