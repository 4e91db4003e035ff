/* tenant: who may act on what — credentials (SecretId → account, SecretKey) and which
 * instances an account owns.
 *
 * SecretKeys must be usable to verify HMAC signatures, so they cannot be hashed; they are
 * stored encrypted (AES-256-GCM) under a master key kept in a file beside the database
 * (mode 0600), so that a copy of the database alone does not reveal them. Decrypted
 * credentials are cached in memory; all functions are thread-safe (API threads). */
#ifndef CCCD_TENANT_H
#define CCCD_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_instance;
struct tenant;

/* The store the tenant reads (not owned). */
struct store *tenant_store(const struct tenant *t);

/* master_key_path: created with a fresh random key if it does not exist. */
int tenant_open(struct tenant **tp, struct store *st, const char *master_key_path);

struct tenant_credential {
	uint64_t account_id;
	char secret_key[128];
};

/* ENOENT: unknown SecretId; EACCES: known but disabled. */
int tenant_credential(struct tenant *t, const char *secret_id, struct tenant_credential *out);

/* Creates a fresh random credential for the account; the clear key is returned once. */
int tenant_credential_create(struct tenant *t, uint64_t account_id, char secret_id[64],
			     char secret_key[128]);

/* Revokes a credential (store_credential_disable: account_id 0 = any account's) and
 * forgets it here at once; other processes on the same database stop accepting it
 * within their cache time (5 s). ENOENT: no such credential of that account. */
int tenant_credential_disable(struct tenant *t, const char *secret_id, uint64_t account_id);

/* The instance if it exists AND belongs to account_id; ENOENT otherwise (the two cases are
 * not told apart, so instance ids of other tenants cannot be probed). */
int tenant_instance(struct tenant *t, uint64_t account_id, uint64_t sdkappid,
		    struct store_instance *out);

/* Provisioning: one account with a fresh credential, one instance, its IVRs and numbers,
 * as the demo's first start and `ccc admin tenant-add` do. Blocking (store writes). */
struct tenant_ivr_spec {
	uint64_t ivr_id;
	int type;             /* enum store_ivr_type */
	const char *name;
	const char *document; /* flow JSON */
};

struct tenant_spec {
	const char *account_name;
	uint64_t sdkappid;
	int edition;                 /* enum store_edition */
	int64_t package_expires_at;  /* 0 = never */
	uint32_t ai_channels;
	const struct tenant_ivr_spec *ivrs;
	size_t n_ivrs;
	const char *const *numbers;  /* caller numbers, already in 00-form */
	size_t n_numbers;
	const char *rules;           /* callout rules JSON (policy); NULL = the defaults */
};

struct tenant_provisioned {
	uint64_t account_id;
	char secret_id[64];
	char secret_key[128];
};

int tenant_provision(struct tenant *t, const struct tenant_spec *spec,
		     struct tenant_provisioned *out);

/* Other modules' secrets at rest (push passwords, OAuth2 client secrets): sealed with
 * AES-256-GCM under the master key. `context` says where the secret belongs (e.g.
 * "push:1400000000") and is bound as associated data, so sealed bytes copied to another
 * row do not open; it must not start with "AKID" (SecretKeys use their SecretId).
 * Sealed form: 29 bytes more than the secret. ENOSPC if out is too small. */
int tenant_secret_seal(const struct tenant *t, const char *context, const char *plain,
		       uint8_t *out, size_t outsz, size_t *outlen);
/* EBADMSG when the bytes were not sealed with this master key and context. */
int tenant_secret_open(const struct tenant *t, const char *context, const uint8_t *in,
		       size_t inlen, char *plain, size_t plainsz);

/* A key for another purpose (e.g. "records:links", which signs recording links), derived
 * from the master key: HMAC-SHA256(master key, "cccd-derive:" purpose). The same master key
 * always gives the same key, so links stay valid across restarts; a new master key
 * invalidates them. */
enum { TENANT_DERIVED_KEY_LEN = 32 };
int tenant_key_derive(const struct tenant *t, const char *purpose,
		      uint8_t out[TENANT_DERIVED_KEY_LEN]);

#endif
