// libsounder from many threads at once: predictions on one model equal the
// ones made alone, bit for bit, and fits on distinct data handles running
// together give what each gives alone (gd is bitwise reproducible for a
// thread count). Exits 1 with a line saying what differed.
#include <pthread.h>
#include <sounder.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 20000, COLUMNS = 16, THREADS = 8, ROUNDS = 20 };
static float x[ROWS * COLUMNS], y[ROWS], reference[ROWS * 2];
static sounder_model *shared_model;
static sounder_data *shared_data;

static void check(sounder_status status, const char *what) {
  if (status != SOUNDER_OK) {
    fprintf(stderr, "%s: status %d: %s\n", what, (int)status, sounder_last_error());
    exit(1);
  }
}

static void *predict_many(void *arg) {
  float *out = malloc(sizeof reference);
  for (int round = 0; round < ROUNDS; round++) {
    check(sounder_predict(shared_model, shared_data, SOUNDER_PROBABILITIES, out, ROWS * 2), "predict");
    if (memcmp(out, reference, sizeof reference) != 0) {
      fprintf(stderr, "thread %ld round %d: probabilities differ from the ones made alone\n", (long)arg, round);
      exit(1);
    }
  }
  free(out);
  return NULL;
}

static const char *settings = "{\"algorithm\": \"gd\", \"epochs\": 15, \"threads\": 2, \"l2\": 0.001}";

struct fit { sounder_data *data; float weights[COLUMNS]; };

static void *fit_one(void *arg) {
  struct fit *fit = arg;
  sounder_model *model;
  check(sounder_train(fit->data, settings, NULL, NULL, &model), "concurrent train");
  check(sounder_model_coefficients(model, fit->weights, COLUMNS), "coefficients");
  sounder_model_free(model);
  return NULL;
}

int main(void) {
  unsigned state = 12345;
  for (int i = 0; i < ROWS * COLUMNS; i++) {
    state = state * 1103515245u + 12345u;
    x[i] = (float)((state >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  for (int r = 0; r < ROWS; r++) y[r] = x[r * COLUMNS] - x[r * COLUMNS + 1] + 0.1f * x[r * COLUMNS + 2] > 0;

  check(sounder_data_dense(x, SOUNDER_FLOAT32, ROWS, COLUMNS, y, NULL, &shared_data), "data");
  check(sounder_train(shared_data, settings, NULL, NULL, &shared_model), "train");
  check(sounder_predict(shared_model, shared_data, SOUNDER_PROBABILITIES, reference, ROWS * 2), "reference");
  pthread_t threads[THREADS];
  for (long t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, predict_many, (void *)t);
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  printf("%d threads × %d predictions on one model: identical\n", THREADS, ROUNDS);

  // Two data handles over the two halves; each fitted alone, then both at once.
  struct fit alone[2], together[2];
  for (int h = 0; h < 2; h++) {
    check(sounder_data_dense(x + h * (ROWS / 2) * COLUMNS, SOUNDER_FLOAT32, ROWS / 2, COLUMNS,
                             y + h * (ROWS / 2), NULL, &alone[h].data), "half");
    together[h].data = alone[h].data;
    fit_one(&alone[h]);
  }
  pthread_t fitters[2];
  for (int h = 0; h < 2; h++) pthread_create(&fitters[h], NULL, fit_one, &together[h]);
  for (int h = 0; h < 2; h++) pthread_join(fitters[h], NULL);
  for (int h = 0; h < 2; h++) {
    if (memcmp(alone[h].weights, together[h].weights, sizeof alone[h].weights) != 0) {
      fprintf(stderr, "half %d: weights trained beside another fit differ from the ones trained alone\n", h);
      return 1;
    }
    sounder_data_free(alone[h].data);
  }
  printf("2 fits at once: the same weights as each alone\n");
  sounder_model_free(shared_model);
  sounder_data_free(shared_data);
  return 0;
}
