using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Privacy.Requests;

public enum PrivacyRequestType
{
    Export,
    Erasure,
}

/// Received → Verified → Running → Completed | Failed (retryable), or Denied / Cancelled before it runs.
public enum PrivacyRequestStatus
{
    Received,
    Verified,
    Running,
    Completed,
    Failed,
    Denied,
    Cancelled,
}

public enum ApprovalState
{
    NotNeeded,
    Pending,
    Approved,
    Denied,
}

/// A data subject's request (export or erasure), filed by the person (self-service) or by a privacy officer on their
/// behalf. It is run by a durable job, one checkpointed step per location of the personal-data map; its progress and
/// the keys it found the person by live in <see cref="Work"/> while it runs and are erased when it ends, so that an
/// ended request knows the person only by <see cref="SubjectHash"/>.
[Erasure(ErasureStrategy.Anonymize, Phase = -100, Reason = "An erasure first deletes the person's export bundles and the identifiers their earlier requests used to find them; each request keeps its keyed hash, which nobody can link back without the deployment's secret.")]
public sealed class PrivacyRequest
{
    public const int MaxVerificationLength = 2000;
    public const int MaxReasonLength = 2000;

    public Guid Id { get; init; }

    public PrivacyRequestType Type { get; init; }

    public PrivacyRequestStatus Status { get; set; }

    public bool DryRun { get; init; }

    public bool AnonymizeNow { get; init; }

    /// HMAC-SHA256 (deployment secret) of the person's primary key: their object ID when Lethe knows one, else the email
    /// or author ID given. Lower-case hex. The only trace of the person an ended request keeps.
    [NotPersonalData("A keyed hash: nobody without the deployment's secret can link it to a person.")]
    public required string SubjectHash { get; init; }

    /// The identifiers the request finds the person by, until it ends.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? SubjectObjectId { get; set; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public string? SubjectEmail { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.AuthorId, IsSubjectKey = true, KeyCase = KeyCase.Upper)]
    public string? SubjectAuthorId { get; set; }

    /// The privacy officer who filed it on the person's behalf; null when the person filed it themself.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? FiledBy { get; init; }

    /// How the officer checked the person's identity, in their words: kept as the officer's evidence after the
    /// request ends, until the person is erased (it may name them).
    [PersonalData(PersonalDataCategory.Content, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public string? Verification { get; set; }

    public DateTimeOffset ReceivedAt { get; init; }

    public DateTimeOffset DueAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    public ApprovalState Approval { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? ApprovalBy { get; set; }

    public DateTimeOffset? ApprovalAt { get; set; }

    public string? ApprovalReason { get; set; }

    /// The steps as JSON: [{location, status, records}], one per location, in the order they run.
    public string Steps { get; set; } = "[]";

    /// A dry run's (or a finished erasure's) outcome per location, as JSON.
    public string? Preview { get; set; }

    /// What a finished erasure left by a declared rule (retained until a date, or kept for a reason), as JSON.
    public string? Retained { get; set; }

    public string? FailureStep { get; set; }

    public string? FailureMessage { get; set; }

    /// The job that runs it now (the latest one: a retry queues another).
    public Guid? JobId { get; set; }

    /// The running request's own state: resolved keys, the erasure's pseudonym, staged files. Erased when it ends.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, Export = PersonalDataExport.Omit)]
    public string? Work { get; set; }

    /// The export bundle: its blob name in <see cref="PrivacyBlobs.Container"/>, size, checksum and when it is deleted.
    public string? BundleName { get; set; }

    public long? BundleBytes { get; set; }

    public string? BundleSha256 { get; set; }

    public DateTimeOffset? BundleExpiresAt { get; set; }

    /// Optimistic concurrency: two officers approving at once, or a cancel racing the job's start, end in one state.
    public Guid Version { get; set; }

    public bool IsEnded => Status is PrivacyRequestStatus.Completed or PrivacyRequestStatus.Denied or PrivacyRequestStatus.Cancelled;
}

internal sealed class PrivacyRequestConfiguration : IEntityTypeConfiguration<PrivacyRequest>
{
    public void Configure(EntityTypeBuilder<PrivacyRequest> e)
    {
        e.HasKey(x => x.Id);
        e.Property(x => x.SubjectHash).HasMaxLength(64);
        e.Property(x => x.SubjectEmail).HasMaxLength(256);
        e.Property(x => x.SubjectAuthorId).HasMaxLength(64);
        e.Property(x => x.Verification).HasMaxLength(PrivacyRequest.MaxVerificationLength);
        e.Property(x => x.ApprovalReason).HasMaxLength(PrivacyRequest.MaxReasonLength);
        e.Property(x => x.FailureStep).HasMaxLength(512);
        e.Property(x => x.FailureMessage).HasMaxLength(2000);
        e.Property(x => x.BundleName).HasMaxLength(256);
        e.Property(x => x.BundleSha256).HasMaxLength(64);
        e.Property(x => x.Version).IsConcurrencyToken();
        e.HasIndex(x => x.SubjectHash);
        e.HasIndex(x => x.SubjectObjectId);
        e.HasIndex(x => x.SubjectEmail);
        e.HasIndex(x => x.SubjectAuthorId);
        e.HasIndex(x => x.FiledBy);
        e.HasIndex(x => x.ApprovalBy);
        e.HasIndex(x => new { x.Status, x.DueAt });
        e.HasIndex(x => x.BundleExpiresAt);
    }
}
