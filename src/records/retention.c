/* retention: deleting recordings older than [records] retention_days, on a thread of its
 * own (directory walks and unlinks are disk work that must not reach the control loop or
 * the API threads). Only files named as records_file_* name them are touched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "records/records.h"
#include "store/store.h"

enum { SWEEP_EVERY_S = 3600 };

/* Owner: main. */
struct records_cleaner {
	char dir[512];
	uint32_t retention_days;
	struct store *st;     /* not owned; NULL = no SIP traces to delete */
	uint32_t trace_days;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;            /* under lock */
};

/* One instance directory: its expired recordings. */
static void sweep_instance(int dfd, const char *name, int64_t before_s, unsigned *count)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char file[600];
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		uint64_t sdkappid = strtoull(name, NULL, 10);

		snprintf(file, sizeof(file), "%s/%s", name, de->d_name);
		if (!records_file_ok(file, sdkappid) ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode) ||
		    (int64_t)st.st_mtime >= before_s)
			continue;
		if (unlinkat(fd, de->d_name, 0))
			log_warn("records", "cannot delete %s: %s", file, strerror(errno));
		else
			(*count)++;
	}
	closedir(d);
}

int records_sweep(const char *dir, int64_t before_s, unsigned *countp)
{
	struct dirent *de;
	unsigned count = 0;
	DIR *d;

	if (!dir || !countp)
		return EINVAL;
	d = opendir(dir);
	if (!d)
		return errno;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strspn(n, "0123456789");

		if (!len || n[len] || n[0] == '0' || len > 20)
			continue;
		sweep_instance(dirfd(d), n, before_s, &count);
	}
	closedir(d);
	*countp = count;
	return 0;
}

static void *cleaner_main(void *arg)
{
	struct records_cleaner *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		int64_t before = clock_unix_s() - (int64_t)c->retention_days * 86400;
		struct timespec until;
		unsigned n = 0;
		int err;

		pthread_mutex_unlock(&c->lock);
		err = c->retention_days ? records_sweep(c->dir, before, &n) : 0;
		if (err && err != ENOENT)
			log_warn("records", "retention: cannot read %s: %s", c->dir, strerror(err));
		else if (n)
			log_info("records", "retention: %u recordings older than %u days deleted", n,
				 c->retention_days);
		n = 0;
		err = c->st && c->trace_days ?
			store_sip_trace_purge(c->st, clock_unix_ms() -
					      (int64_t)c->trace_days * 86400000, &n) : 0;
		if (err)
			log_warn("records", "retention: SIP traces not deleted: %s", strerror(err));
		else if (n)
			log_info("records", "retention: %u SIP messages older than %u days deleted",
				 n, c->trace_days);
		pthread_mutex_lock(&c->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SWEEP_EVERY_S;
		while (!c->stop && pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void cleaner_destructor(void *arg)
{
	struct records_cleaner *c = arg;

	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

int records_cleaner_alloc(struct records_cleaner **cp, struct store *st, uint32_t sip_trace_days,
			  const char *dir, uint32_t retention_days)
{
	struct records_cleaner *c;
	int err;

	if (!cp || !dir || strlen(dir) >= sizeof(c->dir))
		return EINVAL;
	*cp = NULL;
	if (!retention_days && !(st && sip_trace_days))
		return 0;
	c = mem_zalloc(sizeof(*c), cleaner_destructor);
	if (!c)
		return ENOMEM;
	strcpy(c->dir, dir);
	c->retention_days = retention_days;
	c->st = st;
	c->trace_days = sip_trace_days;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	err = pthread_create(&c->thread, NULL, cleaner_main, c);
	if (err) {
		mem_deref(c);
		return err;
	}
	c->running = true;
	*cp = c;
	return 0;
}
