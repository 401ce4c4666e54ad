/* fuzz_sweep.c -- a coverage-guided differential fuzz target for the sweep kernels
 * (src_c/ckpt_sweep.c).
 *
 * LLVMFuzzerTestOneInput decodes the fuzz bytes into one sweep (0..300 runs, every column
 * of ckpt_sweep_in absent, one value for every row, or one value per row, values from
 * palettes of boundaries; every= in units as the caller normalizes it; any byte string is
 * an input, and bytes past its end read as 0) and runs it twice: with the fast paths
 * (general_only = 0) and with every row on the general path (general_only = 1).  Both
 * must write exactly the same counts, flags, offsets, bytes, disk outputs and steps, stop
 * the same way (status, error row / argument / reason) and return the same `done` at
 * every call of a work budget.  A fast run that succeeds must also keep the invariants of
 * ckpt_sweep.h (offsets are running totals, each run's steps strictly increasing in
 * [1, T], T saved when `final`, nothing written outside the rows or slices asked for),
 * and a slice cut one step short must be refused at its row by both.  Any violation
 * prints what was violated and the decoded sweep, then abort()s.
 *
 * The decoding is biased towards the fast paths: most inputs are sweeps of whole epochs
 * (no max_steps, no other rule, the shared columns the whole-epochs blocks need), whose
 * blocks of 64 rows take the whole-epochs, small and regular loops unless one odd row
 * sends a block row by row.
 *
 * Build with libFuzzer:   bash tests/c/fuzz.sh --ci        (or --seconds N)
 * Without libFuzzer:      tests/c/fuzz_driver.c runs it over files and pseudo-random
 *                         inputs (bash tests/c/fuzz.sh --driver N).
 * -DFUZZ_SWEEP_PRINT prints every decoded sweep (to read what a corpus file reaches).
 *
 * Work per input is bounded: at most MAX_RUNS rows, a walk_limit that shrinks as rows
 * grow (WALK_TOTAL), and no fill when a sweep has more than FILL_LIMIT steps.
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
#include "fuzz_reader.h"

#define MAX_RUNS 300
#define FILL_LIMIT ((int64_t)1 << 16)  /* the most steps a sweep is filled with      */
#define WALK_TOTAL ((int64_t)1 << 16)  /* walk_limit * rows stays below this          */
#define MAX_POOL 4                     /* values a per-row column draws from          */
#define MAX_ODD 2                      /* odd rows a per-row column may have          */
#define A CKPT_SWEEP_ABSENT
#define M INT64_MAX

/* ---- the decoded sweep -------------------------------------------------------------- */

enum { SHAPE_ABSENT = 0, SHAPE_SHARED = 1, SHAPE_PER_ROW = 2 };

typedef struct {
    int shape;  /* SHAPE_*: data NULL, v[0] for every row (step 0), v[row] (step 1) */
    int64_t v[MAX_RUNS];
} icol;

typedef struct {
    int shape;
    double v[MAX_RUNS];
} fcol;

typedef struct {
    int shape;
    uint8_t v[MAX_RUNS];
} ucol;

/* What the outputs of ckpt_sweep_count are asked for (bits of sweep.outputs). */
enum {
    OUT_NO_OFFSETS = 1,     /* offsets NULL (then no fill)                           */
    OUT_NO_BYTES = 2,       /* bytes NULL (they are asked for when checkpoint_bytes is) */
    OUT_NO_PEAK = 4,        /* disk->peak NULL                                       */
    OUT_NO_PEAK_BYTES = 8,  /* disk->peak_bytes NULL                                 */
    OUT_NO_SURVIVORS = 16,  /* disk->survivors NULL                                  */
    OUT_NO_DISK = 32,       /* disk NULL                                             */
    OUT_BAD_SLICE = 64,     /* also fill with one slice a step short                 */
};

static struct {
    int whole;                 /* decoded with the whole-epochs profile */
    int64_t n, begin, end;     /* n_runs; the rows [begin, end) each pass is asked for */
    int64_t base;              /* offsets[begin]: where the steps of row `begin` start */
    int64_t walk_limit, work_budget;
    uint32_t complete;
    unsigned outputs;          /* OUT_* */
    int64_t bad_slice_at;      /* OUT_BAD_SLICE: from which row a slice is cut short */
    icol S, k, e_num, e_den, max_steps, every, count, r_num, r_den, min_interval, bytes,
        keep_last, span, parts, first;
    ucol final, whole_epochs;
    fcol e_float, r_float;
} g;

/* The int64 columns by name, in the order they are decoded and printed. */
static const struct {
    const char *name;
    icol *col;
} g_icols[] = {
    {"steps_per_epoch", &g.S},     {"saves_per_epoch", &g.k},   {"epochs_num", &g.e_num},
    {"epochs_den", &g.e_den},      {"max_steps", &g.max_steps}, {"every", &g.every},
    {"count", &g.count},           {"ratio_num", &g.r_num},     {"ratio_den", &g.r_den},
    {"min_interval", &g.min_interval}, {"checkpoint_bytes", &g.bytes},
    {"keep_last", &g.keep_last},   {"every_span", &g.span},     {"every_parts", &g.parts},
    {"every_first", &g.first},
};

/* ---- failing loudly ------------------------------------------------------------------- */

static const char *shape_name(int shape)
{
    return shape == SHAPE_ABSENT ? "absent" : shape == SHAPE_SHARED ? "one value" : "per row";
}

/* Values of a column, a repeated value once with its repeat count ("7 x12"). */
#define PRINT_VALUES(out, col, n, fmt)                                                     \
    do {                                                                                  \
        int64_t rows_ = (col)->shape == SHAPE_PER_ROW ? (n) : 1;                          \
        fprintf(out, "{");                                                                \
        for (int64_t i_ = 0; i_ < rows_;) {                                               \
            int64_t j_ = i_ + 1;                                                          \
            while (j_ < rows_ && memcmp(&(col)->v[j_], &(col)->v[i_], sizeof (col)->v[0]) == 0) \
                j_++;                                                                     \
            fprintf(out, "%s" fmt, i_ ? ", " : "", (col)->v[i_]);                         \
            if (j_ - i_ > 1) fprintf(out, " x%" PRId64, j_ - i_);                         \
            i_ = j_;                                                                      \
        }                                                                                 \
        fprintf(out, "}\n");                                                              \
    } while (0)

static void describe_input(FILE *out)
{
    fprintf(out, "  sweep: n_runs=%" PRId64 ", rows [%" PRId64 ", %" PRId64 "), offsets[%" PRId64
                 "]=%" PRId64 ", walk_limit=%" PRId64 ", work_budget=%" PRId64
                 ", complete=0x%x, outputs=0x%x, bad slice from row %" PRId64 "%s\n",
            g.n, g.begin, g.end, g.begin, g.base, g.walk_limit, g.work_budget, g.complete,
            g.outputs, g.bad_slice_at, g.whole ? " (whole-epochs profile)" : "");
    for (size_t c = 0; c < sizeof g_icols / sizeof g_icols[0]; c++) {
        const icol *col = g_icols[c].col;
        fprintf(out, "  %s: %s ", g_icols[c].name, shape_name(col->shape));
        if (col->shape == SHAPE_ABSENT) fprintf(out, "\n");
        else PRINT_VALUES(out, col, g.n, "%" PRId64);
    }
    const struct { const char *name; const ucol *col; } ucols[] = {
        {"final", &g.final}, {"every_whole_epochs", &g.whole_epochs}};
    for (size_t c = 0; c < 2; c++) {
        fprintf(out, "  %s: %s ", ucols[c].name, shape_name(ucols[c].col->shape));
        if (ucols[c].col->shape == SHAPE_ABSENT) fprintf(out, "\n");
        else PRINT_VALUES(out, ucols[c].col, g.n, "%u");
    }
    const struct { const char *name; const fcol *col; } fcols[] = {
        {"epochs_float", &g.e_float}, {"ratio_float", &g.r_float}};
    for (size_t c = 0; c < 2; c++) {
        fprintf(out, "  %s: %s ", fcols[c].name, shape_name(fcols[c].col->shape));
        if (fcols[c].col->shape == SHAPE_ABSENT) fprintf(out, "\n");
        else PRINT_VALUES(out, fcols[c].col, g.n, "%.17g");
    }
}

static void fail(const char *file, int line, const char *what, int64_t row)
{
    fprintf(stderr, "fuzz_sweep: %s:%d: violated: %s (row %" PRId64 ")\n", file, line, what, row);
    describe_input(stderr);
    abort();
}

/* REQUIRE(cond); REQUIRE_AT(cond, row) also names the row it is about. */
#define REQUIRE_AT(cond, row)                                \
    do {                                                     \
        if (!(cond)) fail(__FILE__, __LINE__, #cond, (row)); \
    } while (0)
#define REQUIRE(cond) REQUIRE_AT(cond, (int64_t)-1)

/* ---- decoding the fuzz bytes ---------------------------------------------------------- */

static int64_t read_u16(reader *rd)
{
    int64_t hi = read_byte(rd);
    return hi << 8 | read_byte(rd);
}

/* A deterministic generator for the rows of a per-row column, seeded from the bytes, so
 * that 300 rows cost a few bytes. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* The sensible values of a column, and which shapes the whole-epochs profile gives it. */
typedef struct {
    int64_t lo, hi;            /* sensible values: lo..hi                                 */
    int64_t whole_lo, whole_hi; /* ... in the whole-epochs profile                         */
    const char *shapes;        /* the shapes a shape byte picks from: A(bsent) S(hared) P(er row) */
    const char *whole_shapes;  /* the same in the whole-epochs profile; NULL: absent, no bytes */
} col_spec;

/* A value of a column: mostly sensible (below `sensible` of 256 tag values; half of those
 * in the first 16 of the range), else a boundary: 0, negatives, ABSENT, near 2^30, 2^31
 * (the kernels' SMALL), 2^32, 2^52, 2^62 and INT64_MAX, or a value of any size. */
static int64_t palette_value(reader *rd, int64_t lo, int64_t hi, int sensible)
{
    const uint8_t tag = read_byte(rd);
    const int64_t x = read_u16(rd), d = x % 9 - 4;  /* d: -4..4 */
    if (tag < sensible) {
        const int64_t width = hi - lo + 1;
        return lo + x % ((tag & 1) && width > 16 ? 16 : width);
    }
    switch (tag % 12) {
    case 0: return 0;
    case 1: return -1 - x % 3;
    case 2: return A;
    case 3: return ((int64_t)1 << 30) + d;
    case 4: return ((int64_t)1 << 31) + d;
    case 5: return ((int64_t)1 << 32) + d;
    case 6: return ((int64_t)1 << 52) + d;
    case 7: return ((int64_t)1 << 62) + d;
    case 8: return M - x % 4;
    case 9: return x << (x % 48);               /* any size, up to 2^63 - ... */
    case 10: return ((int64_t)1 << 31) / (1 + x % 64) + x % 3 - 1;  /* SMALL / k */
    default: return x;                          /* 0..65535 */
    }
}

/* Fill the rows of a per-row column: a mode byte picks
 *   0: an arithmetic sequence a + i*d (d 0..7; steps_per_epoch k + i: every remainder),
 *   1: random sensible values,
 *   2: a pool of 1-4 palette values (read after the mode and seed bytes), drawn at random,
 *   3: random sensible values, a pool value one row in eight;
 * then 0-2 odd rows anywhere, each any palette value. */
static void read_rows(reader *rd, const col_spec *spec, int whole, int64_t n, int sensible,
                      int64_t *v)
{
    const uint8_t mode = read_byte(rd);
    const int64_t lo = whole ? spec->whole_lo : spec->lo, hi = whole ? spec->whole_hi : spec->hi;
    int64_t pool[MAX_POOL];
    const int n_pool = 1 + (mode >> 2) % MAX_POOL;
    uint64_t state = read_byte(rd);
    if (mode % 4 == 0) {
        const int64_t a = palette_value(rd, lo, hi, sensible);
        int64_t d = read_byte(rd) % 8;
        if (a < 0 || a > M - d * MAX_RUNS) d = 0;  /* the sequence stays in int64 */
        for (int64_t i = 0; i < n; i++) v[i] = a + i * d;
    } else {
        for (int p = 0; p < n_pool && mode % 4 != 1; p++) pool[p] = palette_value(rd, lo, hi, sensible);
        for (int64_t i = 0; i < n; i++) {
            const uint64_t r = next_random(&state);
            const int64_t width = hi - lo + 1;
            const int64_t random = lo + (int64_t)((r >> 8) % (uint64_t)((r & 1) && width > 16 ? 16 : width));
            v[i] = mode % 4 == 1 ? random
                   : mode % 4 == 2 || (r >> 1) % 8 == 0 ? pool[(r >> 4) % (uint64_t)n_pool]
                                                          : random;
        }
    }
    const uint8_t odd = read_byte(rd);
    const int n_odd = odd % 4 == 3 ? MAX_ODD : odd % 4 == 2 ? 1 : 0;
    for (int o = 0; o < n_odd; o++) {
        const int64_t at = read_u16(rd);
        const int64_t value = palette_value(rd, lo, hi, 64);  /* mostly a boundary */
        if (n > 0) v[at % n] = value;
    }
}

/* A shape from the spec's list (the first when the bytes ran out). */
static int pick_shape(const char *shapes, uint8_t byte)
{
    const char c = shapes[byte % strlen(shapes)];
    return c == 'A' ? SHAPE_ABSENT : c == 'S' ? SHAPE_SHARED : SHAPE_PER_ROW;
}

static void read_icol(reader *rd, const col_spec *spec, icol *col)
{
    const int sensible = g.whole ? 240 : 176;
    if (g.whole && spec->whole_shapes == NULL) {
        col->shape = SHAPE_ABSENT;
        return;
    }
    col->shape = pick_shape(g.whole ? spec->whole_shapes : spec->shapes, read_byte(rd));
    if (col->shape == SHAPE_SHARED)
        col->v[0] = palette_value(rd, g.whole ? spec->whole_lo : spec->lo,
                                  g.whole ? spec->whole_hi : spec->hi, sensible);
    else if (col->shape == SHAPE_PER_ROW)
        read_rows(rd, spec, g.whole, g.n, sensible, col->v);
}

/* A byte column (final, every_whole_epochs): one value (0, 1 or any byte), or per row
 * 0 / 1 / 7 at random. */
static void read_ucol(reader *rd, const char *shapes, ucol *col)
{
    col->shape = pick_shape(shapes, read_byte(rd));
    const uint8_t how = read_byte(rd);
    uint64_t state = read_byte(rd);
    if (col->shape == SHAPE_SHARED)
        col->v[0] = how % 4 == 3 ? how : (uint8_t)(how % 2);
    else if (col->shape == SHAPE_PER_ROW)
        for (int64_t i = 0; i < g.n; i++) {
            const uint64_t r = next_random(&state) % 8;
            col->v[i] = (uint8_t)(how % 2 == 1 && r < 6 ? 1 : r == 7 ? 7 : r % 2);
        }
}

/* The value in row i of a column as the kernels read it (`absent` for a NULL column). */
static int64_t at(const icol *col, int64_t i, int64_t absent)
{
    return col->shape == SHAPE_ABSENT ? absent : col->v[col->shape == SHAPE_PER_ROW ? i : 0];
}

/* One double as the user gave it, of a kind 0..15 (16 and up: kind 0): the exact num/den
 * (0-5), a hair above or below it, an unrelated value, NaN, +-infinity, 0, a negative,
 * 1e-300, the next double up. */
static double float_value(int kind, int64_t num, int64_t den, uint64_t r)
{
    const double exact = (double)num / (double)den;
    switch (kind) {
    case 6: return exact * (1 + 1e-15);
    case 7: return exact * (1 - 1e-15);
    case 8: return (double)(1 + r % 40) / 7.0;
    case 9: return NAN;
    case 10: return INFINITY;
    case 11: return -INFINITY;
    case 12: return 0.0;
    case 13: return -2.0;
    case 14: return 1e-300;
    case 15: return nextafter(exact, INFINITY);
    default: return exact;
    }
}

/* A double column (epochs_float, ratio_float) next to its num / den columns: one value,
 * or per row, of one decoded kind or (odd `how`) of kinds drawn at random, mostly exact. */
static void read_fcol(reader *rd, const char *shapes, const icol *num, const icol *den,
                      fcol *col)
{
    col->shape = pick_shape(shapes, read_byte(rd));
    const uint8_t how = read_byte(rd);
    uint64_t state = read_byte(rd);
    const int64_t rows = col->shape == SHAPE_PER_ROW ? g.n : col->shape == SHAPE_SHARED;
    for (int64_t i = 0; i < rows; i++) {
        const uint64_t r = next_random(&state);
        const int kind = how % 2 == 0 ? (how >> 1) % 16 : r % 10 < 6 ? 0 : (int)((r >> 8) % 16);
        col->v[i] = float_value(kind, at(num, i, A), at(den, i, 1), r >> 16);
    }
}

/* every= in units as the caller normalizes it (ckpt_sweep.h): span / parts reduced, a
 * spacing below one step 1/2, every_first = ceil(span / parts); with kind 6 or 7 (mod 8)
 * terms past int64 instead (span CKPT_SWEEP_OVERFLOW, every_first ABSENT or a step);
 * values out of the domain are left as they are. */
static void unit_every(int64_t i, uint8_t kind)
{
    const int64_t s = g.span.v[i], p = g.parts.v[i];
    if (kind % 8 == 6) {
        g.span.v[i] = CKPT_SWEEP_OVERFLOW;
        g.first.v[i] = A;
    } else if (kind % 8 == 7) {
        g.span.v[i] = CKPT_SWEEP_OVERFLOW;
        g.first.v[i] = s == A ? 1 : s;
    } else if (s >= 1 && p >= 1) {
        int64_t a = s, b = p;
        while (b != 0) {  /* gcd */
            const int64_t t = a % b;
            a = b;
            b = t;
        }
        g.span.v[i] = s / a;
        g.parts.v[i] = p / a;
        if (g.span.v[i] < g.parts.v[i]) g.span.v[i] = 1, g.parts.v[i] = 2;
        g.first.v[i] = g.span.v[i] / g.parts.v[i] + (g.span.v[i] % g.parts.v[i] != 0);
    } else {
        g.first.v[i] = s >= 1 ? 1 : s;  /* span out of its domain (or ABSENT: unused) */
    }
}

static void read_unit_every(reader *rd)
{
    static const col_spec span_spec = {1, 600, 1, 600, "ASSPP", NULL};
    static const col_spec parts_spec = {1, 12, 1, 12, "S", NULL};
    if (g.whole) {
        g.span.shape = g.parts.shape = g.first.shape = SHAPE_ABSENT;
        return;
    }
    read_icol(rd, &span_spec, &g.span);
    if (g.span.shape == SHAPE_ABSENT) {
        g.parts.shape = g.first.shape = SHAPE_ABSENT;
        return;
    }
    /* parts and first have span's shape, so that each row's three values belong together */
    g.parts.shape = g.first.shape = g.span.shape;
    const int64_t rows = g.span.shape == SHAPE_PER_ROW ? g.n : 1;
    if (g.span.shape == SHAPE_PER_ROW) read_rows(rd, &parts_spec, 0, g.n, 200, g.parts.v);
    else g.parts.v[0] = palette_value(rd, parts_spec.lo, parts_spec.hi, 200);
    /* one kind for every row (even `how`), or per row at random: one row in eight past int64 */
    const uint8_t how = read_byte(rd);
    uint64_t state = read_byte(rd);
    for (int64_t i = 0; i < rows; i++)
        unit_every(i, how % 2 == 0 ? how >> 1 : (uint8_t)(next_random(&state) % 16 + 6) % 22);
}

static void decode(const uint8_t *data, size_t size)
{
    /* the columns' sensible values, and the shapes of each profile: a whole-epochs sweep
     * has steps_per_epoch per row (mostly), epochs shared (mostly), epochs_den absent or
     * 1, min_interval 0 or 1, keep_last and checkpoint_bytes shared, no other rule */
    static const col_spec S_spec = {1, 60, 1, 5000, "PPSA", "PPPS"};
    static const col_spec k_spec = {1, 70, 1, 300, "SPAP", "SP"};
    static const col_spec e_num_spec = {1, 6, 1, 4, "SPPA", "SSSP"};
    static const col_spec e_den_spec = {1, 4, 1, 1, "ASP", "AS"};
    static const col_spec max_steps_spec = {1, 300, 1, 300, "AASP", NULL};
    static const col_spec every_spec = {1, 300, 1, 300, "AASP", NULL};
    static const col_spec count_spec = {1, 300, 1, 300, "AASP", NULL};
    static const col_spec r_num_spec = {1, 8, 1, 8, "AASP", NULL};
    static const col_spec r_den_spec = {2, 17, 2, 17, "SPA", NULL};
    static const col_spec min_interval_spec = {0, 12, 0, 1, "ASP", "AS"};
    static const col_spec bytes_spec = {1, 4096, 1, 4096, "ASP", "AS"};
    static const col_spec keep_last_spec = {1, 6, 1, 6, "ASP", "AS"};
    reader rd = {data, size, 0};
    memset(&g, 0, sizeof g);

    /* the rows: often 64 or more, 128 or more (blocks of 64) */
    const uint8_t n_class = read_byte(&rd), n_byte = read_byte(&rd);
    switch (n_class % 8) {
    case 0: g.n = n_byte % 9; break;
    case 1: g.n = 1 + n_byte % 40; break;
    case 2: g.n = 56 + n_byte % 17; break;       /* around one block */
    case 3: g.n = 120 + n_byte % 17; break;      /* around two */
    case 4: g.n = 64 + n_byte % 64; break;
    case 5: g.n = 128 + n_byte % 128; break;
    case 6: g.n = 256 + n_byte % 45; break;
    default: g.n = n_byte * (MAX_RUNS + 1) / 256; break;
    }
    g.whole = read_byte(&rd) % 8 < 5;

    /* the rows asked for, and where their steps start */
    const uint8_t range = read_byte(&rd);
    g.begin = 0;
    g.end = g.n;
    if (range % 4 == 3) g.begin = read_byte(&rd) % (g.n + 1);
    if ((range >> 2) % 4 == 3) g.end = g.begin + read_byte(&rd) % (g.n - g.begin + 1);
    switch ((range >> 4) % 4) {
    case 2: g.base = read_byte(&rd); break;
    case 3: g.base = M - read_u16(&rd); break;  /* the running total leaves int64 */
    default: g.base = 0; break;
    }

    /* work: no budget or a small one; a small walk_limit, smaller with more rows */
    const uint8_t budget = read_byte(&rd);
    g.work_budget = budget % 4 < 2 ? 0 : budget % 4 == 2 ? 1 + read_byte(&rd) % 64
                                                          : 1 + read_u16(&rd) % 4096;
    g.walk_limit = read_u16(&rd) % 4001;
    if (g.n > 0 && g.walk_limit > WALK_TOTAL / g.n) g.walk_limit = WALK_TOTAL / g.n;
    /* the outputs: mostly all of them (any subset of bytes and disk), offsets and the
     * fill now and then not, a slice cut short one time in four */
    const uint8_t outputs = read_byte(&rd);
    g.outputs = outputs & (OUT_NO_BYTES | OUT_NO_PEAK | OUT_NO_PEAK_BYTES | OUT_NO_SURVIVORS
                           | OUT_NO_DISK);
    if ((outputs >> 6) == 3) g.outputs |= OUT_BAD_SLICE;
    if (outputs % 2 == 1 && (outputs >> 6) == 1) g.outputs |= OUT_NO_OFFSETS;
    if (g.outputs & OUT_BAD_SLICE) g.bad_slice_at = g.begin + read_byte(&rd);
    const uint8_t complete = read_byte(&rd);

    read_icol(&rd, &S_spec, &g.S);
    read_icol(&rd, &k_spec, &g.k);
    read_icol(&rd, &e_num_spec, &g.e_num);
    read_icol(&rd, &e_den_spec, &g.e_den);
    read_icol(&rd, &max_steps_spec, &g.max_steps);
    read_icol(&rd, &every_spec, &g.every);
    read_icol(&rd, &count_spec, &g.count);
    read_icol(&rd, &r_num_spec, &g.r_num);
    if (g.r_num.shape != SHAPE_ABSENT) read_icol(&rd, &r_den_spec, &g.r_den);
    read_icol(&rd, &min_interval_spec, &g.min_interval);
    read_icol(&rd, &bytes_spec, &g.bytes);
    read_icol(&rd, &keep_last_spec, &g.keep_last);
    read_unit_every(&rd);
    read_ucol(&rd, "ASP", &g.final);
    if (g.span.shape != SHAPE_ABSENT) read_ucol(&rd, "ASP", &g.whole_epochs);
    read_fcol(&rd, "ASP", &g.e_num, &g.e_den, &g.e_float);
    if (g.r_num.shape != SHAPE_ABSENT) read_fcol(&rd, "ASP", &g.r_num, &g.r_den, &g.r_float);

    /* complete: only the two bits the header allows, only for a column that is given */
    if ((complete & 1) && g.S.shape != SHAPE_ABSENT)
        g.complete |= CKPT_COMPLETE(CKPT_ARG_STEPS_PER_EPOCH);
    if ((complete & 2) && g.k.shape != SHAPE_ABSENT)
        g.complete |= CKPT_COMPLETE(CKPT_ARG_SAVES_PER_EPOCH);
}

/* ---- the kernels' input --------------------------------------------------------------- */

static ckpt_col_i64 bind_i64(const icol *col)
{
    ckpt_col_i64 c = {col->shape == SHAPE_ABSENT ? NULL : col->v, col->shape == SHAPE_PER_ROW};
    return c;
}

static ckpt_col_f64 bind_f64(const fcol *col)
{
    ckpt_col_f64 c = {col->shape == SHAPE_ABSENT ? NULL : col->v, col->shape == SHAPE_PER_ROW};
    return c;
}

static ckpt_col_u8 bind_u8(const ucol *col)
{
    ckpt_col_u8 c = {col->shape == SHAPE_ABSENT ? NULL : col->v, col->shape == SHAPE_PER_ROW};
    return c;
}

static ckpt_sweep_in sweep_in(int general_only)
{
    ckpt_sweep_in in;
    memset(&in, 0, sizeof in);
    in.n_runs = g.n;
    in.steps_per_epoch = bind_i64(&g.S);
    in.epochs_num = bind_i64(&g.e_num);
    in.epochs_den = bind_i64(&g.e_den);
    in.epochs_float = bind_f64(&g.e_float);
    in.max_steps = bind_i64(&g.max_steps);
    in.saves_per_epoch = bind_i64(&g.k);
    in.every = bind_i64(&g.every);
    in.count = bind_i64(&g.count);
    in.ratio_num = bind_i64(&g.r_num);
    in.ratio_den = bind_i64(&g.r_den);
    in.ratio_float = bind_f64(&g.r_float);
    in.final = bind_u8(&g.final);
    in.min_interval = bind_i64(&g.min_interval);
    in.checkpoint_bytes = bind_i64(&g.bytes);
    in.keep_last = bind_i64(&g.keep_last);
    in.every_span = bind_i64(&g.span);
    in.every_parts = bind_i64(&g.parts);
    in.every_first = bind_i64(&g.first);
    in.every_whole_epochs = bind_u8(&g.whole_epochs);
    in.walk_limit = g.walk_limit;
    in.work_budget = g.work_budget;
    in.general_only = general_only;
    in.complete = g.complete;
    return in;
}

/* ---- running a sweep ------------------------------------------------------------------- */

#define UNWRITTEN 0xA5  /* every byte of what no kernel wrote */

/* Everything both passes of one sweep wrote, and how they stopped. */
typedef struct {
    int64_t counts[MAX_RUNS], bytes[MAX_RUNS], offsets[MAX_RUNS + 1];
    int64_t peak[MAX_RUNS], peak_bytes[MAX_RUNS], survivors[MAX_RUNS];
    uint32_t flags[MAX_RUNS];
    int64_t dones[2 * MAX_RUNS + 4], n_dones;  /* *done after each call, count then fill */
    ckpt_status status;                        /* of the last call */
    ckpt_sweep_error err;
    int filled;                                /* the fill pass ran */
    int64_t *steps;                            /* offsets[end] steps (NULL: none) */
} outcome;

/* Pass after pass from begin, as a caller with a work budget does (once when there is no
 * row to do): each call must do at least one row and no more than it was asked for. */
#define PASS_LOOP(o, call)                                                               \
    do {                                                                                 \
        int64_t begin_ = g.begin, done_ = -1;                                            \
        do {                                                                             \
            (o)->status = (call);                                                        \
            REQUIRE((o)->n_dones < (int64_t)(sizeof (o)->dones / sizeof (o)->dones[0])); \
            (o)->dones[(o)->n_dones++] = done_;                                          \
            if ((o)->status != CKPT_OK) break;                                           \
            REQUIRE_AT(begin_ == g.end ? done_ == g.end : done_ > begin_ && done_ <= g.end, \
                       done_);                                                           \
            begin_ = done_;                                                              \
        } while (begin_ < g.end);                                                        \
    } while (0)

static void run_count(const ckpt_sweep_in *in, outcome *o)
{
    const int with_bytes = in->checkpoint_bytes.data != NULL && !(g.outputs & OUT_NO_BYTES);
    const ckpt_sweep_disk disk = {
        g.outputs & OUT_NO_PEAK ? NULL : o->peak,
        g.outputs & OUT_NO_PEAK_BYTES || in->checkpoint_bytes.data == NULL ? NULL : o->peak_bytes,
        g.outputs & OUT_NO_SURVIVORS ? NULL : o->survivors};
    int64_t *const offsets = g.outputs & OUT_NO_OFFSETS ? NULL : o->offsets;
    memset(o, UNWRITTEN, offsetof(outcome, steps));
    o->n_dones = 0;
    o->status = CKPT_OK;
    o->filled = 0;
    o->steps = NULL;
    o->offsets[g.begin] = g.base;
    PASS_LOOP(o, ckpt_sweep_count(in, begin_, g.end, o->counts, o->flags,
                                  with_bytes ? o->bytes : NULL, offsets,
                                  g.outputs & OUT_NO_DISK ? NULL : &disk, &done_, &o->err));
}

/* The fill pass after a successful count with offsets, when the sweep is small enough:
 * into a buffer of exactly offsets[end] steps, whose steps before offsets[begin] no row
 * may touch (NULL when the rows asked for have no step). */
static void run_fill(const ckpt_sweep_in *in, const int64_t *offsets, outcome *o)
{
    if (o->status != CKPT_OK || (g.outputs & OUT_NO_OFFSETS)) return;
    const int64_t total = offsets[g.end];
    if (total > FILL_LIMIT) return;
    if (total > offsets[g.begin]) {
        o->steps = malloc((size_t)total * sizeof *o->steps);
        REQUIRE(o->steps != NULL);
        memset(o->steps, UNWRITTEN, (size_t)total * sizeof *o->steps);
    }
    o->filled = 1;
    PASS_LOOP(o, ckpt_sweep_fill(in, begin_, g.end, offsets, o->steps, &done_, &o->err));
}

/* Fast and general stopped the same way, at the same rows, and wrote the same. */
static void check_same(const outcome *fast, const outcome *general)
{
    REQUIRE(fast->status == general->status);
    REQUIRE(fast->n_dones == general->n_dones);
    for (int64_t t = 0; t < fast->n_dones; t++) REQUIRE_AT(fast->dones[t] == general->dones[t], t);
    REQUIRE(fast->err.row == general->err.row);
    REQUIRE(fast->err.arg == general->err.arg);
    REQUIRE(fast->err.why == general->err.why);
    for (int64_t i = 0; i < MAX_RUNS; i++) {
        REQUIRE_AT(fast->counts[i] == general->counts[i], i);
        REQUIRE_AT(fast->flags[i] == general->flags[i], i);
        REQUIRE_AT(fast->bytes[i] == general->bytes[i], i);
        REQUIRE_AT(fast->offsets[i + 1] == general->offsets[i + 1], i);
        REQUIRE_AT(fast->peak[i] == general->peak[i], i);
        REQUIRE_AT(fast->peak_bytes[i] == general->peak_bytes[i], i);
        REQUIRE_AT(fast->survivors[i] == general->survivors[i], i);
    }
    REQUIRE(fast->filled == general->filled);
    REQUIRE((fast->steps == NULL) == (general->steps == NULL));
    if (fast->steps != NULL)
        for (int64_t i = g.begin; i < g.end; i++)
            for (int64_t s = fast->offsets[i]; s < fast->offsets[i + 1]; s++)
                REQUIRE_AT(fast->steps[s] == general->steps[s], i);
}

/* The run's total steps T (0 when it has none: max_steps, else epochs * steps_per_epoch). */
static int64_t total_steps(int64_t i)
{
    const int64_t max_steps = at(&g.max_steps, i, A);
    int64_t T = 0;
    if (max_steps != A) return max_steps;
    if (ckpt_total_steps(at(&g.S, i, A), at(&g.e_num, i, A), at(&g.e_den, i, 1), &T) != CKPT_OK)
        return 0;
    return T;
}

/* A fast run that succeeded keeps the promises of ckpt_sweep.h. */
static void check_invariants(const outcome *o)
{
    const uint8_t unwritten[sizeof(int64_t)] = {UNWRITTEN, UNWRITTEN, UNWRITTEN, UNWRITTEN,
                                                UNWRITTEN, UNWRITTEN, UNWRITTEN, UNWRITTEN};
    const int with_offsets = !(g.outputs & OUT_NO_OFFSETS);
    REQUIRE(o->status == CKPT_OK && o->err.row == -1 && o->err.why == CKPT_WHY_NONE);
    REQUIRE(o->dones[o->n_dones - 1] == g.end);
    for (int64_t i = 0; i < MAX_RUNS; i++) {
        if (i >= g.begin && i < g.end) continue;
        /* no row outside [begin, end) is written */
        REQUIRE_AT(memcmp(&o->counts[i], unwritten, sizeof o->counts[i]) == 0, i);
        REQUIRE_AT(memcmp(&o->flags[i], unwritten, sizeof o->flags[i]) == 0, i);
        REQUIRE_AT(memcmp(&o->offsets[i + 1], unwritten, sizeof o->offsets[i]) == 0 || i + 1 == g.begin, i);
    }
    for (int64_t i = g.begin; i < g.end; i++) {
        const int64_t n = o->counts[i];
        REQUIRE_AT(n >= 0, i);
        if (with_offsets) {
            REQUIRE_AT(o->offsets[i + 1] >= o->offsets[i], i);
            REQUIRE_AT(n == o->offsets[i + 1] - o->offsets[i], i);
        }
        REQUIRE_AT((o->flags[i] & ~0x1FFu) == 0 && !(o->flags[i] & CKPT_FLAG_LONG_GAP), i);
        REQUIRE_AT(((o->flags[i] & CKPT_FLAG_NO_SAVES) != 0) == (n == 0), i);
        if (!(g.outputs & (OUT_NO_DISK | OUT_NO_PEAK | OUT_NO_SURVIVORS))) {
            REQUIRE_AT(o->peak[i] >= 0 && o->peak[i] <= n, i);
            REQUIRE_AT(o->survivors[i] <= o->peak[i] && o->survivors[i] >= (n > 0), i);
        }
    }
    if (!o->filled || o->steps == NULL) return;
    for (int64_t s = 0; s < o->offsets[g.begin]; s++)  /* before the first slice: untouched */
        REQUIRE_AT(memcmp(&o->steps[s], unwritten, sizeof o->steps[s]) == 0, g.begin);
    for (int64_t i = g.begin; i < g.end; i++) {
        const int64_t lo = o->offsets[i], hi = o->offsets[i + 1], T = total_steps(i);
        for (int64_t s = lo; s < hi; s++) {
            REQUIRE_AT(o->steps[s] >= 1 && (s == lo || o->steps[s] > o->steps[s - 1]), i);
            REQUIRE_AT(T == 0 || o->steps[s] <= T, i);
        }
        /* T is saved when the run says `final` (the default) */
        const int final = g.final.shape == SHAPE_ABSENT
                          || g.final.v[g.final.shape == SHAPE_PER_ROW ? i : 0] != 0;
        if (T > 0 && final) REQUIRE_AT(hi > lo && o->steps[hi - 1] == T, i);
    }
}

/* Fill again with one slice a step short, at the first row from bad_slice_at that has a
 * step: both paths must refuse that row (CKPT_WHY_INTERNAL) at the same call, after
 * writing the same steps before it. */
static void check_bad_slice(const ckpt_sweep_in *fast_in, const ckpt_sweep_in *general_in,
                            const outcome *counted)
{
    static int64_t offsets[MAX_RUNS + 1];
    static outcome fast, general;
    if (g.begin == g.end) return;
    int64_t row = g.begin + (g.bad_slice_at - g.begin) % (g.end - g.begin);
    while (row < g.end && counted->counts[row] == 0) row++;
    if (row == g.end) return;
    memcpy(offsets, counted->offsets, sizeof offsets);
    offsets[row + 1] -= 1;
    outcome *both[2] = {&fast, &general};
    const ckpt_sweep_in *ins[2] = {fast_in, general_in};
    for (int p = 0; p < 2; p++) {
        memset(both[p], UNWRITTEN, offsetof(outcome, steps));
        both[p]->n_dones = 0;
        both[p]->status = CKPT_OK;
        both[p]->steps = NULL;
        run_fill(ins[p], offsets, both[p]);
    }
    REQUIRE_AT(fast.status == CKPT_CAPACITY && general.status == CKPT_CAPACITY, row);
    REQUIRE_AT(fast.err.row == row && general.err.row == row, row);
    REQUIRE_AT(fast.err.why == CKPT_WHY_INTERNAL && general.err.why == CKPT_WHY_INTERNAL, row);
    REQUIRE(fast.n_dones == general.n_dones);
    for (int64_t t = 0; t < fast.n_dones; t++) REQUIRE_AT(fast.dones[t] == general.dones[t], t);
    for (int64_t s = offsets[g.begin]; s < offsets[row]; s++)
        REQUIRE_AT(fast.steps[s] == general.steps[s], row);
    free(fast.steps);
    free(general.steps);
}

/* ---- the entry point -------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome fast, general;
    decode(data, size);
#ifdef FUZZ_SWEEP_PRINT
    describe_input(stdout);
#endif
    const ckpt_sweep_in fast_in = sweep_in(0), general_in = sweep_in(1);
    run_count(&fast_in, &fast);
    run_fill(&fast_in, fast.offsets, &fast);
    run_count(&general_in, &general);
    run_fill(&general_in, general.offsets, &general);
#ifdef FUZZ_SWEEP_PRINT
    printf("  -> status %d, error row %" PRId64 " arg %d why %d, %" PRId64 " calls, %s %" PRId64 "\n",
           (int)fast.status, fast.err.row, (int)fast.err.arg, (int)fast.err.why, fast.n_dones,
           fast.filled ? "filled" : "not filled", g.outputs & OUT_NO_OFFSETS ? -1 : fast.offsets[g.end]);
#endif
    check_same(&fast, &general);
    if (fast.status == CKPT_OK) {
        check_invariants(&fast);
        if ((g.outputs & OUT_BAD_SLICE) && fast.filled)
            check_bad_slice(&fast_in, &general_in, &fast);
    } else {
        REQUIRE(fast.err.row >= g.begin && fast.err.row < g.end);
        REQUIRE(fast.err.why != CKPT_WHY_NONE && fast.err.why != CKPT_WHY_INTERNAL);
    }
    free(fast.steps);
    free(general.steps);
    return 0;
}
