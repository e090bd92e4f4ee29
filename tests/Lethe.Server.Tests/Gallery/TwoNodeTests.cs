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
        await using var nodes = await TwoNodes.StartAsync(commitWait: null);
        var (author, item, reader, byAuthor) = await nodes.PublishedAsync("Solution", "Shared");

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

    /// A busy node answers from its copy, trusted by its background version reads (decision 0020), and what the other
    /// node acknowledged is in that copy by the time the acknowledgement arrives: checked while a steady stream of
    /// readers keeps the second node on its fast path.
    [Fact]
    public async Task Under_steady_traffic_a_node_answers_from_its_copy_and_never_stale()
    {
        await using var nodes = await TwoNodes.StartAsync(commitWait: null);
        var (author, item, reader, byAuthor) = await nodes.PublishedAsync("Solution", "Busy");
        var catalog = nodes.Second.Factory.Services.GetRequiredService<Lethe.Gallery.GalleryCatalog>();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var traffic = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var answers = 0;
            var client = nodes.Second.Anonymous();
            while (!stop.IsCancellationRequested)
            {
                await client.QueryCatalogEntitiesAsync(byAuthor, ct: CancellationToken.None);
                answers++;
            }
            return answers;
        }, CancellationToken.None)).ToList();
        var readsBefore = catalog.VersionReads;
        var checks = 0;
        for (var round = 0; round < 10; round++)
        {
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
            Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Public"), Ct);
            Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
            checks += 2;
        }
        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct)).Value);
        await author.Client.RevokeCatalogTokensAsync(Ct);
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct));
        await author.Client.UnpublishEntityAsync(item.Id, Ct);
        Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        await stop.CancelAsync();
        var answered = checks + 3 + (await Task.WhenAll(traffic)).Sum();
        var reads = catalog.VersionReads - readsBefore;

        Assert.True(reads < answered, $"{reads} version reads for {answered} answers: the busy node should answer from its copy");
    }

    /// The fast path in figures: with a commit wait of one second a busy node reads the version every 100 ms, whatever
    /// the number of requests, instead of once per request (or per group of requests arriving together).
    [Fact]
    public async Task A_busy_node_reads_the_version_per_interval_not_per_request()
    {
        await using var nodes = await TwoNodes.StartAsync(commitWait: "00:00:01");
        var (_, _, reader, byAuthor) = await nodes.PublishedAsync("Notebook", "Counted");
        var catalog = nodes.Second.Factory.Services.GetRequiredService<Lethe.Gallery.GalleryCatalog>();

        var readsBefore = catalog.VersionReads;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var i = 0; i < 200; i++)
        {
            Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        }
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        var reads = catalog.VersionReads - readsBefore;

        // One read per 100 ms of the burst, and a few more for its start and end.
        Assert.True(reads <= elapsed.TotalMilliseconds / 100 + 3, $"{reads} version reads for 200 requests in {elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task With_several_nodes_a_change_is_acknowledged_only_after_the_commit_wait()
    {
        await using var nodes = await TwoNodes.StartAsync(commitWait: "00:00:00.300");
        var (author, item, _, _) = await nodes.PublishedAsync("Tutorial", "Waited");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(300), $"acknowledged after {elapsed.TotalMilliseconds:0} ms");
    }

    /// Two servers on one new PostgreSQL database, both with the given commit wait (every node must have the same).
    /// An author erased on one node (the privacy engine's gallery sources delete the rows) is gone from the other
    /// node's copy on its next request: profile, items, unlisted ones through a token, and the token itself.
    [Fact]
    public async Task An_erased_author_disappears_from_every_nodes_copy_on_the_next_request()
    {
        await using var nodes = await TwoNodes.StartAsync(commitWait: null);
        var (author, item, reader, byAuthor) = await nodes.PublishedAsync("Solution", "Erased");
        await author.Client.PublishEntityAsync(new PublishEntityRequest("Notebook", "Hidden", null, null, "Unlisted"), Ct);
        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        Assert.Equal(2, (await reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct)).Value.Count);
        await reader.GetCatalogUserAsync(item.Author.Id, Ct);

        await using (var scope = nodes.First.Factory.Services.CreateAsyncScope())
        {
            var sources = scope.ServiceProvider.GetRequiredService<Lethe.Privacy.PersonalDataSources>();
            var keys = await sources.ResolveAsync(Lethe.Privacy.SubjectKeys.ForObjectId(author.ObjectId), Ct);
            var context = new Lethe.Privacy.ErasureContext(Lethe.Privacy.Pseudonym.New(), DateTimeOffset.UtcNow);
            foreach (var source in sources.InOrder.Where(s => s.Location.Module == "Gallery"))
            {
                await source.Source.EraseAsync(keys, context, Ct);
            }
        }

        Assert.Empty((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => reader.GetCatalogEntityAsync(item.Id, ct: Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => reader.GetCatalogUserAsync(item.Author.Id, Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => reader.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct));
        var copy = nodes.Second.Factory.Services.GetRequiredService<Lethe.Gallery.GalleryCatalog>().Current;
        Assert.DoesNotContain(copy.Entities.Values, e => e.AuthorId == item.Author.Id);
        Assert.False(copy.Authors.ContainsKey(item.Author.Id));
        Assert.DoesNotContain(copy.Tokens.Values, t => t.AuthorId == item.Author.Id);
    }

    private sealed record TwoNodes(LetheHost First, LetheHost Second) : IAsyncDisposable
    {
        /// A new author on the first node with one public item, and the second node's anonymous reader, its copy
        /// loaded and warm on that author's list.
        public async Task<(TestUser Author, CatalogEntity Item, LetheClient Reader, CatalogQueryOptions ByAuthor)> PublishedAsync(string kind, string name)
        {
            var author = await First.NewUserAsync(Ct);
            var item = await author.Client.PublishEntityAsync(new PublishEntityRequest(kind, name, null, null, "Public"), Ct);
            var reader = Second.Anonymous();
            var byAuthor = new CatalogQueryOptions($"author/id eq '{item.Author.Id}'");
            Assert.Single((await reader.QueryCatalogEntitiesAsync(byAuthor, ct: Ct)).Value);
            return (author, item, reader, byAuthor);
        }

        public string ConnectionString => First.Factory.Services.GetRequiredService<IConfiguration>()["Lethe:Database:ConnectionString"]!;

        public static async Task<TwoNodes> StartAsync(string? commitWait)
        {
            var wait = commitWait is null ? new Dictionary<string, string?>() : new Dictionary<string, string?> { ["Lethe:Gallery:CommitWait"] = commitWait };
            var first = await LetheHost.StartAsync(DatabaseProvider.Postgres, wait, Ct);
            var connection = first.Factory.Services.GetRequiredService<IConfiguration>()["Lethe:Database:ConnectionString"];
            try
            {
                return new TwoNodes(first, await LetheHost.StartAsync(DatabaseProvider.Sqlite, new Dictionary<string, string?>(wait)
                {
                    ["Lethe:Database:Provider"] = "Postgres",
                    ["Lethe:Database:ConnectionString"] = connection,
                    ["Lethe:Database:MigrateOnStart"] = "true",
                }, Ct));
            }
            catch
            {
                await first.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Second.DisposeAsync();
            await First.DisposeAsync();
        }
    }

    /// Each node reads the version on a kept connection (decision 0020). When the database drops it (a restart,
    /// an idle timeout, an operator), the next request is answered from a new one, and still sees every commit.
    [Fact]
    public async Task A_lost_version_connection_is_replaced_and_the_next_answer_is_still_current()
    {
        await using var nodes = await TwoNodes.StartAsync(commitWait: null);
        var (author, item, reader, byAuthor) = await nodes.PublishedAsync("Solution", "Kept");

        for (var round = 0; round < 3; round++)
        {
            Assert.True(await TerminateVersionConnectionsAsync(nodes.ConnectionString) > 0, "the nodes keep a named connection for the version reads");
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
            Assert.True(await TerminateVersionConnectionsAsync(nodes.ConnectionString) > 0);
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
