#!/usr/bin/env bash
# Stop 21, third set (main 737b18a: + M = 4 GEMM two panels per task).
# Usage: bash run3.sh OUTDIR. Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
run genq3 generate --quick --batch 1,4 --rounds 5
run translate3 translate --quick
run embed3 embed --batch 1,32 --rounds 5
log done
