#!/usr/bin/env bash
# Stop 21, second set (main a33c105: + a read probe and roofline % per round in bench generate --rounds).
# Usage: bash run2.sh OUTDIR. Nothing else of this project ran meanwhile.
set -u
cd /work/main
O=${1:?outdir}; mkdir -p $O
log() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg) $*" | tee -a $O/log.txt; }
run() { local name=$1; shift; log "$name: $*"; ./cortado bench "$@" --out $O/$name > $O/$name.txt 2>&1; echo "rc=$?" >> $O/$name.txt; }
run genq2 generate --quick --batch 1,4 --rounds 5
run embed2 embed --batch 1,32 --rounds 5
log done
