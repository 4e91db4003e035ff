/* listen: a libmicrohttpd daemon from a struct httpd_listen. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "base/base.h"
#include "conf/conf.h"
#include "httpd/httpd.h"

int httpd_listen_read(const struct conf_section *sec, const char *key, const char *def,
		      struct httpd_listen *l, struct conf_err *err)
{
	const char *v;
	int rc;

	memset(l, 0, sizeof(*l));
	rc = conf_str(sec, key, def, &v, err);
	if (rc || !v[0])
		return rc;
	return conf_addr(sec, key, def, l->host, sizeof(l->host), &l->port, err);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_warn(cls, "http: %s", buf);
}

int httpd_start(struct MHD_Daemon **dp, const char *name, const struct httpd_listen *l,
		unsigned threads, unsigned flags, MHD_AccessHandlerCallback h, void *arg,
		const struct MHD_OptionItem *more)
{
	static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct MHD_Daemon *d;

	if (!dp || !l || !l->port || !h)
		return EINVAL;
	flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (inet_pton(AF_INET, l->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->port);
	}
	else if (inet_pton(AF_INET6, l->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->port);
		flags |= MHD_USE_IPv6;
	}
	else {
		return EINVAL;
	}
	/* one polling thread unless a pool is asked for (libmicrohttpd warns of a pool of 0) */
	d = threads > 1 ?
		MHD_start_daemon(flags, 0, NULL, NULL, h, arg,
				 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)name,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				 MHD_OPTION_THREAD_POOL_SIZE, threads,
				 MHD_OPTION_ARRAY, more ? more : none,
				 MHD_OPTION_END) :
		MHD_start_daemon(flags, 0, NULL, NULL, h, arg,
				 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)name,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				 MHD_OPTION_ARRAY, more ? more : none,
				 MHD_OPTION_END);
	if (!d) {
		log_error(name, "cannot listen on %s:%u", l->host, l->port);
		return EADDRINUSE;
	}
	*dp = d;
	return 0;
}
