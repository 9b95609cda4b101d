// Recordings compiled into the target harnesses (parity_main.c, cost_main.c)
// as raw counts. The table is generated at build time by tools/rec2c.py from
// CSV recordings into the build directory; it is never committed.
#ifndef OP_TARGET_RECORDING_H
#define OP_TARGET_RECORDING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;      // CSV file name without .csv
    uint8_t exercise;      // OP_EXERCISE_*
    int32_t target_milli;  // the patient's target from the truth file (0: none)
    uint32_t n;            // samples
    const uint32_t *t_us;  // [n] device time
    const int16_t *imu;    // [n * 6] ax ay az gx gy gz, raw counts
    const int32_t *force;  // [n] raw counts
} op_recording_t;

extern const op_recording_t op_recordings[];
extern const size_t op_recordings_n;

#endif // OP_TARGET_RECORDING_H
