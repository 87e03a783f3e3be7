"""helpers.evaluation: the former names still reach the scores and checks, with a warning."""

from pathlib import Path

import pytest

import helpers
from helpers import checks, evaluation, levels, scores

CHECKS = ("deletion_curve", "insertion_curve", "deletion_auc", "insertion_auc",
          "DeletionCurve", "InsertionCurve", "sanity_check", "SanityCheck",
          "randomize_weights", "weighted_layers")
SCORES = ("auroc", "auprc", "aup", "aur", "precision_at_k", "rank_agreement",
          "deletion_order", "random_attribution")


@pytest.mark.parametrize("name", CHECKS + SCORES + ("LEVELS",))
def test_former_names_warn_and_are_the_new_objects(name):
    home = checks if name in CHECKS else scores if name in SCORES else levels
    with pytest.warns(DeprecationWarning, match=f"helpers.evaluation.{name} moved to {home.__name__}"):
        found = getattr(evaluation, name)
    assert found is getattr(home, name)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        evaluation.nope  # noqa: B018
    assert "auroc" in dir(evaluation) and "nope" not in dir(evaluation)


def test_all_lists_every_public_module_and_not_the_shim():
    on_disk = {p.stem for p in Path(helpers.__file__).parent.glob("*.py")}
    public = {m for m in on_disk if not m.startswith("_")} - {"evaluation"}
    assert sorted(helpers.__all__) == sorted(public)
