/* evidence: a call leg's evidence as the record shows it (CccdEvidence, a cccd addition
 * beside TCCC's fields; docs/api-compatibility.md) — what an operator needs to prove to a
 * carrier what happened: the SIP Call-ID, the trunk, the final answer, where the media went
 * and how it fared in each direction. */
#include <math.h>
#include <jansson.h>
#include "call/call.h"
#include "records/records.h"

/* Figures rounded to what a person reads: two decimals. */
static json_t *num(double v)
{
	return json_real(round(v * 100) / 100);
}

static json_t *direction(const struct media_dir_quality *d)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "LossPercent", num(d->loss_pct),
			 "JitterMs", num(d->jitter_ms), "R", num(d->r), "Mos", num(d->mos));
}

static json_t *quality(const struct media_quality *q)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:o, s:I}",
			      "PacketsSent", (json_int_t)q->sent,
			      "PacketsReceived", (json_int_t)q->received,
			      "PacketsExpected", (json_int_t)q->expected,
			      "PacketsLost", (json_int_t)q->lost, "Received", direction(&q->rx),
			      "RttMs", (json_int_t)q->rtt_ms);

	if (!o)
		return NULL;
	/* The peer's own view, from its RTCP reports, only when it sent some. */
	if (q->peer_report &&
	    json_object_set_new(o, "PeerReport", json_pack(
		    "{s:I, s:o, s:o}", "PacketsLost", (json_int_t)q->peer_lost,
		    "LastFractionLostPercent", num(q->peer_fraction_pct),
		    "Sent", direction(&q->tx)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What the carrier's early media said (call/heard.c): Heard always, the rest when known. */
static json_t *early_media(const struct call_evidence *e)
{
	json_t *o = json_pack("{s:s}", "Heard", e->early_heard);

	if (o && e->early_sit && e->early_sit[0])
		json_object_set_new(o, "Sit", json_string(e->early_sit));
	if (o && e->early_announcement[0])
		json_object_set_new(o, "Announcement", json_string(e->early_announcement));
	if (o && e->early_status)
		json_object_set_new(o, "EndStatus", json_integer(e->early_status));
	return o;
}

json_t *records_evidence(const struct call_evidence *e)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:b}", "CallId", e->call_id,
			      "Trunk", e->trunk, "SipStatus", (json_int_t)e->sip_code,
			      "SipReason", e->sip_reason, "RemoteMediaAddress", e->remote_media,
			      "Transport", e->transport, "Srtp", e->srtp);

	if (o && e->has_media && json_object_set_new(o, "Quality", quality(&e->quality))) {
		json_decref(o);
		return NULL;
	}
	if (o && e->early_heard && e->early_heard[0] &&
	    json_object_set_new(o, "EarlyMedia", early_media(e))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *records_evidence_text_amd(const struct call_evidence *e, const struct records_amd *amd)
{
	json_t *o = e ? records_evidence(e) : NULL;
	char *s = NULL;

	if (o && amd && json_object_set_new(o, "Amd", json_pack(
		    "{s:s, s:I, s:I, s:I}", "Verdict", amd->verdict,
		    "DecisionMs", (json_int_t)amd->decision_ms,
		    "BeepMs", (json_int_t)amd->beep_ms, "BeepHz", (json_int_t)amd->beep_hz)))
		goto out;
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
out:
	json_decref(o);
	return s;
}

char *records_evidence_text(const struct call_evidence *e)
{
	return records_evidence_text_amd(e, NULL);
}
