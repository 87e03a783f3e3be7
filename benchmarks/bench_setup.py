"""How long the set-up check takes, cold: the workshop's set-up slot is sized from it.

Runs `python -m helpers.check_setup` in a fresh process, as a learner does at
the start of the workshop (TensorFlow's first import, `jupyter labextension
list`, training a small LSTM), and writes the wall time to
`book/setup_timing.csv`, which the workshop page shows and
`tests/test_agenda.py` checks the set-up slot against. Wall time, not a ratio:
it is what the room waits for; a loaded machine overstates it, which errs on
the side of a longer slot.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "setup_timing.csv"
COMMAND = [sys.executable, "-m", "helpers.check_setup"]


def time_check() -> tuple[float, int]:
    """Wall seconds of one cold set-up check, and its exit code."""
    start = time.perf_counter()
    result = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode


def run() -> list[dict]:
    seconds, code = time_check()
    with open(OUT, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["set-up check", "cold run (s)"])
        writer.writerow(["python -m helpers.check_setup", f"{seconds:.0f}"])
    return [{
        "benchmark": "set-up check cold run (s)",
        "measured": f"{seconds:.1f}",
        "target": "report",
        "passed": code == 0,
    }]


if __name__ == "__main__":
    for row in run():
        print(row)
