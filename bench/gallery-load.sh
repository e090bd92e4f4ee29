#!/usr/bin/env bash
# The Catalog API load benchmark (docs/benchmarks.md): wrk -t2 -c64 against the server in Release, on SQLite
# and PostgreSQL, beside a bare minimal-API endpoint returning JSON of the same size, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { sudo -n true 2>/dev/null && sudo apt-get install -y wrk || apt-get install -y wrk; }
[ -f /tmp/lethe-env.sh ] && source /tmp/lethe-env.sh
dotnet build src/Lethe.Server -c Release -v q -nologo
dotnet build bench/Lethe.Benchmarks -c Release -v q -nologo
nproc; lscpu | head -15
for provider in ${1:-sqlite postgres}; do
  dotnet bench/Lethe.Benchmarks/bin/Release/net10.0/Lethe.Benchmarks.dll gallery-load "$provider" "${2:-20s}"
done
