#!/usr/bin/env bash
# Starts the ranks of a data-parallel job on this machine, as torchrun does (`./run.sh launch`):
#
#   launch.sh --nproc N [--nnodes M --node-rank R --master HOST:PORT] [--grace S] COMMAND [ARGS...]
#
# Each of the N processes runs COMMAND with RANK (R*N + local rank), LOCAL_RANK, WORLD_SIZE (M*N),
# LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set; torch.distributed.init_process_group() (env://)
# reads them. On one node without --master, the master is 127.0.0.1 on a free port. On several nodes,
# run the same command on every node with its own --node-rank and the address of node 0 as --master.
# If a rank fails, the launcher stops the others (SIGTERM, then SIGKILL after --grace seconds, default
# 5), prints that rank's error and exits with its exit code; it exits 0 when every rank succeeded.
set -uo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

nproc="" nnodes=1 node_rank=0 master="" grace=5
while [ $# -gt 0 ]; do
  case "$1" in
    --nproc|--nproc-per-node) nproc="${2:-}"; shift 2 ;;
    --nnodes) nnodes="${2:-}"; shift 2 ;;
    --node-rank) node_rank="${2:-}"; shift 2 ;;
    --master) master="${2:-}"; shift 2 ;;
    --grace) grace="${2:-}"; shift 2 ;;
    --) shift; break ;;
    -*) echo "launch: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "launch: no command given" >&2; usage; }
is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_count "$nproc" && [ "$nproc" -ge 1 ] || { echo "launch: --nproc must be a positive integer" >&2; exit 2; }
is_count "$nnodes" && [ "$nnodes" -ge 1 ] || { echo "launch: --nnodes must be a positive integer" >&2; exit 2; }
is_count "$node_rank" && [ "$node_rank" -lt "$nnodes" ] || { echo "launch: --node-rank must lie in 0..$((nnodes - 1))" >&2; exit 2; }

if [ -n "$master" ]; then
  master_addr="${master%:*}" master_port="${master##*:}"
  [[ "$master" == *:* && "$master_port" =~ ^[0-9]+$ ]] || { echo "launch: --master must be HOST:PORT" >&2; exit 2; }
else
  [ "$nnodes" -eq 1 ] || { echo "launch: --master HOST:PORT is required with --nnodes > 1" >&2; exit 2; }
  master_addr=127.0.0.1
  # A port nothing listens on (a connection attempt fails), so concurrent jobs do not collide.
  for _ in $(seq 50); do
    master_port=$((20000 + RANDOM % 40000))
    ! (exec 3<>"/dev/tcp/127.0.0.1/$master_port") 2>/dev/null && break
  done
fi

world_size=$((nnodes * nproc))
logdir=$(mktemp -d)
set -m  # each rank in its own process group, so stopping a rank stops whatever it started
declare -A rank_of=()
pids=()
for ((local_rank = 0; local_rank < nproc; local_rank++)); do
  rank=$((node_rank * nproc + local_rank))
  # stderr goes to the terminal and to a file, which the launcher prints from if this rank fails.
  RANK=$rank LOCAL_RANK=$local_rank WORLD_SIZE=$world_size LOCAL_WORLD_SIZE=$nproc \
    MASTER_ADDR=$master_addr MASTER_PORT=$master_port \
    bash -c 'exec "$@" 2> >(tee "'"$logdir/$rank.err"'" >&2)' rank"$rank" "$@" &
  rank_of[$!]=$rank
  pids+=($!)
done
set +m  # (job control only for the spawning: no job notices)

stop_all() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for ((i = 0; i < grace * 10; i++)); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
}
trap 'stop_all; rm -rf "$logdir"; exit 130' INT TERM

running=("${pids[@]}")
status=0
while [ ${#running[@]} -gt 0 ]; do
  done_pid=""
  wait -n -p done_pid "${running[@]}"
  code=$?
  [ -n "$done_pid" ] || break
  running=("${running[@]/$done_pid/}")
  running=(${running[@]})
  if [ "$code" -ne 0 ]; then
    failed=${rank_of[$done_pid]}
    status=$code
    echo "launch: rank $failed exited with code $code; stopping the other ranks" >&2
    # Let the rank's stderr copy (tee, in its process group) finish writing before anything is stopped.
    for _ in $(seq 20); do kill -0 -- "-$done_pid" 2>/dev/null || break; sleep 0.05; done
    stop_all
    if [ -s "$logdir/$failed.err" ]; then
      echo "launch: rank $failed's error:" >&2
      tail -n 20 "$logdir/$failed.err" | sed 's/^/  /' >&2
    fi
    break
  fi
done
wait 2>/dev/null
rm -rf "$logdir"
exit "$status"
