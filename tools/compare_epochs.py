"""Seconds per epoch of dense logistic training on one .sds file, side by side:
Sounder's whole process, scikit-learn's SGDClassifier and Vowpal Wabbit.
Run through tools/compare (which installs the peers):

    tools/compare --epochs DATA.sds [--rounds N]

- Sounder: `sounder train DATA --epochs E` on every core, timed from outside
  as a user waits for it; per epoch (T(6) - T(1)) / 5, so start-up, the row
  check and the final metrics cancel.
- scikit-learn: `SGDClassifier(loss="log_loss", tol=None, alpha=1e-4)` fitted
  in this process on float64 arrays (its own fastest input), (T(6) - T(1)) / 5.
- Vowpal Wabbit: logistic, one pass from its cache, carrying on from the last
  model (--save_resume -i), the pass timed whole; its cache is built first,
  untimed, from a text file written here.

Prints each round and the ratios of the medians.
"""
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

from compare import read_sds

WORK = os.environ.get("COMPARE_DIR", "/tmp/sounder-compare")
SOUNDER = os.path.join(os.path.dirname(__file__), "..", ".build", "release", "sounder")


def sounder_epoch(path):
    def whole(epochs):
        start = time.monotonic()
        subprocess.run(
            [SOUNDER, "train", path, "--epochs", str(epochs), "-o", os.path.join(WORK, "epochs.model")],
            check=True, capture_output=True)
        return time.monotonic() - start
    return (whole(6) - whole(1)) / 5


def sklearn_epoch(x, y):
    from sklearn.linear_model import SGDClassifier

    def fitted(epochs):
        model = SGDClassifier(loss="log_loss", max_iter=epochs, tol=None, alpha=1e-4, random_state=0)
        start = time.perf_counter()
        model.fit(x, y)
        return time.perf_counter() - start
    return (fitted(6) - fitted(1)) / 5


def vw_text(x, y, path):
    if os.path.exists(path):
        return
    with open(path + ".part", "w") as file:
        names = [f"{j}:" for j in range(x.shape[1])]
        for row, label in zip(x, y):
            file.write(("1" if label > 0 else "-1") + " |f " + " ".join(n + f"{v:.7g}" for n, v in zip(names, row)) + "\n")
    os.rename(path + ".part", path)
    # Written back now: a gigabyte of dirty pages being flushed slowed the first VW passes 4x.
    os.sync()


def vw_run(arguments):
    from vowpalwabbit import Workspace
    workspace = Workspace(arguments)
    workspace.run_parser()
    workspace.finish()


def main():
    warnings.filterwarnings("ignore")
    path = sys.argv[sys.argv.index("--epochs") + 1]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 2
    os.makedirs(WORK, exist_ok=True)
    x, y = read_sds(path)
    x64 = np.ascontiguousarray(x, dtype=np.float64)
    text = os.path.join(WORK, os.path.basename(path) + ".vw")
    vw_text(x, y, text)
    cache = text + ".cache"
    common = f"-d {text} --cache_file {cache} --passes 1 --loss_function logistic --quiet --holdout_off"
    vw_run(f"{common} -f {WORK}/vw-0.model")
    print(f"{path}: {x.shape[0]} rows x {x.shape[1]} features, {os.cpu_count()} cores")
    found = {"sounder": [], "sklearn": [], "vw": []}
    for round in range(rounds):
        found["sounder"].append(sounder_epoch(path))
        found["sklearn"].append(sklearn_epoch(x64, y))
        start = time.perf_counter()
        vw_run(f"{common} --save_resume -i {WORK}/vw-{round}.model -f {WORK}/vw-{round + 1}.model")
        found["vw"].append(time.perf_counter() - start)
        print(f"round {round + 1}: " + ", ".join(f"{tool} {found[tool][-1] * 1000:.1f} ms" for tool in found))
    median = {tool: statistics.median(values) for tool, values in found.items()}
    print(f"medians: Sounder {median['sounder'] * 1000:.1f} ms an epoch; scikit-learn "
          f"{median['sklearn'] / median['sounder']:.1f}x that, Vowpal Wabbit {median['vw'] / median['sounder']:.1f}x")


if __name__ == "__main__":
    main()
