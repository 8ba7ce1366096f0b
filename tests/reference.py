"""Slow, obvious float64 NumPy reference for stacked recurrent layers.

This module is the ground truth the fast Numba kernels of ``seqforecast``
are tested against.  It is pure NumPy (no numba, no torch) and written to
be read, not to be fast: every loop runs per layer and per time step.

Conventions
-----------
* Inputs are time-major: ``x`` has shape ``(T, B, I)``.
* A network is a list of layers.  Layer ``l`` is a dict with keys

  - ``'weight_ih'`` : ``(G*H_l, I_l)``
  - ``'weight_hh'`` : ``(G*H_l, H_l)``
  - ``'bias_ih'``   : ``(G*H_l,)``
  - ``'bias_hh'``   : ``(G*H_l,)``
  - ``'peephole'``  : ``(3, H_l)`` rows ``(p_i, p_f, p_o)``; LSTM with
    peepholes only.

  ``G`` is 1 (RNN), 4 (LSTM, gate order i, f, g, o) or 3 (GRU, gate order
  r, z, n), exactly as in PyTorch.  ``I_0`` is the number of input features
  and ``I_l = H_{l-1}`` for ``l > 0``.
* A cell is described by ``kind`` in {'rnn', 'lstm', 'gru'}, ``activation``
  in {'tanh', 'relu'} (rnn only), ``peephole`` (bool, lstm only) and
  ``coupled_gates`` (bool, lstm only, ``f = 1 - i``).  See :func:`make_cell`.
* Dropout between layers: the input of layer ``l+1`` is ``h^l * masks[l]``
  with ``masks[l]`` of shape ``(T, B, H_l)``; ``masks=None`` means none.
* Initial states ``h0`` / ``c0`` are lists of ``(B, H_l)`` arrays (``c0``
  for LSTM only); ``None`` means zeros.
"""

import os

import numpy as np

from seqforecast.cells.spec import SPECS

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

GATES = {name: spec.n_gates for name, spec in SPECS.items()}


def cell_ids(cells):
    """Test ids of :class:`seqforecast.recurrent.Cell` objects: 'lstm-tanh-peep'."""
    return [f"{c.kind}-{c.activation}{'-peep' if c.peephole else ''}"
            f"{'-coupled' if c.coupled_gates else ''}" for c in cells]


# ---------------------------------------------------------------------------
# Cell description and small helpers
# ---------------------------------------------------------------------------

def make_cell(kind, activation="tanh", peephole=False, coupled_gates=False):
    """Build a cell description dict.

    Parameters
    ----------
    kind : {'rnn', 'lstm', 'gru'}
    activation : {'tanh', 'relu'}
        Only used by 'rnn'.
    peephole, coupled_gates : bool
        Only used by 'lstm'.

    Returns
    -------
    cell : dict
        Keys 'kind', 'activation', 'peephole', 'coupled_gates'.
    """
    cell = {"kind": kind, "activation": activation,
            "peephole": bool(peephole), "coupled_gates": bool(coupled_gates)}
    return _cell_spec(cell)


def _cell_spec(cell):
    """Normalise a cell description (str, dict or object with attributes).

    Returns
    -------
    cell : dict
        Keys 'kind', 'activation', 'peephole', 'coupled_gates' with the
        options that do not apply to ``kind`` set to their defaults.
    """
    if isinstance(cell, str):
        cell = {"kind": cell}
    if isinstance(cell, dict):
        get = cell.get
    else:
        def get(key, default=None):
            return getattr(cell, key, default)
    kind = get("kind")
    activation = get("activation", "tanh") or "tanh"
    peephole = bool(get("peephole", False))
    coupled_gates = bool(get("coupled_gates", False))
    if kind not in GATES:
        raise ValueError("unknown cell kind %r" % (kind,))
    if activation not in ("tanh", "relu"):
        raise ValueError("unknown activation %r" % (activation,))
    if kind != "rnn":
        activation = "tanh"
    if kind != "lstm":
        peephole = False
        coupled_gates = False
    return {"kind": kind, "activation": activation,
            "peephole": peephole, "coupled_gates": coupled_gates}


def sigmoid(a):
    """Logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-a))


def init_layers(cell, input_size, hidden_sizes, rng, scale=0.5):
    """Random float64 layers in the reference convention.

    Parameters
    ----------
    cell : str, dict or object
        Cell description (see :func:`make_cell`).
    input_size : int
        Number of input features ``I``.
    hidden_sizes : sequence of int
        ``(H_0, ..., H_{L-1})``.
    rng : numpy.random.Generator
    scale : float
        Entries are uniform in ``[-scale, scale]``.

    Returns
    -------
    layers : list of dict
        See the module docstring for keys and shapes.
    """
    cell = _cell_spec(cell)
    G = GATES[cell["kind"]]
    layers = []
    n_in = input_size
    for H in hidden_sizes:
        layer = {
            "weight_ih": rng.uniform(-scale, scale, (G * H, n_in)),
            "weight_hh": rng.uniform(-scale, scale, (G * H, H)),
            "bias_ih": rng.uniform(-scale, scale, (G * H,)),
            "bias_hh": rng.uniform(-scale, scale, (G * H,)),
        }
        if cell["peephole"]:
            layer["peephole"] = rng.uniform(-scale, scale, (3, H))
        layers.append(layer)
        n_in = H
    return layers


def make_masks(rng, T, B, hidden_sizes, p):
    """Random inverted-dropout masks between layers.

    Parameters
    ----------
    rng : numpy.random.Generator
    T, B : int
        Sequence length and batch size.
    hidden_sizes : sequence of int
        ``(H_0, ..., H_{L-1})``.
    p : float
        Drop probability.

    Returns
    -------
    masks : list of ndarray
        ``L - 1`` arrays of shape ``(T, B, H_l)`` with values 0 or
        ``1 / (1 - p)``.
    """
    masks = []
    for H in hidden_sizes[:-1]:
        keep = rng.uniform(size=(T, B, H)) >= p
        masks.append(keep.astype(np.float64) / (1.0 - p))
    return masks


def _zeros_or(states, B, hidden_sizes):
    """Return a list of float64 (B, H_l) arrays: copies of ``states`` or zeros."""
    if states is None:
        return [np.zeros((B, H)) for H in hidden_sizes]
    return [np.array(s, dtype=np.float64) for s in states]


def _hidden_sizes(layers):
    """Hidden sizes ``[H_0, ..., H_{L-1}]`` read from ``weight_hh`` (G*H, H)."""
    return [layer["weight_hh"].shape[1] for layer in layers]


# ---------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------

def forward(cell, layers, x, h0=None, c0=None, masks=None):
    """Run a stack of recurrent layers forward in float64.

    Parameters
    ----------
    cell : str, dict or object
        Cell description (see :func:`make_cell`).
    layers : list of dict
        Layer parameters (see the module docstring).
    x : ndarray, shape (T, B, I)
        Time-major input.
    h0 : list of ndarray (B, H_l), optional
        Initial hidden states; None means zeros.
    c0 : list of ndarray (B, H_l), optional
        Initial cell states (LSTM only); None means zeros.
    masks : list of ndarray (T, B, H_l), optional
        ``L - 1`` dropout masks applied to the output of layer ``l`` before
        it enters layer ``l + 1``; None means no dropout.

    Returns
    -------
    output : ndarray, shape (T, B, H_{L-1})
        Hidden state of the top layer at every step (h_1 .. h_T).
    h_n : list of ndarray (B, H_l)
        Final hidden state of every layer.
    c_n : list of ndarray (B, H_l) or None
        Final cell state of every layer (LSTM), else None.
    cache : dict
        Everything :func:`backward` needs.  ``cache['layers'][l]`` holds
        'inp' (T, B, I_l), 'h' (T+1, B, H) with h[0] = h0, and for LSTM
        'c' (T+1, B, H) plus the gate activations per step; for GRU the
        gate activations and the hidden pre-activation ``gh_n``; for RNN
        the pre-activation 'a' (T, B, H).
    """
    cell = _cell_spec(cell)
    kind = cell["kind"]
    x = np.asarray(x, dtype=np.float64)
    T, B, _ = x.shape
    hidden_sizes = _hidden_sizes(layers)
    L = len(layers)
    h0 = _zeros_or(h0, B, hidden_sizes)
    c0 = _zeros_or(c0, B, hidden_sizes) if kind == "lstm" else None

    caches = []
    h_n = []
    c_n = [] if kind == "lstm" else None
    inp = x
    for l in range(L):
        p = layers[l]
        H = hidden_sizes[l]
        W_ih = np.asarray(p["weight_ih"], dtype=np.float64)
        W_hh = np.asarray(p["weight_hh"], dtype=np.float64)
        b_ih = np.asarray(p["bias_ih"], dtype=np.float64)
        b_hh = np.asarray(p["bias_hh"], dtype=np.float64)
        lc = {"inp": inp, "h": np.zeros((T + 1, B, H))}
        lc["h"][0] = h0[l]

        if kind == "rnn":
            lc["a"] = np.zeros((T, B, H))
            for t in range(T):
                a = inp[t] @ W_ih.T + b_ih + lc["h"][t] @ W_hh.T + b_hh
                lc["a"][t] = a
                if cell["activation"] == "tanh":
                    lc["h"][t + 1] = np.tanh(a)
                else:
                    lc["h"][t + 1] = np.maximum(a, 0.0)

        elif kind == "lstm":
            if cell["peephole"]:
                pi, pf, po = np.asarray(p["peephole"], dtype=np.float64)
            else:
                pi = pf = po = np.zeros(H)
            lc["c"] = np.zeros((T + 1, B, H))
            lc["c"][0] = c0[l]
            for name in ("i", "f", "g", "o"):
                lc[name] = np.zeros((T, B, H))
            for t in range(T):
                h_prev = lc["h"][t]
                c_prev = lc["c"][t]
                a = inp[t] @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
                a_i = a[:, 0 * H:1 * H]
                a_f = a[:, 1 * H:2 * H]
                a_g = a[:, 2 * H:3 * H]
                a_o = a[:, 3 * H:4 * H]
                i = sigmoid(a_i + pi * c_prev)
                if cell["coupled_gates"]:
                    f = 1.0 - i
                else:
                    f = sigmoid(a_f + pf * c_prev)
                g = np.tanh(a_g)
                c = f * c_prev + i * g
                o = sigmoid(a_o + po * c)
                lc["i"][t], lc["f"][t], lc["g"][t], lc["o"][t] = i, f, g, o
                lc["c"][t + 1] = c
                lc["h"][t + 1] = o * np.tanh(c)

        else:  # gru
            for name in ("r", "z", "n", "ghn"):
                lc[name] = np.zeros((T, B, H))
            for t in range(T):
                h_prev = lc["h"][t]
                gi = inp[t] @ W_ih.T + b_ih
                gh = h_prev @ W_hh.T + b_hh
                r = sigmoid(gi[:, 0:H] + gh[:, 0:H])
                z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gi[:, 2 * H:3 * H] + r * gh[:, 2 * H:3 * H])
                lc["r"][t], lc["z"][t], lc["n"][t] = r, z, n
                lc["ghn"][t] = gh[:, 2 * H:3 * H]
                lc["h"][t + 1] = (1.0 - z) * n + z * h_prev

        caches.append(lc)
        h_n.append(lc["h"][T].copy())
        if kind == "lstm":
            c_n.append(lc["c"][T].copy())
        out = lc["h"][1:]
        if l < L - 1 and masks is not None:
            inp = out * np.asarray(masks[l], dtype=np.float64)
        else:
            inp = out

    output = caches[-1]["h"][1:].copy()
    cache = {"cell": cell, "layers": caches, "masks": masks, "T": T, "B": B}
    return output, h_n, c_n, cache


# ---------------------------------------------------------------------------
# Backward (BPTT)
# ---------------------------------------------------------------------------

def _cell_step_backward(cell, p, lc, t, dh, dc_next, grad):
    """Backward through one cell step of one layer.

    Parameters
    ----------
    cell : dict
        Normalised cell description.
    p : dict
        The layer's parameters.
    lc : dict
        The layer's forward cache (see :func:`forward`).
    t : int
        Time step (0-based; the step computes h[t+1] from h[t]).
    dh : ndarray, shape (B, H)
        Total gradient w.r.t. the step's output h_{t} (already clipped).
    dc_next : ndarray, shape (B, H) or None
        Gradient w.r.t. c_t arriving from the future (LSTM), else None.
    grad : dict
        Gradient accumulators for the layer (same keys/shapes as ``p``);
        updated in place.

    Returns
    -------
    dinp : ndarray, shape (B, I_l)
        Gradient w.r.t. the layer's input at step t.
    dh_prev : ndarray, shape (B, H)
        Gradient w.r.t. h_{t-1}.
    dc_prev : ndarray, shape (B, H) or None
        Gradient w.r.t. c_{t-1} (LSTM), else None.
    """
    kind = cell["kind"]
    W_ih = np.asarray(p["weight_ih"], dtype=np.float64)
    W_hh = np.asarray(p["weight_hh"], dtype=np.float64)
    x_t = lc["inp"][t]
    h_prev = lc["h"][t]
    dc_prev = None

    if kind == "rnn":
        a = lc["a"][t]
        if cell["activation"] == "tanh":
            da = dh * (1.0 - np.tanh(a) ** 2)
        else:
            da = dh * (a > 0.0)
        da_ih = da
        da_hh = da

    elif kind == "lstm":
        H = dh.shape[1]
        if cell["peephole"]:
            pi, pf, po = np.asarray(p["peephole"], dtype=np.float64)
        else:
            pi = pf = po = np.zeros(H)
        i, f, g, o = lc["i"][t], lc["f"][t], lc["g"][t], lc["o"][t]
        c = lc["c"][t + 1]
        c_prev = lc["c"][t]
        tc = np.tanh(c)
        # h = o * tanh(c)
        do = dh * tc
        da_o = do * o * (1.0 - o)
        # total gradient w.r.t. c_t: from the future, from h, from o's peephole
        dc = dc_next + dh * o * (1.0 - tc ** 2) + da_o * po
        # c = f * c_prev + i * g
        di = dc * g
        dg = dc * i
        df = dc * c_prev
        if cell["coupled_gates"]:
            # f = 1 - i
            da_i = (di - df) * i * (1.0 - i)
            da_f = np.zeros_like(da_i)
        else:
            da_i = di * i * (1.0 - i)
            da_f = df * f * (1.0 - f)
        da_g = dg * (1.0 - g ** 2)
        dc_prev = dc * f + da_i * pi + da_f * pf
        if cell["peephole"]:
            grad["peephole"][0] += np.sum(da_i * c_prev, axis=0)
            grad["peephole"][1] += np.sum(da_f * c_prev, axis=0)
            grad["peephole"][2] += np.sum(da_o * c, axis=0)
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
        da_ih = da
        da_hh = da

    else:  # gru
        r, z, n, ghn = lc["r"][t], lc["z"][t], lc["n"][t], lc["ghn"][t]
        # h = (1 - z) * n + z * h_prev
        dn = dh * (1.0 - z)
        dz = dh * (h_prev - n)
        da_n = dn * (1.0 - n ** 2)            # grad of n's pre-activation
        dr = da_n * ghn
        da_r = dr * r * (1.0 - r)
        da_z = dz * z * (1.0 - z)
        da_ih = np.concatenate([da_r, da_z, da_n], axis=1)
        da_hh = np.concatenate([da_r, da_z, da_n * r], axis=1)

    grad["weight_ih"] += da_ih.T @ x_t
    grad["bias_ih"] += np.sum(da_ih, axis=0)
    grad["weight_hh"] += da_hh.T @ h_prev
    grad["bias_hh"] += np.sum(da_hh, axis=0)
    dinp = da_ih @ W_ih
    dh_prev = da_hh @ W_hh
    if kind == "gru":
        dh_prev = dh_prev + dh * z
    return dinp, dh_prev, dc_prev


def backward(cell, layers, x, h0=None, c0=None, masks=None, d_output=None,
             d_hn=None, d_cn=None, tbptt_steps=None, clip_hidden_norm=None, cache=None):
    """Backpropagation through time for a stack of recurrent layers.

    Parameters
    ----------
    cell : str, dict or object
        Cell description (see :func:`make_cell`).
    layers : list of dict
        Layer parameters (see the module docstring).
    x : ndarray, shape (T, B, I)
        Time-major input.
    h0, c0 : list of ndarray (B, H_l), optional
        Initial states (``c0`` for LSTM only); None means zeros.
    masks : list of ndarray (T, B, H_l), optional
        Dropout masks between layers; None means no dropout.
    d_output : ndarray, shape (T, B, H_{L-1})
        Gradient of the loss w.r.t. the output at every step.
    d_hn, d_cn : list of ndarray (B, H_l), optional
        Gradients w.r.t. the final states; None means zeros.
    tbptt_steps : int, optional
        Truncation length k.  Inside each layer the gradient does not flow
        from step t into h_{t-1} / c_{t-1} when ``t > 0`` and
        ``(T - t) % k == 0``.  None means full BPTT.
    clip_hidden_norm : float, optional
        After measuring ``step_norms``, each sample row of the total
        gradient w.r.t. h_t whose L2 norm exceeds ``clip_hidden_norm`` is scaled
        down to that norm.  None means no clipping.
    cache : dict, optional
        The cache returned by :func:`forward` for the same arguments; if
        None the forward pass is recomputed.

    Returns
    -------
    grads : list of dict
        Same keys and shapes as ``layers``.
    dx : ndarray, shape (T, B, I)
        Gradient w.r.t. the input.
    dh0 : list of ndarray (B, H_l)
        Gradient w.r.t. the initial hidden states.
    dc0 : list of ndarray (B, H_l) or None
        Gradient w.r.t. the initial cell states (LSTM), else None.
    step_norms : ndarray, shape (L, T)
        Frobenius norm over (B, H_l) of the total gradient w.r.t. h_t of
        layer l, before clipping.
    """
    cell = _cell_spec(cell)
    kind = cell["kind"]
    if cache is None:
        _, _, _, cache = forward(cell, layers, x, h0, c0, masks)
    T, B = cache["T"], cache["B"]
    L = len(layers)
    hidden_sizes = _hidden_sizes(layers)
    d_hn = _zeros_or(d_hn, B, hidden_sizes)
    d_cn = _zeros_or(d_cn, B, hidden_sizes)

    grads = [{key: np.zeros(np.shape(value)) for key, value in p.items()}
             for p in layers]
    dh0 = [None] * L
    dc0 = [None] * L if kind == "lstm" else None
    step_norms = np.zeros((L, T))

    # gradient w.r.t. the output sequence of the current layer, from above
    if d_output is None:
        d_from_above = np.zeros((T, B, hidden_sizes[-1]))
    else:
        d_from_above = np.array(d_output, dtype=np.float64)
    for l in range(L - 1, -1, -1):
        lc = cache["layers"][l]
        d_inp = np.zeros(lc["inp"].shape)
        dh_rec = d_hn[l].copy()
        dc_rec = d_cn[l].copy() if kind == "lstm" else None
        for t in range(T - 1, -1, -1):
            dh = d_from_above[t] + dh_rec
            step_norms[l, t] = np.sqrt(np.sum(dh ** 2))
            if clip_hidden_norm is not None:
                row_norms = np.sqrt(np.sum(dh ** 2, axis=1))
                for b in range(B):
                    if row_norms[b] > clip_hidden_norm:
                        dh[b] = dh[b] * (clip_hidden_norm / row_norms[b])
            d_inp[t], dh_prev, dc_prev = _cell_step_backward(
                cell, layers[l], lc, t, dh, dc_rec, grads[l])
            if t > 0 and tbptt_steps is not None and (T - t) % tbptt_steps == 0:
                # truncation boundary: the state h_{t-1} was detached
                dh_rec = np.zeros_like(dh_prev)
                dc_rec = np.zeros_like(dh_prev) if kind == "lstm" else None
            else:
                dh_rec = dh_prev
                dc_rec = dc_prev
        dh0[l] = dh_rec
        if kind == "lstm":
            dc0[l] = dc_rec
        # pass the gradient down through the dropout mask
        if l > 0 and masks is not None:
            d_from_above = d_inp * np.asarray(masks[l - 1], dtype=np.float64)
        else:
            d_from_above = d_inp
    dx = d_from_above
    return grads, dx, dh0, dc0, step_norms


def scalar_objective(cell, layers, x, h0=None, c0=None, masks=None,
                     d_output=None, d_hn=None, d_cn=None):
    """Scalar whose exact gradient is what :func:`backward` returns.

    ``J = sum(output * d_output) + sum_l sum(h_n[l] * d_hn[l])
    (+ sum_l sum(c_n[l] * d_cn[l]) for LSTM)``; its gradients equal the
    result of :func:`backward` with ``tbptt_steps=None`` and ``clip_hidden_norm=None``.
    Arguments as in :func:`backward`.

    Returns
    -------
    J : float
    """
    output, h_n, c_n, _ = forward(cell, layers, x, h0, c0, masks)
    J = 0.0
    if d_output is not None:
        J += np.sum(output * d_output)
    if d_hn is not None:
        for l in range(len(layers)):
            J += np.sum(h_n[l] * d_hn[l])
    if d_cn is not None and c_n is not None:
        for l in range(len(layers)):
            J += np.sum(c_n[l] * d_cn[l])
    return float(J)


# ---------------------------------------------------------------------------
# Torch-generated reference cases (tests/data/torch_*.npz)
# ---------------------------------------------------------------------------

TORCH_CASES = ("rnn_tanh", "rnn_relu", "lstm", "gru")


def load_torch_case(name):
    """Load a reference case written by ``tests/data/make_torch_reference.py``.

    Parameters
    ----------
    name : {'rnn_tanh', 'rnn_relu', 'lstm', 'gru'}
        Case name; the file is ``tests/data/torch_<name>.npz``.

    Returns
    -------
    case : dict
        Inputs, all float64 (the float32 run used these values cast):

        - 'name', 'torch_version' : str
        - 'cell' : dict (see :func:`make_cell`)
        - 'layers' : list of dict, layer parameters
        - 'x' : (T, B, I)
        - 'h0', 'masks' (list of (T, B, H_l), L - 1 arrays),
          'd_hn' : lists of (B, H_l)
        - 'c0', 'd_cn' : lists of (B, H_l) for LSTM, else None
        - 'd_output' : (T, B, H_{L-1})
        - 'tbptt_k' : int, the truncation length of the 'tbptt' results

        and one result dict per run under 'float64', 'float32' and
        'tbptt' (float64 with truncated BPTT), each with keys

        - 'output' (T, B, H_{L-1}), 'h_n' list, 'c_n' list or None
        - 'grads' : list of dict, same keys/shapes as 'layers'
        - 'dx' (T, B, I), 'dh0' list, 'dc0' list or None
    """
    path = os.path.join(DATA_DIR, "torch_%s.npz" % name)
    with np.load(path) as data:
        d = {key: data[key] for key in data.files}
    L = int(d["num_layers"])
    kind = str(d["kind"])
    is_lstm = kind == "lstm"

    def per_layer(fmt):
        return [d[fmt % l] for l in range(L)]

    case = {
        "name": name,
        "torch_version": str(d["torch_version"]),
        "cell": make_cell(kind, activation=str(d["activation"])),
        "layers": [{key: d["l%d_%s" % (l, key)]
                    for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                   for l in range(L)],
        "x": d["x"],
        "h0": per_layer("l%d_h0"),
        "c0": per_layer("l%d_c0") if is_lstm else None,
        "masks": [d["mask%d" % l] for l in range(L - 1)],
        "d_output": d["d_output"],
        "d_hn": per_layer("l%d_d_hn"),
        "d_cn": per_layer("l%d_d_cn") if is_lstm else None,
        "tbptt_k": int(d["tbptt_k"]),
    }
    for run in ("float64", "float32", "tbptt"):
        res = {
            "output": d[run + "_output"],
            "h_n": per_layer(run + "_l%d_h_n"),
            "c_n": per_layer(run + "_l%d_c_n") if is_lstm else None,
            "grads": [{key: d["%s_l%d_grad_%s" % (run, l, key)]
                       for key in ("weight_ih", "weight_hh",
                                   "bias_ih", "bias_hh")}
                      for l in range(L)],
            "dx": d[run + "_dx"],
            "dh0": per_layer(run + "_l%d_dh0"),
            "dc0": per_layer(run + "_l%d_dc0") if is_lstm else None,
        }
        case[run] = res
    return case
