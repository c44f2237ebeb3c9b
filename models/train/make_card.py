"""Write models/<out>/README.md (model card) from the training log, the dev evaluation, the export check and
the goldens. usage: python make_card.py {en-de|summarize}"""
import json
import sys

import torch
from transformers import GenerationConfig, MarianMTModel, PreTrainedTokenizerFast

from common import ARCH, TASKS, model_dir, work_dir

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
    tl = json.loads((w / "train_log.json").read_text())
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
            g = model.generate(**enc, num_beams=4, max_length=gc.max_length, early_stopping=gc.early_stopping)[0]
        ex.append((s, tok.decode(g, skip_special_tokens=True)))
    a = tl["args"]
    p1_last = [r for r in tl["log"] if "bleu" in r or "rougeL" in r][-1]  # phase 1 was stopped after this checkpoint
    later = [json.loads((w / f"train_log_phase{k}.json").read_text()) for k in (2, 3, 4)
             if (w / f"train_log_phase{k}.json").exists()]
    last = later[-1]["log"][-1] if later else p1_last
    total_steps = p1_last["step"] + sum(x["log"][-1]["step"] for x in later)
    total_min = p1_last["minutes"] + sum(x["log"][-1]["minutes"] for x in later)
    rows = [dict(r, phase=1) for r in tl["log"] if r["step"] <= p1_last["step"]]
    off_s, off_m = p1_last["step"], p1_last["minutes"]
    phase_lines = []
    for k, x in enumerate(later, start=2):
        b = x["args"]
        init = b["init_from"].replace(str(w), f"../train-work/{task}")
        c = (f"python train_model.py {task} --init-from {init} --max-steps {b['max_steps']} "
             f"--time-budget-min {b['time_budget_min']:g} --lr {b['lr']:g} --warmup {b['warmup']} --max-tokens {b['max_tokens']} "
             f"--ckpt-min {b['ckpt_min']:g} --eval-final-only --log-every {b['log_every']} --seed {b['seed']} --log-name {b['log_name']}")
        e = x["log"][-1]
        phase_lines.append(f"- Phase {k} (from the previous phase's final checkpoint, fresh optimizer): `{c}` — {e['step']:,} steps, "
                           f"{e['minutes']} min; batches ≤ {b['max_tokens']} padded tokens, peak LR {b['lr']:g}, warmup {b['warmup']}.")
        rows += [dict(r, phase=k, step=off_s + r["step"], minutes=round(off_m + r["minutes"], 1))
                 for r in x["log"] if "bleu" in r or "rougeL" in r]
        off_s += e["step"]
        off_m += e["minutes"]
    phase_text = "\n".join(phase_lines)
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
    quick = "\n".join(f"| {r['phase']} | {r['step']} | {r['epoch']} | {r['minutes']} | " +
                      (f"{r['bleu']} / {r['chrf']}" if de else f"{r['rouge1']} / {r['rouge2']} / {r['rougeL']}") + " |"
                      for r in rows)
    gold_rows = "\n".join(f"| {c['source'][:140]}{'…' if len(c['source']) > 140 else ''} | {c['beam4']['text']} | {c['reference']} |"
                          for c in gold["cases"][:5])
    extra = "\n".join(f"| {s} | {o} |" for s, o in ex)
    cmd = (f"python train_model.py {task} --max-steps {a['max_steps']} --time-budget-min {a['time_budget_min']:g} "
           f"--lr {a['lr']:g} --warmup {a['warmup']} --ckpt-min {a['ckpt_min']:g}")
    card = f"""# {title}

A tiny Marian-architecture encoder–decoder trained from scratch by Cortado's own scripts (`models/train/`), shipped in
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
Several phases, because the shared machine was much slower than planned (load average 6–14 on 2 cores): phase 1 used
large batches and was stopped after its {p1_last['minutes']}-minute checkpoint; later phases continued from the
previous checkpoint with other batch sizes (more updates, or more target tokens per update) and a fresh optimizer.
- Phase 1 (from `models/train/`, after `python train_tokenizer.py {task}`): `{cmd}` — stopped by hand after the
  checkpoint at step {p1_last['step']} ({p1_last['minutes']} min; the ~2 minutes it ran after that checkpoint were discarded); batches ≤ {a['max_tokens']} padded tokens, peak LR {a['lr']:g}, warmup {a['warmup']}.
{phase_text}
- All phases: AdamW (β 0.9/0.98, weight decay 0.01 on matrices), linear warmup then linear decay to 0 at the wall-clock
  budget (the step rate on the shared machine was unknowable in advance), label smoothing {a['label_smoothing']}, dropout 0.1,
  gradient clipping 1.0, length-bucketed batches.
- **{total_steps:,} steps in total, {total_min:.1f} minutes wall clock**, on a shared 2-core AMD EPYC VM (no GPU), PyTorch
  {torch.__version__} CPU with **1 thread**; both Cortado models trained at the same time next to other jobs, so each
  process got roughly a fifth to a half of one core.
- Quick checks during training (greedy, first {a['quick_dev']} dev rows):

| phase | total step | epoch of phase | minutes (cumulative) | {"BLEU / chrF" if de else "ROUGE-1 / 2 / L"} |
|---|---|---|---|---|
{quick}

## Dev scores (full dev split, beam 4, generation_config.json)
{score}.
Generation: num_beams 4, max_length {gc.max_length}, length_penalty {gc.length_penalty}, early_stopping {gc.early_stopping},
no_repeat_ngram_size {gc.no_repeat_ngram_size}, decoder_start_token_id {gc.decoder_start_token_id}, forced_eos_token_id {gc.forced_eos_token_id}.

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
- Very small model trained for ~{total_min:.0f} minutes on a fraction of one CPU core: it is a fixture and a demo for
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
