/* provision: create an account with its credential, instance, IVRs and numbers in one
 * transaction, so a failure leaves nothing half made. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "tenant/tenant.h"
#include "tenant/tenant_int.h"

enum { PROVISION_MAX_IVRS = 64 };

int tenant_provision(struct tenant *t, const struct tenant_spec *spec,
		     struct tenant_provisioned *out)
{
	struct store_tenant_ivr ivrs[PROVISION_MAX_IVRS];
	struct store_tenant_new tn = {0};
	int err;

	if (!t || !spec || !out || !spec->sdkappid || spec->n_ivrs > PROVISION_MAX_IVRS)
		return EINVAL;
	memset(out, 0, sizeof(*out));
	err = tenant_credential_make(t, &tn.credential, out->secret_id, out->secret_key);
	if (err)
		return err;

	tn.account_name = spec->account_name ? spec->account_name : "";
	tn.instance.sdkappid = spec->sdkappid;
	snprintf(tn.instance.name, sizeof(tn.instance.name), "%s", tn.account_name);
	tn.instance.edition = (enum store_edition)spec->edition;
	tn.instance.package_expires_at = spec->package_expires_at;
	tn.instance.ai_channels = spec->ai_channels;
	for (size_t i = 0; i < spec->n_ivrs; i++) {
		ivrs[i].ivr_id = spec->ivrs[i].ivr_id;
		ivrs[i].name = spec->ivrs[i].name ? spec->ivrs[i].name : "";
		ivrs[i].type = (enum store_ivr_type)spec->ivrs[i].type;
		ivrs[i].document = spec->ivrs[i].document;
	}
	tn.ivrs = ivrs;
	tn.n_ivrs = spec->n_ivrs;
	tn.numbers = spec->numbers;
	tn.n_numbers = spec->n_numbers;
	tn.rules = spec->rules;

	err = store_tenant_create(tenant_store(t), &tn);
	memset(&tn.credential, 0, sizeof(tn.credential));
	if (err)
		memset(out, 0, sizeof(*out));
	else
		out->account_id = tn.account_id;
	return err;
}
