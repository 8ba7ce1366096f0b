"""CPU loops that apply the scalar rules of training (optimizer updates, losses) to arrays.

The rules live in :mod:`seqforecast.training.rules`; :mod:`seqforecast.cuda.
rules` applies the same rules on the GPU.  Each loop is one compiled
function for all rules of its kind, selecting the rule by its index in
``UPDATE_RULES`` or ``LOSS_RULES``, so that it is compiled once and cached
on disk: a loop made per rule (a closure) would be compiled again in every
new process, about a second for the two.
"""
from numba import njit

from ..training.rules import LOSS_RULES, UPDATE_RULES

_sgd, _adam, _rmsprop = (njit(inline="always")(rule) for rule in UPDATE_RULES)
_squared, _absolute, _huber = (njit(inline="always")(rule) for rule in LOSS_RULES)


def apply_update(rule, params, grad, state_1, state_2, hyper):
    """Apply an optimizer's element rule to every parameter, in place.

    Parameters
    ----------
    rule : function
        One of :data:`~seqforecast.training.rules.UPDATE_RULES`.
    params, grad, state_1 : ndarray of shape (n,)
    state_2 : ndarray of shape (n,) or (0,)
    hyper : tuple of 5 scalars of the parameters' dtype
    """
    _update(UPDATE_RULES.index(rule), params, grad, state_1, state_2, hyper)


@njit(cache=True, nogil=True)
def _update(code, params, grad, state_1, state_2, hyper):
    for i in range(params.size):
        s2 = state_2[i] if state_2.size else params[i] * 0
        if code == 0:
            p, s1, s2 = _sgd(params[i], grad[i], state_1[i], s2, hyper)
        elif code == 1:
            p, s1, s2 = _adam(params[i], grad[i], state_1[i], s2, hyper)
        else:
            p, s1, s2 = _rmsprop(params[i], grad[i], state_1[i], s2, hyper)
        params[i], state_1[i] = p, s1
        if state_2.size:
            state_2[i] = s2


def mean_loss(rule, y_pred, y_true, delta, d_pred):
    """Mean of a loss rule over all entries (accumulated in float64), and its gradient.

    Parameters
    ----------
    rule : function
        One of :data:`~seqforecast.training.rules.LOSS_RULES`.
    y_pred, y_true, d_pred : ndarray of shape (n, k)
        ``d_pred`` receives ``d loss / d y_pred``.
    delta : scalar of the arrays' dtype

    Returns
    -------
    float
    """
    scale = y_pred.dtype.type(1.0 / y_pred.size)
    return _loss(LOSS_RULES.index(rule), y_pred, y_true, delta, scale, d_pred) / y_pred.size


@njit(cache=True, nogil=True)
def _loss(code, y_pred, y_true, delta, scale, d_pred):
    total = 0.0
    for r in range(y_pred.shape[0]):
        for k in range(y_pred.shape[1]):
            diff = y_pred[r, k] - y_true[r, k]
            if code == 0:
                value, slope = _squared(diff, delta)
            elif code == 1:
                value, slope = _absolute(diff, delta)
            else:
                value, slope = _huber(diff, delta)
            d_pred[r, k] = slope * scale
            total += value
    return total
