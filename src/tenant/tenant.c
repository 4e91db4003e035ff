/* tenant: credential lookup with a short-lived cache, credential creation, instance
 * ownership.
 *
 * Cache: a verified credential is kept for TENANT_CACHE_MS so the API threads do not
 * decrypt on every request; a key disabled in the database (by the admin command, maybe
 * from another process) stops working within that time. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "tenant/tenant_int.h"

enum { TENANT_CACHE_MS = 5000, TENANT_CACHE_MAX = 4096 };

struct cred_entry {
	struct le he;
	char secret_id[64];
	struct tenant_credential cred;
	uint64_t expires_ms;
};

struct tenant {
	struct store *st;          /* not owned */
	uint8_t key[TENANT_KEY_LEN];
	pthread_mutex_t lock;      /* guards cache */
	struct hash *cache;        /* secret_id → cred_entry (owned) */
	uint32_t cached;
};

static void tenant_destructor(void *arg)
{
	struct tenant *t = arg;

	hash_flush(t->cache);
	mem_deref(t->cache);
	memset(t->key, 0, sizeof(t->key));
	pthread_mutex_destroy(&t->lock);
}

static void entry_destructor(void *arg)
{
	struct cred_entry *e = arg;

	hash_unlink(&e->he);
	memset(&e->cred, 0, sizeof(e->cred));
}

int tenant_open(struct tenant **tp, struct store *st, const char *master_key_path)
{
	struct tenant *t;
	int err;

	if (!tp || !st || !master_key_path)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), tenant_destructor);
	if (!t)
		return ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->st = st;
	err = hash_alloc(&t->cache, 256);
	if (!err)
		err = tenant_master_key(master_key_path, t->key);
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}

struct store *tenant_store(const struct tenant *t)
{
	return t ? t->st : NULL;
}

static bool entry_match(struct le *le, void *arg)
{
	return !strcmp(((struct cred_entry *)le->data)->secret_id, arg);
}

int tenant_credential(struct tenant *t, const char *secret_id, struct tenant_credential *out)
{
	struct store_credential sc;
	struct cred_entry *e;
	uint64_t now = clock_mono_ms();
	uint32_t h;
	int err;

	if (!t || !secret_id || !out || strlen(secret_id) >= sizeof(sc.secret_id))
		return EINVAL;
	h = hash_joaat_str(secret_id);

	pthread_mutex_lock(&t->lock);
	e = list_ledata(hash_lookup(t->cache, h, entry_match, (void *)secret_id));
	if (e && e->expires_ms > now) {
		*out = e->cred;
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	if (e) {
		mem_deref(e);
		t->cached--;
	}
	pthread_mutex_unlock(&t->lock);

	err = store_credential_get(t->st, secret_id, &sc);
	if (err)
		return err;
	if (!sc.enabled)
		return EACCES;
	out->account_id = sc.account_id;
	err = tenant_open_sealed(t->key, secret_id, sc.key_enc, sc.key_enc_len,
				 out->secret_key, sizeof(out->secret_key));
	memset(&sc, 0, sizeof(sc));
	if (err) {
		log_error("tenant", "credential %s cannot be decrypted with this master key",
			  secret_id);
		return EIO;
	}

	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return 0; /* the answer is right; it is just not cached */
	strcpy(e->secret_id, secret_id);
	e->cred = *out;
	e->expires_ms = now + TENANT_CACHE_MS;
	pthread_mutex_lock(&t->lock);
	if (t->cached >= TENANT_CACHE_MAX) {
		hash_flush(t->cache);
		t->cached = 0;
	}
	hash_append(t->cache, h, &e->he, e);
	t->cached++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int tenant_credential_make(struct tenant *t, struct store_credential *sc,
			   char secret_id[64], char secret_key[128])
{
	char id_tail[33];
	int err;

	if (!t || !sc || !secret_id || !secret_key)
		return EINVAL;
	err = ids_token(id_tail, sizeof(id_tail));
	err = err ? err : ids_token(secret_key, 33);
	if (err)
		return err;
	snprintf(secret_id, 64, "AKID%s", id_tail);
	memset(sc, 0, sizeof(*sc));
	strcpy(sc->secret_id, secret_id);
	sc->enabled = true;
	return tenant_seal(t->key, secret_id, secret_key, sc->key_enc, sizeof(sc->key_enc),
			   &sc->key_enc_len);
}

int tenant_credential_create(struct tenant *t, uint64_t account_id, char secret_id[64],
			     char secret_key[128])
{
	struct store_credential sc;
	int err = tenant_credential_make(t, &sc, secret_id, secret_key);

	sc.account_id = account_id;
	if (!err)
		err = store_credential_add(t->st, &sc);
	memset(&sc, 0, sizeof(sc));
	return err;
}

int tenant_credential_disable(struct tenant *t, const char *secret_id, uint64_t account_id)
{
	struct cred_entry *e;
	int err;

	if (!t || !secret_id)
		return EINVAL;
	err = store_credential_disable(t->st, secret_id, account_id);
	if (err)
		return err;
	pthread_mutex_lock(&t->lock);
	e = list_ledata(hash_lookup(t->cache, hash_joaat_str(secret_id), entry_match,
				    (void *)secret_id));
	if (e) {
		mem_deref(e);
		t->cached--;
	}
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int tenant_instance(struct tenant *t, uint64_t account_id, uint64_t sdkappid,
		    struct store_instance *out)
{
	int err;

	if (!t || !out)
		return EINVAL;
	err = store_instance_get(t->st, sdkappid, out);
	if (err)
		return err;
	if (out->account_id != account_id) {
		memset(out, 0, sizeof(*out));
		return ENOENT;
	}
	return 0;
}

int tenant_secret_seal(const struct tenant *t, const char *context, const char *plain,
		       uint8_t *out, size_t outsz, size_t *outlen)
{
	if (!t || !context || !plain || !out || !outlen || !strncmp(context, "AKID", 4))
		return EINVAL;
	return tenant_seal(t->key, context, plain, out, outsz, outlen);
}

int tenant_secret_open(const struct tenant *t, const char *context, const uint8_t *in,
		       size_t inlen, char *plain, size_t plainsz)
{
	if (!t || !context || !in || !plain || !strncmp(context, "AKID", 4))
		return EINVAL;
	return tenant_open_sealed(t->key, context, in, inlen, plain, plainsz);
}

int tenant_key_derive(const struct tenant *t, const char *purpose,
		      uint8_t out[TENANT_DERIVED_KEY_LEN])
{
	char label[128];
	unsigned len = 0;
	int n;

	if (!t || !purpose || !*purpose || !out)
		return EINVAL;
	n = snprintf(label, sizeof(label), "cccd-derive:%s", purpose);
	if (n < 0 || (size_t)n >= sizeof(label))
		return EINVAL;
	if (!HMAC(EVP_sha256(), t->key, TENANT_KEY_LEN, (const uint8_t *)label, (size_t)n, out,
		  &len) || len != TENANT_DERIVED_KEY_LEN)
		return EIO;
	return 0;
}
