# Plots of bench/scaling.sh from the CSVs scaling_report.py writes:
#   gnuplot -e "dir='RESULTS'" bench/broker/scaling.gp
# Each plot is drawn only if its CSV exists; PNGs go next to the CSVs.
have_file(f) = system("[ -s '" . f . "' ] && echo 1 || echo 0") + 0
info = system("sed -n 's/^date: //p' '" . dir . "/info.txt' 2>/dev/null")
load = system("awk '/^load (before|after)/ {printf \"%s%s %s\", s, $2, $3; s=\", \"}' '" . dir . "/info.txt' 2>/dev/null")

set terminal pngcairo noenhanced size 1400,560 font "DejaVu Sans,11"
set datafile missing "nan"
set grid
set key top right
set logscale x 10
set xrange [0.7:1500]
set format y "%.1s%c"

f = dir . "/partitions.csv"
if (have_file(f)) {
  # Columns 14-23 (conn_load --spread) exist when that mode ran.
  spread = system("head -1 '" . f . "' | wc -w") + 0 > 13
  set terminal pngcairo noenhanced size 1400,(spread ? 1000 : 560) font "DejaVu Sans,11"
  set output dir . "/scaling-partitions.png"
  set multiplot layout (spread ? 2 : 1),2 title sprintf("Produce 100 B vs partitions (%s; load %s)", info, load)
  set xlabel "partitions"
  set ylabel "messages/s"
  set yrange [0:*]
  set title "sluice perf produce, unthrottled (librdkafka, sticky partitioner)"
  plot f using 1:2:3:4 with yerrorlines lw 2 title "acks=1 (median, min-max)", \
       f using 1:8:9:10 with yerrorlines lw 2 title "acks=all"
  set ylabel "send -> ack latency, ms"
  set format y "%g"
  set logscale y 10
  set yrange [*:*]
  set title "sluice perf produce at a fixed 20 000 msg/s"
  plot f using 1:7 with linespoints lw 2 title "acks=1 p99", \
       f using 1:13 with linespoints lw 2 title "acks=all p99", \
       f using 1:6 with linespoints lw 1 dt 2 title "acks=1 p50", \
       f using 1:12 with linespoints lw 1 dt 2 title "acks=all p50"
  if (spread) {
    set format y "%.0s%c"
    set yrange [*:*]
    set ylabel "messages/s (log scale)"
    set title "conn_load --spread: 1 000 msgs per request over every partition, 4 connections"
    plot f using 1:14:15:16 with yerrorlines lw 2 title "acks=1 (median, min-max)", \
         f using 1:19:20:21 with yerrorlines lw 2 title "acks=all"
    set ylabel "request latency, ms"
    set format y "%g"
    set logscale y 10
    set yrange [*:*]
    set title "conn_load --spread, request latency"
    plot f using 1:18 with linespoints lw 2 title "acks=1 p99", \
         f using 1:23 with linespoints lw 2 title "acks=all p99", \
         f using 1:17 with linespoints lw 1 dt 2 title "acks=1 p50", \
         f using 1:22 with linespoints lw 1 dt 2 title "acks=all p50"
  }
  unset multiplot
  unset title
  unset logscale y
  set format y "%.1s%c"
  set terminal pngcairo noenhanced size 1400,560 font "DejaVu Sans,11"
}

f = dir . "/connections.csv"
if (have_file(f)) {
  set output dir . "/scaling-connections.png"
  set multiplot layout 1,2 title sprintf("Produce vs connections (conn_load, 10 x 100 B per request, 1 in flight each; %s; load %s)", info, load)
  set xlabel "producer connections"
  set ylabel "messages/s"
  set yrange [0:*]
  plot f using 1:2:3:4 with yerrorlines lw 2 title "acks=1 (median, min-max)", \
       f using 1:7:8:9 with yerrorlines lw 2 title "acks=all"
  set ylabel "request latency, ms"
  set format y "%g"
  set logscale y 10
  set yrange [*:*]
  plot f using 1:6 with linespoints lw 2 title "acks=1 p99", \
       f using 1:11 with linespoints lw 2 title "acks=all p99", \
       f using 1:5 with linespoints lw 1 dt 2 title "acks=1 p50", \
       f using 1:10 with linespoints lw 1 dt 2 title "acks=all p50"
  unset multiplot
  unset logscale y
  set format y "%.1s%c"
}

f = dir . "/recovery.csv"
if (have_file(f)) {
  set terminal pngcairo noenhanced size 900,560 font "DejaVu Sans,11"
  set output dir . "/recovery-vs-size.png"
  set title sprintf("Restart after kill -9: exec -> Metadata answer (16 partitions, 64 MiB written after the last checkpoint)\n%s; load %s", info, load)
  unset logscale x
  set xlabel "data directory, GiB"
  set ylabel "seconds (log scale)"
  set format y "%g"
  set logscale y 10
  set yrange [0.01:20]
  set xrange [0:11]
  set key top left
  here = system("basename '" . dir . "'")
  b = dir . "/recovery-baseline.csv"
  if (have_file(b)) {
    blabel = system("cat '" . dir . "/recovery-baseline.label'")
    plot f using 1:2:3:4 with yerrorlines lw 2 title here . " (median, min-max)", \
         f using 1:2:(sprintf("%.2f", $2)) with labels offset 0,-1 notitle, \
         b using 1:2:3:4 with yerrorlines lw 2 title blabel, \
         b using 1:2:(sprintf("%.2f", $2)) with labels offset 0,1 notitle
  } else {
    plot f using 1:2:3:4 with yerrorlines lw 2 title "median, min-max", \
         f using 1:2:(sprintf("%.2f", $2)) with labels offset 0,1 notitle
  }
}
