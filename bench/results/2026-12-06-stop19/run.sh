#!/usr/bin/env bash
# Stop 19 end-of-session runs: int4 × int8 activations (Q4Int8Matmul) vs float activations vs fp32/int8, gpt2-124m b1,
# three interleaved rounds; the int4 MatMulNBits file (accuracy_level 4) Cortado vs ORT; llama-3.2-1b fp32 vs int4.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/rounds $O/llama
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3"
for r in 1 2 3; do
  run rounds/fp32-$r $G
  run rounds/int8-$r $G --quantize int8
  run rounds/int4-$r $G --quantize int4
  run rounds/int4float-$r $G --quantize int4 --activations float
done
run gen-onnx-int4 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4
run gen-onnx-int4-b4 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 4 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4
L="generate --model synthetic:llama-3.2-1b --engines cortado --batch 1 --prompt-len 16 --gen-len 32 --warmup 1 --repeats 3"
run llama/fp32 $L
run llama/int4 $L --quantize int4
run llama/int4float $L --quantize int4 --activations float
run genq generate --quick --batch 1,4
run embedq embed --quick
log done
