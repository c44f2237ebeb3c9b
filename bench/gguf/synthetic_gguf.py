"""Writes GGUF files of a synthetic Cortado model (bench only; never committed as a fixture).

usage: /work/venv/bin/python bench/gguf/synthetic_gguf.py SRC_DIR OUT_DIR [q8_0 q4_0 q4_k_m ...]

SRC_DIR is a synthetic HF folder made by the bench (e.g. ~/.cache/cortado/synthetic/llama-3.2-1b: config.json +
model.safetensors, seeded random float32). Each file is written with gguf-py's GGUFWriter the way llama.cpp's
convert_hf_to_gguf.py writes a Llama (tensor names from gguf.get_tensor_name_map, LlamaModel.permute of q/k rows,
Llama 3 rope scaling as rope_freqs.weight, 1-D tensors F32, tied embeddings: no output.weight):
- q8_0 / q4_0: every 2-D tensor quantized by gguf-py (gguf.quants.quantize), token_embd included;
- q4_k_m: a llama.cpp Q4_K_M-like type mix (token_embd Q6_K as llama.cpp does for a tied head, attn_v and half of
  ffn_down Q6_K, the rest Q4_K); q4_k_m_untied: the same with an untied head (output.weight Q6_K, token_embd Q4_K),
  as Llama 3.1 8B, Mistral 7B or Qwen2.5 7B files have. gguf-py has no K-quant quantizer, so these blocks are random with sane fp16 d/dmin
  (the weights are random anyway: the file is for load time and peak RSS, not for text).
A byte-level tokenizer (../shared/models/tokenizers/gpt2, padded with control tokens to the model's vocabulary) makes
the files runnable by `cortado generate`.
"""
import json, math, sys
from pathlib import Path
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from safetensors import safe_open

SHARED = Path(__file__).resolve().parents[3] / "shared"


def permute(w, n_head, n_head_kv):  # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def random_kquant(rng, shape, qt):
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    rows, cols = shape
    nb = rows * cols // bs
    blk = rng.integers(0, 256, size=(nb, ts), dtype=np.uint8)
    d = (rng.random(nb) * 0.002 + 1e-4).astype(np.float16).view(np.uint8).reshape(nb, 2)
    dm = (rng.random(nb) * 0.002).astype(np.float16).view(np.uint8).reshape(nb, 2)
    if qt == T.Q6_K:
        blk[:, -2:] = d
    else:
        blk[:, 0:2], blk[:, 2:4] = d, dm
    return blk.reshape(rows, cols // bs * ts)


def kind(name, mix, layers):
    if not mix.startswith("q4_k_m"):
        return {"q8_0": T.Q8_0, "q4_0": T.Q4_0}[mix]
    if name == "output.weight" or (name == "token_embd.weight" and mix == "q4_k_m"):
        return T.Q6_K
    if ".attn_v." in name:
        return T.Q6_K
    if ".ffn_down." in name:
        layer = int(name.split(".")[1])
        return T.Q6_K if layer < layers // 2 else T.Q4_K  # llama.cpp: "use_more_bits" on part of the layers
    return T.Q4_K


def tokenizer(w, vocab_size):
    tj = json.loads((SHARED / "models/tokenizers/gpt2/tokenizer.json").read_text())
    vocab = dict(tj["model"]["vocab"])
    for a in tj["added_tokens"]:
        vocab[a["content"]] = a["id"]
    tokens = [None] * (max(vocab.values()) + 1)
    for t, i in vocab.items():
        tokens[i] = t
    types = [1] * len(tokens)
    types[50256] = 3
    while len(tokens) < vocab_size:  # normal tokens no merge makes (Llama 3 has ~256 control tokens, not 78,000)
        types.append(1)
        tokens.append(f"<|pad_{len(tokens)}|>")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]])
    w.add_bos_token_id(50256)
    w.add_eos_token_id(50256)
    w.add_add_bos_token(False)


def write(src, out, mix):
    cfg = json.loads((src / "config.json").read_text())
    heads, kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
    layers = cfg["num_hidden_layers"]
    w = gguf.GGUFWriter(str(out), "llama")
    w.add_name(cfg.get("cortado_synthetic", src.name))
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(layers)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    theta = cfg.get("rope_theta", 10000.0)
    w.add_rope_freq_base(theta)
    w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type({"q8_0": 7, "q4_0": 2, "q4_k_m": 15, "q4_k_m_untied": 15}[mix])
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type") == "llama3":  # convert_hf_to_gguf.py LlamaModel.generate_extra_tensors
        freqs = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
        f, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        factors = []
        for fr in freqs:
            wl = 2 * math.pi / fr
            if wl < old / hi:
                factors.append(1)
            elif wl > old / lo:
                factors.append(f)
            else:
                s = (old / wl - lo) / (hi - lo)
                factors.append(1 / ((1 - s) / f + s))
        w.add_tensor("rope_freqs.weight", np.array(factors, dtype=np.float32))
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, layers)
    rng = np.random.default_rng(17)
    types = {}
    with safe_open(str(src / "model.safetensors"), "np") as st:
        for name in st.keys():
            a = st.get_tensor(name)
            if name.endswith("q_proj.weight"):
                a = permute(a, heads, heads)
            if name.endswith("k_proj.weight"):
                a = permute(a, heads, kv)
            new = names.get_name(name, try_suffixes=(".weight", ".bias"))
            if a.ndim == 1:
                w.add_tensor(new, np.ascontiguousarray(a, dtype=np.float32))
                types["F32"] = types.get("F32", 0) + 1
                continue
            qt = kind(new, mix, layers)
            q = random_kquant(rng, a.shape, qt) if qt in (T.Q4_K, T.Q5_K, T.Q6_K) else gguf.quants.quantize(np.ascontiguousarray(a, dtype=np.float32), qt)
            w.add_tensor(new, q, raw_shape=q.shape, raw_dtype=qt)
            types[qt.name] = types.get(qt.name, 0) + 1
            if new == "token_embd.weight" and mix.endswith("_untied"):  # an untied head (Llama 3.1 8B, Mistral, Qwen2.5 7B)
                q = random_kquant(rng, a.shape, T.Q6_K)
                w.add_tensor("output.weight", q, raw_shape=q.shape, raw_dtype=T.Q6_K)
                types["Q6_K"] = types.get("Q6_K", 0) + 1
            del a
    tokenizer(w, cfg["vocab_size"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(out, types, out.stat().st_size)


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]).expanduser(), Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    for mix in sys.argv[3:] or ["q8_0", "q4_0", "q4_k_m"]:
        write(src, dst / f"{src.name}-{mix}.gguf", mix)
