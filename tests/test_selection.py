"""The significance test that decides whether a recurrent part is kept."""
import numpy as np
import pytest

from seqforecast.training.selection import (RIDGE_ALPHAS, improves_significantly, log_evidence,
                                           ridge_alpha)


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


def _statistic(d, lags):
    """The corrected statistic written out: Diebold-Mariano with a Bartlett Newey-West
    variance, times Harvey, Leybourne & Newbold's factor."""
    n, h = len(d), lags + 1
    c = d - d.mean()
    gamma = [c[k:] @ c[:n - k] / n for k in range(lags + 1)]
    variance = gamma[0] + 2 * sum((1 - k / (lags + 1)) * gamma[k] for k in range(1, lags + 1))
    return np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n) * d.mean() / np.sqrt(variance / n)


def test_the_statistic_is_compared_with_students_t():
    from scipy.stats import t

    rng = np.random.RandomState(2)
    for n, lags in ((6, 0), (12, 2), (40, 5)):
        for _ in range(200):
            d = rng.randn(n) + 0.6
            expected = d.mean() > 0 and _statistic(d, lags) > t.ppf(0.95, n - 1)
            assert improves_significantly(np.zeros(n) + 3, 3 - d, lags) == expected


@pytest.mark.parametrize("h, low, high", [(1, 0.03, 0.07), (3, 0.06, 0.14), (12, 0.0, 0.14)])
def test_the_size_on_overlapping_forecasts(h, low, high):
    """Two equal models, h-step forecast errors from consecutive origins (a moving sum of h
    shocks): how often a gain is found, however few the samples (the module's figures: 4-6%
    for one step, where the normal critical value alone gave 10-20% on 2-5 samples; 9-13% for
    3 to 24 steps)."""
    rng = np.random.default_rng(0)
    for n in sorted({2 * h + 1, 5 * h, 40}):
        shocks = rng.normal(size=(3000, n + h - 1))
        d = np.stack([shocks[:, i:i + h].sum(axis=1) for i in range(n)], axis=1)
        found = np.mean([improves_significantly(np.abs(x) + 10, np.abs(x) + 10 - x, h - 1)
                         for x in d])
        assert low <= found <= high, (h, n, found)


def test_too_few_samples_for_the_horizon_are_no_evidence():
    d = np.full(12, 1.0) + 0.01 * np.arange(12)  # a steady gain, but 12 samples of 12 steps
    assert not improves_significantly(np.full(12, 5.0), 5.0 - d, 11)
    assert not improves_significantly(np.array([5.0]), np.array([1.0]), 0)
    assert improves_significantly(np.full(14, 5.0), 5.0 - np.append(d, [1.2, 1.3]), 11)


def _log_evidence(X, y, alpha):
    """The evidence written out: the targets' Gaussian density with the intercept projected
    out, covariance sigma^2 (I + X X' / alpha), each output's sigma^2 at its maximum."""
    from scipy.linalg import null_space
    from scipy.stats import multivariate_normal

    Q = null_space(np.ones((1, len(X))))  # the complement of the intercept's direction
    Z, t = Q.T @ X, Q.T @ y.reshape(len(X), -1)
    cov = np.eye(len(Z)) + Z @ Z.T / alpha
    total = 0.0
    for column in t.T:
        sigma2 = column @ np.linalg.solve(cov, column) / len(Z)
        total += multivariate_normal(np.zeros(len(Z)), sigma2 * cov).logpdf(column)
    return total


@pytest.mark.parametrize("n, p, k", [(60, 10, 1), (80, 30, 3), (40, 70, 2), (30, 200, 1)])
def test_ridge_alpha_is_the_candidate_of_highest_evidence(n, p, k):
    """Narrow and wide inputs, one and several outputs: the density computed directly, to
    a constant the same for every penalty."""
    rng = np.random.default_rng(n + p)
    X = rng.normal(size=(n, p))
    y = X[:, :3] @ rng.normal(size=(3, k)) + 2 * rng.normal(size=(n, k))
    evidence = [_log_evidence(X, y, alpha) for alpha in RIDGE_ALPHAS]
    np.testing.assert_allclose(np.diff(log_evidence(X, y, RIDGE_ALPHAS)), np.diff(evidence),
                               rtol=1e-7, atol=1e-7)
    assert ridge_alpha(X, y) == RIDGE_ALPHAS[int(np.argmax(evidence))]
    if p < n:  # three useful inputs in noise: neither end of the grid
        assert RIDGE_ALPHAS[0] < ridge_alpha(X, y) < RIDGE_ALPHAS[-1]


def _svd_scores(X, y, alphas):
    """The scores from an SVD of the centred inputs, every direction kept."""
    centred, target = X - X.mean(axis=0), y - y.mean()
    U, s, _ = np.linalg.svd(centred, full_matrices=False)
    m, rotated = len(y) - 1, (U.T @ target) ** 2
    rest = ((target - U @ (U.T @ target)) ** 2).sum()
    return np.array([-m / 2 * np.log(((rotated / (1 + s ** 2 / a)).sum() + rest) / m)
                     - np.log(1 + s ** 2 / a).sum() / 2 for a in alphas])


def test_the_evidence_of_ill_conditioned_inputs_matches_an_svd():
    """Near-collinear lags (a smooth series), a repeated input, and an input 1e8 times the
    scale of the one the target follows: every score as from an SVD of the inputs."""
    rng = np.random.default_rng(3)
    series = np.sin(np.arange(400) / 9) + 0.01 * rng.normal(size=400)
    lags = np.lib.stride_tricks.sliding_window_view(series, 25)
    X, y = lags[:-1, :24], lags[1:, -1]
    z = rng.normal(size=(399, 3))
    for inputs, target in [(X, y), (np.c_[X, X[:, :5]], y),
                           (np.c_[1e8 * z[:, 0], z[:, 1:]], z[:, 1] + 0.1 * rng.normal(size=399))]:
        expected = _svd_scores(inputs, target, RIDGE_ALPHAS)
        np.testing.assert_allclose(np.diff(log_evidence(inputs, target[:, None], RIDGE_ALPHAS)),
                                   np.diff(expected), rtol=1e-6, atol=1e-6)
        assert ridge_alpha(inputs, target) == RIDGE_ALPHAS[int(np.argmax(expected))]


def test_ridge_alpha_at_the_extremes():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 30)
    # Noiseless and well determined: the smallest penalty; nothing to learn: the largest.
    assert ridge_alpha(X, X[:, :2] @ [1.0, -2.0]) == RIDGE_ALPHAS[0]
    assert ridge_alpha(X, rng.randn(80)) == RIDGE_ALPHAS[-1]
    # Equal evidence, the largest: every candidate exact, inputs that do not vary, two
    # samples (one slope fits them whatever the penalty) or one.
    assert ridge_alpha(X, np.ones(80), (0.1, 1.0, 10.0)) == 10.0
    assert ridge_alpha(np.full((10, 3), 0.1), rng.randn(10)) == RIDGE_ALPHAS[-1]
    assert ridge_alpha(X[:2], [0.0, 5.0], (0.1, 1.0, 10.0)) == 10.0
    assert ridge_alpha(X[:1], np.ones(1), (0.1, 1.0, 10.0)) == 10.0
    # An output fitted exactly by every candidate must not outweigh one that is not.
    noisy = X[:, :2] @ [1.0, -2.0] + 0.5 * rng.randn(80)
    assert ridge_alpha(X, np.c_[np.ones(80), noisy]) == ridge_alpha(X, noisy)


def test_ridge_alpha_names_bad_input():
    X = np.random.RandomState(0).randn(20, 3)
    for alphas in [(0.0, 1.0), (), (1.0, np.inf)]:
        with pytest.raises(ValueError, match="penalties must be positive and finite"):
            ridge_alpha(X, X[:, 0], alphas)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="hold NaN or infinite values"):
            ridge_alpha(X, np.r_[X[1:, 0], bad])
        X_bad = X.copy()
        X_bad[4, 1] = bad
        with pytest.raises(ValueError, match="hold NaN or infinite values"):
            ridge_alpha(X_bad, X[:, 0])


def test_ridge_alpha_ties_and_scale():
    rng = np.random.RandomState(1)
    X = rng.randn(80, 10)
    y = X[:, :2] @ [1.0, -2.0] + 2 * rng.randn(80)
    best = ridge_alpha(X, y)
    assert RIDGE_ALPHAS[0] < best < RIDGE_ALPHAS[-1]
    # Within rounding of each other, the larger; the choice does not depend on y's units.
    assert ridge_alpha(X, y, (best, best * (1 + 1e-12))) == best * (1 + 1e-12)
    for scale in (1e-170, 1e-8, 1e8, 1e155):
        assert ridge_alpha(X, scale * y) == best
