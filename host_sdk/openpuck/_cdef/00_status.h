typedef enum {
    OP_OK = 0,
    OP_ERR_ARG = -1,
    OP_ERR_SPACE = -2,
    OP_ERR_COBS = -3,
    OP_ERR_CRC = -4,
    OP_ERR_TRUNCATED = -5,
    OP_ERR_OVERSIZE = -6,
    OP_ERR_VERSION = -7,
    OP_ERR_LENGTH = -8,
    OP_ERR_CONFIG = -9,
    OP_ERR_RANGE = -10,
} op_status_t;
