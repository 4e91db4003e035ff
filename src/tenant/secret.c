/* secret: the master key file and AES-256-GCM sealing of SecretKeys at rest.
 *
 * Sealed form: 0x01 (format) | 12-byte nonce | ciphertext | 16-byte tag, with the SecretId
 * as associated data so that a sealed key copied onto another credential row does not open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "base/base.h"
#include "tenant/tenant_int.h"

enum { SEAL_FORMAT = 1, NONCE_LEN = 12, TAG_LEN = 16 };

static int key_parse(const char *text, size_t len, uint8_t key[TENANT_KEY_LEN])
{
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len != 2 * TENANT_KEY_LEN)
		return EINVAL;
	for (size_t i = 0; i < TENANT_KEY_LEN; i++) {
		unsigned v;

		if (sscanf(text + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", text[2 * i]) ||
		    !strchr("0123456789abcdef", text[2 * i + 1]))
			return EINVAL;
		key[i] = (uint8_t)v;
	}
	return 0;
}

int tenant_master_key(const char *path, uint8_t key[TENANT_KEY_LEN])
{
	char text[2 * TENANT_KEY_LEN + 2];
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* First start: a fresh key, readable by this user only. */
		err = ids_random(key, TENANT_KEY_LEN);
		if (err)
			return err;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = errno;
			log_error("tenant", "cannot create master key file %s: %s", path,
				  strerror(err));
			return err;
		}
		for (size_t i = 0; i < TENANT_KEY_LEN; i++)
			snprintf(text + 2 * i, 3, "%02x", key[i]);
		text[2 * TENANT_KEY_LEN] = '\n';
		if (write(fd, text, 2 * TENANT_KEY_LEN + 1) != 2 * TENANT_KEY_LEN + 1 ||
		    fsync(fd) != 0)
			err = errno ? errno : EIO;
		close(fd);
		if (err)
			log_error("tenant", "cannot write master key file %s", path);
		else
			log_info("tenant", "created master key file %s", path);
		return err;
	}
	if (fd < 0) {
		err = errno;
		log_error("tenant", "cannot open master key file %s: %s", path, strerror(err));
		return err;
	}
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0 || key_parse(text, (size_t)n, key)) {
		log_error("tenant", "master key file %s must hold %d lower-case hex digits",
			  path, 2 * TENANT_KEY_LEN);
		return EINVAL;
	}
	return 0;
}

int tenant_seal(const uint8_t key[TENANT_KEY_LEN], const char *secret_id, const char *plain,
		uint8_t *out, size_t outsz, size_t *outlen)
{
	size_t plen = strlen(plain);
	EVP_CIPHER_CTX *ctx;
	int n, err = EIO;

	if (outsz < 1 + NONCE_LEN + plen + TAG_LEN)
		return ENOSPC;
	out[0] = SEAL_FORMAT;
	if (ids_random(out + 1, NONCE_LEN))
		return EIO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out + 1) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)secret_id, (int)strlen(secret_id)) != 1 ||
	    EVP_EncryptUpdate(ctx, out + 1 + NONCE_LEN, &n, (const uint8_t *)plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + 1 + NONCE_LEN + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + 1 + NONCE_LEN + plen) != 1)
		goto out;
	*outlen = 1 + NONCE_LEN + plen + TAG_LEN;
	err = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int tenant_open_sealed(const uint8_t key[TENANT_KEY_LEN], const char *secret_id,
		       const uint8_t *in, size_t inlen, char *plain, size_t plainsz)
{
	EVP_CIPHER_CTX *ctx;
	size_t clen;
	int n, err = EBADMSG;

	if (inlen < 1 + NONCE_LEN + TAG_LEN || in[0] != SEAL_FORMAT)
		return EBADMSG;
	clen = inlen - 1 - NONCE_LEN - TAG_LEN;
	if (clen + 1 > plainsz)
		return ENOSPC;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ENOMEM;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in + 1) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)secret_id, (int)strlen(secret_id)) != 1 ||
	    EVP_DecryptUpdate(ctx, (uint8_t *)plain, &n, in + 1 + NONCE_LEN, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				(void *)(in + 1 + NONCE_LEN + clen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (uint8_t *)plain + n, &n) != 1)
		goto out;
	plain[clen] = '\0';
	err = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (err)
		memset(plain, 0, plainsz);
	return err;
}
