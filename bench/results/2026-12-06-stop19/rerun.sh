#!/usr/bin/env bash
# int4 with --quantize-all (embedding table and lm_head int4 too) next to fp32, three interleaved rounds (same run)
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O/rounds-all
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
G="generate --model synthetic:gpt2-124m --engines cortado --batch 1 --prompt-len 16 --gen-len 64 --warmup 2 --repeats 3"
for r in 1 2 3; do
  run rounds-all/fp32-$r $G
  run rounds-all/int4all-$r $G --quantize int4 --quantize-all
done
log done
