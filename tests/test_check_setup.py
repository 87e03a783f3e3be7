"""helpers.check_setup: reports versions, says what is missing and how to fix it."""

from helpers import check_setup


def test_report_on_this_machine(capsys):
    assert check_setup.main() == 0
    out = capsys.readouterr().out
    for _, dist, _ in check_setup.REQUIRED:
        assert dist in out
    assert "jupyterlab-myst: ok" in out
    assert "GPU:" in out and "Training a small LSTM" in out and "All set" in out


def test_missing_package_is_named_with_a_fix(monkeypatch, capsys):
    monkeypatch.setattr(
        check_setup, "REQUIRED", check_setup.REQUIRED + [("no_such_pkg_xyz", "no-such-pkg", "a test")]
    )
    assert check_setup.main() == 1
    out = capsys.readouterr().out
    assert "MISSING  no-such-pkg" in out
    assert "make install" in out


LISTED_OK = """JupyterLab v4.5.11
/venv/share/jupyter/labextensions
        jupyterlab-myst v2.7.0 \x1b[32menabled\x1b[0m \x1b[32mOK\x1b[0m (python, jupyterlab_myst)
"""
LISTED_CONFLICT = """JupyterLab v4.6.6
        jupyterlab-myst v2.7.0 enabled  X (python, jupyterlab_myst)

"jupyterlab-myst@2.7.0" is not compatible with the current JupyterLab
Conflicting Dependencies:
JupyterLab    Extension         Package
>=4.0.0-b1 <5.0.0>=3.0.0 <4.0.0    @jupyter/ydoc
"""
LISTED_WITHOUT_MYST = """JupyterLab v4.5.11
        jupyterlab_pygments v0.3.0 enabled OK (python, jupyterlab_pygments)
"""


def fake_labextension_list(monkeypatch, stdout, returncode=0):
    import subprocess

    def run(command, **kwargs):
        assert command[-3:] == ["jupyter", "labextension", "list"]
        return subprocess.CompletedProcess(command, returncode, stdout=stdout, stderr="")

    monkeypatch.setattr(check_setup.subprocess, "run", run)


def test_jupyter_with_a_working_myst_extension_passes(monkeypatch):
    fake_labextension_list(monkeypatch, LISTED_OK)
    assert check_setup.jupyter_report() == []


def test_an_incompatible_myst_extension_is_named_with_a_fix(monkeypatch):
    fake_labextension_list(monkeypatch, LISTED_CONFLICT)
    [problem] = check_setup.jupyter_report()
    assert "jupyterlab-myst@2.7.0" in problem and "@jupyter/ydoc" in problem and "make install" in problem


def test_a_missing_myst_extension_is_named_with_a_fix(monkeypatch):
    fake_labextension_list(monkeypatch, LISTED_WITHOUT_MYST)
    [problem] = check_setup.jupyter_report()
    assert "does not list the jupyterlab-myst" in problem and "make install" in problem


def test_a_missing_jupyter_command_is_reported(monkeypatch):
    fake_labextension_list(monkeypatch, "", returncode=1)
    [problem] = check_setup.jupyter_report()
    assert "failed" in problem and "make install" in problem


def test_report_stops_on_a_jupyter_problem(monkeypatch, capsys):
    fake_labextension_list(monkeypatch, LISTED_CONFLICT)
    assert check_setup.main() == 1
    out = capsys.readouterr().out
    assert "Jupyter: PROBLEM" in out and "All set" not in out


def test_tools_for_authors_only_may_be_absent(monkeypatch):
    # The student kit installs no website or test tooling; that is not a failure.
    monkeypatch.setattr(check_setup, "FOR_AUTHORS", [("no_such_pkg_xyz", "no-such-pkg", "a test")])
    lines, missing = check_setup.package_report()
    assert missing == []
    assert any(line.startswith("  absent   no-such-pkg") for line in lines)
