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
compiled call (:data:`SUBTREE_DEPTH`, :data:`LEAF_DEPTH`). :func:`occlusion_call`
steps each sequence's occluded copies beside it, each joining at its first
occluded step.

Every pass is a traced call made by :func:`helpers.engine.compiled` and fed by
:func:`helpers.engine.run` in its bucketed chunks, so the few rows of a tree's
top levels pad to 8 or 64 rows, not thousands. The work
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


def outputs(call, X: np.ndarray, *extras: np.ndarray, count: str | None = None,
            call_cost: int = engine.CALL_COST) -> np.ndarray:
    """Every output of ``call`` over ``X`` ``(N, ...)``, as one array, in the engine's bucketed chunks."""
    parts = [y.numpy()[:rows] for _, rows, y in engine.run(call, X, *extras, count=count, call_cost=call_cost)]
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



# --- occlusion: perturbed copies stepped beside their sequence ----------------------------


def occlusion_width(chain: Chain, T: int, G: int, positions: int) -> tuple[int, int]:
    """``(width, sequences)``: start positions per :func:`occlusion_call` and sequences per call.

    A call holds every sequence's copies for ``width`` starts, ``1 + width G`` rows per
    sequence (times ``T`` for a head that reads the whole sequence, whose outputs the
    call keeps); both are chosen so a call's rows stay within the engine's row budget.
    """
    per_step = T if chain.sequence_head else 1
    width = min(positions, max(1, (engine.MAX_ROWS // (engine.BUCKETS[0] * per_step) - 1) // G))
    per_seq = (1 + width * G) * per_step
    fits = [b for b in engine.BUCKETS if b * per_seq <= engine.MAX_ROWS]
    return width, max(fits, default=engine.BUCKETS[0])


def occlusion_call(model, chain: Chain, T: int, F: int, member: np.ndarray, window: int, width: int):
    """Traced occlusion of each row, ``[x (T F), b (T F)]`` ``(chunk, 2 T F)`` -> ``(chunk, (1 + width G) K)``.

    The extra ``first`` ``(chunk,)`` is the call's first start, the same in every row.
    Out come the head's outputs on the sequence ``x`` (block 0), then on the copy
    starting at ``p = first + q`` for group ``g`` (block ``1 + q G + g``): ``x`` with the
    cells ``member[g]`` ``(G, F)`` of steps ``p..p+window-1`` set to ``b``. Blocks past
    the last start ``T - window`` hold no copy; the caller drops them.

    The copies are stepped beside their sequence, in one loop over time: a copy
    joins at its start from the sequence's state there (its earlier steps are the
    sequence's), so it costs ``T - p`` node-steps and no state leaves the call. Away
    from its perturbation a copy reads the sequence's inputs, so the first layer's
    input term ``x_t W + bias`` is one product per sequence over all steps, broadcast
    to its copies; the copies inside their window (the last to join, so the last
    rows) add ``((b_t - x_t) member[g]) W``.
    """
    G, S, u = len(member), chain.state_size, chain.units[-1]
    last_start, blocks_out = T - window, 1 + width * G
    cell = chain.layers[0].cell

    def make(packed, first):
        m, groups = packed.shape[0], tf.constant(member.astype(np.float32))
        x = tf.reshape(packed[:, : T * F], (m, T, F))
        dx = tf.reshape(packed[:, T * F :], (m, T, F)) - x
        kernel = tf.convert_to_tensor(cell.kernel)
        recurrent = tf.convert_to_tensor(cell.recurrent_kernel)
        xw = tf.reshape(tf.reshape(x, (m * T, F)) @ kernel, (m, T, 4 * cell.units))
        if cell.use_bias:
            xw += tf.convert_to_tensor(cell.bias)
        # Per step: copies joining, blocks of rows, copies inside their window (the last
        # ``inside`` blocks: starts max(t - window + 1, first)..min(t, stop)).
        start, stop, steps = first[0], tf.minimum(first[0] + width - 1, last_start), tf.range(T)
        joins = G * tf.cast((start <= steps) & (steps <= stop), tf.int32)
        counts = 1 + tf.cumsum(joins)
        within = G * tf.maximum(tf.minimum(steps, stop) - tf.maximum(steps - window + 1, start) + 1, 0)
        state = tf.zeros((m, S))
        frames = tf.TensorArray(tf.float32, size=T, element_shape=(m * blocks_out, u))
        for t in tf.range(T):
            tf.autograph.experimental.set_loop_options(shape_invariants=[(state, tf.TensorShape([None, S]))])
            state = tf.concat([state, tf.tile(state[:m], [joins[t], 1])], 0)
            blocks, inside = counts[t], within[t]
            layers = lstm_stack.unpack(state, chain.units)
            h, c = layers[0]
            z = tf.reshape(h @ recurrent, (blocks, m, -1)) + xw[None, :, t]
            shift = tf.reshape(tf.reshape(dx[None, :, t] * groups[:, None], (G * m, F)) @ kernel, (G, m, -1))
            z = tf.concat([z[: blocks - inside], z[blocks - inside :] + tf.tile(shift, [inside // G, 1, 1])], 0)
            new = [lstm_stack.update(cell, tf.reshape(z, (blocks * m, -1)), c)]
            if len(chain.layers) > 1:
                new += lstm_stack.step(chain.layers[1:], new[0][0], layers[1:])[1]
            state = tf.concat([part for hc in new for part in hc], axis=1)
            if chain.sequence_head:  # copies not yet started read the sequence's h
                h = state[:, chain.h_last]
                frames = frames.write(t, tf.concat([h, tf.tile(h[:m], [blocks_out - blocks, 1])], 0))
        if chain.sequence_head:
            y = chain.head(tf.transpose(frames.stack(), (1, 0, 2)), training=False)
        else:
            y = chain.head(state[:, chain.h_last], training=False)
        y = tf.reshape(y, (tf.shape(y)[0] // m, m, -1))
        y = tf.concat([y, tf.zeros((blocks_out - tf.shape(y)[0], m, tf.shape(y)[2]))], 0)
        return tf.reshape(tf.transpose(y, (1, 0, 2)), (m, -1))

    key = "".join("1" if v else "0" for v in member.ravel())
    return engine.compiled(model, f"prefix_occlusion_{window}_{width}_{key}", (2 * T * F,), make)
