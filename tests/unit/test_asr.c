/* The local recogniser: its grammars and their answers, the recorder's WAV, the dictionary
 * check, the segmenter of digit strings, the flow's local speech node, and the pool — a
 * real decode through the mqueue, a full queue refused at once, a cancelled job never
 * answered, and a pool freed with jobs pending (no leak under ASan). Run from the
 * repository root (tests/data/asr). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <re.h>
#include <sndfile.h>
#include "asr/asr.h"
#include "conf/conf.h"
#include "ivr/ivr.h"

static void test_grammars(void **state)
{
	struct asr_grammar *g = NULL;
	struct asr_phrase ok[] = {{"billing", "pay my bill"}, {"agent", "operator"}};
	struct asr_phrase bad[][1] = {{{"x", "Hello"}}, {{"x", "two  spaces"}}, {{"x", ""}},
				      {{"", "fine"}}, {{"x", " lead"}}, {{"x", "trail "}},
				      {{"x", "a b c d e f g h i"}}};

	(void)state;
	assert_int_equal(asr_grammar_digits(&g, 0, 4), EINVAL);
	assert_int_equal(asr_grammar_digits(&g, 5, 4), EINVAL);
	assert_int_equal(asr_grammar_digits(&g, 1, 21), EINVAL);
	assert_int_equal(asr_grammar_keywords(&g, ok, 0), EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(asr_grammar_keywords(&g, bad[i], 1), EINVAL);
	assert_null(g);

	assert_int_equal(asr_grammar_digits(&g, 2, 3), 0);
	assert_non_null(strstr(g->key, "public <s> = <d> <d> [<d>];"));
	mem_deref(g);
	assert_int_equal(asr_grammar_keywords(&g, ok, 2), 0);
	assert_non_null(strstr(g->key, "public <s> = pay my bill | operator;"));
	mem_deref(g);
}

static void test_match(void **state)
{
	struct asr_grammar *yn, *d, *k;
	struct asr_phrase ph[] = {{"billing", "pay my bill"}, {"agent", "operator"}};
	struct asr_result r = {0};

	(void)state;
	assert_int_equal(asr_grammar_yesno(&yn), 0);
	assert_int_equal(asr_grammar_digits(&d, 4, 6), 0);
	assert_int_equal(asr_grammar_keywords(&k, ph, 2), 0);

	assert_int_equal(asr_grammar_match(yn, "yeah", &r), 0);
	assert_string_equal(r.intent, "yes");
	assert_string_equal(r.text, "yeah");
	assert_int_equal(asr_grammar_match(yn, "nope", &r), 0);
	assert_string_equal(r.intent, "no");
	assert_int_equal(asr_grammar_match(yn, "", &r), ENOENT);

	assert_int_equal(asr_grammar_match(d, "four seven oh nine", &r), 0);
	assert_string_equal(r.text, "4709");
	assert_string_equal(r.intent, "");
	assert_int_equal(asr_grammar_match(d, "four seven", &r), ENOENT);  /* too short */
	assert_int_equal(asr_grammar_match(d, "one two three four five six seven", &r), ENOENT);
	assert_int_equal(asr_grammar_match(d, "four seven banana nine", &r), ENOENT);

	assert_int_equal(asr_grammar_match(k, "pay my bill", &r), 0);
	assert_string_equal(r.intent, "billing");
	assert_int_equal(asr_grammar_match(k, "pay my", &r), ENOENT);
	assert_string_equal(r.text, "pay my");  /* the words, for the path's nomatch: */
	mem_deref(r.text);
	mem_deref(r.intent);
	mem_deref(yn);
	mem_deref(d);
	mem_deref(k);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_wav(void **state)
{
	uint8_t w[44 + 8] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\x02\0\x10\0"
			    "data\x08\0\0\0";
	const uint8_t *pcm;
	size_t n;

	(void)state;
	put32(w + 4, sizeof(w) - 8);
	put32(w + 24, 8000);
	assert_int_equal(asr_wav_pcm(w, sizeof(w), &pcm, &n), 0);
	assert_ptr_equal(pcm, w + 44);
	assert_int_equal(n, 4);
	assert_int_equal(asr_wav_pcm(w, sizeof(w) - 4, &pcm, &n), 0); /* cut short */
	assert_int_equal(n, 2);
	put32(w + 24, 16000);
	assert_int_equal(asr_wav_pcm(w, sizeof(w), &pcm, &n), EINVAL);
	put32(w + 24, 8000);
	memcpy(w + 8, "AVI ", 4);
	assert_int_equal(asr_wav_pcm(w, sizeof(w), &pcm, &n), EINVAL);
	assert_int_equal(asr_wav_pcm(w, 10, &pcm, &n), EINVAL);
}

/* Four "words" of a 1 kHz tone in line noise, 200–400 ms apart: one with a 40 ms dip inside
 * (a closure: still one word) and a 20 ms click between two (not a word). */
static void test_segment(void **state)
{
	enum { N = 8000 * 2 };
	static int16_t pcm[N];
	const size_t word[][2] = {{2400, 4400}, {6000, 8000}, {11200, 13200}, {14800, 15600}};
	struct asr_span spans[8];
	unsigned count, seed = 1;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		pcm[i] = (int16_t)((int)(seed >> 16 & 0x3f) - 32);
	}
	for (size_t w = 0; w < 4; w++) {
		for (size_t i = word[w][0]; i < word[w][1]; i++) {
			bool dip = w == 1 && i >= 6800 && i < 7120;

			pcm[i] = dip ? 0 : (int16_t)((i % 8 < 4 ? 1 : -1) * 8000);
		}
	}
	for (size_t i = 9440; i < 9600; i++)
		pcm[i] = (int16_t)((i % 8 < 4 ? 1 : -1) * 8000);

	assert_int_equal(asr_segment(pcm, N, spans, 8, &count), 0);
	assert_int_equal(count, 4);
	for (size_t w = 0; w < 4; w++) {
		assert_true(spans[w].start <= word[w][0] && spans[w].start + 800 > word[w][0]);
		assert_true(spans[w].end >= word[w][1] && spans[w].end < word[w][1] + 800);
	}
	assert_int_equal(asr_segment(pcm, N, spans, 3, &count), 0);
	assert_true(count > 3);
	assert_int_equal(asr_segment(pcm, 100, spans, 8, &count), 0);
	assert_int_equal(count, 0);
}

static void test_dictionary(void **state)
{
	struct asr_phrase good[] = {{"agent", "talk to an agent"}};
	struct asr_phrase odd[] = {{"agent", "talk to zzqxw"}};
	struct asr_grammar *g;
	struct asr_conf ac;
	char bad[64];

	(void)state;
	asr_conf_default(&ac);
	assert_int_equal(asr_grammar_keywords(&g, good, 1), 0);
	assert_int_equal(asr_grammar_check(g, &ac, bad, sizeof(bad)), 0);
	mem_deref(g);
	assert_int_equal(asr_grammar_keywords(&g, odd, 1), 0);
	assert_int_equal(asr_grammar_check(g, &ac, bad, sizeof(bad)), ENOENT);
	assert_string_equal(bad, "zzqxw");
	str_ncpy(ac.engine, "nosuch", sizeof(ac.engine));
	assert_int_equal(asr_grammar_check(g, &ac, bad, sizeof(bad)), ENOTSUP);
	mem_deref(g);
}

/* ---- the flow's local speech node --------------------------------------------------- */

static int load(const char *params, struct ivr_diag **diag)
{
	char doc[2048];
	struct ivr_flow *flow = NULL;
	int err;

	snprintf(doc, sizeof(doc),
		 "{\"ivrId\":7,\"name\":\"t\",\"type\":\"inbound\",\"nodes\":["
		 "{\"id\":\"s\",\"type\":\"start\",\"next\":\"ask\"},"
		 "{\"id\":\"ask\",\"type\":\"speech\",\"params\":{\"prompt\":{\"tts\":\"Say\"},"
		 "%s},\"next\":\"yes\",\"onFail\":\"end\"},"
		 "{\"id\":\"yes\",\"type\":\"hangup\"},"
		 "{\"id\":\"end\",\"type\":\"hangup\"}]}", params);
	err = ivr_flow_load(&flow, doc, strlen(doc), NULL, diag);
	for (size_t i = 0; getenv("TEST_VERBOSE") && *diag && i < (*diag)->n; i++)
		print_message("%s: %s\n", (*diag)->v[i].field, (*diag)->v[i].msg);
	if (!err) {
		bool ai = true;

		assert_false(ivr_flow_uses_ai(flow));
		assert_true(ivr_flow_local_speech(flow));
		assert_int_equal(ivr_doc_uses_ai(doc, strlen(doc), &ai), 0);
		assert_false(ai);
	}
	mem_deref(flow);
	return err;
}

static void expect_finding(const char *params, const char *field, const char *words)
{
	struct ivr_diag *diag = NULL;
	bool found = false;

	assert_int_equal(load(params, &diag), EINVAL);
	assert_non_null(diag);
	for (size_t i = 0; i < diag->n; i++) {
		if (!strcmp(diag->v[i].field, field) && strstr(diag->v[i].msg, words))
			found = true;
	}
	if (!found) {
		for (size_t i = 0; i < diag->n; i++)
			print_message("%s: %s\n", diag->v[i].field, diag->v[i].msg);
	}
	assert_true(found);
	mem_deref(diag);
}

static void test_flow(void **state)
{
	struct ivr_diag *diag = NULL;

	(void)state;
	assert_int_equal(load("\"engine\":\"local\",\"grammar\":\"yesno\","
			      "\"intents\":{\"yes\":\"yes\"}", &diag), 0);
	assert_int_equal(load("\"engine\":\"local\",\"grammar\":\"digits\","
			      "\"digits\":{\"min\":4,\"max\":8}", &diag), 0);
	assert_int_equal(load("\"engine\":\"local\",\"grammar\":\"keywords\","
			      "\"phrases\":{\"yes\":[\"pay my bill\",\"billing\"],"
			      "\"agent\":[\"operator\"]},\"intents\":{\"yes\":\"yes\"}", &diag),
			 0);
	expect_finding("\"engine\":\"cloud\"", "params.engine", "not url or local");
	expect_finding("\"engine\":\"local\",\"grammar\":\"free\"", "params.grammar",
		       "not one of");
	expect_finding("\"engine\":\"local\"", "params.grammar", "missing");
	expect_finding("\"engine\":\"local\",\"grammar\":\"yesno\",\"url\":\"https://x\"",
		       "params.url", "only for");
	expect_finding("\"engine\":\"local\",\"grammar\":\"digits\","
		       "\"digits\":{\"min\":6,\"max\":4}", "params.digits.max", "less than");
	expect_finding("\"engine\":\"local\",\"grammar\":\"yesno\",\"intents\":{\"maybe\":"
		       "\"yes\"}", "params.intents.maybe", "not an answer");
	expect_finding("\"engine\":\"local\",\"grammar\":\"keywords\"", "params.phrases",
		       "missing");
	expect_finding("\"engine\":\"local\",\"grammar\":\"keywords\",\"phrases\":{\"a\":"
		       "[\"Pay Now\"]}", "params.phrases.a.0", "lower-case");
	expect_finding("\"engine\":\"local\",\"grammar\":\"keywords\",\"phrases\":{\"a\":"
		       "[\"pay zzqxw\"]}", "params.phrases", "'zzqxw' is not in the");
	expect_finding("\"grammar\":\"yesno\",\"url\":\"https://x.example\"",
		       "params.grammar", "only for");
}

/* ---- the pool ------------------------------------------------------------------------ */

struct probe {
	int calls;
	int err;
	char text[64], intent[32];
	bool stop;
};

static void done(int err, const struct asr_result *res, void *arg)
{
	struct probe *p = arg;

	p->calls++;
	p->err = err;
	str_ncpy(p->text, res->text ? res->text : "", sizeof(p->text));
	str_ncpy(p->intent, res->intent ? res->intent : "", sizeof(p->intent));
	if (p->stop)
		re_cancel();
}

static int16_t *read_pcm(const char *path, size_t *n)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	int16_t *pcm;

	assert_non_null(sf);
	pcm = malloc((size_t)info.frames * sizeof(*pcm));
	assert_non_null(pcm);
	*n = (size_t)sf_readf_short(sf, pcm, info.frames);
	sf_close(sf);
	return pcm;
}

static void too_late(void *arg)
{
	(void)arg;
	fail_msg("the recogniser did not answer in 60 s");
}

/* A real answer through the thread and the mqueue; a cancelled job before it is never
 * answered (one thread: the jobs are decoded in order). */
static void test_pool_decode(void **state)
{
	struct asr_conf ac;
	struct asr *asr = NULL;
	struct asr_grammar *g;
	struct asr_job *job1, *job2;
	struct probe cancelled = {0}, p = {.stop = true};
	struct tmr safety;
	size_t n;
	int16_t *pcm = read_pcm("tests/data/asr/yesno_001.wav", &n);

	(void)state;
	asr_conf_default(&ac);
	assert_int_equal(asr_alloc(&asr, &ac), 0);
	assert_int_equal(asr_grammar_yesno(&g), 0);
	assert_int_equal(asr_submit(asr, &job1, g, pcm, n, done, &cancelled), 0);
	assert_int_equal(asr_submit(asr, &job2, g, pcm, n, done, &p), 0);
	mem_deref(g);        /* the jobs hold it */
	free(pcm);           /* and their copies of the audio */
	asr_cancel(job1);
	tmr_init(&safety);
	tmr_start(&safety, 60000, too_late, NULL);
	assert_int_equal(re_main(NULL), 0);
	tmr_cancel(&safety);
	assert_int_equal(cancelled.calls, 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.err, 0);
	assert_string_equal(p.intent, "yes");   /* the file says "yes"; "yeah" would do */
	mem_deref(asr);
}

/* A full queue is refused at once; freeing the pool with jobs queued and running frees
 * them without a call (ASan: no leak). */
static void test_pool_full_and_shutdown(void **state)
{
	struct asr_conf ac;
	struct asr *asr = NULL;
	struct asr_grammar *g;
	struct asr_job *job;
	struct probe p = {0};
	int16_t pcm[8000] = {0};
	unsigned busy = 0;

	(void)state;
	asr_conf_default(&ac);
	ac.queue = 2;
	assert_int_equal(asr_alloc(&asr, &ac), 0);
	assert_int_equal(asr_grammar_digits(&g, 1, 8), 0);
	/* one thread takes at most one job: of five, at least two are refused */
	for (int i = 0; i < 5; i++) {
		int err = asr_submit(asr, &job, g, pcm, 8000, done, &p);

		assert_true(err == 0 || err == EBUSY);
		busy += err == EBUSY;
	}
	assert_true(busy >= 2);
	assert_true(asr_queued(asr) <= 2);
	/* the last job taken is still waiting (the thread takes them in order, one at a
	 * time): cancelled, it leaves the queue at once and makes room */
	{
		size_t before = asr_queued(asr);

		asr_cancel(job);
		assert_true(asr_queued(asr) < before);
		assert_int_equal(asr_submit(asr, &job, g, pcm, 8000, done, &p), 0);
	}
	assert_int_equal(asr_submit(asr, &job, NULL, pcm, 1, done, &p), EINVAL);
	mem_deref(g);
	mem_deref(asr);
	assert_int_equal(p.calls, 0);
}

static void test_conf_bad_engine(void **state)
{
	struct asr_conf ac;
	struct asr *asr = NULL;

	(void)state;
	asr_conf_default(&ac);
	str_ncpy(ac.engine, "vosk", sizeof(ac.engine));
	assert_int_equal(asr_alloc(&asr, &ac), ENOTSUP);
	assert_null(asr);
	assert_null(asr_engine_find("vosk"));
	assert_non_null(asr_engine_find("pocketsphinx"));
}

static int read_conf(const char *text, struct asr_conf *ac, struct conf_err *err)
{
	struct conf *cf = NULL;
	int rc = conf_parse(&cf, text, strlen(text), err);

	assert_int_equal(rc, 0);
	rc = asr_conf_read(cf, ac, err);
	mem_deref(cf);
	return rc;
}

/* [speech] adaptation: the installed adapted model by default (none with another model),
 * a folder that must be there when named, "" for none. */
static void test_conf_adaptation(void **state)
{
	struct conf_err err = {0};
	struct asr_conf ac;

	(void)state;
	assert_int_equal(read_conf("[speech]\n", &ac, &err), 0);
	assert_non_null(strstr(ac.adaptation, "/asr/en-us-telephone"));
	assert_int_equal(read_conf("[speech]\nadaptation = src/asr/adapt/en-us-telephone\n", &ac,
				   &err), 0);
	assert_string_equal(ac.adaptation, "src/asr/adapt/en-us-telephone");
	assert_int_equal(read_conf("[speech]\nadaptation =\n", &ac, &err), 0);
	assert_string_equal(ac.adaptation, "");
	assert_int_equal(read_conf("[speech]\nmodel = /opt/other\n", &ac, &err), 0);
	assert_string_equal(ac.adaptation, "");
	assert_int_equal(read_conf("[speech]\nadaptation = /no/such/folder\n", &ac, &err),
			 EINVAL);
	assert_non_null(strstr(err.msg, "'adaptation'"));
	assert_int_equal(err.line, 2);
}

/* The adapted model is the one decoding: a digit string of the tuning half the packaged
 * model mishears ("oh seven one six") is right with it. */
static void test_adapted_model(void **state)
{
	const struct asr_engine *e = asr_engine_find("pocketsphinx");
	struct asr_grammar *g;
	struct asr_conf ac;
	void *ps = NULL;
	char *hyp = NULL;
	int conf;
	size_t n;
	int16_t *pcm = read_pcm("tests/data/asr/digits_024.wav", &n);

	(void)state;
	assert_int_equal(asr_grammar_digits(&g, 4, 8), 0);
	asr_conf_default(&ac);
	str_ncpy(ac.adaptation, "src/asr/adapt/en-us-telephone", sizeof(ac.adaptation));
	assert_int_equal(e->open(&ps, &ac), 0);
	assert_int_equal(e->recognise(ps, g, pcm, n, &hyp, &conf), 0);
	assert_string_equal(hyp, "four seven one nine");
	e->close(ps);
	hyp = mem_deref(hyp);
	ac.adaptation[0] = '\0';
	assert_int_equal(e->open(&ps, &ac), 0);
	assert_int_equal(e->recognise(ps, g, pcm, n, &hyp, &conf), 0);
	assert_string_not_equal(hyp, "four seven one nine");
	e->close(ps);
	mem_deref(hyp);
	mem_deref(g);
	free(pcm);
}

static int group_setup(void **state)
{
	(void)state;
	return libre_init();
}

static int group_teardown(void **state)
{
	(void)state;
	libre_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammars),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_wav),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_dictionary),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_pool_decode),
		cmocka_unit_test(test_pool_full_and_shutdown),
		cmocka_unit_test(test_conf_bad_engine),
		cmocka_unit_test(test_conf_adaptation),
		cmocka_unit_test(test_adapted_model),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
