/* server: the HTTP listener (libmicrohttpd thread pool on epoll) and the [api] config. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_mbuf.h>
#include <re_fmt.h>
#include "api/api_int.h"
#include "fetch/fetch.h"
#include "base/base.h"
#include "conf/conf.h"
#include "httptls/httptls.h"
#include "zonemap/zonemap.h"

/* Request line and headers must fit here: 32 KB GET targets (spec §1) plus headers, and a
 * target just over 32 KB must still reach us to be refused with RequestSizeLimitExceeded.
 * No bigger than that: libmicrohttpd 0.9.75 zeroes the whole pool at every request of a
 * kept-alive connection (MHD_pool_reset), which at 96 KB was the largest user-space cost
 * of a small signed request (4.5 % of cccd's cycles under bench/api's DescribeTelSession,
 * perf). TRIM_BYTES: a request or reply at least this large gives the heap back when it
 * ends. */
enum { CONN_MEMORY = 40 * 1024, TRACE_ID_MAX = 128, TRIM_BYTES = 1024 * 1024 };

struct api {
	struct api_core *core;   /* owned */
	struct MHD_Daemon *mhd;  /* owned */
	struct http_tls *tls;    /* owned; NULL = plain HTTP */
	struct api_tasks *tasks; /* owned: the auto-callout scheduler */
};

/* One request's state while its body arrives; owned by libmicrohttpd's request slot
 * (created in uri_log, released in completed). */
struct conn_req {
	char *target;            /* raw request target, copied before MHD decodes it */
	struct mbuf *body;
	size_t limit;            /* body size limit for this request */
	bool started;
	bool too_large;
	bool trim;               /* a large body or reply: malloc_trim when it is done */
	bool console;            /* a web console request (console.c) */
};

/* One [tasks] zone_prefix line; a prefix given twice is refused (which one would win?). */
static int zone_value(const char *value, unsigned line, void *arg, struct conf_err *err)
{
	struct api_conf *ac = arg;
	struct api_task_zone *z;
	char why[200];

	if (ac->task_zones_n == API_TASK_ZONES_MAX) {
		conf_err_set(err, line, "at most %d 'zone_prefix' lines", API_TASK_ZONES_MAX);
		return EINVAL;
	}
	z = &ac->task_zones[ac->task_zones_n];
	if (zonemap_line_parse(value, z->prefix, z->zone, why, sizeof(why))) {
		conf_err_set(err, line, "zone_prefix: %s", why);
		return EINVAL;
	}
	for (unsigned i = 0; i < ac->task_zones_n; i++) {
		if (!strcmp(ac->task_zones[i].prefix, z->prefix)) {
			conf_err_set(err, line, "zone_prefix: prefix %s is given twice", z->prefix);
			return EINVAL;
		}
	}
	ac->task_zones_n++;
	return 0;
}

int api_conf_read(const struct conf *cf, struct api_conf *ac, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "api");
	const struct conf_section *tsec = conf_section_first(cf, "tasks");
	uint64_t threads, rate, conns, timeout, replay, upload_timeout, tick, calls, cps, retry;
	bool loopback, private;
	int rc;

	memset(ac, 0, sizeof(*ac));
	rc = conf_addr(sec, "listen", "127.0.0.1:8080", ac->listen_host,
		       sizeof(ac->listen_host), &ac->listen_port, err);
	rc = rc ? rc : conf_uint(sec, "threads", 4, 1, 256, &threads, err);
	rc = rc ? rc : conf_uint(sec, "rate_limit", 20, 0, 1000000, &rate, err);
	rc = rc ? rc : conf_uint(sec, "max_connections", 1024, 1, 65536, &conns, err);
	rc = rc ? rc : conf_uint(sec, "timeout", 30, 1, 3600, &timeout, err);
	rc = rc ? rc : conf_uint(sec, "replay_cache", 1000000, 0, 100000000, &replay, err);
	rc = rc ? rc : conf_bool(sec, "upload_allow_loopback", false, &loopback, err);
	rc = rc ? rc : conf_bool(sec, "upload_allow_private", false, &private, err);
	rc = rc ? rc : conf_uint(sec, "upload_timeout", 20, 1, 120, &upload_timeout, err);
	rc = rc ? rc : http_tls_conf_read(sec, &ac->tls, err);
	rc = rc ? rc : conf_uint(tsec, "tick_ms", 1000, 50, 60000, &tick, err);
	rc = rc ? rc : conf_uint(tsec, "max_calls", 100, 1, 100000, &calls, err);
	rc = rc ? rc : conf_uint(tsec, "calls_per_second", 10, 1, 10000, &cps, err);
	rc = rc ? rc : conf_uint(tsec, "test_retry_interval", 0, 0, 86400, &retry, err);
	rc = rc ? rc : conf_each(tsec, "zone_prefix", zone_value, ac, err);
	if (rc)
		return rc;
	ac->upload_allow = (loopback ? FETCH_ALLOW_LOOPBACK : 0) |
			   (private ? FETCH_ALLOW_PRIVATE : 0);
	ac->upload_timeout_ms = (unsigned)upload_timeout * 1000;
	ac->task_tick_ms = (unsigned)tick;
	ac->task_max_calls = (unsigned)calls;
	ac->task_calls_per_s = (unsigned)cps;
	ac->task_test_retry_s = (unsigned)retry;
	ac->threads = (unsigned)threads;
	ac->rate_limit = (unsigned)rate;
	ac->max_connections = (unsigned)conns;
	ac->timeout = (unsigned)timeout;
	ac->replay_cache = (unsigned)replay;
	return 0;
}

static void conn_req_destructor(void *arg)
{
	struct conn_req *cr = arg;

	mem_deref(cr->target);
	mem_deref(cr->body);
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_req *cr = mem_zalloc(sizeof(*cr), conn_req_destructor);

	(void)cls;
	(void)conn;
	if (cr && str_dup(&cr->target, uri))
		cr = mem_deref(cr);
	return cr;
}

/* A large request (CreateAutoCalloutTask of 100,000 callees is a 2 MB body parsed into
 * a JSON tree of some 20 MB; its Describe a 5 MB reply) leaves that much freed memory in
 * the API thread's malloc arena, which glibc keeps: the process's resident memory stays
 * 20 MB up for as long as it runs, though cccd holds nothing of the request (its callees
 * are in the store). malloc_trim gives the free pages of every arena back; it walks the
 * heap (milliseconds), so only after requests that large. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_req *cr = *con_cls;
	bool trim = cr && cr->trim;

	(void)cls;
	(void)conn;
	(void)toe;
	*con_cls = mem_deref(cr);
	if (trim)
		malloc_trim(0);
}

struct header_walk {
	struct api_header *v;
	size_t n;
};

static enum MHD_Result header_one(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct header_walk *w = cls;

	(void)kind;
	if (w->n >= API_MAX_HEADERS)
		return MHD_NO;
	w->v[w->n].name = key;
	w->v[w->n].value = value ? value : "";
	w->n++;
	return MHD_YES;
}

/* X-TC-TraceId is echoed only when it is short printable text (no header injection). */
static bool trace_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= TRACE_ID_MAX || s[i] < 0x21 || s[i] > 0x7e)
			return false;
	}
	return i > 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, char *body, const char *trace)
{
	static const char oom[] = "{\"Response\":{\"Error\":{\"Code\":\"InternalError\","
				  "\"Message\":\"Out of memory.\"},\"RequestId\":"
				  "\"00000000-0000-4000-8000-000000000000\"}}";
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
		    : MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						      MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	if (trace && trace_id_ok(trace))
		MHD_add_response_header(resp, "X-TC-TraceId", trace);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct conn_req *cr = *con_cls;
	struct api_header headers[API_MAX_HEADERS];
	struct header_walk w = {headers, 0};
	struct api_http h = {0};
	const char *cl;
	char *out;

	(void)version;
	if (!cr)
		return MHD_NO; /* out of memory when the request began: drop the connection */
	if (!cr->started && api_console_is(url)) {
		cr->started = cr->console = true;
		cr->limit = API_MAX_BODY_V1;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > cr->limit)
			cr->too_large = true;
		if (!cr->too_large)
			return MHD_YES;
		goto answer;
	}
	if (!cr->started && api_download_is(method, url)) {
		cr->started = true;
		return (enum MHD_Result)api_download(conn, a->core->hooks.links, url);
	}
	if (!cr->started) {
		cr->started = true;
		cr->limit = !strcmp(method, "POST") ?
			(api_http_is_tc3(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								     "Authorization")) ?
			 API_MAX_BODY_TC3 : API_MAX_BODY_V1) : API_MAX_GET;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		/* Refuse an announced oversized body before reading any of it. */
		if (cl && strtoull(cl, NULL, 10) > cr->limit)
			cr->too_large = true;
		if (!cr->too_large && (strcmp(method, "GET") && strcmp(method, "POST")))
			goto answer; /* UnsupportedProtocol; the body is not read */
		if (!cr->too_large)
			return MHD_YES;
		goto answer;
	}
	if (*upload_size) {
		if (!cr->too_large && (cr->body ? cr->body->end : 0) + *upload_size > cr->limit) {
			cr->too_large = true;
			cr->body = mem_deref(cr->body);
		}
		if (!cr->too_large) {
			/* The size of the first piece, exactly: a body usually arrives whole,
			 * and an allocation of 1 KB or more makes glibc consolidate its fast
			 * bins first (1.4 % of cccd's time per signed read at 4 KB, perf). */
			if (!cr->body)
				cr->body = mbuf_alloc(*upload_size);
			if (!cr->body || mbuf_write_mem(cr->body, (const uint8_t *)upload,
							*upload_size))
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
answer:
	if (cr->console)
		return (enum MHD_Result)api_console_handle(a->core, conn, method, url,
			cr->body ? (const char *)cr->body->buf : NULL,
			cr->too_large ? SIZE_MAX : cr->body ? cr->body->end : 0, a->tls != NULL);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, header_one, &w);
	h.method = method;
	h.target = cr->target;
	h.headers = headers;
	h.n_headers = w.n;
	h.listen_port = a->core->conf.listen_port;
	if (cr->too_large) {
		/* Only the size is looked at: the parser refuses before reading a body. */
		h.body = NULL;
		h.body_len = SIZE_MAX;
	}
	else if (cr->body) {
		h.body = (const char *)cr->body->buf;
		h.body_len = cr->body->end;
	}
	out = api_core_handle(a->core, &h, clock_unix_ms(), clock_mono_us());
	cr->trim = (cr->body && cr->body->end >= TRIM_BYTES) || (out && strlen(out) >= TRIM_BYTES);
	return reply(conn, out, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							    "X-TC-TraceId"));
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_warn("api", "http: %s", buf);
}

static void api_destructor(void *arg)
{
	struct api *a = arg;

	if (a->mhd)
		MHD_stop_daemon(a->mhd);
	mem_deref(a->tasks);
	mem_deref(a->core);
	mem_deref(a->tls);
}

int api_start(struct api **ap, const struct api_conf *ac, struct store *st,
	      struct tenant *t, const struct api_hooks *hooks)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls_opts[HTTPTLS_MHD_OPTIONS];
	struct api *a;
	int err;

	if (!ap || !ac || !st || !t)
		return EINVAL;
	if (inet_pton(AF_INET, ac->listen_host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ac->listen_port);
	}
	else if (inet_pton(AF_INET6, ac->listen_host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ac->listen_port);
		flags |= MHD_USE_IPv6;
	}
	else {
		return EINVAL;
	}
	a = mem_zalloc(sizeof(*a), api_destructor);
	if (!a)
		return ENOMEM;
	err = api_core_alloc(&a->core, ac, st, t, hooks);
	if (!err && http_tls_on(&ac->tls))
		err = http_tls_load(&a->tls, &ac->tls);
	if (err)
		goto out;
	flags |= http_tls_mhd_options(a->tls, tls_opts);
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, a,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)ac->threads,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)ac->max_connections,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ac->timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				  MHD_OPTION_URI_LOG_CALLBACK, uri_log, a,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, a,
				  MHD_OPTION_ARRAY, tls_opts,
				  MHD_OPTION_END);
	if (!a->mhd) {
		log_error("api", "cannot listen on %s:%u", ac->listen_host, ac->listen_port);
		err = EADDRINUSE;
		goto out;
	}
	log_info("api", "listening on %s:%u (%s, %u threads, rate limit %u/s)", ac->listen_host,
		 ac->listen_port, a->tls ? "HTTPS" : "HTTP", ac->threads, ac->rate_limit);
	err = api_tasks_start(&a->tasks, a->core);
	if (err)
		log_error("api", "cannot start the task scheduler: %s", strerror(err));
out:
	if (err)
		mem_deref(a);
	else
		*ap = a;
	return err;
}
