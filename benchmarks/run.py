"""Run every benchmark and print one table: `python benchmarks/run.py [name ...]`.

Each `benchmarks/bench_*.py` exposes `run() -> list[dict]` with keys
`benchmark`, `measured`, `target`, `passed`. Speeds are ratios against a
baseline timed in the same run, so a noisy machine slows both sides alike.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        unknown = set(names) - {m.removeprefix("bench_") for m in modules}
        if unknown:
            raise SystemExit(f"unknown benchmarks {sorted(unknown)}; have {modules}")
        modules = [m for m in modules if m.removeprefix("bench_") in names]
    rows = []
    for name in modules:
        print(f"running {name} ...", flush=True)
        rows += importlib.import_module(name).run()
    width = max(len(r["benchmark"]) for r in rows)
    print(f"\n{'benchmark':{width}}  {'measured':>12}  {'target':>12}  passed")
    for r in rows:
        print(f"{r['benchmark']:{width}}  {r['measured']:>12}  {r['target']:>12}  {'yes' if r['passed'] else 'NO'}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
