/* peer: the media end of the calls bench's sipp calls. sipp (bench/calls/run.sh) does the
 * signalling and puts this program's port in every call's SDP, so cccd sends the RTP of
 * every call here. The peer
 *   - answers each stream's packets with its own (the same payload, under its own SSRC,
 *     sequence and timestamps, back to the address they came from: symmetric RTP), so cccd
 *     receives 50 packets/s per call as it would from a phone;
 *   - presses key 1 (RFC 4733, payload type 101) once per stream, DTMF_AFTER packets after
 *     the stream's first one, in place of that much audio;
 *   - measures cccd's send jitter on every stream: the kernel's receive timestamp
 *     (SO_TIMESTAMPNS) of each packet that follows its predecessor directly (next sequence
 *     number, 160 samples later), minus 20 ms. On loopback a packet is stamped inside
 *     cccd's sendmmsg, so the figure is cccd's pacing, not this program's scheduling;
 *   - counts the gaps in each stream's sequence numbers as lost packets, and says how many
 *     of them the kernel dropped at this program's own socket (SO_RXQ_OVFL: the load
 *     generator fell behind), so the rest are packets cccd never sent.
 *
 *   peer PORT SECONDS [CLOCK]
 *
 * CLOCK is the codec's RTP clock rate (8000, the default, for G.711 and G.722; 48000 for
 * Opus): a frame is CLOCK / 50 timestamp units, key durations too. Any audio payload type
 * is echoed (PCMU, PCMA, G.722, Opus's dynamic one): cccd decodes what it receives.
 *
 * It runs at normal priority, below cccd's real-time media workers: at the same real-time
 * priority it would hold a core for long stretches (it drains its socket until empty) and
 * starve cccd's control loop, which is not what a phone network does to a server.
 * It runs for at most SECONDS. SIGUSR1 starts a measuring window (counters reset);
 * SIGUSR2 prints one line for the window so far. One thread, one socket (and one for
 * RTCP, drained), recvmmsg/sendmmsg; it uses no timer: it answers as packets come.
 * Prints figures; asserts nothing. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

enum {
	BATCH = 64,
	DRAIN_ROUNDS = 16,
	PKT_MAX = 512,
	DTMF_AFTER = 50,         /* packets: one second into the stream */
	DTMF_FRAMES = 5,         /* 100 ms of key */
	DTMF_ENDS = 3,           /* end packets, sent together */
	TEV_PT = 101,
	IDLE_NS_RESET = 2000000000, /* a port quiet this long starts a new stream */
	HIST_MAX_US = 100000,
};

struct stream {
	int64_t last_ns;         /* 0: no stream */
	uint32_t in_ssrc, in_ts;
	uint16_t in_seq;
	uint32_t ssrc, ts;       /* ours */
	uint16_t seq;
	uint32_t pkts;           /* received in this stream */
	uint32_t ev_ts;          /* the key's timestamp */
	uint8_t ev_frames;       /* key frames sent so far; 0xFF done */
	int64_t window;          /* the window it was last counted in */
};

static struct stream streams[65536];
static uint32_t hist[HIST_MAX_US + 1];
static uint64_t samples, recvd, echoed, lost, keys, rtcp, bad, active;
static uint32_t ovfl, ovfl_at_start; /* the socket's drop counter: now, at the window's start */
static int64_t window = 1;
static struct timespec win_t0, win_c0;

static double ts_s(const struct timespec *t)
{
	return (double)t->tv_sec + t->tv_nsec / 1e9;
}

static void window_start(void)
{
	memset(hist, 0, sizeof(hist));
	samples = recvd = echoed = lost = keys = rtcp = bad = active = 0;
	ovfl_at_start = ovfl;
	window++;
	clock_gettime(CLOCK_MONOTONIC, &win_t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &win_c0);
}

static double percentile_ms(double q)
{
	uint64_t want = (uint64_t)(q * (double)samples), acc = 0;

	for (unsigned us = 0; us <= HIST_MAX_US; us++) {
		acc += hist[us];
		if (acc > want)
			return us / 1000.0;
	}
	return HIST_MAX_US / 1000.0;
}

static void window_print(void)
{
	struct timespec t, c;
	double dt, cpu, max = 0;

	clock_gettime(CLOCK_MONOTONIC, &t);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	dt = ts_s(&t) - ts_s(&win_t0);
	cpu = ts_s(&c) - ts_s(&win_c0);
	for (unsigned us = HIST_MAX_US + 1; us-- > 0;)
		if (hist[us]) {
			max = us / 1000.0;
			break;
		}
	printf("peer streams %llu  received %.0f pkt/s  sent %.0f pkt/s  lost %llu  "
	       "dropped_by_peer %u  "
	       "jitter_p50_ms %.3f  jitter_p99_ms %.3f  jitter_max_ms %.3f  intervals %llu  "
	       "keys %llu  rtcp %llu  bad %llu  peer_cpu_pct %.1f\n",
	       (unsigned long long)active, dt > 0 ? recvd / dt : 0, dt > 0 ? echoed / dt : 0,
	       (unsigned long long)lost, ovfl - ovfl_at_start, percentile_ms(0.5), percentile_ms(0.99), max,
	       (unsigned long long)samples, (unsigned long long)keys, (unsigned long long)rtcp,
	       (unsigned long long)bad, dt > 0 ? 100 * cpu / dt : 0);
	fflush(stdout);
}

static int udp_bind(uint16_t port, bool stamp)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1, buf = 32 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "peer: udp port %u: %s\n", port, strerror(errno));
		exit(1);
	}
	/* Room for a burst of every stream at once; FORCE needs root, else the sysctl cap. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (stamp) {
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	}
	return fd;
}

/* The packet's kernel receive time; notes the socket's drop counter on the way. */
static int64_t stamp_ns(struct msghdr *h)
{
	int64_t ns = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec t;

			memcpy(&t, CMSG_DATA(c), sizeof(t));
			ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&ovfl, CMSG_DATA(c), sizeof(ovfl));
		}
	}
	return ns;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Timestamp units per 20 ms frame at the codec's clock (main sets it). */
static uint32_t FRAME = 160;

static void header(uint8_t *out, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
		   uint32_t ssrc)
{
	out[0] = 0x80;
	out[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	put16(out + 2, seq);
	put32(out + 4, ts);
	put32(out + 8, ssrc);
}

/* One telephone-event packet for key 1 (RFC 4733 §2.3). */
static size_t key_packet(uint8_t *out, struct stream *s, bool first, bool end, uint16_t dur)
{
	header(out, first, TEV_PT, s->seq++, s->ev_ts, s->ssrc);
	out[12] = 1;
	out[13] = (uint8_t)((end ? 0x80 : 0) | 10);
	put16(out + 14, dur);
	return 16;
}

/* What the peer sends for one received audio packet: the echo, or the key in its place.
 * Returns how many packets it wrote into out[] (each PKT_MAX long), lens[] their sizes. */
static int answer(struct stream *s, const uint8_t *in, size_t len, uint8_t (*out)[PKT_MAX],
		  size_t *lens)
{
	size_t hdr = 12 + 4 * (size_t)(in[0] & 0x0F), pay;
	int n = 0;

	if (s->pkts >= DTMF_AFTER && s->ev_frames != 0xFF) {
		if (s->ev_frames == 0)
			s->ev_ts = s->ts + FRAME;
		s->ts += FRAME;
		s->ev_frames++;
		if (s->ev_frames <= DTMF_FRAMES) {
			lens[n++] = key_packet(out[0], s, s->ev_frames == 1, false,
					       (uint16_t)(FRAME * s->ev_frames));
			return n;
		}
		for (; n < DTMF_ENDS; n++)
			lens[n] = key_packet(out[n], s, false, true, FRAME * DTMF_FRAMES);
		s->ev_frames = 0xFF;
		keys++;
		return n;
	}
	if (len < hdr || len - hdr > PKT_MAX - 12)
		return 0;
	pay = len - hdr;
	s->ts += FRAME;
	header(out[0], false, in[1] & 0x7F, s->seq++, s->ts, s->ssrc);
	memcpy(out[0] + 12, in + hdr, pay);
	lens[0] = 12 + pay;
	return 1;
}

/* Accounts one received packet from port `port` and writes what goes back. */
static int received(uint16_t port, const uint8_t *p, size_t len, int64_t ns,
		    uint8_t (*out)[PKT_MAX], size_t *lens)
{
	struct stream *s = &streams[port];
	uint32_t ssrc, ts;
	uint16_t seq;
	uint8_t pt;

	if (len < 12 || (p[0] >> 6) != 2) {
		bad++;
		return 0;
	}
	pt = p[1] & 0x7F;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	ts = get32(p + 4);
	ssrc = get32(p + 8);
	recvd++;
	if (!s->last_ns || ssrc != s->in_ssrc || ns - s->last_ns > IDLE_NS_RESET) {
		memset(s, 0, sizeof(*s));
		s->in_ssrc = ssrc;
		s->ssrc = (uint32_t)rand() ^ ((uint32_t)port << 16);
		s->seq = (uint16_t)rand();
		s->ts = (uint32_t)rand();
	} else {
		uint16_t gap = (uint16_t)(seq - s->in_seq);

		if (gap > 1 && gap < 1000)
			lost += gap - 1u;
		if (gap == 1 && ts - s->in_ts == FRAME && pt != TEV_PT) {
			int64_t d = ns - s->last_ns - 20000000;
			uint64_t us = (uint64_t)((d < 0 ? -d : d) / 1000);

			hist[us > HIST_MAX_US ? HIST_MAX_US : us]++;
			samples++;
		}
	}
	if (s->window != window) {
		s->window = window;
		active++;
	}
	s->last_ns = ns;
	s->in_seq = seq;
	s->in_ts = ts;
	s->pkts++;
	if (pt == TEV_PT || pt == 13 || (pt >= 72 && pt <= 76)) /* events, CN, RTCP */
		return 0;
	return answer(s, p, len, out, lens);
}

int main(int argc, char **argv)
{
	static uint8_t rbuf[BATCH][PKT_MAX], sbuf[BATCH * DTMF_ENDS][PKT_MAX];
	static struct mmsghdr rmsg[BATCH], smsg[BATCH * DTMF_ENDS];
	static struct iovec riov[BATCH], siov[BATCH * DTMF_ENDS];
	static struct sockaddr_in from[BATCH];
	static char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
	int port = argc > 2 ? atoi(argv[1]) : 0, clock = argc > 3 ? atoi(argv[3]) : 8000;
	int fd, fd_rtcp, sfd, ep;
	double secs = argc > 2 ? atof(argv[2]) : 0;
	struct epoll_event ev = {.events = EPOLLIN}, evs[4];
	struct timespec t;
	sigset_t mask;
	int64_t end_ns;

	if (port < 1024 || port > 65534 || secs <= 0 || secs > 86400 ||
	    (clock != 8000 && clock != 48000)) {
		fprintf(stderr, "usage: peer PORT SECONDS [8000|48000]\n");
		return 2;
	}
	FRAME = (uint32_t)clock / 50;
	srand((unsigned)getpid());
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK);
	fd = udp_bind((uint16_t)port, true);
	fd_rtcp = udp_bind((uint16_t)(port + 1), false);
	ep = epoll_create1(0);
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	ev.data.fd = fd_rtcp;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd_rtcp, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	window_start();
	clock_gettime(CLOCK_MONOTONIC, &t);
	end_ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec + (int64_t)(secs * 1e9);
	for (;;) {
		int k = epoll_wait(ep, evs, 4, 200);

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((int64_t)t.tv_sec * 1000000000 + t.tv_nsec > end_ns)
			break;
		for (int e = 0; e < k; e++) {
			int efd = evs[e].data.fd, n;

			if (efd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						window_start();
					else
						window_print();
				}
				continue;
			}
			/* At most DRAIN_ROUNDS batches before epoll again: a socket that never runs
			 * dry must not keep the signals (the bench's questions) waiting. */
			for (int round = 0; round < DRAIN_ROUNDS; round++) {
				int m = 0;

				for (int i = 0; i < BATCH; i++) {
					riov[i] = (struct iovec){rbuf[i], PKT_MAX};
					rmsg[i].msg_hdr = (struct msghdr){
						.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
						.msg_iov = &riov[i], .msg_iovlen = 1,
						.msg_control = ctl[i], .msg_controllen = sizeof(ctl[i])};
				}
				n = recvmmsg(efd, rmsg, BATCH, MSG_DONTWAIT, NULL);
				if (efd == fd_rtcp) {
					rtcp += n > 0 ? (unsigned)n : 0;
					if (n < BATCH)
						break;
					continue;
				}
				for (int i = 0; i < n; i++) {
					size_t lens[DTMF_ENDS];
					int got = received(ntohs(from[i].sin_port), rbuf[i],
							   rmsg[i].msg_len, stamp_ns(&rmsg[i].msg_hdr),
							   &sbuf[m], lens);

					for (int j = 0; j < got; j++, m++) {
						siov[m] = (struct iovec){sbuf[m], lens[j]};
						smsg[m].msg_hdr = (struct msghdr){
							.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
							.msg_iov = &siov[m], .msg_iovlen = 1};
					}
				}
				for (int off = 0; off < m;) {
					int r = sendmmsg(fd, smsg + off, (unsigned)(m - off), 0);

					if (r <= 0)
						break;
					off += r;
					echoed += (unsigned)r;
				}
				if (n < BATCH)
					break;
			}
		}
	}
	window_print();
	return 0;
}
