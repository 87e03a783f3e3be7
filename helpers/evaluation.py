"""Former home of the scores and checks; ``helpers.evaluation.X`` still works, with a warning.

Explained in chapter 7 (which explanation to trust). Scores against the truth
(pure NumPy) live in :mod:`helpers.scores`; checks that run the model (deletion
and insertion curves, weight randomisation) in :mod:`helpers.checks`; moving
between cell, time and feature levels in :mod:`helpers.levels`. Each former name
is looked up on first use (a module ``__getattr__``), so importing this module
costs nothing and only code that still uses it sees the DeprecationWarning.
"""

import importlib
import warnings

_HOMES = {
    "helpers.checks": (
        "DeletionCurve", "InsertionCurve", "SanityCheck", "deletion_auc", "deletion_curve",
        "insertion_auc", "insertion_curve", "randomize_weights", "sanity_check", "weighted_layers",
    ),
    "helpers.levels": ("LEVELS",),
    "helpers.scores": (
        "aup", "auprc", "aur", "auroc", "deletion_order", "precision_at_k",
        "random_attribution", "rank_agreement",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name not in _HOME_OF:
        raise AttributeError(f"module 'helpers.evaluation' has no attribute {name!r}")
    home = _HOME_OF[name]
    warnings.warn(
        f"helpers.evaluation.{name} moved to {home}.{name}; helpers.evaluation will be removed",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(_HOME_OF)
