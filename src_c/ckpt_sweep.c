/* ckpt_sweep.c -- sweep kernels (see ckpt_sweep.h).
 *
 * Every step comes from the rule functions of ckpt.c (or from ckpt_sweep_rule_fill,
 * which produces the same steps as ckpt_rule_nth without a division per step).
 * The diagnostic flags follow ckptsched/_rules.py and ckptsched/schedule.py exactly;
 * where those compute in float on purpose (what transformers / Axolotl would do),
 * so does this file, with the same IEEE double operations in the same order.
 */
#include "ckpt_sweep.h"

#include <math.h>
#include <stddef.h>

#define MAX_SWEEP_RULES 4
#define LANES 4  /* interleaved walks in ckpt_sweep_rule_fill */

/* One row, ready for the rule functions. */
typedef struct {
    int64_t S;       /* steps per epoch, 0 when absent */
    int64_t T;       /* total steps */
    int64_t k;       /* saves_per_epoch, 0 when absent */
    int final;
    int64_t min_interval;
    int64_t bytes_each;  /* 0 when absent */
    ckpt_rule rules[MAX_SWEEP_RULES];
    int64_t n_rules;
    int64_t extra;   /* T when final */
    int64_t count0;  /* rules[0]: its number of steps, */
    int has_T0;      /* and whether T is one of them */
    uint32_t flags;  /* request-level flags (FEWER_THAN_REQUESTED, HF_MISMATCH, ...) */
} sweep_row;

static inline int64_t get_i64(ckpt_col_i64 col, int64_t i, int64_t absent)
{
    return col.data == NULL ? absent : col.data[i * col.step];
}

static inline ckpt_status row_fail(ckpt_sweep_error *err, int64_t row, ckpt_sweep_arg arg,
                                   ckpt_sweep_why why, ckpt_status status)
{
    err->row = row;
    err->arg = (int32_t)arg;
    err->why = (int32_t)why;
    return status;
}

/* max(1, ceil(T * r)) in double, as Python's math.ceil(T * r) gives it; 0 when the
 * result is not below 2**63 (larger than any run). */
static int64_t float_interval(int64_t T, double r)
{
    double x = ceil((double)T * r);
    if (!(x < 9223372036854775808.0)) return 0;
    return x < 1.0 ? 1 : (int64_t)x;
}

/* The rule's number of steps, and whether its stop is one of them: what
 * ckpt_rule_count(rule, stop) and ckpt_rule_contains(rule, stop) answer, with a
 * single 64-bit division when stop * parts fits in int64 (the common case): for EVEN,
 * stop*parts = quot*span + rem, the count is min(stop, quot), and a boundary lies in
 * (stop-1, stop] iff rem < parts. */
static inline void rule_count_end(const ckpt_rule *rule, int64_t *count, int *has_stop)
{
    const int64_t x = rule->stop;
    int64_t prod;
    if (rule->kind == CKPT_RULE_EVERY) {
        *count = x < rule->start ? 0 : (x - rule->start) / rule->interval + 1;
        *has_stop = x >= rule->start && (x - rule->start) % rule->interval == 0;
    } else if (x >= 1 && !__builtin_mul_overflow(x, rule->parts, &prod)) {
        int64_t quot = prod / rule->span, rem = prod % rule->span;
        *count = quot < x ? quot : x;
        *has_stop = rem < rule->parts;
    } else {
        *count = ckpt_rule_count(rule, x);
        *has_stop = ckpt_rule_contains(rule, x);
    }
}

static inline void add_rule(sweep_row *r, int64_t kind, int64_t a, int64_t b)
{
    r->rules[r->n_rules++] = ckpt_rule_from_fields(kind, a, b, r->T);
}

/* Validate row i and build its rules; with_flags also computes request flags. */
static ckpt_status row_setup(const ckpt_sweep_in *in, int64_t i, int with_flags,
                             sweep_row *r, ckpt_sweep_error *err)
{
    const int64_t A = CKPT_SWEEP_ABSENT;
    int64_t S = get_i64(in->steps_per_epoch, i, A);
    int64_t e_num = get_i64(in->epochs_num, i, A);
    int64_t e_den = get_i64(in->epochs_den, i, 1);
    int64_t max_steps = get_i64(in->max_steps, i, A);
    int64_t k = get_i64(in->saves_per_epoch, i, A);
    int64_t every = get_i64(in->every, i, A);
    int64_t count = get_i64(in->count, i, A);
    int64_t r_num = get_i64(in->ratio_num, i, A);
    int64_t r_den = get_i64(in->ratio_den, i, 1);
    int64_t T;

    if (S != A && S < 1) return row_fail(err, i, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (e_num != A && (e_num < 1 || e_den < 1))
        return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (max_steps != A && max_steps < 1)
        return row_fail(err, i, CKPT_ARG_MAX_STEPS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (k != A && k < 1) return row_fail(err, i, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (every != A && every < 1) return row_fail(err, i, CKPT_ARG_EVERY, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (count != A && count < 1) return row_fail(err, i, CKPT_ARG_COUNT, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (r_num != A && (r_num < 1 || r_den < 1 || r_num >= r_den))
        return row_fail(err, i, CKPT_ARG_RATIO, CKPT_WHY_VALUE, CKPT_DOMAIN);
    r->final = in->final.data == NULL ? 1 : in->final.data[i * in->final.step] != 0;
    r->min_interval = get_i64(in->min_interval, i, 0);
    if (r->min_interval < 0)
        return row_fail(err, i, CKPT_ARG_MIN_INTERVAL, CKPT_WHY_VALUE, CKPT_DOMAIN);
    r->bytes_each = get_i64(in->checkpoint_bytes, i, 0);
    if (in->checkpoint_bytes.data != NULL && r->bytes_each < 1)
        return row_fail(err, i, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_VALUE, CKPT_DOMAIN);

    /* the run: T = max_steps, else ceil(epochs * steps_per_epoch) */
    if (max_steps != A) {
        T = max_steps;
    } else if (S == A) {
        return row_fail(err, i, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_MISSING, CKPT_DOMAIN);
    } else if (e_num == A) {
        return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_MISSING, CKPT_DOMAIN);
    } else if ((e_den == 1 ? ckpt_mul(e_num, S, &T) : ckpt_total_steps(S, e_num, e_den, &T))
               != CKPT_OK) {
        return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
    }
    r->S = S == A ? 0 : S;
    r->T = T;
    r->k = 0;
    r->n_rules = 0;
    r->flags = 0;
    r->extra = T;

    /* the rules, in the order of _rules.compile_request */
    if (k != A) {
        if (S == A)
            return row_fail(err, i, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_NEEDS_SPE, CKPT_DOMAIN);
        r->k = k;
        add_rule(r, CKPT_RULE_EVEN, S, k);
        if (k > S) r->flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
    }
    if (count != A) {
        add_rule(r, CKPT_RULE_EVEN, T, count);
        if (count > T) r->flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
    }
    if (every != A) {
        add_rule(r, CKPT_RULE_EVERY, every, every);
        if (every > T) r->flags |= CKPT_FLAG_OUT_OF_RANGE;
        else if (r->final && T % every != 0) r->flags |= CKPT_FLAG_UNEVEN_TAIL;
    }
    if (r_num != A) {
        int64_t interval;
        /* ratio < 1, so the interval is at most T: no overflow */
        if (ckpt_muldiv_ceil(T, r_num, r_den, &interval) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_RATIO, CKPT_WHY_VALUE, CKPT_DOMAIN);
        add_rule(r, CKPT_RULE_EVERY, interval, interval);
        if (with_flags) {
            double given = in->ratio_float.data != NULL
                               ? in->ratio_float.data[i * in->ratio_float.step]
                               : (double)r_num / (double)r_den;
            if (float_interval(T, given) != interval) r->flags |= CKPT_FLAG_HF_MISMATCH;
            if (r->final && T % interval != 0) r->flags |= CKPT_FLAG_UNEVEN_TAIL;
        }
    }

    r->count0 = 0;
    r->has_T0 = 0;
    if (r->n_rules > 0) rule_count_end(&r->rules[0], &r->count0, &r->has_T0);
    /* a rule that never fires (_rules._never_fires): saves_per_epoch when T*k < S,
     * every when every > T (flagged above); count and ratio always fire */
    if (k != A && r->count0 == 0) r->flags |= CKPT_FLAG_OUT_OF_RANGE;

    /* Axolotl: save_steps = 1.0 / (saves_per_epoch * float(epochs)), then transformers'
     * interval ceil(T * save_steps) and the last step (schedule._axolotl_diagnostics) */
    if (with_flags && k != A && e_num != A) {
        double epochs = in->epochs_float.data != NULL
                            ? in->epochs_float.data[i * in->epochs_float.step]
                            : (double)e_num / (double)e_den;
        double ratio = 1.0 / ((double)k * epochs);
        if (ratio < 1.0) {
            /* rules[0] is saves_per_epoch's */
            int64_t hf = float_interval(T, ratio);  /* 0: past int64, past T */
            int64_t hf_count = hf == 0 ? 1 : T / hf + (T % hf != 0);
            int64_t exact = r->count0 + (r->final && !r->has_T0);
            /* every epoch end S, 2S, ... < T is a step of the rule; transformers keeps them
             * all iff the interval divides S (and the first one, S, is one of them) */
            int missed = S < T && (hf == 0 || S % hf != 0);
            if (hf_count != exact || missed) r->flags |= CKPT_FLAG_HF_MISMATCH;
        }
    }
    return CKPT_OK;
}

static inline ckpt_sched row_sched(const sweep_row *r)
{
    ckpt_sched sched;
    sched.rules = r->rules;
    sched.n_rules = r->n_rules;
    sched.extra = &r->extra;
    sched.n_extra = r->final ? 1 : 0;
    return sched;
}

/* Greedy min_interval thinning over the union, as ckpt_min_interval does on the
 * materialized schedule, but visiting only the kept steps (via next_after).
 * Writes the kept steps to out when out != NULL (at most cap of them). */
static ckpt_status thin_walk(const sweep_row *r, int64_t *out, int64_t cap, int64_t *n_kept,
                             int64_t *last_kept, uint32_t *flags)
{
    ckpt_sched sched = row_sched(r);
    const int64_t m = r->min_interval, forced = r->final ? r->T : 0;
    int64_t kept = 0, s = ckpt_sched_next_after(&sched, 0), last = 0;
    int dropped = 0, forced_closer = 0, end_missed = 0;
    while (s != 0) {
        if (out != NULL) {
            if (kept >= cap) return CKPT_CAPACITY;
            out[kept] = s;
        }
        /* the forced final step kept closer than m to the save before it
         * (UNEVEN_TAIL in schedule._min_interval_diagnostics) */
        if (kept > 0 && s == forced && s - last < m) forced_closer = 1;
        kept++;
        last = s;
        int64_t next = ckpt_sched_next_after(&sched, s);
        if (next == 0) break;
        if (next - s >= m || next == forced) {
            s = next;
            continue;
        }
        /* `next` is dropped: keep the first step >= s + m, else the forced final step */
        dropped = 1;
        next = m - 1 > INT64_MAX - s ? 0 : ckpt_sched_next_after(&sched, s + m - 1);
        if (next == 0 && forced > s) next = forced;
        /* every epoch end is a step of saves_per_epoch: one strictly inside the gap
         * (s, next), or in (s, T] when nothing follows, was dropped */
        if (r->k != 0) {
            int64_t hi = next != 0 ? next - 1 : r->T;
            if (hi / r->S > s / r->S) end_missed = 1;
        }
        s = next;
    }
    if (flags != NULL) {
        if (dropped) *flags |= CKPT_FLAG_MIN_INTERVAL_DROPPED;
        if (forced_closer) *flags |= CKPT_FLAG_UNEVEN_TAIL;
        if (end_missed) *flags |= CKPT_FLAG_EPOCH_END_MISSED;
    }
    *n_kept = kept;
    *last_kept = last;
    return CKPT_OK;
}

/* The number of steps of the row (before min_interval) and its last step. */
static void row_count(const sweep_row *r, int64_t *count, int64_t *last)
{
    int64_t n = 0, top = r->final ? r->T : 0;
    if (r->n_rules <= 1) {  /* O(1) */
        n = r->count0 + (r->final && !r->has_T0);
    } else {
        ckpt_sched sched = row_sched(r);
        if (ckpt_sched_count(&sched, INT64_MAX, &n) != CKPT_OK)
            n = 0;  /* unreachable: no limit, and the steps are distinct int64 values */
    }
    if (!r->final) {
        for (int64_t j = 0; j < r->n_rules; j++) {
            const ckpt_rule *rule = &r->rules[j];
            int64_t c = j == 0 ? r->count0 : ckpt_rule_count(rule, rule->stop);
            if (c > 0) {
                int64_t step = ckpt_rule_nth(rule, c);
                if (step > top) top = step;
            }
        }
    }
    *count = n;
    *last = top;
}

ckpt_status ckpt_sweep_count(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                             int64_t *counts, uint32_t *flags, int64_t *bytes,
                             int64_t *offsets, ckpt_sweep_error *err)
{
    sweep_row r;
    err->row = -1;
    err->arg = CKPT_ARG_NONE;
    err->why = CKPT_WHY_NONE;
    if (begin < 0 || end > in->n_runs || begin > end || counts == NULL || flags == NULL)
        return CKPT_DOMAIN;
    if (bytes != NULL && in->checkpoint_bytes.data == NULL) return CKPT_DOMAIN;
    for (int64_t i = begin; i < end; i++) {
        ckpt_status status = row_setup(in, i, 1, &r, err);
        int64_t n, last;
        uint32_t f;
        if (status != CKPT_OK) return status;
        f = r.flags;
        if (r.min_interval > 1) {
            status = thin_walk(&r, NULL, 0, &n, &last, &f);
            if (status != CKPT_OK) return row_fail(err, i, CKPT_ARG_MIN_INTERVAL, CKPT_WHY_INTERNAL, status);
        } else {
            row_count(&r, &n, &last);
        }
        if (last == 0) f |= CKPT_FLAG_NO_SAVES;
        else if (!r.final && last < r.T) f |= CKPT_FLAG_FINAL_NOT_SAVED;
        if (bytes != NULL && ckpt_mul(n, r.bytes_each, &bytes[i]) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
        if (offsets != NULL && ckpt_add(offsets[i], n, &offsets[i + 1]) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_TOTAL, CKPT_OVERFLOW);
        counts[i] = n;
        flags[i] = f;
    }
    return CKPT_OK;
}

/* ---- fill ------------------------------------------------------------------ */

/* (c, s) -> the state one stride further, the stride being dq*q + dr (0 <= dr < q):
 * c*q - s + dq*q + dr = (c + dq)*q - (s - dr), and s - dr in (-q, q) is brought
 * back into [0, q) by one borrow.  Branch-free: the borrows follow no pattern a
 * branch predictor could learn. */
static inline void fill_step(uint64_t *c, int64_t *s, uint64_t dq, int64_t dr, int64_t q)
{
    int64_t t = *s - dr;
    uint64_t borrow = (uint64_t)(t < 0);
    *s = t + (q & -(int64_t)borrow);
    *c += dq + borrow;
}

static void add_block(int64_t *restrict dst, const int64_t *restrict src, int64_t n, int64_t add)
{
    for (int64_t t = 0; t < n; t++) dst[t] = src[t] + add;
}

void ckpt_sweep_rule_fill(const ckpt_rule *rule, int64_t *out, int64_t n)
{
    if (n <= 0) return;
    if (rule->kind == CKPT_RULE_EVERY) {
        for (int64_t j = 0; j < n; j++)
            out[j] = rule->start + j * rule->interval;  /* <= stop: no overflow */
        return;
    }
    const int64_t p = rule->span, q = rule->parts;  /* EVEN: boundaries every p/q steps */
    if (p < q) {  /* spacing below one step: every step */
        for (int64_t j = 0; j < n; j++) out[j] = j + 1;
        return;
    }
    /* ceil(i*p/q) for i = 1..min(n, q) without a division per step: keep
     * i*p = c*q - s with c = ceil(i*p/q) (the step) and 0 <= s < q, and add
     * p = dq*q + dr (one division) per step.  LANES interleaved walks, each
     * advancing i by LANES, let the carry chains overlap.  c runs in uint64: a walk
     * goes (at most LANES steps) past the last value it stores, to at most
     * 2 * INT64_MAX + 1, which wraps nothing. */
    const int64_t first = n < q ? n : q;
    const uint64_t dq = (uint64_t)(p / q);
    const int64_t dr = p % q;
    uint64_t c = dq + (dr != 0);      /* the walk's state at i = j + 1 */
    int64_t rest = dr != 0 ? q - dr : 0;
    int64_t j = 0;
    if (first >= 2 * LANES) {  /* then q > 2 * LANES */
        uint64_t lc[LANES];
        int64_t ls[LANES];
        for (int t = 0; t < LANES; t++) {  /* lane t starts at i = t + 1 */
            lc[t] = c;
            ls[t] = rest;
            fill_step(&c, &rest, dq, dr, q);
        }
        /* LANES*p = lc*q - ls = ldq*q + ldr */
        const uint64_t ldq = lc[LANES - 1] - (ls[LANES - 1] != 0);
        const int64_t ldr = ls[LANES - 1] != 0 ? q - ls[LANES - 1] : 0;
        for (; j + LANES <= first; j += LANES) {
            for (int t = 0; t < LANES; t++) {
                out[j + t] = (int64_t)lc[t];
                fill_step(&lc[t], &ls[t], ldq, ldr, q);
            }
        }
        c = lc[0];  /* lane 0 is at i = j + 1 */
        rest = ls[0];
    }
    for (; j < first; j++) {
        out[j] = (int64_t)c;
        fill_step(&c, &rest, dq, dr, q);
    }
    /* then ceil((i+q)*p/q) = ceil(i*p/q) + p: copy whole periods, doubling */
    for (int64_t filled = first; filled < n;) {
        int64_t len = filled < n - filled ? filled : n - filled;
        add_block(out + filled, out, len, filled / q * p);  /* filled is a multiple of q */
        filled += len;
    }
}

ckpt_status ckpt_sweep_fill(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                            const int64_t *offsets, int64_t *steps, ckpt_sweep_error *err)
{
    sweep_row r;
    err->row = -1;
    err->arg = CKPT_ARG_NONE;
    err->why = CKPT_WHY_NONE;
    if (begin < 0 || end > in->n_runs || begin > end || offsets == NULL) return CKPT_DOMAIN;
    for (int64_t i = begin; i < end; i++) {
        ckpt_status status = row_setup(in, i, 0, &r, err);
        int64_t cap = offsets[i + 1] - offsets[i], n = 0, last;
        int64_t *out = steps + offsets[i];
        if (status != CKPT_OK) return status;
        if (cap < 0 || (cap > 0 && steps == NULL))
            return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
        if (r.min_interval > 1) {
            status = thin_walk(&r, out, cap, &n, &last, NULL);
        } else if (r.n_rules <= 1) {
            int64_t c = r.count0;
            int tail = r.final && !r.has_T0;
            n = c + tail;
            if (n != cap) return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
            if (c) ckpt_sweep_rule_fill(&r.rules[0], out, c);
            if (tail) out[c] = r.T;
        } else {
            ckpt_sched sched = row_sched(&r);
            status = ckpt_sched_fill(&sched, out, cap, &n);
        }
        if (status != CKPT_OK || n != cap)
            return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
    }
    return CKPT_OK;
}
