using System.Net.Http.Headers;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Hosting;

/// A started Lethe server with a database of its own (a fresh SQLite data folder, or a fresh
/// PostgreSQL database), in demo mode so that the demo accounts exist.
public sealed class LetheHost : IAsyncDisposable
{
    public const string Password = "Correct-horse-42";

    private readonly TestDatabaseHandle? _database;
    private readonly string _dataDirectory;
    private readonly SemaphoreSlim _tokenLock = new(1, 1);
    private readonly Dictionary<Guid, string> _demoTokens = [];

    private LetheHost(DatabaseProvider provider, LetheFactory factory, LogSink logs, string dataDirectory, TestDatabaseHandle? database)
    {
        Provider = provider;
        Factory = factory;
        Logs = logs;
        _dataDirectory = dataDirectory;
        _database = database;
    }

    public DatabaseProvider Provider { get; }

    /// The server's data folder (the SQLite file and the file-system blobs).
    public string DataDirectory => _dataDirectory;
    public LetheFactory Factory { get; }

    /// Everything the server logged since it started.
    public LogSink Logs { get; }

    /// Starts a server; <paramref name="settings"/> adds to or overrides the defaults.
    public static Task<LetheHost> StartAsync(DatabaseProvider provider, IReadOnlyDictionary<string, string?>? settings = null, CancellationToken ct = default)
        => StartAsync(provider, settings, kestrel: false, ct);

    /// Starts a server on Kestrel at a loopback port instead of the in-process test server: clients go through a real
    /// socket, and a request's body reaches the server as it is sent (<see cref="BodyReadProbe"/> is installed).
    public static Task<LetheHost> StartOnKestrelAsync(DatabaseProvider provider, CancellationToken ct = default)
        => StartAsync(provider, null, kestrel: true, ct);

    private static async Task<LetheHost> StartAsync(DatabaseProvider provider, IReadOnlyDictionary<string, string?>? settings, bool kestrel, CancellationToken ct)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Lethe:Demo"] = "true",
        };
        TestDatabaseHandle? database = null;
        if (provider == DatabaseProvider.Postgres)
        {
            // A fresh database; the server's MigrateOnStart then finds it current, as after `lethe db migrate`.
            database = await TestDatabaseHandle.CreateAsync(ct);
            all["Lethe:Database:Provider"] = "Postgres";
            all["Lethe:Database:ConnectionString"] = database.ConnectionString;
            all["Lethe:Database:MigrateOnStart"] = "true";
        }
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"lethe-server-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataDirectory);
        all["Lethe:DataDirectory"] = dataDirectory;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }
        var logs = new LogSink();
        var factory = new LetheFactory(all, logs, probeBodies: kestrel);
        if (kestrel)
        {
            factory.UseKestrel(0);
        }
        var host = new LetheHost(provider, factory, logs, dataDirectory, database);
        try
        {
            // Starting blocks on the server's own start (migrations, demo accounts): off the test's thread.
            await Task.Run(() => { factory.StartServer(); }, ct);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// A client with no identity.
    public LetheClient Anonymous() => new(Factory.CreateClient());

    /// A client holding <paramref name="accessToken"/>.
    public LetheClient As(string accessToken) => new(Factory.CreateClient()) { AccessToken = accessToken };

    /// A raw HTTP client, for what the SDK deliberately cannot send (malformed bodies, odd query strings).
    public HttpClient Raw(string? accessToken = null)
    {
        var http = Factory.CreateClient();
        if (accessToken is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return http;
    }

    /// A client signed in as a demo account (tokens are cached per server: hashing a password is slow on purpose).
    public async Task<LetheClient> SignInAsync(DemoAccount account, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        await _tokenLock.WaitAsync(ct);
        try
        {
            if (!_demoTokens.TryGetValue(account.ObjectId, out var token))
            {
                var client = Anonymous();
                token = (await client.LoginAsync(account.Email, DemoAccounts.Password, ct)).AccessToken;
                _demoTokens[account.ObjectId] = token;
            }
            return As(token);
        }
        finally
        {
            _tokenLock.Release();
        }
    }

    /// Registers and signs in a new user that holds no role anywhere.
    public async Task<TestUser> NewUserAsync(CancellationToken ct)
    {
        var email = $"user-{Guid.NewGuid():N}@example.test";
        var client = Anonymous();
        await client.RegisterAsync(email, Password, ct);
        await client.LoginAsync(email, Password, ct);
        var me = await client.GetMeAsync(ct);
        return new TestUser(client, me.ObjectId, email);
    }

    /// Runs <paramref name="work"/> with the server's own LetheDb, in a scope of its own.
    public async Task<T> WithDbAsync<T>(Func<LetheDb, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        await using var scope = Factory.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<LetheDb>());
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        _tokenLock.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the run over it is not.
        }
    }
}

/// A registered, signed-in user.
public sealed record TestUser(LetheClient Client, Guid ObjectId, string Email);

/// Wraps the shared TestDatabase (internal to the test assembly) for the public fixtures.
internal sealed class TestDatabaseHandle : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private TestDatabaseHandle(TestDatabase database) => _database = database;

    public string ConnectionString => _database.ConnectionString;

    public static async Task<TestDatabaseHandle> CreateAsync(CancellationToken ct)
        => new(await TestDatabase.CreateAsync(DatabaseProvider.Postgres, ct));

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}
