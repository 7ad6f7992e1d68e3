#!/usr/bin/env bash
# Benchmark set-up (PyTorch from Debian on the same libtorch) and run; arguments go to the driver
# (--rounds N, --config default|tuned, --cases a,b, --quick, --check, --record [--note TEXT], --table).
# Prints one JSON line per benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch
fi
dotnet build tests/Research.Benchmarks -c Release -nologo -clp:ErrorsOnly -v:quiet
# libtorch's floor for the tiny cases, a C++ program over the same ops (built against the libtorch the shim uses).
floor_src=tests/Research.Benchmarks/floor/tiny_floor.cpp
floor_bin=tests/Research.Benchmarks/bin/floor/tiny_floor
if [ ! -x "$floor_bin" ] || [ "$floor_src" -nt "$floor_bin" ]; then
  mkdir -p "$(dirname "$floor_bin")"
  torch_prefix=${Torch_DIR:+$(cd "$Torch_DIR/../../.." && pwd)}
  g++ -O2 -std=c++17 -o "$floor_bin" "$floor_src" ${torch_prefix:+-I"$torch_prefix/include" -I"$torch_prefix/include/torch/csrc/api/include" -L"$torch_prefix/lib" -Wl,-rpath,"$torch_prefix/lib"} \
    -ltorch_cpu -lc10 || echo "tiny_floor did not build; the tiny cases run without their C++ floor" >&2
fi
export BENCH_FLOOR="$PWD/$floor_bin"
exec dotnet tests/Research.Benchmarks/bin/Release/net10.0/Research.Benchmarks.dll "$@"
