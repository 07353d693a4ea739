// Trains a classifier from C on rows in this program's memory, predicts with
// it, saves it, and shows what a bad value gets. Build against an installed
// libsounder (tools/build-clib PREFIX):
//
//   cc quickstart.c -I PREFIX/include -L PREFIX/lib -lsounder -Wl,-rpath,PREFIX/lib -o quickstart
#include <math.h>
#include <sounder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 2000, COLUMNS = 2 };
static float x[ROWS][COLUMNS];
static float y[ROWS];

// Called after every epoch; returning nonzero would stop the fit there.
static int progress(void *context, const sounder_progress_report *report) {
  (void)context;
  if (report->epoch % 10 == 0) printf("epoch %lld: loss %.4f\n", (long long)report->epoch, report->training_loss);
  return 0;
}

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, sounder_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "quickstart.model";
  // A grid over [0, 2] × [0, 2], labelled by the side of the line x₀ + 2x₁ = 2.
  for (int i = 0; i < ROWS; i++) {
    x[i][0] = (float)(i % 50) / 25.0f;
    x[i][1] = (float)(i / 50) / 20.0f;
    y[i] = x[i][0] + 2 * x[i][1] > 2 ? 1.0f : 0.0f;
  }

  sounder_data *data;
  sounder_model *model;
  if (sounder_data_dense(x, SOUNDER_FLOAT32, ROWS, COLUMNS, y, NULL, &data) != SOUNDER_OK) return fail("data");
  const char *settings = "{\"algorithm\": \"lbfgs\", \"epochs\": 100, \"l2\": 1e-4}";
  if (sounder_train(data, settings, progress, NULL, &model) != SOUNDER_OK) return fail("train");

  static float predicted[ROWS];
  if (sounder_predict(model, data, SOUNDER_LABELS, predicted, ROWS) != SOUNDER_OK) return fail("predict");
  int right = 0;
  for (int i = 0; i < ROWS; i++) right += predicted[i] == y[i];
  float w[COLUMNS], b;
  if (sounder_model_coefficients(model, w, COLUMNS) != SOUNDER_OK ||
      sounder_model_intercepts(model, &b, 1) != SOUNDER_OK)
    return fail("coefficients");
  printf("accuracy %.4f\n", (double)right / ROWS);
  printf("boundary %.3f x0 + %.3f x1 = %.3f\n", w[0] / w[0], w[1] / w[0], -b / w[0]);

  if (sounder_model_save(model, path) != SOUNDER_OK) return fail("save");
  sounder_model *loaded;
  if (sounder_model_load(path, &loaded) != SOUNDER_OK) return fail("load");
  sounder_model_info info;
  sounder_model_info_get(loaded, &info);
  printf("loaded: %lld features, %lld classes, %lld epochs\n", (long long)info.features,
         (long long)info.classes, (long long)info.epochs);
  // The model file's metadata (JSON): what the fit chose, and why.
  int64_t size = 0;
  if (sounder_model_metadata(loaded, NULL, 0, &size) != SOUNDER_OK) return fail("metadata size");
  char *json = malloc((size_t)size + 1);
  if (json == NULL || sounder_model_metadata(loaded, json, size, &size) != SOUNDER_OK) return fail("metadata");
  json[size] = '\0';
  const char *stopping = strstr(json, "\"stopping\" : \"");
  printf("stopping: %.*s\n", stopping ? (int)strcspn(stopping + 14, "\"") : 4, stopping ? stopping + 14 : "none");
  free(json);

  // The rows may change once their handle is gone.
  sounder_data_free(data);
  // A value that is not finite is refused with one line where the values are
  // first read: by a fit, or by a prediction as it computes the margins.
  x[7][1] = NAN;
  sounder_data *bad;
  if (sounder_data_dense(x, SOUNDER_FLOAT32, ROWS, COLUMNS, y, NULL, &bad) != SOUNDER_OK) return fail("data");
  sounder_status status = sounder_predict(loaded, bad, SOUNDER_LABELS, predicted, ROWS);
  printf("status %d: %s\n", (int)status, sounder_last_error());

  sounder_data_free(bad);
  sounder_model_free(loaded);
  sounder_model_free(model);
  return 0;
}
