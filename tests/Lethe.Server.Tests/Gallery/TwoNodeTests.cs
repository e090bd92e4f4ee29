using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Gallery;

/// Two servers on one PostgreSQL database, each with its in-memory catalog: what one commits, the other
/// answers with on the very next request (decision 0020).
public sealed class TwoNodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_change_on_one_node_is_never_answered_stale_by_the_other()
    {
        await using var first = await LetheHost.StartAsync(DatabaseProvider.Postgres, ct: Ct);
        var connection = first.Factory.Services.GetRequiredService<IConfiguration>()["Lethe:Database:ConnectionString"];
        await using var second = await LetheHost.StartAsync(DatabaseProvider.Sqlite, new Dictionary<string, string?>
        {
            ["Lethe:Database:Provider"] = "Postgres",
            ["Lethe:Database:ConnectionString"] = connection,
            ["Lethe:Database:MigrateOnStart"] = "true",
        }, Ct);
        var author = await first.NewUserAsync(Ct);
        var item = await author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Shared", null, null, "Public"), Ct);
        var reader = second.Anonymous();
        var byAuthor = new CatalogQueryOptions($"author/id eq '{item.Author.Id}'");
        // The second node has its copy loaded and warm before the changes.
        Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);

        for (var round = 0; round < 10; round++)
        {
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
            Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Public"), Ct);
            Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        }

        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
        Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct)).Value);
        await author.Client.RevokeCatalogTokensAsync(Ct);
        var revoked = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct));
        Assert.Contains("revoked", revoked.Title, StringComparison.Ordinal);

        await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Public"), Ct);
        await author.Client.UnpublishEntityAsync(item.Id, Ct);
        Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => reader.GetCatalogEntityAsync(item.Id, ct: Ct));
    }

    /// Each node reads the version on a kept connection (decision 0020). When the database drops it (a restart,
    /// an idle timeout, an operator), the next request is answered from a new one, and still sees every commit.
    [Fact]
    public async Task A_lost_version_connection_is_replaced_and_the_next_answer_is_still_current()
    {
        await using var first = await LetheHost.StartAsync(DatabaseProvider.Postgres, ct: Ct);
        var connection = first.Factory.Services.GetRequiredService<IConfiguration>()["Lethe:Database:ConnectionString"];
        await using var second = await LetheHost.StartAsync(DatabaseProvider.Sqlite, new Dictionary<string, string?>
        {
            ["Lethe:Database:Provider"] = "Postgres",
            ["Lethe:Database:ConnectionString"] = connection,
            ["Lethe:Database:MigrateOnStart"] = "true",
        }, Ct);
        var author = await first.NewUserAsync(Ct);
        var item = await author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Kept", null, null, "Public"), Ct);
        var reader = second.Anonymous();
        var byAuthor = new CatalogQueryOptions($"author/id eq '{item.Author.Id}'");
        Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);

        for (var round = 0; round < 3; round++)
        {
            Assert.True(await TerminateVersionConnectionsAsync(connection!) > 0, "the nodes keep a named connection for the version reads");
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
            Assert.True(await TerminateVersionConnectionsAsync(connection!) > 0);
            Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Public"), Ct);
            Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        }
    }

    private static async Task<int> TerminateVersionConnectionsAsync(string connectionString)
    {
        await using var admin = new Npgsql.NpgsqlConnection(connectionString);
        await admin.OpenAsync(Ct);
        await using var kill = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name AND pid <> pg_backend_pid()) t",
            admin);
        kill.Parameters.AddWithValue("name", Lethe.Gallery.GalleryCatalog.LoopApplicationName);
        return Convert.ToInt32(await kill.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }
}
