"""L-BFGS against multi-core LIBLINEAR (liblinear-multicore from PyPI), to
LIBLINEAR's `-e 0.001` objective, on the same cores, from the same arrays.

    tools/bench-lbfgs-multicore [--quick]

Both sides train logistic regression without an intercept at λ₂ = 1e-4,
LIBLINEAR's C = 1/(λ n): its trust-region Newton (`-s 0 -m THREADS`), then
Sounder's L-BFGS through libsounder until it reaches the objective LIBLINEAR
reached (evaluated here in numpy on LIBLINEAR's weights, by neither program;
Sounder stops on its own float32 evaluation, so it is asked for a little less,
as little as numpy then confirms).
Each side's data preparation (LIBLINEAR's copy into its own rows; Sounder's
row check) is timed apart from its training.
"""
import argparse
import time

import numpy as np
import scipy.sparse as sp
from liblinear.liblinearutil import parameter, problem, train

from sounder._library import Data, Model

LAMBDA = 1e-4


def dense(n, d, seed):
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(d) * 3 / np.sqrt(d)
    X = rng.standard_normal((n, d), dtype=np.float32)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(X @ truth))), 1.0, -1.0)
    return X, y


def sparse(n, d, per_row, seed):
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal(d)
    # Power-law columns, as words: column ⌊d · u³⌋, duplicates within a row summed away.
    columns = np.minimum((d * rng.random((n, per_row)) ** 3).astype(np.int64), d - 1)
    values = (rng.standard_normal((n, per_row)) / np.sqrt(per_row)).astype(np.float32)
    X = sp.csr_matrix((values.ravel(), columns.ravel(), np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    X.sum_duplicates()
    margins = X @ truth
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-margins)), 1.0, -1.0)
    return X, y


def objective(X, y, w):
    margins = X @ w
    return float(np.mean(np.logaddexp(0, -y * margins)) + 0.5 * LAMBDA * w @ w)


def run(name, X, y, threads):
    n = X.shape[0]
    C = 1 / (LAMBDA * n)
    started = time.perf_counter()
    prob = problem(y, X)
    prepared = time.perf_counter()
    model = train(prob, parameter(f"-s 0 -c {C} -e 0.001 -B -1 -m {threads} -q"))
    trained = time.perf_counter()
    w, _ = model.get_decfun()
    target = objective(X, y, np.array(w))
    liblinear = trained - prepared
    print(f"{name}, {threads} thread(s): LIBLINEAR -s 0 -e 0.001: objective {target:.10f}, "
          f"train {liblinear:.2f} s (+ {prepared - started:.2f} s copying into its rows)")

    started = time.perf_counter()
    data = Data(X, (y > 0).astype(np.float32))
    prepared = time.perf_counter() - started
    # Sounder stops on its own evaluation of the objective (float32 margins),
    # about 1e-5 relative from numpy's; it is asked for a little below
    # LIBLINEAR's objective, ten times further each time numpy finds the
    # model above it, and the first run at or below it counts.
    for margin in (1e-6, 1e-5, 1e-4, 1e-3):
        settings = {"algorithm": "lbfgs", "l2": LAMBDA, "fitIntercept": False, "epochs": 500,
                    "targetLoss": target * (1 - margin), "threads": threads}
        started = time.perf_counter()
        fitted = Model.fit(data, settings)
        seconds = time.perf_counter() - started
        reached = objective(X, y, fitted.coefficients().ravel().astype(np.float64))
        if reached <= target:
            break
    verdict = "at or below LIBLINEAR's" if reached <= target else "ABOVE LIBLINEAR's"
    print(f"{name}, {threads} thread(s): Sounder L-BFGS: objective {reached:.10f} ({verdict}; asked for "
          f"{margin:g} below) in {fitted.info.epochs} iterations, train {seconds:.2f} s (+ {prepared:.2f} s the "
          f"row check): {liblinear / seconds:.1f}x LIBLINEAR's train time", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    arguments = parser.parse_args()
    scale = 10 if arguments.quick else 1
    sets = [("dense 2,000,000 x 64", dense(2_000_000 // scale, 64, 7)),
            ("sparse 500,000 x 50,000", sparse(500_000 // scale, 50_000, 80, 9))]
    for name, (X, y) in sets:
        for threads in arguments.threads:
            run(name, X, y, threads)


if __name__ == "__main__":
    main()
