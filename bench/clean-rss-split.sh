#!/bin/bash
# Runs stage clean under the runner in a benchmark workspace (download already built) and samples
# the RSS of the runner process and of the clean stage process apart, with ps every 0.2 s: how the
# tree's peak splits between them (bench/keystrokes/measure.ts reports only sums). Prints one line.
#   flock /work/bench.lock bench/clean-rss-split.sh bench/work/ws-webapp-10000000
set -e
ws=$1; repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$ws"
rm -rf stages && cp -r "$repo/stages" stages
log=$(mktemp)
CI=true node "$repo/bin/pipe.js" build clean --force-stage clean --no-remote-cache > "$log" 2>&1 &
sleep 0.3
max_r=0; max_c=0; max_t=0; at_r=0; at_c=0
while pgrep -f "bin/pipe.js build clean --force-stage" > /dev/null; do
  r=$(ps -eo rss=,args= | awk '/[b]in\/pipe.js build clean --force-stage/ {print $1; exit}')
  c=$(ps -eo rss=,args= | awk '/[s]tages\/clean.ts/ {s+=$1} END {print s+0}')
  r=${r:-0}; t=$((r + c))
  [ "$r" -gt $max_r ] && max_r=$r
  [ "$c" -gt $max_c ] && max_c=$c
  if [ $t -gt $max_t ]; then max_t=$t; at_r=$r; at_c=$c; fi
  sleep 0.2
done
echo "runner peak $((max_r/1024)) MiB; clean peak $((max_c/1024)) MiB; tree peak $((max_t/1024)) MiB = runner $((at_r/1024)) + clean $((at_c/1024)); $(grep 'clean: done' "$log")"
rm -f "$log"
