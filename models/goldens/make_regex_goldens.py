"""Regex semantics goldens: what HF `tokenizers` (Oniguruma) matches for tokenizer.json regexes.

Run: python models/goldens/make_regex_goldens.py  (needs `tokenizers`, tested with 0.23.2)
Writes src/test/resources/goldens/tokenizers/regex_semantics.json: for each (regex, text) the match ranges in
UTF-16 offsets (what Java sees), found through Split(behavior="isolated") vs Split(behavior="removed");
and the Oniguruma membership of the classes \\s \\w \\d \\h \\p{L} \\p{N} as code point ranges.
"""
import json, pathlib, tokenizers
from tokenizers import pre_tokenizers, Regex

TEXTS = [
    "Hello, World! I'm here: 123 4567 ÉCOLE straße STRASSE ſ K\u212a\n  tabs\there ١٢٣ 漢字かな 🎉 x\u00a0y\u3000z",
    "a\nba\n\nb  c   \r\n d\t\u2028e\u0085f aaaa aaab Ab AB ab x\u0301y ²³ Ⅻ ⓐ Ⓐ",
    "The quick brown fox's (jumps) over 12,345.67 lazy-dogs!!! — «quotes» “curly” … $€¥ x=y+z; {}[]<>",
    "  leading and trailing  ",
    "",
]
REGEXES = [
    # real tokenizer.json regexes (flan-t5 Replace; Whitespace/Digits pre-tokenizers; DeepSeek-V3 Split sequence)
    " {2,}", "\\w+|[^\\w\\s]+", "\\p{N}+", "\\p{N}", "\\p{N}{1,3}", "[\\r\\n]", "\\s+$", "[一-龥ࠀ-一가-퟿]+",
    "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫ𐐀-𐑏𞤀-𞥃]+",
    # GPT-4o (o200k) and a Llama-3 variant: lookahead, so the bounded backtracking fallback
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,2}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+|\\bzzz\\b",
    # semantics probes
    "(a+)+$", "a$", "^b", "^", ".", "(?m).", "\\s+", "\\S+", "[^\\s]+", "\\d+", "\\D+", "\\h+", "\\w", "\\W+",
    "(?i)k", "(?i:ab)|x", "a(?i)b|c", "(?i)é", "\\x{41}|\\u0042|\\x62", "a{,2}", "a{2}", "a{1,}", "x{", "[a-c]+",
    "[^a-c\\s]+", "[\\w-]+", "[\\d.,]+", "\\p{Lu}+", "\\p{^L}+", "\\P{L}+", "\\p{Han}+", "\\p{Hiragana}", "\\Aa",
    "a\\z", "\\t|\\n", "[\\t\\x{3000}]", "(?<w>a)b", "(?:ab)+", "a+?b", "(?#c)ab", "\\bab", "(?<=a)b", "(a)\\1",
    "a++b", "(?>a+)b", "[\\]]", "[^\\]]+", "\\.", "\\$\\^", "[\\u00e9]", "(?-i:a)", "(?i)(?-i:a)B",
]
UNSUPPORTED = ["[[:alpha:]]+", "(?x) a", "a\\Z", "\\R", "\\X", "\\K", "[a[b]]", "[a&&b]", "(?i)ß", "(?i)ss", "a{1}+",
               "\\p{Alpha}"]

def matches(rx, text):
    iso = pre_tokenizers.Split(Regex(rx), behavior="isolated").pre_tokenize_str(text)
    rem = {o for _, o in pre_tokenizers.Split(Regex(rx), behavior="removed").pre_tokenize_str(text)}
    return [o for _, o in iso if o not in rem]

def utf16(text, cp_off):
    return len(text[:cp_off].encode("utf-16-le")) // 2

cases = []
for rx in REGEXES:
    try:
        Regex(rx)
    except Exception as e:
        raise SystemExit(f"Oniguruma refuses {rx!r}: {e}")
    for t in TEXTS:
        cases.append({"regex": rx, "text": t, "matches": [[utf16(t, a), utf16(t, b)] for a, b in matches(rx, t)]})
onig_ok = {}
for rx in UNSUPPORTED:
    try:
        Regex(rx); onig_ok[rx] = True
    except Exception:
        onig_ok[rx] = False

cps = [c for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF)]
text = "".join(map(chr, cps))
classes = {}
for name in ["\\s", "\\w", "\\d", "\\h", "\\p{L}", "\\p{N}"]:
    kept = set()
    for _, (a, b) in pre_tokenizers.Split(Regex(name), behavior="removed").pre_tokenize_str(text):
        kept.update(range(a, b))
    rng = []
    for i, c in enumerate(cps):
        if i in kept: continue
        if rng and rng[-1][1] == c - 1: rng[-1][1] = c
        else: rng.append([c, c])
    classes[name] = rng

out = {"provenance": {"library": "tokenizers", "version": tokenizers.__version__,
                      "how": "Split isolated vs removed; offsets converted to UTF-16"},
       "cases": cases, "unsupported_but_valid_in_oniguruma": [r for r in UNSUPPORTED if onig_ok[r]],
       "classes": classes}
p = pathlib.Path(__file__).resolve().parents[2] / "src/test/resources/goldens/tokenizers/regex_semantics.json"
p.write_text(json.dumps(out, ensure_ascii=False, indent=0))
print(p, len(cases), "cases")
