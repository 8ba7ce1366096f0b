"""CPU loops that apply scalar element rules (optimizer updates, losses) to whole arrays.

The rules themselves live with their concept (:mod:`seqforecast.training.
optimizers`, :mod:`seqforecast.training.losses`); :mod:`seqforecast.cuda.
rules` applies the same rules on the GPU.
"""
import functools

from numba import njit


@functools.lru_cache(maxsize=None)
def _update_loop(rule):
    element = njit(inline="always")(rule)

    @njit(nogil=True)
    def run(params, grad, state_1, state_2, hyper):
        for i in range(params.size):
            s2 = state_2[i] if state_2.size else params[i] * 0
            params[i], state_1[i], s2 = element(params[i], grad[i], state_1[i], s2, hyper)
            if state_2.size:
                state_2[i] = s2

    return run


def apply_update(rule, params, grad, state_1, state_2, hyper):
    """Apply an optimizer's element rule to every parameter, in place.

    Parameters
    ----------
    rule : function
        ``rule(p, g, s1, s2, hyper) -> (p, s1, s2)`` on scalars.
    params, grad, state_1 : ndarray of shape (n,)
    state_2 : ndarray of shape (n,) or (0,)
    hyper : tuple of 5 scalars of the parameters' dtype
    """
    _update_loop(rule)(params, grad, state_1, state_2, hyper)


@functools.lru_cache(maxsize=None)
def _loss_loop(rule):
    element = njit(inline="always")(rule)

    @njit(nogil=True)
    def run(y_pred, y_true, delta, scale, d_pred):
        total = 0.0
        for r in range(y_pred.shape[0]):
            for k in range(y_pred.shape[1]):
                value, slope = element(y_pred[r, k] - y_true[r, k], delta)
                d_pred[r, k] = slope * scale
                total += value
        return total

    return run


def mean_loss(rule, y_pred, y_true, delta, d_pred):
    """Mean of a loss rule over all entries (accumulated in float64), and its gradient.

    Parameters
    ----------
    rule : function
        ``rule(diff, delta) -> (value, slope)`` on scalars.
    y_pred, y_true, d_pred : ndarray of shape (n, k)
        ``d_pred`` receives ``d loss / d y_pred``.
    delta : scalar of the arrays' dtype

    Returns
    -------
    float
    """
    scale = y_pred.dtype.type(1.0 / y_pred.size)
    return _loss_loop(rule)(y_pred, y_true, delta, scale, d_pred) / y_pred.size
