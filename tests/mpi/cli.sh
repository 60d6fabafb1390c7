#!/usr/bin/env bash
# The CLIs under mpirun: 2 ranks give one process's statistics and Q table exactly; bad input (more
# ranks than envs, ranks with different arguments, a rank killed mid-run) ends with a message and a
# nonzero exit, and leaves no CSV row.
# Usage: cli.sh MPIRUN THROUGHPUT QLEARN
set -uo pipefail
mpirun=$1 throughput=$2 qlearn=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }
mpi() { timeout 120 "$mpirun" --oversubscribe "$@"; }
# The columns of a CSV's data rows, by name.
column() { python3 -c 'import csv,sys; print(*[r[sys.argv[2]] for r in csv.DictReader(open(sys.argv[1]))])' "$@"; }

point=(--env Pendulum-v1 --num-envs 1300 --chunk 8 --steps 230 --warmup 5 --repeat 2 --seed 7)

# 1. Statistics: 2 ranks x 1 thread == 1 process x 2 threads, to the last bit of the mean return.
"$throughput" "${point[@]}" --threads 2 --output "$work/one.csv" >/dev/null || fail "one process"
mpi -n 2 "$throughput" "${point[@]}" --threads 1 --output "$work/two.csv" >"$work/two.log" 2>&1 || { cat "$work/two.log"; fail "two ranks"; }
for c in env_steps episodes mean_episode_length mean_episode_return; do
  [[ $(column "$work/one.csv" $c) == $(column "$work/two.csv" $c) ]] ||
    fail "$c differs: $(column "$work/one.csv" $c) vs $(column "$work/two.csv" $c)"
done
[[ $(column "$work/two.csv" ranks) == 2 ]] || fail "ranks column"
[[ $(column "$work/two.csv" rank_devices) == *"1: "* ]] || fail "rank_devices column: $(column "$work/two.csv" rank_devices)"

# 2. More ranks than envs: exit 2, one message from rank 0, no file.
mpi -n 3 "$throughput" --num-envs 2 --steps 10 --output "$work/bad.csv" >"$work/bad.log" 2>&1
code=$?
[[ $code -ne 0 ]] || fail "-n 3 with 2 envs exited 0"
[[ $(grep -c "smaller than the 3 processes" "$work/bad.log") == 1 ]] || { cat "$work/bad.log"; fail "-n 3 with 2 envs: message"; }
[[ ! -e $work/bad.csv ]] || fail "-n 3 with 2 envs wrote a CSV"

# 3. Ranks given different arguments: exit 2 naming the rank, no file.
mpi -n 1 "$throughput" --num-envs 1024 --steps 10 --output "$work/mix.csv" : \
    -n 1 "$throughput" --num-envs 2048 --steps 10 --output "$work/mix.csv" >"$work/mix.log" 2>&1
[[ $? -ne 0 ]] || fail "mismatched ranks exited 0"
grep -q "rank 1 runs a different configuration" "$work/mix.log" || { cat "$work/mix.log"; fail "mismatch message"; }
[[ ! -e $work/mix.csv ]] || fail "mismatched ranks wrote a CSV"

# 4. A rank killed mid-run: a nonzero exit well within the timeout, no data row.
start=$SECONDS
mpi -n 1 "$throughput" --num-envs 4096 --steps 100000000 --mpi-timeout 20 --output "$work/dead.csv" : \
    -n 1 timeout -s KILL 3 "$throughput" --num-envs 4096 --steps 100000000 --mpi-timeout 20 \
    --output "$work/dead.csv" >"$work/dead.log" 2>&1
[[ $? -ne 0 ]] || fail "a killed rank: exit 0"
((SECONDS - start < 90)) || fail "a killed rank: took $((SECONDS - start)) s"
[[ ! -e $work/dead.csv || $(wc -l <"$work/dead.csv") -le 1 ]] || fail "a killed rank: a CSV row was written"

# 5. Q-learning: the table of 2 ranks is the table of 1 process, byte for byte.
qpoint=(--num-envs 300 --rounds 60 --eval-every 30 --eval-games 1000 --seed 3)
"$qlearn" "${qpoint[@]}" --threads 2 --save "$work/q1.npy" --output "$work/q1.csv" >/dev/null || fail "qlearn one process"
mpi -n 2 "$qlearn" "${qpoint[@]}" --threads 1 --save "$work/q2.npy" --output "$work/q2.csv" >"$work/q2.log" 2>&1 ||
  { cat "$work/q2.log"; fail "qlearn two ranks"; }
cmp -s "$work/q1.npy" "$work/q2.npy" || fail "qlearn tables differ"
[[ $(column "$work/q1.csv" win_rate) == $(column "$work/q2.csv" win_rate) ]] || fail "qlearn evaluations differ"

# 6. A run by time under mpirun is refused (the ranks would step different counts).
mpi -n 2 "$throughput" --num-envs 2048 --seconds 1 --output "$work/time.csv" >"$work/time.log" 2>&1
[[ $? -eq 2 ]] || fail "--seconds under mpirun: exit code"
grep -q "steps is required under mpirun" "$work/time.log" || { cat "$work/time.log"; fail "--seconds message"; }

((failures == 0)) && echo "mpi cli: all passed"
exit $((failures > 0))
