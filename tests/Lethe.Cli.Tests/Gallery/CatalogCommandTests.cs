using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Cli.Tests.Gallery;

public sealed class CatalogCommandTests(TestServer server) : IClassFixture<TestServer>
{
    [Fact]
    public async Task The_author_sees_their_profile_and_unlisted_entities_and_a_stranger_only_public_ones()
    {
        using var author = new CliUser(server.Url);
        await author.LoginAsync(DemoAccounts.GalleryAuthor.Email);
        var me = (await author.RunAsync("whoami", "-o", "json")).Json<Me>();
        var filter = $"author/id eq '{me.AuthorId}'";

        var profile = await author.RunAsync("catalog", "user", me.AuthorId, "-o", "json");
        var mine = await author.RunAsync("catalog", "entities", "--filter", filter, "-o", "json");
        using var stranger = new CliUser(server.Url);
        var publicOnly = await stranger.RunAsync("catalog", "entities", "--filter", filter, "-o", "json");
        var table = await stranger.RunAsync("catalog", "entities", "--filter", filter + " and kind eq 'Solution'");

        Assert.True(profile.ExitCode == 0, profile.ToString());
        Assert.Equal("First Last", profile.Json<CatalogUser>().Name);
        Assert.True(mine.ExitCode == 0, mine.ToString());
        Assert.Contains(mine.Json<List<CatalogEntity>>(), e => e.Visibility == "Unlisted");
        Assert.True(publicOnly.ExitCode == 0, publicOnly.ToString());
        Assert.All(publicOnly.Json<List<CatalogEntity>>(), e => Assert.Equal("Public", e.Visibility));
        Assert.Equal(2, table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("Predictive maintenance", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_entities_reuses_one_token_until_it_is_revoked()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Contributor.Email);
        var me = (await user.RunAsync("whoami", "-o", "json")).Json<Me>();
        async Task<int> TokensAsync()
        {
            await using var scope = server.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            return await db.CatalogTokens.CountAsync(t => t.AuthorId == me.AuthorId, TestContext.Current.CancellationToken);
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, (await user.RunAsync("catalog", "entities", "--top", "1", "-o", "json")).ExitCode);
        }
        Assert.Equal(1, await TokensAsync());

        // Revoked elsewhere: the next listing takes a new token and still answers.
        Assert.Equal(0, (await user.RunAsync("catalog", "revoke")).ExitCode);
        var after = await user.RunAsync("catalog", "entities", "--top", "1", "-o", "json");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Equal(2, await TokensAsync());
    }

    [Fact]
    public async Task Catalog_token_prints_a_token_that_works_until_revoked()
    {
        using var author = new CliUser(server.Url);
        await author.LoginAsync(DemoAccounts.GalleryAuthor.Email);
        var me = (await author.RunAsync("whoami", "-o", "json")).Json<Me>();

        var printed = await author.RunAsync("catalog", "token");
        var token = printed.Out.Trim();
        using var stranger = new CliUser(server.Url);
        var withToken = await stranger.RunAsync("catalog", "entities", "--filter", $"author/id eq '{me.AuthorId}' and visibility eq 'Unlisted'", "--token", token, "-o", "json");
        var revoked = await author.RunAsync("catalog", "revoke");
        var after = await stranger.RunAsync("catalog", "entities", "--token", token);

        Assert.True(printed.ExitCode == 0, printed.ToString());
        Assert.StartsWith("lct_", token, StringComparison.Ordinal);
        Assert.Contains("Expires", printed.Error, StringComparison.Ordinal);
        Assert.True(withToken.ExitCode == 0, withToken.ToString());
        Assert.Equal(2, withToken.Json<List<CatalogEntity>>().Count);
        Assert.Equal(0, revoked.ExitCode);
        Assert.NotEqual(0, after.ExitCode);
        Assert.Contains("revoked", after.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_and_unpublish_from_the_command_line_and_a_bad_filter_exits_non_zero()
    {
        using var author = new CliUser(server.Url);
        await author.LoginAsync(DemoAccounts.GalleryAuthor.Email);

        var published = await author.RunAsync("catalog", "publish", "--kind", "Notebook", "--name", "CLI notebook", "--tag", "cli", "--unlisted", "-o", "json");
        var item = published.Json<CatalogEntity>();
        var unpublished = await author.RunAsync("catalog", "unpublish", item.Id.ToString());
        var bad = await author.RunAsync("catalog", "entities", "--filter", "name eq");

        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.Equal("Unlisted", item.Visibility);
        Assert.Equal(["cli"], item.Tags);
        Assert.True(unpublished.ExitCode == 0, unpublished.ToString());
        Assert.Equal(ExitCodes.Failed, bad.ExitCode);
        Assert.Contains("$filter", bad.Error, StringComparison.Ordinal);
    }
}
