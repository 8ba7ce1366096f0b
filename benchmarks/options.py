"""Command-line option types shared by the benchmark scripts."""
import argparse
import os
import platform
import sys


def positive_int(text):
    """An argparse type: an integer of at least 1, or argparse's error saying so."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def load_text():
    """'load average 0.12, 0.30, 0.41': whether something else ran beside a timing."""
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_text():
    """The processor's model name ('AMD EPYC 9B45'), from /proc/cpuinfo where there is one:
    vector widths, and so the kernels' speed, differ between processors."""
    try:
        with open("/proc/cpuinfo") as lines:
            return next(line.split(":", 1)[1].strip() for line in lines
                        if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def require_gpu(script, torch_too=False):
    """Exit with one line saying why ``script`` cannot run here (no numba-cuda, no GPU, or,
    with ``torch_too``, a PyTorch without CUDA), instead of a traceback from deep inside."""
    from seqforecast.cuda import check_available

    try:
        check_available()
    except RuntimeError as error:
        sys.exit(f"{script}: {error}")
    if torch_too:
        import torch

        if not torch.cuda.is_available():
            sys.exit(f"{script}: PyTorch {torch.__version__} sees no CUDA device (a CPU build?); "
                     f"cuDNN is the reference this benchmark measures against")
