/* The recogniser threads. Jobs go from the control loop into a bounded queue; each thread
 * takes one, decodes it with its own decoder, puts it on the done list and wakes the loop
 * through a libre mqueue; the loop drains the done list and calls the handlers.
 *
 * Every job sits on exactly one of the pool's lists (queued, running, done) under `lock`,
 * so the pool's destructor frees them all wherever they are: a job the loop will never
 * hear of (its pool is going) is not leaked in the mqueue's pipe — the message carries no
 * job, only "look at the done list". A cancelled job (its run ended) still waiting is
 * freed at once; one being decoded is freed when it comes back, without a call. */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "asr/asr.h"
#include "base/base.h"

struct asr_job {
	struct le le;
	struct asr *asr;
	struct asr_grammar *g;     /* referenced */
	int16_t *pcm;              /* mem copy */
	size_t n;
	asr_done_h *h;             /* NULL once cancelled (loop only) */
	void *arg;
	int err;
	struct asr_result res;
};

struct asr_worker {
	struct asr *asr;
	pthread_t thread;
	bool started;
	void *state;               /* the engine's decoder; this thread's only */
};

struct asr {
	struct asr_conf conf;
	const struct asr_engine *engine;
	pthread_mutex_t lock;      /* guards the lists and stop */
	pthread_cond_t cond;       /* a job queued, or stop */
	struct list queued, running, done;
	bool stop;
	struct mqueue *mq;
	struct asr_worker *workers; /* mem array of conf.threads */
};

static void job_destructor(void *arg)
{
	struct asr_job *job = arg;

	list_unlink(&job->le);
	mem_deref(job->g);
	mem_deref(job->pcm);
	mem_deref(job->res.text);
	mem_deref(job->res.intent);
}

static unsigned thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (unsigned)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void decode(struct asr_worker *w, struct asr_job *job)
{
	const struct asr_engine *e = w->asr->engine;
	unsigned t0 = thread_cpu_ms();
	char *hyp = NULL;

	job->res.confidence = -1;
	job->err = w->state ? e->recognise(w->state, job->g, job->pcm, job->n, &hyp,
					   &job->res.confidence) : ENODEV;
	if (!job->err)
		job->err = asr_grammar_match(job->g, hyp, &job->res);
	job->res.cpu_ms = thread_cpu_ms() - t0;
	mem_deref(hyp);
}

static void *worker_main(void *arg)
{
	struct asr_worker *w = arg;
	struct asr *asr = w->asr;

	if (asr->engine->open(&w->state, &asr->conf))
		w->state = NULL;   /* its jobs fail with ENODEV; the engine logged why */
	pthread_mutex_lock(&asr->lock);
	for (;;) {
		struct le *le;
		bool wake;

		while (!asr->stop && !asr->queued.head)
			pthread_cond_wait(&asr->cond, &asr->lock);
		if (asr->stop)
			break;
		le = asr->queued.head;
		list_unlink(le);
		list_append(&asr->running, le, le->data);
		pthread_mutex_unlock(&asr->lock);
		decode(w, le->data);
		pthread_mutex_lock(&asr->lock);
		list_unlink(le);
		wake = !asr->done.head;
		list_append(&asr->done, le, le->data);
		if (wake && mqueue_push(asr->mq, 0, NULL))
			log_error("asr", "cannot wake the control loop");
	}
	pthread_mutex_unlock(&asr->lock);
	if (w->state)
		asr->engine->close(w->state);
	return NULL;
}

/* On the loop: every finished job to its handler. */
static void mq_handler(int id, void *data, void *arg)
{
	struct asr *asr = arg;
	struct list done = LIST_INIT;
	struct le *le;

	(void)id;
	(void)data;
	pthread_mutex_lock(&asr->lock);
	while ((le = asr->done.head)) {
		list_unlink(le);
		list_append(&done, le, le->data);
	}
	pthread_mutex_unlock(&asr->lock);
	while ((le = done.head)) {
		struct asr_job *job = le->data;

		list_unlink(le);
		if (job->h)
			job->h(job->err, &job->res, job->arg);
		mem_deref(job);
	}
}

static void asr_destructor(void *arg)
{
	struct asr *asr = arg;

	pthread_mutex_lock(&asr->lock);
	asr->stop = true;
	pthread_cond_broadcast(&asr->cond);
	pthread_mutex_unlock(&asr->lock);
	for (unsigned i = 0; asr->workers && i < asr->conf.threads; i++) {
		if (asr->workers[i].started)
			pthread_join(asr->workers[i].thread, NULL);
	}
	list_flush(&asr->queued);
	list_flush(&asr->running);
	list_flush(&asr->done);
	mem_deref(asr->workers);
	mem_deref(asr->mq);
	pthread_cond_destroy(&asr->cond);
	pthread_mutex_destroy(&asr->lock);
}

int asr_alloc(struct asr **asrp, const struct asr_conf *ac)
{
	struct asr *asr;
	int err;

	if (!asrp || !ac || !ac->threads || !ac->queue)
		return EINVAL;
	asr = mem_zalloc(sizeof(*asr), asr_destructor);
	if (!asr)
		return ENOMEM;
	asr->conf = *ac;
	asr->engine = asr_engine_find(ac->engine);
	pthread_mutex_init(&asr->lock, NULL);
	pthread_cond_init(&asr->cond, NULL);
	if (!asr->engine) {
		err = ENOTSUP;
		goto out;
	}
	err = mqueue_alloc(&asr->mq, mq_handler, asr);
	if (err)
		goto out;
	asr->workers = mem_zalloc(ac->threads * sizeof(*asr->workers), NULL);
	if (!asr->workers) {
		err = ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < ac->threads && !err; i++) {
		struct asr_worker *w = &asr->workers[i];

		w->asr = asr;
		err = pthread_create(&w->thread, NULL, worker_main, w);
		w->started = !err;
	}
 out:
	if (err)
		mem_deref(asr);
	else
		*asrp = asr;
	return err;
}

int asr_submit(struct asr *asr, struct asr_job **jobp, const struct asr_grammar *g,
	       const void *pcm, size_t n, asr_done_h *h, void *arg)
{
	struct asr_job *job;
	int err = 0;

	if (!asr || !jobp || !g || (!pcm && n) || !h)
		return EINVAL;
	job = mem_zalloc(sizeof(*job), job_destructor);
	if (!job)
		return ENOMEM;
	job->pcm = mem_alloc(n ? n * sizeof(*job->pcm) : 1, NULL);
	if (!job->pcm) {
		mem_deref(job);
		return ENOMEM;
	}
	if (n)
		memcpy(job->pcm, pcm, n * sizeof(*job->pcm));
	job->n = n;
	job->g = mem_ref((void *)g);
	job->asr = asr;
	job->h = h;
	job->arg = arg;
	pthread_mutex_lock(&asr->lock);
	if (list_count(&asr->queued) >= asr->conf.queue)
		err = EBUSY;
	else {
		list_append(&asr->queued, &job->le, job);
		pthread_cond_signal(&asr->cond);
	}
	pthread_mutex_unlock(&asr->lock);
	if (err) {
		mem_deref(job);
		return err;
	}
	*jobp = job;
	return 0;
}

/* A job still waiting goes at once (a caller who hung up costs no decoding); one being
 * decoded or done is dropped when the loop drains it. */
void asr_cancel(struct asr_job *job)
{
	bool queued;

	if (!job)
		return;
	job->h = NULL;
	pthread_mutex_lock(&job->asr->lock);
	queued = job->le.list == &job->asr->queued;
	if (queued)
		list_unlink(&job->le);
	pthread_mutex_unlock(&job->asr->lock);
	if (queued)
		mem_deref(job);
}

size_t asr_queued(struct asr *asr)
{
	size_t n;

	if (!asr)
		return 0;
	pthread_mutex_lock(&asr->lock);
	n = list_count(&asr->queued);
	pthread_mutex_unlock(&asr->lock);
	return n;
}

const struct asr_conf *asr_config(const struct asr *asr)
{
	return asr ? &asr->conf : NULL;
}
