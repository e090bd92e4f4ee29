using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lethe.Client;
using Lethe.Server.Api;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Resources;

public sealed class ResourceGroupTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_owner_creates_a_group_and_finds_it_by_any_casing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);

        var created = await op.CreateOrUpdateResourceGroupAsync(id, "Rg-One.(a)_b", "WestEurope", Ct);

        Assert.Equal($"/subscriptions/{id:D}/resourceGroups/Rg-One.(a)_b", created.Id);
        Assert.Equal("Rg-One.(a)_b", created.Name);
        Assert.Equal(ResourceEndpoints.ResourceGroupType, created.Type);
        Assert.Equal("westeurope", created.Location);
        Assert.Equal("Succeeded", created.Properties.ProvisioningState);
        Assert.Equal(created, await op.GetResourceGroupAsync(id, "rg-one.(A)_B", Ct));

        var moved = await op.CreateOrUpdateResourceGroupAsync(id, "RG-ONE.(A)_B", "northeurope", Ct);

        Assert.Equal("Rg-One.(a)_b", moved.Name);
        Assert.Equal("northeurope", moved.Location);
        Assert.Single(await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_reader_lists_and_reads_groups_but_cannot_create_one(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-read", "westeurope", Ct);
        var reader = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Reader", Ct);

        Assert.Equal(["rg-read"], (await reader.Client.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct)).Select(g => g.Name));
        Assert.Equal("rg-read", (await reader.Client.GetResourceGroupAsync(id, "rg-read", Ct)).Name);
        Assert.Equal(id, (await reader.Client.GetSubscriptionAsync(id, Ct)).SubscriptionId);
        var error = await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.CreateOrUpdateResourceGroupAsync(id, "rg-new", "westeurope", Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.CreateOrUpdateResourceGroupAsync(id, "rg-read", "northeurope", Ct));

        Assert.Contains("Write", error.Detail, StringComparison.Ordinal);
        var groups = await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct);
        Assert.Equal(["rg-read"], groups.Select(g => g.Name));
        Assert.Equal("westeurope", groups[0].Location);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_contributor_creates_groups(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var contributor = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Contributor", Ct);

        await contributor.Client.CreateOrUpdateResourceGroupAsync(id, "rg-contrib", "westeurope", Ct);

        Assert.Equal("rg-contrib", (await op.GetResourceGroupAsync(id, "rg-contrib", Ct)).Name);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_group_in_a_subscription_that_does_not_exist_is_not_found(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(Demo.DemoAccounts.Operator, Ct);
        var missing = Guid.NewGuid();

        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.CreateOrUpdateResourceGroupAsync(missing, "rg", "westeurope", Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.ListResourceGroupsAsync(missing, Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetResourceGroupAsync(missing, "rg", Ct));
    }

    public static TheoryData<DatabaseProvider, string> BadNames
    {
        get
        {
            var data = new TheoryData<DatabaseProvider, string>();
            foreach (var provider in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
            {
                data.Add(provider, "a b");
                data.Add(provider, "a..b");
                data.Add(provider, new string('g', 91));
                data.Add(provider, "trailing.");
                data.Add(provider, "semi;colon");
                data.Add(provider, "slash/in");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task A_bad_group_name_is_rejected_naming_the_parameter_and_nothing_is_created(DatabaseProvider provider, string name)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        // Escaped so that the name reaches the server as one path segment.
        var path = $"subscriptions/{id:D}/resourceGroups/{Escape(name)}";

        var put = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Put, path, new CreateResourceGroupRequest("westeurope"), Ct));
        var get = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Get, path, null, Ct));

        Assert.Equal("resourceGroupName", Assert.Single(put.Errors).Key);
        Assert.Equal("resourceGroupName", Assert.Single(get.Errors).Key);
        Assert.Empty(await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct));
        Assert.Equal(1, await host.WithDbAsync(db => Task.FromResult(db.Subscriptions.Count(s => s.Id == id))));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_SDK_never_lets_a_group_name_climb_out_of_its_path(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);

        // "." and ".." cannot travel as a path segment: System.Uri (and Kestrel) resolve them, escaped
        // or not, so GET .../resourceGroups/.. would become GET /subscriptions/{id} and its answer be
        // read as a resource group. The SDK must refuse such names before sending anything.
        foreach (var name in new[] { "..", "." })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => op.GetResourceGroupAsync(id, name, Ct));
            await Assert.ThrowsAsync<ArgumentException>(() => op.CreateOrUpdateResourceGroupAsync(id, name, "westeurope", Ct));
        }

        Assert.Equal($"Test {id:N}", (await op.GetSubscriptionAsync(id, Ct)).DisplayName);
        Assert.Empty(await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_bad_location_is_rejected_naming_the_field(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);

        foreach (var location in new[] { "", "west europe", "west-europe", new string('l', 65) })
        {
            var error = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateOrUpdateResourceGroupAsync(id, "rg", location, Ct));
            Assert.Equal("location", Assert.Single(error.Errors).Key);
        }
        Assert.Empty(await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_body_that_is_not_JSON_is_a_problem_that_says_why(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        using var http = host.Raw(op.AccessToken);
        using var content = new StringContent("{\"location\": westeurope", Encoding.UTF8, "application/json");

        using var response = await http.PutAsync(new Uri($"subscriptions/{id:D}/resourceGroups/rg-json", UriKind.Relative), content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("The request body is not valid JSON.", problem.RootElement.GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _));
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.Empty(await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_body_of_the_wrong_shape_is_a_problem_that_says_where(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        using var http = host.Raw(op.AccessToken);

        using var response = await http.PutAsJsonAsync(new Uri($"subscriptions/{id:D}/resourceGroups/rg-shape", UriKind.Relative), new { location = 42 }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Contains("location", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Groups_are_listed_in_pages_that_link_to_the_next(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var names = new[] { "rg-c", "rg-a", "rg-e", "rg-b", "rg-d" };
        foreach (var name in names)
        {
            await op.CreateOrUpdateResourceGroupAsync(id, name, "westeurope", Ct);
        }
        using var http = host.Raw(op.AccessToken);

        var pages = new List<ArmList<ResourceGroupResource>>();
        var next = new Uri($"subscriptions/{id:D}/resourceGroups?$top=2", UriKind.Relative);
        while (next is not null)
        {
            var page = await http.GetFromJsonAsync<ArmList<ResourceGroupResource>>(next, LetheClient.Json, Ct);
            pages.Add(page!);
            next = page!.NextLink is { } link ? new Uri(link, UriKind.Absolute) : null;
            Assert.True(pages.Count <= 3, "The nextLinks do not end.");
        }

        Assert.Equal([2, 2, 1], pages.Select(p => p.Value.Count));
        Assert.Equal(names.Order(StringComparer.Ordinal), pages.SelectMany(p => p.Value).Select(g => g.Name));
        Assert.All(pages.SkipLast(1), p => Assert.Contains("$skipToken=", p.NextLink, StringComparison.Ordinal));
        // The SDK follows nextLinks the same way.
        var listed = await op.ListAsync<ResourceGroupResource>($"subscriptions/{id:D}/resourceGroups?$top=2", Ct).ToListAsync(Ct);
        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(g => g.Name));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_page_size_out_of_range_or_a_forged_skip_token_is_rejected(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);

        foreach (var (query, field) in new[] { ("$top=0", "$top"), ("$top=5000", "$top"), ("$top=-1", "$top"), ("$skipToken=forged", "$skipToken") })
        {
            var groups = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Get, $"subscriptions/{id:D}/resourceGroups?{query}", null, Ct));
            var subscriptions = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Get, $"subscriptions?{query}", null, Ct));
            Assert.Equal(field, Assert.Single(groups.Errors).Key);
            Assert.Equal(field, Assert.Single(subscriptions.Errors).Key);
        }
        var tooMany = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(HttpMethod.Get, $"subscriptions/{id:D}/resourceGroups?$top=5000", null, Ct));
        Assert.Contains("1000", Assert.Single(Assert.Contains("$top", tooMany.Errors)), StringComparison.Ordinal);
    }

    private static string Escape(string name) => Uri.EscapeDataString(name);
}
