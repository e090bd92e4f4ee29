using System.Security.Cryptography;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Identity;

/// Servers that trust a real (test) OpenID Connect authority on a loopback port.
public sealed class ExternalAuthorityServers : Servers
{
    private readonly Lazy<Task<OidcAuthority>> _authority = new(() => OidcAuthority.StartAsync());

    public Task<OidcAuthority> AuthorityAsync() => _authority.Value;

    protected override async Task<LetheHost> StartAsync(DatabaseProvider provider)
    {
        var authority = await AuthorityAsync();
        return await LetheHost.StartAsync(provider, new Dictionary<string, string?>
        {
            ["Lethe:Authentication:Jwt:Authority"] = authority.Issuer,
            ["Lethe:Authentication:Jwt:Audience"] = "lethe",
            ["Lethe:Authentication:Jwt:RequireHttpsMetadata"] = "false",
        });
    }

    protected override async ValueTask DisposeMoreAsync()
    {
        if (_authority.IsValueCreated)
        {
            await (await _authority.Value).DisposeAsync();
        }
    }
}

public sealed class ExternalAuthorityTests(ExternalAuthorityServers servers) : IClassFixture<ExternalAuthorityServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_token_from_the_authority_provisions_the_user_under_its_object_id(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var oid = Guid.NewGuid();
        var email = $"external-{oid:N}@contoso.test";
        var token = authority.Mint(new Dictionary<string, object> { ["oid"] = oid.ToString(), ["email"] = email, ["name"] = "Erin External", ["sub"] = "opaque-subject" });

        var me = await host.As(token).GetMeAsync(Ct);
        var again = await host.As(token).GetMeAsync(Ct);

        Assert.Equal(oid, me.ObjectId);
        Assert.Equal(email, me.Email);
        Assert.Equal("Erin External", me.DisplayName);
        Assert.Empty(me.Roles);
        Assert.Equal((me.ObjectId, me.Email, me.DisplayName, me.AuthorId), (again.ObjectId, again.Email, again.DisplayName, again.AuthorId));
        Assert.Equal(1, await host.WithDbAsync(db => db.Users.CountAsync(u => u.Id == oid, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_external_user_is_granted_roles_like_any_other(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var oid = Guid.NewGuid();
        var client = host.As(authority.Mint(new Dictionary<string, object> { ["oid"] = oid.ToString(), ["email"] = $"grantee-{oid:N}@contoso.test" }));
        await client.GetMeAsync(Ct);

        await op.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(id), "Reader", PrincipalEmail: $"grantee-{oid:N}@contoso.test"), ct: Ct);

        Assert.Equal(id, (await client.GetSubscriptionAsync(id, Ct)).SubscriptionId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_GUID_subject_stands_in_for_a_missing_object_id(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var sub = Guid.NewGuid();

        var me = await host.As(authority.Mint(new Dictionary<string, object> { ["sub"] = sub.ToString(), ["preferred_username"] = $"sub-{sub:N}@contoso.test" })).GetMeAsync(Ct);

        Assert.Equal(sub, me.ObjectId);
        Assert.Equal($"sub-{sub:N}@contoso.test", me.Email);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_token_without_an_email_provisions_a_user_without_one(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var oid = Guid.NewGuid();

        // Provisioning is written for this (UserName falls back to the object ID, EmailConfirmed = email
        // is not null), and Entra ID access tokens often carry no email claim.
        var me = await host.As(authority.Mint(new Dictionary<string, object> { ["oid"] = oid.ToString(), ["name"] = "No Mail" })).GetMeAsync(Ct);

        Assert.Equal(oid, me.ObjectId);
        Assert.Equal("", me.Email);
        Assert.Equal("", me.AuthorId);
        Assert.Equal("No Mail", me.DisplayName);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_username_that_is_not_an_email_is_not_taken_for_one(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var sub = Guid.NewGuid();

        // Keycloak's shape without the email scope: a UUID subject and a plain user name.
        var me = await host.As(authority.Mint(new Dictionary<string, object> { ["sub"] = sub.ToString(), ["preferred_username"] = $"jdoe{sub:N}" })).GetMeAsync(Ct);

        Assert.Equal(sub, me.ObjectId);
        Assert.Equal("", me.Email);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_token_signed_by_another_key_is_unauthorized(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        using var other = RSA.Create(2048);
        var oid = Guid.NewGuid();
        var claims = new Dictionary<string, object> { ["oid"] = oid.ToString(), ["email"] = $"forger-{oid:N}@contoso.test" };

        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(claims, signWith: other)).GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(claims, signWith: other, keyId: "unknown-key")).GetMeAsync(Ct));

        Assert.Equal(0, await host.WithDbAsync(db => db.Users.CountAsync(u => u.Id == oid, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_token_without_an_object_id_is_unauthorized(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var email = $"no-oid-{Guid.NewGuid():N}@contoso.test";

        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(new Dictionary<string, object> { ["email"] = email, ["name"] = "No Oid" })).GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(new Dictionary<string, object> { ["email"] = email, ["sub"] = "not-a-guid" })).GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(new Dictionary<string, object> { ["oid"] = "not-a-guid", ["email"] = email })).GetMeAsync(Ct));

        Assert.Equal(0, await host.WithDbAsync(db => db.Users.CountAsync(u => u.Email == email, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_token_for_another_audience_or_issuer_or_expired_is_unauthorized(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var oid = Guid.NewGuid();
        var claims = new Dictionary<string, object> { ["oid"] = oid.ToString() };

        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(claims, audience: "another-api")).GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(claims, issuer: "http://127.0.0.1:1/")).GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As(authority.Mint(claims, expires: DateTime.UtcNow.AddMinutes(-10))).GetMeAsync(Ct));

        Assert.Equal(0, await host.WithDbAsync(db => db.Users.CountAsync(u => u.Id == oid, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_external_token_naming_a_local_accounts_email_does_not_sign_in_as_that_account(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var authority = await servers.AuthorityAsync();
        var oid = Guid.NewGuid();
        var token = authority.Mint(new Dictionary<string, object> { ["oid"] = oid.ToString(), ["email"] = DemoAccounts.Operator.Email });

        var error = await Record.ExceptionAsync(() => host.As(token).GetMeAsync(Ct));

        // Either refused, or a new account of its own: never the operator's roles.
        if (error is null)
        {
            var me = await host.As(token).GetMeAsync(Ct);
            Assert.Equal(oid, me.ObjectId);
            Assert.Empty(me.Roles);
        }
        else
        {
            Assert.IsType<LetheUnauthorizedException>(error);
        }
        await Assert.ThrowsAnyAsync<LetheApiException>(() => host.As(token).CreateOrUpdateSubscriptionAsync(Guid.NewGuid(), "Takeover", Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Local_accounts_still_sign_in_with_their_own_tokens(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        var user = await host.NewUserAsync(Ct);

        Assert.Equal(user.Email, (await user.Client.GetMeAsync(Ct)).Email);
    }
}
