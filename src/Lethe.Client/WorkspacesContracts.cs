namespace Lethe.Client;

/// An ARM SKU: for workspaces "Free" or "Paid" (the classic studio's tiers).
public sealed record ArmSku(string Name);

/// A workspace as Azure ML's REST API shapes it: the companion resources are properties holding their IDs.
public sealed record WorkspaceResource(string Id, string Name, string Type, string Location, ArmSku Sku, WorkspaceProperties Properties);

public sealed record WorkspaceProperties(
    string ProvisioningState,
    string StorageAccount,
    string ContainerRegistry,
    string ApplicationInsights,
    string KeyVault,
    int SoftDeleteRetentionInDays,
    bool EnablePurgeProtection,
    DateTimeOffset CreationTime,
    DateTimeOffset? SoftDeletedAt,
    DateTimeOffset? ScheduledPurgeDate);

/// PUT body of a workspace: location required; sku "Free" (default) or "Paid"; retention 1 to 14 days (14 by default).
public sealed record CreateWorkspaceRequest(string Location, ArmSku? Sku = null, int? SoftDeleteRetentionInDays = null, bool? EnablePurgeProtection = null);

/// A companion resource, listed with its workspace.
public sealed record CompanionResource(string Id, string Name, string Type);

public sealed record WorkspaceMemberResource(Guid PrincipalId, string Email, string DisplayName, string Role, DateTimeOffset AddedAt);

/// Adds (or changes the role of) a member, found by object ID or by email.
public sealed record AddWorkspaceMemberRequest(string Role, Guid? PrincipalId = null, string? Email = null);

/// Asset kinds as their path segments: data, models, notebooks, pipelines, computes, experiments.
public static class AssetKinds
{
    public const string Data = "data";
    public const string Models = "models";
    public const string Notebooks = "notebooks";
    public const string Pipelines = "pipelines";
    public const string Computes = "computes";
    public const string Experiments = "experiments";

    public static IReadOnlyList<string> All { get; } = [Data, Models, Notebooks, Pipelines, Computes, Experiments];
}

public sealed record AssetResource(
    string Id, string Kind, string Name, int Version, string? Description, string? Path,
    IReadOnlyDictionary<string, string> Properties, DateTimeOffset CreatedAt);

/// PUT body of an asset. A data asset needs <see cref="Path"/>: the data's path in the workspace's storage.
public sealed record PutAssetRequest(string? Description = null, string? Path = null, IReadOnlyDictionary<string, string>? Properties = null);

/// <see cref="HasHistoryDocument"/> is false once the job's history document was deleted from the workspace's storage
/// (at <see cref="HistoryDocumentDeletedAt"/>): the job's record stays.
public sealed record JobResource(
    string Id, string JobId, string ExperimentName, string? DisplayName, string Status,
    IReadOnlyDictionary<string, string> Parameters, Guid SubmittedBy, DateTimeOffset SubmittedAt, bool Archived,
    bool HasHistoryDocument = true, DateTimeOffset? HistoryDocumentDeletedAt = null);

public sealed record SubmitJobRequest(string ExperimentName, string? DisplayName = null, IReadOnlyDictionary<string, string>? Parameters = null);

/// A blob of a workspace: a job artifact (path relative to the job's folder), a model file, or a storage blob.
public sealed record ArtifactResource(string Path, long Length, string? ContentType, DateTimeOffset LastModified);
