/* ckpt.h -- the C core of ckptsched: run geometry, schedule rules, unions.
 *
 * Plain C11, no Python.h.  Functions that can fail return a ckpt_status and
 * write results through pointers; pure queries on validated rules return
 * their answer directly.  See docs/semantics.md for every formula.
 *
 * A step is a 1-based count of completed optimizer updates.  Every step a
 * rule produces lies in [1, rule.stop], and rule.stop <= the run's total
 * steps T, so no step computation can overflow once the inputs are valid.
 */
#ifndef CKPT_H
#define CKPT_H

#include <stdint.h>

/* ---- status codes ------------------------------------------------------ */

/* What every function that can fail returns; results are written through
 * pointers only on CKPT_OK. */
typedef enum {
    CKPT_OK = 0,
    CKPT_OVERFLOW = 1,  /* the exact result does not fit in int64        */
    CKPT_DOMAIN = 2,    /* an argument is outside its domain (e.g. <= 0) */
    CKPT_CAPACITY = 3,  /* an output buffer or work limit is too small   */
} ckpt_status;

/* The checked int64 arithmetic (ckpt_add, ckpt_mul, ckpt_muldiv_floor/ceil, ...)
 * shared by the core and the sweep kernels; it returns the ckpt_status above. */
#include "ckpt_arith.h"

/* ---- run geometry ------------------------------------------------------ */

/* T = ceil(epochs * steps_per_epoch) with epochs = e_num / e_den > 0. */
ckpt_status ckpt_total_steps(int64_t steps_per_epoch, int64_t e_num, int64_t e_den,
                             int64_t *total);

/* Optimizer steps per epoch S of a (distributed) dataloader; see docs/semantics.md.
 * drop_last: the sampler and loader drop incomplete batches.
 * step_partial: a trailing partial gradient accumulation still steps.
 * S may come out as 0; the caller reports which inputs caused it. */
ckpt_status ckpt_steps_per_epoch(int64_t num_examples, int64_t micro_batch_size,
                                 int64_t grad_accum, int64_t world_size,
                                 int drop_last, int step_partial, int64_t *steps);

/* Where step s lies: 1-based epoch and 1-based position within it. */
ckpt_status ckpt_locate(int64_t step, int64_t steps_per_epoch,
                        int64_t *epoch, int64_t *position);

/* ---- rules ------------------------------------------------------------- */

typedef enum {
    CKPT_RULE_EVERY = 1,  /* start, start + interval, start + 2*interval, ...    */
    CKPT_RULE_EVEN = 2,   /* ceil(i * span / parts), i = 1, 2, ...: `parts` evenly
                           * spaced boundaries in every `span` steps, each boundary
                           * saved at the first step that reaches it            */
} ckpt_rule_kind;

/* A rule: its kind, the kind's two parameters, and its last admissible step.
 * Exactly four int64 in memory (kind, start|span, interval|parts, stop), no
 * padding: an (n, 4) C-contiguous int64 array is an array of rules, and the
 * Python tuples (kind, start|span, interval|parts, stop) use the same order. */
typedef struct {
    int64_t kind;  /* a ckpt_rule_kind */
    union {
        struct {              /* CKPT_RULE_EVERY */
            int64_t start;    /* the first step, >= 1             */
            int64_t interval; /* the distance between steps, >= 1 */
        };
        struct {              /* CKPT_RULE_EVEN */
            int64_t span;     /* steps per group of boundaries, >= 1 */
            int64_t parts;    /* boundaries per span, >= 1           */
        };
    };
    int64_t stop;  /* the last step the rule may produce, >= 0 */
} ckpt_rule;

static inline ckpt_rule ckpt_rule_every(int64_t start, int64_t interval, int64_t stop)
{
    ckpt_rule rule = {.kind = CKPT_RULE_EVERY, .start = start, .interval = interval, .stop = stop};
    return rule;
}

static inline ckpt_rule ckpt_rule_even(int64_t span, int64_t parts, int64_t stop)
{
    ckpt_rule rule = {.kind = CKPT_RULE_EVEN, .span = span, .parts = parts, .stop = stop};
    return rule;
}

/* A rule from the fields in memory order, whatever the kind (for conversions
 * from tuples and arrays); the kind is not checked here (ckpt_rule_check does). */
static inline ckpt_rule ckpt_rule_from_fields(int64_t kind, int64_t first, int64_t second,
                                              int64_t stop)
{
    ckpt_rule rule = {.kind = kind, .stop = stop};
    if (kind == CKPT_RULE_EVEN) {
        rule.span = first;
        rule.parts = second;
    } else {
        rule.start = first;
        rule.interval = second;
    }
    return rule;
}

/* CKPT_OK when the rule's fields are in their domains, else CKPT_DOMAIN. */
ckpt_status ckpt_rule_check(const ckpt_rule *rule);

/* 1 when s is a step of the rule (boundary-crossing test), else 0. */
int ckpt_rule_contains(const ckpt_rule *rule, int64_t s);

/* How many steps of the rule are <= x (x >= 0). */
int64_t ckpt_rule_count(const ckpt_rule *rule, int64_t x);

/* The i-th step (1-based) of the rule; requires 1 <= i <= count(stop). */
int64_t ckpt_rule_nth(const ckpt_rule *rule, int64_t i);

/* The first step of the rule after s (s >= 0), or 0 when there is none. */
int64_t ckpt_rule_next_after(const ckpt_rule *rule, int64_t s);

/* ---- schedules: a union of rules and a sorted list of extra steps ------ */

/* The most rules one schedule may combine; walking more gives CKPT_DOMAIN. */
#define CKPT_MAX_RULES 64

typedef struct {
    const ckpt_rule *rules;
    int64_t n_rules;
    const int64_t *extra;  /* strictly increasing, each >= 1 */
    int64_t n_extra;
} ckpt_sched;

int ckpt_sched_contains(const ckpt_sched *sched, int64_t s);

/* The first scheduled step after s (s >= 0), or 0 when there is none. */
int64_t ckpt_sched_next_after(const ckpt_sched *sched, int64_t s);

/* An upper bound on the number of steps: the sum of the parts' counts. */
ckpt_status ckpt_sched_count_bound(const ckpt_sched *sched, int64_t *bound);

/* The exact number of distinct steps.  With at most one rule this is O(n_extra);
 * otherwise the union is walked, and CKPT_CAPACITY is returned when more than
 * walk_limit steps would have to be visited -- at once, without walking, when one
 * part (a rule, or the extra steps) alone has more than walk_limit steps. */
ckpt_status ckpt_sched_count(const ckpt_sched *sched, int64_t walk_limit, int64_t *count);

/* Write the sorted, distinct steps into out[0..cap); *n gets their number.
 * CKPT_CAPACITY (with nothing promised about out) when cap is too small. */
ckpt_status ckpt_sched_fill(const ckpt_sched *sched, int64_t *out, int64_t cap, int64_t *n);

/* ---- post-processing of a materialized schedule ------------------------ */

/* Greedy forward thinning: keep steps[i] when it is the first kept step or
 * steps[i] - last_kept >= min_interval; the step equal to `forced` (0: none)
 * is always kept.  out may alias steps.  *n_out gets the kept count. */
ckpt_status ckpt_min_interval(const int64_t *steps, int64_t n, int64_t min_interval,
                              int64_t forced, int64_t *out, int64_t *n_out);

/* The longest stretch of unsaved work over the run 0 -> steps... -> total:
 * *gap its length in steps and *end the step that closes it. */
ckpt_status ckpt_longest_gap(const int64_t *steps, int64_t n, int64_t total,
                             int64_t *gap, int64_t *end);

#endif /* CKPT_H */
