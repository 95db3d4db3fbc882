// Thin C shim over HDF5 1.10 for Swift. HDF5 exposes its native types and flags as
// function-like macros, which Swift cannot import; these inline functions return them.
#ifndef INFAAS_CHDF5_SHIM_H
#define INFAAS_CHDF5_SHIM_H
#include <hdf5.h>
#include <string.h>

static inline hid_t infaas_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t infaas_h5s_all(void) { return H5S_ALL; }
static inline hid_t infaas_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t infaas_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t infaas_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t infaas_h5t_c_s1(void) { return H5T_C_S1; }
static inline unsigned infaas_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned infaas_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned infaas_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned infaas_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned infaas_h5f_obj_all(void) { return H5F_OBJ_ALL; }

/// Turns off HDF5's automatic printing of error stacks to stderr (per thread in a
/// thread-safe build, so HDF5Kit calls it before each operation that may fail).
static inline void infaas_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct { char text[1024]; size_t used; } infaas_h5_error_buffer;

static inline herr_t infaas_h5_error_walker(unsigned n, const H5E_error2_t *err, void *client) {
    infaas_h5_error_buffer *buf = (infaas_h5_error_buffer *)client;
    if (err == NULL || err->desc == NULL || buf->used >= sizeof(buf->text) - 1) return 0;
    size_t room = sizeof(buf->text) - 1 - buf->used;
    size_t len = strlen(err->desc);
    if (buf->used > 0 && room > 2) {
        memcpy(buf->text + buf->used, "; ", 2);
        buf->used += 2;
        room -= 2;
    }
    if (len > room) len = room;
    memcpy(buf->text + buf->used, err->desc, len);
    buf->used += len;
    buf->text[buf->used] = '\0';
    (void)n;
    return 0;
}

/// Copies the descriptions of the current thread's HDF5 error stack (innermost first)
/// into `out`, then clears the stack.
static inline void infaas_h5_take_error(char *out, size_t capacity) {
    infaas_h5_error_buffer buf;
    buf.used = 0;
    buf.text[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, infaas_h5_error_walker, &buf);
    H5Eclear2(H5E_DEFAULT);
    if (capacity == 0) return;
    size_t n = buf.used < capacity - 1 ? buf.used : capacity - 1;
    memcpy(out, buf.text, n);
    out[n] = '\0';
}
#endif
