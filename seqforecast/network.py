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
global-norm clipping work on one array.  The arrays live on a backend
(:mod:`seqforecast.backends`): a network is made on the CPU, and
:meth:`Network.on` gives its copy on another backend.
"""
import contextlib
import math
import threading

import numpy as np

from . import config
from .backends.cpu import CPU
from .cpu.scans import all_finite
from .recurrent import (backward_layers, check_dropout, forward_layers, init_parameters,
                        parameter_shapes, unpack)
from .recurrent import check_input as _check_input  # predict's parameter has the name
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
    per_step = input_size + (cell.n_gates + 3) * sum(hidden_sizes) + hidden_sizes[-1]
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
    backend : Backend
        Where the arrays below live; the CPU's for a new network, see :meth:`on`.
    params : array of shape (n_params,)
        All parameters: the layers in order, then the head (weight, bias,
        then ``ar_weight``).
    layers : list of dict
        Views of ``params``, one dict per recurrent layer (PyTorch's names
        and layouts, see :mod:`seqforecast.recurrent`).
    head_weight : array of shape (n_outputs, hidden_sizes[-1])
    head_bias : array of shape (n_outputs,)
        The only bias of the output (the autoregressive path has none).
    ar_weight : array of shape (ar_window, n_outputs, input_size) or None
        ``ar_weight[s, o, i]`` multiplies feature ``i`` of input step
        ``T - ar_window + s`` in output ``o``.  Starts at zero (the
        estimators then solve it, see their ``ar_window``).
    grad : array of shape (n_params,)
        Gradient filled by :meth:`loss_gradient`, laid out like ``params``.
    param_tensors, grad_tensors : list of array
        Views of ``params`` and ``grad``, one per weight or bias tensor in the
        same order (per-tensor clipping works on ``grad_tensors``).
    is_weight : list of bool
        For each tensor, True for weight matrices and peepholes (what an L2
        penalty applies to), False for biases.
    weight_mask : array of shape (n_params,)
        ``is_weight`` per entry of ``params``, as 1 or 0.
    shapes : list of dict
        ``{name: shape}`` per layer, then the head's: the layout of ``params``.
    options : dict
        Kernel strategy options of the backend (see
        :func:`seqforecast.cuda.layer.forward_steps`); empty by default.
    workspace
        The backend's workspace of :meth:`predict` in the calling thread (one
        per thread, so that threads may predict with one network at the same
        time), cleared when a call returns holding more than
        :data:`~seqforecast.config.PREDICT_KEEP` bytes (outside
        :meth:`keeping_arrays`).
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
        self._bind(CPU, np.concatenate([layer_params, head, ar]), {})

    def _bind(self, backend, params, options):
        """Hold ``params`` (a backend array) and make the views of it and of ``grad``."""
        self.backend, self.params, self.options = backend, params, options
        self.shapes = shapes = _shapes(self.cell, self.input_size, self.hidden_sizes,
                                       self.n_outputs, self.ar_window)
        *self.layers, head = unpack(params, shapes)
        self.head_weight, self.head_bias = head["weight"], head["bias"]
        self.ar_weight = head.get("ar_weight")
        self.grad = backend.to_device(np.zeros(params.shape, params.dtype))  # never a workspace's
        *self._grad_layers, self._grad_head = unpack(self.grad, shapes)
        self.param_tensors = [a for layer in self.layers + [head] for a in layer.values()]
        self.grad_tensors = [a for layer in self._grad_layers + [self._grad_head]
                             for a in layer.values()]
        self.is_weight = [not name.startswith("bias") for layer in shapes for name in layer]
        dtype = params.dtype
        self.weight_mask = backend.to_device(np.concatenate(
            [np.full(math.prod(shape), weight, dtype)
             for shape, weight in zip((s for layer in shapes for s in layer.values()),
                                      self.is_weight)]))
        self._threads = threading.local()  # each thread's workspace
        self._step_bytes = forward_bytes(self.cell, self.input_size, self.hidden_sizes, 1, dtype)

    @property
    def workspace(self):
        workspace = getattr(self._threads, "workspace", None)
        if workspace is None:
            workspace = self._threads.workspace = self.backend.workspace()
        return workspace

    def on(self, backend, **options):
        """This network on ``backend``: itself when it is there, else a copy of its parameters.

        Parameters
        ----------
        backend : Backend
            See :func:`seqforecast.backends.get_backend`.
        **options
            Kernel strategy options of the copy (GPU, see
            :func:`seqforecast.cuda.layer.forward_steps`).
        """
        if backend is self.backend and options == self.options:
            return self
        other = object.__new__(Network)
        other.__dict__.update({name: getattr(self, name) for name in _STRUCTURE})
        other._bind(backend, backend.to_device(self.snapshot()), options)
        return other

    def snapshot(self):
        """A host copy of the parameters."""
        return self.backend.to_host(self.params)

    def restore(self, params):
        """Set the parameters from a host array of shape (n_params,)."""
        self.backend.copy_from_host(params, self.params)

    def __getstate__(self):
        # Views do not survive pickling as views: keep the flat vector, rebuild the rest.
        return {**{name: getattr(self, name) for name in _STRUCTURE},
                "params": self.snapshot()}

    def __setstate__(self, state):
        params = state.pop("params")
        self.__dict__.update({"ar_window": 0, **state})  # models pickled before the AR path
        self._bind(CPU, params, {})

    def ar_inputs(self, x):
        """What the autoregressive path reads: the last ``ar_window`` steps of ``x``.

        Parameters
        ----------
        x : array of shape (T, B, input_size)

        Returns
        -------
        array of shape (ar_window, B, input_size), or None without the path
        """
        if not self.ar_window:
            return None
        if self.ar_window > x.shape[0]:
            raise ValueError(f"ar_window={self.ar_window} is longer than the {x.shape[0]} "
                             f"steps of x")
        return x[x.shape[0] - self.ar_window:]

    def _outputs(self, x, dropout=0.0, seed=None):
        """The forward pass of a backend batch, and the outputs ``head(h_T) + ar(x)``."""
        check_dropout(dropout, seed)
        fwd = forward_layers(self.backend, self.cell, self.layers, x, dropout=dropout, seed=seed,
                             **self.options)
        last = fwd.output[x.shape[0] - 1]
        pred = self.backend.empty((x.shape[1], self.n_outputs), x.dtype)
        self.backend.outputs(last, self.ar_inputs(x), self.head_weight, self.head_bias,
                             self.ar_weight, pred)
        return fwd, last, pred

    def predict(self, x, check_input=True):
        """Outputs of the network (head and autoregressive path) for a batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (T, B, input_size), or a backend array
            A numpy array may have any strides: it is copied to the backend
            chunk by chunk (``backend.predict_rows``; on the CPU
            :data:`~seqforecast.config.PREDICT_CHUNK` bytes of work at a time),
            and checked (dtype, features, finite values) on the way unless
            ``check_input`` is False.  A backend array runs as one batch.
        check_input : bool, default=True
            False skips the checks, for a caller that has made them (as
            scikit-learn's trees take ``check_input=False`` from their
            ensembles): the estimators' ``predict`` of one window takes 3-4 us
            less.

        Returns
        -------
        ndarray of shape (B, n_outputs)
        """
        backend, dtype = self.backend, self.params.dtype
        try:
            if not isinstance(x, np.ndarray):
                return backend.to_host(self.outputs(x))
            out = np.empty((x.shape[1], self.n_outputs), dtype)
            rows = self.chunk_rows(x.shape[0])
            for start in range(0, x.shape[1], rows):
                chunk = x[:, start:start + rows]
                if check_input:
                    chunk = _check_input(chunk, dtype, self.input_size)
                chunk = backend.to_device(chunk)
                backend.copy_to_host(self.outputs(chunk), out[start:start + rows])
            return out
        finally:
            self._let_go()

    @contextlib.contextmanager
    def keeping_arrays(self):
        """Inside, :meth:`predict` keeps its arrays from one call to the next, in this thread.

        For calls that go through a large set a chunk at a time (a fit's
        training loss): each call would otherwise let go of its arrays, and
        the next one would take fresh memory, whose first touch doubled the
        forward pass of a chunk (RNN 128, 68 windows of 48 steps: 1.8 ms,
        0.82 ms on kept arrays).  The arrays of one chunk are kept, no more
        than a single call of :meth:`predict` holds; on leaving, they are let
        go as after such a call.
        """
        outer = getattr(self._threads, "keeping", False)
        self._threads.keeping = True
        try:
            yield self
        finally:
            self._threads.keeping = outer
            self._let_go()

    def _let_go(self):
        """Clear this thread's workspace if it holds more than
        :data:`~seqforecast.config.PREDICT_KEEP` bytes (a large forward cache), unless
        inside :meth:`keeping_arrays`."""
        if (not getattr(self._threads, "keeping", False)
                and self.workspace.nbytes > config.PREDICT_KEEP):
            self.workspace.clear()

    def chunk_rows(self, n_steps):
        """How many sequences of ``n_steps`` steps :meth:`predict` runs through at a time.

        ``backend.predict_rows`` of a sequence's forward pass: on the CPU
        :data:`~seqforecast.config.PREDICT_CHUNK` bytes of work, on the GPU
        :data:`~seqforecast.config.CUDA_PREDICT_CHUNK` sequences.
        """
        return self.backend.predict_rows(n_steps * self._step_bytes)

    def outputs(self, x):
        """Outputs of the network for a batch ``x`` (T, B, input_size) of the backend.

        Returns
        -------
        array of shape (B, n_outputs)
            A backend array of :attr:`workspace`: valid until the next call,
            which allocates nothing on the GPU when ``x`` has the same shape.
        """
        with self.workspace:
            return self._outputs(x)[2]

    def loss_gradient(self, x, y, tbptt_steps=None, clip_hidden_norm=None, dropout=0.0, seed=None,
                      loss=squared_error):
        """Loss of a batch and its gradient, written into ``grad``.

        Parameters
        ----------
        x : array of shape (T, B, input_size)
        y : array of shape (B, n_outputs // loss.width)
            numpy arrays on the CPU, backend arrays elsewhere; ``loss.width``
            outputs predict each column (see :class:`~seqforecast.training.
            losses.Loss`).
        tbptt_steps, clip_hidden_norm, dropout, seed
            See :func:`seqforecast.recurrent.forward` and ``backward``.
        loss : Loss, default=squared_error
            See :mod:`seqforecast.training.losses`.

        Returns
        -------
        loss : float
        step_norms : list of array of shape (T,)
            Per layer, ``||dL/dh_t||`` at each step.

        When training has diverged the loss, ``grad`` or ``step_norms`` hold
        NaN or infinite values.
        """
        record = self.backend.record()
        step_norms = self.gradient_into(record, x, y, loss, tbptt_steps, clip_hidden_norm,
                                        dropout, seed)
        return self.backend.read(record)[0], step_norms

    def gradient_into(self, record, x, y, loss, tbptt_steps=None, clip_hidden_norm=None,
                      dropout=0.0, seed=None):
        """The loss of a batch into a backend record, and its gradient into ``grad``.

        What :meth:`loss_gradient` does without reading the loss back (the
        :class:`~seqforecast.training.trainer.Trainer` leaves it on the
        backend); parameters as there, ``record`` from ``backend.record()``.

        Returns
        -------
        list of array of shape (T,)
            Per layer, ``||dL/dh_t||`` at each step.
        """
        backend = self.backend
        if backend.on_host:  # device arrays are not checked (it would cost a copy)
            x = _check_input(x, self.params.dtype, self.input_size)
        expected = (x.shape[1], self.n_outputs // loss.width)
        if getattr(y, "shape", None) != expected:
            raise ValueError(f"y must be an array of shape {expected}, got "
                             f"{getattr(y, 'shape', type(y).__name__)}")
        if y.dtype != self.params.dtype:
            raise TypeError(f"y has dtype {y.dtype} but the network is {self.params.dtype}")
        if backend.on_host and not all_finite(y):
            raise ValueError("y contains NaN or infinite values")
        fwd, last, pred = self._outputs(x, dropout, seed)
        d_pred = backend.empty(pred.shape, pred.dtype)
        backend.loss(loss, pred, y, d_pred, record)
        d_output = backend.zeros(fwd.output.shape, x.dtype)
        backend.output_gradients(d_pred, last, self.ar_inputs(x), self.head_weight,
                                 self._grad_head, d_output[x.shape[0] - 1])
        return backward_layers(fwd.cache, d_output, tbptt_steps=tbptt_steps,
                               clip_hidden_norm=clip_hidden_norm, grads=self._grad_layers,
                               input_grad=False).step_norms


# What a copy of a network on another backend shares with it (the rest is bound anew).
_STRUCTURE = ("cell", "input_size", "hidden_sizes", "n_outputs", "ar_window")
