// The numeric bridge: Eigen's dense solvers behind a C API, for the Swift targets that need linear
// algebra (the diagnostics' feature statistics) without linking the point-cloud file bridge.
#ifndef CEIGEN_H
#define CEIGEN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { CEIGEN_OK = 0, CEIGEN_NO_CONVERGENCE = 1, CEIGEN_OUT_OF_MEMORY = 2 };

/// Eigen's SelfAdjointEigenSolver on a symmetric `n`×`n` matrix (row-major, only its lower triangle
/// read): `values` receives the n eigenvalues in increasing order, `vectors` (row-major n×n) the
/// matching unit eigenvectors as columns. Returns one of the CEIGEN_ codes.
int ceigen_symmetric_eigen(const double *matrix, size_t n, double *values, double *vectors);

#ifdef __cplusplus
}
#endif

#endif
