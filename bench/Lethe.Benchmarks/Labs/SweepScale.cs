using System.Diagnostics;
using System.Globalization;
using Lethe.Demo;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lethe.Benchmarks.Labs;

/// Issue 14's sweep benchmark. Hypothesis: the auto-shutdown sweep and cost accrual page through a lab, so a lab of
/// 1,000,000 VMs with schedules is swept with the memory of a lab of 10,000: peak managed heap and peak RSS within
/// 1.2× (time grows with the lab). Baseline: the 10,000-VM lab, in the same run. Usage:
/// `-- lab-sweeps sqlite|"Host=...;Username=..." [small] [large]`. Each lab is swept in a fresh process (so one's
/// heap and RSS never carry into the other's figures), on its own database written in bulk (the scale data's path):
/// one lab (UTC, daily shutdown at 23:00 with 30 minutes' notice) of N running VMs, one in 1,000 shutting down at
/// 18:50 on its own schedule. At 18:40 the sweep notices those (and pages through every VM), cost accrual adds the
/// day's row of every VM, and at 18:55 the sweep shuts the noticed ones down.
public static class SweepScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1)
        {
            await Console.Error.WriteLineAsync("usage: lab-sweeps sqlite|<postgres connection string> [small VMs] [large VMs]");
            return 2;
        }
        var provider = args[0];
        var sizes = new[] { args.Length > 1 ? args[1] : "10000", args.Length > 2 ? args[2] : "1000000" };
        var figures = new List<string[]>();
        foreach (var size in sizes)
        {
            var line = await ChildAsync(provider, size);
            if (line is null)
            {
                return 1;
            }
            figures.Add(line);
        }
        Console.WriteLine($"{(provider == "sqlite" ? "SQLite" : "PostgreSQL")}, {PeakMemory.Cpu()}, {Environment.ProcessorCount} cores");
        Console.WriteLine("| VMs | phase | time | rows written | peak managed heap (after GC) | allocated | peak RSS |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
        foreach (var f in figures)
        {
            for (var p = 1; p + 5 < f.Length; p += 6)
            {
                Console.WriteLine($"| {long.Parse(f[0], CultureInfo.InvariantCulture):N0} | {f[p].Replace('_', ' ')} | {f[p + 1]} s | {f[p + 2]} | {PeakMemory.Mb(long.Parse(f[p + 3], CultureInfo.InvariantCulture))} | {PeakMemory.Mb(long.Parse(f[p + 4], CultureInfo.InvariantCulture))} | {PeakMemory.Mb(long.Parse(f[p + 5], CultureInfo.InvariantCulture))} |");
            }
        }
        // The ratio of the two labs' worst phases: the sweeps' memory against the lab's size.
        static (long Heap, long Rss) Worst(string[] f)
        {
            long heap = 0, rss = 0;
            for (var p = 1; p + 5 < f.Length; p += 6)
            {
                heap = Math.Max(heap, long.Parse(f[p + 3], CultureInfo.InvariantCulture));
                rss = Math.Max(rss, long.Parse(f[p + 5], CultureInfo.InvariantCulture));
            }
            return (heap, rss);
        }
        var (smallHeap, smallRss) = Worst(figures[0]);
        var (largeHeap, largeRss) = Worst(figures[1]);
        Console.WriteLine(FormattableString.Invariant(
            $"large / small: peak managed heap {(double)largeHeap / smallHeap:F2}, peak RSS {(double)largeRss / smallRss:F2} (goal at most 1.2 each)"));
        return 0;
    }

    /// One lab: a fresh database written by one child process, swept by another (so that neither the writing's memory
    /// nor the other lab's carries into the sweeps' figures), then dropped. Returns the sweeping child's figures.
    private static async Task<string[]?> ChildAsync(string provider, string vms)
    {
        var (database, drop) = await DatabaseAsync(provider, vms);
        try
        {
            return await ChildAsync("lab-sweeps-write", provider, database, vms) is not null
                ? await ChildAsync("lab-sweeps-one", provider, database, vms)
                : null;
        }
        finally
        {
            await drop();
        }
    }

    /// Runs this program with <paramref name="command"/>; its last line is the figures, space-separated.
    private static async Task<string[]?> ChildAsync(string command, string provider, string database, string vms)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SweepScale).Assembly.Location);
        }
        foreach (var arg in new[] { command, provider, database, vms })
        {
            start.ArgumentList.Add(arg);
        }
        using var child = Process.Start(start)!;
        string? last = null;
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            await Console.Error.WriteLineAsync(line);
            last = line;
        }
        await child.WaitForExitAsync();
        return child.ExitCode == 0 && last is not null ? last.Split(' ') : null;
    }

    private static readonly DateTimeOffset NoticeTime = new(2026, 11, 24, 18, 40, 0, TimeSpan.Zero);

    /// The writing child: <c>args[2]</c> VMs into the database <c>args[1]</c>.
    public static async Task<int> WriteAsync(string[] args)
    {
        var options = ContextOptions(args[0], args[1]);
        var vms = int.Parse(args[2], CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        await using (var db = new LetheDb(options))
        {
            db.Database.SetCommandTimeout(TimeSpan.FromMinutes(10));
            await LabAsync(db, args[0], vms);
        }
        Console.WriteLine($"{vms:N0} VMs written in {watch.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    /// The sweeping child: the lab of <c>args[2]</c> VMs in the database <c>args[1]</c>, swept and measured.
    public static async Task<int> RunOneAsync(string[] args)
    {
        var options = ContextOptions(args[0], args[1]);
        var vms = int.Parse(args[2], CultureInfo.InvariantCulture);
        var figures = new List<string> { vms.ToString(CultureInfo.InvariantCulture) };
        var shutdownAt = NoticeTime.AddMinutes(15);
        figures.AddRange(await PhaseAsync("auto-shutdown, notices", options, async db =>
        {
            var counts = await AutoShutdownOf(db, NoticeTime).RunAsync(NoticeTime, CancellationToken.None);
            return counts.Notices;
        }));
        // LETHE_BENCH_NO_ACCRUAL=1: the auto-shutdown phases alone (cost accrual takes minutes on a million VMs).
        if (Environment.GetEnvironmentVariable("LETHE_BENCH_NO_ACCRUAL") != "1")
        {
            figures.AddRange(await PhaseAsync("cost accrual", options, async db =>
            {
                var counts = await new AccrueLabCosts(db, new FixedClock(NoticeTime), NullLogger<AccrueLabCosts>.Instance).RunAsync(NoticeTime, CancellationToken.None);
                return counts.Accrued;
            }));
        }
        figures.AddRange(await PhaseAsync("auto-shutdown, shutdowns", options, async db =>
        {
            var counts = await AutoShutdownOf(db, shutdownAt).RunAsync(shutdownAt, CancellationToken.None);
            return counts.ShutDown;
        }));
        Console.WriteLine(string.Join(' ', figures));
        return 0;
    }

    private static DbContextOptions<LetheDb> ContextOptions(string provider, string database)
    {
        var builder = new DbContextOptionsBuilder<LetheDb>();
        if (provider == "sqlite")
        {
            builder.UseLetheSqlite(database);
        }
        else
        {
            builder.UseLethePostgres(database);
        }
        return builder.Options;
    }

    private static AutoShutdown AutoShutdownOf(LetheDb db, DateTimeOffset now)
        => new(db, new FixedClock(now), new LabMail(Options.Create(new SmtpOptions())), NullLogger<AutoShutdown>.Instance);

    /// One sweep on a fresh context, with the process's RSS and the managed heap left after each GC sampled every 5 ms.
    private static async Task<string[]> PhaseAsync(string name, DbContextOptions<LetheDb> options, Func<LetheDb, Task<int>> sweep)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long peakHeap = GC.GetTotalMemory(forceFullCollection: false), peakRss = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var self = Process.GetCurrentProcess();
            while (!stop.IsCancellationRequested)
            {
                self.Refresh();
                peakRss = Math.Max(peakRss, self.WorkingSet64);
                var gc = GC.GetGCMemoryInfo(GCKind.Any);
                peakHeap = Math.Max(peakHeap, gc.HeapSizeBytes - gc.FragmentedBytes);
                await Task.Delay(5, CancellationToken.None);
            }
        });
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        int rows;
        await using (var db = new LetheDb(options))
        {
            db.Database.SetCommandTimeout(TimeSpan.FromMinutes(10));
            // One connection for the sweep, as the server's pool gives it.
            await db.Database.OpenConnectionAsync();
            rows = await sweep(db);
        }
        watch.Stop();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        await stop.CancelAsync();
        await sampler;
        Console.WriteLine(FormattableString.Invariant($"{name}: {watch.Elapsed.TotalSeconds:F1} s, {rows:N0} rows, peak heap {PeakMemory.Mb(peakHeap)}, peak RSS {PeakMemory.Mb(peakRss)}"));
        return [name.Replace(' ', '_'), watch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture), rows.ToString(CultureInfo.InvariantCulture),
            peakHeap.ToString(CultureInfo.InvariantCulture), allocated.ToString(CultureInfo.InvariantCulture), peakRss.ToString(CultureInfo.InvariantCulture)];
    }

    /// A fresh migrated database (its connection string), and how to drop it.
    private static async Task<(string Database, Func<Task> Drop)> DatabaseAsync(string provider, string vms)
    {
        string database;
        Func<Task> drop;
        if (provider == "sqlite")
        {
            var file = Path.Combine(Path.GetTempPath(), $"lethe-sweeps-{vms}-{Guid.NewGuid():N}.db");
            database = $"Data Source={file}";
            drop = () =>
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(file + suffix);
                }
                return Task.CompletedTask;
            };
        }
        else
        {
            var name = $"lethe_sweeps_{vms}_{Guid.NewGuid():N}";
            var admin = new NpgsqlConnectionStringBuilder(provider) { Database = "postgres" }.ConnectionString;
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
            database = new NpgsqlConnectionStringBuilder(provider) { Database = name }.ConnectionString;
            drop = async () =>
            {
                NpgsqlConnection.ClearAllPools();
                await using var connection = new NpgsqlConnection(admin);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync();
            };
        }
        await using (var db = new LetheDb(ContextOptions(provider, database)))
        {
            await db.Database.MigrateAsync();
        }
        return (database, drop);
    }

    private static async Task LabAsync(LetheDb db, string provider, int vms)
    {
        var subscription = Guid.NewGuid();
        var created = NoticeTime.AddDays(-100);
        var lab = new Lab
        {
            Id = Guid.NewGuid(), SubscriptionId = subscription, ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "large", NameKey = "large",
            ScopeKey = "x", Location = "westeurope", TimeZoneId = "UTC", ShutdownTime = new TimeOnly(23, 0), ShutdownNoticeMinutes = 30, CreatedAt = created,
        };
        db.Subscriptions.Add(new Subscription { Id = subscription, DisplayName = "s", CreatedAt = created });
        db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = subscription, Name = "rg", NameKey = "rg", Location = "westeurope", CreatedAt = created });
        db.Labs.Add(lab);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        await ScaleData.WriteRowsAsync(new ScaleTarget(db, null, provider == "sqlite" ? null : new PostgresBulkCopy()), Vms(lab, vms), 20_000, CancellationToken.None);
        await db.Database.ExecuteSqlRawAsync("ANALYZE");
    }

    private static IEnumerable<object> Vms(Lab lab, int vms)
    {
        for (var i = 1; i <= vms; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"vm-{i:D7}");
            yield return new LabVirtualMachine
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = name, NameKey = name, CreatedAt = lab.CreatedAt, PricingTier = "Standard_B2s",
                OwnerObjectId = Guid.NewGuid(), Running = true, ShutdownTime = i % 1000 == 0 ? new TimeOnly(18, 50) : null,
            };
        }
    }
}

/// The sweeps' clock, stopped at the phase's time.
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
