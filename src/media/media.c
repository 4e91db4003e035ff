/* media: the engine — its workers, the event queue to the control loop, the RTP port
 * range, and the shared helpers (TTS thread, recorder, prompt cache). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "base/base.h"
#include "media/media_int.h"

static void media_destructor(void *arg)
{
	struct media *m = arg;

	/* Workers first (they feed the recorder and the queue), then the threads they feed,
	 * then the queue itself: messages still in it are dropped with it. The collector
	 * goes before the workers it reads. */
	m->metrics = mem_deref(m->metrics);
	for (unsigned i = 0; i < m->nworkers; i++)
		mem_deref(m->workers[i]);
	mem_deref(m->workers);
	mem_deref(m->load);
	m->tts = mem_deref(m->tts);
	m->rec = mem_deref(m->rec);
	/* libre's mqueue drops what it still holds without freeing it: free it here. */
	m->mq = mem_deref(m->mq);
	while (!list_isempty(&m->inflight)) {
		struct media_msg *msg = list_ledata(list_head(&m->inflight));

		list_unlink(&msg->le);
		media_audio_release(msg->audio);
		mem_deref(msg->answer);
		mem_deref(msg);
	}
	pthread_mutex_destroy(&m->inflight_lock);
	mem_deref(m->streams);
	media_cache_close(&m->cache);
	mem_deref(m->port_used);
	pthread_mutex_destroy(&m->port_lock);
}

static void mq_handler(int id, void *data, void *arg)
{
	struct media *m = arg;
	struct media_msg *msg = data;

	(void)id;
	pthread_mutex_lock(&m->inflight_lock);
	list_unlink(&msg->le);
	pthread_mutex_unlock(&m->inflight_lock);
	media_msg_handle(m, msg);
	media_audio_release(msg->audio);
	mem_deref(msg->answer);
	mem_deref(msg);
}

void media_post(struct media *m, struct media_msg *msg)
{
	int err;

	pthread_mutex_lock(&m->inflight_lock);
	list_append(&m->inflight, &msg->le, msg);
	err = mqueue_push(m->mq, MEDIA_MSG_EVENT, msg);
	if (err)
		list_unlink(&msg->le);
	pthread_mutex_unlock(&m->inflight_lock);
	if (err) {
		log_error("media", "event queue full: event %d of stream %u lost", msg->ev.type,
			  msg->stream_id);
		media_audio_release(msg->audio);
		mem_deref(msg->answer);
		mem_deref(msg);
	}
}

void media_post_event(struct media *m, uint32_t stream_id, const struct media_event *ev,
		      const char *why)
{
	struct media_msg *msg = mem_zalloc(sizeof(*msg), NULL);

	if (!msg) {
		log_error("media", "out of memory: event %d of stream %u lost", ev->type,
			  stream_id);
		return;
	}
	msg->stream_id = stream_id;
	msg->ev = *ev;
	if (why)
		snprintf(msg->why, sizeof(msg->why), "%s", why);
	media_post(m, msg);
}

/* mkdir -p; at start only (disk). */
static int dir_make(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) && errno != EEXIST)
		return errno;
	return 0;
}

int media_alloc(struct media **mp, const struct media_conf *mc)
{
	struct media *m;
	long ncpu;
	int err;

	if (!mp || !mc || mc->port_min > mc->port_max || mc->port_min < 2)
		return EINVAL;
	m = mem_zalloc(sizeof(*m), media_destructor);
	if (!m)
		return ENOMEM;
	m->conf = *mc;
	if (!m->conf.rtcp_interval_ms)
		m->conf.rtcp_interval_ms = 5000;
	if (!m->conf.ncodecs) {
		m->conf.ncodecs = 2;
		m->conf.prefer[0] = MEDIA_PCMU;
		m->conf.prefer[1] = MEDIA_PCMA;
	}
	pthread_mutex_init(&m->port_lock, NULL);
	pthread_mutex_init(&m->inflight_lock, NULL);
	media_cache_init(&m->cache, mc->prompt_cache_bytes);
	m->next_id = 1;
	m->npairs = (unsigned)(mc->port_max - (mc->port_min + (mc->port_min & 1)) + 1) / 2;
	m->port_used = mem_zalloc(m->npairs ? m->npairs : 1, NULL);
	if (!m->port_used) {
		err = ENOMEM;
		goto out;
	}
	err = hash_alloc(&m->streams, 256);
	err = err ? err : mqueue_alloc(&m->mq, mq_handler, m);
	if (err)
		goto out;
	if (*mc->recording_dir) {
		err = dir_make(mc->recording_dir);
		if (err) {
			log_error("media", "cannot create recording_dir %s: %s", mc->recording_dir,
				  strerror(err));
			goto out;
		}
	}
	err = media_tts_alloc(&m->tts, m);
	err = err ? err : media_recorder_alloc(&m->rec, m);
	if (err)
		goto out;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	m->nworkers = mc->workers ? mc->workers : (ncpu > 0 ? (unsigned)ncpu : 1);
	m->workers = mem_zalloc(sizeof(*m->workers) * m->nworkers, NULL);
	m->load = mem_zalloc(sizeof(*m->load) * m->nworkers, NULL);
	if (!m->workers || !m->load) {
		err = ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < m->nworkers && !err; i++)
		err = media_worker_alloc(&m->workers[i], m, i);
	if (!err)
		err = media_metrics_register(m);
	if (!err)
		log_info("media", "%u workers, RTP %s ports %u-%u", m->nworkers, mc->rtp_ip,
			 mc->port_min, mc->port_max);
out:
	if (err)
		mem_deref(m);
	else
		*mp = m;
	return err;
}

/* ---- the RTP port range ------------------------------------------------------------- */

static int udp_bind(const struct sa *local, int *fdp)
{
	int fd = socket(sa_af(local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	if (bind(fd, &local->u.sa, local->len)) {
		int err = errno;

		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Takes the next free pair after the last one handed out (a just released port is not
 * reused at once, so late packets of an old call do not land in a new one) and binds
 * both; a pair some other program holds is skipped. */
int media_ports_take(struct media *m, int *fd_rtp, int *fd_rtcp, uint16_t *portp)
{
	int err = ENOSPC;
	unsigned base = m->conf.port_min + (m->conf.port_min & 1);

	pthread_mutex_lock(&m->port_lock);
	for (unsigned i = 0; i < m->npairs; i++) {
		unsigned idx = (m->port_next + i) % m->npairs;
		uint16_t port = (uint16_t)(base + 2 * idx);
		struct sa sa;

		if (m->port_used[idx])
			continue;
		sa_set_str(&sa, m->conf.rtp_ip, port);
		if (udp_bind(&sa, fd_rtp))
			continue;
		sa_set_port(&sa, (uint16_t)(port + 1));
		if (udp_bind(&sa, fd_rtcp)) {
			close(*fd_rtp);
			continue;
		}
		m->port_used[idx] = 1;
		m->port_next = (idx + 1) % m->npairs;
		*portp = port;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&m->port_lock);
	return err;
}

void media_port_release(struct media *m, uint16_t port)
{
	unsigned base = m->conf.port_min + (m->conf.port_min & 1);

	pthread_mutex_lock(&m->port_lock);
	if (port >= base && (port - base) / 2 < m->npairs)
		m->port_used[(port - base) / 2] = 0;
	pthread_mutex_unlock(&m->port_lock);
}

/* The worker with the fewest streams (counted on the control loop, which assigns them). */
unsigned media_worker_pick(struct media *m)
{
	unsigned best = 0;

	for (unsigned i = 1; i < m->nworkers; i++) {
		if (m->load[i] < m->load[best])
			best = i;
	}
	return best;
}

