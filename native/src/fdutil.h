/* Descriptor helpers for forked children: system calls only, no allocation. */
#ifndef BERTH_FDUTIL_H
#define BERTH_FDUTIL_H
/* Closes every descriptor from `from` up except those in keep[0..n) (sorted in place). */
void close_fds_except(unsigned from, int *keep, int n);
#endif
