"""Losses, optimizers and the training step (clipping, L2 penalty, divergence)."""
import pickle
import threading

import numpy as np
import pytest

from seqforecast.network import Network
from seqforecast.recurrent import Cell
from seqforecast.training.losses import (LOSSES, PROBABILISTIC_LOSSES, absolute_error, huber,
                                         squared_error)
from seqforecast.training.optimizers import SGD, Adam, RMSprop
from seqforecast.training.trainer import Trainer


@pytest.mark.parametrize("name", sorted(set(LOSSES) - set(PROBABILISTIC_LOSSES)))
def test_loss_gradient_matches_finite_differences(name):
    """Point losses; the probabilistic ones are checked in test_losses.py."""
    rng = np.random.RandomState(0)
    loss = LOSSES[name]
    y_pred, y_true = rng.randn(7, 3) * 2, rng.randn(7, 3)
    value, grad = loss(y_pred, y_true)
    eps = 1e-6
    numeric = np.empty_like(y_pred)
    for index in np.ndindex(*y_pred.shape):
        step = np.zeros_like(y_pred)
        step[index] = eps
        numeric[index] = (loss(y_pred + step, y_true)[0] - loss(y_pred - step, y_true)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert value > 0


def test_loss_values():
    y_pred, y_true = np.array([[0.0], [3.0]]), np.array([[0.5], [0.0]])
    assert squared_error(y_pred, y_true)[0] == pytest.approx((0.25 + 9) / 2)
    assert absolute_error(y_pred, y_true)[0] == pytest.approx((0.5 + 3) / 2)
    # Huber with delta 1: 0.5 * 0.5**2 inside, 1 * (3 - 0.5) outside.
    assert huber(y_pred, y_true)[0] == pytest.approx((0.125 + 2.5) / 2)
    assert huber(y_pred, y_true, delta=10.0)[0] == pytest.approx((0.125 + 4.5) / 2)
    assert huber(y_pred.astype(np.float32), y_true.astype(np.float32))[1].dtype == np.float32


def _quadratic_descent(optimizer, steps=500):
    """Minimise 0.5 * ||p - target||^2 from zero; return the final distance."""
    target = np.array([1.0, -2.0, 3.0])
    params = np.zeros(3)
    for _ in range(steps):
        optimizer.update(params, params - target)
    return np.linalg.norm(params - target)


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, 0.1, momentum=0.0),
    lambda p: SGD(p, 0.05, momentum=0.9, nesterov=False),
    lambda p: SGD(p, 0.05, momentum=0.9, nesterov=True),
    lambda p: Adam(p, 0.05),
    lambda p: RMSprop(p, 0.01)])
def test_optimizers_converge_on_a_quadratic(make):
    assert _quadratic_descent(make(np.zeros(3))) < 1e-2


def test_optimizer_first_steps_follow_the_formulas():
    grad = np.array([0.5, -2.0])
    # SGD with Nesterov momentum: v = g, step = lr (g + mu v); the second step has v = mu g + g.
    params = np.zeros(2)
    sgd = SGD(params, 0.1, momentum=0.5, nesterov=True)
    sgd.update(params, grad)
    np.testing.assert_allclose(params, -0.1 * (grad + 0.5 * grad))
    sgd.update(params, grad)
    np.testing.assert_allclose(params, -0.1 * 1.5 * grad - 0.1 * (grad + 0.5 * 1.5 * grad))
    # Adam's bias-corrected first step is lr * sign(g) (up to epsilon).
    params = np.zeros(2)
    Adam(params, 0.01).update(params, grad)
    np.testing.assert_allclose(params, -0.01 * np.sign(grad), rtol=1e-6)
    # RMSprop: v = (1 - rho) g^2, step lr g / sqrt(v).
    params = np.zeros(2)
    RMSprop(params, 0.01, rho=0.9).update(params, grad)
    np.testing.assert_allclose(params, -0.01 * grad / np.sqrt(0.1 * grad ** 2), rtol=1e-6)


def test_adam_and_rmsprop_follow_the_formulas_over_several_steps():
    """A large epsilon makes its placement and the bias corrections visible."""
    rng = np.random.RandomState(0)
    grads = rng.randn(4, 3)
    lr, b1, b2, rho, eps = 0.1, 0.8, 0.9, 0.7, 0.5
    adam_params, rms_params = np.zeros(3), np.zeros(3)
    adam = Adam(adam_params, lr, beta_1=b1, beta_2=b2, epsilon=eps)
    rms = RMSprop(rms_params, lr, rho=rho, epsilon=eps)
    p_adam, p_rms, m, v, s = np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, 1):
        adam.update(adam_params, g)
        rms.update(rms_params, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p_adam -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        s = rho * s + (1 - rho) * g * g
        p_rms -= lr * g / (np.sqrt(s) + eps)
    np.testing.assert_allclose(adam_params, p_adam, rtol=1e-12)
    np.testing.assert_allclose(rms_params, p_rms, rtol=1e-12)


def test_optimizer_rejects_bad_arguments():
    params = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="learning_rate"):
        Adam(params, 0.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD(params, 0.1, momentum=1.5)
    with pytest.raises(ValueError, match="rho"):
        RMSprop(params, 0.1, rho=1.0)
    with pytest.raises(ValueError, match="grad must be a float32 array of shape"):
        Adam(params).update(params, np.zeros(4, np.float32))


def _network_and_batch(dtype=np.float64):
    rng = np.random.RandomState(0)
    net = Network(Cell("lstm"), 2, (5, 4), 2, rng, dtype)
    x = rng.randn(6, 8, 2).astype(dtype)
    y = rng.randn(8, 2).astype(dtype)
    return net, x, y


def test_trainer_step_without_options_is_a_plain_gradient_step():
    net, x, y = _network_and_batch()
    before = net.params.copy()
    loss, _ = net.loss_gradient(x, y)
    expected = before - 0.1 * net.grad
    result = Trainer(net, SGD(net.params, 0.1, momentum=0.0), alpha=0.0).step(x, y)
    np.testing.assert_allclose(net.params, expected, rtol=1e-12)
    assert result.loss == pytest.approx(loss)
    assert result.finite and not result.clipped
    assert len(result.step_norms) == 2 and result.step_norms[0].shape == (6,)


def test_l2_penalty_applies_to_weights_not_biases():
    net, x, y = _network_and_batch()
    before = net.params.copy()
    plain_loss, _ = net.loss_gradient(x, y)
    plain = net.grad.copy()
    alpha = 0.3
    mask = np.concatenate([np.full(p.size, w) for p, w in zip(net.param_tensors, net.is_weight)])
    result = Trainer(net, SGD(net.params, 1e-3, momentum=0.0), alpha=alpha).step(x, y)
    # net.grad holds the penalised gradient the update used (batch of 8).
    np.testing.assert_allclose(net.grad, plain + alpha / 8 * before * mask, rtol=1e-12)
    penalty = 0.5 * alpha / 8 * float((before[mask] ** 2).sum())
    assert result.loss == pytest.approx(plain_loss + penalty, rel=1e-12)
    assert sum(net.is_weight) == 5  # weight_ih and weight_hh of 2 layers, and the head weight


@pytest.mark.parametrize("option", ["clip_value", "clip_norm", "clip_global_norm"])
def test_clipping_bounds_the_update(option):
    net, x, y = _network_and_batch()
    trainer = Trainer(net, SGD(net.params, 1.0, momentum=0.0), alpha=0.0, **{option: 1e-3})
    before = net.params.copy()
    result = trainer.step(x, y)
    step = before - net.params
    assert result.clipped
    assert result.grad_norm > 1e-3
    if option == "clip_value":
        assert np.abs(step).max() == pytest.approx(1e-3)
    elif option == "clip_global_norm":
        assert np.linalg.norm(step) == pytest.approx(1e-3)
    else:
        offset = 0
        for tensor in net.grad_tensors:
            assert np.linalg.norm(step[offset:offset + tensor.size]) <= 1e-3 * (1 + 1e-9)
            offset += tensor.size
    loose = Trainer(net, SGD(net.params, 1.0, momentum=0.0), alpha=0.0, **{option: 1e9})
    assert not loose.step(x, y).clipped


def test_an_update_that_overflows_the_parameters_is_reported():
    net, x, y = _network_and_batch(np.float32)
    result = Trainer(net, SGD(net.params, 1e37, momentum=0.0)).step(x, 1000 * y)
    assert not result.finite and np.isfinite(result.loss)


def test_non_finite_step_leaves_parameters_unchanged():
    net, x, y = _network_and_batch()
    net.head_weight[0, 0] = 1e308  # the loss overflows
    before = net.params.copy()
    result = Trainer(net, SGD(net.params, 0.1)).step(x, y)
    assert not result.finite
    np.testing.assert_array_equal(net.params, before)


def test_network_pickle_keeps_views():
    import pickle
    net, x, y = _network_and_batch()
    copy = pickle.loads(pickle.dumps(net))
    copy.params += 1.0  # the layer dicts must follow the flat vector
    assert copy.layers[0]["weight_ih"][0, 0] == net.layers[0]["weight_ih"][0, 0] + 1.0
    assert copy.head_bias[0] == net.head_bias[0] + 1.0
    copy.loss_gradient(x, y)
    assert np.abs(copy.grad).sum() > 0


def test_training_steps_reuse_their_arrays(monkeypatch):
    """After the first step on a batch shape, a step takes no new array, with the same results."""
    from seqforecast.backends import cpu

    net, x, y = _network_and_batch()
    trainers = [Trainer(copy, Adam(copy.params), alpha=0.1, clip_global_norm=1.0, dropout=0.2)
                for copy in (net, pickle.loads(pickle.dumps(net)))]
    for trainer in trainers:
        trainer.step(x, y, seed=1)
    kept = trainers[0].workspace.n_arrays

    def no_allocation(*args):
        raise AssertionError(f"new array {args} in a repeated step")

    monkeypatch.setattr(cpu.HOST, "allocate", no_allocation)
    reused = trainers[0].step(x, y, seed=2)
    monkeypatch.undo()
    assert kept > 0 and trainers[0].workspace.n_arrays == kept
    trainers[1].workspace = cpu.HOST.workspace()
    fresh = trainers[1].step(x, y, seed=2)
    assert (reused.loss, reused.grad_norm) == (fresh.loss, fresh.grad_norm)
    np.testing.assert_array_equal(trainers[0].network.params, trainers[1].network.params)


def test_a_workspace_counts_the_bytes_it_holds():
    """``nbytes``, kept as arrays come and go, is the sum over the arrays held: after runs of
    three layouts (one evicted), a run whose arrays change shape, scratch buffers and clear."""
    from seqforecast.workspace import Allocator

    allocator = Allocator(np.empty)
    workspace = allocator.workspace()

    def held():
        arrays = [a for run in workspace._layouts.values() for a in run if a is not None]
        return sum(a.nbytes for a in arrays + list(workspace._scratch.values()))

    runs = [[(3, 4), (5,)], [(2, 2), (7, 3), (1,)], [(6,), (2, 2)], [(3, 4), (9,), (4, 4)],
            [(3, 4), (5,)]]
    for shapes in runs:
        with workspace:
            for index, shape in enumerate(shapes):
                allocator.empty(shape, np.float32 if index % 2 else np.float64)
            allocator.scratch((len(shapes),), np.float32)
        assert workspace.nbytes == held() > 0
    assert len(workspace._layouts) == workspace.LAYOUTS  # older layouts were let go
    workspace.clear()
    assert workspace.nbytes == held() == 0


def test_a_workspace_reuses_an_array_for_the_same_request_only():
    """The n-th request of a run gets the array of the n-th request of the last run of its
    layout when shape and dtype are the same (however they are written), and a new array of
    the new shape or dtype when either changed."""
    from seqforecast.workspace import Allocator

    allocator = Allocator(np.empty)
    workspace = allocator.workspace()

    def run(*requests):
        with workspace:
            return [allocator.empty(shape, dtype) for shape, dtype in requests]

    first = run(((3, 4), np.float32), ((5,), np.float32), ((2, 2), np.float64))
    again = run(((3, 4), "float32"), ([5], np.dtype(np.float32)), (np.array([2, 2]), "f8"))
    assert all(a is b for a, b in zip(first, again))
    changed = run(((3, 4), np.float32), ((5,), np.float64), ((2, 3), np.float64))
    assert changed[0] is first[0]
    assert [(a.shape, a.dtype) for a in changed[1:]] == [((5,), np.float64), ((2, 3), np.float64)]
    assert not any(np.shares_memory(a, b) for a, b in zip(changed[1:], first[1:]))


def test_predict_keeps_its_arrays_for_chunks_only_inside_keeping_arrays(monkeypatch):
    """A predict call that holds more than PREDICT_KEEP bytes lets its arrays go; inside
    ``keeping_arrays`` the next chunk reuses them (no new array, the same outputs) until the
    scope ends, nested scopes included, in the scope's thread only, and also when an error
    ends it."""
    from seqforecast import config
    from seqforecast.backends import cpu

    net, x, _ = _network_and_batch()
    monkeypatch.setattr(config, "PREDICT_KEEP", 0)  # every call holds "too much"
    alone = net.predict(x)
    assert net.workspace.n_arrays == 0
    with net.keeping_arrays():
        with net.keeping_arrays():
            assert np.array_equal(net.predict(x), alone)
        kept = net.workspace.n_arrays

        def no_allocation(*args):
            raise AssertionError(f"new array {args} in a kept chunk")

        with monkeypatch.context() as patch:
            patch.setattr(cpu.HOST, "allocate", no_allocation)
            assert np.array_equal(net.predict(x), alone)
        assert kept > 0 and net.workspace.n_arrays == kept
        other = []  # another thread's calls let go of their own arrays, as outside the scope

        def predict_in_a_thread():
            other.append((np.array_equal(net.predict(x), alone), net.workspace.n_arrays))

        thread = threading.Thread(target=predict_in_a_thread)
        thread.start()
        thread.join()
        assert other == [(True, 0)] and net.workspace.n_arrays == kept
    assert net.workspace.n_arrays == 0
    with pytest.raises(RuntimeError, match="inside"):  # an error leaves the scope as well
        with net.keeping_arrays():
            net.predict(x)
            raise RuntimeError("inside")
    assert net.workspace.n_arrays == 0 and not net._threads.keeping
