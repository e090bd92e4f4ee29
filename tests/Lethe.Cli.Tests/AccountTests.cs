using System.Text.Json;
using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Cli.Tests;

public sealed class AccountTests(TestServer server) : IClassFixture<TestServer>
{
    [Fact]
    public async Task Login_with_the_password_on_stdin_then_whoami_shows_the_demo_owner()
    {
        using var user = new CliUser(server.Url);

        var login = await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);
        var whoami = await user.RunAsync("whoami");

        Assert.Contains("Logged in to", login.Out, StringComparison.Ordinal);
        Assert.Equal(0, whoami.ExitCode);
        Assert.Contains(DemoAccounts.WorkspaceOwner.DisplayName, whoami.Out, StringComparison.Ordinal);
        Assert.Contains(DemoAccounts.WorkspaceOwner.ObjectId.ToString(), whoami.Out, StringComparison.Ordinal);
        Assert.Contains($"/subscriptions/{DemoAccounts.SubscriptionId}", whoami.Out, StringComparison.Ordinal);
        Assert.Matches("Author ID +[0-9A-F]{64}", whoami.Out);
    }

    [Fact]
    public async Task Whoami_as_json_is_the_me_resource()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Contributor.Email);

        var me = (await user.RunAsync("whoami", "--output", "json")).Json<Me>();

        Assert.Equal(DemoAccounts.Contributor.ObjectId, me.ObjectId);
        Assert.Equal(DemoAccounts.Contributor.Email, me.Email);
        Assert.Contains(me.Roles, r => r.Role == "Contributor" && r.Scope.EndsWith("/resourceGroups/ml-rg", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_fails_with_a_clear_message_and_keeps_no_credentials()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunWithInputAsync("not-the-password\n", "login", "--email", DemoAccounts.LabUser2.Email, "--password-stdin");

        Assert.Equal(ExitCodes.NotLoggedIn, result.ExitCode);
        Assert.Contains("wrong email or password", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(user.CredentialsFile));
    }

    [Fact]
    public async Task Whoami_without_a_login_exits_3_with_the_hint_to_log_in()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync("whoami");

        Assert.Equal(ExitCodes.NotLoggedIn, result.ExitCode);
        Assert.Contains("You are not logged in", result.Error, StringComparison.Ordinal);
        Assert.Contains("lethe login", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task The_credentials_file_is_readable_by_its_owner_only_and_no_token_is_printed()
    {
        using var user = new CliUser(server.Url);

        var login = await user.LoginAsync(DemoAccounts.LabAdmin.Email);
        var whoami = await user.RunAsync("whoami", "-o", "json");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, ModeOf(user.CredentialsFile));
        using var stored = JsonDocument.Parse(await File.ReadAllTextAsync(user.CredentialsFile, TestContext.Current.CancellationToken));
        var access = stored.RootElement.GetProperty("accessToken").GetString()!;
        var refresh = stored.RootElement.GetProperty("refreshToken").GetString()!;
        Assert.True(access.Length > 20);
        foreach (var printed in new[] { login.Out, login.Error, whoami.Out, whoami.Error })
        {
            Assert.DoesNotContain(access, printed, StringComparison.Ordinal);
            Assert.DoesNotContain(refresh, printed, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(DemoAccounts.Password, await File.ReadAllTextAsync(user.CredentialsFile, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_access_token_is_refreshed_and_the_new_one_saved()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var before = await ReadAsync(user);
        await File.WriteAllTextAsync(user.CredentialsFile,
            JsonSerializer.Serialize(before with { ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) }, JsonSerializerOptions.Web), TestContext.Current.CancellationToken);

        var whoami = await user.RunAsync("whoami");

        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        var after = await ReadAsync(user);
        Assert.NotEqual(before.AccessToken, after.AccessToken);
        Assert.True(after.ExpiresAt > DateTimeOffset.UtcNow);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, ModeOf(user.CredentialsFile));
    }

    [Fact]
    public async Task A_rejected_access_token_is_refreshed_once_and_the_call_retried()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var stored = await ReadAsync(user);
        await File.WriteAllTextAsync(user.CredentialsFile,
            JsonSerializer.Serialize(stored with { AccessToken = "revoked" }, JsonSerializerOptions.Web), TestContext.Current.CancellationToken);

        var whoami = await user.RunAsync("whoami");

        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.NotEqual("revoked", (await ReadAsync(user)).AccessToken);
    }

    [Fact]
    public async Task A_dead_refresh_token_asks_to_log_in_again()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);
        var stored = await ReadAsync(user);
        await File.WriteAllTextAsync(user.CredentialsFile,
            JsonSerializer.Serialize(stored with { AccessToken = "revoked", RefreshToken = "revoked" }, JsonSerializerOptions.Web), TestContext.Current.CancellationToken);

        var whoami = await user.RunAsync("whoami");

        Assert.Equal(ExitCodes.NotLoggedIn, whoami.ExitCode);
        Assert.Contains("has expired", whoami.Error, StringComparison.Ordinal);
        Assert.Contains("lethe login", whoami.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_is_never_sent_to_another_server()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.LabUser1.Email);

        var result = await user.RunAsync("whoami", "--server", "http://127.0.0.1:9/");

        Assert.Equal(ExitCodes.NotLoggedIn, result.ExitCode);
        Assert.Contains("not to http://127.0.0.1:9/", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_forgets_the_login()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.GalleryAuthor.Email);

        var logout = await user.RunAsync("logout");
        var whoami = await user.RunAsync("whoami");
        var again = await user.RunAsync("logout");

        Assert.Equal(0, logout.ExitCode);
        Assert.Contains("Logged out of", logout.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(user.CredentialsFile));
        Assert.Equal(ExitCodes.NotLoggedIn, whoami.ExitCode);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("not logged in", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_without_a_terminal_and_without_password_stdin_is_a_usage_error()
    {
        using var user = new CliUser(server.Url);

        var result = await user.RunAsync("login", "--email", DemoAccounts.Operator.Email);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--password-stdin", result.Error, StringComparison.Ordinal);
    }

    // Windows has no file modes; its ACLs are out of scope here.
    private static UnixFileMode ModeOf(string path) => OperatingSystem.IsWindows() ? UnixFileMode.UserRead | UnixFileMode.UserWrite : File.GetUnixFileMode(path);

    private static async Task<Credentials> ReadAsync(CliUser user)
        => JsonSerializer.Deserialize<Credentials>(await File.ReadAllTextAsync(user.CredentialsFile, TestContext.Current.CancellationToken), JsonSerializerOptions.Web)!;
}
