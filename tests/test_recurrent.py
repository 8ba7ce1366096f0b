"""The CPU kernels against the NumPy reference, finite differences and PyTorch."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import reference as ref
from seqforecast.cells.spec import SPECS
from seqforecast.recurrent import (Cell, backward, cell_variants, forward, init_parameters,
                                     parameter_shapes)

CELLS = cell_variants()
# (T, B, I, hidden sizes): batch 1, one step, hidden 1, several layers.
SHAPES = [(6, 4, 3, (5,)), (1, 3, 2, (4,)), (5, 1, 1, (1,)), (7, 2, 3, (6, 1, 4))]


def _problem(cell, shape, seed, dtype=np.float64, dropout=0.0):
    """Random parameters (peepholes too), input, states and output gradients."""
    T, B, I, sizes = shape
    rng = np.random.RandomState(seed)
    flat, layers = init_parameters(cell, I, sizes, rng, dtype)
    flat[...] = rng.uniform(-0.8, 0.8, flat.shape)  # peepholes away from zero
    x = rng.randn(T, B, I).astype(dtype)
    h0 = [rng.randn(B, s).astype(dtype) * 0.5 for s in sizes]
    c0 = [rng.randn(B, s).astype(dtype) * 0.5 for s in sizes] if cell.has_cell_state else None
    d_out = rng.randn(T, B, sizes[-1]).astype(dtype)
    d_hn = [rng.randn(B, s).astype(dtype) for s in sizes]
    d_cn = [rng.randn(B, s).astype(dtype) for s in sizes] if cell.has_cell_state else None
    masks = None
    if dropout:
        masks = [(rng.rand(T, B, s) >= dropout).astype(dtype) / dtype(1 - dropout)
                 for s in sizes[:-1]] or None
    return flat, layers, x, h0, c0, d_out, d_hn, d_cn, masks


def _rel(a, b, floor):
    """Largest difference relative to the reference's largest entry (or ``floor``)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), floor)


def _assert_close(got, want, tol, what):
    # float32 results are compared on the scale of the problem (inputs and
    # output gradients are O(1)): a vanished gradient of 1e-8 has no
    # float32 digits to compare, only an absolute error.
    floor = 1e-2 if np.asarray(got).dtype == np.float32 else 1e-300
    err = _rel(got, want, floor)
    assert err < tol, f"{what}: relative error {err:.3g} >= {tol}"


def _compare(result_fwd, result_bwd, want_fwd, want_bwd, tol, cell):
    out, h_n, c_n, _ = want_fwd
    grads, dx, dh0, dc0, norms = want_bwd
    _assert_close(result_fwd.output, out, tol, "output")
    for l, (got, want) in enumerate(zip(result_fwd.h_n, h_n)):
        _assert_close(got, want, tol, f"h_n[{l}]")
    _assert_close(result_bwd.dx, dx, tol, "dx")
    for l, (got_l, want_l) in enumerate(zip(result_bwd.grads, grads)):
        for name in want_l:
            _assert_close(got_l[name], want_l[name], tol, f"layer {l} {name}")
        _assert_close(result_bwd.dh0[l], dh0[l], tol, f"dh0[{l}]")
        _assert_close(result_bwd.step_norms[l], norms[l], tol, f"step_norms[{l}]")
        if cell.has_cell_state:
            _assert_close(result_fwd.c_n[l], c_n[l], tol, f"c_n[{l}]")
            _assert_close(result_bwd.dc0[l], dc0[l], tol, f"dc0[{l}]")


@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "T{}B{}I{}H{}".format(*s))
@pytest.mark.parametrize("options", [{}, {"tbptt_steps": 2}, {"clip_hidden_norm": 0.7},
                                     {"tbptt_steps": 3, "clip_hidden_norm": 1.0, "dropout": 0.4}],
                         ids=["full", "tbptt2", "hclip", "tbptt-hclip-dropout"])
def test_kernels_match_numpy_reference(cell, shape, options):
    options = dict(options)
    dropout = options.pop("dropout", 0.0)
    flat, layers, x, h0, c0, d_out, d_hn, d_cn, masks = _problem(cell, shape, 0, dropout=dropout)
    want_fwd = ref.forward(cell, layers, x, h0, c0, masks)
    want_bwd = ref.backward(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn, **options)
    for dtype, tol in ((np.float64, 1e-9), (np.float32, 1e-4)):
        cast = (lambda a: None if a is None else [v.astype(dtype) for v in a])
        layers_d = [{k: v.astype(dtype) for k, v in layer.items()} for layer in layers]
        fwd = forward(cell, layers_d, x.astype(dtype), cast(h0), cast(c0), masks=cast(masks))
        bwd = backward(fwd.cache, d_out.astype(dtype), cast(d_hn), cast(d_cn), **options)
        assert fwd.output.dtype == dtype and bwd.dx.dtype == dtype
        _compare(fwd, bwd, want_fwd, want_bwd, tol, cell)


def _objective(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn):
    fwd = forward(cell, layers, x, h0, c0, masks=masks)
    total = np.sum(fwd.output * d_out) + sum(np.sum(h * d) for h, d in zip(fwd.h_n, d_hn))
    if cell.has_cell_state:
        total += sum(np.sum(c * d) for c, d in zip(fwd.c_n, d_cn))
    return total


def _truncated_objective(cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn, k, states):
    """The objective whose plain gradient is the truncated-BPTT gradient.

    Blocks of ``k`` steps counted back from the end each start from the
    states of the unperturbed run (``states``), held constant, except the
    first block, which starts from ``h0`` and ``c0``.
    """
    T = x.shape[0]
    starts = sorted({max(T - k * m, 0) for m in range(1, T // k + 2)})
    total = 0.0
    for s, e in zip(starts, starts[1:] + [T]):
        hs = h0 if s == 0 else [h[s] for h in states["h"]]
        cs = c0 if s == 0 else (None if c0 is None else [c[s] for c in states["c"]])
        ms = None if masks is None else [m[s:e] for m in masks]
        fwd = forward(cell, layers, np.ascontiguousarray(x[s:e]), hs, cs, masks=ms)
        total += np.sum(fwd.output * d_out[s:e])
        if e == T:
            total += sum(np.sum(h * d) for h, d in zip(fwd.h_n, d_hn))
            if cell.has_cell_state:
                total += sum(np.sum(c * d) for c, d in zip(fwd.c_n, d_cn))
    return total


@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
@pytest.mark.parametrize("tbptt_steps", [None, 2], ids=["full", "tbptt2"])
@pytest.mark.parametrize("sizes", [(3,), (3, 2)], ids=["1layer", "2layers"])
def test_gradients_match_finite_differences(cell, tbptt_steps, sizes):
    shape = (5, 2, 2, sizes)
    flat, layers, x, h0, c0, d_out, d_hn, d_cn, masks = _problem(cell, shape, 1, dropout=0.3)
    fwd = forward(cell, layers, x, h0, c0, masks=masks)
    bwd = backward(fwd.cache, d_out, d_hn, d_cn, tbptt_steps=tbptt_steps)
    args = (cell, layers, x, h0, c0, masks, d_out, d_hn, d_cn)
    if tbptt_steps is None:
        objective = lambda: _objective(*args)  # noqa: E731
    else:
        states = {"h": [h for h, _, _, _ in fwd.cache.states],
                  "c": [c for _, c, _, _ in fwd.cache.states]}
        objective = lambda: _truncated_objective(*args, tbptt_steps, states)  # noqa: E731

    def numeric(array):
        grad = np.empty_like(array)
        for index in np.ndindex(array.shape):
            old = array[index]
            array[index] = old + 1e-6
            up = objective()
            array[index] = old - 1e-6
            down = objective()
            array[index] = old
            grad[index] = (up - down) / 2e-6
        return grad

    for l, layer in enumerate(layers):
        for name, value in layer.items():
            _assert_close(bwd.grads[l][name], numeric(value), 1e-7, f"layer {l} {name}")
        _assert_close(bwd.dh0[l], numeric(h0[l]), 1e-7, f"dh0[{l}]")
        if cell.has_cell_state:
            _assert_close(bwd.dc0[l], numeric(c0[l]), 1e-7, f"dc0[{l}]")
    _assert_close(bwd.dx, numeric(x), 1e-7, "dx")
    if cell.coupled_gates:  # the forget-gate rows are unused
        for l, size in enumerate(sizes):
            assert not bwd.grads[l]["weight_hh"][size:2 * size].any()


@pytest.mark.parametrize("name", ref.TORCH_CASES)
@pytest.mark.parametrize("variant", ["float64", "float32", "tbptt"])
def test_kernels_match_pytorch(name, variant):
    case = ref.load_torch_case(name)
    spec = case["cell"]
    cell = Cell(spec["kind"], activation=spec["activation"])
    dtype, tol = (np.float32, 1e-4) if variant == "float32" else (np.float64, 1e-9)
    cast = (lambda a: None if a is None else [np.asarray(v, dtype) for v in a])
    layers = [{k: np.asarray(v, dtype) for k, v in layer.items()} for layer in case["layers"]]
    fwd = forward(cell, layers, case["x"].astype(dtype), cast(case["h0"]), cast(case["c0"]),
                  masks=cast(case["masks"]))
    tbptt_steps = case["tbptt_k"] if variant == "tbptt" else None
    bwd = backward(fwd.cache, case["d_output"].astype(dtype), cast(case["d_hn"]),
                   cast(case["d_cn"]), tbptt_steps=tbptt_steps)
    want = case[variant]
    _assert_close(fwd.output, want["output"], tol, "output")
    _assert_close(bwd.dx, want["dx"], tol, "dx")
    for l, grads in enumerate(want["grads"]):
        _assert_close(fwd.h_n[l], want["h_n"][l], tol, f"h_n[{l}]")
        _assert_close(bwd.dh0[l], want["dh0"][l], tol, f"dh0[{l}]")
        if cell.has_cell_state:
            _assert_close(fwd.c_n[l], want["c_n"][l], tol, f"c_n[{l}]")
            _assert_close(bwd.dc0[l], want["dc0"][l], tol, f"dc0[{l}]")
        for key, value in grads.items():
            _assert_close(bwd.grads[l][key], value, tol, f"layer {l} {key}")


@pytest.mark.parametrize("cell", [Cell(name) for name in SPECS], ids=list(SPECS))
def test_results_are_bit_identical_across_runs(cell):
    flat, layers, x, h0, c0, d_out, d_hn, d_cn, _ = _problem(cell, (9, 17, 3, (33, 20)), 2, np.float32)
    runs = []
    for _ in range(2):
        fwd = forward(cell, layers, x, h0, c0, dropout=0.25, seed=7)
        bwd = backward(fwd.cache, d_out, d_hn, d_cn, tbptt_steps=4)
        runs.append([fwd.output, bwd.dx] + [g for layer in bwd.grads for g in layer.values()])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


def test_dropout_needs_a_seed_and_is_inverted():
    cell = Cell("gru")
    flat, layers, x, *_ = _problem(cell, (4, 50, 2, (30, 3)), 3)
    with pytest.raises(ValueError, match="seed"):
        forward(cell, layers, x, dropout=0.5)
    fwd = forward(cell, layers, x, dropout=0.5, seed=1)
    mask = fwd.cache.masks[0]
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert 0.4 < (mask == 0).mean() < 0.6
    assert not np.array_equal(mask, forward(cell, layers, x, dropout=0.5, seed=2).cache.masks[0])
    no_dropout = forward(cell, layers, x)
    assert no_dropout.cache.masks is None


def test_every_cell_of_the_specification_is_everywhere_it_is_needed():
    """One record per cell (cells/spec.py): the regressors, the command line's models, the
    layout of the parameters and the reference's gate table follow it."""
    from seqforecast.cells.spec import BY_CODE
    from seqforecast.cli import MODELS
    from seqforecast.estimators import REGRESSORS

    assert set(REGRESSORS) == set(SPECS) == set(MODELS)
    assert [spec.code for spec in BY_CODE] == list(range(len(SPECS)))
    for name, spec in SPECS.items():
        cell = Cell(name)
        assert cell.spec is spec and REGRESSORS[name]()._cell() == cell
        assert BY_CODE[spec.code] is spec
        assert cell.n_gates == spec.n_gates == ref.GATES[name]
        assert cell.has_cell_state == spec.cell_state
        layer = parameter_shapes(cell, 3, [5])[0]
        assert layer["weight_ih"] == (5 * spec.n_gates, 3)
        assert layer["weight_hh"] == (5 * spec.n_gates, 5)


_HASH_OF_RESULTS = """
import hashlib, itertools, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_recurrent import _problem
from seqforecast import config
from seqforecast.recurrent import Cell, backward, forward


def digest():
    digest = hashlib.sha256()
    for kind, dtype in itertools.product(("lstm", "gru", "rnn"), (np.float32, np.float64)):
        cell = Cell(kind)
        _, layers, x, *_, d_out, _, _, _ = _problem(cell, (9, 7, 3, (13, 5)), 0, dtype)
        fwd = forward(cell, layers, x)
        bwd = backward(fwd.cache, d_out, tbptt_steps=4, clip_hidden_norm=0.5)
        for array in [fwd.output, bwd.dx] + [g for layer in bwd.grads for g in layer.values()]:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


for threads in sys.argv[1]:  # 1: every kernel called once; 2: in two blocks at once
    config.KERNEL_ROW_THREADS, config.ROW_BLOCK_WORK = int(threads), 1
    print(digest())
"""


def test_results_are_the_same_whether_the_kernels_were_compiled_or_loaded_from_numba_s_cache(
        tmp_path):
    """A kernel compiled in this process and the same kernel loaded from Numba's cache
    (compiled by an earlier process) give bit-identical results, called alone or in
    blocks on Numba's threads, whichever runs first: the cells' loops are inlined into the
    cached kernels, and no kernel reassociates (the blocks' cached wrappers hold their own
    copies of the kernels, optimised again)."""
    script = _HASH_OF_RESULTS.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script, order], env=env, capture_output=True,
                           text=True, check=True).stdout.split() for order in ("12", "21")]
    digests = runs[0] + runs[1]
    assert len(digests) == 4 and len(set(digests)) == 1 and len(digests[0]) == 64
    assert any(tmp_path.rglob("*.nbi"))  # the second run did load from the cache


@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_splitting_the_batch_over_threads_changes_no_bit(cell, dtype, monkeypatch):
    """The recurrences run blocks of samples, the weight gradients blocks of gate rows, on
    several threads (seqforecast.threads): every output, gradient and step norm is the same
    as on one thread.  Three blocks of 37 or 16 units' rows split gates past their first
    unit, in the vectorised loops over units (8 or 16 lanes) and in their remainders."""
    from seqforecast import config

    _, layers, x, h0, c0, d_out, d_hn, d_cn, _ = _problem(cell, (6, 11, 3, (37, 16)), 4, dtype)
    runs = []
    for threads in (1, 3):
        monkeypatch.setattr(config, "KERNEL_ROW_THREADS", threads)
        monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)  # split even tiny batches
        fwd = forward(cell, layers, x, h0, c0)
        bwd = backward(fwd.cache, d_out, d_hn, d_cn, tbptt_steps=4, clip_hidden_norm=0.5)
        runs.append([fwd.output, *fwd.h_n, bwd.dx, *bwd.dh0, *bwd.step_norms]
                    + [g for layer in bwd.grads for g in layer.values()]
                    + (list(fwd.c_n) + list(bwd.dc0) if cell.has_cell_state else []))
    for one, split in zip(*runs):
        np.testing.assert_array_equal(one, split)


@pytest.mark.parametrize("threads", [3, 1], ids=["blocks-of-3", "one-block"])
@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_samples_results_do_not_depend_on_the_rest_of_its_batch(cell, dtype, threads,
                                                                   monkeypatch):
    """Each sample's states and gradients w.r.t. its input and initial states are
    bit-identical alone, in a batch and in a permuted batch, the batches split over threads
    (blocks that start past row 0) or in one block (whose first 8 rows run the products'
    register tiles, the 9th their row loop).  Hidden sizes of 37 and 16 run the vectorised
    loops over units (8 and 16 lanes) and their remainders."""
    from seqforecast import config

    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", threads)
    monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)  # split even tiny batches
    _, layers, x, h0, c0, d_out, d_hn, d_cn, _ = _problem(cell, (5, 9, 3, (37, 16)), 4, dtype)
    state = cell.has_cell_state

    def per_sample(rows):
        take = [s[rows] for s in h0], [s[rows] for s in c0] if state else None
        fwd = forward(cell, layers, x[:, rows], *take)
        bwd = backward(fwd.cache, d_out[:, rows], [s[rows] for s in d_hn],
                       [s[rows] for s in d_cn] if state else None, tbptt_steps=3,
                       clip_hidden_norm=0.5)
        results = [fwd.output, bwd.dx]  # (T, B, .), then (B, .)
        by_row = [*fwd.h_n, *bwd.dh0] + (list(fwd.c_n) + list(bwd.dc0) if state else [])
        return [r.swapaxes(0, 1) for r in results] + by_row  # every result sample-major

    batch = per_sample(np.arange(9))
    order = np.random.RandomState(0).permutation(9)
    for got, want in zip(per_sample(order), batch):
        np.testing.assert_array_equal(got, want[order])
    for b in range(9):
        for got, want in zip(per_sample(np.array([b])), batch):
            np.testing.assert_array_equal(got[0], want[b])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accumulate", [False, True])
def test_the_register_tiles_give_the_row_loops_bits(accumulate, dtype):
    """matmul_panels (tiles of 4 rows by a panel of 64 bytes of columns, the rows past them
    in tiles of a row by 4 panels) against matmul (row loops): the same bits for every row
    and column count around the tiles' edges, ``a`` strided or not, and NumPy's product
    within rounding."""
    from seqforecast.cpu.products import matmul, matmul_panels, pack_panels

    rng = np.random.RandomState(0)
    for M in (0, 1, 3, 4, 5, 9, 64):
        for K in (1, 5, 16):
            for N in (1, 7, 8, 16, 17, 37, 64, 148):
                b = rng.randn(K, N).astype(dtype)
                for a in (rng.randn(M, K).astype(dtype), rng.randn(K, M).astype(dtype).T):
                    start = rng.randn(M, N).astype(dtype)
                    want, got = start.copy(), start.copy()
                    matmul(a, b, want, accumulate)
                    matmul_panels(a, pack_panels(b, 1)[0], got, accumulate)
                    np.testing.assert_array_equal(got, want, err_msg=f"M={M} K={K} N={N}")
                    exact = a.astype(np.float64) @ b + (start if accumulate else 0)
                    tol = 1e-5 if dtype == np.float32 else 1e-13
                    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol * K)


def test_the_panels_are_the_weights_columns():
    """pack_panels: panels of 16 float32 (8 float64) columns per group of rows, the last one
    padded with zeros."""
    from seqforecast.cpu.products import pack_panels

    b = np.arange(2 * 3 * 40, dtype=np.float32).reshape(6, 40)
    panels = pack_panels(b, 2)
    assert panels.shape == (2, 3, 3, 16)
    np.testing.assert_array_equal(panels[1, 1], b[3:6, 16:32])
    np.testing.assert_array_equal(panels[0, 2], np.c_[b[0:3, 32:], np.zeros((3, 8))])
    assert pack_panels(b.astype(np.float64), 1).shape == (1, 5, 6, 8)


def test_panels_of_another_product_are_refused():
    """matmul_panels with panels packed for another b raises instead of leaving columns
    unwritten (or reading past the panels)."""
    from seqforecast.cpu.products import matmul_panels, pack_panels

    a, b = np.ones((9, 5), np.float32), np.ones((5, 37), np.float32)
    out = np.zeros((9, 37), np.float32)
    for panels in (pack_panels(b[:, :30], 1)[0], pack_panels(b[:4], 1)[0]):
        with pytest.raises(ValueError, match="pack_panels"):
            matmul_panels(a, panels, out, False)
    matmul_panels(a, pack_panels(b, 1)[0], out, False)
    np.testing.assert_array_equal(out, 5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(200, 7, 33), (131, 33, 7), (64, 1, 5), (3, 5, 1),
                                   (0, 3, 4), (0, 4, 3), (200, 16, 16), (131, 16, 1),
                                   (200, 8, 8), (131, 8, 1)],
                         ids=lambda s: "R{}N{}K{}".format(*s))
def test_the_weight_gradients_product_is_a_transposed_product(shape, dtype):
    """matmul_tn, a.T @ b in blocks of rows (not a multiple of the block here): NumPy's
    product (zeros for no rows), and the same bits as the blocks' products ``a.T @ b``
    added in order, whichever side its inner loop runs over, and whether the side it packs
    is one panel wide (16 float32 or 8 float64 columns: used as it is) or not (packed)."""
    from seqforecast.config import TN_ROWS
    from seqforecast.cpu.products import matmul, matmul_tn

    R, N, K = shape
    rng = np.random.RandomState(0)
    a, b = rng.randn(R, N).astype(dtype), rng.randn(R, K).astype(dtype)
    out = np.full((N, K), np.nan, dtype)
    matmul_tn(a, b, out)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, a.astype(np.float64).T @ b, rtol=tol, atol=tol * R)
    blocks = np.zeros((N, K), dtype)
    for r in range(0, R, TN_ROWS):
        matmul(np.ascontiguousarray(a[r:r + TN_ROWS].T), b[r:r + TN_ROWS], blocks, True)
    np.testing.assert_array_equal(out, blocks)


@pytest.mark.parametrize("features", [1, 2, 3])
@pytest.mark.parametrize("cell", CELLS, ids=ref.cell_ids(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_features_are_projected_with_the_bits_of_many(cell, dtype, features):
    """A step's input projections run one pass per row and gate for fewer than 4 features,
    matmul for more: a stack given 1-3 features, and the same stack given 4 with the
    others zero (zero weights too), compute the same bits."""
    _, layers, x, *_ = _problem(cell, (6, 9, features, (7, 5)), 2, dtype)
    wide = [dict(layer) for layer in layers]
    extra = 4 - features
    wide[0]["weight_ih"] = np.concatenate(
        [layers[0]["weight_ih"], np.zeros((len(layers[0]["weight_ih"]), extra), dtype)], axis=1)
    x_wide = np.concatenate([x, np.zeros(x.shape[:2] + (extra,), dtype)], axis=2)
    few, many = forward(cell, layers, x), forward(cell, wide, x_wide)
    np.testing.assert_array_equal(few.output, many.output)
    for got, want in zip(few.h_n, many.h_n):
        np.testing.assert_array_equal(got, want)


def _split_forward_in_child(_):
    from seqforecast import config

    config.KERNEL_ROW_THREADS, config.ROW_BLOCK_WORK = 2, 1
    cell = Cell("gru")
    _, layers, x, *_ = _problem(cell, (4, 6, 2, (5,)), 1)
    return forward(cell, layers, x).output


def test_a_forked_child_runs_the_threaded_recurrences(monkeypatch):
    """A process forked after the recurrences ran in blocks on Numba's threads runs them too
    (on one thread where the parent's threads are OpenMP's, which GNU's runtime does not
    survive: a launch there would abort the child), with the same results."""
    import multiprocessing

    from seqforecast import config, threads

    monkeypatch.setattr(config, "KERNEL_ROW_THREADS", 2)
    monkeypatch.setattr(config, "ROW_BLOCK_WORK", 1)
    want = _split_forward_in_child(None)
    assert threads._threading_layer() is not None  # the parent launched Numba's threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.map_async(_split_forward_in_child, [None]).get(timeout=60)[0]
    np.testing.assert_array_equal(got, want)


def test_borrowed_views_read_and_write_the_arrays_they_borrow():
    """The kernels' arguments as views that count no references (seqforecast.cpu.borrow):
    views taken from them read and write the caller's arrays and have no owner; numbers
    pass through; what is neither an array, a number nor a tuple of them is refused."""
    import sys

    from numba import njit
    from numba.core.errors import TypingError

    from seqforecast.cpu.borrow import borrow
    from seqforecast.records import LayerStates

    @njit
    def fill_rows(states, scale, first, stop):
        states, scale = borrow((states, scale))
        for t in range(states.h.shape[0]):
            states.h[t, first:stop] = scale * t
        return states.c[:, first:stop].sum()

    h, c = np.zeros((3, 5, 2)), np.arange(30.0).reshape(3, 5, 2)
    states = LayerStates(h, c, np.zeros((1, 3, 5, 2)), np.zeros((0, 0, 0)))
    references = sys.getrefcount(h)
    assert fill_rows(states, 2.0, 1, 4) == c[:, 1:4].sum()
    assert sys.getrefcount(h) == references
    want = np.zeros((3, 5, 2))
    want[:, 1:4] = 2.0 * np.arange(3)[:, None, None]
    np.testing.assert_array_equal(h, want)

    @njit
    def borrowed_view(a):  # a probe only: kernels never let a borrowed view escape
        return borrow(a)[1:]

    @njit
    def owned_view(a):
        return a[1:]

    assert owned_view(c).base is not None  # a view keeps its owner (Numba's meminfo) alive
    view = borrowed_view(c)
    assert view.base is None and not view.flags.owndata  # no owner: nothing was counted
    np.testing.assert_array_equal(view, c[1:])

    @njit
    def borrow_anything(value):
        return borrow(value)

    with pytest.raises(TypingError, match="borrow takes arrays, numbers and tuples"):
        borrow_anything("text")
