/* CccdDrainNode: an operator drains this cccd node, or ends its draining (docs/admin-api.md,
 * docs/operations.md). Draining: new sessions are refused — CreateIVRSession answers
 * ResourceUnavailable, inbound INVITEs 503 with Retry-After — and /readyz fails, so a load
 * balancer stops sending work here; calls in progress go on to their end. The same switch
 * as SIGUSR1 / SIGUSR2. Node-wide, so only an operator credential may turn it. */
#include "api/api_int.h"
#include "base/base.h"

static const struct api_field fields[] = {
	{"Drain", API_T_BOOL, false, true, 0, 0, 0, NULL, NULL},
	{NULL},
};

static enum api_code run(const struct api_ctx *ctx, const json_t *p, json_t *out,
			 struct api_error *e)
{
	bool on = json_is_true(json_object_get(p, "Drain")), was;
	enum api_code rc = api_operator(ctx, e);

	if (rc != API_OK)
		return rc;
	was = drain_set(on);
	/* who turned it (this line carries the RequestId); the control loop logs the change */
	log_info("api", "CccdDrainNode: draining %s (was %s)", on ? "on" : "off",
		 was ? "on" : "off");
	if (json_object_set_new(out, "Draining", json_boolean(on)) ||
	    json_object_set_new(out, "WasDraining", json_boolean(was)))
		return api_fail(e, API_INTERNAL_ERROR, "Out of memory.");
	return API_OK;
}

const struct api_action api_action_cccd_drain_node = {
	"CccdDrainNode", fields, API_RATE_DEFAULT, run,
	"stop this node taking new sessions (operator)",
};
