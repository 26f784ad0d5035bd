#ifndef BERTH_EXEC_SHIM_FD_H
#define BERTH_EXEC_SHIM_FD_H
/* The sealed memfd holding the exec shim, made on first use; -1 with errno set when it cannot be made. */
int exec_shim_fd(void);
#endif
