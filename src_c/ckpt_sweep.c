/* ckpt_sweep.c -- sweep kernels (see ckpt_sweep.h).
 *
 * Every step comes from the rule functions of ckpt.c (or from ckpt_sweep_rule_fill,
 * which produces the same steps as ckpt_rule_nth without a division per step).
 * The diagnostic flags follow ckptsched/_rules.py and ckptsched/_diagnose.py exactly
 * (tests/test_sweep.py holds them equal to the pure-Python sweep, run by run);
 * where those compute in float on purpose (what transformers / Axolotl would do),
 * so does this file, with the same IEEE double operations in the same order.
 *
 * Each row takes the general path (row_setup, then the rule functions), unless it is a
 * run of one saves_per_epoch rule: then the fast paths below count, flag and fill it in
 * closed form, with the general path's results (tests/c/test_sweep.c and
 * tests/test_sweep_fast.py compare the two, ckpt_sweep_in.general_only).
 */
#include "ckpt_sweep.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

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
    int64_t keep_last;   /* 0 when absent: keep all */
    int whole_epochs;    /* every= in whole epochs (_diagnose: epoch_based) */
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
 * result is not below 2**63 (larger than any run).  The ceiling is taken by truncation:
 * y = T * r below 2**63 has ceil(y) < 2**63 too (doubles from 2**52 on are integers), and
 * for 1 < y < 2**63, ceil(y) = trunc(y) + (trunc(y) < y), exactly. */
static inline int64_t float_interval(int64_t T, double r)
{
    const double y = (double)T * r;
    if (!(y < 9223372036854775808.0)) return 0;  /* NaN too */
    if (y <= 1.0) return 1;
    const int64_t t = (int64_t)y;
    return t + ((double)t < y);
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
    } else if (x >= 1 && ckpt_mul(x, rule->parts, &prod) == CKPT_OK) {
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

/* One row's arguments, read from the columns; CKPT_SWEEP_ABSENT where the row does
 * not give them. */
typedef struct {
    int64_t S, e_num, e_den, max_steps, k, every, count, r_num, r_den;
    int final;
    int64_t min_interval;  /* 0 when absent */
    int64_t bytes_each;    /* 0 when absent */
    int64_t keep_last;     /* ABSENT: keep all */
    int64_t unit_span, unit_parts, unit_first;  /* every= in units; span ABSENT: none */
} row_args;

/* Does the column of `arg` give a value in every row (ckpt_sweep_in.complete), so that
 * ABSENT in it is a bad value?  (The fast paths need no test: they take steps_per_epoch and
 * saves_per_epoch >= 1 only, and send ABSENT down the general path.) */
static inline int given_everywhere(const ckpt_sweep_in *in, ckpt_sweep_arg arg)
{
    return (in->complete & CKPT_COMPLETE(arg)) != 0;
}

/* Read row i and check each argument against its domain (ckpt_sweep.h), in order. */
static ckpt_status read_row(const ckpt_sweep_in *in, int64_t i, row_args *a, ckpt_sweep_error *err)
{
    const int64_t A = CKPT_SWEEP_ABSENT;
    a->S = get_i64(in->steps_per_epoch, i, A);
    a->e_num = get_i64(in->epochs_num, i, A);
    a->e_den = get_i64(in->epochs_den, i, 1);
    a->max_steps = get_i64(in->max_steps, i, A);
    a->k = get_i64(in->saves_per_epoch, i, A);
    a->every = get_i64(in->every, i, A);
    a->count = get_i64(in->count, i, A);
    a->r_num = get_i64(in->ratio_num, i, A);
    a->r_den = get_i64(in->ratio_den, i, 1);
    a->final = in->final.data == NULL ? 1 : in->final.data[i * in->final.step] != 0;
    a->min_interval = get_i64(in->min_interval, i, 0);
    a->bytes_each = get_i64(in->checkpoint_bytes, i, 0);
    a->keep_last = get_i64(in->keep_last, i, A);
    a->unit_span = get_i64(in->every_span, i, A);
    a->unit_parts = get_i64(in->every_parts, i, 1);
    a->unit_first = get_i64(in->every_first, i, A);

    if (a->S != A ? a->S < 1 : given_everywhere(in, CKPT_ARG_STEPS_PER_EPOCH))
        return row_fail(err, i, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->e_num != A && (a->e_num < 1 || a->e_den < 1))
        return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->max_steps != A && a->max_steps < 1)
        return row_fail(err, i, CKPT_ARG_MAX_STEPS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->k != A ? a->k < 1 : given_everywhere(in, CKPT_ARG_SAVES_PER_EPOCH))
        return row_fail(err, i, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->every != A && a->every < 1)
        return row_fail(err, i, CKPT_ARG_EVERY, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->count != A && a->count < 1)
        return row_fail(err, i, CKPT_ARG_COUNT, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->r_num != A && (a->r_num < 1 || a->r_den < 1 || a->r_num >= a->r_den))
        return row_fail(err, i, CKPT_ARG_RATIO, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->min_interval < 0)
        return row_fail(err, i, CKPT_ARG_MIN_INTERVAL, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (in->checkpoint_bytes.data != NULL && a->bytes_each < 1)
        return row_fail(err, i, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->keep_last != A && a->keep_last < 1)
        return row_fail(err, i, CKPT_ARG_KEEP_LAST, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->unit_span != A && (a->every != A || a->unit_parts < 1
                              || (a->unit_span != CKPT_SWEEP_OVERFLOW && a->unit_span < 1)
                              || (a->unit_first != A && a->unit_first < 1)))
        return row_fail(err, i, CKPT_ARG_EVERY, CKPT_WHY_VALUE, CKPT_DOMAIN);
    return CKPT_OK;
}

/* The run's total steps: max_steps, else ceil(epochs * steps_per_epoch). */
static ckpt_status run_total(const row_args *a, int64_t i, int64_t *T, ckpt_sweep_error *err)
{
    const int64_t A = CKPT_SWEEP_ABSENT;
    if (a->max_steps != A) {
        *T = a->max_steps;
        return CKPT_OK;
    }
    if (a->S == A) return row_fail(err, i, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_MISSING, CKPT_DOMAIN);
    if (a->e_num == A) return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_MISSING, CKPT_DOMAIN);
    ckpt_status status = a->e_den == 1 ? ckpt_mul(a->e_num, a->S, T)
                                       : ckpt_total_steps(a->S, a->e_num, a->e_den, T);
    if (status != CKPT_OK) return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
    return CKPT_OK;
}

/* The row's rules, in the order of _rules.compile_request, and the flags the request
 * decides alone (only with_flags; HF_MISMATCH is hf_mismatch's). */
static ckpt_status build_rules(int64_t i, const row_args *a, int with_flags, sweep_row *r,
                               ckpt_sweep_error *err)
{
    const int64_t A = CKPT_SWEEP_ABSENT, T = r->T;
    if (a->k != A) {
        if (a->S == A)
            return row_fail(err, i, CKPT_ARG_SAVES_PER_EPOCH, CKPT_WHY_NEEDS_SPE, CKPT_DOMAIN);
        r->k = a->k;
        add_rule(r, CKPT_RULE_EVEN, a->S, a->k);
        if (a->k > a->S) r->flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
    }
    if (a->count != A) {
        add_rule(r, CKPT_RULE_EVEN, T, a->count);
        if (a->count > T) r->flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
    }
    if (a->every != A) {
        add_rule(r, CKPT_RULE_EVERY, a->every, a->every);
        if (a->every > T) r->flags |= CKPT_FLAG_OUT_OF_RANGE;
        else if (r->final && T % a->every != 0) r->flags |= CKPT_FLAG_UNEVEN_TAIL;
    }
    if (a->unit_span != A) {
        /* _rules._every_rule in units: below one step, every step (FEWER_THAN_REQUESTED);
         * a first step past the run, no rule (OUT_OF_RANGE); no UNEVEN_TAIL */
        if (a->unit_span != CKPT_SWEEP_OVERFLOW && a->unit_span < a->unit_parts) {
            add_rule(r, CKPT_RULE_EVEN, 1, 1);
            r->flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
        } else if (a->unit_first == A || a->unit_first > T) {
            r->flags |= CKPT_FLAG_OUT_OF_RANGE;
        } else if (a->unit_span == CKPT_SWEEP_OVERFLOW) {
            return row_fail(err, i, CKPT_ARG_EVERY, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
        } else {
            add_rule(r, CKPT_RULE_EVEN, a->unit_span, a->unit_parts);
        }
    }
    if (a->r_num != A) {
        int64_t interval;
        /* ratio < 1, so the interval is at most T: no overflow */
        if (ckpt_muldiv_ceil(T, a->r_num, a->r_den, &interval) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_RATIO, CKPT_WHY_VALUE, CKPT_DOMAIN);
        add_rule(r, CKPT_RULE_EVERY, interval, interval);
        if (with_flags && r->final && T % interval != 0) r->flags |= CKPT_FLAG_UNEVEN_TAIL;
    }
    return CKPT_OK;
}

/* Whether transformers acts at other steps than a rule (_diagnose._StepComparison, whose
 * differing count is nonzero exactly when this is true): the rule's steps are ceil(i*a/b),
 * i >= 1, up to T, plus T when `final`; transformers' are the multiples of h below T, plus
 * T (it saves at the last step).  h == 0 stands for an interval past int64 (past the run).
 * Below T both are increasing sequences, so they are equal iff they have the same length J
 * and ceil(i*a/b) == i*h for every i <= J, which (i*(h*b - a) < b growing with i) holds iff
 * it holds for i = J.  O(1): no step is walked. */
static int framework_differs(int64_t T, int64_t a, int64_t b, int final, int64_t h)
{
    int64_t J, J_T, last, Jh;
    if (b > a) a = b = 1;  /* boundaries closer than a step: every step */
    /* (T-1)*b/a <= T-1 and T*b/a <= T as a >= b: no overflow */
    if (ckpt_muldiv_floor(T - 1, b, a, &J) != CKPT_OK
        || ckpt_muldiv_floor(T, b, a, &J_T) != CKPT_OK)
        return 1;
    const int64_t M = h == 0 ? 0 : (T - 1) / h;
    if (J != M) return 1;
    if (J > 0) {
        if (ckpt_muldiv_ceil(J, a, b, &last) != CKPT_OK) return 1;
        if (ckpt_mul(J, h, &Jh) != CKPT_OK || Jh != last) return 1;
    }
    const int exact_at_T = final || J_T > J;
    return !exact_at_T;  /* transformers always acts at T */
}

/* HF_MISMATCH of each rule transformers / Axolotl can express, as
 * _diagnose._framework_diagnostics decides it, in float where they compute in float. */
static int hf_mismatch(const ckpt_sweep_in *in, int64_t i, const row_args *a, const sweep_row *r)
{
    const int64_t A = CKPT_SWEEP_ABSENT, T = r->T;
    if (a->k != A && a->S != A && a->e_num != A) {
        /* Axolotl's save_steps = 1.0 / (saves_per_epoch * float(epochs)) */
        double epochs = in->epochs_float.data != NULL
                            ? in->epochs_float.data[i * in->epochs_float.step]
                            : (double)a->e_num / (double)a->e_den;
        double ratio = 1.0 / ((double)a->k * epochs);
        if (ratio < 1.0 && framework_differs(T, a->S, a->k, r->final, float_interval(T, ratio)))
            return 1;
    }
    if (a->count != A && a->count > 1
        && framework_differs(T, T, a->count, r->final, float_interval(T, 1.0 / (double)a->count)))
        return 1;
    if (a->every != A && framework_differs(T, a->every, 1, r->final, a->every))
        return 1;
    if (a->r_num != A) {
        double given = in->ratio_float.data != NULL
                           ? in->ratio_float.data[i * in->ratio_float.step]
                           : (double)a->r_num / (double)a->r_den;
        int64_t interval;
        if (ckpt_muldiv_ceil(T, a->r_num, a->r_den, &interval) == CKPT_OK
            && framework_differs(T, interval, 1, r->final, float_interval(T, given)))
            return 1;
    }
    return 0;
}

/* Read and validate row i and build its rules; with_flags also computes the flags the
 * request decides (those of the steps come from the passes). */
static ckpt_status row_setup(const ckpt_sweep_in *in, int64_t i, int with_flags,
                             sweep_row *r, ckpt_sweep_error *err)
{
    const int64_t A = CKPT_SWEEP_ABSENT;
    row_args a;
    int64_t T;
    ckpt_status status = read_row(in, i, &a, err);
    if (status == CKPT_OK) status = run_total(&a, i, &T, err);
    if (status != CKPT_OK) return status;
    r->S = a.S == A ? 0 : a.S;
    r->T = T;
    r->k = 0;
    r->final = a.final;
    r->min_interval = a.min_interval;
    r->bytes_each = a.bytes_each;
    r->keep_last = a.keep_last == A ? 0 : a.keep_last;
    r->whole_epochs = a.unit_span != A && in->every_whole_epochs.data != NULL
                      && in->every_whole_epochs.data[i * in->every_whole_epochs.step] != 0;
    r->n_rules = 0;
    r->flags = 0;
    r->extra = T;
    status = build_rules(i, &a, with_flags, r, err);
    if (status != CKPT_OK) return status;

    r->count0 = 0;
    r->has_T0 = 0;
    if (r->n_rules > 0) rule_count_end(&r->rules[0], &r->count0, &r->has_T0);
    /* a rule that never fires (_rules._never_fires): saves_per_epoch when T*k < S,
     * every when every > T (flagged above); count and ratio always fire */
    if (a.k != A && r->count0 == 0) r->flags |= CKPT_FLAG_OUT_OF_RANGE;
    if (with_flags && hf_mismatch(in, i, &a, r)) r->flags |= CKPT_FLAG_HF_MISMATCH;
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
 * Writes the kept steps to out when out != NULL; CKPT_CAPACITY when there are more
 * than cap of them (cap bounds the walk with or without out). */
static ckpt_status thin_walk(const sweep_row *r, int64_t *out, int64_t cap, int64_t *n_kept,
                             int64_t *last_kept, uint32_t *flags)
{
    ckpt_sched sched = row_sched(r);
    const int64_t m = r->min_interval, forced = r->final ? r->T : 0;
    int64_t kept = 0, s = ckpt_sched_next_after(&sched, 0), last = 0;
    int dropped = 0, forced_closer = 0, end_missed = 0;
    while (s != 0) {
        if (kept >= cap) return CKPT_CAPACITY;
        if (out != NULL) out[kept] = s;
        /* the forced final step kept closer than m to the save before it
         * (UNEVEN_TAIL in _diagnose._min_interval_diagnostics) */
        if (kept > 0 && s == forced && s - last < m) forced_closer = 1;
        kept++;
        last = s;
        int64_t next = ckpt_sched_next_after(&sched, s);
        if (next == 0) break;
        if (next - s >= m || next == forced) {
            s = next;
            continue;
        }
        /* `next` is dropped: keep the first step >= s + m, else the forced final step.
         * s + (m - 1) may be exactly INT64_MAX: never form s + m. */
        dropped = 1;
        next = m - 1 > INT64_MAX - s ? 0 : ckpt_sched_next_after(&sched, s + (m - 1));
        if (next == 0 && forced > s) next = forced;
        /* every epoch end is a step of saves_per_epoch: one strictly inside the gap
         * (s, next), or in (s, T] when nothing follows, was dropped */
        if (r->k != 0) {
            int64_t hi = next != 0 ? next - 1 : r->T;
            if (hi / r->S > s / r->S) end_missed = 1;
        } else if (r->whole_epochs && r->S != 0 && !end_missed) {
            /* not every epoch end is a step: look at the dropped ones (at most the
             * union's steps in all, which the caller bounds) */
            for (int64_t t = ckpt_sched_next_after(&sched, s); t != 0 && (next == 0 || t < next);
                 t = ckpt_sched_next_after(&sched, t)) {
                if (t % r->S == 0) {
                    end_missed = 1;
                    break;
                }
            }
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

/* Whether counting the row walks its union: several rules, or min_interval > 1. */
static inline int row_walks(const sweep_row *r)
{
    return r->n_rules > 1 || r->min_interval > 1;
}

/* The number of steps of the row's union (before min_interval): O(1) with at most one
 * rule, else a walk.  CKPT_CAPACITY when the row walks (row_walks) and its union has
 * more than `limit` steps; a rule with more steps than that is refused before walking. */
static ckpt_status union_count(const sweep_row *r, int64_t limit, int64_t *n)
{
    if (r->n_rules <= 1) {
        *n = r->count0 + (r->final && !r->has_T0);
        return row_walks(r) && *n > limit ? CKPT_CAPACITY : CKPT_OK;
    }
    for (int64_t j = 0; j < r->n_rules; j++) {
        const ckpt_rule *rule = &r->rules[j];
        if (ckpt_rule_count(rule, rule->stop) > limit) return CKPT_CAPACITY;
    }
    ckpt_sched sched = row_sched(r);
    return ckpt_sched_count(&sched, limit, n) == CKPT_OK ? CKPT_OK : CKPT_CAPACITY;
}

/* The last step of the row's union (before min_interval), 0 when it has none. */
static int64_t union_last(const sweep_row *r)
{
    if (r->final) return r->T;
    int64_t top = 0;
    for (int64_t j = 0; j < r->n_rules; j++) {
        const ckpt_rule *rule = &r->rules[j];
        int64_t c = j == 0 ? r->count0 : ckpt_rule_count(rule, rule->stop);
        if (c > 0) {
            int64_t step = ckpt_rule_nth(rule, c);
            if (step > top) top = step;
        }
    }
    return top;
}

/* A pass starts with no row done and no error. */
static inline void start_pass(int64_t begin, int64_t *done, ckpt_sweep_error *err)
{
    *done = begin;
    err->row = -1;
    err->arg = CKPT_ARG_NONE;
    err->why = CKPT_WHY_NONE;
}

/* Has a pass that did `work` so far used up the sweep's budget? */
static inline int budget_spent(const ckpt_sweep_in *in, int64_t work)
{
    return in->work_budget > 0 && work > in->work_budget;
}

/* ---- the rule fill ------------------------------------------------------------- */

/* (c, s) -> the state one stride further, the stride being dq*q + dr (0 <= dr < q):
 * c*q - s + dq*q + dr = (c + dq)*q - (s - dr), and s - dr in (-q, q) is brought
 * back into [0, q) by one borrow.  Branch-free: the borrows follow no pattern a
 * branch predictor could learn. */
static inline void fill_step(uint64_t *c, int64_t *s, uint64_t dq, int64_t dr, int64_t q)
{
    const int64_t t = *s - dr;
    const int64_t borrow = -(int64_t)(t < 0);  /* all ones when t < 0 */
    *s = t + (q & borrow);
    *c += dq - (uint64_t)borrow;
}

static void add_block(int64_t *restrict dst, const int64_t *restrict src, int64_t n, int64_t add)
{
    for (int64_t t = 0; t < n; t++) dst[t] = src[t] + add;
}

/* out[first .. n) from out[0 .. first), the first min(n, q) steps of EVEN(p, q) (first is
 * q when n > q): ceil((i+q)*p/q) = ceil(i*p/q) + p, so whole periods are copied, doubling. */
static inline void repeat_periods(int64_t p, int64_t q, int64_t first, int64_t n, int64_t *out)
{
    for (int64_t filled = first; filled < n;) {
        int64_t len = filled < n - filled ? filled : n - filled;
        add_block(out + filled, out, len, filled / q * p);  /* filled is a multiple of q */
        filled += len;
    }
}

/* ceil(i*p/q) for i = 1..n (p >= q, so one step per boundary) without a division per
 * step: keep i*p = c*q - s with c = ceil(i*p/q) (the step) and 0 <= s < q, and add
 * p = dq*q + dr (one division) per step, over the first period (min(n, q) steps); LANES
 * interleaved walks, each advancing i by LANES, let the carry chains overlap.  Then
 * ceil((i+q)*p/q) = ceil(i*p/q) + p: whole periods are copied, doubling.  c runs in
 * uint64: a walk goes (at most LANES steps) past the last value it stores, to at most
 * 2 * INT64_MAX + 1, which wraps nothing. */
static inline void even_steps(int64_t p, int64_t q, int64_t n, int64_t *out)
{
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
    repeat_periods(p, q, first, n, out);
}

/* The high 64 bits of a * b. */
static inline uint64_t mul_high(uint64_t a, uint64_t b)
{
#ifndef CKPT_NO_INT128
    return (uint64_t)(((ckpt_u128)a * b) >> 64);
#else
    uint64_t hi, lo;
    ckpt_mul_u64_wide(a, b, &hi, &lo);
    return hi;
#endif
}

/* Division by a fixed d >= 1 without a divide instruction, for dividends below 2**62:
 * x >> l when d = 2**l, else the high word of x * m shifted by l - 2, with
 * l = ceil(log2 d) >= 2 and m = ceil(2**(62+l) / d) <= 2**63, which gives floor(x / d)
 * exactly since 2**(62+l) <= m*d < 2**(62+l) + 2**l (Granlund and Montgomery, "Division
 * by invariant integers using multiplication", 1994, theorem 4.2, with N = 62). */
typedef struct {
    uint64_t m;  /* 0: d is a power of two */
    int shift;
} divider;

static divider divider_for(int64_t d)
{
    divider dv;
    int l = 0;
    while (((uint64_t)1 << l) < (uint64_t)d) l++;  /* l = ceil(log2 d) <= 63 */
    if (((uint64_t)1 << l) == (uint64_t)d) {
        dv.m = 0;
        dv.shift = l;
    } else {  /* d, no power of two, does not divide 2**(62+l): m = floor(...) + 1 */
        uint64_t quot = 0, rem;
        /* 2**(62+l) / d < 2**63 (2**(l-1) < d): the quotient fits */
        (void)ckpt_muldivmod_u64((uint64_t)1 << 62, (uint64_t)1 << l, (uint64_t)d, &quot, &rem);
        dv.m = quot + 1;
        dv.shift = l - 2;
    }
    return dv;
}

static inline uint64_t divide(const divider *dv, uint64_t x)
{
    return dv->m == 0 ? x >> dv->shift : mul_high(x, dv->m) >> dv->shift;
}

/* even_steps(p, q, n, out) with dv the divider of q: the first period by division
 * (ceil(i*p/q) = floor((i*p + q - 1) / q), every step on its own), the rest as there.
 * Falls back to even_steps when p >= 2**30 (the dividends then may reach 2**62). */
static inline void even_steps_div(int64_t p, int64_t q, const divider *dv, int64_t n,
                                  int64_t *out)
{
    if (p >= ((int64_t)1 << 30)) {
        even_steps(p, q, n, out);
        return;
    }
    const int64_t first = n < q ? n : q;
    uint64_t x = (uint64_t)(p + q - 1);  /* at most q*p + q - 1 < 2**61: no overflow */
    for (int64_t j = 0; j < first; j++, x += (uint64_t)p) out[j] = (int64_t)divide(dv, x);
    repeat_periods(p, q, first, n, out);
}

void ckpt_sweep_rule_fill(const ckpt_rule *rule, int64_t *out, int64_t n)
{
    if (n <= 0) return;
    if (rule->kind == CKPT_RULE_EVERY) {
        for (int64_t j = 0; j < n; j++)
            out[j] = rule->start + j * rule->interval;  /* <= stop: no overflow */
    } else if (rule->span < rule->parts) {  /* spacing below one step: every step */
        for (int64_t j = 0; j < n; j++) out[j] = j + 1;
    } else {  /* EVEN: boundaries every span/parts steps */
        even_steps(rule->span, rule->parts, n, out);
    }
}

/* ---- the fast paths: runs of one saves_per_epoch rule ---------------------------
 *
 * Most sweeps vary the runs of one saves_per_epoch rule.  Such a run is counted, flagged
 * and filled in closed form here, with the results of the general path (row_setup and
 * what follows it), which the tests hold equal run by run (ckpt_sweep_in.general_only).
 * A run qualifies when it has steps_per_epoch and saves_per_epoch and no other rule,
 * min_interval 0 or 1, every value in its domain, and a total, bytes and running total
 * that fit in int64.  Any other run -- a bad one included, so that its error is exactly
 * the general path's -- takes the general path, from scratch, before anything of it is
 * written.
 *
 * Two tiers.  Blocks of BLOCK rows whose columns show, by their minima, that every row
 * is a run of whole epochs (T = epochs * steps_per_epoch) with valid values take the
 * whole-epochs loops: no row is checked on its own, and a row is counted and flagged with
 * multiplications only (no division) and filled with one.  Other qualifying rows are
 * read and checked one by one (fast_read).  Each step works over a block in its own
 * short loop, so that the processor overlaps the rows' long latency chains.
 *
 * The commonest sweeps, runs of one epochs that differ in steps_per_epoch and perhaps
 * saves_per_epoch, have loops of their own ("regular" blocks: count_regular,
 * fill_regular): counting and flagging such a run is a few double operations, in a loop
 * the compiler vectorizes, and its steps are a running sum with nothing checked per run. */

/* A kernel: a loop that the compiler vectorizes on its own, but not once it is inlined
 * into a pass's large function, nor once a constant argument is propagated into it (seen
 * with gcc 12), so kept apart from its callers where the compiler allows. */
#if defined(__GNUC__) && !defined(__clang__)
#define KERNEL __attribute__((noipa)) static
#elif defined(__GNUC__)
#define KERNEL __attribute__((noinline)) static
#else
#define KERNEL static
#endif

/* A wide kernel: a KERNEL whose arithmetic bounds its speed, which gcc also compiles for
 * AVX2 (on x86-64 with glibc's ifuncs), the version run chosen when the library loads by
 * the processor it runs on; the same C either way.  CKPT_NO_CLONES builds the portable
 * version only (tests/c/run.sh tests both). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) \
    && !defined(CKPT_NO_CLONES)
#define WIDE_KERNEL __attribute__((noinline, target_clones("avx2", "default"))) static
#else
#define WIDE_KERNEL KERNEL
#endif

#define BLOCK 64
#define NO_CHECK (-1)  /* an HF_MISMATCH interval: nothing to compare */
/* saves_per_epoch below this has its HF_MISMATCH reciprocal in a table (fast_cols.recip) */
#define RECIP_SIZE 256
/* Below this, steps_per_epoch, saves_per_epoch and a run's total are "small": a product
 * of two of them is below 2**62, so the small paths multiply them without checking. */
#define SMALL ((int64_t)1 << 31)

static const int64_t absent_value = CKPT_SWEEP_ABSENT, one_value = 1, zero_value = 0;

/* The columns the fast paths read; an absent one reads as its constant (step 0), so that
 * reading a row tests nothing for NULL. */
typedef struct {
    ckpt_col_i64 S, e_num, e_den, max_steps, k, min_interval, bytes, keep_last;
    ckpt_col_i64 every, count, ratio_num, every_span;
    ckpt_col_f64 e_float;  /* data NULL: epochs in double are (double)num / (double)den */
    ckpt_col_u8 final;     /* data NULL: 1 */
    int other_rules;       /* every, count, ratio or every_span is given for some row */
    int has_bytes;         /* checkpoint_bytes is given */
    int whole;             /* whole-epochs blocks are possible: no max_steps, no other rule,
                              epochs_den, min_interval, keep_last and checkpoint_bytes one
                              valid value (or absent) for every row, epochs_den 1 */
    int64_t keep_last_all, bytes_all;  /* with `whole`: every row's keep_last (0: keep
                                          all) and checkpoint_bytes (0: none) */
    int shared_epochs;     /* with `whole`: steps_per_epoch one value per row, epochs and
                              epochs in double one value for every row (the sweeps of the
                              regular blocks) */
    int has_recip;         /* with `whole` and one epochs for every row: recip[k] is */
    double recip[RECIP_SIZE];  /* 1.0 / (k * epochs in double) for 1 <= k < RECIP_SIZE */
} fast_cols;

static inline ckpt_col_i64 or_constant(ckpt_col_i64 col, const int64_t *constant)
{
    if (col.data == NULL) {
        col.data = constant;
        col.step = 0;
    }
    return col;
}

#define AT(col, i) ((col).data[(i) * (col).step])

static void fast_cols_init(const ckpt_sweep_in *in, fast_cols *c)
{
    static const uint8_t true_value = 1;
    const int64_t A = CKPT_SWEEP_ABSENT;
    c->S = or_constant(in->steps_per_epoch, &absent_value);
    c->e_num = or_constant(in->epochs_num, &absent_value);
    c->e_den = or_constant(in->epochs_den, &one_value);
    c->max_steps = or_constant(in->max_steps, &absent_value);
    c->k = or_constant(in->saves_per_epoch, &absent_value);
    c->min_interval = or_constant(in->min_interval, &zero_value);
    c->bytes = or_constant(in->checkpoint_bytes, &one_value);
    c->keep_last = or_constant(in->keep_last, &absent_value);
    c->every = or_constant(in->every, &absent_value);
    c->count = or_constant(in->count, &absent_value);
    c->ratio_num = or_constant(in->ratio_num, &absent_value);
    c->every_span = or_constant(in->every_span, &absent_value);
    c->e_float = in->epochs_float;
    c->final = in->final;
    if (c->final.data == NULL) {
        c->final.data = &true_value;
        c->final.step = 0;
    }
    c->other_rules = in->every.data != NULL || in->count.data != NULL
                     || in->ratio_num.data != NULL || in->every_span.data != NULL;
    c->has_bytes = in->checkpoint_bytes.data != NULL;
    /* one value for every row: (read only when there is a row) */
    const int shared = c->e_den.step == 0 && c->min_interval.step == 0 && c->keep_last.step == 0
                       && c->bytes.step == 0;
    c->whole = 0;
    c->keep_last_all = c->bytes_all = 0;
    if (in->n_runs > 0 && shared && !c->other_rules && in->max_steps.data == NULL
        && in->steps_per_epoch.data != NULL && in->saves_per_epoch.data != NULL
        && in->epochs_num.data != NULL) {
        const int64_t ed = c->e_den.data[0], m = c->min_interval.data[0];
        const int64_t kl = c->keep_last.data[0], bytes_each = c->bytes.data[0];
        c->whole = ed == 1 && (m == 0 || m == 1) && (kl == A || kl >= 1) && bytes_each >= 1;
        c->keep_last_all = kl == A ? 0 : kl;
        c->bytes_all = c->has_bytes ? bytes_each : 0;
    }
    c->shared_epochs = c->whole && c->S.step == 1 && c->e_num.step == 0 && c->e_float.step == 0;
    /* the same IEEE operations as axolotl_interval's, once per saves_per_epoch value
     * instead of once per row (worth it only over enough rows) */
    c->has_recip = c->whole && c->e_num.step == 0 && c->e_float.step == 0
                   && in->n_runs >= RECIP_SIZE;
    if (c->has_recip) {
        const double epochs = c->e_float.data != NULL ? c->e_float.data[0]
                                                      : (double)c->e_num.data[0];
        for (int64_t k = 1; k < RECIP_SIZE; k++) c->recip[k] = 1.0 / ((double)k * epochs);
        c->recip[0] = 0.0;  /* never read: saves_per_epoch >= 1 */
    }
}

/* The OR of x | (x - 1) over rows [b0, b0 + nb) of a column, as an int64: negative iff a
 * value is below 1 (x | (x - 1) has the sign bit of x, or of x - 1 when x is 0), else an
 * upper bound of every value, below 2**m iff every value is (each bit once).  Vectorizes,
 * unlike a minimum and a maximum of int64. */
static inline int64_t block_bound(ckpt_col_i64 col, int64_t b0, int64_t nb)
{
    if (col.step == 0) {
        const uint64_t x = (uint64_t)col.data[0];
        return (int64_t)(x | (x - 1));
    }
    const int64_t *x = col.data + b0;
    uint64_t acc = 0;
    for (int64_t j = 0; j < nb; j++) acc |= (uint64_t)x[j] | ((uint64_t)x[j] - 1);
    return (int64_t)acc;
}

/* What the whole-epochs paths can do with a block of rows (c->whole given). */
typedef enum {
    BLOCK_ROWS,   /* not every row is a run of whole epochs: row by row */
    BLOCK_WHOLE,  /* every row is: steps_per_epoch, saves_per_epoch and epochs all >= 1
                     (ABSENT is below 1) */
    BLOCK_SMALL,  /* and their bounds (block_bound), and so every row's total E*S, are
                     below SMALL */
} block_kind;

static inline block_kind classify_block(const fast_cols *c, int64_t b0, int64_t nb)
{
    const int64_t S = block_bound(c->S, b0, nb), k = block_bound(c->k, b0, nb);
    const int64_t E = block_bound(c->e_num, b0, nb);
    if (S < 0 || k < 0 || E < 0) return BLOCK_ROWS;
    /* S, E < 2**31 bound every row's, and their product does not overflow */
    return S < SMALL && k < SMALL && E < SMALL && S * E < SMALL ? BLOCK_SMALL : BLOCK_WHOLE;
}

/* The epochs of row i in double: the float arithmetic of transformers / Axolotl starts
 * from there (hf_mismatch). */
static inline double epochs_float(const fast_cols *c, int64_t i, int64_t e_num, int64_t e_den)
{
    return c->e_float.data != NULL ? AT(c->e_float, i) : (double)e_num / (double)e_den;
}

/* hf_mismatch's interval for saves_per_epoch k: what transformers saves every, from
 * Axolotl's save_steps = 1.0 / (saves_per_epoch * float(epochs)) (float_interval: 0 past
 * int64); NO_CHECK when save_steps >= 1 (no interval to compare). */
static inline int64_t axolotl_interval(int64_t T, int64_t k, double epochs)
{
    double ratio = 1.0 / ((double)k * epochs);
    return ratio < 1.0 ? float_interval(T, ratio) : NO_CHECK;
}

/* Whether transformers acts at other steps than the rule EVEN(S, k) up to T of count0 steps,
 * T among them when has_T (h >= 0 its interval, as for framework_differs), for T, S < SMALL
 * (k any), without division: its J steps below T are count0 - has_T, so J == M and the J-th
 * step are tested by multiplying.  No product can overflow once h and J*h are capped at
 * T, which changes no answer (h >= T, or J*h >= T, differs in any case), as J <= T and
 * a, b <= S.  Branch-free: in a sweep, whether runs differ follows no pattern a branch
 * predictor could learn. */
static inline int differs_small(int64_t T, int64_t S, int64_t k, int64_t count0, int64_t has_T,
                                int64_t final, int64_t h)
{
    const int64_t J = count0 - has_T;
    const int every_step = k > S;  /* spacing below one step: the rule is every step */
    const int64_t a = every_step ? 1 : S, b = every_step ? 1 : k;
    h = h < T ? h : T;
    const int64_t Jh = J * h, Jh_capped = Jh < T ? Jh : T, Ja = J * a, Jhb = Jh_capped * b;
    /* J == 0: M = (T-1)/h must be 0 too (h = 0: M = 0) */
    const int none_below = (h != 0) & (h <= T - 1);
    /* J > 0: h = 0 gives M = 0 < J; the J-th step, ceil(Ja / b), below T, must be J*h
     * (Jhb - b < Ja <= Jhb); and J*h <= T-1 < (J+1)*h, i.e. M == J */
    const int some_below = (h == 0) | (Jh >= T) | (Jhb - b >= Ja) | (Ja > Jhb)
                           | (T - Jh_capped > h);
    /* and transformers acts at T, which the rule must then have too */
    return (!final & !has_T) | (J == 0 ? none_below : some_below);
}

/* framework_differs(T, S, k, final, h) for the rule EVEN(S, k) up to T of count0 steps,
 * T among them when has_T, h >= 0: without division (differs_small) unless T or S is not
 * small. */
static inline int differs(int64_t T, int64_t S, int64_t k, int64_t count0, int64_t has_T,
                          int64_t final, int64_t h)
{
    return T < SMALL && S < SMALL ? differs_small(T, S, k, count0, has_T, final, h)
                                  : framework_differs(T, S, k, (int)final, h);
}

/* The count of whole-epochs run S, k, E (T = E * S, which is one of its steps). */
static inline int64_t whole_count(int64_t S, int64_t k, int64_t E, int64_t T)
{
    return k <= S ? E * k : T;  /* E * k <= E * S = T: fits */
}

/* A qualifying run read by fast_read: its rule is EVEN(S, k) up to T.  All int64: two
 * adjacent int flags would be tested as one 8-byte word, which stalls on the two stores
 * that wrote them. */
typedef struct {
    int64_t S, k, T;
    int64_t e_num, e_den;  /* e_num ABSENT: no epochs (no HF_MISMATCH check) */
    int64_t count0;        /* the rule's steps                                 */
    int64_t has_T;         /* 1: T is one of them                              */
    int64_t final;         /* 1: T is saved in any case                        */
    int64_t keep_last;     /* 0: keep every checkpoint                         */
    int64_t bytes_each;    /* 0: no checkpoint_bytes                           */
} fast_run;

/* Read and check row i: 1 when it qualifies for the fast path (then *f is the run). */
static inline int fast_read(const fast_cols *c, int64_t i, fast_run *f)
{
    const int64_t A = CKPT_SWEEP_ABSENT;
    const int64_t S = AT(c->S, i), k = AT(c->k, i), en = AT(c->e_num, i), ed = AT(c->e_den, i);
    const int64_t ms = AT(c->max_steps, i), m = AT(c->min_interval, i), kl = AT(c->keep_last, i);
    const int64_t bytes_each = c->has_bytes ? AT(c->bytes, i) : 0;
    int ok = (S >= 1) & (k >= 1) & (m >= 0) & (m <= 1) & ((kl == A) | (kl >= 1))
             & ((en == A) | ((en >= 1) & (ed >= 1))) & (ms == A ? en != A : ms >= 1)
             & (!c->has_bytes | (bytes_each >= 1));
    if (c->other_rules)
        ok &= (AT(c->every, i) == A) & (AT(c->count, i) == A) & (AT(c->ratio_num, i) == A)
              & (AT(c->every_span, i) == A);
    if (!ok) return 0;
    int64_t T;
    if (ms != A) T = ms;
    else if (ed == 1 ? ckpt_mul(en, S, &T) != CKPT_OK : ckpt_total_steps(S, en, ed, &T) != CKPT_OK)
        return 0;  /* the general path names the overflow */
    f->S = S, f->k = k, f->T = T, f->e_num = en, f->e_den = ed;
    f->final = AT(c->final, i) != 0;
    f->keep_last = kl == A ? 0 : kl;
    f->bytes_each = bytes_each;
    if (ms == A && ed == 1) {
        f->count0 = whole_count(S, k, en, T);
        f->has_T = 1;
    } else {
        ckpt_rule rule = ckpt_rule_even(S, k, T);
        int has_T;
        rule_count_end(&rule, &f->count0, &has_T);
        f->has_T = has_T;
    }
    return 1;
}

/* ---- the count pass ------------------------------------------------------------- */

/* Where the count pass writes. */
typedef struct {
    int64_t *counts;
    uint32_t *flags;
    int64_t *bytes;
    int64_t *offsets;
    const ckpt_sweep_disk *disk;
    int any_disk;    /* a disk output is asked for */
    int with_bytes;  /* bytes or disk->peak_bytes is: count * checkpoint_bytes is checked */
} count_out;

/* Row i's disk outputs for n steps (retention.Retention, plan._timeline): the last N
 * stay, and the save in flight joins them before the oldest is deleted; peak <= n, so
 * peak * bytes_each <= n * bytes_each fits (o->with_bytes: checked). */
static inline void put_disk(const count_out *o, int64_t i, int64_t n, int64_t keep_last,
                            int64_t bytes_each)
{
    const int keeps = keep_last != 0 && keep_last < n;
    const int64_t peak = keeps ? keep_last + 1 : n;
    if (o->disk->peak != NULL) o->disk->peak[i] = peak;
    if (o->disk->peak_bytes != NULL) o->disk->peak_bytes[i] = peak * bytes_each;
    if (o->disk->survivors != NULL) o->disk->survivors[i] = keeps ? keep_last : n;
}

/* Count row i by the general path; *walked the steps it walked.  CKPT_OK or the row's
 * error. */
static ckpt_status count_general(const ckpt_sweep_in *in, int64_t i, const count_out *o,
                                 int64_t *walked, ckpt_sweep_error *err)
{
    sweep_row r;
    int64_t n, last;
    uint32_t f;
    ckpt_status status = row_setup(in, i, 1, &r, err);
    if (status != CKPT_OK) return status;
    f = r.flags;
    if (union_count(&r, in->walk_limit, &n) != CKPT_OK)
        return row_fail(err, i, r.min_interval > 1 ? CKPT_ARG_MIN_INTERVAL : CKPT_ARG_NONE,
                        CKPT_WHY_WALK, CKPT_CAPACITY);
    *walked = row_walks(&r) ? n : 0;
    if (r.min_interval > 1) {
        status = thin_walk(&r, NULL, n, &n, &last, &f);  /* it keeps at most n */
        if (status != CKPT_OK) return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, status);
    } else {
        last = union_last(&r);
    }
    if (last == 0) f |= CKPT_FLAG_NO_SAVES;
    else if (!r.final && last < r.T) f |= CKPT_FLAG_FINAL_NOT_SAVED;
    int64_t nbytes = 0;
    if (o->with_bytes && ckpt_mul(n, r.bytes_each, &nbytes) != CKPT_OK)
        return row_fail(err, i, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
    if (o->offsets != NULL && ckpt_add(o->offsets[i], n, &o->offsets[i + 1]) != CKPT_OK)
        return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_TOTAL, CKPT_OVERFLOW);
    if (o->bytes != NULL) o->bytes[i] = nbytes;
    put_disk(o, i, n, r.keep_last, r.bytes_each);
    o->counts[i] = n;
    o->flags[i] = f;
    return CKPT_OK;
}

/* Count qualifying row i (run f, HF_MISMATCH interval h): 0, with nothing written, when
 * its bytes or the running total overflow (the general path then names the error). */
static inline int count_fast(const count_out *o, int64_t i, const fast_run *f, int64_t h)
{
    const int64_t n = f->count0 + (f->final & !f->has_T);
    int64_t nbytes = 0, next = 0;
    uint32_t flags = 0;
    if (o->with_bytes && ckpt_mul(n, f->bytes_each, &nbytes) != CKPT_OK) return 0;
    if (o->offsets != NULL && ckpt_add(o->offsets[i], n, &next) != CKPT_OK) return 0;
    if (o->bytes != NULL) o->bytes[i] = nbytes;
    if (o->offsets != NULL) o->offsets[i + 1] = next;
    put_disk(o, i, n, f->keep_last, f->bytes_each);
    if (f->k > f->S) flags |= CKPT_FLAG_FEWER_THAN_REQUESTED;
    if (f->count0 == 0) flags |= CKPT_FLAG_OUT_OF_RANGE;  /* T*k < S: the rule never fires */
    if (n == 0) flags |= CKPT_FLAG_NO_SAVES;
    else if (!f->final && !f->has_T) flags |= CKPT_FLAG_FINAL_NOT_SAVED;  /* last < T */
    if (h != NO_CHECK && differs(f->T, f->S, f->k, f->count0, f->has_T, f->final, h))
        flags |= CKPT_FLAG_HF_MISMATCH;
    o->counts[i] = n;
    o->flags[i] = flags;
    return 1;
}

/* Count rows [b0, b0 + nb) of a whole-epochs block; returns the rows done, fewer than nb
 * when a row's total, bytes or running total overflows (that row and the rest of the
 * block are left to the row-by-row path, which names the error). */
static int64_t count_whole(const fast_cols *c, int64_t b0, int64_t nb, const count_out *o)
{
    /* the columns in locals: the stores below could otherwise alias their steps */
    const int64_t sS = c->S.step, sk = c->k.step, sE = c->e_num.step, sF = c->e_float.step;
    const int64_t *const S_ = c->S.data + b0 * sS, *const k_ = c->k.data + b0 * sk;
    const int64_t *const E_ = c->e_num.data + b0 * sE;
    const double *const F_ = c->e_float.data != NULL ? c->e_float.data + b0 * sF : NULL;
    int64_t *const counts = o->counts + b0, *const offsets = o->offsets;
    int64_t *const bytes = o->bytes;
    uint32_t *const flags = o->flags + b0;
    const int64_t bytes_all = c->bytes_all, keep_last_all = c->keep_last_all;
    const int any_disk = o->any_disk;
    int64_t T[BLOCK], h[BLOCK];
    int64_t n_ok = nb;
    for (int64_t j = 0; j < nb; j++) {
        if (ckpt_mul(E_[j * sE], S_[j * sS], &T[j]) != CKPT_OK) {
            n_ok = j;
            break;
        }
        const double epochs = F_ != NULL ? F_[j * sF] : (double)E_[j * sE];
        h[j] = axolotl_interval(T[j], k_[j * sk], epochs);
    }
    for (int64_t j = 0; j < n_ok; j++) {
        const int64_t S = S_[j * sS], k = k_[j * sk];
        const int64_t n = whole_count(S, k, E_[j * sE], T[j]);
        /* bytes, then the running total: where the general path checks them */
        int64_t nbytes = 0;
        if (o->with_bytes && ckpt_mul(n, bytes_all, &nbytes) != CKPT_OK) return j;
        if (offsets != NULL && ckpt_add(offsets[b0 + j], n, &offsets[b0 + j + 1]) != CKPT_OK)
            return j;
        if (bytes != NULL) bytes[b0 + j] = nbytes;
        if (any_disk) put_disk(o, b0 + j, n, keep_last_all, bytes_all);
        counts[j] = n;
        flags[j] = (k > S ? CKPT_FLAG_FEWER_THAN_REQUESTED : 0)
                   | (h[j] != NO_CHECK && differs(T[j], S, k, n, 1, 1, h[j])
                          ? CKPT_FLAG_HF_MISMATCH : 0);
    }
    return n_ok;
}

/* Can count_small count rows [b0, b0 + nb) of a small block?  Their counts are below SMALL
 * each, so the running total cannot overflow from an offsets[b0] this far below INT64_MAX,
 * nor a count times a checkpoint_bytes below 2**32. */
static inline int small_fits(const fast_cols *c, int64_t b0, int64_t nb, const count_out *o)
{
    return (o->offsets == NULL || o->offsets[b0] <= INT64_MAX - nb * SMALL)
           && (!o->with_bytes || c->bytes_all < ((int64_t)1 << 32));
}

/* count_small's loop for any small block: counts and flags. */
static void count_small_rows(const fast_cols *c, int64_t b0, int64_t nb, const count_out *o)
{
    const int64_t sS = c->S.step, sk = c->k.step, sE = c->e_num.step, sF = c->e_float.step;
    const int64_t *const S_ = c->S.data + b0 * sS, *const k_ = c->k.data + b0 * sk;
    const int64_t *const E_ = c->e_num.data + b0 * sE;
    const double *const F_ = c->e_float.data != NULL ? c->e_float.data + b0 * sF : NULL;
    const double *const recip = c->has_recip ? c->recip : NULL;
    int64_t *const counts = o->counts + b0;
    uint32_t *const flags = o->flags + b0;
    for (int64_t j = 0; j < nb; j++) {
        const int64_t S = S_[j * sS], k = k_[j * sk], E = E_[j * sE];
        const int64_t T = E * S;
        const int every_step = k > S;  /* then the rule is every step, T of them */
        const int64_t n = every_step ? T : E * k;
        const double ratio = recip != NULL && k < RECIP_SIZE
                                 ? recip[k]
                                 : 1.0 / ((double)k * (F_ != NULL ? F_[j * sF] : (double)E));
        const int check = ratio < 1.0;  /* axolotl_interval: else NO_CHECK */
        /* float_interval(T, ratio) when check: y <= T < SMALL, and y <= 1 gives 1 */
        const double y = (double)T * (ratio < 1.0 ? ratio : 1.0);
        const int64_t t = (int64_t)y, up = t + ((double)t < y), h = up < 1 ? 1 : up;
        /* differs_small in closed form when k <= S and n = E*k >= 2: transformers' steps are
         * the multiples of h below T, the rule's ceil(i*S/k) for i < n.  Over two epochs or
         * more the rule's k-th step is S itself, so they are the same iff S = k*h (then each
         * is i*h).  Over one epoch (i < k) they are the same iff S = k*h, or S = k*h - 1:
         * then ceil(i*S/k) = i*h - floor(i/k) = i*h, and below S = k*h - 1 lie k - 1
         * multiples of h; with any other S mod k, the (k-1)-th step is not (k-1)*h. */
        const int64_t hk = h * k;  /* h <= T < SMALL */
        const int differ = (every_step | (n < 2)) ? differs_small(T, S, k, n, 1, 1, h)
                                                  : (hk != S) & ((E >= 2) | (hk != S + 1));
        counts[j] = n;
        flags[j] = (every_step ? CKPT_FLAG_FEWER_THAN_REQUESTED : 0)
                   | (check & differ ? CKPT_FLAG_HF_MISMATCH : 0);
    }
}

/* Whether x[j] >= least[j * step] for j < n, all of them of magnitude below 2**62 (one
 * vectorizable OR of the differences' signs). */
static inline int at_least(const int64_t *restrict x, const int64_t *restrict least,
                           int64_t step, int64_t n)
{
    uint64_t signs = 0;
    for (int64_t j = 0; j < n; j++) signs |= (uint64_t)(x[j] - least[j * step]);
    return (int64_t)signs >= 0;
}

KERNEL int all_at_least(const int64_t *restrict x, int64_t least, int64_t n)
{
    return at_least(x, &least, 0, n);
}

KERNEL int each_at_least(const int64_t *restrict x, const int64_t *restrict least, int64_t n)
{
    return at_least(x, least, 1, n);
}

/* Whether a small block's rows are a regular block: steps_per_epoch one value per row,
 * epochs E one value for every row (c->shared_epochs), every row's steps_per_epoch at
 * least its saves_per_epoch k (so that it saves E*k times), and E*k >= 2. */
static inline int regular_block(const fast_cols *c, int64_t b0, int64_t nb)
{
    if (!c->shared_epochs) return 0;
    const int64_t *const S = c->S.data + b0, E = c->e_num.data[0];  /* values < 2**31 */
    if (c->k.step == 0)
        return E * c->k.data[0] >= 2 && all_at_least(S, c->k.data[0], nb);
    const int64_t *const k = c->k.data + b0;
    return (E >= 2 || all_at_least(k, 2, nb)) && each_at_least(S, k, nb);
}

/* x as a double, exactly, for 0 <= x < 2**52: the bits of 2**52 + x, minus 2**52 (a
 * conversion from int64 that vectorizes without AVX-512). */
static inline double small_to_double(int64_t x)
{
    const uint64_t bits = (uint64_t)x | 0x4330000000000000u;  /* 2**52 + x */
    double d;
    memcpy(&d, &bits, sizeof d);
    return d - 0x1p52;
}

/* ceil(y) for 0 <= y < 2**52: y + 2**52 is rounded to an integer (doubles there are one
 * apart), in any rounding mode, so r is y or a neighbour of it one below or above. */
static inline double small_ceil(double y)
{
    const double r = (y + 0x1p52) - 0x1p52;
    return r < y ? r + 1.0 : r;
}

/* count_small_rows for a regular block (regular_block), saves_per_epoch k_[j * k_step]:
 * every row saves n = E*k times and is flagged HF_MISMATCH, or not, by the closed form
 * there (k <= S, n >= 2), computed here in double so that the loop vectorizes: S, k,
 * T = E*S < 2**31 and h = max(1, ceil(T * ratio)) <= T are exact as doubles, ratio and
 * T * ratio are the same IEEE operations, and h*k is exact below 2**53 and at least
 * 2**53 > S + 1 from there, so comparing it with S and S + 1 answers as in int64.  No
 * FEWER_THAN_REQUESTED (k <= S).  mismatch is CKPT_FLAG_HF_MISMATCH, passed in (KERNEL):
 * gcc 12 vectorizes a choice between 0 and a variable, not between two constants. */
static inline void count_regular_rows(const int64_t *restrict S_, const int64_t *restrict k_,
                                      int64_t k_step, int64_t nb, int64_t E, double epochs,
                                      uint32_t mismatch, int64_t *restrict counts,
                                      uint32_t *restrict flags)
{
    const double E_ = (double)E;
    const int one_epoch = E == 1;
    for (int64_t j = 0; j < nb; j++) {
        const int64_t k = k_[j * k_step];
        const double S = small_to_double(S_[j]), k_d = small_to_double(k), T = E_ * S;
        const double ratio = 1.0 / (k_d * epochs);  /* as count_small_rows' */
        const double r = ratio < 1.0 ? ratio : 1.0;
        const double up = small_ceil(T * r), h = up < 1.0 ? 1.0 : up, hk = h * k_d;
        /* not ratio < 1 (NaN included): axolotl_interval's NO_CHECK */
        const int same = !(ratio < 1.0) | (hk == S) | (one_epoch & (hk == S + 1.0));
        counts[j] = E * k;
        flags[j] = same ? 0 : mismatch;
    }
}

WIDE_KERNEL void count_regular(const int64_t *restrict S_, int64_t k, int64_t nb, int64_t E,
                          double epochs, uint32_t mismatch, int64_t *restrict counts,
                          uint32_t *restrict flags)
{
    count_regular_rows(S_, &k, 0, nb, E, epochs, mismatch, counts, flags);
}

WIDE_KERNEL void count_regular_each(const int64_t *restrict S_, const int64_t *restrict k_,
                               int64_t nb, int64_t E, double epochs, uint32_t mismatch,
                               int64_t *restrict counts, uint32_t *restrict flags)
{
    count_regular_rows(S_, k_, 1, nb, E, epochs, mismatch, counts, flags);
}

/* offsets[j] = offsets[0] + j*each for j = 1..n (none overflows), without the chain of
 * a running total. */
KERNEL void even_offsets(int64_t *restrict offsets, int64_t n, int64_t each)
{
    const int64_t base = offsets[0];
    for (int64_t j = 1; j <= n; j++) offsets[j] = base + j * each;
}

/* Rows [b0, b0 + nb)'s offsets, bytes and disk outputs from their counts (small_fits:
 * none of them overflows); each > 0 when every count is each. */
static void put_totals(const fast_cols *c, int64_t b0, int64_t nb, const count_out *o,
                       int64_t each)
{
    const int64_t *const counts = o->counts + b0;
    if (o->offsets != NULL && each > 0) {
        even_offsets(o->offsets + b0, nb, each);
    } else if (o->offsets != NULL) {
        int64_t total = o->offsets[b0];
        for (int64_t j = 0; j < nb; j++) o->offsets[b0 + j + 1] = total += counts[j];
    }
    if (o->bytes != NULL)
        for (int64_t j = 0; j < nb; j++) o->bytes[b0 + j] = counts[j] * c->bytes_all;
    if (o->any_disk)
        for (int64_t j = 0; j < nb; j++)
            put_disk(o, b0 + j, counts[j], c->keep_last_all, c->bytes_all);
}

/* count_whole for a small block where small_fits: nothing can overflow, so no row is
 * checked, and the HF_MISMATCH interval is taken without branching (float_interval
 * when T * ratio <= T < SMALL) and, from c->recip, without dividing; a regular block by
 * the vectorized loop of its own. */
static void count_small(const fast_cols *c, int64_t b0, int64_t nb, const count_out *o)
{
    int64_t each = 0;  /* every count, when they are all one */
    if (regular_block(c, b0, nb)) {
        const int64_t *const S = c->S.data + b0, E = c->e_num.data[0];
        if (c->k.step == 0) each = E * c->k.data[0];
        const double epochs = c->e_float.data != NULL ? c->e_float.data[0] : (double)E;
        if (c->k.step == 0)
            count_regular(S, c->k.data[0], nb, E, epochs, CKPT_FLAG_HF_MISMATCH,
                          o->counts + b0, o->flags + b0);
        else
            count_regular_each(S, c->k.data + b0, nb, E, epochs, CKPT_FLAG_HF_MISMATCH,
                               o->counts + b0, o->flags + b0);
    } else {
        count_small_rows(c, b0, nb, o);
    }
    put_totals(c, b0, nb, o, each);
}

ckpt_status ckpt_sweep_count(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                             int64_t *counts, uint32_t *flags, int64_t *bytes,
                             int64_t *offsets, const ckpt_sweep_disk *disk, int64_t *done,
                             ckpt_sweep_error *err)
{
    static const ckpt_sweep_disk no_disk = {NULL, NULL, NULL};
    int64_t work = 0;
    fast_cols cols;
    fast_run runs[BLOCK];
    int64_t intervals[BLOCK];
    int fast[BLOCK];
    if (done == NULL || err == NULL) return CKPT_DOMAIN;
    start_pass(begin, done, err);
    if (begin < 0 || end > in->n_runs || begin > end || counts == NULL || flags == NULL)
        return CKPT_DOMAIN;
    if (disk == NULL) disk = &no_disk;
    if ((bytes != NULL || disk->peak_bytes != NULL) && in->checkpoint_bytes.data == NULL)
        return CKPT_DOMAIN;
    const count_out out = {counts, flags, bytes, offsets, disk,
                           disk->peak != NULL || disk->peak_bytes != NULL
                               || disk->survivors != NULL,
                           bytes != NULL || disk->peak_bytes != NULL};
    fast_cols_init(in, &cols);
    const int use_fast = !in->general_only, use_whole = use_fast && cols.whole;
    for (int64_t b0 = begin; b0 < end; b0 += BLOCK) {
        int64_t nb = end - b0 < BLOCK ? end - b0 : BLOCK, j = 0;
        const block_kind kind = use_whole ? classify_block(&cols, b0, nb) : BLOCK_ROWS;
        if (kind != BLOCK_ROWS) {
            /* each row is one unit of work (none walks): stop at the budget's row */
            if (in->work_budget > 0 && nb > in->work_budget - work + 1)
                nb = in->work_budget - work + 1;
            if (kind == BLOCK_SMALL && small_fits(&cols, b0, nb, &out)) {
                count_small(&cols, b0, nb, &out);
                j = nb;
            } else {
                j = count_whole(&cols, b0, nb, &out);
            }
            work += j;
            *done = b0 + j;
            if (budget_spent(in, work)) return CKPT_OK;
        }
        /* the rest row by row */
        for (int64_t t = j; t < nb; t++)
            fast[t] = use_fast && fast_read(&cols, b0 + t, &runs[t]);
        for (int64_t t = j; t < nb; t++)
            intervals[t] = fast[t] && runs[t].e_num != CKPT_SWEEP_ABSENT
                               ? axolotl_interval(runs[t].T, runs[t].k,
                                                  epochs_float(&cols, b0 + t, runs[t].e_num,
                                                               runs[t].e_den))
                               : NO_CHECK;
        for (; j < nb; j++) {
            const int64_t i = b0 + j;
            int64_t walked = 0;
            if (!(fast[j] && count_fast(&out, i, &runs[j], intervals[j]))) {
                ckpt_status status = count_general(in, i, &out, &walked, err);
                if (status != CKPT_OK) return status;
            }
            work += 1 + walked;
            *done = i + 1;
            if (budget_spent(in, work)) return CKPT_OK;
        }
    }
    return CKPT_OK;
}

/* ---- the fill pass ----------------------------------------------------------------- */

/* The n steps of a rule EVEN(S, k) up to T (ceil(i*S/k), i = 1..n, or every step when
 * k > S), then T when tail. */
static inline void fill_even(int64_t S, int64_t k, int64_t T, int64_t n, int64_t tail,
                             int64_t *out)
{
    if (k > S) {  /* spacing below one step: every step */
        for (int64_t j = 0; j < n; j++) out[j] = j + 1;
    } else if (n > 0) {
        even_steps(S, k, n, out);
    }
    if (tail) out[n] = T;
}

/* Fill row i (cap steps at out) by the general path. */
static ckpt_status fill_general(const ckpt_sweep_in *in, int64_t i, int64_t *out, int64_t cap,
                                ckpt_sweep_error *err)
{
    sweep_row r;
    int64_t n = 0, last;
    ckpt_status status = row_setup(in, i, 0, &r, err);
    if (status != CKPT_OK) return status;
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
    return CKPT_OK;
}

/* What fill_whole sets up once per call: with one saves_per_epoch k for every row, the
 * divider of k. */
typedef struct {
    int shared_k;  /* saves_per_epoch is one value for every row */
    divider by_k;  /* with shared_k: of that k */
} fill_plan;

/* The work of filling rows [b0, b0 + nb) (1 + its steps each) after `work` done, when
 * their slices look sound (each row still checks its own) and it stays within the
 * budget; else -1. */
static inline int64_t fill_work(const ckpt_sweep_in *in, int64_t work, int64_t b0, int64_t nb,
                                const int64_t *offsets)
{
    const int64_t lo = offsets[b0], hi = offsets[b0 + nb];
    if (lo < 0 || hi < lo || hi - lo > INT64_MAX - nb) return -1;
    const int64_t block_work = nb + (hi - lo);
    return in->work_budget == 0 || block_work <= in->work_budget - work ? block_work : -1;
}

/* Whether offsets[0 .. n] are each step apart (one vectorizable OR). */
KERNEL int evenly_spaced(const int64_t *restrict offsets, int64_t n, int64_t step)
{
    uint64_t off = 0;
    for (int64_t j = 0; j < n; j++) off |= (uint64_t)(offsets[j + 1] - offsets[j]) ^ (uint64_t)step;
    return off == 0;
}

/* The first k steps of each row of a regular block (regular_block) whose one
 * saves_per_epoch k is 2**shift: row j's ceil(i*S/k) = (i*S + k - 1) >> shift for
 * i = 1..k (S = S_[j]), at out + j*n.  Every dividend is at most k*S + k - 1 <= S*S + S - 1
 * < 2**62 (k <= S < 2**31 in a regular block), and the loop is a running sum: per row, as
 * lean as a loop writing the steps can be (the compiler vectorizes it). */
KERNEL void fill_regular_pow2(const int64_t *restrict S_, int64_t nb, int64_t k, int shift,
                              int64_t n, int64_t *restrict out)
{
    for (int64_t j = 0; j < nb; j++) {
        const uint64_t S = (uint64_t)S_[j];
        uint64_t x = S + (uint64_t)k - 1;
        int64_t *restrict row = out + j * n;
        for (int64_t i = 0; i < k; i++, x += S) row[i] = (int64_t)(x >> shift);
    }
}

/* fill_regular_pow2 for any k, dividing by multiplication (dv the divider of k: the
 * dividends are below 2**62, as divide() needs).  Two loops, not one with the test of a
 * power of two inside: gcc splits that one in two as well, but its fill was 8 % slower on
 * sweeps that fit in the caches. */
KERNEL void fill_regular_div(const int64_t *restrict S_, int64_t nb, int64_t k,
                             const divider *dv, int64_t n, int64_t *restrict out)
{
    const uint64_t m = dv->m;
    const int shift = dv->shift;
    for (int64_t j = 0; j < nb; j++) {
        const uint64_t S = (uint64_t)S_[j];
        uint64_t x = S + (uint64_t)k - 1;
        int64_t *restrict row = out + j * n;
        for (int64_t i = 0; i < k; i++, x += S) row[i] = (int64_t)(mul_high(x, m) >> shift);
    }
}

/* Fill a regular block (regular_block) of nb rows with one saves_per_epoch k, whose runs
 * save n = E*k times each: run j's steps, those of EVEN(S_[j], k), at out + j*n (dv the
 * divider of k): the first epoch's k steps of every row, then the other epochs' (each
 * the first one's plus a multiple of S). */
static void fill_regular(const int64_t *restrict S_, int64_t nb, int64_t k, int64_t E,
                         const divider *dv, int64_t *restrict out)
{
    const int64_t n = E * k;
    if (dv->m == 0)
        fill_regular_pow2(S_, nb, k, dv->shift, n, out);
    else
        fill_regular_div(S_, nb, k, dv, n, out);
    if (E > 1)
        for (int64_t j = 0; j < nb; j++) repeat_periods(S_[j], k, k, n, out + j * n);
}

/* Fill rows [b0, b0 + nb) of a whole-epochs block, while the work stays within the
 * budget; returns the rows done, fewer than nb at a row whose total overflows or whose
 * slice does not match its count (left to the row-by-row path, which names the error),
 * or at the budget's row (*work then past it). */
static int64_t fill_whole(const ckpt_sweep_in *in, const fast_cols *c, const fill_plan *plan,
                          int64_t b0, int64_t nb, const int64_t *offsets, int64_t *steps,
                          int64_t *work)
{
    /* the columns in locals: the stores below could otherwise alias their steps */
    const int64_t sS = c->S.step, sk = c->k.step, sE = c->e_num.step;
    const int64_t *const S_ = c->S.data + b0 * sS, *const k_ = c->k.data + b0 * sk;
    const int64_t *const E_ = c->e_num.data + b0 * sE;
    const int64_t budget = in->work_budget;
    int64_t w = *work;
    if (steps == NULL) return 0;
    for (int64_t j = 0; j < nb; j++) {
        const int64_t S = S_[j * sS], k = k_[j * sk], E = E_[j * sE];
        const int64_t at = offsets[b0 + j], cap = offsets[b0 + j + 1] - at;
        int64_t T;
        if (ckpt_mul(E, S, &T) != CKPT_OK || whole_count(S, k, E, T) != cap) {
            *work = w;
            return j;
        }
        if (k > S)
            fill_even(S, k, T, cap, 0, steps + at);  /* every step */
        else if (plan->shared_k)
            even_steps_div(S, k, &plan->by_k, cap, steps + at);
        else
            even_steps(S, k, cap, steps + at);  /* T is the last step: no tail */
        w += 1 + cap;
        if (budget > 0 && w > budget) {
            *work = w;
            return j + 1;
        }
    }
    *work = w;
    return nb;
}

ckpt_status ckpt_sweep_fill(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                            const int64_t *offsets, int64_t *steps, int64_t *done,
                            ckpt_sweep_error *err)
{
    int64_t work = 0, nowhere = 0;
    fast_cols cols;
    fast_run runs[BLOCK];
    int fast[BLOCK];
    if (done == NULL || err == NULL) return CKPT_DOMAIN;
    start_pass(begin, done, err);
    if (begin < 0 || end > in->n_runs || begin > end || offsets == NULL) return CKPT_DOMAIN;
    fast_cols_init(in, &cols);
    const int use_fast = !in->general_only, use_whole = use_fast && cols.whole;
    fill_plan plan = {0, divider_for(1)};
    if (use_whole && cols.k.step == 0 && cols.k.data[0] >= 1) {
        plan.shared_k = 1;
        plan.by_k = divider_for(cols.k.data[0]);
    }
    for (int64_t b0 = begin; b0 < end; b0 += BLOCK) {
        const int64_t nb = end - b0 < BLOCK ? end - b0 : BLOCK;
        int64_t j = 0;
        const block_kind kind = use_whole ? classify_block(&cols, b0, nb) : BLOCK_ROWS;
        const int64_t block_work = kind == BLOCK_SMALL ? fill_work(in, work, b0, nb, offsets) : -1;
        /* a regular block whose slices are all as long as its runs' counts (else the row
         * path names the bad slice); small, so k >= 1 and plan.by_k is its divider */
        if (block_work >= 0 && steps != NULL && cols.k.step == 0 && regular_block(&cols, b0, nb)
            && evenly_spaced(offsets + b0, nb, cols.k.data[0] * cols.e_num.data[0])) {
            fill_regular(cols.S.data + b0, nb, cols.k.data[0], cols.e_num.data[0], &plan.by_k,
                         steps + offsets[b0]);
            work += block_work;
            j = nb;
            *done = b0 + nb;
        } else if (kind != BLOCK_ROWS) {
            j = fill_whole(in, &cols, &plan, b0, nb, offsets, steps, &work);
            *done = b0 + j;
            if (budget_spent(in, work)) return CKPT_OK;
        }
        /* the rest row by row */
        for (int64_t t = j; t < nb; t++)
            fast[t] = use_fast && fast_read(&cols, b0 + t, &runs[t]);
        for (; j < nb; j++) {
            const int64_t i = b0 + j, cap = offsets[i + 1] - offsets[i];
            if (cap < 0 || (cap > 0 && steps == NULL))
                return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
            /* a run without steps (cap 0) may have no buffer at all: it gets a place that
             * nothing is written to (every path below writes at most cap steps) */
            int64_t *out = cap > 0 ? steps + offsets[i] : &nowhere;
            if (fast[j]) {
                const fast_run *f = &runs[j];
                const int64_t tail = f->final & !f->has_T;
                if (f->count0 + tail != cap)
                    return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
                fill_even(f->S, f->k, f->T, f->count0, tail, out);
            } else {
                ckpt_status status = fill_general(in, i, out, cap, err);
                if (status != CKPT_OK) return status;
            }
            work += 1 + cap;
            *done = i + 1;
            if (budget_spent(in, work)) return CKPT_OK;
        }
    }
    return CKPT_OK;
}
