"""Sounder k-means against scikit-learn and faiss, in one run on this machine
(run through `tools/compare --kmeans [--quick]`, which installs the peers).

Data: Gaussian blobs made here with numpy (seed 1): 1,000,000 x 64 float32
(100,000 with --quick), 64 true centres uniform in [-10, 10], noise sigma 3;
written as .npy and converted once to .sds (the conversion is timed apart and
counted nowhere else).

1. Speed per Lloyd iteration, k = 8 and k = 256, all cores: Sounder
   `cluster --init random --algorithm lloyd --max-iter 10 --tol 0` (median of
   its per-iteration seconds), scikit-learn KMeans(algorithm="lloyd", n_init=1,
   max_iter=10, tol=0) from k rows drawn here (fit seconds / n_iter_), faiss
   Kmeans(niter=10) from the same rows (train seconds / 10). Sounder's random
   start picks its own rows. k = 8: bytes read per iteration (rows x 64 x 4)
   against the all-core read bandwidth of `sounder bandwidth`; k = 256:
   GFLOP/s = 2 n k d / seconds.
2. Quality, k = 64, three starts: Sounder (--n-init 3, k-means++, tol 1e-4),
   scikit-learn KMeans(n_clusters=64, n_init=3, random_state=0), faiss
   (nredo=3, niter=50). Every inertia is computed here in float64 from the
   tool's centres.
3. Time to a converged fit, k = 64, one start, tol 1e-4: whole Sounder
   processes (bounded and lloyd from k-means++, bounded from k-means‖,
   mini-batch from k-means++), scikit-learn's KMeans and MiniBatchKMeans fits,
   faiss's train (niter=25, its random start), with the inertias.

Rewrites the section between <!-- kmeans:start --> and <!-- kmeans:end --> of
BENCHMARKS.md (appended under its heading when the markers are missing).
"""
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOUNDER = os.path.join(ROOT, ".build/release/sounder")
QUICK = "--quick" in sys.argv
ROWS = 100_000 if QUICK else 1_000_000
FEATURES = 64
CENTRES = 64
SIGMA = 3.0
SEED = 1
WORK = os.environ.get("COMPARE_DIR", "/tmp/sounder-compare" + ("-quick" if QUICK else ""))
SPEED_K = [8, 256]
SPEED_ITERATIONS = 10
QUALITY_K = 64
QUALITY_STARTS = 3
FAISS_QUALITY_ITERATIONS = 50
FAISS_FIT_ITERATIONS = 25
HEADING = "## k-means against scikit-learn and faiss (issue 15)"
START, END = "<!-- kmeans:start -->", "<!-- kmeans:end -->"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def sounder(*arguments):
    result = subprocess.run([SOUNDER, *map(str, arguments)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare-kmeans: sounder {' '.join(map(str, arguments))} failed:\n{result.stderr}")
    return result.stdout


def cluster(data, k, model, *options):
    """Runs `sounder cluster --json`; (iteration reports, finished event, whole-process seconds)."""
    arguments = [data, "-k", k, "-o", model, "--threads", os.cpu_count(), "--json", *options]
    output, seconds = timed(lambda: sounder("cluster", *arguments))
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    iterations = [e["report"] for e in events if e["event"] == "iteration"]
    finished = next(e for e in events if e["event"] == "finished")
    return iterations, finished, seconds


def read_centres(path):
    """The k x features centres of a Sounder k-means model file."""
    with open(path, "rb") as file:
        data = file.read()
    assert data[:8] == b"SNDRMODL", path
    json_bytes = int(np.frombuffer(data[12:16], "<u4")[0])
    count = int(np.frombuffer(data[16:24], "<u8")[0])
    offset = int(np.frombuffer(data[24:32], "<u8")[0])
    metadata = json.loads(data[64:64 + json_bytes])
    if metadata.get("configuration", {}).get("standardize"):
        sys.exit("compare-kmeans: a standardised model's centres are not in the data's units")
    k, features = metadata["clusters"], metadata["features"]
    assert count == k * features, (count, k, features)
    return np.frombuffer(data[offset:offset + 4 * count], "<f4").astype(np.float64).reshape(k, features)


def inertia(x, centres, chunk=65_536):
    """Σ squared distance to the nearest centre, in float64, a chunk of rows at a time."""
    c = np.asarray(centres, dtype=np.float64)
    cc = np.einsum("ij,ij->i", c, c)
    total = 0.0
    for start in range(0, len(x), chunk):
        rows = x[start:start + chunk].astype(np.float64)
        distances = np.einsum("ij,ij->i", rows, rows)[:, None] - 2 * rows @ c.T + cc
        total += float(np.maximum(distances.min(axis=1), 0).sum())
    return total


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return model, os.cpu_count()


def sounder_revision():
    def git(*arguments):
        return subprocess.run(["git", "-C", ROOT, *arguments], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "Sources", "Package.swift")
    return commit + (" + uncommitted changes" if dirty else "")


def prepare():
    """(.npy path, .sds path, conversion seconds); the .npy is kept between runs."""
    os.makedirs(WORK, exist_ok=True)
    stem = os.path.join(WORK, f"blobs-{ROWS}x{FEATURES}-seed{SEED}")
    npy, labels, sds = stem + ".npy", stem + "-labels.npy", stem + ".sds"
    if not (os.path.exists(npy) and os.path.exists(labels)):
        log(f"generating {ROWS:,} x {FEATURES} blobs")
        rng = np.random.default_rng(SEED)
        centres = rng.uniform(-10, 10, size=(CENTRES, FEATURES)).astype(np.float32)
        truth = rng.integers(0, CENTRES, size=ROWS)
        x = rng.standard_normal(size=(ROWS, FEATURES), dtype=np.float32)
        x *= np.float32(SIGMA)
        x += centres[truth]
        np.save(npy, x)
        np.save(labels, truth.astype(np.float32))
        del x
    if os.path.exists(sds):
        os.remove(sds)
    _, seconds = timed(lambda: sounder("convert", npy, "--labels", labels, "--label-kind", "real", "-o", sds,
                                       "--quiet"))
    return npy, sds, seconds


def speed(x, sds):
    """Per-iteration seconds at k = 8 and 256: {k: [(tool, seconds, iterations counted, note)]}."""
    import faiss
    from sklearn.cluster import KMeans
    n, d = x.shape
    results = {}
    for k in SPEED_K:
        log(f"speed, k = {k}")
        rows = np.random.default_rng(SEED + k).choice(n, size=k, replace=False)
        start = np.ascontiguousarray(x[np.sort(rows)])
        reports, _, _ = cluster(sds, k, os.path.join(WORK, f"speed-{k}.model"), "--init", "random",
                                "--max-iter", SPEED_ITERATIONS, "--tol", 0, "--algorithm", "lloyd",
                                "--seed", SEED)
        ours = statistics.median(r["seconds"] for r in reports)
        entries = [(f"Sounder (lloyd, {os.cpu_count()} threads)", ours, len(reports),
                    "median of its per-iteration seconds; its own random rows")]
        model = KMeans(n_clusters=k, algorithm="lloyd", init=start, n_init=1, max_iter=SPEED_ITERATIONS, tol=0)
        _, seconds = timed(lambda: model.fit(x))
        entries.append(("scikit-learn KMeans (lloyd)", seconds / model.n_iter_, model.n_iter_,
                        "fit ÷ n_iter_ (the fit's checks and final labelling pass included)"))
        kmeans = faiss.Kmeans(d, k, niter=SPEED_ITERATIONS, max_points_per_centroid=10**9, seed=SEED)
        _, seconds = timed(lambda: kmeans.train(x, init_centroids=start))
        entries.append(("faiss Kmeans", seconds / SPEED_ITERATIONS, SPEED_ITERATIONS, "train ÷ niter"))
        results[k] = entries
    return results


def quality(x, sds):
    """k = 64, three starts: [(tool, seconds, inertia, iterations or note)]."""
    import faiss
    from sklearn.cluster import KMeans
    n, d = x.shape
    log(f"quality, k = {QUALITY_K}, {QUALITY_STARTS} starts")
    path = os.path.join(WORK, "quality.model")
    _, finished, seconds = cluster(sds, QUALITY_K, path, "--init", "k-means++", "--n-init", QUALITY_STARTS,
                                   "--algorithm", "lloyd", "--seed", SEED)
    centres = read_centres(path)
    rows = [(f"Sounder (--n-init {QUALITY_STARTS}, k-means++, tol 1e-4)", seconds, inertia(x, centres),
             f"best run {finished['bestRun']}, {finished['iterations']} iterations; whole process",
             finished["inertia"])]
    model = KMeans(n_clusters=QUALITY_K, n_init=QUALITY_STARTS, random_state=0)
    _, seconds = timed(lambda: model.fit(x))
    rows.append((f"scikit-learn KMeans (n_init={QUALITY_STARTS}, k-means++, tol 1e-4)", seconds,
                 inertia(x, model.cluster_centers_), f"{model.n_iter_} iterations (best start); fit",
                 float(model.inertia_)))
    kmeans = faiss.Kmeans(d, QUALITY_K, niter=FAISS_QUALITY_ITERATIONS, nredo=QUALITY_STARTS,
                          max_points_per_centroid=10**9, seed=SEED)
    _, seconds = timed(lambda: kmeans.train(x))
    rows.append((f"faiss Kmeans (nredo={QUALITY_STARTS}, niter={FAISS_QUALITY_ITERATIONS}, random rows)", seconds,
                 inertia(x, kmeans.centroids), "train", float(kmeans.obj[-1]) if len(kmeans.obj) else None))
    return rows


def converged(x, sds):
    """k = 64, one start, tol 1e-4: [(tool, seconds, inertia, note, the tool's own inertia)]."""
    import faiss
    from sklearn.cluster import KMeans, MiniBatchKMeans
    n, d = x.shape
    rows = []
    for algorithm, start in (("bounded", "k-means++"), ("lloyd", "k-means++"), ("bounded", "k-means-parallel"),
                             ("minibatch", "k-means++")):
        log(f"converged fit, sounder {algorithm}, {start}")
        path = os.path.join(WORK, f"fit-{algorithm}-{start}.model")
        reports, finished, seconds = cluster(sds, QUALITY_K, path, "--init", start, "--algorithm", algorithm,
                                             "--seed", SEED)
        share = statistics.mean(r["distanceShare"] for r in reports) if reports else float("nan")
        rows.append((f"Sounder --algorithm {algorithm} --init {start}", seconds, inertia(x, read_centres(path)),
                     f"whole process (load, {start} {finished['initializationSeconds']:.2f} s, "
                     f"{finished['iterations']} iterations, mean distance share {share:.2f}); "
                     f"{finished['stopReason']}", finished["inertia"]))
    log("converged fit, scikit-learn")
    model = KMeans(n_clusters=QUALITY_K, algorithm="lloyd", n_init=1, tol=1e-4, random_state=0)
    _, seconds = timed(lambda: model.fit(x))
    rows.append(("scikit-learn KMeans (lloyd, k-means++)", seconds, inertia(x, model.cluster_centers_),
                 f"fit only, {model.n_iter_} iterations", float(model.inertia_)))
    log("converged fit, scikit-learn mini-batch")
    model = MiniBatchKMeans(n_clusters=QUALITY_K, n_init=1, random_state=0)
    _, seconds = timed(lambda: model.fit(x))
    rows.append(("scikit-learn MiniBatchKMeans (batch 1024, k-means++)", seconds, inertia(x, model.cluster_centers_),
                 f"fit only, {model.n_steps_} steps", float(model.inertia_)))
    log("converged fit, faiss")
    kmeans = faiss.Kmeans(d, QUALITY_K, niter=FAISS_FIT_ITERATIONS, max_points_per_centroid=10**9, seed=SEED)
    _, seconds = timed(lambda: kmeans.train(x))
    rows.append((f"faiss Kmeans (niter={FAISS_FIT_ITERATIONS}, random rows)", seconds,
                 inertia(x, kmeans.centroids), "train only, no tolerance: runs every iteration",
                 float(kmeans.obj[-1]) if len(kmeans.obj) else None))
    return rows


def write_benchmarks(report):
    """Replaces what lies between the markers in BENCHMARKS.md, or appends the section under HEADING."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as file:
        text = file.read()
    start, end = text.find(START), text.find(END)
    if start >= 0 and end > start:
        text = text[:start + len(START)] + "\n" + report + text[end:]
    else:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n{START}\n{report}{END}\n"
    with open(path + ".tmp", "w") as file:
        file.write(text)
    os.replace(path + ".tmp", path)


def main():
    if not os.path.exists(SOUNDER):
        sys.exit(f"compare-kmeans: {SOUNDER} is missing; build it first")
    started = time.time()
    cpu, cores = machine()
    import faiss
    import sklearn
    faiss.omp_set_num_threads(cores)
    versions = {"Sounder": sounder_revision(), "scikit-learn": sklearn.__version__, "faiss-cpu": faiss.__version__,
                "numpy": np.__version__, "python": sys.version.split()[0]}

    probe = json.loads(sounder("bandwidth", "--threads", cores, "--json", "--repetitions", 5))
    read = next(m["bytes"] / m["bestSeconds"] for m in probe["measurements"]
                if m["kernel"] == "read" and m["threads"] == cores)
    npy, sds, conversion = prepare()
    x, load = timed(lambda: np.load(npy))
    n, d = x.shape
    log(f"data: {n:,} x {d}; .npy load {load:.2f} s, conversion to .sds {conversion:.2f} s")

    speeds = speed(x, sds)
    qualities = quality(x, sds)
    fits = converged(x, sds)
    for tool, _, ours, _, theirs in qualities + fits:
        if theirs is not None and abs(ours - theirs) > 1e-3 * ours:
            log(f"note: {tool}: inertia here {ours:.6g}, the tool's own {theirs:.6g}")
    elapsed = time.time() - started

    command = "tools/compare --kmeans" + (" --quick" if QUICK else "")
    lines = [f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in "
             f"{elapsed / 60:.1f} minutes. Machine: {cpu}, {cores} cores, read bandwidth {read / 1e9:.1f} GB/s "
             f"({cores} threads, `sounder bandwidth`). Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())
             + ".", "",
             f"Data: Gaussian blobs, {n:,} × {d} float32, {CENTRES} true centres uniform in [−10, 10], σ = {SIGMA:g}, "
             f"seed {SEED}; the .npy loads in {load:.2f} s, its conversion to .sds took {conversion:.2f} s (not "
             "counted below). All tools on all cores; the page cache is warm. Inertias are computed here in float64 "
             "from each tool's centres.", ""]

    lines += [f"### Speed per Lloyd iteration ({SPEED_ITERATIONS} iterations, tol 0)", "",
              "scikit-learn and faiss start from the same k rows; Sounder's `--init random` draws its own. "
              f"k = 8: bytes = rows × {d} × 4 per iteration against the read bandwidth; k = 256: 2·n·k·d flops.", "",
              "| k | tool | s / iteration | ÷ Sounder | throughput | iterations | note |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for k, entries in speeds.items():
        ours = entries[0][1]
        for tool, seconds, iterations, note in entries:
            if k == SPEED_K[0]:
                rate = n * d * 4 / seconds
                throughput = f"{rate / 1e9:.2f} GB/s ({100 * rate / read:.0f}% of read bandwidth)"
            else:
                throughput = f"{2 * n * k * d / seconds / 1e9:.1f} GFLOP/s"
            lines.append(f"| {k} | {tool} | {seconds * 1e3:.3g} ms | {seconds / ours:.2f}× | {throughput} | "
                         f"{iterations} | {note} |")
    lines.append("")

    best = min(row[2] for row in qualities)
    lines += [f"### Quality: k = {QUALITY_K}, {QUALITY_STARTS} starts", "",
              "| tool | seconds | inertia | ÷ best | note |", "| --- | --- | --- | --- | --- |"]
    for tool, seconds, value, note, _ in qualities:
        lines.append(f"| {tool} | {seconds:.3g} | {value:.7g} | {value / best:.5f} | {note} |")
    lines.append("")

    best = min(row[2] for row in fits)
    lines += [f"### Time to a converged fit: k = {QUALITY_K}, one start, tol 1e-4", "",
              "| tool | seconds | inertia | ÷ best | note |", "| --- | --- | --- | --- | --- |"]
    for tool, seconds, value, note, _ in fits:
        lines.append(f"| {tool} | {seconds:.3g} | {value:.7g} | {value / best:.5f} | {note} |")
    lines.append("")

    report = "\n".join(lines) + "\n"
    print(report)
    write_benchmarks(report)
    log(f"compare-kmeans: finished in {elapsed / 60:.1f} minutes")


if __name__ == "__main__":
    main()
