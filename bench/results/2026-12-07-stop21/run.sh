#!/usr/bin/env bash
# Stop 21, final set (main 87f9473: GEMM tiles store into y with offsets before the loop, rational GELU(erf)).
# Usage: bash run.sh OUTDIR. Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
run embed embed --batch 1,32 --rounds 5
run genq generate --quick --batch 1,4 --rounds 4
run translate translate --quick
run kernels kernels --quick
log done
