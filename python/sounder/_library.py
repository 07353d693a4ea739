"""ctypes bindings of libsounder (include/sounder.h), and the two handles.

Every call goes through ``_call``, which turns a status other than
SOUNDER_OK into the exception scikit-learn users expect, with the library's
one-line message. ctypes releases the GIL for the whole of each call, so other
Python threads run while Sounder trains or predicts.
"""
import ctypes
import json
import os
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_int32, c_int64, c_void_p
from pathlib import Path

import numpy as np
import scipy.sparse as sp

FLOAT32, FLOAT64, INT32, INT64 = 1, 2, 3, 4
VALUES, LABELS, PROBABILITIES = 1, 2, 3
REGRESSOR, CLASSIFIER, CLUSTERER = 1, 2, 3

_ERRORS = {
    1: ValueError,    # SOUNDER_ERROR_ARGUMENT
    2: ValueError,    # SOUNDER_ERROR_DATA
    3: RuntimeError,  # SOUNDER_ERROR_TRAINING
    4: ValueError,    # SOUNDER_ERROR_MODEL
    5: OSError,       # SOUNDER_ERROR_IO
    6: RuntimeError,  # SOUNDER_ERROR_BUFFER: a bug of this package
    7: RuntimeError,  # SOUNDER_ERROR_CPU
    8: AttributeError,  # SOUNDER_ERROR_UNSUPPORTED
}


class ProgressReport(ctypes.Structure):
    _fields_ = [
        ("epoch", c_int64),
        ("run", c_int64),
        ("training_loss", c_double),
        ("validation_loss", c_double),
        ("validation_metric", c_double),
        ("seconds", c_double),
    ]


class ModelInfo(ctypes.Structure):
    _fields_ = [
        ("kind", c_int),
        ("features", c_int64),
        ("outputs", c_int64),
        ("classes", c_int64),
        ("has_probabilities", c_int32),
        ("epochs", c_int64),
        ("training_loss", c_double),
        ("stop_requested", c_int32),
    ]


PROGRESS = ctypes.CFUNCTYPE(c_int, c_void_p, POINTER(ProgressReport))


def _library_path() -> str:
    return os.environ.get("SOUNDER_LIBRARY") or str(Path(__file__).parent / "_lib" / "libsounder.so")


def _load():
    path = _library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        raise ImportError(
            f"sounder: cannot load {path} ({error}); install the package with pip install ./python, "
            "or set SOUNDER_LIBRARY to a libsounder.so built by tools/build-clib") from error
    handle, out = c_void_p, POINTER(c_void_p)
    signatures = {
        "sounder_version": ([], c_char_p),
        "sounder_last_error": ([], c_char_p),
        "sounder_data_dense": ([c_void_p, c_int, c_int64, c_int64, c_void_p, c_void_p, out], c_int),
        "sounder_data_csr": (
            [c_void_p, c_void_p, c_int, c_void_p, c_int, c_int64, c_int64, c_void_p, c_void_p, out], c_int),
        "sounder_data_free": ([handle], None),
        "sounder_train": ([handle, c_char_p, PROGRESS, c_void_p, out], c_int),
        "sounder_train_from": ([handle, c_char_p, handle, PROGRESS, c_void_p, out], c_int),
        "sounder_cluster": ([handle, c_char_p, PROGRESS, c_void_p, out], c_int),
        "sounder_model_info_get": ([handle, POINTER(ModelInfo)], c_int),
        "sounder_model_free": ([handle], None),
        "sounder_predict": ([handle, handle, c_int, c_void_p, c_int64], c_int),
        "sounder_model_coefficients": ([handle, c_void_p, c_int64], c_int),
        "sounder_model_intercepts": ([handle, c_void_p, c_int64], c_int),
        "sounder_model_classes": ([handle, c_void_p, c_int64], c_int),
        "sounder_model_save": ([handle, c_char_p], c_int),
        "sounder_model_load": ([c_char_p, out], c_int),
        "sounder_model_serialize": ([handle, c_void_p, c_int64, POINTER(c_int64)], c_int),
        "sounder_model_metadata": ([handle, c_void_p, c_int64, POINTER(c_int64)], c_int),
        "sounder_model_deserialize": ([c_char_p, c_int64, out], c_int),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = arguments
        function.restype = result
    return lib


_lib = _load()
version = _lib.sounder_version().decode()


def _call(function, *arguments):
    status = function(*arguments)
    if status != 0:
        message = _lib.sounder_last_error().decode("utf-8", "replace")
        raise _ERRORS.get(status, RuntimeError)(message)


class Data:
    """Rows for the library: a handle over the arrays, which it keeps alive.

    float32 and float64 values, and int32 and int64 CSR indices, reach the
    library as they are (float64 values and int64 indices are converted there,
    once); anything else, and arrays that are not C-contiguous, is converted
    here with one copy. CSR row offsets become int64 (a copy of rows + 1
    numbers when they are int32); a matrix with unsorted or duplicate indices
    is sorted and summed on a copy.
    """

    def __init__(self, X, y=None, sample_weight=None):
        labels = None if y is None else np.ascontiguousarray(y, dtype=np.float32)
        weights = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float32)
        rows = X.shape[0]
        for name, vector in (("y", labels), ("sample_weight", weights)):
            if vector is not None and vector.shape != (rows,):
                raise ValueError(f"{name} has shape {vector.shape}; it must have one value per row, ({rows},)")
        handle = c_void_p()
        if sp.issparse(X):
            X = X.tocsr()
            if not X.has_canonical_format:
                X = X.copy()
                X.sum_duplicates()
            values = _floats(X.data)
            indices = X.indices if X.indices.dtype in (np.int32, np.int64) else X.indices.astype(np.int64)
            indices = np.ascontiguousarray(indices)
            offsets = np.ascontiguousarray(X.indptr, dtype=np.int64)
            _call(
                _lib.sounder_data_csr, offsets.ctypes.data, indices.ctypes.data,
                INT32 if indices.dtype == np.int32 else INT64, values.ctypes.data, _type(values), rows,
                X.shape[1], _address(labels), _address(weights), byref(handle))
            self._keep = (offsets, indices, values)
        else:
            values = _floats(np.asarray(X))
            if values.ndim != 2:
                raise ValueError(f"expected a 2-D array of rows, got {values.ndim} dimensions")
            _call(
                _lib.sounder_data_dense, values.ctypes.data, _type(values), rows, values.shape[1],
                _address(labels), _address(weights), byref(handle))
            self._keep = (values,)
        self._labels, self._weights = labels, weights
        self.rows = rows
        self.handle = handle

    def __del__(self):
        if getattr(self, "handle", None):
            _lib.sounder_data_free(self.handle)
            self.handle = None


def _floats(array):
    if array.dtype in (np.float32, np.float64) and array.flags.c_contiguous:
        return array
    return np.ascontiguousarray(array, dtype=np.float32)


def _type(array):
    return FLOAT32 if array.dtype == np.float32 else FLOAT64


def _address(array):
    return None if array is None else array.ctypes.data


class Model:
    """A trained or loaded model: the library's handle, freed with this object."""

    def __init__(self, handle):
        self.handle = handle
        info = ModelInfo()
        _call(_lib.sounder_model_info_get, handle, byref(info))
        self.info = info

    @classmethod
    def fit(cls, data, settings, clustering=False, callback=None, start=None):
        """Trains (or clusters) on `data` with `settings` (a dict), from the
        weights of `start` (a Model) when given, calling
        `callback(report)` after each epoch; a callback that returns True
        stops the fit. An exception the callback raises (KeyboardInterrupt
        too) stops the fit and is raised again here."""
        raised = []

        def progress(_context, report):
            try:
                return 1 if callback is not None and callback(report.contents) else 0
            except BaseException as error:  # re-raised once the library returns
                raised.append(error)
                return 1

        handle = c_void_p()
        text = json.dumps(settings).encode()
        if start is not None:
            _call(_lib.sounder_train_from, data.handle, text, start.handle, PROGRESS(progress), None, byref(handle))
        else:
            function = _lib.sounder_cluster if clustering else _lib.sounder_train
            _call(function, data.handle, text, PROGRESS(progress), None, byref(handle))
        model = cls(handle)
        if raised:
            raise raised[0]
        return model

    def predict(self, data, output, width):
        out = np.empty((data.rows, width), dtype=np.float32)
        _call(_lib.sounder_predict, self.handle, data.handle, output, out.ctypes.data, out.size)
        return out

    def _floats(self, function, count):
        out = np.empty(count, dtype=np.float32)
        _call(function, self.handle, out.ctypes.data, count)
        return out

    def coefficients(self):
        shape = (self.info.outputs, self.info.features)
        return self._floats(_lib.sounder_model_coefficients, shape[0] * shape[1]).reshape(shape)

    def intercepts(self):
        return self._floats(_lib.sounder_model_intercepts, self.info.outputs)

    def classes(self):
        return self._floats(_lib.sounder_model_classes, self.info.classes)

    def to_bytes(self) -> bytes:
        size = c_int64()
        _call(_lib.sounder_model_serialize, self.handle, None, 0, byref(size))
        buffer = ctypes.create_string_buffer(size.value)
        _call(_lib.sounder_model_serialize, self.handle, buffer, size.value, byref(size))
        return buffer.raw[:size.value]

    def metadata(self) -> dict:
        """The model file's metadata: what trained the model and, after a
        fit, the settings it chose ("choices"), each with its reason."""
        size = c_int64()
        _call(_lib.sounder_model_metadata, self.handle, None, 0, byref(size))
        buffer = ctypes.create_string_buffer(size.value)
        _call(_lib.sounder_model_metadata, self.handle, buffer, size.value, byref(size))
        return json.loads(buffer.raw[:size.value].decode("utf-8"))

    @classmethod
    def from_bytes(cls, data: bytes):
        handle = c_void_p()
        _call(_lib.sounder_model_deserialize, data, len(data), byref(handle))
        return cls(handle)

    def save(self, path):
        _call(_lib.sounder_model_save, self.handle, os.fsencode(path))

    @classmethod
    def load(cls, path):
        handle = c_void_p()
        _call(_lib.sounder_model_load, os.fsencode(path), byref(handle))
        return cls(handle)

    def __del__(self):
        if getattr(self, "handle", None):
            _lib.sounder_model_free(self.handle)
            self.handle = None
