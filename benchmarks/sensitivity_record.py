"""Chapter 2's closing note, recorded: runs bench_sensitivity several times, writes book/bench_sensitivity.csv.

Run from the repository root (about a minute per run on a quiet 2-core machine):

    PYTHONPATH=$PWD .venv/bin/python benchmarks/sensitivity_record.py [runs]

Not a benchmark (`run.py` runs only `bench_*.py`). The chapter quotes the range
of each ratio over the recorded runs instead of timing them while it builds: a
single timing inside a page build measures the machine's load, not the method.
The file's header says when, on what processor and under what load average the
runs were made, so the chapter can cite them as a dated measurement.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sensitivity  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "book" / "bench_sensitivity.csv"


def processor() -> str:
    """The CPU model as the kernel reports it (falls back to platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(runs: int = 5) -> int:
    load = os.getloadavg()[0]
    rows = []
    for run in range(runs):
        for row in bench_sensitivity.run():
            rows.append({"run": run, **row})
        print(f"run {run + 1} of {runs} done", flush=True)
    header = (
        "# made by: PYTHONPATH=$PWD .venv/bin/python benchmarks/sensitivity_record.py "
        f"{runs}; read by notebooks/02_sensitivity.ipynb\n"
        f"# date: {time.strftime('%Y-%m-%d', time.gmtime())}\n"
        f"# machine: {processor()}, {os.cpu_count()} cores\n"
        f"# load average at start: {load:.1f}\n"
    )
    with OUT.open("w") as f:
        f.write(header)
        pd.DataFrame(rows).to_csv(f, index=False)
    print(f"wrote {OUT}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
