// Detector parity harness: runs the detector over the recordings compiled in
// (recording.h) and prints every event. Built twice, for the emulated
// Cortex-M3 and natively on the host; tests/test_cross.py requires the two
// outputs to be identical, byte for byte.
//
// Each recording runs with the auto target (the catalogue defaults) and, when
// its truth file gives one, with the patient's target; each run feeds the
// samples one by one (op_detect_push, as the firmware does) and in blocks
// (op_detect_run, as the SDK does).
#include <stdio.h>

#include "op_detect.h"
#include "recording.h"

static op_detect_t det;

static void print_event(const char *mode, const op_detect_event_t *ev)
{
    printf("%s ev %u %u %lu %lu %lu %ld %lu\n", mode, (unsigned)ev->kind, (unsigned)ev->count,
           (unsigned long)ev->t_start_us, (unsigned long)ev->t_peak_us,
           (unsigned long)ev->t_end_us, (long)ev->amplitude_milli, (unsigned long)ev->hold_ms);
}

static int start(const op_recording_t *rec, int32_t target_milli)
{
    op_detect_config_t cfg;
    op_status_t st = op_detect_config_default(&cfg, rec->exercise);
    if (st != OP_OK) {
        printf("config_default %s: status %d\n", rec->name, (int)st);
        return 1;
    }
    cfg.target_milli = target_milli;
    st = op_detect_init(&det, &cfg);
    if (st != OP_OK) {
        printf("init %s: status %d\n", rec->name, (int)st);
        return 1;
    }
    return 0;
}

static void drain(const char *mode)
{
    op_detect_event_t ev;
    while (op_detect_pop(&det, &ev)) {
        print_event(mode, &ev);
    }
}

static void finish(const char *mode)
{
    op_detect_finish(&det);
    drain(mode);
    printf("%s end target %ld\n", mode, (long)op_detect_target(&det));
}

static int run_push(const op_recording_t *rec, int32_t target_milli)
{
    if (start(rec, target_milli) != 0) {
        return 1;
    }
    for (uint32_t i = 0; i < rec->n; i++) {
        const int16_t *s = &rec->imu[6u * i];
        if (op_detect_push(&det, rec->t_us[i], s[0], s[1], s[2], s[3], s[4], s[5],
                           rec->force[i]) > 0) {
            drain("push");
        }
    }
    finish("push");
    return 0;
}

static int run_blocks(const op_recording_t *rec, int32_t target_milli)
{
    op_detect_event_t out[16];
    if (start(rec, target_milli) != 0) {
        return 1;
    }
    size_t i = 0;
    while (i < rec->n) {
        size_t n_out = 0;
        size_t used = op_detect_run(&det, &rec->t_us[i], &rec->imu[6u * i], &rec->force[i],
                                    rec->n - i, out, sizeof out / sizeof out[0], &n_out);
        for (size_t k = 0; k < n_out; k++) {
            print_event("run", &out[k]);
        }
        if (used == 0 && n_out == 0) {
            printf("run %s: op_detect_run made no progress at sample %lu\n", rec->name,
                   (unsigned long)i);
            return 1;
        }
        i += used;
    }
    finish("run");
    return 0;
}

int main(void)
{
    int failed = 0;
    for (size_t r = 0; r < op_recordings_n; r++) {
        const op_recording_t *rec = &op_recordings[r];
        int32_t targets[2] = {0, rec->target_milli};
        for (int k = 0; k < (rec->target_milli != 0 ? 2 : 1); k++) {
            printf("rec %s exercise %u samples %lu target %ld\n", rec->name,
                   (unsigned)rec->exercise, (unsigned long)rec->n, (long)targets[k]);
            failed |= run_push(rec, targets[k]);
            failed |= run_blocks(rec, targets[k]);
        }
    }
    return failed;
}
