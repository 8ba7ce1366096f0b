"""Learning-rate schedules: the rate of an optimizer step as a function of training progress."""
import math


def cosine(initial, done):
    """The rate after a fraction ``done`` of the steps: half a cosine from ``initial`` to 0.

    Parameters
    ----------
    initial : float
        The rate of the first step.
    done : float
        Steps taken over the steps planned, clamped to at most 1 (a fit
        that runs past its plan trains at rate 0).

    Returns
    -------
    float
        ``initial * (1 + cos(pi * done)) / 2``.
    """
    return initial * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0)))
