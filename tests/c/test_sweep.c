/* test_sweep.c -- standalone C11 test of the sweep kernels (src_c/ckpt_sweep.c).
 *
 * No framework, no Python.  Expected steps come from a brute-force model written from
 * docs/semantics.md (scan every step 1..T and test each rule by its definition, then
 * thin greedily), never from the code under test.  Flags are checked on hand-worked
 * cases (see the comments); the Python suite checks every flag against Schedule.
 *
 * Prints one line per failed check and, at the end, "N passed, N failed"; exits
 * non-zero on failure.  Build and run (ASan + UBSan), from the repo root:
 *   gcc -std=c11 -Wall -Wextra -Wconversion -Werror -g -O1 \
 *       -fsanitize=address,undefined -fno-sanitize-recover=all -I src_c \
 *       tests/c/test_sweep.c src_c/ckpt.c src_c/ckpt_sweep.c -lm -o /tmp/test_sweep
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "ckpt_sweep.h"

static long long g_pass = 0, g_fail = 0;
static char g_ctx[200] = "";

#define CHECK(expr)                                                                   \
    do {                                                                              \
        if (expr) g_pass++;                                                           \
        else {                                                                        \
            g_fail++;                                                                 \
            if (g_fail <= 60) printf("FAIL %s:%d: %s  [%s]\n", __FILE__, __LINE__, #expr, g_ctx); \
        }                                                                             \
    } while (0)

#define CHECK_EQ(got, want)                                                           \
    do {                                                                              \
        long long got_ = (long long)(got), want_ = (long long)(want);                 \
        if (got_ == want_) g_pass++;                                                  \
        else {                                                                        \
            g_fail++;                                                                 \
            if (g_fail <= 60)                                                         \
                printf("FAIL %s:%d: %s == %s (got %lld, want %lld)  [%s]\n", __FILE__, \
                       __LINE__, #got, #want, got_, want_, g_ctx);                    \
        }                                                                             \
    } while (0)

/* ---- a tiny deterministic generator ------------------------------------------ */

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static int64_t rnd(int64_t lo, int64_t hi) /* uniform in [lo, hi] */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (int64_t)((uint64_t)lo + g_rng % ((uint64_t)hi - (uint64_t)lo + 1));
}

/* ---- the model: one run, by definition ------------------------------------------ */

typedef struct {
    int64_t S, e_num, e_den, max_steps, k, every, count, r_num, r_den, min_interval;
    int final;
} model_run;

static int64_t model_total(const model_run *m)
{
    if (m->max_steps) return m->max_steps;
    return (m->e_num * m->S + m->e_den - 1) / m->e_den;
}

/* Is s a step of the union?  Each rule by its docs/semantics.md definition. */
static int model_is_step(const model_run *m, int64_t T, int64_t s)
{
    if (m->final && s == T) return 1;
    if (m->k) { /* epoch e, j = 1..k: e*S + ceil(j*S/k) <= T */
        int64_t e = (s - 1) / m->S;
        for (int64_t j = 1; j <= m->k; j++)
            if (e * m->S + (j * m->S + m->k - 1) / m->k == s) return 1;
    }
    if (m->count) /* ceil(i*T/n), i = 1..n */
        for (int64_t i = 1; i <= m->count; i++)
            if ((i * T + m->count - 1) / m->count == s) return 1;
    if (m->every && s % m->every == 0) return 1;
    if (m->r_num) { /* every ceil(T * r) */
        int64_t interval = (T * m->r_num + m->r_den - 1) / m->r_den;
        if (s % interval == 0) return 1;
    }
    return 0;
}

/* The run's steps after greedy min_interval thinning; returns their number. */
static int64_t model_steps(const model_run *m, int64_t *out)
{
    int64_t T = model_total(m), n = 0, last = 0;
    for (int64_t s = 1; s <= T; s++) {
        if (!model_is_step(m, T, s)) continue;
        if (n == 0 || (m->final && s == T) || s - last >= m->min_interval) {
            out[n++] = s;
            last = s;
        }
    }
    return n;
}

/* ---- building kernel inputs ------------------------------------------------------- */

#define MAX_RUNS 64
#define A CKPT_SWEEP_ABSENT

typedef struct {
    int64_t S[MAX_RUNS], e_num[MAX_RUNS], e_den[MAX_RUNS], max_steps[MAX_RUNS], k[MAX_RUNS];
    int64_t every[MAX_RUNS], count[MAX_RUNS], r_num[MAX_RUNS], r_den[MAX_RUNS];
    int64_t min_interval[MAX_RUNS], bytes[MAX_RUNS], keep_last[MAX_RUNS];
    double e_float[MAX_RUNS], r_float[MAX_RUNS];
    uint8_t final[MAX_RUNS];
} columns;

static ckpt_col_i64 col(const int64_t *data) { ckpt_col_i64 c = {data, 1}; return c; }

static ckpt_sweep_in sweep_in(const columns *c, int64_t n)
{
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = n;
    in.steps_per_epoch = col(c->S);
    in.epochs_num = col(c->e_num);
    in.epochs_den = col(c->e_den);
    in.epochs_float.data = c->e_float;
    in.epochs_float.step = 1;
    in.max_steps = col(c->max_steps);
    in.saves_per_epoch = col(c->k);
    in.every = col(c->every);
    in.count = col(c->count);
    in.ratio_num = col(c->r_num);
    in.ratio_den = col(c->r_den);
    in.ratio_float.data = c->r_float;
    in.ratio_float.step = 1;
    in.final.data = c->final;
    in.final.step = 1;
    in.min_interval = col(c->min_interval);
    in.checkpoint_bytes = col(c->bytes);
    in.keep_last = col(c->keep_last);
    in.walk_limit = INT64_MAX;
    return in;
}

static void put(columns *c, int64_t i, const model_run *m)
{
    c->S[i] = m->S ? m->S : A;
    c->e_num[i] = m->e_num ? m->e_num : A;
    c->e_den[i] = m->e_den ? m->e_den : 1;
    c->e_float[i] = m->e_num ? (double)m->e_num / (double)m->e_den : 1.0;
    c->max_steps[i] = m->max_steps ? m->max_steps : A;
    c->k[i] = m->k ? m->k : A;
    c->every[i] = m->every ? m->every : A;
    c->count[i] = m->count ? m->count : A;
    c->r_num[i] = m->r_num ? m->r_num : A;
    c->r_den[i] = m->r_num ? m->r_den : 1;
    c->r_float[i] = m->r_num ? (double)m->r_num / (double)m->r_den : 0.5;
    c->min_interval[i] = m->min_interval;
    c->keep_last[i] = A;
    c->bytes[i] = 1000;
    c->final[i] = (uint8_t)m->final;
}

static model_run random_run(void)
{
    model_run m;
    memset(&m, 0, sizeof m);
    if (rnd(0, 2)) {
        m.S = rnd(1, 40);
        m.e_den = rnd(1, 4);
        m.e_num = rnd(1, 4 * m.e_den);
        if (rnd(0, 3) == 0) m.max_steps = rnd(1, 200);
    } else {
        m.max_steps = rnd(1, 200);
        if (rnd(0, 1)) m.S = rnd(1, 40);
    }
    if (m.S && rnd(0, 1)) m.k = rnd(1, 50);
    if (rnd(0, 3) == 0) m.count = rnd(1, 250);
    if (rnd(0, 3) == 0) m.every = rnd(1, 250);
    if (rnd(0, 3) == 0) {
        m.r_den = rnd(2, 20);
        m.r_num = rnd(1, m.r_den - 1);
    }
    m.final = (int)rnd(0, 1);
    m.min_interval = rnd(0, 3) == 0 ? rnd(0, 12) : 0;
    return m;
}

/* ---- tests --------------------------------------------------------------------------- */

/* Random sweeps: counts, offsets, bytes and every step equal the model. */
static void test_random_sweeps(void)
{
    static columns c;
    static int64_t want[MAX_RUNS][1024], want_n[MAX_RUNS];
    for (int round = 0; round < 300; round++) {
        int64_t n = rnd(0, MAX_RUNS);
        model_run runs[MAX_RUNS];
        for (int64_t i = 0; i < n; i++) {
            runs[i] = random_run();
            put(&c, i, &runs[i]);
            c.keep_last[i] = rand() % 3 == 0 ? A : 1 + rand() % 6;
            want_n[i] = model_steps(&runs[i], want[i]);
        }
        ckpt_sweep_in in = sweep_in(&c, n);
        int64_t counts[MAX_RUNS], bytes[MAX_RUNS], offsets[MAX_RUNS + 1];
        int64_t peak[MAX_RUNS], peak_bytes[MAX_RUNS], survivors[MAX_RUNS];
        ckpt_sweep_disk disk = {peak, peak_bytes, survivors};
        uint32_t flags[MAX_RUNS];
        ckpt_sweep_error err;
        int64_t done;
        offsets[0] = 0;
        snprintf(g_ctx, sizeof g_ctx, "round %d, %" PRId64 " runs", round, n);
        CHECK_EQ(ckpt_sweep_count(&in, 0, n, counts, flags, bytes, offsets, &disk, &done, &err),
                 CKPT_OK);
        int64_t *steps = malloc((size_t)(offsets[n] > 0 ? offsets[n] : 1) * sizeof *steps);
        CHECK_EQ(ckpt_sweep_fill(&in, 0, n, offsets, steps, &done, &err), CKPT_OK);
        for (int64_t i = 0; i < n; i++) {
            snprintf(g_ctx, sizeof g_ctx, "round %d run %" PRId64 ": S=%" PRId64 " e=%" PRId64
                     "/%" PRId64 " max=%" PRId64 " k=%" PRId64 " count=%" PRId64 " every=%" PRId64
                     " r=%" PRId64 "/%" PRId64 " final=%d m=%" PRId64, round, i, runs[i].S,
                     runs[i].e_num, runs[i].e_den, runs[i].max_steps, runs[i].k, runs[i].count,
                     runs[i].every, runs[i].r_num, runs[i].r_den, runs[i].final,
                     runs[i].min_interval);
            CHECK_EQ(counts[i], want_n[i]);
            CHECK_EQ(offsets[i + 1] - offsets[i], want_n[i]);
            CHECK_EQ(bytes[i], 1000 * want_n[i]);
            /* the disk, save by save: the save in flight joins what the last one left,
             * then all but the newest keep_last are deleted */
            int64_t on_disk = 0, most = 0, keep = c.keep_last[i];
            for (int64_t j = 0; j < want_n[i]; j++) {
                on_disk++;
                if (on_disk > most) most = on_disk;
                if (keep != A && on_disk > keep) on_disk = keep;
            }
            CHECK_EQ(peak[i], most);
            CHECK_EQ(peak_bytes[i], 1000 * most);
            CHECK_EQ(survivors[i], on_disk);
            CHECK_EQ((flags[i] & CKPT_FLAG_NO_SAVES) != 0, want_n[i] == 0);
            if (counts[i] != want_n[i]) continue;
            for (int64_t j = 0; j < want_n[i]; j++) CHECK_EQ(steps[offsets[i] + j], want[i][j]);
        }
        free(steps);
    }
    g_ctx[0] = '\0';
}

/* One run through both passes; returns the count pass status. */
static ckpt_status one(const columns *c, int64_t *count, uint32_t *flags, ckpt_sweep_error *err)
{
    ckpt_sweep_in in = sweep_in(c, 1);
    int64_t bytes, offsets[2] = {0, 0}, done;
    return ckpt_sweep_count(&in, 0, 1, count, flags, &bytes, offsets, NULL, &done, err);
}

static void test_flags(void)
{
    static columns c;
    model_run m;
    int64_t n;
    uint32_t f;
    ckpt_sweep_error err;

    /* S=31, 2 epochs, saves_per_epoch=40 > 31: every step, FEWER_THAN_REQUESTED;
     * Axolotl: 1/(40*2) = 0.0125, ceil(62 * 0.0125) = 1 -> 62 saves, same count, no miss */
    memset(&m, 0, sizeof m);
    m.S = 31, m.e_num = 2, m.e_den = 1, m.k = 40, m.final = 1;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 62);
    CHECK_EQ(f, CKPT_FLAG_FEWER_THAN_REQUESTED);

    /* S=217, 3 epochs, k=8: Axolotl interval ceil(651/24) = 28 misses epoch end 217 */
    m.S = 217, m.e_num = 3, m.k = 8;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 24);
    CHECK_EQ(f, CKPT_FLAG_HF_MISMATCH);

    /* max_steps=10, every=20, final=False: the rule never fires, nothing is saved;
     * transformers saves at the last step, 10: HF_MISMATCH */
    memset(&m, 0, sizeof m);
    m.max_steps = 10, m.every = 20;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(f, CKPT_FLAG_NO_SAVES | CKPT_FLAG_OUT_OF_RANGE | CKPT_FLAG_HF_MISMATCH);

    /* every=3 over 10 steps, final: 3 6 9 10, UNEVEN_TAIL */
    m.every = 3, m.final = 1;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 4);
    CHECK_EQ(f, CKPT_FLAG_UNEVEN_TAIL);

    /* every=3 over 10 steps, no final: last save 9 < 10, FINAL_NOT_SAVED; transformers
     * saves at 10 too: HF_MISMATCH */
    m.final = 0;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(f, CKPT_FLAG_FINAL_NOT_SAVED | CKPT_FLAG_HF_MISMATCH);

    /* ratio 7/100 of 253 steps: exact interval ceil(17.71) = 18; in float 253 * 0.07 =
     * 17.710000000000001 -> 18 too; 18 does not divide 253: UNEVEN_TAIL; min_interval=2
     * keeps 252 and the forced 253 one step later: UNEVEN_TAIL again, nothing dropped */
    memset(&m, 0, sizeof m);
    m.max_steps = 253, m.r_num = 7, m.r_den = 100, m.final = 1, m.min_interval = 2;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 15);
    CHECK_EQ(f, CKPT_FLAG_UNEVEN_TAIL);

    /* saves_per_epoch=2 of S=10 (5 10 15 20) with min_interval=6, no final: keeps 5, 15;
     * drops the epoch ends 10 and 20: MIN_INTERVAL_DROPPED, EPOCH_END_MISSED, and the last
     * save 15 < 20: FINAL_NOT_SAVED */
    memset(&m, 0, sizeof m);
    m.S = 10, m.e_num = 2, m.e_den = 1, m.k = 2, m.min_interval = 6;
    put(&c, 0, &m);
    CHECK_EQ(one(&c, &n, &f, &err), CKPT_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(f & ~CKPT_FLAG_HF_MISMATCH, CKPT_FLAG_MIN_INTERVAL_DROPPED
             | CKPT_FLAG_EPOCH_END_MISSED | CKPT_FLAG_FINAL_NOT_SAVED);
}

/* A bad row stops the count pass at that row, naming the argument and the reason. */
static void expect_error(const columns *c, int64_t n, ckpt_status status, int64_t row,
                         ckpt_sweep_arg arg, ckpt_sweep_why why)
{
    ckpt_sweep_in in = sweep_in(c, n);
    int64_t counts[MAX_RUNS], bytes[MAX_RUNS], offsets[MAX_RUNS + 1];
    uint32_t flags[MAX_RUNS];
    ckpt_sweep_error err;
    int64_t done;
    offsets[0] = 0;
    CHECK_EQ(ckpt_sweep_count(&in, 0, n, counts, flags, bytes, offsets, NULL, &done, &err), status);
    CHECK_EQ(done, row);
    CHECK_EQ(err.row, row);
    CHECK_EQ(err.arg, arg);
    CHECK_EQ(err.why, why);
}

/* Three valid runs: 10 steps per epoch, 2 epochs, 3 saves per epoch, final. */
static void three_runs(columns *c)
{
    model_run m;
    memset(&m, 0, sizeof m);
    m.S = 10, m.e_num = 2, m.e_den = 1, m.k = 3, m.final = 1;
    for (int64_t i = 0; i < 3; i++) put(c, i, &m);
}

static void test_errors(void)
{
    static columns c;
    model_run m;
    three_runs(&c);

    c.S[1] = 0;
    expect_error(&c, 3, CKPT_DOMAIN, 1, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_VALUE);
    c.S[1] = -5;
    expect_error(&c, 3, CKPT_DOMAIN, 1, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_VALUE);
    c.S[1] = 10;
    c.e_den[2] = 0;
    expect_error(&c, 3, CKPT_DOMAIN, 2, CKPT_ARG_EPOCHS, CKPT_WHY_VALUE);
    c.e_den[2] = 1;
    c.k[0] = -1;
    expect_error(&c, 3, CKPT_DOMAIN, 0, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_VALUE);
    c.k[0] = 3;
    c.r_num[1] = 3, c.r_den[1] = 3;  /* ratio 1 */
    expect_error(&c, 3, CKPT_DOMAIN, 1, CKPT_ARG_RATIO, CKPT_WHY_VALUE);
    c.r_num[1] = A;
    c.min_interval[2] = -1;
    expect_error(&c, 3, CKPT_DOMAIN, 2, CKPT_ARG_MIN_INTERVAL, CKPT_WHY_VALUE);
    c.min_interval[2] = 0;
    c.bytes[1] = 0;
    expect_error(&c, 3, CKPT_DOMAIN, 1, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_VALUE);
    c.bytes[1] = 1000;
    c.S[2] = A;  /* no max_steps, no S */
    expect_error(&c, 3, CKPT_DOMAIN, 2, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_MISSING);
    c.max_steps[2] = 50;  /* T from max_steps, but saves_per_epoch needs S */
    expect_error(&c, 3, CKPT_DOMAIN, 2, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_NEEDS_SPE);
    c.S[2] = 10, c.max_steps[2] = A, c.e_num[1] = A;
    expect_error(&c, 3, CKPT_DOMAIN, 1, CKPT_ARG_EPOCHS, CKPT_WHY_MISSING);
    c.e_num[1] = INT64_MAX / 5, c.S[1] = 7;  /* T = epochs * S overflows */
    expect_error(&c, 3, CKPT_OVERFLOW, 1, CKPT_ARG_EPOCHS, CKPT_WHY_OVERFLOW);
    c.e_num[1] = 2, c.S[1] = 10;
    c.bytes[0] = INT64_MAX / 2;  /* 7 checkpoints of INT64_MAX/2 bytes */
    expect_error(&c, 3, CKPT_OVERFLOW, 0, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_OVERFLOW);
    c.bytes[0] = 1000;

    /* the running total: runs of 2**62 steps each, every step saved */
    memset(&m, 0, sizeof m);
    m.max_steps = (int64_t)1 << 62, m.every = 1, m.final = 1;
    for (int64_t i = 0; i < 3; i++) put(&c, i, &m), c.bytes[i] = 1;
    expect_error(&c, 3, CKPT_OVERFLOW, 1, CKPT_ARG_NONE, CKPT_WHY_TOTAL);
    {  /* without offsets (counts only) there is no total to overflow */
        ckpt_sweep_in in = sweep_in(&c, 3);
        int64_t counts[3], done;
        uint32_t flags[3];
        ckpt_sweep_error err;
        CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, NULL, &done, &err), CKPT_OK);
        CHECK_EQ(done, 3);
        CHECK_EQ(counts[2], (int64_t)1 << 62);
    }
}

/* ckpt_sweep_in.complete: ABSENT in a column given for every row is that row's bad value. */
static void test_complete_columns(void)
{
    static columns c;
    three_runs(&c);
    c.max_steps[1] = 40, c.S[1] = A, c.k[1] = A;  /* run 1 needs neither */
    const uint32_t bits[] = {CKPT_COMPLETE(CKPT_ARG_STEPS_PER_EPOCH),
                             CKPT_COMPLETE(CKPT_ARG_SAVES_PER_EPOCH)};
    const ckpt_sweep_arg args[] = {CKPT_ARG_STEPS_PER_EPOCH, CKPT_ARG_SAVES_PER_EPOCH};
    for (int t = 0; t < 2; t++) {
        ckpt_sweep_in in = sweep_in(&c, 3);
        int64_t counts[3], done;
        uint32_t flags[3];
        ckpt_sweep_error err;
        CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, NULL, &done, &err), CKPT_OK);
        CHECK_EQ(counts[1], 1);  /* no rule: the final step alone */
        in.complete = bits[t];
        CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, NULL, &done, &err),
                 CKPT_DOMAIN);
        CHECK_EQ(err.row, 1);
        CHECK_EQ(err.arg, args[t]);
        CHECK_EQ(err.why, CKPT_WHY_VALUE);
    }
}

/* Broadcast columns (step 0), absent columns (NULL), and offsets that do not match. */
static void test_layout(void)
{
    int64_t S = 10, k = 2, e = 3, den = 1, counts[4], offsets[5] = {0}, steps[64], done;
    uint32_t flags[4];
    ckpt_sweep_error err;
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = 4;
    in.steps_per_epoch.data = &S;
    in.saves_per_epoch.data = &k;
    in.epochs_num.data = &e;
    in.epochs_den.data = &den;
    in.walk_limit = INT64_MAX;
    CHECK_EQ(ckpt_sweep_count(&in, 0, 4, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(offsets[4], 24);
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 4, offsets, steps, &done, &err), CKPT_OK);
    CHECK_EQ(steps[0], 5);
    CHECK_EQ(steps[5], 30);
    CHECK_EQ(steps[23], 30);
    offsets[2] = 11;  /* run 1's slice is one step short */
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 4, offsets, steps, &done, &err), CKPT_CAPACITY);
    CHECK_EQ(err.row, 1);
    CHECK_EQ(err.why, CKPT_WHY_INTERNAL);
    CHECK_EQ(ckpt_sweep_count(&in, 0, 5, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_DOMAIN);
    CHECK_EQ(ckpt_sweep_count(&in, 0, 4, counts, flags, counts, offsets, NULL, &done, &err), CKPT_DOMAIN);
}

/* every= in units as its spacing: boundaries every span/parts steps crossed at the first
 * step reaching them; below one step every step (FEWER_THAN_REQUESTED); a first step
 * past the run no rule (OUT_OF_RANGE); terms past int64 refused only when it fires. */
static void test_unit_every(void)
{
    const int64_t T = 10;
    int64_t span[5] = {5, 1, 7, CKPT_SWEEP_OVERFLOW, CKPT_SWEEP_OVERFLOW};
    int64_t parts[5] = {2, 2, 1, 1, 1};
    int64_t first[5] = {3, 1, 7, 4, A};
    int64_t max_steps = T, counts[5], offsets[6] = {0}, steps[64], done;
    uint8_t final = 0;
    uint32_t flags[5];
    ckpt_sweep_error err;
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = 5;
    in.max_steps.data = &max_steps;
    in.final.data = &final;
    in.every_span = col(span);
    in.every_parts = col(parts);
    in.every_first = col(first);
    in.walk_limit = INT64_MAX;
    first[2] = 11;  /* run 2: 11 > T */
    CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(counts[0], 4);  /* 2.5, 5, 7.5, 10 -> 3, 5, 8, 10 */
    CHECK_EQ(flags[0], 0u);
    CHECK_EQ(counts[1], T);
    CHECK_EQ(flags[1], CKPT_FLAG_FEWER_THAN_REQUESTED);
    CHECK_EQ(counts[2], 0);
    CHECK_EQ(flags[2] & CKPT_FLAG_OUT_OF_RANGE, CKPT_FLAG_OUT_OF_RANGE);
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 3, offsets, steps, &done, &err), CKPT_OK);
    CHECK_EQ(steps[0], 3);
    CHECK_EQ(steps[1], 5);
    CHECK_EQ(steps[2], 8);
    CHECK_EQ(steps[3], 10);
    CHECK_EQ(ckpt_sweep_count(&in, 3, 4, counts, flags, NULL, NULL, NULL, &done, &err),
             CKPT_OVERFLOW);
    CHECK_EQ(err.row, 3);
    CHECK_EQ(err.arg, CKPT_ARG_EVERY);
    CHECK_EQ(err.why, CKPT_WHY_OVERFLOW);
    CHECK_EQ(ckpt_sweep_count(&in, 4, 5, counts, flags, NULL, NULL, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(flags[4] & CKPT_FLAG_OUT_OF_RANGE, CKPT_FLAG_OUT_OF_RANGE);
}

/* keep_last: the peak holds a save in flight more than the N kept, the bytes follow. */
static void test_keep_last(void)
{
    int64_t max_steps = 100, every[3] = {10, 50, 100}, keep[3] = {2, 2, A}, size = 7;
    int64_t counts[3], peak[3], peak_bytes[3], survivors[3], done;
    uint32_t flags[3];
    ckpt_sweep_error err;
    ckpt_sweep_disk disk = {peak, peak_bytes, survivors};
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = 3;
    in.max_steps.data = &max_steps;
    in.every = col(every);
    in.keep_last = col(keep);
    in.checkpoint_bytes.data = &size;
    in.walk_limit = INT64_MAX;
    CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, &disk, &done, &err), CKPT_OK);
    CHECK_EQ(peak[0], 3);
    CHECK_EQ(survivors[0], 2);
    CHECK_EQ(peak_bytes[0], 21);
    CHECK_EQ(peak[1], 2);
    CHECK_EQ(survivors[1], 2);
    CHECK_EQ(peak[2], 1);
    CHECK_EQ(survivors[2], 1);
    keep[1] = 0;
    CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, &disk, &done, &err),
             CKPT_DOMAIN);
    CHECK_EQ(err.row, 1);
    CHECK_EQ(err.arg, CKPT_ARG_KEEP_LAST);
    in.checkpoint_bytes.data = NULL;  /* peak bytes need checkpoint_bytes */
    CHECK_EQ(ckpt_sweep_count(&in, 0, 1, counts, flags, NULL, NULL, &disk, &done, &err),
             CKPT_DOMAIN);
}

/* ckpt_sweep_rule_fill gives ckpt_rule_nth's steps, periods and lanes included. */
static void test_rule_fill(void)
{
    static int64_t out[20000];
    for (int round = 0; round < 3000; round++) {
        int64_t kind = rnd(1, 2);
        int64_t first = rnd(1, round % 3 ? 300 : INT64_MAX / 4);  /* start or span */
        int64_t second = rnd(1, 300);                             /* interval or parts */
        int64_t stop = rnd(0, round % 3 ? 5000 : INT64_MAX);
        ckpt_rule rule = ckpt_rule_from_fields(kind, first, second, stop);
        int64_t n = ckpt_rule_count(&rule, rule.stop);
        if (n > 20000) n = 20000;
        snprintf(g_ctx, sizeof g_ctx, "rule (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ")",
                 kind, first, second, stop);
        ckpt_sweep_rule_fill(&rule, out, n);
        for (int64_t i = 0; i < n; i++)
            if (out[i] != ckpt_rule_nth(&rule, i + 1)) {
                CHECK_EQ(out[i], ckpt_rule_nth(&rule, i + 1));
                break;
            }
        g_pass++;
    }
    g_ctx[0] = '\0';
}

/* Runs with no steps and two rules: the fill pass takes a NULL buffer of size 0
 * (it once took that for bad input, CKPT_DOMAIN from ckpt_sched_fill). */
static void test_empty_runs_fill_nowhere(void)
{
    static columns c;
    model_run m;
    int64_t counts[2], offsets[3] = {0}, done;
    uint32_t flags[2];
    ckpt_sweep_error err;
    memset(&m, 0, sizeof m);
    m.S = 2, m.max_steps = 1, m.k = 1, m.every = 2;  /* S=2 > T=1: neither rule fires */
    put(&c, 0, &m);
    m.S = 10, m.every = 5;
    put(&c, 1, &m);
    ckpt_sweep_in in = sweep_in(&c, 2);
    CHECK_EQ(ckpt_sweep_count(&in, 0, 2, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(offsets[2], 0);
    /* transformers saves at the last step, 1: HF_MISMATCH */
    CHECK_EQ(flags[0], CKPT_FLAG_NO_SAVES | CKPT_FLAG_OUT_OF_RANGE | CKPT_FLAG_HF_MISMATCH);
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 2, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(done, 2);
    offsets[2] = 1;  /* a run that has no step but is given a slot: caught, nothing written */
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 2, offsets, NULL, &done, &err), CKPT_CAPACITY);
    CHECK_EQ(err.row, 1);
}

/* min_interval where s + m - 1 is exactly INT64_MAX (UBSan once caught (s + m) - 1):
 * max_steps = INT64_MAX, count = 2 (steps 2**62 and T), no final, m = 2**62: the save
 * after 2**62 must be at least 2**62 + 2**62 - 1 = INT64_MAX, which T is. */
static void test_min_interval_at_int64_max(void)
{
    static columns c;
    model_run m;
    int64_t counts[1], offsets[2] = {0}, steps[2], done;
    uint32_t flags[1];
    ckpt_sweep_error err;
    memset(&m, 0, sizeof m);
    m.max_steps = INT64_MAX, m.count = 2, m.min_interval = (int64_t)1 << 62;
    put(&c, 0, &m);
    ckpt_sweep_in in = sweep_in(&c, 1);
    CHECK_EQ(ckpt_sweep_count(&in, 0, 1, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(counts[0], 1);  /* T is 2**62 - 1 after 2**62: dropped */
    CHECK_EQ(flags[0], CKPT_FLAG_MIN_INTERVAL_DROPPED | CKPT_FLAG_FINAL_NOT_SAVED);
    CHECK_EQ(ckpt_sweep_fill(&in, 0, 1, offsets, steps, &done, &err), CKPT_OK);
    CHECK_EQ(steps[0], (int64_t)1 << 62);
    c.min_interval[0] = ((int64_t)1 << 62) - 1;  /* now T is exactly far enough */
    CHECK_EQ(ckpt_sweep_count(&in, 0, 1, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    CHECK_EQ(counts[0], 2);
    CHECK_EQ(flags[0], 0);
}

/* Rows that would walk more than walk_limit steps are refused at once, naming
 * min_interval when it is what makes the row walk. */
static void expect_walk_refused(const columns *c, int64_t walk_limit, ckpt_sweep_arg arg)
{
    int64_t counts[3], offsets[4] = {0}, done;
    uint32_t flags[3];
    ckpt_sweep_error err;
    ckpt_sweep_in in = sweep_in(c, 3);
    in.walk_limit = walk_limit;
    CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_CAPACITY);
    CHECK_EQ(err.row, 1);
    CHECK_EQ(err.arg, arg);
    CHECK_EQ(err.why, CKPT_WHY_WALK);
}

static int64_t walked_count(const columns *c, int64_t walk_limit)
{
    int64_t counts[3], offsets[4] = {0}, done;
    uint32_t flags[3];
    ckpt_sweep_error err;
    ckpt_sweep_in in = sweep_in(c, 3);
    in.walk_limit = walk_limit;
    CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
    return counts[1];
}

static void test_walk_limit(void)
{
    static columns c;
    model_run m;
    memset(&m, 0, sizeof m);
    m.max_steps = 100, m.every = 1, m.final = 1;
    for (int64_t i = 0; i < 3; i++) put(&c, i, &m);
    c.min_interval[1] = 2;  /* 100 steps to thin */
    CHECK_EQ(walked_count(&c, 100), 51);  /* 1 3 5 ... 99 and the forced 100 */
    expect_walk_refused(&c, 99, CKPT_ARG_MIN_INTERVAL);
    c.min_interval[1] = 0, c.count[1] = 3;  /* two rules, 100 steps in their union */
    CHECK_EQ(walked_count(&c, 100), 100);
    expect_walk_refused(&c, 99, CKPT_ARG_NONE);
    c.count[1] = A;  /* one rule, no min_interval: counted in O(1), never refused */
    CHECK_EQ(walked_count(&c, 0), 100);
    c.count[1] = 3;
    /* huge runs are refused without walking (these would take hours otherwise) */
    c.max_steps[1] = (int64_t)1 << 60;
    expect_walk_refused(&c, (int64_t)1 << 27, CKPT_ARG_NONE);
    c.count[1] = A, c.min_interval[1] = 2;
    expect_walk_refused(&c, (int64_t)1 << 27, CKPT_ARG_MIN_INTERVAL);
}

/* With a work budget a pass stops early, and resuming from *done gives the same result. */
static void test_work_budget(void)
{
    static columns c;
    model_run m;
    int64_t counts[10], offsets[11] = {0}, steps[1000], done, begin = 0, calls = 0;
    uint32_t flags[10];
    ckpt_sweep_error err;
    memset(&m, 0, sizeof m);
    m.max_steps = 100, m.every = 1, m.count = 3, m.final = 1;  /* 100 steps walked per row */
    for (int64_t i = 0; i < 10; i++) put(&c, i, &m);
    ckpt_sweep_in in = sweep_in(&c, 10);
    in.work_budget = 250;
    while (begin < 10) {
        CHECK_EQ(ckpt_sweep_count(&in, begin, 10, counts, flags, NULL, offsets, NULL, &done, &err), CKPT_OK);
        CHECK(done > begin);
        begin = done;
        calls++;
    }
    CHECK_EQ(calls, 4);  /* 303 > 250 after 3 rows: rows 0-2, 3-5, 6-8, 9 */
    CHECK_EQ(offsets[10], 1000);
    for (begin = 0, calls = 0; begin < 10; begin = done, calls++)
        CHECK_EQ(ckpt_sweep_fill(&in, begin, 10, offsets, steps, &done, &err), CKPT_OK);
    CHECK_EQ(calls, 4);
    CHECK_EQ(steps[999], 100);
    CHECK_EQ(steps[100], 1);
}


/* ---- the fast paths agree with the general path ------------------------------------ */

#define FAST_RUNS 300

/* A column of a random shape: absent (NULL), one value for every row, or one per row. */
typedef struct {
    int64_t v[FAST_RUNS];
    int shape; /* 0 absent, 1 one value, 2 per row */
} rcol;

static ckpt_col_i64 rcol_bind(const rcol *r)
{
    ckpt_col_i64 c = {r->shape == 0 ? NULL : r->v, r->shape == 2 ? 1 : 0};
    return c;
}

/* Values the fast paths must treat as the general path does: mostly valid and small, some
 * huge (overflow), some out of the domain (the error's row, argument and reason). */
static int64_t fast_value(int64_t lo, int64_t hi, int odd)
{
    int64_t r = rnd(0, 99);
    if (odd && r < 2) return rnd(-2, 0);
    if (odd && r < 4) return A;
    if (r < 7) return rnd((int64_t)1 << 40, (int64_t)1 << 62);
    return rnd(lo, hi);
}

static void fill_rcol(rcol *r, int64_t n, int64_t lo, int64_t hi, int odd, int may_be_absent)
{
    r->shape = (int)rnd(may_be_absent ? 0 : 1, 2);
    for (int64_t i = 0; i < n; i++) r->v[i] = fast_value(lo, hi, odd);
}

/* Both passes of one sweep, budget by budget; everything they write, and how they stop. */
typedef struct {
    int64_t counts[FAST_RUNS], bytes[FAST_RUNS], offsets[FAST_RUNS + 1];
    int64_t peak[FAST_RUNS], peak_bytes[FAST_RUNS], survivors[FAST_RUNS];
    uint32_t flags[FAST_RUNS];
    int64_t dones[2 * FAST_RUNS + 4], n_dones;
    ckpt_status status;
    ckpt_sweep_error err;
    int64_t *steps;
} outcome;

static void run_sweep(const ckpt_sweep_in *in, int with_disk, outcome *o)
{
    int64_t n = in->n_runs, begin = 0, done = 0;
    ckpt_sweep_disk disk = {o->peak, with_disk && in->checkpoint_bytes.data ? o->peak_bytes : NULL,
                            o->survivors};
    memset(o, 0xA5, offsetof(outcome, steps));  /* what nothing wrote shows */
    o->n_dones = 0;
    o->offsets[0] = 0;
    o->steps = NULL;
    o->status = CKPT_OK;
    while (begin < n) {
        o->status = ckpt_sweep_count(in, begin, n, o->counts, o->flags,
                                     in->checkpoint_bytes.data ? o->bytes : NULL, o->offsets,
                                     with_disk ? &disk : NULL, &done, &o->err);
        o->dones[o->n_dones++] = done;
        if (o->status != CKPT_OK) return;
        begin = done;
    }
    if (n > 0 && o->offsets[n] > 100000) return;  /* huge runs: counted only */
    o->steps = malloc((size_t)(n > 0 && o->offsets[n] > 0 ? o->offsets[n] : 1) * sizeof *o->steps);
    for (begin = 0; begin < n; begin = done) {
        o->status = ckpt_sweep_fill(in, begin, n, o->offsets, o->steps, &done, &o->err);
        o->dones[o->n_dones++] = done;
        if (o->status != CKPT_OK) return;
    }
}

/* Everything two sweeps of n runs wrote, and how they stopped, is the same. */
static void check_same_outcome(const outcome *fast, const outcome *general, int64_t n)
{
    CHECK_EQ(fast->status, general->status);
    CHECK_EQ(fast->n_dones, general->n_dones);
    for (int64_t t = 0; t < fast->n_dones && t < general->n_dones; t++)
        CHECK_EQ(fast->dones[t], general->dones[t]);
    if (fast->status != CKPT_OK || general->status != CKPT_OK) {
        CHECK_EQ(fast->err.row, general->err.row);
        CHECK_EQ(fast->err.arg, general->err.arg);
        CHECK_EQ(fast->err.why, general->err.why);
    }
    CHECK(memcmp(fast->counts, general->counts, sizeof fast->counts) == 0);
    CHECK(memcmp(fast->bytes, general->bytes, sizeof fast->bytes) == 0);
    CHECK(memcmp(fast->offsets, general->offsets, sizeof fast->offsets) == 0);
    CHECK(memcmp(fast->peak, general->peak, sizeof fast->peak) == 0);
    CHECK(memcmp(fast->peak_bytes, general->peak_bytes, sizeof fast->peak_bytes) == 0);
    CHECK(memcmp(fast->survivors, general->survivors, sizeof fast->survivors) == 0);
    CHECK(memcmp(fast->flags, general->flags, sizeof fast->flags) == 0);
    if (fast->steps != NULL && general->steps != NULL && fast->status == CKPT_OK
        && general->status == CKPT_OK && n > 0)
        CHECK(memcmp(fast->steps, general->steps,
                     (size_t)fast->offsets[n] * sizeof *fast->steps) == 0);
}

static void test_fast_paths_equal_general_path(void)
{
    static rcol S, e_num, e_den, max_steps, k, min_interval, bytes, keep_last, count;
    static double e_float[FAST_RUNS];
    static uint8_t final[FAST_RUNS];
    static outcome fast, general;
    for (int round = 0; round < 3000; round++) {
        const int64_t n = rnd(0, 3) == 0 ? rnd(0, 8) : rnd(60, FAST_RUNS);
        const int odd = rnd(0, 3) == 0;  /* this sweep has bad rows too */
        fill_rcol(&S, n, 1, 60, odd, 1);
        fill_rcol(&k, n, 1, 70, odd, 1);
        fill_rcol(&e_num, n, 1, 5, odd, 1);
        fill_rcol(&e_den, n, 1, 4, odd, 1);
        fill_rcol(&max_steps, n, 1, 300, odd, 1);
        fill_rcol(&min_interval, n, 0, 1, odd, 1);
        fill_rcol(&bytes, n, 1, 1000, odd, 1);
        fill_rcol(&keep_last, n, 1, 6, odd, 1);
        fill_rcol(&count, n, 1, 300, 0, 1);
        /* mostly the shapes of a sweep of whole epochs, the whole-epochs blocks' */
        if (rnd(0, 2) != 0) {
            max_steps.shape = count.shape = 0;
            if (rnd(0, 1)) e_den.shape = 0;
            else e_den.shape = 1, e_den.v[0] = 1;
            if (min_interval.shape == 2) min_interval.shape = 1;
            if (keep_last.shape == 2) keep_last.shape = rnd(0, 1) ? 1 : 0;
            if (bytes.shape == 2) bytes.shape = 1;
            for (int64_t i = 0; i < n; i++) {  /* mostly sensible values */
                if (rnd(0, 9)) S.v[i] = rnd(1, 5000);
                if (rnd(0, 9)) k.v[i] = rnd(1, 80);
                if (rnd(0, 9)) e_num.v[i] = rnd(1, 4);
            }
        }
        if (count.shape != 0)
            for (int64_t i = 0; i < n; i++) count.v[i] = rnd(0, 3) ? A : rnd(1, 300);
        const int float_shape = (int)rnd(0, 2);
        for (int64_t i = 0; i < n; i++) {
            int64_t en = e_num.v[e_num.shape == 2 ? i : 0], ed = e_den.v[e_den.shape == 2 ? i : 0];
            double exact = en > 0 && ed > 0 && e_den.shape ? (double)en / (double)ed : (double)en;
            int64_t how = rnd(0, 9);  /* the float as the user gave it: near the rational, or not */
            e_float[i] = how < 6 ? exact : how < 8 ? exact * (1 + 1e-15) : (double)rnd(1, 40) / 7.0;
            final[i] = (uint8_t)rnd(0, 2);
        }
        ckpt_sweep_in in;
        memset(&in, 0, sizeof in);
        in.n_runs = n;
        in.steps_per_epoch = rcol_bind(&S);
        in.epochs_num = rcol_bind(&e_num);
        in.epochs_den = e_num.shape ? rcol_bind(&e_den) : rcol_bind(&(rcol){.shape = 0});
        in.max_steps = rcol_bind(&max_steps);
        in.saves_per_epoch = rcol_bind(&k);
        in.count = rcol_bind(&count);
        in.min_interval = rcol_bind(&min_interval);
        in.checkpoint_bytes = rcol_bind(&bytes);
        in.keep_last = rcol_bind(&keep_last);
        if (float_shape) {
            in.epochs_float.data = e_float;
            in.epochs_float.step = float_shape == 2;
        }
        if (rnd(0, 1)) {
            in.final.data = final;
            in.final.step = rnd(0, 1);
        }
        in.walk_limit = 2000;
        in.work_budget = rnd(0, 2) ? 0 : rnd(1, 500);
        if (S.shape != 0 && rnd(0, 3) == 0) in.complete |= CKPT_COMPLETE(CKPT_ARG_STEPS_PER_EPOCH);
        if (k.shape != 0 && rnd(0, 3) == 0) in.complete |= CKPT_COMPLETE(CKPT_ARG_SAVES_PER_EPOCH);
        const int with_disk = (int)rnd(0, 1);
        snprintf(g_ctx, sizeof g_ctx, "fast vs general, round %d, %" PRId64 " runs", round, n);
        in.general_only = 0;
        run_sweep(&in, with_disk, &fast);
        in.general_only = 1;
        run_sweep(&in, with_disk, &general);
        check_same_outcome(&fast, &general, n);
        for (int64_t i = 0; i < n; i++) {
            if (fast.counts[i] != general.counts[i] || fast.flags[i] != general.flags[i]) {
                CHECK_EQ(fast.counts[i], general.counts[i]);
                CHECK_EQ(fast.flags[i], general.flags[i]);
                printf("  run %" PRId64 ": S=%" PRId64 " k=%" PRId64 " e=%" PRId64 "/%" PRId64
                       " (%.17g) max=%" PRId64 " final=%d\n", i, S.v[S.shape == 2 ? i : 0],
                       k.v[k.shape == 2 ? i : 0], e_num.v[e_num.shape == 2 ? i : 0],
                       e_den.v[e_den.shape == 2 ? i : 0], e_float[float_shape == 2 ? i : 0],
                       max_steps.shape ? max_steps.v[max_steps.shape == 2 ? i : 0] : -1,
                       in.final.data ? final[in.final.step ? i : 0] : 1);
                break;
            }
        }
        free(fast.steps);
        free(general.steps);
    }
    g_ctx[0] = '\0';
}

/* Regular blocks (count_regular, fill_regular: runs of one epochs that differ in
 * steps_per_epoch, and perhaps in saves_per_epoch, each at least its saves_per_epoch)
 * against the general path: steps_per_epoch runs through k .. k + n - 1, so every remainder
 * mod k and both answers of HF_MISMATCH occur; one run below its k, or one slice of the
 * offsets off by one, sends its block down the other paths, which must name the same row. */
static void test_regular_blocks(void)
{
    static const int64_t ks[] = {1, 2, 3, 7, 8, 13, 64, 255, 256, 300};
    const int64_t n_ks = (int64_t)(sizeof ks / sizeof ks[0]);
    static int64_t S[FAST_RUNS], k[FAST_RUNS];
    static outcome fast, general;
    int64_t mismatched = 0, matched = 0;
    for (int64_t t = 0; t < n_ks; t++) {
        for (int per_row = 0; per_row <= 1; per_row++) {
            for (int64_t E = 1; E <= 3; E++) {
                static const double odd_floats[] = {NAN, INFINITY, -2.0, 0.0, 1e-300};
                for (int variant = 0; variant < 11; variant++) {
                    const int64_t n = FAST_RUNS;
                    /* 0: plain; 1: epochs in double a hair off; 2: a run below its k in the
                     * second block; 3: a work budget; 4: a huge steps_per_epoch (not a small
                     * block); 5-9: epochs in double that no caller of ours gives (the C API
                     * takes any); 10: steps_per_epoch just below 2**31 / E (the largest of
                     * a small block: the fill's dividends near k * 2**31) */
                    int64_t e_num = E, e_den = 1;
                    double e_float = variant == 1 ? (double)E * (1 + 1e-15)
                                     : variant >= 5 && variant <= 9 ? odd_floats[variant - 5]
                                                                    : (double)E;
                    for (int64_t i = 0; i < n; i++) {
                        k[i] = per_row ? ks[(t + i) % n_ks] : ks[t];
                        S[i] = variant == 10 ? (((int64_t)1 << 31) - 1) / E - 7 * i
                                             : k[i] + (per_row ? 3 * i : i);
                    }
                    if (variant == 2) S[100] = k[100] > 1 ? k[100] - 1 : 1;
                    if (variant == 4) S[150] = (int64_t)1 << 40;
                    ckpt_sweep_in in;
                    memset(&in, 0, sizeof in);
                    in.n_runs = n;
                    in.steps_per_epoch = col(S);
                    in.epochs_num = (ckpt_col_i64){&e_num, 0};
                    in.epochs_den = (ckpt_col_i64){&e_den, 0};
                    in.epochs_float = (ckpt_col_f64){&e_float, 0};
                    in.saves_per_epoch = (ckpt_col_i64){k, per_row};
                    in.walk_limit = 2000;
                    in.work_budget = variant == 3 ? 700 : 0;
                    snprintf(g_ctx, sizeof g_ctx, "regular blocks, k %" PRId64 "%s, E %" PRId64
                             ", variant %d", ks[t], per_row ? " (per row)" : "", E, variant);
                    in.general_only = 0;
                    run_sweep(&in, 0, &fast);
                    in.general_only = 1;
                    run_sweep(&in, 0, &general);
                    check_same_outcome(&fast, &general, n);
                    for (int64_t i = 0; i < n; i++) {
                        mismatched += (fast.flags[i] & CKPT_FLAG_HF_MISMATCH) != 0;
                        matched += (fast.flags[i] & CKPT_FLAG_HF_MISMATCH) == 0;
                    }
                    if (variant == 0 && fast.status == CKPT_OK && fast.steps != NULL) {
                        /* one slice a step short: the fill names its run */
                        fast.offsets[171] -= 1;
                        int64_t done = 0;
                        ckpt_sweep_error err;
                        CHECK_EQ(ckpt_sweep_fill(&in, 0, n, fast.offsets, fast.steps, &done,
                                                 &err), CKPT_CAPACITY);
                        CHECK_EQ(err.row, 170);
                        CHECK_EQ(err.why, CKPT_WHY_INTERNAL);
                    }
                    free(fast.steps);
                    free(general.steps);
                }
            }
        }
    }
    CHECK(mismatched > 1000);  /* both answers were tested */
    CHECK(matched > 1000);
    g_ctx[0] = '\0';
}

/* peak_bytes asked for without bytes: count * checkpoint_bytes is still checked, so a
 * product past int64 is the row's overflow on every path, not a wrapped peak (found by
 * tests/c/fuzz_sweep.c).  Row 1 saves twice (2 epochs of 1 step, saves_per_epoch 1). */
static void test_peak_bytes_alone_overflows(void)
{
    int64_t S[3] = {1, 1, 1}, k = 1, e[3] = {1, 2, 1}, one = 1, size = (int64_t)1 << 62;
    int64_t counts[3], peak[3], peak_bytes[3], done;
    uint32_t flags[3];
    ckpt_sweep_error err;
    ckpt_sweep_disk disk = {peak, peak_bytes, NULL};
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = 3;
    in.steps_per_epoch = col(S);
    in.saves_per_epoch.data = &k;
    in.epochs_num = col(e);
    in.epochs_den.data = &one;
    in.checkpoint_bytes.data = &size;
    in.walk_limit = INT64_MAX;
    for (int general = 0; general <= 1; general++) {
        snprintf(g_ctx, sizeof g_ctx, "peak_bytes alone, general_only %d", general);
        in.general_only = general;
        CHECK_EQ(ckpt_sweep_count(&in, 0, 3, counts, flags, NULL, NULL, &disk, &done, &err),
                 CKPT_OVERFLOW);
        CHECK_EQ(err.row, 1);
        CHECK_EQ(err.arg, CKPT_ARG_CHECKPOINT_BYTES);
        CHECK_EQ(err.why, CKPT_WHY_OVERFLOW);
        CHECK_EQ(peak_bytes[0], size);
    }
    g_ctx[0] = '\0';
}

int main(void)
{
    test_random_sweeps();
    test_flags();
    test_errors();
    test_complete_columns();
    test_layout();
    test_unit_every();
    test_keep_last();
    test_peak_bytes_alone_overflows();
    test_rule_fill();
    test_empty_runs_fill_nowhere();
    test_min_interval_at_int64_max();
    test_walk_limit();
    test_work_budget();
    test_fast_paths_equal_general_path();
    test_regular_blocks();
    printf("%lld passed, %lld failed\n", g_pass, g_fail);
    return g_fail != 0;
}
