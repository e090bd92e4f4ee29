using BenchmarkDotNet.Attributes;
using Lethe.Resources;
using Lethe.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Benchmarks;

/// Hypothesis (ARCHITECTURE.md, "Scale"): an access check costs the same whatever the size of the
/// platform, because it is one index seek on (PrincipalId, ScopeKey). Baseline: the same check on a
/// database with 1,000 role assignments; measured: on one with 1,000,000. Expected ratio ≈ 1.
[MemoryDiagnoser]
public class AccessCheckBenchmarks
{
    private static readonly Guid Subscription = Guid.Parse("11111111-2222-4333-8444-555555555555");
    private static readonly Guid Principal = Guid.Parse("99999999-8888-4777-8666-555555555555");
    private static readonly ResourceId Target = ResourceId.ForResourceGroup(Subscription, "rg-7")
        .Child("Microsoft.DevTestLab", "labs", "lab-1").Child("virtualmachines", "vm-42");

    private string _directory = "";
    private LetheDb _small = null!;
    private LetheDb _large = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _directory = Directory.CreateTempSubdirectory("lethe-bench-").FullName;
        _small = await CreateAsync(Path.Combine(_directory, "small.db"), 1_000);
        _large = await CreateAsync(Path.Combine(_directory, "large.db"), 1_000_000);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _small.DisposeAsync();
        await _large.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "check, 1k assignments")]
    public Task<AccessDecision> Small() => _small.CheckAsync(Principal, Target, Right.Write, CancellationToken.None);

    [Benchmark(Description = "check, 1M assignments")]
    public Task<AccessDecision> Large() => _large.CheckAsync(Principal, Target, Right.Write, CancellationToken.None);

    private static async Task<LetheDb> CreateAsync(string file, int assignments)
    {
        var options = new DbContextOptionsBuilder<LetheDb>();
        options.UseLetheSqlite($"Data Source={file}");
        var db = new LetheDb(options.Options);
        await db.Database.MigrateAsync();
        // Bulk: one prepared INSERT in one transaction; other principals' roles on other groups.
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using (var tx = await connection.BeginTransactionAsync())
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = """INSERT INTO "RoleAssignments" ("Id","Scope","ScopeKey","SubscriptionId","ResourceGroupKey","PrincipalId","Role","CreatedAt") VALUES ($id,$scope,$key,$sub,$rg,$principal,$role,0)""";
            var id = insert.Parameters.Add("$id", SqliteType.Text);
            var scope = insert.Parameters.Add("$scope", SqliteType.Text);
            var key = insert.Parameters.Add("$key", SqliteType.Text);
            insert.Parameters.AddWithValue("$sub", Subscription.ToString().ToUpperInvariant());
            var rg = insert.Parameters.Add("$rg", SqliteType.Text);
            var principal = insert.Parameters.Add("$principal", SqliteType.Text);
            insert.Parameters.AddWithValue("$role", nameof(Role.Reader));
            for (var i = 0; i < assignments; i++)
            {
                var group = ResourceId.ForResourceGroup(Subscription, $"rg-{i % 5000}");
                id.Value = Guid.NewGuid().ToString().ToUpperInvariant();
                scope.Value = group.Value;
                key.Value = group.Key;
                rg.Value = group.ResourceGroup!.ToLowerInvariant();
                principal.Value = Guid.NewGuid().ToString().ToUpperInvariant();
                await insert.ExecuteNonQueryAsync();
            }
            await tx.CommitAsync();
        }
        var rgScope = ResourceId.ForResourceGroup(Subscription, "rg-7");
        db.RoleAssignments.Add(RoleAssignment.Create(rgScope, Principal, Role.Contributor, DateTimeOffset.UnixEpoch));
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        return db;
    }
}
