"""Pick the beam-search settings of a task on the dev split (the data README: dev is for model selection).

usage: python tune_generation.py {en-de|summarize} [--rows 600] [--ckpt DIR]
Beam 4 over a small grid of length_penalty x no_repeat_ngram_size on the first --rows dev rows; writes
$CORTADO_TRAIN_WORK/<task>/tune_generation.json (every setting's score, the best first). The chosen setting goes into
common.TASKS[task]["gen"] by hand, export_onnx.py writes it to generation_config.json, and evaluate.py then scores the
full dev split with it (so the full-dev score is slightly optimistic: its first rows picked the setting).
"""
import argparse
import json
import time

import torch
from transformers import MarianMTModel, PreTrainedTokenizerFast

from common import TASKS, pairs, work_dir
from metrics import scores, translate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=list(TASKS))
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--rows", type=int, default=600)
    a = ap.parse_args()
    torch.set_num_threads(1)
    t = TASKS[a.task]
    ckpt = str(a.ckpt or work_dir(a.task) / "ckpt")
    model = MarianMTModel.from_pretrained(ckpt).eval()
    tok = PreTrainedTokenizerFast.from_pretrained(ckpt)
    dev = pairs(a.task, "dev")[:a.rows]
    key = "bleu" if a.task == "en-de" else "rougeL"
    results = []
    for lp in (0.6, 1.0, 1.4):
        for nr in (0, 3):
            t0 = time.time()
            preds = translate(model, tok, [s for s, _ in dev], t["max_src"], num_beams=4, max_length=t["gen_max_length"],
                              early_stopping=True, length_penalty=lp, no_repeat_ngram_size=nr, batch_size=16)
            r = dict(length_penalty=lp, no_repeat_ngram_size=nr, seconds=round(time.time() - t0, 1),
                     **scores(a.task, preds, [r for _, r in dev]))
            print(json.dumps(r), flush=True)
            results.append(r)
    results.sort(key=lambda r: -r[key])
    (work_dir(a.task) / "tune_generation.json").write_text(json.dumps(dict(rows=len(dev), metric=key, results=results), indent=1))
    print("best", json.dumps(results[0]))


if __name__ == "__main__":
    main()
