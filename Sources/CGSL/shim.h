// Thin C shim over GSL for Swift: the headers HDF5Kit's sibling GSLKit uses.
#ifndef INFAAS_CGSL_SHIM_H
#define INFAAS_CGSL_SHIM_H
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort.h>

/// The Mersenne Twister generator type (a global variable in GSL).
static inline const gsl_rng_type *infaas_gsl_mt19937(void) { return gsl_rng_mt19937; }
#endif
