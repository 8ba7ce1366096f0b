"""A recurrent network for regression: a stack of recurrent layers, a linear head and
an optional linear autoregressive path.

The output is ``head(h_T) + ar(x)``: the linear head on the top layer's last
hidden state, plus (with ``ar_window > 0``) a linear map of the last
``ar_window`` input steps straight to every output, the "highway" of LSTNet
(Lai et al. 2018).  The network then contains a linear model on lags as a
special case (head weight zero), and the recurrent layers learn what it
leaves.

All parameters live in one flat vector (``params``) and all gradients in
another (``grad``), with per-tensor views into both, so optimizers and
global-norm clipping work on one array.
"""
import math

import numpy as np

from .config import PREDICT_CHUNK
from .cpu.products import linear, matmul
from .recurrent import backward, forward, init_parameters, parameter_shapes, unpack
from .training.losses import squared_error


def _shapes(cell, input_size, hidden_sizes, n_outputs, ar_window):
    """The layout of ``params``: ``{name: shape}`` per recurrent layer, then the head's."""
    head = {"weight": (n_outputs, hidden_sizes[-1]), "bias": (n_outputs,)}
    if ar_window:
        head["ar_weight"] = (ar_window, n_outputs, input_size)
    return parameter_shapes(cell, input_size, hidden_sizes) + [head]


def count_parameters(cell, input_size, hidden_sizes, n_outputs, ar_window=0):
    """Length of a :class:`Network`'s ``params`` for these sizes, without building it."""
    return sum(math.prod(shape) for layer in _shapes(cell, input_size, hidden_sizes, n_outputs,
                                                     ar_window)
               for shape in layer.values())


def forward_bytes(cell, input_size, hidden_sizes, n_timesteps, dtype):
    """Bytes the forward pass holds per sequence of ``n_timesteps`` steps.

    The sequence's contiguous copy, each layer's states, gates and auxiliary
    values (``(n_gates + 3) * H`` per step bounds them for every cell; the
    LSTM needs all of it) and the copy of the top layer's output.  The
    backward pass allocates about as much again.
    """
    per_step = (input_size + sum((cell.n_gates + 3) * size for size in hidden_sizes)
                + hidden_sizes[-1])
    return n_timesteps * per_step * np.dtype(dtype).itemsize


class Network:
    """Recurrent layers whose last hidden state feeds a linear head.

    Parameters
    ----------
    cell : Cell
    input_size : int
        Features per time step.
    hidden_sizes : tuple of int
        Hidden size of each recurrent layer.
    n_outputs : int
        Outputs of the linear head.
    random_state : numpy.random.RandomState
        Source of the initial weights.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float32
    ar_window : int, default=0
        Input steps read by the autoregressive path (the last ones); 0: none.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All parameters: the layers in order, then the head (weight, bias,
        then ``ar_weight``).
    layers : list of dict
        Views of ``params``, one dict per recurrent layer (PyTorch's names
        and layouts, see :mod:`seqforecast.recurrent`).
    head_weight : ndarray of shape (n_outputs, hidden_sizes[-1])
    head_bias : ndarray of shape (n_outputs,)
        The only bias of the output (the autoregressive path has none).
    ar_weight : ndarray of shape (ar_window, n_outputs, input_size) or None
        ``ar_weight[s, o, i]`` multiplies feature ``i`` of input step
        ``T - ar_window + s`` in output ``o``.  Starts at zero (the
        estimators then solve it, see their ``ar_window``).
    grad : ndarray of shape (n_params,)
        Gradient filled by :meth:`loss_gradient`, laid out like ``params``.
    param_tensors, grad_tensors : list of ndarray
        Views of ``params`` and ``grad``, one per weight or bias tensor in the
        same order (per-tensor clipping works on ``grad_tensors``).
    is_weight : list of bool
        For each tensor, True for weight matrices and peepholes (what an L2
        penalty applies to), False for biases.
    shapes : list of dict
        ``{name: shape}`` per layer, then the head's: the layout of ``params``.
    """

    def __init__(self, cell, input_size, hidden_sizes, n_outputs, random_state,
                 dtype=np.float32, ar_window=0):
        self.cell = cell
        self.input_size = input_size
        self.hidden_sizes = tuple(hidden_sizes)
        self.n_outputs = n_outputs
        self.ar_window = ar_window
        layer_params, _ = init_parameters(cell, input_size, hidden_sizes, random_state, dtype)
        top = self.hidden_sizes[-1]
        bound = 1.0 / np.sqrt(top)
        head = random_state.uniform(-bound, bound, n_outputs * (top + 1)).astype(dtype)
        ar = np.zeros(ar_window * n_outputs * input_size, dtype)
        self.params = np.concatenate([layer_params, head, ar])
        self._bind()

    def _bind(self):
        """Make the views of ``params`` and ``grad`` (after init and after unpickling)."""
        self.shapes = shapes = _shapes(self.cell, self.input_size, self.hidden_sizes,
                                       self.n_outputs, self.ar_window)
        *self.layers, head = unpack(self.params, shapes)
        self.head_weight, self.head_bias = head["weight"], head["bias"]
        self.ar_weight = head.get("ar_weight")
        self.grad = np.zeros_like(self.params)
        *self._grad_layers, grad_head = unpack(self.grad, shapes)
        self._grad_head = grad_head
        self.param_tensors = [a for layer in self.layers + [head] for a in layer.values()]
        self.grad_tensors = [a for layer in self._grad_layers + [grad_head]
                             for a in layer.values()]
        self.is_weight = [not name.startswith("bias") for layer in shapes for name in layer]

    def ar_inputs(self, x):
        """What the autoregressive path reads: the last ``ar_window`` steps of ``x``.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size)

        Returns
        -------
        ndarray of shape (ar_window, B, input_size)
        """
        if self.ar_window > x.shape[0]:
            raise ValueError(f"ar_window={self.ar_window} is longer than the {x.shape[0]} "
                             f"steps of x")
        return x[x.shape[0] - self.ar_window:]

    def _outputs(self, last, x, out):
        """``out = head(last) + ar(x)``, each row independent of the others."""
        linear(last, self.head_weight, self.head_bias, out)
        if self.ar_window:
            for step, weight in zip(self.ar_inputs(x), self.ar_weight):
                matmul(np.ascontiguousarray(step), np.ascontiguousarray(weight.T), out, True)

    def snapshot(self):
        """A copy of the parameters."""
        return self.params.copy()

    def restore(self, params):
        """Set the parameters from an array of shape (n_params,)."""
        self.params[...] = params

    def __getstate__(self):
        # Views do not survive pickling as views: keep the flat vector, rebuild the rest.
        return {"cell": self.cell, "input_size": self.input_size,
                "hidden_sizes": self.hidden_sizes, "n_outputs": self.n_outputs,
                "ar_window": self.ar_window, "params": self.params}

    def __setstate__(self, state):
        self.__dict__.update({"ar_window": 0, **state})  # models pickled before the AR path
        self._bind()

    def predict(self, x):
        """Outputs of the network (head and autoregressive path) for a batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size)
            Any strides: a transposed view of sample-major data is copied
            chunk by chunk, :data:`PREDICT_CHUNK` bytes of work at a time.

        Returns
        -------
        ndarray of shape (B, n_outputs)
        """
        out = np.empty((x.shape[1], self.n_outputs), self.params.dtype)
        per_sequence = forward_bytes(self.cell, self.input_size, self.hidden_sizes, x.shape[0],
                                     self.params.dtype)
        rows = max(1, PREDICT_CHUNK // per_sequence)
        for start in range(0, x.shape[1], rows):
            chunk = x[:, start:start + rows]  # forward copies it contiguous
            last = forward(self.cell, self.layers, chunk).output[-1]
            self._outputs(last, chunk, out[start:start + rows])
        return out

    def loss_gradient(self, x, y, tbptt=None, hidden_clip=None, dropout=0.0, seed=None,
                      loss=squared_error):
        """Loss of a batch and its gradient, written into ``grad``.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size)
        y : ndarray of shape (B, n_outputs)
        tbptt, hidden_clip, dropout, seed
            See :func:`seqforecast.recurrent.forward` and ``backward``.
        loss : callable, default=squared_error
            ``loss(y_pred, y_true) -> (value, d value / d y_pred)``, see
            :mod:`seqforecast.training.losses`.

        Returns
        -------
        loss : float
        step_norms : list of ndarray of shape (T,)
            Per layer, ``||dL/dh_t||`` at each step.

        When the loss or its gradient at the output is NaN or infinite
        (training has diverged), ``grad`` and ``step_norms`` are set to NaN.
        """
        fwd = forward(self.cell, self.layers, x, dropout=dropout, seed=seed)
        expected = (x.shape[1], self.n_outputs)
        if not isinstance(y, np.ndarray) or y.shape != expected:
            raise ValueError(f"y must be an array of shape {expected}, got "
                             f"{getattr(y, 'shape', type(y).__name__)}")
        if y.dtype != self.params.dtype:
            raise TypeError(f"y has dtype {y.dtype} but the network is {self.params.dtype}")
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values")
        last = fwd.output[-1]
        d_output = np.zeros_like(fwd.output)
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
            pred = np.empty_like(y)
            self._outputs(last, x, pred)
            value, d_pred = loss(pred, y)
            np.dot(d_pred.T, last, out=self._grad_head["weight"])
            np.sum(d_pred, axis=0, out=self._grad_head["bias"])
            if self.ar_window:
                for step, grad in zip(self.ar_inputs(x), self._grad_head["ar_weight"]):
                    np.dot(d_pred.T, step, out=grad)
            matmul(d_pred, self.head_weight, d_output[-1], False)
        if not (np.isfinite(value) and np.isfinite(d_output[-1]).all()):
            self.grad[...] = np.nan
            return value, [np.full(x.shape[0], np.nan) for _ in self.layers]
        bwd = backward(fwd.cache, d_output, tbptt=tbptt, hidden_clip=hidden_clip,
                       grads=self._grad_layers)
        return value, bwd.step_norms
