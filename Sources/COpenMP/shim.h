// GNU OpenMP (libgomp), the runtime oneDNN and PCL already run on. pcdiag's own parallel loops use
// the same thread team, so they never compete with oneDNN's threads for the cores.
//
// GOMP_parallel is libgomp's entry for `#pragma omp parallel` (the ABI GCC emits since 4.9); it is
// declared here because clang's own OpenMP support targets LLVM's libomp, a second runtime that would
// bring a second thread pool.
#ifndef PCDIAG_COPENMP_SHIM_H
#define PCDIAG_COPENMP_SHIM_H

void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);

#endif
