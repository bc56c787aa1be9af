/*
 * bench_xnnpack.c - times the rows of nasrun's benchmark suite
 * (bench/suite/suite.txt) with XNNPACK's operator API (Debian libxnnpack-dev),
 * NHWC float32, on 1 thread (no pool) or T threads (pthreadpool).
 *
 *   bench_xnnpack --suite FILE [--threads 1,2] [--rows id,id] [--samples N] [--sample-ms MS] [--budget-ms MS]
 *   bench_xnnpack --suite FILE --serve      (reads "ID THREADS" lines, answers one line each)
 *
 * Output: one JSON line per row and thread count,
 *   {"row": "dw3s1", "impl": "xnnpack", "threads": 1, "ms": 0.101, "min_ms": ..., "reps": ..., "samples": ...}
 * or {"row": ..., "impl": "xnnpack", "threads": T, "skip": "why"} for a row XNNPACK has no operator for.
 *
 * Operators are created and set up before timing (weights are packed at
 * creation); the timed call runs the row's operators once. Timing: peer.h.
 */
#include <math.h>
#include <pthreadpool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include "../peer.h"

/* ---- the suite file (format: see bench/suite/suite.txt) ---- */

typedef struct {
  char id[64], op[32];
  int n, h, w, c, co, k, s, p, m, kk, nn, elems, r;
} row_t;

#define MAXROWS 256
static row_t g_rows[MAXROWS];
static int g_nrows;

static void read_suite(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  char line[1024];
  while (fgets(line, sizeof line, f) && g_nrows < MAXROWS) {
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *tok = strtok(line, " \t\r\n");
    if (!tok) continue;
    row_t *r = &g_rows[g_nrows++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", tok);
    while ((tok = strtok(NULL, " \t\r\n"))) {
      char *eq = strchr(tok, '=');
      if (!eq) continue;
      *eq = 0;
      const char *k = tok, *v = eq + 1;
      struct { const char *name; int *dst; } fields[] = {
          {"n", &r->n},   {"h", &r->h},   {"w", &r->w},   {"c", &r->c},         {"co", &r->co},
          {"k", &r->k},   {"s", &r->s},   {"p", &r->p},   {"m", &r->m},         {"kk", &r->kk},
          {"nn", &r->nn}, {"r", &r->r},   {"elems", &r->elems}};
      if (strcmp(k, "op") == 0) snprintf(r->op, sizeof r->op, "%s", v);
      for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(k, fields[i].name) == 0) *fields[i].dst = atoi(v);
    }
  }
  fclose(f);
}

static const row_t *find_row(const char *id) {
  for (int i = 0; i < g_nrows; i++)
    if (strcmp(g_rows[i].id, id) == 0) return &g_rows[i];
  return NULL;
}

/* ---- one row's operators ---- */

#define CHECK(x)                                                                  \
  do {                                                                            \
    enum xnn_status st_ = (x);                                                    \
    if (st_ != xnn_status_success) {                                              \
      fprintf(stderr, "%s:%d: %s: XNNPACK status %d\n", __FILE__, __LINE__, #x, (int)st_); \
      exit(1);                                                                    \
    }                                                                             \
  } while (0)

typedef struct {
  xnn_operator_t ops[4];
  int nops;
  float *bufs[16];
  int nbufs;
  pthreadpool_t pool;
} case_t;

/* buf returns n random floats in [-1, 1), owned by the case. */
static float *buf(case_t *cs, size_t n) {
  if (cs->nbufs == (int)(sizeof cs->bufs / sizeof cs->bufs[0])) {
    fprintf(stderr, "bench_xnnpack: too many buffers in one case\n");
    exit(1);
  }
  float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
  uint32_t s = 2463534242u ^ (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    p[i] = (float)(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  cs->bufs[cs->nbufs++] = p;
  return p;
}

static void conv(case_t *cs, int n, int h, int w, int cin, int cout, int k, int s, int p, int groups) {
  int ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  size_t gi = cin / groups, go = cout / groups;
  float *x = buf(cs, (size_t)n * h * w * cin), *y = buf(cs, (size_t)n * ho * wo * cout);
  float *wt = buf(cs, (size_t)cout * k * k * gi);
  xnn_operator_t op;
  CHECK(xnn_create_convolution2d_nhwc_f32(p, p, p, p, k, k, s, s, 1, 1, groups, gi, go, cin, cout, wt,
                                          NULL, -INFINITY, INFINITY, 0, &op));
  CHECK(xnn_setup_convolution2d_nhwc_f32(op, n, h, w, x, y, cs->pool));
  cs->ops[cs->nops++] = op;
}

/* se: global average pool, FC C→C/r with ReLU, FC C/r→C with hardsigmoid
 * (folded into the weights: hardsigmoid(v) = clamp(v/6 + 1/2, 0, 1)), and
 * the per-channel multiply, as four operators. */
static void se(case_t *cs, const row_t *r) {
  size_t hw = (size_t)r->h * r->w, c = r->c, cr = r->c / r->r;
  float *x = buf(cs, r->n * hw * c), *y = buf(cs, r->n * hw * c);
  float *pooled = buf(cs, r->n * c), *mid = buf(cs, r->n * cr), *scale = buf(cs, r->n * c);
  float *w1 = buf(cs, c * cr), *b1 = buf(cs, cr), *w2 = buf(cs, c * cr), *b2 = buf(cs, c);
  for (size_t i = 0; i < c * cr; i++) w2[i] /= 6;
  for (size_t i = 0; i < c; i++) b2[i] = b2[i] / 6 + 0.5f;
  xnn_operator_t gap, fc1, fc2, mul;
  CHECK(xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &gap));
  CHECK(xnn_setup_global_average_pooling_nwc_f32(gap, r->n, hw, x, pooled, cs->pool));
  CHECK(xnn_create_fully_connected_nc_f32(c, cr, c, cr, w1, b1, 0, INFINITY, 0, &fc1));
  CHECK(xnn_setup_fully_connected_nc_f32(fc1, r->n, pooled, mid, cs->pool));
  CHECK(xnn_create_fully_connected_nc_f32(cr, c, cr, c, w2, b2, 0, 1, 0, &fc2));
  CHECK(xnn_setup_fully_connected_nc_f32(fc2, r->n, mid, scale, cs->pool));
  CHECK(xnn_create_multiply_nd_f32(-INFINITY, INFINITY, 0, &mul));
  size_t xs[3] = {r->n, hw, c}, ss[3] = {r->n, 1, c};
  CHECK(xnn_setup_multiply_nd_f32(mul, 3, xs, 3, ss, x, scale, y, cs->pool));
  cs->ops[cs->nops++] = gap, cs->ops[cs->nops++] = fc1, cs->ops[cs->nops++] = fc2;
  cs->ops[cs->nops++] = mul;
}

/* make_case creates the operators of row r; it returns NULL, or why XNNPACK
 * cannot run the row. */
static const char *make_case(case_t *cs, const row_t *r) {
  xnn_operator_t op = NULL;
  size_t size = r->elems ? (size_t)r->elems : (size_t)r->n * r->h * r->w * r->c;
  size_t ch = r->elems ? (size_t)r->elems : (size_t)r->c; /* contiguous rows of ch floats */
  if (!strcmp(r->op, "dwconv")) {
    conv(cs, r->n, r->h, r->w, r->c, r->c, r->k, r->s, r->p, r->c);
  } else if (!strcmp(r->op, "conv")) {
    conv(cs, r->n, r->h, r->w, r->c, r->co, r->k, r->s, r->p, 1);
  } else if (!strcmp(r->op, "gemm")) {
    /* C[m,nn] = A[m,kk]·B; fully connected takes B transposed ([nn,kk]) */
    float *a = buf(cs, (size_t)r->m * r->kk), *b = buf(cs, (size_t)r->kk * r->nn);
    float *c = buf(cs, (size_t)r->m * r->nn);
    CHECK(xnn_create_fully_connected_nc_f32(r->kk, r->nn, r->kk, r->nn, b, NULL, -INFINITY, INFINITY,
                                            0, &op));
    CHECK(xnn_setup_fully_connected_nc_f32(op, r->m, a, c, cs->pool));
  } else if (!strcmp(r->op, "maxpool") || !strcmp(r->op, "avgpool")) {
    int ho = (r->h + 2 * r->p - r->k) / r->s + 1, wo = (r->w + 2 * r->p - r->k) / r->s + 1;
    float *x = buf(cs, size), *y = buf(cs, (size_t)r->n * ho * wo * r->c);
    if (r->op[0] == 'm') {
      CHECK(xnn_create_max_pooling2d_nhwc_f32(r->p, r->p, r->p, r->p, r->k, r->k, r->s, r->s, 1, 1,
                                              r->c, r->c, r->c, -INFINITY, INFINITY, 0, &op));
      CHECK(xnn_setup_max_pooling2d_nhwc_f32(op, r->n, r->h, r->w, x, y, cs->pool));
    } else {
      CHECK(xnn_create_average_pooling2d_nhwc_f32(r->p, r->p, r->p, r->p, r->k, r->k, r->s, r->s,
                                                  r->c, r->c, r->c, -INFINITY, INFINITY, 0, &op));
      CHECK(xnn_setup_average_pooling2d_nhwc_f32(op, r->n, r->h, r->w, x, y, cs->pool));
    }
  } else if (!strcmp(r->op, "gap")) {
    float *x = buf(cs, size), *y = buf(cs, (size_t)r->n * r->c);
    CHECK(xnn_create_global_average_pooling_nwc_f32(r->c, r->c, r->c, -INFINITY, INFINITY, 0, &op));
    CHECK(xnn_setup_global_average_pooling_nwc_f32(op, r->n, (size_t)r->h * r->w, x, y, cs->pool));
  } else if (!strcmp(r->op, "hardswish")) {
    float *x = buf(cs, size), *y = buf(cs, size);
    CHECK(xnn_create_hardswish_nc_f32(ch, ch, ch, 0, &op));
    CHECK(xnn_setup_hardswish_nc_f32(op, size / ch, x, y, cs->pool));
  } else if (!strcmp(r->op, "sigmoid")) {
    float *x = buf(cs, size), *y = buf(cs, size);
    CHECK(xnn_create_sigmoid_nc_f32(ch, ch, ch, 0, &op));
    CHECK(xnn_setup_sigmoid_nc_f32(op, size / ch, x, y, cs->pool));
  } else if (!strcmp(r->op, "se")) {
    se(cs, r);
  } else if (!strcmp(r->op, "hardsigmoid")) {
    return "no hardsigmoid operator in this XNNPACK";
  } else if (!strncmp(r->op, "model-", 6)) {
    return "the reference nets are measured against PyTorch only";
  } else if (!strncmp(r->op, "train-", 6)) {
    return "XNNPACK has no backward pass";
  } else {
    return "op not covered by the XNNPACK peer";
  }
  if (op) cs->ops[cs->nops++] = op;
  return NULL;
}

static void free_case(case_t *cs) {
  for (int i = 0; i < cs->nops; i++) CHECK(xnn_delete_operator(cs->ops[i]));
  for (int i = 0; i < cs->nbufs; i++) free(cs->bufs[i]);
}

static void run_case(void *ctx, long reps) {
  case_t *cs = ctx;
  for (long i = 0; i < reps; i++)
    for (int j = 0; j < cs->nops; j++) CHECK(xnn_run_operator(cs->ops[j], cs->pool));
}

/* ---- driver ---- */

static int g_nsamp = 9;
static double g_sample_s = 0.02, g_budget_s = 5;

#define MAXT 64
static pthreadpool_t pool_for(int threads) {
  static pthreadpool_t pools[MAXT + 1];
  if (threads <= 1) return NULL;
  if (threads > MAXT) threads = MAXT;
  if (!pools[threads]) pools[threads] = pthreadpool_create(threads);
  return pools[threads];
}

/* calibrated calls per sample, remembered per row and thread count */
static long g_reps[MAXROWS][MAXT + 1];

static void bench_row(const char *id, int threads) {
  const row_t *r = find_row(id);
  if (!r) {
    printf("{\"row\": \"%s\", \"impl\": \"xnnpack\", \"threads\": %d, \"skip\": \"no such row\"}\n", id,
           threads);
    fflush(stdout);
    return;
  }
  if (threads < 1) threads = 1;
  if (threads > MAXT) threads = MAXT;
  case_t cs = {.pool = pool_for(threads)};
  const char *skip = make_case(&cs, r);
  if (skip) {
    printf("{\"row\": \"%s\", \"impl\": \"xnnpack\", \"threads\": %d, \"skip\": \"%s\"}\n", r->id,
           threads, skip);
  } else {
    long *reps = &g_reps[r - g_rows][threads];
    peer_result res = peer_measure(run_case, &cs, *reps, g_nsamp, g_sample_s, g_budget_s);
    if (res.slow_s > 0) {
      printf("{\"row\": \"%s\", \"impl\": \"xnnpack\", \"threads\": %d, \"skip\": \"a call took %.0f ms, "
             "over the %.0f ms budget of a measurement: machine too busy\"}\n",
             r->id, threads, res.slow_s * 1e3, g_budget_s * 1e3);
      fflush(stdout);
      free_case(&cs);
      return;
    }
    *reps = res.reps;
    printf("{\"row\": \"%s\", \"impl\": \"xnnpack\", \"threads\": %d, \"ms\": %.6f, \"min_ms\": %.6f, ",
           r->id, threads, res.med_s * 1e3, res.min_s * 1e3);
    if (threads == 1) /* one thread: no pool, the calls run on this thread */
      printf("\"cpu_ms\": %.6f, ", res.cpu_s * 1e3);
    printf("\"reps\": %ld, \"samples\": %d}\n", res.reps, res.nsamp);
  }
  fflush(stdout);
  free_case(&cs);
}

/* in_list reports whether id is one of the comma-separated names in list. */
static int in_list(const char *list, const char *id) {
  size_t n = strlen(id);
  for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (!strncmp(p, id, n) && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  const char *suite = "bench/suite/suite.txt", *rows = NULL, *threads = "1";
  int serve = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--serve")) serve = 1;
    else if (!strcmp(a, "--suite")) suite = v, i++;
    else if (!strcmp(a, "--rows")) rows = v, i++;
    else if (!strcmp(a, "--threads")) threads = v, i++;
    else if (!strcmp(a, "--samples")) g_nsamp = atoi(v), i++;
    else if (!strcmp(a, "--sample-ms")) g_sample_s = atof(v) * 1e-3, i++;
    else if (!strcmp(a, "--budget-ms")) g_budget_s = atof(v) * 1e-3, i++;
    else {
      fprintf(stderr, "usage: %s [--suite FILE] [--threads 1,2] [--rows id,id] [--samples N] "
                      "[--sample-ms MS] [--budget-ms MS] [--serve]\n", argv[0]);
      return 2;
    }
  }
  if (g_nsamp < 1) g_nsamp = 1;
  read_suite(suite);
  CHECK(xnn_initialize(NULL));
  char line[256], id[128];
  int t;
  if (serve) {
    while (fgets(line, sizeof line, stdin))
      if (sscanf(line, "%127s %d", id, &t) == 2) bench_row(id, t);
    return 0;
  }
  char tl[256];
  snprintf(tl, sizeof tl, "%s", threads);
  for (char *ts = strtok(tl, ","); ts; ts = strtok(NULL, ",")) {
    t = atoi(ts);
    for (int i = 0; i < g_nrows; i++)
      if (!rows || in_list(rows, g_rows[i].id)) bench_row(g_rows[i].id, t);
  }
  return 0;
}
