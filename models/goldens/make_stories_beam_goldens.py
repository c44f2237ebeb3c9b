"""Beam-search goldens for stories260K from Hugging Face transformers `generate` on its safetensors folder.

Run: /path/to/venv/bin/python models/goldens/make_stories_beam_goldens.py [SHARED_DIR]
Writes src/test/resources/goldens/stories260K_beam.json (provenance included). Reads ../shared/models/stories260K.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

shared = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CORTADO_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
folder = os.path.join(shared, "models", "stories260K")
torch.set_num_threads(1)
model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager").eval()
prompt = [1, 403, 407, 261, 378]  # "Once upon a time" with BOS (see the folder's goldens.json)
cases = []
for nb, lp, es, nrs, extra in [(4, 1.0, False, 4, {}), (4, 0.6, True, 2, {}), (3, 2.0, False, 3, {"no_repeat_ngram_size": 3}),
                               (1, 1.0, False, 1, {"repetition_penalty": 1.3})]:
    kwargs = dict(max_new_tokens=40, num_beams=nb, length_penalty=lp, early_stopping=es, num_return_sequences=nrs,
                  do_sample=False, eos_token_id=2, pad_token_id=0, **extra)
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                             output_scores=True, return_dict_in_generate=True, **kwargs)
    seqs = [s[len(prompt):].tolist() for s in out.sequences]
    trimmed = []
    for s in seqs:
        t = []
        for x in s:
            t.append(x)
            if x == 2:
                break
        trimmed.append(t)
    scores = out.sequences_scores.tolist() if nb > 1 else None
    cases.append({"kwargs": kwargs, "new_ids_trimmed": trimmed, "sequences_scores": scores})
json.dump({"provenance": {"script": "models/goldens/make_stories_beam_goldens.py", "torch": torch.__version__,
                          "transformers": transformers.__version__, "model": "shared/models/stories260K (safetensors)",
                          "prompt_ids": prompt},
           "cases": cases}, open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "test", "resources", "goldens", "stories260K_beam.json"), "w"), indent=1)
print("ok", [c["new_ids_trimmed"][0][:8] for c in cases])
