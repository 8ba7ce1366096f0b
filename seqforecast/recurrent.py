"""Stacks of recurrent layers: parameters, forward pass and backpropagation through time.

These are the kernels' Python entry points.  They check their input, loop
over the layers (a handful) and hand each whole sequence to a compiled
kernel; no Python loop runs over time steps or samples.

Conventions
-----------
* Sequences are time-major: ``x`` has shape ``(T, B, I)`` (steps, batch,
  features), as in PyTorch's default layout.
* A network is a list of layer dicts with PyTorch's names and layouts:
  ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh``
  (G*H,), and for a peephole LSTM ``peephole`` (3, H) with rows i, f, o.
  ``G`` is 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n), so
  weights copy one-to-one from ``torch.nn.RNN/LSTM/GRU``.
* float32 and float64 are supported; all arrays of one call share a dtype.
"""
import functools
import itertools
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from .backends.cpu import CPU
from .cells.spec import SPECS
from .cpu.scans import all_finite
from .records import CellArgs, GateGradients, LayerParams, LayerStates

_FLOATS = (np.float32, np.float64)

#: The values each option of :class:`Cell` takes; ``CellSpec.options`` says which a kind has.
CELL_OPTIONS = {"activation": ("tanh", "relu"), "peephole": (False, True),
                "coupled_gates": (False, True)}


@dataclass(frozen=True)
class Cell:
    """Which recurrent cell a network uses.

    Parameters
    ----------
    kind : {'rnn', 'lstm', 'gru'}
        Elman RNN, LSTM or GRU.
    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity of the Elman RNN (must be 'tanh' for the others).
    peephole : bool, default=False
        LSTM with peephole connections (Gers & Schmidhuber 2000).
    coupled_gates : bool, default=False
        LSTM with coupled input-forget gate, ``f = 1 - i``.
    """

    kind: str
    activation: str = "tanh"
    peephole: bool = False
    coupled_gates: bool = False

    def __post_init__(self):
        if self.kind not in SPECS:
            raise ValueError(f"cell kind must be one of {sorted(SPECS)}, got {self.kind!r}")
        if self.activation not in CELL_OPTIONS["activation"]:
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")
        if self.activation == "relu" and "activation" not in self.spec.options:
            raise ValueError("activation='relu' is only available for the 'rnn' cell")
        if (self.peephole or self.coupled_gates) and "peephole" not in self.spec.options:
            raise ValueError("peephole and coupled_gates are LSTM options")

    @property
    def spec(self):
        """The kind's :class:`~seqforecast.cells.spec.CellSpec`."""
        return SPECS[self.kind]

    @property
    def n_gates(self):
        """Number of gate blocks ``G`` in the weight matrices."""
        return self.spec.n_gates

    @property
    def has_cell_state(self):
        """True for the LSTM, which carries ``c`` besides ``h``."""
        return self.spec.cell_state


def cell_variants():
    """Every cell: each kind of the specification with each combination of its options.

    Returns
    -------
    list of Cell
    """
    return [Cell(name, **dict(zip(spec.options, values)))
            for name, spec in SPECS.items()
            for values in itertools.product(*(CELL_OPTIONS[option] for option in spec.options))]


def parameter_shapes(cell, input_size, hidden_sizes):
    """Names and shapes of every layer's parameters.

    Returns
    -------
    list of dict
        One ``{name: shape}`` dict per layer, in packing order.
    """
    shapes = []
    in_size = input_size
    for size in hidden_sizes:
        gh = cell.n_gates * size
        layer = {"weight_ih": (gh, in_size), "weight_hh": (gh, size),
                 "bias_ih": (gh,), "bias_hh": (gh,)}
        if cell.peephole:
            layer["peephole"] = (len(cell.spec.peepholes), size)
        shapes.append(layer)
        in_size = size
    return shapes


def unpack(flat, shapes):
    """Views into one flat vector, one dict of arrays per layer.

    Parameters
    ----------
    flat : ndarray of shape (n_params,)
    shapes : list of dict
        As returned by :func:`parameter_shapes`.
    """
    layers, start = [], 0
    for layer_shapes in shapes:
        layer = {}
        for name, shape in layer_shapes.items():
            size = int(np.prod(shape))
            layer[name] = flat[start:start + size].reshape(shape)
            start += size
        layers.append(layer)
    if start != flat.size:
        raise ValueError(f"flat parameter vector has {flat.size} values, the shapes need {start}")
    return layers


def init_parameters(cell, input_size, hidden_sizes, random_state, dtype=np.float32):
    """PyTorch's initialisation, U(-1/sqrt(H), 1/sqrt(H)), in one flat vector.

    Peephole weights start at zero (the plain LSTM).

    Returns
    -------
    flat : ndarray of shape (n_params,)
    layers : list of dict
        Views into ``flat``.
    """
    shapes = parameter_shapes(cell, input_size, hidden_sizes)
    n = sum(int(np.prod(s)) for layer in shapes for s in layer.values())
    flat = np.empty(n, dtype=dtype)
    layers = unpack(flat, shapes)
    for layer, size in zip(layers, hidden_sizes):
        bound = 1.0 / np.sqrt(size)
        for name, array in layer.items():
            if name == "peephole":
                array[...] = 0
            else:
                array[...] = random_state.uniform(-bound, bound, array.shape)
    return flat, layers


@dataclass
class ForwardCache:
    """Everything :func:`backward` needs from a :func:`forward` pass.

    Attributes
    ----------
    cell : Cell
    layers : list of dict
        The parameters the pass ran with (not copied).
    backend : Backend
        Where the arrays live (:mod:`seqforecast.backends`).
    options : dict
        Kernel options of the pass, used again by the backward pass.
    masks : list of ndarray of shape (T, B, H_l), or None
        The dropout masks between layers.
    inputs : list of ndarray of shape (T, B, I_l)
        Each layer's input sequence.
    states : list of LayerStates
        Each layer's states and gates.
    """

    cell: "Cell"
    layers: list
    backend: object
    options: dict
    masks: Optional[list]
    inputs: list
    states: list


class ForwardResult(NamedTuple):
    """What :func:`forward` returns.

    Attributes
    ----------
    output : ndarray of shape (T, B, H_last)
        Hidden states of the top layer at every step.
    h_n : list of ndarray of shape (B, H_l)
        Final hidden state of each layer.
    c_n : list of ndarray of shape (B, H_l) or None
        Final cell state of each LSTM layer.
    cache : ForwardCache
        Everything :func:`backward` needs.
    """

    output: np.ndarray
    h_n: list
    c_n: Optional[list]
    cache: ForwardCache


class BackwardResult(NamedTuple):
    """What :func:`backward` returns.

    Attributes
    ----------
    grads : list of dict
        Gradients of every layer's parameters, same names and shapes.
    dx : ndarray of shape (T, B, I)
        Gradient w.r.t. the input sequence.
    dh0 : list of ndarray of shape (B, H_l)
    dc0 : list of ndarray of shape (B, H_l) or None
        Gradients w.r.t. the initial states.
    step_norms : list of ndarray of shape (T,)
        Per layer, ``||dL/dh_t||`` (over the batch) at each step before any
        hidden clipping: vanishing or exploding gradients show here.
    """

    grads: list
    dx: np.ndarray
    dh0: list
    dc0: Optional[list]
    step_norms: list


def forward(cell, layers, x, h0=None, c0=None, dropout=0.0, seed=None, masks=None):
    """Run a stack of recurrent layers over a batch of sequences.

    Parameters
    ----------
    cell : Cell
    layers : list of dict
        Parameters of each layer (see the module docstring).
    x : ndarray of shape (T, B, I)
        float32 or float64, the same dtype as the parameters.
    h0, c0 : list of ndarray of shape (B, H_l), optional
        Initial states (``c0`` for an LSTM only); zeros when omitted.
    dropout : float, default=0.0
        Probability of zeroing each output of a layer before it enters the
        next one (inverted dropout, training only; never after the top layer).
    seed : int, optional
        Seed of the dropout masks; required when ``dropout > 0``.
    masks : list of ndarray of shape (T, B, H_l), optional
        Explicit dropout masks for the outputs of all layers but the top one
        (values 0 or ``1 / (1 - p)``), instead of ``dropout`` and ``seed``.

    Returns
    -------
    ForwardResult
        Its arrays are the caller's.  The cache refers to ``layers``: they
        must not change before :func:`backward` is called with it.
    """
    dtype = _check_parameters(cell, layers)
    x_in = x
    x = check_input(x, dtype, layers[0]["weight_ih"].shape[1])
    check_dropout(dropout, seed)
    T, B, _ = x.shape
    sizes = [layer["weight_hh"].shape[1] for layer in layers]
    if c0 is not None and not cell.has_cell_state:
        raise ValueError("c0 is only used by an LSTM")
    h0 = _check_states("h0", h0, B, sizes, dtype)
    c0 = _check_states("c0", c0, B, sizes, dtype)
    if masks is not None:
        if dropout > 0:
            raise ValueError("give either dropout and seed, or masks, not both")
        if len(masks) != len(layers) - 1:
            raise ValueError(f"masks must hold {len(layers) - 1} arrays (one per layer "
                             f"but the top one), got {len(masks)}")
        masks = [_check_shape(f"masks[{i}]", _check_array(f"masks[{i}]", m, 3, dtype),
                              (T, B, size)) for i, (m, size) in enumerate(zip(masks, sizes))]

    inp = x.copy() if x is x_in else x  # the cache must not follow later edits of x
    output, h_n, c_n, cache = forward_layers(CPU, cell, layers, inp, h0, c0, dropout, seed,
                                             masks)
    # Copies: editing a result in place must not change what backward reads.
    return ForwardResult(output.copy(), [h.copy() for h in h_n],
                         None if c_n is None else [c.copy() for c in c_n], cache)


def backward(cache, d_output, d_hn=None, d_cn=None, tbptt_steps=None, clip_hidden_norm=None,
             grads=None):
    """Backpropagation through time (full or truncated) through the whole stack.

    Parameters
    ----------
    cache : ForwardCache
        ``forward(...).cache``.
    d_output : ndarray of shape (T, B, H_last)
        Gradient of the loss w.r.t. every output of the top layer (zeros
        except the last step for a many-to-one model).
    d_hn, d_cn : list of ndarray of shape (B, H_l), optional
        Gradients w.r.t. the final states.
    tbptt_steps : int, optional
        Truncated BPTT: the gradient flows back at most this many steps
        (blocks of ``tbptt_steps`` steps counted back from the last step; the state
        is treated as a constant across block boundaries).  None: full BPTT.
    clip_hidden_norm : float, optional
        Rescale each sample's ``dL/dh_t`` to this L2 norm at every step
        where it is larger, inside BPTT, in every layer.
    grads : list of dict, optional
        Arrays to write the parameter gradients into (e.g. views of one flat
        gradient vector, see :func:`unpack`); new arrays when omitted.

    Returns
    -------
    BackwardResult
    """
    cell, layers = cache.cell, cache.layers
    dtype = layers[0]["weight_ih"].dtype
    h_top = cache.states[-1].h
    T, B = h_top.shape[0] - 1, h_top.shape[1]
    sizes = [layer["weight_hh"].shape[1] for layer in layers]
    d_output = _check_array("d_output", d_output, 3, dtype)
    if d_output.shape != (T, B, sizes[-1]):
        raise ValueError(f"d_output must have shape {(T, B, sizes[-1])}, got {d_output.shape}")
    if d_cn is not None and not cell.has_cell_state:
        raise ValueError("d_cn is only used by an LSTM")
    d_hn = _check_states("d_hn", d_hn, B, sizes, dtype)
    d_cn = _check_states("d_cn", d_cn, B, sizes, dtype)
    if tbptt_steps is not None and (isinstance(tbptt_steps, bool)
                                    or not isinstance(tbptt_steps, (int, np.integer))):
        raise TypeError(f"tbptt_steps must be a positive int or None, got {tbptt_steps!r}")
    tbptt_steps = _check_positive("tbptt_steps", tbptt_steps, int)
    clip_hidden_norm = _check_positive("clip_hidden_norm", clip_hidden_norm, float)

    if grads is not None and len(grads) != len(layers):
        raise ValueError(f"grads must hold one dict per layer ({len(layers)}), got {len(grads)}")
    elif grads is not None:
        for index, (grad, layer) in enumerate(zip(grads, layers)):
            for name, value in layer.items():
                out = grad.get(name)
                if (not isinstance(out, np.ndarray) or out.shape != value.shape
                        or out.dtype != dtype or not out.flags.c_contiguous):
                    raise ValueError(f"grads[{index}][{name!r}] must be a C-contiguous {dtype} "
                                     f"array of shape {value.shape}")
    return backward_layers(cache, d_output, d_hn, d_cn, tbptt_steps, clip_hidden_norm, grads)


def forward_layers(backend, cell, layers, x, h0=None, c0=None, dropout=0.0, seed=None,
                   masks=None, **options):
    """The forward pass of a stack on any backend, with arguments already checked.

    Parameters are those of :func:`forward`, as arrays of the backend (``x``
    C-contiguous); ``options`` go to the backend's ``forward_steps`` and
    ``backward_steps`` (see :func:`seqforecast.cuda.layer.forward_steps`).
    Dropout masks come from the backend's generator.

    Returns
    -------
    ForwardResult
        ``output``, ``h_n`` and ``c_n`` are views into the cache, and on the
        GPU arrays of the active workspace.
    """
    T, B, _ = x.shape
    dtype = x.dtype
    args, spec = _cell_args(cell), cell.spec
    G, state = spec.n_gates, spec.cell_state
    if masks is None and dropout > 0:
        masks = backend.dropout_masks((T, B), [lay["weight_hh"].shape[1] for lay in layers[:-1]],
                                      dtype, dropout, seed)
    cache = ForwardCache(cell, layers, backend, options, masks, inputs=[], states=[])
    inp = x
    h_n, c_n = [], [] if state else None
    zero_state = h0 is None and c0 is None  # the kernels write the zeros
    for index, layer in enumerate(layers):
        size = layer["weight_hh"].shape[1]
        h = backend.empty((T + 1, B, size), dtype)
        c = backend.empty((T + 1, B, size) if state else (0, 0, 0), dtype)
        if not zero_state:
            backend.initial(h[0], h0, index)
            if state:
                backend.initial(c[0], c0, index)
        gates = backend.empty((G, T, B, size), dtype)
        aux = backend.empty((T, B, size) if spec.aux else (0, 0, 0), dtype)
        params = _params(backend, layer, len(spec.peepholes))
        states = LayerStates(h, c, gates, aux)
        backend.layer.forward_steps(args, inp, params, states, backend.empty((G, B, size), dtype),
                                    zero_state, **options)
        cache.inputs.append(inp)
        cache.states.append(states)
        h_n.append(h[T])
        if state:
            c_n.append(c[T])
        inp = h[1:]
        if masks is not None and index < len(layers) - 1:
            inp = backend.multiply(inp, masks[index])
    return ForwardResult(inp, h_n, c_n, cache)


def backward_layers(cache, d_output, d_hn=None, d_cn=None, tbptt_steps=None,
                    clip_hidden_norm=None, grads=None, input_grad=True):
    """BPTT through a stack on the backend of ``cache``, with arguments already checked.

    Parameters are those of :func:`backward` as arrays of the backend;
    ``grads`` None takes arrays from ``backend.empty``.  With ``input_grad``
    False the gradient w.r.t. the input sequence is not computed (a network's
    input needs none): ``dx`` is then an empty array.

    Returns
    -------
    BackwardResult
        On the GPU with arrays of the active workspace; ``step_norms`` are
        float64 arrays of shape (T,).
    """
    cell, layers, backend = cache.cell, cache.layers, cache.backend
    tbptt_steps, clip_hidden_norm = tbptt_steps or 0, clip_hidden_norm or 0.0
    h_top = cache.states[-1].h
    T, B, dtype = h_top.shape[0] - 1, h_top.shape[1], h_top.dtype
    args = _cell_args(cell)
    n = len(layers)
    if grads is None:
        grads = [{name: backend.empty(value.shape, dtype) for name, value in layer.items()}
                 for layer in layers]
    dh0, step_norms = [None] * n, [None] * n
    dc0 = [None] * n if cell.has_cell_state else None
    d_h = d_output
    zero_state = d_hn is None and d_cn is None  # the kernels write the zeros
    for index in range(n - 1, -1, -1):
        layer, grad = layers[index], grads[index]
        size = layer["weight_hh"].shape[1]
        inp, states = cache.inputs[index], cache.states[index]
        dh, dc = backend.empty((B, size), dtype), backend.empty((B, size), dtype)
        if not zero_state:
            backend.initial(dh, d_hn, index)
            backend.initial(dc, d_cn, index)
        d_gates = GateGradients(backend.empty(states.gates.shape, dtype),
                                backend.empty(states.aux.shape, dtype))
        dx = backend.empty(inp.shape if input_grad or index else (0, 0, 0), dtype)
        norms = backend.empty(T, np.float64)
        params = _params(backend, layer, len(cell.spec.peepholes))
        backend.layer.backward_steps(args, params, states, d_h, dh, dc, tbptt_steps,
                                     clip_hidden_norm, d_gates, norms, zero_state,
                                     **cache.options)
        backend.layer.weight_gradients(args, inp, params, states, d_gates, dx,
                                       _params(backend, grad, 0))
        dh0[index], step_norms[index] = dh, norms
        if dc0 is not None:
            dc0[index] = dc
        masks = cache.masks
        d_h = dx if masks is None or index == 0 else backend.multiply(dx, masks[index - 1])
    return BackwardResult(grads, d_h, dh0, dc0, step_norms)


@functools.lru_cache(maxsize=None)
def _cell_args(cell):
    """What the kernels need to know of a :class:`Cell`."""
    return CellArgs(cell.spec.code, cell.coupled_gates, cell.activation == "relu")


def _params(backend, layer, no_peephole_rows):
    """A layer dict (parameters or their gradients) as the kernels' :class:`LayerParams`.

    A layer without peepholes gets zeros of shape (``no_peephole_rows``, H)
    from ``backend.shared_zeros``: as many rows as the cell has peepholes for
    parameters (those of the plain LSTM are zeros), none for gradients.
    """
    peephole = layer.get("peephole")
    if peephole is None:
        size = layer["weight_hh"].shape[1]
        peephole = backend.shared_zeros((no_peephole_rows, size), layer["weight_hh"].dtype)
    return LayerParams(layer["weight_ih"], layer["weight_hh"], layer["bias_ih"],
                       layer["bias_hh"], peephole)


def check_input(x, dtype, input_size):
    """``x`` (T, B, input_size) checked (dtype, finite values) and C-contiguous."""
    x = _check_array("x", x, 3, dtype)
    if x.shape[2] != input_size:
        raise ValueError(f"x has {x.shape[2]} features but the first layer expects "
                         f"{input_size}")
    return x


def check_dropout(dropout, seed):
    """Raise ``ValueError`` unless ``dropout`` is in [0, 1), with a seed when positive."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if dropout > 0 and seed is None:
        raise ValueError("dropout > 0 needs an explicit seed")


def _check_parameters(cell, layers):
    if not isinstance(cell, Cell):
        raise TypeError(f"cell must be a Cell, got {type(cell).__name__}")
    if not layers:
        raise ValueError("layers is empty: a network needs at least one layer")
    dtype = np.asarray(layers[0]["weight_ih"]).dtype
    if dtype not in _FLOATS:
        raise TypeError(f"parameters must be float32 or float64, got {dtype}")
    in_size = layers[0]["weight_ih"].shape[1]
    for index, layer in enumerate(layers):
        size = layer["weight_hh"].shape[1]
        expected = parameter_shapes(cell, in_size, [size])[0]
        got = {name: np.shape(value) for name, value in layer.items()}
        if got != expected:
            raise ValueError(f"layer {index} parameters must have shapes {expected}, got {got}")
        for name, value in layer.items():
            if not isinstance(value, np.ndarray):
                raise TypeError(f"layer {index} {name} must be a numpy array, "
                                f"got {type(value).__name__}")
            if value.dtype != dtype:
                raise TypeError(f"layer {index} {name} is {value.dtype}, expected {dtype}")
            if not value.flags.c_contiguous:
                raise ValueError(f"layer {index} {name} must be C-contiguous")
        in_size = size
    return dtype


def _check_array(name, a, ndim, dtype):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if a.dtype != dtype:
        raise TypeError(f"{name} has dtype {a.dtype} but the parameters are {dtype}")
    a = np.ascontiguousarray(a)
    if not all_finite(a):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _check_states(name, states, batch, sizes, dtype):
    if states is None:
        return None
    if len(states) != len(sizes):
        raise ValueError(f"{name} must hold one state per layer ({len(sizes)}), got {len(states)}")
    return [_check_shape(f"{name}[{i}]", _check_array(f"{name}[{i}]", s, 2, dtype), (batch, size))
            for i, (s, size) in enumerate(zip(states, sizes))]


def _check_shape(name, a, shape):
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a


def _check_positive(name, value, kind):
    if value is None:
        return kind(0)
    if not value > 0:
        raise ValueError(f"{name} must be positive or None, got {value}")
    return kind(value)
