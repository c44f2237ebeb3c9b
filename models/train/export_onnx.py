"""Export a trained MarianMTModel checkpoint to the Hugging Face Optimum seq2seq ONNX layout and check it.

usage: python export_onnx.py {en-de|summarize} [--ckpt DIR]

Writes into models/<out>/: encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx (fp32,
TorchScript exporter, opset 17, constant folding on), config.json, generation_config.json, tokenizer.json (already
there from train_tokenizer.py), tokenizer_config.json. The wrapper modules below restate Marian's forward pass
(post-LN, sinusoidal positions, scaled tied embeddings, GELU MLP) with explicit KV tensors [batch, heads, seq,
head_dim]; they are checked against transformers (eager) before and after export.

Size: the tied embedding is used by Gather (input embedding) and by the lm_head MatMul; constant folding stores
the transposed copy as a second initializer, so a post-pass replaces every initializer that equals another one
transposed (or exactly) with a Transpose (or Identity) node on it.
"""
import argparse
import json
import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper
from torch import nn
from transformers import GenerationConfig, MarianMTModel, PreTrainedTokenizerFast

from common import EOS, PAD, TASKS, model_dir, work_dir, write_tokenizer_config

NEG = torch.finfo(torch.float32).min


def _heads(x, h):  # [B, T, D] -> [B, H, T, hd]
    b, t, d = x.shape
    return x.view(b, t, h, d // h).transpose(1, 2)


def _merge(x):  # [B, H, T, hd] -> [B, T, D]
    b, h, t, hd = x.shape
    return x.transpose(1, 2).reshape(b, t, h * hd)


def _attend(q, k, v, mask_add, scaling):
    w = torch.matmul(q, k.transpose(2, 3)) * scaling + mask_add
    return torch.matmul(torch.softmax(w, dim=-1), v)


def _act(x):
    return nn.functional.gelu(x)


class EncoderWrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.enc = model.get_encoder()
        self.h = model.config.encoder_attention_heads
        self.scale = self.enc.embed_scale

    def forward(self, input_ids, attention_mask):
        e = self.enc
        t = input_ids.shape[1]
        x = e.embed_tokens(input_ids) * self.scale + e.embed_positions.weight[:t].unsqueeze(0)
        m = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * NEG
        for L in e.layers:
            a = L.self_attn
            q, k, v = _heads(a.q_proj(x), self.h), _heads(a.k_proj(x), self.h), _heads(a.v_proj(x), self.h)
            x = L.self_attn_layer_norm(x + a.out_proj(_merge(_attend(q, k, v, m, a.scaling))))
            x = L.final_layer_norm(x + L.fc2(_act(L.fc1(x))))
        return x


class DecoderWrapper(nn.Module):
    """with_past=False: decoder_model.onnx; with_past=True: decoder_with_past_model.onnx."""

    def __init__(self, model, with_past):
        super().__init__()
        self.dec = model.get_decoder()
        self.lm_w = model.lm_head.weight
        self.h = model.config.decoder_attention_heads
        self.n = model.config.decoder_layers
        self.scale = self.dec.embed_scale
        self.with_past = with_past

    def forward(self, encoder_attention_mask, input_ids, *rest):
        d = self.dec
        t = input_ids.shape[1]
        if self.with_past:
            past = rest
            past_len = past[0].shape[2]
        else:
            enc_h = rest[0]
            past_len = 0
        pos = torch.arange(t, dtype=torch.long) + past_len
        x = d.embed_tokens(input_ids) * self.scale + d.embed_positions.weight[pos].unsqueeze(0)
        kpos = torch.arange(t + past_len, dtype=torch.long)
        causal = (kpos[None, :] > pos[:, None]).to(torch.float32)[None, None] * NEG
        cm = (1.0 - encoder_attention_mask[:, None, None, :].to(torch.float32)) * NEG
        outs = []
        for i, L in enumerate(d.layers):
            a = L.self_attn
            q, k, v = _heads(a.q_proj(x), self.h), _heads(a.k_proj(x), self.h), _heads(a.v_proj(x), self.h)
            if self.with_past:
                k = torch.cat([past[4 * i], k], dim=2)
                v = torch.cat([past[4 * i + 1], v], dim=2)
            x = L.self_attn_layer_norm(x + a.out_proj(_merge(_attend(q, k, v, causal, a.scaling))))
            c = L.encoder_attn
            if self.with_past:
                ck, cv = past[4 * i + 2], past[4 * i + 3]
            else:
                ck, cv = _heads(c.k_proj(enc_h), self.h), _heads(c.v_proj(enc_h), self.h)
            cq = _heads(c.q_proj(x), self.h)
            x = L.encoder_attn_layer_norm(x + c.out_proj(_merge(_attend(cq, ck, cv, cm, c.scaling))))
            x = L.final_layer_norm(x + L.fc2(_act(L.fc1(x))))
            outs += [k, v] if self.with_past else [k, v, ck, cv]
        logits = torch.matmul(x, self.lm_w.t())
        return (logits, *outs)


def dedupe_initializers(path):
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    big = [n for n, a in inits.items() if a.size >= 4096]
    by_shape = {}
    for n in big:
        by_shape.setdefault(inits[n].shape, []).append(n)
    replace = {}
    for n in big:
        a = inits[n]
        if n in replace:
            continue
        if a.ndim == 2:
            for o in by_shape.get(a.shape[::-1], []):
                if o != n and o not in replace and n not in replace.values() and np.array_equal(a, inits[o].T):
                    # keep the one used by Gather (embedding layout [V, D]): drop the [D, V] copy
                    drop, keep = (n, o) if a.shape[0] < a.shape[1] else (o, n)
                    replace[drop] = ("Transpose", keep)
                    break
    if not replace:
        return 0
    keep_inits = [i for i in g.initializer if i.name not in replace]
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    new_nodes = [helper.make_node(op, [src], [dst], name=f"dedupe_{dst}", **({"perm": [1, 0]} if op == "Transpose" else {}))
                 for dst, (op, src) in replace.items()]
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(new_nodes + nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return len(replace)


def export(task, ckpt):
    torch.set_num_threads(1)
    out = model_dir(task)
    model = MarianMTModel.from_pretrained(str(ckpt), attn_implementation="eager").eval()
    # the tokenizer the checkpoint was trained with (train_model.py saves it next to the weights; the summarizer
    # shares the EN→DE tokenizer it was initialised from), without the truncation/padding state that HF
    # save_pretrained leaves in it: the shipped tokenizer.json must not truncate by itself (tokenizer_config.json
    # carries the limit)
    tj = json.loads((Path(ckpt) / "tokenizer.json").read_text(encoding="utf-8"))
    tj["truncation"], tj["padding"] = None, None
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_tokenizer_config(out, TASKS[task]["max_src"])
    tok = PreTrainedTokenizerFast.from_pretrained(str(out))
    cfg = model.config
    n, H, hd = cfg.decoder_layers, cfg.decoder_attention_heads, cfg.d_model // cfg.decoder_attention_heads
    enc_w, dec_w, decp_w = EncoderWrapper(model).eval(), DecoderWrapper(model, False).eval(), DecoderWrapper(model, True).eval()

    srcs = ["This package contains the documentation.",
            "A library for reading and writing image files, with support for many formats."]
    enc = tok(srcs, return_tensors="pt", padding=True)
    dec_ids = torch.tensor([[PAD, 5, 17, 42], [PAD, 9, 33, 7]])
    with torch.no_grad():
        ref = model(**enc, decoder_input_ids=dec_ids).logits
        h = enc_w(enc["input_ids"], enc["attention_mask"])
        o = dec_w(enc["attention_mask"], dec_ids, h)
        assert (o[0] - ref).abs().max() < 1e-4, "decoder wrapper != transformers"
        past = []
        for i in range(n):
            past += [o[1 + 4 * i][:, :, :3], o[2 + 4 * i][:, :, :3], o[3 + 4 * i], o[4 + 4 * i]]
        op = decp_w(enc["attention_mask"], dec_ids[:, 3:], *past)
        assert (op[0] - ref[:, 3:]).abs().max() < 1e-4, "decoder_with_past wrapper != transformers"
    print("wrappers match transformers")

    kw = dict(opset_version=17, dynamo=False, do_constant_folding=True)
    torch.onnx.export(enc_w, (enc["input_ids"], enc["attention_mask"]), str(out / "encoder_model.onnx"),
                      input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "encoder_sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
                                    "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length"}}, **kw)
    present = []
    dyn = {"encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
           "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
           "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
           "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for i in range(n):
        for kind in ("decoder", "encoder"):
            for kv in ("key", "value"):
                nm = f"present.{i}.{kind}.{kv}"
                present.append(nm)
                dyn[nm] = {0: "batch_size", 2: "decoder_sequence_length" if kind == "decoder" else "encoder_sequence_length"}
    torch.onnx.export(dec_w, (enc["attention_mask"], dec_ids, h), str(out / "decoder_model.onnx"),
                      input_names=["encoder_attention_mask", "input_ids", "encoder_hidden_states"],
                      output_names=["logits", *present], dynamic_axes=dyn, **kw)
    past_names, present2 = [], []
    dyn = {"encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
           "input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
           "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for i in range(n):
        for kind in ("decoder", "encoder"):
            for kv in ("key", "value"):
                nm = f"past_key_values.{i}.{kind}.{kv}"
                past_names.append(nm)
                dyn[nm] = {0: "batch_size", 2: "past_decoder_sequence_length" if kind == "decoder" else "encoder_sequence_length"}
        for kv in ("key", "value"):
            nm = f"present.{i}.decoder.{kv}"
            present2.append(nm)
            dyn[nm] = {0: "batch_size", 2: "past_decoder_sequence_length + decoder_sequence_length"}
    torch.onnx.export(decp_w, (enc["attention_mask"], dec_ids[:, 3:], *past), str(out / "decoder_with_past_model.onnx"),
                      input_names=["encoder_attention_mask", "input_ids", *past_names],
                      output_names=["logits", *present2], dynamic_axes=dyn, **kw)
    for f in ("encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx"):
        k = dedupe_initializers(str(out / f))
        print(f, "deduped", k, "size MB", round((out / f).stat().st_size / 1e6, 2))

    # config + generation config + tokenizer config
    model.config.save_pretrained(str(out))
    gc = GenerationConfig(decoder_start_token_id=PAD, eos_token_id=EOS, pad_token_id=PAD, forced_eos_token_id=EOS,
                          bos_token_id=None, num_beams=4, max_length=TASKS[task]["gen_max_length"],
                          early_stopping=True, do_sample=False, **TASKS[task]["gen"])
    gc.save_pretrained(str(out))
    verify(task, model, tok, out)


def ort_greedy(sessions, tok, text, max_length, max_src, n):
    e, d, dp = sessions
    enc = tok([text], return_tensors="np", truncation=True, max_length=max_src)
    ids, am = enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)
    h = e.run(None, {"input_ids": ids, "attention_mask": am})[0]
    out = [PAD]
    o = d.run(None, {"encoder_attention_mask": am, "input_ids": np.array([[PAD]], dtype=np.int64),
                     "encoder_hidden_states": h})
    logits, pres = o[0], o[1:]
    past = {}
    for i in range(n):
        for j, (kind, kv) in enumerate([("decoder", "key"), ("decoder", "value"), ("encoder", "key"), ("encoder", "value")]):
            past[f"past_key_values.{i}.{kind}.{kv}"] = pres[4 * i + j]
    while True:
        nxt = int(logits[0, -1].argmax())
        if len(out) == max_length - 1:  # forced_eos_token_id at the last position (as transformers does)
            nxt = EOS
        out.append(nxt)
        if nxt == EOS or len(out) >= max_length:
            break
        o = dp.run(None, {"encoder_attention_mask": am, "input_ids": np.array([[nxt]], dtype=np.int64), **past})
        logits = o[0]
        for i in range(n):
            past[f"past_key_values.{i}.decoder.key"] = o[1 + 2 * i]
            past[f"past_key_values.{i}.decoder.value"] = o[2 + 2 * i]
    return out


def verify(task, model, tok, out):
    model.eval()  # torch.onnx.export restores the wrappers' (and so the model's) training flag
    t = TASKS[task]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = [ort.InferenceSession(str(out / f), so, providers=["CPUExecutionProvider"])
            for f in ("encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx")]
    from common import pairs
    dev = [s for s, _ in pairs(task, "dev")[:8]]
    n = model.config.decoder_layers
    maxdiff = 0.0
    for s in dev[:4]:
        enc = tok([s], return_tensors="pt", truncation=True, max_length=t["max_src"])
        dec_ids = torch.tensor([[PAD, 5, 17, 42, 8]])
        with torch.no_grad():
            ref = model(**enc, decoder_input_ids=dec_ids).logits.numpy()
        h = sess[0].run(None, {"input_ids": enc["input_ids"].numpy(), "attention_mask": enc["attention_mask"].numpy()})[0]
        o = sess[1].run(None, {"encoder_attention_mask": enc["attention_mask"].numpy(), "input_ids": dec_ids.numpy(),
                               "encoder_hidden_states": h})
        maxdiff = max(maxdiff, float(np.abs(o[0] - ref).max()))
        past = {}
        for i in range(n):
            for j, (kind, kv) in enumerate([("decoder", "key"), ("decoder", "value"), ("encoder", "key"), ("encoder", "value")]):
                a = o[1 + 4 * i + j]
                past[f"past_key_values.{i}.{kind}.{kv}"] = a[:, :, :4] if kind == "decoder" else a
        op = sess[2].run(None, {"encoder_attention_mask": enc["attention_mask"].numpy(), "input_ids": dec_ids[:, 4:].numpy(), **past})
        maxdiff = max(maxdiff, float(np.abs(op[0] - ref[:, 4:]).max()))
    print("ORT vs PyTorch logits max abs diff", maxdiff)
    assert maxdiff <= 1e-4
    same = 0
    for s in dev:
        enc = tok([s], return_tensors="pt", truncation=True, max_length=t["max_src"])
        with torch.no_grad():
            g = model.generate(**enc, num_beams=1, do_sample=False, max_length=t["gen_max_length"])[0].tolist()
        o = ort_greedy(sess, tok, s, t["gen_max_length"], t["max_src"], n)
        same += g == o
        if g != o:
            print("MISMATCH", s[:60], g, o)
    print(f"ORT greedy loop == transformers generate on {same}/{len(dev)} dev inputs")
    assert same == len(dev)
    (work_dir(task) / "export_check.json").write_text(json.dumps({"logits_max_abs_diff": maxdiff, "greedy_match": f"{same}/{len(dev)}"}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=list(TASKS))
    ap.add_argument("--ckpt", default=None)
    a = ap.parse_args()
    export(a.task, a.ckpt or work_dir(a.task) / "ckpt")
