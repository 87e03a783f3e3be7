"""Each chapter's cold execution time and peak memory, on a fresh kernel.

Each chapter runs in its own process (nbclient), so the peak resident memory of
its kernel is read cleanly from that process's finished children. Results are
also written to `book/timings.csv`, which the workshop page shows, and each
section's share (the cells under one `## ` heading, from nbclient's per-cell
timestamps) to `book/section_timings.csv`, which the agenda's "run" column sums.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMITS: dict[str, float] = {}  # seconds, per chapter; every chapter defaults to 90
RUNNER = r"""
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sections, current = {}, "(before the first section)"
for cell in nb.cells:
    if cell.cell_type == "markdown":
        heads = [l[3:].strip() for l in cell.source.splitlines() if l.startswith("## ")]
        current = heads[-1] if heads else current
        continue
    stamps = cell.metadata.get("execution", {})
    if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
        from datetime import datetime
        t0 = datetime.fromisoformat(stamps["iopub.execute_input"].replace("Z", "+00:00"))
        t1 = datetime.fromisoformat(stamps["shell.execute_reply"].replace("Z", "+00:00"))
        sections[current] = sections.get(current, 0.0) + (t1 - t0).total_seconds()
print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "sections": sections}))
"""


def time_chapter(path: Path) -> dict:
    """Execute one chapter cold; return its wall time (s) and its kernel's peak memory (MiB)."""
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, str(path), str(path.parent)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    rows, table, parts = [], [], []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        result = time_chapter(path)
        limit = LIMITS.get(path.stem, 90.0)
        rows.append({
            "benchmark": f"chapter {path.stem} cold run (s)",
            "measured": f"{result['seconds']:.1f}",
            "target": f"<= {limit:.0f}",
            "passed": result["seconds"] <= limit,
        })
        rows.append({
            "benchmark": f"chapter {path.stem} peak memory (MiB)",
            "measured": f"{result['peak_mib']:.0f}",
            "target": "report",
            "passed": True,
        })
        table.append((path.stem, f"{result['seconds']:.0f}", f"{result['peak_mib']:.0f}"))
        parts += [(path.stem, name, f"{sec:.1f}") for name, sec in result["sections"].items()]
    with open(ROOT / "book" / "timings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["chapter", "cold run (s)", "peak memory (MiB)"])
        writer.writerows(table)
    with open(ROOT / "book" / "section_timings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["chapter", "section", "seconds"])
        writer.writerows(parts)
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
