"""Former home of the scores and checks, kept so ``from helpers import evaluation`` still works.

Explained in chapter 7 (which explanation to trust). Scores against the truth
(pure NumPy) live in :mod:`helpers.scores`; checks that run the model (deletion
and insertion curves, weight randomisation) in :mod:`helpers.checks`; moving
between cell, time and feature levels in :mod:`helpers.levels`.
"""

from helpers.checks import (  # noqa: F401
    DeletionCurve,
    InsertionCurve,
    SanityCheck,
    deletion_auc,
    deletion_curve,
    insertion_auc,
    insertion_curve,
    randomize_weights,
    sanity_check,
    weighted_layers,
)
from helpers.levels import LEVELS  # noqa: F401
from helpers.scores import (  # noqa: F401
    aup,
    auprc,
    aur,
    auroc,
    deletion_order,
    precision_at_k,
    random_attribution,
    rank_agreement,
)
