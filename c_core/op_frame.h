// Frames of the wire protocol (protocol/spec.md): COBS(body) + 0x00 where
// body = version:u8 | type:u8 | seq:u16le | payload | crc32:u32le.
//
// op_frame_encode   header + payload -> wire bytes (the puck's encoder)
// op_frame_check    is a decoded body intact? (length, CRC, version)
// op_samples_unpack one `samples` payload -> raw counts in caller arrays
// op_stream_*       the incremental stream decoder: bytes in any chunking ->
//                   samples written straight into caller arrays (physical
//                   units), every other frame copied to a side buffer.
#ifndef OP_FRAME_H
#define OP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "op_messages.h"
#include "op_status.h"

// longest encoded frame, final 0x00 excluded: COBS of a body of OP_MAX_BODY
#define OP_WIRE_MAX (OP_MAX_BODY + (OP_MAX_BODY + 253) / 254)
#define OP_COBS_SLACK (16)
#define OP_PAYLOAD_MAX (OP_MAX_BODY - OP_HEADER_SIZE - OP_CRC_SIZE)

// Build one whole frame (final 0x00 included) into out. OP_ERR_OVERSIZE when
// the body would exceed OP_MAX_BODY, OP_ERR_SPACE when out is too small
// (OP_WIRE_MAX + 1 bytes always suffice).
op_status_t op_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len,
                            uint8_t *out, size_t cap, size_t *out_len);

// A COBS-decoded body: OP_OK when intact and of version 1, else
// OP_ERR_OVERSIZE, OP_ERR_TRUNCATED, OP_ERR_CRC or OP_ERR_VERSION (checked in
// that order).
op_status_t op_frame_check(const uint8_t *body, size_t len);

// One `samples` payload: t0_us, period_us and n records of OP_SAMPLE_CHANNELS
// counts (ax ay az gx gy gz as int16, force as the bits of a uint16) into
// raw[n * 7]. OP_ERR_LENGTH when the payload is shorter than its n records or
// n > OP_SAMPLES_MAX_N; OP_ERR_SPACE when n > cap_n.
op_status_t op_samples_unpack(const uint8_t *payload, size_t len, uint32_t *t0_us,
                              uint16_t *period_us, int16_t *raw, size_t cap_n, size_t *n);

typedef struct {
    uint32_t frames;          // intact frames (COBS, length, CRC, version 1)
    uint32_t samples;         // samples written out
    uint32_t crc_errors;
    uint32_t cobs_errors;
    uint32_t oversize;        // frames longer than the protocol allows
    uint32_t truncated;       // bodies shorter than header + CRC
    uint32_t version_errors;  // intact frames of a version other than 1
    uint32_t malformed;       // samples frames whose payload does not fit n
    uint32_t lost_frames;     // frames missing from seq gaps
    uint32_t seq_resets;      // seq discontinuities: a jump back or of 32768 or more that
                              // is not a duplicate (the sender rebooted)
    uint32_t duplicates;      // frames repeated whole (dropped): same seq and CRC as one of
                              // the last OP_DUP_WINDOW accepted frames
} op_counters_t;

// How far behind the expected seq a repeated frame is recognised (a power of 2).
#define OP_DUP_WINDOW (8)

typedef struct {
    op_counters_t c;
    float accel_scale;        // g per count
    float gyro_scale;         // dps per count
    float force_scale;        // N per count
    uint32_t t_last;          // last t0_us
    int64_t t_unwrapped;      // t_last unwrapped (us)
    uint16_t next_seq;
    uint16_t recent_seq[OP_DUP_WINDOW];  // the last accepted frames, by seq % OP_DUP_WINDOW
    uint32_t recent_crc[OP_DUP_WINDOW];
    uint8_t recent_mask;      // which recent_* slots hold a frame
    uint8_t have_seq;
    uint8_t have_t;
    uint8_t dropping;         // over-long garbage: skip to the next 0x00
    uint16_t pending_len;     // bytes of an unfinished frame kept in pending
    uint8_t pending[OP_WIRE_MAX];
    uint8_t body[OP_WIRE_MAX + OP_COBS_SLACK];
} op_stream_t;

// Why op_stream_feed returned.
#define OP_STOP_DONE (0)         // the input is used up
#define OP_STOP_DEVICE_INFO (1)  // a device_info frame was just copied out: update the scales
#define OP_STOP_SPACE (2)        // the output arrays or the side buffer are full

// Side buffer records, one per intact frame that is not `samples`:
// u32le index of the next sample out | u16le body length | body (CRC included)
#define OP_SIDE_HEAD (6)

typedef struct {
    double *t_s;              // [n_cap] device time, s, unwrapped
    float *accel;             // [n_cap * 3] g
    float *gyro;              // [n_cap * 3] dps
    float *force;             // [n_cap] N
    uint8_t *raw;             // [n_cap * OP_SAMPLE_SIZE] wire records, or NULL
    size_t n_cap;
    size_t n;                 // samples written so far (the caller resets it)
    uint8_t *side;
    size_t side_cap;
    size_t side_len;          // bytes of side records so far (the caller resets it)
    size_t consumed;          // input bytes used by the last call
    int stop;                 // OP_STOP_*
} op_stream_out_t;

#ifdef OP_UNPACK_ACCEL
// Host builds only (never an MCU build): c_core/host/op_unpack_x86.c. The
// samples loop of op_stream_feed for the first records of a frame, in groups
// of 4: rec holds n records; writes t, accel, gyro and force of samples
// 0 .. m-1 exactly as the portable loop would, and returns m (a multiple of
// 4, 0 when the CPU lacks SSE4.1).
size_t op_samples_put_accel(const uint8_t *rec, size_t n, int64_t t0_us, int64_t period_us,
                            float accel_scale, float gyro_scale, float force_scale, double *t_s,
                            float *accel, float *gyro, float *force);
#endif

// Start a decoder: no partial frame, counters zero, the default scales.
void op_stream_init(op_stream_t *st, float accel_scale, float gyro_scale, float force_scale);

// Decode data[0..len). Returns OP_OK, or OP_ERR_ARG. Stops early (out->stop)
// after a device_info frame or when the outputs lack room for one more frame
// (OP_SAMPLES_MAX_N samples, OP_SIDE_HEAD + OP_MAX_BODY side bytes); call
// again with data + out->consumed. A partial frame at the end is kept.
op_status_t op_stream_feed(op_stream_t *st, const uint8_t *data, size_t len,
                           op_stream_out_t *out);

#endif // OP_FRAME_H
