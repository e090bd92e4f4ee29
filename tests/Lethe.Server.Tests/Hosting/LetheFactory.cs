using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lethe.Server.Tests.Hosting;

/// The real server (Program, so LetheServer.BuildAsync) on the database and settings a test class chose.
/// Settings go in through UseSetting: WebApplicationFactory applies them to the host configuration
/// when WebApplication.CreateBuilder runs, before LetheServer reads them to register services.
/// <paramref name="probeBodies"/>: installs <see cref="BodyReadProbe"/>, for the tests that hold a request open over a socket.
public sealed class LetheFactory(IReadOnlyDictionary<string, string?> settings, LogSink logs, bool probeBodies = false) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Production: what an operator runs, so problem details and logs are what they would see.
        builder.UseEnvironment("Production");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        // Password hashing is slow on purpose (100,000 PBKDF2 rounds); the tests hash hundreds of
        // passwords on two cores. Same algorithm and format, fewer rounds: test time only.
        builder.ConfigureTestServices(services => services.Configure<PasswordHasherOptions>(o => o.IterationCount = 1_000));
        if (probeBodies)
        {
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter, BodyReadProbe>());
        }
        builder.ConfigureLogging(logging => logging
            .AddProvider(new CaptureLoggerProvider(logs))
            // A rule for this provider alone: every category at every level, whatever the other rules say.
            .AddFilter<CaptureLoggerProvider>(null, LogLevel.Trace));
    }
}
