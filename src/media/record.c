/* record: WAV recordings (stereo calls, mono messages), written by one background thread
 * so disk latency never reaches a media worker's timer. Workers hand over one-second
 * chunks.
 *
 * Crash safety. libsndfile writes a WAV header with the data sizes only when the file is
 * closed; a process that dies before that leaves sizes of zero, which players read as an
 * empty file. The writer asks libsndfile to rewrite the header after every chunk
 * (SFC_SET_UPDATE_HEADER_AUTO: one extra small write per second of audio) and once right
 * after opening, so a crash loses at most the last second, and the file on disk is always
 * a valid WAV (a crash before the first second leaves a header that says "no audio").
 *
 * Time alignment. A recording is as long as the call: the worker writes one frame per
 * 20 ms tick, and ticks it could not run (the process was stopped or starved) become
 * silence of the same length (media_rec_gap), made here from a zero buffer.
 *
 * A spoken answer (media_record_answer) is read back by the same thread once closed and
 * travels to the control loop inside its RECORD_DONE: the loop then sends it to the
 * recogniser without touching the disk. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sndfile.h>
#include "base/base.h"
#include "media/media_int.h"

enum { REC_CHUNK = MEDIA_RATE }; /* frames per hand-over: one second */

/* The writer thread and its queue; owned by struct media. */
struct media_recorder {
	struct media *m;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct list jobs;   /* struct rec_job, under lock */
	bool stop;          /* under lock */
};

/* One recording. The worker owns it (and fills buf) until media_rec_finish; from then the
 * writer thread does, and frees it after the file is closed. sf, failed and why are the
 * writer's only. */
struct media_rec {
	struct media_recorder *r;
	uint32_t stream_id;
	enum media_rec_kind kind;
	bool subdir;        /* the name has a directory of its own, created if absent */
	bool answer;        /* read the closed file back into RECORD_DONE */
	unsigned channels;  /* 2: call (left, right); 1: message (left) */
	char path[1100];
	int16_t *buf;       /* interleaved frames, REC_CHUNK of them */
	size_t n;
	struct rec_job *final_job; /* made at alloc: finishing never fails */
	SNDFILE *sf;
	bool failed;
	char why[400];
};

struct rec_job {
	struct le le;
	struct media_rec *rec;
	int16_t *frames;    /* owned; NULL for the opening job and a gap */
	size_t n;
	uint64_t silence;   /* a gap: this many frames of silence */
	bool final;
};

static void job_push(struct media_recorder *r, struct rec_job *j)
{
	pthread_mutex_lock(&r->lock);
	list_append(&r->jobs, &j->le, j);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The canonical 44-byte header libsndfile writes (RIFF, "fmt " of 16 bytes, "data"): its
 * two sizes set from the file's length, whole frames only. A kill -9 can land between
 * sf_open's first header (RIFF size 8) and its rewrite, or between a chunk's samples and
 * the header update after it; the samples on disk are what the call had. */
static void header_repair(int fd, const char *path)
{
	uint8_t h[44];
	struct stat st;
	uint32_t align, data, riff;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || fstat(fd, &st) ||
	    memcmp(h + 12, "fmt ", 4) || le32(h + 16) != 16 || memcmp(h + 36, "data", 4))
		return;
	align = (uint32_t)h[32] | (uint32_t)h[33] << 8;
	if (!align || st.st_size < 44 || st.st_size - 44 > UINT32_MAX - 36)
		return;
	data = (uint32_t)(st.st_size - 44) / align * align;
	riff = data + 36;
	if (le32(h + 4) == riff && le32(h + 40) == data)
		return;
	le32_put(h + 4, riff);
	le32_put(h + 40, data);
	if (pwrite(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h))
		log_info("media", "%.300s: header sizes set from the file (%u bytes of audio)",
			 path, data);
}

bool media_record_recover(const struct media *m, const char *name)
{
	char path[1100], head[12];
	int fd, n;
	ssize_t got;
	bool ok;

	if (!m || !name || !*name)
		return false;
	n = snprintf(path, sizeof(path), "%s/%s", m->conf.recording_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	got = read(fd, head, sizeof(head));
	ok = got == (ssize_t)sizeof(head) && !memcmp(head, "RIFF", 4) &&
	     !memcmp(head + 8, "WAVE", 4);
	if (ok)
		header_repair(fd, path);
	close(fd);
	return ok;
}

/* Creates the one directory level a recording name may have ("1400000000/x.wav"), never
 * recording_dir itself (made at start: if it vanished, that is an error to report). */
static void parent_make(const char *path)
{
	char dir[1100];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) && errno != EEXIST)
		log_warn("media", "cannot create %.300s: %s", dir, strerror(errno));
}

static void rec_open(struct media_recorder *r, struct media_rec *rec)
{
	SF_INFO info = {.samplerate = MEDIA_RATE, .channels = (int)rec->channels,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	struct media_event ev = {.type = MEDIA_EV_ERROR, .rec = rec->kind};

	if (rec->subdir)
		parent_make(rec->path);
	rec->sf = sf_open(rec->path, SFM_WRITE, &info);
	if (!rec->sf) {
		rec->failed = true;
		snprintf(rec->why, sizeof(rec->why), "recording %.300s: %s", rec->path,
			 sf_strerror(NULL));
		media_post_event(r->m, rec->stream_id, &ev, rec->why);
		return;
	}
	sf_command(rec->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	/* The header sf_open wrote gives the RIFF chunk a size of 8 for a 44-byte file; a
	 * crash before the first chunk would leave it so. Written again, it is true. */
	sf_command(rec->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
}

/* The closed answer file as one mem buffer (at most MEDIA_ANSWER_MAX bytes); on failure
 * rec->failed and rec->why say why. */
static uint8_t *answer_read(struct media_rec *rec, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = open(rec->path, O_RDONLY | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;

	if (!err && fstat(fd, &st))
		err = errno;
	else if (!err && !S_ISREG(st.st_mode))
		err = EINVAL;
	else if (!err && st.st_size > MEDIA_ANSWER_MAX)
		err = EFBIG;
	/* One byte more than the size, so the buffer is never empty for mem_alloc. */
	else if (!err && !(buf = mem_alloc((size_t)st.st_size + 1, NULL)))
		err = ENOMEM;
	while (!err && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? errno : EIO; /* shorter than it was a moment ago */
		else
			got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (err) {
		rec->failed = true;
		snprintf(rec->why, sizeof(rec->why), "recording %.300s: cannot read it back: %s",
			 rec->path, strerror(err));
		return mem_deref(buf);
	}
	*lenp = got;
	return buf;
}

/* RECORD_DONE to the control loop, with the answer's bytes if it is one and was read. */
static void done_post(struct media_recorder *r, struct media_rec *rec)
{
	struct media_msg *msg = mem_zalloc(sizeof(*msg), NULL);
	uint8_t *answer = NULL;
	size_t len = 0;

	if (rec->answer && !rec->failed)
		answer = answer_read(rec, &len);
	if (!msg) {
		log_error("media", "out of memory: the end of recording %.300s is lost", rec->path);
		mem_deref(answer);
		return;
	}
	msg->stream_id = rec->stream_id;
	msg->ev.type = MEDIA_EV_RECORD_DONE;
	msg->ev.rec = rec->kind;
	if (rec->failed)
		snprintf(msg->why, sizeof(msg->why), "%s", rec->why);
	msg->answer = answer;
	msg->answer_len = len;
	media_post(r->m, msg);
}

static void rec_silence(struct media_rec *rec, uint64_t n)
{
	static const int16_t zeros[2 * REC_CHUNK];

	while (n && rec->sf && !rec->failed) {
		sf_count_t k = n < REC_CHUNK ? (sf_count_t)n : REC_CHUNK;

		if (sf_writef_short(rec->sf, zeros, k) != k) {
			rec->failed = true;
			snprintf(rec->why, sizeof(rec->why), "recording %.300s: write failed: %s",
				 rec->path, sf_strerror(rec->sf));
		}
		n -= (uint64_t)k;
	}
}

static void job_run(struct media_recorder *r, struct rec_job *j)
{
	struct media_rec *rec = j->rec;

	if (!j->frames && !j->silence && !j->final && !rec->sf && !rec->failed)
		rec_open(r, rec);
	rec_silence(rec, j->silence);
	if (j->frames && rec->sf && !rec->failed &&
	    sf_writef_short(rec->sf, j->frames, (sf_count_t)j->n) != (sf_count_t)j->n) {
		rec->failed = true;
		snprintf(rec->why, sizeof(rec->why), "recording %.300s: write failed: %s", rec->path,
			 sf_strerror(rec->sf));
	}
	if (j->final) {
		if (rec->sf && sf_close(rec->sf) && !rec->failed) {
			rec->failed = true;
			snprintf(rec->why, sizeof(rec->why), "recording %.300s: close failed",
				 rec->path);
		}
		done_post(r, rec);
		free(rec->buf);
		free(rec);
	}
	free(j->frames);
	free(j);
}

static void *recorder_main(void *arg)
{
	struct media_recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct rec_job *j;

		while (list_isempty(&r->jobs) && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (list_isempty(&r->jobs))
			break; /* stopping, and everything is written */
		j = list_ledata(list_head(&r->jobs));
		list_unlink(&j->le);
		pthread_mutex_unlock(&r->lock);
		job_run(r, j);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void recorder_destructor(void *arg)
{
	struct media_recorder *r = arg;

	if (r->running) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

int media_recorder_alloc(struct media_recorder **rp, struct media *m)
{
	struct media_recorder *r = mem_zalloc(sizeof(*r), recorder_destructor);
	int err;

	if (!r)
		return ENOMEM;
	r->m = m;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	err = pthread_create(&r->thread, NULL, recorder_main, r);
	if (err) {
		mem_deref(r);
		return err;
	}
	r->running = true;
	*rp = r;
	return 0;
}

int media_rec_alloc(struct media_rec **recp, struct media_recorder *r, uint32_t stream_id,
	      const char *path, enum media_rec_kind kind, bool subdir, bool answer)
{
	struct media_rec *rec = calloc(1, sizeof(*rec));
	struct rec_job *open_job = calloc(1, sizeof(*open_job));
	struct rec_job *final_job = calloc(1, sizeof(*final_job));

	if (!rec || !open_job || !final_job ||
	    !(rec->buf = malloc(sizeof(int16_t) * 2 * REC_CHUNK))) {
		if (rec)
			free(rec->buf);
		free(rec);
		free(open_job);
		free(final_job);
		return ENOMEM;
	}
	rec->final_job = final_job;
	rec->r = r;
	rec->kind = kind;
	rec->subdir = subdir;
	rec->answer = answer;
	rec->channels = kind == MEDIA_REC_CALL ? 2 : 1;
	rec->stream_id = stream_id;
	snprintf(rec->path, sizeof(rec->path), "%s", path);
	/* Opened by the writer now, so a bad directory is reported at once. */
	open_job->rec = rec;
	job_push(r, open_job);
	*recp = rec;
	return 0;
}

/* Hands the filled buffer to the writer; a failed allocation loses that second of audio
 * (logged) rather than stalling the worker. */
static void rec_flush(struct media_rec *rec)
{
	struct rec_job *j = calloc(1, sizeof(*j));
	int16_t *next = malloc(sizeof(int16_t) * 2 * REC_CHUNK);

	if (!j || !next) {
		free(j);
		free(next);
		log_warn("media", "recording %.300s: out of memory, %zu frames lost", rec->path,
			 rec->n);
		rec->n = 0;
		return;
	}
	j->rec = rec;
	j->frames = rec->buf;
	j->n = rec->n;
	rec->buf = next;
	rec->n = 0;
	job_push(rec->r, j);
}

void media_rec_write(struct media_rec *rec, const int16_t *left, const int16_t *right, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rec->channels == 2) {
			rec->buf[2 * rec->n] = left[i];
			rec->buf[2 * rec->n + 1] = right[i];
		}
		else {
			rec->buf[rec->n] = left[i];
		}
		if (++rec->n == REC_CHUNK)
			rec_flush(rec);
	}
}

void media_rec_gap(struct media_rec *rec, uint64_t n)
{
	struct rec_job *j;

	if (!n)
		return;
	if (rec->n)
		rec_flush(rec); /* the frames before the gap go first */
	j = calloc(1, sizeof(*j));
	if (!j) {
		log_warn("media", "recording %.300s: out of memory, a gap of %" PRIu64 " frames "
			 "is lost", rec->path, n);
		return;
	}
	j->rec = rec;
	j->silence = n;
	job_push(rec->r, j);
}

void media_rec_finish(struct media_rec *rec)
{
	struct rec_job *j = rec->final_job;

	j->rec = rec;
	j->frames = rec->buf;
	j->n = rec->n;
	j->final = true;
	rec->buf = NULL;
	rec->final_job = NULL;
	job_push(rec->r, j);
}
