/* ivr HTTP client: libcurl multi driven by the libre loop (fd_listen + a wheel timer), so an HTTP
 * node never blocks the control loop. DNS resolution is libcurl's (threaded resolver). */
#include <errno.h>
#include <string.h>
#include <curl/curl.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_main.h>
#include "base/base.h"
#include "ivr/ivr_int.h"
#include "wheel/wheel.h"

#define REPLY_MAX (1024 * 1024)

/* Owner: the run that uses it and each of its requests (reference-counted). */
struct ivr_http_client {
	CURLM *multi;
	struct wheel_tmr tmr;
	struct list socks;       /* struct http_sock */
};

/* One socket libcurl asked us to watch. Owner: the client (freed on CURL_POLL_REMOVE). */
struct http_sock {
	struct le le;
	struct ivr_http_client *hc;
	curl_socket_t fd;
};

/* One request. Owner: whoever called ivr_http_send (mem_deref cancels it). */
struct ivr_http_req {
	struct ivr_http_client *hc;  /* reference */
	CURL *easy;
	struct curl_slist *headers;
	char *reply;
	size_t reply_len;
	bool active;             /* added to the multi handle */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	ivr_http_done_h *h;
	void *arg;
};

static void check_done(struct ivr_http_client *hc);

static void sock_free(struct http_sock *hs)
{
	fd_close(hs->fd);
	list_unlink(&hs->le);
	mem_deref(hs);
}

static void client_destructor(void *arg)
{
	struct ivr_http_client *hc = arg;

	wheel_cancel(&hc->tmr);
	if (hc->multi)
		curl_multi_cleanup(hc->multi);
	/* cleanup reports REMOVE for the sockets it closes; any left are released here. */
	while (hc->socks.head)
		sock_free(hc->socks.head->data);
	curl_global_cleanup();
}

static void sock_handler(int flags, void *arg)
{
	struct http_sock *hs = arg;
	struct ivr_http_client *hc = mem_ref(hs->hc);
	int ev = 0, running;

	if (flags & FD_READ)
		ev |= CURL_CSELECT_IN;
	if (flags & FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (flags & FD_EXCEPT)
		ev |= CURL_CSELECT_ERR;
	/* hs may be freed inside (CURL_POLL_REMOVE): not touched after this call. */
	curl_multi_socket_action(hc->multi, hs->fd, ev, &running);
	check_done(hc);
	mem_deref(hc);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct ivr_http_client *hc = userp;
	struct http_sock *hs = socketp;
	int flags = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs) {
			curl_multi_assign(hc->multi, s, NULL);
			sock_free(hs);
		}
		return 0;
	}
	if (!hs) {
		hs = mem_zalloc(sizeof(*hs), NULL);
		if (!hs)
			return -1;
		hs->hc = hc;
		hs->fd = s;
		list_append(&hc->socks, &hs->le, hs);
		curl_multi_assign(hc->multi, s, hs);
	}
	if (what & CURL_POLL_IN)
		flags |= FD_READ;
	if (what & CURL_POLL_OUT)
		flags |= FD_WRITE;
	return fd_listen(s, flags | FD_EXCEPT, sock_handler, hs) ? -1 : 0;
}

static void timeout_handler(void *arg)
{
	struct ivr_http_client *hc = mem_ref(arg);
	int running;

	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(hc);
	mem_deref(hc);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct ivr_http_client *hc = userp;

	(void)multi;
	/* Never act from inside this callback (libcurl forbids it): a 0 ms timeout runs from
	 * the loop on its next turn. */
	if (timeout_ms < 0)
		wheel_cancel(&hc->tmr);
	else
		wheel_start(&hc->tmr, (uint64_t)timeout_ms, timeout_handler, hc);
	return 0;
}

int ivr_http_client_alloc(struct ivr_http_client **hcp)
{
	struct ivr_http_client *hc;

	if (!hcp)
		return EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ENOMEM;
	hc = mem_zalloc(sizeof(*hc), client_destructor);
	if (!hc) {
		curl_global_cleanup();
		return ENOMEM;
	}
	wheel_tmr_init(&hc->tmr);
	list_init(&hc->socks);
	hc->multi = curl_multi_init();
	if (!hc->multi) {
		mem_deref(hc);
		return ENOMEM;
	}
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	*hcp = hc;
	return 0;
}

static void req_destructor(void *arg)
{
	struct ivr_http_req *req = arg;

	if (req->active)
		curl_multi_remove_handle(req->hc->multi, req->easy);
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->headers);
	mem_deref(req->reply);
	mem_deref(req->hc);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ivr_http_req *req = userdata;
	size_t n = size * nmemb;
	char *nb;

	if (req->reply_len + n > REPLY_MAX) {
		req->too_big = true;
		return 0;
	}
	/* libre's mem_realloc does not take NULL. */
	nb = req->reply ? mem_realloc(req->reply, req->reply_len + n + 1) :
	     mem_alloc(n + 1, NULL);
	if (!nb)
		return 0;
	req->reply = nb;
	memcpy(req->reply + req->reply_len, ptr, n);
	req->reply_len += n;
	req->reply[req->reply_len] = '\0';
	return n;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:  return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:     return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:       return ENOMEM;
	default:                        return EPROTO;
	}
}

static void check_done(struct ivr_http_client *hc)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		struct ivr_http_req *req = NULL;
		long status = 0;
		int err = 0;
		const char *why = "";

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		if (!req)
			continue;
		curl_multi_remove_handle(hc->multi, req->easy);
		req->active = false;
		if (msg->data.result != CURLE_OK) {
			err = req->too_big ? EFBIG : curl_errno(msg->data.result);
			why = req->too_big ? "reply larger than 1 MiB" :
			      req->errbuf[0] ? req->errbuf : curl_easy_strerror(msg->data.result);
		}
		else {
			curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		}
		/* The handler may mem_deref req; `msg` is not used after this. */
		req->h(err, why, status, req->reply ? req->reply : "", req->reply_len, req->arg);
	}
}

int ivr_http_send(struct ivr_http_req **reqp, struct ivr_http_client *hc, const char *method,
	      const char *url, const char *const *headers, size_t n_headers, const char *body,
	      size_t body_len, unsigned timeout_ms, ivr_http_done_h *h, void *arg)
{
	struct ivr_http_req *req;
	struct curl_slist *sl;
	int err = ENOMEM;

	if (!reqp || !hc || !method || !url || !h)
		return EINVAL;
	req = mem_zalloc(sizeof(*req), req_destructor);
	if (!req)
		return ENOMEM;
	req->hc = mem_ref(hc);
	req->h = h;
	req->arg = arg;
	req->easy = curl_easy_init();
	if (!req->easy)
		goto out;
	for (size_t i = 0; i < n_headers; i++) {
		sl = curl_slist_append(req->headers, headers[i]);
		if (!sl)
			goto out;
		req->headers = sl;
	}
	/* No "Expect: 100-continue" round trip on small JSON bodies. */
	sl = curl_slist_append(req->headers, "Expect:");
	if (!sl)
		goto out;
	req->headers = sl;

	curl_easy_setopt(req->easy, CURLOPT_URL, url);
	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(req->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(req->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(req->easy, CURLOPT_USERAGENT, "cccd-ivr/1");
	curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->errbuf);
	if (body) {
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE, (long)body_len);
		curl_easy_setopt(req->easy, CURLOPT_COPYPOSTFIELDS, body);
	}
	if (strcmp(method, "GET") || body)
		curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, method);
	else
		curl_easy_setopt(req->easy, CURLOPT_HTTPGET, 1L);

	if (curl_multi_add_handle(hc->multi, req->easy) != CURLM_OK) {
		err = EPROTO;
		goto out;
	}
	req->active = true;
	err = 0;
 out:
	if (err)
		mem_deref(req);
	else
		*reqp = req;
	return err;
}
