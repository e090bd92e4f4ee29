using System.Net;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Identity;

/// Seed 000's telemetry of user interactions, for every module: a person's actions in Resources, Access, Gallery and
/// Labs are recorded with the route's template and the resource's ID, the person lists their own, an operator counts.
public sealed class TelemetryTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Every_module_records_a_persons_actions_and_they_list_their_own(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (subscription, op) = await host.NewSubscriptionAsync(Ct);
        var person = await host.NewUserWithRoleAsync(op, Scenario.Scope(subscription), "Owner", Ct);
        var other = await host.NewUserAsync(Ct);
        var client = person.Client;

        await client.CreateOrUpdateResourceGroupAsync(subscription, "tele-rg", "westeurope", Ct);
        await client.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(Scenario.Scope(subscription, "tele-rg"), "Reader", PrincipalId: other.ObjectId), ct: Ct);
        await client.CreateOrUpdateLabAsync(subscription, "tele-rg", "tele-lab", new CreateLabRequest("westeurope"), Ct);
        var entity = await client.PublishEntityAsync(new PublishEntityRequest("Experiment", "Telemetry test"), Ct);
        await client.UnpublishEntityAsync(entity.Id, Ct);
        // A refused call records nothing.
        await Assert.ThrowsAnyAsync<LetheApiException>(() => client.GetLabAsync(subscription, "tele-rg", "no-such-lab", Ct));

        var mine = await client.ListMyTelemetryAsync(Ct).ToListAsync(Ct);
        var actions = mine.Select(e => e.Action).ToList();
        Assert.Equal(
            ["gallery.UnpublishCatalogEntity", "gallery.PublishCatalogEntity", "labs.CreateOrUpdateLab", "access.CreateRoleAssignment", "resources.CreateOrUpdateResourceGroup"],
            actions.Where(a => !a.EndsWith("GetLab", StringComparison.Ordinal)));
        Assert.DoesNotContain("labs.GetLab", actions);
        var lab = mine.Single(e => e.Action == "labs.CreateOrUpdateLab");
        Assert.Equal($"/subscriptions/{subscription:D}/resourceGroups/tele-rg/providers/Microsoft.DevTestLab/labs/tele-lab", lab.Resource);
        Assert.Equal("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab/labs/{labName}", lab.Route);
        Assert.Equal($"/catalog/entities/{entity.Id:D}", mine.Single(e => e.Action == "gallery.UnpublishCatalogEntity").Resource);
        // Newest first, and only the person's own: nothing of the other user, no other person's ID anywhere.
        Assert.Equal(mine.OrderByDescending(e => e.OccurredAt).Select(e => e.Id), mine.Select(e => e.Id));
        Assert.All(mine, e => Assert.DoesNotContain(other.ObjectId.ToString("D"), e.Resource + e.Route, StringComparison.OrdinalIgnoreCase));
        Assert.Empty(await other.Client.ListMyTelemetryAsync(Ct).ToListAsync(Ct));
        Assert.Equal(mine.Count, await host.WithDbAsync(db => db.TelemetryEvents.CountAsync(e => e.UserId == person.ObjectId, Ct)));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_operator_sees_counts_per_action_and_nobody_else_does(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (subscription, op) = await host.NewSubscriptionAsync(Ct);
        var person = await host.NewUserWithRoleAsync(op, Scenario.Scope(subscription), "Owner", Ct);
        for (var i = 0; i < 3; i++)
        {
            await person.Client.CreateOrUpdateResourceGroupAsync(subscription, $"count-rg-{i}", "westeurope", Ct);
        }

        var counts = await op.ListTelemetryActionsAsync(30, Ct);
        Assert.True(counts.Single(c => c.Action == "resources.CreateOrUpdateResourceGroup").Count >= 3);
        Assert.Equal(counts.OrderByDescending(c => c.Count).Select(c => c.Count), counts.Select(c => c.Count));

        var refused = await Assert.ThrowsAnyAsync<LetheApiException>(() => person.Client.ListTelemetryActionsAsync(30, Ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var invalid = await Assert.ThrowsAnyAsync<LetheApiException>(() => op.ListTelemetryActionsAsync(0, Ct));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        using var anonymous = host.Raw();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/me/telemetry", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/members/{principalId}",
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws")]
    [InlineData("/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/workspaces", "/subscriptions/s1")]
    [InlineData("/catalog/users/{authorId}", "")]
    [InlineData("/labs/shutdown-notices/{token}/postpone", "")]
    [InlineData("/catalog/me", "/catalog/me")]
    [InlineData("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/storage/{**path}",
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws")]
    public void The_resource_stops_before_a_parameter_that_can_name_a_person_or_hold_anything(string template, string expected)
    {
        var values = new Microsoft.AspNetCore.Routing.RouteValueDictionary
        {
            ["subscriptionId"] = "s1", ["resourceGroupName"] = "rg", ["workspaceName"] = "ws",
            ["principalId"] = "7f2d3c4e-1111-4222-8333-944455556666", ["authorId"] = "ABC", ["token"] = "secret", ["path"] = "a/b@example.test",
        };
        Assert.Equal(expected, Lethe.Server.Api.TelemetryEndpoints.ResourceOf(Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(template), values));
    }
}
