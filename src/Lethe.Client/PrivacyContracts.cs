namespace Lethe.Client;

/// The person a privacy officer files a request for: exactly one of the three.
public sealed record PrivacySubject(string? Email = null, Guid? ObjectId = null, string? AuthorId = null);

/// <c>POST /privacy/requests</c>. Without <see cref="Subject"/> the caller asks for themself.
public sealed record CreatePrivacyRequest(string Type, PrivacySubject? Subject = null, bool? DryRun = null, bool? AnonymizeNow = null, string? Verification = null);

public static class PrivacyRequestTypes
{
    public const string Export = "Export";
    public const string Erasure = "Erasure";
}

public static class PrivacyRequestStatuses
{
    public const string Received = "Received";
    public const string Verified = "Verified";
    public const string Running = "Running";
    public const string Completed = "Completed";
    public const string Failed = "Failed";
    public const string Denied = "Denied";
    public const string Cancelled = "Cancelled";

    public static bool IsEnded(string status) => status is Completed or Failed or Denied or Cancelled;
}

public sealed record PrivacyApproval(string State, Guid? By, DateTimeOffset? At, string? Reason);

public sealed record PrivacyRequestStep(string Location, string Status, long Records);

public sealed record PrivacyPreviewEntry(string Module, string Location, string Strategy, string Outcome, long Records, DateTimeOffset? Date = null, string? Reason = null);

public sealed record PrivacyRetainedEntry(string Module, string Location, long Records, DateTimeOffset? Until = null, string? Reason = null);

public sealed record PrivacyFailure(string Step, string Message);

public sealed record PrivacyBundleInfo(long Bytes, string Sha256, DateTimeOffset ExpiresAt);

/// A privacy request as the API shows it: the subject only as a keyed hash.
public sealed record PrivacyRequestResource(
    Guid Id,
    string Type,
    string Status,
    bool DryRun,
    string Subject,
    DateTimeOffset ReceivedAt,
    DateTimeOffset DueAt,
    PrivacyApproval Approval,
    IReadOnlyList<PrivacyRequestStep> Steps)
{
    public bool AnonymizeNow { get; init; }
    public bool FiledByOfficer { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public IReadOnlyList<PrivacyPreviewEntry>? Preview { get; init; }
    public IReadOnlyList<PrivacyRetainedEntry>? Retained { get; init; }
    public PrivacyFailure? Failure { get; init; }
    public PrivacyBundleInfo? Bundle { get; init; }
    public bool Overdue { get; init; }

    /// How the officer who filed it checked the person's identity (shown to privacy officers only).
    public string? Verification { get; init; }
}

/// <c>POST /privacy/requests/{id}/deny</c> (reason required) and <c>/approve</c> (reason optional).
public sealed record PrivacyDecision(string? Reason);
