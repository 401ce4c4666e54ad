/* ckpt_sweep.c -- sweep kernels (see ckpt_sweep.h).
 *
 * Every step comes from the rule functions of ckpt.c (or from ckpt_sweep_rule_fill,
 * which produces the same steps as ckpt_rule_nth without a division per step).
 * The diagnostic flags follow ckptsched/_rules.py and ckptsched/_diagnose.py exactly
 * (tests/test_sweep.py holds them equal to the pure-Python sweep, run by run);
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

    if (a->S != A && a->S < 1)
        return row_fail(err, i, CKPT_ARG_STEPS_PER_EPOCH, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->e_num != A && (a->e_num < 1 || a->e_den < 1))
        return row_fail(err, i, CKPT_ARG_EPOCHS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->max_steps != A && a->max_steps < 1)
        return row_fail(err, i, CKPT_ARG_MAX_STEPS, CKPT_WHY_VALUE, CKPT_DOMAIN);
    if (a->k != A && a->k < 1)
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
static ckpt_status build_rules(const ckpt_sweep_in *in, int64_t i, const row_args *a,
                               int with_flags, sweep_row *r, ckpt_sweep_error *err)
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
    status = build_rules(in, i, &a, with_flags, r, err);
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

ckpt_status ckpt_sweep_count(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                             int64_t *counts, uint32_t *flags, int64_t *bytes,
                             int64_t *offsets, const ckpt_sweep_disk *disk, int64_t *done,
                             ckpt_sweep_error *err)
{
    static const ckpt_sweep_disk no_disk = {NULL, NULL, NULL};
    sweep_row r;
    int64_t work = 0;
    if (done == NULL || err == NULL) return CKPT_DOMAIN;
    start_pass(begin, done, err);
    if (begin < 0 || end > in->n_runs || begin > end || counts == NULL || flags == NULL)
        return CKPT_DOMAIN;
    if (disk == NULL) disk = &no_disk;
    if ((bytes != NULL || disk->peak_bytes != NULL) && in->checkpoint_bytes.data == NULL)
        return CKPT_DOMAIN;
    for (int64_t i = begin; i < end; i++) {
        ckpt_status status = row_setup(in, i, 1, &r, err);
        int64_t n, last;
        uint32_t f;
        if (status != CKPT_OK) return status;
        f = r.flags;
        if (union_count(&r, in->walk_limit, &n) != CKPT_OK)
            return row_fail(err, i, r.min_interval > 1 ? CKPT_ARG_MIN_INTERVAL : CKPT_ARG_NONE,
                            CKPT_WHY_WALK, CKPT_CAPACITY);
        work += 1 + (row_walks(&r) ? n : 0);
        if (r.min_interval > 1) {
            status = thin_walk(&r, NULL, n, &n, &last, &f);  /* it keeps at most n */
            if (status != CKPT_OK)
                return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, status);
        } else {
            last = union_last(&r);
        }
        if (last == 0) f |= CKPT_FLAG_NO_SAVES;
        else if (!r.final && last < r.T) f |= CKPT_FLAG_FINAL_NOT_SAVED;
        if (bytes != NULL && ckpt_mul(n, r.bytes_each, &bytes[i]) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_CHECKPOINT_BYTES, CKPT_WHY_OVERFLOW, CKPT_OVERFLOW);
        if (offsets != NULL && ckpt_add(offsets[i], n, &offsets[i + 1]) != CKPT_OK)
            return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_TOTAL, CKPT_OVERFLOW);
        /* retention (retention.Retention, plan._timeline): the last N stay, and the save
         * in flight joins them before the oldest is deleted; peak <= n: no overflow */
        int64_t peak = r.keep_last != 0 && r.keep_last < n ? r.keep_last + 1 : n;
        if (disk->peak != NULL) disk->peak[i] = peak;
        if (disk->peak_bytes != NULL) disk->peak_bytes[i] = peak * r.bytes_each;
        if (disk->survivors != NULL)
            disk->survivors[i] = r.keep_last != 0 && r.keep_last < n ? r.keep_last : n;
        counts[i] = n;
        flags[i] = f;
        *done = i + 1;
        if (budget_spent(in, work)) break;
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
                            const int64_t *offsets, int64_t *steps, int64_t *done,
                            ckpt_sweep_error *err)
{
    sweep_row r;
    int64_t work = 0, nowhere = 0;
    if (done == NULL || err == NULL) return CKPT_DOMAIN;
    start_pass(begin, done, err);
    if (begin < 0 || end > in->n_runs || begin > end || offsets == NULL) return CKPT_DOMAIN;
    for (int64_t i = begin; i < end; i++) {
        ckpt_status status = row_setup(in, i, 0, &r, err);
        int64_t cap = offsets[i + 1] - offsets[i], n = 0, last;
        if (status != CKPT_OK) return status;
        if (cap < 0 || (cap > 0 && steps == NULL))
            return row_fail(err, i, CKPT_ARG_NONE, CKPT_WHY_INTERNAL, CKPT_CAPACITY);
        /* a run without steps (cap 0) may have no buffer at all: it gets a place that
         * nothing is written to (every path below writes at most cap steps) */
        int64_t *out = cap > 0 ? steps + offsets[i] : &nowhere;
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
        work += 1 + cap;
        *done = i + 1;
        if (budget_spent(in, work)) break;
    }
    return CKPT_OK;
}
