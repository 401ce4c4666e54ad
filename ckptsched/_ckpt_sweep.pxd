# Declarations of the sweep kernels (src_c/ckpt_sweep.h) for Cython: the C is declared
# here once, and _sweep_c.pyx cimports it.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t

from ._ckpt cimport ckpt_rule, ckpt_status


cdef extern from "ckpt_sweep.h" nogil:
    ctypedef struct ckpt_col_i64:
        const int64_t *data
        int64_t step

    ctypedef struct ckpt_col_f64:
        const double *data
        int64_t step

    ctypedef struct ckpt_col_u8:
        const uint8_t *data
        int64_t step

    ctypedef struct ckpt_sweep_in:
        int64_t n_runs
        ckpt_col_i64 steps_per_epoch
        ckpt_col_i64 epochs_num
        ckpt_col_i64 epochs_den
        ckpt_col_f64 epochs_float
        ckpt_col_i64 max_steps
        ckpt_col_i64 saves_per_epoch
        ckpt_col_i64 every
        ckpt_col_i64 count
        ckpt_col_i64 ratio_num
        ckpt_col_i64 ratio_den
        ckpt_col_f64 ratio_float
        ckpt_col_u8 final
        ckpt_col_i64 min_interval
        ckpt_col_i64 checkpoint_bytes
        ckpt_col_i64 keep_last
        ckpt_col_i64 every_span
        ckpt_col_i64 every_parts
        ckpt_col_i64 every_first
        ckpt_col_u8 every_whole_epochs
        int64_t walk_limit
        int64_t work_budget
        int32_t general_only
        uint32_t complete

    ctypedef struct ckpt_sweep_error:
        int64_t row
        int arg
        int why

    ctypedef struct ckpt_sweep_disk:
        int64_t *peak
        int64_t *peak_bytes
        int64_t *survivors

    ckpt_status ckpt_sweep_count(const ckpt_sweep_in *sweep, int64_t begin, int64_t end,
                                 int64_t *counts, uint32_t *flags, int64_t *nbytes,
                                 int64_t *offsets, const ckpt_sweep_disk *disk,
                                 int64_t *done, ckpt_sweep_error *err)
    ckpt_status ckpt_sweep_fill(const ckpt_sweep_in *sweep, int64_t begin, int64_t end,
                                const int64_t *offsets, int64_t *steps, int64_t *done,
                                ckpt_sweep_error *err)
    void ckpt_sweep_rule_fill(const ckpt_rule *rule, int64_t *out, int64_t n)

    int64_t CKPT_SWEEP_ABSENT
    int64_t CKPT_SWEEP_OVERFLOW
    uint32_t CKPT_FLAG_NO_SAVES
    uint32_t CKPT_FLAG_FEWER_THAN_REQUESTED
    uint32_t CKPT_FLAG_FINAL_NOT_SAVED
    uint32_t CKPT_FLAG_HF_MISMATCH
    uint32_t CKPT_FLAG_UNEVEN_TAIL
    uint32_t CKPT_FLAG_OUT_OF_RANGE
    uint32_t CKPT_FLAG_MIN_INTERVAL_DROPPED
    uint32_t CKPT_FLAG_LONG_GAP
    uint32_t CKPT_FLAG_EPOCH_END_MISSED

    ctypedef enum ckpt_sweep_why:
        CKPT_WHY_NONE
        CKPT_WHY_VALUE
        CKPT_WHY_MISSING
        CKPT_WHY_NEEDS_SPE
        CKPT_WHY_OVERFLOW
        CKPT_WHY_TOTAL
        CKPT_WHY_INTERNAL
        CKPT_WHY_WALK
