#!/usr/bin/env bash
# Quantized rows re-measured with the final code (f673e6b): the first pass of run.sh ran ede3953, whose GEMV regressed.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/rounds-final
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3"
for r in 1 2 3; do
  run rounds-final/fp32-$r $G
  run rounds-final/int8-$r $G --quantize int8
  run rounds-final/int4-$r $G --quantize int4
done
run gen-onnx-int4-final generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4
log done
