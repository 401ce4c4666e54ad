/* ckpt_sweep.h -- sweep kernels: the schedules of many runs at once.
 *
 * Plain C11, no Python.h.  A sweep row is one run (steps_per_epoch, epochs,
 * max_steps) plus its rules (saves_per_epoch, count, every, ratio, final,
 * min_interval), with the meaning of ckptsched.Run / ckptsched.Schedule; see
 * docs/semantics.md.  Two passes:
 *
 *   ckpt_sweep_count  per-run save counts, diagnostic flags and bytes, and the
 *                     CSR offsets (running totals) of the steps;
 *   ckpt_sweep_fill   every run's sorted steps into its exact slice
 *                     steps[offsets[i] .. offsets[i+1]).
 *
 * Inputs are columns: a pointer and a step of 0 (one value for every row) or
 * 1 (one value per row).  Counting a row is O(1) when it has at most one rule and
 * no min_interval; otherwise its union is walked, and a row whose union has more
 * than walk_limit steps is refused (CKPT_WHY_WALK) instead of walked: no call ever
 * hangs.  Each call returns after about work_budget steps of walking or writing,
 * with *done the first row it did not do, so that a caller can notice Ctrl-C
 * between calls.  A NULL pointer means the argument is absent in every
 * row; CKPT_SWEEP_ABSENT in an int64 column means absent in that row.  Each
 * kernel stops at the first bad row and describes it in a ckpt_sweep_error:
 * the row, the argument at fault and why.  Kernels never write outside the
 * arrays they are given, and never past a run's slice.
 */
#ifndef CKPT_SWEEP_H
#define CKPT_SWEEP_H

#include <stdint.h>

#include "ckpt.h"

/* "Not given in this row" in an int64 column (never a valid value). */
#define CKPT_SWEEP_ABSENT INT64_MIN
/* every_span: the unit spacing's terms leave int64 */
#define CKPT_SWEEP_OVERFLOW (INT64_MIN + 1)

typedef struct {
    const int64_t *data;  /* NULL: absent in every row */
    int64_t step;         /* 0: data[0] for every row; 1: data[row] */
} ckpt_col_i64;

typedef struct {
    const double *data;
    int64_t step;
} ckpt_col_f64;

typedef struct {
    const uint8_t *data;
    int64_t step;
} ckpt_col_u8;

/* One sweep.  Domains (checked per row, in this order):
 *   steps_per_epoch, max_steps, saves_per_epoch, every, count  >= 1 or ABSENT
 *   epochs_num / epochs_den   epochs as an exact fraction: num >= 1 and den >= 1, or num ABSENT
 *   ratio_num / ratio_den     0 < num/den < 1, or num ABSENT
 *   min_interval              >= 0 (NULL: 0)
 *   checkpoint_bytes          >= 1 (NULL: no byte estimate)
 *   keep_last                 >= 1 or ABSENT (NULL: keep all)
 *   every_span / every_parts  >= 1 (or as described below), not with every in steps
 *   final                     0 or not 0 (NULL: 1)
 * epochs_float / ratio_float are the values as the user gave them, in double: the
 * float arithmetic transformers and Axolotl do with them (HF_MISMATCH) starts from
 * there.  NULL: (double)num / (double)den. */
typedef struct {
    int64_t n_runs;
    ckpt_col_i64 steps_per_epoch;
    ckpt_col_i64 epochs_num;
    ckpt_col_i64 epochs_den;
    ckpt_col_f64 epochs_float;
    ckpt_col_i64 max_steps;
    ckpt_col_i64 saves_per_epoch;
    ckpt_col_i64 every;
    ckpt_col_i64 count;
    ckpt_col_i64 ratio_num;
    ckpt_col_i64 ratio_den;
    ckpt_col_f64 ratio_float;
    ckpt_col_u8 final;
    ckpt_col_i64 min_interval;
    ckpt_col_i64 checkpoint_bytes;
    ckpt_col_i64 keep_last;     /* >= 1, or ABSENT / NULL: keep every checkpoint */
    /* every= in units (epochs, samples, tokens), as its spacing in steps, exact and
     * reduced: every_span / every_parts (the EVEN rule of boundaries every span/parts
     * steps), every_first = ceil(span / parts), its first step.  ABSENT span: not given
     * in this row.  The caller normalizes a spacing below one step to 1/2, and marks
     * terms past int64 with span CKPT_SWEEP_OVERFLOW (parts then unused), every_first
     * ABSENT when the first step itself is past int64. */
    ckpt_col_i64 every_span;
    ckpt_col_i64 every_parts;
    ckpt_col_i64 every_first;
    ckpt_col_u8 every_whole_epochs;  /* not 0: every= is a whole number of epochs, so a
                                        step it or another rule schedules at an epoch
                                        end and min_interval drops is EPOCH_END_MISSED */
    int64_t walk_limit;   /* >= 0: the most steps the union of a row with several rules,
                             or with min_interval > 1, may have (schedule.MAX_MATERIALIZED) */
    int64_t work_budget;  /* a call stops after the row that takes its work (rows, plus steps
                             walked or written) past this; 0: no budget, every row at once */
    int32_t general_only; /* for tests: not 0 sends every row down the general path, which
                             the closed forms of the fast path must agree with (0: use them) */
    uint32_t complete;    /* bits CKPT_COMPLETE(CKPT_ARG_STEPS_PER_EPOCH) and
                             CKPT_COMPLETE(CKPT_ARG_SAVES_PER_EPOCH) (no other): that column
                             gives a value in every row, so CKPT_SWEEP_ABSENT in it is a value
                             out of its domain (CKPT_WHY_VALUE), not "absent in this row"; for
                             a caller that leaves the column's values to the kernel to check */
} ckpt_sweep_in;

/* ckpt_sweep_in.complete's bit of a column (a ckpt_sweep_arg). */
#define CKPT_COMPLETE(arg) (1u << (arg))

/* The argument a row error is about. */
typedef enum {
    CKPT_ARG_NONE = -1,
    CKPT_ARG_STEPS_PER_EPOCH = 0,
    CKPT_ARG_EPOCHS = 1,
    CKPT_ARG_MAX_STEPS = 2,
    CKPT_ARG_SAVES_PER_EPOCH = 3,
    CKPT_ARG_EVERY = 4,
    CKPT_ARG_COUNT = 5,
    CKPT_ARG_RATIO = 6,
    CKPT_ARG_FINAL = 7,
    CKPT_ARG_MIN_INTERVAL = 8,
    CKPT_ARG_CHECKPOINT_BYTES = 9,
    CKPT_ARG_KEEP_LAST = 10,
} ckpt_sweep_arg;

/* Why a row stopped the kernel. */
typedef enum {
    CKPT_WHY_NONE = 0,
    CKPT_WHY_VALUE = 1,     /* arg's value is outside its domain (CKPT_DOMAIN)              */
    CKPT_WHY_MISSING = 2,   /* no max_steps, and arg (steps_per_epoch or epochs) is absent  */
    CKPT_WHY_NEEDS_SPE = 3, /* arg (saves_per_epoch) needs steps_per_epoch, absent here      */
    CKPT_WHY_OVERFLOW = 4,  /* a value computed from arg leaves int64 (CKPT_OVERFLOW):
                               epochs: epochs * steps_per_epoch; checkpoint_bytes: count * bytes
                               (checked when bytes or peak_bytes is asked for);
                               every: the terms of a unit spacing that reaches the run     */
    CKPT_WHY_TOTAL = 5,     /* the running total of saves leaves int64 at this row            */
    CKPT_WHY_INTERNAL = 6,  /* offsets disagree with the row's count (CKPT_CAPACITY)          */
    CKPT_WHY_WALK = 7,      /* the row's union must be walked (several rules, or arg
                               min_interval > 1) and has more than walk_limit steps
                               (CKPT_CAPACITY)                                              */
} ckpt_sweep_why;

typedef struct {
    int64_t row;  /* -1 when no row is at fault */
    int32_t arg;  /* ckpt_sweep_arg */
    int32_t why;  /* ckpt_sweep_why */
} ckpt_sweep_error;

/* Diagnostic flags: bit i is the i-th code of ckptsched.CODES. */
#define CKPT_FLAG_NO_SAVES             (1u << 0)
#define CKPT_FLAG_FEWER_THAN_REQUESTED (1u << 1)
#define CKPT_FLAG_FINAL_NOT_SAVED      (1u << 2)
#define CKPT_FLAG_HF_MISMATCH          (1u << 3)
#define CKPT_FLAG_UNEVEN_TAIL          (1u << 4)
#define CKPT_FLAG_OUT_OF_RANGE         (1u << 5)
#define CKPT_FLAG_MIN_INTERVAL_DROPPED (1u << 6)
#define CKPT_FLAG_LONG_GAP             (1u << 7) /* needs max_gap: never set by a sweep */
#define CKPT_FLAG_EPOCH_END_MISSED     (1u << 8)

/* Optional outputs of pass 1 about the disk (each may be NULL; the *_bytes ones need
 * checkpoint_bytes).  With keep_last = N (deletion follows a completed save, so a save
 * in flight is on disk with the N before it) and n saves: peak = min(n, N + 1) and
 * survivors = min(n, N); without keep_last both are n. */
typedef struct {
    int64_t *peak;        /* most checkpoints on disk at once                */
    int64_t *peak_bytes;  /* peak * checkpoint_bytes                         */
    int64_t *survivors;   /* checkpoints on disk when the run ends           */
} ckpt_sweep_disk;

/* Pass 1 over rows [begin, *done): counts[i] (saves of run i), flags[i], and, when
 * not NULL, bytes[i] = counts[i] * checkpoint_bytes, offsets[i + 1] =
 * offsets[i] + counts[i] (the caller sets offsets[begin]; the sum is checked) and the
 * disk outputs of `disk` (disk may be NULL).
 * *done is end, or less when the work budget ran out first (call again from *done).
 * O(1) per run with at most one rule and no min_interval; otherwise the run's
 * union is walked, up to walk_limit steps.  Stops at the first bad row (*err says
 * which and why). */
ckpt_status ckpt_sweep_count(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                             int64_t *counts, uint32_t *flags, int64_t *bytes,
                             int64_t *offsets, const ckpt_sweep_disk *disk, int64_t *done,
                             ckpt_sweep_error *err);

/* Pass 2 over rows [begin, *done): run i's sorted steps into
 * steps[offsets[i] .. offsets[i + 1]), offsets as ckpt_sweep_count made them
 * (steps may be NULL when no run has a step).  *done as for ckpt_sweep_count.
 * CKPT_CAPACITY (CKPT_WHY_INTERNAL) if a run's slice does not match its count;
 * that run's slice is then left unwritten. */
ckpt_status ckpt_sweep_fill(const ckpt_sweep_in *in, int64_t begin, int64_t end,
                            const int64_t *offsets, int64_t *steps, int64_t *done,
                            ckpt_sweep_error *err);

/* The first n steps of a valid rule, in order, into out (n <= the rule's count).
 * Linear time without division per step: EVEN rules repeat every b steps shifted by a. */
void ckpt_sweep_rule_fill(const ckpt_rule *rule, int64_t *out, int64_t n);

#endif /* CKPT_SWEEP_H */
