using Lethe.Privacy;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Workspaces;

/// Free workspaces are deleted from the studio's Settings pane, paid ones from the resource's page (seed 000);
/// in Lethe both are deleted the same way, and the tier is shown.
public enum WorkspaceSku
{
    Free,
    Paid,
}

/// An Azure ML workspace in a resource group, with its companion resources (seed 001). A soft-deleted
/// workspace keeps its rows and blobs until <see cref="PurgeAfter"/>, and its name stays reserved.
public sealed class Workspace
{
    public const string ProviderNamespace = "Microsoft.MachineLearningServices";
    public const string ResourceType = "workspaces";
    public const int DefaultRetentionDays = 14;
    public const int MinRetentionDays = 1;
    public const int MaxRetentionDays = 14;

    public Guid Id { get; init; }

    public Guid SubscriptionId { get; init; }

    [NotPersonalData("Names the resource group, not a person.")]
    public required string ResourceGroup { get; init; }

    public required string ResourceGroupKey { get; init; }

    [NotPersonalData("Names the workspace, chosen like a resource name.")]
    public required string Name { get; init; }

    public required string NameKey { get; init; }

    public required string Location { get; set; }

    public WorkspaceSku Sku { get; set; }

    /// Days a soft-deleted workspace can be recovered, 1 to 14.
    public int SoftDeleteRetentionDays { get; set; } = DefaultRetentionDays;

    /// When on, a soft-deleted workspace cannot be purged before its retention ends.
    public bool PurgeProtection { get; set; }

    /// The companion storage account's name; also the blob container that holds the workspace's blobs.
    public required string StorageAccount { get; init; }

    public required string ContainerRegistry { get; init; }

    public required string ApplicationInsights { get; init; }

    public required string KeyVault { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? DeletedAt { get; set; }

    /// When the retention of a soft-deleted workspace ends and the sweep purges it.
    public DateTimeOffset? PurgeAfter { get; set; }

    /// Set when a purge was asked for: the purge job is running and the workspace cannot be recovered.
    public bool Purging { get; set; }

    public ResourceId ResourceId => WorkspaceIds.Workspace(SubscriptionId, ResourceGroup, Name);
}

/// Who is authorized on a workspace, with which role: personal data (seed 000).
[SubjectRecord]
[Erasure(ErasureStrategy.Delete, Phase = -20, Reason = "A member's authorization ends with the person; a workspace whose only member they are is theirs and is purged.")]
public sealed class WorkspaceMember
{
    public Guid WorkspaceId { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid PrincipalId { get; init; }

    /// The member's email when added, trimmed and lower-cased: a key that finds them even after the account's changes.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public required string Email { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsName = true)]
    public required string DisplayName { get; set; }

    public Role Role { get; set; }

    /// The role assignment at the workspace scope that gives the member access.
    public Guid RoleAssignmentId { get; set; }

    public DateTimeOffset AddedAt { get; init; }
}

public enum AssetKind
{
    Data,
    Model,
    Notebook,
    Pipeline,
    Compute,
    Experiment,
}

/// A registered asset of a workspace. Models and data assets are versioned (a registration adds a
/// version); the other kinds have version 1. A data asset points at data in the workspace's storage
/// (<see cref="Path"/>): unregistering it keeps the data. A model's files are blobs under <see cref="Path"/>.
public sealed class WorkspaceAsset
{
    public Guid Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public AssetKind Kind { get; init; }

    [NotPersonalData("Names the asset, chosen like a resource name.")]
    public required string Name { get; init; }

    public required string NameKey { get; init; }

    public int Version { get; init; } = 1;

    public string? Description { get; set; }

    /// Data: the blob path of the data it registers. Model: the blob prefix of its files. Notebook: its file.
    public string? Path { get; set; }

    /// Kind-specific settings (a compute's VM size, a pipeline's steps...) as a JSON object of strings.
    public string Properties { get; set; } = "{}";

    public DateTimeOffset CreatedAt { get; init; }
}

public enum RunStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Canceled,
}

/// A submitted job (an experiment run): who submitted it, when, with which parameters. Its job history
/// document and its outputs and logs are blobs under <c>azureml/ExperimentRun/dcid.{id}/</c>.
[Erasure(ErasureStrategy.Anonymize, Reason = "The run record stays for the experiment's history; who submitted it is replaced by a pseudonym.")]
public sealed class ExperimentRun
{
    public Guid WorkspaceId { get; init; }

    /// The job's ID (its name), unique in the workspace.
    public required string JobId { get; init; }

    public required string JobIdKey { get; init; }

    /// Tells this job from an earlier one of the same ID, deleted: a write fenced on this job
    /// (<see cref="WorkspaceFence"/>) is refused once the job it was for is gone, even if the ID is used again.
    public Guid Incarnation { get; init; }

    public required string ExperimentName { get; init; }

    public string? Title { get; set; }

    public RunStatus Status { get; set; }

    /// The parameters as a JSON object of strings.
    public string Parameters { get; init; } = "{}";

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid SubmittedBy { get; set; }

    public DateTimeOffset SubmittedAt { get; init; }

    /// Archived jobs are hidden from lists; their data is kept.
    public DateTimeOffset? ArchivedAt { get; set; }

    /// When the job's history document was deleted from the workspace's storage: the job stays, without it.
    public DateTimeOffset? HistoryDocumentDeletedAt { get; set; }
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<Workspace>
{
    public void Configure(EntityTypeBuilder<Workspace> w)
    {
        w.HasKey(x => x.Id);
        w.Property(x => x.ResourceGroup).HasMaxLength(ResourceId.MaxNameLength);
        w.Property(x => x.ResourceGroupKey).HasMaxLength(ResourceId.MaxNameLength);
        w.Property(x => x.Name).HasMaxLength(WorkspaceNames.MaxWorkspaceName);
        w.Property(x => x.NameKey).HasMaxLength(WorkspaceNames.MaxWorkspaceName);
        w.Property(x => x.Location).HasMaxLength(64);
        w.Property(x => x.StorageAccount).HasMaxLength(24);
        w.Property(x => x.ContainerRegistry).HasMaxLength(50);
        w.Property(x => x.ApplicationInsights).HasMaxLength(64);
        w.Property(x => x.KeyVault).HasMaxLength(24);
        // The name stays reserved while soft-deleted: unique whether deleted or not.
        w.HasIndex(x => new { x.SubscriptionId, x.ResourceGroupKey, x.NameKey }).IsUnique();
        w.HasIndex(x => x.StorageAccount).IsUnique();
        w.HasIndex(x => x.PurgeAfter);
        // No foreign key to the resource group: a purge-protected workspace outlives its deleted group,
        // soft-deleted, until its retention ends (WorkspacesInResourceGroup).
        w.Ignore(x => x.ResourceId);
    }
}

internal sealed class WorkspaceMemberConfiguration : IEntityTypeConfiguration<WorkspaceMember>
{
    public void Configure(EntityTypeBuilder<WorkspaceMember> m)
    {
        m.HasKey(x => new { x.WorkspaceId, x.PrincipalId });
        m.Property(x => x.Email).HasMaxLength(256);
        m.Property(x => x.DisplayName).HasMaxLength(256);
        m.HasIndex(x => x.PrincipalId);
        m.HasIndex(x => x.Email);
        m.HasOne<Workspace>().WithMany().HasForeignKey(x => x.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkspaceAssetConfiguration : IEntityTypeConfiguration<WorkspaceAsset>
{
    public void Configure(EntityTypeBuilder<WorkspaceAsset> a)
    {
        a.HasKey(x => x.Id);
        a.Property(x => x.Name).HasMaxLength(WorkspaceNames.MaxAssetName);
        a.Property(x => x.NameKey).HasMaxLength(WorkspaceNames.MaxAssetName);
        a.Property(x => x.Description).HasMaxLength(1024);
        a.Property(x => x.Path).HasMaxLength(1024);
        a.Property(x => x.Properties).HasMaxLength(8000);
        a.HasIndex(x => new { x.WorkspaceId, x.Kind, x.NameKey, x.Version }).IsUnique();
        a.HasOne<Workspace>().WithMany().HasForeignKey(x => x.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ExperimentRunConfiguration : IEntityTypeConfiguration<ExperimentRun>
{
    public void Configure(EntityTypeBuilder<ExperimentRun> r)
    {
        r.HasKey(x => new { x.WorkspaceId, x.JobIdKey });
        r.Property(x => x.JobId).HasMaxLength(WorkspaceNames.MaxJobId);
        r.Property(x => x.JobIdKey).HasMaxLength(WorkspaceNames.MaxJobId);
        r.Property(x => x.ExperimentName).HasMaxLength(WorkspaceNames.MaxAssetName);
        r.Property(x => x.Title).HasMaxLength(256);
        r.Property(x => x.Parameters).HasMaxLength(8000);
        r.HasIndex(x => x.SubmittedBy);
        r.HasOne<Workspace>().WithMany().HasForeignKey(x => x.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
