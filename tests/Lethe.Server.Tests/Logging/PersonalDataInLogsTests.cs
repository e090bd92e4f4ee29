using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.Extensions.Logging;

namespace Lethe.Server.Tests.Logging;

/// Logs leave the deployment (files, collectors); personal data must not go with them. Every
/// category is captured at Trace level, so a framework component that logs an email fails here too.
public sealed class PersonalDataInLogsTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task No_email_or_display_name_is_logged_in_clear(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var token = Guid.NewGuid().ToString("N")[..10];
        var email = $"Log.Subject.{token}@example.test";
        var unknownEmail = $"never.registered.{token}@example.test";
        var displayName = $"Zebulon Quixote {token}";
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var before = host.Logs.Entries.Count;

        var client = host.Anonymous();
        await client.RegisterAsync(email, LetheHost.Password, Ct);
        await Assert.ThrowsAsync<LetheValidationException>(() => host.Anonymous().RegisterAsync(email, LetheHost.Password, Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().LoginAsync(email, "Wrong-password-1", Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().LoginAsync(unknownEmail, LetheHost.Password, Ct));
        var tokens = await client.LoginAsync(email, LetheHost.Password, Ct);
        await client.RefreshAsync(tokens.RefreshToken, Ct);
        await client.GetMeAsync(Ct);
        await client.UpdateMeAsync(displayName, Ct);
        await Assert.ThrowsAsync<LetheValidationException>(() => client.UpdateMeAsync(displayName + "\u0007", Ct));
        await client.GetMeAsync(Ct);
        await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: email), ct: Ct);
        await Assert.ThrowsAsync<LetheConflictException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: email), ct: Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: unknownEmail), ct: Ct));
        await client.ListSubscriptionsAsync(Ct).ToListAsync(Ct);
        // The demo accounts sign in too.
        foreach (var account in new[] { DemoAccounts.WorkspaceOwner, DemoAccounts.Contributor })
        {
            await (await host.SignInAsync(account, Ct)).GetMeAsync(Ct);
        }

        var entries = host.Logs.Entries;
        Assert.True(entries.Count > before, "The server logged nothing: the capture is not wired.");
        Assert.Contains(entries, e => e.Level <= LogLevel.Debug);
        // The framework's own categories are captured too: hosting, authentication, EF Core's SQL.
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Category == "Microsoft.EntityFrameworkCore.Database.Command");
        var secrets = new[] { email, unknownEmail, displayName, email.Split('@')[0], unknownEmail.Split('@')[0], token }
            .Concat(DemoAccounts.All.SelectMany(a => new[] { a.Email, a.DisplayName }))
            .ToArray();
        var leaks = entries
            .SelectMany(e => secrets.Where(s => e.AllText.Contains(s, StringComparison.OrdinalIgnoreCase)).Select(s => $"[{e.Level}] {e.Category} ({e.EventId.Id} {e.EventId.Name}): {e.Message}"))
            .Distinct()
            .ToList();
        Assert.True(leaks.Count == 0, "Personal data in the logs:\n" + string.Join("\n", leaks));
    }
}
