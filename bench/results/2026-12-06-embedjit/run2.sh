#!/bin/bash
# usage: run2.sh batch passes threads rounds prop-off-value ; same jar, property toggled
source /work/wt-embedjit/native/find-java.sh
jar=/tmp/ej/ab/cortado-new.jar
for i in $(seq 1 $4); do
 for v in off on; do
  opt=""; [ $v = off ] && opt="$5"
  echo -n "$v load $(cut -d' ' -f1 /proc/loadavg) "
  $JAVA_HOME/bin/java -XX:+UseParallelGC -XX:MaxNewSize=128m $opt --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp $jar:/work/wt-embedjit/target/lib/*:/tmp/ej/ab/out CpuAb $1 $2 $3 2>&1 | grep -v WARN
 done
done
