#!/usr/bin/env bash
# The GPU check in one device call (issue: GPU bring-up). Prepare here:
#   source native/find-java.sh && ./mvnw -q -f core.xml package -DskipTests && ./mvnw -q -f core.xml test-compile && bash native/device-run.sh
# then, with the device tool:  run  command="bash native/gpu-check.sh"  carry=["target/device"]  timeout_s=590
# Everything lands under $OUT (the device tool's folder that comes back):
#   nvidia-smi.txt  cudainfo.txt  gpu-tests.txt + junit/*.xml  bench/*.json|md|png (+ logs)  summary.txt
# Steps run in order with their own time limits; a failing step is recorded and the next one still runs.
#   --dry-run   run every step here without a GPU (device cpu, --smoke shapes): checks the script end to end
#   --full      also bench the llama-3.2-1b shape and HF static cache + torch.compile (needs ~4 more minutes)
# Exit: 0 all steps passed, 1 some step failed, 3 no NVIDIA driver (nothing run).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/target/gpu-check}"
DRY=0 FULL=0
for a in "$@"; do
    case "$a" in
        --dry-run) DRY=1;;
        --full) FULL=1;;
        *) echo "gpu-check: unknown argument $a (use --dry-run, --full)" >&2; exit 2;;
    esac
done
mkdir -p "$OUT"
RUN="target/device/run.sh"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
failed=0
note() { echo "gpu-check: $*" | tee -a "$SUMMARY" >&2; }

# 0. a driver, or stop at once (the device tool reports this line)
if [[ $DRY == 0 ]]; then
    if ! nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1; then
        note "no NVIDIA driver: nvidia-smi failed ($(head -1 "$OUT/nvidia-smi.txt")); nothing run. Use --dry-run to check the script without a GPU."
        exit 3
    fi
    note "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
fi
if [[ ! -f "$RUN" || ! -f target/device/cortado-device.tgz ]]; then
    note "no device bundle: build it here with native/device-run.sh and carry target/device"
    exit 2
fi
DEVICE=cuda; SMOKE=""; DTYPES="f16 bf16"
# ONNX Runtime Java is not in the bundle (size); the Python competitors run on the GPU machine's torch/onnxruntime
ENGINES="cortado,hf-eager,ort-python"
[[ $FULL == 1 ]] && ENGINES="$ENGINES,hf-compile"
if [[ $DRY == 1 ]]; then DEVICE=cpu; SMOKE="--smoke"; DTYPES="f32"; note "dry run: device cpu, smoke shapes"; fi
export CORTADO_SHARED="${CORTADO_SHARED:-$PWD/shared}"
export CORTADO_CACHE="${CORTADO_CACHE:-$OUT/cache}"
export CORTADO_PYTHON="${CORTADO_PYTHON:-$(command -v python3 || true)}"

# step NAME LIMIT_S CMD...: runs CMD with a time limit, output in $OUT/NAME.txt, result in the summary
step() {
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS rc
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.txt" 2>&1
    rc=$?
    if [[ $rc == 0 ]]; then note "$name: ok ($((SECONDS - t0)) s)"
    else
        failed=1
        note "$name: FAILED (exit $rc$([[ $rc == 124 ]] && echo ", over ${limit} s"), $((SECONDS - t0)) s): $(tail -1 "$OUT/$name.txt")"
    fi
}

step cudainfo 60 bash "$RUN" dev.cortado.backend.cuda.CudaInfo
if [[ $DRY == 1 ]]; then
    step gpu-tests 240 bash "$RUN" test --class dev.cortado.backend.cuda.FatbinResourceTest --class dev.cortado.backend.cuda.CudaDriverTest --reports "$OUT/junit"
else
    step gpu-tests 240 bash "$RUN" test --tag gpu --reports "$OUT/junit"
fi
grep -E "tests (successful|failed|skipped|found)" "$OUT/gpu-tests.txt" | sed 's/^ */gpu-tests: /' >> "$SUMMARY"
for dt in $DTYPES; do
    step "bench-gpt2-$dt" 150 bash "$RUN" cli bench generate --model synthetic:gpt2-124m --device "$DEVICE" --dtype "$dt" \
        --batch 1,8,32 --quick $SMOKE --engines "$ENGINES" --out "$OUT/bench"
done
if [[ $FULL == 1 ]]; then
    step bench-llama-f16 240 bash "$RUN" cli bench generate --model synthetic:llama-3.2-1b --device "$DEVICE" \
        --dtype "${DTYPES%% *}" --batch 1,8 --quick $SMOKE --engines "$ENGINES" --out "$OUT/bench"
fi
rm -rf "$CORTADO_CACHE"   # synthetic weights: large, regenerated on demand, not worth bringing back
note "done: $([[ $failed == 0 ]] && echo "all steps passed" || echo "some steps failed") (results in $OUT)"
exit $failed
