using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Gallery;

public sealed class CatalogTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Nothing_becomes_public_until_the_first_published_item_and_no_name_comes_from_the_email(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var named = await host.NewUserAsync(Ct);
        await named.Client.UpdateMeAsync("Nora Named", Ct);
        var authorId = (await named.Client.GetMeAsync(Ct)).AuthorId;
        var anonymous = host.Anonymous();

        // Looking at one's own profile, and taking a token, make nothing public.
        var notYet = await Assert.ThrowsAsync<LetheNotFoundException>(() => named.Client.GetMyCatalogProfileAsync(Ct));
        Assert.Contains("publish your first item", notYet.Message, StringComparison.Ordinal);
        await named.Client.CreateCatalogTokenAsync(Ct);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogUserAsync(authorId, Ct));

        await named.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "First item"), Ct);
        var published = await anonymous.GetCatalogUserAsync(authorId, Ct);
        Assert.Equal("Nora Named", published.Name);
        // The profile's own link answers with the same profile.
        using var http = host.Raw();
        var self = new Uri(published.Links.Self).PathAndQuery;
        Assert.Equal(published.Id, JsonDocument.Parse(await http.GetStringAsync(self, Ct)).RootElement.GetProperty("id").GetString());

        // Someone with no display name appears under a neutral name, never the part of their email before '@'.
        var unnamed = await host.NewUserAsync(Ct);
        var entity = await unnamed.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Unnamed item"), Ct);
        var profile = await anonymous.GetCatalogUserAsync(entity.Author.Id, Ct);
        Assert.Equal("Anonymous author", profile.Name);
        var local = unnamed.Email[..unnamed.Email.IndexOf('@', StringComparison.Ordinal)];
        Assert.DoesNotContain(local, JsonSerializer.Serialize(profile), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_author_publishes_and_anonymous_callers_see_only_the_public_items(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var open = await author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Open one", "d", ["a", "b"], "Public"), Ct);
        var hidden = await author.Client.PublishEntityAsync(new PublishEntityRequest("Custom Module", "Hidden one", null, null, "Unlisted"), Ct);
        var me = await author.Client.GetMyCatalogProfileAsync(Ct);
        var anonymous = host.Anonymous();

        var page = await anonymous.QueryCatalogEntitiesAsync(new CatalogQueryOptions($"author/id eq '{me.Id}'"), ct: Ct);

        Assert.Equal([open.Id], page.Value.Select(e => e.Id));
        Assert.Equal("CustomModule", hidden.Kind);
        Assert.Equal("Unlisted", hidden.Visibility);
        Assert.Equal(me.Id, open.Author.Id);
        Assert.Equal(["a", "b"], page.Value[0].Tags);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogEntityAsync(hidden.Id, ct: Ct));
        Assert.Equal("Open one", (await anonymous.GetCatalogEntityAsync(open.Id, ct: Ct)).Name);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_author_id_is_the_hmac_of_the_email_and_the_profile_has_exactly_the_seeds_fields(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        await author.Client.PublishEntityAsync(new PublishEntityRequest("Project", "P", "x", ["t"], "Public"), Ct);
        await author.Client.PublishEntityAsync(new PublishEntityRequest("Notebook", "N", "x", [], "Unlisted"), Ct);
        var secret = await host.WithDbAsync(db => db.DeploymentSecrets.Where(s => s.Name == Lethe.Identity.DeploymentSecret.AuthorIdKey).Select(s => s.Value).FirstAsync(Ct));
        var expectedId = Lethe.Identity.AuthorId.For("  " + author.Email.ToUpperInvariant() + " ", secret);

        using var http = host.Raw();
        using var response = await http.GetAsync(new Uri($"catalog/users/{expectedId}", UriKind.Relative), Ct);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            ["entities_count", "contribution_score", "scored_at", "contributed_at", "created_at", "updated_at", "name", "slugs", "tenant_id", "community_id", "id", "_links", "etag"],
            json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(expectedId, json.GetProperty("id").GetString());
        Assert.Equal(1, json.GetProperty("entities_count").GetInt32());
        Assert.Equal(["self"], json.GetProperty("_links").EnumerateObject().Select(p => p.Name));
        Assert.EndsWith($"/users/{expectedId}", json.GetProperty("_links").GetProperty("self").GetString(), StringComparison.Ordinal);
        var etag = json.GetProperty("etag").GetString()!;
        Assert.Equal(etag, response.Headers.ETag?.ToString());
        Assert.True(json.GetProperty("contribution_score").GetDouble() > 0);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"catalog/users/{expectedId}");
        again.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var notModified = await http.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        await author.Client.PublishEntityAsync(new PublishEntityRequest("Tutorial", "T", "x", [], "Public"), Ct);
        using var changed = new HttpRequestMessage(HttpMethod.Get, $"catalog/users/{expectedId}");
        changed.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var fresh = await http.SendAsync(changed, Ct);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(2, (await fresh.Content.ReadFromJsonAsync<CatalogUser>(LetheClient.Json, Ct))!.EntitiesCount);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task With_a_token_the_author_sees_their_unlisted_items_until_it_is_revoked(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var hidden = await author.Client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Mine", null, null, "Unlisted"), Ct);
        var me = await author.Client.GetMyCatalogProfileAsync(Ct);
        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        var anonymous = host.Anonymous();
        var byAuthor = new CatalogQueryOptions($"author/id eq '{me.Id}'");

        Assert.Equal([hidden.Id], (await anonymous.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct)).Value.Select(e => e.Id));
        Assert.Equal(hidden.Id, (await anonymous.GetCatalogEntityAsync(hidden.Id, token.Token, Ct)).Id);
        Assert.InRange(token.ExpiresAt, DateTimeOffset.UtcNow.AddHours(7.9), DateTimeOffset.UtcNow.AddHours(8.1));

        await author.Client.RevokeCatalogTokensAsync(Ct);

        var revoked = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => anonymous.QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct));
        Assert.Contains("revoked", revoked.Title, StringComparison.Ordinal);
        var malformed = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => anonymous.QueryCatalogEntitiesAsync(byAuthor, "not-a-token", Ct));
        Assert.Contains("malformed", malformed.Title, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => anonymous.QueryCatalogEntitiesAsync(byAuthor, CatalogTokensForTests.NewToken(), Ct));
        Assert.Contains("unknown", unknown.Title, StringComparison.Ordinal);

        var second = await author.Client.CreateCatalogTokenAsync(Ct);
        Assert.Single((await anonymous.QueryCatalogEntitiesAsync(byAuthor, second.Token, Ct)).Value);
        // A new token does not end the one before it; revoking ends both.
        var third = await author.Client.CreateCatalogTokenAsync(Ct);
        Assert.Single((await anonymous.QueryCatalogEntitiesAsync(byAuthor, second.Token, Ct)).Value);
        await author.Client.RevokeCatalogTokensAsync(Ct);
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => anonymous.QueryCatalogEntitiesAsync(byAuthor, second.Token, Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => anonymous.QueryCatalogEntitiesAsync(byAuthor, third.Token, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_expired_token_gets_401_saying_so(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        await host.WithDbAsync(db => CatalogTokensForTests.ExpireAsync(db, token.Token, Ct));
        // A write that bypasses GalleryWrites tells the catalog itself, as GalleryWrites does.
        await host.Factory.Services.GetRequiredService<Lethe.Gallery.GalleryCatalog>().ChangedAsync(Ct);

        var error = await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().QueryCatalogEntitiesAsync(new CatalogQueryOptions(), token.Token, Ct));

        Assert.Equal("The access token is expired.", error.Title);
        Assert.Contains("Get a new token", error.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_change_of_visibility_and_an_unpublish_are_seen_by_the_next_request(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var item = await author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Flip", null, null, "Public"), Ct);
        var anonymous = host.Anonymous();
        var byId = new CatalogQueryOptions($"author/id eq '{item.Author.Id}'");
        Assert.Single((await anonymous.QueryCatalogEntitiesAsync(byId, ct: Ct)).Value);

        for (var round = 0; round < 5; round++)
        {
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct);
            Assert.Empty((await anonymous.QueryCatalogEntitiesAsync(byId, ct: Ct)).Value);
            await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogEntityAsync(item.Id, ct: Ct));
            await author.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Public", Name: $"Flip {round}"), Ct);
            Assert.Equal($"Flip {round}", Assert.Single((await anonymous.QueryCatalogEntitiesAsync(byId, ct: Ct)).Value).Name);
        }

        await author.Client.UnpublishEntityAsync(item.Id, Ct);

        Assert.Empty((await anonymous.QueryCatalogEntitiesAsync(byId, ct: Ct)).Value);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogEntityAsync(item.Id, ct: Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => author.Client.UnpublishEntityAsync(item.Id, Ct));
    }

    /// An author's list asked without a token is made once per copy of the catalog and kept with it (the hot path):
    /// the same bytes for every anonymous caller, never what a token holder gets, and gone with the copy on a change.
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_authors_list_is_kept_with_its_copy_for_anonymous_callers_only(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var open = await author.Client.PublishEntityAsync(new PublishEntityRequest("Tutorial", "Kept", null, null, "Public"), Ct);
        var hidden = await author.Client.PublishEntityAsync(new PublishEntityRequest("Tutorial", "Not kept", null, null, "Unlisted"), Ct);
        var token = await author.Client.CreateCatalogTokenAsync(Ct);
        var catalog = host.Factory.Services.GetRequiredService<Lethe.Gallery.GalleryCatalog>();
        using var http = host.Raw();
        var list = new Uri($"catalog/entities?$filter=author/id eq '{open.Author.Id}'", UriKind.Relative);

        var first = await http.GetByteArrayAsync(list, Ct);
        var again = await http.GetByteArrayAsync(list, Ct);
        var mine = await host.Anonymous().QueryCatalogEntitiesAsync(new CatalogQueryOptions($"author/id eq '{open.Author.Id}'"), token.Token, Ct);

        Assert.Equal(first, again);
        Assert.Equal(first, Assert.IsType<byte[]>(catalog.Current.Answers[open.Author.Id]));
        Assert.Equal([open.Id], JsonDocument.Parse(first).RootElement.GetProperty("value").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));
        Assert.Equal(new[] { open.Id, hidden.Id }.Order(), mine.Value.Select(e => e.Id).Order());
        Assert.Equal(first, await http.GetByteArrayAsync(list, Ct));

        await author.Client.UpdateEntityAsync(open.Id, new UpdateEntityRequest(Name: "Renamed"), Ct);

        Assert.False(catalog.Current.Answers.ContainsKey(open.Author.Id), "a new copy starts with no kept answers");
        var renamed = JsonDocument.Parse(await http.GetByteArrayAsync(list, Ct)).RootElement.GetProperty("value");
        Assert.Equal("Renamed", Assert.Single(renamed.EnumerateArray()).GetProperty("name").GetString());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Only_the_author_changes_or_unpublishes_an_item(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        var other = await host.NewUserAsync(Ct);
        var item = await author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Mine", null, null, "Public"), Ct);

        await Assert.ThrowsAsync<LetheNotFoundException>(() => other.Client.UpdateEntityAsync(item.Id, new UpdateEntityRequest(Visibility: "Unlisted"), Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => other.Client.UnpublishEntityAsync(item.Id, Ct));
        await Assert.ThrowsAsync<LetheUnauthorizedException>(() => host.Anonymous().PublishEntityAsync(new PublishEntityRequest("Solution", "x"), Ct));

        Assert.Equal("Public", (await host.Anonymous().GetCatalogEntityAsync(item.Id, ct: Ct)).Visibility);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Bad_items_get_400_and_nothing_is_written(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);

        var kind = await Assert.ThrowsAsync<LetheValidationException>(() => author.Client.PublishEntityAsync(new PublishEntityRequest("Spreadsheet", "x"), Ct));
        var visibility = await Assert.ThrowsAsync<LetheValidationException>(() => author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "x", Visibility: "Private"), Ct));
        var name = await Assert.ThrowsAsync<LetheValidationException>(() => author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", " "), Ct));
        var tags = await Assert.ThrowsAsync<LetheValidationException>(() => author.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "x", Tags: [new string('t', 51)]), Ct));

        Assert.Contains("kind", kind.Errors!.Keys);
        Assert.Contains("visibility", visibility.Errors!.Keys);
        Assert.Contains("name", name.Errors!.Keys);
        Assert.Contains("tags", tags.Errors!.Keys);
        // Refused publishes made no profile, so nothing of the person became public.
        await Assert.ThrowsAsync<LetheNotFoundException>(() => author.Client.GetMyCatalogProfileAsync(Ct));
        Assert.False(await host.WithDbAsync(db => db.GalleryAuthors.AnyAsync(a => a.UserId == author.ObjectId, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Filters_order_select_count_and_paging_work_like_odata(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var author = await host.NewUserAsync(Ct);
        for (var i = 0; i < 5; i++)
        {
            await author.Client.PublishEntityAsync(new PublishEntityRequest(i % 2 == 0 ? "Solution" : "Notebook", $"Item {i}", $"Description {i}", i < 2 ? ["ml", "r"] : ["python"], "Public"), Ct);
        }
        var me = await author.Client.GetMyCatalogProfileAsync(Ct);
        var client = host.Anonymous();
        var mine = $"author/id eq '{me.Id}'";

        var solutions = await client.QueryCatalogEntitiesAsync(new CatalogQueryOptions($"{mine} and kind eq 'Solution'", OrderBy: "name desc", Count: true), ct: Ct);
        Assert.Equal(["Item 4", "Item 2", "Item 0"], solutions.Value.Select(e => e.Name));
        Assert.Equal(3, solutions.Count);

        var tagged = await client.QueryCatalogEntitiesAsync(new CatalogQueryOptions($"{mine} and tags/any(t: t eq 'r')", OrderBy: "name"), ct: Ct);
        Assert.Equal(["Item 0", "Item 1"], tagged.Value.Select(e => e.Name));

        var named = await client.QueryCatalogEntitiesAsync(new CatalogQueryOptions($"{mine} and (startswith(name, 'Item 3') or contains(description, ' 4')) and created_at gt 2020-01-01T00:00:00Z"), ct: Ct);
        Assert.Equal(["Item 3", "Item 4"], named.Value.Select(e => e.Name).Order(StringComparer.Ordinal));

        var paged = await client.QueryCatalogEntitiesAsync(new CatalogQueryOptions(mine, OrderBy: "name", Top: 2), ct: Ct);
        Assert.Equal(["Item 0", "Item 1"], paged.Value.Select(e => e.Name));
        Assert.NotNull(paged.NextLink);
        Assert.Contains("$skip=2", Uri.UnescapeDataString(paged.NextLink), StringComparison.Ordinal);
        var all = await client.ListCatalogEntitiesAsync(new CatalogQueryOptions(mine, OrderBy: "name", Top: 2), ct: Ct).ToListAsync(Ct);
        Assert.Equal(5, all.Count);

        var selected = await client.QueryCatalogEntitiesAsync<JsonElement>(new CatalogQueryOptions(mine, Select: "id,name", Top: 1), ct: Ct);
        Assert.Equal(["id", "name"], selected.Value[0].EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Malformed_query_options_get_400_with_the_parsers_message(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var client = host.Anonymous();
        var deep = string.Concat(Enumerable.Repeat("(", 40)) + "name eq 'x'" + string.Concat(Enumerable.Repeat(")", 40));
        var many = string.Join(" or ", Enumerable.Range(0, 60).Select(i => $"name eq '{i}'"));
        string[] bad =
        [
            "name eq",
            "nosuchproperty eq 1",
            "author/email eq 'a@b.c'",
            "substring(name, 1) eq 'x'",
            "name eq '" + new string('x', 300) + "'",
            deep,
            many,
            "name add 1 eq 2",
            "visibility eq 'Unlisted' and 1 eq",
        ];
        foreach (var filter in bad)
        {
            var error = await Record.ExceptionAsync(() => client.QueryCatalogEntitiesAsync(new CatalogQueryOptions(filter), ct: Ct)) as LetheValidationException;
            Assert.True(error is not null, $"Accepted: {filter[..Math.Min(filter.Length, 60)]}");
            Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
            Assert.Contains("$filter", error.Errors!.Keys);
            Assert.False(string.IsNullOrWhiteSpace(error.Errors["$filter"][0]));
        }
        await Assert.ThrowsAsync<LetheValidationException>(() => client.QueryCatalogEntitiesAsync(new CatalogQueryOptions(Top: 1001), ct: Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => client.QueryCatalogEntitiesAsync(new CatalogQueryOptions(Select: "email"), ct: Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => client.QueryCatalogEntitiesAsync(new CatalogQueryOptions(OrderBy: "secret"), ct: Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_demo_author_has_public_and_unlisted_items(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var demo = await host.SignInAsync(DemoAccounts.GalleryAuthor, Ct);
        var me = await demo.GetMyCatalogProfileAsync(Ct);
        var token = await demo.CreateCatalogTokenAsync(Ct);
        var byAuthor = new CatalogQueryOptions($"author/id eq '{me.Id}'");

        var publicItems = await host.Anonymous().QueryCatalogEntitiesAsync(byAuthor, ct: Ct);
        var allItems = await host.Anonymous().QueryCatalogEntitiesAsync(byAuthor, token.Token, Ct);

        Assert.Equal("First Last", me.Name);
        Assert.Equal(["First-Last"], me.Slugs);
        Assert.Equal(3, publicItems.Value.Count);
        Assert.Equal(5, allItems.Value.Count);
        Assert.Equal(3, me.EntitiesCount);
    }
}
