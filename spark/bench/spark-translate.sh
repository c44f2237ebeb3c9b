#!/usr/bin/env bash
# Benchmark (not a test): rows/s of `cortado batch` translating the first N DDTP dev sources (en-de, the model's own
# generation config: beam 4) in-process, then with --spark local[1] and --spark local[2], one after the other in the
# same run on the same file. Each run writes a fresh output; the outputs are checked equal by custom_id (ids and
# timestamps aside). Prints a Markdown table (wall seconds, rows/s, CPU seconds of the whole JVM incl. Spark's
# start-up) to stdout.
#   spark/bench/spark-translate.sh [ROWS] [extra body knobs as JSON, e.g. '{"num_beams":1}']
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rows="${1:-200}"; knobs="${2:-{\}}"
shared="${CORTADO_SHARED:-$here/../shared}"
tsv="$shared/data/debian-descriptions/en-de/dev.tsv"
[ -f "$tsv" ] || { echo "no $tsv (set CORTADO_SHARED)" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$tsv" "$rows" "$knobs" > "$work/in.jsonl" <<'PY'
import json, sys
tsv, n, knobs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
rows = [l.rstrip("\n").split("\t") for l in open(tsv, encoding="utf-8")][1:]
for i, r in enumerate(rows[:n]):
    print(json.dumps({"custom_id": f"ddtp-{i:05d}", "method": "POST", "url": "/v1/completions", "body": {"prompt": r[2], **knobs}}))
PY
"$here/cortado" --help >/dev/null 2>&1 || true                                   # builds the core jar if needed
"$here/cortado" batch --spark 'local[1]' --model "$here/models/cortado-en-de" --input /dev/null --output "$work/warm" >/dev/null 2>&1 || true  # builds spark/
run() { # name, args...
  local name="$1"; shift
  local t0 t1; t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/$name.cpu" "$here/cortado" batch --model "$here/models/cortado-en-de" --input "$work/in.jsonl" --output "$work/$name.jsonl" "$@" 2>"$work/$name.err" >/dev/null
  t1=$(date +%s.%N)
  read -r u s < "$work/$name.cpu"
  python3 -c "import sys; n=$rows; w=$t1-$t0; print(f'| $name | {w:.1f} | {n/w:.2f} | {$u+$s:.1f} |')"
}
echo "DDTP dev en-de, first $rows sources, body knobs $knobs; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | wall s | rows/s | CPU s |"
echo "|---|---|---|---|"
run in-process
run spark-local1 --spark 'local[1]'
run spark-local2 --spark 'local[2]'
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work" <<'PY'
import json, sys
def load(p):
    out = {}
    for l in open(p, encoding="utf-8"):
        n = json.loads(l); b = n["response"]["body"] if n["response"] else None
        out[n["custom_id"]] = (b["choices"][0]["text"] if b else n["error"]["code"])
    return out
a, b, c = (load(f"{sys.argv[1]}/{n}.jsonl") for n in ("in-process", "spark-local1", "spark-local2"))
print("outputs equal by custom_id:", a == b == c, f"({len(a)} lines)")
PY
