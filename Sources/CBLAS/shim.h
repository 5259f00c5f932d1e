#include <cblas.h>
#include <lapacke.h>

// OpenBLAS functions exported by libopenblas (pthread and OpenMP builds) but
// not declared in cblas.h: re-reading the OPENBLAS_* environment, the thread
// timeout it holds (as a power of two of cycles), and stopping the thread pool
// (OpenBLAS starts it again on the next threaded call, as after a fork).
void openblas_read_env(void);
unsigned int openblas_thread_timeout(void);
int blas_thread_shutdown_(void);
