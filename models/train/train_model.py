"""Train a small MarianMTModel (shared 8k vocab, tied embeddings) on one task, on CPU with one thread.

usage: python train_model.py {en-de|summarize} --max-steps N [--time-budget-min M] [--max-tokens T]

Checkpoints (HF save_pretrained) go to $CORTADO_TRAIN_WORK/<task>/ckpt (default ../train-work, outside the repo)
every --ckpt-min minutes and at the end; a quick greedy check on the first --quick-dev dev rows is logged then.
LR: linear warmup then linear decay to 0 at --max-steps (training also stops at --time-budget-min).
"""
import argparse
import json
import math
import random
import time

import torch
import torch.nn.functional as F
from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

from common import ARCH, EOS, PAD, TASKS, model_dir, pairs, work_dir
from metrics import quick_score


def encode_all(tok, data, max_src, max_tgt, truncate):
    enc_s = tok(list(s for s, _ in data), add_special_tokens=True)["input_ids"]
    enc_t = tok(list(t for _, t in data), add_special_tokens=True)["input_ids"]
    out, dropped = [], 0
    for s, t in zip(enc_s, enc_t):
        if truncate:
            s = s[:max_src - 1] + [EOS] if len(s) > max_src else s
            t = t[:max_tgt - 1] + [EOS] if len(t) > max_tgt else t
        elif len(s) > max_src or len(t) > max_tgt:
            dropped += 1
            continue
        out.append((s, t))
    return out, dropped


def make_batches(examples, max_tokens, rng):
    idx = sorted(range(len(examples)), key=lambda i: (len(examples[i][0]) + rng.random(), len(examples[i][1])))
    batches, cur, cur_max = [], [], 0
    for i in idx:
        s, t = examples[i]
        m = max(cur_max, len(s), len(t))
        if cur and m * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, m = [], max(len(s), len(t))
        cur.append(i)
        cur_max = m
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(examples, ids):
    src = [examples[i][0] for i in ids]
    tgt = [examples[i][1] for i in ids]
    S, T = max(map(len, src)), max(map(len, tgt))
    input_ids = torch.full((len(ids), S), PAD, dtype=torch.long)
    attn = torch.zeros((len(ids), S), dtype=torch.long)
    dec_in = torch.full((len(ids), T), PAD, dtype=torch.long)
    labels = torch.full((len(ids), T), -100, dtype=torch.long)
    for k, (s, t) in enumerate(zip(src, tgt)):
        input_ids[k, :len(s)] = torch.tensor(s)
        attn[k, :len(s)] = 1
        labels[k, :len(t)] = torch.tensor(t)
        dec_in[k, 1:len(t)] = torch.tensor(t[:-1])  # decoder_start_token_id = pad = 0
    return input_ids, attn, dec_in, labels


def build_config(task):
    return MarianConfig(**ARCH, decoder_vocab_size=ARCH["vocab_size"],
                        pad_token_id=PAD, eos_token_id=EOS, decoder_start_token_id=PAD, forced_eos_token_id=EOS,
                        activation_function="gelu", dropout=0.1, attention_dropout=0.0, activation_dropout=0.0,
                        scale_embedding=True, share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
                        num_beams=4, max_length=TASKS[task]["gen_max_length"], bad_words_ids=None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=list(TASKS))
    ap.add_argument("--max-steps", type=int, required=True)
    ap.add_argument("--time-budget-min", type=float, default=1e9)
    ap.add_argument("--max-tokens", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--warmup", type=int, default=600)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--ckpt-min", type=float, default=10)
    ap.add_argument("--quick-dev", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--init-from", default=None, help="continue from a saved checkpoint (fresh optimizer)")
    ap.add_argument("--log-name", default="train_log.json")
    ap.add_argument("--eval-final-only", action="store_true", help="periodic checkpoints without the quick dev check")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tokenizer-from", default=None,
                    help="folder with tokenizer.json (default: the task's model folder from train_tokenizer.py)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t = TASKS[args.task]
    tok = PreTrainedTokenizerFast.from_pretrained(args.tokenizer_from or str(model_dir(args.task)))
    train, dropped = encode_all(tok, pairs(args.task, "train"), t["max_src"], t["max_tgt"], t["truncate"])
    dev = pairs(args.task, "dev")[:args.quick_dev]
    print(f"train examples {len(train)} (dropped over length {dropped})", flush=True)
    model = MarianMTModel.from_pretrained(args.init_from) if args.init_from else MarianMTModel(build_config(args.task))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}", flush=True)
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    t0 = time.time()
    budget_s = args.time_budget_min * 60

    def lr_factor(s):
        # linear warmup, then linear decay to 0 at whichever comes first: --max-steps or the wall-clock budget
        # (the machine is shared, so the step rate is not known in advance; with no --time-budget-min the
        # schedule depends on the step only and a run is reproducible).
        if s < args.warmup:
            return (s + 1) / args.warmup
        frac = max((s - args.warmup) / max(1, args.max_steps - args.warmup), (time.time() - t0) / budget_s)
        return max(0.0, 1.0 - frac)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    ckpt = work_dir(args.task) / "ckpt"
    last_ckpt = t0
    step, epoch, tok_seen = 0, 0, 0
    loss_acc, n_acc = 0.0, 0
    log = []

    def save(final=False):
        model.eval()
        model.save_pretrained(str(ckpt))
        tok.save_pretrained(str(ckpt))
        score = quick_score(args.task, model, tok, dev) if final or not args.eval_final_only else {}
        el = (time.time() - t0) / 60
        rec = dict(step=step, epoch=epoch, minutes=round(el, 1), final=final, **score)
        log.append(rec)
        (work_dir(args.task) / args.log_name).write_text(json.dumps(
            dict(args=vars(args), params=n_params, train_examples=len(train), dropped=dropped, log=log), indent=1))
        print("CKPT", json.dumps(rec), flush=True)
        model.train()

    model.train()
    done = False
    while not done:
        epoch += 1
        for ids in make_batches(train, args.max_tokens, rng):
            input_ids, attn, dec_in, labels = collate(train, ids)
            logits = model(input_ids=input_ids, attention_mask=attn, decoder_input_ids=dec_in).logits
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100,
                                   label_smoothing=args.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            tok_seen += int(attn.sum()) + int((labels != -100).sum())
            loss_acc += loss.item()
            n_acc += 1
            if step % args.log_every == 0:
                el = time.time() - t0
                print(f"step {step} ep {epoch} loss {loss_acc / n_acc:.3f} lr {sched.get_last_lr()[0]:.2e} "
                      f"tok/s {tok_seen / el:.0f} min {el / 60:.1f}", flush=True)
                loss_acc, n_acc = 0.0, 0
            if step >= args.max_steps or time.time() - t0 > args.time_budget_min * 60:
                done = True
                break
            if time.time() - last_ckpt > args.ckpt_min * 60:
                save()
                last_ckpt = time.time()
    save(final=True)
    print(f"done steps {step} epochs {epoch} minutes {(time.time() - t0) / 60:.1f}", flush=True)


if __name__ == "__main__":
    main()
