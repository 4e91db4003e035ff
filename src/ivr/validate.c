/* ivr validation: the graph (ids, targets, reachability, dead ends, unguarded loops) and
 * the variables templates refer to. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <re_types.h>
#include <re_fmt.h>
#include <re_mem.h>
#include <re_list.h>
#include <re_tmr.h>
#include <re_main.h>
#include "asr/asr.h"
#include "ivr/ivr_int.h"

void diag_add(struct ivr_diag **dp, const char *node, const char *field, const char *fmt, ...)
{
	struct ivr_diag *d = *dp;
	struct ivr_issue *is;
	va_list ap;

	if (!d)
		return;
	if (d->n >= IVR_DIAG_MAX) {
		d->truncated = true;
		return;
	}
	is = &d->v[d->n++];
	snprintf(is->node, sizeof(is->node), "%s", node ? node : "");
	snprintf(is->field, sizeof(is->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(is->msg, sizeof(is->msg), fmt, ap);
	va_end(ap);
}

/* A node's name in findings: its id, or "#index" when it has none. */
static const char *nname(const struct ivr_flow *flow, size_t i, char buf[24])
{
	if (*flow->nodes[i].id)
		return flow->nodes[i].id;
	snprintf(buf, 24, "#%zu", i);
	return buf;
}

static int find_node(const struct ivr_flow *flow, const char *id)
{
	for (size_t i = 0; i < flow->n_nodes; i++) {
		if (*flow->nodes[i].id && !strcmp(flow->nodes[i].id, id))
			return (int)i;
	}
	return -1;
}

static bool terminal(const struct node *n)
{
	return n->type == NODE_HANGUP || n->type == NODE_TRANSFER_SKILL ||
	       n->type == NODE_TRANSFER_AGENT || n->type == NODE_TRANSFER_EXT;
}

static void check_ids_and_edges(struct ivr_flow *flow, struct ivr_diag **dp)
{
	size_t starts = 0;
	const char *start_id;

	for (size_t i = 0; i < flow->n_nodes; i++) {
		struct node *n = &flow->nodes[i];
		int first;

		if (n->type == NODE_START && !*n->id && !starts++)
			flow->start = (int)i;
		else if (n->type == NODE_START && !*n->id)
			diag_add(dp, "", "nodes", "a second start node (a flow has exactly one)");
		if (!*n->id)
			continue;
		first = find_node(flow, n->id);
		if (first != (int)i)
			diag_add(dp, n->id, "id", "duplicate id (node #%d has it too)", first);
		if (n->type == NODE_START) {
			char b[24];
			if (starts++)
				diag_add(dp, nname(flow, i, b), "type", "a second start node (a flow has exactly "
					 "one)");
			else
				flow->start = (int)i;
		}
	}
	if (!starts && flow->n_nodes)
		diag_add(dp, "", "nodes", "no start node");
	start_id = json_string_value(json_object_get(flow->doc, "start"));
	if (json_object_get(flow->doc, "start") && !start_id)
		diag_add(dp, "", "start", "must be the id of the start node");
	else if (start_id && flow->start >= 0 && strcmp(start_id, flow->nodes[flow->start].id))
		diag_add(dp, "", "start", "'%.64s' is not the start node (that is '%s')", start_id,
			 flow->nodes[flow->start].id);

	for (size_t i = 0; i < flow->n_nodes; i++) {
		struct node *n = &flow->nodes[i];
		char b[24];

		for (size_t j = 0; j < n->n_edges; j++) {
			struct edge *e = &n->edges[j];

			e->to = find_node(flow, e->to_id);
			if (e->to < 0)
				diag_add(dp, nname(flow, i, b), e->field, "target '%.64s' does not "
					 "exist", e->to_id);
			else if (flow->nodes[e->to].type == NODE_START)
				diag_add(dp, nname(flow, i, b), e->field, "leads back to the start node "
					 "(the start node has no incoming edges)");
		}
	}
}

/* Marks what `from` reaches (forward) or what reaches the marked set (reverse). */
static void reach_forward(const struct ivr_flow *flow, int from, bool *seen)
{
	int *stack = mem_alloc(flow->n_nodes * sizeof(int) * 2 + sizeof(int), NULL);
	size_t sp = 0;

	if (!stack)
		return;
	seen[from] = true;
	stack[sp++] = from;
	while (sp) {
		const struct node *n = &flow->nodes[stack[--sp]];
		for (size_t j = 0; j < n->n_edges; j++) {
			int t = n->edges[j].to;
			if (t >= 0 && !seen[t]) {
				seen[t] = true;
				stack[sp++] = t;
			}
		}
	}
	mem_deref(stack);
}

static void reach_terminal(const struct ivr_flow *flow, bool *ok)
{
	bool changed = true;

	for (size_t i = 0; i < flow->n_nodes; i++)
		ok[i] = terminal(&flow->nodes[i]);
	/* Fixed point: n ≤ 200 nodes, so the quadratic walk is cheap and obviously right. */
	while (changed) {
		changed = false;
		for (size_t i = 0; i < flow->n_nodes; i++) {
			const struct node *n = &flow->nodes[i];
			if (ok[i])
				continue;
			for (size_t j = 0; j < n->n_edges; j++) {
				if (n->edges[j].to >= 0 && ok[n->edges[j].to]) {
					ok[i] = true;
					changed = true;
					break;
				}
			}
		}
	}
}

/* ---- loops ----------------------------------------------------------------------
 * A flow may loop ("press 9 to hear the menu again", "try again"), but every loop must
 * contain something that stops it: a node that waits for the caller with a finite retry
 * count (menu, collect, survey), or a condition on a counter that a setVar in the same
 * loop increments. Within one strongly connected component, "every cycle has a guard" is
 * exactly "the component without its guard nodes has no cycle", which a DFS decides. The
 * runtime caps (node visits, call duration) stay as the last resort. */

struct scc {
	const struct ivr_flow *flow;
	int *index, *low, *comp, *stack;
	bool *on;
	int next, sp, ncomp;
};

static void tarjan(struct scc *s, int v)
{
	const struct node *n = &s->flow->nodes[v];

	s->index[v] = s->low[v] = s->next++;
	s->stack[s->sp++] = v;
	s->on[v] = true;
	for (size_t j = 0; j < n->n_edges; j++) {
		int w = n->edges[j].to;
		if (w < 0)
			continue;
		if (s->index[w] < 0) {
			tarjan(s, w);
			if (s->low[w] < s->low[v])
				s->low[v] = s->low[w];
		}
		else if (s->on[w] && s->index[w] < s->low[v]) {
			s->low[v] = s->index[w];
		}
	}
	if (s->low[v] == s->index[v]) {
		int w;
		do {
			w = s->stack[--s->sp];
			s->on[w] = false;
			s->comp[w] = s->ncomp;
		} while (w != v);
		s->ncomp++;
	}
}

static bool counter_guard(const struct ivr_flow *flow, const int *comp, int v)
{
	const struct node *n = &flow->nodes[v];

	if (n->type != NODE_CONDITION)
		return false;
	for (size_t c = 0; c < n->n_cases; c++) {
		for (size_t i = 0; i < flow->n_nodes; i++) {
			const struct node *m = &flow->nodes[i];
			if (comp[i] != comp[v] || m->type != NODE_SETVAR)
				continue;
			for (size_t a = 0; a < m->n_assigns; a++) {
				if (m->assigns[a].is_add && m->assigns[a].add != 0 &&
				    !strcmp(m->assigns[a].var, n->cases[c].var))
					return true;
			}
		}
	}
	return false;
}

/* DFS over unguarded nodes of one component; on a back edge, reports the cycle. */
static bool cycle_dfs(const struct ivr_flow *flow, const int *comp, const bool *guard,
		      int *color, int *parent, int v, struct ivr_diag **dp)
{
	const struct node *n = &flow->nodes[v];

	color[v] = 1;
	for (size_t j = 0; j < n->n_edges; j++) {
		int w = n->edges[j].to;
		if (w < 0 || comp[w] != comp[v] || guard[w])
			continue;
		if (color[w] == 1) {
			char path[200];
			size_t len = 0;
			int u = v;

			/* Walk back from v to w through the DFS parents to name the loop. */
			len += (size_t)snprintf(path, sizeof(path), "%s", flow->nodes[w].id);
			int chain[16], k = 0;
			while (u != w && u >= 0 && k < 16) {
				chain[k++] = u;
				u = parent[u];
			}
			while (k-- > 0 && len < sizeof(path))
				len += (size_t)snprintf(path + len, sizeof(path) - len, " -> %s",
							flow->nodes[chain[k]].id);
			if (len < sizeof(path))
				snprintf(path + len, sizeof(path) - len, " -> %s", flow->nodes[w].id);
			diag_add(dp, flow->nodes[v].id, n->edges[j].field,
				 "loop with no exit guard: %s (put a menu, collect or survey in it, "
				 "or a condition on a counter the loop increments)", path);
			return true;
		}
		if (color[w] == 0) {
			parent[w] = v;
			if (cycle_dfs(flow, comp, guard, color, parent, w, dp))
				return true;
		}
	}
	color[v] = 2;
	return false;
}

static void check_loops(const struct ivr_flow *flow, struct ivr_diag **dp)
{
	size_t n = flow->n_nodes;
	struct scc s = {.flow = flow};
	int *buf = mem_alloc(6 * n * sizeof(int) + sizeof(int), NULL);
	bool *bbuf = mem_zalloc(2 * n * sizeof(bool) + 1, NULL);
	int *color, *parent;
	bool *guard;

	if (!buf || !bbuf)
		goto out;
	s.index = buf;
	s.low = buf + n;
	s.comp = buf + 2 * n;
	s.stack = buf + 3 * n;
	color = buf + 4 * n;
	parent = buf + 5 * n;
	s.on = bbuf;
	guard = bbuf + n;
	for (size_t i = 0; i < n; i++) {
		s.index[i] = -1;
		color[i] = 0;
		parent[i] = -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s.index[i] < 0)
			tarjan(&s, (int)i);
	}
	for (size_t i = 0; i < n; i++) {
		enum node_type t = flow->nodes[i].type;
		guard[i] = t == NODE_MENU || t == NODE_COLLECT || t == NODE_SURVEY ||
			   t == NODE_SPEECH ||
			   counter_guard(flow, s.comp, (int)i);
	}
	/* One finding per component is enough to point at the loop. */
	for (int c = 0; c < s.ncomp; c++) {
		for (size_t i = 0; i < n; i++) {
			if (s.comp[i] != c || guard[i] || color[i])
				continue;
			if (cycle_dfs(flow, s.comp, guard, color, parent, (int)i, dp))
				break;
		}
	}
 out:
	mem_deref(buf);
	mem_deref(bbuf);
}

/* ---- variables ------------------------------------------------------------------- */

struct varcheck {
	const struct ivr_flow *flow;
	struct ivr_diag **dp;
	const char *node;
	char field[96];
};


static bool var_set_by_flow(const struct ivr_flow *flow, const char *name, size_t len)
{
	const char *k;
	json_t *v;

	if (sysvar_is(name, len))
		return true;
	if (flow->declared) {
		json_object_foreach(flow->declared, k, v) {
			if (strlen(k) == len && !memcmp(k, name, len))
				return true;
		}
	}
	for (size_t i = 0; i < flow->n_nodes; i++) {
		const struct node *n = &flow->nodes[i];
		if (n->var && strlen(n->var) == len && !memcmp(n->var, name, len))
			return true;
		if (n->intent_var && strlen(n->intent_var) == len &&
		    !memcmp(n->intent_var, name, len))
			return true;
		for (size_t a = 0; a < n->n_assigns; a++) {
			if (strlen(n->assigns[a].var) == len && !memcmp(n->assigns[a].var, name, len))
				return true;
		}
		for (size_t o = 0; o < n->n_outputs; o++) {
			if (strlen(n->outputs[o].var) == len && !memcmp(n->outputs[o].var, name, len))
				return true;
		}
	}
	return false;
}

static void var_ref(const char *name, size_t len, void *arg)
{
	struct varcheck *vc = arg;

	if (var_set_by_flow(vc->flow, name, len))
		return;
	diag_add(vc->dp, vc->node, vc->field, "${%.*s} is never set: not a system variable, not "
		 "declared in the flow's variables, and no collect, http output or setVar sets it",
		 (int)len, name);
}

static void check_tmpl(struct varcheck *vc, const char *field, const char *t)
{
	char why[128];

	if (!t)
		return;
	snprintf(vc->field, sizeof(vc->field), "%s", field);
	if (tmpl_scan(t, var_ref, vc, why, sizeof(why)))
		diag_add(vc->dp, vc->node, field, "bad template: %s", why);
}

static void check_prompt(struct varcheck *vc, const struct prompt_def *pd)
{
	char f[96];

	if (!pd->set || !pd->tts)
		return;
	snprintf(f, sizeof(f), "%stts", pd->where);
	check_tmpl(vc, f, pd->tts);
}

static void check_vars(const struct ivr_flow *flow, struct ivr_diag **dp)
{
	struct varcheck vc = {.flow = flow, .dp = dp};
	char f[96];

	for (size_t i = 0; i < flow->n_nodes; i++) {
		const struct node *n = &flow->nodes[i];

		char b[24];

		vc.node = nname(flow, i, b);
		check_prompt(&vc, &n->prompt);
		check_prompt(&vc, &n->timeout_prompt);
		check_prompt(&vc, &n->invalid_prompt);
		check_prompt(&vc, &n->confirm_prompt);
		check_tmpl(&vc, "params.url", n->url);
		check_tmpl(&vc, "params.body", n->body);
		if (n->type == NODE_TRANSFER_AGENT) {
			check_tmpl(&vc, "params.agent", n->number);
		}
		else {
			check_tmpl(&vc, "params.number", n->number);
			check_tmpl(&vc, "params.callerNumber", n->caller);
		}
		for (size_t k = 0; k < n->n_headers; k++) {
			snprintf(f, sizeof(f), "params.headers.%s", n->headers[k].name);
			check_tmpl(&vc, f, n->headers[k].value);
		}
		for (size_t k = 0; k < n->n_request; k++) {
			snprintf(f, sizeof(f), "params.request.%s", n->request[k].name);
			check_tmpl(&vc, f, n->request[k].value);
		}
		for (size_t k = 0; k < n->n_assigns; k++) {
			if (n->assigns[k].is_add)
				continue;
			snprintf(f, sizeof(f), "params.assign.%s", n->assigns[k].var);
			check_tmpl(&vc, f, n->assigns[k].value);
		}
		for (size_t k = 0; k < n->n_cases; k++) {
			const struct cond_case *c = &n->cases[k];
			snprintf(f, sizeof(f), "params.cases.%zu.if.var", k);
			snprintf(vc.field, sizeof(vc.field), "%s", f);
			var_ref(c->var, strlen(c->var), &vc);
			snprintf(f, sizeof(f), "params.cases.%zu.if.value", k);
			check_tmpl(&vc, f, c->value);
		}
	}
}

/* Answering-machine detection listens to the callee of an outbound call: an inbound
 * caller dialled cccd (a machine does not call), and a survey runs after a transfer, long
 * after the answer. So its setting and nodes belong to autoOutbound flows only. */
static void check_amd(const struct ivr_flow *flow, struct ivr_diag **dp)
{
	if (flow->type == IVR_FLOW_AUTO_OUTBOUND || !flow->type)
		return;
	if (flow->amd)
		diag_add(dp, "", "amd.enabled", "answering-machine detection is for "
			 "autoOutbound flows (a %s flow's calls are not placed by cccd)",
			 ivr_flow_type_name(flow->type));
	for (size_t i = 0; i < flow->n_nodes; i++) {
		const struct node *n = &flow->nodes[i];

		if (n->type == NODE_AMD || n->type == NODE_WAIT_BEEP)
			diag_add(dp, n->id, "type", "%s node is for autoOutbound flows "
				 "(answering-machine detection listens to the callee cccd called)",
				 n->type == NODE_AMD ? "an amd" : "a waitBeep");
	}
}

void flow_validate(struct ivr_flow *flow, struct ivr_diag **dp)
{
	bool *seen, *ok;

	if (!flow->n_nodes)
		return;
	check_ids_and_edges(flow, dp);
	check_vars(flow, dp);
	check_amd(flow, dp);

	seen = mem_zalloc(2 * flow->n_nodes * sizeof(bool), NULL);
	if (!seen) {
		diag_add(dp, "", "nodes", "out of memory");
		return;
	}
	ok = seen + flow->n_nodes;
	if (flow->start >= 0) {
		reach_forward(flow, flow->start, seen);
		for (size_t i = 0; i < flow->n_nodes; i++) {
			char b[24];
			if (!seen[i])
				diag_add(dp, nname(flow, i, b), "", "unreachable from the start node");
		}
	}
	reach_terminal(flow, ok);
	for (size_t i = 0; i < flow->n_nodes; i++) {
		char b[24];
		if (!ok[i] && (flow->start < 0 || seen[i]) && flow->nodes[i].type != NODE_TYPE_COUNT)
			diag_add(dp, nname(flow, i, b), "", "no path from this node to a hangup or "
				 "transfer (a dead end, or a loop that never exits)");
	}
	mem_deref(seen);
	check_loops(flow, dp);
}

/* A word the recogniser has no pronunciation for can never be heard: a finding naming it,
 * at load (the dictionary is a file; flows load off the control loop). */
void flow_validate_speech(const struct ivr_flow *flow, const struct ivr_flow_opts *opts,
			  struct ivr_diag **dp)
{
	struct asr_conf def;
	const struct asr_conf *ac = opts && opts->asr ? opts->asr : NULL;

	if (!ac) {
		asr_conf_default(&def);
		ac = &def;
	}
	for (size_t i = 0; i < flow->n_nodes; i++) {
		const struct node *n = &flow->nodes[i];
		char bad[64], b[24];
		int err;

		if (n->type != NODE_SPEECH || !n->grammar || n->grammar->kind != ASR_KEYWORDS)
			continue;
		err = asr_grammar_check(n->grammar, ac, bad, sizeof(bad));
		if (err == ENOENT)
			diag_add(dp, nname(flow, i, b), "params.phrases", "'%s' is not in the %s "
				 "dictionary of %s: it can never be recognised", bad, ac->engine,
				 ac->model);
		else if (err)
			diag_add(dp, nname(flow, i, b), "params.phrases", "cannot check the phrases "
				 "against the %s dictionary: %s", ac->engine, strerror(err));
	}
}
