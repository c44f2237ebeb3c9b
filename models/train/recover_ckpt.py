"""Rebuild a MarianMTModel training checkpoint from a shipped model folder (the Optimum ONNX files written by
export_onnx.py), for when the original checkpoint is gone (checkpoints live outside the repo).

usage: python recover_ckpt.py MODEL_DIR OUT_DIR

Reads encoder_model.onnx and decoder_model.onnx: named initializers (biases, layer norms, embeddings, positions)
map by name; the Linear weights are stored transposed under generated names (onnx::MatMul_N), so they map by the
order export_onnx.py's wrappers call them (encoder layer: q k v out fc1 fc2; decoder layer: self q k v out,
cross k v q out, fc1 fc2). The result is checked: transformers logits of the rebuilt model vs onnxruntime on the
shipped ONNX (max abs diff <= 1e-4), so a wrong mapping cannot pass silently.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

from common import PAD


def matmul_weights(path):
    m = onnx.load(str(path))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    mats = [inits[n.input[1]] for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    return inits, mats


def rebuild(model_dir, out_dir):
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    cfg = MarianConfig.from_pretrained(str(model_dir))
    model = MarianMTModel(cfg).eval()
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    enc_i, enc_m = matmul_weights(model_dir / "encoder_model.onnx")
    dec_i, dec_m = matmul_weights(model_dir / "decoder_model.onnx")
    ne, nd = cfg.encoder_layers, cfg.decoder_layers
    if len(enc_m) != 6 * ne or len(dec_m) != 10 * nd:
        sys.exit(f"unexpected graph: {len(enc_m)} encoder / {len(dec_m)} decoder weight MatMuls")
    done = set()

    def put(key, arr):
        t = torch.from_numpy(np.ascontiguousarray(arr))
        if sd[key].shape != t.shape:
            sys.exit(f"{key}: shape {tuple(t.shape)} != {tuple(sd[key].shape)}")
        sd[key] = t.clone()
        done.add(key)

    for name, a in enc_i.items():
        if name.startswith("enc."):
            put("model.encoder." + name[4:], a)
    for name, a in dec_i.items():
        if name.startswith("dec."):
            put("model.decoder." + name[4:], a)
    emb = enc_i["enc.embed_tokens.weight"]
    lm = dec_i.get("lm_w")
    if lm is not None and not np.array_equal(lm, emb):
        sys.exit("decoder lm_w differs from the encoder embedding: not a tied model")
    for key in ("model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight",
                "lm_head.weight"):
        if key in sd:
            put(key, emb)
    for i in range(ne):
        for j, p in enumerate(["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                               "fc1", "fc2"]):
            put(f"model.encoder.layers.{i}.{p}.weight", enc_m[6 * i + j].T)
    for i in range(nd):
        for j, p in enumerate(["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                               "encoder_attn.k_proj", "encoder_attn.v_proj", "encoder_attn.q_proj",
                               "encoder_attn.out_proj", "fc1", "fc2"]):
            put(f"model.decoder.layers.{i}.{p}.weight", dec_m[10 * i + j].T)
    missing = [k for k in sd if k not in done and k != "final_logits_bias"]
    if missing:
        sys.exit(f"not found in the ONNX files: {missing}")
    model.load_state_dict(sd)
    model.tie_weights()
    check(model, model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    PreTrainedTokenizerFast.from_pretrained(str(model_dir)).save_pretrained(str(out_dir))
    print("rebuilt checkpoint written to", out_dir)


def check(model, model_dir):
    tok = PreTrainedTokenizerFast.from_pretrained(str(model_dir))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    e = ort.InferenceSession(str(model_dir / "encoder_model.onnx"), so, providers=["CPUExecutionProvider"])
    d = ort.InferenceSession(str(model_dir / "decoder_model.onnx"), so, providers=["CPUExecutionProvider"])
    enc = tok(["This package contains the documentation.", "A small library for image files."],
              return_tensors="pt", padding=True)
    dec_ids = torch.tensor([[PAD, 5, 17, 42], [PAD, 9, 33, 7]])
    with torch.no_grad():
        ref = model(**enc, decoder_input_ids=dec_ids).logits.numpy()
    h = e.run(None, {"input_ids": enc["input_ids"].numpy(), "attention_mask": enc["attention_mask"].numpy()})[0]
    o = d.run(None, {"encoder_attention_mask": enc["attention_mask"].numpy(), "input_ids": dec_ids.numpy(),
                     "encoder_hidden_states": h})[0]
    diff = float(np.abs(o - ref).max())
    print("rebuilt transformers model vs shipped ONNX (onnxruntime): logits max abs diff", diff)
    if diff > 1e-4:
        sys.exit("rebuilt checkpoint does not reproduce the shipped ONNX")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rebuild(a.model_dir, a.out_dir)
