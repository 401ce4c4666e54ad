/* fuzz_reader.h -- the byte reader both fuzz targets decode their input with
 * (tests/c/fuzz_ckpt.c, tests/c/fuzz_sweep.c): bytes in order, zeros once the input is
 * exhausted, so that every input, however short, decodes to something. */
#ifndef CKPT_FUZZ_READER_H
#define CKPT_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *data;
    size_t size, pos;
} reader;

static inline uint8_t read_byte(reader *rd)
{
    return rd->pos < rd->size ? rd->data[rd->pos++] : 0;
}

#endif
