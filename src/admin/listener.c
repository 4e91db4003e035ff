/* listener: the admin HTTP listener's three paths. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <re_types.h>
#include <re_mem.h>
#include "admin/admin.h"
#include "base/base.h"
#include "conf/conf.h"
#include "metrics/metrics.h"

struct admin {
	struct MHD_Daemon *mhd;   /* owned */
	struct http_tls *tls;     /* owned; NULL = plain HTTP; outlives mhd */
	admin_ready_h *readyh;
	void *arg;
};

int admin_conf_read(const struct conf *cf, struct admin_conf *ac, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "admin");
	int rc;

	memset(ac, 0, sizeof(*ac));
	rc = httpd_listen_read(sec, "listen", "127.0.0.1:9100", &ac->listen, err);
	return rc ? rc : http_tls_conf_read(sec, &ac->tls, err);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned status, const char *s)
{
	return answer(conn, status, "text/plain; charset=utf-8", (char *)s, strlen(s),
		      MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result ready(struct admin *a, struct MHD_Connection *conn)
{
	char why[200] = "", body[256];

	if (a->readyh(why, sizeof(why), a->arg))
		return text(conn, MHD_HTTP_OK, "ready\n");
	snprintf(body, sizeof(body), "not ready: %s\n", why[0] ? why : "unknown");
	return text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct admin *a = cls;
	char *body;
	size_t len;

	(void)version;
	(void)upload;
	/* The first call announces the request; a body (none is expected) is not read. */
	if (!*con_cls) {
		*con_cls = a;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (!strcmp(url, "/healthz"))
		return text(conn, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz"))
		return ready(a, conn);
	if (strcmp(url, "/metrics"))
		return text(conn, MHD_HTTP_NOT_FOUND, "not found: /metrics, /healthz, /readyz\n");
	if (metrics_render(&body, &len))
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return answer(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		      MHD_RESPMEM_MUST_FREE);
}

static void admin_destructor(void *arg)
{
	struct admin *a = arg;

	if (a->mhd)
		MHD_stop_daemon(a->mhd);
	mem_deref(a->tls);
}

int admin_start(struct admin **ap, const struct admin_conf *ac, admin_ready_h *readyh,
		void *arg)
{
	/* The listener's limits, then the certificate and key when [admin] has them. */
	struct MHD_OptionItem opts[2 + HTTPTLS_MHD_OPTIONS] = {
		{MHD_OPTION_CONNECTION_LIMIT, 64, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
	};
	struct admin *a;
	unsigned flags;
	int err = 0;

	if (!ap || !ac || !readyh)
		return EINVAL;
	if (!ac->listen.port)
		return 0;
	a = mem_zalloc(sizeof(*a), admin_destructor);
	if (!a)
		return ENOMEM;
	a->readyh = readyh;
	a->arg = arg;
	if (http_tls_on(&ac->tls))
		err = http_tls_load(&a->tls, &ac->tls);
	if (err) {
		mem_deref(a);
		return err;
	}
	flags = http_tls_mhd_options(a->tls, &opts[2]);
	err = httpd_start(&a->mhd, "admin", &ac->listen, 1, flags, handle, a, opts);
	if (err) {
		mem_deref(a);
		return err;
	}
	log_info("admin", "listening on %s:%u (%s: /metrics, /healthz, /readyz)", ac->listen.host,
		 ac->listen.port, a->tls ? "HTTPS" : "HTTP");
	*ap = a;
	return 0;
}
