/* Fuzz harness: arbitrary bytes as an HTTP request (method, target, headers, body) through
 * the request parser, the signature check, flattening and CreateIVRSession validation.
 *
 * Input layout: line 1 "METHOD TARGET", then "Name: value" lines up to an empty line, then
 * the body (any bytes). No network and no store: the key is fixed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"

static char *next_line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		nl = end;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_header headers[API_MAX_HEADERS];
	struct api_http h = {0};
	struct api_request *r = NULL;
	struct api_error e;
	char *buf = malloc(size + 1), *p = buf, *end, *line, *sp;
	json_t *params = NULL, *valid = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	end = buf + size;
	line = next_line(&p, end);
	if (!line || !(sp = strchr(line, ' ')))
		goto out;
	*sp = '\0';
	h.method = line;
	h.target = sp + 1;
	h.headers = headers;
	h.listen_port = 8080;
	while ((line = next_line(&p, end)) && *line && h.n_headers < API_MAX_HEADERS) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		headers[h.n_headers++] = (struct api_header){line, colon};
	}
	h.body = p < end ? p : NULL;
	h.body_len = p < end ? (size_t)(end - p) : 0;

	if (api_request_parse(&h, &r, &e) == API_OK) {
		api_request_check_time(r, 1764000000, &e);
		api_request_verify(r, "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &e);
		if (api_request_params(r, &params, &e) == API_OK)
			api_validate(api_action_create_ivr_session.fields, params, &valid, &e);
	}
	json_decref(params);
	json_decref(valid);
	mem_deref(r);
out:
	free(buf);
	return 0;
}
