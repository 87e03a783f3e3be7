"""Prefix sharing: run a recurrent model over a tree of input prefixes, each prefix once.

Explained in chapter 4 (exact event-level Shapley values). An LSTM's state after
step ``t`` depends only on steps ``0..t``, so perturbed copies of a sequence that
agree on their first ``k`` steps share the state after step ``k``. This module
steps the model's LSTM layers (stacked too) one time step at a time over a tree
whose nodes are the distinct prefixes, computes each node once, and applies the
model's *head* (every layer after the last LSTM: a read-out, attention pooling
over the sequence, ...) to the leaves. Uses:

- event-level exact Shapley values (each time step one player): the ``2^T``
  coalitions form a binary tree over time, ``2^(T+1) - 2`` cell steps instead of
  ``T 2^T`` (:func:`exact_time_shapley`);
- occlusion and time-step masking: a perturbation that starts at step ``t``
  recomputes only from step ``t`` (:func:`occlusion_prefix`,
  :func:`mask_time_steps_prefix`);
- event-level KernelSHAP with TimeSHAP's pruning (Bento et al. 2021), steps older
  than a cut-off sharing one player (:func:`kernel_time_shap`).

Only models :func:`supports` accepts (LSTM layers fed by the input, then any
head) take this path; callers fall back to one forward pass per perturbed input.
Every pass is a traced call made by :func:`helpers.engine.compiled` and fed by
:func:`helpers.engine.run` in chunks of its bucket sizes, so the few rows of a tree's
top levels or of an unperturbed run pad to 8 or 64 rows, not thousands.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from math import comb

import keras
import numpy as np
import tensorflow as tf

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers import engine
from helpers.validation import check_positive_int, check_sequences

#: Most time-step players :func:`exact_time_shapley` enumerates (2^22 coalitions per row).
MAX_EXACT_STEPS = 22

#: Most tree nodes stepped at one level before the level is split (memory bound).
MAX_NODES = 1 << 16

#: Occlusion and masking with fewer rows (copies plus originals) than this run as one
#: plain forward pass: sharing prefixes saves cell steps but costs three or more
#: compiled calls, which is slower below about a thousand rows (``bench_sizes``).
PLAIN_BELOW = 1024

_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Plan:
    """How to run a model in pieces: its LSTM chain, then the head on the last LSTM's output."""

    layers: tuple
    units: tuple[int, ...]
    head: keras.Model
    sequence_head: bool  # the head reads the last LSTM's whole output sequence


class count_cell_steps:
    """Counts the work of the prefix path: ``.steps`` node-steps, ``.head_rows`` head rows.

    A node-step advances one prefix by one time step through every LSTM layer of
    the model; a plain forward pass over ``n`` sequences of ``T`` steps costs ``n T``.
    ``.seconds`` maps each part of the work (e.g. ``"unperturbed pass"``, ``"copy
    building"``, ``"cell steps"``) to the CPU seconds spent in it, for profiling.
    """

    active: list[count_cell_steps] = []

    def __enter__(self) -> count_cell_steps:
        self.steps = 0
        self.head_rows = 0
        self.seconds: dict[str, float] = {}
        count_cell_steps.active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        count_cell_steps.active.remove(self)


def _add(name: str, value: int) -> None:
    for counter in count_cell_steps.active:
        setattr(counter, name, getattr(counter, name) + int(value))


@contextlib.contextmanager
def _clock(part: str) -> Iterator[None]:
    """Add the CPU seconds of the block (all threads) to ``part`` of every active counter.

    CPU time, as the benchmarks measure, moves less with other processes' load than
    wall time; free when no counter is active.
    """
    if not count_cell_steps.active:
        yield
        return
    start = time.process_time()
    try:
        yield
    finally:
        elapsed = time.process_time() - start
        for counter in count_cell_steps.active:
            counter.seconds[part] = counter.seconds.get(part, 0.0) + elapsed


# --- which models, and how to run them in pieces -------------------------------------


def _make_plan(model) -> _Plan | None:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1 or len(getattr(model, "outputs", [])) != 1:
        return None
    source, chain = inputs[0], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if type(layer) is not keras.layers.LSTM:
            break
        try:
            fed_by = layer.input
        except (AttributeError, ValueError):  # called more than once: not a simple chain
            return None
        if fed_by is not source:
            break
        if layer.go_backwards or layer.stateful or layer.return_state:
            return None
        chain.append(layer)
        source = layer.output
    if not chain or any(not layer.return_sequences for layer in chain[:-1]):
        return None
    try:
        # Fails ("graph disconnected") when the head also reads anything but the last LSTM.
        head = keras.Model(source, model.outputs[0])
    except Exception:  # noqa: BLE001  (any failure means: not this path)
        return None
    units = tuple(int(layer.cell.units) for layer in chain)
    return _Plan(tuple(chain), units, head, bool(chain[-1].return_sequences))


def _plan(model) -> _Plan | None:
    try:
        return _plans[model]
    except (KeyError, TypeError):
        plan = _make_plan(model)
        try:
            _plans[model] = plan
        except TypeError:
            pass
        return plan


def supports(model) -> bool:
    """Whether the prefix path can run ``model``: LSTM layers fed by the input, then any head."""
    return _plan(model) is not None


def _outputs(call, X: np.ndarray, *extras: np.ndarray, count: str | None = None) -> np.ndarray:
    """Every output of ``call`` over ``X`` ``(N, ...)``, as one array, in the engine's bucketed chunks."""
    parts = [y.numpy()[:rows] for _, rows, y in engine.run(call, X, *extras, count=count)]
    return np.concatenate(parts) if parts else np.zeros((0,))


def _chunk_starts(start: np.ndarray) -> np.ndarray:
    """Each row's ``start`` lowered to the smallest in its chunk (as :func:`helpers.engine.layout` chunks)."""
    out = start.copy()
    for lo, rows, _ in engine.layout(len(start)):
        out[lo : lo + rows] = start[lo : lo + rows].min()
    return out


def _step_call(model, plan: _Plan, F: int):
    """Traced step ``[x_t, h1, c1, h2, c2, ...] (chunk, F + S) -> new states (chunk, S)``."""

    def make(packed):
        inp, off, out = packed[:, :F], F, []
        for layer, u in zip(plan.layers, plan.units):
            h, c = packed[:, off : off + u], packed[:, off + u : off + 2 * u]
            off += 2 * u
            inp, (h, c) = layer.cell(inp, [h, c], training=False)
            out += [h, c]
        return tf.concat(out, axis=1)

    return engine.compiled(model, "prefix_step", (F + 2 * sum(plan.units),), make)


def _last_step_call(model, plan: _Plan, F: int):
    """Traced last step then head ``(chunk, F + S) -> (chunk, K)`` (head on the final state)."""
    step = _step_call(model, plan, F).make
    u = plan.units[-1]

    def make(packed):
        h = step(packed)[:, -2 * u : -u]
        out = plan.head(h, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return engine.compiled(model, "prefix_last_step", (F + 2 * sum(plan.units),), make)


def _branch(plan: _Plan, states: list, inputs):
    """Step every LSTM layer from parent states into ``k`` children at once, sharing ``h @ U``.

    ``states``: per layer ``(h, c)`` of shape ``P + (u,)``; ``inputs``: ``P + (k, F)`` (or
    broadcastable to it). Children share their parent's recurrent term ``h @ U + bias``,
    so it is computed once per parent, not once per child; the gates are Keras' LSTM
    cell's (``i, f, c, o`` order). Returns per layer ``(h, c)`` of shape ``P + (k, u)``.
    """
    out, inp = [], inputs
    for layer, (h, c) in zip(plan.layers, states):
        cell = layer.cell
        rec = tf.tensordot(h, tf.convert_to_tensor(cell.recurrent_kernel), axes=1)
        if cell.use_bias:
            rec = rec + tf.convert_to_tensor(cell.bias)
        z = tf.tensordot(inp, tf.convert_to_tensor(cell.kernel), axes=1) + rec[..., None, :]
        z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
        gate = cell.recurrent_activation
        c = gate(z_f) * c[..., None, :] + gate(z_i) * cell.activation(z_c)
        h = gate(z_o) * cell.activation(c)
        out.append((h, c))
        inp = h
    return out


def _last_two_steps_call(model, plan: _Plan, F: int):
    """Traced last two levels of a full tree and the head: ``(chunk, 4F + S) -> (chunk, 4K)``.

    A row is a node's state and its last two steps' inputs ``[b, x, b', x']``; its four
    leaves (steps from ``bb, bx, xb, xx``) come out in the tree's leaf order. Each
    level steps a parent's two children together (:func:`_branch`), so the recurrent
    products are computed for 3 states per row, not 6.
    """
    u = plan.units[-1]

    def make(packed):
        rows = tf.shape(packed)[0]
        states, off = [], 4 * F
        for w in plan.units:
            states.append((packed[:, off : off + w], packed[:, off + w : off + 2 * w]))
            off += 2 * w
        states = _branch(plan, states, tf.reshape(packed[:, : 2 * F], (-1, 2, F)))  # (rows, 2, w)
        # The last step's inputs are the same for both children: (rows, 1, 2, F) broadcasts.
        states = _branch(plan, states, tf.reshape(packed[:, 2 * F : 4 * F], (-1, 1, 2, F)))
        h = tf.reshape(states[-1][0], (-1, u))  # leaves bb, bx, xb, xx per row
        y = plan.head(h, training=False)
        return tf.reshape(y, (rows, -1))

    return engine.compiled(model, "prefix_last_two", (4 * F + 2 * sum(plan.units),), make)


def _head_call(model, plan: _Plan, T: int):
    """Traced head: last LSTM's ``(chunk, T, u)`` sequence or ``(chunk, u)`` state -> ``(chunk, K)``."""
    u = plan.units[-1]
    shape = (T, u) if plan.sequence_head else (u,)

    def make(h):
        out = plan.head(h, training=False)
        return tf.reshape(out, (tf.shape(out)[0], -1))

    return engine.compiled(model, "prefix_head", shape, make)


# --- the tree walk ---------------------------------------------------------------------


class _Walk:
    """Grow a prefix tree level by level; ``tree`` says which children each node has."""

    def __init__(self, model, plan: _Plan, tree, T: int, F: int):
        self.plan, self.tree, self.T = plan, tree, T
        self.step = _step_call(model, plan, F)
        self.head = _head_call(model, plan, T)
        self.last = None if plan.sequence_head else _last_step_call(model, plan, F)
        self.last_two = None if plan.sequence_head else _last_two_steps_call(model, plan, F)
        self.S = 2 * sum(plan.units)
        self.h_last = slice(self.S - 2 * plan.units[-1], self.S - plan.units[-1])

    def run(self, meta: dict) -> None:
        n = len(next(iter(meta.values())))
        self._grow(0, meta, np.zeros((n, self.S), np.float32), [])

    def _grow(self, t: int, meta: dict, states: np.ndarray, history: list) -> None:
        if t == self.T:
            self._leaves(meta, states, history)
            return
        if t == self.T - 2 and self.last_two is not None and getattr(self.tree, "full", False):
            self._last_two(t, meta, states)
            return
        with _clock("tree building"):
            parent, inputs, child_meta = self.tree.children(t, meta)
        n = states.shape[0]
        if len(parent) > MAX_NODES and n > 1:
            # Too many children at once: split this level's nodes; no node is computed twice.
            for sl in (slice(0, n // 2), slice(n // 2, n)):
                sub_history = history[:-1] + [(history[-1][0][sl], history[-1][1][sl])] if history else []
                self._grow(t, {k: v[sl] for k, v in meta.items()}, states[sl], sub_history)
            return
        with _clock("tree building"):
            packed = np.empty((len(parent), inputs.shape[1] + self.S), np.float32)
            packed[:, : inputs.shape[1]] = inputs
            if getattr(self.tree, "full", False):  # every node has two children: no gather
                packed[:, inputs.shape[1] :] = np.repeat(states, 2, axis=0)
            else:
                packed[:, inputs.shape[1] :] = states[parent]
        _add("steps", len(parent))
        if t == self.T - 1 and self.last is not None:
            # The last step and the head in one call: the leaves' states never leave it.
            _add("head_rows", len(parent))
            with _clock("last step and head"):
                y = _outputs(self.last, packed, count="rows").astype(np.float64)
            with _clock("collect"):
                self.tree.collect(child_meta, y)
            return
        with _clock("cell steps"):
            new = _outputs(self.step, packed)
        if self.plan.sequence_head:
            history = history + [(parent, new[:, self.h_last])]
        self._grow(t + 1, child_meta, new, history)

    def _last_two(self, t: int, meta: dict, states: np.ndarray) -> None:
        """A full tree's last two levels and the head in one call: 4 leaves per node."""
        with _clock("tree building"):
            _, inputs, child_meta = self.tree.children(t, meta)  # (2n, F): b then x per node
            _, inputs2, leaf_meta = self.tree.children(t + 1, child_meta)  # (4n, F)
            n, F = states.shape[0], inputs.shape[1]
            packed = np.concatenate(
                [inputs.reshape(n, 2 * F), inputs2.reshape(n, 2, 2 * F)[:, 0], states], axis=1
            )
        _add("steps", 6 * n)
        _add("head_rows", 4 * n)
        for counter in engine.count_evaluations.active:
            counter.rows += 4 * n
        with _clock("last two steps and head"):
            y = _outputs(self.last_two, packed)  # (n, 4 K): leaves in order bb, bx, xb, xx
        with _clock("collect"):
            self.tree.collect(leaf_meta, y.reshape(4 * n, -1).astype(np.float64))

    def _leaves(self, meta: dict, states: np.ndarray, history: list) -> None:
        n = states.shape[0]
        _add("head_rows", n)
        if not self.plan.sequence_head:
            ys = _outputs(self.head, states[:, self.h_last], count="rows")
            self.tree.collect(meta, ys.astype(np.float64))
            return
        # The head reads whole sequences: rebuild each leaf's by walking up its ancestors.
        u = self.plan.units[-1]
        for lo in range(0, n, engine.CHUNK):
            idx = np.arange(lo, min(n, lo + engine.CHUNK))
            seq = np.empty((len(idx), self.T, u), np.float32)
            for t in range(self.T - 1, -1, -1):
                parent, H = history[t]
                seq[:, t] = H[idx]
                idx = parent[idx]
            ys = _outputs(self.head, seq, count="rows")
            self.tree.collect({k: v[lo : lo + len(seq)] for k, v in meta.items()}, ys.astype(np.float64))


# --- trees ------------------------------------------------------------------------------


class _CoalitionTree:
    """Time-step coalitions: step ``t`` from ``x`` if bit ``t`` of the key is set, else from ``b``.

    Leaves are the sorted keys ``r`` (bit ``T-1-t`` of ``r`` is step ``t``), so the leaves
    sharing a prefix form one range ``[lo, hi)`` and a node is one such range.
    Roots are pairs (sample ``i``, background row ``j``).
    """

    def __init__(self, X, B, r, target, T):
        self.X, self.B, self.r, self.target, self.T = X, B, r, target, T
        self.out = np.zeros((X.shape[0], len(r)))
        self.m = B.shape[0]
        self.full = len(r) == 2**T and bool(np.all(r == np.arange(2**T)))

    def children(self, t, meta):
        lo, hi = meta["lo"], meta["hi"]
        # A node's leaves share the bits of steps 0..t-1 and are sorted, so those with step t
        # from x start at the first key >= (that prefix, then bit t set).
        shift = self.T - 1 - t
        if self.full:  # every key present: the halves of a node's range
            mid = (lo + hi) // 2
        else:
            threshold = ((self.r[lo] >> (shift + 1)) << (shift + 1)) | (1 << shift)
            mid = np.clip(np.searchsorted(self.r, threshold), lo, hi)
        # Children in leaf order: each parent's bit-0 child (from b), then its bit-1 child (from x).
        parent = np.repeat(np.arange(len(lo)), 2)
        child_lo = np.stack([lo, mid], axis=1).ravel()
        child_hi = np.stack([mid, hi], axis=1).ravel()
        from_x = np.tile([False, True], len(lo))
        keep = child_hi > child_lo
        parent, child_lo, child_hi, from_x = parent[keep], child_lo[keep], child_hi[keep], from_x[keep]
        i, j = meta["i"][parent], meta["j"][parent]
        inputs = np.where(from_x[:, None], self.X[i, t], self.B[j, t])
        return parent, inputs, {"i": i, "j": j, "lo": child_lo, "hi": child_hi}

    def collect(self, meta, y):
        i = meta["i"]
        v = y[np.arange(len(i)), self.target[i]] / self.m
        width = meta["hi"] - meta["lo"]  # > 1 only for repeated keys
        rows = np.repeat(i, width)
        cols = np.concatenate([np.arange(a, b) for a, b in zip(meta["lo"], meta["hi"])]) \
            if np.any(width != 1) else meta["lo"]
        np.add.at(self.out, (rows, cols), np.repeat(v, width))


# --- checks ------------------------------------------------------------------------------


def _check(model, X, B=None, name: str = "background", need_plan: bool = True):
    """``(plan, X, B)`` checked: float32 ``(n, T, F)`` for the model, ``B`` ``(m, T, F)``."""
    plan = _plan(model)
    if plan is None and need_plan:
        kinds = ", ".join(type(layer).__name__ for layer in model.layers)
        raise ValueError(
            "expected a model whose input feeds a chain of LSTM layers followed by a head "
            f"(helpers.prefix.supports(model) is False), got layers {kinds}"
        )
    X = check_sequences(X)
    F = int(model.inputs[0].shape[-1])
    T_model = model.inputs[0].shape[1]
    if X.shape[2] != F or (T_model is not None and X.shape[1] != int(T_model)):
        raise ValueError(f"expected X of shape (n, {T_model}, {F}) for this model, got {X.shape}")
    if B is not None:
        B = check_sequences(B, name)
        if B.ndim != 3 or B.shape[1:] != X.shape[1:] or B.shape[0] == 0:
            raise ValueError(f"expected {name} of shape (m, {X.shape[1]}, {F}) with m >= 1, got {B.shape}")
    return plan, X, B


def _targets(model, plan, X, target) -> np.ndarray:
    """The explained output per sample, int ``(n,)``: None (one output), an int, an int array or "predicted"."""
    n = X.shape[0]
    shape = tuple(model.outputs[0].shape)
    K = int(np.prod(shape[1:])) if None not in shape[1:] else None
    choices = f'an int in [0, {K}), "predicted" or an int array (n,)'
    if target is None:
        if K != 1:
            raise ValueError(f"expected target= for a model with output shape {shape}: {choices}")
        return np.zeros(n, np.int64)
    if isinstance(target, str):
        if target != "predicted":
            raise ValueError(f"expected target: {choices}; got the string {target!r}")
        if n == 0:
            return np.zeros(0, np.int64)
        if plan is None:
            from helpers.models import evaluate

            return evaluate(model, X).argmax(axis=1)
        tree = _PlainTree(X)
        _Walk(model, plan, tree, X.shape[1], X.shape[2]).run({"i": np.arange(n)})
        return tree.y.argmax(axis=1)
    t = np.asarray(target)
    if isinstance(target, bool) or not np.issubdtype(t.dtype, np.integer) or t.ndim > 1:
        raise ValueError(f"expected target: {choices}; got {target!r}")
    if t.size and (t.min() < 0 or (K is not None and t.max() >= K)):
        raise ValueError(f"expected target in [0, {K}) for output shape {shape}, got {target!r}")
    try:
        return np.broadcast_to(t, (n,)).astype(np.int64)
    except ValueError:
        raise ValueError(f"expected target: {choices}; got shape {t.shape} for n = {n}") from None


class _PlainTree:
    """No perturbation: each sample's own run; keeps every output, ``.y`` ``(n, K)``."""

    def __init__(self, X):
        self.X, self.y = X, None

    def children(self, t, meta):
        return np.arange(len(meta["i"])), self.X[meta["i"], t], meta

    def collect(self, meta, y):
        if self.y is None:
            self.y = np.zeros((self.X.shape[0], y.shape[1]))
        self.y[meta["i"]] = y


# --- event-level Shapley ----------------------------------------------------------------


def _sort_keys(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``r`` with step 0 as the most significant bit, sorted, and the order that sorts them."""
    T = masks.shape[1]
    r = (masks.astype(np.int64) << (T - 1 - np.arange(T))).sum(axis=1)
    order = np.argsort(r, kind="stable")
    return r[order], order


def masked_values(model, X: np.ndarray, background: np.ndarray, masks: np.ndarray,
                  target=None) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_rest)`` for time-step coalitions: ``masks`` bool ``(K, T)`` -> ``(n, K)``.

    ``X`` ``(n, T, F)``, ``background`` ``(m, T, F)``; step ``t`` comes from ``x`` where
    ``masks[:, t]``. Every distinct prefix of every coalition is stepped once.
    """
    plan = _plan(model)
    _, X, B = _check(model, X, background, need_plan=False)
    n, T, F = X.shape
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != T:
        raise ValueError(f"expected masks of shape (K, {T}) (one column per time step), got {masks.shape}")
    target = _targets(model, plan, X, target)
    if plan is None:  # not a model the prefix path runs: one forward row per masked input
        from helpers.models import evaluate

        rows = np.where(masks[None, :, None, :, None], X[:, None, None], B[None, None])
        y = evaluate(model, rows.reshape(-1, T, F)).reshape(n, len(masks), B.shape[0], -1)
        return y[np.arange(n), :, :, target].mean(axis=2)
    r, order = _sort_keys(masks)
    values = _tree_values(model, plan, X, B, r, target)
    out = np.empty_like(values)
    out[:, order] = values
    return out


def _tree_values(model, plan, X, B, r, target) -> np.ndarray:
    n, T, F = X.shape
    m = B.shape[0]
    tree = _CoalitionTree(X, B, r, target, T)
    i, j = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    roots = {"i": i, "j": j, "lo": np.zeros(n * m, np.int64), "hi": np.full(n * m, len(r), np.int64)}
    if len(r):
        _Walk(model, plan, tree, T, F).run(roots)
    return tree.out


def time_coalition_values(model, X: np.ndarray, background: np.ndarray, target=None) -> np.ndarray:
    """All ``2^T`` time-step coalitions: ``(n, T, F)``, ``(m, T, F)`` -> ``v`` ``(n, 2^T)``.

    ``v[:, k] = mean_b f(x_S, b_rest)`` with step ``t`` in ``S`` iff bit ``t`` of ``k`` is
    set (the order of :func:`helpers.shapley.coalition_masks`). Costs ``n m (2^(T+1) - 2)``
    node-steps (see :class:`count_cell_steps`) instead of ``n m T 2^T``.
    """
    plan, X, B = _check(model, X, background)
    T = X.shape[1]
    _check_exact(T)
    target = _targets(model, plan, X, target)
    r = np.arange(2**T, dtype=np.int64)  # already sorted: the tree's leaf order
    values = _tree_values(model, plan, X, B, r, target)
    return values[:, _bit_reverse(T)]


def _bit_reverse(T: int) -> np.ndarray:
    """Leaf position ``r`` of coalition ``k``: the ``T`` bits of ``k`` reversed."""
    k = np.arange(2**T, dtype=np.int64)
    r = np.zeros_like(k)
    for t in range(T):  # bit by bit: no (2^T, T) array
        r |= ((k >> t) & 1) << (T - 1 - t)
    return r


def _check_exact(T: int) -> None:
    if T > MAX_EXACT_STEPS:
        raise ValueError(
            f"expected at most {MAX_EXACT_STEPS} time steps for exact event-level Shapley values, "
            f"got T = {T} (2^{T} coalitions); use kernel_time_shap instead"
        )


def shapley_from_values(v: np.ndarray) -> np.ndarray:
    """Shapley values of every player from all coalition values: ``(n, 2^M) -> (n, M)``.

    ``v[:, k]`` is the value of the coalition whose members are the set bits of ``k``;
    ``phi_i = sum_S w(|S|) (v(S + i) - v(S))`` with ``w(s) = s! (M-s-1)! / M!``.
    """
    v = np.asarray(v, dtype=np.float64)
    M = int(np.log2(v.shape[1]))
    if v.ndim != 2 or v.shape[1] != 2**M:
        raise ValueError(f"expected v of shape (n, 2^M), got {v.shape}")
    w = np.array([1.0 / (M * comb(M - 1, s)) for s in range(M)])
    size = np.zeros(2**M, np.int64)
    for i in range(M):
        size += (np.arange(2**M) >> i) & 1
    phi = np.empty((v.shape[0], M))
    for i in range(M):
        # Coalitions as (high bits, bit i, low bits): bit i = 0 is S, bit i = 1 is S + i.
        pairs = v.reshape(v.shape[0], 2 ** (M - 1 - i), 2, 2**i)
        gain = pairs[:, :, 1] - pairs[:, :, 0]
        weight = w[size.reshape(2 ** (M - 1 - i), 2, 2**i)[:, 0]]
        phi[:, i] = (gain * weight).sum(axis=(1, 2))
    return phi


def exact_time_shapley(model, X: np.ndarray, *, background: np.ndarray, target=None) -> np.ndarray:
    """Exact event-level Shapley values (each time step one player): ``(n, T, F)``.

    ``X`` ``(n, T, F)``, ``background`` ``(m, T, F)``. A step's value belongs to the
    whole step, so it is broadcast over its ``F`` features (resolution ``"time"``):
    ``values[:, :, 0].sum(axis=1) == f(x) - E[f(background)]``.
    """
    plan, X, B = _check(model, X, background)
    n, T, F = X.shape
    _check_exact(T)
    target = _targets(model, plan, X, target)
    phi = np.zeros((n, T))
    step = max(1, (1 << 22) // 2**T)  # samples whose 2^T values stay within 32 MiB
    for lo in range(0, n, step):
        v = time_coalition_values(model, X[lo : lo + step], B, target[lo : lo + step])
        phi[lo : lo + step] = shapley_from_values(v)
    return np.repeat(phi[:, :, None], F, axis=2)


# --- occlusion and time-step masking ----------------------------------------------------


def _baseline(B, X: np.ndarray) -> np.ndarray:
    b = np.asarray(B, dtype=np.float32)
    try:
        return np.broadcast_to(b, X.shape)
    except ValueError:
        raise ValueError(
            f"expected a resolved baseline broadcastable to {X.shape} (T, F) or (n, T, F), got shape {b.shape}"
        ) from None


def occlusion_prefix(model, X: np.ndarray, B, window: int = 1, target=None) -> np.ndarray:
    """Occlusion sharing the unperturbed prefix: ``(n, T, F)``, equal to one forward per occluded copy.

    Cell ``(t, f)`` gets the mean of ``f(x) - f(x with feature f at steps p..p+window-1
    set to the baseline)`` over the windows containing it. ``B`` is the resolved
    baseline, broadcastable to ``X``. A window starting at ``p`` is stepped from ``p`` on.
    """
    plan, X, _ = _check(model, X)
    n, T, F = X.shape
    window = check_positive_int(window, "window")
    if window > T:
        raise ValueError(f"expected window <= T = {T}, got {window}")
    B = _baseline(B, X)
    positions = T - window + 1
    y = _occlude(model, plan, X, B, window, [[f] for f in range(F)], positions, target)
    delta = (y[:, :1] - y[:, 1:]).reshape(n, positions, F)
    out, cover = np.zeros((n, T, F)), np.zeros(T)
    for p in range(positions):
        out[:, p : p + window] += delta[:, p, None, :]
        cover[p : p + window] += 1
    return out / cover[None, :, None]


def mask_time_steps_prefix(model, X: np.ndarray, B, target=None) -> np.ndarray:
    """``f(x) - f(x with every feature of step t set to the baseline)``: ``(n, T, F) -> (n, T)``."""
    plan, X, _ = _check(model, X)
    n, T, F = X.shape
    B = _baseline(B, X)
    y = _occlude(model, plan, X, B, 1, [list(range(F))], T, target)
    return y[:, :1] - y[:, 1:]


def _occlude(model, plan, X, B, window, groups, positions, target) -> np.ndarray:
    """Outputs ``(n, 1 + positions * G)``: column 0 unperturbed, ``1 + p * G + g`` perturbed.

    The unperturbed run is computed once with every step's states; a copy whose
    perturbation starts at step ``p`` starts from the state after step ``p - 1``.
    """
    n, T, F = X.shape
    target = _targets(model, plan, X, target)
    G = len(groups)
    out = np.zeros((n, 1 + positions * G))
    if n == 0:
        return out
    member = np.zeros((G, F), bool)
    for g, feats in enumerate(groups):
        member[g, feats] = True
    if n * (1 + positions * G) < PLAIN_BELOW:
        return _occlude_plain(model, X, B, window, member, positions, target)
    S = 2 * sum(plan.units)
    zeros = np.zeros((n, S), np.float32)
    with _clock("unperturbed pass"):
        run = _suffix_call(model, plan, T, F, "states")
        states = _suffix(run, X, zeros, np.zeros(n, np.int32))  # (n, T, S), every step's states
        seq_x = states[:, :, _h_last(plan)]
        out[:, 0] = _apply_head(plan, model, T, seq_x if plan.sequence_head else seq_x[:, -1], target)
    run = _suffix_call(model, plan, T, F, "sequence" if plan.sequence_head else "output")
    flat_x, flat_b = X.reshape(n, T * F), np.ascontiguousarray(B).reshape(n, T * F)
    member_cols = [np.flatnonzero(row) for row in member]
    # Copies ordered by start step, so each CHUNK starts computing at almost its rows' start.
    p = np.repeat(np.arange(positions), G * n)
    g = np.tile(np.repeat(np.arange(G), n), positions)
    i = np.tile(np.arange(n), positions * G)
    block = engine.CHUNK * max(1, engine.MAX_ROWS // (T * engine.CHUNK))  # whole chunks
    for lo in range(0, len(p), block):
        hi = min(len(p), lo + block)
        pp, gg, ii = p[lo:hi], g[lo:hi], i[lo:hi]
        steps = np.arange(T)[None, :]
        with _clock("copy building"):
            # Packed rows [x (T F), initial state (S)] written in place: no copy of X per
            # row, then only the few perturbed cells set.
            packed = np.empty((hi - lo, T * F + S), np.float32)
            np.take(flat_x, ii, axis=0, out=packed[:, : T * F])
            for grp, cols in enumerate(member_cols):
                rows = np.flatnonzero(gg == grp)
                for w in range(window):
                    for f in cols:
                        c = (pp[rows] + w) * F + f
                        packed[rows, c] = flat_b[ii[rows], c]
            # A chunk runs from its smallest start, so every row starts there, from the
            # unperturbed state (its steps up to its own start are unperturbed): no mask.
            first = _chunk_starts(pp)
            packed[:, T * F :] = states[ii, np.maximum(first - 1, 0)]
            packed[first == 0, T * F :] = 0.0
        with _clock("perturbed suffixes" + ("" if plan.sequence_head else " and head")):
            sub = _outputs(run, packed, T - first.astype(np.int32))
        _add("steps", int((T - first).sum()))
        _add("steps", int((first - pp).sum()))  # count only the steps from each row's own start
        if plan.sequence_head:  # steps before the start are the unperturbed run's
            sub = np.where(steps[:, :, None] < first[:, None, None], seq_x[ii], sub)
            with _clock("head"):
                out[ii, 1 + pp * G + gg] = _apply_head(plan, model, T, sub, target[ii])
        else:  # "output": the head ran inside the suffix call
            _add("head_rows", len(sub))
            for counter in engine.count_evaluations.active:
                counter.rows += len(sub)
            out[ii, 1 + pp * G + gg] = sub[np.arange(len(sub)), target[ii]]
    return out


def _occlude_plain(model, X, B, window, member, positions, target) -> np.ndarray:
    """:func:`_occlude`'s outputs from one forward pass over every copy (few rows: fewer calls)."""
    from helpers.models import evaluate

    n, T, F = X.shape
    G = len(member)
    with _clock("copy building"):
        copies = np.repeat(X[None], 1 + positions * G, axis=0)  # (1 + positions G, n, T, F)
        for p in range(positions):
            for g in range(G):
                cells = np.s_[p : p + window, member[g]]
                copies[1 + p * G + g][(slice(None), *cells)] = B[(slice(None), *cells)]
    rows = copies.shape[0] * n
    _add("steps", rows * T)
    _add("head_rows", rows)
    with _clock("plain forward"):
        y = evaluate(model, copies.reshape(rows, T, F)).reshape(copies.shape[0], n, -1)
    return y[:, np.arange(n), target].T  # (n, 1 + positions G)


def _h_last(plan: _Plan) -> slice:
    S = 2 * sum(plan.units)
    return slice(S - 2 * plan.units[-1], S - plan.units[-1])


def _suffix_call(model, plan: _Plan, T: int, F: int, keep: str):
    """Traced run of steps ``start..T-1`` from a given state: ``(CHUNK, T F + S)``, start ``(CHUNK,)``.

    ``keep="states"``: every step's states ``(CHUNK, T, S)`` (a row's steps before its
    start hold its initial state), by stepping the cells; ``"sequence"``: the last
    layer's ``h`` from the start on ``(CHUNK, T, u)`` (zeros before), ``"final"``: its
    last ``h`` ``(CHUNK, u)``, ``"output"``: the head on it ``(CHUNK, K)``, all by calling the model's LSTM layers with
    ``initial_state`` (faster than stepping the cells) from the chunk's smallest start,
    which every row must share (:func:`_chunk_starts`). A chunk of copies perturbed
    late costs only the late steps. ``chunk`` is the traced call's row count.
    """
    S = 2 * sum(plan.units)
    h_last = _h_last(plan)

    def make(packed, remaining):
        # The engine pads a last chunk with zero rows: as "0 steps remaining" they cost nothing.
        rows = packed.shape[0]
        start = T - remaining
        seq = tf.reshape(packed[:, : T * F], (-1, T, F))
        state = packed[:, T * F :]
        first = T - tf.reduce_max(remaining)
        width = S if keep == "states" else plan.units[-1]
        frames = tf.TensorArray(tf.float32, size=T, element_shape=(rows, width))
        if keep != "final":
            for t in tf.range(first):
                frames = frames.write(t, state if keep == "states" else state[:, h_last])
        for t in tf.range(first, T):
            inp, off, new = seq[:, t], 0, []
            for layer, u in zip(plan.layers, plan.units):
                h, c = state[:, off : off + u], state[:, off + u : off + 2 * u]
                off += 2 * u
                inp, (h, c) = layer.cell(inp, [h, c], training=False)
                new += [h, c]
            state = tf.where((t >= start)[:, None], tf.concat(new, axis=1), state)
            if keep != "final":
                frames = frames.write(t, state if keep == "states" else state[:, h_last])
        if keep == "final":
            return state[:, h_last]
        return tf.transpose(frames.stack(), (1, 0, 2))

    if keep == "states":
        return engine.compiled(model, "prefix_suffix_states", (T * F + S,), make)

    def make_layers(packed, remaining):
        # The model's own LSTM layers from the chunk's earliest start; callers give every
        # row that start (and its state there), so no mask is needed (a mask costs a select
        # per step). Padding rows (0 steps remaining) run along and are dropped.
        first = T - tf.reduce_max(remaining)
        h = tf.reshape(packed[:, : T * F], (-1, T, F))[:, first:]
        off = T * F
        for layer, u in zip(plan.layers, plan.units):
            h0, c0 = packed[:, off : off + u], packed[:, off + u : off + 2 * u]
            off += 2 * u
            h = layer(h, initial_state=[h0, c0], training=False)
        if keep == "final":
            return h
        if keep == "output":  # the head too: one call, the final states never leave it
            y = plan.head(h, training=False)
            return tf.reshape(y, (tf.shape(y)[0], -1))
        return tf.pad(h, [[0, 0], [first, 0], [0, 0]])

    return engine.compiled(model, f"prefix_suffix_{keep}", (T * F + S,), make_layers)


def _suffix(run, seq: np.ndarray, init: np.ndarray, start: np.ndarray) -> np.ndarray:
    """What ``run`` keeps for ``seq`` ``(N, T, F)`` run from ``init`` ``(N, S)`` at steps ``start..``."""
    N, T, F = seq.shape
    packed = np.concatenate([seq.reshape(N, T * F), init], axis=1)
    out = _outputs(run, packed, T - start)
    _add("steps", int((T - start).sum()))
    return out


def _apply_head(plan: _Plan, model, T: int, h: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The head on the last layer's ``h``, ``(N, u)`` or ``(N, T, u)``: explained output ``(N,)``."""
    head = _head_call(model, plan, T)
    _add("head_rows", len(h))
    y = _outputs(head, h, count="rows")
    return y[np.arange(len(y)), target].astype(np.float64)


# --- event-level KernelSHAP with TimeSHAP's pruning -------------------------------------


def pruning_cutoff(model, x: np.ndarray, background: np.ndarray, tolerance: float, target=None) -> int:
    """TimeSHAP's temporal-coalition pruning for one sequence ``x`` ``(T, F)``: the cut-off ``c``.

    For ``c = T-1, ..., 1`` the steps split into two players, older ``[0, c)`` and
    recent ``[c, T)``; the cut-off is the largest ``c`` whose older player's exact
    two-player Shapley value is at most ``tolerance`` in size (0: nothing pruned).
    Steps older than ``c`` then share one player.
    """
    x = check_sequences(np.asarray(x)[None])
    T = x.shape[1]
    tolerance = float(tolerance)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"expected a tolerance >= 0, got {tolerance!r}")
    cuts = np.arange(T - 1, 0, -1)
    older = np.arange(T)[None, :] < cuts[:, None]
    masks = np.concatenate([np.zeros((1, T), bool), np.ones((1, T), bool), older, ~older])
    v = masked_values(model, x, background, masks, target)[0]
    empty, full, v_old, v_recent = v[0], v[1], v[2 : 2 + len(cuts)], v[2 + len(cuts) :]
    phi_old = 0.5 * ((v_old - empty) + (full - v_recent))
    ok = np.flatnonzero(np.abs(phi_old) <= tolerance)
    return int(cuts[ok[0]]) if len(ok) else 0


def kernel_time_shap(model, X: np.ndarray, *, background: np.ndarray, target=None,
                     nsamples: int = 2048, prune: float | None = None, seed: int = 0) -> np.ndarray:
    """Event-level KernelSHAP (shap.KernelExplainer on time-step players): ``(n, T, F)``.

    ``prune=None``: each step is a player. ``prune=tol`` (TimeSHAP, Bento et al. 2021):
    steps older than :func:`pruning_cutoff` share one player, whose value is split
    evenly over its steps. Values are broadcast over features (resolution ``"time"``).
    Coalitions are evaluated with prefix sharing where :func:`supports` holds, else
    one forward row per masked input.
    """
    import shap

    from helpers.models import numpy_seed

    plan, X, B = _check(model, X, background, need_plan=False)
    n, T, F = X.shape
    nsamples = check_positive_int(nsamples, "nsamples")
    targets = _targets(model, plan, X, target)
    out = np.zeros((n, T))
    for s in range(n):
        cut = 0 if prune is None else pruning_cutoff(model, X[s], B, prune, targets[s : s + 1])
        # Player 0 holds the pruned steps [0, cut) when cut > 1; then one player per step.
        owner = np.maximum(np.arange(T) - max(cut - 1, 0), 0)
        M = int(owner[-1]) + 1

        def value(z: np.ndarray, s=s, owner=owner) -> np.ndarray:
            masks = np.asarray(z, dtype=np.float64)[:, owner] > 0.5
            return masked_values(model, X[s : s + 1], B, masks, targets[s : s + 1])[0]

        explainer = shap.KernelExplainer(value, np.zeros((1, M)))
        with numpy_seed(seed):
            phi = explainer.shap_values(np.ones((1, M)), nsamples=nsamples, l1_reg=False, silent=True)
        phi = np.asarray(phi, dtype=np.float64).reshape(M)
        out[s] = phi[owner] / np.bincount(owner)[owner]
    return np.repeat(out[:, :, None], F, axis=2)
