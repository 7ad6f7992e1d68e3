#!/usr/bin/env bash
# One entry point for users and CI. Every command first runs `setup`, which is idempotent: it installs
# only what is missing (Debian packages, dotnet tools, Paket and npm packages) and builds the solution
# (the native libtorch shim is built by `dotnet build` through CMake).
#
#   ./run.sh main                 set up, then run the default experiments (results in results/)
#   ./run.sh test                 set up, then run every test
#   ./run.sh proofs [FILTER]      check the derivations of shared/derivations.md, print the table
#   ./run.sh experiment NAME ...  run one experiment by name (`./run.sh experiment list` lists them)
#   ./run.sh bench                run the benchmarks (ours against PyTorch on the same libtorch)
#   ./run.sh launch --nproc N [--nnodes M --node-rank R --master HOST:PORT] COMMAND...
#                                 run COMMAND as N data-parallel ranks (RANK, WORLD_SIZE, ... as torchrun)
#   ./run.sh gpu-bundle           make build/gpu-check.tar.gz: the tests published self-contained
#   ./run.sh gpu-check            on a CUDA machine with PyTorch (no .NET SDK needed): build the shim
#                                 against PyTorch's libtorch, run the cuda-tagged tests from the bundle
#   ./run.sh setup                only set up and build
#
# Another libtorch (not Debian's): export Torch_DIR=/path/to/libtorch/share/cmake/Torch first.
set -euo pipefail
cd "$(dirname "$0")"
CONFIG=Release
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

APT_PACKAGES=(libtorch-dev libgloo-dev libopenblas0-pthread cmake g++ dataset-fashion-mnist chromium)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_system_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null; then
      echo "missing system packages: ${missing[*]}; install them (or set Torch_DIR for libtorch) and retry" >&2
      exit 1
    fi
    echo "installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# Debian's reference BLAS is about 20x slower at matmul than OpenBLAS; make sure the alternative
# libtorch links against points at OpenBLAS.
use_openblas() {
  local alt=libblas.so.3-x86_64-linux-gnu
  command -v update-alternatives >/dev/null || return 0
  local current
  current=$(update-alternatives --query "$alt" 2>/dev/null | sed -n 's/^Value: //p')
  if [[ -n "$current" && "$current" != *openblas* ]]; then
    local best
    best=$(update-alternatives --list "$alt" | grep openblas | head -n1)
    [ -n "$best" ] && as_root update-alternatives --set "$alt" "$best"
  fi
}

setup() {
  if [ -z "${Torch_DIR:-}" ]; then install_system_packages "${APT_PACKAGES[@]}"; use_openblas; fi
  command -v dotnet >/dev/null || { echo "the .NET SDK 10 is required (dotnet on PATH)" >&2; exit 1; }
  dotnet tool restore >/dev/null
  dotnet paket restore >/dev/null
  if [ -f package.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; }; then
    command -v npm >/dev/null || install_system_packages npm
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
  dotnet build Research.sln -c "$CONFIG" -nologo -clp:ErrorsOnly -v:quiet
}

# The cuda-tagged tests, published self-contained (runtime included) so that a GPU machine needs
# neither the SDK nor a package registry. Gloo's headers go along: PyTorch wheels ship none.
gpu_bundle() {
  setup
  rm -rf build/gpu-check build/gpu-check.tar.gz
  dotnet publish tests/Research.Distributed.Tests/Research.Distributed.Tests.csproj -c "$CONFIG" -r linux-x64 \
    --self-contained -o build/gpu-check -nologo -v:quiet -clp:ErrorsOnly
  rm -rf build/gpu-check/Microsoft.CodeCoverage build/gpu-check/libresearch_torch.so  # coverage unused; shim built there
  mkdir -p build/gpu-check/include && cp -r /usr/include/gloo build/gpu-check/include/
  tar czf build/gpu-check.tar.gz -C build gpu-check
  echo "build/gpu-check.tar.gz: $(du -m build/gpu-check.tar.gz | cut -f1) MiB; on the GPU machine: ./run.sh gpu-check"
}

gpu_check() {
  if [ ! -x build/gpu-check/Research.Distributed.Tests ]; then
    [ -f build/gpu-check.tar.gz ] || { echo "no build/gpu-check.tar.gz: run ./run.sh gpu-bundle where the .NET SDK is" >&2; exit 1; }
    tar xzf build/gpu-check.tar.gz -C build
  fi
  local python=${PYTHON:-python3} prefix
  prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)') || { echo "PyTorch is not importable with $python" >&2; exit 1; }
  "$python" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "GPUs", torch.cuda.device_count())'
  local gloo=()
  [ -d "$prefix/../../include/gloo" ] || gloo=(-DGLOO_INCLUDE_DIR="$PWD/build/gpu-check/include")
  cmake -S src/native -B build/native-gpu -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$prefix/Torch" "${gloo[@]}" >/dev/null
  cmake --build build/native-gpu --parallel "$(nproc)" >/dev/null
  RESEARCH_TORCH_NATIVE="$PWD/build/native-gpu/libresearch_torch.so" build/gpu-check/Research.Distributed.Tests --cuda
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  test)
    setup
    dotnet test Research.sln -c "$CONFIG" --no-build -nologo "$@"
    ;;
  proofs)
    setup
    dotnet run --project proofs -c "$CONFIG" --no-build -- "$@"
    ;;
  experiment)
    setup
    dotnet run --project experiments -c "$CONFIG" --no-build -- "$@"
    ;;
  main)
    setup
    dotnet run --project experiments -c "$CONFIG" --no-build -- all "$@"
    echo "results written to $(pwd)/results/"
    ;;
  launch)
    setup >&2
    exec bash tools/launch.sh "$@"
    ;;
  gpu-bundle) gpu_bundle ;;
  gpu-check) gpu_check ;;
  bench)
    setup
    exec bash tests/Research.Benchmarks/run.sh "$@"
    ;;
  *)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
