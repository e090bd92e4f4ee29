using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace Lethe.Cli.Tests;

/// The real `lethe` executable, started as a shell starts it.
public sealed class ProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Lethe_help_exits_0_and_lists_the_commands()
    {
        var result = await RunAsync(["--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("lethe [command] [options]", result.Out, StringComparison.Ordinal);
        Assert.Contains("serve", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Whoami_without_a_login_exits_3_with_the_hint_and_no_stack_trace()
    {
        var config = Path.Combine(Path.GetTempPath(), $"lethe-cli-config-{Guid.NewGuid():N}");

        var result = await RunAsync(["whoami"], new() { ["LETHE_CONFIG_DIR"] = config, ["LETHE_SERVER"] = "http://127.0.0.1:9" });

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("You are not logged in to http://127.0.0.1:9/", result.Error, StringComparison.Ordinal);
        Assert.Contains("hint: Run `lethe login --server http://127.0.0.1:9/`.", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_answers_health_live_and_stops_cleanly_on_SIGTERM()
    {
        var data = Path.Combine(Path.GetTempPath(), $"lethe-cli-serve-{Guid.NewGuid():N}");
        var url = $"http://127.0.0.1:{LetheCommand.FreePort()}";
        using var process = Start(["serve", "--urls", url, "--data", data], []);
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow + Patience;
            HttpStatusCode? status = null;
            while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri($"{url}/health/live"), TestContext.Current.CancellationToken);
                    status = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250, TestContext.Current.CancellationToken);
                }
            }
            Assert.True(status == HttpStatusCode.OK, $"exited: {process.HasExited}\n{(process.HasExited ? await error : "")}");

            // Without --demo, registration is Closed: nobody on the network makes themself an account.
            using (var register = await http.PostAsync(new Uri($"{url}/identity/register"),
                new StringContent("""{"email":"stranger@example.test","password":"Stranger-pass-2026"}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.Forbidden, register.StatusCode);
                Assert.Equal("application/problem+json", register.Content.Headers.ContentType?.MediaType);
                Assert.Contains("Registration is closed.", await register.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
            }

            // systemd and docker stop a server with SIGTERM: it finishes its requests and exits 0.
            Assert.Equal(0, Kill(process.Id, 15));
            Assert.True(process.WaitForExit(Patience), "lethe serve did not stop on SIGTERM");
            Assert.Equal(0, process.ExitCode);
            var printed = await output;
            Assert.Contains($"Lethe is listening on {url}", printed, StringComparison.Ordinal);
            Assert.Contains($"{url}/reference", printed, StringComparison.Ordinal);
            Assert.Contains("Lethe stopped.", printed, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(data, "lethe.db")));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync(CancellationToken.None);
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_takes_configuration_keys_on_its_command_line_and_refuses_unknown_words()
    {
        var data = Path.Combine(Path.GetTempPath(), $"lethe-cli-serve-{Guid.NewGuid():N}");
        var url = $"http://127.0.0.1:{LetheCommand.FreePort()}";
        // Both forms ASP.NET Core's command line takes: --Key=value and --Key value.
        using var process = Start(["serve", "--urls", url, "--data", data, "--Lethe:Identity:Registration", "Domains", "--Lethe:Identity:Domains=example.org"], []);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow + Patience;
            string? registration = null;
            while (registration is null && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    registration = await http.GetStringAsync(new Uri($"{url}/identity/registration"), TestContext.Current.CancellationToken);
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(250, TestContext.Current.CancellationToken);
                }
            }
            Assert.True(registration is not null, $"exited: {process.HasExited}\n{(process.HasExited ? await error : "")}");
            Assert.Equal("""{"mode":"Domains"}""", registration);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync(CancellationToken.None);
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }

        // A word that is no option and no configuration key is a usage error, not a silent setting.
        var typo = await RunAsync(["serve", "--demoo"]);
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("--demoo", typo.Error, StringComparison.Ordinal);
        Assert.Contains("--Section:Key=value", typo.Error, StringComparison.Ordinal);
        var noValue = await RunAsync(["serve", "--Lethe:Smtp:Host"]);
        Assert.Equal(2, noValue.ExitCode);
        Assert.Contains("has no value", noValue.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_C_exits_130()
    {
        var config = Path.Combine(Path.GetTempPath(), $"lethe-cli-config-{Guid.NewGuid():N}");
        // `login --password-stdin` waits for standard input, which this test never closes.
        using var process = Start(["login", "--email", "someone@lethe.test", "--password-stdin"], new() { ["LETHE_CONFIG_DIR"] = config });
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        try
        {
            // Time for the runtime to start and register its signal handlers.
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            Assert.False(process.HasExited, "lethe login exited before it was interrupted");

            Assert.Equal(0, Kill(process.Id, 2));

            Assert.True(process.WaitForExit(Patience), "lethe did not stop on SIGINT");
            Assert.Equal(130, process.ExitCode);
            Assert.DoesNotContain("   at ", await error, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<CliResult> RunAsync(string[] args, Dictionary<string, string>? environment = null)
    {
        using var process = Start(args, environment ?? []);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Patience);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }

    private static Process Start(string[] args, Dictionary<string, string> environment)
    {
        var info = LetheCommand.StartInfo(args);
        info.RedirectStandardInput = true;
        info.Environment.Remove("LETHE_SERVER");
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("lethe did not start.");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
