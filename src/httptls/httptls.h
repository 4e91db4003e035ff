/* httptls: HTTPS for cccd's libmicrohttpd listeners (the API, the admin listener) — a
 * certificate and key named in the listener's config section, checked when the config is
 * read, and handed to libmicrohttpd (built with GnuTLS) as options.
 *
 *     [api]
 *     tls_cert = /etc/cccd/api.crt   # PEM: the certificate, then any intermediates
 *     tls_key  = /etc/cccd/api.key   # PEM: its private key (unencrypted)
 *
 * Neither key: plain HTTP. One without the other, a file that cannot be read or parsed,
 * or a key that does not belong to the certificate is a config error naming the line. */
#ifndef CCCD_HTTPTLS_H
#define CCCD_HTTPTLS_H

#include <stdbool.h>
#include <microhttpd.h>

struct conf_section;
struct conf_err;

enum { HTTPTLS_PATH_MAX = 256 };

struct http_tls_conf {
	char cert_file[HTTPTLS_PATH_MAX]; /* "" = plain HTTP */
	char key_file[HTTPTLS_PATH_MAX];
};

/* Reads tls_cert and tls_key of sec (NULL: plain HTTP) and checks the files. */
int http_tls_conf_read(const struct conf_section *sec, struct http_tls_conf *tc,
		       struct conf_err *err);

static inline bool http_tls_on(const struct http_tls_conf *tc)
{
	return tc->cert_file[0] != '\0';
}

/* The PEM text libmicrohttpd is given; owned by the listener (mem_deref), alive as long
 * as its daemon. Reads the files again (they were checked at config time, but may have
 * been replaced since): EINVAL with a log line if they no longer load. */
struct http_tls;
int http_tls_load(struct http_tls **tlsp, const struct http_tls_conf *tc);

/* Fills opt (ending with MHD_OPTION_END) for MHD_OPTION_ARRAY and returns the flag to add
 * to the daemon's flags (MHD_USE_TLS); tls NULL gives no options and no flag. */
enum { HTTPTLS_MHD_OPTIONS = 3 };
unsigned http_tls_mhd_options(const struct http_tls *tls,
			      struct MHD_OptionItem opt[HTTPTLS_MHD_OPTIONS]);

#endif
