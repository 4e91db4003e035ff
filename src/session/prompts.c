/* prompts: the table of decoded prompt files, filled by the threads that load flows (API
 * threads, the inbound refresher, start-up) and read by the control loop when a prompt
 * plays. The loop must never wait on file decoding, so a file is decoded with no lock
 * held; the lock only covers the hash lookups and the insertion, which are short. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "session/session_int.h"

enum { PROMPTS_HASH_BUCKETS = 256 };

/* Owner: the manager. Entries are only added until the table is freed, so a prompt found
 * here stays valid while the manager lives, without a reference taken under the lock. */
struct session_prompts {
	pthread_mutex_t lock;           /* guards `files` (lookups and insertions) */
	struct hash *files;             /* path → struct prompt_entry, owned */
	session_prompt_decode_h *decode;
	void *arg;
};

/* A decoded prompt file. Owner: the table's hash. */
struct prompt_entry {
	struct le he;
	char *path;
	struct media_prompt *prompt;    /* owned */
};

static void prompt_entry_destructor(void *arg)
{
	struct prompt_entry *e = arg;

	hash_unlink(&e->he);
	mem_deref(e->path);
	mem_deref(e->prompt);
}

static bool prompt_match(struct le *le, void *arg)
{
	return !strcmp(((struct prompt_entry *)le->data)->path, arg);
}

/* With t->lock held. */
static struct prompt_entry *prompt_find(const struct session_prompts *t, const char *path)
{
	return list_ledata(hash_lookup(t->files, hash_joaat_str(path), prompt_match,
				       (void *)path));
}

static void prompts_destructor(void *arg)
{
	struct session_prompts *t = arg;

	hash_flush(t->files);
	mem_deref(t->files);
	pthread_mutex_destroy(&t->lock);
}

int session_prompts_alloc(struct session_prompts **tp, session_prompt_decode_h *decode,
			  void *arg)
{
	struct session_prompts *t;
	int err;

	if (!tp || !decode)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), prompts_destructor);
	if (!t)
		return ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	err = hash_alloc(&t->files, PROMPTS_HASH_BUCKETS);
	if (err) {
		mem_deref(t);
		return err;
	}
	t->decode = decode;
	t->arg = arg;
	*tp = t;
	return 0;
}

int session_prompts_load(struct session_prompts *t, const char *path)
{
	struct prompt_entry *e;
	bool known;
	int err;

	if (!t || !path)
		return EINVAL;
	pthread_mutex_lock(&t->lock);
	known = prompt_find(t, path) != NULL;
	pthread_mutex_unlock(&t->lock);
	if (known)
		return 0;

	e = mem_zalloc(sizeof(*e), prompt_entry_destructor);
	if (!e || str_dup(&e->path, path)) {
		mem_deref(e);
		return ENOMEM;
	}
	err = t->decode(path, &e->prompt, t->arg);
	if (err) {
		mem_deref(e);
		return err;
	}
	/* Another thread may have decoded the same file meanwhile: the first entry stays
	 * (the loop may already play it), this copy goes. */
	pthread_mutex_lock(&t->lock);
	known = prompt_find(t, path) != NULL;
	if (!known)
		hash_append(t->files, hash_joaat_str(path), &e->he, e);
	pthread_mutex_unlock(&t->lock);
	if (known)
		mem_deref(e);
	return 0;
}

struct media_prompt *session_prompts_get(struct session_prompts *t, const char *path)
{
	struct prompt_entry *e;

	if (!t || !path)
		return NULL;
	pthread_mutex_lock(&t->lock);
	e = prompt_find(t, path);
	pthread_mutex_unlock(&t->lock);
	return e ? e->prompt : NULL;
}
