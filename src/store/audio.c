/* audio rows: the prompts an instance uploaded (UploadIvrAudio), by id and alias. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

static int audio_insert(struct store_conn *c, void *arg)
{
	struct store_audio *a = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO ivr_audio (sdkappid, custom_name, "
				       "file_name, status, path, sha256, created_at) VALUES "
				       "(?,?,?,?,?,?,?) RETURNING file_id");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)a->sdkappid);
	db_bind_text(s, 2, a->custom_name, -1);
	db_bind_text(s, 3, a->file_name, -1);
	db_bind_int64(s, 4, a->status);
	db_bind_text(s, 5, a->path, -1);
	db_bind_text(s, 6, a->sha256, -1);
	db_bind_int64(s, 7, a->created_at);
	err = store_step_row(s);
	if (!err)
		a->file_id = (uint64_t)db_col_int64(s, 0);
	db_reset(s);
	return err == ENOENT ? EIO : err;
}

int store_audio_add(struct store *st, struct store_audio *a)
{
	if (!st || !a)
		return EINVAL;
	return store_write(st, audio_insert, a);
}

struct audio_key {
	uint64_t sdkappid;
	int64_t n;
};

static void bind_key(struct db_stmt *s, const void *arg)
{
	const struct audio_key *k = arg;

	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_int64(s, 2, k->n);
}

static int count_row(struct db_stmt *s, void *arg)
{
	*(uint64_t *)arg = (uint64_t)db_col_int64(s, 0);
	return 0;
}

int store_audio_count_since(struct store *st, uint64_t sdkappid, int64_t since, uint64_t *np)
{
	struct audio_key k = {sdkappid, since};

	if (!st || !np)
		return EINVAL;
	*np = 0;
	return store_read(st, "SELECT count(*) FROM ivr_audio WHERE sdkappid = ? AND "
			  "created_at >= ?", bind_key, &k, count_row, np, true);
}

#define AUDIO_COLUMNS "file_id, sdkappid, custom_name, file_name, status, path, sha256, " \
	"created_at"

static void audio_row(struct db_stmt *s, struct store_audio *a)
{
	memset(a, 0, sizeof(*a));
	a->file_id = (uint64_t)db_col_int64(s, 0);
	a->sdkappid = (uint64_t)db_col_int64(s, 1);
	store_col_text(s, 2, a->custom_name, sizeof(a->custom_name));
	store_col_text(s, 3, a->file_name, sizeof(a->file_name));
	a->status = (int)db_col_int64(s, 4);
	store_col_text(s, 5, a->path, sizeof(a->path));
	store_col_text(s, 6, a->sha256, sizeof(a->sha256));
	a->created_at = db_col_int64(s, 7);
}

struct audio_walk {
	store_audio_h *h;
	void *arg;
};

static int walk_row(struct db_stmt *s, void *arg)
{
	struct audio_walk *w = arg;
	struct store_audio a;

	audio_row(s, &a);
	return w->h(&a, w->arg);
}

static void bind_sdkappid(struct db_stmt *s, const void *arg)
{
	db_bind_int64(s, 1, (int64_t)*(const uint64_t *)arg);
}

int store_audio_list(struct store *st, uint64_t sdkappid, store_audio_h *h, void *arg)
{
	struct audio_walk w = {h, arg};
	int err;

	if (!st || !h)
		return EINVAL;
	err = store_read(st, "SELECT " AUDIO_COLUMNS " FROM ivr_audio WHERE sdkappid = ? "
			 "ORDER BY file_id", bind_sdkappid, &sdkappid, walk_row, &w, false);
	return err == ENOENT ? 0 : err;
}

static int one_row(struct db_stmt *s, void *arg)
{
	audio_row(s, arg);
	return 0;
}

int store_audio_get(struct store *st, uint64_t sdkappid, uint64_t file_id,
		    struct store_audio *a)
{
	struct audio_key k = {sdkappid, (int64_t)file_id};

	if (!st || !a)
		return EINVAL;
	return store_read(st, "SELECT " AUDIO_COLUMNS " FROM ivr_audio WHERE sdkappid = ? AND "
			  "file_id = ?", bind_key, &k, one_row, a, true);
}

static int audio_remove(struct store_conn *c, void *arg)
{
	const struct audio_key *k = arg;
	struct db_stmt *s = store_stmt(c, "DELETE FROM ivr_audio WHERE sdkappid = ? AND "
				       "file_id = ?");
	int rc;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_int64(s, 2, k->n);
	rc = db_step(s);
	db_reset(s);
	if (rc != DB_DONE)
		return rc > 0 ? rc : EIO;
	return db_changes(c->db) ? 0 : ENOENT;
}

int store_audio_delete(struct store *st, uint64_t sdkappid, uint64_t file_id)
{
	struct audio_key k = {sdkappid, (int64_t)file_id};

	if (!st)
		return EINVAL;
	return store_write(st, audio_remove, &k);
}

struct audio_name {
	uint64_t sdkappid;
	const char *name;
};

static void bind_name(struct db_stmt *s, const void *arg)
{
	const struct audio_name *k = arg;

	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_text(s, 2, k->name, -1);
}

int store_audio_find(struct store *st, uint64_t sdkappid, uint64_t file_id,
		     const char *custom_name, struct store_audio *a)
{
	struct audio_name k = {sdkappid, custom_name};

	if (!st || !a || (!file_id && !custom_name))
		return EINVAL;
	if (file_id)
		return store_audio_get(st, sdkappid, file_id, a);
	return store_read(st, "SELECT " AUDIO_COLUMNS " FROM ivr_audio WHERE sdkappid = ? AND "
			  "custom_name = ? ORDER BY file_id DESC LIMIT 1", bind_name, &k,
			  one_row, a, true);
}
