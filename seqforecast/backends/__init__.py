"""Where a network's arrays live and its kernels run: one interface, a CPU and a CUDA backend.

:func:`get_backend` is the one place that reads a device name.  Above it one
stack driver (:mod:`seqforecast.recurrent`), one :class:`~seqforecast.network.
Network` and one :class:`~seqforecast.training.trainer.Trainer` with one step
policy run on either backend; below it :mod:`seqforecast.cpu` and
:mod:`seqforecast.cuda` hold the kernels.

:class:`Backend` lists what a backend provides.  "Backend arrays" are numpy
arrays on the CPU and numba device arrays on the GPU.  A training step's
values (loss, gradient norm, clipped or not, update made or not, update
made a parameter non-finite) are kept in a backend *record*, where the
backend's own kernels read and write them: on the GPU the step's decisions
are then taken on the device, and a step copies back one record.
"""
from typing import Protocol

DEVICES = ("cpu", "cuda")


def get_backend(device):
    """The backend of ``device``, 'cpu' or 'cuda'.

    Raises
    ------
    ValueError
        For another name.
    RuntimeError
        For 'cuda' where it cannot run (saying why, see
        :func:`seqforecast.cuda.check_available`).
    """
    if device == "cpu":
        from .cpu import CPU
        return CPU
    if device == "cuda":
        from ..cuda import check_available
        check_available()
        from .cuda import CUDA
        return CUDA
    raise ValueError(f"device must be one of {DEVICES}, got {device!r}")


class Backend(Protocol):
    """What the stack driver, the network and the trainer need of a backend.

    Attributes
    ----------
    name : str
        'cpu' or 'cuda'.
    on_host : bool
        Whether backend arrays are numpy arrays.
    layer : module
        The layer kernels over a whole batch: ``forward_steps``,
        ``backward_steps``, ``weight_gradients`` (those of
        :mod:`seqforecast.cuda.layer`; the CPU backend's run the kernels of
        :mod:`seqforecast.cpu.layer` over blocks of samples or gates).
    """

    name: str
    on_host: bool

    # -- arrays -------------------------------------------------------------------------

    def empty(self, shape, dtype):
        """An uninitialised array (from the active workspace, if any)."""

    def zeros(self, shape, dtype):
        """An array of zeros, to be written (from the active workspace, if any)."""

    def shared_zeros(self, shape, dtype):
        """An array of zeros only to be read (the GPU makes one per shape and dtype)."""

    def multiply(self, a, b):
        """``a * b`` in a new array."""

    def initial(self, out, states, index):
        """``out[...] = states[index]``, or zeros when ``states`` is None."""

    def to_device(self, a):
        """A contiguous backend array of the values of the numpy array ``a``.

        A backend array is returned as it is (no copy on the CPU when ``a``
        is contiguous already).
        """

    def to_host(self, a):
        """A new numpy array with the values of a backend array."""

    def copy_to_host(self, a, out):
        """``out[...] = a`` for a backend array ``a`` and a numpy array ``out``."""

    def copy_from_host(self, a, out):
        """``out[...] = a`` for a numpy array ``a`` and a backend array ``out``."""

    def workspace(self):
        """A context manager whose runs reuse the arrays of the previous run of their layout.

        It has ``clear()`` (let go of every array) and ``n_arrays``; see
        :class:`seqforecast.workspace.Workspace`.
        """

    def dropout_masks(self, shape, sizes, dtype, p, seed):
        """Inverted-dropout masks of shape ``(*shape, size)`` for each of ``sizes``.

        Values 0 and ``1 / (1 - p)``, drawn from ``seed`` (each backend with
        its own generator: equal seeds give equal masks on one backend only).
        """

    def batches(self, x, y, order):
        """``take(batch)``: the samples ``order[batch]`` of ``x`` (T, N, F) and ``y`` (N, K).

        ``x``, ``y`` and ``order`` are backend arrays.  A batch may overwrite
        the arrays of the previous batch of its size.
        """

    def predict_rows(self, bytes_per_sequence):
        """How many sequences ``predict`` copies to the backend and runs at a time."""

    def check_hidden(self, size):
        """Raise ``ValueError`` if the layer kernels cannot run this hidden size."""

    def memory(self):
        """Bytes of memory a fit can use, or None where unknown."""

    # -- the head -----------------------------------------------------------------------

    def outputs(self, last, x_ar, weight, bias, ar_weight, out):
        """``out = last @ weight.T + bias + sum_s x_ar[s] @ ar_weight[s].T``, row by row.

        ``last`` (B, H), ``x_ar`` (ar_window, B, I) or None with
        ``ar_weight`` None, ``weight`` (K, H), ``bias`` (K,),
        ``ar_weight`` (ar_window, K, I), ``out`` (B, K).
        """

    def output_gradients(self, d_pred, last, x_ar, weight, grad, d_last):
        """The head's gradients from ``d_pred`` (B, K) = dL/d outputs.

        Writes ``grad['weight']``, ``grad['bias']`` and ``grad['ar_weight']``
        (with ``x_ar``) and ``d_last`` (B, H) = dL/d last.
        """

    # -- the training step (see Trainer.step for the order) -----------------------------

    def record(self):
        """A new record of a step's values."""

    def read(self, record):
        """``(loss, grad_norm, clipped, go, bad)`` of a record, on the host."""

    def loss(self, loss, pred, y, d_pred, record):
        """The mean loss into the record, and ``d_pred`` = d loss / d pred.

        ``loss`` is a :class:`~seqforecast.training.losses.Loss`.
        """

    def add_l2(self, network, scale, record):
        """``grad += scale * W`` on the weights (not the biases); the penalty onto the loss."""

    def judge(self, grad, record, check_size):
        """Record the gradient's global norm; ``go`` when loss and gradient are finite.

        Resets ``clipped`` and ``bad``.  With ``check_size`` (no clipping
        follows) the update may not go either when an entry is too large to
        square in the dtype (see :meth:`check_size`).
        """

    def clip_value(self, grad, bound, record):
        """Clamp the entries to ``[-bound, bound]`` (when ``go``); ``clipped`` if one was beyond."""

    def clip_norm(self, grad, max_norm, record):
        """Rescale ``grad`` to norm ``max_norm`` if larger (when ``go``); then ``clipped``."""

    def check_size(self, grad, record):
        """No update when the recorded norm and an entry exceed ``sqrt(max)`` of the dtype.

        Adam's and RMSprop's second moment would overflow to inf and freeze
        the parameter without a NaN anywhere.
        """

    def update(self, rule, params, grad, state, hyper, record):
        """Apply an optimizer rule when ``go``; ``bad`` if a parameter became NaN or infinite."""

    def add_step_norms(self, total, step_norms):
        """``total[layer] += step_norms[layer]`` for a float64 array ``total`` (L, T)."""
