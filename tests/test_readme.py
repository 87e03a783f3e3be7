"""The README's "Explain your own model" script runs as printed (so it cannot go stale)."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def explain_script() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Explain your own model", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_script_is_at_most_15_lines():
    assert len(explain_script().strip().splitlines()) <= 15


def test_script_runs_and_scores_four_methods(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", explain_script()], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    names = ["occlusion", "integrated gradients", "KernelSHAP", "exact Shapley"]
    assert [line.rsplit(" ", 1)[0] for line in lines] == names
    areas = [float(line.rsplit(" ", 1)[1]) for line in lines]
    assert all(0.0 <= a <= 1.5 for a in areas), areas
