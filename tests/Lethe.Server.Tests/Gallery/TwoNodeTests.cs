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
}
