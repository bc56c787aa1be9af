/*
 * peer.h - the timing method every engine in `make compare` uses, in C.
 * bench/cmd/nasbench (Go) and bench/peers/torch/bench_torch.py implement the
 * same steps, so the three engines are measured alike:
 *
 *   1. warm up: call at least twice and for at least one sample time (the
 *      first calls pay for allocation, packing, primitive creation), timing
 *      each call; calls per sample (reps) = sample time / the fastest call
 *      (the fastest, as a preempted call must not shrink reps); a caller
 *      that measured the case before passes its reps back in, and then one
 *      untimed sample is the warm-up;
 *   2. take nsamp timed samples of reps calls; time per call = sample / reps;
 *   3. report the median and the minimum time per call.
 */
#ifndef NASRUN_PEER_H
#define NASRUN_PEER_H

#include <stdlib.h>
#include <time.h>

static double peer_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

typedef void (*peer_fn)(void *ctx, long reps);

typedef struct {
  double med_s, min_s; /* seconds per call */
  long reps;           /* calls per sample */
  int nsamp;
} peer_result;

static int peer_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double peer_time(peer_fn fn, void *ctx, long reps) {
  double t0 = peer_now();
  fn(ctx, reps);
  return peer_now() - t0;
}

/* peer_measure times fn; reps <= 0 means calibrate (see above). */
static peer_result peer_measure(peer_fn fn, void *ctx, long reps, int nsamp, double sample_s) {
  if (reps <= 0) {
    double t0 = peer_now(), fastest = 1e30;
    for (int i = 0; i < 2 || peer_now() - t0 < sample_s; i++) {
      double t = peer_time(fn, ctx, 1);
      if (t < fastest) fastest = t;
    }
    reps = (long)(sample_s / (fastest > 1e-9 ? fastest : 1e-9) + 0.5);
    if (reps < 1) reps = 1;
  }
  peer_time(fn, ctx, reps); /* warm-up sample */
  double *s = malloc(sizeof(double) * nsamp);
  for (int i = 0; i < nsamp; i++) s[i] = peer_time(fn, ctx, reps) / reps;
  qsort(s, nsamp, sizeof(double), peer_cmp);
  peer_result r = {nsamp % 2 ? s[nsamp / 2] : 0.5 * (s[nsamp / 2 - 1] + s[nsamp / 2]), s[0], reps,
                   nsamp};
  free(s);
  return r;
}

#endif
