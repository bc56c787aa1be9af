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
 *   2. take nsamp timed samples of reps calls (fewer, at least 3, where the
 *      samples would overrun the budget of a measurement); time per call =
 *      sample / reps;
 *   3. report the median and the minimum time per call, and the median
 *      CPU time of the calling thread per call (the engine's own time on a
 *      single thread, however busy the machine).
 * Two warm-up calls, or a warm-up sample, slower than the budget end the
 * measurement (slow_s > 0): on a machine that busy there is nothing to learn
 * from waiting.
 */
#ifndef NASRUN_PEER_H
#define NASRUN_PEER_H

#include <stdlib.h>
#include <time.h>

static double peer_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static double peer_now(void) { return peer_clock(CLOCK_MONOTONIC); }

typedef void (*peer_fn)(void *ctx, long reps);

typedef struct {
  double med_s, min_s; /* seconds per call */
  double cpu_s;        /* median CPU time of the calling thread per call */
  double cpu_min_s;    /* its fastest sample */
  long reps;           /* calls per sample */
  int nsamp;
  double slow_s; /* > 0: a call took this long, over the budget; nothing measured */
} peer_result;

static int peer_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* peer_median sorts s and returns its median */
static double peer_median(double *s, int n) {
  qsort(s, n, sizeof(double), peer_cmp);
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static double peer_time(peer_fn fn, void *ctx, long reps) {
  double t0 = peer_now();
  fn(ctx, reps);
  return peer_now() - t0;
}

/* peer_measure times fn; reps <= 0 means calibrate (see above). */
static peer_result peer_measure(peer_fn fn, void *ctx, long reps, int nsamp, double sample_s,
                                double budget_s) {
  peer_result r = {0};
  if (reps <= 0) {
    double t0 = peer_now(), fastest = 1e30;
    for (int i = 0; i < 2 || peer_now() - t0 < sample_s; i++) {
      double t = peer_time(fn, ctx, 1);
      if (t < fastest) fastest = t;
      if (i >= 1 && fastest > budget_s) { /* two calls over it (the first may pay for setup) */
        r.slow_s = fastest;
        return r;
      }
    }
    reps = (long)(sample_s / (fastest > 1e-9 ? fastest : 1e-9) + 0.5);
    if (reps < 1) reps = 1;
  }
  double warm = peer_time(fn, ctx, reps); /* warm-up sample */
  if (warm / reps > budget_s) {
    r.slow_s = warm / reps;
    return r;
  }
  int fit = (int)(budget_s / (warm > 1e-9 ? warm : 1e-9)) - 1;
  if (fit < 3) fit = 3;
  if (nsamp > fit) nsamp = fit;
  double *s = malloc(sizeof(double) * nsamp), *cpu = malloc(sizeof(double) * nsamp);
  for (int i = 0; i < nsamp; i++) {
    double c0 = peer_clock(CLOCK_THREAD_CPUTIME_ID);
    s[i] = peer_time(fn, ctx, reps) / reps;
    cpu[i] = (peer_clock(CLOCK_THREAD_CPUTIME_ID) - c0) / reps;
  }
  r.med_s = peer_median(s, nsamp), r.cpu_s = peer_median(cpu, nsamp);
  r.min_s = s[0], r.cpu_min_s = cpu[0], r.reps = reps, r.nsamp = nsamp;
  free(s), free(cpu);
  return r;
}

#endif
