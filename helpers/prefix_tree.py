"""The prefix tree: run a recurrent model over a tree of input prefixes, each prefix once.

Explained in chapter 4 (exact event-level Shapley values); the methods that use it
are in :mod:`helpers.prefix`. An LSTM's state after step ``t`` depends only on
steps ``0..t``, so perturbed copies of a sequence that agree on their first ``k``
steps share the state after step ``k``. :class:`Walk` steps the model's LSTM
chain (:func:`helpers.lstm_stack.chain`, stacked layers too) one time step at a
time over a tree whose nodes are the distinct prefixes, computes each node once,
and applies the model's *head* (every layer after the last LSTM) to the leaves;
a *tree* object says which children each node has and collects the leaves'
outputs. A full tree (every coalition) runs as subtrees of several levels per
compiled call (:data:`SUBTREE_DEPTH`, :data:`LEAF_DEPTH`). :func:`suffix_call`
runs copies from the step where they start to differ, each from its own start.

Every pass is a traced call made by :func:`helpers.engine.compiled` and fed by
:func:`helpers.engine.run` in its bucketed chunks, so the few rows of a tree's
top levels or of an unperturbed run pad to 8 or 64 rows, not thousands. The work
is counted in :class:`helpers.engine.count_evaluations` (``.steps`` node-steps,
``.head_rows``, ``.seconds`` per part).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers import engine, lstm_stack
from helpers.lstm_stack import Chain
from helpers.validation import check_model_input, resolve_background

#: Most tree nodes stepped at one level before the level is split (memory bound).
MAX_NODES = 1 << 16

#: A full tree (every coalition, :func:`helpers.prefix.time_coalition_values`) is run in
#: subtrees: ``SUBTREE_DEPTH`` levels per compiled call, then up to ``LEAF_DEPTH`` levels
#: and the head in the last call (T = 16: 1, 8, 64, 512 and 4096 rows, five calls).
SUBTREE_DEPTH, LEAF_DEPTH = 3, 4

#: Most leaves one call computes: more would take its tensors out of the CPU's caches.
LEAVES_PER_CALL = 1 << 13


def add(name: str, value: int) -> None:
    """Add ``value`` to attribute ``name`` (``"steps"``, ``"head_rows"``, ``"rows"``) of every active counter."""
    for counter in engine.count_evaluations.active:
        setattr(counter, name, getattr(counter, name) + int(value))


@contextlib.contextmanager
def clock(part: str) -> Iterator[None]:
    """Add the CPU seconds of the block (all threads) to ``.seconds[part]`` of every active counter.

    CPU time, as the benchmarks measure, moves less with other processes' load than
    wall time; free when no counter is active.
    """
    if not engine.count_evaluations.active:
        yield
        return
    start = time.process_time()
    try:
        yield
    finally:
        elapsed = time.process_time() - start
        for counter in engine.count_evaluations.active:
            counter.seconds[part] = counter.seconds.get(part, 0.0) + elapsed


def supports(model) -> bool:
    """Whether the prefix path can run ``model``: LSTM layers fed by the input, then any head."""
    return lstm_stack.chain(model) is not None


def check(model, X, B=None, need_chain: bool = True):
    """``(chain, X, B)``: ``X`` float32 ``(n, T, F)`` for the model, ``B`` ``(m, T, F)`` or None.

    ``chain`` is the model's :class:`~helpers.lstm_stack.Chain` (``None`` for another
    architecture, an error when ``need_chain``).
    """
    found = lstm_stack.chain(model)
    if found is None and need_chain:
        kinds = ", ".join(type(layer).__name__ for layer in model.layers)
        raise ValueError(
            "expected a model whose input feeds a chain of LSTM layers followed by a head "
            f"(helpers.prefix.supports(model) is False), got layers {kinds}"
        )
    X = check_model_input(model, X)
    if B is not None:
        B = resolve_background(B, X.shape[1:])
    return found, X, B


def outputs(call, X: np.ndarray, *extras: np.ndarray, count: str | None = None) -> np.ndarray:
    """Every output of ``call`` over ``X`` ``(N, ...)``, as one array, in the engine's bucketed chunks."""
    parts = [y.numpy()[:rows] for _, rows, y in engine.run(call, X, *extras, count=count)]
    return np.concatenate(parts) if parts else np.zeros((0,))


def _step_call(model, chain: Chain, F: int):
    """Traced step ``[x_t, h1, c1, h2, c2, ...] (chunk, F + S) -> new states (chunk, S)``."""

    def make(packed):
        _, states = lstm_stack.step(chain.layers, packed[:, :F], lstm_stack.unpack(packed[:, F:], chain.units))
        return tf.concat([part for hc in states for part in hc], axis=1)

    return engine.compiled(model, "prefix_step", (F + chain.state_size,), make)


def _last_step_call(model, chain: Chain, F: int):
    """Traced last step then head ``(chunk, F + S) -> (chunk, K)`` (head on the final state)."""
    step = _step_call(model, chain, F).make
    u = chain.units[-1]

    def make(packed):
        h = step(packed)[:, -2 * u : -u]
        out = chain.head(h, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return engine.compiled(model, "prefix_last_step", (F + chain.state_size,), make)


def _subtree_call(model, chain: Chain, F: int, depth: int, head: bool):
    """Traced ``depth`` levels of a full tree below each row: ``(chunk, 2 depth F + S)``.

    A row is a node's inputs for its next ``depth`` steps, ``[b, x]`` per step, then its
    state; out come its ``2^depth`` descendants in the tree's leaf order: their states
    ``(chunk, 2^depth S)``, or with ``head`` the head on them ``(chunk, 2^depth K)``.
    Each level steps a parent's two children together (:func:`helpers.lstm_stack.branch`),
    so the recurrent products are computed once per parent, and a whole subtree is one
    compiled call (a call's fixed cost is that of hundreds of node-steps).
    """
    u = chain.units[-1]

    def make(packed):
        rows = packed.shape[0]
        states = lstm_stack.unpack(packed[:, 2 * depth * F :], chain.units)
        for k in range(depth):  # a level's inputs are the same for every node: they broadcast
            inputs = tf.reshape(packed[:, 2 * k * F : 2 * (k + 1) * F], (rows, *[1] * k, 2, F))
            states = lstm_stack.branch(chain.layers, states, inputs)  # (rows, 2, ..., 2, w)
        if head:
            y = chain.head(tf.reshape(states[-1][0], (-1, u)), training=False)
        else:
            y = tf.concat([part for hc in states for part in hc], axis=-1)
        return tf.reshape(y, (rows, -1))

    kind = f"prefix_{'leaves' if head else 'subtree'}_{depth}"
    return engine.compiled(model, kind, (2 * depth * F + chain.state_size,), make)


def _head_call(model, chain: Chain, T: int):
    """Traced head: last LSTM's ``(chunk, T, u)`` sequence or ``(chunk, u)`` state -> ``(chunk, K)``."""
    u = chain.units[-1]
    shape = (T, u) if chain.sequence_head else (u,)

    def make(h):
        out = chain.head(h, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return engine.compiled(model, "prefix_head", shape, make)



# --- the tree walk ---------------------------------------------------------------------


class Walk:
    """Grow a prefix tree level by level; ``tree`` says which children each node has."""

    def __init__(self, model, chain: Chain, tree, T: int, F: int):
        self.chain, self.tree, self.T = chain, tree, T
        self.step = _step_call(model, chain, F)
        self.head = _head_call(model, chain, T)
        self.last = None if chain.sequence_head else _last_step_call(model, chain, F)
        self.subtrees = getattr(tree, "full", False) and not chain.sequence_head
        self.model, self.F = model, F
        self.S, self.h_last = chain.state_size, chain.h_last

    def run(self, meta: dict) -> None:
        n = len(next(iter(meta.values())))
        self._grow(0, meta, np.zeros((n, self.S), np.float32), [])

    def _grow(self, t: int, meta: dict, states: np.ndarray, history: list) -> None:
        if t == self.T:
            self._leaves(meta, states, history)
            return
        if self.subtrees:
            self._subtree(t, meta, states)
            return
        with clock("tree building"):
            parent, inputs, child_meta = self.tree.children(t, meta)
        n = states.shape[0]
        if len(parent) > MAX_NODES and n > 1:
            # Too many children at once: split this level's nodes; no node is computed twice.
            for sl in (slice(0, n // 2), slice(n // 2, n)):
                sub_history = history[:-1] + [(history[-1][0][sl], history[-1][1][sl])] if history else []
                self._grow(t, {k: v[sl] for k, v in meta.items()}, states[sl], sub_history)
            return
        with clock("tree building"):
            packed = np.empty((len(parent), inputs.shape[1] + self.S), np.float32)
            packed[:, : inputs.shape[1]] = inputs
            if getattr(self.tree, "full", False):  # every node has two children: no gather
                packed[:, inputs.shape[1] :] = np.repeat(states, 2, axis=0)
            else:
                packed[:, inputs.shape[1] :] = states[parent]
        add("steps", len(parent))
        if t == self.T - 1 and self.last is not None:
            # The last step and the head in one call: the leaves' states never leave it.
            add("head_rows", len(parent))
            with clock("last step and head"):
                y = outputs(self.last, packed, count="rows").astype(np.float64)
            with clock("collect"):
                self.tree.collect(child_meta, y)
            return
        with clock("cell steps"):
            new = outputs(self.step, packed)
        if self.chain.sequence_head:
            history = history + [(parent, new[:, self.h_last])]
        self._grow(t + 1, child_meta, new, history)

    def _subtree(self, t: int, meta: dict, states: np.ndarray) -> None:
        """A full tree's next levels from level ``t`` in one call: to the leaves (and head) if few remain."""
        left = self.T - t
        leaves = left <= LEAF_DEPTH
        depth = left if leaves else min(SUBTREE_DEPTH, left - LEAF_DEPTH)
        n = states.shape[0]
        if not leaves and n << depth > MAX_NODES and n > 1:  # memory bound: split the nodes
            for sl in (slice(0, n // 2), slice(n // 2, n)):
                self._subtree(t, {k: v[sl] for k, v in meta.items()}, states[sl])
            return
        with clock("tree building"):
            inputs, child_meta = self.tree.descend(t, depth, meta)  # (n, 2 depth F)
            packed = np.concatenate([inputs, states], axis=1)
        add("steps", n * ((2 << depth) - 2))
        call = _subtree_call(self.model, self.chain, self.F, depth, leaves)
        if not leaves:
            with clock("subtrees"):
                new = outputs(call, packed).reshape(n << depth, self.S)
            self._subtree(t + depth, child_meta, new)
            return
        add("head_rows", n << depth)
        add("rows", n << depth)
        block = max(engine.BUCKETS[0], LEAVES_PER_CALL >> depth)  # rows whose tensors stay in cache
        with clock("leaves and head"):  # (n, 2^depth K): each node's leaves in order
            y = np.concatenate([outputs(call, packed[lo : lo + block]) for lo in range(0, n, block)])
        with clock("collect"):
            self.tree.collect(child_meta, y.reshape(n << depth, -1).astype(np.float64))

    def _leaves(self, meta: dict, states: np.ndarray, history: list) -> None:
        n = states.shape[0]
        add("head_rows", n)
        if not self.chain.sequence_head:
            ys = outputs(self.head, states[:, self.h_last], count="rows")
            self.tree.collect(meta, ys.astype(np.float64))
            return
        # The head reads whole sequences: rebuild each leaf's by walking up its ancestors.
        u = self.chain.units[-1]
        for lo in range(0, n, engine.CHUNK):
            idx = np.arange(lo, min(n, lo + engine.CHUNK))
            seq = np.empty((len(idx), self.T, u), np.float32)
            for t in range(self.T - 1, -1, -1):
                parent, H = history[t]
                seq[:, t] = H[idx]
                idx = parent[idx]
            ys = outputs(self.head, seq, count="rows")
            self.tree.collect({k: v[lo : lo + len(seq)] for k, v in meta.items()}, ys.astype(np.float64))



# --- suffixes: copies run from the step where they start to differ -----------------------


def states_call(model, chain: Chain, T: int, F: int):
    """Traced run from the zero state: ``(chunk, T F)`` -> every step's packed states ``(chunk, T S)``.

    For a head on the last state, the head's outputs ``(chunk, K)`` follow in the same
    call: ``(chunk, T S + K)``.
    """
    S = chain.state_size

    def make(flat):
        rows = flat.shape[0]
        seq = tf.reshape(flat, (rows, T, F))
        state = tf.zeros((rows, S))
        frames = tf.TensorArray(tf.float32, size=T, element_shape=(rows, S))
        for t in tf.range(T):
            _, new = lstm_stack.step(chain.layers, seq[:, t], lstm_stack.unpack(state, chain.units))
            state = tf.concat([part for hc in new for part in hc], axis=1)
            frames = frames.write(t, state)
        states = tf.reshape(tf.transpose(frames.stack(), (1, 0, 2)), (rows, T * S))
        if chain.sequence_head:
            return states
        y = chain.head(state[:, chain.h_last], training=False)
        return tf.concat([states, tf.reshape(y, (rows, -1))], axis=1)

    return engine.compiled(model, "prefix_states", (T * F,), make)


def suffix_call(model, chain: Chain, T: int, F: int, keep: str):
    """Traced run of each row's steps ``start..T-1`` from its state: ``(chunk, T F + S)``, remaining ``(chunk,)``.

    A row is ``[x (T F), state before its start (S)]`` with ``T - start`` steps
    remaining; rows must come sorted by start (padding rows, 0 remaining, last).
    Rows join as the steps reach their start: until the chunk's last start only the
    rows already started are stepped (a growing prefix of the chunk), then the model's
    own LSTM layers (faster than stepping the cells) run every row to the end, so a
    copy perturbed at step ``p`` costs ``T - p`` node-steps, whichever chunk it is in.
    ``keep="output"``: the head on the last state ``(chunk, K)``; ``"sequence"``: the
    last layer's ``h`` ``(chunk, T, u)``, valid from each row's start on.
    """
    S, h_last, u = chain.state_size, chain.h_last, chain.units[-1]

    def make(packed, remaining):
        rows = packed.shape[0]
        start = T - remaining
        first = T - tf.reduce_max(remaining)
        last = T - tf.reduce_min(tf.where(remaining > 0, remaining, T))  # padding rows never start
        seq = tf.reshape(packed[:, : T * F], (rows, T, F))
        state = packed[:, T * F :]
        frames = tf.TensorArray(tf.float32, size=last - first, element_shape=(rows, u))
        for t in tf.range(first, last):
            active = tf.reduce_sum(tf.cast(start <= t, tf.int32))
            _, new = lstm_stack.step(chain.layers, seq[:active, t], lstm_stack.unpack(state[:active], chain.units))
            state = tf.concat([tf.concat([part for hc in new for part in hc], axis=1), state[active:]], 0)
            state.set_shape((rows, S))
            frames = frames.write(t - first, state[:, h_last])
        h = seq[:, last:]
        for layer, (h0, c0) in zip(chain.layers, lstm_stack.unpack(state, chain.units)):
            h = layer(h, initial_state=[h0, c0], training=False)
        if keep == "output":  # the head too: one call, the final states never leave it
            y = chain.head(h, training=False)
            return tf.reshape(y, (rows, -1))
        # The steps before a row's start are not its own: the caller puts the unperturbed run's there.
        grown = tf.transpose(frames.stack(), (1, 0, 2))
        return tf.concat([tf.zeros((rows, first, u)), grown, h], axis=1)

    return engine.compiled(model, f"prefix_suffix_{keep}", (T * F + S,), make)


def apply_head(chain: Chain, model, T: int, h: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The head on the last layer's ``h``, ``(N, u)`` or ``(N, T, u)``: explained output ``(N,)``."""
    head = _head_call(model, chain, T)
    add("head_rows", len(h))
    y = outputs(head, h, count="rows")
    return y[np.arange(len(y)), target].astype(np.float64)


