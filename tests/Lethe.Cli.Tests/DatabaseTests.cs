using System.Text.Json;
using Lethe.Demo;
using Lethe.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lethe.Cli.Tests;

/// `lethe db migrate` and `lethe seed`, on a fresh SQLite file and a fresh PostgreSQL database.
public sealed class DatabaseTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Db_migrate_applies_the_migrations_to_an_empty_database_then_says_it_is_up_to_date(DatabaseProvider provider)
    {
        await using var database = await EmptyDatabase.CreateAsync(provider);
        using var user = new CliUser();

        var first = await user.RunAsync(["db", "migrate", .. database.Arguments]);
        var second = await user.RunAsync(["db", "migrate", .. database.Arguments]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches("Applied [0-9]+ migrations? to ", first.Out);
        Assert.Contains("_Foundation", first.Out, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.StartsWith("The database is up to date", second.Out, StringComparison.Ordinal);
        await using var db = database.CreateContext();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Db_migrate_never_prints_the_connection_password()
    {
        await using var database = await EmptyDatabase.CreateAsync(DatabaseProvider.Postgres);
        using var user = new CliUser();
        var withPassword = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Password = "s3cret-in-the-connection-string" }.ConnectionString;

        var result = await user.RunAsync("db", "migrate", "--database-provider", "postgres", "--connection-string", withPassword, "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("s3cret", result.Out + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Db_migrate_reads_the_database_from_the_environment_as_the_server_does()
    {
        await using var database = await EmptyDatabase.CreateAsync(DatabaseProvider.Postgres);
        using var user = new CliUser()
            .With("Lethe__Database__Provider", "Postgres")
            .With("Lethe__Database__ConnectionString", database.ConnectionString);

        var result = await user.RunAsync("db", "migrate");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("PostgreSQL 127.0.0.1", result.Out.Replace("localhost", "127.0.0.1", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_without_a_connection_string_is_a_usage_error()
    {
        using var user = new CliUser();

        var result = await user.RunAsync("db", "migrate", "--database-provider", "postgres");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("Lethe__Database__ConnectionString", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_database_is_a_failure_with_the_reason_and_no_stack_trace()
    {
        using var user = new CliUser();

        var result = await user.RunAsync("db", "migrate", "--database-provider", "postgres", "--connection-string", "Host=127.0.0.1;Port=9;Username=nobody;Timeout=2");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.StartsWith("error: ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Seed_scale_1000_writes_the_users_with_their_roles_in_bulk(DatabaseProvider provider)
    {
        await using var database = await EmptyDatabase.CreateAsync(provider);
        using var user = new CliUser();

        var result = await user.RunAsync(["seed", "--scale", "1000", "-o", "json", .. database.Arguments]);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var report = JsonDocument.Parse(result.Out);
        Assert.Equal(1000, report.RootElement.GetProperty("usersCreated").GetInt32());
        var rows = report.RootElement.GetProperty("rows");
        await using var db = database.CreateContext();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(1000, await db.Users.CountAsync(ct));
        Assert.Equal(1, await db.Subscriptions.CountAsync(ct));
        Assert.Equal(ScaleData.GroupsPerSubscription, await db.ResourceGroups.CountAsync(ct));
        var assignments = await db.RoleAssignments.CountAsync(ct);
        // One to three on groups, as many on workspaces of those groups, one in 200 on the subscription.
        Assert.InRange(assignments, 1000, 6 * 1000 + 10);
        Assert.Equal(1000, rows.GetProperty("AspNetUsers").GetInt64());
        Assert.Equal(assignments, rows.GetProperty("RoleAssignments").GetInt64());
        // Every user holds a role, on a group of the scale subscription.
        Assert.Equal(1000, await db.RoleAssignments.Select(a => a.PrincipalId).Distinct().CountAsync(ct));
        Assert.True(report.RootElement.GetProperty("rowsPerSecond").GetDouble() > 0);
    }

    [Fact]
    public async Task Seed_gives_the_same_rows_on_both_databases()
    {
        await using var sqlite = await EmptyDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var postgres = await EmptyDatabase.CreateAsync(DatabaseProvider.Postgres);
        using var user = new CliUser();

        Assert.Equal(0, (await user.RunAsync(["seed", "--scale", "300", "--seed", "7", .. sqlite.Arguments])).ExitCode);
        Assert.Equal(0, (await user.RunAsync(["seed", "--scale", "300", "--seed", "7", .. postgres.Arguments])).ExitCode);

        Assert.Equal(await SnapshotAsync(sqlite), await SnapshotAsync(postgres));
    }

    [Fact]
    public async Task Seed_again_with_a_larger_scale_adds_the_missing_users_only()
    {
        await using var database = await EmptyDatabase.CreateAsync(DatabaseProvider.Sqlite);
        using var user = new CliUser();

        Assert.Equal(0, (await user.RunAsync(["seed", "--scale", "200", .. database.Arguments])).ExitCode);
        var before = await SnapshotAsync(database);
        var again = await user.RunAsync(["seed", "--scale", "200", .. database.Arguments]);
        var more = await user.RunAsync(["seed", "--scale", "250", "-o", "json", .. database.Arguments]);

        Assert.Contains("holds 200 scale users already", again.Out, StringComparison.Ordinal);
        Assert.True(more.ExitCode == 0, more.ToString());
        Assert.Equal(50, more.Json<JsonElement>().GetProperty("usersCreated").GetInt32());
        await using var db = database.CreateContext();
        Assert.Equal(250, await db.Users.CountAsync(TestContext.Current.CancellationToken));
        // The first 200 are untouched, and user 200 is what a fresh run of 250 would have made.
        await using var fresh = await EmptyDatabase.CreateAsync(DatabaseProvider.Sqlite);
        Assert.Equal(0, (await user.RunAsync(["seed", "--scale", "250", .. fresh.Arguments])).ExitCode);
        Assert.Equal(await SnapshotAsync(fresh), await SnapshotAsync(database));
        Assert.StartsWith(before, await SnapshotAsync(database), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scale_user_signs_in_with_the_scale_password_and_sees_their_roles()
    {
        var data = Path.Combine(Path.GetTempPath(), $"lethe-cli-scale-{Guid.NewGuid():N}");
        using var user = new CliUser();
        try
        {
            Assert.Equal(0, (await user.RunAsync("seed", "--scale", "5", "--data", data)).ExitCode);
            await using var app = await TestServer.StartAsync(data, demo: false, TestContext.Current.CancellationToken);
            user.With("LETHE_SERVER", TestServer.AddressOf(app));

            await user.LoginAsync(ScaleData.EmailFor(3), ScaleData.Password);
            var me = (await user.RunAsync("whoami", "-o", "json")).Json<Client.Me>();

            Assert.Equal(ScaleData.EmailFor(3), me.Email);
            Assert.NotEmpty(me.Roles);
            Assert.All(me.Roles, r => Assert.StartsWith("/subscriptions/", r.Scope, StringComparison.Ordinal));
            Assert.Contains(me.Roles, r => r.Scope.Contains("/resourceGroups/scale-rg-", StringComparison.Ordinal));
            var groups = await user.RunAsync("group", "list", "--subscription", me.Roles[0].Scope.Split('/')[2]);
            Assert.True(groups.ExitCode == 0, groups.ToString());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    /// Users and role assignments, ordered by key: equal snapshots mean equal data.
    private static async Task<string> SnapshotAsync(EmptyDatabase database)
    {
        await using var db = database.CreateContext();
        var ct = TestContext.Current.CancellationToken;
        var users = await db.Users.AsNoTracking().Select(u => new { u.Id, u.Email, u.DisplayName, u.CreatedAt, u.SecurityStamp }).ToListAsync(ct);
        var roles = await db.RoleAssignments.AsNoTracking().Select(a => new { a.Id, a.PrincipalId, a.Scope, a.ScopeKey, a.Role, a.CreatedAt, a.SubscriptionId, a.ResourceGroupKey }).ToListAsync(ct);
        var groups = await db.ResourceGroups.AsNoTracking().Select(g => new { g.SubscriptionId, g.Name, g.Location, g.CreatedAt }).ToListAsync(ct);
        // Ordered by the index (the email), so that a larger run's snapshot starts with a smaller one's.
        return string.Join('\n',
            groups.OrderBy(g => g.SubscriptionId).ThenBy(g => g.Name, StringComparer.Ordinal).Select(g => JsonSerializer.Serialize(g))
                .Concat(users.OrderBy(u => u.Email, StringComparer.Ordinal).SelectMany(u =>
                    roles.Where(r => r.PrincipalId == u.Id).OrderBy(r => r.Id).Select(r => JsonSerializer.Serialize(r)).Prepend(JsonSerializer.Serialize(u)))));
    }
}

/// A database of the test's own with no schema yet, which `lethe db migrate` or `lethe seed` is
/// pointed at with the options a user would type.
internal sealed class EmptyDatabase : IAsyncDisposable
{
    private readonly string? _directory;
    private readonly string? _postgresName;

    private EmptyDatabase(DatabaseProvider provider, string connectionString, string[] arguments, string? directory, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Arguments = arguments;
        _directory = directory;
        _postgresName = postgresName;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }

    /// How the CLI is told about it: --data for SQLite (lethe.db in it), a connection string for PostgreSQL.
    public string[] Arguments { get; }

    public static async Task<EmptyDatabase> CreateAsync(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"lethe-cli-db-{Guid.NewGuid():N}");
            return new(provider, $"Data Source={Path.Combine(directory, "lethe.db")}", ["--data", directory], directory, null);
        }
        var admin = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
        var name = $"lethe_cli_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        admin.Database = name;
        // The data folder too: `seed` writes the file-system blobs (job history documents) there.
        var data = Path.Combine(Path.GetTempPath(), $"lethe-cli-db-{Guid.NewGuid():N}");
        return new(provider, admin.ConnectionString, ["--database-provider", "postgres", "--connection-string", admin.ConnectionString, "--data", data], data, name);
    }

    public LetheDb CreateContext()
    {
        var builder = new DbContextOptionsBuilder<LetheDb>();
        if (Provider == DatabaseProvider.Sqlite)
        {
            Storage.Sqlite.SqliteStorage.UseLetheSqlite(builder, ConnectionString);
        }
        else
        {
            Storage.Postgres.PostgresStorage.UseLethePostgres(builder, ConnectionString);
        }
        return new LetheDb(builder.Options);
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(TestEnvironment.Postgres);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
