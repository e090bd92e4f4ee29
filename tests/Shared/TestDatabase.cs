using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lethe.Testing;

/// A database of its own for one test: a fresh SQLite file, or a fresh PostgreSQL database created
/// on the server scripts/test started and dropped afterwards. Migrated with the real migrations.
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string? _sqliteFile;
    private readonly string? _postgresName;

    private TestDatabase(DatabaseProvider provider, string connectionString, string? sqliteFile, string? postgresName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _sqliteFile = sqliteFile;
        _postgresName = postgresName;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }

    /// For [Theory] data: every test that touches the database runs on both providers.
    public static TheoryData<DatabaseProvider> Providers => new(DatabaseProvider.Sqlite, DatabaseProvider.Postgres);

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider, CancellationToken ct = default)
    {
        TestDatabase db;
        if (provider == DatabaseProvider.Sqlite)
        {
            var file = Path.Combine(Path.GetTempPath(), $"lethe-test-{Guid.NewGuid():N}.db");
            db = new TestDatabase(provider, $"Data Source={file};Pooling=False", file, null);
        }
        else
        {
            var admin = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
            var name = $"lethe_test_{Guid.NewGuid():N}";
            await using (var connection = new NpgsqlConnection(admin.ConnectionString))
            {
                await connection.OpenAsync(ct);
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await create.ExecuteNonQueryAsync(ct);
            }
            admin.Database = name;
            db = new TestDatabase(provider, admin.ConnectionString, null, name);
        }
        await using var context = db.CreateContext();
        await context.Database.MigrateAsync(ct);
        return db;
    }

    public DbContextOptions<LetheDb> Options
    {
        get
        {
            var builder = new DbContextOptionsBuilder<LetheDb>();
            if (Provider == DatabaseProvider.Sqlite)
            {
                builder.UseLetheSqlite(ConnectionString);
            }
            else
            {
                builder.UseLethePostgres(ConnectionString);
            }
            return builder.Options;
        }
    }

    public LetheDb CreateContext() => new(Options);

    public async ValueTask DisposeAsync()
    {
        if (_sqliteFile is not null)
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(_sqliteFile + suffix);
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
