using Lethe.Client;
using Lethe.Identity;
using Lethe.Server.Api;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Identity;

public sealed class IdentityApiTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("userId=x&code=x")]
    [InlineData("userId=7f2d3c4e-1111-4222-8333-944455556666&code=%%%")]
    [InlineData("userId=&code=")]
    public async Task A_malformed_email_confirmation_link_gets_400_in_words_not_500(string query)
    {
        var host = await servers.GetAsync(DatabaseProvider.Sqlite);
        using var http = host.Raw();
        using var answer = await http.GetAsync($"/identity/confirmEmail?{query}", Ct);
        Assert.True((int)answer.StatusCode is >= 400 and < 500, $"{query}: {(int)answer.StatusCode}");
        var body = await answer.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_registered_user_signs_in_refreshes_and_reads_their_account(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var client = host.Anonymous();
        var email = $"new-{Guid.NewGuid():N}@example.test";

        await client.RegisterAsync(email, LetheHost.Password, Ct);
        var tokens = await client.LoginAsync(email, LetheHost.Password, Ct);
        var me = await client.GetMeAsync(Ct);

        Assert.Equal("Bearer", tokens.TokenType);
        Assert.True(tokens.ExpiresIn > 0);
        Assert.NotEqual(Guid.Empty, me.ObjectId);
        Assert.Equal(email, me.Email);
        Assert.Equal("", me.DisplayName);
        Assert.True(AuthorId.IsWellFormed(me.AuthorId));
        Assert.Empty(me.Roles);

        var refreshed = host.Anonymous();
        var renewed = await refreshed.RefreshAsync(tokens.RefreshToken, Ct);
        Assert.NotEqual(tokens.AccessToken, renewed.AccessToken);
        Assert.Equal(me.ObjectId, (await refreshed.GetMeAsync(Ct)).ObjectId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_author_id_is_stable_for_the_same_email(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        var first = await user.Client.GetMeAsync(Ct);
        var second = await host.As(user.Client.AccessToken!).GetMeAsync(Ct);

        Assert.Equal(first.AuthorId, second.AuthorId);
        Assert.NotEqual(first.AuthorId, (await (await host.NewUserAsync(Ct)).Client.GetMeAsync(Ct)).AuthorId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_wrong_password_is_unauthorized(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        var client = host.Anonymous();

        var error = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => client.LoginAsync(user.Email, "Wrong-password-1", Ct));

        Assert.Null(client.AccessToken);
        Assert.DoesNotContain(user.Email, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unknown_account_is_unauthorized_like_a_wrong_password(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        var wrongPassword = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().LoginAsync(user.Email, "Wrong-password-1", Ct));
        var unknown = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().LoginAsync($"nobody-{Guid.NewGuid():N}@example.test", "Wrong-password-1", Ct));

        // Whether an account exists does not leak through the answer.
        Assert.Equal(wrongPassword.Title, unknown.Title);
        Assert.Equal(wrongPassword.Detail, unknown.Detail);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Registering_an_email_twice_is_a_validation_error(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        var error = await Assert.ThrowsAsync<LetheValidationException>(() => host.Anonymous().RegisterAsync(user.Email, LetheHost.Password, Ct));

        Assert.Contains("DuplicateUserName", error.Errors.Keys);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_display_name_is_trimmed_and_saved(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);

        var updated = await user.Client.UpdateMeAsync("  Ada Lovelace  ", Ct);

        Assert.Equal("Ada Lovelace", updated.DisplayName);
        Assert.Equal("Ada Lovelace", (await user.Client.GetMeAsync(Ct)).DisplayName);
        Assert.Equal(new string('x', IdentityEndpoints.MaxDisplayNameLength), (await user.Client.UpdateMeAsync(new string('x', IdentityEndpoints.MaxDisplayNameLength), Ct)).DisplayName);
    }

    public static TheoryData<DatabaseProvider, string> BadDisplayNames
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
            {
                data.Add(provider, "");
                data.Add(provider, "   ");
                data.Add(provider, new string('x', IdentityEndpoints.MaxDisplayNameLength + 1));
                data.Add(provider, "Ada\u0007Lovelace");
                data.Add(provider, "Ada\nLovelace");
                data.Add(provider, "Ada\u0000");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadDisplayNames))]
    public async Task A_bad_display_name_is_rejected_naming_the_field_and_nothing_is_written(DatabaseProvider provider, string displayName)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        await user.Client.UpdateMeAsync("Before", Ct);

        var error = await Assert.ThrowsAsync<LetheValidationException>(() => user.Client.UpdateMeAsync(displayName, Ct));

        Assert.Equal("displayName", Assert.Single(error.Errors).Key);
        Assert.Equal("Before", (await user.Client.GetMeAsync(Ct)).DisplayName);
        Assert.Equal("Before", await host.WithDbAsync(db => db.Users.Where(u => u.Id == user.ObjectId).Select(u => u.DisplayName).SingleAsync(Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Me_without_a_token_is_unauthorized(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.As("not-a-token").GetMeAsync(Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().UpdateMeAsync("Anyone", Ct));
    }
}
