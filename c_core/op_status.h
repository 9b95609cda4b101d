// Status codes of every c_core function. Mirrored by openpuck.errors.Status
// (tests/test_status_mirror.py checks the two agree).
#ifndef OP_STATUS_H
#define OP_STATUS_H

typedef enum {
    OP_OK = 0,
    OP_ERR_ARG = -1,          // a NULL pointer or a size that cannot be right
    OP_ERR_SPACE = -2,        // the caller's output buffer is too small
    OP_ERR_COBS = -3,         // not valid COBS
    OP_ERR_CRC = -4,          // CRC-32 mismatch
    OP_ERR_TRUNCATED = -5,    // shorter than header + CRC
    OP_ERR_OVERSIZE = -6,     // body larger than OP_MAX_BODY
    OP_ERR_VERSION = -7,      // protocol version this core does not speak
    OP_ERR_LENGTH = -8,       // payload length does not fit the message type
    OP_ERR_CONFIG = -9,       // a detector config failed its *_check()
    OP_ERR_RANGE = -10,       // a value outside its allowed range
} op_status_t;

#endif // OP_STATUS_H
