#!/usr/bin/env bash
# Sourced by ./cortado, ./mvnw and .ci/run: sets JAVA_HOME to a JDK >= 25 (JAVA_HOME, then /usr/lib/jvm/* or
# the folders in CORTADO_JDK_DIRS, then PATH).
_cortado_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}' | cut -d. -f1
}
_cortado_find_java() {
  local cand best="" bestv=0 v
  for cand in "${JAVA_HOME:-}" ${CORTADO_JDK_DIRS:-/usr/lib/jvm}/* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(_cortado_java_major "$cand")
    [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null || continue
    if [ -n "${JAVA_HOME:-}" ] && [ "$cand" = "$JAVA_HOME" ]; then best=$cand; break; fi
    if [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "cortado: no JDK >= 25 found (looked at JAVA_HOME, ${CORTADO_JDK_DIRS:-/usr/lib/jvm}/*, PATH); install JDK 25 and set JAVA_HOME" >&2
    return 1
  fi
  export JAVA_HOME="$best"
}
_cortado_find_java
