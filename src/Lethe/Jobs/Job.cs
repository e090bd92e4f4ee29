using Lethe.Privacy;

namespace Lethe.Jobs;

public enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// A durable unit of background work (export, erasure, sweep, usage export), stored in the same
/// database as the data it changes. A worker claims it with a lease; a worker that dies loses the
/// lease, and another resumes from <see cref="Checkpoint"/>.
[Erasure(ErasureStrategy.Anonymize, Reason = "The record of work done stays; who asked for it is replaced by a pseudonym.")]
public sealed class Job
{
    public Guid Id { get; init; }

    /// Which handler runs it, e.g. "resources.delete-group".
    public required string Kind { get; init; }

    /// The handler's input as JSON. Holds IDs, never personal data in clear.
    public required string Payload { get; init; }

    public JobState State { get; set; }

    /// How many times a worker has claimed it.
    public int Attempt { get; set; }

    public int MaxAttempts { get; init; } = 5;

    /// Not claimed before this time: backoff after a failure, or a scheduled start.
    public DateTimeOffset RunAfter { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseUntil { get; set; }

    /// The handler's progress, as JSON it alone reads.
    public string? Checkpoint { get; set; }

    /// 0 to 100, for progress bars.
    public int Progress { get; set; }

    /// The handler's result, as JSON (e.g. where the export was written).
    public string? Result { get; set; }

    /// The last failure: a message safe to show (no personal data, no stack trace).
    public string? Error { get; set; }

    /// Who asked for it (object ID), for access checks on the operation status.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? RequestedBy { get; set; }

    /// The resource it acts on, for access checks on the operation status.
    public string? ResourceId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }
}
