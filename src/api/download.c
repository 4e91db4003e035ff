/* download: GET /records/<SdkAppId>/<file>?Expires=..&Signature=.. — a recording served to
 * whoever holds its signed link (records/links.c). 403 for a missing, wrong or expired
 * signature, 404 for a path that names no recording or a file that is not there (deleted
 * by retention, never written). The file is sent by libmicrohttpd from its descriptor
 * (sendfile where it can), so an API thread only opens and stats it. The console plays
 * recordings through its own session instead of a link (console.c), sent the same way. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include <re_types.h>
#include <re_mem.h>
#include "api/api_int.h"
#include "base/base.h"
#include "records/records.h"

bool api_download_is(const char *method, const char *path)
{
	return method && path && (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
	       !strncmp(path, "/records/", 9);
}

static int text_reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	int ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

int api_wav_send(struct MHD_Connection *conn, const char *abs)
{
	struct MHD_Response *r;
	struct stat st;
	int fd, ret;

	fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return text_reply(conn, MHD_HTTP_NOT_FOUND, "no such recording\n");
	}
	/* libmicrohttpd owns fd from here (closed with the response). */
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "audio/wav");
	MHD_add_response_header(r, "Cache-Control", "private, no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int api_download(struct MHD_Connection *conn, const struct records_links *l, const char *path)
{
	const char *exp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "Expires");
	const char *sig = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "Signature");
	char abs[1100];

	switch (l ? records_link_check(l, path, exp, sig, clock_unix_s(), abs, sizeof(abs))
		  : RECORDS_NOT_FOUND) {
	case RECORDS_OK:
		return api_wav_send(conn, abs);
	case RECORDS_FORBIDDEN:
		return text_reply(conn, MHD_HTTP_FORBIDDEN, "the link is not valid or has expired\n");
	default:
		return text_reply(conn, MHD_HTTP_NOT_FOUND, "no such recording\n");
	}
}
