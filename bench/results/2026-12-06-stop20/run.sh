#!/usr/bin/env bash
# Stop 20 end-of-session runs (main after c496228: decode attention over >= 128 KB of cache on the pool).
# Usage: bash run.sh OUTDIR. Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/rounds
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 5"
for r in 1 2 3 4; do
  run rounds/fp32-$r $G
  run rounds/int4-$r $G --quantize int4
  run rounds/int8-$r $G --quantize int8
done
for r in 1 2 3 4; do
  run gen-onnx-int4-$r generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 5 --onnx-int4
done
for r in 1 2 3; do run embedq-$r embed --quick; done
for r in 1 2; do run genq-$r generate --quick --batch 1,4; done
log done
