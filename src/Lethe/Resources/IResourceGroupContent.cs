namespace Lethe.Resources;

/// What a module keeps in a resource group (workspaces, labs). Deleting the group deletes it through
/// this, before the group itself goes: rows and blobs, for good (as Azure does), except what a
/// protection holds back (a soft-deleted workspace under purge protection stays until its retention
/// ends, as Azure Key Vault keeps a protected vault). Registered in DI by the module.
public interface IResourceGroupContent
{
    /// Names the step in the delete job's checkpoint; stable and unique per module, e.g. "workspaces".
    string Name { get; }

    /// Deletes everything the module holds in the group, and returns what it kept and why. Idempotent:
    /// after a crash it runs again over what is left, so blobs go before the rows that name them.
    Task<IReadOnlyList<KeptResource>> DeleteAllAsync(Guid subscriptionId, string resourceGroupKey, CancellationToken ct);
}

/// A resource that deleting its group did not remove yet: it goes at <see cref="Until"/>.
public sealed record KeptResource(string Id, DateTimeOffset Until, string Reason);
