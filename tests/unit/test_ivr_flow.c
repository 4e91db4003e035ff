/* Unit tests of flow documents: each kind of bad flow gets its precise finding (node, field,
 * words), all findings are reported, and good flows load. Also templates and conditions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sndfile.h>
#include <re_types.h>
#include <re_mem.h>
#include "ivr/ivr.h"
#include "ivr/ivr_int.h"

static char tmpdir[64];

/* Test flows are written with ' for " to stay readable. */
static char *q(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return d;
}

static int load(const char *src, struct ivr_flow **flowp, struct ivr_diag **diagp)
{
	char *json = q(src);
	struct ivr_flow_opts opts = {.prompt_dir = tmpdir};
	int err = ivr_flow_load(flowp, json, strlen(json), &opts, diagp);

	free(json);
	return err;
}

static void load_ok(const char *src)
{
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;
	int err = load(src, &flow, &diag);

	if (err && diag) {
		for (size_t i = 0; i < diag->n; i++)
			fprintf(stderr, "unexpected: node '%s' %s: %s\n", diag->v[i].node,
				diag->v[i].field, diag->v[i].msg);
	}
	assert_int_equal(err, 0);
	assert_non_null(flow);
	assert_null(diag);
	mem_deref(flow);
}

static bool has(const struct ivr_diag *d, const char *node, const char *field, const char *needle)
{
	for (size_t i = 0; i < d->n; i++) {
		if (!strcmp(d->v[i].node, node) && !strcmp(d->v[i].field, field) &&
		    strstr(d->v[i].msg, needle))
			return true;
	}
	return false;
}

static struct ivr_diag *load_bad(const char *src)
{
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;

	assert_int_equal(load(src, &flow, &diag), EINVAL);
	assert_null(flow);
	assert_non_null(diag);
	assert_true(diag->n > 0);
	return diag;
}

/* The flow fails with (at least) this finding. */
static void fails(const char *src, const char *node, const char *field, const char *needle)
{
	struct ivr_diag *d = load_bad(src);

	if (!has(d, node, field, needle)) {
		for (size_t i = 0; i < d->n; i++)
			fprintf(stderr, "got: node '%s' field '%s': %s\n", d->v[i].node,
				d->v[i].field, d->v[i].msg);
		fail_msg("expected node '%s' field '%s': ...%s...", node, field, needle);
	}
	mem_deref(d);
}

#define HEAD "{'ivrId':7,'name':'t','type':'inbound','nodes':["
#define START(next) "{'id':'s','type':'start','next':'" next "'},"
#define BYE "{'id':'bye','type':'hangup'}"
#define TAIL "]}"

static void test_good_flow(void **state)
{
	struct ivr_flow *flow = NULL;

	(void)state;
	load_ok(HEAD START("bye") BYE TAIL);
	assert_int_equal(load(HEAD START("p") "{'id':'p','type':'prompt','params':{'tts':'hi'},"
			      "'next':'bye'}," BYE TAIL, &flow, NULL), 0);
	assert_int_equal(ivr_flow_type(flow), IVR_FLOW_INBOUND);
	assert_int_equal(ivr_flow_id(flow), 7);
	assert_string_equal(ivr_flow_name(flow), "t");
	assert_int_equal(ivr_flow_node_count(flow), 3);
	assert_false(ivr_flow_records(flow));
	mem_deref(flow);
	/* "record": true asks for every call of the flow to be recorded. */
	assert_int_equal(load("{'ivrId':7,'type':'inbound','record':true,'nodes':[" START("bye")
			      BYE TAIL, &flow, NULL), 0);
	assert_true(ivr_flow_records(flow));
	mem_deref(flow);
}

static void test_demo_flow(void **state)
{
	FILE *f = fopen("demo/flows/4500.json", "rb");
	char buf[16384];
	size_t n;
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(ivr_flow_load(&flow, buf, n, NULL, &diag), 0);
	assert_int_equal(ivr_flow_type(flow), IVR_FLOW_AUTO_OUTBOUND);
	assert_int_equal(ivr_flow_id(flow), 4500);
	mem_deref(flow);
}

static void test_document_errors(void **state)
{
	(void)state;
	fails("{", "", "", "not valid JSON");
	fails("[]", "", "", "must be a JSON object");
	fails("{'type':'inbound','nodes':[]}", "", "nodes", "non-empty array");
	fails("{'type':'inbound'}", "", "nodes", "missing");
	fails("{'nodes':[" START("bye") BYE "]}", "", "type", "missing");
	fails("{'type':'outbound','nodes':[" START("bye") BYE "]}", "", "type",
	      "not one of inbound autoOutbound survey");
	fails("{'type':'inbound','colour':1,'nodes':[" START("bye") BYE "]}", "", "colour",
	      "unknown field");
	fails("{'type':'inbound','a':1,'a':2,'nodes':[" START("bye") BYE "]}", "", "",
	      "duplicate object key");
	fails("{'type':'inbound','start':'bye','nodes':[" START("bye") BYE "]}", "", "start",
	      "is not the start node");
	fails("{'type':'inbound','variables':{'System.x':'1'},'nodes':[" START("bye") BYE "]}",
	      "", "variables.System.x", "not a variable name a flow may declare");
	fails("{'type':'inbound','variables':{'A':1},'nodes':[" START("bye") BYE "]}",
	      "", "variables.A", "must be a string");
	fails("{'type':'inbound','record':'yes','nodes':[" START("bye") BYE "]}", "", "record",
	      "must be true or false");
}

static void test_unknown_type(void **state)
{
	(void)state;
	fails(HEAD START("x") "{'id':'x','type':'dance','next':'bye'}," BYE TAIL, "x", "type",
	      "unknown node type 'dance'");
	fails(HEAD START("bye") BYE ",{'type':'prompt'}" TAIL, "#2", "id", "missing");
	fails(HEAD START("bye") BYE ",{'id':'a b','type':'hangup'}" TAIL, "#2", "id",
	      "is not an id");
	fails(HEAD START("bye") "{'id':'bye','type':'hangup','next':'s'}" TAIL, "bye", "next",
	      "a hangup node has no 'next' exit");
	fails(HEAD START("bye") "{'id':'bye','type':'hangup','params':{'promt':{}}}" TAIL, "bye",
	      "params.promt", "unknown field");
}

static void test_missing_and_dangling_targets(void **state)
{
	(void)state;
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{'tts':'a'}}," BYE TAIL,
	      "p", "next", "missing");
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{'tts':'a'},'next':'nope'},"
	      BYE TAIL, "p", "next", "target 'nope' does not exist");
	fails(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'},"
	      "'keys':{'1':{'next':'bye'}}},'onInvalid':'bye'}," BYE TAIL, "m", "onTimeout",
	      "missing");
	fails(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'},"
	      "'keys':{'1':{'next':'gone'}}},'onInvalid':'bye','onTimeout':'bye'}," BYE TAIL,
	      "m", "params.keys.1.next", "target 'gone' does not exist");
	fails(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'},"
	      "'keys':{'12':{'next':'bye'}}},'onInvalid':'bye','onTimeout':'bye'}," BYE TAIL,
	      "m", "params.keys.12", "not one key");
	fails(HEAD START("c") "{'id':'c','type':'condition','params':{'cases':[{'if':"
	      "{'var':'SystemUUI','op':'eq','value':'x'}}]},'else':'bye'}," BYE TAIL, "c",
	      "params.cases.0.next", "missing");
	fails(HEAD START("h") "{'id':'h','type':'businessHours','params':{'windows':[{'days':"
	      "['mon'],'start':'09:00','end':'17:00'}]},'open':'bye'}," BYE TAIL, "h", "closed",
	      "missing");
	fails(HEAD START("t") "{'id':'t','type':'transferExternal','params':{'number':'123'}},"
	      BYE TAIL, "t", "onFail", "missing");
	fails(HEAD "{'id':'s','type':'start','next':'bye'},{'id':'bye','type':'prompt',"
	      "'params':{'tts':'x'},'next':'s'}" TAIL, "bye", "next", "leads back to the start");
}

static void test_ids_and_start(void **state)
{
	(void)state;
	fails(HEAD START("bye") BYE "," BYE TAIL, "bye", "id", "duplicate id");
	fails(HEAD "{'id':'bye','type':'hangup'}" TAIL, "", "nodes", "no start node");
	fails(HEAD START("bye") "{'id':'s2','type':'start','next':'bye'}," BYE TAIL, "s2", "type",
	      "a second start node");
}

static void test_reachability_and_dead_ends(void **state)
{
	(void)state;
	fails(HEAD START("bye") BYE ",{'id':'orphan','type':'hangup'}" TAIL, "orphan", "",
	      "unreachable from the start node");
	/* a → b → a with a menu (guarded) but no way out to a terminal */
	fails(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'},"
	      "'keys':{'1':{'next':'p'}}},'onInvalid':'p','onTimeout':'p'},"
	      "{'id':'p','type':'prompt','params':{'tts':'b'},'next':'m'}" TAIL, "m", "",
	      "no path from this node to a hangup or transfer");
}

static void test_loops(void **state)
{
	(void)state;
	/* A loop without a guard: p → c → p while the condition holds. */
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{'tts':'a'},'next':'c'},"
	      "{'id':'c','type':'condition','params':{'cases':[{'if':{'var':'SystemUUI','op':"
	      "'eq','value':'x'},'next':'bye'}]},'else':'p'}," BYE TAIL, "c", "else",
	      "loop with no exit guard: p -> c -> p");
	/* The same loop through a menu is guarded: the caller drives it. */
	load_ok(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'},"
		"'keys':{'9':{'next':'p'},'1':{'next':'bye'}}},'onInvalid':'bye','onTimeout':"
		"'bye'},{'id':'p','type':'prompt','params':{'tts':'again'},'next':'m'}," BYE TAIL);
	/* A counter loop: setVar add + a condition on the counter. */
	load_ok(HEAD START("inc") "{'id':'inc','type':'setVar','params':{'add':{'N':1}},"
		"'next':'c'},{'id':'c','type':'condition','params':{'cases':[{'if':{'var':'N',"
		"'op':'lt','value':'3'},'next':'inc'}]},'else':'bye'}," BYE TAIL);
	/* A condition on a variable that the loop does not change is no guard. */
	fails(HEAD START("inc") "{'id':'inc','type':'setVar','params':{'assign':{'N':'1'}},"
	      "'next':'c'},{'id':'c','type':'condition','params':{'cases':[{'if':{'var':'N',"
	      "'op':'lt','value':'3'},'next':'inc'}]},'else':'bye'}," BYE TAIL, "c",
	      "params.cases.0.next", "loop with no exit guard");
}

static void write_wav(const char *path, int format)
{
	SF_INFO info = {.samplerate = 8000, .channels = 1, .format = format};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	short pcm[800] = {0};

	assert_non_null(sf);
	assert_int_equal(sf_write_short(sf, pcm, 800), 800);
	sf_close(sf);
}

static void test_prompt_files(void **state)
{
	char path[128], json[1024];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/ok.wav", tmpdir);
	write_wav(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	snprintf(path, sizeof(path), "%s/sound.au", tmpdir);
	write_wav(path, SF_FORMAT_AU | SF_FORMAT_PCM_16);
	snprintf(path, sizeof(path), "%s/text.wav", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not audio\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/dir.wav", tmpdir);
	mkdir(path, 0700);

#define PFLOW(file) HEAD START("p") "{'id':'p','type':'prompt','params':{'file':'" file "'}," \
	"'next':'bye'}," BYE TAIL
	load_ok(PFLOW("ok.wav"));
	mkdir(strcat(strcpy(path, tmpdir), "/sub"), 0700);
	strcat(path, "/in.wav");
	write_wav(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	load_ok(PFLOW("sub/in.wav"));
	snprintf(json, sizeof(json), PFLOW("%s/ok.wav"), tmpdir);
	snprintf(path, sizeof(path), "'%s/ok.wav' must be a path inside the prompt folder", tmpdir);
	fails(json, "p", "params.file", path);
	fails(PFLOW("../ok.wav"), "p", "params.file", "inside the prompt folder");
	fails(PFLOW("sub/../../ok.wav"), "p", "params.file", "inside the prompt folder");
	snprintf(path, sizeof(path), "prompt file '%s/missing.wav' does not exist", tmpdir);
	fails(PFLOW("missing.wav"), "p", "params.file", path);
	fails(PFLOW("text.wav"), "p", "params.file", "is not an audio file");
	fails(PFLOW("sound.au"), "p", "params.file", "is not a WAV file");
	fails(PFLOW("dir.wav"), "p", "params.file", "is not a regular file");
	if (geteuid() != 0) {
		/* root reads anything: the check can only be seen as another user */
		snprintf(path, sizeof(path), "%s/locked.wav", tmpdir);
		write_wav(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
		chmod(path, 0);
		fails(PFLOW("locked.wav"), "p", "params.file", "is not readable");
	}
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{'file':'ok.wav','tts':'x'},"
	      "'next':'bye'}," BYE TAIL, "p", "params.file", "either tts or file");
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{},'next':'bye'}," BYE TAIL,
	      "p", "params.tts", "needs tts text or a file");
	fails(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'file':'nope.wav'},"
	      "'keys':{'1':{'next':'bye'}}},'onInvalid':'bye','onTimeout':'bye'}," BYE TAIL,
	      "m", "params.prompt.file", "does not exist");
#undef PFLOW
}

/* The store's side of uploaded prompts, as a stub: file 7 is "welcome", at up.wav. */
static int audio_stub(uint64_t file_id, const char *custom_name, char *path, size_t sz,
		      void *arg)
{
	(void)arg;
	if (file_id == 7 || (!file_id && custom_name && !strcmp(custom_name, "welcome"))) {
		snprintf(path, sz, "up.wav");
		return 0;
	}
	return file_id == 13 ? EIO : ENOENT;
}

static struct ivr_diag *load_uploaded(const char *src, int want)
{
	char *json = q(src);
	struct ivr_flow_opts opts = {.prompt_dir = tmpdir, .audio = audio_stub};
	struct ivr_flow *flow = NULL;
	struct ivr_diag *diag = NULL;

	assert_int_equal(ivr_flow_load(&flow, json, strlen(json), &opts, &diag), want);
	free(json);
	mem_deref(flow);
	return diag;
}

static void test_uploaded_prompts(void **state)
{
	char path[128];
	struct ivr_diag *d;

	(void)state;
	snprintf(path, sizeof(path), "%s/up.wav", tmpdir);
	write_wav(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
#define UFLOW(prompt) HEAD START("p") "{'id':'p','type':'prompt','params':{" prompt "}," \
	"'next':'m'},{'id':'m','type':'menu','params':{'prompt':{" prompt "}," \
	"'keys':{'1':{'next':'bye'}}},'onInvalid':'bye','onTimeout':'bye'}," BYE TAIL
	assert_null(load_uploaded(UFLOW("'fileId':7"), 0));
	assert_null(load_uploaded(UFLOW("'customFileName':'welcome'"), 0));
	d = load_uploaded(UFLOW("'fileId':8"), EINVAL);
	assert_true(has(d, "p", "params.fileId", "no uploaded file has id 8"));
	assert_true(has(d, "m", "params.prompt.fileId", "no uploaded file has id 8"));
	mem_deref(d);
	d = load_uploaded(UFLOW("'customFileName':'other'"), EINVAL);
	assert_true(has(d, "p", "params.customFileName", "no uploaded file is called 'other'"));
	mem_deref(d);
	d = load_uploaded(UFLOW("'fileId':13"), EINVAL);
	assert_true(has(d, "p", "params.fileId", "cannot be read"));
	mem_deref(d);
	d = load_uploaded(UFLOW("'fileId':'7'"), EINVAL);
	assert_true(has(d, "p", "params.fileId", "positive integer"));
	mem_deref(d);
	d = load_uploaded(UFLOW("'fileId':7,'customFileName':'welcome'"), EINVAL);
	assert_true(has(d, "p", "params.fileId", "not both"));
	mem_deref(d);
	d = load_uploaded(UFLOW("'fileId':7,'tts':'hi'"), EINVAL);
	assert_true(has(d, "p", "params.fileId", "one of tts, file, fileId or customFileName"));
	mem_deref(d);
	/* Without the store (ccc ivr validate, the demo) uploads cannot be named. */
	fails(UFLOW("'fileId':7"), "p", "params.fileId", "cannot be used here");
#undef UFLOW
}

static void test_template_variables(void **state)
{
#define TFLOW(vars, extra, tts) "{'type':'inbound','variables':{" vars "},'nodes':[" \
	START("x") extra "{'id':'p','type':'prompt','params':{'tts':'" tts "'},'next':'bye'}," \
	BYE "]}"
	(void)state;
	fails(TFLOW("", "{'id':'x','type':'setVar','params':{'assign':{'A':'1'}},'next':'p'},",
		    "Hi ${Name}"), "p", "params.tts", "${Name} is never set");
	load_ok(TFLOW("'Name':'friend'", "{'id':'x','type':'setVar','params':{'assign':"
		      "{'A':'1'}},'next':'p'},", "Hi ${Name} ${SystemCallerNumber} ${A}"));
	load_ok(TFLOW("", "{'id':'x','type':'collect','params':{'prompt':{'tts':'x'},'var':"
		      "'Acct','maxLen':4},'next':'p','onFail':'p'},", "You entered ${Acct}"));
	load_ok(TFLOW("", "{'id':'x','type':'http','params':{'url':'https://e.example/x',"
		      "'outputs':{'Level':{'path':'data.level'}}},'next':'p'},", "${Level}"));
	fails(TFLOW("", "{'id':'x','type':'setVar','params':{'assign':{'A':'1'}},'next':'p'},",
		    "Hi ${Name"), "p", "params.tts", "bad template: '${' at offset 3 is not closed");
	fails(TFLOW("", "{'id':'x','type':'setVar','params':{'assign':{'A':'${B}'}},'next':'p'},",
		    "x"), "x", "params.assign.A", "${B} is never set");
	fails(TFLOW("", "{'id':'x','type':'http','params':{'url':'https://e.example/${Q}'},"
		    "'next':'p'},", "x"), "x", "params.url", "${Q} is never set");
	fails(TFLOW("", "{'id':'x','type':'http','params':{'url':'https://e.example/',"
		    "'headers':{'X-A':'${H}'},'request':{'k':'${R}'}},'next':'p'},", "x"), "x",
	      "params.headers.X-A", "${H} is never set");
	fails(TFLOW("", "{'id':'x','type':'condition','params':{'cases':[{'if':{'var':'Z','op':"
		    "'eq','value':'1'},'next':'p'}]},'else':'p'},", "x"), "x",
	      "params.cases.0.if.var", "${Z} is never set");
	fails(TFLOW("", "{'id':'x','type':'setVar','params':{'assign':{'SystemUUI':'1'}},"
		    "'next':'p'},", "x"), "x", "params.assign.SystemUUI", "not a settable");
#undef TFLOW
}

#define HFLOW(params) HEAD START("h") "{'id':'h','type':'businessHours','params':" params \
	",'open':'bye','closed':'bye'}," BYE TAIL

static void test_business_hours(void **state)
{
	(void)state;
	load_ok(HFLOW("{'timeZone':'Asia/Shanghai','windows':[{'days':['mon','tue',3,4,5],"
		      "'start':'09:00','end':'18:00'},{'days':['sat'],'start':'10:00:00','end':"
		      "'24:00'}],'holidays':['2025-10-01','2024-02-29']}"));
	/* The calling rules' syntax is the flows' too (src/hours): ranges, any case. */
	load_ok(HFLOW("{'windows':[{'days':['Mon-Fri','sat-sun'],'start':'09:00','end':'18:00'}]}"));
	fails(HFLOW("{'windows':[{'days':['mon'],'start':'09:00','end':'10:00'}],"
		    "'holidays':['2025-02-29']}"), "h", "params.holidays.0", "not a date");
	fails(HFLOW("{'windows':[{'days':['mon'],'start':'18:00','end':'09:00'}]}"), "h",
	      "params.windows.0.end", "is not after start");
	fails(HFLOW("{'windows':[{'days':['funday'],'start':'09:00','end':'10:00'}]}"), "h",
	      "params.windows.0.days.0", "not a day");
	fails(HFLOW("{'windows':[{'days':[8],'start':'09:00','end':'10:00'}]}"), "h",
	      "params.windows.0.days.0", "not a day");
	fails(HFLOW("{'windows':[{'days':['mon'],'start':'9h','end':'10:00'}]}"), "h",
	      "params.windows.0.start", "is not a time");
	fails(HFLOW("{'windows':[{'days':['mon'],'start':'09:00','end':'25:00'}]}"), "h",
	      "params.windows.0.end", "is not a time");
	fails(HFLOW("{'windows':[]}"), "h", "params.windows", "1-16 windows");
	fails(HFLOW("{'windows':[{'days':['mon'],'start':'09:00','end':'10:00'}],"
		    "'holidays':['2025-02-30']}"), "h", "params.holidays.0", "not a date");
	fails(HFLOW("{'timeZone':'Mars/Olympus','windows':[{'days':['mon'],'start':'09:00',"
		    "'end':'10:00'}]}"), "h", "params.timeZone", "time zone 'Mars/Olympus' is unknown");
}

static void test_limits(void **state)
{
#define MFLOW(params) HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'a'}," \
	"'keys':{'1':{'next':'bye'}}" params "},'onInvalid':'bye','onTimeout':'bye'}," BYE TAIL
	char big[2048];
	(void)state;
	fails(MFLOW(",'timeoutMs':500"), "m", "params.timeoutMs", "500 is out of range 1000-30000");
	fails(MFLOW(",'retries':10"), "m", "params.retries", "out of range 0-9");
	fails(MFLOW(",'timeoutMs':'5s'"), "m", "params.timeoutMs", "must be an integer");
	fails(MFLOW(",'interruptible':'yes'"), "m", "params.interruptible", "true or false");
	fails(HEAD START("p") "{'id':'p','type':'prompt','params':{'tts':'a','plays':11},"
	      "'next':'bye'}," BYE TAIL, "p", "params.plays", "out of range 1-10");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'https://e.example/',"
	      "'maxErrors':9,'timeoutMs':60000},'next':'bye'}," BYE TAIL, "x", "params.maxErrors",
	      "out of range 1-5");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'https://e.example/',"
	      "'maxErrors':9,'timeoutMs':60000},'next':'bye'}," BYE TAIL, "x", "params.timeoutMs",
	      "out of range 1000-30000");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'http://e.example/'},"
	      "'next':'bye'}," BYE TAIL, "x", "params.url", "must be https://");
	load_ok(HEAD START("x") "{'id':'x','type':'http','params':{'url':'http://127.0.0.1:9/'},"
		"'next':'bye'}," BYE TAIL);
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'http://127.0.0.1.evil/'},"
	      "'next':'bye'}," BYE TAIL, "x", "params.url", "must be https://");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'ftp://e.example/'},"
	      "'next':'bye'}," BYE TAIL, "x", "params.url", "must start with https://");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'https://e.example/',"
	      "'method':'GET','request':{'a':'b'}},'next':'bye'}," BYE TAIL, "x", "params.method",
	      "cannot have a body");
	fails("{'type':'inbound','limits':{'maxNodeVisits':0,'maxCallDurationS':5},'nodes':["
	      START("bye") BYE "]}", "", "limits.maxNodeVisits", "out of range 1-10000");
	fails("{'type':'inbound','limits':{'maxNodeVisits':0,'maxCallDurationS':5},'nodes':["
	      START("bye") BYE "]}", "", "limits.maxCallDurationS", "out of range 10-86400");
	memset(big, 'a', 600);
	big[600] = '\0';
	{
		char json[4096];
		snprintf(json, sizeof(json), HEAD START("p") "{'id':'p','type':'prompt','params':"
			 "{'tts':'%s'},'next':'bye'}," BYE TAIL, big);
		fails(json, "p", "params.tts", "longer than 500 characters");
	}
	{
		/* 201 nodes: start → 199 prompts → bye */
		size_t cap = 64 * 1024, len = 0;
		char *json = malloc(cap);
		len += (size_t)snprintf(json + len, cap - len, HEAD START("p0"));
		for (int i = 0; i < 199; i++) {
			char next[16];
			snprintf(next, sizeof(next), i == 198 ? "bye" : "p%d", i + 1);
			len += (size_t)snprintf(json + len, cap - len, "{'id':'p%d','type':'prompt',"
						"'params':{'tts':'x'},'next':'%s'},", i, next);
		}
		snprintf(json + len, cap - len, BYE TAIL);
		fails(json, "", "nodes", "201 nodes: a flow has at most 200");
		free(json);
	}
#undef MFLOW
}

static void test_node_params(void **state)
{
	(void)state;
	fails(HEAD START("c") "{'id':'c','type':'collect','params':{'prompt':{'tts':'x'},'var':"
	      "'A','minLen':5,'maxLen':3},'next':'bye','onFail':'bye'}," BYE TAIL, "c",
	      "params.minLen", "minLen 5 is greater than maxLen 3");
	fails(HEAD START("c") "{'id':'c','type':'collect','params':{'prompt':{'tts':'x'},'var':"
	      "'A','terminator':'x'},'next':'bye','onFail':'bye'}," BYE TAIL, "c",
	      "params.terminator", "is not one key");
	fails(HEAD START("c") "{'id':'c','type':'collect','params':{'prompt':{'tts':'x'},'var':"
	      "'A','confirm':{'prompt':{'tts':'ok?'},'confirmKey':'1','reenterKey':'1'}},"
	      "'next':'bye','onFail':'bye'}," BYE TAIL, "c", "params.confirm.reenterKey",
	      "must differ");
	fails(HEAD START("c") "{'id':'c','type':'collect','params':{'prompt':{'tts':'x'}},"
	      "'next':'bye','onFail':'bye'}," BYE TAIL, "c", "params.var", "missing");
	fails(HEAD START("c") "{'id':'c','type':'condition','params':{'cases':[{'if':{'var':"
	      "'SystemUUI','op':'like','value':'x'},'next':'bye'}]},'else':'bye'}," BYE TAIL, "c",
	      "params.cases.0.if.op", "unknown operator 'like'");
	fails(HEAD START("v") "{'id':'v','type':'setVar','params':{},'next':'bye'}," BYE TAIL,
	      "v", "params.assign", "at least one");
	fails(HEAD START("v") "{'id':'v','type':'setVar','params':{'add':{'N':'one'}},"
	      "'next':'bye'}," BYE TAIL, "v", "params.add.N", "must be a number");
	fails(HEAD START("t") "{'id':'t','type':'transferSkillGroup','params':{'skillGroupId':3},"
	      "'onFail':'bye'}," BYE TAIL, "t", "params.destinations", "missing");
	fails(HEAD START("t") "{'id':'t','type':'transferSkillGroup','params':{'destinations':"
	      "['sip:a@b', 5]},'onFail':'bye'}," BYE TAIL, "t", "params.destinations.1",
	      "SIP URI or a number");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'https://e.example/',"
	      "'outputs':{'A':{'path':'a..b'}}},'next':'bye'}," BYE TAIL, "x",
	      "params.outputs.A.path", "not a dot path");
	fails(HEAD START("x") "{'id':'x','type':'http','params':{'url':'https://e.example/',"
	      "'headers':{'Bad Name':'v'}},'next':'bye'}," BYE TAIL, "x",
	      "params.headers.Bad Name", "not a valid header");
	fails(HEAD START("bye") "{'id':'bye','type':'hangup','params':{'endStatus':'happy'}}"
	      TAIL, "bye", "params.endStatus", "not one of ok ivrEnd");
	fails(HEAD START("v") "{'id':'v','type':'voicemail','params':{'maxLenS':1,'endKey':'x'},"
	      "'next':'bye'}," BYE TAIL, "v", "params.maxLenS", "out of range 5-600");
	fails(HEAD START("s") "{'id':'s2','type':'survey','params':{'prompt':{'tts':'rate'},"
	      "'keys':{'1':{'label':'good'}}},'next':'bye'}," BYE TAIL, "s2", "params.keys.1",
	      "must be the label");
}

/* Transfers name their post-call surveys; the owner attaches survey flows only. */
static void test_survey_attach(void **state)
{
	struct ivr_flow *flow = NULL, *survey = NULL, *other = NULL;
	uint64_t ids[IVR_SURVEYS_MAX];

	(void)state;
	assert_int_equal(load(HEAD START("t") "{'id':'t','type':'transferExternal','params':"
			      "{'number':'7001','surveyIvrId':41},'onFail':'u'},"
			      "{'id':'u','type':'transferSkillGroup','params':{'destinations':"
			      "['sip:a@b'],'surveyIvrId':41},'onFail':'v'},"
			      "{'id':'v','type':'transferExternal','params':{'number':'7002',"
			      "'surveyIvrId':42},'onFail':'bye'}," BYE TAIL, &flow, NULL), 0);
	assert_int_equal(ivr_flow_survey_ids(flow, ids, IVR_SURVEYS_MAX), 2);
	assert_true(ids[0] == 41 && ids[1] == 42);
	assert_int_equal(load("{'ivrId':41,'name':'s','type':'survey','nodes':[" START("bye") BYE
			      TAIL, &survey, NULL), 0);
	assert_int_equal(load(HEAD START("bye") BYE TAIL, &other, NULL), 0);
	assert_null(ivr_flow_survey(flow, 41));
	assert_int_equal(ivr_flow_survey_attach(flow, 41, other), EINVAL);  /* not a survey */
	assert_int_equal(ivr_flow_survey_attach(flow, 43, survey), EINVAL); /* not named */
	assert_int_equal(ivr_flow_survey_attach(flow, 41, survey), 0);
	assert_ptr_equal(ivr_flow_survey(flow, 41), survey);
	assert_null(ivr_flow_survey(flow, 42));
	mem_deref(survey); /* the flow keeps its own reference */
	assert_non_null(ivr_flow_survey(flow, 41));
	mem_deref(other);
	mem_deref(flow);
	fails(HEAD START("t") "{'id':'t','type':'transferExternal','params':{'number':'1',"
	      "'surveyIvrId':'x'},'onFail':'bye'}," BYE TAIL, "t", "params.surveyIvrId", "");
}

/* One flow with several unrelated faults: every one is reported, not just the first. */
static void test_all_errors_reported(void **state)
{
	struct ivr_diag *d;

	(void)state;
	d = load_bad(HEAD START("m") "{'id':'m','type':'menu','params':{'prompt':{'tts':'${X}'},"
		     "'timeoutMs':1,'keys':{'1':{'next':'nowhere'}}},'onInvalid':'bye',"
		     "'onTimeout':'bye'},{'id':'q','type':'zap'}," BYE ",{'id':'bye','type':'hangup'}"
		     TAIL);
	assert_true(has(d, "m", "params.timeoutMs", "out of range"));
	assert_true(has(d, "m", "params.keys.1.next", "target 'nowhere' does not exist"));
	assert_true(has(d, "m", "params.prompt.tts", "${X} is never set"));
	assert_true(has(d, "q", "type", "unknown node type 'zap'"));
	assert_true(has(d, "bye", "id", "duplicate id"));
	assert_true(has(d, "q", "", "unreachable"));
	assert_false(d->truncated);
	mem_deref(d);
}

static const char *lookup_vars(const char *name, void *arg)
{
	(void)arg;
	if (!strcmp(name, "A"))
		return "alpha";
	if (!strcmp(name, "d.e"))
		return "dotted";
	return "";
}

static void test_templates(void **state)
{
	char *out = NULL, why[80];

	(void)state;
	assert_int_equal(tmpl_render(&out, "x ${A} y ${Nope}z $$ $5 ${d.e}", lookup_vars, NULL), 0);
	assert_string_equal(out, "x alpha y z $ $5 dotted");
	mem_deref(out);
	assert_int_equal(tmpl_render(&out, "", lookup_vars, NULL), 0);
	assert_string_equal(out, "");
	mem_deref(out);
	assert_int_equal(tmpl_scan("${1x}", NULL, NULL, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "bad variable name"));
	assert_int_equal(tmpl_scan("${ok", NULL, NULL, why, sizeof(why)), EINVAL);
	assert_non_null(strstr(why, "not closed"));
}

static void test_conditions(void **state)
{
	enum cond_op op;

	(void)state;
	assert_true(cond_eval(OP_EQ, "a", "a"));
	assert_false(cond_eval(OP_EQ, "a", "b"));
	assert_true(cond_eval(OP_NE, "a", "b"));
	assert_true(cond_eval(OP_CONTAINS, "hello", "ell"));
	assert_false(cond_eval(OP_CONTAINS, "hello", "xyz"));
	assert_true(cond_eval(OP_PREFIX, "008613", "0086"));
	assert_false(cond_eval(OP_PREFIX, "0044", "0086"));
	assert_true(cond_eval(OP_SUFFIX, "file.wav", ".wav"));
	assert_true(cond_eval(OP_LT, "9", "10"));      /* numeric, not string order */
	assert_false(cond_eval(OP_LT, "10", "9"));
	assert_true(cond_eval(OP_GT, "2.5", "2"));
	assert_true(cond_eval(OP_LE, "3", "3"));
	assert_true(cond_eval(OP_GE, " 4", "3"));
	assert_false(cond_eval(OP_LT, "abc", "3"));    /* not a number: false both ways */
	assert_false(cond_eval(OP_GE, "abc", "3"));
	assert_false(cond_eval(OP_LT, "", "3"));
	assert_true(cond_eval(OP_EMPTY, "", ""));
	assert_false(cond_eval(OP_EMPTY, "x", ""));
	assert_true(cond_eval(OP_NOT_EMPTY, "x", ""));
	assert_true(cond_eval(OP_IN, "b", "a, b ,c"));
	assert_false(cond_eval(OP_IN, "d", "a,b,c"));
	assert_int_equal(cond_op_parse("notEmpty", &op), 0);
	assert_int_equal(op, OP_NOT_EMPTY);
	assert_int_equal(cond_op_parse("~", &op), EINVAL);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ivr_flow.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

#define SPEECH(params, exits) "{'id':'ask','type':'speech','params':{" params "}" exits "},"
#define SP_OK "'prompt':{'tts':'How can we help?'},'url':'http://127.0.0.1:9/asr'"

/* The AI/speech node: its params, intents as exits, the variables it sets, and that a flow
 * with one "uses AI" (the document check agrees with the loaded flow). */
static void test_speech(void **state)
{
	struct ivr_flow *flow = NULL;
	char *json;
	bool ai = true;

	(void)state;
	load_ok(HEAD START("ask") SPEECH(SP_OK ",'intents':{'billing':'b','agent':'bye'}",
					 ",'next':'bye','onFail':'bye'")
		"{'id':'b','type':'prompt','params':{'tts':'Billing: ${SpeechText} (${SpeechIntent})'},"
		"'next':'bye'}," BYE TAIL);
	load_ok(HEAD START("ask") SPEECH(SP_OK ",'textVar':'Said','intentVar':'Why',"
					 "'maxLenS':30,'silenceMs':800,'endKey':'','timeoutMs':2000,"
					 "'headers':{'Authorization':'Bearer ${SystemSessionId}'}",
					 ",'next':'p','onFail':'bye'")
		"{'id':'p','type':'prompt','params':{'tts':'${Said} ${Why}'},'next':'bye'},"
		BYE TAIL);

	fails(HEAD START("ask") SPEECH("'url':'http://127.0.0.1:9/asr'",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.prompt", "missing");
	fails(HEAD START("ask") SPEECH("'prompt':{'tts':'x'}", ",'next':'bye','onFail':'bye'")
	      BYE TAIL, "ask", "params.url", "missing");
	fails(HEAD START("ask") SPEECH("'prompt':{'tts':'x'},'url':'http://10.1.2.3/asr'",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.url", "must be https://");
	fails(HEAD START("ask") SPEECH(SP_OK, ",'next':'bye'") BYE TAIL,
	      "ask", "onFail", "missing");
	fails(HEAD START("ask") SPEECH(SP_OK ",'maxLenS':61", ",'next':'bye','onFail':'bye'")
	      BYE TAIL, "ask", "params.maxLenS", "out of range 1-60");
	fails(HEAD START("ask") SPEECH(SP_OK ",'silenceMs':100", ",'next':'bye','onFail':'bye'")
	      BYE TAIL, "ask", "params.silenceMs", "out of range 300-10000");
	fails(HEAD START("ask") SPEECH(SP_OK ",'intents':{'a b':'bye'}",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.intents.a b", "not an intent name");
	fails(HEAD START("ask") SPEECH(SP_OK ",'intents':{'x':'nowhere'}",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.intents.x", "nowhere");
	fails(HEAD START("ask") SPEECH(SP_OK ",'intents':['x']", ",'next':'bye','onFail':'bye'")
	      BYE TAIL, "ask", "params.intents", "must be an object");
	fails(HEAD START("ask") SPEECH(SP_OK ",'textVar':'SystemX'",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.textVar", "System variables cannot be set");
	fails(HEAD START("ask") SPEECH(SP_OK ",'textVar':'A','intentVar':'A'",
				       ",'next':'bye','onFail':'bye'") BYE TAIL,
	      "ask", "params.intentVar", "also the textVar");
	fails(HEAD START("ask") SPEECH(SP_OK ",'language':'en'", ",'next':'bye','onFail':'bye'")
	      BYE TAIL, "ask", "params.language", "unknown field");
	/* A renamed text variable: the default name is no longer set by anyone. */
	fails(HEAD START("ask") SPEECH(SP_OK ",'textVar':'Said'", ",'next':'p','onFail':'bye'")
	      "{'id':'p','type':'prompt','params':{'tts':'${SpeechText}'},'next':'bye'}," BYE TAIL,
	      "p", "params.tts", "${SpeechText} is never set");
	/* Asking again is a loop guarded by the caller's input, like a menu. */
	load_ok(HEAD START("ask") SPEECH(SP_OK ",'intents':{'again':'ask','done':'bye'}",
					 ",'next':'ask','onFail':'bye'") BYE TAIL);

	json = q(HEAD START("ask") SPEECH(SP_OK, ",'next':'bye','onFail':'bye'") BYE TAIL);
	assert_int_equal(load(HEAD START("ask") SPEECH(SP_OK, ",'next':'bye','onFail':'bye'")
			      BYE TAIL, &flow, NULL), 0);
	assert_true(ivr_flow_uses_ai(flow));
	assert_int_equal(ivr_doc_uses_ai(json, strlen(json), &ai), 0);
	assert_true(ai);
	mem_deref(flow);
	free(json);

	json = q(HEAD START("bye") BYE TAIL);
	assert_int_equal(load(HEAD START("bye") BYE TAIL, &flow, NULL), 0);
	assert_false(ivr_flow_uses_ai(flow));
	assert_int_equal(ivr_doc_uses_ai(json, strlen(json), &ai), 0);
	assert_false(ai);
	mem_deref(flow);
	free(json);
	assert_int_equal(ivr_doc_uses_ai("[1]", 3, &ai), EINVAL);
	assert_int_equal(ivr_doc_uses_ai("{", 1, &ai), EINVAL);
}

/* Answering-machine detection: the flow's "amd" setting, the amd and waitBeep nodes. */
static void test_amd(void **state)
{
	struct ivr_flow *flow = NULL;
	struct ivr_diag *d;

#define OUT "{'ivrId':7,'type':'autoOutbound',"
#define AMD_NODE(extra) "{'id':'a','type':'amd'" extra ",'human':'bye','machine':'w'," \
	"'unsure':'bye'},{'id':'w','type':'waitBeep','next':'bye','onTimeout':'bye'},"
	(void)state;
	assert_int_equal(load(OUT "'amd':{'enabled':true,'onMachine':'continue'},'nodes':["
			      START("a") AMD_NODE(",'params':{'timeoutMs':4000}") BYE TAIL,
			      &flow, NULL), 0);
	assert_true(ivr_flow_amd(flow));
	mem_deref(flow);
	assert_int_equal(load(OUT "'nodes':[" START("bye") BYE TAIL, &flow, NULL), 0);
	assert_false(ivr_flow_amd(flow));
	mem_deref(flow);
	/* a hangup node may say why the call ended: a voicemail was reached */
	load_ok(OUT "'nodes':[" START("bye") "{'id':'bye','type':'hangup','params':"
		"{'endStatus':'voiceMailReached'}}" TAIL);

	fails(OUT "'amd':true,'nodes':[" START("bye") BYE TAIL, "", "amd", "must be an object");
	fails(OUT "'amd':{'enabled':'yes'},'nodes':[" START("bye") BYE TAIL, "", "amd.enabled",
	      "must be true or false");
	fails(OUT "'amd':{'onMachine':'voicemail'},'nodes':[" START("bye") BYE TAIL, "",
	      "amd.onMachine", "'voicemail' is not one of hangup continue");
	fails(OUT "'amd':{'enable':true},'nodes':[" START("bye") BYE TAIL, "", "amd.enable",
	      "unknown field");
	fails(OUT "'nodes':[" START("a") AMD_NODE(",'params':{'timeoutMs':100}") BYE TAIL, "a",
	      "params.timeoutMs", "out of range 500-30000");
	fails(OUT "'nodes':[" START("a") AMD_NODE(",'params':{'wait':1}") BYE TAIL, "a",
	      "params.wait", "unknown field");
	fails(OUT "'nodes':[" START("a") "{'id':'a','type':'amd','human':'bye','unsure':'bye'},"
	      BYE TAIL, "a", "machine", "missing");
	fails(OUT "'nodes':[" START("w") "{'id':'w','type':'waitBeep','next':'bye'}," BYE TAIL,
	      "w", "onTimeout", "missing");
	fails(OUT "'nodes':[" START("w") "{'id':'w','type':'waitBeep','next':'bye',"
	      "'onTimeout':'bye','human':'bye'}," BYE TAIL, "w", "human",
	      "a waitBeep node has no 'human' exit");
	/* inbound and survey flows: a caller that dialled cccd is not listened to */
	d = load_bad(HEAD START("a") AMD_NODE("") BYE TAIL);
	assert_true(has(d, "a", "type", "an amd node is for autoOutbound flows"));
	assert_true(has(d, "w", "type", "a waitBeep node is for autoOutbound flows"));
	mem_deref(d);
	fails("{'type':'survey','amd':{'enabled':true},'nodes':[" START("bye") BYE TAIL, "",
	      "amd.enabled", "for autoOutbound flows");
	/* an amd node is no loop guard: it branches at once once the verdict is known */
	fails(OUT "'nodes':[" START("a") "{'id':'a','type':'amd','human':'a','machine':'bye',"
	      "'unsure':'bye'}," BYE TAIL, "a", "human", "loop with no exit guard");
#undef AMD_NODE
#undef OUT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_flow),
		cmocka_unit_test(test_demo_flow),
		cmocka_unit_test(test_document_errors),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_missing_and_dangling_targets),
		cmocka_unit_test(test_ids_and_start),
		cmocka_unit_test(test_reachability_and_dead_ends),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_prompt_files),
		cmocka_unit_test(test_uploaded_prompts),
		cmocka_unit_test(test_template_variables),
		cmocka_unit_test(test_business_hours),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_node_params),
		cmocka_unit_test(test_survey_attach),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_speech),
		cmocka_unit_test(test_amd),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
