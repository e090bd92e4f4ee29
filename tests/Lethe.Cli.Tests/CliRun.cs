using System.Text.Json;

namespace Lethe.Cli.Tests;

public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public T Json<T>() => JsonSerializer.Deserialize<T>(Out, JsonSerializerOptions.Web)
        ?? throw new InvalidOperationException("The CLI printed no JSON.");

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// A user of `lethe` with a home of their own: a config folder for the credentials, a default
/// server, and environment variables no other test sees. Runs the CLI in this process.
public sealed class CliUser : IDisposable
{
    private readonly Dictionary<string, string?> _environment;

    public CliUser(string? server = null)
    {
        ConfigDirectory = Path.Combine(Path.GetTempPath(), $"lethe-cli-config-{Guid.NewGuid():N}");
        _environment = new() { ["LETHE_CONFIG_DIR"] = ConfigDirectory, ["LETHE_SERVER"] = server };
    }

    public string ConfigDirectory { get; }
    public string CredentialsFile => Path.Combine(ConfigDirectory, "credentials.json");

    public CliUser With(string variable, string? value)
    {
        _environment[variable] = value;
        return this;
    }

    public async Task<CliResult> RunAsync(params string[] args) => await RunWithInputAsync(null, args);

    public async Task<CliResult> RunWithInputAsync(string? input, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var reader = new StringReader(input ?? "");
        var code = await Cli.RunAsync(args, output, error, reader, _environment, TestContext.Current.CancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public async Task<CliResult> LoginAsync(string email, string password = Demo.DemoAccounts.Password)
    {
        var result = await RunWithInputAsync(password + "\n", "login", "--email", email, "--password-stdin");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    public void Dispose()
    {
        if (Directory.Exists(ConfigDirectory))
        {
            Directory.Delete(ConfigDirectory, recursive: true);
        }
    }
}
