"""helpers.evaluation: the former names still reach the scores and checks."""

from helpers import checks, evaluation, levels, scores


def test_former_names_are_the_new_functions():
    for name in ("auroc", "auprc", "aup", "aur", "precision_at_k", "rank_agreement",
                 "deletion_order", "random_attribution"):
        assert getattr(evaluation, name) is getattr(scores, name)
    for name in ("deletion_curve", "insertion_curve", "deletion_auc", "insertion_auc",
                 "DeletionCurve", "InsertionCurve", "sanity_check", "SanityCheck",
                 "randomize_weights", "weighted_layers"):
        assert getattr(evaluation, name) is getattr(checks, name)
    assert evaluation.LEVELS == levels.LEVELS
