/* stream: the control loop's side of a stream — the handle the call and IVR modules hold,
 * the commands it sends to its worker, and the events it hands back to them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/base.h"
#include "media/media_int.h"

/* A stream as the control loop sees it; owned by the call that allocated it. The media
 * state itself (struct wstream) belongs to the worker. */
struct media_stream {
	struct le he;             /* in media->streams, by id */
	struct media *m;
	uint32_t id;
	unsigned widx;
	struct wstream *ws;       /* the worker's; freed by it after WCMD_DEL */
	media_event_h *eh;
	void *arg;
	struct sa local;
	uint32_t next_play;
	uint32_t tts_play;        /* a text being synthesised, 0 = none */
	unsigned tts_loops;
	bool tts_interruptible;
	struct wcmd *del;         /* made at alloc, so the delete never fails for memory */
	bool started;
	bool recording[2];        /* by enum media_rec_kind */
};

static int command(struct media_stream *ms, enum wcmd_type type, struct wcmd **cp)
{
	struct wcmd *c = mem_zalloc(sizeof(*c), NULL);

	if (!c)
		return ENOMEM;
	c->type = type;
	c->ws = ms->ws;
	if (cp)
		*cp = c;
	else
		media_worker_command(ms->m->workers[ms->widx], c);
	return 0;
}

static void send_cmd(struct media_stream *ms, struct wcmd *c)
{
	media_worker_command(ms->m->workers[ms->widx], c);
}

static void stream_destructor(void *arg)
{
	struct media_stream *ms = arg;

	hash_unlink(&ms->he);
	if (!ms->ws) {
		mem_deref(ms->del);
		return;
	}
	ms->m->load[ms->widx]--;
	send_cmd(ms, ms->del);
}

static bool id_match(struct le *le, void *arg)
{
	return ((struct media_stream *)le->data)->id == *(uint32_t *)arg;
}

static int stream_alloc(struct media_stream **msp, struct media *m, int widx,
			media_event_h *eh, void *arg)
{
	struct media_stream *ms;
	int fd_rtp = -1, fd_rtcp = -1, err;
	uint16_t port = 0;

	if (!msp || !m || !eh)
		return EINVAL;
	ms = mem_zalloc(sizeof(*ms), stream_destructor);
	if (!ms)
		return ENOMEM;
	ms->m = m;
	ms->eh = eh;
	ms->arg = arg;
	do { /* ids are never 0 and never those of a live stream */
		ms->id = m->next_id++;
	} while (!ms->id || hash_lookup(m->streams, ms->id, id_match, &ms->id));
	hash_append(m->streams, ms->id, &ms->he, ms);

	err = media_ports_take(m, &fd_rtp, &fd_rtcp, &port);
	if (err)
		goto out;
	ms->widx = widx >= 0 ? (unsigned)widx : media_worker_pick(m);
	err = media_wstream_alloc(&ms->ws, m->workers[ms->widx], ms->id, fd_rtp, fd_rtcp, port);
	if (err) {
		close(fd_rtp);
		close(fd_rtcp);
		media_port_release(m, port);
		goto out;
	}
	m->load[ms->widx]++;
	sa_set_str(&ms->local, m->conf.rtp_ip, port);
	err = command(ms, WCMD_DEL, &ms->del);
	err = err ? err : command(ms, WCMD_ADD, NULL);
	if (err) { /* the worker never saw it: give everything back here */
		m->load[ms->widx]--;
		close(fd_rtp);
		close(fd_rtcp);
		media_port_release(m, port);
		free(ms->ws);
		ms->ws = NULL;
	}
out:
	if (err)
		mem_deref(ms);
	else
		*msp = ms;
	return err;
}

int media_stream_alloc(struct media_stream **msp, struct media *m, media_event_h *eh,
		       void *arg)
{
	return stream_alloc(msp, m, -1, eh, arg);
}

int media_stream_alloc_near(struct media_stream **msp, struct media *m,
			    const struct media_stream *near, media_event_h *eh, void *arg)
{
	if (near && near->m != m)
		return EINVAL;
	return stream_alloc(msp, m, near ? (int)near->widx : -1, eh, arg);
}

void media_stream_local(const struct media_stream *ms, struct sa *rtp)
{
	if (ms && rtp)
		*rtp = ms->local;
}

int media_stream_start(struct media_stream *ms, const struct media_params *p)
{
	struct wcmd *c;
	int pt, err;

	if (!ms || !p || !p->remote || !sa_isset(p->remote, SA_ALL))
		return EINVAL;
	if (sa_af(p->remote) != sa_af(&ms->local))
		return EAFNOSUPPORT;
	if (!media_codec_known(p->codec))
		return EINVAL;
	pt = p->codec == MEDIA_OPUS ? p->pt : (int)p->codec;
	if (pt < 0 || pt >= 128 || (p->codec == MEDIA_OPUS && pt < 96))
		return EINVAL;
	if (p->telev_pt >= 128 || p->telev_pt == pt || p->telev_pt < -1)
		return EINVAL;
	if (p->ptime_ms && p->ptime_ms != 20 && p->ptime_ms != 40 && p->ptime_ms != 60)
		return EINVAL;
	err = command(ms, WCMD_START, &c);
	if (err)
		return err;
	c->start.remote = *p->remote;
	c->start.codec = p->codec;
	c->start.pt = (uint8_t)pt;
	c->start.telev_pt = p->telev_pt;
	/* An Opus packet is one 20 ms frame (the encoder could pack more, but a 40 ms Opus
	 * ptime is rare and every peer decodes 20 ms). */
	c->start.frames_per_pkt = p->ptime_ms && p->codec != MEDIA_OPUS ? p->ptime_ms / 20 : 1;
	c->start.hold = p->hold;
	c->start.latch = p->latch;
	c->start.srtp = p->srtp;
	if (p->sig)
		c->start.sig = *p->sig;
	else
		sa_init(&c->start.sig, AF_UNSPEC);
	send_cmd(ms, c);
	ms->started = true;
	return 0;
}

/* A text still being synthesised is superseded: it ends as stopped. */
static void tts_cancel(struct media_stream *ms)
{
	struct media_event ev = {.type = MEDIA_EV_PLAY_DONE, .stopped = true};

	if (!ms->tts_play)
		return;
	ev.play_id = ms->tts_play;
	ms->tts_play = 0;
	media_post_event(ms->m, ms->id, &ev, NULL);
}

static uint32_t play_id_next(struct media_stream *ms)
{
	if (++ms->next_play == 0)
		ms->next_play = 1;
	return ms->next_play;
}

static int play_audio(struct media_stream *ms, struct media_audio *a, unsigned loops,
		      bool interruptible, uint32_t play_id)
{
	struct wcmd *c;
	int err = command(ms, WCMD_PLAY, &c);

	if (err)
		return err;
	c->audio = media_audio_ref(a);
	c->loops = loops;
	c->interruptible = interruptible;
	c->play_id = play_id;
	send_cmd(ms, c);
	return 0;
}

int media_play(struct media_stream *ms, struct media_prompt *p, unsigned loops,
	       bool interruptible, uint32_t *play_idp)
{
	uint32_t id;
	int err;

	if (!ms || !p || !p->a || !play_idp)
		return EINVAL;
	id = play_id_next(ms);
	err = play_audio(ms, p->a, loops, interruptible, id);
	if (err)
		return err;
	tts_cancel(ms);
	*play_idp = id;
	return 0;
}

int media_play_text(struct media_stream *ms, const char *text, const char *lang,
		    unsigned loops, bool interruptible, uint32_t *play_idp)
{
	uint32_t id;
	int err;

	if (!ms || !text || !*text || !play_idp)
		return EINVAL;
	id = play_id_next(ms);
	err = media_tts_submit(ms->m->tts, ms->id, id, text, lang);
	if (err)
		return err;
	tts_cancel(ms);
	/* What plays now stops now: the text replaces it, even before it is ready. */
	command(ms, WCMD_STOP, NULL);
	ms->tts_play = id;
	ms->tts_loops = loops;
	ms->tts_interruptible = interruptible;
	*play_idp = id;
	return 0;
}

void media_stop(struct media_stream *ms)
{
	if (!ms)
		return;
	tts_cancel(ms);
	command(ms, WCMD_STOP, NULL);
}

int media_send_dtmf(struct media_stream *ms, char key, unsigned duration_ms)
{
	struct wcmd *c;
	int err;

	if (!ms || media_telev_event(key) < 0)
		return EINVAL;
	if (!duration_ms)
		duration_ms = 100;
	if (duration_ms < 40 || duration_ms > 2000)
		return EINVAL;
	err = command(ms, WCMD_DTMF, &c);
	if (err)
		return err;
	c->key = key >= 'a' && key <= 'd' ? (char)(key - 'a' + 'A') : key;
	c->duration_ms = duration_ms;
	send_cmd(ms, c);
	return 0;
}

int media_listen(struct media_stream *ms, enum media_listen_slot slot, media_listen_h *h,
		 void *state)
{
	struct wcmd *c;
	int err;

	if (!ms || slot >= MEDIA_LISTEN_SLOTS || (h && !state))
		return EINVAL;
	err = command(ms, WCMD_LISTEN, &c);
	if (err)
		return err;
	c->slot = slot;
	c->listen_h = h;
	c->listen_state = h ? mem_ref(state) : NULL;
	send_cmd(ms, c);
	return 0;
}

int media_bridge(struct media_stream *a, struct media_stream *b)
{
	struct wcmd *c;
	int err;

	if (!a || !b || a == b || !a->ws || !b->ws || a->m != b->m)
		return EINVAL;
	if (a->widx != b->widx)
		return EXDEV;
	err = command(a, WCMD_BRIDGE, &c);
	if (err)
		return err;
	c->peer = b->ws;
	send_cmd(a, c);
	return 0;
}

void media_unbridge(struct media_stream *ms)
{
	if (ms && ms->ws)
		command(ms, WCMD_UNBRIDGE, NULL);
}


/* A recording name: a file, or one directory and a file; no empty, "." or ".." part. */
static bool rec_name_ok(const char *name)
{
	const char *slash = strchr(name, '/'), *file = slash ? slash + 1 : name;

	if (!*name || strlen(name) > 255 || (slash && strchr(file, '/')))
		return false;
	if (slash && (slash == name || (slash - name == 1 && name[0] == '.') ||
		      (slash - name == 2 && !strncmp(name, "..", 2))))
		return false;
	return *file && strcmp(file, ".") && strcmp(file, "..");
}

static int record_start(struct media_stream *ms, enum media_rec_kind kind, const char *name,
			unsigned silence_ms)
{
	struct media_rec *rec = NULL;
	struct wcmd *c;
	char path[1100];
	int err;

	if (!ms || !name || (kind != MEDIA_REC_CALL && kind != MEDIA_REC_MESSAGE) ||
	    !rec_name_ok(name))
		return EINVAL;
	if (ms->recording[kind])
		return EALREADY;
	snprintf(path, sizeof(path), "%s/%s", ms->m->conf.recording_dir, name);
	err = command(ms, WCMD_REC_START, &c);
	if (err)
		return err;
	/* Only an answer (media_record_answer) has a silence limit; its bytes are read back. */
	err = media_rec_alloc(&rec, ms->m->rec, ms->id, path, kind, strchr(name, '/') != NULL,
			      silence_ms > 0);
	if (err) {
		mem_deref(c);
		return err;
	}
	c->rec = rec;
	c->rec_kind = kind;
	c->silence_ms = silence_ms;
	send_cmd(ms, c);
	ms->recording[kind] = true;
	return 0;
}

int media_record_start(struct media_stream *ms, enum media_rec_kind kind, const char *name)
{
	return record_start(ms, kind, name, 0);
}

int media_record_answer(struct media_stream *ms, const char *name, unsigned silence_ms)
{
	if (!silence_ms)
		return EINVAL;
	return record_start(ms, MEDIA_REC_MESSAGE, name, silence_ms);
}

int media_record_stop(struct media_stream *ms, enum media_rec_kind kind)
{
	struct wcmd *c;
	int err;

	if (!ms || (kind != MEDIA_REC_CALL && kind != MEDIA_REC_MESSAGE))
		return EINVAL;
	if (!ms->recording[kind])
		return ENOENT;
	err = command(ms, WCMD_REC_STOP, &c);
	if (err)
		return err;
	c->rec_kind = kind;
	send_cmd(ms, c);
	ms->recording[kind] = false;
	return 0;
}

void media_stream_stats(const struct media_stream *ms, struct media_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (ms && ms->ws)
		media_wstream_stats(ms->ws, st);
}

/* A message from a worker, the TTS thread or the recorder, on the control loop. */
void media_msg_handle(struct media *m, struct media_msg *msg)
{
	struct le *le = hash_lookup(m->streams, msg->stream_id, id_match, &msg->stream_id);
	struct media_stream *ms = le ? le->data : NULL;
	struct media_event ev = msg->ev;

	if (!ms)
		return; /* the stream is gone; so is interest in its events */
	ev.why = msg->why[0] ? msg->why : NULL;
	ev.answer = msg->answer;
	ev.answer_len = msg->answer_len;
	if (ev.type == MEDIA_EV_TTS_READY || (ev.type == MEDIA_EV_ERROR && ev.play_id)) {
		/* A synthesis result: stale if the text was superseded meanwhile. */
		if (ms->tts_play != ev.play_id)
			return;
		ms->tts_play = 0;
		if (ev.type == MEDIA_EV_TTS_READY &&
		    play_audio(ms, msg->audio, ms->tts_loops, ms->tts_interruptible, ev.play_id)) {
			ev.type = MEDIA_EV_ERROR;
			ev.why = "out of memory";
		}
	}
	/* A key also stops an interruptible text still being synthesised (its PLAY_DONE is
	 * queued, so it follows the key as for prompts). */
	if (ev.type == MEDIA_EV_DTMF && ms->tts_play && ms->tts_interruptible)
		tts_cancel(ms);
	if (ev.type == MEDIA_EV_RECORD_DONE && ev.why)
		log_warn("media", "stream %u: %s", ms->id, ev.why);
	ms->eh(ms, &ev, ms->arg);
}
