"""Average the weights of several checkpoints of one run (checkpoint averaging, as in Vaswani et al. 2017 and
Marian/fairseq's average_checkpoints): usually a small gain over the last checkpoint alone.

usage: python average_ckpts.py OUT_DIR CKPT_DIR [CKPT_DIR ...] [--note "which checkpoints, for the model card"]
Every checkpoint must have the same parameter names and shapes; the tokenizer is copied from the first. OUT_DIR gets
averaged_from.json (the folders and the note), which make_card.py puts in the model card.
Whether the average is shipped is decided on the dev split (evaluate.py --ckpt OUT_DIR vs the last checkpoint).
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from transformers import MarianMTModel, PreTrainedTokenizerFast


def main(out, ckpts, note):
    models = [MarianMTModel.from_pretrained(c) for c in ckpts]
    sds = [m.state_dict() for m in models]
    avg = {}
    for k, v in sds[0].items():
        if any(sd[k].shape != v.shape for sd in sds):
            sys.exit(f"{k}: shapes differ between checkpoints")
        avg[k] = sum(sd[k].double() for sd in sds).div(len(sds)).to(v.dtype) if v.is_floating_point() else v
    m = models[0]
    m.load_state_dict(avg)
    Path(out).mkdir(parents=True, exist_ok=True)
    m.save_pretrained(out)
    PreTrainedTokenizerFast.from_pretrained(ckpts[0]).save_pretrained(out)
    (Path(out) / "averaged_from.json").write_text(json.dumps(dict(checkpoints=[str(c) for c in ckpts], note=note), indent=1))
    print(f"averaged {len(ckpts)} checkpoints into {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("ckpts", nargs="+")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    torch.set_num_threads(1)
    main(a.out, a.ckpts, a.note)
