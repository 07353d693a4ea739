"""scikit-learn estimators over Sounder: linear classification and
regression (SGD, mini-batch, full-batch gradient descent or L-BFGS on every
core) and k-means."""
import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, ClusterMixin, RegressorMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._library import LABELS, PROBABILITIES, VALUES, Data, Model

_DTYPES = [np.float32, np.float64]
# What every estimator asks of X from scikit-learn's validation. Finiteness is
# left to the library, which checks every value once anyway (with the row it is
# in): a second scan here would cost as much as a prediction.
_ROWS = dict(accept_sparse="csr", dtype=_DTYPES, ensure_all_finite=False)


def _threads(n_jobs):
    """scikit-learn's n_jobs as Sounder's thread count (None: every core)."""
    if n_jobs is None or n_jobs == -1:
        return None
    if not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None, -1 or a nonzero integer, got {n_jobs!r}")
    return int(n_jobs) if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))


def _seed(random_state):
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _ModelState:
    """Pickling (the model travels as its file's bytes) and saving, for every estimator."""

    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the instance's own dictionary.
        state = dict(super().__getstate__())
        if "_model" in state:
            state["_model"] = state["_model"].to_bytes()
        return state

    def __setstate__(self, state):
        if isinstance(state.get("_model"), bytes):
            state = dict(state, _model=Model.from_bytes(state["_model"]))
        super().__setstate__(state)

    def save(self, path):
        """Writes the model file (the command line's format: `sounder predict` reads it)."""
        check_is_fitted(self, "_model")
        self._model.save(path)

    def _rows(self, X):
        """`X` checked against the fit (features, dtype, finiteness) as rows for the library."""
        check_is_fitted(self, "_model")
        return Data(validate_data(self, X, reset=False, **_ROWS))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class _SounderLinear(_ModelState, BaseEstimator):
    """What the classifier and the regressor share: settings, fit, pickling."""

    def _penalties(self):
        if self.penalty is None:
            return 0.0, 0.0
        if self.penalty == "l2":
            # None: the library chooses the strength from the data.
            return 0.0, self.alpha
        alpha = 1e-4 if self.alpha is None else self.alpha
        if self.penalty == "l1":
            return alpha, 0.0
        if self.penalty == "elasticnet":
            return alpha * self.l1_ratio, alpha * (1 - self.l1_ratio)
        raise ValueError(f"penalty must be 'l2', 'l1', 'elasticnet' or None, got {self.penalty!r}")

    def _settings(self, loss):
        l1, l2 = self._penalties()
        settings = {
            "loss": loss, "l1": l1, "fitIntercept": bool(self.fit_intercept),
            "algorithm": self.algorithm, "seed": _seed(self.random_state), "batchSize": int(self.batch_size),
        }
        optional = {
            "l2": l2, "epochs": None if self.max_iter is None else int(self.max_iter),
            "learningRate": self.learning_rate, "schedule": self.schedule, "tolerance": self.tol,
            "holdoutFraction": self.validation_fraction, "standardize": self.standardize,
            "threads": _threads(self.n_jobs),
        }
        settings.update({key: value for key, value in optional.items() if value is not None})
        settings["iterationsWithoutChange"] = int(self.n_iter_no_change)
        return settings

    def _fit(self, X, y, sample_weight, loss, extra=None, start=None, partial=False):
        settings = self._settings(loss)
        settings.update(extra or {})
        if partial:
            # One SGD epoch over the batch, in the features' own units, from the
            # weights so far: no search for a penalty on one batch (none unless
            # alpha is given), and no L-BFGS for "auto".
            settings.update(epochs=1, standardize=False)
            settings.setdefault("l2", 0.0)
            if settings["algorithm"] == "auto":
                settings["algorithm"] = "sgd"
            settings.pop("tolerance", None)
            settings.pop("holdoutFraction", None)
        data = Data(X, y, sample_weight)
        self._model = Model.fit(data, settings, callback=self.callback, start=start)
        self.n_iter_ = int(self._model.info.epochs)
        # What the fit chose where the settings left it open, each with its reason.
        self.fit_choices_ = self._model.metadata().get("choices", {})
        if self.penalty == "l2":
            self.alpha_ = float(self.fit_choices_["l2"])
        else:
            self.alpha_ = 0.0 if self.penalty is None else (1e-4 if self.alpha is None else float(self.alpha))
        self.learning_rate_ = float(self.fit_choices_["learningRate"])
        return self._model

    def _partial_start(self, X, y):
        """`X` and `y` checked for partial_fit, and the model to start from (None on the first call)."""
        first = not hasattr(self, "_model")
        X, y = validate_data(self, X, y, reset=first, **_ROWS)
        return X, y, None if first else self._model


class SounderClassifier(ClassifierMixin, _SounderLinear):
    """A linear classifier trained by Sounder on every core.

    Binary and multiclass (softmax for logistic loss, one-vs-rest for hinge
    and modified Huber). The objective is the mean loss plus
    ``alpha · R(w)``, with R as in scikit-learn's ``SGDClassifier``.

    The defaults are the command line's: with ``alpha=None`` the L2 strength
    is chosen from the data (5-fold cross-validation on small data, none on
    large data; 'l1' and 'elasticnet' take 1e-4), with ``algorithm='auto'``
    small data is fitted to the optimum by L-BFGS and larger data by SGD,
    and ``max_iter=None`` caps epochs at 100 for 'gd' and 'lbfgs'; SGD with
    ``max_iter=None`` and ``tol=None`` stops early, after at most 20 epochs,
    once the loss on a held-out tenth of the rows (``validation_fraction``
    when given; the training loss below 10,000 rows) has not fallen 0.1%
    in ``n_iter_no_change`` epochs, and keeps the model of the least
    held-out loss. A given ``max_iter`` runs that many epochs.

    Parameters mirror ``SGDClassifier`` where they mean the same:
    ``loss`` ('logistic', 'hinge', 'modified-huber'), ``penalty``, ``alpha``,
    ``l1_ratio``, ``fit_intercept``, ``max_iter`` (epochs), ``tol`` and
    ``n_iter_no_change`` (stop when the loss stops improving),
    ``validation_fraction`` (a held-out share the stopping rule watches),
    ``class_weight`` (None or 'balanced'), ``n_jobs`` (threads; None uses
    every core, unlike scikit-learn's default of one), ``random_state``.
    Sounder's own: ``algorithm`` ('auto', 'sgd', 'minibatch', 'gd', 'lbfgs'),
    ``learning_rate`` (None: chosen from the data), ``schedule``
    ('constant', 'optimal', 'inverse-scaling', 'adagrad'; None: chosen from
    the data), ``batch_size`` (minibatch), ``standardize`` (None: when the
    features' scales differ), ``multiclass`` ('softmax', 'ovr'; None: by
    loss), ``callback`` (called with each epoch's report; return True to stop).

    After ``fit``: ``coef_``, ``intercept_``, ``classes_``, ``n_iter_``
    (epochs run), ``alpha_`` (for ``penalty='l2'`` the L2 strength trained
    with, chosen or given; for 'l1' and 'elasticnet' the alpha given, 1e-4
    when None), ``learning_rate_`` and ``fit_choices_`` (every setting the
    fit chose, with its reason: the command line's log lines).
    """

    def __init__(
        self, loss="logistic", *, penalty="l2", alpha=None, l1_ratio=0.15, fit_intercept=True,
        algorithm="auto", max_iter=None, tol=None, n_iter_no_change=5, validation_fraction=None,
        learning_rate=None, schedule=None, batch_size=256, standardize=None, class_weight=None,
        multiclass=None, n_jobs=None, random_state=None, callback=None,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.batch_size = batch_size
        self.standardize = standardize
        self.class_weight = class_weight
        self.multiclass = multiclass
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.callback = callback

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, **_ROWS)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        # Each row's class index, as the library's labels; without unique's inverse
        # and its sorting permutation, two int64 arrays as long as y.
        if len(self.classes_) == 2:
            indices = (y == self.classes_[1]).astype(np.float32)
        else:
            indices = np.searchsorted(self.classes_, y).astype(np.float32)
        if len(self.classes_) < 2:
            raise ValueError(
                f"SounderClassifier needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {self.classes_[0]!r}")
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float32)
        extra = {}
        if self.class_weight == "balanced":
            extra["classWeight"] = "balanced"
        elif isinstance(self.class_weight, dict):
            # Weights per class become weights per row, as scikit-learn's estimators make them.
            per_class = np.array([self.class_weight.get(c, 1.0) for c in self.classes_], dtype=np.float32)
            sample_weight = per_class[indices.astype(np.intp)] * (1 if sample_weight is None else sample_weight)
        elif self.class_weight is not None:
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}")
        if self.multiclass is not None:
            extra["multiclass"] = self.multiclass
        model = self._fit(X, indices, sample_weight, self.loss, extra)
        self.coef_ = model.coefficients().astype(np.float64)
        self.intercept_ = model.intercepts().astype(np.float64)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over the batch (X, y), from the weights so far (zeros
        on the first call, which must name every class in `classes`). The
        step-size schedule starts afresh with each call: give it batches of
        thousands of rows, or a constant `learning_rate`."""
        X, y, start = self._partial_start(X, y)
        check_classification_targets(y)
        if start is None:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = np.unique(classes)
            if len(self.classes_) < 2:
                raise ValueError(f"partial_fit needs at least 2 classes, got {self.classes_!r}")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={np.unique(classes)!r}` is not the same as on the first call to partial_fit "
                f"({self.classes_!r})")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(f"y holds {unseen!r}, which is not among the classes {self.classes_!r}")
        indices = np.searchsorted(self.classes_, y).astype(np.float32)
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float32)
        extra = {"classes": [float(k) for k in range(len(self.classes_))]}
        if self.multiclass is not None:
            extra["multiclass"] = self.multiclass
        model = self._fit(X, indices, sample_weight, self.loss, extra, start=start, partial=True)
        self.coef_ = model.coefficients().astype(np.float64)
        self.intercept_ = model.intercepts().astype(np.float64)
        return self

    def decision_function(self, X):
        rows = self._rows(X)
        scores = self._model.predict(rows, VALUES, self._model.info.outputs)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        rows = self._rows(X)
        labels = self._model.predict(rows, LABELS, 1).ravel()
        return self.classes_[labels.astype(np.intp)]

    def _has_probabilities(self):
        return self.loss in ("logistic", "modified-huber")

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        rows = self._rows(X)
        probabilities = self._model.predict(rows, PROBABILITIES, len(self.classes_)).astype(np.float64)
        # Each row sums to 1 in float32; in float64 it sums to 1 exactly.
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class SounderRegressor(RegressorMixin, _SounderLinear):
    """A linear regressor (squared loss) trained by Sounder on every core.

    Parameters and fitted attributes as for :class:`SounderClassifier`,
    without the classification ones (``loss``, ``class_weight``,
    ``multiclass``, ``classes_``).
    """

    def __init__(
        self, *, penalty="l2", alpha=None, l1_ratio=0.15, fit_intercept=True, algorithm="auto",
        max_iter=None, tol=None, n_iter_no_change=5, validation_fraction=None, learning_rate=None,
        schedule=None, batch_size=256, standardize=None, n_jobs=None, random_state=None, callback=None,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.algorithm = algorithm
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.batch_size = batch_size
        self.standardize = standardize
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.callback = callback

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, y_numeric=True, **_ROWS)
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float32)
        model = self._fit(X, y, sample_weight, "squared")
        self.coef_ = model.coefficients().ravel().astype(np.float64)
        self.intercept_ = model.intercepts().astype(np.float64)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over the batch (X, y), from the weights so far; the
        step-size schedule starts afresh with each call."""
        X, y, start = self._partial_start(X, y)
        y = np.asarray(y, dtype=np.float64)
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float32)
        model = self._fit(X, y, sample_weight, "squared", start=start, partial=True)
        self.coef_ = model.coefficients().ravel().astype(np.float64)
        self.intercept_ = model.intercepts().astype(np.float64)
        return self

    def predict(self, X):
        rows = self._rows(X)
        return self._model.predict(rows, LABELS, 1).ravel().astype(np.float64)


class SounderKMeans(_ModelState, TransformerMixin, ClusterMixin, BaseEstimator):
    """k-means on every core (Lloyd's iteration, its bounded form, or
    mini-batches), seeded by k-means++ or k-means‖.

    Parameters as scikit-learn's ``KMeans`` where they mean the same:
    ``n_clusters``, ``init`` ('k-means++', 'k-means-parallel', 'random'),
    ``n_init`` (runs; the lowest inertia wins), ``max_iter``, ``tol``
    (relative to the mean feature variance), ``algorithm`` ('lloyd',
    'bounded', 'minibatch'), ``random_state``; Sounder's own: ``batch_size``
    (minibatch), ``standardize``, ``n_jobs`` (threads; None: every core),
    ``callback``.
    """

    def __init__(
        self, n_clusters=8, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd",
        batch_size=1024, standardize=False, n_jobs=None, random_state=None, callback=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.batch_size = batch_size
        self.standardize = standardize
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.callback = callback

    def fit(self, X, y=None, sample_weight=None):
        X = validate_data(self, X, **_ROWS)
        sample_weight = None if sample_weight is None else _check_sample_weight(sample_weight, X, dtype=np.float32)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        settings = {
            "clusters": int(self.n_clusters), "initialization": self.init, "runs": int(self.n_init),
            "maxIterations": int(self.max_iter), "tolerance": float(self.tol), "algorithm": self.algorithm,
            "batchSize": int(self.batch_size), "standardize": bool(self.standardize),
            "seed": _seed(self.random_state),
        }
        threads = _threads(self.n_jobs)
        if threads is not None:
            settings["threads"] = threads
        data = Data(X, None, sample_weight)
        self._model = Model.fit(data, settings, clustering=True, callback=self.callback)
        self.cluster_centers_ = self._model.coefficients().astype(np.float64)
        self.labels_ = self._model.predict(data, LABELS, 1).ravel().astype(np.int32)
        self.inertia_ = float(self._model.info.training_loss)
        self.n_iter_ = int(self._model.info.epochs)
        return self

    def predict(self, X):
        rows = self._rows(X)
        return self._model.predict(rows, LABELS, 1).ravel().astype(np.int32)

    def transform(self, X):
        rows = self._rows(X)
        return self._model.predict(rows, VALUES, self.n_clusters).astype(np.float64)

    def score(self, X, y=None, sample_weight=None):
        distances = self.transform(X).min(axis=1)
        weights = np.ones(len(distances)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        return -float(np.sum(weights * distances**2))

