using System.Text.Json;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Gallery;

/// No filter, order or selection reaches another author's unlisted items: the visibility rule is applied
/// before the user's filter, from the token alone.
public sealed class UnlistedIsolationTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task No_filter_or_select_form_reaches_another_authors_unlisted_items(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var victim = await host.NewUserAsync(Ct);
        var secret = await victim.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Secret plan", "confidential", ["secret"], "Unlisted"), Ct);
        var open = await victim.Client.PublishEntityAsync(new PublishEntityRequest("Solution", "Open plan", "fine", ["open"], "Public"), Ct);
        var victimId = secret.Author.Id;
        var attacker = await host.NewUserAsync(Ct);
        await attacker.Client.PublishEntityAsync(new PublishEntityRequest("Notebook", "Attacker's own", null, null, "Unlisted"), Ct);
        var attackerToken = (await attacker.Client.CreateCatalogTokenAsync(Ct)).Token;

        string[] filters =
        [
            $"author/id eq '{victimId}'",
            $"author/id eq '{victimId}' and visibility eq 'Unlisted'",
            $"author/id eq '{victimId}' or visibility eq 'Unlisted'",
            $"visibility eq 'Unlisted'",
            $"visibility ne 'Public'",
            $"not (visibility eq 'Public')",
            $"visibility in ('Unlisted', 'Public') and author/id eq '{victimId}'",
            $"id eq {secret.Id}",
            $"id eq {secret.Id} or id ne {secret.Id}",
            $"name eq 'Secret plan'",
            $"contains(name, 'Secret')",
            $"startswith(description, 'conf')",
            $"tags/any(t: t eq 'secret')",
            $"tags/all(t: t eq 'secret')",
            $"'secret' in tags",
            $"author/id eq '{victimId.ToLowerInvariant()}'",
            $"tolower(author/id) eq '{victimId.ToLowerInvariant()}'",
            $"author/name eq '{secret.Author.Name}'",
            $"true",
            $"true or false",
            $"1 eq 1",
            $"created_at gt 2000-01-01T00:00:00Z",
            $"author/id eq '{victimId}' or author/id ne '{victimId}'",
            $"(author/id eq '{victimId}') and (visibility eq 'Unlisted' or visibility eq 'Public')",
            $"length(name) gt 0",
            $"year(created_at) ge 2000",
            $"tags/$count ge 0",
        ];
        string?[] selects = [null, "id", "visibility", "author", "id,name,visibility,author,tags", "*"];
        string?[] orders = [null, "visibility desc", "name", "created_at desc"];
        var anonymous = host.Anonymous();
        var checkedQueries = 0;
        foreach (var token in new string?[] { null, attackerToken })
        {
            foreach (var filter in filters)
            {
                foreach (var select in selects)
                {
                    foreach (var order in orders)
                    {
                        var page = await anonymous.QueryCatalogEntitiesAsync<JsonElement>(new CatalogQueryOptions(filter, order, select, Top: 1000, Count: true), token, Ct);
                        var text = JsonSerializer.Serialize(page);
                        Assert.DoesNotContain(secret.Id.ToString(), text, StringComparison.OrdinalIgnoreCase);
                        Assert.DoesNotContain("Secret plan", text, StringComparison.Ordinal);
                        Assert.DoesNotContain("confidential", text, StringComparison.Ordinal);
                        Assert.All(page.Value, e => Assert.False(e.TryGetProperty("author", out var a) && a.GetProperty("id").GetString() == victimId
                            && e.TryGetProperty("visibility", out var v) && v.GetString() == "Unlisted"));
                        checkedQueries++;
                    }
                }
            }
        }
        Assert.Equal(2 * filters.Length * selects.Length * orders.Length, checkedQueries);

        // The same queries do find the public item and the attacker's own unlisted one: the filters work.
        Assert.Contains(open.Id, (await anonymous.QueryCatalogEntitiesAsync(new CatalogQueryOptions($"author/id eq '{victimId}'"), attackerToken, Ct)).Value.Select(e => e.Id));
        Assert.Single((await anonymous.QueryCatalogEntitiesAsync(new CatalogQueryOptions("visibility eq 'Unlisted' and name eq 'Attacker''s own'"), attackerToken, Ct)).Value);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogEntityAsync(secret.Id, attackerToken, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => anonymous.GetCatalogEntityAsync(secret.Id, ct: Ct));
        // The victim's profile counts public items only: it says nothing of the unlisted one.
        Assert.Equal(1, (await anonymous.GetCatalogUserAsync(victimId, Ct)).EntitiesCount);
    }
}
