#ifndef CLAUNCH_AFFINITY_H
#define CLAUNCH_AFFINITY_H

// The CPUs this process was allowed to run on when it started (the mask
// `taskset`, `mpirun --bind-to`, a batch system or a container set), read
// before any thread pins itself. Writes up to `capacity` OS CPU numbers in
// ascending order to `cpus` and returns how many there are (which may be
// more than `capacity`), or -1 when the mask could not be read.
int claunch_allowed_cpus(int *cpus, int capacity);

#endif
