"""A benchmark's ratios, recorded for a chapter: runs bench_NAME several times, writes book/bench_NAME.csv.

Run from the repository root:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/record.py sensitivity 5   # chapter 2
    PYTHONPATH=$PWD .venv/bin/python benchmarks/record.py costs 2         # chapter 7

Not a benchmark (`run.py` runs only `bench_*.py`). A chapter quotes the range
of each ratio over the recorded runs instead of timing them while it builds: a
single timing inside a page build measures the machine's load, not the method.
The file's header says when, on what processor and under what load average the
runs were made, so the chapter can cite them as a dated measurement.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
READERS = {
    "sensitivity": "notebooks/02_sensitivity.ipynb",
    "costs": "notebooks/07_which_to_trust.ipynb",
}


def processor() -> str:
    """The CPU model as the kernel reports it (falls back to platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(name: str, runs: int = 5) -> int:
    if name not in READERS:
        raise ValueError(f"expected one of {sorted(READERS)}, got {name!r}")
    bench = importlib.import_module(f"bench_{name}")
    out = ROOT / "book" / f"bench_{name}.csv"
    load = os.getloadavg()[0]
    rows = []
    for run in range(runs):
        for row in bench.run():
            rows.append({"run": run, **row})
        print(f"run {run + 1} of {runs} done", flush=True)
    header = (
        "# made by: PYTHONPATH=$PWD .venv/bin/python benchmarks/record.py "
        f"{name} {runs}; read by {READERS[name]}\n"
        f"# date: {time.strftime('%Y-%m-%d', time.gmtime())}\n"
        f"# machine: {processor()}, {os.cpu_count()} cores\n"
        f"# load average at start: {load:.1f}\n"
    )
    with out.open("w") as f:
        f.write(header)
        pd.DataFrame(rows).to_csv(f, index=False)
    print(f"wrote {out}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5))
