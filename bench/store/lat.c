/* lat: request latency through the signed API, one request at a time, for
 * bench/store/records.sh.
 *
 *   lat HOST PORT SECRET_ID SECRET_KEY < requests
 *
 * Each input line is "LABEL ACTION JSON": the request ACTION with body JSON, signed (TC3,
 * by cccd's own sign module) just before it is sent on one keep-alive connection. The
 * time measured is from the first byte sent to the last byte of the reply. At the end it
 * prints one line per LABEL, in the order labels first appeared:
 *   LABEL n=N errors=E p50=X p99=Y max=Z   (milliseconds)
 * where errors counts replies that are not HTTP 200 or carry an API "Error" (the first
 * one's body goes to stderr). Requests are sequential: the figures are latencies of an
 * otherwise idle server, not of a loaded one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sign/sign.h"

enum { MAX_LABELS = 16, MAX_SAMPLES = 100000, LINE = 8192, RBUF = 1 << 20 };

struct label {
	char name[64];
	double *ms;
	size_t n, errors;
};

static struct label labels[MAX_LABELS];
static size_t n_labels;
static char rbuf[RBUF];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct label *label_get(const char *name)
{
	for (size_t i = 0; i < n_labels; i++) {
		if (!strcmp(labels[i].name, name))
			return &labels[i];
	}
	if (n_labels == MAX_LABELS)
		return NULL;
	snprintf(labels[n_labels].name, sizeof(labels[n_labels].name), "%s", name);
	labels[n_labels].ms = calloc(MAX_SAMPLES, sizeof(double));
	return labels[n_labels].ms ? &labels[n_labels++] : NULL;
}

static int conn_open(const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Sends one signed request and reads its whole reply; returns 0 for a good reply, 1 for
 * an error reply, -1 when the connection failed. */
static int request(int fd, const char *host, const char *id, const char *key,
		   const char *action, const char *json)
{
	struct sign_header sh[2] = {{"content-type", "application/json"}, {"host", host}};
	char hash[SIGN_SHA256_HEX], date[11], auth[600], req[LINE + 1024];
	int64_t ts = (int64_t)time(NULL);
	struct sign_tc3 in = {"POST", "/", "", sh, 2, hash, ts, date, "ccc"};
	size_t len = 0, hlen, blen;
	const char *end, *cl;
	int n;

	sign_sha256_hex(json, strlen(json), hash);
	sign_tc3_date(ts, date);
	if (sign_tc3_authorization(&in, id, key, auth, sizeof(auth)))
		return -1;
	n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: "
		     "application/json\r\nX-TC-Action: %s\r\nX-TC-Version: 2020-02-10\r\n"
		     "X-TC-Timestamp: %lld\r\nAuthorization: %s\r\nContent-Length: %zu\r\n\r\n%s",
		     host, action, (long long)ts, auth, strlen(json), json);
	if (n < 0 || (size_t)n >= sizeof(req) || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	for (;;) {
		ssize_t r = recv(fd, rbuf + len, sizeof(rbuf) - 1 - len, 0);

		if (r <= 0)
			return -1;
		len += (size_t)r;
		end = memmem(rbuf, len, "\r\n\r\n", 4);
		if (!end)
			continue;
		hlen = (size_t)(end - rbuf) + 4;
		cl = memmem(rbuf, hlen, "Content-Length:", 15);
		if (!cl)
			cl = memmem(rbuf, hlen, "content-length:", 15);
		blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
		if (hlen + blen <= len)
			break;
	}
	rbuf[hlen + blen] = '\0';
	if (strncmp(rbuf + 9, "200", 3) || strstr(rbuf + hlen, "\"Error\""))
		return 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const struct label *l, double p)
{
	size_t i = (size_t)(p * (double)l->n);

	return l->n ? l->ms[i < l->n ? i : l->n - 1] : 0;
}

int main(int argc, char **argv)
{
	char line[LINE], host[64], name[64], action[64];
	int fd, first_error = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: lat HOST PORT SECRET_ID SECRET_KEY < requests\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%s:%s", argv[1], argv[2]);
	fd = conn_open(argv[1], atoi(argv[2]));
	while (fgets(line, sizeof(line), stdin)) {
		struct label *l;
		int off = 0, rc;
		double t0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%63s %63s %n", name, action, &off) != 2 || !off)
			continue;
		l = label_get(name);
		if (!l || l->n == MAX_SAMPLES)
			continue;
		t0 = now_ms();
		rc = request(fd, host, argv[3], argv[4], action, line + off);
		if (rc < 0) {
			fprintf(stderr, "lat: connection failed\n");
			return 1;
		}
		l->ms[l->n++] = now_ms() - t0;
		l->errors += (size_t)rc;
		if (rc && first_error) {
			fprintf(stderr, "lat: %s: %s\n", name, strstr(rbuf, "\r\n\r\n") + 4);
			first_error = 0;
		}
	}
	close(fd);
	for (size_t i = 0; i < n_labels; i++) {
		struct label *l = &labels[i];

		qsort(l->ms, l->n, sizeof(double), cmp_double);
		printf("%-28s n=%zu errors=%zu p50=%.2f p99=%.2f max=%.2f\n", l->name, l->n,
		       l->errors, pct(l, 0.50), pct(l, 0.99), l->n ? l->ms[l->n - 1] : 0);
		free(l->ms);
	}
	return 0;
}
