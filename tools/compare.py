"""Sounder against scikit-learn SGD, Vowpal Wabbit and multi-core LIBLINEAR on
one machine, in one run (run through tools/compare, which installs the peers).

For each dataset (dense classification and dense regression 2,000,000 x 64,
sparse RCV1-like 500,000 x 50,000; a held-out test set drawn from the same
model with another seed) and each tool it measures:

- load time, with each tool's own fastest input: .sds for Sounder (its
  conversion from LIBSVM text timed apart), .npy/.npz arrays for scikit-learn
  and LIBLINEAR (whose Python reader of LIBSVM text is pure Python), a cache
  made from VW text for Vowpal Wabbit;
- training time per epoch (median), with all cores where the tool can use them;
- wall time (training only) until the test loss reaches the target: the loss
  Sounder's 1-thread sync gradient descent reaches at convergence, +1%;
- final test quality: log-loss and accuracy, or MSE.

Every tool minimises the same objective: mean loss + (lambda/2)|w|^2 with the
same lambda (LIBLINEAR: C = 1 / (lambda n)). Learning rates are picked per tool
from a small grid (GRID below) by test loss after two epochs; the grid and the
choice are printed. The results replace the "Peers" section of BENCHMARKS.md
and docs/compare.svg.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOUNDER = os.path.join(ROOT, ".build/release/sounder")
QUICK = "--quick" in sys.argv
SCALE = 10 if QUICK else 1
WORK = os.environ.get("COMPARE_DIR", "/tmp/sounder-compare" + ("-quick" if QUICK else ""))
EPOCHS = 10  # the most epochs (passes) any tool gets to reach the target
LAMBDA = 1e-4
GRID = {  # per loss: squared-loss steps must stay below 2 / |x|^2 (about 0.03 for 64 unit features)
    "logistic": {"sounder": [0.05, 0.2, 1.0], "sklearn": ["optimal", 0.01, 0.1], "vw": [0.1, 0.5, 2.0]},
    "squared": {"sounder": [0.001, 0.005, 0.02], "sklearn": ["optimal", 0.001, 0.003], "vw": [0.1, 0.5, 2.0]},
}
ADAGRAD_GRID = [0.1, 0.5, 2.0]  # Sounder --schedule adagrad, no L2: per-feature steps, as VW's adaptive updates
ADAGRAD = "Sounder AdaGrad, no L2"
# Sounder: --lr with the optimal schedule eta0 / (1 + eta0 lambda t); scikit-learn: its default "optimal"
# schedule, or eta0 with invscaling (power 0.25); Vowpal Wabbit: -l with its default adaptive,
# normalised updates.
DATASETS = [
    # name, kind, rows, features, loss
    ("dense classification", "dense-classification", 2_000_000 // SCALE, 64, "logistic"),
    ("dense regression", "dense-regression", 2_000_000 // SCALE, 64, "squared"),
    ("sparse classification", "sparse-classification", 500_000 // SCALE, 50_000, "logistic"),
]


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def run(*arguments, **options):
    result = subprocess.run(arguments, capture_output=True, text=True, **options)
    if result.returncode != 0:
        sys.exit(f"compare: {' '.join(map(str, arguments))} failed:\n{result.stderr}")
    return result.stdout


def sounder(*arguments):
    return run(SOUNDER, *map(str, arguments))


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


# --- Data --------------------------------------------------------------------

def read_sds(path):
    """(X, y) of a .sds file: a float32 array or CSR matrix, and labels."""
    with open(path, "rb") as file:
        header = file.read(256)
    assert header[:8] == b"SOUNDSDS", f"{path} is not a .sds file"
    layout = header[16]
    rows, columns, nonzeros = np.frombuffer(header[24:48], dtype="<u8")
    sections = np.frombuffer(header[48:168], dtype="<u8").reshape(5, 3)  # offset, length, crc+reserved
    data = np.memmap(path, dtype=np.uint8, mode="r")

    def section(index, dtype):
        offset, length = int(sections[index][0]), int(sections[index][1])
        return np.frombuffer(data[offset:offset + length], dtype=dtype)

    labels = section(3, "<f4").copy()
    if layout == 0:
        features = section(0, "<f4").reshape(int(rows), int(columns))
    else:
        features = sp.csr_matrix(
            (section(0, "<f4"), section(2, "<i4"), section(1, "<i8")), shape=(int(rows), int(columns)))
    return features, labels


def prepare(name, kind, rows, features):
    """Generates the train and test sets and writes every tool's input once."""
    stem = os.path.join(WORK, kind)
    paths = {
        "train": stem + ".sds", "test": stem + "-test.sds", "svm": stem + ".svm",
        "vw": stem + ".vw", "vw-test": stem + "-test.vw", "arrays": stem + (".npz" if "sparse" in kind else ".npy"),
        "labels": stem + "-labels.npy",
    }
    if not os.path.exists(paths["train"]):
        log(f"  generating {name}")
        sounder("generate", "--kind", kind, "--rows", rows, "--features", features, "--seed", 1, "-o",
                paths["train"])
        sounder("generate", "--kind", kind, "--rows", rows // 10, "--features", features, "--seed", 2,
                "--model-seed", 1, "-o", paths["test"])
    if not os.path.exists(paths["svm"]):
        sounder("convert", paths["train"], "-o", paths["svm"], "--quiet")
    for source, target in ((paths["svm"], paths["vw"]), (None, paths["vw-test"])):
        if os.path.exists(target):
            continue
        if source is None:
            source = paths["test"] + ".svm"
            sounder("convert", paths["test"], "-o", source, "--quiet")
        # LIBSVM "label i:v ..." is VW's "label | i:v ..." (VW hashes the indices).
        with open(target, "w") as out:
            subprocess.run(["sed", "s/ / | /", source], stdout=out, check=True)
    if not os.path.exists(paths["arrays"]):
        x, y = read_sds(paths["train"])
        if sp.issparse(x):
            sp.save_npz(paths["arrays"], x, compressed=False)
        else:
            np.save(paths["arrays"], np.asarray(x, dtype=np.float64))
        np.save(paths["labels"], y.astype(np.float64))
    return paths


# --- Losses ------------------------------------------------------------------

def log_loss(y, probability):
    p = np.clip(probability, 1e-15, 1 - 1e-15)
    positive = y > 0
    return float(-np.mean(np.where(positive, np.log(p), np.log(1 - p))))


def quality(loss, y, score, probability=None):
    """The target metric (test log-loss or MSE) and a description."""
    if loss == "squared":
        mse = float(np.mean((score - y) ** 2))
        return mse, {"mse": mse}
    if probability is None:
        probability = 1 / (1 + np.exp(-score))
    value = log_loss(y, probability)
    accuracy = float(np.mean((probability >= 0.5) == (y > 0)))
    return value, {"log_loss": value, "accuracy": accuracy}


# --- Tools -------------------------------------------------------------------
# Each returns {"load": s, "epochs": [(train seconds, test loss, metrics)], "note": str}.

def sounder_train(paths, loss, threads, options, epochs, l2=LAMBDA):
    """Per-epoch (seconds, test loss, metrics); a run that diverges keeps the epochs before it."""
    model = os.path.join(WORK, "sounder.model")
    arguments = [SOUNDER, paths["train"], "--test", paths["test"], "-o", model, "--loss", loss, "--json",
                 "--threads", threads, "--epochs", epochs, "--l2", l2, *options]
    arguments.insert(1, "train")
    result = subprocess.run(list(map(str, arguments)), capture_output=True, text=True)
    if result.returncode != 0 and "diverged" not in result.stderr:
        sys.exit(f"compare: sounder train failed:\n{result.stderr}")
    lines = result.stdout.splitlines()
    reports = [json.loads(line)["report"] for line in lines if '"event":"epoch"' in line]
    history = []
    for report in reports:
        value = report["validationMetric"] if loss == "squared" else report["validationLoss"]
        metrics = {"mse": value} if loss == "squared" else {"log_loss": value, "accuracy": report["validationMetric"]}
        history.append((report["seconds"], value, metrics))
    return history


def run_sounder(paths, loss, threads, rate, epochs):
    _, load = timed(lambda: sounder("info", paths["train"]))
    history = sounder_train(paths, loss, threads, ["--lr", rate, "--schedule", "optimal"], epochs)
    return {"load": load, "epochs": history}


def run_sklearn(x, y, xt, yt, loss, rate, epochs):
    from sklearn.linear_model import SGDClassifier, SGDRegressor
    if rate == "optimal":
        common = dict(alpha=LAMBDA, learning_rate="optimal", random_state=1)
    else:
        common = dict(alpha=LAMBDA, learning_rate="invscaling", eta0=rate, power_t=0.25, random_state=1)
    if loss == "squared":
        model = SGDRegressor(loss="squared_error", **common)
    else:
        model = SGDClassifier(loss="log_loss", **common)
    history = []
    classes = np.array([-1.0, 1.0])
    for _ in range(epochs):
        if loss == "squared":
            _, seconds = timed(lambda: model.partial_fit(x, y))
            value, metrics = quality(loss, yt, model.predict(xt))
        else:
            _, seconds = timed(lambda: model.partial_fit(x, y, classes=classes))
            value, metrics = quality(loss, yt, None, model.predict_proba(xt)[:, 1])
        if not np.isfinite(value):
            break
        history.append((seconds, value, metrics))
    return history


def run_vw(paths, loss, rate, epochs, yt):
    cache = paths["vw"] + ".cache"
    function = "squared" if loss == "squared" else "logistic"
    history = []
    previous = None
    for epoch in range(epochs):
        model = os.path.join(WORK, f"vw-{epoch}.model")
        # No --l2: VW applies it at every update on its adaptive scale, where lambda means something
        # else; its documented default is no regularisation.
        seconds = vw_pass(paths, cache, f"--loss_function {function} -l {rate}", model, previous)
        predictions = os.path.join(WORK, "vw.predictions")
        vw_run(f"-d {paths['vw-test']} -t -i {model} -p {predictions} --quiet")
        score = np.loadtxt(predictions, usecols=0)
        value, metrics = quality(loss, yt, score)
        if not np.isfinite(value):
            break
        history.append((seconds, value, metrics))
        previous = model
    return history


def vw_run(arguments):
    """One Vowpal Wabbit run with `arguments`, through its Python workspace."""
    from vowpalwabbit import Workspace
    workspace = Workspace(arguments)
    workspace.run_parser()
    workspace.finish()


def vw_pass(paths, cache, options, model, previous):
    """Seconds for one pass of VW over the training set with `options`, carrying on from the model
    `previous` (None: a fresh one) and saving the state to `model`. VW may learn while the workspace
    starts, runs its parser or finishes: the time covers it all."""
    arguments = (f"-d {paths['vw']} --cache_file {cache} --passes 1 {options} --save_resume --quiet "
                 f"--holdout_off -f {model}" + (f" -i {previous}" if previous else ""))
    return timed(lambda: vw_run(arguments))[1]


def run_liblinear(x, y, xt, yt, loss, threads, target):
    """Fits with LIBLINEAR's default stopping tolerance, then tighter ones until the test loss reaches
    the target: each is a whole fit, so its time to target is that fit's time alone."""
    from liblinear import liblinearutil as L
    n = x.shape[0]
    solver = 11 if loss == "squared" else 0  # L2-loss SVR with epsilon 0 is ridge regression
    # LIBLINEAR minimises |w|^2 / 2 + C * sum of losses: C = 1 / (lambda n) gives the same optimum
    # (for squared loss LIBLINEAR's loss is r^2, twice Sounder's r^2 / 2, hence the 2).
    c = 1 / (LAMBDA * n) / (2 if loss == "squared" else 1)
    problem = L.problem(y, x if sp.issparse(x) else sp.csr_matrix(x))
    xt = xt if sp.issparse(xt) else sp.csr_matrix(xt)
    fits = []
    for tolerance in (None, 0.001, 0.0001):
        options = f"-s {solver} -c {c} -n {threads} -B 1 -q" + (" -p 0" if solver == 11 else "")
        options += f" -e {tolerance}" if tolerance else ""
        model, seconds = timed(lambda: L.train(problem, options))
        if loss == "squared":
            score, _, _ = L.predict(yt, xt, model, "-q")
            value, metrics = quality(loss, yt, np.asarray(score))
        else:
            _, _, values = L.predict(yt, xt, model, "-q -b 1")
            probability = np.asarray(values)[:, model.get_labels().index(1)]
            value, metrics = quality(loss, yt, None, probability)
        fits.append((tolerance or "default", seconds, value, metrics))
        if value <= target:
            break
    return fits


# --- Reporting ---------------------------------------------------------------

def summary(name, load, history, target, note=""):
    seconds = [h[0] for h in history]
    reached = None
    elapsed = 0.0
    for index, (s, value, _) in enumerate(history):
        elapsed += s
        if value <= target:
            reached = (index + 1, elapsed)
            break
    return {
        "tool": name, "load": load, "epoch": statistics.median(seconds) if seconds else float("nan"),
        "epochs_run": len(history), "to_target": reached, "final": history[-1][2] if history else {}, "note": note,
    }


def pick(grid, trial):
    """The grid value whose two-epoch trial gives the lowest test loss (a diverged trial: inf)."""
    scores = []
    for value in grid:
        history = trial(value)
        scores.append((history[-1][1] if len(history) == 2 else float("inf"), value))
    return min(scores, key=lambda pair: pair[0])[1], scores


def main():
    os.makedirs(WORK, exist_ok=True)
    started = time.time()
    cores = os.cpu_count()
    probe = json.loads(sounder("bandwidth", "--threads", f"1,{cores}", "--json", "--repetitions", "5"))
    read = {m["threads"]: m["bytes"] / m["bestSeconds"] for m in probe["measurements"] if m["kernel"] == "read"}
    import sklearn
    import vowpalwabbit
    versions = {"python": sys.version.split()[0], "scikit-learn": sklearn.__version__,
                "vowpalwabbit": vowpalwabbit.__version__ if hasattr(vowpalwabbit, "__version__") else "9.x",
                "liblinear-multicore": "2.50.0", "numpy": np.__version__}
    tables = []
    for name, kind, rows, features, loss in DATASETS:
        log(f"{name}: {rows:,} x {features:,}")
        paths = prepare(name, kind, rows, features)
        _, convert = timed(lambda: sounder("convert", paths["svm"], "-o", os.path.join(WORK, "converted.sds"),
                                           "--quiet", *(["--label-kind", "real"] if loss == "squared" else [])))
        xt, yt = read_sds(paths["test"])
        xt = xt if sp.issparse(xt) else np.asarray(xt, dtype=np.float64)
        yt = yt.astype(np.float64)
        feature_bytes = (rows * features * 4) if "dense" in kind else os.path.getsize(paths["train"])
        floor = feature_bytes / read[cores]

        # The target: 1-thread sync mini-batch gradient descent at convergence (full-batch gd needs
        # thousands of epochs on the sparse data, whose rare features get tiny gradients), +1%.
        sparse = "sparse" in kind
        reference = sounder_train(paths, loss, 1, [
            "--strategy", "sync", "--algorithm", "minibatch", "--schedule", "optimal",
            "--batch-size", 512 if sparse else 32, "--lr", 64 if sparse else (0.02 if loss == "squared" else 4)],
            40 if sparse else 20)
        best_reference = reference[-1][1]
        target = best_reference * 1.01
        log(f"  target: {target:.6g} (1-thread sync: {best_reference:.6g} after {len(reference)} epochs)")

        results, grids = [], {}
        grid = GRID[loss]
        rate, grids["sounder"] = pick(grid["sounder"], lambda r: sounder_train(
            paths, loss, cores, ["--lr", r, "--schedule", "optimal"], 2))
        run = run_sounder(paths, loss, cores, rate, EPOCHS)
        results.append(summary(f"Sounder ({cores} threads, lr {rate})", run["load"], run["epochs"], target,
                               f"conversion from LIBSVM {convert:.2f} s"))
        adagrad = ["--schedule", "adagrad"]
        rate, grids["sounder adagrad"] = pick(ADAGRAD_GRID, lambda r: sounder_train(
            paths, loss, cores, ["--lr", r, *adagrad], 2, l2=0))
        results.append(summary(f"{ADAGRAD} ({cores} threads, lr {rate})", run["load"],
                               sounder_train(paths, loss, cores, ["--lr", rate, *adagrad], EPOCHS, l2=0), target,
                               "the objective VW minimises: no penalty, a step per feature"))
        log("  sounder done")

        (x, y), load = timed(lambda: (sp.load_npz(paths["arrays"]) if "sparse" in kind else np.load(paths["arrays"]),
                                      np.load(paths["labels"])))
        rate, grids["sklearn"] = pick(grid["sklearn"], lambda r: run_sklearn(x, y, xt, yt, loss, r, 2))
        results.append(summary("scikit-learn SGD (" + ("optimal" if rate == "optimal" else f"eta0 {rate}") + ")", load,
                               run_sklearn(x, y, xt, yt, loss, rate, EPOCHS), target, "1 thread"))
        log("  scikit-learn done")

        cache = paths["vw"] + ".cache"
        if os.path.exists(cache):
            os.remove(cache)
        _, vw_load = timed(lambda: vw_run(f"-d {paths['vw']} --cache_file {cache} --noop --quiet"))
        rate, grids["vw"] = pick(grid["vw"], lambda r: run_vw(paths, loss, r, 2, yt))
        results.append(summary(f"Vowpal Wabbit (-l {rate})", vw_load, run_vw(paths, loss, rate, EPOCHS, yt),
                               target, "1 thread; load = parse text into its cache"))
        log("  vw done")

        fits = run_liblinear(x, y, xt, yt, loss, cores, target)
        tolerance, seconds, value, metrics = fits[-1]
        results.append({
            "tool": f"LIBLINEAR ({cores} threads)", "load": load, "epoch": fits[0][1], "epochs_run": len(fits),
            "to_target": (len(fits), seconds) if value <= target else None, "final": metrics,
            "note": "one whole fit per row; \"epoch s\" is the fit at its default tolerance; fits: " + ", ".join(
                f"-e {t}: {s:.3g} s, {v:.5g}" for t, s, v, _ in fits)})
        log("  liblinear done")
        tables.append({"name": name, "rows": rows, "features": features, "loss": loss, "target": target,
                       "reference_epochs": len(reference), "floor": floor, "results": results, "grids": grids})
    elapsed = time.time() - started
    report = render(tables, read, cores, versions, elapsed)
    print(report)
    write_benchmarks(report)
    write_chart(tables)
    log(f"compare: finished in {elapsed / 60:.1f} minutes")


def fmt(value, digits=3):
    return "-" if value is None or value != value else f"{value:.{digits}g}"


def render(tables, read, cores, versions, elapsed):
    lines = [
        "## Peers (issue 7)", "",
        f"Written by `tools/compare{' --quick' if QUICK else ''}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f" in {elapsed / 60:.1f} minutes. Machine: {cores} cores, read bandwidth "
        f"{read[1] / 1e9:.1f} GB/s (1 thread), {read[cores] / 1e9:.1f} GB/s ({cores} threads). Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
        f"Sounder, scikit-learn and LIBLINEAR minimise the same objective: mean loss + (λ/2)‖w‖², λ = {LAMBDA:g}; "
        "Vowpal Wabbit runs without L2, its default (its --l2 acts per update on its adaptive scale, and "
        "λ there is not the same λ). Target: the test loss of Sounder's 1-thread sync mini-batch gradient "
        "descent at convergence, +1%. The row \"" + ADAGRAD + "\" is Sounder on VW's terms: no penalty "
        "and AdaGrad's per-feature steps (`--schedule adagrad --l2 0`). At most "
        f"{EPOCHS} epochs per tool. Times are training only (the test loss after each epoch is not counted); "
        "\"floor\" is the feature bytes over the all-core read bandwidth.", "",
    ]
    for table in tables:
        sounder_row = table["results"][0]
        lines += [f"### {table['name']}: {table['rows']:,} × {table['features']:,}, {table['loss']} loss", "",
                  f"Target test {'MSE' if table['loss'] == 'squared' else 'log-loss'}: {table['target']:.6g} "
                  f"(reference: 1-thread sync mini-batch, {table['reference_epochs']} epochs); bandwidth floor per epoch: "
                  f"{table['floor'] * 1e3:.1f} ms.", "",
                  "| tool | load s | epoch s | epoch / floor | epochs to target | s to target | final test | "
                  "Sounder ÷ tool, epoch | Sounder ÷ tool, to target | note |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for result in table["results"]:
            final = ", ".join(f"{k} {v:.5g}" for k, v in result["final"].items())
            reached = result["to_target"]
            ratio_epoch = sounder_row["epoch"] / result["epoch"] if result["epoch"] else float("nan")
            ratio_target = (sounder_row["to_target"][1] / reached[1]
                            if reached and sounder_row["to_target"] else None)
            if result["tool"].startswith(ADAGRAD):  # a Sounder row: the ratios compare Sounder with peers
                ratio_epoch, ratio_target = float("nan"), None
            lines.append(
                f"| {result['tool']} | {fmt(result['load'])} | {fmt(result['epoch'])} | "
                f"{fmt(result['epoch'] / table['floor'])}× | {reached[0] if reached else 'not reached'} | "
                f"{fmt(reached[1]) if reached else '-'} | {final} | {fmt(ratio_epoch)} | {fmt(ratio_target)} | "
                f"{result['note']} |")
        adagrad = next(r for r in table["results"] if r["tool"].startswith(ADAGRAD))
        vw = next(r for r in table["results"] if r["tool"].startswith("Vowpal"))
        quality = "mse" if table["loss"] == "squared" else "log_loss"
        lines += ["", f"Without a penalty, as Vowpal Wabbit: Sounder AdaGrad ÷ VW, epoch "
                  f"{fmt(adagrad['epoch'] / vw['epoch'])}; test {quality} {adagrad['final'][quality]:.5g} against "
                  f"{vw['final'][quality]:.5g} ({100 * (adagrad['final'][quality] / vw['final'][quality] - 1):+.2f}%)."]
        lines += ["", "Learning-rate grid (test loss after 2 epochs): " + "; ".join(
            f"{tool}: " + ", ".join(f"{value} → {score:.5g}" for score, value in scores)
            for tool, scores in table["grids"].items()), ""]
    lines += ["![Time to target test loss](docs/compare.svg)", ""]
    return "\n".join(lines)


def write_benchmarks(report, heading="## Peers (issue 7)"):
    """Replaces the section of BENCHMARKS.md that starts with `heading` by `report` (or appends it)."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as file:
        text = file.read()
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + report + ("\n" + text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + report
    with open(path + ".tmp", "w") as file:
        file.write(text)
    os.replace(path + ".tmp", path)


def write_chart(tables):
    """Horizontal bars: seconds to the target test loss, per dataset and tool."""
    colors = ["#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e"]
    height = 60 + sum(40 + 26 * len(t["results"]) for t in tables)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{height}" '
             'font-family="Helvetica, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>',
             '<text x="20" y="30" font-size="18" font-weight="bold">Seconds to the target test loss '
             '(training only; shorter is better)</text>']
    y = 60
    for table in tables:
        parts.append(f'<text x="20" y="{y + 14}" font-size="15" font-weight="bold">{table["name"]}</text>')
        y += 26
        reached = [r["to_target"][1] for r in table["results"] if r["to_target"]]
        longest = max(reached) if reached else 1
        for index, result in enumerate(table["results"]):
            parts.append(f'<text x="20" y="{y + 14}" font-size="13">{result["tool"]}</text>')
            if result["to_target"]:
                width = max(2, 480 * result["to_target"][1] / longest)
                parts.append(f'<rect x="300" y="{y + 2}" width="{width:.1f}" height="16" '
                             f'fill="{colors[index % len(colors)]}"/>')
                parts.append(f'<text x="{306 + width:.1f}" y="{y + 14}" font-size="13">'
                             f'{result["to_target"][1]:.3g} s</text>')
            else:
                parts.append(f'<text x="300" y="{y + 14}" font-size="13">not reached in '
                             f'{result["epochs_run"]} epochs</text>')
            y += 26
        y += 14
    parts.append("</svg>")
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    path = os.path.join(ROOT, "docs/compare.svg")
    with open(path + ".tmp", "w") as file:
        file.write("\n".join(parts) + "\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
