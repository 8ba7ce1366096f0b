"""Vanishing and exploding gradients, clipping, activations and bad input."""
import math

import numpy as np
import pytest
from numba import njit

from seqforecast.cells.activations import sigmoid, tanh
from seqforecast.cpu.activations import rational_tanh
from seqforecast.network import Network
from seqforecast.recurrent import Cell, backward, forward, init_parameters
from seqforecast.training.clipping import (clip_by_global_norm, clip_by_norm, clip_by_value,
                                           global_norm)


def _scaled_identity_rnn(scale, T=30, B=4, H=8):
    """relu RNN with W_hh = scale * I and positive states: dL/dh_{t-1} = scale * dL/dh_t."""
    cell = Cell("rnn", activation="relu")
    _, layers = init_parameters(cell, 1, (H,), np.random.RandomState(0), np.float64)
    layers[0]["weight_ih"][...] = 0
    layers[0]["bias_ih"][...] = 0
    layers[0]["bias_hh"][...] = 0
    layers[0]["weight_hh"][...] = scale * np.eye(H)
    x = np.zeros((T, B, 1))
    h0 = [np.ones((B, H))]
    d_out = np.zeros((T, B, H))
    d_out[-1] = 1.0  # loss on the last step only, as in many-to-one forecasting
    return cell, layers, x, h0, d_out


@pytest.mark.parametrize("scale", [1.5, 0.5], ids=["exploding", "vanishing"])
def test_step_norms_grow_or_vanish_geometrically_back_through_time(scale):
    cell, layers, x, h0, d_out = _scaled_identity_rnn(scale)
    norms = backward(forward(cell, layers, x, h0).cache, d_out).step_norms[0]
    ratios = norms[:-1] / norms[1:]  # one step further back
    np.testing.assert_allclose(ratios, scale, rtol=1e-12)
    if scale > 1:
        assert norms[0] / norms[-1] > 1e5
    else:
        assert norms[0] / norms[-1] < 1e-8


def test_hidden_clipping_bounds_the_exploding_gradient():
    cell, layers, x, h0, d_out = _scaled_identity_rnn(1.5)
    clip, B = 1.0, x.shape[1]
    result = backward(forward(cell, layers, x, h0).cache, d_out, clip_hidden_norm=clip)
    # Before each earlier step, the gradient is the clipped one (each row of
    # norm <= clip) times the recurrent gain: it can no longer compound.
    earlier = result.step_norms[0][:-1]
    np.testing.assert_allclose(earlier, 1.5 * clip * math.sqrt(B), rtol=1e-12)
    unclipped = backward(forward(cell, layers, x, h0).cache, d_out).step_norms[0]
    assert unclipped.max() > 1e4 * result.step_norms[0].max()


def test_truncation_stops_the_gradient_after_k_steps():
    cell, layers, x, h0, d_out = _scaled_identity_rnn(0.9, T=12)
    result = backward(forward(cell, layers, x, h0).cache, d_out, tbptt_steps=5)
    assert np.all(result.step_norms[0][-5:] > 0)
    assert np.all(result.step_norms[0][:-5] == 0)
    assert not result.dh0[0].any()


def test_lstm_keeps_the_gradient_alive_where_a_tanh_rnn_loses_it():
    """The forget gate's additive path: the field's remedy for vanishing gradients."""
    T, B, H = 60, 8, 16
    rng = np.random.RandomState(0)
    x = rng.randn(T, B, 1)
    ratios = {}
    for kind in ("rnn", "lstm"):
        cell = Cell(kind)
        _, layers = init_parameters(cell, 1, (H,), rng, np.float64)
        if kind == "lstm":
            layers[0]["bias_hh"][H:2 * H] = 5.0  # forget gate open, as with a forget bias
        d_out = np.zeros((T, B, H))
        d_out[-1] = 1.0
        norms = backward(forward(cell, layers, x).cache, d_out).step_norms[0]
        ratios[kind] = norms[0] / norms[-1]
    assert ratios["rnn"] < 1e-6
    assert ratios["lstm"] > 1e-2


def test_clip_by_value():
    grads = [np.array([3.0, -4.0]), np.array([[0.5, -0.2]])]
    norm = clip_by_value(grads, 1.0)
    assert norm == pytest.approx(math.sqrt(9 + 16 + 0.25 + 0.04))
    np.testing.assert_array_equal(grads[0], [1.0, -1.0])
    np.testing.assert_array_equal(grads[1], [[0.5, -0.2]])


def test_clip_by_norm_is_per_tensor():
    grads = [np.array([3.0, 4.0], np.float32), np.array([0.3, 0.4], np.float32)]
    norms = clip_by_norm(grads, 1.0)
    np.testing.assert_allclose(norms, [5.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(grads[0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(grads[1], [0.3, 0.4], rtol=1e-6)
    assert grads[0].dtype == np.float32


def test_clip_by_global_norm_keeps_the_direction():
    grads = [np.array([3.0]), np.array([4.0])]
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    assert global_norm(grads) == pytest.approx(1.0)
    np.testing.assert_allclose(np.concatenate(grads), [0.6, 0.8])
    small = [np.array([0.1])]
    clip_by_global_norm(small, 1.0)
    assert small[0][0] == 0.1


@pytest.mark.parametrize("clip", [clip_by_value, clip_by_norm, clip_by_global_norm])
@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_clipping_rejects_bad_thresholds(clip, bad):
    with pytest.raises(ValueError, match="positive"):
        clip([np.ones(2)], bad)


@njit(fastmath=True, error_model="numpy")
def _compiled(xs, out_tanh, out_sigmoid):
    for i in range(xs.size):
        out_tanh[i] = tanh(xs[i])
        out_sigmoid[i] = sigmoid(xs[i])


@pytest.mark.parametrize("dtype, tol", [(np.float32, 5e-7), (np.float64, 1e-15)])
def test_compiled_activations_are_accurate(dtype, tol):
    xs = np.linspace(-30, 30, 200_001).astype(dtype)
    t, s = np.empty_like(xs), np.empty_like(xs)
    _compiled(xs, t, s)
    exact = xs.astype(np.float64)
    assert np.abs(t - np.tanh(exact)).max() < tol
    assert np.abs(s - 1 / (1 + np.exp(-exact))).max() < tol
    assert abs(rational_tanh(np.float32(100.0)) - 1.0) < 2e-7  # saturates


def test_pure_python_activations_do_not_overflow():
    assert sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0
    assert tanh(0.5) == math.tanh(0.5)


def _lstm():
    cell = Cell("lstm")
    _, layers = init_parameters(cell, 2, (3, 4), np.random.RandomState(0), np.float32)
    return cell, layers


@pytest.mark.parametrize("x, error, match", [
    (np.zeros((5, 2), np.float32), ValueError, "3-D"),
    (np.zeros((5, 2, 3), np.float32), ValueError, "3 features but the first layer expects 2"),
    (np.zeros((5, 2, 2), np.int64), TypeError, "dtype int64"),
    (np.zeros((5, 2, 2), np.float64), TypeError, "dtype float64 but the parameters are float32"),
    (np.full((5, 2, 2), np.nan, np.float32), ValueError, "NaN"),
    ([[[0.0, 0.0]]], TypeError, "numpy array"),
])
def test_forward_rejects_bad_input(x, error, match):
    cell, layers = _lstm()
    with pytest.raises(error, match=match):
        forward(cell, layers, x)


def test_bad_states_parameters_and_options_are_named():
    cell, layers = _lstm()
    x = np.zeros((5, 2, 2), np.float32)
    with pytest.raises(ValueError, match=r"h0\[1\] must have shape \(2, 4\)"):
        forward(cell, layers, x, h0=[np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match="one state per layer"):
        forward(cell, layers, x, c0=[np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match="dropout must be in"):
        forward(cell, layers, x, dropout=1.0, seed=0)
    with pytest.raises(ValueError, match="layer 1 parameters must have shapes"):
        forward(cell, [layers[0], layers[0]], x)
    with pytest.raises(TypeError, match="float32 or float64"):
        forward(cell, [{k: v.astype(np.int32) for k, v in layers[0].items()}], x)
    with pytest.raises(ValueError, match="c0 is only used by an LSTM"):
        forward(Cell("gru"), init_parameters(Cell("gru"), 2, (3,), np.random.RandomState(0),
                                             np.float32)[1], x, c0=[np.zeros((2, 3), np.float32)])
    with pytest.raises(TypeError, match="must be a Cell"):
        forward("lstm", layers, x)
    cache = forward(cell, layers, x).cache
    with pytest.raises(ValueError, match=r"d_output must have shape \(5, 2, 4\)"):
        backward(cache, np.zeros((5, 2, 3), np.float32))
    with pytest.raises(ValueError, match="tbptt_steps must be positive"):
        backward(cache, np.zeros((5, 2, 4), np.float32), tbptt_steps=0)
    with pytest.raises(ValueError, match="NaN"):
        backward(cache, np.full((5, 2, 4), np.inf, np.float32))


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "transformer"}, "cell kind"),
    ({"kind": "gru", "activation": "relu"}, "only available for the 'rnn' cell"),
    ({"kind": "rnn", "peephole": True}, "LSTM options"),
    ({"kind": "rnn", "activation": "sigmoid"}, "'tanh' or 'relu'"),
])
def test_cell_rejects_unknown_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Cell(**kwargs)


def test_network_loss_gradient_matches_finite_differences():
    """The linear head and squared error on top of the kernels (float64)."""
    rng = np.random.RandomState(0)
    net = Network(Cell("gru"), 2, (4, 3), 2, rng, np.float64)
    x, y = rng.randn(6, 5, 2), rng.randn(5, 2)
    loss, _ = net.loss_gradient(x, y)
    assert loss == pytest.approx(np.mean((net.predict(x) - y) ** 2))
    _check_against_finite_differences(net, x, y, rng.choice(net.params.size, 25, replace=False))


def _check_against_finite_differences(net, x, y, indices):
    """``net.grad`` of the mean squared error against central differences, entry by entry."""
    net.loss_gradient(x, y)
    analytic = net.grad.copy()
    for i in indices:
        old = net.params[i]
        net.params[i] = old + 1e-6
        up = np.mean((net.predict(x) - y) ** 2)
        net.params[i] = old - 1e-6
        down = np.mean((net.predict(x) - y) ** 2)
        net.params[i] = old
        assert analytic[i] == pytest.approx((up - down) / 2e-6, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("ar_window", [1, 4, 6])
def test_autoregressive_path_gradient_matches_finite_differences(ar_window):
    """Every AR weight, and the head and layers under it (float64)."""
    rng = np.random.RandomState(1)
    net = Network(Cell("lstm"), 2, (3,), 2, rng, np.float64, ar_window=ar_window)
    assert net.ar_weight.shape == (ar_window, 2, 2) and not net.ar_weight.any()
    net.ar_weight[...] = 0.3 * rng.randn(*net.ar_weight.shape)
    x, y = rng.randn(6, 5, 2), rng.randn(5, 2)
    # The AR path is a linear map of the last ar_window steps, added to the head.
    head = net.predict(x) - np.einsum("tbi,toi->bo", x[6 - ar_window:], net.ar_weight)
    net_without = Network(Cell("lstm"), 2, (3,), 2, rng, np.float64)
    net_without.params[...] = net.params[:net_without.params.size]
    np.testing.assert_allclose(head, net_without.predict(x), rtol=1e-12, atol=1e-12)
    start = net.params.size - net.ar_weight.size
    _check_against_finite_differences(
        net, x, y, list(range(start, net.params.size)) + list(rng.choice(start, 15, replace=False)))


def test_results_do_not_alias_what_backward_reads():
    cell = Cell("gru")
    _, layers = init_parameters(cell, 2, (3,), np.random.RandomState(0), np.float64)
    x = np.random.RandomState(1).randn(4, 2, 2)
    d_out = np.ones((4, 2, 3))
    want = backward(forward(cell, layers, x).cache, d_out).grads[0]["weight_hh"]
    fwd = forward(cell, layers, x)
    fwd.output[...] = 0
    fwd.h_n[0][...] = 0
    x[...] = 0
    np.testing.assert_array_equal(backward(fwd.cache, d_out).grads[0]["weight_hh"], want)


def test_backward_rejects_bad_options_and_buffers():
    cell = Cell("gru")
    _, layers = init_parameters(cell, 2, (3,), np.random.RandomState(0), np.float32)
    cache = forward(cell, layers, np.zeros((4, 2, 2), np.float32)).cache
    d_out = np.zeros((4, 2, 3), np.float32)
    with pytest.raises(TypeError, match="tbptt_steps must be a positive int"):
        backward(cache, d_out, tbptt_steps=0.5)
    with pytest.raises(ValueError, match="d_cn is only used by an LSTM"):
        backward(cache, d_out, d_cn=[np.zeros((2, 3), np.float32)])
    with pytest.raises(ValueError, match=r"grads\[0\]\['weight_hh'\] must be"):
        backward(cache, d_out, grads=[{k: np.empty_like(v) for k, v in layers[0].items()
                                       if k != "weight_hh"}])


def test_network_rejects_bad_targets():
    net = Network(Cell("lstm"), 1, (4,), 3, np.random.RandomState(0))
    x = np.zeros((5, 3, 1), np.float32)
    for y, error, match in [(np.zeros((3, 1), np.float32), ValueError, r"shape \(3, 3\)"),
                            (np.zeros((3,), np.float32), ValueError, r"shape \(3, 3\)"),
                            (np.zeros((3, 3)), TypeError, "float64"),
                            (np.full((3, 3), np.nan, np.float32), ValueError, "NaN")]:
        with pytest.raises(error, match=match):
            net.loss_gradient(x, y)


def test_norms_of_huge_float32_gradients_do_not_overflow():
    grads = [np.full(4, 1e20, np.float32)]
    assert global_norm(grads) == pytest.approx(2e20)
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(2e20)
    np.testing.assert_allclose(grads[0], 0.5, rtol=1e-6)
    diverged = [np.array([np.inf, 1.0])]
    assert clip_by_global_norm(diverged, 1.0) == np.inf
    assert diverged[0][1] == 1.0  # left alone for the caller to see
