using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Hosting;

/// The factory's settings must reach LetheServer.BuildAsync before it registers services, or
/// every other test here would silently run on a default database.
public sealed class ConfigurationTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_server_runs_on_the_database_the_settings_chose(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        var (providerName, migrations) = await host.WithDbAsync(async db =>
            (db.Database.ProviderName, (await db.Database.GetAppliedMigrationsAsync(Ct)).Count()));

        Assert.Equal(provider == DatabaseProvider.Sqlite ? LetheDb.SqliteProvider : "Npgsql.EntityFrameworkCore.PostgreSQL", providerName);
        Assert.True(migrations > 0);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Demo_mode_made_the_demo_accounts(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        var me = await (await host.SignInAsync(Demo.DemoAccounts.Operator, Ct)).GetMeAsync(Ct);

        Assert.Equal(Demo.DemoAccounts.Operator.ObjectId, me.ObjectId);
        Assert.Contains(me.Roles, r => r.Scope == "/" && r.Role == "Owner");
    }
}
