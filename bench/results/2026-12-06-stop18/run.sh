#!/usr/bin/env bash
# End-of-session benchmarks (stop 18). Usage: bash run.sh OUTDIR
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/rounds $O/ab-vs-session-start
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3"
for r in 1 2 3; do
  run rounds/fp32-$r $G
  run rounds/bf16-$r $G --dtype bf16
  run rounds/int8-$r $G --quantize int8
  run rounds/int4-$r $G --quantize int4
  run rounds/int4-all-$r $G --quantize int4 --quantize-all
done
run gen-onnx-int4 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4
run gen-onnx-int4-acc0 generate --model synthetic:gpt2-124m --engines cortado,ort --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3 --onnx-int4 --onnx-int4-accuracy-level 0
run embed embed --quick
run genq generate --quick
run embed-2 embed --quick
run genq-2 generate --quick
run translate translate --quick
run kernels kernels --quick
# A/B against the session-start jar (251d098, built in /tmp/qbase), alternating, int4 and int8 rows
for r in 1 2 3; do
  for q in int4 int8; do
    log "ab base $q $r"; /tmp/qbase/cortado bench $G --quantize $q --out $O/ab-vs-session-start/base-$q-$r > $O/ab-vs-session-start/base-$q-$r.txt 2>&1
    log "ab main $q $r"; ./cortado bench $G --quantize $q --out $O/ab-vs-session-start/main-$q-$r > $O/ab-vs-session-start/main-$q-$r.txt 2>&1
  done
done
log done
