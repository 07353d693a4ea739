// What the C references in tools/ (adagrad-reference.c, lloyd-reference.c,
// sgd-reference.c) share: a clock, a little-endian field of a .sds header, and
// a file mapped read-only as Sounder maps its datasets.
#ifndef SOUNDER_TOOLS_REFERENCE_H
#define SOUNDER_TOOLS_REFERENCE_H
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

static inline double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// The unsigned 64-bit field at `p` (the .sds header is little-endian, as x86-64 is).
static inline uint64_t u64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

// `path` mapped read-only, its size in `*size`; exits with a message when it cannot be.
static inline const unsigned char *map_file(const char *path, size_t *size) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(path);
    exit(1);
  }
  const unsigned char *file = mmap(0, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (file == MAP_FAILED) {
    perror(path);
    exit(1);
  }
  *size = st.st_size;
  return file;
}
#endif
