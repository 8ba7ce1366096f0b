"""CPU loops that apply the scalar rules of training (optimizer updates, losses) to arrays.

The rules live in :mod:`seqforecast.training.rules`; :mod:`seqforecast.cuda.
rules` applies the same rules on the GPU.  Each loop is one compiled
function for all rules of its kind, selecting the rule by its index in
``UPDATE_RULES`` or ``LOSS_RULES``, so that it is compiled once and cached
on disk: a loop made per rule (a closure) would be compiled again in every
new process, about a second for the two.
"""
import numpy as np
from numba import njit

from ..training.rules import LOSS_RULES, UPDATE_RULES, bound, read_outputs, write_slopes

_sgd, _adam, _rmsprop = (njit(inline="always")(rule) for rule in UPDATE_RULES)
_squared, _absolute, _huber, _pinball, _gaussian, _student_t = (
    njit(inline="always")(bound(rule, njit(inline="always"))) for rule in LOSS_RULES)
_read_outputs, _write_slopes = (njit(inline="always")(f) for f in (read_outputs, write_slopes))


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


# error_model="numpy": no test for a division by zero (with the estimators' checked settings
# the rules never divide by zero), so the loop vectorises: an Adam update of 67,000
# parameters (LSTM 128) 0.37 to 0.11 ms, the same bits.
@njit(cache=True, nogil=True, error_model="numpy")
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


def mean_loss(rule, y_pred, y_true, constants, group, d_pred, sample_losses=None):
    """Mean of a loss rule over all targets and constants (accumulated in float64), and its
    gradient.

    Target column ``k`` is predicted by the outputs ``(k * n_constants + j) * group``
    to ``... + group - 1``, one block of ``group`` outputs per constant ``j``
    (see :class:`seqforecast.training.losses.Loss`).

    Parameters
    ----------
    rule : function
        One of :data:`~seqforecast.training.rules.LOSS_RULES`.
    y_pred, d_pred : ndarray of shape (n, k * n_constants * group)
        ``d_pred`` receives ``d loss / d y_pred``.
    y_true : ndarray of shape (n, k)
    constants : ndarray of shape (n_constants,), the predictions' dtype
    group : int
        Outputs per constant, 1 to 3.
    sample_losses : ndarray of shape (n,), float64, optional
        Receives each sample's sum of the rule's values.

    Returns
    -------
    float
    """
    count = y_true.size * constants.size
    rows = sample_losses if sample_losses is not None else _NO_ROWS
    if rows.size:
        rows[...] = 0
    scale = y_pred.dtype.type(1.0 / count)
    return _loss(LOSS_RULES.index(rule), y_pred, y_true, constants, group, scale, d_pred,
                 rows) / count


_NO_ROWS = np.empty(0)


@njit(cache=True, nogil=True)
def _loss(code, y_pred, y_true, constants, group, scale, d_pred, rows):
    total = 0.0
    for r in range(y_true.shape[0]):
        for k in range(y_true.shape[1]):
            for j in range(constants.size):
                o = (k * constants.size + j) * group
                p0, p1, p2 = _read_outputs(y_pred, r, o, group)
                y, a = y_true[r, k], constants[j]
                if code == 0:
                    value, d0, d1, d2 = _squared(p0, p1, p2, y, a)
                elif code == 1:
                    value, d0, d1, d2 = _absolute(p0, p1, p2, y, a)
                elif code == 2:
                    value, d0, d1, d2 = _huber(p0, p1, p2, y, a)
                elif code == 3:
                    value, d0, d1, d2 = _pinball(p0, p1, p2, y, a)
                elif code == 4:
                    value, d0, d1, d2 = _gaussian(p0, p1, p2, y, a)
                else:
                    value, d0, d1, d2 = _student_t(p0, p1, p2, y, a)
                _write_slopes(d_pred, r, o, group, d0, d1, d2, scale)
                total += value
                if rows.size:
                    rows[r] += value
    return total
