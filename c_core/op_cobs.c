#include "op_cobs.h"

#include <string.h>

op_status_t op_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len) {
    if ((src == NULL && len) || dst == NULL || out_len == NULL) {
        return OP_ERR_ARG;
    }
    if (cap < OP_COBS_MAX_ENCODED(len)) {
        // the exact size may still fit: count it
        size_t need = 1, run = 0;
        for (size_t i = 0; i < len; i++) {
            need++;
            if (src[i] == 0) {
                run = 0;
            } else {
                if (++run == 254 && i + 1 < len) {
                    need++;
                    run = 0;
                }
            }
        }
        if (need > cap) {
            return OP_ERR_SPACE;
        }
    }
    size_t code_at = 0, o = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_at] = code;
            code_at = o++;
            code = 1;
        } else {
            dst[o++] = src[i];
            if (++code == 0xff && i + 1 < len) {
                dst[code_at] = code;
                code_at = o++;
                code = 1;
            }
        }
    }
    // a full block (code 0xff) that ends the input is the last block: no
    // empty block follows it (as in the `cobs` package)
    dst[code_at] = code;
    *out_len = o;
    return OP_OK;
}

op_status_t op_cobs_decode_nz(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                              size_t *out_len) {
    if ((src == NULL && len) || dst == NULL || out_len == NULL) {
        return OP_ERR_ARG;
    }
    size_t i = 0, o = 0;
    while (i < len) {
        size_t code = src[i];
        if (code == 0 || code > len - i) {
            return OP_ERR_COBS;
        }
        size_t run = code - 1;
        if (run > cap - o) {
            return OP_ERR_SPACE;
        }
        memcpy(dst + o, src + i + 1, run);
        o += run;
        i += code;
        if (code != 0xff && i < len) {
            if (o >= cap) {
                return OP_ERR_SPACE;
            }
            dst[o++] = 0;
        }
    }
    *out_len = o;
    return OP_OK;
}

op_status_t op_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len) {
    if (src != NULL && len && memchr(src, 0, len) != NULL) {
        return OP_ERR_COBS;
    }
    return op_cobs_decode_nz(src, len, dst, cap, out_len);
}
