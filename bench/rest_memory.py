#!/usr/bin/env python3
"""Memory at rest against its floor (issue 14), run by bench/rest-memory.sh [ROUNDS].

Question: how much of the Lethe server's resident memory at rest is Lethe's, and how much the framework pieces it is
built on (ARCHITECTURE.md: ASP.NET Core, EF Core on SQLite, ASP.NET Core Identity, a server-rendered portal) take
before any Lethe code runs? Lethe.RestFloor is those pieces alone, in three steps (aspnet, ef, portal). Each server is
started fresh on an existing data folder (a first, unmeasured start makes the databases), asked /health until it
answers, left 3 s (as bench/lab-export.sh does) and its VmRSS read. Servers run interleaved, ROUNDS rounds.
"""
import os
import signal
import statistics
import subprocess
import sys
import time

from serverproc import REST_SECONDS, rss_mib, wait_healthy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
WORK = os.environ.get("LETHE_BENCH_DIR", os.path.join(ROOT, "artifacts", "rest-memory-bench"))
PORT = int(os.environ.get("LETHE_BENCH_PORT", "58241"))
SERVER = os.path.join(ROOT, "src", "Lethe.Server", "bin", "Release", "net10.0")
FLOOR = os.path.join(ROOT, "bench", "Lethe.RestFloor", "bin", "Release", "net10.0")
SUBJECTS = {
    "aspnet": (FLOOR, ["./Lethe.RestFloor", "aspnet"]),
    "ef": (FLOOR, ["./Lethe.RestFloor", "ef"]),
    "portal": (FLOOR, ["./Lethe.RestFloor", "portal"]),
    "lethe": (SERVER, ["./Lethe.Server"]),
}
# LETHE_BENCH_COMPARE=DIR adds another build of Lethe.Server (its bin folder, e.g. of an earlier commit) to every round.
COMPARE = os.environ.get("LETHE_BENCH_COMPARE")
if COMPARE:
    SUBJECTS["compare"] = (COMPARE, ["./Lethe.Server"])
LABELS = {
    "aspnet": "floor: ASP.NET Core minimal API",
    "ef": "floor: + EF Core SQLite + Identity API",
    "portal": "floor: + Razor Pages",
    "lethe": "Lethe.Server (SQLite, file system)",
    "compare": f"Lethe.Server of {COMPARE}",
}


def rest(name):
    folder, command = SUBJECTS[name]
    data = os.path.join(WORK, name)
    if name == "compare":
        data = os.path.join(WORK, "lethe")  # the same database as this build's, already migrated by it
    os.makedirs(data, exist_ok=True)
    env = dict(os.environ, Lethe__DataDirectory=data, ASPNETCORE_URLS=f"http://127.0.0.1:{PORT}",
               Logging__LogLevel__Default="Warning")
    for knob in ("DOTNET_GCHeapHardLimit", "DOTNET_gcServer", "DOTNET_TieredCompilation", "DOTNET_TieredPGO"):
        env.pop(knob, None)
    with open(os.path.join(WORK, f"{name}.log"), "a") as log:
        proc = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log)
        try:
            wait_healthy(proc, PORT, name, log.name, timeout=120)
            time.sleep(REST_SECONDS)
            return rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main():
    os.makedirs(WORK, exist_ok=True)
    for name in SUBJECTS:  # makes the databases; not measured
        rest(name)
    figures = {name: [] for name in SUBJECTS}
    for round_ in range(1, ROUNDS + 1):
        for name in SUBJECTS:
            figures[name].append(rest(name))
        print(f"round {round_}: " + ", ".join(f"{n} {figures[n][-1]:.0f}" for n in SUBJECTS), flush=True)
    floor = statistics.median(figures["portal"])
    print()
    print("| RSS at rest (MiB) | median | range | to the portal floor |")
    print("|---|---:|---|---:|")
    for name in SUBJECTS:
        m = statistics.median(figures[name])
        print(f"| {LABELS[name]} | {m:.0f} | {min(figures[name]):.0f}-{max(figures[name]):.0f} | {m / floor:.2f}x |")
    lethe = statistics.median(figures["lethe"])
    print()
    print(f"Lethe's own share: {lethe - floor:.0f} MiB; the goal of 120 MiB is {120 - floor:+.0f} MiB from the floor.")


if __name__ == "__main__":
    main()
