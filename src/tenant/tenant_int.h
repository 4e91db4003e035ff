/* tenant internals: the master key and sealing of secrets. */
#ifndef CCCD_TENANT_INT_H
#define CCCD_TENANT_INT_H

#include <stddef.h>
#include <stdint.h>

enum { TENANT_KEY_LEN = 32 };

/* Reads the master key file, creating it (mode 0600, fresh random key) if absent. */
int tenant_master_key(const char *path, uint8_t key[TENANT_KEY_LEN]);
int tenant_seal(const uint8_t key[TENANT_KEY_LEN], const char *secret_id, const char *plain,
		uint8_t *out, size_t outsz, size_t *outlen);
/* EBADMSG when the sealed bytes were not made with this key and secret id. */
int tenant_open_sealed(const uint8_t key[TENANT_KEY_LEN], const char *secret_id,
		       const uint8_t *in, size_t inlen, char *plain, size_t plainsz);

struct store_credential;
struct tenant;

/* A fresh random credential, sealed into sc (not stored). */
int tenant_credential_make(struct tenant *t, struct store_credential *sc,
			   char secret_id[64], char secret_key[128]);

#endif
