"""helpers.check_setup: reports versions, says what is missing and how to fix it."""

from helpers import check_setup


def test_report_on_this_machine(capsys):
    assert check_setup.main() == 0
    out = capsys.readouterr().out
    for _, dist, _ in check_setup.REQUIRED:
        assert dist in out
    assert "GPU:" in out and "Training a small LSTM" in out and "All set" in out


def test_missing_package_is_named_with_a_fix(monkeypatch, capsys):
    monkeypatch.setattr(
        check_setup, "REQUIRED", check_setup.REQUIRED + [("no_such_pkg_xyz", "no-such-pkg", "a test")]
    )
    assert check_setup.main() == 1
    out = capsys.readouterr().out
    assert "MISSING  no-such-pkg" in out
    assert "make install" in out
