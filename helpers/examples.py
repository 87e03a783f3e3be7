"""The book's running examples, trained the same way in every chapter.

Explained in chapter 1 (running examples). ``running_example("stock")`` builds
the task, fits a :class:`~helpers.data.Standardizer` on the training split only,
and trains the chapter-1 model with fixed seeds, so every chapter that starts
from it explains the same, trained model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import keras
import numpy as np

from helpers import data, models


@dataclass(frozen=True)
class Recipe:
    """How one running example is made: the task, the model and its training."""

    make_task: str
    task_kwargs: tuple
    model: str
    model_kwargs: tuple
    epochs: int
    batch_size: int = 64
    learning_rate: float = 3e-3


RECIPES: dict[str, Recipe] = {
    "stock": Recipe("make_stock_task", (), "build_lstm", (("units", 32),), epochs=30),
    "sum": Recipe("make_sum_task", (), "build_stacked_lstm", (("units", (64, 32)),), epochs=20),
    "adding": Recipe("make_adding_problem", (), "build_lstm", (("units", 32),), epochs=30),
}


@dataclass
class RunningExample:
    """A task, its train-only standardiser, the standardised splits and the trained model.

    ``X_train`` / ``X_test`` are the standardised ``(n, T, F)`` inputs the model reads;
    the task keeps the raw ones. Targets are not standardised.
    """

    name: str
    task: data.SequenceTask
    scaler: data.Standardizer
    X_train: np.ndarray
    X_test: np.ndarray
    model: keras.Model
    loss: list[float]

    @property
    def y_train(self) -> np.ndarray:
        return self.task.y_train

    @property
    def y_test(self) -> np.ndarray:
        return self.task.y_test

    @property
    def planted_test(self) -> np.ndarray:
        return self.task.planted_test

    @property
    def relevance_test(self) -> np.ndarray:
        return self.task.relevance_test  # deprecated alias, warns

    def test_r2(self) -> float:
        """Held-out R^2 of the trained model."""
        return models.r2_score(self.y_test, models.forward(self.model, self.X_test))


def prepare(name: str, seed: int = 0, **task_kwargs) -> tuple[data.SequenceTask, data.Standardizer]:
    """The task and a Standardizer fitted on its training split only."""
    recipe = _recipe(name)
    kwargs = dict(recipe.task_kwargs) | task_kwargs
    task = getattr(data, recipe.make_task)(seed=seed, **kwargs)
    return task, data.Standardizer().fit(task.X_train)


@functools.lru_cache(maxsize=8)
def running_example(name: str, seed: int = 0, epochs: int | None = None) -> RunningExample:
    """Build, standardise and train running example ``name`` ("stock", "sum", "adding").

    Cached per process: a chapter that asks twice trains once.
    """
    recipe = _recipe(name)
    task, scaler = prepare(name, seed=seed)
    X_train, X_test = scaler.transform(task.X_train), scaler.transform(task.X_test)
    n_steps, n_features = X_train.shape[1:]
    build = getattr(models, recipe.model)
    model = build(n_steps, n_features, seed=seed, **dict(recipe.model_kwargs))
    history = models.fit(
        model,
        X_train,
        task.y_train,
        epochs=recipe.epochs if epochs is None else epochs,
        batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate,
        seed=seed,
    )
    return RunningExample(name, task, scaler, X_train, X_test, model, history.history["loss"])


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"expected a running example in {sorted(RECIPES)}, got {name!r}")
    return RECIPES[name]
