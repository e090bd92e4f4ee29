using System.Diagnostics;
using System.Globalization;
using Lethe.Demo;
using Lethe.Identity;
using Lethe.Labs;
using Lethe.Privacy;
using Lethe.Storage.Postgres;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Lethe.Benchmarks.Privacy;

/// Issue 10's benchmark: one subject with 1,000 records on a platform of N rows vs 10×N rows (the scale data of every
/// module, on PostgreSQL). Hypothesis: find + export + erase of one person costs the same whatever the platform's
/// size (every find is an index seek), within 1.2×; baseline: the same rows fetched by hand-written SQL in the same
/// run. Usage: `-- privacy-scale "Host=...;Username=..." smallUsers largeUsers rounds`; it creates (and keeps, for
/// re-runs) two databases `lethe_bench_small` and `lethe_bench_large`, seeded in bulk with `ScaleData`.
public static class SubjectAtScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3)
        {
            await Console.Error.WriteLineAsync("usage: privacy-scale <postgres connection string> <small users> <large users> [rounds]");
            return 2;
        }
        var server = args[0];
        var small = int.Parse(args[1], CultureInfo.InvariantCulture);
        var large = int.Parse(args[2], CultureInfo.InvariantCulture);
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 7;
        var platforms = new List<(string Name, string Connection, long Rows)>();
        foreach (var (name, users) in new[] { ("lethe_bench_small", small), ("lethe_bench_large", large) })
        {
            var connection = await PrepareAsync(server, name, users);
            platforms.Add((name, connection, await RowsAsync(connection)));
        }
        Console.WriteLine($"| platform | rows | engine find+export+erase (median ms) | hand-written SQL fetch (median ms) | engine / SQL |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var medians = new List<double>();
        var results = platforms.ToDictionary(p => p.Name, _ => (Engine: new List<double>(), Sql: new List<double>()));
        // Interleaved: each round measures both platforms, so drift on a shared machine hits both alike.
        for (var round = 0; round < rounds + 1; round++)
        {
            foreach (var platform in platforms)
            {
                var (engine, sql) = await MeasureAsync(platform.Connection);
                if (round > 0)
                {
                    // Round 0 warms up the JIT and the database's caches.
                    results[platform.Name].Engine.Add(engine);
                    results[platform.Name].Sql.Add(sql);
                }
            }
        }
        foreach (var platform in platforms)
        {
            var (engine, sql) = results[platform.Name];
            var e = Median(engine);
            var s = Median(sql);
            medians.Add(e);
            Console.WriteLine(FormattableString.Invariant($"| {platform.Name} | {platform.Rows:N0} | {e:F1} | {s:F1} | {e / s:F2} |"));
        }
        Console.WriteLine(FormattableString.Invariant($"large / small (engine, ratio of medians): {medians[1] / medians[0]:F2} (goal at most 1.2)"));
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task<string> PrepareAsync(string server, string name, int users)
    {
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = "postgres" };
        await using (var admin = new NpgsqlConnection(builder.ConnectionString))
        {
            await admin.OpenAsync();
            await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{name}'", admin);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
                await create.ExecuteNonQueryAsync();
            }
        }
        builder.Database = name;
        await using var db = Context(builder.ConnectionString);
        await db.Database.MigrateAsync();
        var watch = Stopwatch.StartNew();
        var result = await ScaleData.RunAsync(new ScaleTarget(db, null, PostgresStorage.BulkCopy), new ScaleOptions { Users = users, HistoryDocuments = 0 }, null, CancellationToken.None);
        Console.WriteLine(FormattableString.Invariant($"{name}: {result.UsersCreated:N0} users added ({result.TotalUsers:N0} in all), {result.Rows:N0} rows in {watch.Elapsed.TotalSeconds:F0} s"));
        await using var analyze = new NpgsqlConnection(builder.ConnectionString);
        await analyze.OpenAsync();
        await using var command = new NpgsqlCommand("ANALYZE", analyze) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
        return builder.ConnectionString;
    }

    private static async Task<long> RowsAsync(string connection)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT sum(n_live_tup)::bigint FROM pg_stat_user_tables", db);
        return (long)(await command.ExecuteScalarAsync() ?? 0L);
    }

    private static LetheDb Context(string connection)
    {
        var options = new DbContextOptionsBuilder<LetheDb>();
        options.UseLethePostgres(connection);
        return new(options.Options);
    }

    /// One round: a fresh subject with 1,000 records, then (timed) keys, export and erasure through the engine, and
    /// (timed) the same rows fetched by hand-written SQL before the erasure.
    private static async Task<(double Engine, double Sql)> MeasureAsync(string connection)
    {
        var subject = Guid.NewGuid();
        var email = $"bench-{subject:N}@lethe.test";
        await using (var db = Context(connection))
        {
            await AddSubjectAsync(db, subject, email);
        }
        var sql = Stopwatch.StartNew();
        var fetched = await FetchByHandAsync(connection, subject, email);
        sql.Stop();
        if (fetched != 1000)
        {
            throw new InvalidOperationException($"The subject has {fetched} records, not 1,000.");
        }

        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddDbContext<LetheDb>(o => o.UseLethePostgres(connection));
        services.AddSingleton<AuthorIds>();
        // The tables and the modules' own sources, as the server has them; the gallery's own source needs the
        // in-memory catalog and the subject has no gallery rows, so its tables get the generic source here.
        var blobRoot = Path.Combine(Path.GetTempPath(), "lethe-privacy-bench-blobs");
        services.AddSingleton<Lethe.Blobs.IBlobStore>(sp => new Lethe.Blobs.FileSystemBlobStore(blobRoot, new Lethe.Blobs.BlobOptions(), TimeProvider.System));
        services.AddSingleton(sp =>
        {
            using var scope = sp.CreateScope();
            var model = scope.ServiceProvider.GetRequiredService<LetheDb>().GetService<Microsoft.EntityFrameworkCore.Metadata.IDesignTimeModel>().Model;
            return PersonalDataMap.Build(model, [WorkspacesPrivacy.HistoryDocuments, LabUsageExportLocation]);
        });
        services.AddSingleton(new PersonalDataSourceFactory(sp => LabsPrivacy.Sources(sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<PersonalDataMap>(), sp.GetRequiredService<Lethe.Blobs.IBlobStore>())));
        services.AddSingleton(new PersonalDataSourceFactory(sp => WorkspacesPrivacy.Sources(sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<PersonalDataMap>(), sp.GetRequiredService<Lethe.Blobs.IBlobStore>())));
        services.AddScoped<PersonalDataSources>();
        await using var provider = services.BuildServiceProvider();
        await using var run = provider.CreateAsyncScope();
        var sources = run.ServiceProvider.GetRequiredService<PersonalDataSources>();
        var engine = Stopwatch.StartNew();
        var keys = await sources.ResolveAsync(SubjectKeys.ForObjectId(subject), CancellationToken.None);
        var exported = 0;
        await foreach (var (source, record) in sources.ExportAsync(keys, CancellationToken.None))
        {
            _ = record.ToJsonString();
            exported += source.Location.Kind == "table" ? 1 : 0;
        }
        foreach (var located in sources.InOrder)
        {
            await located.Source.EraseAsync(keys, new ErasureContext(Pseudonym.New(), DateTimeOffset.UtcNow, AnonymizeNow: true), CancellationToken.None);
        }
        engine.Stop();
        if (exported < 1000)
        {
            throw new InvalidOperationException($"The engine exported {exported} records, not 1,000.");
        }
        return (engine.Elapsed.TotalMilliseconds, sql.Elapsed.TotalMilliseconds);
    }

    private static readonly PersonalBlobLocation LabUsageExportLocation = new(
        "Labs", ExportLabUsage.Container, LabsPrivacy.UsageExportSource.Prefix, PersonalDataCategory.Identifier, SubjectKind.ObjectId,
        ErasureStrategy.RetainThenAnonymize, "Lab usage exports", Sweep: AnonymizeLabPersonalData.JobKind, RetentionDays: 30);

    /// 1,000 records: the account, 499 telemetry events, 250 job runs, 100 VMs with 150 cost records.
    private static async Task AddSubjectAsync(LetheDb db, Guid subject, string email)
    {
        var now = DateTimeOffset.UtcNow;
        db.Users.Add(new LetheUser { Id = subject, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email, NormalizedEmail = email.ToUpperInvariant(), DisplayName = "Bench Subject", CreatedAt = now, SecurityStamp = Guid.NewGuid().ToString("N") });
        for (var i = 0; i < 499; i++)
        {
            db.TelemetryEvents.Add(new TelemetryEvent { Id = Guid.NewGuid(), UserId = subject, Action = "workspaces.GetWorkspace", Resource = "/subscriptions/x", OccurredAt = now.AddMinutes(-i) });
        }
        var workspace = await db.Workspaces.AsNoTracking().OrderBy(w => w.Id).Select(w => w.Id).FirstAsync();
        for (var i = 0; i < 250; i++)
        {
            var job = $"bench_{subject:N}_{i}";
            db.ExperimentRuns.Add(new ExperimentRun { WorkspaceId = workspace, JobId = job, JobIdKey = job, ExperimentName = "bench", SubmittedBy = subject, SubmittedAt = now });
        }
        var lab = await db.Labs.AsNoTracking().OrderBy(l => l.Id).Select(l => l.Id).FirstAsync();
        for (var i = 0; i < 100; i++)
        {
            var vm = Guid.NewGuid();
            db.LabVirtualMachines.Add(new LabVirtualMachine { Id = vm, LabId = lab, Name = $"bench-{i}", NameKey = $"bench-{i}", CreatedAt = now, OwnerObjectId = subject, PricingTier = "Standard_B2s" });
            if (i < 75)
            {
                db.LabCosts.Add(new LabCost { Id = Guid.NewGuid(), LabId = lab, ResourceUId = vm, ResourceName = $"bench-{i}", Date = DateOnly.FromDateTime(now.UtcDateTime), AmountCents = 100, OwnerObjectId = subject });
                db.LabCosts.Add(new LabCost { Id = Guid.NewGuid(), LabId = lab, ResourceUId = vm, ResourceName = $"bench-{i}", Date = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1), AmountCents = 100, OwnerObjectId = subject });
            }
        }
        await db.SaveChangesAsync();
    }

    /// The baseline: the same rows, by the same indexes, fetched with plain SQL and read to the last column.
    private static async Task<int> FetchByHandAsync(string connection, Guid subject, string email)
    {
        await using var db = new NpgsqlConnection(connection);
        await db.OpenAsync();
        var count = 0;
        foreach (var (sql, parameter) in new (string, object)[]
        {
            ("SELECT * FROM \"AspNetUsers\" WHERE \"Id\" = @p", subject),
            ("SELECT * FROM \"AspNetUsers\" WHERE \"NormalizedEmail\" = @p", email.ToUpperInvariant()),
            ("SELECT * FROM \"TelemetryEvents\" WHERE \"UserId\" = @p", subject),
            ("SELECT * FROM \"ExperimentRuns\" WHERE \"SubmittedBy\" = @p", subject),
            ("SELECT * FROM \"LabVirtualMachines\" WHERE \"OwnerObjectId\" = @p", subject),
            ("SELECT * FROM \"LabCosts\" WHERE \"OwnerObjectId\" = @p", subject),
        })
        {
            await using var command = new NpgsqlCommand(sql, db);
            command.Parameters.AddWithValue("p", parameter);
            await using var reader = await command.ExecuteReaderAsync();
            var values = new object[reader.FieldCount];
            while (await reader.ReadAsync())
            {
                reader.GetValues(values);
                count += sql.Contains("NormalizedEmail", StringComparison.Ordinal) ? 0 : 1;
            }
        }
        return count;
    }
}
