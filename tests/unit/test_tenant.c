/* Unit tests of tenancy: sealed secrets, credential lookup, instance ownership. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "tenant/tenant_int.h"

struct fixture {
	char dir[64];
	char keypath[128];
	struct store_conf conf;
	struct store *st;
	struct tenant *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/cccd-test-tenant-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf.path, sizeof(f->conf.path), "%s/cccd.db", f->dir);
	snprintf(f->keypath, sizeof(f->keypath), "%s/master.key", f->dir);
	assert_int_equal(store_open(&f->st, &f->conf), 0);
	assert_int_equal(tenant_open(&f->t, f->st, f->keypath), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	mem_deref(f->t);
	mem_deref(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static bool file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	static char buf[1 << 20];
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void test_credentials(void **state)
{
	struct fixture *f = *state;
	struct tenant_credential c;
	char id[64], key[128], wal[600];
	struct stat sb;
	uint64_t acct;

	assert_int_equal(stat(f->keypath, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(store_account_create(f->st, "a", &acct), 0);
	assert_int_equal(tenant_credential_create(f->t, acct, id, key), 0);
	assert_int_equal(strlen(id), 36);
	assert_memory_equal(id, "AKID", 4);
	assert_int_equal(strlen(key), 32);

	assert_int_equal(tenant_credential(f->t, id, &c), 0);
	assert_int_equal(c.account_id, acct);
	assert_string_equal(c.secret_key, key);
	/* Cached answer is the same. */
	assert_int_equal(tenant_credential(f->t, id, &c), 0);
	assert_string_equal(c.secret_key, key);
	assert_int_equal(tenant_credential(f->t, "AKIDunknown", &c), ENOENT);

	/* The key is nowhere in clear in the database files. */
	assert_false(file_contains(f->conf.path, key));
	snprintf(wal, sizeof(wal), "%s-wal", f->conf.path);
	if (stat(wal, &sb) == 0)
		assert_false(file_contains(wal, key));
}

static void test_wrong_master_key(void **state)
{
	struct fixture *f = *state;
	struct tenant_credential c;
	struct tenant *t2;
	char id[64], key[128], other[160];
	uint64_t acct;
	FILE *fp;

	assert_int_equal(store_account_create(f->st, "a", &acct), 0);
	assert_int_equal(tenant_credential_create(f->t, acct, id, key), 0);

	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	assert_int_equal(tenant_open(&t2, f->st, other), 0);
	assert_int_equal(tenant_credential(t2, id, &c), EIO);
	mem_deref(t2);

	/* A malformed key file is refused, not replaced. */
	fp = fopen(other, "w");
	fputs("not hex\n", fp);
	fclose(fp);
	assert_int_equal(tenant_open(&t2, f->st, other), EINVAL);
}

static void test_seal_binds_secret_id(void **state)
{
	uint8_t key[TENANT_KEY_LEN] = {1, 2, 3};
	uint8_t sealed[128];
	char plain[64];
	size_t n;

	(void)state;
	assert_int_equal(tenant_seal(key, "AKIDa", "s3cret", sealed, sizeof(sealed), &n), 0);
	assert_int_equal(tenant_open_sealed(key, "AKIDa", sealed, n, plain, sizeof(plain)), 0);
	assert_string_equal(plain, "s3cret");
	assert_int_equal(tenant_open_sealed(key, "AKIDb", sealed, n, plain, sizeof(plain)), EBADMSG);
	sealed[n - 1] ^= 1;
	assert_int_equal(tenant_open_sealed(key, "AKIDa", sealed, n, plain, sizeof(plain)), EBADMSG);
	assert_int_equal(tenant_open_sealed(key, "AKIDa", sealed, 5, plain, sizeof(plain)), EBADMSG);
}

static void test_module_secrets(void **state)
{
	struct fixture *f = *state;
	uint8_t sealed[128];
	char plain[64];
	size_t n;

	assert_int_equal(tenant_secret_seal(f->t, "push:1", "pw", sealed, sizeof(sealed), &n), 0);
	assert_int_equal(n, 2 + 29);
	assert_int_equal(tenant_secret_open(f->t, "push:1", sealed, n, plain, sizeof(plain)), 0);
	assert_string_equal(plain, "pw");
	/* Bound to its context; SecretKey contexts are refused. */
	assert_int_equal(tenant_secret_open(f->t, "push:2", sealed, n, plain, sizeof(plain)),
			 EBADMSG);
	assert_int_equal(tenant_secret_seal(f->t, "AKIDx", "pw", sealed, sizeof(sealed), &n),
			 EINVAL);
	assert_int_equal(tenant_secret_open(f->t, "AKIDx", sealed, n, plain, sizeof(plain)),
			 EINVAL);
	assert_int_equal(tenant_secret_seal(f->t, "push:1", "pw", sealed, 10, &n), ENOSPC);
}

/* Derived keys: stable for one master key and purpose, different otherwise. */
static void test_key_derive(void **state)
{
	struct fixture *f = *state;
	uint8_t a[TENANT_DERIVED_KEY_LEN], b[TENANT_DERIVED_KEY_LEN], c[TENANT_DERIVED_KEY_LEN];
	struct tenant *t2;
	char other[160];

	assert_int_equal(tenant_key_derive(f->t, "records:links", a), 0);
	assert_int_equal(tenant_key_derive(f->t, "records:links", b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(tenant_key_derive(f->t, "other", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(tenant_key_derive(f->t, "", c), EINVAL);
	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	assert_int_equal(tenant_open(&t2, f->st, other), 0);
	assert_int_equal(tenant_key_derive(t2, "records:links", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	mem_deref(t2);
}

static void test_instance_ownership(void **state)
{
	struct fixture *f = *state;
	struct store_instance in = {.sdkappid = 1400000001, .edition = STORE_EDITION_ADVANCED}, got;
	uint64_t a1, a2;

	assert_int_equal(store_account_create(f->st, "a", &a1), 0);
	assert_int_equal(store_account_create(f->st, "b", &a2), 0);
	in.account_id = a1;
	assert_int_equal(store_instance_put(f->st, &in), 0);
	assert_int_equal(tenant_instance(f->t, a1, 1400000001, &got), 0);
	assert_int_equal(got.sdkappid, 1400000001);
	/* Foreign and unknown look the same. */
	assert_int_equal(tenant_instance(f->t, a2, 1400000001, &got), ENOENT);
	assert_int_equal(tenant_instance(f->t, a2, 1400000009, &got), ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master_key, setup, teardown),
		cmocka_unit_test(test_seal_binds_secret_id),
		cmocka_unit_test_setup_teardown(test_module_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_derive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_ownership, setup, teardown),
	};

	log_set_level(LOG_ERROR + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
