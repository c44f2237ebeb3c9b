#!/usr/bin/env bash
# Stop 20, second set (main 3562162: bench --rounds): Cortado vs ORT with the engines in turn, per-round ratios.
# Usage: bash run2.sh OUTDIR. Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
run rounds-onnx-int4 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4 --rounds 6
run rounds-genq generate --quick --batch 1,4 --rounds 4
run rounds-embedq embed --quick --rounds 4
log done
