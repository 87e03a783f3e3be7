"""What the benchmarks share: alternated best-of CPU timings and the result row.

Not a benchmark itself (`run.py` runs only `bench_*.py`). CPU seconds of this
process (``time.process_time``, all threads) are less sensitive to other
processes' load than wall time; alternating the method and its baseline makes
both see the same machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def best_pair(
    fn: Callable[[], object],
    base: Callable[[], object],
    repeats: int,
    base_repeats: int | None = None,
    warmup: bool = True,
) -> tuple[float, float]:
    """Best CPU seconds of ``fn`` (``repeats`` runs) and ``base`` (``base_repeats``, default the same), alternated."""
    base_repeats = repeats if base_repeats is None else base_repeats
    if warmup:
        fn()
    base()
    best_fn = best_base = float("inf")
    for k in range(max(repeats, base_repeats)):
        for which, runs in ((fn, repeats), (base, base_repeats)):
            if k >= runs:
                continue
            start = time.process_time()
            which()
            elapsed = time.process_time() - start
            if which is fn:
                best_fn = min(best_fn, elapsed)
            else:
                best_base = min(best_base, elapsed)
    return best_fn, best_base


def row(name: str, ratio: float, target: float | None) -> dict:
    """One result row; ``target=None`` reports the ratio without a goal."""
    return {
        "benchmark": name,
        "measured": round(ratio, 2),
        "target": "report" if target is None else f"<= {target}",
        "passed": True if target is None else bool(ratio <= target),
    }
