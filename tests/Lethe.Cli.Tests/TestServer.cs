using Lethe.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Cli.Tests;

/// A real Lethe server in this process, on a free loopback port, with the demo accounts: what the
/// CLI talks to. One per test class; tests that change data make their own subscriptions.
public sealed class TestServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"lethe-cli-test-{Guid.NewGuid():N}");

    /// The server's URL, e.g. http://127.0.0.1:41234/
    public string Url { get; private set; } = "";

    /// The server's services, to look at what a command left in the database.
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server has not started.");

    public async ValueTask InitializeAsync()
    {
        _app = await StartAsync(DataDirectory, demo: true, TestContext.Current.CancellationToken);
        Url = AddressOf(_app);
    }

    public static async Task<WebApplication> StartAsync(string dataDirectory, bool demo, CancellationToken ct)
    {
        var app = await LetheServer.BuildAsync(
            [
                "--urls=http://127.0.0.1:0",
                $"--Lethe:DataDirectory={dataDirectory}",
                $"--Lethe:Demo={demo}",
                "--Logging:LogLevel:Default=Warning",
            ],
            null,
            ct);
        await app.StartAsync(ct);
        return app;
    }

    public static string AddressOf(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return addresses.First().TrimEnd('/') + "/";
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
