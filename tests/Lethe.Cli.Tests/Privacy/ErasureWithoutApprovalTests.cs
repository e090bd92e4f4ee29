using Lethe.Client;
using Lethe.Demo;
using Lethe.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace Lethe.Cli.Tests.Privacy;

/// A demo server where erasures need no officer (Lethe:Privacy:ErasureApproval=None): `lethe privacy erase` follows
/// the erasure to its end.
public sealed class NoApprovalServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"lethe-cli-test-{Guid.NewGuid():N}");

    public string Url { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _app = await LetheServer.BuildAsync(
            [
                "--urls=http://127.0.0.1:0",
                $"--Lethe:DataDirectory={DataDirectory}",
                "--Lethe:Demo=true",
                "--Lethe:Privacy:ErasureApproval=None",
                "--Logging:LogLevel:Default=Warning",
            ],
            null,
            TestContext.Current.CancellationToken);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        Url = TestServer.AddressOf(_app);
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

public sealed class ErasureWithoutApprovalTests(NoApprovalServer server) : IClassFixture<NoApprovalServer>
{
    [Fact]
    public async Task An_erasure_without_approval_runs_at_once_and_shows_what_was_retained_and_erasing_oneself_ends_the_login()
    {
        using var officer = new CliUser(server.Url);
        await officer.LoginAsync(DemoAccounts.PrivacyOfficer.Email);
        using var person = new CliUser(server.Url);
        await person.LoginAsync(DemoAccounts.LabUser2.Email);

        var forSomeone = await officer.RunAsync("privacy", "erase", "--subject-email", DemoAccounts.LabUser1.Email, "--verification", "Signed letter, ID checked");
        var self = await person.RunAsync("privacy", "erase");
        var after = await person.RunAsync("privacy", "requests");
        var followed = await officer.RunAsync("privacy", "show", PrivacyCommandTests.IdIn(self.Out), "--wait", "-o", "json");
        using var again = new CliUser(server.Url);
        var login = await again.RunWithInputAsync(DemoAccounts.Password + "\n", "login", "--email", DemoAccounts.LabUser2.Email, "--password-stdin");

        Assert.True(forSomeone.ExitCode == 0, forSomeone.ToString());
        Assert.Matches(@"Erasure [0-9a-f-]{36} completed\.", forSomeone.Out);
        Assert.Contains("Retained by a declared rule:", forSomeone.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^Module +Location +Records +Until +Reason$", forSomeone.Out);
        Assert.Matches(@"(?m)^Labs +LabVirtualMachines +2 +\d{4}-\d\d-\d\d +Seed 002", forSomeone.Out);
        Assert.DoesNotContain(DemoAccounts.LabUser1.Email, forSomeone.Out + forSomeone.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(self.ExitCode == 0, self.ToString());
        Assert.Contains("ended your sessions", self.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotLoggedIn, after.ExitCode);
        Assert.True(followed.ExitCode == 0, followed.ToString());
        var done = followed.Json<PrivacyRequestResource>();
        Assert.Equal(PrivacyRequestStatuses.Completed, done.Status);
        Assert.Equal("NotNeeded", done.Approval.State);
        Assert.False(done.FiledByOfficer);
        Assert.Equal(ExitCodes.NotLoggedIn, login.ExitCode);
    }
}
