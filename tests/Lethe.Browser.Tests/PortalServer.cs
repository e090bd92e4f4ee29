using Lethe.Server;
using Lethe.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Lethe.Browser.Tests;

/// The real server on a free loopback port, on a data folder of its own with the demo accounts, and Debian's
/// chromium driven by Playwright. One per test class; each test opens its own browser context (its own cookies).
public sealed class PortalServer : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"lethe-browser-{Guid.NewGuid():N}");
    private WebApplication? _app;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Uri BaseAddress { get; private set; } = null!;

    /// Everything the server logged, at every level: the tests check that no email address is among it.
    public LogCapture Logs { get; } = new();

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server has not started.");

    public async ValueTask InitializeAsync()
    {
        // Read first: a machine without chromium fails here with how to get it, rather than skipping.
        var chromium = TestEnvironment.Chromium;
        _app = await LetheServer.BuildAsync(
            ["--urls", "http://127.0.0.1:0", "--Lethe:DataDirectory", _dataDirectory, "--Lethe:Demo", "true", "--Logging:LogLevel:Default", "Information"],
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(Logs);
            });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        BaseAddress = new Uri(address);

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// A fresh browser session: no cookies from other tests.
    public async Task<IBrowserContext> NewContextAsync()
    {
        var context = await (_browser ?? throw new InvalidOperationException("The browser has not started.")).NewContextAsync(new()
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new() { Width = 1280, Height = 800 },
            Locale = "en-US",
        });
        // Generous: a sign-in hashes a password on purpose, and CI's two cores also run another test project.
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(30_000);
        return context;
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        // Pooled SQLite connections would keep the database file open.
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
