#!/bin/bash
# usage: run.sh batch passes threads rounds
# CpuAb compiled with: javac -cp target/cortado.jar -d /tmp/ej/ab/out CpuAb.java; base = a jar built from main (git archive main)
source /work/wt-embedjit/native/find-java.sh
for i in $(seq 1 $4); do
 for v in base new; do
  jar=/work/wt-embedjit/target/cortado.jar; [ $v = base ] && jar=/tmp/embedjit-base/target/cortado.jar
  echo -n "$v load $(cut -d' ' -f1 /proc/loadavg) "
  $JAVA_HOME/bin/java -XX:+UseParallelGC -XX:MaxNewSize=128m --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp $jar:/work/wt-embedjit/target/lib/*:/tmp/ej/ab/out CpuAb $1 $2 $3 2>&1 | grep -v WARN
 done
done
