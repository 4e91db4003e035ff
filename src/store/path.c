/* path rows: the IVR path a session took, read back (CccdDescribeSessionPath). */
#include <errno.h>
#include <string.h>
#include "store/store_int.h"

struct path_key {
	uint64_t sdkappid;
	const char *id;
};

static void bind_path_key(struct db_stmt *s, const void *arg)
{
	const struct path_key *k = arg;

	db_bind_text(s, 1, k->id, -1);
	db_bind_int64(s, 2, (int64_t)k->sdkappid);
}

struct path_session {
	uint64_t ivr_id;
	uint32_t version;
};

static int path_session_row(struct db_stmt *s, void *arg)
{
	struct path_session *ps = arg;

	ps->ivr_id = (uint64_t)db_col_int64(s, 0);
	ps->version = (uint32_t)db_col_int64(s, 1);
	return 0;
}

struct path_walk {
	store_path_h *h;
	void *arg;
};

static int path_row(struct db_stmt *s, void *arg)
{
	struct path_walk *w = arg;
	struct store_path_step p;

	memset(&p, 0, sizeof(p));
	p.seq = (unsigned)db_col_int64(s, 0);
	store_col_text(s, 1, p.node, sizeof(p.node));
	store_col_text(s, 2, p.label, sizeof(p.label));
	store_col_text(s, 3, p.result, sizeof(p.result));
	p.ts_ms = db_col_int64(s, 4);
	return w->h(&p, w->arg);
}

/* The session is read first, by id and instance, so that another instance's session id
 * gives ENOENT and not its path. */
int store_session_path_list(struct store *st, uint64_t sdkappid, const char *session_id,
			    uint64_t *ivr_idp, uint32_t *versionp, store_path_h *h, void *arg)
{
	struct path_key k = {sdkappid, session_id};
	struct path_session ps = {0};
	struct path_walk w = {h, arg};
	int err;

	if (!st || !session_id || !h)
		return EINVAL;
	err = store_read(st, "SELECT ivr_id, ivr_version FROM sessions WHERE id = ? AND "
			 "sdkappid = ?", bind_path_key, &k, path_session_row, &ps, true);
	if (err)
		return err;
	*ivr_idp = ps.ivr_id;
	*versionp = ps.version;
	err = store_read(st, "SELECT p.seq, p.node, p.label, p.result, p.ts_ms FROM "
			 "session_path p JOIN sessions s ON s.id = p.session_id WHERE "
			 "p.session_id = ? AND s.sdkappid = ? ORDER BY p.seq", bind_path_key, &k,
			 path_row, &w, false);
	return err == ENOENT ? 0 : err;
}
