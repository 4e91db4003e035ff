/* provision: create an account, its credential, instance, IVRs and numbers in one go. */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "base/base.h"
#include "store/store.h"
#include "tenant/tenant.h"

int tenant_provision(struct tenant *t, const struct tenant_spec *spec,
		     struct tenant_provisioned *out)
{
	struct store_instance in = {0};
	struct store *st;
	int err;

	if (!t || !spec || !out || !spec->sdkappid)
		return EINVAL;
	st = tenant_store(t);
	memset(out, 0, sizeof(*out));

	err = store_account_create(st, spec->account_name ? spec->account_name : "", &out->account_id);
	if (err)
		return err;
	in.sdkappid = spec->sdkappid;
	in.account_id = out->account_id;
	snprintf(in.name, sizeof(in.name), "%s", spec->account_name ? spec->account_name : "");
	in.edition = (enum store_edition)spec->edition;
	in.package_expires_at = spec->package_expires_at;
	in.ai_channels = spec->ai_channels;
	err = store_instance_put(st, &in);
	if (err)
		return err;

	for (size_t i = 0; i < spec->n_ivrs; i++) {
		const struct tenant_ivr_spec *iv = &spec->ivrs[i];

		err = store_ivr_put(st, spec->sdkappid, iv->ivr_id, iv->name ? iv->name : "",
				    (enum store_ivr_type)iv->type, iv->document, NULL);
		if (err)
			return err;
	}
	for (size_t i = 0; i < spec->n_numbers; i++) {
		struct store_number n = {.sdkappid = spec->sdkappid, .state = 1, .outbound = true};

		if (strlen(spec->numbers[i]) >= sizeof(n.number))
			return EINVAL;
		strcpy(n.number, spec->numbers[i]);
		err = store_number_put(st, &n);
		if (err)
			return err;
	}
	return tenant_credential_create(t, out->account_id, out->secret_id, out->secret_key);
}
