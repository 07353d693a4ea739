"""The Python package against scikit-learn, side by side in one run.

    tools/bench-python [--quick]

Prints one line per figure: fit of SounderClassifier against SGDClassifier
(same epochs, same L2 penalty) on 400,000 x 128 float32 rows with test
log-loss, the Python overhead of a fit on 1,000 rows, predict on
1,000,000 x 128 against SGDClassifier.predict, and the peak memory of a fit
on a 2 GB float32 array (in a child process of its own).
"""
import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss

from sounder import SounderClassifier


def rows(n, d, seed):
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(1).standard_normal(d).astype(np.float32) / np.sqrt(d) * 3
    X = rng.standard_normal((n, d), dtype=np.float32)
    p = 1 / (1 + np.exp(-(X @ truth)))
    return X, (rng.random(n) < p).astype(np.int32)


def best(f, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - started)
    return min(times), result


def resident():
    """This process's resident bytes now (from /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def memory_child(gigabytes):
    """Runs in a child: a float32 array of `gigabytes` GB, one fit, the peak resident size."""
    baseline = resident()
    n = int(gigabytes * 1e9 / (128 * 4))
    X = np.empty((n, 128), dtype=np.float32)
    rng = np.random.default_rng(0)
    for start in range(0, n, 1 << 16):
        X[start:start + (1 << 16)] = rng.standard_normal((min(1 << 16, n - start), 128), dtype=np.float32)
    y = (X[:, 0] > 0).astype(np.int32)
    before = resident()
    SounderClassifier(max_iter=1, random_state=0).fit(X, y)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"array": X.nbytes, "baseline": baseline, "before_fit": before, "peak": peak}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10x fewer rows, no 2 GB memory run")
    parser.add_argument("--memory-child", type=float)
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(arguments.memory_child)
        return
    scale = 10 if arguments.quick else 1
    repeats = 5
    X, y = rows(400_000 // scale, 128, 0)
    X_test, y_test = rows(100_000 // scale, 128, 2)
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"fit, {len(X):,} x 128 float32, 10 epochs, L2 alpha = 1e-4 (best of {repeats}):")
    epochs = []
    sounder_time, sounder_model = best(
        lambda: SounderClassifier(max_iter=10, alpha=1e-4, random_state=0,
                                  callback=lambda r: epochs.append(r.seconds)).fit(X, y), repeats)
    epoch = min(epochs)
    sklearn_time, sklearn_model = best(
        lambda: SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=10, tol=None, random_state=0).fit(X, y),
        repeats)
    sounder_loss = log_loss(y_test, sounder_model.predict_proba(X_test))
    sklearn_loss = log_loss(y_test, sklearn_model.predict_proba(X_test))
    print(f"  SounderClassifier  {sounder_time:7.3f} s   test log-loss {sounder_loss:.4f}   "
          f"(fastest epoch {epoch * 1e3:.1f} ms: {X.nbytes / epoch / 1e9:.1f} GB/s of rows)")
    print(f"  SGDClassifier      {sklearn_time:7.3f} s   test log-loss {sklearn_loss:.4f}")
    print(f"  ratio {sklearn_time / sounder_time:.1f}x")

    small_X, small_y = X[:1000], y[:1000]
    trained = []
    model = SounderClassifier(max_iter=1, n_jobs=1, random_state=0, callback=lambda r: trained.append(r.seconds))
    for _ in range(20):  # warm
        model.fit(small_X, small_y)
    walls = []
    for _ in range(200):
        trained.clear()
        started = time.perf_counter()
        model.fit(small_X, small_y)
        walls.append((time.perf_counter() - started, sum(trained)))
    wall, training = min(walls)
    median = sorted(w for w, _ in walls)[len(walls) // 2]
    print(f"fit on 1,000 x 128, 1 epoch, 1 thread: {wall * 1e3:.2f} ms whole call (median {median * 1e3:.2f}), "
          f"{training * 1e3:.3f} ms of it the epoch")

    P = np.concatenate([X_test] * 10)
    print(f"predict, {len(P):,} x 128 float32 (best of {repeats}):")
    sounder_predict, a = best(lambda: sounder_model.predict(P), repeats)
    sklearn_predict, b = best(lambda: sklearn_model.predict(P), repeats)
    print(f"  SounderClassifier  {sounder_predict * 1e3:7.1f} ms")
    print(f"  SGDClassifier      {sklearn_predict * 1e3:7.1f} ms")
    print(f"  ratio {sklearn_predict / sounder_predict:.1f}x")

    if not arguments.quick:
        child = subprocess.run([sys.executable, __file__, "--memory-child", "2"], capture_output=True, text=True,
                               check=True)
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"fit on a {figures['array'] / 1e9:.2f} GB float32 array, 1 epoch: peak resident "
              f"{figures['peak'] / 1e9:.3f} GB; {figures['baseline'] / 1e9:.3f} GB before the array (the "
              f"interpreter, numpy, scipy, scikit-learn, libsounder), {figures['before_fit'] / 1e9:.3f} GB before "
              f"the fit")


if __name__ == "__main__":
    main()
