/* numbering: the world's numbering plans — country codes, national numbers read in a
 * country, validity and number types — from libphonenumber's maintained data (Debian
 * libphonenumber-dev), behind a C interface.
 *
 * Numbers cross this interface as digit strings: "00" + country code + national
 * significant number (NSN) for the international form, the digits as dialled in the
 * country otherwise. The callout rules (src/policy) decide which numbers come here:
 * China's are read by cccd's own TCCC rules first (docs/callout-rules.md §3).
 *
 * Any thread may call any function at any time: libphonenumber's one instance is built on
 * first use (a few milliseconds; its metadata is compiled in, no file is read) and is
 * immutable afterwards, its regular-expression cache has its own lock. */
#ifndef CCCD_NUMBERING_H
#define CCCD_NUMBERING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a number reaches, as the numbering data of its country says. The calling rules
 * use it where the type matters (premium and international destinations for the fraud
 * allow-list, mobile vs fixed for locations). */
enum numbering_type {
	NUMBERING_UNKNOWN = 0,     /* valid length, in no range the data lists */
	NUMBERING_FIXED,           /* geographic fixed line */
	NUMBERING_MOBILE,
	NUMBERING_FIXED_OR_MOBILE, /* plans that do not tell them apart (NANP) */
	NUMBERING_TOLL_FREE,       /* the callee pays (800, 0800, 1-800) */
	NUMBERING_PREMIUM,         /* premium rate (0900, 1-900, 09x) */
	NUMBERING_SHARED_COST,     /* caller and callee share the cost (China's 400, 0845) */
	NUMBERING_VOIP,
	NUMBERING_PERSONAL,        /* follow-me numbers (UK 070) */
	NUMBERING_PAGER,
	NUMBERING_UAN,             /* universal access numbers of companies */
	NUMBERING_VOICEMAIL,
};

/* Length (1-3) of the assigned country calling code at the start of digits, 0 when no
 * assigned code starts them (codes are prefix-free, so the first hit is the split). */
size_t numbering_cc_len(const char *digits);

/* digits read in country cc ("1", "39"): national digits as dialled there — with or
 * without the country's trunk prefix ("0" in the UK, "1" in NANP, none in Italy whose
 * leading 0 belongs to the number) or after the country's own international prefix
 * ("011" in NANP) — or "00" + country code + NSN. On success out gets "00" + country
 * code + NSN. EINVAL with the reason in why (without the number; why may be NULL) when
 * cc is no country code, or the number is not a valid one of its country's plan;
 * ENOSPC when out is too small; ENOMEM. */
int numbering_parse(const char *digits, const char *cc, char *out, size_t outsz,
		    char *why, size_t whysz);

/* The trunk (national) prefix of country cc's plan into out: "0" in the UK, "1" in
 * NANP, "" where the plan has none (Italy). EINVAL when cc is no country code. */
int numbering_trunk_prefix(const char *cc, char *out, size_t outsz);

/* The type of an international "00..." number (NUMBERING_UNKNOWN for anything that is
 * not a valid number). */
enum numbering_type numbering_type(const char *number);

/* The region (ISO 3166-1 alpha-2: "US", "JM"; "001" for non-geographic codes) of a valid
 * international "00..." number into region (4 bytes suffice): a country code several
 * regions share (NANP's 1) is told apart by the number's area code. ENOENT for anything
 * that is not a valid number; ENOSPC when region is too small; ENOMEM. */
int numbering_region(const char *number, char *region, size_t regionsz);

/* "mobile", "premium", ... (for logs and messages). */
const char *numbering_type_name(enum numbering_type t);

#ifdef __cplusplus
}
#endif

#endif
