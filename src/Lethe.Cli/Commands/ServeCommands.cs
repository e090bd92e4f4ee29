using System.CommandLine;
using System.Runtime.CompilerServices;
using Lethe.Demo;
using Lethe.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lethe.Cli.Commands;

/// `lethe serve`: the server in this process, on the embedded defaults (SQLite and the file system
/// under ./.data, loopback on port 5080) unless told otherwise.
internal static class ServeCommands
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var database = new DatabaseOptionSet();
        var urls = new Option<string?>("--urls") { Description = $"Where to listen, ';'-separated [default: $ASPNETCORE_URLS, else {DefaultUrls}]", HelpName = "URLS" };
        var demo = new Option<bool>("--demo") { Description = "Create the demo accounts and data set in an empty database (README: Demo accounts)" };
        var adminEmail = new Option<string?>("--admin-email") { Description = "At first start, create this operator account, Owner of everything [default: $LETHE_ADMIN_EMAIL]", HelpName = "EMAIL" };
        var adminPassword = new Option<string?>("--admin-password") { Description = "The operator's password [default: $LETHE_ADMIN_PASSWORD, which is safer: a command line is visible to every user of the machine]", HelpName = "PASSWORD" };
        var command = database.AddTo(new Command("serve", "Run the Lethe server: API, portal, health checks and workers"))
            .With(urls, demo, adminEmail, adminPassword);
        // Any other setting as ASP.NET Core's command line takes it: `--Lethe:Smtp:Host=mail.example.test` or
        // `--Lethe:Smtp:Host mail.example.test`. A word that is not a configuration key is still an error.
        command.TreatUnmatchedTokensAsErrors = false;
        command.Handle(terminal, options, async (run, ct) =>
        {
            // The options become configuration, so they override appsettings and Lethe__ variables as command lines do.
            var configuration = new List<string>();
            void Set(string key, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    configuration.Add($"--{key}={value}");
                }
            }
            Set("urls", run.Value(urls));
            Set("Lethe:DataDirectory", database.DataDirectory(run));
            Set("Lethe:Database:Provider", run.Value(database.Provider)?.ToString());
            Set("Lethe:Database:ConnectionString", run.Value(database.ConnectionString));
            Set("Lethe:AdminEmail", run.Value(adminEmail) ?? terminal.Variable("LETHE_ADMIN_EMAIL"));
            Set("Lethe:AdminPassword", run.Value(adminPassword) ?? terminal.Variable("LETHE_ADMIN_PASSWORD"));
            if (run.Value(demo))
            {
                Set("Lethe:Demo", "true");
            }
            // After the options, so that a setting given both ways is the explicit one.
            configuration.AddRange(ConfigurationArguments(run.Parse.UnmatchedTokens));

            var started = new StrongBox<bool>();
            await using var app = await LetheServer.BuildAsync([.. configuration], builder => Defaults(builder, started), ct);
            await app.StartAsync(ct);
            started.Value = true;
            await WriteBannerAsync(run, app);
            await app.WaitForShutdownAsync(ct);
            await run.WriteLineAsync("Lethe stopped.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// The words after the options that set configuration keys, normalized to `--Key=Value`. A key names a
    /// section (`Lethe:Smtp:Host`, `Logging:LogLevel:Default`, `Kestrel:Limits:MaxRequestBodySize`), so that a
    /// mistyped option (`--demoo`) is reported instead of silently becoming a setting.
    internal static List<string> ConfigurationArguments(IReadOnlyList<string> tokens)
    {
        var arguments = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var body = token.StartsWith("--", StringComparison.Ordinal) ? token[2..] : null;
            var equals = body?.IndexOf('=', StringComparison.Ordinal) ?? -1;
            var key = equals >= 0 ? body![..equals] : body;
            if (string.IsNullOrEmpty(key) || !key.Contains(':', StringComparison.Ordinal) || key.StartsWith(':') || key.EndsWith(':') || key.Any(char.IsWhiteSpace))
            {
                throw CliException.Usage(
                    $"Unrecognized command or argument '{(token.Length > 80 ? token[..80] + "…" : token)}'.",
                    "Settings are given as --Section:Key=value (for example --Lethe:Smtp:Host=mail.example.test); run 'lethe serve --help' for the options.");
            }
            if (equals >= 0)
            {
                arguments.Add(token);
            }
            else if (i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                arguments.Add($"--{key}={tokens[++i]}");
            }
            else
            {
                throw CliException.Usage($"The setting --{key} has no value.", $"Give it as --{key}=value.");
            }
        }
        return arguments;
    }

    /// What `lethe serve` does unless configured otherwise: listen on loopback only, and keep the
    /// console to what an operator reads (EF Core would log every SQL statement at Information).
    private static void Defaults(WebApplicationBuilder builder, StrongBox<bool> started)
    {
        // A failed start (a port in use) is reported by `lethe serve` as one line; the host would log it
        // again with a stack trace. Once started, the host's reports (a failed background service) are logged.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", level => started.Value && level >= LogLevel.Information);
        // First in the list, so that every other source (appsettings, environment, the options) overrides it.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
                // The API's exception handler logs a failed request once, with its trace ID; EF would log it again.
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database"] = "None",
                // The banner says where Lethe listens and how to stop it.
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            },
        });
        if (string.IsNullOrWhiteSpace(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }
    }

    private static async Task WriteBannerAsync(Invocation run, WebApplication app)
    {
        var first = app.Urls.FirstOrDefault() ?? DefaultUrls;
        var data = Path.GetFullPath(app.Configuration["Lethe:DataDirectory"] is { Length: > 0 } d ? d : new DataOptions().DataDirectory);
        var provider = Enum.TryParse<DatabaseProvider>(app.Configuration["Lethe:Database:Provider"], ignoreCase: true, out var p) && p == DatabaseProvider.Postgres ? "PostgreSQL" : "SQLite";
        await run.WriteLineAsync($"Lethe is listening on {string.Join(", ", app.Urls)}. Press Ctrl+C to stop.");
        run.Write(Invocation.Details(
            ("Portal", $"{first}/"),
            ("API reference", $"{first}/reference"),
            ("Health", $"{first}/health"),
            ("Data", $"{data} ({provider})")));
        if (app.Configuration.GetValue<bool>("Lethe:Demo"))
        {
            var server = first == DefaultUrls ? "" : $" --server {first}";
            await run.WriteLineAsync("");
            await run.WriteLineAsync($"Demo accounts, all with the password {DemoAccounts.Password}:");
            var table = Invocation.Table("Email", "Name", "Purpose");
            foreach (var account in DemoAccounts.All)
            {
                Invocation.AddRow(table, account.Email, account.DisplayName, account.Purpose);
            }
            run.Write(table);
            await run.WriteLineAsync($"Try: lethe login{server} --email {DemoAccounts.WorkspaceOwner.Email}");
        }
    }
}
