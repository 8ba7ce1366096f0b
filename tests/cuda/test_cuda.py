"""The CUDA target against the NumPy reference, PyTorch's numbers and the CPU target.

Shapes are small (the simulator runs every thread in Python); the simulator's
blocks are small too, so products, reductions and the recurrent kernels all
span several thread blocks here.
"""
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numba import config as numba_config
from numba import cuda
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reference as ref  # noqa: E402
from test_recurrent import _problem  # noqa: E402
from seqforecast import GRURegressor, LSTMRegressor, RNNRegressor  # noqa: E402
from seqforecast import config  # noqa: E402
from seqforecast import recurrent as cpu  # noqa: E402
from seqforecast.backends.cuda import CUDA  # noqa: E402
from seqforecast.cuda import layer  # noqa: E402
from seqforecast.cuda.elementwise import dropout_mask  # noqa: E402
from seqforecast.cuda.launch import ignore_small_grid_warnings  # noqa: E402
from seqforecast.cuda.products import matmul  # noqa: E402
from seqforecast.cuda.reductions import column_sums, row_norms, summarize  # noqa: E402
from seqforecast.cuda.workspace import view  # noqa: E402
from seqforecast.cells.spec import SPECS  # noqa: E402
from seqforecast.recurrent import Cell, backward_layers, cell_variants, forward_layers  # noqa: E402

CELLS = cell_variants()
# One cell per kind, every option on (the most parameters and branches).
RICHEST = [[c for c in CELLS if c.kind == name][-1] for name in SPECS]
# Persistent kernel, 2 samples per block (3 blocks for B=5), weights in shared memory
# or read from global memory; and the step-wise strategy (tiled products per step).
# The simulator runs device code on numpy scalars, which warn about the overflows a GPU
# does silently (the dropout hash's wrap-around, a diverging fit).
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
STRATEGIES = {"persistent": {"samples_per_block": 2},
              "global-weights": {"samples_per_block": 2, "shared_weights": False},
              "stepwise": {"persistent": False}}


def _device(tree):
    return None if tree is None else [
        {k: cuda.to_device(v) for k, v in item.items()} if isinstance(item, dict)
        else cuda.to_device(item) for item in tree]


def _host(tree):
    return None if tree is None else [
        {k: v.copy_to_host() for k, v in item.items()} if isinstance(item, dict)
        else item.copy_to_host() for item in tree]


def _run_gpu(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn, tbptt_steps=None,
             clip_hidden_norm=None, **options):
    fwd = forward_layers(CUDA, cell, _device(layers), cuda.to_device(x), _device(h0),
                         _device(c0), masks=_device(masks), **options)
    bwd = backward_layers(fwd.cache, cuda.to_device(d_out), _device(d_hn), _device(d_cn),
                          tbptt_steps=tbptt_steps, clip_hidden_norm=clip_hidden_norm)
    return {"output": fwd.output.copy_to_host(), "h_n": _host(fwd.h_n), "c_n": _host(fwd.c_n),
            "grads": _host(bwd.grads), "dx": bwd.dx.copy_to_host(), "dh0": _host(bwd.dh0),
            "dc0": _host(bwd.dc0), "step_norms": _host(bwd.step_norms)}


def _assert_close(got, want, tol, what=""):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(np.abs(want).max(), 1e-2 if tol > 1e-6 else 1e-300)
    err = np.abs(got - want).max() / scale
    assert err < tol, f"{what}: relative error {err:.3g} >= {tol}"


def _compare(got, want_fwd, want_bwd, tol, cell):
    out, h_n, c_n, _ = want_fwd
    grads, dx, dh0, dc0, norms = want_bwd
    _assert_close(got["output"], out, tol, "output")
    _assert_close(got["dx"], dx, tol, "dx")
    for l, want_l in enumerate(grads):
        _assert_close(got["h_n"][l], h_n[l], tol, f"h_n[{l}]")
        _assert_close(got["dh0"][l], dh0[l], tol, f"dh0[{l}]")
        _assert_close(got["step_norms"][l], norms[l], tol, f"step_norms[{l}]")
        for name in want_l:
            _assert_close(got["grads"][l][name], want_l[name], tol, f"layer {l} {name}")
        if cell.has_cell_state:
            _assert_close(got["c_n"][l], c_n[l], tol, f"c_n[{l}]")
            _assert_close(got["dc0"][l], dc0[l], tol, f"dc0[{l}]")


@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
def test_kernels_match_numpy_reference(cell):
    """Two layers, dropout masks, initial and final states, truncated BPTT, hidden clipping."""
    shape = (3, 5, 2, (3, 2))
    _, layers, x, h0, c0, d_out, d_hn, d_cn, masks = _problem(cell, shape, 0, dropout=0.3)
    options = {"tbptt_steps": 3, "clip_hidden_norm": 1.2}
    want_fwd = ref.forward(cell, layers, x, h0, c0, masks)
    want_bwd = ref.backward(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn, **options)
    got = _run_gpu(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn, samples_per_block=2,
                   **options)
    _compare(got, want_fwd, want_bwd, 1e-10, cell)


@pytest.mark.parametrize("cell", RICHEST, ids=ref.cell_ids(RICHEST))
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategies_match_cpu_kernels_in_float32(cell, strategy):
    shape = (4, 5, 2, (5,))
    _, layers, x, h0, c0, d_out, d_hn, d_cn, _ = _problem(cell, shape, 1, np.float32)
    fwd = cpu.forward(cell, layers, x, h0, c0)
    bwd = cpu.backward(fwd.cache, d_out, d_hn, d_cn, tbptt_steps=2, clip_hidden_norm=2.0)
    got = _run_gpu(cell, layers, x, h0, c0, None, d_out, d_hn, d_cn, tbptt_steps=2,
                   clip_hidden_norm=2.0, **STRATEGIES[strategy])
    want_bwd = (bwd.grads, bwd.dx, bwd.dh0, bwd.dc0, bwd.step_norms)
    _compare(got, tuple(fwd), want_bwd, 1e-5, cell)


@pytest.mark.parametrize("name", ref.TORCH_CASES)
def test_kernels_match_pytorch(name):
    case = ref.load_torch_case(name)
    spec = case["cell"]
    cell = Cell(spec["kind"], activation=spec["activation"])
    floats = (lambda a: None if a is None else [np.asarray(v, np.float64) for v in a])
    layers = [{k: np.asarray(v, np.float64) for k, v in layer.items()} for layer in case["layers"]]
    got = _run_gpu(cell, layers, case["x"], floats(case["h0"]), floats(case["c0"]),
                   floats(case["masks"]), case["d_output"], floats(case["d_hn"]),
                   floats(case["d_cn"]), tbptt_steps=case["tbptt_k"])
    want = case["tbptt"]
    _assert_close(got["output"], want["output"], 1e-9, "output")
    _assert_close(got["dx"], want["dx"], 1e-9, "dx")
    for l, grads in enumerate(want["grads"]):
        _assert_close(got["h_n"][l], want["h_n"][l], 1e-9, f"h_n[{l}]")
        _assert_close(got["dh0"][l], want["dh0"][l], 1e-9, f"dh0[{l}]")
        for key, value in grads.items():
            _assert_close(got["grads"][l][key], value, 1e-9, f"layer {l} {key}")


@pytest.mark.parametrize("m, k, n", [(37, 21, 19), (3, 150, 2), (40, 0, 5)])
def test_matmul_and_column_sums(m, k, n):
    """Several tiles, a split inner dimension, transposed operands, biases, accumulation."""
    rng = np.random.RandomState(2)
    a, b = rng.randn(k, m), rng.randn(k, n)  # used transposed: a.T @ b
    bias, start = rng.randn(n), rng.randn(m, n)
    out = cuda.to_device(start)
    matmul(cuda.to_device(a), cuda.to_device(b), out, accumulate=True,
           bias=cuda.to_device(bias), trans_a=True)
    np.testing.assert_allclose(out.copy_to_host(), start + a.T @ b + bias, rtol=1e-12, atol=1e-12)
    out = cuda.device_array((n, m))
    matmul(cuda.to_device(b), cuda.to_device(a), out, trans_a=True, trans_b=False)
    np.testing.assert_allclose(out.copy_to_host(), b.T @ a, rtol=1e-12, atol=1e-12)
    out = cuda.device_array((m, n))
    matmul(cuda.to_device(a.T.copy()), cuda.to_device(b.T.copy()), out, trans_b=True)
    np.testing.assert_allclose(out.copy_to_host(), a.T @ b, rtol=1e-12, atol=1e-12)
    sums = cuda.device_array(n, np.float64)
    column_sums(cuda.to_device(b), sums, cuda.to_device(b))
    np.testing.assert_allclose(sums.copy_to_host(), (b * b).sum(axis=0), rtol=1e-12, atol=1e-12)
    norms = cuda.device_array(k, np.float64)
    row_norms(cuda.to_device(b * b), norms)
    np.testing.assert_allclose(norms.copy_to_host(), np.sqrt((b * b).sum(axis=1)), rtol=1e-12)


@pytest.mark.parametrize("m, k, n", [(37, 21, 19), (3, 150, 2)])
def test_batched_matmul_and_column_sums(m, k, n):
    """Batches of 3: a shared operand, biases per entry, and an output summing the batch."""
    rng = np.random.RandomState(3)
    a, b, bias = rng.randn(m, k), rng.randn(3, n, k), rng.randn(3, n)
    out = cuda.device_array((3, m, n))
    matmul(cuda.to_device(a), cuda.to_device(b), out, bias=cuda.to_device(bias),
           trans_b=True)
    np.testing.assert_allclose(out.copy_to_host(), np.einsum("mk,znk->zmn", a, b) + bias[:, None],
                               rtol=1e-12, atol=1e-12)
    c, start = rng.randn(3, k, m), rng.randn(m, n)
    out = cuda.to_device(start)
    matmul(cuda.to_device(c), cuda.to_device(b), out, accumulate=True, trans_a=True,
           trans_b=True)
    np.testing.assert_allclose(out.copy_to_host(), start + np.einsum("zkm,znk->mn", c, b),
                               rtol=1e-12, atol=1e-12)
    sums = cuda.device_array((3, k))
    column_sums(cuda.to_device(b), sums)
    np.testing.assert_allclose(sums.copy_to_host(), b.sum(axis=1), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="shapes do not match"):
        matmul(cuda.to_device(rng.randn(2, m, k)), cuda.to_device(b),
               cuda.device_array((3, m, n)), trans_b=True)
    with pytest.raises(ValueError, match="shapes do not match"):
        matmul(cuda.to_device(a), cuda.to_device(rng.randn(2, n, k)),
               cuda.device_array((3, m, n)), trans_b=True)
    with pytest.raises(ValueError, match="a bias of this product"):
        matmul(cuda.to_device(c), cuda.to_device(b), cuda.device_array((m, n)),
               bias=cuda.to_device(bias), trans_a=True, trans_b=True)
    with pytest.raises(ValueError, match="C-contiguous"):
        matmul(cuda.to_device(np.ones((m, 2 * k)))[:, ::2], cuda.to_device(b),
               cuda.device_array((3, m, n)), trans_b=True)


def test_training_steps_reuse_their_device_arrays(monkeypatch):
    """After the first step on a batch shape, a step allocates nothing, with the same results."""
    from seqforecast.cuda.workspace import Workspace
    from seqforecast.network import Network
    from seqforecast.training.losses import squared_error
    from seqforecast.training.optimizers import Adam
    from seqforecast.training.trainer import Trainer

    rng = np.random.RandomState(4)
    network = Network(Cell("lstm"), 2, (3, 3), 1, rng, np.float64)
    trainers = [Trainer(network.on(CUDA), Adam(network.params.copy()), squared_error, alpha=0.1,
                        clip_global_norm=1.0, dropout=0.2)
                for _ in range(2)]
    x, y = (cuda.to_device(rng.randn(*shape)) for shape in ((4, 5, 2), (5, 1)))
    for trainer in trainers:
        trainer.step(x, y, seed=1)
    kept = trainers[0].workspace.n_arrays
    allocate = cuda.device_array

    def no_allocation(*args, **kwargs):
        raise AssertionError(f"device allocation {args} in a repeated step")

    monkeypatch.setattr(cuda, "device_array", no_allocation)
    reused = trainers[0].step(x, y, seed=2)
    monkeypatch.setattr(cuda, "device_array", allocate)
    assert trainers[0].workspace.n_arrays == kept
    trainers[1].workspace = Workspace()
    fresh = trainers[1].step(x, y, seed=2)
    assert reused == fresh
    np.testing.assert_array_equal(trainers[0].network.params.copy_to_host(),
                                  trainers[1].network.params.copy_to_host())
    # A smaller last batch gets arrays of its own, and the full batches keep theirs.
    trainers[0].step(cuda.to_device(rng.randn(4, 3, 2)), cuda.to_device(rng.randn(3, 1)), 3)
    assert trainers[0].workspace.n_arrays > kept
    monkeypatch.setattr(cuda, "device_array", no_allocation)
    trainers[0].step(x, y, seed=4)
    monkeypatch.setattr(cuda, "device_array", allocate)
    # predict keeps a small forward cache for its next call, and lets a large one go.
    network = trainers[0].network
    assert np.isfinite(network.predict(x)).all() and network.workspace.n_arrays > 0
    monkeypatch.setattr(cuda, "device_array", no_allocation)
    network.predict(x)
    monkeypatch.setattr(cuda, "device_array", allocate)
    monkeypatch.setattr(config, "PREDICT_KEEP", 0)
    network.predict(x)
    assert network.workspace.n_arrays == 0


@pytest.mark.parametrize("name, options", [("huber", {"delta": 0.3}),
                                           ("quantile", {"quantiles": (0.1, 0.5, 0.7)}),
                                           ("gaussian", {}), ("student_t", {}),
                                           ("student_t", {"df": 3.0})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_on_cuda_match_the_cpu(name, options, dtype):
    """Over more values than one block holds, so the blocks' parts are summed too."""
    from seqforecast.backends.cpu import CPU
    from seqforecast.training.losses import make_loss

    loss = make_loss(name, **options)
    rng = np.random.RandomState(0)
    pred = rng.randn(90, 2 * loss.width).astype(dtype)
    y = rng.randn(90, 2).astype(dtype)
    records, grads = [], []
    for backend in (CPU, CUDA):
        record, grad = backend.record(), backend.zeros(pred.shape, dtype)
        backend.loss(loss, backend.to_device(pred), backend.to_device(y), grad, record)
        records.append(backend.read(record)[0])
        grads.append(backend.to_host(grad))
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(records[1], records[0], rtol=tolerance)
    np.testing.assert_allclose(grads[1], grads[0], rtol=tolerance, atol=tolerance * 1e-3)


def test_small_grid_warnings_are_ignored_and_others_are_not():
    """numba-cuda warns about every grid under 128 blocks; seqforecast launches them on purpose.

    On a GPU numba-cuda's message starts with a terminal code for bold text.
    """
    message = "Grid size 1 will likely result in GPU under-utilization due to low occupancy."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ignore_small_grid_warnings()
        warnings.warn(message, RuntimeWarning)
        warnings.warn(f"\x1b[1m{message}\x1b[0m", RuntimeWarning)
        warnings.warn("another warning", RuntimeWarning)
    assert [str(w.message) for w in caught] == ["another warning"]


@pytest.mark.skipif(numba_config.ENABLE_CUDASIM,
                    reason="the simulator launches every kernel through numba's own path")
@pytest.mark.parametrize("estimator", [LSTMRegressor, GRURegressor])
def test_direct_launches_give_numba_cudas_results(estimator, monkeypatch):
    """A fit and predict launched directly (``CUDA_DIRECT_LAUNCH``) and through numba-cuda:
    the same bits."""
    X, y = _data(n=200, steps=6)
    fits = []
    for direct in (False, True):
        monkeypatch.setattr(config, "CUDA_DIRECT_LAUNCH", direct)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = estimator(hidden_sizes=(8, 5), max_iter=3, batch_size=64, dropout=0.2,
                              alpha=1e-3, clip_global_norm=1.0, random_state=0,
                              device="cuda").fit(X, y)
        fits.append((model._network.params, model.predict(X), model.loss_curve_))
    forward = layer._forward_kernel(model._cell().spec.code, model._network.params.dtype)
    assert any(direct is not None for direct in forward.direct.values())
    for on, off in zip(*fits):
        np.testing.assert_array_equal(on, off)


def test_views_are_made_once_and_share_the_arrays_memory():
    a = cuda.to_device(np.arange(24.0).reshape(4, 6))
    rows = view(a, 1, 3, (12,))
    assert view(a, 1, 3, (12,)) is rows and view(a, 1, 3) is not rows
    np.testing.assert_array_equal(rows.copy_to_host(), np.arange(6.0, 18.0))
    a.copy_to_device(np.zeros((4, 6)))
    np.testing.assert_array_equal(rows.copy_to_host(), np.zeros(12))
    # An array that takes no attributes gets its view made anew.
    np.testing.assert_array_equal(view(np.arange(6.0), 2, shape=(2, 2)), [[2, 3], [4, 5]])


def test_summarize_counts_non_finite_values():
    values = np.array([3.0, -4.0, np.nan, 1.0, np.inf] + [0.5] * 70)
    info = cuda.device_array(3, np.float64)
    summarize(cuda.to_device(values), info)
    squares, largest, bad = info.copy_to_host()
    assert squares == pytest.approx(9 + 16 + 1 + 70 * 0.25)
    assert largest == np.inf and bad == 2
    summarize(cuda.to_device(np.array([3.0, -4.0, 0.0, 1.0])), info)
    assert info.copy_to_host()[1] == 4


def _data(n=24, steps=4, features=2, outputs=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, steps, features)
    y = np.stack([X[:, -1, 0] + 0.5 * X[:, -2, 1], X[:, :, 0].mean(axis=1)], axis=1)[:, :outputs]
    return X, y


TRAINING = [
    (LSTMRegressor, dict(peephole=True, hidden_sizes=(3, 2), solver="adam", alpha=1e-3,
                         clip_global_norm=0.5, tbptt_steps=4)),
    (GRURegressor, dict(hidden_sizes=4, solver="sgd", learning_rate_init=0.05, clip_norm=0.3,
                        clip_hidden_norm=1.0)),
    (RNNRegressor, dict(hidden_sizes=4, solver="rmsprop", clip_value=0.05, loss="huber",
                        huber_delta=0.5)),
    (LSTMRegressor, dict(hidden_sizes=3, ar_window=3, learning_rate="cosine", alpha=1e-3,
                         clip_global_norm=0.1)),
    (GRURegressor, dict(hidden_sizes=3, ar_window=2, loss="student_t", clip_global_norm=0.1)),
]


@pytest.mark.parametrize("estimator, params", TRAINING,
                         ids=["lstm", "gru", "rnn", "lstm-ar", "gru-ar-student-t"])
def test_training_on_cuda_reaches_the_cpu_weights(estimator, params):
    X, y = _data()
    # One epoch of two batches (16 and 8 samples): each simulated step takes seconds.
    common = dict(max_iter=1, batch_size=16, random_state=0, dtype="float64", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_cpu = estimator(**common).fit(X, y)
        on_gpu = estimator(device="cuda", **common).fit(X, y)
    np.testing.assert_allclose(on_gpu._network.params, on_cpu._network.params, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(on_gpu.loss_curve_, on_cpu.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(on_gpu.grad_norm_max_, on_cpu.grad_norm_max_, rtol=1e-9)
    np.testing.assert_allclose(on_gpu.step_grad_norms_, on_cpu.step_grad_norms_, rtol=1e-9)
    assert on_gpu.n_clipped_steps_ == on_cpu.n_clipped_steps_ > 0
    np.testing.assert_allclose(on_gpu.predict(X), on_cpu.predict(X), rtol=1e-9, atol=1e-12)


def test_float32_training_early_stopping_and_partial_fit_on_cuda():
    X, y = _data(n=30)
    common = dict(hidden_sizes=3, max_iter=1, batch_size=24, random_state=1, early_stopping=True,
                  validation_fraction=0.2, n_iter_no_change=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_cpu = LSTMRegressor(**common).fit(X, y)
        on_gpu = LSTMRegressor(device="cuda", **common).fit(X, y)
    np.testing.assert_allclose(on_gpu.validation_scores_, on_cpu.validation_scores_, rtol=1e-4)
    np.testing.assert_allclose(on_gpu._network.params, on_cpu._network.params, atol=1e-5)
    # partial_fit keeps the optimizer state between calls, and pickling needs no GPU.
    model = LSTMRegressor(device="cuda", hidden_sizes=3, batch_size=30, random_state=1)
    reference = LSTMRegressor(hidden_sizes=3, batch_size=30, random_state=1)
    for _ in range(2):
        model.partial_fit(X, y)
        reference.partial_fit(X, y)
    assert model._optimizer.t == reference._optimizer.t == 2
    np.testing.assert_allclose(model._optimizer.v, reference._optimizer.v, rtol=1e-3, atol=1e-9)
    restored = pickle.loads(pickle.dumps(model))
    restored.set_params(device="cpu")
    np.testing.assert_allclose(restored.predict(X), model.predict(X), rtol=1e-5, atol=1e-6)


def test_divergence_on_cuda_is_reported_and_leaves_a_usable_model():
    X, y = _data()
    model = GRURegressor(device="cuda", hidden_sizes=3, learning_rate_init=1e30, solver="sgd",
                         max_iter=3, batch_size=12, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        model.fit(X, y)
    assert np.isfinite(model._network.params).all()
    assert np.isfinite(model.predict(X)).all()


def test_dropout_masks_on_cuda():
    """Inverted-dropout masks: reproducible from (seed, stream), the right rate and values."""
    masks = [dropout_mask((50, 40), np.float32, 0.3, seed, stream).copy_to_host()
             for seed, stream in ((7, 0), (7, 0), (7, 1), (8, 0))]
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], masks[2]) and not np.array_equal(masks[0], masks[3])
    assert set(np.unique(masks[0])) == {np.float32(0), np.float32(1 / 0.7)}
    assert abs((masks[0] == 0).mean() - 0.3) < 0.05


def test_dropout_fit_on_cuda_is_reproducible():
    X, y = _data()
    warnings.simplefilter("ignore", ConvergenceWarning)
    fits = [LSTMRegressor(device="cuda", hidden_sizes=(3, 2), dropout=0.5, max_iter=1,
                          batch_size=24, random_state=3).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(fits[0]._network.params, fits[1]._network.params)
    plain = LSTMRegressor(hidden_sizes=(3, 2), max_iter=1, batch_size=24, random_state=3,
                          dtype="float32").fit(X, y)
    assert not np.allclose(plain._network.params, fits[0]._network.params, atol=1e-5)
