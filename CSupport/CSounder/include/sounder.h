/*
 * sounder.h: Sounder's C library (libsounder.so).
 *
 * Sounder trains linear models (regression, binary and multiclass
 * classification) and k-means on every core of this machine. This header is
 * its whole C interface:
 *
 *   - Data: sounder_data_dense() and sounder_data_csr() make a handle over the
 *     caller's rows WITHOUT copying float32 values (float64 values and int64
 *     column indices are converted once, into memory the handle owns). The rows'
 *     shape is checked here: CSR offsets start at 0 and never decrease, column
 *     indices increase within a row and stay below the column count, every label
 *     and weight is finite and weights are not negative. That every value is
 *     finite is checked where the values are first read: by the first fit on the
 *     handle (one pass, then remembered), and by each sounder_predict() of a
 *     linear model as it computes the margins (a NaN or infinite value makes its
 *     row's margins NaN or infinite, so the values are read once). Either returns
 *     SOUNDER_ERROR_DATA naming the row. The caller keeps its arrays alive and
 *     unchanged until sounder_data_free().
 *   - Training: sounder_train() (linear models) and sounder_cluster() (k-means)
 *     take a JSON object of settings, the keys of the command line's model
 *     files' "configuration" (see README, "From C"); a key Sounder does not know
 *     is an error. An optional progress callback runs on the calling thread after
 *     every epoch (iteration) and may ask to stop.
 *   - Models: predict into caller buffers, read coefficients, intercepts and
 *     classes, save and load model files (the command line's format), or
 *     serialise to bytes.
 *
 * Every function returns a sounder_status; on anything but SOUNDER_OK,
 * sounder_last_error() gives one line saying what was wrong. Nothing else
 * crosses the boundary: no exception, no abort, no exit().
 *
 * Threads: handles are immutable once made. Any number of threads may predict
 * with one model, or read one data handle, at once; fits on distinct (or the
 * same) handles may run at once, each with its own worker threads.
 */
#ifndef SOUNDER_H
#define SOUNDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a call did. */
typedef enum sounder_status {
  SOUNDER_OK = 0,
  /* A null pointer, a size out of range, or settings that are not valid JSON,
     name an unknown key, or hold a value out of range. */
  SOUNDER_ERROR_ARGUMENT = 1,
  /* Rows that fail the check above, labels that do not fit the loss, or data
     whose feature count does not match the model's. */
  SOUNDER_ERROR_DATA = 2,
  /* The fit could not run (no worker threads, no memory on a NUMA node). */
  SOUNDER_ERROR_TRAINING = 3,
  /* A model file or byte string that is not a Sounder model, is damaged, or is
     from a newer version. */
  SOUNDER_ERROR_MODEL = 4,
  /* A file could not be read or written. */
  SOUNDER_ERROR_IO = 5,
  /* An output buffer is smaller than the result. */
  SOUNDER_ERROR_BUFFER = 6,
  /* This library's kernels need an x86-64-v3 CPU (AVX2, FMA) and this CPU
     lacks them. */
  SOUNDER_ERROR_CPU = 7,
  /* The operation does not apply to this model (probabilities of a
     regression model, intercepts of a k-means model). */
  SOUNDER_ERROR_UNSUPPORTED = 8
} sounder_status;

/* The element type of a buffer. */
typedef enum sounder_type {
  SOUNDER_FLOAT32 = 1,
  SOUNDER_FLOAT64 = 2,
  SOUNDER_INT32 = 3,
  SOUNDER_INT64 = 4
} sounder_type;

/* Rows to train on or predict for. */
typedef struct sounder_data sounder_data;
/* A trained or loaded model. */
typedef struct sounder_model sounder_model;

/* The library's version ("0.1.0"): static storage, never freed. */
const char *sounder_version(void);

/* The message of the last call on this thread that failed: one line, valid
   until this thread's next call into the library. "" when none failed. */
const char *sounder_last_error(void);

/* ---- Data ---------------------------------------------------------------- */

/* Dense rows: `rows` × `columns` values, row-major, of `value_type`
   SOUNDER_FLOAT32 (borrowed) or SOUNDER_FLOAT64 (converted to float32 once).
   `labels` (rows floats) may be NULL for rows to predict or cluster;
   `weights` (rows floats, each >= 0) may be NULL: every row weighs 1. */
sounder_status sounder_data_dense(
    const void *values, sounder_type value_type, int64_t rows, int64_t columns,
    const float *labels, const float *weights, sounder_data **out);

/* CSR rows, scipy's layout: row i holds the column indices
   indices[offsets[i] .. offsets[i+1]) and their values. `offsets` has rows + 1
   int64 entries starting at 0; `indices` are SOUNDER_INT32 (borrowed) or
   SOUNDER_INT64 (converted once); `values` SOUNDER_FLOAT32 (borrowed) or
   SOUNDER_FLOAT64 (converted once). Labels and weights as for dense rows. */
sounder_status sounder_data_csr(
    const int64_t *offsets, const void *indices, sounder_type index_type,
    const void *values, sounder_type value_type, int64_t rows, int64_t columns,
    const float *labels, const float *weights, sounder_data **out);

/* Releases a data handle (NULL is ignored). Models trained on it stay valid. */
void sounder_data_free(sounder_data *data);

/* ---- Training ------------------------------------------------------------ */

/* What the progress callback is told after each epoch (k-means: iteration). */
typedef struct sounder_progress_report {
  int64_t epoch;            /* 1, 2, ... (k-means: the iteration of run `run`) */
  int64_t run;              /* k-means: 1 ... n-init; 1 for linear models */
  double training_loss;     /* the objective (k-means: the inertia) */
  double validation_loss;   /* on held-out rows; NaN without any */
  double validation_metric; /* accuracy or MSE on held-out rows; NaN without */
  double seconds;           /* the epoch's training time */
} sounder_progress_report;

/* Called on the calling thread; return nonzero to stop after this epoch (the
   fit then returns SOUNDER_OK and the model as it stands). */
typedef int (*sounder_progress)(void *context, const sounder_progress_report *report);

/* Trains a linear model on `data` (which must have labels). `settings` is a
   JSON object such as {"loss":"logistic","epochs":20,"l2":1e-4,"threads":8}
   or NULL for the defaults; `progress` may be NULL. */
sounder_status sounder_train(
    const sounder_data *data, const char *settings, sounder_progress progress, void *context,
    sounder_model **out);

/* As sounder_train, starting from `start`'s weights instead of zeros (a
   warm start, or one step of training on a stream of batches): `start` must
   be a linear model of the same features, loss and classes. With batches that
   may lack some classes, name them all in the settings ("classes": [0, 1, 2]).
   Only the weights carry over: the step-size schedule starts afresh. */
sounder_status sounder_train_from(
    const sounder_data *data, const char *settings, const sounder_model *start,
    sounder_progress progress, void *context, sounder_model **out);

/* Clusters `data` with k-means (labels, if any, are ignored; weights count).
   `settings` is a JSON object that must name "clusters", such as
   {"clusters":8,"runs":3,"seed":7}. */
sounder_status sounder_cluster(
    const sounder_data *data, const char *settings, sounder_progress progress, void *context,
    sounder_model **out);

/* ---- Models -------------------------------------------------------------- */

typedef enum sounder_model_kind {
  SOUNDER_REGRESSOR = 1,  /* squared loss: one output, real predictions */
  SOUNDER_CLASSIFIER = 2, /* binary (one output) or multiclass (one per class) */
  SOUNDER_CLUSTERER = 3   /* k-means: one centre per cluster */
} sounder_model_kind;

typedef struct sounder_model_info {
  sounder_model_kind kind;
  int64_t features;      /* the columns the model reads */
  int64_t outputs;       /* weight vectors: 1 (regression, binary), K (multiclass), k (centres) */
  int64_t classes;       /* classifiers: 2 or K; 0 otherwise */
  int32_t has_probabilities; /* 1 for logistic, softmax and modified Huber classifiers */
  int64_t epochs;        /* epochs run (k-means: iterations of the best run); 0 if unknown */
  double training_loss;  /* the last epoch's objective (k-means: inertia); NaN if unknown */
  int32_t stop_requested;/* 1 when a progress callback stopped the fit */
} sounder_model_info;

sounder_status sounder_model_info_get(const sounder_model *model, sounder_model_info *out);

/* Releases a model (NULL is ignored). */
void sounder_model_free(sounder_model *model);

/* What sounder_predict() writes, per row:
   VALUES        linear: `outputs` raw scores (the decision function; for
                 regression the prediction); k-means: the Euclidean distance
                 to each of the k centres, in the space the model clusters in
                 (standardised features when it was fitted with
                 "standardize": true).
   LABELS        linear: 1, the predicted class's label as trained (or the
                 regression value); k-means: 1, the nearest centre's index.
   PROBABILITIES classifiers with probabilities: `classes` values (binary:
                 the smaller label's, then the larger's). */
typedef enum sounder_output {
  SOUNDER_VALUES = 1,
  SOUNDER_LABELS = 2,
  SOUNDER_PROBABILITIES = 3
} sounder_output;

/* Writes rows × width floats, row after row, to `out`, which holds
   `capacity` floats. Safe to call from many threads on one model. On
   SOUNDER_ERROR_DATA (a value that is not finite) the contents of `out` are
   unspecified. */
sounder_status sounder_predict(
    const sounder_model *model, const sounder_data *data, sounder_output output, float *out,
    int64_t capacity);

/* The weights, `outputs` × `features` floats, output-major (scikit-learn's
   coef_; k-means: the centres in the data's units). */
sounder_status sounder_model_coefficients(const sounder_model *model, float *out, int64_t capacity);
/* The `outputs` intercepts (linear models only). */
sounder_status sounder_model_intercepts(const sounder_model *model, float *out, int64_t capacity);
/* A classifier's `classes` labels, ascending. */
sounder_status sounder_model_classes(const sounder_model *model, float *out, int64_t capacity);

/* Writes the model file at `path`: complete or not at all. */
sounder_status sounder_model_save(const sounder_model *model, const char *path);
/* Reads a model file written by sounder_model_save() or `sounder train -o`. */
sounder_status sounder_model_load(const char *path, sounder_model **out);
/* The model file's bytes: sets *size; copies them to `buffer` when its
   `capacity` suffices (pass NULL and 0 to ask the size). */
sounder_status sounder_model_serialize(
    const sounder_model *model, void *buffer, int64_t capacity, int64_t *size);
/* The model's metadata as its file records it: a JSON object (UTF-8, no
   terminating zero) with what trained it and, for a model from a fit,
   "choices": the settings the fit chose where the settings left them open
   ("algorithm", "l2", "schedule", "learningRate", "standardized",
   "stopping", "modelEpoch"), each with its reason. Sets *size; copies the
   bytes to `buffer` when its `capacity` suffices (pass NULL and 0 to ask
   the size). */
sounder_status sounder_model_metadata(
    const sounder_model *model, char *buffer, int64_t capacity, int64_t *size);
/* A model from bytes made by sounder_model_serialize(). */
sounder_status sounder_model_deserialize(const void *bytes, int64_t size, sounder_model **out);

#ifdef __cplusplus
}
#endif

#endif /* SOUNDER_H */
