/* The engines compiled in, the [speech] settings, and the dictionary check a flow's
 * phrases go through at load. Adding an engine: its file (the vtable of asr.h) and one
 * line in `engines` below; "[speech] engine = <name>" selects it (docs/speech.md). */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "asr/asr.h"
#include "conf/conf.h"

extern const struct asr_engine asr_engine_pocketsphinx;

static const struct asr_engine *const engines[] = {
	&asr_engine_pocketsphinx,
	NULL,
};

const struct asr_engine *asr_engine_find(const char *name)
{
	for (size_t i = 0; name && engines[i]; i++) {
		if (!strcmp(engines[i]->name, name))
			return engines[i];
	}
	return NULL;
}

#define DEFAULT_ENGINE "pocketsphinx"
#define DEFAULT_MODEL "/usr/share/pocketsphinx/model/en-us"
/* The model's parameters adapted to telephone audio (src/asr/adapt/make.sh), installed
 * with cccd in its data folder (the Makefile names it). */
#ifndef CCCD_DATA_DIR
#define CCCD_DATA_DIR "/usr/local/share/cccd"
#endif
#define DEFAULT_ADAPTATION CCCD_DATA_DIR "/asr/en-us-telephone"

void asr_conf_default(struct asr_conf *ac)
{
	memset(ac, 0, sizeof(*ac));
	str_ncpy(ac->engine, DEFAULT_ENGINE, sizeof(ac->engine));
	str_ncpy(ac->model, DEFAULT_MODEL, sizeof(ac->model));
	ac->threads = 1;
	ac->queue = 16;
	ac->upsample = true;
	str_ncpy(ac->adaptation, DEFAULT_ADAPTATION, sizeof(ac->adaptation));
}

int asr_conf_read(const struct conf *cf, struct asr_conf *ac, struct conf_err *err)
{
	const struct conf_section *sec = conf_section_first(cf, "speech");
	const char *engine, *model, *adaptation;
	struct stat sb;
	uint64_t threads, queue;
	int rc;

	asr_conf_default(ac);
	rc = conf_str(sec, "engine", DEFAULT_ENGINE, &engine, err);
	rc = rc ? rc : conf_str(sec, "model", DEFAULT_MODEL, &model, err);
	rc = rc ? rc : conf_uint(sec, "threads", 1, 1, 8, &threads, err);
	rc = rc ? rc : conf_uint(sec, "queue", 16, 1, 1000, &queue, err);
	rc = rc ? rc : conf_bool(sec, "upsample", true, &ac->upsample, err);
	/* the adaptation is of the packaged model: another model has none unless named */
	rc = rc ? rc : conf_str(sec, "adaptation", strcmp(model, DEFAULT_MODEL) ? "" :
				DEFAULT_ADAPTATION, &adaptation, err);
	if (rc)
		return rc;
	if (!asr_engine_find(engine)) {
		conf_err_set(err, conf_key_line(sec, "engine"), "'engine': no engine '%.32s'",
			     engine);
		return EINVAL;
	}
	if (strlen(model) >= sizeof(ac->model)) {
		conf_err_set(err, conf_key_line(sec, "model"), "'model' is too long");
		return EINVAL;
	}
	if (strlen(adaptation) >= sizeof(ac->adaptation)) {
		conf_err_set(err, conf_key_line(sec, "adaptation"), "'adaptation' is too long");
		return EINVAL;
	}
	/* A folder named in the file must be there; the default may not be (cccd run from
	 * its build tree): the engine then says so in the log and uses the model as it is. */
	if (*adaptation && strcmp(adaptation, DEFAULT_ADAPTATION) &&
	    (stat(adaptation, &sb) || !S_ISDIR(sb.st_mode))) {
		conf_err_set(err, conf_key_line(sec, "adaptation"),
			     "'adaptation': '%.200s' is not a folder", adaptation);
		return EINVAL;
	}
	str_ncpy(ac->engine, engine, sizeof(ac->engine));
	str_ncpy(ac->model, model, sizeof(ac->model));
	str_ncpy(ac->adaptation, adaptation, sizeof(ac->adaptation));
	ac->threads = (unsigned)threads;
	ac->queue = (unsigned)queue;
	return 0;
}

int asr_grammar_check(const struct asr_grammar *g, const struct asr_conf *ac, char *bad,
		      size_t sz)
{
	const struct asr_engine *e = ac ? asr_engine_find(ac->engine) : NULL;

	if (!g || !e || !bad || !sz)
		return e ? EINVAL : ENOTSUP;
	bad[0] = '\0';
	for (size_t i = 0; i < g->n_phrases; i++) {
		const char *p = g->phrases[i].text;

		while (*p) {
			size_t l = strcspn(p, " ");
			char w[64];
			bool known = false;
			int err;

			str_ncpy(w, p, l + 1 < sizeof(w) ? l + 1 : sizeof(w));
			err = e->word_known(ac, w, &known);
			if (err)
				return err;
			if (!known) {
				str_ncpy(bad, w, sz);
				return ENOENT;
			}
			p += l;
			p += *p == ' ';
		}
	}
	return 0;
}
