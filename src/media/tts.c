/* tts: text to speech on a thread of its own — English with flite (linked), any other
 * language through an external program run as a separate process (espeak-ng is GPL: it is
 * run, never linked). Results are cached with the prompts and posted to the control loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <flite/flite.h>
#include "base/base.h"
#include "media/media_int.h"

cst_voice *register_cmu_us_kal(const char *voxdir);

extern char **environ;

enum {
	TTS_TEXT_MAX = 4000,
	TTS_OUT_MAX = 64 << 20,      /* a WAV bigger than this is not speech we want */
	TTS_TIMEOUT_MS = 30000,
	TTS_ARGS_MAX = 32,
};

/* The TTS thread and its queue; owned by struct media. */
struct media_tts {
	struct media *m;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct list jobs;   /* struct tts_job, under lock */
	bool stop;
};

struct tts_job {
	struct le le;
	uint32_t stream_id, play_id;
	char *text, *lang;
};

static cst_voice *kal;
static pthread_once_t flite_once = PTHREAD_ONCE_INIT;

static void flite_start(void)
{
	flite_init();
	kal = register_cmu_us_kal(NULL);
}

static bool lang_english(const char *lang)
{
	return !lang || !*lang || !strcasecmp(lang, "en") || !strncasecmp(lang, "en-", 3) ||
	       !strncasecmp(lang, "en_", 3);
}

static bool lang_valid(const char *lang)
{
	size_t n = lang ? strlen(lang) : 0;

	if (n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = lang[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int synth_flite(const char *text, struct media_audio **ap, char *why, size_t whysz)
{
	cst_wave *w;
	int err;

	pthread_once(&flite_once, flite_start);
	if (!kal) {
		snprintf(why, whysz, "flite voice kal is not available");
		return ENOENT;
	}
	w = flite_text_to_wave(text, kal);
	if (!w || w->num_samples <= 0) {
		snprintf(why, whysz, "flite produced no audio");
		if (w)
			delete_wave(w);
		return EIO;
	}
	err = media_audio_from_pcm(ap, w->samples, (size_t)w->num_samples,
			     (unsigned)(w->num_channels > 0 ? w->num_channels : 1),
			     (unsigned)w->sample_rate, why, whysz);
	delete_wave(w);
	return err;
}

/* The command's words with {lang} substituted; no shell, so text and language can never
 * become shell syntax. */
static int argv_build(const char *cmd, const char *lang, char **argv, char *store, size_t sz)
{
	size_t used = 0;
	int argc = 0;

	while (*cmd) {
		size_t n;

		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (!*cmd)
			break;
		if (argc == TTS_ARGS_MAX)
			return E2BIG;
		argv[argc++] = store + used;
		for (n = strcspn(cmd, " \t"); n; n--, cmd++) {
			const char *add = cmd;
			size_t alen = 1;

			if (n >= 6 && !strncmp(cmd, "{lang}", 6)) {
				add = lang;
				alen = strlen(lang);
				cmd += 5;
				n -= 5;
			}
			if (used + alen + 1 >= sz)
				return E2BIG;
			memcpy(store + used, add, alen);
			used += alen;
		}
		store[used++] = '\0';
	}
	argv[argc] = NULL;
	return argc ? 0 : EINVAL;
}

/* Runs the program: the text to its stdin (a socket, so a program that exits early gives
 * EPIPE, not SIGPIPE), its stdout collected, the first line of its stderr kept for the
 * error message. Bounded in time and output size. */
static int synth_command(struct media *m, const char *text, const char *lang,
			 struct media_audio **ap, char *why, size_t whysz)
{
	char *argv[TTS_ARGS_MAX + 1], store[1024], errbuf[200] = "";
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, status = 0, err = 0;
	size_t errlen = 0, outlen = 0, outcap = 0, tlen = strlen(text), tsent = 0;
	uint8_t *obuf = NULL;
	posix_spawn_file_actions_t fa;
	uint64_t deadline = clock_mono_ms() + TTS_TIMEOUT_MS;
	bool timed_out = false;
	pid_t pid;

	if (argv_build(m->conf.tts_command, lang, argv, store, sizeof(store))) {
		snprintf(why, whysz, "tts_command cannot be split into a program and arguments");
		return EINVAL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) || pipe2(out, O_CLOEXEC) ||
	    pipe2(errp, O_CLOEXEC)) {
		err = errno;
		snprintf(why, whysz, "cannot create pipes: %s", strerror(err));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[1], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	{
		/* cccd's threads block SIGHUP (it reaches the loop through a signalfd); the
		 * program starts with no signal blocked, as from a shell. */
		posix_spawnattr_t sa;
		sigset_t none;

		sigemptyset(&none);
		posix_spawnattr_init(&sa);
		posix_spawnattr_setsigmask(&sa, &none);
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
		err = posix_spawnp(&pid, argv[0], &fa, &sa, argv, environ);
		posix_spawnattr_destroy(&sa);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in[1]);
	close(out[1]);
	close(errp[1]);
	in[1] = out[1] = errp[1] = -1;
	if (err) {
		snprintf(why, whysz, "cannot run %s: %s", argv[0], strerror(err));
		goto out;
	}
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	if (!tlen)
		shutdown(in[0], SHUT_WR);
	while (out[0] >= 0 || errp[0] >= 0) {
		struct pollfd pf[3] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0},
				       {tsent < tlen ? in[0] : -1, POLLOUT, 0}};
		int64_t left = (int64_t)(deadline - clock_mono_ms());

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pf, 3, (int)left) < 0 && errno != EINTR)
			break;
		if (pf[2].revents) {
			ssize_t n = send(in[0], text + tsent, tlen - tsent, MSG_NOSIGNAL);

			if (n > 0)
				tsent += (size_t)n;
			if (n < 0 && errno != EAGAIN)
				tsent = tlen; /* it will not read: give up on the rest */
			if (tsent == tlen)
				shutdown(in[0], SHUT_WR);
		}
		if (pf[0].revents) {
			ssize_t n;

			if (outcap - outlen < 65536) {
				uint8_t *nb;

				if (outcap >= TTS_OUT_MAX) {
					snprintf(why, whysz, "%s wrote more than %d bytes", argv[0],
						 TTS_OUT_MAX);
					err = EFBIG;
					kill(pid, SIGKILL);
					break;
				}
				nb = realloc(obuf, outcap ? outcap * 2 : 262144);
				if (!nb) {
					err = ENOMEM;
					snprintf(why, whysz, "out of memory");
					kill(pid, SIGKILL);
					break;
				}
				obuf = nb;
				outcap = outcap ? outcap * 2 : 262144;
			}
			n = read(out[0], obuf + outlen, outcap - outlen);
			if (n > 0) {
				outlen += (size_t)n;
			} else if (n == 0 || errno != EINTR) {
				close(out[0]);
				out[0] = -1;
			}
		}
		if (pf[1].revents) {
			char tmp[256];
			ssize_t n = read(errp[0], tmp, sizeof(tmp));

			if (n > 0) {
				size_t k = (size_t)n < sizeof(errbuf) - 1 - errlen ? (size_t)n :
										     sizeof(errbuf) - 1 - errlen;

				memcpy(errbuf + errlen, tmp, k);
				errlen += k;
				errbuf[errlen] = '\0';
			} else if (n == 0 || errno != EINTR) {
				close(errp[0]);
				errp[0] = -1;
			}
		}
	}
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err)
		goto out;
	errbuf[strcspn(errbuf, "\r\n")] = '\0';
	if (timed_out) {
		snprintf(why, whysz, "%s did not finish within %d s", argv[0], TTS_TIMEOUT_MS / 1000);
		err = ETIMEDOUT;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFEXITED(status))
			snprintf(why, whysz, "%s exited with status %d%s%s", argv[0],
				 WEXITSTATUS(status), *errbuf ? ": " : "", errbuf);
		else
			snprintf(why, whysz, "%s was killed by signal %d", argv[0],
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		err = EIO;
	} else {
		char reason[160];

		err = media_audio_from_memory(ap, obuf, outlen, reason, sizeof(reason));
		if (err)
			snprintf(why, whysz, "%s output: %s", argv[0], reason);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(obuf);
	return err;
}

int media_tts_synth(struct media *m, const char *text, const char *lang, struct media_audio **ap,
	      char *why, size_t whysz)
{
	struct media_audio *a;
	char *key;
	size_t klen;
	int err;

	if (!text || !*text || strlen(text) > TTS_TEXT_MAX) {
		snprintf(why, whysz, "text must be 1 to %d bytes", TTS_TEXT_MAX);
		return EINVAL;
	}
	if (!lang_valid(lang)) {
		snprintf(why, whysz, "bad language tag");
		return EINVAL;
	}
	if (!lang_english(lang) && !*m->conf.tts_command) {
		snprintf(why, whysz, "no text-to-speech for language '%s' (tts_command is not set)",
			 lang);
		return ENOENT;
	}
	klen = strlen(text) + 64;
	key = malloc(klen);
	if (!key) {
		snprintf(why, whysz, "out of memory");
		return ENOMEM;
	}
	snprintf(key, klen, "tts:%s:%s:%s", lang_english(lang) ? m->conf.tts_voice : "cmd",
		 lang_english(lang) ? "en" : lang, text);
	a = media_cache_get(&m->cache, key);
	if (a) {
		err = 0;
	} else {
		err = lang_english(lang) ? synth_flite(text, &a, why, whysz) :
					   synth_command(m, text, lang, &a, why, whysz);
		if (!err)
			media_cache_put(&m->cache, key, a);
	}
	free(key);
	if (!err)
		*ap = a;
	return err;
}

static void job_free(struct tts_job *j)
{
	free(j->text);
	free(j->lang);
	free(j);
}

static void job_run(struct media_tts *t, struct tts_job *j)
{
	struct media_msg *msg = mem_zalloc(sizeof(*msg), NULL);
	struct media_audio *a = NULL;
	char why[160] = "";
	int err = media_tts_synth(t->m, j->text, j->lang, &a, why, sizeof(why));

	if (!msg) {
		log_error("media", "out of memory: text-to-speech result of stream %u lost",
			  j->stream_id);
		media_audio_release(a);
		return;
	}
	msg->stream_id = j->stream_id;
	msg->ev.play_id = j->play_id;
	if (err) {
		msg->ev.type = MEDIA_EV_ERROR;
		snprintf(msg->why, sizeof(msg->why), "text-to-speech: %s", why);
		log_warn("media", "stream %u: text-to-speech failed: %s", j->stream_id, why);
	} else {
		msg->ev.type = MEDIA_EV_TTS_READY;
		msg->audio = a;
	}
	media_post(t->m, msg);
}

static void *tts_main(void *arg)
{
	struct media_tts *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		struct tts_job *j;

		while (list_isempty(&t->jobs) && !t->stop)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->stop)
			break;
		j = list_ledata(list_head(&t->jobs));
		list_unlink(&j->le);
		pthread_mutex_unlock(&t->lock);
		job_run(t, j);
		job_free(j);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void tts_destructor(void *arg)
{
	struct media_tts *t = arg;

	if (t->running) {
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_signal(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
	}
	while (!list_isempty(&t->jobs)) {
		struct tts_job *j = list_ledata(list_head(&t->jobs));

		list_unlink(&j->le);
		job_free(j);
	}
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
}

int media_tts_alloc(struct media_tts **tp, struct media *m)
{
	struct media_tts *t = mem_zalloc(sizeof(*t), tts_destructor);
	int err;

	if (!t)
		return ENOMEM;
	t->m = m;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	err = pthread_create(&t->thread, NULL, tts_main, t);
	if (err) {
		mem_deref(t);
		return err;
	}
	t->running = true;
	*tp = t;
	return 0;
}

int media_tts_submit(struct media_tts *t, uint32_t stream_id, uint32_t play_id, const char *text,
	       const char *lang)
{
	struct tts_job *j = calloc(1, sizeof(*j));

	if (!j)
		return ENOMEM;
	j->stream_id = stream_id;
	j->play_id = play_id;
	j->text = strdup(text);
	j->lang = strdup(lang ? lang : "");
	if (!j->text || !j->lang) {
		job_free(j);
		return ENOMEM;
	}
	pthread_mutex_lock(&t->lock);
	list_append(&t->jobs, &j->le, j);
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}
