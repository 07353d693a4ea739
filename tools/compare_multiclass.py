"""Multiclass Sounder against scikit-learn and Vowpal Wabbit, in one run on this
machine (run through `tools/compare --multiclass`, which installs the peers).

1. Quality on the bundled digits (1,797 x 64, 10 classes), a fixed split (rows
   i with i mod 4 = 3 held out, which is what `--holdout 0.25` holds out):
   Sounder softmax against scikit-learn's LogisticRegression (lbfgs,
   multinomial) on the same objective, mean cross-entropy + (lambda/2)|W|^2,
   C = 1 / (lambda n). Both objectives are computed here, in numpy, from each
   model's weights.
2. Speed on generated data: dense 1,000,000 x 64 with 10 classes and sparse
   500,000 x 50,000 (80 non-zeros a row) with 20 classes, a test set from the
   same models: per-epoch training time and test log-loss of Sounder softmax
   (all cores; AdaGrad with no penalty, Vowpal Wabbit's terms, and the optimal
   schedule with scikit-learn's alpha, its terms), scikit-learn
   SGDClassifier(loss="log_loss", n_jobs=-1) and Vowpal Wabbit --oaa K; and
   the 10-class dense epoch against the binary epoch on as many rows.

Writes the "Multiclass peers" section of BENCHMARKS.md.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

import compare
from compare import ROOT, SOUNDER, WORK, log, read_sds, sounder, timed

QUICK = compare.QUICK
SCALE = compare.SCALE
EPOCHS = 5
LAMBDA = 1e-3  # digits: the penalty both tools minimise with
DIGITS_EPOCHS = 3000
SPEED = [
    # name, kind, rows, features, classes
    ("dense, 10 classes", "dense-classification", 1_000_000 // SCALE, 64, 10),
    ("sparse, 20 classes", "sparse-classification", 500_000 // SCALE, 50_000, 20),
]


def read_model(path):
    """(W features x K, b K) of a Sounder model file (format version 2)."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:8] == b"SNDRMODL"
    json_bytes = int(np.frombuffer(data[12:16], "<u4")[0])
    count = int(np.frombuffer(data[16:24], "<u8")[0])
    offset = int(np.frombuffer(data[24:32], "<u8")[0])
    metadata = json.loads(data[64:64 + json_bytes])
    outputs = metadata.get("outputs", 1)
    weights = np.frombuffer(data[offset:offset + 4 * count], "<f4").astype(np.float64)
    return weights.reshape(metadata["features"], outputs), np.array(metadata["intercepts"], dtype=np.float64)


def cross_entropy(x, y, w, b):
    """Mean −log softmax(x W + b)[y]."""
    m = x @ w + b
    m -= m.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(m).sum(axis=1)) - m[np.arange(len(y)), y]))


def digits():
    table = np.loadtxt(os.path.join(ROOT, "data/digits.csv"), delimiter=",", skiprows=1)
    x, y = table[:, :-1], table[:, -1].astype(int)
    test = np.arange(len(y)) % 4 == 3
    # Standardised with the training rows' statistics (constant pixels left at 0), and written
    # out for Sounder, so both tools minimise the same objective on the same numbers.
    mean, deviation = x[~test].mean(axis=0), x[~test].std(axis=0)
    x = (x - mean) / np.where(deviation > 0, deviation, 1)
    standardized = os.path.join(WORK, "digits-standardized.csv")
    np.savetxt(standardized, np.column_stack([x, y]), delimiter=",", fmt="%.9g",
               header=",".join([f"p{i}" for i in range(64)] + ["label"]), comments="")
    xtr, ytr, xte, yte = x[~test], y[~test], x[test], y[test]
    n = len(ytr)
    from sklearn.linear_model import LogisticRegression
    model, seconds = timed(lambda: LogisticRegression(C=1 / (LAMBDA * n), max_iter=100_000, tol=1e-10).fit(xtr, ytr))
    w, b = model.coef_.T, model.intercept_
    rows = [("scikit-learn LogisticRegression (lbfgs)", seconds,
             cross_entropy(xtr, ytr, w, b) + LAMBDA / 2 * float(np.sum(w * w)),
             float(np.mean(model.predict(xte) == yte)))]
    path = os.path.join(WORK, "digits.model")
    options = ["--holdout", 0.25, "--loss", "softmax", "--l2", LAMBDA, "--strategy", "sync", "--algorithm", "gd",
               "--schedule", "constant", "--lr", 1, "--epochs", DIGITS_EPOCHS, "-o", path, "--json"]
    _, seconds = timed(lambda: sounder("train", standardized, *options))
    w, b = read_model(path)
    accuracy = float(np.mean(np.argmax(xte @ w + b, axis=1) == yte))
    rows.append((f"Sounder softmax (sync gd, constant step 1, {DIGITS_EPOCHS:,} epochs)", seconds,
                 cross_entropy(xtr, ytr, w, b) + LAMBDA / 2 * float(np.sum(w * w)), accuracy))
    return rows


def prepare(kind, rows, features, classes):
    stem = os.path.join(WORK, f"{kind}-{classes}")
    paths = {"train": stem + ".sds", "test": stem + "-test.sds", "vw": stem + ".vw", "vw-test": stem + "-test.vw"}
    if not os.path.exists(paths["train"]):
        log(f"  generating {kind}, {classes} classes")
        sounder("generate", "--kind", kind, "--rows", rows, "--features", features, "--classes", classes,
                "--seed", 1, "-o", paths["train"])
        sounder("generate", "--kind", kind, "--rows", rows // 10, "--features", features, "--classes", classes,
                "--seed", 2, "--model-seed", 1, "-o", paths["test"])
    for source, target in ((paths["train"], paths["vw"]), (paths["test"], paths["vw-test"])):
        if not os.path.exists(target):
            svm = source + ".svm"
            sounder("convert", source, "-o", svm, "--quiet")
            # LIBSVM "c i:v ..." is VW's "c+1 | i:v ..." (VW's --oaa classes are 1..K).
            with open(svm) as text, open(target, "w") as out:
                for line in text:
                    label, _, rest = line.partition(" ")
                    out.write(f"{int(float(label)) + 1} | {rest}")
            os.remove(svm)
    return paths


def multiclass_log_loss(y, probabilities):
    p = np.clip(probabilities[np.arange(len(y)), y], 1e-15, 1)
    return float(-np.mean(np.log(p)))


def run_sounder(paths, threads, rate, epochs, schedule=("--schedule", "adagrad")):
    model = os.path.join(WORK, "sounder-multiclass.model")
    result = subprocess.run(
        [SOUNDER, "train", paths["train"], "--test", paths["test"], "-o", model, "--json", "--threads", str(threads),
         "--epochs", str(epochs), "--loss", "softmax", "--lr", str(rate), *map(str, schedule)],
        capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare-multiclass: sounder train failed:\n{result.stderr}")
    reports = [json.loads(line)["report"] for line in result.stdout.splitlines() if '"event":"epoch"' in line]
    return [(r["seconds"], r["validationLoss"], r["validationMetric"]) for r in reports]


def run_sklearn(x, y, xt, yt, classes, epochs):
    from sklearn.linear_model import SGDClassifier
    model = SGDClassifier(loss="log_loss", alpha=1e-6, n_jobs=-1, random_state=1)
    history = []
    labels = np.arange(classes)
    for _ in range(epochs):
        _, seconds = timed(lambda: model.partial_fit(x, y, classes=labels))
        probabilities = model.predict_proba(xt)
        history.append((seconds, multiclass_log_loss(yt, probabilities),
                        float(np.mean(np.argmax(probabilities, axis=1) == yt))))
    return history


def run_vw(paths, classes, rate, epochs, yt):
    cache = paths["vw"] + ".cache"
    history, previous = [], None
    for epoch in range(epochs):
        model = os.path.join(WORK, f"vw-oaa-{epoch}.model")
        seconds = compare.vw_pass(paths, cache, f"--oaa {classes} --loss_function logistic -l {rate}", model, previous)
        predictions = os.path.join(WORK, "vw-oaa.predictions")
        compare.vw_run(f"-d {paths['vw-test']} -t -i {model} -p {predictions} --probabilities --quiet")
        probabilities = np.zeros((len(yt), classes))
        with open(predictions) as file:
            for row, line in enumerate(file):
                for pair in line.split():
                    label, value = pair.split(":")
                    probabilities[row, int(label) - 1] = float(value)
        history.append((seconds, multiclass_log_loss(yt, probabilities),
                        float(np.mean(np.argmax(probabilities, axis=1) == yt))))
        previous = model
    return history


def main():
    os.makedirs(WORK, exist_ok=True)
    started = time.time()
    cores = os.cpu_count()
    import sklearn
    lines = ["## Multiclass peers (issue 11)", "",
             f"Written by `tools/compare --multiclass{' --quick' if QUICK else ''}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cores} cores; scikit-learn {sklearn.__version__}, "
             f"numpy {np.__version__}.", ""]

    log("digits")
    rows = digits()
    reference = rows[0]
    lines += ["### Quality: digits (1,797 × 64, 10 classes), rows i mod 4 = 3 held out", "",
              f"Both minimise mean cross-entropy + (λ/2)‖W‖², λ = {LAMBDA:g} (scikit-learn: C = 1/(λ n)), on the "
              "features standardised with the 1,348 training rows' means and deviations (the same file for both); "
              "the objective is computed here in numpy from each model's weights, on the training rows.", "",
              "| tool | seconds | training objective | ÷ scikit-learn's | test accuracy | − scikit-learn's |",
              "| --- | --- | --- | --- | --- | --- |"]
    for name, seconds, objective, accuracy in rows:
        lines.append(f"| {name} | {seconds:.3g} | {objective:.6f} | {objective / reference[2]:.5f} | "
                     f"{accuracy:.4f} | {100 * (accuracy - reference[3]):+.2f} points |")
    lines.append("")

    for name, kind, count, features, classes in SPEED:
        log(f"{name}: {count:,} x {features:,}")
        paths = prepare(kind, count, features, classes)
        xt, yt = read_sds(paths["test"])
        yt = yt.astype(int)
        rates = {}
        grid = []
        for rate in (0.1, 0.5):
            history = run_sounder(paths, cores, rate, 2)
            grid.append((history[-1][1], rate))
        rate = min(grid)[1]
        sounder_history = run_sounder(paths, cores, rate, EPOCHS)
        # On scikit-learn's terms: a global step size, Bottou's optimal schedule, the same alpha.
        global_grid = []
        for global_rate in (0.1, 0.5):
            history = run_sounder(paths, cores, global_rate, 2, ["--schedule", "optimal", "--l2", 1e-6])
            global_grid.append((history[-1][1], global_rate))
        global_rate = min(global_grid)[1]
        global_history = run_sounder(paths, cores, global_rate, EPOCHS, ["--schedule", "optimal", "--l2", 1e-6])
        log("  sounder done")
        x, y = read_sds(paths["train"])
        x = x if sp.issparse(x) else np.asarray(x)
        xt_peer = xt if sp.issparse(xt) else np.asarray(xt)
        sklearn_history = run_sklearn(x, y.astype(int), xt_peer, yt, classes, EPOCHS)
        log("  scikit-learn done")
        cache = paths["vw"] + ".cache"
        if os.path.exists(cache):
            os.remove(cache)
        vw_grid = []
        for vw_rate in (0.5, 2.0):
            history = run_vw(paths, classes, vw_rate, 2, yt)
            vw_grid.append((history[-1][1], vw_rate))
        vw_rate = min(vw_grid)[1]
        vw_history = run_vw(paths, classes, vw_rate, EPOCHS, yt)
        log("  vw done")
        results = [(f"Sounder softmax ({cores} threads, AdaGrad lr {rate}, no penalty)", sounder_history),
                   (f"Sounder softmax ({cores} threads, optimal schedule lr {global_rate}, λ 1e-6)", global_history),
                   ("scikit-learn SGDClassifier (log_loss, one-vs-rest, n_jobs=-1, alpha 1e-6)", sklearn_history),
                   (f"Vowpal Wabbit --oaa {classes} (logistic, -l {vw_rate})", vw_history)]
        ours = statistics.median(s for s, _, _ in sounder_history)
        lines += [f"### Speed: {name}, {count:,} × {features:,}", "",
                  "| tool | epoch s (median) | tool ÷ Sounder, epoch | test log-loss after "
                  f"{EPOCHS} epochs | test accuracy | note |", "| --- | --- | --- | --- | --- | --- |"]
        for tool, history in results:
            epoch = statistics.median(s for s, _, _ in history)
            lines.append(f"| {tool} | {epoch:.3g} | {epoch / ours:.3g}× | {history[-1][1]:.5g} | "
                         f"{history[-1][2]:.4f} | {'1 thread' if tool.startswith('Vowpal') else ''} |")
        lines += ["", "Learning-rate grids (test log-loss after 2 epochs): Sounder AdaGrad " +
                  ", ".join(f"{r} → {l:.5g}" for l, r in grid) + "; Sounder optimal " +
                  ", ".join(f"{r} → {l:.5g}" for l, r in global_grid) + "; VW " +
                  ", ".join(f"{r} → {l:.5g}" for l, r in vw_grid) + ".", ""]
        if kind == "dense-classification":
            binary = os.path.join(WORK, f"dense-binary-{count}.sds")
            if not os.path.exists(binary):
                sounder("generate", "--kind", kind, "--rows", count, "--features", features, "--seed", 1, "-o", binary)
            events = [json.loads(l) for l in sounder("train", binary, "--json", "--threads", cores, "--epochs",
                                                       EPOCHS, "--schedule", "adagrad", "--lr", rate, "-o",
                                                       os.path.join(WORK, "binary.model")).splitlines()]
            binary_epoch = statistics.median(e["report"]["seconds"] for e in events if e["event"] == "epoch")
            lines += [f"The binary (logistic) epoch on {count:,} × {features} rows of the same kind, same options: "
                      f"{binary_epoch:.3g} s; the 10-class softmax epoch costs {ours / binary_epoch:.2f}× it.", ""]
    elapsed = time.time() - started
    lines.append(f"Finished in {elapsed / 60:.1f} minutes.")
    report = "\n".join(lines) + "\n"
    print(report)
    compare.write_benchmarks(report, heading="## Multiclass peers (issue 11)")


if __name__ == "__main__":
    main()
