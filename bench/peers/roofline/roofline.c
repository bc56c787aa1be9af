/*
 * roofline.c - this machine's limits, for the roofline column of `make compare`:
 * peak float32 FMA throughput (AVX2 and AVX-512) and memory bandwidth from
 * L2, L3 and DRAM, on 1..T threads.
 *
 *   roofline [--threads 1,2] [--samples N] [--sample-ms MS]
 *
 * Output: JSON lines
 *   {"probe": "fma", "isa": "avx512", "threads": 1, "gflops": 262.1}
 *   {"probe": "bw", "level": "L2", "kernel": "copy", "threads": 1, "bytes": 524288, "gbs": 201.3}
 *
 * FMA: 12 independent accumulators, acc = acc*m + c; a multiply-add counts 2
 * FLOPs. Bandwidth: "read" sums an array, "copy" writes b[i] = a[i]; bytes
 * are those read plus those written (as the suite counts a kernel's bytes),
 * with ordinary stores. The working set per thread is half the L2 (L2), 4
 * times the L2 but at most half the L3 split over the threads (L3: past the
 * L2, well inside the L3 even where a virtual machine reports a larger L3
 * than its cores reach), and 8 times the L3 split over the threads (DRAM);
 * cache sizes come from sysfs (cpu0: L2 per core, L3 shared). Each thread owns its arrays and is pinned to one CPU.
 * Rates are from the fastest sample (peer.h's timing otherwise): noise only
 * slows a probe down, and a peak is what the machine can do; on one thread
 * the sample's thread CPU time is used, on more threads its wall time.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../peer.h"

/* ---- kernels ---- */

typedef float f8 __attribute__((vector_size(32)));
typedef float f16 __attribute__((vector_size(64)));

/* FMA_KERNEL defines name(iters): 12 independent chains of dependent FMAs on
 * vectors of type V (GCC contracts a*m + c into one FMA). */
#define FMA_KERNEL(name, tgt, V)                                                     \
  __attribute__((target(tgt), noinline)) static float name(long iters) {             \
    V m = (V){} + 0.999999f, c = (V){} + 1e-7f, a0 = m, a1 = m + 1, a2 = m + 2,       \
      a3 = m + 3, a4 = m + 4, a5 = m + 5, a6 = m + 6, a7 = m + 7, a8 = m + 8,         \
      a9 = m + 9, a10 = m + 10, a11 = m + 11;                                         \
    for (long i = 0; i < iters; i++) {                                                \
      a0 = a0 * m + c, a1 = a1 * m + c, a2 = a2 * m + c, a3 = a3 * m + c;             \
      a4 = a4 * m + c, a5 = a5 * m + c, a6 = a6 * m + c, a7 = a7 * m + c;             \
      a8 = a8 * m + c, a9 = a9 * m + c, a10 = a10 * m + c, a11 = a11 * m + c;         \
    }                                                                                 \
    V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;                \
    return s[0];                                                                      \
  }
FMA_KERNEL(fma_avx2, "avx2,fma", f8)
FMA_KERNEL(fma_avx512, "avx512f", f16)

__attribute__((target("avx2"))) static float first256(__m256 v) {
  return _mm_cvtss_f32(_mm256_castps256_ps128(v));
}
__attribute__((target("avx512f"))) static float first512(__m512 v) {
  return _mm_cvtss_f32(_mm512_castps512_ps128(v));
}

/* n is a multiple of 64 floats; arrays are 64-byte aligned */
__attribute__((target("avx512f"))) static float read512(const float *a, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
  }
  return first512(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
__attribute__((target("avx512f"))) static void copy512(float *b, const float *a, size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    __m512 x0 = _mm512_load_ps(a + i), x1 = _mm512_load_ps(a + i + 16);
    __m512 x2 = _mm512_load_ps(a + i + 32), x3 = _mm512_load_ps(a + i + 48);
    _mm512_store_ps(b + i, x0), _mm512_store_ps(b + i + 16, x1);
    _mm512_store_ps(b + i + 32, x2), _mm512_store_ps(b + i + 48, x3);
  }
}
__attribute__((target("avx2"))) static float read256(const float *a, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
    s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
  }
  return first256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}
__attribute__((target("avx2"))) static void copy256(float *b, const float *a, size_t n) {
  for (size_t i = 0; i < n; i += 32) {
    __m256 x0 = _mm256_load_ps(a + i), x1 = _mm256_load_ps(a + i + 8);
    __m256 x2 = _mm256_load_ps(a + i + 16), x3 = _mm256_load_ps(a + i + 24);
    _mm256_store_ps(b + i, x0), _mm256_store_ps(b + i + 8, x1);
    _mm256_store_ps(b + i + 16, x2), _mm256_store_ps(b + i + 24, x3);
  }
}

/* ---- a team of pinned threads running one job together ---- */

enum { JOB_FMA_AVX2, JOB_FMA_AVX512, JOB_READ, JOB_COPY, JOB_ALLOC, JOB_QUIT };

#define MAXT 64
static struct {
  int threads, job;
  long reps;
  size_t n; /* floats per array per thread */
  float *a[MAXT], *b[MAXT];
  pthread_t tid[MAXT];
  pthread_barrier_t start, end;
} team;
static int g_avx512;
static volatile float g_sink;

static void pin(pthread_t t, int cpu) {
  cpu_set_t cs;
  CPU_ZERO(&cs);
  CPU_SET(cpu, &cs);
  pthread_setaffinity_np(t, sizeof cs, &cs);
}

static void work(int t) {
  float acc = 0;
  size_t n = team.n;
  for (long r = 0; r < team.reps; r++) {
    switch (team.job) {
      case JOB_FMA_AVX2: acc += fma_avx2(10000); break;
      case JOB_FMA_AVX512: acc += fma_avx512(10000); break;
      case JOB_READ: acc += g_avx512 ? read512(team.a[t], n) : read256(team.a[t], n); break;
      case JOB_COPY: g_avx512 ? copy512(team.b[t], team.a[t], n) : copy256(team.b[t], team.a[t], n); break;
    }
  }
  if (team.job == JOB_ALLOC) { /* first touch by the owning thread */
    free(team.a[t]), free(team.b[t]);
    team.a[t] = n ? aligned_alloc(64, n * sizeof(float)) : NULL;
    team.b[t] = n ? aligned_alloc(64, n * sizeof(float)) : NULL;
    for (size_t i = 0; i < n; i++) team.a[t][i] = 1, team.b[t][i] = 0;
  }
  if (acc == 1.2345f) g_sink = acc;
}

static void *worker(void *arg) {
  int t = (int)(long)arg;
  for (;;) {
    pthread_barrier_wait(&team.start);
    if (team.job == JOB_QUIT) return NULL;
    work(t);
    pthread_barrier_wait(&team.end);
  }
}

static void team_run(int job, long reps) {
  team.job = job, team.reps = reps;
  pthread_barrier_wait(&team.start);
  if (job == JOB_QUIT) return;
  work(0);
  pthread_barrier_wait(&team.end);
}

static void team_start(int threads) {
  team.threads = threads;
  pthread_barrier_init(&team.start, NULL, threads);
  pthread_barrier_init(&team.end, NULL, threads);
  pin(pthread_self(), 0);
  for (int t = 1; t < threads; t++) {
    pthread_create(&team.tid[t], NULL, worker, (void *)(long)t);
    pin(team.tid[t], t);
  }
}

static void team_stop(void) {
  team.n = 0;
  team_run(JOB_ALLOC, 0);
  team_run(JOB_QUIT, 0);
  for (int t = 1; t < team.threads; t++) pthread_join(team.tid[t], NULL);
  pthread_barrier_destroy(&team.start);
  pthread_barrier_destroy(&team.end);
}

static void run_job(void *ctx, long reps) { team_run(*(int *)ctx, reps); }

/* ---- driver ---- */

static size_t cache_bytes(int index) {
  char path[128];
  snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", index);
  FILE *f = fopen(path, "r");
  size_t v = 0;
  char unit = 0;
  if (f) {
    if (fscanf(f, "%zu%c", &v, &unit) < 1) v = 0;
    fclose(f);
  }
  return unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : v;
}

static int g_nsamp = 9;
static double g_sample_s = 0.02;

/* fastest is the fastest sample's time per call: on one thread the thread's
 * CPU time (leaving out preemption by other processes, as compare's
 * single-thread cells do), on more threads wall time. */
static double fastest(int job) {
  peer_result r = peer_measure(run_job, &job, 0, g_nsamp, g_sample_s, 1e9);
  return team.threads == 1 && r.cpu_min_s > 0 ? r.cpu_min_s : r.min_s;
}

int main(int argc, char **argv) {
  const char *threads = "1,2";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = argv[i + 1];
    else if (!strcmp(argv[i], "--samples")) g_nsamp = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--sample-ms")) g_sample_s = atof(argv[i + 1]) * 1e-3;
  }
  if (g_nsamp < 1) g_nsamp = 1;
  __builtin_cpu_init();
  g_avx512 = __builtin_cpu_supports("avx512f");
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  size_t l2 = cache_bytes(2), l3 = cache_bytes(3);
  if (!l2) l2 = 1 << 20;
  if (!l3) l3 = 32 << 20;
  printf("{\"probe\": \"caches\", \"l2_bytes\": %zu, \"l3_bytes\": %zu}\n", l2, l3);

  char tl[128];
  snprintf(tl, sizeof tl, "%s", threads);
  for (char *ts = strtok(tl, ","); ts; ts = strtok(NULL, ",")) {
    int nt = atoi(ts);
    if (nt < 1 || nt > MAXT) continue;
    team_start(nt);
    for (int isa = 0; isa < 2; isa++) {
      if (isa ? !g_avx512 : !avx2) continue;
      double sec = fastest(isa ? JOB_FMA_AVX512 : JOB_FMA_AVX2);
      double flops = 10000.0 * 12 * (isa ? 16 : 8) * 2 * nt;
      printf("{\"probe\": \"fma\", \"isa\": \"%s\", \"threads\": %d, \"gflops\": %.2f}\n",
             isa ? "avx512" : "avx2", nt, flops / sec / 1e9);
      fflush(stdout);
    }
    size_t l3ws = 4 * l2 < l3 / 2 / nt ? 4 * l2 : l3 / 2 / nt;
    struct { const char *level; size_t per_thread; } ws[] = {
        {"L2", l2 / 2}, {"L3", l3ws}, {"DRAM", 8 * l3 / nt}};
    for (int z = 0; z < 3; z++) {
      team.n = ws[z].per_thread / 2 / sizeof(float) / 64 * 64; /* two arrays */
      team_run(JOB_ALLOC, 0);
      for (int k = 0; k < 2; k++) {
        double sec = fastest(k ? JOB_COPY : JOB_READ);
        double bytes = (k ? 2.0 : 1.0) * team.n * sizeof(float) * nt;
        printf("{\"probe\": \"bw\", \"level\": \"%s\", \"kernel\": \"%s\", \"threads\": %d, "
               "\"bytes\": %zu, \"gbs\": %.2f}\n",
               ws[z].level, k ? "copy" : "read", nt, 2 * team.n * sizeof(float), bytes / sec / 1e9);
        fflush(stdout);
      }
    }
    team_stop();
  }
  return 0;
}
