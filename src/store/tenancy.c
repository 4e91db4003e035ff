/* tenancy rows: accounts, credentials, instances, numbers and IVR flow versions. */
#include <errno.h>
#include <string.h>
#include "base/base.h"
#include "store/store_int.h"

static int step_done(struct store_conn *c, struct db_stmt *s)
{
	int rc = db_step(s);

	if (rc != DB_DONE) {
		log_warn("store", "write failed: %s", db_errmsg(c->db));
		db_reset(s);
		return rc > 0 ? rc : EIO;
	}
	return 0;
}

static int empty_row(struct db_stmt *s, void *emptyp)
{
	*(bool *)emptyp = db_col_int64(s, 0) == 0;
	return 0;
}

int store_is_empty(struct store *st, bool *emptyp)
{
	/* EXISTS is an integer in SQLite, a boolean in PostgreSQL: CASE makes it 0 or 1. */
	return store_read(st, "SELECT CASE WHEN EXISTS (SELECT 1 FROM accounts) THEN 1 ELSE 0 "
			  "END", NULL, NULL, empty_row, emptyp, true);
}

/* ---- accounts and credentials --------------------------------------------------- */

struct account_new {
	const char *name;
	uint64_t id;
};

static int account_insert(struct store_conn *c, void *arg)
{
	struct account_new *a = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO accounts (name, created_at) VALUES (?, ?) "
				       "RETURNING id");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, a->name, -1);
	db_bind_int64(s, 2, clock_unix_s());
	err = store_step_row(s);
	if (!err)
		a->id = (uint64_t)db_col_int64(s, 0);
	else
		log_warn("store", "write failed: %s", db_errmsg(c->db));
	db_reset(s);
	return err == ENOENT ? EIO : err;
}

int store_account_create(struct store *st, const char *name, uint64_t *idp)
{
	struct account_new a = {.name = name};
	int err;

	if (!st || !name || !idp)
		return EINVAL;
	err = store_write(st, account_insert, &a);
	if (!err)
		*idp = a.id;
	return err;
}

struct account_flag {
	uint64_t id;
	bool op;
};

static int operator_update(struct store_conn *c, void *arg)
{
	const struct account_flag *a = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE accounts SET operator = ? WHERE id = ?");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, a->op ? 1 : 0);
	db_bind_int64(s, 2, (int64_t)a->id);
	err = step_done(c, s);
	return !err && db_changes(c->db) == 0 ? ENOENT : err;
}

int store_account_operator_set(struct store *st, uint64_t account_id, bool op)
{
	struct account_flag a = {account_id, op};

	if (!st)
		return EINVAL;
	return store_write(st, operator_update, &a);
}

static void bind_id(struct db_stmt *s, const void *arg)
{
	db_bind_int64(s, 1, (int64_t)*(const uint64_t *)arg);
}

static int flag_row(struct db_stmt *s, void *arg)
{
	*(bool *)arg = db_col_int64(s, 0) != 0;
	return 0;
}

int store_account_is_operator(struct store *st, uint64_t account_id, bool *opp)
{
	if (!st || !opp)
		return EINVAL;
	*opp = false;
	return store_read(st, "SELECT operator FROM accounts WHERE id = ?", bind_id,
			  &account_id, flag_row, opp, true);
}

static int credential_insert(struct store_conn *c, void *arg)
{
	const struct store_credential *cr = arg;
	struct db_stmt *s = store_stmt(c, "INSERT INTO credentials (secret_id, account_id, "
				     "secret_key_enc, enabled, created_at) VALUES (?,?,?,?,?)");

	if (!s)
		return EIO;
	db_bind_text(s, 1, cr->secret_id, -1);
	db_bind_int64(s, 2, (int64_t)cr->account_id);
	db_bind_blob(s, 3, cr->key_enc, cr->key_enc_len);
	db_bind_int64(s, 4, cr->enabled);
	db_bind_int64(s, 5, clock_unix_s());
	return step_done(c, s);
}

int store_credential_add(struct store *st, const struct store_credential *cred)
{
	if (!st || !cred || cred->key_enc_len > sizeof(cred->key_enc))
		return EINVAL;
	return store_write(st, credential_insert, (void *)cred);
}

static void bind_text1(struct db_stmt *s, const void *arg)
{
	db_bind_text(s, 1, arg, -1);
}

static int credential_row(struct db_stmt *s, void *out)
{
	struct store_credential *cr = out;
	size_t n;
	const void *key = db_col_blob(s, 1, &n);

	store_col_text(s, 0, cr->secret_id, sizeof(cr->secret_id));
	if (n > sizeof(cr->key_enc))
		n = 0;
	memcpy(cr->key_enc, key, n);
	cr->key_enc_len = n;
	cr->account_id = (uint64_t)db_col_int64(s, 2);
	cr->enabled = db_col_int64(s, 3) != 0;
	return 0;
}

int store_credential_get(struct store *st, const char *secret_id, struct store_credential *out)
{
	if (!st || !secret_id || !out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	return store_read(st, "SELECT secret_id, secret_key_enc, account_id, enabled "
			"FROM credentials WHERE secret_id = ?",
			bind_text1, secret_id, credential_row, out, true);
}

struct credential_off {
	const char *secret_id;
	uint64_t account_id; /* 0: any */
};

static int credential_disable(struct store_conn *c, void *arg)
{
	const struct credential_off *o = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE credentials SET enabled = 0 WHERE secret_id = ? "
				       "AND (account_id = ? OR ? = 0)");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, o->secret_id, -1);
	db_bind_int64(s, 2, (int64_t)o->account_id);
	db_bind_int64(s, 3, (int64_t)o->account_id);
	err = step_done(c, s);
	return !err && db_changes(c->db) == 0 ? ENOENT : err;
}

int store_credential_disable(struct store *st, const char *secret_id, uint64_t account_id)
{
	struct credential_off o = {secret_id, account_id};

	if (!st || !secret_id)
		return EINVAL;
	return store_write(st, credential_disable, &o);
}

struct credential_walk {
	store_credential_h *h;
	void *arg;
};

static int credential_listed(struct db_stmt *s, void *arg)
{
	struct credential_walk *w = arg;

	return w->h(db_col_text(s, 0), db_col_int64(s, 1) != 0, db_col_int64(s, 2), w->arg);
}

int store_credentials_list(struct store *st, uint64_t account_id, store_credential_h *h,
			   void *arg)
{
	struct credential_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT secret_id, enabled, created_at FROM credentials "
			  "WHERE account_id = ? ORDER BY created_at, secret_id", bind_id,
			  &account_id, credential_listed, &w, false);
}

/* ---- instances -------------------------------------------------------------------- */

static int instance_upsert(struct store_conn *c, void *arg)
{
	const struct store_instance *in = arg;
	struct db_stmt *s = store_stmt(c,
		"INSERT INTO instances (sdkappid, account_id, name, edition, package_expires_at, "
		"ai_channels, created_at, record) VALUES (?,?,?,?,?,?,?,?) "
		"ON CONFLICT (sdkappid) DO UPDATE SET name = excluded.name, "
		"edition = excluded.edition, package_expires_at = excluded.package_expires_at, "
		"ai_channels = excluded.ai_channels, record = excluded.record "
		"WHERE instances.account_id = excluded.account_id");
	int err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)in->sdkappid);
	db_bind_int64(s, 2, (int64_t)in->account_id);
	db_bind_text(s, 3, in->name, -1);
	db_bind_int64(s, 4, (int)in->edition);
	db_bind_int64(s, 5, in->package_expires_at);
	db_bind_int64(s, 6, in->ai_channels);
	db_bind_int64(s, 7, clock_unix_s());
	db_bind_int64(s, 8, in->record_calls ? 1 : 0);
	err = step_done(c, s);
	/* An existing instance of another account is not taken over. */
	if (!err && db_changes(c->db) == 0)
		return EEXIST;
	return err;
}

int store_instance_put(struct store *st, const struct store_instance *inst)
{
	if (!st || !inst || !inst->sdkappid)
		return EINVAL;
	return store_write(st, instance_upsert, (void *)inst);
}

static void bind_u64(struct db_stmt *s, const void *arg)
{
	db_bind_int64(s, 1, (int64_t)*(const uint64_t *)arg);
}

/* One UPDATE of the fields given, so that two changes of different fields never undo
 * each other. */
static int licence_write(struct store_conn *c, void *arg)
{
	const struct store_licence *l = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE instances SET "
				     "edition = coalesce(?, edition), "
				     "package_expires_at = coalesce(?, package_expires_at), "
				     "ai_channels = coalesce(?, ai_channels), "
				     "record = coalesce(?, record), "
				     "retention_days = coalesce(?, retention_days) WHERE sdkappid = ?");
	int err;

	if (!s)
		return EIO;
	/* A field not given stays NULL: coalesce keeps the stored value. */
	if (l->set_edition)
		db_bind_int64(s, 1, (int)l->edition);
	if (l->set_package_expires_at)
		db_bind_int64(s, 2, l->package_expires_at);
	if (l->set_ai_channels)
		db_bind_int64(s, 3, l->ai_channels);
	if (l->set_record_calls)
		db_bind_int64(s, 4, l->record_calls ? 1 : 0);
	if (l->set_retention_days)
		db_bind_int64(s, 5, l->retention_days);
	db_bind_int64(s, 6, (int64_t)l->sdkappid);
	err = step_done(c, s);
	return !err && db_changes(c->db) == 0 ? ENOENT : err;
}

int store_instance_licence(struct store *st, const struct store_licence *l)
{
	if (!st || !l || !l->sdkappid)
		return EINVAL;
	return store_write(st, licence_write, (void *)l);
}

static int instance_row(struct db_stmt *s, void *out)
{
	struct store_instance *in = out;

	in->sdkappid = (uint64_t)db_col_int64(s, 0);
	in->account_id = (uint64_t)db_col_int64(s, 1);
	store_col_text(s, 2, in->name, sizeof(in->name));
	in->edition = (enum store_edition)db_col_int64(s, 3);
	in->package_expires_at = db_col_int64(s, 4);
	in->ai_channels = (uint32_t)db_col_int64(s, 5);
	in->record_calls = db_col_int64(s, 6) != 0;
	in->retention_days = (int32_t)db_col_int64(s, 7);
	return 0;
}

int store_instance_get(struct store *st, uint64_t sdkappid, struct store_instance *out)
{
	if (!st || !out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	return store_read(st, "SELECT sdkappid, account_id, name, edition, package_expires_at, "
			"ai_channels, record, retention_days FROM instances WHERE sdkappid = ?",
			bind_u64, &sdkappid, instance_row, out, true);
}

struct instance_rules {
	uint64_t sdkappid, ivr_id;
	struct store_instance *inst;
	char *rules;
	struct store_ivr *ivr;
};

static void bind_instance_rules(struct db_stmt *s, const void *arg)
{
	const struct instance_rules *ir = arg;

	db_bind_int64(s, 1, (int64_t)ir->ivr_id);
	db_bind_int64(s, 2, (int64_t)ir->sdkappid);
}

static int instance_rules_row(struct db_stmt *s, void *out)
{
	struct instance_rules *ir = out;

	instance_row(s, ir->inst);
	if (!db_col_null(s, 9)) {
		ir->ivr->sdkappid = ir->inst->sdkappid;
		ir->ivr->ivr_id = (uint64_t)db_col_int64(s, 9);
		store_col_text(s, 10, ir->ivr->name, sizeof(ir->ivr->name));
		ir->ivr->type = (enum store_ivr_type)db_col_int64(s, 11);
		ir->ivr->version = (uint32_t)db_col_int64(s, 12);
	}
	ir->rules = store_col_dup(s, 8);
	return ir->rules ? 0 : ENOMEM;
}

int store_instance_get_rules(struct store *st, uint64_t sdkappid, uint64_t ivr_id,
			     struct store_instance *out, char **rulesp, struct store_ivr *ivr)
{
	struct instance_rules ir = {sdkappid, ivr_id, out, NULL, ivr};
	int err;

	if (!st || !out || !rulesp || !ivr)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	memset(ivr, 0, sizeof(*ivr));
	err = store_read(st, "SELECT i.sdkappid, i.account_id, i.name, i.edition, "
			 "i.package_expires_at, i.ai_channels, i.record, i.retention_days, "
			 "i.rules, v.ivr_id, v.name, v.type, v.version FROM instances i "
			 "LEFT JOIN ivrs v ON v.sdkappid = i.sdkappid AND v.ivr_id = ? "
			 "WHERE i.sdkappid = ?", bind_instance_rules, &ir, instance_rules_row,
			 &ir, true);
	if (err)
		mem_deref(ir.rules);
	else
		*rulesp = ir.rules;
	return err;
}

/* A text column as a new mem string. */
static int document_row(struct db_stmt *s, void *out)
{
	*(char **)out = store_col_dup(s, 0);
	return 0;
}

struct rules_put {
	uint64_t sdkappid;
	const char *rules;
};

static int rules_write(struct store_conn *c, void *arg)
{
	const struct rules_put *r = arg;
	struct db_stmt *s = store_stmt(c, "UPDATE instances SET rules = ? WHERE sdkappid = ?");
	int err;

	if (!s)
		return EIO;
	db_bind_text(s, 1, r->rules, -1);
	db_bind_int64(s, 2, (int64_t)r->sdkappid);
	err = step_done(c, s);
	return !err && db_changes(c->db) == 0 ? ENOENT : err;
}

int store_instance_rules_put(struct store *st, uint64_t sdkappid, const char *rules)
{
	struct rules_put r = {sdkappid, rules};

	if (!st || !rules)
		return EINVAL;
	return store_write(st, rules_write, &r);
}

struct rules_edit {
	uint64_t sdkappid;
	store_rules_edit_h *h;
	void *arg;
};

static int rules_edit_write(struct store_conn *c, void *arg)
{
	struct rules_edit *r = arg;
	struct db_stmt *s = store_stmt(c, "SELECT rules FROM instances WHERE sdkappid = ?");
	char *old = NULL, *new = NULL;
	int rc, err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)r->sdkappid);
	rc = db_step(s);
	if (rc == DB_ROW)
		old = store_col_dup(s, 0);
	db_reset(s);
	if (rc == DB_DONE)
		return ENOENT;
	if (rc != DB_ROW)
		return rc;
	if (!old)
		return ENOMEM;
	err = r->h(old, &new, r->arg);
	mem_deref(old);
	if (!err && new) {
		struct rules_put p = {r->sdkappid, new};

		err = rules_write(c, &p);
	}
	mem_deref(new);
	return err;
}

int store_instance_rules_edit(struct store *st, uint64_t sdkappid, store_rules_edit_h *h,
			      void *arg)
{
	struct rules_edit r = {sdkappid, h, arg};

	if (!st || !h)
		return EINVAL;
	return store_write(st, rules_edit_write, &r);
}

int store_instance_rules_get(struct store *st, uint64_t sdkappid, char **rulesp)
{
	char *rules = NULL;
	int err;

	if (!st || !rulesp)
		return EINVAL;
	err = store_read(st, "SELECT rules FROM instances WHERE sdkappid = ?", bind_u64, &sdkappid,
		       document_row, &rules, true);
	if (!err && !rules)
		err = ENOMEM;
	if (!err)
		*rulesp = rules;
	return err;
}

/* ---- numbers -------------------------------------------------------------------- */

static int number_upsert(struct store_conn *c, void *arg)
{
	const struct store_number *n = arg;
	struct db_stmt *s = store_stmt(c,
		"INSERT INTO numbers (sdkappid, number, state, outbound, inbound_ivr, class) "
		"VALUES (?,?,?,?,?,?) ON CONFLICT (sdkappid, number) DO UPDATE SET "
		"state = excluded.state, outbound = excluded.outbound, "
		"inbound_ivr = excluded.inbound_ivr, class = excluded.class");

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)n->sdkappid);
	db_bind_text(s, 2, n->number, -1);
	db_bind_int64(s, 3, n->state);
	db_bind_int64(s, 4, n->outbound);
	db_bind_int64(s, 5, (int64_t)n->inbound_ivr);
	db_bind_int64(s, 6, n->number_class);
	return step_done(c, s);
}

int store_number_put(struct store *st, const struct store_number *num)
{
	if (!st || !num || !num->number[0])
		return EINVAL;
	return store_write(st, number_upsert, (void *)num);
}

struct number_key {
	uint64_t sdkappid;
	const char *number;
};

static void bind_number_key(struct db_stmt *s, const void *arg)
{
	const struct number_key *k = arg;

	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_text(s, 2, k->number, -1);
}

static int number_row(struct db_stmt *s, void *out)
{
	struct store_number *n = out;

	n->sdkappid = (uint64_t)db_col_int64(s, 0);
	store_col_text(s, 1, n->number, sizeof(n->number));
	n->state = (int)db_col_int64(s, 2);
	n->outbound = db_col_int64(s, 3) != 0;
	n->inbound_ivr = (uint64_t)db_col_int64(s, 4);
	n->number_class = (int)db_col_int64(s, 5);
	return 0;
}

int store_number_get(struct store *st, uint64_t sdkappid, const char *number,
		     struct store_number *out)
{
	struct number_key k = {sdkappid, number};

	if (!st || !number || !out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	return store_read(st, "SELECT sdkappid, number, state, outbound, inbound_ivr, class FROM numbers "
			"WHERE sdkappid = ? AND number = ?",
			bind_number_key, &k, number_row, out, true);
}

struct numbers_walk {
	store_number_h *h;
	void *arg;
};

static int numbers_walk_row(struct db_stmt *s, void *arg)
{
	struct numbers_walk *w = arg;
	struct store_number n;

	number_row(s, &n);
	return w->h(&n, w->arg);
}

/* Walks the numbers a query selects (binding sdkappid when bind is given). */
static int numbers_walk(struct store *st, const char *sql, store_bind_h *bind,
			uint64_t sdkappid, store_number_h *h, void *arg)
{
	struct numbers_walk w = {h, arg};

	return store_read(st, sql, bind, &sdkappid, numbers_walk_row, &w, false);
}

int store_numbers_inbound(struct store *st, store_number_h *h, void *arg)
{
	return numbers_walk(st, "SELECT sdkappid, number, state, outbound, inbound_ivr, class "
			    "FROM numbers WHERE state = 1 AND inbound_ivr <> 0", NULL, 0, h, arg);
}

int store_numbers_list(struct store *st, uint64_t sdkappid, store_number_h *h, void *arg)
{
	return numbers_walk(st, "SELECT sdkappid, number, state, outbound, inbound_ivr, class "
			    "FROM numbers WHERE sdkappid = ? ORDER BY number", bind_u64, sdkappid,
			    h, arg);
}

int store_numbers_outbound(struct store *st, uint64_t sdkappid, store_number_h *h, void *arg)
{
	return numbers_walk(st, "SELECT sdkappid, number, state, outbound, inbound_ivr, class "
			    "FROM numbers WHERE sdkappid = ? AND state = 1 AND outbound = 1 "
			    "ORDER BY last_used_ms, number", bind_u64, sdkappid, h, arg);
}

/* ---- a whole tenant ------------------------------------------------------------------ */

static int ivr_insert(struct store_conn *c, void *arg);
struct ivr_new {
	uint64_t sdkappid, ivr_id;
	const char *name;
	enum store_ivr_type type;
	const char *document;
	uint32_t version;
};

static int tenant_insert(struct store_conn *c, void *arg)
{
	struct store_tenant_new *tn = arg;
	struct account_new a = {.name = tn->account_name ? tn->account_name : ""};
	int err = account_insert(c, &a);

	if (err)
		return err;
	tn->account_id = a.id;
	tn->credential.account_id = a.id;
	tn->instance.account_id = a.id;
	err = credential_insert(c, &tn->credential);
	err = err ? err : instance_upsert(c, &tn->instance);
	if (!err && tn->rules && tn->rules[0]) {
		struct rules_put r = {tn->instance.sdkappid, tn->rules};

		err = rules_write(c, &r);
	}
	for (size_t i = 0; !err && i < tn->n_ivrs; i++) {
		const struct store_tenant_ivr *t = &tn->ivrs[i];
		struct ivr_new iv = {tn->instance.sdkappid, t->ivr_id, t->name, t->type,
				     t->document, 0};

		if (t->type < STORE_IVR_INBOUND || t->type > STORE_IVR_SURVEY || !t->document)
			return EINVAL;
		err = ivr_insert(c, &iv);
	}
	for (size_t i = 0; !err && i < tn->n_numbers; i++) {
		struct store_number n = {.sdkappid = tn->instance.sdkappid, .state = 1,
					 .outbound = true};

		if (strlen(tn->numbers[i]) >= sizeof(n.number))
			return EINVAL;
		strcpy(n.number, tn->numbers[i]);
		err = number_upsert(c, &n);
	}
	return err;
}

int store_tenant_create(struct store *st, struct store_tenant_new *tn)
{
	if (!st || !tn || !tn->instance.sdkappid)
		return EINVAL;
	return store_write(st, tenant_insert, tn);
}

/* ---- IVRs ------------------------------------------------------------------------- */

static int ivr_insert(struct store_conn *c, void *arg)
{
	struct ivr_new *iv = arg;
	struct db_stmt *s = store_stmt(c, "SELECT version FROM ivrs WHERE sdkappid = ? AND ivr_id = ?");
	int rc, err;

	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)iv->sdkappid);
	db_bind_int64(s, 2, (int64_t)iv->ivr_id);
	rc = db_step(s);
	iv->version = rc == DB_ROW ? (uint32_t)db_col_int64(s, 0) + 1 : 1;
	db_reset(s);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;

	s = store_stmt(c, "INSERT INTO ivr_versions (sdkappid, ivr_id, version, type, document, "
		       "created_at) VALUES (?,?,?,?,?,?)");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)iv->sdkappid);
	db_bind_int64(s, 2, (int64_t)iv->ivr_id);
	db_bind_int64(s, 3, iv->version);
	db_bind_int64(s, 4, (int)iv->type);
	db_bind_text(s, 5, iv->document, -1);
	db_bind_int64(s, 6, clock_unix_s());
	err = step_done(c, s);
	if (err)
		return err;

	s = store_stmt(c, "INSERT INTO ivrs (sdkappid, ivr_id, name, type, version) "
		       "VALUES (?,?,?,?,?) ON CONFLICT (sdkappid, ivr_id) DO UPDATE SET "
		       "name = excluded.name, type = excluded.type, version = excluded.version");
	if (!s)
		return EIO;
	db_bind_int64(s, 1, (int64_t)iv->sdkappid);
	db_bind_int64(s, 2, (int64_t)iv->ivr_id);
	db_bind_text(s, 3, iv->name ? iv->name : "", -1);
	db_bind_int64(s, 4, (int)iv->type);
	db_bind_int64(s, 5, iv->version);
	return step_done(c, s);
}

int store_ivr_put(struct store *st, uint64_t sdkappid, uint64_t ivr_id, const char *name,
		  enum store_ivr_type type, const char *document, uint32_t *versionp)
{
	struct ivr_new iv = {sdkappid, ivr_id, name, type, document, 0};
	int err;

	if (!st || !document || type < STORE_IVR_INBOUND || type > STORE_IVR_SURVEY)
		return EINVAL;
	err = store_write(st, ivr_insert, &iv);
	if (!err && versionp)
		*versionp = iv.version;
	return err;
}

struct ivr_key {
	uint64_t sdkappid, ivr_id;
	uint32_t version;
};

static void bind_ivr_key(struct db_stmt *s, const void *arg)
{
	const struct ivr_key *k = arg;

	db_bind_int64(s, 1, (int64_t)k->sdkappid);
	db_bind_int64(s, 2, (int64_t)k->ivr_id);
	if (k->version)
		db_bind_int64(s, 3, k->version);
}

static int ivr_row(struct db_stmt *s, void *out)
{
	struct store_ivr *iv = out;

	iv->sdkappid = (uint64_t)db_col_int64(s, 0);
	iv->ivr_id = (uint64_t)db_col_int64(s, 1);
	store_col_text(s, 2, iv->name, sizeof(iv->name));
	iv->type = (enum store_ivr_type)db_col_int64(s, 3);
	iv->version = (uint32_t)db_col_int64(s, 4);
	return 0;
}

int store_ivr_get(struct store *st, uint64_t sdkappid, uint64_t ivr_id, struct store_ivr *out)
{
	struct ivr_key k = {sdkappid, ivr_id, 0};

	if (!st || !out)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	return store_read(st, "SELECT sdkappid, ivr_id, name, type, version FROM ivrs "
			"WHERE sdkappid = ? AND ivr_id = ?", bind_ivr_key, &k, ivr_row, out, true);
}

struct ivr_walk {
	store_ivr_h *h;
	void *arg;
};

static int ivr_walk_row(struct db_stmt *s, void *arg)
{
	struct ivr_walk *w = arg;
	struct store_ivr iv;

	ivr_row(s, &iv);
	return w->h(&iv, w->arg);
}

int store_ivrs_list(struct store *st, uint64_t sdkappid, store_ivr_h *h, void *arg)
{
	struct ivr_walk w = {h, arg};

	if (!st || !h)
		return EINVAL;
	return store_read(st, "SELECT sdkappid, ivr_id, name, type, version FROM ivrs "
			  "WHERE sdkappid = ? ORDER BY ivr_id", bind_id, &sdkappid, ivr_walk_row,
			  &w, false);
}

int store_ivr_document(struct store *st, uint64_t sdkappid, uint64_t ivr_id, uint32_t version,
		       char **docp)
{
	struct ivr_key k = {sdkappid, ivr_id, version};
	char *doc = NULL;
	int err;

	if (!st || !docp || !version)
		return EINVAL;
	err = store_read(st, "SELECT document FROM ivr_versions "
		       "WHERE sdkappid = ? AND ivr_id = ? AND version = ?",
		       bind_ivr_key, &k, document_row, &doc, true);
	if (!err && !doc)
		err = ENOMEM;
	if (!err)
		*docp = doc;
	return err;
}
