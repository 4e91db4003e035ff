/* password: console users' passwords as Argon2id hashes (libargon2), run at most
 * CONSOLE_HASH_PARALLEL at once. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <argon2.h>
#include "base/base.h"
#include "console/console.h"

/* OWASP's first choice for Argon2id: m = 19 MiB, t = 2, p = 1. */
enum { T_COST = 2, M_COST_KIB = 19 * 1024, LANES = 1, SALT_LEN = 16, HASH_LEN = 32 };

/* A counting gate for hashes in progress: libargon2 allocates its 19 MiB per call, and
 * every API thread may be signing someone in at once. A mutex and a condition rather than
 * a POSIX semaphore so that the gate needs no start-up: it is process-wide plain data. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static unsigned gate_busy;

static void gate_enter(void)
{
	pthread_mutex_lock(&gate_lock);
	while (gate_busy >= CONSOLE_HASH_PARALLEL)
		pthread_cond_wait(&gate_cond, &gate_lock);
	gate_busy++;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_busy--;
	pthread_cond_signal(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static bool length_ok(const char *pw)
{
	size_t n = pw ? strlen(pw) : 0;

	return n >= CONSOLE_PASSWORD_MIN && n <= CONSOLE_PASSWORD_MAX;
}

int console_password_hash(const char *pw, char *out, size_t sz)
{
	unsigned char salt[SALT_LEN];
	int rc;

	if (!length_ok(pw) || !out || sz < CONSOLE_HASH_MAX)
		return EINVAL;
	if (ids_random(salt, sizeof(salt)))
		return EIO;
	gate_enter();
	rc = argon2id_hash_encoded(T_COST, M_COST_KIB, LANES, pw, strlen(pw), salt,
				   sizeof(salt), HASH_LEN, out, sz);
	gate_leave();
	return rc == ARGON2_OK ? 0 : (rc == ARGON2_MEMORY_ALLOCATION_ERROR ? ENOMEM : EINVAL);
}

/* What a check of a user without a password, or of an unknown user, costs: a hash made
 * once, so that the answer's time does not tell whether the name exists. */
static const char dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$"
				 "Y2NjZC1jb25zb2xlLXNhbHQ$"
				 "0ZJ6p1yJ8m3lq5mU3A7mE3b2S2x7D9sJ3yqE4o5rC1A";

int console_password_check(const char *hash, const char *pw)
{
	bool none = !hash || !*hash;
	size_t n = pw ? strlen(pw) : 0;
	int rc;

	if (n > CONSOLE_PASSWORD_MAX)
		return EACCES;
	gate_enter();
	rc = argon2id_verify(none ? dummy_hash : hash, pw ? pw : "", n);
	gate_leave();
	if (none || rc == ARGON2_VERIFY_MISMATCH)
		return EACCES;
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return ENOMEM;
	return rc == ARGON2_OK ? 0 : EINVAL;
}
