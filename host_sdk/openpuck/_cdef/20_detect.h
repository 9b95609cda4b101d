// c_core/op_detect.h: rep, partial-rep and grip detection
#define OP_DETECT_KIND_REP ...
#define OP_DETECT_KIND_PARTIAL ...
#define OP_DETECT_KIND_GRIP ...
#define OP_DETECT_QUEUE ...
#define OP_DETECT_AUTO_REPS ...
#define OP_DETECT_TICK_US ...
#define OP_DETECT_STATE_N ...

typedef struct {
    uint8_t signal;
    uint8_t on_pct;
    uint8_t off_pct;
    uint8_t hyst_pct;
    int32_t target_milli;
    int32_t auto_floor_milli;
    uint16_t min_rep_ms;
    uint16_t max_rep_ms;
    uint16_t accel_lsb_per_g;
    uint16_t force_mn_per_lsb;
    uint32_t gyro_lsb_per_dps_x1000;
    uint16_t fuse_tau_ms;
    uint16_t track_tau_ms;
    uint16_t bias_tau_ms;
    uint16_t still_mdps;
    int32_t grip_on_mn;
    int32_t grip_off_mn;
} op_detect_config_t;

typedef struct {
    uint8_t kind;
    uint8_t reserved;
    uint16_t count;
    uint32_t t_start_us;
    uint32_t t_peak_us;
    uint32_t t_end_us;
    int32_t amplitude_milli;
    uint32_t hold_ms;
} op_detect_event_t;

typedef struct { ...; } op_detect_t;

typedef struct {
    int32_t signal, rest, on, off, end, target;
    uint8_t phase;
    int8_t side;
} op_detect_probe_t;

op_status_t op_detect_config_default(op_detect_config_t *cfg, uint8_t exercise_id);
op_status_t op_detect_check(const op_detect_config_t *cfg);
op_status_t op_detect_init(op_detect_t *d, const op_detect_config_t *cfg);
int op_detect_push(op_detect_t *d, uint32_t t_us, int32_t ax, int32_t ay, int32_t az,
                   int32_t gx, int32_t gy, int32_t gz, int32_t force);
size_t op_detect_run(op_detect_t *d, const uint32_t *t_us, const int16_t *imu,
                     const int32_t *force, size_t n, op_detect_event_t *out,
                     size_t cap, size_t *n_out);
int op_detect_pop(op_detect_t *d, op_detect_event_t *ev);
void op_detect_calibrate(op_detect_t *d);
int op_detect_finish(op_detect_t *d);
int32_t op_detect_target(const op_detect_t *d);
void op_detect_probe(const op_detect_t *d, op_detect_probe_t *p);
void op_detect_state(const op_detect_t *d, int64_t out[]);
uint32_t op_isqrt32(uint32_t x);
int32_t op_atan2_mdeg(int32_t y, int32_t x);
