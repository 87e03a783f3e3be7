"""The book's own Keras layer: attention pooling over LSTM outputs.

Explained in chapter 3 (attention). It sits in its own small module, below
:mod:`helpers.models` (which builds with it) and :mod:`helpers.attention` (which
reads its weights), so neither imports the other for it. It is registered with
Keras under the package name ``helpers``, so a saved attention model reloads
once this module has been imported (see :func:`helpers.load_model`).
"""

from __future__ import annotations

import keras
from keras import ops

from helpers.validation import check_positive_int


@keras.saving.register_keras_serializable(package="helpers")
class AttentionPooling(keras.layers.Layer):
    """Additive attention pooling over time: ``(n, T, U) -> (n, heads * U)``.

    For each head ``k``: ``score[t, k] = tanh(h_t W + b) . v_k`` (Bahdanau et al. 2015,
    with one query learned per head), ``a[k] = softmax over t of score[:, k]``, and
    ``context_k = sum_t a[k, t] h_t``. The heads share ``W`` and ``b`` and differ in
    ``v_k``; their contexts are concatenated, so the read-out sees each head apart.
    """

    def __init__(self, heads: int = 1, score_units: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.heads = check_positive_int(heads, "heads")
        self.score_units = check_positive_int(score_units, "score_units")

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"expected AttentionPooling input of shape (n, T, units), got {tuple(input_shape)}"
            )
        units = int(input_shape[-1])
        self.W = self.add_weight(
            name="W", shape=(units, self.score_units), initializer="glorot_uniform"
        )
        self.b = self.add_weight(name="b", shape=(self.score_units,), initializer="zeros")
        self.v = self.add_weight(
            name="v", shape=(self.score_units, self.heads), initializer="glorot_uniform"
        )

    def scores(self, h):
        """Unnormalised scores, ``(n, T, units) -> (n, heads, T)``."""
        s = ops.matmul(ops.tanh(ops.matmul(h, self.W) + self.b), self.v)  # (n, T, heads)
        return ops.transpose(s, (0, 2, 1))

    def weights_for(self, h, mask=None):
        """The per-sample attention weights, ``(n, T, units) -> (n, heads, T)``, summing to 1 over T.

        ``mask`` ``(n, T)`` (from a ``Masking`` layer) gives padded steps weight 0.
        """
        s = self.scores(h)
        if mask is not None:
            s = ops.where(ops.expand_dims(ops.cast(mask, "bool"), 1), s, ops.full_like(s, -1e9))
        return ops.softmax(s, axis=-1)

    def pool(self, h, a):
        """Weighted sums of ``h`` ``(n, T, units)`` under weights ``a`` ``(n, heads, T)``: ``(n, heads * units)``."""
        context = ops.matmul(a, h)  # (n, heads, units)
        return ops.reshape(context, (-1, self.heads * int(h.shape[-1])))

    def call(self, h, mask=None):
        return self.pool(h, self.weights_for(h, mask))

    def compute_mask(self, h, mask=None):
        return None  # pooling removes the time axis, and with it the mask

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.heads * int(input_shape[-1]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(heads=self.heads, score_units=self.score_units)
        return config
