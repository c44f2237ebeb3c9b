#!/usr/bin/env python3
"""Competitor for `cortado bench generate`: Hugging Face transformers on CPU or CUDA (--device, --dtype), greedy, same folder and token ids.

--mode eager: model.generate with the default dynamic cache.
--mode compile: static cache + torch.compile of the decode step (transformers' compile_config, forced on CPU).
Timing: a logits processor records when each new token's logits are ready: TTFT = generate() start to the first
call; per-token latency = gaps between calls. Prints one JSON line (see common.py).
"""
import json
import sys

import common


class Clock:
    def __init__(self, device):
        self.marks = []
        self.device = device

    def __call__(self, input_ids, scores):
        common.sync(self.device)
        self.marks.append(common.now())
        return scores


def main():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument('--mode', choices=['eager', 'compile'], default='eager')
    mode, rest = p.parse_known_args()
    sys.argv = [sys.argv[0]] + rest
    a = common.args(__doc__)
    req = common.request(a.request)
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, LogitsProcessorList
    torch.set_num_threads(a.threads)
    rss0 = common.rss_mb()
    t0 = common.now()
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=getattr(torch, a.dtype)).to(a.device)
    model.eval()
    load_s = common.now() - t0
    gen_len = req['gen_len']
    model.generation_config.eos_token_id = None  # exactly gen_len tokens, no eos masking (greedy = argmax)
    extra = {}
    if mode.mode == 'compile':
        from transformers import CompileConfig
        cc = CompileConfig(fullgraph=False, dynamic=False)
        cc._compile_all_devices = True
        model.generation_config.compile_config = cc
        extra['cache_implementation'] = 'static'
    results = []
    for b, prompts in sorted(req['prompts'].items(), key=lambda kv: int(kv[0])):
        ids = torch.tensor(prompts, dtype=torch.long, device=a.device)
        mask = torch.ones_like(ids)
        runs, tokens = [], None
        for i in range(req['warmup'] + req['repeats']):
            clock = Clock(a.device)
            with torch.inference_mode():
                common.sync(a.device)
                start = common.now()
                out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=gen_len,
                                     do_sample=False, num_beams=1, logits_processor=LogitsProcessorList([clock]),
                                     pad_token_id=0, **extra)
                common.sync(a.device)
                end = common.now()
            if i < req['warmup']:
                continue
            marks = clock.marks
            runs.append({'ttft_s': marks[0] - start, 'prefill_s': marks[0] - start,
                         'step_s': [marks[j] - marks[j - 1] for j in range(1, len(marks))], 'total_s': end - start})
            if tokens is None:
                tokens = out[:, ids.shape[1]:].tolist()
        results.append({'batch': int(b), 'runs': runs, 'tokens': tokens})
    common.emit({'engine': 'hf-' + mode.mode, 'load_s': load_s, 'peak_rss_mb': common.peak_rss_mb(), 'rss_before_load_mb': rss0,
                 'versions': {'torch': torch.__version__, 'transformers': transformers.__version__},
                 'results': results})


if __name__ == '__main__':
    main()
