#!/usr/bin/env python3
"""The lab usage export benchmark (issue 14), run by bench/lab-export.sh N [ROUNDS].

Hypothesis: with the database formatting the seed's columns (PostgreSQL COPY ... (FORMAT csv), a SQLite statement
stepped in place) and the bytes streamed into the blob store, an export of N VMs + N disks takes within 1.1x of
`psql \\copy (SELECT ...) TO ... CSV HEADER` and within 1.3x of `sqlite3 -csv -header` running the same SELECT.
Baselines and Lethe run interleaved, ROUNDS rounds, a fresh server each round: the first export of the process
is "cold" (JIT included), a second one in the same process "warm". Both files are checked line by line against
the baseline's. Lethe's time is the job's own (StartedAt to CompletedAt, as the server records it); the baseline's
is the psql/sqlite3 process, connection included.
"""
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from serverproc import REST_SECONDS, rss_mib, wait_healthy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
PROVIDERS = sys.argv[3].split(",") if len(sys.argv) > 3 else ["postgres", "sqlite"]
WORK = os.environ.get("LETHE_BENCH_DIR", os.path.join(ROOT, "artifacts", "lab-export-bench"))
SERVER = os.path.join(ROOT, "src", "Lethe.Server", "bin", "Release", "net10.0")
BENCH_DLL = os.path.join(ROOT, "bench", "Lethe.Benchmarks", "bin", "Release", "net10.0", "Lethe.Benchmarks.dll")
PG_ADMIN = os.environ["LETHE_TEST_POSTGRES"]
PG_DB = "lethe_lab_export_bench"
PORT = int(os.environ.get("LETHE_BENCH_PORT", "58231"))

SUB = "5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f"
LAB = "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"
GROUP = "labs-rg"
LABNAME = "bench-lab"
EPOCH_TICKS = 621355968000000000


def pg_params(conn):
    return dict(kv.split("=", 1) for kv in conn.split(";") if kv)


PGP = pg_params(PG_ADMIN)
PG_ENV = dict(os.environ, PGHOST=PGP.get("Host", "127.0.0.1"), PGPORT=PGP.get("Port", "5432"), PGUSER=PGP.get("Username", "postgres"))
PG_CONN = f"Host={PGP.get('Host')};Port={PGP.get('Port')};Username={PGP.get('Username')};Database={PG_DB}"


def psql(sql, db=PG_DB, capture=False):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-At", "-c", sql], env=PG_ENV, check=True,
                       capture_output=capture, text=True)
    return r.stdout.strip() if capture else None


def sqlite(sql, capture=False):
    r = subprocess.run(["sqlite3", os.path.join(WORK, "sqlite-data", "lethe.db")], input=sql, check=True, capture_output=capture, text=True)
    return r.stdout.strip() if capture else None


def stored(dt):
    """A DateTimeOffset (UTC) as EF's binary converter stores it in SQLite."""
    ticks = EPOCH_TICKS + int((dt - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(microseconds=1)) * 10
    return (ticks // 1000) << 11


def from_stored(v):
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=((v >> 11) * 1000 - EPOCH_TICKS) // 10)


class Server:
    def __init__(self, provider):
        self.provider = provider
        self.data = os.path.join(WORK, f"{provider}-data")
        env = dict(os.environ, Lethe__DataDirectory=self.data, ASPNETCORE_URLS=f"http://127.0.0.1:{PORT}",
                   Logging__LogLevel__Default="Warning")
        env.pop("DOTNET_GCHeapHardLimit", None)
        if provider == "postgres":
            env.update(Lethe__Database__Provider="Postgres", Lethe__Database__ConnectionString=PG_CONN, Lethe__Database__MigrateOnStart="true")
        self.log = open(os.path.join(WORK, f"server-{provider}.log"), "a")
        self.proc = subprocess.Popen([os.path.join(SERVER, "Lethe.Server")], cwd=SERVER, env=env, stdout=self.log, stderr=self.log)
        wait_healthy(self.proc, PORT, f"the {provider} server", self.log.name)
        time.sleep(REST_SECONDS)
        self.rest = self.rss()

    def rss(self):
        return rss_mib(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def export(server, tag):
    """Queues an export job as the API would, waits for it; returns (seconds by the job's own times, peak RSS MiB, folder)."""
    job = uuid.uuid4()
    now = datetime.now(timezone.utc)
    folder = f"{LABNAME}/{LAB}/bench-{tag}-{job.hex[:8]}/full/"
    payload = '{"labId":"%s","start":null,"end":"%s","folder":"%s","sasUri":null}' % (LAB, now.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), folder)
    if server.provider == "postgres":
        psql(f"""INSERT INTO "Jobs" ("Id","Attempt","CreatedAt","Kind","MaxAttempts","Payload","Progress","RunAfter","State")
                 VALUES ('{job}',0,now(),'labs.export-usage',1,'{payload}',0,now() - interval '1 second','Pending')""")
    else:
        sqlite(f"""INSERT INTO "Jobs" ("Id","Attempt","CreatedAt","Kind","MaxAttempts","Payload","Progress","RunAfter","State")
                   VALUES ('{str(job).upper()}',0,{stored(now)},'labs.export-usage',1,'{payload}',0,{stored(now - timedelta(seconds=1))},'Pending');""")
    peak = [server.rss()]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], server.rss())
            except (OSError, AttributeError):
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        while True:
            time.sleep(0.25)
            if server.provider == "postgres":
                row = psql(f"""SELECT "State", extract(epoch from "CompletedAt" - "StartedAt"), coalesce("Error", '') FROM "Jobs" WHERE "Id" = '{job}'""", capture=True)
                state, seconds, error = row.split("|", 2)
            else:
                row = sqlite(f"""SELECT "State", "StartedAt", "CompletedAt", coalesce("Error", '') FROM "Jobs" WHERE "Id" = '{str(job).upper()}';""", capture=True)
                state, started, completed, error = row.split("|", 3)
                seconds = (from_stored(int(completed)) - from_stored(int(started))).total_seconds() if completed else None
            if state in ("Failed", "Cancelled"):
                raise RuntimeError(f"the export job {state}: {error}")
            if state == "Succeeded":
                return float(seconds), peak[0], folder
            if server.proc.poll() is not None:
                raise RuntimeError("the server died during the export")
    finally:
        done.set()
        sampler.join()


def blob(server, folder, name):
    """The content of a blob of the file-system store: the file past its header (LETHEBLB, version, ticks, type)."""
    for dirpath, _, files in os.walk(server.data):
        for f in files:
            path = os.path.join(dirpath, f)
            if f in (name, "=" + name) and "/live/" in path and folder.rstrip("/").split("/")[-2] in path:
                with open(path, "rb") as fh:
                    head = fh.read(19)
                    assert head[:8] == b"LETHEBLB"
                    fh.read(int.from_bytes(head[17:19], "little"))
                    return fh.read()
    raise RuntimeError(f"no blob {folder}{name} under {server.data}")


def sql_of(provider, file):
    end = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return subprocess.run(["dotnet", BENCH_DLL, "lab-export-sql", provider, file, SUB, GROUP, LABNAME, LAB, end],
                          check=True, capture_output=True, text=True).stdout.strip()


def baseline(provider):
    out = os.path.join(WORK, "baseline")
    os.makedirs(out, exist_ok=True)
    vm, disks = os.path.join(out, f"{provider}-vm.csv"), os.path.join(out, f"{provider}-disks.csv")
    if provider == "postgres":
        script = f"\\copy ({sql_of('postgres', 'vm')}) TO '{vm}' CSV HEADER\n\\copy ({sql_of('postgres', 'disks')}) TO '{disks}' CSV HEADER\n"
        cmd, stdin = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG_DB], script
    else:
        script = f".headers on\n.mode csv\n.once {vm}\n{sql_of('sqlite', 'vm')}\n.once {disks}\n{sql_of('sqlite', 'disks')}\n"
        cmd, stdin = ["sqlite3", os.path.join(WORK, "sqlite-data", "lethe.db")], script
    start = time.perf_counter()
    subprocess.run(cmd, input=stdin, env=PG_ENV, check=True, text=True)
    return time.perf_counter() - start, vm, disks


def verify(provider, server, folder, vm_path, disks_path):
    for name, path in (("virtualmachines.csv", vm_path), ("disks.csv", disks_path)):
        ours = blob(server, folder, name)
        with open(path, "rb") as fh:
            theirs = fh.read()
        if provider == "postgres":
            # psql writes LF line ends; the export's files have CRLF (RFC 4180, as they always had).
            theirs = theirs.replace(b"\n", b"\r\n")
        a, b = ours.split(b"\r\n"), theirs.split(b"\r\n")
        if len(a) != len(b):
            raise RuntimeError(f"{provider} {name}: {len(a)} lines, the baseline {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                raise RuntimeError(f"{provider} {name} line {i + 1} differs:\n  lethe:    {x[:200]!r}\n  baseline: {y[:200]!r}")
        if len(a) != N + 2:
            raise RuntimeError(f"{provider} {name}: {len(a) - 2} rows, expected {N}")


def existing_rows(provider):
    try:
        if provider == "postgres":
            return int(psql('SELECT count(*) FROM "LabVirtualMachines"', capture=True))
        return int(sqlite('SELECT count(*) FROM "LabVirtualMachines";', capture=True))
    except (subprocess.CalledProcessError, ValueError):
        return -1


def setup(provider):
    if os.environ.get("LETHE_BENCH_REUSE") == "1" and existing_rows(provider) == N:
        print(f"{provider}: reusing the {N} VMs and {N} disks made by an earlier run (LETHE_BENCH_REUSE=1)", flush=True)
        return
    data = os.path.join(WORK, f"{provider}-data")
    shutil.rmtree(data, ignore_errors=True)
    if provider == "postgres":
        psql(f'DROP DATABASE IF EXISTS "{PG_DB}"', db="postgres")
        psql(f'CREATE DATABASE "{PG_DB}"', db="postgres")
    Server(provider).stop()  # applies the migrations
    t = time.perf_counter()
    if provider == "postgres":
        psql(f"""
        INSERT INTO "Subscriptions" ("Id","DisplayName","CreatedAt") VALUES ('{SUB}','bench',now());
        INSERT INTO "ResourceGroups" ("SubscriptionId","NameKey","Name","Location","CreatedAt") VALUES ('{SUB}','{GROUP}','{GROUP}','westeurope',now());
        INSERT INTO "Labs" ("Id","SubscriptionId","ResourceGroup","ResourceGroupKey","Name","NameKey","Location","CreatedAt","ScopeKey","TimeZoneId","AnonymizeAfterDays","ShutdownNoticeMinutes")
          VALUES ('{LAB}','{SUB}','{GROUP}','{GROUP}','{LABNAME}','{LABNAME}','westeurope',now(),
                  '/subscriptions/{SUB}/resourcegroups/{GROUP}/providers/microsoft.devtestlab/labs/{LABNAME}','UTC',30,30);
        INSERT INTO "LabVirtualMachines" ("Id","LabId","Name","NameKey","CreatedAt","DeletedAt","OwnerObjectId","PricingTier","Claimable","ExpirationDate",
                                          "ImagePublisher","ImageOffer","ImageSku","ImageOsType","ImageVersion","CustomImageId","Running")
          SELECT md5('vm' || i)::uuid, '{LAB}', 'vm-' || lpad(i::text, 7, '0'), 'vm-' || lpad(i::text, 7, '0'),
                 c, CASE WHEN i % 3 = 0 THEN c + interval '10 days' END,
                 CASE WHEN i % 10 <> 0 THEN md5('owner' || (i % 5000))::uuid END,
                 CASE WHEN i % 50 = 0 THEN 'Standard, "promo"' ELSE 'Standard_B2s' END, i % 10 = 0,
                 CASE WHEN i % 7 = 0 THEN c + interval '30 days' END,
                 CASE WHEN i % 13 <> 0 THEN 'Canonical' END, CASE WHEN i % 13 <> 0 THEN 'ubuntu-24_04-lts' END,
                 CASE WHEN i % 13 <> 0 THEN 'server' END, CASE WHEN i % 13 <> 0 THEN 'Linux' END, CASE WHEN i % 13 <> 0 THEN 'latest' END,
                 CASE WHEN i % 13 = 0 THEN '/subscriptions/{SUB}/resourceGroups/img/providers/Microsoft.DevTestLab/labs/golden/customimages/base' END,
                 true
          FROM generate_series(1, {N}) i, LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00' + i * interval '20 seconds' + (i % 1000) * interval '1 millisecond' AS c) t;
        INSERT INTO "LabDisks" ("Id","LabId","Name","NameKey","CreatedAt","DeletedAt","OwnerObjectId","SizeGb","DiskType","BlobName","LeasedByVmId")
          SELECT md5('disk' || i)::uuid, '{LAB}', 'disk-' || lpad(i::text, 7, '0'), 'disk-' || lpad(i::text, 7, '0'),
                 c, CASE WHEN i % 4 = 0 THEN c + interval '5 days' END, md5('owner' || (i % 5000))::uuid,
                 128, i % 2, 'disks/disk-' || lpad(i::text, 7, '0') || '.vhd', CASE WHEN i % 2 = 0 THEN md5('vm' || i)::uuid END
          FROM generate_series(1, {N}) i, LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00' + i * interval '20 seconds' + (i % 777) * interval '1 millisecond' AS c) t;
        """)
        psql("VACUUM ANALYZE")
    else:
        c = "((62135596800 + 1735689600 + i * 20) * 10000000 + (i % 1000) * 10000) / 1000 << 11"
        cd = "((62135596800 + 1735689600 + i * 20) * 10000000 + (i % 777) * 10000) / 1000 << 11"
        day = f"(86400 * 10000000 / 1000 << 11)"
        sqlite(f"""
        PRAGMA journal_mode=WAL;
        BEGIN;
        INSERT INTO "Subscriptions" ("Id","DisplayName","CreatedAt") VALUES ('{SUB.upper()}','bench',0);
        INSERT INTO "ResourceGroups" ("SubscriptionId","NameKey","Name","Location","CreatedAt") VALUES ('{SUB.upper()}','{GROUP}','{GROUP}','westeurope',0);
        INSERT INTO "Labs" ("Id","SubscriptionId","ResourceGroup","ResourceGroupKey","Name","NameKey","Location","CreatedAt","ScopeKey","TimeZoneId","AnonymizeAfterDays","ShutdownNoticeMinutes")
          VALUES ('{LAB.upper()}','{SUB.upper()}','{GROUP}','{GROUP}','{LABNAME}','{LABNAME}','westeurope',0,
                  '/subscriptions/{SUB}/resourcegroups/{GROUP}/providers/microsoft.devtestlab/labs/{LABNAME}','UTC',30,30);
        INSERT INTO "LabVirtualMachines" ("Id","LabId","Name","NameKey","CreatedAt","DeletedAt","OwnerObjectId","PricingTier","Claimable","ExpirationDate",
                                          "ImagePublisher","ImageOffer","ImageSku","ImageOsType","ImageVersion","CustomImageId","Running")
          WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {N})
          SELECT printf('%08X-0000-4000-8000-%012X', i, i), '{LAB.upper()}', printf('vm-%07d', i), printf('vm-%07d', i),
                 {c}, CASE WHEN i % 3 = 0 THEN ({c}) + 10 * {day} END,
                 CASE WHEN i % 10 <> 0 THEN printf('%08X-0002-4000-8000-000000000000', i % 5000) END,
                 CASE WHEN i % 50 = 0 THEN 'Standard, "promo"' ELSE 'Standard_B2s' END, i % 10 = 0,
                 CASE WHEN i % 7 = 0 THEN ({c}) + 30 * {day} END,
                 CASE WHEN i % 13 <> 0 THEN 'Canonical' END, CASE WHEN i % 13 <> 0 THEN 'ubuntu-24_04-lts' END,
                 CASE WHEN i % 13 <> 0 THEN 'server' END, CASE WHEN i % 13 <> 0 THEN 'Linux' END, CASE WHEN i % 13 <> 0 THEN 'latest' END,
                 CASE WHEN i % 13 = 0 THEN '/subscriptions/{SUB}/resourceGroups/img/providers/Microsoft.DevTestLab/labs/golden/customimages/base' END,
                 1
          FROM s;
        INSERT INTO "LabDisks" ("Id","LabId","Name","NameKey","CreatedAt","DeletedAt","OwnerObjectId","SizeGb","DiskType","BlobName","LeasedByVmId")
          WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {N})
          SELECT printf('%08X-0001-4000-8000-%012X', i, i), '{LAB.upper()}', printf('disk-%07d', i), printf('disk-%07d', i),
                 {cd}, CASE WHEN i % 4 = 0 THEN ({cd}) + 5 * {day} END, printf('%08X-0002-4000-8000-000000000000', i % 5000),
                 128, i % 2, printf('disks/disk-%07d.vhd', i), CASE WHEN i % 2 = 0 THEN printf('%08X-0000-4000-8000-%012X', i, i) END
          FROM s;
        COMMIT;
        ANALYZE;
        """)
    print(f"{provider}: {N} VMs and {N} disks made in {time.perf_counter() - t:.1f}s", flush=True)


def table(results, rounds):
    print()
    print(f"{N:,} VMs + {N:,} disks, {rounds} interleaved round(s), fresh server each round; load: {open('/proc/loadavg').read().strip()}")
    print("| provider | baseline median | Lethe cold median (ratio, range) | Lethe warm median (ratio, range) | RSS at rest | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for p, res in results.items():
        if not res["base"] or not res["cold"]:
            continue
        n = min(len(res["base"]), len(res["cold"]))
        b = statistics.median(res["base"][:n])
        cold = [c / x for c, x in zip(res["cold"], res["base"])]
        warm = [w / x for w, x in zip(res["warm"], res["base"])]
        name = "PostgreSQL vs `psql \\copy`" if p == "postgres" else "SQLite vs `sqlite3 -csv`"
        print(f"| {name} | {b:.2f}s | {statistics.median(res['cold']):.2f}s ({statistics.median(cold):.2f}x, {min(cold):.2f}-{max(cold):.2f}) "
              f"| {statistics.median(res['warm']):.2f}s ({statistics.median(warm):.2f}x, {min(warm):.2f}-{max(warm):.2f}) "
              f"| {min(res['rest']):.0f}-{max(res['rest']):.0f} MiB | {min(res['peak']):.0f}-{max(res['peak']):.0f} MiB |", flush=True)


def main():
    os.makedirs(WORK, exist_ok=True)
    results = {p: {"base": [], "cold": [], "warm": [], "rest": [], "peak": []} for p in PROVIDERS}
    for p in PROVIDERS:
        setup(p)
    for r in range(ROUNDS):
        for p in PROVIDERS:
            res = results[p]
            # Alternate which goes first, so that neither always meets a warmer page cache.
            order = ["base", "lethe"] if r % 2 == 0 else ["lethe", "base"]
            for what in order:
                if what == "base":
                    seconds, vm, disks = baseline(p)
                    res["base"].append(seconds)
                else:
                    server = Server(p)
                    try:
                        res["rest"].append(server.rest)
                        cold, peak1, folder = export(server, f"r{r}c")
                        warm, peak2, _ = export(server, f"r{r}w")
                        res["cold"].append(cold)
                        res["warm"].append(warm)
                        res["peak"].append(max(peak1, peak2))
                    finally:
                        server.stop()
            verify(p, server, folder, vm, disks)
            print(f"round {r + 1} {p}: baseline {res['base'][-1]:.2f}s, lethe cold {res['cold'][-1]:.2f}s warm {res['warm'][-1]:.2f}s, "
                  f"rest {res['rest'][-1]:.0f} MiB, peak {res['peak'][-1]:.0f} MiB; CSVs identical", flush=True)
            for dirpath, dirs, _ in os.walk(server.data):
                for d in dirs:
                    if d == "labresourceusage":
                        shutil.rmtree(os.path.join(dirpath, d), ignore_errors=True)
        # After every round, so that a run cut short still has its table.
        table(results, r + 1)


if __name__ == "__main__":
    main()
