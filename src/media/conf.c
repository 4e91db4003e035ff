/* media conf: the [media] section of the config file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <re.h>
#include "conf/conf.h"
#include "media/media_int.h"

static int codecs_parse(const char *s, struct media_conf *mc)
{
	return media_codecs_parse(s, mc->prefer, &mc->ncodecs);
}

/* The TTS program must exist when the config is read, so a typo is a start-up error rather
 * than silence on the first non-English prompt. */
static bool program_found(const char *cmd)
{
	char prog[256], path[1024];
	const char *env = getenv("PATH"), *p;
	size_t n = strcspn(cmd, " \t");

	if (n == 0 || n >= sizeof(prog))
		return false;
	memcpy(prog, cmd, n);
	prog[n] = '\0';
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	for (p = env ? env : "/usr/bin:/bin"; *p;) {
		size_t dl = strcspn(p, ":");

		if (snprintf(path, sizeof(path), "%.*s/%s", (int)dl, p, prog) < (int)sizeof(path) &&
		    access(path, X_OK) == 0)
			return true;
		p += dl;
		if (*p == ':')
			p++;
	}
	return false;
}

int media_conf_read(const struct conf *cf, struct media_conf *mc, struct conf_err *err)
{
	static const char *const voices[] = {"kal", NULL};
	const struct conf_section *sec = conf_section_first(cf, "media");
	static const char *const latches[] = {"yes", "any", "no", NULL};
	const char *ip, *ext, *codecs, *cmd, *dir;
	uint64_t pmin, pmax, workers, timeout, cache, rtcp, prio;
	struct sa sa;
	int rc, voice, latch;

	if (!mc || !err)
		return EINVAL;
	memset(mc, 0, sizeof(*mc));
	rc = conf_str(sec, "rtp_ip", "127.0.0.1", &ip, err);
	rc = rc ? rc : conf_str(sec, "external_ip", "", &ext, err);
	rc = rc ? rc : conf_choice(sec, "symmetric_rtp", "yes", latches, &latch, err);
	rc = rc ? rc : conf_uint(sec, "port_min", 20000, 1024, 65534, &pmin, err);
	rc = rc ? rc : conf_uint(sec, "port_max", 29999, 1025, 65535, &pmax, err);
	rc = rc ? rc : conf_uint(sec, "workers", 0, 0, 64, &workers, err);
	rc = rc ? rc : conf_uint(sec, "rtp_timeout_ms", 30000, 0, 3600000, &timeout, err);
	rc = rc ? rc : conf_str(sec, "codecs", "PCMU,PCMA", &codecs, err);
	rc = rc ? rc : conf_uint(sec, "prompt_cache_bytes", 64u << 20, 0, (uint64_t)1 << 40,
				 &cache, err);
	rc = rc ? rc : conf_choice(sec, "tts_voice", "kal", voices, &voice, err);
	rc = rc ? rc : conf_str(sec, "tts_command", "", &cmd, err);
	rc = rc ? rc : conf_str(sec, "recording_dir", "var/recordings", &dir, err);
	rc = rc ? rc : conf_uint(sec, "rtcp_interval_ms", 5000, 100, 60000, &rtcp, err);
	rc = rc ? rc : conf_uint(sec, "rt_priority", 10, 0, 99, &prio, err);
	if (rc)
		return rc;

	if (strlen(ip) >= sizeof(mc->rtp_ip) || sa_set_str(&sa, ip, 0) || sa_is_any(&sa)) {
		conf_err_set(err, conf_key_line(sec, "rtp_ip"),
			     "rtp_ip: '%s' is not a numeric IP address peers can reach "
			     "(it is advertised in SDP, so not 0.0.0.0 or ::)", ip);
		return EINVAL;
	}
	if (*ext && (strlen(ext) >= sizeof(mc->external_ip) || sa_set_str(&sa, ext, 0) ||
		     sa_is_any(&sa))) {
		conf_err_set(err, conf_key_line(sec, "external_ip"),
			     "external_ip: '%s' is not a numeric IP address peers can reach", ext);
		return EINVAL;
	}
	pmin += pmin & 1; /* RTP on even ports, RTCP on the odd one above */
	if (pmin + 1 > pmax) {
		conf_err_set(err, conf_key_line(sec, "port_max"),
			     "port_max must leave room for one RTP/RTCP pair above port_min");
		return EINVAL;
	}
	if (timeout && timeout < 100) {
		conf_err_set(err, conf_key_line(sec, "rtp_timeout_ms"),
			     "rtp_timeout_ms must be 0 (off) or at least 100");
		return EINVAL;
	}
	if (codecs_parse(codecs, mc)) {
		conf_err_set(err, conf_key_line(sec, "codecs"),
			     "codecs: '%s' is not a list of at most 4 of PCMU, PCMA, G722 and opus, e.g. PCMU,PCMA",
			     codecs);
		return EINVAL;
	}
	if (strlen(cmd) >= sizeof(mc->tts_command)) {
		conf_err_set(err, conf_key_line(sec, "tts_command"), "tts_command is too long");
		return EINVAL;
	}
	if (*cmd && !program_found(cmd)) {
		conf_err_set(err, conf_key_line(sec, "tts_command"),
			     "tts_command: program '%.*s' not found", (int)strcspn(cmd, " \t"),
			     cmd);
		return EINVAL;
	}
	if (!*dir || strlen(dir) >= sizeof(mc->recording_dir)) {
		conf_err_set(err, conf_key_line(sec, "recording_dir"),
			     "recording_dir must be a directory path shorter than %zu bytes",
			     sizeof(mc->recording_dir));
		return EINVAL;
	}
	snprintf(mc->rtp_ip, sizeof(mc->rtp_ip), "%s", ip);
	snprintf(mc->external_ip, sizeof(mc->external_ip), "%s", ext);
	mc->latch = (enum media_latch)latch;
	mc->port_min = (uint16_t)pmin;
	mc->port_max = (uint16_t)pmax;
	mc->workers = (unsigned)workers;
	mc->rtp_timeout_ms = (unsigned)timeout;
	mc->prompt_cache_bytes = (size_t)cache;
	snprintf(mc->tts_voice, sizeof(mc->tts_voice), "%s", voices[voice]);
	snprintf(mc->tts_command, sizeof(mc->tts_command), "%s", cmd);
	snprintf(mc->recording_dir, sizeof(mc->recording_dir), "%s", dir);
	mc->rtcp_interval_ms = (unsigned)rtcp;
	mc->rt_priority = (unsigned)prio;
	return 0;
}
