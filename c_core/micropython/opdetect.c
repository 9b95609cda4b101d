// MicroPython user C module `opdetect`: the C detector (c_core/op_detect.c)
// for the firmware, with the interface of the MicroPython twin
// (firmware/openpuck_fw/detect.py, whose make_twin() takes make_detector()'s arguments; not state()):
//
//   import opdetect
//   d = opdetect.make_detector(exercise_id, target_milli, on_pct, off_pct, rate_hz,
//                              accel_lsb_per_g, gyro_lsb_per_dps_x1000, force_mn_per_lsb)
//   n = d.push(t_us, ax, ay, az, gx, gy, gz, force)
//   ev = d.pop()   # (kind, count, t_start_us, t_peak_us, t_end_us, amplitude_milli, hold_ms) or None
//   d.calibrate_target(); d.finish(); d.target_milli()
//
// The core allocates nothing; this wrapper owns the memory (one object holds
// the op_detect_t), checks arguments and turns statuses into exceptions.
// One source, two builds:
// - built into a firmware with USER_C_MODULES (../micropython.mk and
//   ../micropython.cmake);
// - a dynamic native module, opdetect.mpy, copied onto a stock firmware
//   (MICROPY_ENABLE_DYNRUNTIME, ../natmod.mk, `make natmod`): the type and
//   its methods are then filled in at import, in mpy_init().
#if MICROPY_ENABLE_DYNRUNTIME
#include "py/dynruntime.h"
#define OPDETECT_TEXT(s) (s)
#else
#include "py/obj.h"
#include "py/runtime.h"
#define OPDETECT_TEXT(s) MP_ERROR_TEXT(s)
#endif

#include "op_detect.h"

#if MICROPY_ENABLE_DYNRUNTIME
// a natmod has no libc: the core's struct copies and memset go to the runtime's
void *memcpy(void *dst, const void *src, size_t n) {
    return mp_fun_table.memmove_(dst, src, n);
}
void *memset(void *s, int c, size_t n) {
    return mp_fun_table.memset_(s, c, n);
}
#endif

typedef struct _opdetect_obj_t {
    mp_obj_base_t base;
    op_detect_t d;
} opdetect_obj_t;

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t opdetect_type_full; // natmods keep no static bss
#define OPDETECT_TYPE ((const mp_obj_type_t *)&opdetect_type_full)
#else
static const mp_obj_type_t opdetect_type;
#define OPDETECT_TYPE (&opdetect_type)
#endif

static mp_obj_t opdetect_make_detector(size_t n_args, const mp_obj_t *args) {
    op_detect_config_t cfg;
    mp_int_t v;
    mp_int_t ex = mp_obj_get_int(args[0]);
    if (ex < 0 || ex > 255 || op_detect_config_default(&cfg, (uint8_t)ex) != OP_OK) {
        mp_raise_ValueError(OPDETECT_TEXT("unknown exercise id"));
    }
    if (n_args > 1) {
        v = mp_obj_get_int(args[1]);
        if (v < 0 || v > 10000000) {
            mp_raise_ValueError(OPDETECT_TEXT("target_milli out of range"));
        }
        cfg.target_milli = (int32_t)v;
    }
    if (n_args > 2 && (v = mp_obj_get_int(args[2])) != 0) {
        cfg.on_pct = (uint8_t)(v < 0 || v > 255 ? 255 : v);
    }
    if (n_args > 3 && (v = mp_obj_get_int(args[3])) != 0) {
        cfg.off_pct = (uint8_t)(v < 0 || v > 255 ? 255 : v);
    }
    // args[4]: nominal rate in Hz; the detector follows the sample times
    if (n_args > 5) {
        v = mp_obj_get_int(args[5]);
        cfg.accel_lsb_per_g = (uint16_t)(v < 0 || v > 65535 ? 0 : v);
    }
    if (n_args > 6) {
        v = mp_obj_get_int(args[6]);
        cfg.gyro_lsb_per_dps_x1000 = (uint32_t)(v < 0 ? 0 : v);
    }
    if (n_args > 7) {
        v = mp_obj_get_int(args[7]);
        cfg.force_mn_per_lsb = (uint16_t)(v < 0 || v > 65535 ? 0 : v);
    }
    opdetect_obj_t *o = mp_obj_malloc(opdetect_obj_t, OPDETECT_TYPE);
    if (op_detect_init(&o->d, &cfg) != OP_OK) {
        mp_raise_ValueError(OPDETECT_TEXT("bad detector config"));
    }
    return MP_OBJ_FROM_PTR(o);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(opdetect_make_detector_obj, 1, 8, opdetect_make_detector);

static mp_obj_t opdetect_push(size_t n_args, const mp_obj_t *args) {
    opdetect_obj_t *o = MP_OBJ_TO_PTR(args[0]);
    (void)n_args;
    uint32_t t = (uint32_t)mp_obj_get_int_truncated(args[1]);
    int n = op_detect_push(&o->d, t, mp_obj_get_int(args[2]), mp_obj_get_int(args[3]),
                           mp_obj_get_int(args[4]), mp_obj_get_int(args[5]), mp_obj_get_int(args[6]),
                           mp_obj_get_int(args[7]), mp_obj_get_int(args[8]));
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(opdetect_push_obj, 9, 9, opdetect_push);

static mp_obj_t opdetect_pop(mp_obj_t self_in) {
    opdetect_obj_t *o = MP_OBJ_TO_PTR(self_in);
    op_detect_event_t e;
    if (!op_detect_pop(&o->d, &e)) {
        return mp_const_none;
    }
    mp_obj_t items[7] = {
        MP_OBJ_NEW_SMALL_INT(e.kind),
        MP_OBJ_NEW_SMALL_INT(e.count),
        mp_obj_new_int_from_uint(e.t_start_us),
        mp_obj_new_int_from_uint(e.t_peak_us),
        mp_obj_new_int_from_uint(e.t_end_us),
        mp_obj_new_int(e.amplitude_milli),
        mp_obj_new_int_from_uint(e.hold_ms),
    };
    return mp_obj_new_tuple(7, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(opdetect_pop_obj, opdetect_pop);

static mp_obj_t opdetect_calibrate_target(mp_obj_t self_in) {
    opdetect_obj_t *o = MP_OBJ_TO_PTR(self_in);
    op_detect_calibrate(&o->d);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(opdetect_calibrate_target_obj, opdetect_calibrate_target);

static mp_obj_t opdetect_finish(mp_obj_t self_in) {
    opdetect_obj_t *o = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(op_detect_finish(&o->d));
}
static MP_DEFINE_CONST_FUN_OBJ_1(opdetect_finish_obj, opdetect_finish);

static mp_obj_t opdetect_target_milli(mp_obj_t self_in) {
    opdetect_obj_t *o = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int(op_detect_target(&o->d));
}
static MP_DEFINE_CONST_FUN_OBJ_1(opdetect_target_milli_obj, opdetect_target_milli);

#if MICROPY_ENABLE_DYNRUNTIME
mp_map_elem_t opdetect_locals_table[5];
static MP_DEFINE_CONST_DICT(opdetect_locals, opdetect_locals_table);
#else
static const mp_rom_map_elem_t opdetect_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_push), MP_ROM_PTR(&opdetect_push_obj) },
    { MP_ROM_QSTR(MP_QSTR_pop), MP_ROM_PTR(&opdetect_pop_obj) },
    { MP_ROM_QSTR(MP_QSTR_calibrate_target), MP_ROM_PTR(&opdetect_calibrate_target_obj) },
    { MP_ROM_QSTR(MP_QSTR_finish), MP_ROM_PTR(&opdetect_finish_obj) },
    { MP_ROM_QSTR(MP_QSTR_target_milli), MP_ROM_PTR(&opdetect_target_milli_obj) },
};
static MP_DEFINE_CONST_DICT(opdetect_locals, opdetect_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    opdetect_type,
    MP_QSTR_Detector,
    MP_TYPE_FLAG_NONE,
    locals_dict, &opdetect_locals
    );
#endif

static mp_obj_t opdetect_isqrt32(mp_obj_t x) {
    return mp_obj_new_int_from_uint(op_isqrt32((uint32_t)mp_obj_get_int_truncated(x)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(opdetect_isqrt32_obj, opdetect_isqrt32);

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    opdetect_type_full.base.type = (void *)&mp_type_type;
    opdetect_type_full.flags = MP_TYPE_FLAG_NONE;
    opdetect_type_full.name = MP_QSTR_Detector;
    opdetect_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_push), MP_OBJ_FROM_PTR(&opdetect_push_obj) };
    opdetect_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_pop), MP_OBJ_FROM_PTR(&opdetect_pop_obj) };
    opdetect_locals_table[2] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_calibrate_target),
                                                MP_OBJ_FROM_PTR(&opdetect_calibrate_target_obj) };
    opdetect_locals_table[3] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_finish), MP_OBJ_FROM_PTR(&opdetect_finish_obj) };
    opdetect_locals_table[4] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_target_milli),
                                                MP_OBJ_FROM_PTR(&opdetect_target_milli_obj) };
    MP_OBJ_TYPE_SET_SLOT(&opdetect_type_full, locals_dict, (void *)&opdetect_locals, 0);
    mp_store_global(MP_QSTR_make_detector, MP_OBJ_FROM_PTR(&opdetect_make_detector_obj));
    mp_store_global(MP_QSTR_isqrt32, MP_OBJ_FROM_PTR(&opdetect_isqrt32_obj));
    mp_store_global(MP_QSTR_Detector, MP_OBJ_FROM_PTR(&opdetect_type_full));
    MP_DYNRUNTIME_INIT_EXIT
}
#else
static const mp_rom_map_elem_t opdetect_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_opdetect) },
    { MP_ROM_QSTR(MP_QSTR_make_detector), MP_ROM_PTR(&opdetect_make_detector_obj) },
    { MP_ROM_QSTR(MP_QSTR_isqrt32), MP_ROM_PTR(&opdetect_isqrt32_obj) },
    { MP_ROM_QSTR(MP_QSTR_Detector), MP_ROM_PTR(&opdetect_type) },
};
static MP_DEFINE_CONST_DICT(opdetect_globals, opdetect_globals_table);

const mp_obj_module_t opdetect_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&opdetect_globals,
};

MP_REGISTER_MODULE(MP_QSTR_opdetect, opdetect_user_cmodule);
#endif
