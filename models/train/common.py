"""Shared helpers for Cortado's small-model training scripts (data paths, TSV reading, task settings)."""
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CORTADO_SHARED", REPO.parent / "shared")).resolve()
DATA = SHARED / "data" / "debian-descriptions"
WORK = Path(os.environ.get("CORTADO_TRAIN_WORK", REPO.parent / "train-work")).resolve()  # checkpoints, outside the repo

# task name -> (tsv folder, source column, target column, output model folder); gen = the shipped beam-search
# settings (picked on dev with tune_generation.py)
TASKS = {
    "en-de": dict(folder="en-de", src="en", tgt="de", out="cortado-en-de",
                  max_src=128, max_tgt=160, truncate=False, gen_max_length=256,
                  gen=dict(length_penalty=1.0, no_repeat_ngram_size=0)),
    "summarize": dict(folder="summarize", src="description", tgt="synopsis", out="cortado-summarize-en",
                      max_src=96, max_tgt=32, truncate=True, gen_max_length=64,
                      gen=dict(length_penalty=1.0, no_repeat_ngram_size=0)),
}

# Shared architecture: sized so encoder + decoder + decoder_with_past fp32 ONNX files fit in 30 MB
# (the embedding matrix is stored in every one of the three files, the decoder weights twice).
ARCH = dict(vocab_size=8000, d_model=192, encoder_layers=3, decoder_layers=1,
            encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=768, decoder_ffn_dim=768, max_position_embeddings=256)

PAD, EOS, UNK = 0, 1, 2


def read_tsv(path):
    """Yield dict rows. Split on TAB only; no quoting (see the data README)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != len(header):
                raise ValueError(f"{path}: bad line {line[:80]!r}")
            yield dict(zip(header, parts))


def pairs(task, split):
    t = TASKS[task]
    rows = read_tsv(DATA / t["folder"] / f"{split}.tsv")
    return [(r[t["src"]], r[t["tgt"]]) for r in rows]


def write_tokenizer_config(out, max_src):
    """tokenizer_config.json for a PreTrainedTokenizerFast; model_max_length = the source limit used in training and
    evaluation (HF truncation=True and Cortado's translate/summarize cut sources there)."""
    cfg = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_src,
           "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
           "padding_side": "right", "truncation_side": "right", "clean_up_tokenization_spaces": False}
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2) + "\n")


def model_dir(task):
    return REPO / "models" / TASKS[task]["out"]


def work_dir(task):
    d = WORK / task
    d.mkdir(parents=True, exist_ok=True)
    return d
