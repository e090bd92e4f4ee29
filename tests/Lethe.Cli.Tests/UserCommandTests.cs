using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Cli.Tests;

/// `lethe user`: an operator invites, the person accepts the link, the operator lists and disables the account.
public sealed class UserCommandTests(TestServer server) : IClassFixture<TestServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_operator_invites_lists_disables_and_enables_an_account_by_email()
    {
        using var op = new CliUser(server.Url);
        await op.LoginAsync(DemoAccounts.Operator.Email);
        var email = $"cli-invited-{Guid.NewGuid():N}@example.test";

        var invite = await op.RunAsync("user", "invite", email, "--display-name", "Cleo Cli");
        Assert.Equal(0, invite.ExitCode);
        Assert.Contains("No mail server is configured", invite.Out, StringComparison.Ordinal);
        var link = invite.Out.Split('\n').Single(l => l.Contains("/account/invitation?code=", StringComparison.Ordinal)).Trim();

        var pending = await op.RunAsync("user", "invitations");
        Assert.Contains(email, pending.Out, StringComparison.Ordinal);
        Assert.Contains("Pending", pending.Out, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        var code = Uri.UnescapeDataString(link[(link.IndexOf("code=", StringComparison.Ordinal) + 5)..]);
        var person = await new LetheClient(http).AcceptInvitationAsync(code, "Cleo-password-2026", null, Ct);
        Assert.Equal("Cleo Cli", person.DisplayName);

        var users = (await op.RunAsync("user", "list", "--output", "json")).Json<List<UserResource>>();
        Assert.Contains(users, u => u.Email == email && !u.Disabled);

        var disabled = await op.RunAsync("user", "disable", email);
        Assert.Equal(0, disabled.ExitCode);
        Assert.Contains("sessions have ended", disabled.Out, StringComparison.Ordinal);
        using var cleo = new CliUser(server.Url);
        var refused = await cleo.RunWithInputAsync("Cleo-password-2026\n", "login", "--email", email, "--password-stdin");
        Assert.Equal(ExitCodes.NotLoggedIn, refused.ExitCode);
        Assert.Contains("an operator disabled it", refused.Error, StringComparison.Ordinal);

        Assert.Equal(0, (await op.RunAsync("user", "enable", person.Id.ToString())).ExitCode);
        await cleo.LoginAsync(email, "Cleo-password-2026");
    }

    [Fact]
    public async Task Someone_who_is_no_operator_is_refused_in_words()
    {
        using var author = new CliUser(server.Url);
        await author.LoginAsync(DemoAccounts.GalleryAuthor.Email);

        var list = await author.RunAsync("user", "list");
        var invite = await author.RunAsync("user", "invite", "someone@example.test");
        var unknown = await author.RunAsync("user", "disable", "nobody@example.test");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("Only an operator", list.Error, StringComparison.Ordinal);
        Assert.Equal(1, invite.ExitCode);
        Assert.DoesNotContain("   at ", invite.Error, StringComparison.Ordinal);
        Assert.Equal(1, unknown.ExitCode);
    }
}
