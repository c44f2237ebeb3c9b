#!/usr/bin/env bash
# Stop 20, final set (main 0afce14: + applyRows/layerNorm boxing fixes). Usage: bash run3.sh OUTDIR.
# Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/final-rounds
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 5"
for r in 1 2 3 4; do
  run final-rounds/fp32-$r $G
  run final-rounds/int4-$r $G --quantize int4
  run final-rounds/int8-$r $G --quantize int8
done
run final-onnx-int4 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4 --rounds 6
run final-genq generate --quick --batch 1,4 --rounds 4
run final-embedq embed --quick --rounds 4
run final-translate translate --quick
run final-kernels kernels --quick
log done
