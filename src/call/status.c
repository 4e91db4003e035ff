/* call: THE table from a call's outcome (SIP final response or local cause) to the TCCC
 * EndStatus and HungUpSide. docs/sip.md shows the same table; change both together. */
#include <stddef.h>
#include "call/call.h"
#include "earlyaudio/earlyaudio.h"

/* One row: a cause, for CALL_CAUSE_SIP a range of final response codes, and for causes
 * where it matters whether the callee's phone rang (an 18x came) the row for each case.
 * The first matching row wins, so specific codes come before ranges. */
struct status_row {
	enum call_cause cause;
	uint16_t lo, hi;            /* SIP code range (CALL_CAUSE_SIP only) */
	int rang;                   /* -1 either, 0 no 18x came, 1 an 18x came */
	int status;
	const char *str;
	int side;                   /* -1: the side that ended it, else enum call_side */
};

static const struct status_row status_table[] = {
	{CALL_CAUSE_ANSWERED,     0,   0,   -1, 1,   "ok",                      -1},
	{CALL_CAUSE_SIP,          486, 486, -1, 206, "busy",                    CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          600, 600, -1, 206, "busy",                    CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          603, 603, -1, 203, "userReject",              CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          404, 404, -1, 205, "numberNotExist",          CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          604, 604, -1, 205, "numberNotExist",          CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          484, 484, -1, 215, "numberInvalid",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          480, 480, -1, 210, "notInService",            CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          408, 408, -1, 202, "notAnswer",               CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          403, 403, -1, 212, "carrierBlocked",          CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          401, 401, -1, 208, "operatorError",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          407, 407, -1, 208, "operatorError",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          500, 599, -1, 208, "operatorError",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_SIP,          300, 699, -1, 201, "unknown",                 CALL_SIDE_SYSTEM},
	{CALL_CAUSE_RING_TIMEOUT, 0,   0,   1,  202, "notAnswer",               CALL_SIDE_SYSTEM},
	{CALL_CAUSE_RING_TIMEOUT, 0,   0,   0,  221, "callerCancelWithoutRing", CALL_SIDE_SYSTEM},
	{CALL_CAUSE_CANCEL,       0,   0,   1,  220, "callerCancelWhileRing",   CALL_SIDE_SYSTEM},
	{CALL_CAUSE_CANCEL,       0,   0,   0,  221, "callerCancelWithoutRing", CALL_SIDE_SYSTEM},
	{CALL_CAUSE_TRANSPORT,    0,   0,   -1, 208, "operatorError",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_MEDIA,        0,   0,   -1, 208, "operatorError",           CALL_SIDE_SYSTEM},
	{CALL_CAUSE_IN_CANCEL,    0,   0,   -1, 102, "ivrGiveUp",               CALL_SIDE_USER},
	{CALL_CAUSE_IN_REFUSED,   0,   0,   -1, 0,   "error",                   CALL_SIDE_SYSTEM},
};

void call_end_status(enum call_cause cause, uint16_t sip_code, bool rang, enum call_side by,
		     struct call_end *out)
{
	for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++) {
		const struct status_row *r = &status_table[i];

		if (r->cause != cause)
			continue;
		if (cause == CALL_CAUSE_SIP && (sip_code < r->lo || sip_code > r->hi))
			continue;
		if (r->rang >= 0 && r->rang != (int)rang)
			continue;
		out->status = r->status;
		out->status_str = r->str;
		out->side = r->side < 0 ? by : (enum call_side)r->side;
		return;
	}
	/* Not in the table (a 1xx/2xx "final" code cannot reach here): a system error. */
	out->status = 0;
	out->status_str = "error";
	out->side = CALL_SIDE_SYSTEM;
}

const char *call_side_name(enum call_side side)
{
	return side == CALL_SIDE_USER ? "user" : "system";
}

/* The statuses a carrier's announcement may stand for: its own ones (204, 207, 213, 216,
 * 219 exist for this) and the outcomes a carrier also says in words. */
static const struct {
	int status;
	const char *str;
} heard_statuses[] = {
	{202, "notAnswer"},      {203, "userReject"},       {204, "powerOff"},
	{205, "numberNotExist"}, {206, "busy"},             {207, "outOfCredit"},
	{208, "operatorError"},  {210, "notInService"},     {212, "carrierBlocked"},
	{213, "callReminder"},   {215, "numberInvalid"},    {216, "callRestricted"},
	{217, "calleeRestricted"}, {218, "areaRestricted"}, {219, "promptCallForwarding"},
};

const char *call_status_heard(int status)
{
	for (size_t i = 0; i < sizeof(heard_statuses) / sizeof(heard_statuses[0]); i++) {
		if (heard_statuses[i].status == status)
			return heard_statuses[i].str;
	}
	return NULL;
}

/* SIT variants (Telcordia SR-2275) to EndStatus: a vacant code is a number that was never
 * assigned (205 numberNotExist); an intercept, a number changed or disconnected, is no
 * longer a number to dial (215 numberInvalid); reorder and no circuit are the network's
 * congestion, ineffective other and an unknown pattern its failure to complete: all the
 * carrier's side (208 operatorError). */
int call_status_sit(int sit)
{
	switch (sit) {
	case EARLYAUDIO_SIT_VACANT:
		return 205;
	case EARLYAUDIO_SIT_INTERCEPT:
		return 215;
	default:
		return 208;
	}
}
