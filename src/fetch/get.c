/* get: one bounded GET through libcurl, every connection checked by the guard. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "fetch/fetch.h"

struct transfer {
	const struct fetch_limits *lim;
	uint8_t *buf;
	size_t len, cap;
	bool too_big;
	bool refused;
	char refused_why[96];
};

/* Called for every socket curl is about to connect, after name resolution and for each
 * redirect: the address here is the one connected to, so the check holds against DNS
 * rebinding. A refusal makes curl give up on that address (CURLE_COULDNT_CONNECT). */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer *t = arg;

	if (purpose != CURLSOCKTYPE_IPCXN || !fetch_addr_allowed(&a->addr, t->lim->allow)) {
		t->refused = true;
		snprintf(t->refused_why, sizeof(t->refused_why), "a %s address is not allowed",
			 fetch_addr_class_name(fetch_addr_class(&a->addr)));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static size_t body_write(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	uint8_t *grown;

	if (len > t->lim->max_bytes - t->len) {
		t->too_big = true;
		return 0;
	}
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 65536;

		while (cap < t->len + len)
			cap *= 2;
		grown = realloc(t->buf, cap);
		if (!grown)
			return 0;
		t->buf = grown;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, len);
	t->len += len;
	return len;
}

static int result(struct transfer *t, CURLcode rc, long status, char *why, size_t whysz)
{
	if (t->refused) {
		snprintf(why, whysz, "refused address: %s", t->refused_why);
		return EACCES;
	}
	if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, whysz, "too big: more than %zu bytes", t->lim->max_bytes);
		return EFBIG;
	}
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(why, whysz, "timeout: no complete answer within %u ms",
			 t->lim->timeout_ms);
		return ETIMEDOUT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(why, whysz, "only http and https URLs are fetched");
		return EPROTONOSUPPORT;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(why, whysz, "more than %u redirects", t->lim->max_redirects);
		return ELOOP;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		snprintf(why, whysz, "cannot connect: %s", curl_easy_strerror(rc));
		return EHOSTUNREACH;
	default:
		snprintf(why, whysz, "fetch failed: %s", curl_easy_strerror(rc));
		return EIO;
	}
	if (status < 200 || status > 299) {
		snprintf(why, whysz, "HTTP status %ld", status);
		return EBADMSG;
	}
	return 0;
}

int fetch_get(const char *url, const struct fetch_limits *lim, uint8_t **bodyp,
	      size_t *lenp, long *statusp, char *why, size_t whysz)
{
	struct transfer t = {.lim = lim};
	CURL *c;
	CURLcode rc;
	long status = 0;
	int err;

	if (!url || !lim || !bodyp || !lenp || !why)
		return EINVAL;
	if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
		snprintf(why, whysz, "only http and https URLs are fetched");
		return EPROTONOSUPPORT;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(why, whysz, "out of memory");
		return ENOMEM;
	}
	/* No proxy from the environment: the guard must see the real destination. */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)lim->max_redirects);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)lim->timeout_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)lim->max_bytes);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cccd-upload/1");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (statusp)
		*statusp = status;
	err = result(&t, rc, status, why, whysz);
	if (err) {
		free(t.buf);
		return err;
	}
	*bodyp = t.buf;
	*lenp = t.len;
	return 0;
}
