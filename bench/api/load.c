/* load: a small HTTP/1.1 keep-alive load generator for bench/api/run.sh, plus a mode that
 * writes a TC3-signed request (signed by cccd's own sign module) to stdout.
 *
 *   load sign ACTION JSON HOST:PORT SECRET_ID SECRET_KEY > req.http
 *   load run HOST PORT[,PORT...] CONNECTIONS SECONDS req.http [req.http ...]
 *   load once HOST PORT req.http        (prints the reply body)
 *
 * `run` keeps CONNECTIONS connections busy with the same request for SECONDS (at most 300,
 * the TC3 timestamp window), spread over the ports given (several nodes) and over the
 * request files given (connection i sends file i modulo their number), and prints
 * "requests=N errors=E seconds=S rps=R p50_ms=A p99_ms=B", where errors counts replies
 * that are not HTTP 200 or carry an API "Error" and the percentiles are of each request's
 * time from its send to its whole reply. Single thread, epoll. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sign/sign.h"

enum { MAX_CONNS = 1024, RBUF = 65536 };

struct conn {
	int fd;
	const char *req; /* what it sends, again and again */
	size_t reqlen;
	double sent; /* when its request in flight went out */
	char rbuf[RBUF];
	size_t rlen;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int do_sign(int argc, char **argv)
{
	const char *action = argv[2], *json = argv[3], *host = argv[4];
	struct sign_header sh[2] = {{"content-type", "application/json"}, {"host", host}};
	char hash[SIGN_SHA256_HEX], date[11], auth[600];
	int64_t ts = (int64_t)time(NULL);
	struct sign_tc3 in = {"POST", "/", "", sh, 2, hash, ts, date, "ccc"};

	if (argc != 7)
		return 2;
	sign_sha256_hex(json, strlen(json), hash);
	sign_tc3_date(ts, date);
	if (sign_tc3_authorization(&in, argv[5], argv[6], auth, sizeof(auth)))
		return 1;
	printf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	       "X-TC-Action: %s\r\nX-TC-Version: 2020-02-10\r\nX-TC-Timestamp: %lld\r\n"
	       "Authorization: %s\r\nContent-Length: %zu\r\n\r\n%s", host, action, (long long)ts,
	       auth, strlen(json), json);
	return 0;
}

static int conn_open(const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Length of one complete response at the start of buf, 0 if incomplete. */
static size_t response_len(const char *buf, size_t len, int *error)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
	size_t hlen, blen;

	if (!end)
		return 0;
	hlen = (size_t)(end - buf) + 4;
	cl = memmem(buf, hlen, "Content-Length:", 15);
	if (!cl)
		cl = memmem(buf, hlen, "content-length:", 15);
	blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
	if (hlen + blen > len)
		return 0;
	*error = strncmp(buf + 9, "200", 3) || memmem(buf + hlen, blen, "\"Error\"", 7);
	return hlen + blen;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int do_run(int argc, char **argv)
{
	const char *host = argv[2];
	int ports[64], nports = 0, nconn = atoi(argv[4]), ep;
	double *lat = NULL, p50 = 0, p99 = 0;
	size_t nlat = 0, caplat = 0;
	double secs = atof(argv[5]), t0, end;
	static struct conn conns[MAX_CONNS];
	enum { REQS = 64 };
	static char req[REQS][65536];
	size_t reqlen[REQS];
	int nreq = argc - 6;
	unsigned long done = 0, errors = 0;
	struct epoll_event evs[64];

	for (char *p = argv[3]; *p && nports < 64; p += strspn(p, ","))
		ports[nports++] = (int)strtol(p, &p, 10);
	if (nreq < 1 || nreq > REQS || !nports || nconn < 1 || nconn > MAX_CONNS || secs <= 0 ||
	    secs > 300)
		return 2;
	for (int i = 0; i < nreq; i++) {
		FILE *f = fopen(argv[6 + i], "rb");

		if (!f)
			return 2;
		reqlen[i] = fread(req[i], 1, sizeof(req[i]), f);
		fclose(f);
	}
	ep = epoll_create1(0);
	for (int i = 0; i < nconn; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};

		conns[i].fd = conn_open(host, ports[i % nports]);
		conns[i].req = req[i % nreq];
		conns[i].reqlen = reqlen[i % nreq];
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	/* Requests are small: each goes out whole into an empty socket buffer. */
	t0 = now_s();
	for (int i = 0; i < nconn; i++) {
		conns[i].sent = t0;
		if (send(conns[i].fd, conns[i].req, conns[i].reqlen, MSG_NOSIGNAL) !=
		    (ssize_t)conns[i].reqlen)
			return 1;
	}
	end = t0 + secs;
	while (now_s() < end) {
		int n = epoll_wait(ep, evs, 64, 100);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r;

			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				size_t len;
				int err;

				r = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					fprintf(stderr, "connection closed by the server\n");
					return 1;
				}
				if (r > 0)
					c->rlen += (size_t)r;
				while ((len = response_len(c->rbuf, c->rlen, &err))) {
					double t = now_s();

					if (nlat == caplat) {
						caplat = caplat ? caplat * 2 : 65536;
						lat = realloc(lat, caplat * sizeof(*lat));
						if (!lat)
							return 1;
					}
					lat[nlat++] = t - c->sent;
					c->sent = t;
					if (err && !errors) /* the first one says why */
						fprintf(stderr, "error reply: %.*s\n",
							(int)(len < 600 ? len : 600), c->rbuf);
					done++;
					errors += (unsigned long)err;
					memmove(c->rbuf, c->rbuf + len, c->rlen - len);
					c->rlen -= len;
					/* One request in flight per connection. */
					if (send(c->fd, c->req, c->reqlen, MSG_NOSIGNAL) !=
					    (ssize_t)c->reqlen)
						return 1;
				}
			}
		}
	}
	secs = now_s() - t0;
	if (nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_double);
		p50 = lat[nlat / 2];
		p99 = lat[nlat * 99 / 100];
	}
	free(lat);
	printf("requests=%lu errors=%lu seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", done,
	       errors, secs, (double)done / secs, p50 * 1000, p99 * 1000);
	return 0;
}

static int do_once(char **argv)
{
	char req[65536], buf[RBUF];
	size_t reqlen, len = 0, rl;
	FILE *f = fopen(argv[4], "rb");
	int fd, err = 0;

	if (!f)
		return 2;
	reqlen = fread(req, 1, sizeof(req), f);
	fclose(f);
	fd = conn_open(argv[2], atoi(argv[3]));
	fcntl(fd, F_SETFL, 0);
	if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		return 1;
	while (!(rl = response_len(buf, len, &err))) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (r <= 0)
			return 1;
		len += (size_t)r;
	}
	fwrite(strstr(buf, "\r\n\r\n") + 4, 1, rl - (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf),
	       stdout);
	putchar('\n');
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "once"))
		return do_once(argv);
	if (argc == 7 && !strcmp(argv[1], "sign"))
		return do_sign(argc, argv);
	if (argc >= 7 && !strcmp(argv[1], "run"))
		return do_run(argc, argv);
	fprintf(stderr, "usage: load sign ACTION JSON HOST:PORT SECRET_ID SECRET_KEY\n"
			"       load run HOST PORT[,PORT...] CONNECTIONS SECONDS REQUEST_FILE...\n"
			"       load once HOST PORT REQUEST_FILE\n");
	return 2;
}
