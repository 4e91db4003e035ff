/* retention: deleting what is older than its retention period, on a thread of its own
 * (directory walks, unlinks and long series of deletes are work that must not reach the
 * control loop or the API threads): recordings by the age of their file, finished sessions
 * with all their rows (store_sessions_expire) and their recording files, and SIP traces.
 * The period is per instance (instances.retention_days, CccdModifyInstance), else
 * [records] retention_days. Only files named as records_file_* name them are touched. */
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
#include <jansson.h>
#include <re_types.h>
#include <re_mem.h>
#include "base/base.h"
#include "records/records.h"
#include "store/store.h"

enum {
	SWEEP_EVERY_S = 3600,
	EXPIRE_BATCH = 200,   /* sessions per write: the writer is held for one batch only */
	EXPIRE_PAUSE_MS = 20, /* between batches, so the writer serves others in between */
};

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

/* One file of the session, relative to dir, if it has the form of the instance's. */
static void file_delete(int dfd, uint64_t sdkappid, const char *file, unsigned *count)
{
	if (!file[0] || !records_file_ok(file, sdkappid))
		return;
	if (!unlinkat(dfd, file, 0))
		(*count)++;
	else if (errno != ENOENT)
		log_warn("records", "cannot delete %s: %s", file, strerror(errno));
}

int records_session_files_delete(const char *dir, uint64_t sdkappid, const char *record_file,
				 const char *voicemail_files, unsigned *countp)
{
	json_t *vm, *v;
	unsigned count = 0;
	size_t i;
	int dfd;

	if (!dir || !record_file || !countp)
		return EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : errno;
	file_delete(dfd, sdkappid, record_file, &count);
	vm = voicemail_files ? json_loads(voicemail_files, 0, NULL) : NULL;
	json_array_foreach(vm, i, v) {
		if (json_is_string(v))
			file_delete(dfd, sdkappid, json_string_value(v), &count);
	}
	json_decref(vm);
	close(dfd);
	*countp += count;
	return 0;
}

struct expire_files {
	const char *dir;
	unsigned count;
};

static void expired_files(uint64_t sdkappid, const struct store_erased_session *s, void *arg)
{
	struct expire_files *f = arg;

	records_session_files_delete(f->dir, sdkappid, s->record_file, s->voicemail_files,
				     &f->count);
}

static bool stopping(struct records_cleaner *c)
{
	bool stop;

	pthread_mutex_lock(&c->lock);
	stop = c->stop;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

struct instance_days {
	uint64_t sdkappid;
	uint32_t days;
};

struct instance_list {
	struct instance_days *v;  /* mem array */
	size_t n;
	uint32_t default_days;
};

static int instance_listed(uint64_t sdkappid, int32_t days, void *arg)
{
	struct instance_list *l = arg;
	uint32_t eff = days < 0 ? l->default_days : (uint32_t)days;
	struct instance_days *v;

	if (!eff)
		return 0;
	/* libre's mem_realloc does not take NULL: the first element is allocated. */
	v = l->v ? mem_realloc(l->v, (l->n + 1) * sizeof(*v)) : mem_alloc(sizeof(*v), NULL);
	if (!v)
		return ENOMEM;
	l->v = v;
	l->v[l->n++] = (struct instance_days){sdkappid, eff};
	return 0;
}

/* One instance past its period: its recording files by age, then its sessions in
 * batches until none is due (or the thread is told to stop). */
static void instance_expire(struct records_cleaner *c, const struct instance_days *in)
{
	const int64_t before_s = clock_unix_s() - (int64_t)in->days * 86400;
	struct expire_files f = {c->dir, 0};
	struct store_erased sum = {0};
	char name[24];
	unsigned n = 0;
	int err = 0, dfd;

	snprintf(name, sizeof(name), "%llu", (unsigned long long)in->sdkappid);
	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		sweep_instance(dfd, name, before_s, &n);
		close(dfd);
	}
	for (;;) {
		struct store_erased b = {0};

		err = store_sessions_expire(c->st, in->sdkappid, before_s, EXPIRE_BATCH, &b,
					    expired_files, &f);
		if (err)
			break;
		sum.sessions += b.sessions;
		sum.key_presses += b.key_presses;
		sum.path_steps += b.path_steps;
		sum.sip_messages += b.sip_messages;
		sum.pushes += b.pushes;
		if (b.sessions < EXPIRE_BATCH || stopping(c))
			break;
		nanosleep(&(struct timespec){0, EXPIRE_PAUSE_MS * 1000000L}, NULL);
	}
	if (err)
		log_warn("records", "retention: sessions of instance %s not deleted: %s", name,
			 strerror(err));
	if (sum.sessions || n + f.count)
		log_info("records", "retention: instance %s, older than %u days: %llu sessions "
			 "(%llu key presses, %llu path steps, %llu SIP messages, %llu pushes), "
			 "%u recordings deleted", name, in->days,
			 (unsigned long long)sum.sessions, (unsigned long long)sum.key_presses,
			 (unsigned long long)sum.path_steps, (unsigned long long)sum.sip_messages,
			 (unsigned long long)sum.pushes, n + f.count);
}

/* With the store: every instance by its own period (or the default). */
static void sessions_expire(struct records_cleaner *c)
{
	struct instance_list l = {NULL, 0, c->retention_days};
	int err = store_instances_retention(c->st, instance_listed, &l);

	if (err)
		log_warn("records", "retention: cannot read the instances: %s", strerror(err));
	for (size_t i = 0; !err && i < l.n && !stopping(c); i++)
		instance_expire(c, &l.v[i]);
	mem_deref(l.v);
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
		if (c->st)
			sessions_expire(c);
		err = !c->st && c->retention_days ? records_sweep(c->dir, before, &n) : 0;
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
	/* With a store, instances may have their own periods (and get them at run time). */
	if (!retention_days && !st)
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
