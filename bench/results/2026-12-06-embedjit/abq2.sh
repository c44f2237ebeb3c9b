#!/bin/bash
for i in $(seq 1 $1); do
 for v in main basew new; do
  case $v in main) dir=/tmp/embedjit-base;; basew) dir=/tmp/embedjit-basew;; new) dir=/work/wt-embedjit;; esac
  echo "== $v $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd $dir && ./cortado bench embed --quick --out /tmp/ej/abq-out 2>&1 | tr '\r' '\n' | grep -a 'ratio\|cortado  \|ort  ' | sed 's/.*\(cortado  \)/\1/; s/.*\(ort  \)/\1/')
 done
done
echo "== end $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
