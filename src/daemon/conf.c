/* daemon: the whole configuration — read as a start reads it, checked, compared. */
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "daemon/daemon.h"
#include "policy/policy.h"

static int log_conf_read(const struct conf *cf, struct cccd_conf *cc, struct conf_err *err)
{
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	static const char *const formats[] = {"text", "json", NULL};
	const struct conf_section *sec = conf_section_first(cf, "log");
	int idx, fmt, rc = conf_choice(sec, "level", "info", levels, &idx, err);

	rc = rc ? rc : conf_choice(sec, "format", "text", formats, &fmt, err);
	if (!rc) {
		cc->log_level = (enum log_level)idx;
		cc->log_format = (enum log_format)fmt;
	}
	return rc;
}

/* [policy]: the system-wide calling-rule data files and the operator's caps on tenants. */
static int policy_conf_read(const struct conf *cf, struct cccd_conf *cc, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "policy");
	const char *loc, *bl;
	uint64_t channels, minutes;
	int rc = conf_str(sec, "locations", "data/blind-areas", &loc, err);

	rc = rc ? rc : conf_str(sec, "blacklist", "", &bl, err);
	rc = rc ? rc : conf_uint(sec, "tenant_channels_max", 0, 0, 1000000, &channels, err);
	rc = rc ? rc : conf_uint(sec, "tenant_minutes_daily_max", 0, 0, 1000000, &minutes, err);
	if (rc)
		return rc;
	cc->tenant_channels_max = (uint32_t)channels;
	cc->tenant_minutes_daily_max = (uint32_t)minutes;
	if (strlen(loc) >= sizeof(cc->policy_locations) ||
	    strlen(bl) >= sizeof(cc->policy_blacklist)) {
		conf_err_set(err, conf_section_line(sec), "a [policy] path is too long");
		return EINVAL;
	}
	strcpy(cc->policy_locations, loc);
	strcpy(cc->policy_blacklist, bl);
	return 0;
}

/* Each module reads its own sections; all of them run even after one failed, so that
 * one pass names every bad section. */
unsigned daemon_conf_read(const char *path, struct cccd_conf *cc, conf_err_h *h, void *arg)
{
	struct conf *cf = NULL;
	struct conf_err err = {0};
	unsigned n = 0;
	int rc = conf_load(&cf, path, &err);

	if (rc) {
		h(&err, arg);
		return 1;
	}
#define READ(call)                                                                     \
	do {                                                                           \
		conf_reader_begin(cf);                                                 \
		memset(&err, 0, sizeof(err));                                          \
		if (call) {                                                            \
			conf_reader_failed(cf);                                        \
			h(&err, arg);                                                  \
			n++;                                                           \
		}                                                                      \
	} while (0)
	READ(log_conf_read(cf, cc, &err));
	READ(admin_conf_read(cf, &cc->admin, &err));
	READ(cluster_conf_read(cf, &cc->cluster, &err));
	READ(store_conf_read(cf, &cc->store, &err));
	READ(demo_conf_read(cf, &cc->demo, &err));
	READ(media_conf_read(cf, &cc->media, &err));
	READ(call_conf_read(cf, &cc->call, &err));
	READ(session_conf_read(cf, &cc->session, &err));
	READ(push_conf_read(cf, &cc->push, &err));
	READ(api_conf_read(cf, &cc->api, &err));
	READ(records_conf_read(cf, &cc->records, &err));
	READ(policy_conf_read(cf, cc, &err));
#undef READ
	/* The store writes the node's id into the rows this node owns or claims. */
	memcpy(cc->store.node_id, cc->cluster.node_id, sizeof(cc->store.node_id));
	memcpy(cc->api.node_id, cc->cluster.node_id, sizeof(cc->api.node_id));
	n += conf_unused_each(cf, h, arg);
	mem_deref(cf);
	return n;
}

/* ---- what a start would find ----------------------------------------------------- */

struct check {
	const struct conf *cf;      /* the file again, for the lines of keys */
	conf_err_h *h;
	void *arg;
	unsigned n;
};

static void finding(struct check *ck, const char *section, const char *key, const char *fmt,
		    const char *path, const char *why)
{
	struct conf_err err;
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, path, why);
	conf_err_set(&err, conf_key_line(conf_section_first(ck->cf, section), key), "[%s] %s: %s",
		     section, key, msg);
	ck->h(&err, ck->arg);
	ck->n++;
}

/* A directory cccd creates if needed and writes in: it, or its nearest existing parent,
 * must be a writable directory. */
static void dir_writable(struct check *ck, const char *section, const char *key,
			 const char *dir)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s", dir[0] ? dir : ".");
	for (;;) {
		if (!access(buf, F_OK)) {
			if (access(buf, W_OK | X_OK))
				finding(ck, section, key, "%s is not writable: %s", buf,
					strerror(errno));
			return;
		}
		if (errno != ENOENT) {
			finding(ck, section, key, "%s: %s", buf, strerror(errno));
			return;
		}
		if (!strcmp(buf, "/") || !strcmp(buf, "."))
			return;
		snprintf(buf, sizeof(buf), "%s", dirname(buf));
	}
}

/* A file cccd writes (its directory must be writable) or reads (R_OK when it exists). */
static void file_parent_writable(struct check *ck, const char *section, const char *key,
				 const char *path)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s", path);
	dir_writable(ck, section, key, dirname(buf));
}

static void file_readable(struct check *ck, const char *section, const char *key,
			  const char *path, bool may_be_absent)
{
	if (!access(path, R_OK) || (may_be_absent && errno == ENOENT))
		return;
	finding(ck, section, key, "cannot read %s: %s", path, strerror(errno));
}

unsigned daemon_conf_check(const char *path, const struct cccd_conf *cc, conf_err_h *h,
			   void *arg)
{
	struct check ck = {NULL, h, arg, 0};
	struct conf_err err;
	struct policy_data *pd = NULL;
	char why[256] = "";
	int rc;

	if (conf_load((struct conf **)&ck.cf, path, &err)) {
		h(&err, arg);
		return 1;
	}
	if (cc->store.backend == DB_SQLITE)
		file_parent_writable(&ck, "store", "path", cc->store.path);
	if (cc->store.master_key_path[0]) {
		file_readable(&ck, "store", "master_key_file", cc->store.master_key_path, true);
		file_parent_writable(&ck, "store", "master_key_file", cc->store.master_key_path);
	}
	if (cc->store.password_file[0])
		file_readable(&ck, "store", "password_file", cc->store.password_file, false);
	dir_writable(&ck, "media", "recording_dir", cc->media.recording_dir);
	if (cc->session.prompt_dir[0])
		file_readable(&ck, "session", "prompt_dir", cc->session.prompt_dir, false);
	if (cc->demo.provision) {
		file_readable(&ck, "demo", "ivr_file", cc->demo.ivr_file, false);
		file_parent_writable(&ck, "demo", "credentials_file", cc->demo.credentials_file);
	}
	/* The calling-rule data, parsed as a start parses it. */
	rc = policy_data_alloc(&pd);
	if (!rc && cc->policy_locations[0]) {
		rc = policy_data_load_locations(pd, cc->policy_locations, why, sizeof(why));
		if (rc)
			finding(&ck, "policy", "locations", "%s%s", why[0] ? why : strerror(rc), "");
	}
	why[0] = '\0';
	if (!rc && cc->policy_blacklist[0]) {
		rc = policy_data_load_blacklist(pd, cc->policy_blacklist, why, sizeof(why));
		if (rc)
			finding(&ck, "policy", "blacklist", "%s%s", why[0] ? why : strerror(rc), "");
	}
	mem_deref(pd);
	mem_deref((struct conf *)ck.cf);
	return ck.n;
}

/* ---- what a reload cannot apply ----------------------------------------------------- */

unsigned daemon_conf_restart_changes(const struct cccd_conf *old, const struct cccd_conf *nw,
				     daemon_change_h *h, void *arg)
{
	/* [sip] keys one by one (the trunks beside them are reloaded); the other sections
	 * whole. Both copies were read into zeroed memory, so bytes compare. */
	static const struct {
		const char *what;
		size_t off, len;
	} sip[] = {
#define F(what, m) {what, offsetof(struct call_conf, m), sizeof(((struct call_conf *)0)->m)}
		F("[sip] listen", listen), F("[sip] listen", nlisten),
		F("[sip] user_agent", user_agent), F("[sip] ring_timeout", ring_timeout),
		F("[sip] ring_timeout_max", ring_timeout_max),
		F("[sip] inbound_cps", inbound_cps),
		F("[sip] udp_receive_bytes", udp_receive_bytes),
		F("[sip] trunk_attempts", trunk_attempts), F("[sip] inbound_from", inbound_from),
		F("[sip] auth_realm", auth_realm), F("[sip] external_ip", sip_external),
		F("[sip] session_expires", session_expires), F("[sip] min_se", min_se),
		F("[sip] hep_server", hep), F("[sip] hep_server", hep_server),
		F("[sip] hep_id", hep_id), F("[sip] hep_password", hep_password),
		F("[sip] tls_listen", tls_listen), F("[sip] tls_listen", tls_host),
		F("[sip] tls_listen", tls_port), F("[sip] tls_cert", tls_cert),
		F("[sip] tls_key", tls_key), F("[sip] tls_ca_file", tls_ca_file),
#undef F
	};
	const char *last = "";
	unsigned n = 0;

#define SECTION(what, m)                                                               \
	do {                                                                           \
		if (memcmp(&old->m, &nw->m, sizeof(old->m))) {                         \
			h(what, arg);                                                  \
			n++;                                                           \
		}                                                                      \
	} while (0)
	SECTION("[store]", store);
	SECTION("[cluster]", cluster);
	SECTION("[demo]", demo);
	SECTION("[media]", media);
	SECTION("[session] or [dial]", session);
	SECTION("[api]", api);
	SECTION("[records]", records);
	SECTION("[policy] locations", policy_locations);
	SECTION("[policy] blacklist", policy_blacklist);
	SECTION("[policy] tenant_channels_max", tenant_channels_max);
	SECTION("[policy] tenant_minutes_daily_max", tenant_minutes_daily_max);
	SECTION("[log] format", log_format);
	SECTION("[admin]", admin);
#undef SECTION
	for (size_t i = 0; i < sizeof(sip) / sizeof(sip[0]); i++) {
		if (!memcmp((const char *)&old->call + sip[i].off,
			    (const char *)&nw->call + sip[i].off, sip[i].len) ||
		    !strcmp(last, sip[i].what))
			continue;
		last = sip[i].what;
		h(sip[i].what, arg);
		n++;
	}
	return n;
}
