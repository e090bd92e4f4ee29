using System.Net;
using System.Net.Http.Json;
using Lethe.Server.Tests.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Identity;

/// Two servers on one PostgreSQL database, each with a data folder of its own: the data-protection
/// keys are in the database, so what one node issued (bearer and refresh tokens, the portal cookie)
/// the other accepts, and the keys are encrypted at rest.
public sealed class TwoNodeIdentityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tokens_and_cookies_issued_by_one_node_are_accepted_by_the_other()
    {
        await using var first = await LetheHost.StartAsync(DatabaseProvider.Postgres, ct: Ct);
        var connection = first.Factory.Services.GetRequiredService<IConfiguration>()["Lethe:Database:ConnectionString"];
        await using var second = await LetheHost.StartAsync(DatabaseProvider.Sqlite, new Dictionary<string, string?>
        {
            ["Lethe:Database:Provider"] = "Postgres",
            ["Lethe:Database:ConnectionString"] = connection,
            ["Lethe:Database:MigrateOnStart"] = "true",
        }, Ct);
        var user = await first.NewUserAsync(Ct);
        var tokens = await first.Anonymous().LoginAsync(user.Email, LetheHost.Password, Ct);

        // A bearer token from the first node, on the second.
        Assert.Equal(user.ObjectId, (await second.As(tokens.AccessToken).GetMeAsync(Ct)).ObjectId);
        // A refresh token from the first node, refreshed on the second, used on the first.
        var refreshed = await second.Anonymous().RefreshAsync(tokens.RefreshToken, Ct);
        Assert.Equal(user.ObjectId, (await first.As(refreshed.AccessToken).GetMeAsync(Ct)).ObjectId);

        // The portal cookie from the first node, on the second.
        using var login = await first.Raw().PostAsJsonAsync("identity/login?useCookies=true", new { email = user.Email, password = LetheHost.Password }, Ct);
        login.EnsureSuccessStatusCode();
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("lethe=", StringComparison.Ordinal)).Split(';')[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, "me");
        request.Headers.Add("Cookie", cookie);
        using var me = await second.Raw().SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);

        // One key ring, in the database, encrypted at rest.
        var keys = await first.WithDbAsync(db => db.DataProtectionKeys.AsNoTracking().ToListAsync(Ct));
        Assert.Single(keys);
        Assert.Contains("<encryptedKey", keys[0].Xml, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", keys[0].Xml, StringComparison.Ordinal);
    }
}
