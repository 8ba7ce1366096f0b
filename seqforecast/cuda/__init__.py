"""The GPU's kernels (numba.cuda) and their launch plans.

* :mod:`.layer` -- one recurrent layer forward and backward (the counterpart
  of :mod:`seqforecast.cpu.layer`);
* :mod:`.products`, :mod:`.reductions`, :mod:`.elementwise` -- general
  kernels on device arrays (tiled matrix products, fixed-order reductions,
  element-wise operations and dropout masks), launched as :mod:`.launch`
  sizes them;
* :mod:`.rules` -- the optimizer updates and losses of
  :mod:`seqforecast.training` applied on the device;
* :mod:`.step` -- the training step's L2 penalty, judgement and clipping;
* :mod:`.workspace` -- :class:`~.workspace.Workspace`, device arrays reused
  from one run of a computation to the next.

:mod:`seqforecast.backends.cuda` puts them behind the interface that the
network and the trainer use with ``device='cuda'``.

Importing this package needs no GPU and imports no CUDA code; call
:func:`check_available` first.  Under Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1``) everything runs, slowly, on the CPU.
"""
import importlib.util


def check_available():
    """Raise ``RuntimeError`` saying why the 'cuda' device cannot be used, if it cannot."""
    from numba import config

    if config.ENABLE_CUDASIM:
        return
    if importlib.util.find_spec("numba_cuda") is None:
        raise RuntimeError("device='cuda' needs the numba-cuda package, which is not "
                           "installed: pip install 'seqforecast[cuda]' (and an NVIDIA driver)")
    from numba import cuda

    try:
        cuda.get_current_device()
    except Exception as error:  # numba raises several types here, all meaning 'no GPU'
        raise RuntimeError(f"device='cuda' but no usable NVIDIA GPU was found: "
                           f"{type(error).__name__}: {error}".strip()) from error

