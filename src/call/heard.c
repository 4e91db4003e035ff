/* call: listening to an outbound call's early media (earlyaudio) and what it does to the
 * call's end (docs/early-media.md).
 *
 * The listener runs on the stream's worker from the first 18x with SDP to the answer; its
 * findings come back as MEDIA_EV_HEARD. The weightiest one is kept (silence < ring-back <
 * speech < SIT < announcement): a carrier that plays a SIT then its words is known by the
 * words when they match a reference. An announcement or a SIT gives an EndStatus, which
 * replaces the generic one when the call then ends unanswered — the carrier's 4xx/5xx,
 * cccd's ring timeout or its CANCEL (early_hangup: at once, which saves minutes of a
 * looping message on a call that will not be answered). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "call/call_int.h"
#include "base/base.h"

/* announcement = STATUS PATH, STATUS a number (204) or its name (powerOff) */
static int announce_value(const char *value, unsigned line, void *arg, struct conf_err *err)
{
	struct call_trunk_conf *tc = arg;
	struct call_announce *a;
	char word[32], why[300];
	const char *path;
	size_t wl;
	char *end;
	long num;
	int status = 0;

	if (tc->nannounce >= CALL_ANNOUNCE_MAX) {
		conf_err_set(err, line, "at most %d 'announcement' lines per trunk",
			     CALL_ANNOUNCE_MAX);
		return EINVAL;
	}
	wl = strcspn(value, " \t");
	path = value + wl + strspn(value + wl, " \t");
	if (!wl || wl >= sizeof(word) || !*path) {
		conf_err_set(err, line, "announcement: expected an EndStatus and a file, as in "
			     "'announcement = 204 /etc/cccd/announce/poweroff.wav'");
		return EINVAL;
	}
	memcpy(word, value, wl);
	word[wl] = '\0';
	num = strtol(word, &end, 10);
	for (int s = 200; s < 300 && !status; s++) {
		const char *name = call_status_heard(s);

		if (name && (!strcasecmp(word, name) || (!*end && num == s)))
			status = s;
	}
	if (!status) {
		conf_err_set(err, line, "announcement: '%s' is not an EndStatus an announcement "
			     "may give (202-219: 204 powerOff, 205 numberNotExist, 207 outOfCredit, "
			     "210 notInService, 213 callReminder, 216 callRestricted, 219 "
			     "promptCallForwarding, ...)", word);
		return EINVAL;
	}
	a = &tc->announce[tc->nannounce];
	if (strlen(path) >= sizeof(a->path)) {
		conf_err_set(err, line, "announcement: the file name is too long");
		return EINVAL;
	}
	if (earlyaudio_ref_load(path, why, sizeof(why))) {
		conf_err_set(err, line, "announcement: %s", why);
		return EINVAL;
	}
	a->status = status;
	str_ncpy(a->path, path, sizeof(a->path));
	tc->nannounce++;
	return 0;
}

int call_heard_conf_read(const struct conf_section *sec, struct call_trunk_conf *tc,
			 struct conf_err *err)
{
	int rc = conf_bool(sec, "early_listen", true, &tc->early_listen, err);

	rc = rc ? rc : conf_bool(sec, "early_hangup", true, &tc->early_hangup, err);
	rc = rc ? rc : conf_each(sec, "announcement", announce_value, tc, err);
	if (!rc && tc->nannounce && !tc->early_listen) {
		conf_err_set(err, conf_key_line(sec, "early_listen"), "[trunk %s] has "
			     "'announcement' lines but does not listen to early media "
			     "(early_listen = no)", tc->name);
		rc = EINVAL;
	}
	return rc;
}

void call_heard_start(struct call_heard *h, struct media_stream *ms,
		      const struct call_trunk_conf *tc, const char *sid)
{
	const struct earlyaudio_ref *refs[CALL_ANNOUNCE_MAX];
	struct earlyaudio *ea = NULL;
	int err;

	h->sid = sid;
	if (h->listening || !ms || !tc || !tc->early_listen)
		return;
	for (unsigned i = 0; i < tc->nannounce; i++)
		refs[i] = earlyaudio_ref_find(tc->announce[i].path);
	err = earlyaudio_alloc(&ea, refs, tc->nannounce);
	err = err ? err : media_listen(ms, MEDIA_LISTEN_EARLY, earlyaudio_listen_h, ea);
	mem_deref(ea); /* the stream holds it */
	if (err) {
		log_warn("call", "%s: cannot listen to early media: %s", sid, strerror(err));
		return;
	}
	h->listening = true;
}

void call_heard_stop(struct call_heard *h, struct media_stream *ms)
{
	if (!h->listening)
		return;
	h->listening = false;
	if (ms)
		(void)media_listen(ms, MEDIA_LISTEN_EARLY, NULL, NULL);
}

bool call_heard_take(struct call_heard *h, const struct call_trunk_conf *tc,
		     const struct media_heard *mh)
{
	enum earlyaudio_heard what = (enum earlyaudio_heard)mh->what;

	if (!h->listening || what <= h->heard || what > EARLYAUDIO_ANNOUNCEMENT)
		return false;
	h->heard = what;
	if (what == EARLYAUDIO_SIT) {
		h->sit = (enum earlyaudio_sit)mh->value;
		h->status = call_status_sit(h->sit);
		log_info("call", "%s: early media: SIT %s at %u ms: EndStatus %d", h->sid,
			 earlyaudio_sit_name(h->sit), mh->at_ms, h->status);
	}
	else if (what == EARLYAUDIO_ANNOUNCEMENT && tc && mh->value < tc->nannounce) {
		const struct call_announce *a = &tc->announce[mh->value];
		const char *base = strrchr(a->path, '/');

		h->status = a->status;
		str_ncpy(h->name, base ? base + 1 : a->path, sizeof(h->name));
		log_info("call", "%s: early media: announcement %s at %u ms: EndStatus %d",
			 h->sid, h->name, mh->at_ms, h->status);
	}
	else {
		log_info("call", "%s: early media: %s at %u ms", h->sid,
			 earlyaudio_heard_name(what), mh->at_ms);
		return false;
	}
	return tc && tc->early_hangup;
}

void call_heard_end(const struct call_heard *h, enum call_cause cause, struct call_end *end)
{
	const char *str = h->status ? call_status_heard(h->status) : NULL;

	if (!str || (cause != CALL_CAUSE_SIP && cause != CALL_CAUSE_RING_TIMEOUT &&
		     cause != CALL_CAUSE_CANCEL))
		return;
	end->status = h->status;
	end->status_str = str;
	end->side = CALL_SIDE_SYSTEM;
}

void call_heard_evidence(const struct call_heard *h, struct call_evidence *e)
{
	e->early_heard = earlyaudio_heard_name(h->heard);
	e->early_sit = h->heard == EARLYAUDIO_SIT || h->sit ? earlyaudio_sit_name(h->sit) : "";
	str_ncpy(e->early_announcement, h->name, sizeof(e->early_announcement));
	e->early_status = h->status;
}
