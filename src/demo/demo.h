/* demo: first-start provisioning of the demo tenant, so a newcomer can call at once. */
#ifndef CCCD_DEMO_H
#define CCCD_DEMO_H

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct conf_err;
struct tenant;

struct demo_conf {
	bool provision;              /* [demo] provision = yes */
	uint64_t sdkappid;           /* 1400000000 */
	uint64_t ivr_id;             /* 4500 */
	char ivr_file[512];          /* demo/flows/4500.json */
	char caller[33];             /* the instance's caller number */
	char credentials_file[512];  /* var/demo-credentials.env */
	char endpoint[80];           /* written as CCC_ENDPOINT */
	char push_url[256];          /* where the demo instance pushes ("" = no push) */
};

int demo_conf_read(const struct conf *cf, struct demo_conf *dc, struct conf_err *err);

/* On an empty database: creates the demo account, instance, IVR and number with a fresh
 * random credential, prints it and writes the credentials file. Does nothing when the
 * database already has an account. Blocking (disk). */
int demo_provision(struct tenant *t, const struct demo_conf *dc);

#endif
