// The GLPK (GNU Linear Programming Kit) header for Swift: GLPKKit's only view of the library.
#ifndef INFAAS_CGLPK_SHIM_H
#define INFAAS_CGLPK_SHIM_H
#include <glpk.h>
#endif
