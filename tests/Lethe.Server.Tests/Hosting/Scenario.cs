using Lethe.Client;
using Lethe.Demo;

namespace Lethe.Server.Tests.Hosting;

/// What many tests start from: a subscription of their own, made by the operator.
public static class Scenario
{
    /// The operator (Owner at the root scope) makes a new subscription; returns its ID and the operator's client.
    public static async Task<(Guid SubscriptionId, LetheClient Operator)> NewSubscriptionAsync(this LetheHost host, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(host);
        var op = await host.SignInAsync(DemoAccounts.Operator, ct);
        var id = Guid.NewGuid();
        await op.CreateOrUpdateSubscriptionAsync(id, $"Test {id:N}", ct);
        return (id, op);
    }

    /// A new user holding <paramref name="role"/> at <paramref name="scope"/>, granted by <paramref name="owner"/>.
    public static async Task<TestUser> NewUserWithRoleAsync(this LetheHost host, LetheClient owner, string scope, string role, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(owner);
        var user = await host.NewUserAsync(ct);
        await owner.CreateRoleAssignmentAsync(new CreateRoleAssignmentRequest(scope, role, PrincipalId: user.ObjectId), ct: ct);
        return user;
    }

    public static string Scope(Guid subscriptionId) => $"/subscriptions/{subscriptionId:D}";

    public static string Scope(Guid subscriptionId, string resourceGroup) => $"/subscriptions/{subscriptionId:D}/resourceGroups/{resourceGroup}";
}
