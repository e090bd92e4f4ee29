using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Resources;

public sealed class SubscriptionTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_operator_creates_a_subscription_and_finds_it(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var id = Guid.NewGuid();

        var created = await op.CreateOrUpdateSubscriptionAsync(id, "  Research  ", Ct);

        Assert.Equal($"/subscriptions/{id:D}", created.Id);
        Assert.Equal(id, created.SubscriptionId);
        Assert.Equal("Research", created.DisplayName);
        Assert.Equal("Enabled", created.State);
        Assert.Equal(created, await op.GetSubscriptionAsync(id, Ct));
        Assert.Contains(created, await op.ListSubscriptionsAsync(Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Putting_an_existing_subscription_renames_it(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var owner = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Owner", Ct);

        var renamed = await owner.Client.CreateOrUpdateSubscriptionAsync(id, "Renamed by its owner", Ct);

        Assert.Equal("Renamed by its owner", renamed.DisplayName);
        Assert.Equal("Renamed by its owner", (await op.GetSubscriptionAsync(id, Ct)).DisplayName);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_user_without_a_root_role_cannot_create_a_subscription(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var stranger = await host.NewUserAsync(Ct);
        // Owner of the demo subscription, but not of the platform.
        var subscriptionOwner = await host.SignInAsync(DemoAccounts.WorkspaceOwner, Ct);
        var id = Guid.NewGuid();

        var error = await Assert.ThrowsAsync<LetheForbiddenException>(() => stranger.Client.CreateOrUpdateSubscriptionAsync(id, "Mine", Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => subscriptionOwner.CreateOrUpdateSubscriptionAsync(id, "Mine", Ct));

        Assert.Contains("Write", error.Detail, StringComparison.Ordinal);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetSubscriptionAsync(id, Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_reader_cannot_rename_a_subscription(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var reader = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Reader", Ct);

        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.CreateOrUpdateSubscriptionAsync(id, "Renamed", Ct));

        Assert.Equal($"Test {id:N}", (await op.GetSubscriptionAsync(id, Ct)).DisplayName);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_user_with_no_role_in_a_subscription_cannot_tell_it_exists(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-hidden", "westeurope", Ct);
        var stranger = (await host.NewUserAsync(Ct)).Client;
        var missing = Guid.NewGuid();

        var existing = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.GetSubscriptionAsync(id, Ct));
        var absent = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.GetSubscriptionAsync(missing, Ct));
        var group = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.GetResourceGroupAsync(id, "rg-hidden", Ct));
        var absentGroup = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.GetResourceGroupAsync(missing, "rg-hidden", Ct));
        var groups = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct).AsTask());
        var putGroup = await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.CreateOrUpdateResourceGroupAsync(id, "rg-new", "westeurope", Ct));

        Assert.Equal(absent.Detail, existing.Detail);
        Assert.Equal(absentGroup.Detail, group.Detail);
        Assert.Equal(absent.Detail, groups.Detail);
        Assert.DoesNotContain(await stranger.ListSubscriptionsAsync(Ct).ToListAsync(Ct), s => s.SubscriptionId == id);
        Assert.Equal(["rg-hidden"], (await op.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct)).Select(g => g.Name));
        Assert.NotNull(putGroup.Detail);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_role_on_one_resource_group_shows_its_subscription_and_that_group_only(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-mine", "westeurope", Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg-other", "westeurope", Ct);
        var user = await host.NewUserWithRoleAsync(op, Scenario.Scope(id, "rg-mine"), "Contributor", Ct);

        Assert.Contains(await user.Client.ListSubscriptionsAsync(Ct).ToListAsync(Ct), s => s.SubscriptionId == id);
        Assert.Equal(["rg-mine"], (await user.Client.ListResourceGroupsAsync(id, Ct).ToListAsync(Ct)).Select(g => g.Name));
        Assert.Equal("rg-mine", (await user.Client.GetResourceGroupAsync(id, "RG-MINE", Ct)).Name);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetResourceGroupAsync(id, "rg-other", Ct));
        // A subscription that the list shows can be read, as in Azure.
        Assert.Equal(id, (await user.Client.GetSubscriptionAsync(id, Ct)).SubscriptionId);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_malformed_subscription_id_is_rejected_naming_the_parameter(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Get, "subscriptions/not-a-guid", null),
            (HttpMethod.Put, "subscriptions/not-a-guid", new CreateSubscriptionRequest("Bad")),
            (HttpMethod.Get, "subscriptions/5c9d3b7e1f2a4c6d9e8b0a1b2c3d4e5f", null),
            (HttpMethod.Get, "subscriptions/not-a-guid/resourceGroups", null),
            (HttpMethod.Get, "subscriptions/not-a-guid/resourceGroups/rg", null),
            (HttpMethod.Put, "subscriptions/not-a-guid/resourceGroups/rg", new CreateResourceGroupRequest("westeurope")),
        })
        {
            var error = await Assert.ThrowsAsync<LetheValidationException>(() => op.SendAsync(method, path, body, Ct));
            Assert.Contains("GUID", Assert.Single(Assert.Contains("subscriptionId", error.Errors)), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_bad_subscription_display_name_is_rejected_and_nothing_is_created(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        var id = Guid.NewGuid();

        foreach (var name in new[] { "", "  ", new string('s', 129), "tab\there" })
        {
            var error = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateOrUpdateSubscriptionAsync(id, name, Ct));
            Assert.Equal("displayName", Assert.Single(error.Errors).Key);
        }

        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetSubscriptionAsync(id, Ct));
    }
}
