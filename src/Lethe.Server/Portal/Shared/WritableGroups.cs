using Lethe.Resources;

namespace Lethe.Server.Portal.Shared;

/// The resource groups where the user can create resources (a workspace, a lab): the visible ones where they hold
/// Write. A form offers them as one choice, <c>{subscriptionId}/{resourceGroup}</c>.
public sealed record WritableGroup(Guid SubscriptionId, string SubscriptionName, string ResourceGroup)
{
    public string Value => $"{SubscriptionId:D}/{ResourceGroup}";

    public static async Task<IReadOnlyList<WritableGroup>> LoadAsync(LetheDb db, Guid principalId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var scopes = await VisibleScopes.LoadAsync(db, principalId, ct);
        var writable = new List<WritableGroup>();
        foreach (var subscription in scopes.Subscriptions)
        {
            foreach (var group in subscription.ResourceGroups)
            {
                if (await db.CheckAsync(principalId, ResourceId.ForResourceGroup(group.SubscriptionId, group.Name), Right.Write, ct) == AccessDecision.Allowed)
                {
                    writable.Add(new WritableGroup(group.SubscriptionId, subscription.Subscription.DisplayName, group.Name));
                }
            }
        }
        return writable;
    }

    /// Splits a form's choice; false when it is not one.
    public static bool TryParse(string? value, out string subscriptionId, out string resourceGroup)
    {
        var slash = value?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        subscriptionId = slash > 0 ? value![..slash] : "";
        resourceGroup = slash > 0 ? value![(slash + 1)..] : "";
        return slash > 0 && resourceGroup.Length > 0;
    }
}
