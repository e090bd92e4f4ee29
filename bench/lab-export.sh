#!/usr/bin/env bash
# The lab usage export benchmark (issue 14, docs/benchmarks.md): `bench/lab-export.sh N [ROUNDS] [postgres,sqlite]`.
# Makes its own PostgreSQL database and SQLite file of N VMs and N disks in bulk (generate_series, a recursive
# CTE), then runs `psql \copy` / `sqlite3 -csv` of the export's own SELECT and Lethe's export job interleaved,
# ROUNDS rounds (default 5), a fresh server each round (cold = its first export, warm = its second), checks the
# CSVs line by line against the baseline's and prints the table with ratios, RSS at rest and peak RSS.
# Data and files go to artifacts/lab-export-bench (LETHE_BENCH_DIR); PostgreSQL is scripts/start-postgres's.
# LETHE_BENCH_REUSE=1 keeps the data of an earlier run of the same N instead of making it again.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: bench/lab-export.sh N [ROUNDS] [postgres,sqlite]}
dotnet build src/Lethe.Server -c Release -v q -nologo
dotnet build bench/Lethe.Benchmarks -c Release -v q -nologo
eval "$(scripts/start-postgres)"
echo "machine: $(nproc) cores; $(lscpu | grep -m1 'Model name' | sed 's/  */ /g'); $(free -h | awk '/Mem:/{print $2" RAM"}')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/lab_export.py "$n" "${2:-5}" "${3:-postgres,sqlite}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
