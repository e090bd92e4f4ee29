namespace Lethe.Resources;

/// What a module keeps in a resource group (workspaces, labs). Deleting the group deletes it through
/// this, before the group itself goes: rows and blobs, for good (as Azure does). Registered in DI by
/// the module.
public interface IResourceGroupContent
{
    /// Names the step in the delete job's checkpoint; stable and unique per module, e.g. "workspaces".
    string Name { get; }

    /// Deletes everything the module holds in the group. Idempotent: after a crash it runs again over
    /// what is left, so blobs go before the rows that name them.
    Task DeleteAllAsync(Guid subscriptionId, string resourceGroupKey, CancellationToken ct);
}
