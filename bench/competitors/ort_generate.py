#!/usr/bin/env python3
"""Competitor for `cortado bench generate`: onnxruntime (Python; CPU, or CUDA with --device when onnxruntime-gpu is there) on the folder's model.onnx (Optimum decoder
layout with past_key_values), greedy, same token ids. present.N is fed back as past_key_values.N as numpy arrays,
the plain way a Python user runs such an export. Prints one JSON line (see common.py)."""
import common


def main():
    a = common.args(__doc__)
    req = common.request(a.request)
    import os
    import numpy as np
    import onnxruntime as ort
    path = os.path.join(a.model, 'model.onnx')
    if not os.path.exists(path):
        path = os.path.join(a.model, 'onnx', 'model.onnx')
    o = ort.SessionOptions()
    o.intra_op_num_threads = a.threads
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    rss0 = common.rss_mb()
    t0 = common.now()
    providers = ['CPUExecutionProvider']
    if a.device.startswith('cuda'):
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise SystemExit('onnxruntime has no CUDAExecutionProvider here (install onnxruntime-gpu)')
        idx = int(a.device.split(':')[1]) if ':' in a.device else 0
        providers = [('CUDAExecutionProvider', {'device_id': idx}), 'CPUExecutionProvider']
    sess = ort.InferenceSession(path, o, providers=providers)
    load_s = common.now() - t0
    past_names = [i.name for i in sess.get_inputs() if i.name.startswith('past_key_values.')]
    kv_shape = {i.name: i.shape for i in sess.get_inputs()}
    out_names = [o.name for o in sess.get_outputs()]
    gen_len = req['gen_len']
    results = []
    for b, prompts in sorted(req['prompts'].items(), key=lambda kv: int(kv[0])):
        ids0 = np.array(prompts, dtype=np.int64)
        bsz, plen = ids0.shape
        runs, tokens = [], None
        for i in range(req['warmup'] + req['repeats']):
            start = common.now()
            feed = {'input_ids': ids0, 'attention_mask': np.ones((bsz, plen), np.int64),
                    'position_ids': np.tile(np.arange(plen, dtype=np.int64), (bsz, 1))}
            for n in past_names:
                s = kv_shape[n]
                feed[n] = np.zeros((bsz, s[1], 0, s[3]), np.float32)
            gen, marks = [], []
            length = plen
            for step in range(gen_len):
                outs = dict(zip(out_names, sess.run(None, feed)))
                nxt = outs['logits'][:, -1, :].argmax(-1).astype(np.int64)
                marks.append(common.now())
                gen.append(nxt)
                feed = {'input_ids': nxt[:, None], 'attention_mask': np.ones((bsz, length + 1), np.int64),
                        'position_ids': np.full((bsz, 1), length, np.int64)}
                for n in past_names:
                    feed[n] = outs[n.replace('past_key_values', 'present')]
                length += 1
            if i < req['warmup']:
                continue
            runs.append({'ttft_s': marks[0] - start, 'prefill_s': marks[0] - start,
                         'step_s': [marks[j] - marks[j - 1] for j in range(1, len(marks))], 'total_s': marks[-1] - start})
            if tokens is None:
                tokens = np.stack(gen, axis=1).tolist()
        results.append({'batch': int(b), 'runs': runs, 'tokens': tokens})
    common.emit({'engine': 'ort-python', 'load_s': load_s, 'peak_rss_mb': common.peak_rss_mb(), 'rss_before_load_mb': rss0,
                 'versions': {'onnxruntime': ort.__version__, 'numpy': np.__version__}, 'results': results})


if __name__ == '__main__':
    main()
