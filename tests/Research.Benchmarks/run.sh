#!/usr/bin/env bash
# Benchmark set-up (PyTorch from Debian on the same libtorch) and run; arguments go to the driver
# (--rounds N, --config default|tuned, --cases a,b). Prints one JSON line per benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-torch
fi
dotnet build tests/Research.Benchmarks -c Release -nologo -clp:ErrorsOnly -v:quiet
exec dotnet tests/Research.Benchmarks/bin/Release/net10.0/Research.Benchmarks.dll "$@"
