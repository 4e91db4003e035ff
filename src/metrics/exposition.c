/* exposition: the Prometheus text format (0.0.4) of every family, and the collectors. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_list.h>
#include "base/base.h"
#include "metrics/metrics.h"
#include "metrics/metrics_int.h"

/* The text being written; a failed allocation marks it failed and later writes do
 * nothing, so writers need not check each line. */
struct metrics_out {
	char *buf;
	size_t len, size;
	bool failed;
};

/* A registered collector. Owner: whoever registered it; the list only points at it. */
struct metrics_collector {
	struct le le;
	metrics_collect_h *h;
	void *arg;
};

static pthread_mutex_t collectors_lock = PTHREAD_MUTEX_INITIALIZER;
static struct list collectors = LIST_INIT;

static void out_printf(struct metrics_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct metrics_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->size - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t size = (o->size + (size_t)n + 1) * 2;
			char *b = realloc(o->buf, size);

			if (!b) {
				o->failed = true;
				return;
			}
			o->buf = b;
			o->size = size;
		}
	}
}

void metrics_family(struct metrics_out *o, const char *name, const char *type,
		    const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(struct metrics_out *o, const char *name, const char *labels,
		    double value)
{
	char v[40];

	if (isnan(value))
		snprintf(v, sizeof(v), "NaN");
	else if (isinf(value))
		snprintf(v, sizeof(v), value > 0 ? "+Inf" : "-Inf");
	else if (fabs(value) < 9e15 && value == (double)(int64_t)value)
		snprintf(v, sizeof(v), "%lld", (long long)value);
	else
		snprintf(v, sizeof(v), "%.9g", value);
	if (labels && labels[0])
		out_printf(o, "%s{%s} %s\n", name, labels, v);
	else
		out_printf(o, "%s %s\n", name, v);
}

/* Label values escape backslash, double quote and line feed (format 0.0.4). */
void metrics_label_escape(char *out, size_t size, const char *value)
{
	size_t n = 0;

	if (!size)
		return;
	for (; *value && n + 2 < size; value++) {
		if (*value == '\\' || *value == '"') {
			out[n++] = '\\';
			out[n++] = *value;
		}
		else if (*value == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		}
		else {
			out[n++] = *value;
		}
	}
	out[n] = '\0';
}

static void collector_destructor(void *arg)
{
	struct metrics_collector *c = arg;

	pthread_mutex_lock(&collectors_lock);
	list_unlink(&c->le);
	pthread_mutex_unlock(&collectors_lock);
}

int metrics_collector_add(struct metrics_collector **cp, metrics_collect_h *h, void *arg)
{
	struct metrics_collector *c;

	if (!cp || !h)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), collector_destructor);
	if (!c)
		return ENOMEM;
	c->h = h;
	c->arg = arg;
	pthread_mutex_lock(&collectors_lock);
	list_append(&collectors, &c->le, c);
	pthread_mutex_unlock(&collectors_lock);
	*cp = c;
	return 0;
}

static void refusals_write(struct metrics_out *o)
{
	char lb[64];

	metrics_family(o, "cccd_fraud_refusals_total", "counter",
		       "Toll-fraud refusals by reason (docs/architecture.md, Toll-fraud refusals).");
	for (unsigned r = 0; r < REFUSAL_N; r++) {
		snprintf(lb, sizeof(lb), "reason=\"%s\"", refusal_name((enum refusal_reason)r));
		metrics_sample(o, "cccd_fraud_refusals_total", lb,
			       (double)refusal_total((enum refusal_reason)r));
	}
}

int metrics_render(char **textp, size_t *lenp)
{
	struct metrics_out o = {0};

	if (!textp || !lenp)
		return EINVAL;
	metrics_counters_write(&o);
	refusals_write(&o);
	/* Scrapes are rare (seconds apart) and a collector reads atomics only, so holding
	 * the list's lock for the walk costs nobody: registration happens at start and stop. */
	pthread_mutex_lock(&collectors_lock);
	for (struct le *le = collectors.head; le; le = le->next) {
		struct metrics_collector *c = le->data;

		c->h(&o, c->arg);
	}
	pthread_mutex_unlock(&collectors_lock);
	if (o.failed || !o.buf) {
		free(o.buf);
		return ENOMEM;
	}
	*textp = o.buf;
	*lenp = o.len;
	return 0;
}
