// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999), as in the
// Python `cobs` package: the encoded bytes hold no 0x00, so 0x00 can end a
// frame. The encoded length is at most OP_COBS_MAX_ENCODED(n) (no final 0x00).
#ifndef OP_COBS_H
#define OP_COBS_H

#include <stddef.h>
#include <stdint.h>

#include "op_status.h"

#define OP_COBS_MAX_ENCODED(n) ((n) + (n) / 254 + 1)

// Encode len bytes of src into dst (cap bytes); *out_len = bytes written.
// OP_ERR_SPACE, with nothing written, when the encoding does not fit in cap.
op_status_t op_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len);

// Decode one encoded frame (no final 0x00) of len bytes. OP_ERR_COBS when a
// code byte runs past the end or src holds a 0x00; OP_ERR_SPACE when the
// decoded bytes do not fit in cap. The decoded size is at most len - 1.
op_status_t op_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len);

// The same without the scan for 0x00, for callers that split the stream at 0x00.
op_status_t op_cobs_decode_nz(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                              size_t *out_len);

#endif // OP_COBS_H
