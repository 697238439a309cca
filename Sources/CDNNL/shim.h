// oneDNN's C API (libdnnl-dev): dnnl_sgemm is the engine's GEMM.
#include <dnnl.h>
