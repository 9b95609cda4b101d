// CRC-32/ISO-HDLC of the wire envelope: the same value as zlib's crc32 and
// Python's binascii.crc32. Start with crc = 0; feed pieces by passing the
// previous result: op_crc32(op_crc32(0, a, n), b, m) == op_crc32(0, ab, n + m).
#ifndef OP_CRC32_H
#define OP_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t op_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif // OP_CRC32_H
