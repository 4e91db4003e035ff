// A strict parser of the Prometheus text exposition format 0.0.4, for the tests of
// /metrics: it throws on anything a Prometheus server would refuse or misread — a sample
// before its TYPE, a family split in two, a duplicate series, a bad name, label or value,
// a histogram whose buckets are not cumulative or lack +Inf or whose _count differs from
// its +Inf bucket — and on what cccd promises beyond that (HELP on every family, counters
// named *_total and never negative).
// parse(text) → { families: Map(name → {type, help, samples}), value(name, labels) }.
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s, where) {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

// name{a="x",b="y"} → [name, {a, b}, rest of the line]
function parseSample(line, where) {
  let i = 0;
  while (i < line.length && line[i] !== "{" && line[i] !== " ") i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
  const labels = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      if (line[i] === "}") { i++; break; }
      let j = i;
      while (j < line.length && line[j] !== "=") j++;
      const ln = line.slice(i, j);
      if (!LABEL.test(ln) || ln.startsWith("__")) throw new Error(`${where}: bad label name '${ln}'`);
      if (line[j + 1] !== '"') throw new Error(`${where}: label ${ln} not quoted`);
      let v = "";
      for (j += 2; ; j++) {
        if (j >= line.length) throw new Error(`${where}: unterminated label value`);
        if (line[j] === "\\") {
          const e = line[++j];
          if (e === "\\") v += "\\"; else if (e === '"') v += '"'; else if (e === "n") v += "\n";
          else throw new Error(`${where}: bad escape \\${e}`);
        } else if (line[j] === '"') break;
        else v += line[j];
      }
      if (ln in labels) throw new Error(`${where}: label ${ln} twice`);
      labels[ln] = v;
      i = j + 1;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new Error(`${where}: expected , or } after a label`);
    }
  }
  if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`);
  return [name, labels, line.slice(i + 1)];
}

const key = (name, labels) => `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;

function familyOf(name, families) {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return base;
    }
  }
  return name;
}

function checkHistogram(name, f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const g = key("", rest);
    if (!groups.has(g)) groups.set(g, { buckets: [], sum: undefined, count: undefined });
    const grp = groups.get(g);
    if (s.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}: a bucket without le`);
      grp.buckets.push([parseValue(le, `${name} le`), s.value]);
    } else if (s.name === `${name}_sum`) grp.sum = s.value;
    else if (s.name === `${name}_count`) grp.count = s.value;
    else throw new Error(`${name}: sample ${s.name} in a histogram`);
  }
  for (const [g, grp] of groups) {
    const b = grp.buckets;
    if (!b.length || b[b.length - 1][0] !== Infinity) throw new Error(`${name}${g}: no +Inf bucket last`);
    for (let i = 1; i < b.length; i++) {
      if (!(b[i][0] > b[i - 1][0])) throw new Error(`${name}${g}: buckets not in increasing le order`);
      if (b[i][1] < b[i - 1][1]) throw new Error(`${name}${g}: buckets not cumulative`);
    }
    if (grp.sum === undefined || grp.count === undefined) throw new Error(`${name}${g}: _sum or _count missing`);
    if (grp.count !== b[b.length - 1][1]) throw new Error(`${name}${g}: _count ${grp.count} != +Inf bucket ${b[b.length - 1][1]}`);
  }
}

export function parse(text) {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a line feed");
  const families = new Map(), series = new Set(), closed = new Set();
  let current = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name, rest = ""] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad family name ${name}`);
      if (closed.has(name)) throw new Error(`${where}: family ${name} appears twice`);
      if (current && current !== name) closed.add(current);
      current = name;
      const f = families.get(name) || { type: "untyped", help: undefined, samples: [], typed: false };
      families.set(name, f);
      if (kind === "HELP") {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = rest;
      } else {
        if (f.typed) throw new Error(`${where}: second TYPE for ${name}`);
        if (f.samples.length) throw new Error(`${where}: TYPE of ${name} after its samples`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        f.type = rest;
        f.typed = true;
      }
      return;
    }
    const [name, labels, rest] = parseSample(line, where);
    const parts = rest.split(" ");
    if (parts.length > 2 || (parts.length === 2 && !/^-?\d+$/.test(parts[1]))) throw new Error(`${where}: bad value or timestamp '${rest}'`);
    const value = parseValue(parts[0], where);
    const fam = familyOf(name, families);
    if (closed.has(fam)) throw new Error(`${where}: family ${fam} is split`);
    if (current && current !== fam) closed.add(current);
    current = fam;
    if (!families.has(fam)) families.set(fam, { type: "untyped", help: undefined, samples: [], typed: false });
    const k = key(name, labels);
    if (series.has(k)) throw new Error(`${where}: series ${k} twice`);
    series.add(k);
    families.get(fam).samples.push({ name, labels, value });
  });
  for (const [name, f] of families) {
    if (f.help === undefined || !f.typed) throw new Error(`${name}: no HELP or TYPE`);
    if (f.type === "histogram") checkHistogram(name, f);
    if (f.type === "counter") {
      if (!name.endsWith("_total")) throw new Error(`counter ${name} is not named *_total`);
      for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${name} is ${s.value}`);
    }
  }
  const index = new Map();
  for (const f of families.values()) for (const s of f.samples) index.set(key(s.name, s.labels), s.value);
  return {
    families,
    // A series' value; 0 when absent (cccd writes a labelled counter once it moved).
    value: (name, labels = {}) => index.get(key(name, labels)) ?? 0,
    // The sum over every series of a name whose labels include `labels`.
    sum: (name, labels = {}) => {
      let t = 0;
      for (const f of families.values()) for (const s of f.samples) {
        if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) t += s.value;
      }
      return t;
    },
  };
}
