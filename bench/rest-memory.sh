#!/usr/bin/env bash
# Memory at rest against its floor (issue 14, docs/benchmarks.md): `bench/rest-memory.sh [ROUNDS]`.
# Starts Lethe.Server and Lethe.RestFloor (ASP.NET Core; + EF Core SQLite and Identity; + Razor Pages) fresh,
# interleaved, ROUNDS rounds (default 5), and prints each one's resident memory at rest and Lethe's share above the floor.
# LETHE_BENCH_COMPARE=DIR adds the Lethe.Server in DIR (a build of another commit) to every round.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Lethe.Server -c Release -v q -nologo
dotnet build bench/Lethe.RestFloor -c Release -v q -nologo
echo "machine: $(nproc) cores; $(lscpu | grep -m1 'Model name' | sed 's/  */ /g'); $(free -h | awk '/Mem:/{print $2" RAM"}'); .NET $(dotnet --list-runtimes | awk '/NETCore.App/{v=$2} END{print v}')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/rest_memory.py "${1:-5}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
