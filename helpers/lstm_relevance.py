"""Attribution methods made for LSTMs: LRP and contextual decomposition.

Explained in chapter 6 (LSTM relevance). Both run in NumPy on the layers' own
kernels, in Keras' gate order (i, f, c, o), vectorised over sequences: LRP walks
back over the forward pass of :func:`helpers.lstm_stack.unroll` (the pass chapter
5's gates come from), contextual decomposition splits that pass in two.
:func:`lrp` follows Arras et al.'s reference code (LRP_for_LSTM, epsilon rule,
"signal-take-all");
:func:`contextual_decomposition` follows Murdoch, Liu & Yu (2018).
Supported models: an optional Masking layer, one or more forward LSTMs (all but
the last returning sequences), optional Dropout, and a Dense read-out.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

import helpers  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow loads)
from helpers.lstm_stack import Weights, float64, unroll, weights
from helpers.validation import format_inputs, resolve_target

_PASS_THROUGH = (keras.layers.InputLayer, keras.layers.Dropout)
_READOUT_ACTIVATIONS = ("linear", "softmax", "sigmoid")


@dataclass
class _Stack:
    layers: list[Weights]
    W: np.ndarray  # (u_top, K) read-out kernel
    bias: np.ndarray  # (K,)


def _unsupported(layer) -> str:
    return f"{layer.name!r} ({type(layer).__name__})"


def _stack(model: keras.Model) -> _Stack:
    """Read the supported architecture's weights; ValueError names any other layer."""
    supported = (
        "an optional Masking layer, forward LSTM layers (all but the last "
        "with return_sequences=True), optional Dropout, and a final Dense "
        f"read-out with activation in {_READOUT_ACTIVATIONS}"
    )
    body = [x for x in model.layers if not isinstance(x, _PASS_THROUGH)]
    # exact types: a subclass (say a custom cell wrapper) may compute otherwise
    known = (keras.layers.LSTM, keras.layers.Dense, keras.layers.Masking)
    bad = [x for x in body if type(x) not in known]
    if bad:
        names = ", ".join(_unsupported(x) for x in bad)
        raise ValueError(f"expected {supported}; got unsupported layers {names}")
    if body and isinstance(body[0], keras.layers.Masking):
        body = body[1:]
    lstms = [x for x in body[:-1] if isinstance(x, keras.layers.LSTM)]
    if (
        len(body) < 2
        or not isinstance(body[-1], keras.layers.Dense)
        or len(lstms) != len(body) - 1
    ):
        names = ", ".join(_unsupported(x) for x in model.layers)
        raise ValueError(f"expected {supported}; got layers {names}")
    for k, lstm in enumerate(lstms):
        last = k == len(lstms) - 1
        if lstm.go_backwards or lstm.stateful:
            raise ValueError(
                f"expected forward, stateless LSTMs; got {lstm.name!r} with "
                f"go_backwards={lstm.go_backwards}, stateful={lstm.stateful}"
            )
        if lstm.return_sequences == last:
            raise ValueError(
                f"expected return_sequences={not last} on LSTM {lstm.name!r} "
                f"({'the last' if last else 'not the last'} LSTM), got "
                f"{lstm.return_sequences}"
            )
    dense = body[-1]
    activation = getattr(dense.activation, "__name__", str(dense.activation))
    if activation not in _READOUT_ACTIVATIONS:
        raise ValueError(
            f"expected a Dense read-out with activation in {_READOUT_ACTIVATIONS}, "
            f"got {dense.name!r} with activation {activation!r}"
        )
    layers = [weights(lstm) for lstm in lstms]
    W = float64(dense.kernel)
    bias = float64(dense.bias) if dense.use_bias else np.zeros(W.shape[1])
    return _Stack(layers, W, bias)


def supports(model: keras.Model) -> bool:
    """Whether :func:`lrp` and :func:`contextual_decomposition` can explain ``model``."""
    try:
        _stack(model)
    except ValueError:
        return False
    return True


def _inputs(model, X) -> tuple[np.ndarray, np.ndarray, _Stack]:
    """Checked inputs ``(n, T, F)`` float64, valid steps ``(n, T)`` and the weights."""
    stack = _stack(model)
    X, valid = format_inputs(model, X)
    return X.astype(np.float64), valid, stack


def _targets(model, X: np.ndarray, target) -> np.ndarray:
    """The read-out column explained for each sequence, ``(n,)`` int (the contract's resolver)."""
    return resolve_target(model, X.astype(np.float32), target)


def lrp_linear(hin, w, b, hout, Rout, bias_nb_units, eps, bias_factor=0.0):
    """Arras' ``lrp_linear`` for a batch: ``hin (n, D)``, ``w (D, M)`` -> ``Rin (n, D)``.

    Epsilon rule: ``R_d = sum_m (w_dm hin_d + bias_factor (b_m + eps s_m) /
    bias_nb_units) / (hout_m + eps s_m) R_m`` with ``s = sign(hout)``. ``w=None``
    is the identity map (the cell update), computed without a (D, D) matrix.
    """
    sign = np.where(hout >= 0, 1.0, -1.0)
    ratio = Rout / (hout + eps * sign)  # (n, M)
    spread = bias_factor * ((b + eps * sign) / bias_nb_units * ratio).sum(1, keepdims=True)
    through = ratio if w is None else ratio @ w.T
    return hin * through + spread


def _lrp_layer(layer, trace, valid, Rh_in, eps, bias_factor):
    """Relevance of one layer's inputs ``(n, T, D)`` and of its initial state ``(n,)``."""
    n, T, D = trace.x.shape
    u = layer.units
    Kg, Rg_w = layer.K[:, 2 * u : 3 * u], layer.R[:, 2 * u : 3 * u]
    bg = layer.b[2 * u : 3 * u]
    Rx = np.zeros((n, T, D))
    Rh = Rh_in[:, -1].copy()  # relevance arriving at h_t from above, for t = T - 1
    Rc = np.zeros((n, u))
    for t in reversed(range(T)):
        keep = valid[:, t, None]
        # signal-take-all: h_t = o * act(c_t) gives all of h_t's relevance to c_t
        Rc_t = Rc + Rh
        c_t = trace.c[:, t + 1]
        kept = trace.f[:, t] * trace.c[:, t]
        written = trace.i[:, t] * trace.g[:, t]
        R_prev_c = lrp_linear(kept, None, 0.0, c_t, Rc_t, 2 * u, eps, bias_factor)
        R_g = lrp_linear(written, None, 0.0, c_t, Rc_t, 2 * u, eps, bias_factor)
        zg = trace.zg[:, t]
        nb = u + D
        Rx_t = lrp_linear(trace.x[:, t], Kg, bg, zg, R_g, nb, eps, bias_factor)
        R_prev_h = lrp_linear(trace.h[:, t], Rg_w, bg, zg, R_g, nb, eps, bias_factor)
        # a masked step left the state as it was: relevance passes straight down
        Rc = np.where(keep, R_prev_c, Rc_t)
        Rh = np.where(keep, R_prev_h, 0.0)
        Rx[:, t] = np.where(keep, Rx_t, 0.0)
        if t > 0:
            Rh = Rh + Rh_in[:, t - 1]
    return Rx, Rh.sum(1) + Rc.sum(1)


def _forward(stack: _Stack, X: np.ndarray, valid: np.ndarray):
    traces, x = [], X
    for layer in stack.layers:
        trace = unroll(layer, x, valid)
        traces.append(trace)
        x = trace.h[:, 1:]
    logits = traces[-1].h[:, -1] @ stack.W + stack.bias  # (n, K), before activation
    return traces, logits


def lrp(
    model: keras.Model,
    X: np.ndarray,
    *,
    epsilon: float = 0.001,
    bias_factor: float = 0.0,
    target=None,
    return_absorbed: bool = False,
):
    """LSTM LRP after Arras et al. (2017): ``(n, T, F) -> (n, T, F)`` relevance.

    Explains the read-out's pre-activation score minus its bias, ``f(x) - b``
    (the logit for a softmax/sigmoid classifier), for column ``target``. Epsilon
    rule on every linear map; gates pass no relevance ("signal-take-all");
    ``bias_factor=1`` also hands bias and stabiliser shares down (conservation
    check). ``return_absorbed=True`` also returns the ``(n,)`` relevance the zero
    initial states ``h_{-1}, c_{-1}`` absorb (summed over layers).
    """
    if not (np.isscalar(epsilon) and np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"expected epsilon as a positive number, got {epsilon!r}")
    if not (np.isscalar(bias_factor) and 0.0 <= bias_factor <= 1.0):
        raise ValueError(f"expected bias_factor in [0, 1], got {bias_factor!r}")
    X, valid, stack = _inputs(model, X)
    n, T, _ = X.shape
    traces, logits = _forward(stack, X, valid)
    k = _targets(model, X, target)
    w = stack.W[:, k].T  # (n, u_top)
    h_last = traces[-1].h[:, -1]
    score = np.sum(h_last * w, axis=1, keepdims=True)  # f(x) - b, (n, 1)
    u = stack.layers[-1].units
    # The read-out as a bias-free layer with R_out = f(x) - b, one output per row.
    sign = np.where(score >= 0, 1.0, -1.0)
    R_top = (h_last * w + bias_factor * epsilon * sign / u) / (score + epsilon * sign)
    R_top = R_top * score
    Rh = np.zeros((n, T, u))
    Rh[:, -1] = R_top
    absorbed = np.zeros(n)
    for layer, trace in zip(reversed(stack.layers), reversed(traces)):
        Rx, init = _lrp_layer(layer, trace, valid, Rh, epsilon, bias_factor)
        absorbed += init
        Rh = Rx  # the upper layer's input relevance joins the lower layer's h_t
    return (Rh, absorbed) if return_absorbed else Rh


def _split(a, b, c, act_c, act):
    """Murdoch's ``decomp_three``: parts of ``act(a + b + c)`` due to a, b and c.

    ``act_c = act(c)`` is computed once per layer; three activations per call.
    """
    ac, bc, abc = act(a + c), act(b + c), act(a + b + c)
    a_part = 0.5 * (ac - act_c + abc - bc)
    b_part = 0.5 * (bc - act_c + abc - ac)
    return a_part, b_part


def _decomp_two(a, b, act):
    """Murdoch's split of ``act(a + b)`` into parts of a and b."""
    aa, bb, ab = act(a), act(b), act(a + b)
    return 0.5 * (aa + ab - bb), 0.5 * (bb + ab - aa)


def _relevant_mask(relevant, n: int, T: int) -> np.ndarray:
    m = np.asarray(relevant)
    if m.dtype != bool or m.shape not in ((T,), (n, T)):
        raise ValueError(
            f"expected relevant as a boolean mask of shape ({T},) or ({n}, {T}), "
            f"got dtype {m.dtype} and shape {m.shape}"
        )
    return np.broadcast_to(m, (n, T))


def _cd_layer(layer, rel_x, irrel_x, relevant, valid):
    """One layer of CD: relevant and irrelevant parts of ``h_t``, each ``(n, T, u)``.

    ``rel_x``, ``irrel_x`` ``(n, T, 4u)`` are the input's parts through the kernel.
    """
    n, T, _ = rel_x.shape
    u = layer.units
    gate = [slice(k * u, (k + 1) * u) for k in range(4)]  # i, f, c, o
    b = [layer.b[g] for g in gate]
    act_b = [layer.rec(b[0]), layer.rec(b[1]), layer.act(b[2])]  # once per layer
    rel_h, irrel_h = np.zeros((n, u)), np.zeros((n, u))
    rel_c, irrel_c = np.zeros((n, u)), np.zeros((n, u))
    out_rel, out_irrel = np.zeros((n, T, u)), np.zeros((n, T, u))
    for t in range(T):
        # both parts through the recurrent kernel in one product; bias kept apart
        z = np.concatenate([rel_h, irrel_h]) @ layer.R
        zr, zi = rel_x[:, t] + z[:n], irrel_x[:, t] + z[n:]
        ri, ii = _split(zr[:, gate[0]], zi[:, gate[0]], b[0], act_b[0], layer.rec)
        rf, if_ = _split(zr[:, gate[1]], zi[:, gate[1]], b[1], act_b[1], layer.rec)
        rg, ig = _split(zr[:, gate[2]], zi[:, gate[2]], b[2], act_b[2], layer.act)
        bi, bf, bg = act_b
        new_rel = ri * (rg + bg) + bi * rg + (rf + bf) * rel_c
        new_irrel = (
            ii * (rg + ig + bg) + (ri + bi) * ig
            + (rf + if_ + bf) * irrel_c + if_ * rel_c
        )
        both = bi * bg  # bias x bias goes to the part the step belongs to
        in_mask = relevant[:, t, None]
        new_rel = new_rel + np.where(in_mask, both, 0.0)
        new_irrel = new_irrel + np.where(in_mask, 0.0, both)
        # output gate not decomposed (as in the reference's active code): the
        # full pre-activation is the sum of the two parts and the bias
        o = layer.rec(zr[:, gate[3]] + zi[:, gate[3]] + b[3])
        hr, hi = _decomp_two(new_rel, new_irrel, layer.act)
        keep = valid[:, t, None]
        rel_c = np.where(keep, new_rel, rel_c)
        irrel_c = np.where(keep, new_irrel, irrel_c)
        rel_h = np.where(keep, o * hr, rel_h)
        irrel_h = np.where(keep, o * hi, irrel_h)
        out_rel[:, t], out_irrel[:, t] = rel_h, irrel_h
    return out_rel, out_irrel


def _cd(stack, X, valid, relevant, k):
    """beta and gamma ``(n,)`` for read-out columns ``k``."""
    rel_h = np.where(relevant[:, :, None], X, 0.0)  # the first layer's input split
    irrel_h = X - rel_h
    for layer in stack.layers:
        # an upper layer reads the lower layer's two parts through its kernel
        rel_h, irrel_h = _cd_layer(
            layer, rel_h @ layer.K, irrel_h @ layer.K, relevant, valid
        )
    w = stack.W[:, k].T  # (n, u)
    return np.sum(rel_h[:, -1] * w, 1), np.sum(irrel_h[:, -1] * w, 1)


def contextual_decomposition(
    model: keras.Model, X: np.ndarray, relevant, *, target=None
) -> tuple[np.ndarray, np.ndarray]:
    """Contextual decomposition (Murdoch et al. 2018): ``(beta, gamma)``, each ``(n,)``.

    ``relevant`` is a boolean mask over steps, ``(T,)`` or ``(n, T)``. ``beta``
    and ``gamma`` are the parts of the read-out's score (pre-activation, bias
    excluded) due to the relevant and the other steps: ``beta + gamma + b``
    is the score. A step's bias-by-bias term goes to the part the step is in.
    """
    X, valid, stack = _inputs(model, X)
    n, T, _ = X.shape
    relevant = _relevant_mask(relevant, n, T)
    k = _targets(model, X, target)
    return _cd(stack, X, valid, relevant, k)


def cd_scores(
    model: keras.Model, X: np.ndarray, *, window: int = 1, target=None
) -> np.ndarray:
    """CD score of each window of ``window`` steps: ``(n, T, F) -> (n, T, F)``.

    The steps are cut into consecutive windows from the first (the last may be
    shorter); each step gets its window's ``beta``, the same for every feature
    (the method resolves only time). One vectorised CD pass for all windows.
    """
    X, valid, stack = _inputs(model, X)
    n, T, F = X.shape
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not (
        1 <= window <= T
    ):
        raise ValueError(f"expected window as an int in [1, {T}], got {window!r}")
    k = _targets(model, X, target)
    starts = np.arange(0, T, window)
    W = len(starts)
    steps = np.arange(T)
    masks = (steps[None] >= starts[:, None]) & (steps[None] < starts[:, None] + window)
    rows = np.repeat(np.arange(n), W)  # sequence-major: all windows of sequence 0 first
    relevant = np.tile(masks, (n, 1))
    beta, _ = _cd(stack, X[rows], valid[rows], relevant, k[rows])
    per_step = beta.reshape(n, W)[:, steps // window]  # (n, T)
    out = np.repeat(per_step[:, :, None], F, axis=2)
    return np.where(valid[:, :, None], out, 0.0)
