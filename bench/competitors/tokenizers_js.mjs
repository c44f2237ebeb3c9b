// Tokenizer throughput of transformers.js (the competitor), for Cortado's TokenizerBench side-by-side table.
//
// Setup (once, in a scratch dir outside the repo; only the npm registry is needed):
//   mkdir -p /work/node-bench && cd /work/node-bench && npm init -y && \
//     npm install @huggingface/transformers@4.3.1 --ignore-scripts
// Usage (module resolution goes through the scratch dir, so run with NODE_PATH or from there):
//   node bench/competitors/tokenizers_js.mjs --node-dir /work/node-bench --tokenizers-dir <dir> \
//        (--texts texts.json | --tsv train.tsv [--mb 1]) [--rounds 5] name ...
// --texts: a JSON array of strings (what TokenizerBench writes, so both engines see the very same strings);
// --tsv: the description column, same rule as TokenizerBench.texts (skip header, longer of first/last column,
//        literal "\n" -> newline, stop once the char count reaches mb*1e6).
// Each string is one encode call, add_special_tokens=false. One warm-up pass, then --rounds timed passes.
// Prints one JSON line per tokenizer: {tokenizer, tokens, seconds, tokens_per_s, ...}. seconds is the smallest
// process CPU time (user+sys) of the rounds -- CPU, not wall, because the bench machine is shared; encode is
// synchronous on the main thread, so this is that thread plus any V8 GC helper threads. wall_seconds is the wall
// time of that round. Nothing is ever fetched from the Hub (allowRemoteModels=false, local files only).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
function opt(flag, def) {
    const i = args.indexOf(flag);
    if (i < 0) return def;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
}
const nodeDir = path.resolve(opt('--node-dir', process.env.CORTADO_NODE_BENCH_DIR || '/work/node-bench'));
const tokDir = path.resolve(opt('--tokenizers-dir', '/work/shared/models/tokenizers'));
const textsPath = opt('--texts', null);
const tsvPath = opt('--tsv', null);
const mb = Number(opt('--mb', '1'));
const rounds = Number(opt('--rounds', '5'));
const names = args.length ? args : ['gpt2', 't5-small', 'bert-base-uncased'];

// resolve the package from the scratch install, not from the repo
const require = createRequire(path.join(nodeDir, 'package.json'));
const entry = require.resolve('@huggingface/transformers');
const { AutoTokenizer, env, GPT2Tokenizer, BertTokenizer } = await import(pathToFileURL(entry).href);
function pkgVersion(name) {
    let dir = path.dirname(require.resolve(name));
    while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}
const version = pkgVersion('@huggingface/transformers');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = tokDir + path.sep;

// folders without tokenizer_config.json: same in-memory config as shared/models/tokenizers/make_goldens.mjs
const FALLBACK = {
    'gpt2': { cls: GPT2Tokenizer, config: { model_max_length: 1024 } },
    'bert-base-uncased': { cls: BertTokenizer, config: { do_lower_case: true, model_max_length: 512 } },
};

function loadTexts() {
    if (textsPath) return JSON.parse(fs.readFileSync(textsPath, 'utf8'));
    if (!tsvPath) throw new Error('give --texts or --tsv');
    const lines = fs.readFileSync(tsvPath, 'utf8').split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop(); // like Files.readAllLines
    const out = [];
    let n = 0;
    for (let line of lines.slice(1)) {
        if (line.endsWith('\r')) line = line.slice(0, -1);
        const cols = line.split('\t');
        while (cols.length > 1 && cols[cols.length - 1] === '') cols.pop(); // like String.split
        let d = cols[0].length > cols[cols.length - 1].length ? cols[0] : cols[cols.length - 1];
        d = d.replaceAll('\\n', '\n');
        out.push(d);
        n += d.length;
        if (n >= mb * 1e6) break;
    }
    return out;
}

async function load(name) {
    const dir = path.join(tokDir, name);
    if (fs.existsSync(path.join(dir, 'tokenizer_config.json')))
        return AutoTokenizer.from_pretrained(name, { local_files_only: true });
    const fb = FALLBACK[name];
    if (!fb) throw new Error(`${name}: no tokenizer_config.json and no fallback`);
    return new fb.cls(JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), fb.config);
}

// id checksum, the same fold as TokenizerBench.measure: h = h*31 + id per id, then h*31 - 1 per text (int32)
function checksum(tok, texts) {
    let h = 0;
    for (const t of texts) {
        for (const id of tok.encode(t, { add_special_tokens: false })) h = (Math.imul(h, 31) + id) | 0;
        h = (Math.imul(h, 31) - 1) | 0;
    }
    return h;
}

function pass(tok, texts) {
    let tokens = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const t of texts) tokens += tok.encode(t, { add_special_tokens: false }).length;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { tokens, wall, cpu: (c.user + c.system) / 1e6 };
}

const texts = loadTexts();
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t, 'utf8'), 0);
for (const name of names) {
    const tok = await load(name);
    const sum = checksum(tok, texts); // warm-up (JIT, and any caches the tokenizer keeps, like Cortado's)
    let best = null;
    const cpus = [];
    for (let r = 0; r < rounds; r++) {
        const p = pass(tok, texts);
        cpus.push(p.cpu);
        if (best && p.tokens !== best.tokens) throw new Error(`${name}: token count changed between rounds`);
        if (!best || p.cpu < best.cpu) best = p;
    }
    console.log(JSON.stringify({
        tokenizer: name, engine: 'transformers.js', version, node: process.version,
        texts: texts.length, bytes, tokens: best.tokens, checksum: sum, seconds: best.cpu, wall_seconds: best.wall,
        tokens_per_s: best.tokens / best.cpu, rounds, cpu_seconds_all: cpus,
    }));
}
