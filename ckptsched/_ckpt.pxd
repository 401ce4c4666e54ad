# Declarations of the C core (src_c/ckpt.h) for Cython.
from libc.stdint cimport int64_t

cdef extern from "ckpt.h" nogil:
    ctypedef enum ckpt_status:
        CKPT_OK
        CKPT_OVERFLOW
        CKPT_DOMAIN
        CKPT_CAPACITY

    # In C, start/interval (CKPT_RULE_EVERY) and span/parts (CKPT_RULE_EVEN) are two
    # views of the same two int64 (an anonymous union); Cython only needs the names.
    ctypedef struct ckpt_rule:
        int64_t kind
        int64_t start
        int64_t interval
        int64_t span
        int64_t parts
        int64_t stop

    ckpt_rule ckpt_rule_from_fields(int64_t kind, int64_t first, int64_t second, int64_t stop)

    ctypedef struct ckpt_sched:
        const ckpt_rule *rules
        int64_t n_rules
        const int64_t *extra
        int64_t n_extra

    ckpt_status ckpt_total_steps(int64_t steps_per_epoch, int64_t e_num, int64_t e_den,
                                 int64_t *total)
    ckpt_status ckpt_steps_per_epoch(int64_t num_examples, int64_t micro_batch_size,
                                     int64_t grad_accum, int64_t world_size,
                                     int drop_last, int step_partial, int64_t *steps)
    ckpt_status ckpt_muldiv_ceil(int64_t a, int64_t b, int64_t c, int64_t *out)
    ckpt_status ckpt_locate(int64_t step, int64_t steps_per_epoch,
                            int64_t *epoch, int64_t *position)

    ckpt_status ckpt_rule_check(const ckpt_rule *rule)
    int ckpt_rule_contains(const ckpt_rule *rule, int64_t s)
    int64_t ckpt_rule_count(const ckpt_rule *rule, int64_t x)
    int64_t ckpt_rule_nth(const ckpt_rule *rule, int64_t i)
    int64_t ckpt_rule_next_after(const ckpt_rule *rule, int64_t s)

    int ckpt_sched_contains(const ckpt_sched *sched, int64_t s)
    int64_t ckpt_sched_next_after(const ckpt_sched *sched, int64_t s)
    ckpt_status ckpt_sched_count_bound(const ckpt_sched *sched, int64_t *bound)
    ckpt_status ckpt_sched_count(const ckpt_sched *sched, int64_t walk_limit, int64_t *count)
    ckpt_status ckpt_sched_fill(const ckpt_sched *sched, int64_t *out, int64_t cap, int64_t *n)

    ckpt_status ckpt_min_interval(const int64_t *steps, int64_t n, int64_t min_interval,
                                  int64_t forced, int64_t *out, int64_t *n_out)
    ckpt_status ckpt_longest_gap(const int64_t *steps, int64_t n, int64_t total,
                                 int64_t *gap, int64_t *end)
