/* cccd: reads the config, wires the modules and their threads, runs the control loop. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <re.h>
#include "admin/admin.h"
#include "api/api.h"
#include "base/base.h"
#include "wheel/wheel.h"
#include "wheel/libre_tmr.h"
#include "call/call.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "demo/demo.h"
#include "media/media.h"
#include "policy/policy.h"
#include "push/push.h"
#include "records/records.h"
#include "session/session.h"
#include "store/store.h"
#include "cluster/cluster.h"
#include "tenant/tenant.h"

#define CCCD_VERSION "0.1.0"
/* Where `make install` puts things (the Makefile passes the installed paths). */
#ifndef CCCD_DEFAULT_CONFIG
#define CCCD_DEFAULT_CONFIG "/etc/cccd/cccd.conf"
#endif
#ifndef CCCD_DOC_DIR
#define CCCD_DOC_DIR "/usr/local/share/doc/cccd"
#endif

/* The running daemon's parts, in start order (stopped in reverse). */
struct cccd {
	struct store *store;
	struct tenant *tenant;
	struct records_links *links;
	struct records_cleaner *cleaner;
	struct push *push;
	struct policy_data *policy;
	struct media *media;
	struct call_ua *ua;
	struct session_mgr *sessions;
	struct cluster_node *node;
	struct api *api;
	struct daemon_reload *reload;
	struct cccd_conf *cc;          /* what runs (a reload replaces it) */
	struct admin *admin;
	struct wheel_tmr publish;           /* the loop's figures to /metrics, once a second */
};

static int policy_load(struct cccd *d, const struct cccd_conf *cc)
{
	char why[256] = "";
	int err = policy_data_alloc(&d->policy);

	if (!err)
		policy_data_caps(d->policy, cc->tenant_channels_max, cc->tenant_minutes_daily_max);
	if (!err && cc->policy_locations[0])
		err = policy_data_load_locations(d->policy, cc->policy_locations, why, sizeof(why));
	if (!err && cc->policy_blacklist[0])
		err = policy_data_load_blacklist(d->policy, cc->policy_blacklist, why, sizeof(why));
	if (err)
		log_error("main", "calling-rule data: %s", why[0] ? why : strerror(err));
	return err;
}

/* mkdir -p of the directory holding `path`. */
static int parent_dir_make(const char *path)
{
	char buf[600], *dir;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) && errno != EEXIST)
		return errno;
	return 0;
}

/* Inbound calls go to the session manager (numbers bound to inbound IVRs). */
static int incoming_call(struct call *c, const struct call_incoming *in, call_event_h **ehp,
			 void **argp, void *arg)
{
	struct cccd *d = arg;

	return session_mgr_incoming(c, in, ehp, argp, d->sessions);
}

/* Graceful stop (SIGTERM/SIGINT): no new sessions (the API closes), calls in progress get
 * [session] stop_wait to end, then they are hung up and their records written; the store
 * and the push flush as they stop. A second signal stops at once. */
static struct {
	struct cccd *d;
	struct wheel_tmr tmr;
	uint64_t deadline_ms;
	bool stopping, hung_up;
	unsigned stop_wait_s;
} graceful;

static void graceful_poll(void *arg)
{
	struct cccd *d = arg;
	uint64_t now = clock_mono_ms();

	if (!session_mgr_active(d->sessions)) {
		re_cancel();
		return;
	}
	if (now >= graceful.deadline_ms && !graceful.hung_up) {
		log_info("main", "stop: hanging up %zu calls still in progress",
			 session_mgr_active(d->sessions));
		session_mgr_hangup_all(d->sessions);
		graceful.hung_up = true;
		graceful.deadline_ms = now + 5000;
	}
	else if (now >= graceful.deadline_ms) {
		log_warn("main", "stop: %zu sessions did not end in time",
			 session_mgr_active(d->sessions));
		re_cancel();
		return;
	}
	wheel_start(&graceful.tmr, 100, graceful_poll, d);
}

static void signal_handler(int sig)
{
	struct cccd *d = graceful.d;

	if (graceful.stopping || !d) {
		log_info("main", "signal %d: stopping now", sig);
		re_cancel();
		return;
	}
	graceful.stopping = true;
	drain_set(true); /* /readyz fails from now on */
	log_info("main", "signal %d: stopping; %zu calls in progress get %us to end", sig,
		 session_mgr_active(d->sessions), graceful.stop_wait_s);
	d->api = mem_deref(d->api);
	session_mgr_hold_dialling(d->sessions);
	graceful.deadline_ms = clock_mono_ms() + graceful.stop_wait_s * 1000ull;
	graceful_poll(d);
}

/* On an API thread: a session is durable; the control loop takes it from here. */
static void session_created(struct store_session *s, bool record, void *arg)
{
	struct cccd *d = arg;
	int err = session_mgr_enqueue(d->sessions, s, record); /* takes over s */

	if (err) {
		log_error("main", "%s: cannot hand the session over: %s", s->id, strerror(err));
		mem_deref(s);
	}
}

/* On the node's thread: a draining node renews its lease but takes nothing over. */
static bool node_draining(void *arg)
{
	(void)arg;
	return drain_active();
}

/* On the node's thread: a session taken over from a dead node. */
static void node_adopt(struct store_session *s, void *arg)
{
	struct cccd *d = arg;
	int err = session_mgr_resume(d->sessions, s);

	if (err)
		log_error("main", "%s: taken over but not resumed: %s", s->id, strerror(err));
}

/* On an API thread: HangUpCall for a live session. */
static int session_hangup(const char *session_id, uint64_t sdkappid, void *arg)
{
	struct cccd *d = arg;

	return session_mgr_hangup(d->sessions, sdkappid, session_id);
}

/* On an API thread: can some trunk carry this number now? The trunks' health is written
 * by the control loop and read here through atomics (call/call_int.h); a value a moment
 * old only means the loop, which routes the call again, refuses it instead. */
static bool route_ok(const char *callee, void *arg)
{
	struct cccd *d = arg;

	return call_route_ok(d->ua, callee);
}

/* On an API thread: does some trunk for this number take a UUI (its conf, under the
 * route lock like route_ok)? */
static bool uui_ok(const char *callee, void *arg)
{
	struct cccd *d = arg;

	return call_route_uui_ok(d->ua, callee);
}

static unsigned nodes_live(void *arg)
{
	struct cccd *d = arg;

	return cluster_node_live(d->node);
}

/* SIGUSR1 drains the node, SIGUSR2 ends the draining (docs/operations.md): two signals
 * rather than a toggle, so that sending one twice does what it says. Only the atomic is
 * set here (async-signal-safe); the control loop logs the change within a second. */
static void drain_signal(int sig)
{
	drain_set(sig == SIGUSR1);
}

/* On the admin listener's thread, for /readyz: reads atomics only. */
static bool node_ready(char *why, size_t size, void *arg)
{
	struct cccd *d = arg;
	const char *fail = drain_active() ? "draining" :
		!store_usable(d->store) ? "store not writable" :
		!call_ua_bound(d->ua) ? "SIP not bound" :
		!media_ticking(d->media, 1000) ? "media workers not ticking" : NULL;

	if (fail)
		snprintf(why, size, "%s", fail);
	return !fail;
}

/* Once a second on the control loop: what the loop owns, published for scrapes; and a
 * change of the drain switch, logged (a signal may have turned it). */
static void publish_tick(void *arg)
{
	static bool logged_drain;
	struct cccd *d = arg;
	bool drain = drain_active();

	session_mgr_metrics_publish(d->sessions);
	call_ua_metrics_publish(d->ua);
	if (drain != logged_drain && !graceful.stopping)
		log_info("main", "draining %s%s", drain ? "on" : "off",
			 drain ? ": new sessions are refused, calls in progress go on" : "");
	logged_drain = drain;
	wheel_start(&d->publish, 1000, publish_tick, d);
}

static void cccd_stop(struct cccd *d)
{
	wheel_cancel(&d->publish);
	d->admin = mem_deref(d->admin); /* first: its scrapes read the others */
	d->reload = mem_deref(d->reload);
	d->api = mem_deref(d->api);
	cluster_node_halt(d->node); /* no takeover into a manager that is going */
	d->sessions = mem_deref(d->sessions);
	d->node = mem_deref(d->node); /* after the last records: what is left is handed over */
	d->ua = mem_deref(d->ua);
	d->media = mem_deref(d->media);
	d->push = mem_deref(d->push);
	d->cleaner = mem_deref(d->cleaner);
	d->links = mem_deref(d->links);
	d->policy = mem_deref(d->policy);
	d->tenant = mem_deref(d->tenant);
	d->store = mem_deref(d->store);
}

/* On the push thread: recording files in a record, recording or voicemail push become
 * links made now (a link made when the row was queued could have expired). */
static int push_body(const struct store_outbox_row *row, char **outp, void *arg)
{
	struct cccd *d = arg;

	*outp = NULL;
	if (strcmp(row->action, "cdr") && strcmp(row->action, "record") &&
	    strcmp(row->action, "voicemail"))
		return 0;
	return records_links_body(d->links, row->body, clock_unix_s(), outp);
}

/* Recording links: signed with a key derived from the master key, based at [records]
 * public_url or else the API's own address; and the retention sweeper. */
static int records_start(struct cccd *d, const struct cccd_conf *cc)
{
	uint8_t key[TENANT_DERIVED_KEY_LEN];
	char base[RECORDS_URL_BASE_MAX];
	int err;

	if (cc->records.public_url[0])
		snprintf(base, sizeof(base), "%s", cc->records.public_url);
	else if (strchr(cc->api.listen_host, ':'))
		snprintf(base, sizeof(base), "%s://[%s]:%u", http_tls_on(&cc->api.tls) ?
			 "https" : "http", cc->api.listen_host, cc->api.listen_port);
	else
		snprintf(base, sizeof(base), "%s://%s:%u", http_tls_on(&cc->api.tls) ?
			 "https" : "http", cc->api.listen_host, cc->api.listen_port);
	err = tenant_key_derive(d->tenant, "records:links", key);
	err = err ? err : records_links_alloc(&d->links, base, cc->records.link_ttl_s,
					      cc->media.recording_dir, key);
	memset(key, 0, sizeof(key));
	err = err ? err : records_cleaner_alloc(&d->cleaner, d->store, cc->records.sip_trace_days,
						cc->media.recording_dir,
						cc->records.retention_days);
	if (err)
		log_error("main", "cannot set up recordings: %s", strerror(err));
	return err;
}

static int cccd_start(struct cccd *d, const struct cccd_conf *cc)
{
	struct push_conf pc = cc->push;
	int err;

	err = parent_dir_make(cc->store.path);
	if (!err && cc->demo.provision)
		err = parent_dir_make(cc->demo.credentials_file);
	if (err) {
		log_error("main", "cannot create the data directory: %s", strerror(err));
		return err;
	}
	err = store_open(&d->store, &cc->store);
	if (err) {
		log_error("main", "cannot open the database %s: %s", cc->store.path, strerror(err));
		return err;
	}
	err = tenant_open(&d->tenant, d->store, cc->store.master_key_path);
	if (err)
		return err;
	err = demo_provision(d->tenant, &cc->demo);
	if (err)
		return err;
	err = policy_load(d, cc);
	if (err)
		return err;
	err = records_start(d, cc);
	if (err)
		return err;
	pc.body_h = push_body;
	pc.body_arg = d;
	err = push_alloc(&d->push, d->store, d->tenant, &pc);
	if (err) {
		log_error("main", "cannot start data push: %s", strerror(err));
		return err;
	}
	err = media_alloc(&d->media, &cc->media);
	if (err) {
		log_error("main", "cannot start the media engine: %s", strerror(err));
		return err;
	}
	err = call_ua_alloc(&d->ua, &cc->call, d->media, incoming_call, d);
	if (err) {
		log_error("main", "cannot start SIP: %s", strerror(err));
		return err;
	}
	if (cc->records.sip_trace_days)
		call_ua_trace(d->ua, cc->records.sip_trace_bytes, session_sip_trace, d->store);
	err = cluster_node_alloc(&d->node, d->store, &cc->cluster);
	if (err) {
		log_error("main", "cannot write node %s's row: %s", cc->cluster.node_id,
			  strerror(err));
		return err;
	}
	{
		const struct session_deps deps = {d->store, d->ua, d->media};

		err = session_mgr_alloc(&d->sessions, &cc->session, &deps);
	}
	if (err) {
		log_error("main", "cannot start the session manager: %s", strerror(err));
		return err;
	}
	{
		const struct cluster_node_hooks hooks = {node_draining, node_adopt, d};

		err = cluster_node_run(d->node, &hooks);
	}
	if (err) {
		log_error("main", "cannot start the node's heartbeat: %s", strerror(err));
		return err;
	}
	{
		const struct api_hooks hooks = {session_created, session_hangup, route_ok, d,
						d->policy, d->links,
						cc->session.prompt_dir[0] ? cc->session.prompt_dir
									  : NULL,
						cc->session.allow_plain_http, uui_ok, nodes_live};

		err = api_start(&d->api, &cc->api, d->store, d->tenant, &hooks);
	}
	if (err) {
		log_error("main", "cannot start the API: %s", strerror(err));
		return err;
	}
	wheel_tmr_init(&d->publish);
	publish_tick(d);
	err = admin_start(&d->admin, &cc->admin, node_ready, d);
	if (err)
		log_error("main", "cannot start the admin listener: %s", strerror(err));
	return err;
}

/* Two descriptors per call (the whole RTP port range in use) and room for the rest: SIP
 * connections, the API's clients, the store, recordings being written. */
static void fds_budget(const struct cccd_conf *cc)
{
	unsigned need = (unsigned)cc->media.port_max - cc->media.port_min + 1 + 4096, got = 0;
	int err = fds_reserve(need, &got);

	if (err)
		log_warn("main", "cannot raise the descriptor limit to %u: %s", need,
			 strerror(err));
	else if (got < need)
		log_warn("main", "descriptor limit %u (hard limit) is below the %u the RTP port "
			 "range needs: at most about %u concurrent calls", got, need,
			 got > 4096 ? (got - 4096) / 2 : 0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cccd [--config FILE]                 run with this configuration\n"
		"       cccd --check-config [--config FILE]  check it as a start would, and exit\n"
		"       cccd --version | --help\n"
		"\n"
		"cccd is a contact-center call engine: it places the calls its API is asked for\n"
		"(Tencent Cloud Contact Center 2020-02-10), runs IVR flows, records and pushes\n"
		"what happened. FILE defaults to " CCCD_DEFAULT_CONFIG ".\n"
		"\n"
		"--check-config reads every section exactly as a start does, then checks what a\n"
		"start would touch (directories it writes, files it reads, the calling-rule data)\n"
		"without binding a port or writing anything; it prints FILE: ok, or each error as\n"
		"FILE:LINE: reason, and exits 0 or 1.\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop gracefully ([session] stop_wait for calls in\n"
		"progress; a second signal stops at once). SIGHUP rereads FILE and applies what can\n"
		"change safely — [log] level, the [trunk] sections (new calls use the new set;\n"
		"calls in progress keep theirs), [push] — and names in the log each change that\n"
		"needs a restart, which it ignores.\n"
		"\n"
		"Documentation: docs/install.md, docs/configuration.md (" CCCD_DOC_DIR ").\n");
}

static void conf_error_print(const struct conf_err *err, void *arg)
{
	const char *path = arg;

	if (err->line)
		fprintf(stderr, "%s:%u: %s\n", path, err->line, err->msg);
	else
		fprintf(stderr, "%s: %s\n", path, err->msg);
}

static void restart_needed(const char *what, void *arg)
{
	(void)arg;
	log_warn("main", "reload: %s changed: needs a restart (ignored until then)", what);
}

/* On the loop: a reread configuration without errors. What a reload can apply safely is
 * applied; every other change is named and ignored (the running one stays, so the next
 * reload names it again until a restart takes it). */
static void reload_apply(struct cccd_conf *nc, void *arg)
{
	struct cccd *d = arg;
	struct cccd_conf *cc = d->cc;
	char why[200] = "";
	unsigned ignored;
	int err;

	ignored = daemon_conf_restart_changes(cc, nc, restart_needed, NULL);
	if (nc->log_level != cc->log_level) {
		static const char *const names[] = {"debug", "info", "warn", "error"};

		log_set_level(nc->log_level);
		log_warn("main", "reload: [log] level is now %s", names[nc->log_level]);
		cc->log_level = nc->log_level;
	}
	err = call_ua_trunks_reload(d->ua, &nc->call, why, sizeof(why));
	if (err) {
		log_warn("main", "reload: [trunk] sections not applied: %s", why);
		ignored++;
	}
	else {
		memcpy(cc->call.trunks, nc->call.trunks, sizeof(cc->call.trunks));
		cc->call.ntrunks = nc->call.ntrunks;
	}
	if (memcmp(&nc->push, &cc->push, sizeof(nc->push))) {
		struct push_conf pc = nc->push;

		pc.body_h = cc->push.body_h;
		pc.body_arg = cc->push.body_arg;
		err = push_reconf(d->push, &pc);
		if (err == ENOTSUP) {
			log_warn("main", "reload: [push] enabled changed: needs a restart "
				 "(the other [push] keys not applied either)");
			ignored++;
		}
		else if (err) {
			log_warn("main", "reload: [push] not applied: %s", strerror(err));
			ignored++;
		}
		else {
			cc->push = pc;
			log_info("main", "reload: [push] settings handed to the push thread");
		}
	}
	log_info("main", "reload done%s", ignored ? ": some changes need a restart (above)" : "");
	free(nc);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cccd d = {0};
	const char *path = CCCD_DEFAULT_CONFIG;
	bool check = false;
	unsigned nerr;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'k': check = true; break;
		case 'v': printf("cccd %s\n", CCCD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* `cccd --check-config FILE`, the older form, still works. */
	if (check && optind == argc - 1)
		path = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Before any thread starts, so that every thread inherits it: SIGHUP reaches the
	 * loop through its signalfd only (daemon/reload.c). */
	if (!check && daemon_sighup_block()) {
		fprintf(stderr, "cccd: cannot block SIGHUP\n");
		return 1;
	}

	d.cc = calloc(1, sizeof(*d.cc));
	if (!d.cc) {
		fprintf(stderr, "cccd: out of memory\n");
		return 1;
	}
	nerr = daemon_conf_read(path, d.cc, conf_error_print, (void *)path);
	if (check && !nerr)
		nerr = daemon_conf_check(path, d.cc, conf_error_print, (void *)path);
	if (nerr || check) {
		if (!nerr)
			printf("%s: ok\n", path);
		else if (check)
			fprintf(stderr, "%s: %u error%s\n", path, nerr, nerr == 1 ? "" : "s");
		free(d.cc);
		return nerr ? 1 : 0;
	}
	log_set_level(d.cc->log_level);
	log_set_format(d.cc->log_format);
	signal(SIGUSR1, drain_signal);
	signal(SIGUSR2, drain_signal);

	/* Before any thread starts: libcurl's global state (IVR HTTP nodes, pushes). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_error("main", "curl_global_init failed");
		free(d.cc);
		return 1;
	}
	err = libre_init();
	if (err) {
		log_error("main", "libre_init failed: %s", strerror(err));
		free(d.cc);
		return 1;
	}
	fds_budget(d.cc);
	err = wheel_init(NULL);
	if (err)
		log_error("main", "cannot make the timer wheel: %s", strerror(err));
	else
		(void)libre_tmr_init(!d.cc->call.libre_timers_list);
	err = err ? err : cccd_start(&d, d.cc);
	if (!err) {
		err = daemon_reload_alloc(&d.reload, path, reload_apply, &d);
		if (err)
			log_error("main", "cannot listen for SIGHUP: %s", strerror(err));
	}
	if (!err) {
		log_info("main", "cccd %s running", CCCD_VERSION);
		graceful.d = &d;
		graceful.stop_wait_s = d.cc->session.stop_wait_s;
		wheel_tmr_init(&graceful.tmr);
		err = re_main(signal_handler);
		wheel_cancel(&graceful.tmr);
	}
	cccd_stop(&d);
	libre_tmr_close();
	wheel_close();
	libre_close();
	curl_global_cleanup();
	free(d.cc);
	return err ? 1 : 0;
}
