// Profile of the detector on the emulated Cortex-M3: op_detect_push over the
// first PROFILE_SAMPLES samples of recording PROFILE_REC (patient's target).
// `make -C c_core m3-profile` runs it one instruction per translation block
// with QEMU's exec log and tools/m3_profile.py counts instructions per
// function and per source line.
#include "op_detect.h"
#include "recording.h"

#ifndef PROFILE_REC
#define PROFILE_REC 0
#endif
#ifndef PROFILE_SAMPLES
#define PROFILE_SAMPLES 1000
#endif

static op_detect_t det;

int main(void)
{
    if ((size_t)PROFILE_REC >= op_recordings_n) {
        return 2;
    }
    const op_recording_t *rec = &op_recordings[PROFILE_REC];
    op_detect_config_t cfg;
    if (op_detect_config_default(&cfg, rec->exercise) != OP_OK) {
        return 1;
    }
    cfg.target_milli = rec->target_milli;
    if (op_detect_init(&det, &cfg) != OP_OK) {
        return 1;
    }
    op_detect_event_t ev;
    for (uint32_t i = 0; i < (uint32_t)PROFILE_SAMPLES && i < rec->n; i++) {
        const int16_t *s = &rec->imu[6u * i];
        int released = op_detect_push(&det, rec->t_us[i], s[0], s[1], s[2], s[3], s[4], s[5],
                                      rec->force[i]);
        while (released-- > 0) {
            op_detect_pop(&det, &ev);
        }
    }
    return 0;
}
