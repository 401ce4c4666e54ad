/* ckpt.c -- run geometry, rules and unions for ckptsched (see ckpt.h). */
#include "ckpt.h"

#include <stddef.h>

#if defined(__SSE2__) && defined(__x86_64__) && !defined(CKPT_NO_STREAMING_STORES)
#include <emmintrin.h>
#define CKPT_STREAMING_STORES 1
#endif

_Static_assert(sizeof(ckpt_rule) == 4 * sizeof(int64_t),
               "an (n, 4) int64 array must be an array of ckpt_rule");

/* ---- run geometry ------------------------------------------------------ */

ckpt_status ckpt_total_steps(int64_t steps_per_epoch, int64_t e_num, int64_t e_den,
                             int64_t *total)
{
    if (steps_per_epoch < 1 || e_num < 1 || e_den < 1) return CKPT_DOMAIN;
    return ckpt_muldiv_ceil(e_num, steps_per_epoch, e_den, total);
}

ckpt_status ckpt_steps_per_epoch(int64_t num_examples, int64_t micro_batch_size,
                                 int64_t grad_accum, int64_t world_size,
                                 int drop_last, int step_partial, int64_t *steps)
{
    int64_t per_rank, batches;
    if (num_examples < 1 || micro_batch_size < 1 || grad_accum < 1 || world_size < 1)
        return CKPT_DOMAIN;
    if (drop_last) {
        per_rank = num_examples / world_size;
        batches = per_rank / micro_batch_size;
    } else {
        per_rank = num_examples / world_size + (num_examples % world_size != 0);
        batches = per_rank / micro_batch_size + (per_rank % micro_batch_size != 0);
    }
    if (step_partial)
        *steps = batches / grad_accum + (batches % grad_accum != 0);
    else
        *steps = batches / grad_accum;
    return CKPT_OK;
}

ckpt_status ckpt_locate(int64_t step, int64_t steps_per_epoch, int64_t *epoch, int64_t *position)
{
    if (step < 1 || steps_per_epoch < 1) return CKPT_DOMAIN;
    *epoch = (step - 1) / steps_per_epoch + 1;
    *position = (step - 1) % steps_per_epoch + 1;
    return CKPT_OK;
}

/* ---- rules ------------------------------------------------------------- */

ckpt_status ckpt_rule_check(const ckpt_rule *rule)
{
    if (rule->kind != CKPT_RULE_EVERY && rule->kind != CKPT_RULE_EVEN) return CKPT_DOMAIN;
    if (rule->kind == CKPT_RULE_EVERY && (rule->start < 1 || rule->interval < 1)) return CKPT_DOMAIN;
    if (rule->kind == CKPT_RULE_EVEN && (rule->span < 1 || rule->parts < 1)) return CKPT_DOMAIN;
    if (rule->stop < 0) return CKPT_DOMAIN;
    return CKPT_OK;
}

/* An EVEN rule with span < parts has boundaries less than one step apart: one
 * in every step.  With span >= parts, a step holds at most one boundary. */

/* floor(x * parts / span): the boundaries in (0, x] of an EVEN rule with
 * span >= parts, for x >= 0 (at most x, so it fits). */
static inline int64_t even_boundaries(const ckpt_rule *rule, int64_t x)
{
    uint64_t quot = 0, rem;
    (void)ckpt_muldivmod_u64((uint64_t)x, (uint64_t)rule->parts, (uint64_t)rule->span, &quot, &rem);
    return (int64_t)quot;
}

/* i * span = *quot * parts + *rem for an EVEN rule with span >= parts and its
 * i-th boundary at a step <= stop (so the quotient fits). */
static inline void even_divmod(const ckpt_rule *rule, int64_t i, uint64_t *quot, uint64_t *rem)
{
    *quot = *rem = 0;
    (void)ckpt_muldivmod_u64((uint64_t)i, (uint64_t)rule->span, (uint64_t)rule->parts, quot, rem);
}

int ckpt_rule_contains(const ckpt_rule *rule, int64_t s)
{
    if (s < 1 || s > rule->stop) return 0;
    if (rule->kind == CKPT_RULE_EVERY)
        return s >= rule->start && (s - rule->start) % rule->interval == 0;
    if (rule->span < rule->parts) return 1;  /* a boundary in every step */
    /* A boundary i*span/parts lies in (s-1, s] iff a multiple of span lies in
     * ((s-1)*parts, s*parts], i.e. iff (s*parts) mod span < parts (span >= parts:
     * at most one).  When s*parts fits in int64 that is one 64-bit division;
     * otherwise the boundary counts at s and s-1 are compared in 128 bits. */
    int64_t product;
    if (ckpt_mul(s, rule->parts, &product) == CKPT_OK)
        return product % rule->span < rule->parts;
    return even_boundaries(rule, s) > even_boundaries(rule, s - 1);
}

int64_t ckpt_rule_count(const ckpt_rule *rule, int64_t x)
{
    if (x > rule->stop) x = rule->stop;
    if (x < 1) return 0;
    if (rule->kind == CKPT_RULE_EVERY)
        return x < rule->start ? 0 : (x - rule->start) / rule->interval + 1;
    if (rule->span < rule->parts) return x;  /* a boundary in every step */
    return even_boundaries(rule, x);
}

int64_t ckpt_rule_nth(const ckpt_rule *rule, int64_t i)
{
    if (rule->kind == CKPT_RULE_EVERY)
        return rule->start + (i - 1) * rule->interval;
    if (rule->span < rule->parts)  /* spacing below one step: every step */
        return i;
    uint64_t quot, rem;
    even_divmod(rule, i, &quot, &rem);  /* ceil(i * span / parts) */
    return (int64_t)(quot + (rem != 0));
}

int64_t ckpt_rule_next_after(const ckpt_rule *rule, int64_t s)
{
    if (s < 0) s = 0;
    if (s >= rule->stop) return 0;
    int64_t before = ckpt_rule_count(rule, s);
    if (before >= ckpt_rule_count(rule, rule->stop)) return 0;
    return ckpt_rule_nth(rule, before + 1);
}

/* ---- cursors: walk a rule's steps in order without division ------------ */

typedef struct {
    const ckpt_rule *rule;
    int64_t index;  /* 1-based index of the current step                 */
    int64_t count;  /* how many steps the rule has in all                */
    int64_t value;  /* the current step; 0 once the rule is exhausted    */
    int64_t quot;   /* EVEN with span >= parts:                          */
    uint64_t rem;   /*   index*span = quot*parts + rem                   */
    int64_t dquot;  /* span / parts and span % parts                     */
    uint64_t drem;
} cursor;

static inline int even_incremental(const ckpt_rule *rule)
{
    return rule->kind == CKPT_RULE_EVEN && rule->span >= rule->parts;
}

/* Put the cursor on the rule's i-th step (exhausted when i > count). */
static void cursor_seek(cursor *c, int64_t i)
{
    const ckpt_rule *rule = c->rule;
    c->index = i;
    if (i > c->count) {
        c->value = 0;
        return;
    }
    c->value = ckpt_rule_nth(rule, i);
    if (even_incremental(rule)) {
        uint64_t quot, rem;
        even_divmod(rule, i, &quot, &rem);
        c->quot = (int64_t)quot;  /* <= value <= stop */
        c->rem = rem;
    }
}

static void cursor_start(cursor *c, const ckpt_rule *rule)
{
    c->rule = rule;
    c->count = ckpt_rule_count(rule, rule->stop);
    if (even_incremental(rule)) {
        c->dquot = rule->span / rule->parts;
        c->drem = (uint64_t)(rule->span % rule->parts);
    }
    cursor_seek(c, 1);
}

/* (i+1)*span = i*span + span: add span/parts to the quotient and span%parts
 * to the remainder.  Only called while index < count, so the next step is <= stop. */
static inline int64_t even_next(cursor *c)
{
    c->rem += c->drem;  /* rem, drem < parts <= INT64_MAX: no unsigned wrap */
    if (c->rem >= (uint64_t)c->rule->parts) {
        c->rem -= (uint64_t)c->rule->parts;
        c->quot += 1;
    }
    c->quot += c->dquot;
    return c->quot + (c->rem != 0);
}

/* Progressions of at least this many steps (1 MiB) are written with streaming stores,
 * which skip reading the destination's cache lines first (it will not fit in cache). */
enum { STREAM_FROM = 1 << 17 };

/* dst[j] = first + j * spacing for j < m (all <= stop: no overflow), as np.arange does. */
static void fill_progression(int64_t *dst, int64_t m, int64_t first, int64_t spacing)
{
    int64_t j = 0;
#ifdef CKPT_STREAMING_STORES
    if (m >= STREAM_FROM) {
        if (((uintptr_t)dst & 15) != 0) {  /* _mm_stream_si128 needs 16-byte alignment */
            dst[0] = first;
            j = 1;
        }
        __m128i pair = _mm_set_epi64x(first + (j + 1) * spacing, first + j * spacing);
        const __m128i step = _mm_set1_epi64x(2 * spacing);  /* <= stop when j + 2 < m */
        for (; j + 2 <= m; j += 2) {
            _mm_stream_si128((__m128i *)(void *)(dst + j), pair);
            if (j + 4 <= m) pair = _mm_add_epi64(pair, step);
        }
        _mm_sfence();  /* the streamed stores are visible before anyone reads dst */
    }
#endif
    for (; j < m; j++) dst[j] = first + j * spacing;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Write the m >= 1 steps of an EVEN rule with span >= parts from the cursor's
 * current one on (all <= stop) to dst; the cursor is left in an unspecified state
 * (the caller seeks it).  The steps repeat with a period: with g = gcd(span, parts),
 * step i + parts/g is step i plus span/g.  So a block of whole periods (at least
 * MIN_BLOCK steps, so that the copy below does not wait on the store just made) is
 * computed incrementally (a quotient and a remainder kept in locals: no division per
 * step) and the rest is a copy-and-add of the step one block earlier. */
enum { MIN_BLOCK = 16 };

static void even_fill(cursor *c, int64_t *dst, int64_t m)
{
    const int64_t g = gcd64(c->rule->span, c->rule->parts);
    const int64_t period = c->rule->parts / g;
    if (period == 1) {  /* parts divides span: an arithmetic progression */
        fill_progression(dst, m, c->value, c->rule->span / c->rule->parts);
        return;
    }
    const int64_t block = period >= MIN_BLOCK ? period : period * ((MIN_BLOCK + period - 1) / period);
    const int64_t first_part = block < m ? block : m;
    const uint64_t parts = (uint64_t)c->rule->parts, drem = c->drem;
    const int64_t dquot = c->dquot;
    int64_t quot = c->quot;
    uint64_t rem = c->rem;
    dst[0] = c->value;
    for (int64_t j = 1; j < first_part; j++) {
        rem += drem;  /* rem, drem < parts <= INT64_MAX: no unsigned wrap */
        int64_t carry = rem >= parts;
        rem -= carry ? parts : 0;
        quot += dquot + carry;
        dst[j] = quot + (rem != 0);
    }
    if (m > block) {
        /* step i+block - step i, the same for every i; <= stop since step #block+1 exists */
        const int64_t shift = (c->rule->span / g) * (block / period);
        /* block by block: each reads the one before, so the inner loop vectorizes */
        for (int64_t base = block; base < m; base += block) {
            const int64_t end = m - base < block ? m - base : block;
            const int64_t *src = dst + base - block;
            int64_t *to = dst + base;
            for (int64_t t = 0; t < end; t++) to[t] = src[t] + shift;
        }
    }
}

static void cursor_advance(cursor *c)
{
    const ckpt_rule *rule = c->rule;
    if (c->index >= c->count) {
        c->value = 0;
    } else if (rule->kind == CKPT_RULE_EVERY) {
        c->value += rule->interval;  /* the next step exists, so it is <= stop */
    } else if (rule->span < rule->parts) {
        c->value += 1;        /* spacing below one step: every step */
    } else {
        c->value = even_next(c);
    }
    c->index += 1;
}

/* Emit the cursor's steps below `bound` (into out + *found when out != NULL) and
 * leave it on its first step >= bound.  CKPT_CAPACITY when more than limit in all. */
static ckpt_status cursor_run(cursor *c, int64_t bound, int64_t *out, int64_t limit,
                              int64_t *found)
{
    const ckpt_rule *rule = c->rule;
    int64_t below = bound - 1 < rule->stop ? bound - 1 : rule->stop;
    int64_t m = ckpt_rule_count(rule, below) - c->index + 1;  /* steps in [value, bound) */
    if (m <= 0) return CKPT_OK;
    if (m > limit - *found) return CKPT_CAPACITY;
    if (out != NULL) {
        int64_t *dst = out + *found;
        if (rule->kind == CKPT_RULE_EVERY) {
            fill_progression(dst, m, c->value, rule->interval);
        } else if (rule->span < rule->parts) {
            fill_progression(dst, m, c->value, 1);
        } else {
            even_fill(c, dst, m);
        }
    }
    *found += m;
    cursor_seek(c, c->index + m);
    return CKPT_OK;
}

/* Visit the union's steps in order; write them to out when out != NULL.
 * Stops with CKPT_CAPACITY once more than limit steps were found. */
static ckpt_status sched_walk(const ckpt_sched *sched, int64_t *out, int64_t limit, int64_t *n)
{
    cursor cursors[CKPT_MAX_RULES];
    int64_t n_cur = 0, i_extra = 0, found = 0;
    if (sched->n_rules < 0 || sched->n_rules > CKPT_MAX_RULES || sched->n_extra < 0)
        return CKPT_DOMAIN;
    /* the union is at least as large as its largest part: refuse at once, without walking */
    if (sched->n_extra > limit) return CKPT_CAPACITY;
    for (int64_t r = 0; r < sched->n_rules; r++)
        if (ckpt_rule_count(&sched->rules[r], sched->rules[r].stop) > limit) return CKPT_CAPACITY;
    for (int64_t r = 0; r < sched->n_rules; r++) {
        cursor_start(&cursors[n_cur], &sched->rules[r]);
        if (cursors[n_cur].value != 0) n_cur++;
    }
    for (;;) {
        if (n_cur == 1) {
            /* one rule left: run it in a tight loop up to the next extra step */
            int64_t bound = i_extra < sched->n_extra ? sched->extra[i_extra] : INT64_MAX;
            ckpt_status status = cursor_run(&cursors[0], bound, out, limit, &found);
            if (status != CKPT_OK) return status;
            if (cursors[0].value == 0) n_cur = 0;
        }
        int64_t low = INT64_MAX;
        int any = 0;
        for (int64_t c = 0; c < n_cur; c++)
            if (cursors[c].value <= low) low = cursors[c].value, any = 1;  /* a step may be INT64_MAX */
        if (i_extra < sched->n_extra && sched->extra[i_extra] <= low)
            low = sched->extra[i_extra], any = 1;
        if (!any) break;
        if (found >= limit) return CKPT_CAPACITY;
        if (out != NULL) out[found] = low;
        found++;
        if (i_extra < sched->n_extra && sched->extra[i_extra] == low) i_extra++;
        for (int64_t c = 0; c < n_cur;) {
            if (cursors[c].value == low) cursor_advance(&cursors[c]);
            if (cursors[c].value == 0) cursors[c] = cursors[--n_cur];  /* drop exhausted */
            else c++;
        }
    }
    *n = found;
    return CKPT_OK;
}

/* ---- schedules --------------------------------------------------------- */

static int extra_contains(const ckpt_sched *sched, int64_t s)
{
    int64_t lo = 0, hi = sched->n_extra;  /* binary search in [lo, hi) */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sched->extra[mid] < s) lo = mid + 1;
        else hi = mid;
    }
    return lo < sched->n_extra && sched->extra[lo] == s;
}

/* The first extra step > s, or 0. */
static int64_t extra_next_after(const ckpt_sched *sched, int64_t s)
{
    int64_t lo = 0, hi = sched->n_extra;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (sched->extra[mid] <= s) lo = mid + 1;
        else hi = mid;
    }
    return lo < sched->n_extra ? sched->extra[lo] : 0;
}

int ckpt_sched_contains(const ckpt_sched *sched, int64_t s)
{
    for (int64_t r = 0; r < sched->n_rules; r++)
        if (ckpt_rule_contains(&sched->rules[r], s)) return 1;
    return extra_contains(sched, s);
}

int64_t ckpt_sched_next_after(const ckpt_sched *sched, int64_t s)
{
    int64_t best = extra_next_after(sched, s);
    for (int64_t r = 0; r < sched->n_rules; r++) {
        int64_t next = ckpt_rule_next_after(&sched->rules[r], s);
        if (next != 0 && (best == 0 || next < best)) best = next;
    }
    return best;
}

ckpt_status ckpt_sched_count_bound(const ckpt_sched *sched, int64_t *bound)
{
    int64_t total = sched->n_extra;
    for (int64_t r = 0; r < sched->n_rules; r++) {
        const ckpt_rule *rule = &sched->rules[r];
        if (ckpt_add(total, ckpt_rule_count(rule, rule->stop), &total) != CKPT_OK)
            return CKPT_OVERFLOW;
    }
    *bound = total;
    return CKPT_OK;
}

ckpt_status ckpt_sched_count(const ckpt_sched *sched, int64_t walk_limit, int64_t *count)
{
    if (sched->n_rules > 1) return sched_walk(sched, NULL, walk_limit, count);
    int64_t total = sched->n_extra;
    if (sched->n_rules == 1) {
        const ckpt_rule *rule = &sched->rules[0];
        total = ckpt_rule_count(rule, rule->stop);
        for (int64_t i = 0; i < sched->n_extra; i++)
            if (!ckpt_rule_contains(rule, sched->extra[i]) && ckpt_add(total, 1, &total) != CKPT_OK)
                return CKPT_OVERFLOW;
    }
    *count = total;
    return CKPT_OK;
}

ckpt_status ckpt_sched_fill(const ckpt_sched *sched, int64_t *out, int64_t cap, int64_t *n)
{
    if (out == NULL || cap < 0) return CKPT_DOMAIN;
    return sched_walk(sched, out, cap, n);
}

/* ---- post-processing --------------------------------------------------- */

ckpt_status ckpt_min_interval(const int64_t *steps, int64_t n, int64_t min_interval,
                              int64_t forced, int64_t *out, int64_t *n_out)
{
    int64_t kept = 0, last = 0;
    if (n < 0 || min_interval < 0) return CKPT_DOMAIN;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = steps[i];
        if (kept == 0 || s == forced || s - last >= min_interval) {
            out[kept++] = s;
            last = s;
        }
    }
    *n_out = kept;
    return CKPT_OK;
}

ckpt_status ckpt_longest_gap(const int64_t *steps, int64_t n, int64_t total,
                             int64_t *gap, int64_t *end)
{
    int64_t prev = 0, best = 0, best_end = 0;
    if (n < 0 || total < 1) return CKPT_DOMAIN;
    for (int64_t i = 0; i < n; i++) {
        if (steps[i] <= prev || steps[i] > total) return CKPT_DOMAIN;
        if (steps[i] - prev > best) best = steps[i] - prev, best_end = steps[i];
        prev = steps[i];
    }
    if (total - prev > best) best = total - prev, best_end = total;
    *gap = best;
    *end = best_end;
    return CKPT_OK;
}
