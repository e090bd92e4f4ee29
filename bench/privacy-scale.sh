#!/usr/bin/env bash
# Issue 10's benchmark (docs/benchmarks.md): one subject with 1,000 records, found, exported and erased by the privacy
# engine on a platform of about 1,000,000 rows and on one of about 10,000,000 rows (the scale data of every module, on
# PostgreSQL), with the same rows fetched by hand-written SQL in the same run as the baseline.
#   bench/privacy-scale.sh [SMALL_USERS] [LARGE_USERS] [ROUNDS]   (defaults 11000 110000 7: ~1M and ~10M rows)
# PostgreSQL is scripts/start-postgres's (started if it is not running); the two databases are kept for re-runs.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/start-postgres)"
dotnet build bench/Lethe.Benchmarks -c Release -v q -nologo
nproc; lscpu | grep -E 'Model name|^CPU\(s\)'; free -h | head -2; uptime
dotnet bench/Lethe.Benchmarks/bin/Release/net10.0/Lethe.Benchmarks.dll privacy-scale "$LETHE_TEST_POSTGRES" "${1:-11000}" "${2:-110000}" "${3:-7}"
