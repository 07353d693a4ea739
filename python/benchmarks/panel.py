"""The defaults panel (issue "Defaults that train a good model"): Sounder with
no options against scikit-learn's SGD with a StandardScaler and a tuned
learning rate, and Vowpal Wabbit with its defaults, on a fixed held-out split
of every data set, as given and with its columns badly scaled (column j
multiplied by 10^k, k = j mod 7 - 3).

Prints one table row per data set and copy: test accuracy and log-loss (or
R²) for each, the gap of Sounder's to the best of the others, and the fit
times. Run by tools/panel (add --quick for the small sets only).
"""
import argparse
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn import datasets
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.metrics import accuracy_score, log_loss, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

from sounder import SounderClassifier, SounderRegressor

try:
    import vowpalwabbit
except ImportError:  # the panel runs without it, and says so
    vowpalwabbit = None


def generated(kind, rows, columns, seed=7):
    """Rows like `sounder generate`'s: standard normal (sparse: 40 values a
    row, power-law columns), labels from a random linear model."""
    rng = np.random.default_rng(seed)
    if kind == "sparse":
        nnz = 40
        cols = np.minimum((rng.pareto(1.2, rows * nnz) * 50).astype(np.int64), columns - 1)
        X = sp.csr_matrix(
            (rng.standard_normal(rows * nnz).astype(np.float32), cols, np.arange(0, rows * nnz + 1, nnz)),
            shape=(rows, columns))
        X.sum_duplicates()
    else:
        X = rng.standard_normal((rows, columns), dtype=np.float32)
    w = rng.standard_normal(columns) / np.sqrt(40 if kind == "sparse" else columns) * 2
    m = X @ w
    if kind == "regression":
        return X, (m + rng.standard_normal(rows) * 0.5 + 3).astype(np.float64)
    return X, (rng.random(rows) < 1 / (1 + np.exp(-m))).astype(np.int64)


def panel_sets(quick):
    cancer = datasets.load_breast_cancer(return_X_y=True)
    digits = datasets.load_digits(return_X_y=True)
    sets = [
        ("breast-cancer", "binary", *cancer),
        ("diabetes", "regression", *datasets.load_diabetes(return_X_y=True)),
        ("digits 0-vs-rest", "binary", digits[0], (digits[1] == 0).astype(int)),
        ("digits", "multiclass", *digits),
        ("wine", "multiclass", *datasets.load_wine(return_X_y=True)),
        ("iris", "multiclass", *datasets.load_iris(return_X_y=True)),
    ]
    if not quick:
        sets += [
            ("dense 400k x 64", "binary", *generated("binary", 400_000, 64)),
            ("dense regression 400k x 64", "regression", *generated("regression", 400_000, 64)),
            ("sparse 400k x 50k", "binary", *generated("sparse", 400_000, 50_000)),
        ]
    return sets


def badly_scaled(X):
    factors = (10.0 ** (np.arange(X.shape[1]) % 7 - 3)).astype(np.float32)
    return X @ sp.diags(factors).tocsr() if sp.issparse(X) else X * factors


def quality(kind, model, X, y):
    if kind == "regression":
        return {"r2": r2_score(y, model.predict(X))}
    scores = {"accuracy": accuracy_score(y, model.predict(X))}
    if hasattr(model, "predict_proba"):
        scores["log-loss"] = log_loss(y, model.predict_proba(X), labels=np.unique(y))
    return scores


def timed_fit(model, X, y):
    started = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - started


def sklearn_best(kind, X, y, Xt, yt, large):
    """The best test score over a grid of learning rates, with a scaler (MaxAbs
    for sparse rows, which StandardScaler would densify)."""
    scaler = MaxAbsScaler if sp.issparse(X) else StandardScaler
    grid = [("optimal", 0.01)] if kind != "regression" else []
    grid += [("adaptive", eta) for eta in ((0.01, 0.1) if large else (0.001, 0.01, 0.1, 1.0))]
    best = None
    for schedule, eta in grid:
        if kind == "regression":
            sgd = SGDRegressor(learning_rate=schedule, eta0=eta, random_state=0)
        else:
            sgd = SGDClassifier(loss="log_loss", learning_rate=schedule, eta0=eta, random_state=0)
        model, seconds = timed_fit(make_pipeline(scaler(), sgd), X, y)
        scores = quality(kind, model, Xt, yt)
        key = scores.get("r2", scores.get("accuracy"))
        if best is None or key > best[0]:
            best = (key, scores, seconds, schedule if schedule == "optimal" else f"{schedule} eta0={eta}")
    return best[1], best[2], best[3]


def vw_fit_score(kind, X, y, Xt, yt, classes):
    """Vowpal Wabbit with its defaults (one pass), the loss set for the task."""
    if vowpalwabbit is None:
        return None, None
    args = "--quiet"
    if kind == "binary":
        args += " --loss_function logistic --link logistic"
    elif kind == "multiclass":
        args += f" --oaa {len(classes)} --loss_function logistic --probabilities"
    vw = vowpalwabbit.Workspace(args)

    def lines(M):
        M = sp.csr_matrix(M)
        for i in range(M.shape[0]):
            row = M.getrow(i)
            yield " ".join(f"{j}:{v:.7g}" for j, v in zip(row.indices, row.data))

    index = {c: k for k, c in enumerate(classes)} if classes is not None else None

    def label(t):
        if kind == "regression":
            return f"{t}"
        if kind == "binary":
            return "1" if t == classes[1] else "-1"
        return f"{index[t] + 1}"

    started = time.perf_counter()
    for t, features in zip(y, lines(X)):
        vw.learn(f"{label(t)} |f {features}")
    seconds = time.perf_counter() - started
    raw = np.array([vw.predict(f"|f {features}") for features in lines(Xt)], dtype=object)
    vw.finish()
    if kind == "regression":
        return {"r2": r2_score(yt, raw.astype(float))}, seconds
    if kind == "binary":
        p = np.clip(raw.astype(float), 1e-15, 1 - 1e-15)
        predicted = np.where(p >= 0.5, classes[1], classes[0])
        return {"accuracy": accuracy_score(yt, predicted),
                "log-loss": log_loss(yt, np.column_stack([1 - p, p]), labels=classes)}, seconds
    P = np.array([np.asarray(r, dtype=float) for r in raw])
    P = P / P.sum(axis=1, keepdims=True)
    return {"accuracy": accuracy_score(yt, classes[P.argmax(axis=1)]),
            "log-loss": log_loss(yt, P, labels=classes)}, seconds


def show(scores):
    if scores is None:
        return "-"
    return ", ".join(f"{k} {v:.4f}" for k, v in scores.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small data sets only")
    args = parser.parse_args()
    if vowpalwabbit is None:
        print("(vowpalwabbit is not installed: its column is empty)")
    print("| data | copy | Sounder, no options | scikit-learn, tuned | Vowpal Wabbit | Sounder's gap | fit seconds: Sounder / sklearn / VW |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, kind, X, y in panel_sets(args.quick):
        X = X.astype(np.float32) if not sp.issparse(X) else X.astype(np.float32)
        X, Xt, y, yt = train_test_split(X, y, test_size=0.25, random_state=0, stratify=None if kind == "regression" else y)
        large = X.shape[0] > 10_000
        classes = None if kind == "regression" else np.unique(y)
        for copy in ("as given", "badly scaled"):
            A, At = (X, Xt) if copy == "as given" else (badly_scaled(X), badly_scaled(Xt))
            estimator = SounderRegressor() if kind == "regression" else SounderClassifier()
            model, sounder_seconds = timed_fit(estimator, A, y)
            ours = quality(kind, model, At, yt)
            theirs, sk_seconds, setting = sklearn_best(kind, A, y, At, yt, large)
            vw, vw_seconds = vw_fit_score(kind, A, y, At, yt, classes)
            key = "r2" if kind == "regression" else "accuracy"
            best_other = max(theirs[key], vw[key] if vw else -np.inf)
            gap = ours[key] - best_other
            print(f"| {name} | {copy} | {show(ours)} | {show(theirs)} ({setting}) | {show(vw)} | "
                  f"{key} {gap:+.4f} | {sounder_seconds:.3f} / {sk_seconds:.3f} / "
                  f"{'-' if vw_seconds is None else f'{vw_seconds:.3f}'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
