/* fault_io: an LD_PRELOAD shim for store_faults.test.mjs that makes writes and syncs of
 * the database fail with EIO while a control file exists — an I/O error as a failing disk
 * gives it, injected into a real cccd without touching its code.
 *
 *   FAULT_IO_CONTROL=/path/to/file  the faults are on while this file exists
 *   FAULT_IO_MATCH=/cccd.db         only descriptors whose path contains this fail
 *
 * write, pwrite, pwrite64, writev, fsync and fdatasync are wrapped; the real ones are
 * found with dlsym(RTLD_NEXT), so under ASan its runtime (first in LD_PRELOAD) still sees
 * every call. Built as a shared object without sanitizers (Makefile). */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Whether an operation on fd must fail now: the control file exists and fd is a file of
 * the database. The control file is looked at first, so that without it a call costs one
 * access(2). */
static bool fault_now(int fd)
{
	const char *control = getenv("FAULT_IO_CONTROL");
	const char *match = getenv("FAULT_IO_MATCH");
	char link[64], target[4096];
	ssize_t n;

	if (!control || !match || access(control, F_OK))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strstr(target, match) != NULL;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t count)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(write)(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(pwrite)(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(pwrite64)(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(writev)(fd, iov, iovcnt);
}

int fsync(int fd)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
	if (fault_now(fd)) {
		errno = EIO;
		return -1;
	}
	return REAL(fdatasync)(fd);
}
