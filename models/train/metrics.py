"""BLEU/chrF (sacrebleu) and a self-contained ROUGE-1/2/L F1 (rouge_score is not in the local package index).

ROUGE follows rouge_score's defaults: lowercase, tokens = runs of [a-z0-9], no stemming; ROUGE-L is
sentence-level LCS F1; corpus score = mean over rows, x100.
"""
import re

import sacrebleu
import torch

_TOK = re.compile(r"[a-z0-9]+")


def _ngrams(toks, n):
    out = {}
    for i in range(len(toks) - n + 1):
        g = tuple(toks[i:i + n])
        out[g] = out.get(g, 0) + 1
    return out


def _f1(overlap, pred_n, ref_n):
    if overlap == 0 or pred_n == 0 or ref_n == 0:
        return 0.0
    p, r = overlap / pred_n, overlap / ref_n
    return 2 * p * r / (p + r)


def _lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge(preds, refs):
    tot = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for p, r in zip(preds, refs):
        pt, rt = _TOK.findall(p.lower()), _TOK.findall(r.lower())
        for n in (1, 2):
            pg, rg = _ngrams(pt, n), _ngrams(rt, n)
            ov = sum(min(c, rg.get(g, 0)) for g, c in pg.items())
            tot[f"rouge{n}"] += _f1(ov, sum(pg.values()), sum(rg.values()))
        tot["rougeL"] += _f1(_lcs(pt, rt), len(pt), len(rt))
    return {k: round(100 * v / max(1, len(preds)), 2) for k, v in tot.items()}


def scores(task, preds, refs):
    if task == "en-de":
        return {"bleu": round(sacrebleu.corpus_bleu(preds, [refs]).score, 2),
                "chrf": round(sacrebleu.corpus_chrf(preds, [refs]).score, 2)}
    return rouge(preds, refs)


@torch.no_grad()
def translate(model, tok, srcs, max_src, num_beams=1, max_length=256, batch_size=32, **gen):
    model.eval()
    order = sorted(range(len(srcs)), key=lambda i: len(srcs[i]))
    out = [None] * len(srcs)
    for b in range(0, len(order), batch_size):
        ids = order[b:b + batch_size]
        enc = tok([srcs[i] for i in ids], return_tensors="pt", padding=True, truncation=True, max_length=max_src)
        gen_ids = model.generate(**enc, num_beams=num_beams, max_length=max_length, **gen)
        for i, g in zip(ids, tok.batch_decode(gen_ids, skip_special_tokens=True)):
            out[i] = g
    return out


def quick_score(task, model, tok, dev):
    from common import TASKS
    t = TASKS[task]
    preds = translate(model, tok, [s for s, _ in dev], t["max_src"], num_beams=1, max_length=t["gen_max_length"])
    return scores(task, preds, [r for _, r in dev])
