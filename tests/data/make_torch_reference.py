"""Write the PyTorch reference cases ``tests/data/torch_<case>.npz``.

Run once, by hand, with torch installed::

    python tests/data/make_torch_reference.py

The tests never import torch; they read the ``.npz`` files through
``tests/reference.py:load_torch_case``.

For each case (RNN tanh, RNN relu, LSTM, GRU) a 2-layer stack with
different hidden sizes is built from single-layer torch modules
(``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, ``num_layers=1``) so that an
explicit dropout mask can be applied between the layers.  With torch
autograd we compute the outputs, final states and the gradients of

    J = sum(out * d_output) + sum_l sum(h_n[l] * d_hn[l])
        (+ sum_l sum(c_n[l] * d_cn[l]) for LSTM)

w.r.t. all weights, biases, the input and the initial states, three times:

* ``float64``: in float64, full BPTT;
* ``float32``: the same inputs cast to float32, computed in float32;
* ``tbptt``: float64, truncated BPTT with k = TBPTT_K: the sequence is run in
  chunks counted back from the end (the first chunk has ``T % k`` steps if
  that is nonzero), with h and c detached between chunks.

All random inputs except the masks are rounded to float32-representable
values, so the float32 run sees the same numbers as the float64 runs (the
mask value 1/(1-p) is rounded when cast to float32).

Array names in each npz (``l`` is the layer index, ``run`` is one of
``float64``, ``float32``, ``tbptt``; float32 results are stored as float32):

* scalars/strings: ``torch_version``, ``kind``, ``activation``,
  ``num_layers``, ``hidden_sizes``, ``T``, ``B``, ``I``, ``dropout_p``,
  ``tbptt_k``, ``seed``
* inputs: ``x`` (T, B, I), ``l{l}_weight_ih`` (G*H, I_l), ``l{l}_weight_hh``
  (G*H, H), ``l{l}_bias_ih`` (G*H,), ``l{l}_bias_hh`` (G*H,), ``l{l}_h0``
  (B, H), ``l{l}_c0`` (LSTM), ``mask{l}`` (T, B, H_l) for l < L-1,
  ``d_output`` (T, B, H_{L-1}), ``l{l}_d_hn`` (B, H), ``l{l}_d_cn`` (LSTM)
* results: ``{run}_output``, ``{run}_l{l}_h_n``, ``{run}_l{l}_c_n`` (LSTM),
  ``{run}_l{l}_grad_{weight_ih,weight_hh,bias_ih,bias_hh}``, ``{run}_dx``,
  ``{run}_l{l}_dh0``, ``{run}_l{l}_dc0`` (LSTM)
"""

import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

T, B, I = 7, 3, 2
HIDDEN_SIZES = (5, 4)
DROPOUT_P = 0.3
TBPTT_K = 3
WEIGHT_SCALE = 0.6

# name -> (kind, activation, seed)
CASES = {
    "rnn_tanh": ("rnn", "tanh", 1),
    "rnn_relu": ("rnn", "relu", 2),
    "lstm": ("lstm", "tanh", 3),
    "gru": ("gru", "tanh", 4),
}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
PARAM_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def f32_exact(a):
    """Round a float64 array to the nearest float32 value, kept as float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_inputs(kind, seed):
    """Random case inputs (numpy float64, float32-representable except masks).

    Returns
    -------
    inp : dict
        'x' (T, B, I), 'layers' list of dicts of parameters, 'h0', 'c0'
        (lists of (B, H_l); c0 None unless LSTM), 'masks' (list of
        (T, B, H_l), L-1 arrays), 'd_output' (T, B, H_{L-1}), 'd_hn',
        'd_cn' (lists of (B, H_l); d_cn None unless LSTM).
    """
    rng = np.random.default_rng(seed)
    G = GATES[kind]
    layers = []
    n_in = I
    for H in HIDDEN_SIZES:
        s = WEIGHT_SCALE
        layers.append({
            "weight_ih": f32_exact(rng.uniform(-s, s, (G * H, n_in))),
            "weight_hh": f32_exact(rng.uniform(-s, s, (G * H, H))),
            "bias_ih": f32_exact(rng.uniform(-s, s, (G * H,))),
            "bias_hh": f32_exact(rng.uniform(-s, s, (G * H,))),
        })
        n_in = H
    lstm = kind == "lstm"
    inp = {
        "x": f32_exact(rng.normal(size=(T, B, I))),
        "layers": layers,
        "h0": [f32_exact(0.5 * rng.normal(size=(B, H))) for H in HIDDEN_SIZES],
        "c0": ([f32_exact(0.5 * rng.normal(size=(B, H))) for H in HIDDEN_SIZES]
               if lstm else None),
        "masks": [(rng.uniform(size=(T, B, H)) >= DROPOUT_P) / (1.0 - DROPOUT_P)
                  for H in HIDDEN_SIZES[:-1]],
        "d_output": f32_exact(rng.normal(size=(T, B, HIDDEN_SIZES[-1]))),
        "d_hn": [f32_exact(rng.normal(size=(B, H))) for H in HIDDEN_SIZES],
        "d_cn": ([f32_exact(rng.normal(size=(B, H))) for H in HIDDEN_SIZES]
                 if lstm else None),
    }
    return inp


def build_modules(kind, activation, layers, dtype):
    """Single-layer torch modules holding the given parameters."""
    modules = []
    n_in = I
    for H, p in zip(HIDDEN_SIZES, layers):
        if kind == "rnn":
            m = torch.nn.RNN(n_in, H, num_layers=1, nonlinearity=activation)
        elif kind == "lstm":
            m = torch.nn.LSTM(n_in, H, num_layers=1)
        else:
            m = torch.nn.GRU(n_in, H, num_layers=1)
        m = m.to(dtype)
        with torch.no_grad():
            for key in PARAM_KEYS:
                getattr(m, key + "_l0").copy_(torch.tensor(p[key], dtype=dtype))
        modules.append(m)
        n_in = H
    return modules


def run_case(kind, activation, inp, dtype, tbptt=None):
    """Forward + autograd backward of the stack in torch.

    Parameters
    ----------
    kind, activation : str
    inp : dict
        From :func:`make_inputs`.
    dtype : torch.dtype
    tbptt : int or None
        Truncation length (chunks counted back from the end, states
        detached between chunks), or None for full BPTT.

    Returns
    -------
    res : dict of numpy arrays, keys as in the module docstring without the
        ``{run}_`` prefix.
    """
    lstm = kind == "lstm"
    L = len(HIDDEN_SIZES)
    modules = build_modules(kind, activation, inp["layers"], dtype)

    def tens(a, grad=False):
        return torch.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)

    x = tens(inp["x"], grad=True)
    h0 = [tens(h, grad=True) for h in inp["h0"]]
    c0 = [tens(c, grad=True) for c in inp["c0"]] if lstm else None
    masks = [tens(m) for m in inp["masks"]]

    # chunk boundaries counted back from the end
    if tbptt is None:
        starts = [0]
    else:
        first = T % tbptt if T % tbptt else tbptt
        starts = [0] + list(range(first, T, tbptt))
    ends = starts[1:] + [T]

    h = [hh.unsqueeze(0) for hh in h0]               # (1, B, H) per layer
    c = [cc.unsqueeze(0) for cc in c0] if lstm else None
    outputs = []
    for k, (s, e) in enumerate(zip(starts, ends)):
        if k > 0:
            h = [hh.detach() for hh in h]
            if lstm:
                c = [cc.detach() for cc in c]
        layer_in = x[s:e]
        for l, m in enumerate(modules):
            if lstm:
                out, (h[l], c[l]) = m(layer_in, (h[l], c[l]))
            else:
                out, h[l] = m(layer_in, h[l])
            if l < L - 1:
                layer_in = out * masks[l][s:e]
        outputs.append(out)
    output = torch.cat(outputs, dim=0)
    h_n = [hh[0] for hh in h]
    c_n = [cc[0] for cc in c] if lstm else None

    J = (output * tens(inp["d_output"])).sum()
    for l in range(L):
        J = J + (h_n[l] * tens(inp["d_hn"][l])).sum()
        if lstm:
            J = J + (c_n[l] * tens(inp["d_cn"][l])).sum()
    J.backward()

    def npy(t):
        return t.detach().numpy().copy()

    res = {"output": npy(output), "dx": npy(x.grad)}
    for l in range(L):
        res["l%d_h_n" % l] = npy(h_n[l])
        res["l%d_dh0" % l] = npy(h0[l].grad)
        if lstm:
            res["l%d_c_n" % l] = npy(c_n[l])
            res["l%d_dc0" % l] = npy(c0[l].grad)
        for key in PARAM_KEYS:
            res["l%d_grad_%s" % (l, key)] = npy(getattr(modules[l], key + "_l0").grad)
    return res


def make_case(name):
    """Compute all runs of case ``name`` and write ``torch_<name>.npz``."""
    kind, activation, seed = CASES[name]
    inp = make_inputs(kind, seed)
    lstm = kind == "lstm"
    L = len(HIDDEN_SIZES)
    arrays = {
        "torch_version": np.array(torch.__version__),
        "kind": np.array(kind),
        "activation": np.array(activation),
        "num_layers": np.array(L),
        "hidden_sizes": np.array(HIDDEN_SIZES),
        "T": np.array(T), "B": np.array(B), "I": np.array(I),
        "dropout_p": np.array(DROPOUT_P),
        "tbptt_k": np.array(TBPTT_K),
        "seed": np.array(seed),
        "x": inp["x"],
        "d_output": inp["d_output"],
    }
    for l in range(L):
        for key in PARAM_KEYS:
            arrays["l%d_%s" % (l, key)] = inp["layers"][l][key]
        arrays["l%d_h0" % l] = inp["h0"][l]
        arrays["l%d_d_hn" % l] = inp["d_hn"][l]
        if lstm:
            arrays["l%d_c0" % l] = inp["c0"][l]
            arrays["l%d_d_cn" % l] = inp["d_cn"][l]
    for l, m in enumerate(inp["masks"]):
        arrays["mask%d" % l] = m

    runs = {
        "float64": run_case(kind, activation, inp, torch.float64),
        "float32": run_case(kind, activation, inp, torch.float32),
        "tbptt": run_case(kind, activation, inp, torch.float64, tbptt=TBPTT_K),
    }
    for run, res in runs.items():
        for key, value in res.items():
            arrays["%s_%s" % (run, key)] = value

    path = os.path.join(HERE, "torch_%s.npz" % name)
    np.savez_compressed(path, **arrays)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


def main():
    """Write every case in CASES."""
    torch.use_deterministic_algorithms(True)
    for name in CASES:
        make_case(name)


if __name__ == "__main__":
    main()
