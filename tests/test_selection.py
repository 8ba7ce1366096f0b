"""The significance test that decides whether a recurrent part is kept."""
import numpy as np

from seqforecast.training.selection import improves_significantly


def test_no_improvement_or_a_worse_model_is_never_significant():
    loss = np.random.RandomState(0).rand(50)
    assert not improves_significantly(loss, loss, 0)
    assert not improves_significantly(loss, loss + 0.1, 3)


def test_a_clear_improvement_is_significant_and_noise_is_not():
    rng = np.random.RandomState(1)
    before = rng.rand(200) + 1.0
    assert improves_significantly(before, before - 0.5 + 0.1 * rng.randn(200), 0)
    noisy = before - 0.01 + rng.randn(200)  # a mean gain of 0.01 under noise of 1
    assert not improves_significantly(before, noisy, 0)


def test_correlated_differences_need_more_evidence():
    """Overlapping forecast windows: the same gain is less convincing with long memory."""
    # Loss differences that persist over 12 consecutive samples (a 12-step horizon).
    d = np.repeat([0.75, -0.45, 0.55, -0.65, 0.45, -0.25, 0.65, -0.55, 0.35, 0.65], 12)
    before = np.ones(d.size) * 5
    assert improves_significantly(before, before - d, 0)
    assert not improves_significantly(before, before - d, 11)
