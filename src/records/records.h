/* records: TCCC's call record (TelCdrInfo) as JSON, built from the store's rows — the one
 * builder behind DescribeTelCdr and the CDR data push, so both always agree. */
#ifndef CCCD_RECORDS_H
#define CCCD_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct store_session;
struct store_key_press;

/* EndStatus → EndStatusString (TCCC's enumeration); "" for an unknown code. */
const char *records_end_status_string(int end_status);

/* The TelCdrInfo object of a finished (or any) session, every field with its JSON type.
 * with_sdkappid adds `SdkAppId` (the push body). NULL on ENOMEM. */
json_t *records_cdr(const struct store_session *s, const struct store_key_press *keys,
		    size_t n_keys, bool with_sdkappid);

#endif
