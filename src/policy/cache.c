/* cache: parsed rule sets per instance, so that a CreateIVRSession does not parse its
 * instance's calling rules — JSON, lists, and the work-time zone's file from disk — on
 * every request.
 *
 * The key is the instance and the rule set's text itself, as the request read it from
 * the store. Nothing has to invalidate an entry: a rule set changed on any node (another
 * cccd on the same PostgreSQL, the console, `ccc admin`) is a different text, which the
 * next create reads and does not find, so it parses the new text once and replaces the
 * entry. What the cache saves is the parse; the read stays, in the request's one
 * statement that reads the instance (store_instance_get's rules), so it costs no round
 * trip of its own.
 *
 * Direct-mapped on the instance id: two instances sharing a slot only cost parses. The
 * API threads share it under one mutex held for a lookup or a swap, never for a parse.
 * libre's reference counts are not atomic, so every mem_ref and mem_deref of a cached
 * rule set happens under that mutex: policy_cache_release gives one back. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include "policy/policy.h"

enum { SLOTS = 256 };

struct slot {
	uint64_t sdkappid;         /* 0 = empty */
	char *text;                /* the rule set's text (mem string) */
	struct policy_rules *rules;
};

struct policy_cache {
	const struct policy_data *data;  /* the operator's caps; not owned */
	pthread_mutex_t lock;            /* guards slots and the cached sets' references */
	struct slot slots[SLOTS];
};

static void cache_destructor(void *arg)
{
	struct policy_cache *c = arg;

	for (size_t i = 0; i < SLOTS; i++) {
		mem_deref(c->slots[i].text);
		mem_deref(c->slots[i].rules);
	}
	pthread_mutex_destroy(&c->lock);
}

int policy_cache_alloc(struct policy_cache **cp, const struct policy_data *d)
{
	struct policy_cache *c;

	if (!cp)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), cache_destructor);
	if (!c)
		return ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->data = d;
	*cp = c;
	return 0;
}

static struct slot *slot_of(struct policy_cache *c, uint64_t sdkappid)
{
	return &c->slots[(sdkappid * 0x9e3779b97f4a7c15u) >> 56];
}

static int parse(struct policy_cache *c, const char *text, struct policy_rules **rp,
		 char *why, size_t whysz)
{
	int err = text[0] ? policy_rules_parse(rp, text, strlen(text), why, whysz)
			  : policy_rules_default(rp);

	if (!err)
		policy_rules_operator_caps(*rp, c->data);
	return err;
}

int policy_cache_rules(struct policy_cache *c, uint64_t sdkappid, const char *text,
		       const struct policy_rules **rp, char *why, size_t whysz)
{
	struct policy_rules *r = NULL;
	struct slot *s;
	char *copy = NULL;
	int err;

	if (!c || !sdkappid || !text || !rp)
		return EINVAL;
	s = slot_of(c, sdkappid);
	pthread_mutex_lock(&c->lock);
	if (s->sdkappid == sdkappid && !strcmp(s->text, text))
		r = mem_ref(s->rules);
	pthread_mutex_unlock(&c->lock);
	if (r) {
		*rp = r;
		return 0;
	}

	err = parse(c, text, &r, why, whysz);
	if (err)
		return err;
	/* Not cached when the copy fails: the answer is right, the next create parses. */
	if (str_dup(&copy, text)) {
		*rp = r;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	mem_deref(s->text);
	mem_deref(s->rules);
	*s = (struct slot){sdkappid, copy, mem_ref(r)};
	pthread_mutex_unlock(&c->lock);
	*rp = r;
	return 0;
}

void policy_cache_release(struct policy_cache *c, const struct policy_rules *r)
{
	if (!c || !r)
		return;
	pthread_mutex_lock(&c->lock);
	mem_deref((void *)r);
	pthread_mutex_unlock(&c->lock);
}
