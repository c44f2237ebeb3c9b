"""Write models/<out>/README.md (model card) from the training log, the dev evaluation, the export check and
the goldens. usage: python make_card.py {en-de|summarize}"""
import json
import sys
from pathlib import Path

import torch
from transformers import GenerationConfig, MarianMTModel, PreTrainedTokenizerFast

from common import ARCH, TASKS, WORK, model_dir, work_dir

# (training log under models/train/history/, what the phase was); see models/train/README.md for the story. Phases
# 1-3 were transcribed from the v1 model card (their logs were lost with the machine); the v2 logs are copied there
# from ../train-work/<task>/train_log_v2.json when a model is shipped.
HISTORY = Path(__file__).resolve().parent / "history"
EN_DE_V1 = [("en-de-phase1.json", "stopped by hand after its last scored checkpoint; large batches"),
            ("en-de-phase2.json", "continued from phase 1, fresh optimizer, smaller batches"),
            ("en-de-phase3.json", "continued from phase 2, fresh optimizer")]
V2_FROM = "continued from the phase-3 checkpoint, rebuilt from the shipped v1 ONNX by recover_ckpt.py,"
PHASES = {
    "en-de": EN_DE_V1 + [("en-de-v2.json", V2_FROM + " on an idle machine, fresh optimizer")],
    "summarize": [(f, "EN→DE pretraining, " + lab) for f, lab in EN_DE_V1]
                 + [("summarize-v2.json", "summarization fine-tuning " + V2_FROM[len("continued "):] + " same tokenizer")],
}

EXTRA_EXAMPLES = {
    "en-de": ["This package contains the documentation.",
              "This package contains the development files for the library.",
              "A simple command line tool to convert images between formats."],
    "summarize": ["This package contains the header files and static libraries needed to compile applications "
                  "that use libfoo, a library for parsing configuration files. It supports INI and TOML syntax.",
                  "Foobar is a fast, lightweight text editor for the terminal. It offers syntax highlighting for "
                  "many programming languages, multiple buffers and a plugin system written in Lua. This package "
                  "contains the documentation in HTML format."],
}


def main(task):
    torch.set_num_threads(1)
    t = TASKS[task]
    out, w = model_dir(task), work_dir(task)
    ev = json.loads((w / "eval_beam4.json").read_text())
    exp = json.loads((w / "export_check.json").read_text())
    gold = json.loads((out / "goldens.json").read_text())
    gc = GenerationConfig.from_pretrained(str(out))
    model = MarianMTModel.from_pretrained(str(w / "ckpt")).eval()
    tok = PreTrainedTokenizerFast.from_pretrained(str(out))
    ex = []
    for s in EXTRA_EXAMPLES[task]:
        enc = tok([s], return_tensors="pt", truncation=True, max_length=t["max_src"])
        with torch.no_grad():
            g = model.generate(**enc, num_beams=4, max_length=gc.max_length, early_stopping=gc.early_stopping,
                               length_penalty=gc.length_penalty, no_repeat_ngram_size=gc.no_repeat_ngram_size)[0]
        ex.append((s, tok.decode(g, skip_special_tokens=True)))
    # training history: every phase's log, in order (the summarizer starts from the EN→DE phases 1-3)
    phases = [json.loads((HISTORY / f).read_text()) | dict(file=f, label=label) for f, label in PHASES[task]]
    tl = phases[-1]
    a = phases[0]["args"]
    rows, phase_lines, total_steps, total_min = [], [], 0, 0.0
    for k, x in enumerate(phases, start=1):
        b = x["args"]
        scored = [r for r in x["log"] if "bleu" in r or "rougeL" in r]
        e = x["log"][-1]  # phase 1's log ends at its last scored checkpoint (it was stopped by hand after it)
        opts = [f"--max-steps {b['max_steps']}", f"--time-budget-min {b['time_budget_min']:g}", f"--lr {b['lr']:g}",
                f"--warmup {b['warmup']}", f"--max-tokens {b['max_tokens']}", f"--ckpt-min {b['ckpt_min']:g}"]
        if b.get("init_from"):
            opts.insert(0, "--init-from " + b["init_from"].replace(str(WORK), "../train-work"))
        if b.get("tokenizer_from"):
            opts.insert(1, "--tokenizer-from " + b["tokenizer_from"].replace(str(WORK), "../train-work"))
        if b.get("eval_final_only"):
            opts.append("--eval-final-only")
        for k2, default in (("log_every", 100), ("seed", 1), ("log_name", "train_log.json")):
            if b.get(k2, default) != default:
                opts.append(f"--{k2.replace('_', '-')} {b[k2]}")
        ptask = x["args"]["task"]
        phase_lines.append(f"- Phase {k} ({x['label']}): `python train_model.py {ptask} {' '.join(opts)}` — "
                           f"{e['step']:,} steps, {e['minutes']} min; batches ≤ {b['max_tokens']} padded tokens, "
                           f"peak LR {b['lr']:g}, warmup {b['warmup']}.")
        rows += [dict(r, phase=k, task=ptask, step=total_steps + r["step"], minutes=round(total_min + r["minutes"], 1))
                 for r in scored]
        total_steps += e["step"]
        total_min += e["minutes"]
    phase_text = "\n".join(phase_lines)
    tuned = ""
    if (w / "tune_generation.json").exists():
        tg = json.loads((w / "tune_generation.json").read_text())
        grid = "; ".join(f"lp {r['length_penalty']} / nrng {r['no_repeat_ngram_size']}: {r[tg['metric']]}" for r in tg["results"])
        tuned = (f"length_penalty and no_repeat_ngram_size were picked with `python tune_generation.py {task}` on the first "
                 f"{tg['rows']} dev rows (beam 4, {tg['metric']}: {grid}); the full-dev score above is therefore slightly optimistic.")
    avg = w / "ckpt" / "averaged_from.json"
    averaged = ""
    if avg.exists():
        av = json.loads(avg.read_text())
        averaged = (f"- **The shipped weights are an average of {len(av['checkpoints'])} checkpoints of the last phase** "
                    f"(`python average_ckpts.py`): {av['note']}. It was picked over the last checkpoint alone by its "
                    f"full-dev score (see Dev scores).\n")
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file() and p.name != "README.md"}
    total = sum(sizes.values())
    de = task == "en-de"
    title = "Cortado EN→DE (Debian package descriptions)" if de else "Cortado EN summarizer (Debian long description → synopsis)"
    if de:
        score = f"BLEU **{ev['bleu']}**, chrF **{ev['chrf']}** (sacrebleu {__import__('sacrebleu').__version__}, corpus level, default 13a tokenization; target BLEU ≥ 20)"
    else:
        score = (f"ROUGE-1 **{ev['rouge1']}**, ROUGE-2 **{ev['rouge2']}**, ROUGE-L **{ev['rougeL']}** (F1 ×100, mean over rows; "
                 f"own implementation in models/train/metrics.py with rouge_score's defaults: lowercase, [a-z0-9]+ tokens, "
                 f"no stemming; target ROUGE-L ≥ 30)")
    quick = "\n".join(f"| {r['phase']} | {r['task']} | {r['step']} | {r['epoch']} | {r['minutes']} | " +
                      (f"{r['bleu']} / {r['chrf']}" if "bleu" in r else f"{r['rouge1']} / {r['rouge2']} / {r['rougeL']}") + " |"
                      for r in rows)
    gold_rows = "\n".join(f"| {c['source'][:140]}{'…' if len(c['source']) > 140 else ''} | {c['beam4']['text']} | {c['reference']} |"
                          for c in gold["cases"][:5])
    extra = "\n".join(f"| {s} | {o} |" for s, o in ex)
    card = f"""# {title}

A tiny Marian-architecture encoder–decoder trained {"from scratch" if de else "(from Cortado's EN→DE model)"} by Cortado's own scripts (`models/train/`), shipped in
the Hugging Face Optimum ONNX layout so that Cortado (and ONNX Runtime) can run it without any download.
{"Used by `./cortado translate`." if de else "Used by `./cortado summarize`."}

## Files ({total / 1e6:.2f} MB in total)
| file | bytes |
|---|---|
""" + "\n".join(f"| {k} | {v:,} |" for k, v in sizes.items()) + f"""

- `encoder_model.onnx`: input_ids, attention_mask → last_hidden_state
- `decoder_model.onnx`: encoder_attention_mask, input_ids, encoder_hidden_states → logits, present.N.decoder.key|value, present.N.encoder.key|value
- `decoder_with_past_model.onnx`: encoder_attention_mask, input_ids, past_key_values.N.decoder.key|value, past_key_values.N.encoder.key|value → logits, present.N.decoder.key|value
- KV tensors are [batch, heads=4, seq, head_dim=48], fp32; N = 0 (one decoder layer). Exported with
  `torch.onnx.export(dynamo=False)`, opset 17, constant folding on; the tied embedding is stored once per file (the
  lm_head reaches it through a `Transpose` node; the Gather uses it directly). No `model.safetensors` (it would
  add 14 MB and break the 30 MB budget); the PyTorch checkpoint stays outside the repo.
- Export check ({exp['greedy_match']} dev inputs): ONNX Runtime vs PyTorch logits max abs diff {exp['logits_max_abs_diff']:.2e};
  a greedy loop over encoder + decoder + decoder_with_past in ONNX Runtime reproduces transformers `generate` token for token.

## Data
Debian DDTP package descriptions (bookworm), `../shared/data/debian-descriptions/{t['folder']}/` (see its README;
not copied into this repo). {"EN→DE pairs of synopses and paragraphs" if de else "English long description → English synopsis"}:
{tl['train_examples']:,} training examples used ({"pairs with more than " + str(t['max_src']) + " source or " + str(t['max_tgt']) + " target tokens dropped: " + str(tl['dropped']) if de else "descriptions truncated to " + str(t['max_src']) + " tokens, synopses to " + str(t['max_tgt'])}).
Dev: the full dev split ({ev['rows']:,} rows). The held-out test split was not used.

## Architecture
`MarianMTModel` (post-LayerNorm Transformer, sinusoidal positions, embeddings scaled by √d_model, GELU MLP),
d_model {ARCH['d_model']}, {ARCH['encoder_layers']} encoder layers + {ARCH['decoder_layers']} decoder layer, {ARCH['encoder_attention_heads']} heads,
FFN {ARCH['encoder_ffn_dim']}, max positions {ARCH['max_position_embeddings']}, shared source/target vocabulary of {ARCH['vocab_size']:,}
(SentencePiece-style Unigram trained with HF `tokenizers`: NFKC, Metaspace `▁`, `<pad>`=0 `</s>`=1 `<unk>`=2,
`</s>` appended to every input), encoder/decoder/output embeddings tied. **{tl['params']:,} parameters.**
Deep-encoder/shallow-decoder because the budget is 30 MB for all three fp32 ONNX files: the embedding matrix is in
each of them and the decoder weights are in two of them (d_model 256 with 3+3 layers would be ~70 MB).

## Training
The EN→DE model was trained in phases on a shared 2-core CPU: phases 1–3 (the first shipped version) ran next to
other jobs (load average 6–14), each continuing from the previous checkpoint with a fresh optimizer; the last phase
ran on an otherwise idle machine. {"" if de else "The summarizer is not trained from scratch (two from-scratch attempts of 72 and 24 minutes collapsed to one output for every input, ROUGE-L 8-9): it starts from the EN→DE phase-3 checkpoint, whose encoder already reads English Debian text, keeps its tokenizer (the EN+DE Unigram vocabulary covers English descriptions), and is fine-tuned on description → synopsis."}
Tokenizer: `python train_tokenizer.py en-de` (for both models). Then, from `models/train/`:
{phase_text}
{averaged}- All phases: AdamW (β 0.9/0.98, weight decay 0.01 on matrices), linear warmup then linear decay to 0 at the wall-clock
  budget (the step rate on the shared machine was unknowable in advance), label smoothing {a['label_smoothing']}, dropout 0.1,
  gradient clipping 1.0, length-bucketed batches.
- **{total_steps:,} steps in total, {total_min:.1f} minutes wall clock**, on a 2-core AMD EPYC VM (no GPU), PyTorch
  {torch.__version__} CPU with **1 thread** per process; the two models' last phases ran at the same time, one core each.
- Quick checks during training (greedy, first {a['quick_dev']} dev rows):

| phase | task | total step | epoch of phase | minutes (cumulative) | BLEU / chrF or ROUGE-1 / 2 / L |
|---|---|---|---|---|---|
{quick}

## Dev scores (full dev split, beam 4, generation_config.json)
{score}.
Generation: num_beams 4, max_length {gc.max_length}, length_penalty {gc.length_penalty}, early_stopping {gc.early_stopping},
no_repeat_ngram_size {gc.no_repeat_ngram_size}, decoder_start_token_id {gc.decoder_start_token_id}, forced_eos_token_id {gc.forced_eos_token_id}.
{tuned}

## Examples (beam 4)
| input | output |
|---|---|
{extra}

From the dev split (first 5 golden cases):

| source | model (beam 4) | reference |
|---|---|---|
{gold_rows}

## Goldens
`goldens.json`: transformers `generate` on the first 20 dev inputs, beam 4 and greedy, batch 1, token ids and text,
plus the raw logits of the first 3 greedy steps for 2 inputs; the exact generation settings and versions are in the
file (`generation`, `provenance`). Made by `models/train/make_goldens.py`.

## Limitations
- Domain: Debian software package descriptions only (short technical text, package names, paths). Expect poor
  output on anything else{"; German output often drops or garbles rare words, names and long sentences" if de else "; the synopsis style ('library for …', 'development files for …') is learned, facts in long descriptions are often missed"}.
- Very small model trained for ~{total_min:.0f} minutes on at most one CPU core: it is a fixture and a demo for
  Cortado's runtime, not a production {"translator" if de else "summarizer"}. Scores are on dev (used for checkpoint checks only, no tuning beyond that).
- Inputs longer than {t['max_src']} tokens are truncated; outputs are capped at {gc.max_length} tokens (positions ≤ {ARCH['max_position_embeddings']}).

## What a GPU run would add
Minutes instead of hours per epoch: a wider model (d_model 512, 6+6 layers) trained for 30–50 epochs with
checkpoint averaging, plus back-translation or the EN→FR data as extra signal, would likely add 10+ BLEU / ROUGE
points; the 30 MB budget would then need fp16 or int8 weights (or a shared external-data file) instead of fp32.
"""
    (out / "README.md").write_text(card)
    print(card[:3000])


if __name__ == "__main__":
    main(sys.argv[1])
