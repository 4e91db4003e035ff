/* floor: what N full-duplex G.711 calls cost in packets, on loopback. Built by floor.sh.
 *
 *   floor bare N SECONDS    the floor: a bare loop that sends and receives the packets of
 *                           N calls (both ends, 50 packets/s each way) with sendmmsg and
 *                           recvmmsg on epoll and ONE timerfd in 10 phase slots; once with
 *                           a socket per call end (what RTP with a port per call needs),
 *                           once with one socket for all the "cccd" ends (the batching a
 *                           shared port would allow).
 *   floor media N SECONDS   N streams of cccd's media engine, each playing a prompt in a
 *                           loop to a peer thread that also sends it 50 packets/s; prints
 *                           send jitter (arrival interval minus 20 ms) p50/p99, CPU and
 *                           memory per stream.
 *
 * Prints figures; asserts nothing. Every loop ends after SECONDS. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sndfile.h>
#include <re.h>
#include "media/media.h"

enum { SLOTS = 10, PKT = 172, BATCH = 32, MAX_CALLS = 5000 };

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int udp_open(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(*addr);
	int rcvbuf = 1 << 20;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &len)) {
		perror("udp socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static int timer_open(long period_ns)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{0, period_ns}, {0, period_ns}};

	timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

/* Drains a socket; returns packets read. */
static int drain(int fd, uint8_t (*bufs)[PKT + 64])
{
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	int total = 0, n;

	do {
		memset(msg, 0, sizeof(msg));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = PKT + 64;
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msg, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			total += n;
	} while (n == BATCH);
	return total;
}

/* ---- bare ------------------------------------------------------------------------ */

static void bare_run(int n, double secs, bool shared)
{
	static uint8_t bufs[BATCH][PKT + 64], pkt[PKT];
	struct sockaddr_in *aaddr = calloc((size_t)n, sizeof(*aaddr));
	struct sockaddr_in *baddr = calloc((size_t)n, sizeof(*baddr));
	struct mmsghdr *msg = calloc((size_t)n, sizeof(*msg));
	struct iovec iov = {pkt, PKT};
	int *a = calloc((size_t)n, sizeof(int)), *b = calloc((size_t)n, sizeof(int));
	int ep = epoll_create1(0), tfd = timer_open(20000000 / SLOTS);
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	long sent = 0, recvd = 0, syscalls = 0;
	double t0 = 0, c0 = 0, end;
	uint64_t tick = 0;
	bool measuring = false;

	memset(pkt, 0xFF, sizeof(pkt));
	pkt[0] = 0x80;
	for (int i = 0; i < n; i++) {
		if (!shared || i == 0)
			a[i] = udp_open(&aaddr[i]);
		else {
			a[i] = a[0];
			aaddr[i] = aaddr[0];
		}
		b[i] = udp_open(&baddr[i]);
		if (!shared || i == 0) {
			ev.data.fd = a[i];
			epoll_ctl(ep, EPOLL_CTL_ADD, a[i], &ev);
		}
		ev.data.fd = b[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, b[i], &ev);
	}
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	end = now_s() + 0.5 + secs;
	while (now_s() < end) {
		int k = epoll_wait(ep, evs, 256, 100);

		if (!measuring && now_s() > end - secs) { /* after half a second of warm-up */
			measuring = true;
			sent = recvd = syscalls = 0;
			t0 = now_s();
			c0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
		}
		for (int e = 0; e < k; e++) {
			int fd = evs[e].data.fd;

			if (fd == tfd) {
				uint64_t exp;
				int m = 0;

				if (read(tfd, &exp, sizeof(exp)) != sizeof(exp))
					continue;
				/* Expirations missed while descheduled are caught up (a bounded
				 * number), so the floor always moves the whole rate. */
				for (exp = exp > 2 * SLOTS ? 2 * SLOTS : exp; exp > 0; exp--, tick++) {
					m = 0;
					for (int i = (int)(tick % SLOTS); i < n; i += SLOTS) {
						/* the "cccd" end: batched per socket */
						memset(&msg[m], 0, sizeof(msg[m]));
						msg[m].msg_hdr.msg_iov = &iov;
						msg[m].msg_hdr.msg_iovlen = 1;
						msg[m].msg_hdr.msg_name = &baddr[i];
						msg[m].msg_hdr.msg_namelen = sizeof(baddr[i]);
						if (!shared) {
							sent += sendmmsg(a[i], &msg[m], 1, 0) == 1;
							syscalls++;
						} else {
							m++;
						}
						/* the peer end */
						sent += sendto(b[i], pkt, PKT, 0, (struct sockaddr *)&aaddr[i],
							       sizeof(aaddr[i])) == PKT;
						syscalls++;
					}
					for (int off = 0; off < m; off += 1024) {
						int r = sendmmsg(a[0], msg + off, (unsigned)(m - off < 1024 ? m - off : 1024), 0);

						sent += r > 0 ? r : 0;
						syscalls++;
					}
				}
			} else {
				recvd += drain(fd, bufs);
				syscalls++;
			}
		}
	}
	{
		double dt = now_s() - t0, cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - c0;

		/* Per call from the cost per packet: a loop that cannot keep up (one core) moves
		 * fewer packets than the calls need, and CPU per call would read too low. */
		double per_pkt = 1e6 * cpu / (double)(sent + recvd), per_call = 200 * per_pkt;

		printf("  %-26s calls %5d  sent %8.0f pkt/s (of %d)  received %8.0f pkt/s  "
		       "CPU %5.1f%% of a core  %5.2f us per packet  %6.2f us CPU per call-second  "
		       "fits %.0f calls on %ld cores\n",
		       shared ? "one socket for cccd ends" : "a socket per call end", n,
		       sent / dt, 100 * n, recvd / dt, 100 * cpu / dt, per_pkt, per_call,
		       1e6 * (double)sysconf(_SC_NPROCESSORS_ONLN) / per_call,
		       sysconf(_SC_NPROCESSORS_ONLN));
	}
	for (int i = 0; i < n; i++) {
		if (!shared || i == 0)
			close(a[i]);
		close(b[i]);
	}
	close(tfd);
	close(ep);
	free(a);
	free(b);
	free(aaddr);
	free(baddr);
	free(msg);
}

/* ---- media ----------------------------------------------------------------------- */

struct peer {
	int n;
	int *fd;
	struct sockaddr_in *dst;   /* the streams' local addresses */
	double *last;              /* last arrival per stream */
	long hist[20001];          /* |interval - 20 ms| in µs, capped */
	long samples, recvd, sent;
	volatile bool stop;
	volatile bool measuring;
	double cpu;                /* this thread's CPU while measuring */
};

static void *peer_main(void *arg)
{
	static uint8_t bufs[BATCH][PKT + 64], pkt[PKT];
	struct peer *p = arg;
	int ep = epoll_create1(0), tfd = timer_open(20000000 / SLOTS);
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	uint64_t tick = 0;
	double c0 = 0;
	bool was = false;

	memset(pkt, 0xFF, sizeof(pkt));
	pkt[0] = 0x80;
	for (int i = 0; i < p->n; i++) {
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, p->fd[i], &ev);
	}
	ev.data.u32 = UINT32_MAX;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	while (!p->stop) {
		int k = epoll_wait(ep, evs, 256, 100);
		double t = now_s();

		if (p->measuring && !was) {
			was = true;
			c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		}
		for (int e = 0; e < k; e++) {
			uint32_t i = evs[e].data.u32;

			if (i == UINT32_MAX) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) != sizeof(exp))
					continue;
				for (int s = (int)(tick % SLOTS); s < p->n; s += SLOTS) {
					pkt[1] = 0; /* PCMU */
					p->sent += sendto(p->fd[s], pkt, PKT, 0, (struct sockaddr *)&p->dst[s],
							  sizeof(p->dst[s])) == PKT;
				}
				tick++;
				continue;
			}
			for (int got = drain(p->fd[i], bufs); got > 0; got--) {
				if (p->measuring && p->last[i] > 0) {
					long us = lround(fabs((t - p->last[i]) * 1e6 - 20000));

					p->hist[us > 20000 ? 20000 : us]++;
					p->samples++;
				}
				p->recvd += p->measuring;
				p->last[i] = t;
			}
		}
	}
	if (was)
		p->cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	close(tfd);
	close(ep);
	return NULL;
}

static long percentile(const struct peer *p, double q)
{
	long want = (long)(q * (double)p->samples), acc = 0;

	for (int us = 0; us <= 20000; us++) {
		acc += p->hist[us];
		if (acc > want)
			return us;
	}
	return 20000;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void media_event(struct media_stream *ms, const struct media_event *ev, void *arg)
{
	(void)ms;
	(void)ev;
	(void)arg;
}

static void stop_loop(void *arg)
{
	(void)arg;
	re_cancel();
}

static struct peer *g_peer;

static void start_measuring(void *arg)
{
	*(double *)arg = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
	g_peer->measuring = true;
}

static void media_run(int n, double secs)
{
	struct media_conf mc = {.rtp_ip = "127.0.0.1", .port_min = 21000, .port_max = 21999,
				.workers = 0, .prompt_cache_bytes = 1 << 20,
				.rtcp_interval_ms = 5000, .tts_voice = "kal",
				.recording_dir = "/tmp/cccd-floor-rec"};
	struct media_stream **ms = calloc((size_t)n, sizeof(*ms));
	struct peer *p = calloc(1, sizeof(*p));
	SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	struct media_prompt *prompt = NULL;
	struct media *m = NULL;
	struct tmr t_stop, t_meas;
	char why[256];
	const char *wav = "/tmp/cccd-floor-prompt.wav";
	int16_t pcm[16000];
	double c0 = 0, t0, dt, cpu, main_c0;
	long rss0, rss1;
	pthread_t th;
	SNDFILE *sf;

	for (int i = 0; i < 16000; i++)
		pcm[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * i / 8000.0));
	sf = sf_open(wav, SFM_WRITE, &info);
	sf_writef_short(sf, pcm, 16000);
	sf_close(sf);

	if (media_alloc(&m, &mc) || media_prompt_file(m, wav, &prompt, why, sizeof(why))) {
		fprintf(stderr, "media start failed %s\n", why);
		exit(1);
	}
	p->n = n;
	p->fd = calloc((size_t)n, sizeof(int));
	p->dst = calloc((size_t)n, sizeof(*p->dst));
	p->last = calloc((size_t)n, sizeof(double));
	rss0 = rss_kib();
	for (int i = 0; i < n; i++) {
		struct sockaddr_in pa;
		struct sa remote, local;
		struct media_params mp = {.remote = &remote, .codec = MEDIA_PCMU, .telev_pt = 101,
					  .ptime_ms = 20};
		uint32_t id;
		int err;

		p->fd[i] = udp_open(&pa);
		sa_set_sa(&remote, (struct sockaddr *)&pa);
		err = media_stream_alloc(&ms[i], m, media_event, NULL);
		if (err) {
			fprintf(stderr, "stream %d: %s\n", i, strerror(err));
			exit(1);
		}
		media_stream_local(ms[i], &local);
		memcpy(&p->dst[i], &local.u.in, sizeof(p->dst[i]));
		media_stream_start(ms[i], &mp);
		media_play(ms[i], prompt, 0, false, &id);
	}
	rss1 = rss_kib();
	g_peer = p;
	pthread_create(&th, NULL, peer_main, p);
	tmr_init(&t_meas);
	tmr_init(&t_stop);
	tmr_start(&t_meas, 1000, start_measuring, &c0); /* a second of warm-up */
	tmr_start(&t_stop, 1000 + (uint64_t)(secs * 1000), stop_loop, NULL);
	main_c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	t0 = now_s();
	re_main(NULL);
	dt = now_s() - t0 - 1.0;
	p->stop = true;
	pthread_join(th, NULL);
	/* cccd's share: the process minus the peer thread and this (control loop) thread,
	 * which here only waits for the timers. */
	cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - c0 - p->cpu;
	cpu -= cpu_s(CLOCK_THREAD_CPUTIME_ID) - main_c0;
	printf("  media engine: streams %d  workers %ld  received %.0f pkt/s (want %d)\n", n,
	       sysconf(_SC_NPROCESSORS_ONLN), p->recvd / dt, 50 * n);
	printf("  send jitter |interval - 20 ms|: p50 %ld us  p99 %ld us  (%ld intervals)\n",
	       percentile(p, 0.5), percentile(p, 0.99), p->samples);
	printf("  CPU per stream: %.2f%% of a core (%.1f us per stream-second; all streams %.1f%%)\n",
	       100 * cpu / dt / n, 1e6 * cpu / dt / n, 100 * cpu / dt);
	printf("  memory per stream: %.1f KiB (RSS %ld KiB -> %ld KiB)\n",
	       (double)(rss1 - rss0) / n, rss0, rss1);
	for (int i = 0; i < n; i++) {
		mem_deref(ms[i]);
		close(p->fd[i]);
	}
	mem_deref(prompt);
	mem_deref(m);
	unlink(wav);
	rmdir(mc.recording_dir);
	free(p->fd);
	free(p->dst);
	free(p->last);
	free(p);
	free(ms);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 100;
	double secs = argc > 3 ? atof(argv[3]) : 5;

	if (argc < 2 || n < 1 || n > MAX_CALLS || secs <= 0 || secs > 600) {
		fprintf(stderr, "usage: floor bare|media CALLS SECONDS\n");
		return 2;
	}
	if (!strcmp(argv[1], "bare")) {
		bare_run(n, secs, false);
		bare_run(n, secs, true);
		return 0;
	}
	if (!strcmp(argv[1], "media")) {
		if (n > 500) {
			fprintf(stderr, "media: at most 500 streams (ports 21000-21999)\n");
			return 2;
		}
		libre_init();
		media_run(n, secs);
		libre_close();
		return 0;
	}
	fprintf(stderr, "usage: floor bare|media CALLS SECONDS\n");
	return 2;
}
