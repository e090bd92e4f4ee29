using Lethe.Privacy;

namespace Lethe.Resources;

public sealed class Subscription
{
    public Guid Id { get; init; }

    [NotPersonalData("Names the subscription, chosen by the operator.")]
    public required string DisplayName { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public ResourceId ResourceId => ResourceId.ForSubscription(Id);
}

public sealed class ResourceGroup
{
    public Guid SubscriptionId { get; init; }

    [NotPersonalData("Names the resource group, not a person.")]
    public required string Name { get; init; }

    /// Lower-cased name: resource group names are case-insensitive, as in Azure, on both databases.
    public required string NameKey { get; init; }

    public required string Location { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public ResourceId ResourceId => ResourceId.ForResourceGroup(SubscriptionId, Name);
}
