/*
 * pidfile.h - the daemon's pid file, locked for as long as it runs: a
 * second daemon with the same file is refused at start (the lock, not a
 * stale number, decides), and a crashed one leaves no lock behind.
 */
#ifndef PIDFILE_H
#define PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

struct pidfile;

/* Open and lock path (mode 0644). NULL and err set: cannot, or another
 * process holds it (err names its pid when the file says). */
struct pidfile *pidfile_open(const char *path, char *err, size_t errsz);
/* Write pid (after daemon(): the detached process's). 0, or -1 and err. */
int pidfile_write(struct pidfile *pf, pid_t pid, char *err, size_t errsz);
/* Unlink (when still allowed) and release. NULL is fine. */
void pidfile_close(struct pidfile *pf);

#endif /* PIDFILE_H */
