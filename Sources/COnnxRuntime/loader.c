// Finds ONNX Runtime's entry point in a shared library chosen at run time.
#include "infaas_ort.h"

#include <dlfcn.h>
#include <stdio.h>

typedef const OrtApiBase *(*InfaasOrtGetApiBase)(void);

const OrtApiBase *infaas_ort_open(const char *path, char *error, size_t error_size) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s", reason != NULL ? reason : "dlopen failed");
        return NULL;
    }
    dlerror();  // clear any stale error before looking the symbol up
    void *symbol = dlsym(handle, "OrtGetApiBase");
    if (symbol == NULL) {
        snprintf(error, error_size, "%s has no symbol OrtGetApiBase (is it ONNX Runtime?)", path);
        dlclose(handle);
        return NULL;
    }
    InfaasOrtGetApiBase get_api_base;
    *(void **)(&get_api_base) = symbol;  // POSIX: data and function pointers share a representation
    const OrtApiBase *base = get_api_base();
    if (base == NULL) {
        snprintf(error, error_size, "OrtGetApiBase() in %s returned NULL", path);
        dlclose(handle);
        return NULL;
    }
    return base;  // the handle stays open for the life of the process
}
