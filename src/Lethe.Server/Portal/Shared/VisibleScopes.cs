using Lethe.Resources;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Shared;

public sealed record VisibleSubscription(Subscription Subscription, IReadOnlyList<ResourceGroup> ResourceGroups, bool MoreResourceGroups);

/// The subscriptions and resource groups a user can see, through the core's access queries. A page shows at
/// most <see cref="PageSize"/> of each and says when there are more: a root Owner sees every subscription.
public sealed record VisibleScopes(IReadOnlyList<VisibleSubscription> Subscriptions, bool MoreSubscriptions)
{
    public const int PageSize = 50;

    public bool IsEmpty => Subscriptions.Count == 0;

    public static async Task<VisibleScopes> LoadAsync(LetheDb db, Guid principalId, CancellationToken ct)
    {
        var subscriptions = await db.VisibleSubscriptions(principalId).AsNoTracking()
            .OrderBy(s => s.DisplayName).ThenBy(s => s.Id).Take(PageSize + 1).ToListAsync(ct);
        var visible = new List<VisibleSubscription>(Math.Min(subscriptions.Count, PageSize));
        foreach (var subscription in subscriptions.Take(PageSize))
        {
            var groups = await db.VisibleResourceGroups(principalId, subscription.Id).AsNoTracking()
                .OrderBy(g => g.NameKey).Take(PageSize + 1).ToListAsync(ct);
            visible.Add(new VisibleSubscription(subscription, groups.Take(PageSize).ToList(), groups.Count > PageSize));
        }
        return new VisibleScopes(visible, subscriptions.Count > PageSize);
    }
}
