/* numbering: libphonenumber's PhoneNumberUtil behind numbering.h's C functions. */
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <phonenumbers/phonenumberutil.h>
#include "numbering/numbering.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/* libphonenumber's region of numbers without a country ("+800" freephone, "+882"...). */
static const char NON_GEO[] = "001";
/* What it answers for a country code nobody was assigned. */
static const char NO_REGION[] = "ZZ";

static int why_set(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why && whysz) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

static bool digits_only(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/* The region (ISO 3166 "IT", "001", or "ZZ") of a country code given as digits. */
static std::string region_of(const PhoneNumberUtil *u, const char *cc, size_t len)
{
	std::string region = NO_REGION;
	int code = 0;

	for (size_t i = 0; i < len; i++)
		code = code * 10 + (cc[i] - '0');
	u->GetRegionCodeForCountryCode(code, &region);
	return region;
}

extern "C" size_t numbering_cc_len(const char *digits)
{
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();

		for (size_t len = 1; len <= 3; len++) {
			if (digits[len - 1] < '0' || digits[len - 1] > '9' || digits[0] == '0')
				return 0;
			if (region_of(u, digits, len) != NO_REGION)
				return len;
		}
	}
	catch (const std::exception &) {
		/* Only allocation fails here; no country code is the safe answer. */
	}
	return 0;
}

/* Why a parsed number is not valid, in the words of its length check. */
static int invalid(const PhoneNumberUtil *u, const PhoneNumber &n, char *why, size_t whysz)
{
	std::string region;

	u->GetRegionCodeForCountryCode(n.country_code(), &region);
	if (region == NON_GEO)
		region = "the non-geographic code +" + std::to_string(n.country_code());
	switch (u->IsPossibleNumberWithReason(n)) {
	case PhoneNumberUtil::TOO_SHORT:
		return why_set(why, whysz, "is too short for a number in %s", region.c_str());
	case PhoneNumberUtil::TOO_LONG:
		return why_set(why, whysz, "is too long for a number in %s", region.c_str());
	case PhoneNumberUtil::INVALID_LENGTH:
		return why_set(why, whysz, "has no length a number in %s has", region.c_str());
	case PhoneNumberUtil::INVALID_COUNTRY_CODE:
		return why_set(why, whysz, "has no known country code");
	case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
		return why_set(why, whysz, "is a local number in %s: give it with its area code",
			       region.c_str());
	default:
		return why_set(why, whysz, "is in no range of %s's numbering plan (short codes "
			       "and unassigned ranges cannot be called)", region.c_str());
	}
}

static int parse_error(PhoneNumberUtil::ErrorType e, char *why, size_t whysz)
{
	switch (e) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
		return why_set(why, whysz, "has no known country code");
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
	case PhoneNumberUtil::TOO_SHORT_NSN:
		return why_set(why, whysz, "is too short to be a number");
	case PhoneNumberUtil::TOO_LONG_NSN:
		return why_set(why, whysz, "is too long to be a number");
	default:
		return why_set(why, whysz, "is not a phone number");
	}
}

static int parse(const char *digits, const char *cc, char *out, size_t outsz, char *why,
		 size_t whysz)
{
	const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
	std::string text, region = NO_REGION, nsn, cc_text;
	PhoneNumberUtil::ErrorType e;
	PhoneNumber n;
	size_t ccl = cc ? strlen(cc) : 0;

	if (!digits || !digits_only(digits))
		return why_set(why, whysz, "is not digits");
	if (digits[0] == '0' && digits[1] == '0') {
		text = std::string("+") + (digits + 2);
	}
	else {
		if (!cc || !digits_only(cc) || ccl > 3 || numbering_cc_len(cc) != ccl)
			return why_set(why, whysz, "is read in '%s', which is not a country code",
				       cc ? cc : "");
		region = region_of(u, cc, ccl);
		/* Non-geographic codes have no national form: their numbers are the NSN. */
		text = region == NON_GEO ? std::string("+") + cc + digits : std::string(digits);
	}
	e = u->Parse(text, region, &n);
	if (e != PhoneNumberUtil::NO_PARSING_ERROR)
		return parse_error(e, why, whysz);
	if (!u->IsValidNumber(n))
		return invalid(u, n, why, whysz);
	u->GetNationalSignificantNumber(n, &nsn);
	cc_text = std::to_string(n.country_code());
	if (2 + cc_text.size() + nsn.size() + 1 > outsz)
		return ENOSPC;
	snprintf(out, outsz, "00%s%s", cc_text.c_str(), nsn.c_str());
	return 0;
}

extern "C" int numbering_parse(const char *digits, const char *cc, char *out, size_t outsz,
			       char *why, size_t whysz)
{
	try {
		return parse(digits, cc, out, outsz, why, whysz);
	}
	catch (const std::bad_alloc &) {
		return ENOMEM;
	}
	catch (const std::exception &) {
		/* libphonenumber throws nothing else documented; a number it chokes on is
		 * refused, never dialled. */
		return why_set(why, whysz, "could not be read");
	}
}

extern "C" int numbering_trunk_prefix(const char *cc, char *out, size_t outsz)
{
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		size_t ccl = cc ? strlen(cc) : 0;
		std::string prefix;

		if (!ccl || ccl > 3 || !digits_only(cc) || numbering_cc_len(cc) != ccl)
			return EINVAL;
		u->GetNddPrefixForRegion(region_of(u, cc, ccl), true, &prefix);
		if (prefix.size() + 1 > outsz)
			return ENOSPC;
		snprintf(out, outsz, "%s", prefix.c_str());
		return 0;
	}
	catch (const std::bad_alloc &) {
		return ENOMEM;
	}
}

static enum numbering_type type_of(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE: return NUMBERING_FIXED;
	case PhoneNumberUtil::MOBILE: return NUMBERING_MOBILE;
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return NUMBERING_FIXED_OR_MOBILE;
	case PhoneNumberUtil::TOLL_FREE: return NUMBERING_TOLL_FREE;
	case PhoneNumberUtil::PREMIUM_RATE: return NUMBERING_PREMIUM;
	case PhoneNumberUtil::SHARED_COST: return NUMBERING_SHARED_COST;
	case PhoneNumberUtil::VOIP: return NUMBERING_VOIP;
	case PhoneNumberUtil::PERSONAL_NUMBER: return NUMBERING_PERSONAL;
	case PhoneNumberUtil::PAGER: return NUMBERING_PAGER;
	case PhoneNumberUtil::UAN: return NUMBERING_UAN;
	case PhoneNumberUtil::VOICEMAIL: return NUMBERING_VOICEMAIL;
	default: return NUMBERING_UNKNOWN;
	}
}

extern "C" enum numbering_type numbering_type(const char *number)
{
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		PhoneNumber n;

		if (!number || number[0] != '0' || number[1] != '0' || !digits_only(number))
			return NUMBERING_UNKNOWN;
		if (u->Parse(std::string("+") + (number + 2), NO_REGION, &n) !=
			    PhoneNumberUtil::NO_PARSING_ERROR || !u->IsValidNumber(n))
			return NUMBERING_UNKNOWN;
		return type_of(u->GetNumberType(n));
	}
	catch (const std::exception &) {
		return NUMBERING_UNKNOWN;
	}
}

extern "C" int numbering_region(const char *number, char *region, size_t regionsz)
{
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		std::string r;
		PhoneNumber n;

		if (!number || number[0] != '0' || number[1] != '0' || !digits_only(number))
			return ENOENT;
		if (u->Parse(std::string("+") + (number + 2), NO_REGION, &n) !=
			    PhoneNumberUtil::NO_PARSING_ERROR || !u->IsValidNumber(n))
			return ENOENT;
		u->GetRegionCodeForNumber(n, &r);
		if (r.empty() || r == NO_REGION)
			return ENOENT;
		if (r.size() + 1 > regionsz)
			return ENOSPC;
		snprintf(region, regionsz, "%s", r.c_str());
		return 0;
	}
	catch (const std::bad_alloc &) {
		return ENOMEM;
	}
	catch (const std::exception &) {
		return ENOENT;
	}
}

extern "C" const char *numbering_type_name(enum numbering_type t)
{
	switch (t) {
	case NUMBERING_FIXED: return "fixed";
	case NUMBERING_MOBILE: return "mobile";
	case NUMBERING_FIXED_OR_MOBILE: return "fixed-or-mobile";
	case NUMBERING_TOLL_FREE: return "toll-free";
	case NUMBERING_PREMIUM: return "premium";
	case NUMBERING_SHARED_COST: return "shared-cost";
	case NUMBERING_VOIP: return "voip";
	case NUMBERING_PERSONAL: return "personal";
	case NUMBERING_PAGER: return "pager";
	case NUMBERING_UAN: return "uan";
	case NUMBERING_VOICEMAIL: return "voicemail";
	default: return "unknown";
	}
}
