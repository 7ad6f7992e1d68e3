#!/usr/bin/env bash
# Packs the libraries into a local NuGet feed:  packaging/pack.sh [VERSION] [FEED]
# (defaults 0.1.0 and artifacts/packages). Research.Torch carries the native shim, built for this
# machine's libtorch, under runtimes/linux-x64/native. Run `./run.sh setup` (or a Release build) first.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${1:-0.1.0}"
FEED="$(realpath -m "${2:-artifacts/packages}")"
mkdir -p "$FEED"
for project in Research.Torch Research.Torch.FSharp Research.Data Research.Diffusion Research.Models; do
  dotnet pack "src/$project" -c Release --no-build -nologo -v:quiet -p:PackageVersion="$VERSION" -o "$FEED" >/dev/null
done
echo "packages $VERSION in $FEED:"
ls "$FEED" | grep -F ".$VERSION.nupkg"
