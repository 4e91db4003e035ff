/* daemon: cccd's whole configuration (every module's section, read as a start reads it),
 * its check (cccd --check-config), and its reload on SIGHUP.
 *
 * Threads: daemon_conf_read and daemon_conf_check block (they read files) and run on the
 * main thread before the loop or on a reload's own thread; daemon_reload_alloc and
 * everything it calls back run on the control loop. */
#ifndef CCCD_DAEMON_H
#define CCCD_DAEMON_H

#include <stdbool.h>
#include "admin/admin.h"
#include "api/api.h"
#include "base/base.h"
#include "call/call.h"
#include "cluster/cluster.h"
#include "conf/conf.h"
#include "demo/demo.h"
#include "media/media.h"
#include "push/push.h"
#include "records/records.h"
#include "session/session.h"
#include "store/store.h"

/* Everything the config file says. Plain data: a reload's copy is handed from its thread
 * to the loop whole. Allocate it zeroed (two copies are compared byte for byte). */
struct cccd_conf {
	enum log_level log_level;
	struct cluster_conf cluster;
	enum log_format log_format;
	struct admin_conf admin;
	struct store_conf store;
	struct demo_conf demo;
	struct media_conf media;
	struct call_conf call;
	struct session_conf session;
	struct push_conf push;
	struct api_conf api;
	struct records_conf records;
	char policy_locations[512];    /* [policy] locations */
	char policy_blacklist[512];    /* [policy] blacklist */
	uint32_t tenant_channels_max;  /* [policy] operator caps on every tenant (0 = none) */
	uint32_t tenant_minutes_daily_max;
};

/* Reads the file into cc (zeroed by the caller). Each error goes to h (with its line, 0 for
 * the file as a whole) and reading goes on with the next module's sections, so one pass
 * names every section with a bad value and every unknown key. Returns the number of
 * errors (0: cc is complete). Blocking. */
unsigned daemon_conf_read(const char *path, struct cccd_conf *cc, conf_err_h *h, void *arg);

/* What a start would find wrong beyond the file's syntax, without binding a port or
 * writing anything: the calling-rule data files parse, the directories cccd writes to
 * exist and are writable by this user (or can be made), the files it reads can be read.
 * Each finding to h, with the line of its key in `path`; returns how many. Blocking. */
unsigned daemon_conf_check(const char *path, const struct cccd_conf *cc, conf_err_h *h,
			   void *arg);

/* A reload compares the new file with the running one: for each setting that differs and
 * that a reload does not apply, h is called with what changed ("[sip] listen") — it needs a
 * restart. The settings a reload applies (log level, trunks, [push]) are not reported. */
typedef void (daemon_change_h)(const char *what, void *arg);
unsigned daemon_conf_restart_changes(const struct cccd_conf *old, const struct cccd_conf *nw,
				     daemon_change_h *h, void *arg);

/* ---- SIGHUP ------------------------------------------------------------------------ */

struct daemon_reload;

/* On the loop: a new configuration read without error (owned by the handler: free()),
 * to apply. */
typedef void (daemon_reload_h)(struct cccd_conf *cc, void *arg);

/* Blocks SIGHUP in the calling thread and every thread it starts later: call first
 * thing in main, before any thread exists. */
int daemon_sighup_block(void);
/* On the loop: SIGHUP (through a signalfd) rereads `path` on a thread of its own, then
 * calls h on the loop with the result; a file with errors is logged, error by error, and
 * changes nothing. A SIGHUP during a reread starts one more when it ends. mem_deref
 * stops listening (a reread in flight finishes and is dropped). */
int daemon_reload_alloc(struct daemon_reload **rp, const char *path, daemon_reload_h *h,
			void *arg);

#endif
