// CRC-32/ISO-HDLC of the wire envelope: the same value as zlib's crc32 and
// Python's binascii.crc32. Start with crc = 0; feed pieces by passing the
// previous result: op_crc32(op_crc32(0, a, n), b, m) == op_crc32(0, ab, n + m).
#ifndef OP_CRC32_H
#define OP_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t op_crc32(uint32_t crc, const uint8_t *data, size_t len);

#ifdef OP_CRC32_ACCEL
// Host builds only (never an MCU build): a CPU-specific CRC linked in beside
// the core, c_core/host/op_crc32_x86.c. op_crc32() hands it inputs of
// OP_CRC32_ACCEL_MIN bytes or more; it checks the CPU at run time and falls
// back to op_crc32_portable(), the table CRC of op_crc32.c.
#define OP_CRC32_ACCEL_MIN (64)
uint32_t op_crc32_accel(uint32_t crc, const uint8_t *data, size_t len);
uint32_t op_crc32_portable(uint32_t crc, const uint8_t *data, size_t len);
int op_crc32_accel_active(void);  // 1 when op_crc32_accel() uses the CPU's instructions
#endif

#endif // OP_CRC32_H
