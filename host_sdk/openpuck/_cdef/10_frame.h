// framing: c_core/op_crc32.h, op_cobs.h, op_frame.h (cffi cdef dialect)
#define OP_MAX_BODY ...
#define OP_WIRE_MAX ...
#define OP_SAMPLE_SIZE ...
#define OP_SAMPLES_MAX_N ...
#define OP_SIDE_HEAD ...
#define OP_STOP_DONE ...
#define OP_STOP_DEVICE_INFO ...
#define OP_STOP_SPACE ...

uint32_t op_crc32(uint32_t crc, const uint8_t *data, size_t len);
op_status_t op_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len);
op_status_t op_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                           size_t *out_len);
op_status_t op_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                            uint8_t *out, size_t cap, size_t *out_len);
op_status_t op_frame_check(const uint8_t *body, size_t len);
op_status_t op_samples_unpack(const uint8_t *payload, size_t len, uint32_t *t0_us,
                              uint16_t *period_us, int16_t *raw, size_t cap_n, size_t *n);

typedef struct {
    uint32_t frames;
    uint32_t samples;
    uint32_t crc_errors;
    uint32_t cobs_errors;
    uint32_t oversize;
    uint32_t truncated;
    uint32_t version_errors;
    uint32_t malformed;
    uint32_t lost_frames;
    uint32_t seq_resets;
    uint32_t duplicates;
} op_counters_t;

typedef struct {
    op_counters_t c;
    float accel_scale;
    float gyro_scale;
    float force_scale;
    uint16_t pending_len;
    ...;
} op_stream_t;

typedef struct {
    double *t_s;
    float *accel;
    float *gyro;
    float *force;
    uint8_t *raw;
    size_t n_cap;
    size_t n;
    uint8_t *side;
    size_t side_cap;
    size_t side_len;
    size_t consumed;
    int stop;
} op_stream_out_t;

void op_stream_init(op_stream_t *st, float accel_scale, float gyro_scale, float force_scale);
op_status_t op_stream_feed(op_stream_t *st, const uint8_t *data, size_t len,
                           op_stream_out_t *out);
