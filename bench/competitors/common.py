"""Shared by the bench competitor scripts: reads the harness's request, prints one JSON line."""
import argparse
import json
import os
import resource
import sys
import time


def args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--model', required=True, help='HF folder: config.json + model.safetensors (+ model.onnx)')
    p.add_argument('--request', required=True, help='JSON: {"prompts": {"B": [[ids]...]}, "gen_len", "warmup", "repeats"}')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--device', default='cpu', help='cpu or cuda:N')
    p.add_argument('--dtype', default='float32', choices=['float32', 'float16', 'bfloat16'])
    return p.parse_args()


def sync(device):
    """Waits for the GPU so that timestamps mean finished work (no-op on the CPU)."""
    if device.startswith('cuda'):
        import torch
        torch.cuda.synchronize(device)


def request(path):
    with open(path) as f:
        r = json.load(f)
    return r


def rss_mb(key='VmRSS:'):
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float('nan')


def peak_rss_mb():
    # VmHWM of this process image; ru_maxrss would include the parent JVM's peak (Linux keeps it across fork+exec)
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def now():
    return time.perf_counter()
