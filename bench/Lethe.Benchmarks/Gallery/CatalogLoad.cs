using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Lethe.Gallery;
using Lethe.Identity;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Lethe.Benchmarks.Gallery;

/// Load benchmark of the Catalog API (docs/benchmarks.md, "Catalog API under load").
/// Hypothesis: `GET /catalog/entities?$filter=author/id eq '...'` served from the in-memory catalog, with one
/// shared version read per batch of concurrent requests, reaches at least half the requests/s of a bare
/// minimal-API endpoint that returns a fixed JSON body of the same size, with p99 under ten times the bare p99.
/// Baseline: that bare endpoint, measured with the same wrk settings in the same run.
/// Data: 10,000 authors with 10 entities each (100,000 entities, one in five unlisted).
internal static partial class CatalogLoad
{
    private const int Authors = 10_000;
    private const int EntitiesPerAuthor = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var provider = args.FirstOrDefault() ?? "sqlite";
        var duration = args.Length > 1 ? args[1] : "20s";
        var repo = FindRepository();
        var work = Path.Combine(Path.GetTempPath(), $"lethe-gallery-load-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        string? pgDatabase = null;
        string connectionString;
        if (provider == "postgres")
        {
            var admin = Environment.GetEnvironmentVariable("LETHE_TEST_POSTGRES") ?? throw new InvalidOperationException("Set LETHE_TEST_POSTGRES (source /tmp/lethe-env.sh).");
            pgDatabase = $"lethe_gallery_load_{Guid.NewGuid():N}";
            await using (var connection = new NpgsqlConnection(admin))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{pgDatabase}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
            connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = pgDatabase }.ConnectionString;
        }
        else
        {
            connectionString = $"Data Source={Path.Combine(work, "lethe.db")}";
        }
        try
        {
            var authorIds = await SeedAsync(provider, connectionString);
            var authorsFile = Path.Combine(work, "authors.txt");
            await File.WriteAllLinesAsync(authorsFile, authorIds);
            var script = Path.Combine(work, "authors.lua");
            await File.WriteAllTextAsync(script, LuaScript(authorsFile, "/catalog/entities"));
            var liveScript = Path.Combine(work, "live.lua");
            await File.WriteAllTextAsync(liveScript, LuaScript(authorsFile, "/health/live"));

            using var server = StartServer(repo, provider, connectionString, work, port: 5391);
            await WaitForAsync("http://127.0.0.1:5391/health");
            using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:5391/") };
            // Loads the catalog into memory and gives the size of a typical answer.
            var sample = await http.GetByteArrayAsync(new Uri($"catalog/entities?$filter=author/id eq '{authorIds[0]}'", UriKind.Relative));
            Console.WriteLine($"Sample answer: {sample.Length} bytes, {Regex.Count(Encoding.UTF8.GetString(sample), "\"kind\"")} entities.");
            // Warm the filter cache and the JIT for every author, as a long-running server would be.
            await WarmAsync(http, authorIds);

            await using var bare = await StartBareAsync(sample, port: 5392);
            // The machine is shared and noisy: five interleaved rounds, each pair back to back, medians reported, and the
            // ratio of each catalog run to the bare run just before it (a paired measure, less moved by the noise).
            // Both use the same wrk script (a random author's filter per request); the bare endpoint ignores the query.
            var bareRuns = new List<WrkResult>();
            var catalogRuns = new List<WrkResult>();
            var liveRuns = new List<WrkResult>();
            for (var round = 0; round < Rounds; round++)
            {
                bareRuns.Add(await WrkAsync("http://127.0.0.1:5392", script, duration));
                catalogRuns.Add(await WrkAsync("http://127.0.0.1:5391", script, duration));
                // The Lethe server's own floor: its whole middleware pipeline and a tiny fixed answer, no catalog.
                liveRuns.Add(await WrkAsync("http://127.0.0.1:5391", liveScript, duration));
            }
            var liveResult = Median(liveRuns);
            var bareResult = Median(bareRuns);
            var catalogResult = Median(catalogRuns);

            Console.WriteLine();
            Console.WriteLine($"| {provider} | requests/s (median of 5) | p50 | p99 | runs (requests/s) |");
            Console.WriteLine("|---|---:|---:|---:|---|");
            Console.WriteLine($"| bare endpoint | {bareResult.Rps:N0} | {bareResult.P50} | {bareResult.P99} | {string.Join(", ", bareRuns.Select(r => r.Rps.ToString("N0", CultureInfo.InvariantCulture)))} |");
            Console.WriteLine($"| catalog, author filter | {catalogResult.Rps:N0} | {catalogResult.P50} | {catalogResult.P99} | {string.Join(", ", catalogRuns.Select(r => r.Rps.ToString("N0", CultureInfo.InvariantCulture)))} |");
            Console.WriteLine($"| Lethe server, /health/live | {liveResult.Rps:N0} | {liveResult.P50} | {liveResult.P99} | {string.Join(", ", liveRuns.Select(r => r.Rps.ToString("N0", CultureInfo.InvariantCulture)))} |");
            var paired = bareRuns.Zip(catalogRuns, (b, c) => c.Rps / b.Rps).ToList();
            var pairedP99 = bareRuns.Zip(catalogRuns, (b, c) => c.P99Ms / b.P99Ms).ToList();
            Console.WriteLine($"Ratio requests/s: {catalogResult.Rps / bareResult.Rps:0.00} of the medians (goal >= 0.5); p99 ratio: {catalogResult.P99Ms / bareResult.P99Ms:0.0} (goal < 10).");
            Console.WriteLine($"Round by round (catalog / the bare run before it): requests/s {string.Join(", ", paired.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}, median {MedianOf(paired):0.00}; p99 {string.Join(", ", pairedP99.Select(r => r.ToString("0.0", CultureInfo.InvariantCulture)))}, median {MedianOf(pairedP99):0.0}.");
            server.Kill(entireProcessTree: true);
            return 0;
        }
        finally
        {
            if (pgDatabase is not null)
            {
                NpgsqlConnection.ClearAllPools();
                await using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable("LETHE_TEST_POSTGRES"));
                await connection.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{pgDatabase}\" WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
            }
            Directory.Delete(work, recursive: true);
        }
    }

    /// 10,000 authors and 100,000 entities, written with EF in batches (no change detection), then the
    /// catalog version moved past them as a write would.
    private static async Task<List<string>> SeedAsync(string provider, string connectionString)
    {
        var services = new ServiceCollection();
        if (provider == "postgres")
        {
            services.AddLethePostgres(connectionString);
        }
        else
        {
            services.AddLetheSqlite(connectionString);
        }
        await using var root = services.BuildServiceProvider();
        var started = Stopwatch.GetTimestamp();
        var ids = new List<string>(Authors);
        await using (var scope = root.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            await db.Database.MigrateAsync();
            var secret = await DeploymentSecret.GetOrCreateAsync(db, DeploymentSecret.AuthorIdKey, TimeProvider.System, default);
            for (var i = 0; i < Authors; i++)
            {
                ids.Add(AuthorId.For($"bench-{i:D5}@lethe.test", secret));
            }
        }
        var random = new Random(20261124);
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var kinds = Enum.GetValues<EntityKind>();
        for (var start = 0; start < Authors; start += 1000)
        {
            await using var scope = root.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = start; i < start + 1000; i++)
            {
                var created = epoch.AddMinutes(-random.Next(1_000_000));
                var score = 0.0;
                var entities = new List<GalleryEntity>(EntitiesPerAuthor);
                for (var e = 0; e < EntitiesPerAuthor; e++)
                {
                    var kind = kinds[random.Next(kinds.Length)];
                    var visibility = random.Next(5) == 0 ? Visibility.Unlisted : Visibility.Public;
                    var at = created.AddHours(random.Next(10_000));
                    entities.Add(new GalleryEntity
                    {
                        Id = Guid.NewGuid(), AuthorId = ids[i], Kind = kind, Name = $"{kind} number {e} of author {i}",
                        Description = "A benchmark item with a description of a realistic length, a sentence or two about what it does.",
                        Tags = ["benchmark", $"tag{random.Next(50)}"], Visibility = visibility, CreatedAt = at, UpdatedAt = at,
                    });
                }
                score = ContributionScore.Of(entities.Select(x => (x.Kind, x.Visibility, x.Tags.Count, x.Description.Length)));
                db.GalleryAuthors.Add(new GalleryAuthor
                {
                    Id = ids[i], UserId = Guid.NewGuid(), Email = $"bench-{i:D5}@lethe.test", Name = $"Bench Author {i}", Slug = $"Bench-Author-{i}",
                    TenantId = "14b2744cf8d6418c87ffddc3f3127242", CommunityId = "9502630827244d60a1214f250e3bbca7", CreatedAt = created, UpdatedAt = created,
                    ContributedAt = created, ScoredAt = created, ContributionScore = score, EntitiesCount = entities.Count(x => x.Visibility == Visibility.Public), ETag = Guid.NewGuid(),
                });
                db.GalleryEntities.AddRange(entities);
            }
            await db.SaveChangesAsync();
        }
        await using (var scope = root.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            await db.GalleryCatalogVersions.ExecuteUpdateAsync(s => s.SetProperty(v => v.Value, v => v.Value + 1));
        }
        Console.WriteLine($"Seeded {Authors:N0} authors and {Authors * EntitiesPerAuthor:N0} entities on {provider} in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s.");
        return ids;
    }

    private static Process StartServer(string repo, string provider, string connectionString, string work, int port)
    {
        var dll = Path.Combine(repo, "src/Lethe.Server/bin/Release/net10.0/Lethe.Server.dll");
        var info = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Lethe__DataDirectory"] = work;
        info.Environment["Lethe__Database__Provider"] = provider == "postgres" ? "Postgres" : "Sqlite";
        info.Environment["Lethe__Database__ConnectionString"] = connectionString;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info) ?? throw new InvalidOperationException("The server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("server: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForAsync(string url)
    {
        using var http = new HttpClient();
        for (var attempt = 0; attempt < 120; attempt++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url))).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{url} did not answer.");
    }

    private static async Task WarmAsync(HttpClient http, List<string> authorIds)
        => await Parallel.ForEachAsync(authorIds, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
        {
            using var response = await http.GetAsync(new Uri($"catalog/entities?$filter=author/id eq '{id}'", UriKind.Relative), ct);
            response.EnsureSuccessStatusCode();
        });

    /// The baseline: a minimal API with one endpoint returning fixed JSON bytes of the catalog's answer size.
    private static async Task<WebApplication> StartBareAsync(byte[] body, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/catalog/entities", () => Results.Bytes(body, "application/json; charset=utf-8"));
        await app.StartAsync();
        return app;
    }

    private sealed record WrkResult(double Rps, string P50, string P99, double P99Ms);

    private static WrkResult Median(List<WrkResult> runs)
    {
        var byRps = runs.OrderBy(r => r.Rps).ToList();
        var middle = byRps[byRps.Count / 2];
        var p99s = runs.OrderBy(r => r.P99Ms).ToList();
        var p50s = runs.OrderBy(r => Milliseconds(r.P50)).ToList();
        return new WrkResult(middle.Rps, p50s[p50s.Count / 2].P50, p99s[p99s.Count / 2].P99, p99s[p99s.Count / 2].P99Ms);
    }

    private const int Rounds = 5;

    private static double MedianOf(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static async Task<WrkResult> WrkAsync(string url, string? script, string duration)
    {
        var arguments = new List<string> { "-t2", "-c64", $"-d{duration}", "--latency" };
        if (script is not null)
        {
            arguments.AddRange(["-s", script]);
        }
        arguments.Add(url);
        var info = new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start: apt-get install -y wrk.");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Console.WriteLine($"wrk {string.Join(' ', arguments)}");
        Console.WriteLine(output);
        var rps = double.Parse(RpsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p50 = Percentile(output, "50%");
        var p99 = Percentile(output, "99%");
        return new WrkResult(rps, p50, p99, Milliseconds(p99));
    }

    private static string Percentile(string output, string label)
        => Regex.Match(output, $@"^\s*{Regex.Escape(label)}\s+(\S+)", RegexOptions.Multiline).Groups[1].Value;

    private static double Milliseconds(string value)
    {
        var match = Regex.Match(value, @"^([\d.]+)(us|ms|s)$");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => number / 1000, "s" => number * 1000, _ => number };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RpsLine();

    private static string LuaScript(string authorsFile, string path) => $$"""
        local ids = {}
        for line in io.lines("{{authorsFile}}") do ids[#ids + 1] = line end
        math.randomseed(os.time())
        request = function()
          local id = ids[math.random(#ids)]
          return wrk.format("GET", "{{path}}?$filter=author/id%20eq%20'" .. id .. "'")
        end
        """;

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lethe.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Run from within the Lethe repository.");
    }
}
