using System.Net;
using System.Net.Http.Json;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Identity;

/// Servers as an operator runs them: registration Closed (the default of a server without `--demo`), Invite, and
/// Domains. The demo accounts exist (the operator and an owner to invite with), but the demo's Open default is
/// overridden.
public sealed class RegistrationServers : IAsyncDisposable
{
    private readonly Dictionary<string, Servers> _byMode = new()
    {
        ["Closed"] = new ModeServers("Closed"),
        ["Invite"] = new ModeServers("Invite"),
        ["Domains"] = new ModeServers("Domains"),
    };

    public Task<LetheHost> GetAsync(string mode, DatabaseProvider provider) => _byMode[mode].GetAsync(provider);

    public async ValueTask DisposeAsync()
    {
        foreach (var servers in _byMode.Values)
        {
            await servers.DisposeAsync();
        }
    }

    private sealed class ModeServers(string mode) : Servers
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Lethe:Identity:Registration"] = mode,
            ["Lethe:Identity:Domains"] = mode == "Domains" ? "members.example.test, @Lab.Example.Test" : null,
        };
    }
}

public sealed class RegistrationTests(RegistrationServers servers) : IClassFixture<RegistrationServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_closed_server_refuses_every_sign_up_alike_and_writes_nothing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync("Closed", provider);
        var before = await host.WithDbAsync(db => db.Users.CountAsync(Ct));
        Assert.Equal("Closed", (await host.Anonymous().GetRegistrationAsync(Ct)).Mode);

        // An email with no account, and one with an account: the same answer, so that the gate tells nothing.
        var fresh = await RegisterRawAsync(host, $"new-{Guid.NewGuid():N}@example.test");
        var existing = await RegisterRawAsync(host, DemoAccounts.WorkspaceOwner.Email);

        foreach (var (status, body) in new[] { fresh, existing })
        {
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("\"title\":\"Registration is closed.\"", body, StringComparison.Ordinal);
        }
        Assert.Equal(Strip(fresh.Body), Strip(existing.Body));
        Assert.Equal(before, await host.WithDbAsync(db => db.Users.CountAsync(Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_invitation_makes_one_account_once_and_not_after_it_expires(DatabaseProvider provider)
    {
        var host = await servers.GetAsync("Closed", provider);
        var operatorClient = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var email = $"Invited-{Guid.NewGuid():N}@Example.TEST";

        var invitation = await operatorClient.InviteAsync(email, "Ivy Invited", Ct);
        Assert.Equal(email.ToLowerInvariant(), invitation.Email);
        Assert.Equal("Pending", invitation.State);
        Assert.False(invitation.Mailed);
        var code = CodeOf(invitation);
        // The server keeps only the code's hash.
        Assert.False(await host.WithDbAsync(db => db.Invitations.AnyAsync(i => i.CodeHash == code, Ct)));

        // Eight people use the link at once: one account, the others are told it was used.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => AcceptRawAsync(host, code, LetheHost.Password)));
        Assert.Single(attempts, a => a.Status == HttpStatusCode.Created);
        Assert.All(attempts.Where(a => a.Status != HttpStatusCode.Created), a =>
        {
            Assert.Equal(HttpStatusCode.Gone, a.Status);
            Assert.Contains("used", a.Body, StringComparison.Ordinal);
        });
        var normalized = email.ToUpperInvariant();
        Assert.Equal(1, await host.WithDbAsync(db => db.Users.CountAsync(u => u.NormalizedEmail == normalized, Ct)));

        var person = host.Anonymous();
        await person.LoginAsync(email.ToLowerInvariant(), LetheHost.Password, Ct);
        var me = await person.GetMeAsync(Ct);
        Assert.Equal("Ivy Invited", me.DisplayName);
        var listed = await operatorClient.ListInvitationsAsync(Ct);
        Assert.Equal("Accepted", listed.Single(i => i.Id == invitation.Id).State);

        // Another invitation, past its expiry: refused with the reason, and no account is made.
        var late = await operatorClient.InviteAsync($"late-{Guid.NewGuid():N}@example.test", null, Ct);
        await host.WithDbAsync(db => db.Invitations.Where(i => i.Id == late.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)), Ct));
        var expired = await AcceptRawAsync(host, CodeOf(late), LetheHost.Password);
        Assert.Equal(HttpStatusCode.Gone, expired.Status);
        Assert.Contains("expired", expired.Body, StringComparison.Ordinal);
        Assert.False(await host.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == late.Email, Ct)));

        // A withdrawn one, and a made-up code.
        var withdrawn = await operatorClient.InviteAsync($"withdrawn-{Guid.NewGuid():N}@example.test", null, Ct);
        await operatorClient.RevokeInvitationAsync(withdrawn.Id, Ct);
        Assert.Equal(HttpStatusCode.Gone, (await AcceptRawAsync(host, CodeOf(withdrawn), LetheHost.Password)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await AcceptRawAsync(host, "not-a-code", LetheHost.Password)).Status);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_weak_password_is_refused_in_words_and_the_invitation_still_works(DatabaseProvider provider)
    {
        var host = await servers.GetAsync("Closed", provider);
        var operatorClient = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var invitation = await operatorClient.InviteAsync($"weak-{Guid.NewGuid():N}@example.test", null, Ct);

        var weak = await AcceptRawAsync(host, CodeOf(invitation), "short");
        Assert.Equal(HttpStatusCode.BadRequest, weak.Status);
        Assert.Contains("password", weak.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, (await AcceptRawAsync(host, CodeOf(invitation), LetheHost.Password)).Status);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Owners_invite_only_when_registration_is_Invite_and_others_never(DatabaseProvider provider)
    {
        var closed = await servers.GetAsync("Closed", provider);
        var closedOwner = await closed.SignInAsync(DemoAccounts.WorkspaceOwner, Ct);
        var refused = await Assert.ThrowsAnyAsync<LetheApiException>(() => closedOwner.InviteAsync($"x-{Guid.NewGuid():N}@example.test", null, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        var invite = await servers.GetAsync("Invite", provider);
        var owner = await invite.SignInAsync(DemoAccounts.WorkspaceOwner, Ct);
        var invitation = await owner.InviteAsync($"by-owner-{Guid.NewGuid():N}@example.test", null, Ct);
        Assert.Equal(HttpStatusCode.Created, (await AcceptRawAsync(invite, CodeOf(invitation), LetheHost.Password)).Status);
        // Owners see their own invitations; someone with no Owner role may not invite.
        Assert.Contains(await owner.ListInvitationsAsync(Ct), i => i.Id == invitation.Id);
        var reader = await invite.SignInAsync(DemoAccounts.GalleryAuthor, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<LetheApiException>(() => reader.InviteAsync($"y-{Guid.NewGuid():N}@example.test", null, Ct))).StatusCode);
        // Self sign-up stays closed in Invite mode.
        Assert.Equal(HttpStatusCode.Forbidden, (await RegisterRawAsync(invite, $"self-{Guid.NewGuid():N}@example.test")).Status);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Domains_let_their_own_people_sign_up_and_nobody_else(DatabaseProvider provider)
    {
        var host = await servers.GetAsync("Domains", provider);

        Assert.Equal(HttpStatusCode.OK, (await RegisterRawAsync(host, $"a-{Guid.NewGuid():N}@members.example.test")).Status);
        Assert.Equal(HttpStatusCode.OK, (await RegisterRawAsync(host, $"b-{Guid.NewGuid():N}@LAB.example.test")).Status);
        // Not a subdomain, not a look-alike, not another domain.
        foreach (var email in new[] { "c@sub.members.example.test", "d@members.example.test.evil.test", "e@example.test" })
        {
            var (status, body) = await RegisterRawAsync(host, email);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("Registration is closed.", body, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_disabled_account_loses_its_sessions_at_once_and_an_operator_enables_it_again(DatabaseProvider provider)
    {
        var host = await servers.GetAsync("Closed", provider);
        var operatorClient = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var email = $"disabled-{Guid.NewGuid():N}@example.test";
        var invitation = await operatorClient.InviteAsync(email, null, Ct);
        Assert.Equal(HttpStatusCode.Created, (await AcceptRawAsync(host, CodeOf(invitation), LetheHost.Password)).Status);
        var person = host.Anonymous();
        await person.LoginAsync(email, LetheHost.Password, Ct);
        var id = (await person.GetMeAsync(Ct)).ObjectId;

        // Only an operator lists, disables and enables.
        var owner = await host.SignInAsync(DemoAccounts.WorkspaceOwner, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, (await Assert.ThrowsAnyAsync<LetheApiException>(() => owner.DisableUserAsync(id, Ct))).StatusCode);

        var disabled = await operatorClient.DisableUserAsync(id, Ct);
        Assert.True(disabled.Disabled);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAnyAsync<LetheApiException>(() => person.GetMeAsync(Ct))).StatusCode);
        await Assert.ThrowsAnyAsync<LetheApiException>(() => host.Anonymous().LoginAsync(email, LetheHost.Password, Ct));
        var users = new List<UserResource>();
        await foreach (var u in operatorClient.ListUsersAsync(Ct))
        {
            users.Add(u);
        }
        Assert.True(users.Single(u => u.Id == id).Disabled);

        Assert.False((await operatorClient.EnableUserAsync(id, Ct)).Disabled);
        await host.Anonymous().LoginAsync(email, LetheHost.Password, Ct);
        // The operator cannot lock themself out.
        Assert.Equal(HttpStatusCode.Conflict, (await Assert.ThrowsAnyAsync<LetheApiException>(() => operatorClient.DisableUserAsync(DemoAccounts.Operator.ObjectId, Ct))).StatusCode);
    }

    private static string CodeOf(InvitationResource invitation)
    {
        Assert.NotNull(invitation.Link);
        Assert.Contains("/account/invitation?code=", invitation.Link, StringComparison.Ordinal);
        return Uri.UnescapeDataString(invitation.Link![(invitation.Link.IndexOf("code=", StringComparison.Ordinal) + 5)..]);
    }

    private static async Task<(HttpStatusCode Status, string Body)> RegisterRawAsync(LetheHost host, string email)
    {
        using var http = host.Raw();
        using var answer = await http.PostAsJsonAsync("/identity/register", new { email, password = LetheHost.Password }, Ct);
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync(Ct));
    }

    private static async Task<(HttpStatusCode Status, string Body)> AcceptRawAsync(LetheHost host, string code, string password)
    {
        using var http = host.Raw();
        using var answer = await http.PostAsJsonAsync("/identity/invitations/accept", new { code, password }, Ct);
        return (answer.StatusCode, await answer.Content.ReadAsStringAsync(Ct));
    }

    // Everything but the trace ID, which differs per request.
    private static string Strip(string body) => System.Text.RegularExpressions.Regex.Replace(body, "\"traceId\":\"[^\"]*\"", "");
}
