"""The estimators against independent oracles written here in float64:
Newton's method for logistic regression, least squares, a softmax objective
minimised by SciPy, brute-force distances for k-means."""
import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, make_blobs

from sounder import SounderClassifier, SounderKMeans, SounderRegressor


def standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def logistic_objective(w, b, X, y01, alpha):
    margins = X @ w + b
    return np.mean(np.logaddexp(0, margins) - y01 * margins) + 0.5 * alpha * w @ w


def newton_logistic(X, y01, alpha, steps=50):
    """Binary logistic regression with an unpenalised intercept, by Newton's method."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, alpha)
    penalty[-1] = 0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(A @ theta)))
        gradient = A.T @ (p - y01) / n + penalty * theta
        hessian = (A.T * (p * (1 - p))) @ A / n + np.diag(penalty)
        theta -= np.linalg.solve(hessian, gradient)
    return theta[:-1], theta[-1]


def test_binary_logistic_lbfgs_reaches_newtons_optimum():
    X, y = load_breast_cancer(return_X_y=True)
    X = standardized(X)
    alpha = 1e-2
    w, b = newton_logistic(X, y, alpha)
    model = SounderClassifier(algorithm="lbfgs", alpha=alpha, max_iter=500, random_state=0).fit(X, y)
    found = logistic_objective(model.coef_.ravel(), model.intercept_[0], X, y, alpha)
    best = logistic_objective(w, b, X, y, alpha)
    assert found == pytest.approx(best, rel=1e-5)
    np.testing.assert_allclose(model.coef_.ravel(), w, atol=2e-3 * np.abs(w).max())
    # Labels come back as given, and probabilities are the logistic of the margins.
    assert set(model.predict(X)) == {0, 1}
    margins = X @ w + b
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-margins)), atol=2e-3)
    np.testing.assert_allclose(model.decision_function(X), margins, atol=2e-2 * np.abs(margins).max())


def test_the_chosen_strength_is_reported_and_is_the_one_trained_with():
    X, y = load_breast_cancer(return_X_y=True)
    X = standardized(X)
    model = SounderClassifier(random_state=0).fit(X, y)
    choices = model.fit_choices_
    assert choices["algorithm"] == "lbfgs" and choices["l2Reason"].startswith("5-fold cross-validation")
    assert model.alpha_ == pytest.approx(choices["l2"]) and 1e-6 <= model.alpha_ <= 1
    # The coefficients are the optimum of the objective at alpha_ (Newton, here).
    w, b = newton_logistic(X, y, model.alpha_)
    found = logistic_objective(model.coef_.ravel(), model.intercept_[0], X, y, model.alpha_)
    assert found == pytest.approx(logistic_objective(w, b, X, y, model.alpha_), rel=1e-5)


def test_sgd_by_default_stops_on_a_held_out_tenth_with_a_rate_from_a_trial():
    rng = np.random.default_rng(3)
    rows, columns = 30_000, 2_000
    X = sp.random(rows, columns, density=0.02, format="csr", random_state=rng, dtype=np.float32)
    w = rng.standard_normal(columns)
    y = (X @ w + 0.5 * rng.standard_normal(rows) > 0).astype(int)
    model = SounderClassifier(random_state=0).fit(X, y)
    choices = model.fit_choices_
    assert choices["algorithm"] == "sgd" and choices["schedule"] == "adagrad"
    assert choices["learningRateReason"].startswith("the least held-out loss")
    assert model.learning_rate_ in (5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005)
    assert "held-out tenth" in choices["stopping"] and 1 <= model.n_iter_ <= 20
    assert 1 <= choices["modelEpoch"] <= model.n_iter_
    assert model.alpha_ == 0.0 and model.score(X, y) > 0.8


def test_partial_fit_keeps_adagrads_rate_from_the_first_batch():
    rng = np.random.default_rng(5)
    X = sp.random(2_000, 500, density=0.02, format="csr", random_state=rng, dtype=np.float32)
    y = (X @ rng.standard_normal(500) > 0).astype(int)
    model = SounderClassifier(random_state=0).partial_fit(X, y, classes=[0, 1])
    # One pass over 2,000 rows: a trial of ten rates on 1,000 + 1,000 would read more.
    assert model.learning_rate_ == 0.5
    assert model.fit_choices_["learningRateReason"].startswith("a trial of rates would read 20000 rows")
    model.partial_fit(X, y)
    assert model.learning_rate_ == 0.5 and "starts from a model" in model.fit_choices_["learningRateReason"]


def test_labels_of_any_kind_are_kept():
    X, y = load_breast_cancer(return_X_y=True)
    names = np.where(y == 1, "benign", "malignant")
    model = SounderClassifier(algorithm="lbfgs", max_iter=100, standardize=True, random_state=0).fit(X, names)
    assert list(model.classes_) == ["benign", "malignant"]
    assert model.score(X, names) > 0.97


def test_least_squares_regressor_matches_the_closed_form():
    X, y = load_diabetes(return_X_y=True)
    A = np.hstack([X, np.ones((len(X), 1))])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    model = SounderRegressor(algorithm="lbfgs", penalty=None, max_iter=1000, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, exact[:-1], rtol=1e-3, atol=1e-3 * np.abs(exact).max())
    assert model.intercept_[0] == pytest.approx(exact[-1], rel=1e-4)
    np.testing.assert_allclose(model.predict(X), A @ exact, rtol=1e-3)


def test_softmax_matches_a_float64_minimiser():
    X, y = load_iris(return_X_y=True)
    X = standardized(X)
    alpha, n, d, k = 1e-2, *X.shape, 3
    Y = np.eye(k)[y]

    def objective(theta):
        W, b = theta[: d * k].reshape(k, d), theta[d * k:]
        Z = X @ W.T + b
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(P[np.arange(n), y])) + 0.5 * alpha * np.sum(W * W)
        G = (P - Y) / n
        return loss, np.concatenate([(G.T @ X + alpha * W).ravel(), G.sum(axis=0)])

    best = scipy.optimize.minimize(objective, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    model = SounderClassifier(algorithm="lbfgs", alpha=alpha, max_iter=500, random_state=0).fit(X, y)
    found = objective(np.concatenate([model.coef_.ravel(), model.intercept_]))[0]
    assert found == pytest.approx(best.fun, rel=1e-5)
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    probabilities = model.predict_proba(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (model.predict(X) == model.classes_[probabilities.argmax(axis=1)]).all()


def test_sparse_and_dense_rows_train_the_same_model():
    X, y = load_breast_cancer(return_X_y=True)
    X = standardized(X)
    X[np.abs(X) < 0.5] = 0
    settings = dict(algorithm="lbfgs", alpha=1e-2, max_iter=300, random_state=0, n_jobs=1)
    dense = SounderClassifier(**settings).fit(X.astype(np.float32), y)
    for matrix in (sp.csr_matrix(X.astype(np.float32)), sp.csr_matrix(X)):
        sparse = SounderClassifier(**settings).fit(matrix, y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-3, atol=5e-4)
    # int64 indices and a CSC matrix reach the same rows.
    wide = sp.csr_matrix(X)
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    np.testing.assert_allclose(SounderClassifier(**settings).fit(wide, y).coef_, dense.coef_, rtol=1e-3, atol=5e-4)
    np.testing.assert_allclose(
        SounderClassifier(**settings).fit(sp.csc_matrix(X), y).coef_, dense.coef_, rtol=1e-3, atol=5e-4)


def test_weights_are_repeated_rows_at_the_optimum():
    X, y = load_breast_cancer(return_X_y=True)
    X = standardized(X)
    weights = np.random.default_rng(0).integers(0, 3, size=len(y))
    settings = dict(algorithm="lbfgs", alpha=1e-2, max_iter=500, random_state=0)
    weighted = SounderClassifier(**settings).fit(X, y, sample_weight=weights)
    repeated = SounderClassifier(**settings).fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-4, atol=1e-4)


def test_sgd_defaults_learn_and_report_epochs():
    X, y = load_breast_cancer(return_X_y=True)
    seen = []
    model = SounderClassifier(max_iter=15, random_state=0, callback=lambda r: seen.append(r.epoch)).fit(X, y)
    assert seen == list(range(1, 16)) and model.n_iter_ == 15
    assert model.score(X, y) > 0.9


def test_a_callback_stops_the_fit_and_its_exceptions_come_back():
    X, y = load_breast_cancer(return_X_y=True)
    model = SounderClassifier(max_iter=50, random_state=0, callback=lambda r: r.epoch == 3).fit(X, y)
    assert model.n_iter_ == 3

    def interrupt(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        SounderClassifier(max_iter=50, callback=interrupt).fit(X, y)


def test_the_same_seed_gives_the_same_model():
    X, y = load_breast_cancer(return_X_y=True)
    first = SounderClassifier(random_state=7, standardize=True).fit(X, y).coef_
    second = SounderClassifier(random_state=7, standardize=True).fit(X, y).coef_
    np.testing.assert_array_equal(first, second)


def brute_force(X, centres):
    distances = np.sqrt(((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    return distances, distances.argmin(axis=1), (distances.min(axis=1) ** 2).sum()


def test_kmeans_finds_blob_centres_and_agrees_with_brute_force():
    truth = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    X, _ = make_blobs(n_samples=4000, centers=truth, cluster_std=0.5, random_state=0)
    model = SounderKMeans(4, n_init=3, random_state=0).fit(X)
    order = np.lexsort(model.cluster_centers_.T[::-1])
    np.testing.assert_allclose(model.cluster_centers_[order], truth[np.lexsort(truth.T[::-1])], atol=0.05)
    distances, nearest, inertia = brute_force(X, model.cluster_centers_)
    np.testing.assert_allclose(model.transform(X), distances, rtol=1e-4, atol=1e-4)
    assert (model.predict(X) == nearest).all() and (model.labels_ == nearest).all()
    assert model.inertia_ == pytest.approx(inertia, rel=1e-5)
    assert model.score(X) == pytest.approx(-inertia, rel=1e-5)


def test_kmeans_on_sparse_rows_matches_dense():
    X, _ = make_blobs(n_samples=2000, centers=5, n_features=6, random_state=1)
    X[X < 0] = 0
    dense = SounderKMeans(5, random_state=3, n_jobs=1).fit(X)
    sparse = SounderKMeans(5, random_state=3, n_jobs=1).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.cluster_centers_, dense.cluster_centers_, rtol=1e-4, atol=1e-4)
    distances, nearest, _ = brute_force(X, sparse.cluster_centers_)
    np.testing.assert_allclose(sparse.transform(sp.csr_matrix(X)), distances, rtol=1e-4, atol=1e-3)


def test_partial_fit_learns_from_a_stream_of_batches():
    X, y = load_breast_cancer(return_X_y=True)
    X = standardized(X)
    names = np.array(["malignant", "benign"])[y]
    model = SounderClassifier(random_state=0, learning_rate=0.05, schedule="constant")
    order = np.random.default_rng(0).permutation(len(y))
    for start in range(0, len(y), 50):
        batch = order[start:start + 50]
        model.partial_fit(X[batch], names[batch], classes=["benign", "malignant"])
    assert list(model.classes_) == ["benign", "malignant"]
    assert model.score(X, names) > 0.95
    # A batch of one class keeps both: the classes were named.
    one_class = np.flatnonzero(y == 1)[:20]
    model.partial_fit(X[one_class], names[one_class])
    assert model.coef_.shape == (1, 30)
    # Three classes, batches that lack some of them.
    Xi, yi = load_iris(return_X_y=True)
    Xi = standardized(Xi)
    iris = SounderClassifier(random_state=0)
    for epoch in range(20):
        for start in range(0, 150, 30):
            iris.partial_fit(Xi[start:start + 30], yi[start:start + 30], classes=[0, 1, 2])
    assert iris.coef_.shape == (3, 4) and iris.score(Xi, yi) > 0.85


def test_partial_fit_regressor_descends_to_least_squares():
    # With full-batch gradient descent each call is one step from the weights
    # so far, so a loop of calls is gradient descent, and ends at the optimum.
    X, y = load_diabetes(return_X_y=True)
    X = standardized(X)
    A = np.hstack([X, np.ones((len(X), 1))])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    best = np.mean((A @ exact - y) ** 2)
    model = SounderRegressor(penalty=None, algorithm="gd", random_state=0, n_jobs=1)
    losses = []
    for _ in range(400):
        model.partial_fit(X, y)
        losses.append(np.mean((model.predict(X) - y) ** 2))
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(losses, losses[1:]))
    assert losses[0] > 2 * best and losses[-1] == pytest.approx(best, rel=1e-2)
