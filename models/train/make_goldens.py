"""Golden outputs for the Java engine: transformers `generate` on the first 20 dev inputs, beam 4 and greedy,
one input at a time (batch 1, no padding), plus raw per-step logits of the first 3 greedy steps for 2 inputs.

usage: python make_goldens.py {en-de|summarize} [--ckpt DIR]
Writes models/<out>/goldens.json. The model is the checkpoint the ONNX files were exported from
(export_onnx.py checks ORT == PyTorch), loaded with attn_implementation="eager", fp32, 1 thread.
"""
import argparse
import json
import re
import platform

import onnxruntime
import tokenizers
import torch
import transformers
from transformers import GenerationConfig, MarianMTModel, PreTrainedTokenizerFast

from common import TASKS, model_dir, pairs, work_dir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=list(TASKS))
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--n", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(1)
    t = TASKS[a.task]
    out = model_dir(a.task)
    model = MarianMTModel.from_pretrained(str(a.ckpt or work_dir(a.task) / "ckpt"), attn_implementation="eager").eval()
    tok = PreTrainedTokenizerFast.from_pretrained(str(out))
    gc = GenerationConfig.from_pretrained(str(out))
    settings = dict(max_length=gc.max_length, length_penalty=gc.length_penalty, early_stopping=gc.early_stopping,
                    no_repeat_ngram_size=gc.no_repeat_ngram_size, do_sample=False,
                    decoder_start_token_id=gc.decoder_start_token_id, eos_token_id=gc.eos_token_id,
                    pad_token_id=gc.pad_token_id, forced_eos_token_id=gc.forced_eos_token_id,
                    repetition_penalty=1.0, num_return_sequences=1)
    dev = pairs(a.task, "dev")[:a.n]
    cases = []
    for i, (src, ref) in enumerate(dev):
        enc = tok([src], return_tensors="pt", truncation=True, max_length=t["max_src"])
        case = dict(index=i, source=src, reference=ref, input_ids=enc["input_ids"][0].tolist())
        for name, nb in (("beam4", 4), ("greedy", 1)):
            with torch.no_grad():
                g = model.generate(**enc, num_beams=nb, **settings)[0].tolist()
            case[name] = dict(num_beams=nb, output_ids=g, text=tok.decode(g, skip_special_tokens=True))
        if i < 2:
            with torch.no_grad():
                r = model.generate(**enc, num_beams=1, max_new_tokens=3, min_new_tokens=3, do_sample=False,
                                   decoder_start_token_id=gc.decoder_start_token_id, eos_token_id=gc.eos_token_id,
                                   pad_token_id=gc.pad_token_id, forced_eos_token_id=None,
                                   output_logits=True, return_dict_in_generate=True)
            case["greedy_step_logits"] = dict(
                note="raw decoder logits (before any logits processor) for greedy steps 1..3; step k's input is "
                     "[decoder_start_token_id] + the first k-1 tokens of greedy.output_ids[1:]",
                decoder_input_ids=r.sequences[0].tolist(),
                logits=[[float(f"{x:.6g}") for x in l[0].tolist()] for l in r.logits])
        cases.append(case)
        print(i, case["beam4"]["text"][:100], flush=True)
    doc = dict(
        model=t["out"], task=a.task, script="models/train/make_goldens.py",
        provenance=dict(torch=torch.__version__, transformers=transformers.__version__,
                        tokenizers=tokenizers.__version__, onnxruntime=onnxruntime.__version__,
                        python=platform.python_version(), attn_implementation="eager", dtype="float32", threads=1),
        inputs=f"first 20 rows of {TASKS[a.task]['folder']}/dev.tsv (column '{t['src']}'), tokenized with "
               f"tokenizer.json (appends </s>), truncation=True max_length={t['max_src']} (HF fast tokenizer: the text "
               f"ids are cut to {t['max_src']}-1 and </s> is still appended), batch size 1, no padding",
        generation=dict(settings, beam4=dict(num_beams=4), greedy=dict(num_beams=1),
                        note="transformers generate(); forced_eos_token_id puts </s> at position max_length-1 "
                             "if not yet finished; output_ids start with decoder_start_token_id 0; length_penalty "
                             "divides the summed log-probs by (generated length incl. </s>, excluding the start token) ** 1.0"),
        cases=cases)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    # one line per list of numbers (token ids, logits) to keep the file small and readable
    text = re.sub(r"\[\s+([-0-9.e+,\s]*?)\s+\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text)
    assert json.loads(text) == doc
    (out / "goldens.json").write_text(text + "\n")
    print("wrote", out / "goldens.json", (out / "goldens.json").stat().st_size)


if __name__ == "__main__":
    main()
