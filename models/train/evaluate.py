"""Score a checkpoint on the FULL dev split with the shipped generation settings (beam 4, see generation_config.json).

usage: python evaluate.py {en-de|summarize} [--ckpt DIR] [--num-beams 4]
EN->DE: sacrebleu corpus BLEU and chrF (default settings, 13a tokenizer); summarize: ROUGE-1/2/L F1 (metrics.py).
Writes $CORTADO_TRAIN_WORK/<task>/eval_beam<N>.json and the predictions next to it.
"""
import argparse
import json
import time

import torch
from transformers import GenerationConfig, MarianMTModel, PreTrainedTokenizerFast

from common import TASKS, model_dir, pairs, work_dir
from metrics import scores, translate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=list(TASKS))
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--num-beams", type=int, default=4)
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    t = TASKS[a.task]
    out = model_dir(a.task)
    model = MarianMTModel.from_pretrained(str(a.ckpt or work_dir(a.task) / "ckpt")).eval()
    tok = PreTrainedTokenizerFast.from_pretrained(str(out))
    gc = GenerationConfig.from_pretrained(str(out))
    dev = pairs(a.task, "dev")
    if a.limit:
        dev = dev[:a.limit]
    t0 = time.time()
    preds = translate(model, tok, [s for s, _ in dev], t["max_src"], num_beams=a.num_beams, max_length=gc.max_length,
                      early_stopping=gc.early_stopping, length_penalty=gc.length_penalty,
                      no_repeat_ngram_size=gc.no_repeat_ngram_size, batch_size=16)
    res = dict(task=a.task, split="dev", rows=len(dev), num_beams=a.num_beams, max_length=gc.max_length,
               seconds=round(time.time() - t0, 1), **scores(a.task, preds, [r for _, r in dev]))
    print(json.dumps(res))
    w = work_dir(a.task)
    (w / f"eval_beam{a.num_beams}.json").write_text(json.dumps(res, indent=1))
    (w / f"dev_pred_beam{a.num_beams}.txt").write_text("\n".join(preds) + "\n")


if __name__ == "__main__":
    main()
