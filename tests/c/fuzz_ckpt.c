/* fuzz_ckpt.c -- a coverage-guided fuzz target for the C core (src_c/ckpt.c).
 *
 * LLVMFuzzerTestOneInput decodes the fuzz bytes into 1-4 rules (both kinds,
 * sometimes invalid; values from 0 up to near INT64_MAX), a strictly increasing
 * list of extra steps and a few probe values, then checks the core's contracts
 * (ckpt.h) against each other and, when the values are small, against a
 * brute-force model written from the definitions.  Any violation prints what
 * was violated and the decoded input, then abort()s.
 *
 * Build with libFuzzer:   bash tests/c/fuzz.sh --ci        (or --seconds N; with
 *                         CKPT_FUZZ_CFLAGS=-DCKPT_NO_INT128 the portable arithmetic)
 * Without libFuzzer:      tests/c/fuzz_driver.c runs it over files and
 *                         pseudo-random inputs (bash tests/c/fuzz.sh --driver N).
 *
 * Work per input is bounded: schedules are materialized into at most CAP steps
 * (CKPT_CAPACITY beyond, which must then agree with the count), rules are
 * walked only near their ends, and the model runs only below MODEL_LIMIT.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "fuzz_reader.h"

#define M INT64_MAX
#define MAX_FUZZ_RULES 4
#define MAX_EXTRA 24
#define MAX_PROBES 8
#define CAP 4096          /* the most steps one schedule is materialized into   */
#define MODEL_LIMIT 1024  /* brute-force model and full windows below this step */
#define EDGE 48           /* rule steps checked at each end of a rule          */

typedef unsigned __int128 u128;

/* ---- failing loudly ---------------------------------------------------------- */

static char g_input[1024];  /* the decoded input, printed with any failure */

static void fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "fuzz_ckpt: %s:%d: violated: %s\n  input: %s\n", file, line, what, g_input);
    abort();
}

#define REQUIRE(cond)                                        \
    do {                                                     \
        if (!(cond)) fail(__FILE__, __LINE__, #cond);        \
    } while (0)

static void describe_input(const ckpt_rule *rules, int n_rules, const int64_t *extra,
                           int n_extra)
{
    size_t len = 0;
    g_input[0] = '\0';
#define APPEND(...)                                                                       \
    do {                                                                                  \
        if (len < sizeof g_input)                                                         \
            len += (size_t)snprintf(g_input + len, sizeof g_input - len, __VA_ARGS__);    \
    } while (0)
    for (int r = 0; r < n_rules; r++) {  /* the fields in memory order, whatever the kind */
        const ckpt_rule *rule = &rules[r];
        if (rule->kind == CKPT_RULE_EVEN)
            APPEND("EVEN(span=%" PRId64 ", parts=%" PRId64 ", stop=%" PRId64 ") ",
                   rule->span, rule->parts, rule->stop);
        else if (rule->kind == CKPT_RULE_EVERY)
            APPEND("EVERY(start=%" PRId64 ", interval=%" PRId64 ", stop=%" PRId64 ") ",
                   rule->start, rule->interval, rule->stop);
        else
            APPEND("kind %" PRId64 "(%" PRId64 ", %" PRId64 ", stop=%" PRId64 ") ",
                   rule->kind, rule->start, rule->interval, rule->stop);
    }
    APPEND("extra[%d]={", n_extra);
    for (int i = 0; i < n_extra; i++) APPEND("%s%" PRId64, i ? ", " : "", extra[i]);
    APPEND("}");
#undef APPEND
}

/* ---- decoding the fuzz bytes ---------------------------------------------------- */

static uint64_t read_u64(reader *rd)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | read_byte(rd);
    return v;
}

/* A value shaped to hit boundaries: small numbers, 16-bit numbers, numbers just
 * below INT64_MAX, powers of two plus or minus a little, INT64_MAX / k, or any int64. */
static int64_t read_value(reader *rd)
{
    uint8_t tag = read_byte(rd);
    int64_t small = read_byte(rd);
    switch (tag % 8) {
    case 0:
    case 1: return small;                                           /* 0..255 */
    case 2: return small << 8 | read_byte(rd);                      /* 0..65535 */
    case 3: return M - small;                                       /* near INT64_MAX */
    case 4: return ((int64_t)1 << (small % 63)) + (int64_t)(tag >> 3) % 7 - 3;  /* 2^k +- 3 */
    case 5: {                                                       /* M / k, nearby */
        int64_t q = M / (small + 1), d = (int64_t)(tag >> 3) % 5 - 2;
        return d > 0 && q > M - d ? q : q + d;
    }
    case 6: return (int64_t)(read_u64(rd) >> (1 + small % 63));     /* any magnitude >= 0 */
    default: return (int64_t)read_u64(rd);                          /* any int64 */
    }
}

/* ---- a brute-force model of a rule, from the definitions, for small stops -------- */

/* Mark the rule's steps in mem[0..stop] (stop < MODEL_LIMIT).  EVERY: start + k*interval.
 * EVEN: a step holds the boundaries i*span/parts in (s-1, s]; the boundary i is saved at
 * ceil(i*span/parts); spacing below one step puts a boundary in every step. */
static void model_rule(const ckpt_rule *r, unsigned char *mem)
{
    if (r->kind == CKPT_RULE_EVERY) {
        for (int64_t s = r->start; s <= r->stop; s += r->interval) {
            mem[s] = 1;
            if (r->interval > r->stop - s) break;  /* the next one is past stop */
        }
    } else if (r->span < r->parts) {
        for (int64_t s = 1; s <= r->stop; s++) mem[s] = 1;
    } else {
        for (u128 i = 1;; i++) {
            u128 s = (i * (uint64_t)r->span + (uint64_t)r->parts - 1) / (uint64_t)r->parts;
            if (s > (u128)r->stop) break;
            mem[(size_t)s] = 1;
        }
    }
}

/* ---- one rule --------------------------------------------------------------------- */

/* contains, count and next_after at a probe s agree with nth. */
static void check_rule_at(const ckpt_rule *r, int64_t n, int64_t s)
{
    int in = ckpt_rule_contains(r, s);
    REQUIRE(in == 0 || in == 1);
    if (s < 1 || s > r->stop) REQUIRE(!in);
    if (s < 0) return;
    int64_t c = ckpt_rule_count(r, s);
    REQUIRE(c >= 0 && c <= n);
    if (s >= 1) REQUIRE(c - ckpt_rule_count(r, s - 1) == in);
    if (c >= 1) REQUIRE(ckpt_rule_nth(r, c) <= s);
    int64_t next = ckpt_rule_next_after(r, s);
    if (c < n) {
        REQUIRE(next == ckpt_rule_nth(r, c + 1));
        REQUIRE(next > s);
    } else {
        REQUIRE(next == 0);
    }
}

static void check_rule(const ckpt_rule *r, const int64_t *probes, int n_probes)
{
    int64_t n = ckpt_rule_count(r, r->stop);
    REQUIRE(n >= 0 && n <= r->stop);
    REQUIRE(ckpt_rule_count(r, M) == n);
    REQUIRE(ckpt_rule_count(r, 0) == 0);
    REQUIRE(!ckpt_rule_contains(r, 0) && !ckpt_rule_contains(r, INT64_MIN));
    REQUIRE(ckpt_rule_next_after(r, r->stop) == 0);
    REQUIRE(ckpt_rule_next_after(r, 0) == (n ? ckpt_rule_nth(r, 1) : 0));

    /* the first and last EDGE steps: strictly increasing in [1, stop], and each
     * one is what contains/count/next_after say around it */
    int64_t prev = 0;
    for (int64_t i = 1; i <= n; i++) {  /* (breaks before i++ can pass INT64_MAX) */
        if (i == EDGE + 1 && n > 2 * EDGE) {
            i = n - EDGE + 1;
            prev = ckpt_rule_nth(r, i - 1);
        }
        int64_t s = ckpt_rule_nth(r, i);
        REQUIRE(s > prev && s >= 1 && s <= r->stop);
        REQUIRE(ckpt_rule_contains(r, s));
        REQUIRE(ckpt_rule_count(r, s) == i);
        REQUIRE(ckpt_rule_count(r, s - 1) == i - 1);
        REQUIRE(ckpt_rule_next_after(r, s - 1) == s);
        check_rule_at(r, n, s + (s < M));
        prev = s;
        if (i == n) break;
    }
    for (int p = 0; p < n_probes; p++) {
        check_rule_at(r, n, probes[p]);
        if (n > 0 && probes[p] > 0) {  /* a probe also picks a step by its index */
            int64_t i = 1 + probes[p] % n, s = ckpt_rule_nth(r, i);
            REQUIRE(s >= 1 && s <= r->stop && ckpt_rule_contains(r, s));
            REQUIRE(ckpt_rule_count(r, s) == i);
            check_rule_at(r, n, s - 1);
        }
    }
    if (r->stop < MODEL_LIMIT) {
        static unsigned char mem[MODEL_LIMIT + 2];
        memset(mem, 0, sizeof mem);
        model_rule(r, mem);
        int64_t count = 0;
        for (int64_t s = 0; s <= r->stop + 1; s++) {
            REQUIRE(ckpt_rule_contains(r, s) == mem[s]);
            count += mem[s];
            REQUIRE(ckpt_rule_count(r, s) == count);
        }
    }
}

/* ---- the union -------------------------------------------------------------------- */

/* Index of the first element > s in the sorted steps[0..n), or n. */
static int64_t upper_bound(const int64_t *steps, int64_t n, int64_t s)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (steps[mid] <= s) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int sorted_contains(const int64_t *steps, int64_t n, int64_t s)
{
    int64_t i = upper_bound(steps, n, s);
    return i > 0 && steps[i - 1] == s;
}

/* contains and next_after at s agree with the materialized steps. */
static void check_sched_at(const ckpt_sched *sc, const int64_t *steps, int64_t n, int64_t s)
{
    REQUIRE(ckpt_sched_contains(sc, s) == sorted_contains(steps, n, s));
    if (s < 0) return;
    int64_t i = upper_bound(steps, n, s);
    REQUIRE(ckpt_sched_next_after(sc, s) == (i < n ? steps[i] : 0));
}

static int64_t g_steps[CAP], g_thinned[CAP], g_copy[CAP];

static void check_min_interval(const int64_t *steps, int64_t n, int64_t min_interval,
                               int64_t forced)
{
    int64_t kept = -1;
    ckpt_status st = ckpt_min_interval(steps, n, min_interval, forced, g_thinned, &kept);
    if (min_interval < 0) {
        REQUIRE(st == CKPT_DOMAIN);
        return;
    }
    REQUIRE(st == CKPT_OK && kept >= 0 && kept <= n);
    REQUIRE((n == 0) == (kept == 0));
    /* the contract, step by step: the kept steps are a subsequence that starts with
     * the first step; a step is kept iff it is the first, the forced one, or at
     * least min_interval after the last kept step */
    int64_t k = 0, last = 0;
    for (int64_t i = 0; i < n; i++) {
        int keep = i == 0 || steps[i] == forced || steps[i] - last >= min_interval;
        if (keep) {
            REQUIRE(k < kept && g_thinned[k] == steps[i]);
            k++;
            last = steps[i];
        }
    }
    REQUIRE(k == kept);
    /* in place (out aliasing steps) gives the same */
    int64_t kept_in_place = -1;
    memcpy(g_copy, steps, (size_t)n * sizeof *steps);
    REQUIRE(ckpt_min_interval(g_copy, n, min_interval, forced, g_copy, &kept_in_place) == CKPT_OK);
    REQUIRE(kept_in_place == kept);
    REQUIRE(kept == 0 || memcmp(g_copy, g_thinned, (size_t)kept * sizeof *steps) == 0);
}

static void check_longest_gap(const int64_t *steps, int64_t n, int64_t total)
{
    int64_t gap = -1, end = -1;
    ckpt_status st = ckpt_longest_gap(steps, n, total, &gap, &end);
    if (total < 1 || (n > 0 && steps[n - 1] > total)) {
        REQUIRE(st == CKPT_DOMAIN);
        return;
    }
    REQUIRE(st == CKPT_OK);
    /* a direct scan over 0 -> steps -> total; the first longest stretch wins */
    int64_t prev = 0, best = 0, best_end = 0;
    for (int64_t i = 0; i <= n; i++) {
        int64_t s = i < n ? steps[i] : total;
        if (s - prev > best) best = s - prev, best_end = s;
        prev = s;
    }
    REQUIRE(gap == best && end == best_end);
    REQUIRE(gap >= 1 && end >= gap && end <= total);
    if (n >= 2) {  /* out of order or repeated steps are a domain error */
        memcpy(g_copy, steps, (size_t)n * sizeof *steps);
        g_copy[n - 1] = g_copy[n - 2];
        REQUIRE(ckpt_longest_gap(g_copy, n, total, &gap, &end) == CKPT_DOMAIN);
    }
}

static void check_sched(const ckpt_sched *sc, const int64_t *probes, int n_probes,
                        int64_t min_interval, int64_t total_extra)
{
    int64_t hi = sc->n_extra ? sc->extra[sc->n_extra - 1] : 0;  /* the largest possible step */
    for (int64_t r = 0; r < sc->n_rules; r++)
        if (sc->rules[r].stop > hi) hi = sc->rules[r].stop;

    int64_t bound = -1, count = -1, n = -1;
    ckpt_status bound_st = ckpt_sched_count_bound(sc, &bound);
    REQUIRE(bound_st == CKPT_OK || bound_st == CKPT_OVERFLOW);
    ckpt_status count_st = ckpt_sched_count(sc, CAP, &count);
    ckpt_status fill_st = ckpt_sched_fill(sc, g_steps, CAP, &n);

    if (fill_st == CKPT_CAPACITY) {
        /* more than CAP steps: the count says so too, and so does the bound */
        REQUIRE(count_st == CKPT_CAPACITY || (count_st == CKPT_OK && count > CAP));
        REQUIRE(bound_st == CKPT_OVERFLOW || bound > CAP);
        /* walk the first steps with next_after instead */
        int64_t s = 0;
        for (int i = 0; i < 64; i++) {
            int64_t next = ckpt_sched_next_after(sc, s);
            REQUIRE(next > s && next <= hi && ckpt_sched_contains(sc, next));
            s = next;
        }
        return;
    }
    REQUIRE(fill_st == CKPT_OK && n >= 0 && n <= CAP);
    REQUIRE(count_st == CKPT_OK && count == n);
    REQUIRE(bound_st == CKPT_OVERFLOW || bound >= n);
    if (n > 0) {
        int64_t tight = -1;
        REQUIRE(ckpt_sched_fill(sc, g_thinned, n - 1, &tight) == CKPT_CAPACITY);
        if (sc->n_rules > 1) REQUIRE(ckpt_sched_count(sc, n - 1, &tight) == CKPT_CAPACITY);
    }

    /* sorted, distinct, within [1, hi]; each step belongs to a part; contains and
     * next_after agree at the first and last steps, at every stride-th step and
     * at their neighbours ... */
    int64_t stride = n / 64 + 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = g_steps[i];
        REQUIRE(s >= 1 && s <= hi);
        if (i > 0) REQUIRE(s > g_steps[i - 1]);
        int in_part = sorted_contains(sc->extra, sc->n_extra, s);
        for (int64_t r = 0; r < sc->n_rules && !in_part; r++)
            in_part = ckpt_rule_contains(&sc->rules[r], s);
        REQUIRE(in_part);
        if (i < EDGE || i >= n - EDGE || i % stride == 0) {
            check_sched_at(sc, g_steps, n, s);
            check_sched_at(sc, g_steps, n, s - 1);
            check_sched_at(sc, g_steps, n, s + (s < M));
        }
    }
    /* ... and every step of every part is there (a merge of two sorted lists) */
    for (int64_t i = 0; i < sc->n_extra; i++) REQUIRE(sorted_contains(g_steps, n, sc->extra[i]));
    for (int64_t r = 0; r < sc->n_rules; r++) {
        const ckpt_rule *rule = &sc->rules[r];
        int64_t rule_n = ckpt_rule_count(rule, rule->stop), j = 0;
        REQUIRE(rule_n <= n);
        for (int64_t i = 1; i <= rule_n; i++) {
            int64_t s = ckpt_rule_nth(rule, i);
            while (j < n && g_steps[j] < s) j++;
            REQUIRE(j < n && g_steps[j] == s);
        }
    }
    check_sched_at(sc, g_steps, n, 0);
    check_sched_at(sc, g_steps, n, M);
    for (int p = 0; p < n_probes; p++) check_sched_at(sc, g_steps, n, probes[p]);
    if (hi < MODEL_LIMIT)  /* small: every step of the window */
        for (int64_t s = 0; s <= hi + 2; s++) check_sched_at(sc, g_steps, n, s);

    /* post-processing of the materialized schedule */
    int64_t forced = n > 0 ? g_steps[(uint64_t)min_interval % (uint64_t)n] : 0;
    check_min_interval(g_steps, n, min_interval, forced);
    check_min_interval(g_steps, n, min_interval, 0);
    int64_t last = n > 0 ? g_steps[n - 1] : 0;
    check_longest_gap(g_steps, n, last > M - total_extra ? M : last + total_extra);
    check_longest_gap(g_steps, n, last);  /* total == the last step (or 0: a domain error) */
}

/* ---- run geometry: cheap exact checks ------------------------------------------------ */

static void check_geometry(int64_t steps_per_epoch, int64_t e_num, int64_t e_den, int64_t step)
{
    int64_t total = -1, epoch = -1, position = -1;
    ckpt_status st = ckpt_total_steps(steps_per_epoch, e_num, e_den, &total);
    if (steps_per_epoch < 1 || e_num < 1 || e_den < 1) {
        REQUIRE(st == CKPT_DOMAIN);
    } else {
        u128 prod = (u128)(uint64_t)e_num * (uint64_t)steps_per_epoch;
        u128 want = prod / (uint64_t)e_den + (prod % (uint64_t)e_den != 0);
        if (want > (u128)M) REQUIRE(st == CKPT_OVERFLOW);
        else REQUIRE(st == CKPT_OK && (u128)total == want);
    }
    st = ckpt_locate(step, steps_per_epoch, &epoch, &position);
    if (step < 1 || steps_per_epoch < 1) {
        REQUIRE(st == CKPT_DOMAIN);
    } else {
        REQUIRE(st == CKPT_OK && epoch >= 1 && position >= 1 && position <= steps_per_epoch);
        REQUIRE((u128)(uint64_t)(epoch - 1) * (uint64_t)steps_per_epoch + (uint64_t)position
                == (u128)step);
    }
}

/* ---- checked arithmetic (ckpt_arith.h) against 128-bit integers ---------------------- */

static void check_arith(int64_t a, int64_t b, int64_t c)
{
    typedef __int128 i128;
    int64_t r = -1;
    i128 sum = (i128)a + b, prod = (i128)a * b;
    ckpt_status st = ckpt_add(a, b, &r);
    if (sum < INT64_MIN || sum > M) REQUIRE(st == CKPT_OVERFLOW);
    else REQUIRE(st == CKPT_OK && r == (int64_t)sum);
    st = ckpt_mul(a, b, &r);
    if (prod < INT64_MIN || prod > M) REQUIRE(st == CKPT_OVERFLOW);
    else REQUIRE(st == CKPT_OK && r == (int64_t)prod);

    uint64_t quot = 0, rem = 0;
    u128 wide = (u128)(uint64_t)a * (uint64_t)b;
    if (c != 0) {
        st = ckpt_muldivmod_u64((uint64_t)a, (uint64_t)b, (uint64_t)c, &quot, &rem);
        if (wide / (uint64_t)c > UINT64_MAX) REQUIRE(st == CKPT_OVERFLOW);
        else REQUIRE(st == CKPT_OK && quot == wide / (uint64_t)c && rem == wide % (uint64_t)c);
    }
    int64_t r_floor = -1, r_ceil = -1;
    ckpt_status st_floor = ckpt_muldiv_floor(a, b, c, &r_floor);
    ckpt_status st_ceil = ckpt_muldiv_ceil(a, b, c, &r_ceil);
    if (a < 0 || b < 0 || c <= 0) {
        REQUIRE(st_floor == CKPT_DOMAIN && st_ceil == CKPT_DOMAIN);
        return;
    }
    u128 fl = wide / (uint64_t)c, ce = fl + (wide % (uint64_t)c != 0);
    REQUIRE(st_floor == (fl > (u128)M ? CKPT_OVERFLOW : CKPT_OK));
    REQUIRE(st_ceil == (ce > (u128)M ? CKPT_OVERFLOW : CKPT_OK));
    if (st_floor == CKPT_OK) REQUIRE((u128)r_floor == fl);
    if (st_ceil == CKPT_OK) REQUIRE((u128)r_ceil == ce);
}

/* ---- the entry point ---------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = {data, size, 0};
    uint8_t shape = read_byte(&rd);
    int n_rules = 1 + shape % MAX_FUZZ_RULES;
    int n_extra = (shape >> 2) % (MAX_EXTRA + 1);

    ckpt_rule all[MAX_FUZZ_RULES], valid[MAX_FUZZ_RULES];
    int want_valid[MAX_FUZZ_RULES], n_valid = 0;
    for (int r = 0; r < n_rules; r++) {
        uint8_t k = read_byte(&rd);
        /* mostly the two kinds; now and then any int64 as the kind */
        int64_t kind = k < 0xF0 ? 1 + (k & 1) : (k < 0xF8 ? (int64_t)(k & 7) - 2 : read_value(&rd));
        int64_t first = read_value(&rd), second = read_value(&rd), stop = read_value(&rd);
        if (k & 2) stop = stop < 0 ? stop : stop % (MODEL_LIMIT + 1);  /* often small */
        all[r] = ckpt_rule_from_fields(kind, first, second, stop);
        want_valid[r] = (kind == CKPT_RULE_EVERY || kind == CKPT_RULE_EVEN) && first >= 1 &&
                        second >= 1 && stop >= 0;
    }
    int64_t extra[MAX_EXTRA], prev = 0;
    int got_extra = 0;
    for (int i = 0; i < n_extra; i++) {
        int64_t delta = read_value(&rd);
        if (delta < 1) delta = 1 + (delta == INT64_MIN ? 0 : -delta % 64);
        if (delta > M - prev) break;  /* the next extra would leave int64 */
        prev += delta;
        extra[got_extra++] = prev;
    }
    int64_t probes[MAX_PROBES];
    int n_probes = read_byte(&rd) % (MAX_PROBES + 1);
    for (int p = 0; p < n_probes; p++) probes[p] = read_value(&rd);
    int64_t min_interval = read_value(&rd), total_extra = read_value(&rd);
    if (total_extra < 0) total_extra = 0;

    describe_input(all, n_rules, extra, got_extra);
#ifdef FUZZ_CKPT_PRINT  /* -DFUZZ_CKPT_PRINT: show what each input decodes to */
    printf("%s\n", g_input);
#endif

    /* ckpt_rule_check accepts exactly the rules whose fields are in their domains */
    for (int r = 0; r < n_rules; r++) {
        const ckpt_rule *rule = &all[r];
        ckpt_status st = ckpt_rule_check(rule);
        REQUIRE(st == (want_valid[r] ? CKPT_OK : CKPT_DOMAIN));
        if (st == CKPT_OK) {
            check_rule(rule, probes, n_probes);
            valid[n_valid++] = *rule;
        }
    }

    const ckpt_sched sched = {valid, n_valid, extra, got_extra};
    check_sched(&sched, probes, n_probes, min_interval, total_extra);
    if (n_valid > 1) {  /* the first valid rule alone: the one-rule paths */
        const ckpt_sched one = {valid, 1, extra, got_extra};
        check_sched(&one, probes, n_probes, min_interval, total_extra);
    }

    check_geometry(all[0].start, all[0].interval, all[0].stop > 0 ? all[0].stop : 1,
                   n_probes ? probes[0] : 1);
    for (int r = 0; r < n_rules; r++) check_arith(all[r].start, all[r].interval, all[r].stop);
    return 0;
}
