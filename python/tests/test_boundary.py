"""What crosses into the library: bad input gets a Python exception with a
clear message (never a crash), arrays are borrowed or converted as the docs
say, and the GIL is released while Sounder works."""
import ctypes
import pickle
import struct
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer

from sounder import SounderClassifier, SounderKMeans, SounderRegressor
from sounder._library import LABELS, VALUES, Data, Model, _lib


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(cancer):
    X, y = cancer
    return SounderClassifier(algorithm="lbfgs", max_iter=50, standardize=True, random_state=0).fit(X, y)


@pytest.mark.parametrize("bad, message", [
    (np.nan, "row 11: feature value NaN is not a finite number"),
    (np.inf, "row 11: feature value infinity is not a finite number"),
])
def test_non_finite_features_are_refused(cancer, bad, message):
    X, y = cancer
    X = X.copy()
    X[10, 3] = bad
    with pytest.raises(ValueError, match=message):
        SounderClassifier().fit(X, y)


@pytest.mark.parametrize("bad, text", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "-infinity")])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_non_finite_features_are_refused_at_predict(cancer, fitted, bad, text, method):
    # Prediction checks the values through the margins they make (one read):
    # the first bad row is named as the full check would name it.
    X, _ = cancer
    X = X.copy()
    X[40, 7] = bad
    X[300, 2] = np.nan
    with pytest.raises(ValueError, match=f"row 41: feature value {text} is not a finite number"):
        getattr(fitted, method)(X)
    with pytest.raises(ValueError, match=f"row 41: feature value {text} is not a finite number"):
        getattr(fitted, method)(sp.csr_matrix(X))


def test_a_non_finite_value_under_a_zero_weight_is_still_refused():
    # 0 × infinity is NaN: a feature the model gives no weight still cannot hide one.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    X[:, 2] = 0
    y = (X[:, 0] > 0).astype(int)
    model = SounderClassifier(max_iter=5, random_state=0).fit(X, y)
    assert model.coef_[0, 2] == 0
    X[5, 2] = np.inf
    with pytest.raises(ValueError, match="row 6: feature value infinity"):
        model.predict(X)


def test_finite_values_whose_margins_overflow_are_predicted():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = SounderClassifier(max_iter=5, random_state=0).fit(X, y)
    X[7] = np.float32(3e38) * np.sign(model.coef_[0]).astype(np.float32)
    assert np.isinf(model.decision_function(X)[7])
    assert model.predict(X)[7] == 1


def test_shapes_and_types_that_cannot_be_rows(cancer, fitted):
    X, y = cancer
    with pytest.raises(ValueError, match="Found input variables with inconsistent numbers of samples"):
        SounderClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="3"):
        SounderClassifier().fit(X.reshape(len(X), 5, 6), y)
    with pytest.raises(ValueError):
        SounderClassifier().fit(np.array([["a", "b"], ["c", "d"]]), [0, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        SounderClassifier().fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :10])
    with pytest.raises(ValueError, match="one value per row"):
        Data(X, y[:5])


def test_a_model_must_be_fitted_first(cancer):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        SounderRegressor().predict(cancer[0])


def test_rows_that_break_the_library_check_get_its_line():
    # A CSR matrix whose column index reaches past the columns, built without scipy's checks.
    matrix = sp.csr_matrix((3, 4), dtype=np.float32)
    matrix.indptr = np.array([0, 1, 2, 3], dtype=np.int32)
    matrix.indices = np.array([0, 7, 1], dtype=np.int32)
    matrix.data = np.ones(3, dtype=np.float32)
    with pytest.raises(ValueError, match="row 2: column index 7 must be below 4, the column count"):
        Data(matrix, np.array([0, 1, 0]))
    matrix.indices = np.array([0, 7, 1], dtype=np.int64)
    with pytest.raises(ValueError, match="row 2: column index 7 must be ≥ 0 and below 4"):
        Data(matrix, np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="row 2: weight -1.0 is not a finite number ≥ 0"):
        Data(np.ones((3, 2), dtype=np.float32), np.array([0, 1, 0]), np.array([1, -1, 1]))


def test_settings_the_library_does_not_know_are_refused(cancer):
    data = Data(*cancer)
    with pytest.raises(ValueError, match='unknown key "epoch"'):
        Model.fit(data, {"epoch": 3})
    with pytest.raises(ValueError, match='"epochs": expected'):
        Model.fit(data, {"epochs": "three"})
    with pytest.raises(ValueError, match="algorithm"):
        Model.fit(data, {"algorithm": "newton"})
    with pytest.raises(ValueError, match="clusters"):
        Model.fit(data, {}, clustering=True)
    with pytest.raises(ValueError, match="the rows have no labels"):
        Model.fit(Data(cancer[0]), {})
    with pytest.raises(ValueError, match="penalty"):
        SounderClassifier(penalty="l3").fit(*cancer)
    with pytest.raises(ValueError, match="n_jobs"):
        SounderClassifier(n_jobs=0).fit(*cancer)


def test_model_bytes_from_another_version_or_damaged(fitted, cancer, tmp_path):
    data = pickle.dumps(fitted)
    state = fitted.__getstate__()
    model_bytes = state["_model"]
    newer = bytearray(model_bytes)
    newer[8:12] = struct.pack("<I", 99)
    with pytest.raises(ValueError, match="format version 99 is newer"):
        pickle.loads(data.replace(model_bytes, bytes(newer)))
    damaged = bytearray(model_bytes)
    damaged[-1] ^= 0xFF
    with pytest.raises(ValueError, match="checksum"):
        pickle.loads(data.replace(model_bytes, bytes(damaged)))
    with pytest.raises(ValueError, match="not a Sounder model"):
        Model.from_bytes(b"not a model at all")
    path = tmp_path / "model.sounder"
    fitted.save(path)
    assert (Model.load(path).predict(Data(cancer[0]), LABELS, 1).ravel() == fitted.predict(cancer[0])).all()
    with pytest.raises(OSError, match="missing"):
        Model.load(tmp_path / "missing")


def test_model_bytes_and_metadata_refuse_a_short_buffer_and_a_missing_size(fitted):
    handle = fitted._model.handle
    size = ctypes.c_int64()
    short = ctypes.create_string_buffer(8)
    for function, what in ((_lib.sounder_model_metadata, "the metadata"), (_lib.sounder_model_serialize, "the model")):
        assert function(handle, short, 8, ctypes.byref(size)) == 6  # SOUNDER_ERROR_BUFFER
        message = _lib.sounder_last_error().decode()
        assert message == f"{what} needs room for {size.value} bytes; the buffer holds 8" and size.value > 8
        assert function(handle, None, 0, None) == 1  # SOUNDER_ERROR_ARGUMENT
        assert _lib.sounder_last_error().decode() == "size is NULL"


def test_pickled_estimators_predict_the_same(cancer):
    X, y = cancer
    for estimator in (SounderClassifier(random_state=0), SounderRegressor(random_state=0),
                      SounderKMeans(3, random_state=0)):
        estimator.fit(X, y)
        copy = pickle.loads(pickle.dumps(estimator))
        np.testing.assert_array_equal(copy.predict(X), estimator.predict(X))


def test_float32_rows_are_borrowed_and_others_converted(fitted, cancer):
    X = np.array(cancer[0], dtype=np.float32, order="C")
    model = fitted._model
    borrowed = Data(X)
    before = model.predict(borrowed, VALUES, 1).ravel()
    X[:] = 0  # the library reads the caller's memory: the handle sees the change
    after = model.predict(borrowed, VALUES, 1).ravel()
    np.testing.assert_allclose(after, np.full_like(after, fitted.intercept_[0]), rtol=1e-6)
    assert not np.allclose(before, after)
    X64 = np.array(cancer[0], dtype=np.float64)
    converted = Data(X64)
    first = model.predict(converted, VALUES, 1).ravel()
    X64[:] = 0  # float64 rows were converted once: the handle keeps its float32 copy
    np.testing.assert_array_equal(model.predict(converted, VALUES, 1).ravel(), first)
    # Fortran order and integers are converted too, and give the same predictions.
    np.testing.assert_array_equal(fitted.predict(np.asfortranarray(cancer[0])), fitted.predict(cancer[0]))


def test_the_lock_is_released_while_sounder_trains():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 32)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int32)
    fitting = threading.Event()
    done = threading.Event()

    def fit():
        SounderClassifier(max_iter=30, callback=lambda r: fitting.set(), n_jobs=1).fit(X, y)
        done.set()

    worker = threading.Thread(target=fit)
    worker.start()
    assert fitting.wait(60), "the fit never reported an epoch"
    spins, started = 0, time.monotonic()
    while not done.is_set():
        spins += 1
    elapsed = time.monotonic() - started
    worker.join()
    # Held for the whole fit, the lock would let this loop run only between epochs.
    assert elapsed > 0.05, f"the fit ended too soon to tell ({elapsed:.3f} s)"
    assert spins / elapsed > 100_000, f"{spins} turns in {elapsed:.2f} s while the fit ran"


def test_partial_fit_refuses_what_does_not_fit_the_first_call(cancer):
    X, y = cancer
    model = SounderClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X[:50], y[:50])
    model.partial_fit(X[:50], y[:50], classes=[0, 1])
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(X[:3], [0, 1, 2])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        model.partial_fit(X[:3], [0, 1, 1], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:3, :5], [0, 1, 1])
