#!/usr/bin/env bash
# Load time of a model with and without the pack cache (issue #17): `cortado info` opens the model as the commands do
# (load only, no generation). Per round, alternating: BASE jar (before: no cache for this kind of file), NEW jar with
# -Dcortado.packCache=false (a fresh pack on the new code), NEW jar with the cache (written once before the rounds,
# so these are cached loads). Prints wall s, CPU s (user+sys) and peak RSS KiB per run (/usr/bin/time).
# usage: bench/gguf/pack_cache_load.sh BASE_JAR NEW_JAR ROUNDS MODEL...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/native/find-java.sh"
base=$1 new=$2 rounds=$3; shift 3
J=("$JAVA_HOME/bin/java" -XX:+UseParallelGC -XX:MaxNewSize=128m --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
run() { # label jar model [java opts]
  local label=$1 jar=$2 model=$3; shift 3
  /usr/bin/time -f "$label $(basename "$model") wall %e cpu %U+%S rss %M" "${J[@]}" "$@" -jar "$jar" info --model "$model" 2>&1 >/dev/null \
    | grep -E "^$label |WARN|ERROR" | awk '{ if ($3=="wall") { split($6,c,"+"); printf "%s %s wall %.2f cpu %.2f rss_mib %d\n", $1, $2, $4, c[1]+c[2], $8/1024 } else print }'
}
echo "# $(date -u) $(uptime)"; lscpu | grep "Model name"
for m in "$@"; do
  d=$( [ -d "$m" ] && echo "$m" || dirname "$m" )
  rm -rf "$d/.cortado-cache"
  run write "$new" "$m"   # the first load with the cache on: packs and writes the file
  for r in $(seq "$rounds"); do
    run before "$base" "$m"
    run fresh "$new" "$m" -Dcortado.packCache=false
    run cached "$new" "$m"
  done
done
echo "# $(date -u) $(uptime)"
