"""A per-feature standardiser fitted on training data only.

Explained in chapter 1 (running examples): statistics come from ``task.X_train``
alone, so nothing about the test split leaks into the model's inputs. Chapters
reach it as :class:`helpers.data.Standardizer`.
"""

from __future__ import annotations

import numpy as np

from helpers.validation import check_sequences


class Standardizer:
    """Per-feature standardisation fitted on training data only.

    ``fit`` takes ``(n, T, F)`` (statistics over sequences and steps, one per
    feature) or ``(n,)`` targets (one mean and scale).
    """

    def fit(self, X: np.ndarray) -> Standardizer:
        """Learn mean and standard deviation per feature from ``X``."""
        X = self._check(X).astype(np.float64)  # float32 sums lose digits on large offsets
        if X.size == 0:
            raise ValueError(f"expected data with at least one value to fit on, got shape {X.shape}")
        axes = tuple(range(X.ndim - 1)) if X.ndim == 3 else (0,)
        self.mean_ = X.mean(axis=axes)
        std = X.std(axis=axes)
        # A constant feature would divide by zero; leave its scale at 1.
        self.scale_ = np.where(std > 0, std, 1.0)
        self.ndim_ = X.ndim
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardise ``X`` with the fitted statistics (same shape, float32)."""
        X = self._check_fitted(X)
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform` (same shape, float32)."""
        Z = self._check_fitted(Z)
        return (Z * self.scale_ + self.mean_).astype(np.float32)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit`` then ``transform`` on the same data."""
        return self.fit(X).transform(X)

    def _check(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 3:
            return check_sequences(X)
        if X.ndim == 1:
            X = X.astype(np.float32)
            if not np.all(np.isfinite(X)):
                raise ValueError("expected finite targets, got NaN or inf")
            return X
        raise ValueError(f"expected (n, T, F) sequences or (n,) targets, got shape {X.shape}")

    def _check_fitted(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise ValueError("expected a fitted Standardizer; call fit(X_train) first")
        X = self._check(X)
        if X.ndim != self.ndim_ or (X.ndim == 3 and X.shape[-1] != self.mean_.shape[0]):
            raise ValueError(
                f"expected data like the fitted data (rank {self.ndim_}, "
                f"{self.mean_.size} features), got shape {X.shape}"
            )
        return X
