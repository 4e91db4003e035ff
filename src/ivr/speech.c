/* speech audio: the caller's side of a speech node's recording, read off the control loop
 * and handed back as a mono WAV for the recogniser.
 *
 * The recording is a WAV file written by the media module's recorder: a mono message
 * recording of the caller (the session glue asks for one), or a stereo one whose left
 * channel is the caller. Opening and reading it is disk work, which must not run on the
 * control loop, so a short-lived thread does it: it keeps the first channel, builds a
 * 16-bit 8 kHz mono WAV in memory, deletes the file (the recogniser's answer is what the
 * records keep) and wakes the loop through a socket pair watched with fd_listen (a
 * socket, so that waking a loop that has gone is EPIPE through MSG_NOSIGNAL, never a
 * SIGPIPE).
 *
 * The job is shared by the thread and the loop, so it is a plain malloc'd struct with an
 * atomic count (libre's reference counts are not atomic): whichever side lets go last
 * frees it. The loop's handle (struct speech_audio) can be released at any time (the call
 * hung up); the thread then finishes its read, finds nobody listening and cleans up. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sndfile.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_main.h>
#include "ivr/ivr_int.h"

enum { WAV_HEADER = 44, SPEECH_MAX_FRAMES = 8000 * 120 };

struct speech_job {
	atomic_int refs;
	int wfd;                 /* the thread's end of the socket pair */
	char path[1024];
	uint8_t *wav;            /* the result (malloc) */
	size_t len;
	int err;
	char why[160];
};

/* Owner: the run that asked (mem_deref cancels the callback). */
struct speech_audio {
	struct speech_job *job;
	int rfd;
	speech_audio_h *h;
	void *arg;
};

static void job_release(struct speech_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	if (j->wfd >= 0)
		close(j->wfd);
	free(j->wav);
	free(j);
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A canonical PCM WAV header for `samples` 16-bit mono samples at `rate`. */
static void wav_header(uint8_t *h, uint32_t samples, uint32_t rate)
{
	uint32_t data = samples * 2;

	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);            /* PCM */
	put_le(h + 22, 1, 2);            /* mono */
	put_le(h + 24, rate, 4);
	put_le(h + 28, rate * 2, 4);     /* bytes per second */
	put_le(h + 32, 2, 2);            /* block align */
	put_le(h + 34, 16, 2);           /* bits per sample */
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data, 4);
}

static void job_read(struct speech_job *j)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(j->path, SFM_READ, &info);
	short frame[8];
	sf_count_t n = 0;

	if (!sf) {
		j->err = EIO;
		snprintf(j->why, sizeof(j->why), "recording unreadable: %.100s", sf_strerror(NULL));
		return;
	}
	if (info.channels < 1 || info.channels > 8 || info.frames < 0 ||
	    info.frames > SPEECH_MAX_FRAMES) {
		j->err = EPROTO;
		snprintf(j->why, sizeof(j->why), "recording has %d channels, %lld frames",
			 info.channels, (long long)info.frames);
		goto out;
	}
	j->wav = malloc(WAV_HEADER + (size_t)info.frames * 2);
	if (!j->wav) {
		j->err = ENOMEM;
		snprintf(j->why, sizeof(j->why), "out of memory");
		goto out;
	}
	/* The caller's channel only: cccd's own audio (a stereo file's right channel) would
	 * confuse a recogniser. */
	while (n < info.frames && sf_readf_short(sf, frame, 1) == 1) {
		put_le(j->wav + WAV_HEADER + n * 2, (uint16_t)frame[0], 2);
		n++;
	}
	wav_header(j->wav, (uint32_t)n, (uint32_t)info.samplerate);
	j->len = WAV_HEADER + (size_t)n * 2;
out:
	sf_close(sf);
	unlink(j->path);
}

static void *job_main(void *arg)
{
	struct speech_job *j = arg;
	const char one = 1;

	job_read(j);
	/* The loop may have gone: then EPIPE, and the job is simply released. */
	if (send(j->wfd, &one, 1, MSG_NOSIGNAL) != 1)
		j->err = j->err ? j->err : EPIPE;
	job_release(j);
	return NULL;
}

static void audio_destructor(void *arg)
{
	struct speech_audio *a = arg;

	if (a->rfd >= 0) {
		fd_close(a->rfd);
		close(a->rfd);
	}
	if (a->job)
		job_release(a->job);
}

static void readable(int flags, void *arg)
{
	struct speech_audio *a = arg;
	struct speech_job *j = a->job;
	char c;

	(void)flags;
	if (read(a->rfd, &c, 1) != 1)
		return;
	fd_close(a->rfd);
	/* The handler may mem_deref a: nothing of a is used after it. */
	a->h(j->err, j->why, j->wav, j->len, a->arg);
}

int speech_audio_read(struct speech_audio **ap, const char *path, speech_audio_h *h, void *arg)
{
	struct speech_audio *a;
	struct speech_job *j;
	pthread_attr_t attr;
	pthread_t th;
	int fds[2], err;

	if (!ap || !path || !h || strlen(path) >= sizeof(j->path))
		return EINVAL;
	a = mem_zalloc(sizeof(*a), audio_destructor);
	j = calloc(1, sizeof(*j));
	if (!a || !j) {
		mem_deref(a);
		free(j);
		return ENOMEM;
	}
	a->rfd = -1;
	a->h = h;
	a->arg = arg;
	j->wfd = -1;
	strcpy(j->path, path);
	atomic_init(&j->refs, 1);
	a->job = j;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
		err = errno;
		goto out;
	}
	a->rfd = fds[0];
	j->wfd = fds[1];
	err = fd_listen(a->rfd, FD_READ, readable, a);
	if (err)
		goto out;
	atomic_fetch_add(&j->refs, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	if (err)
		atomic_fetch_sub(&j->refs, 1);
out:
	if (err)
		mem_deref(a);
	else
		*ap = a;
	return err;
}
