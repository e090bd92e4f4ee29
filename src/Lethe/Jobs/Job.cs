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

    /// How many times a worker has claimed it: runs that failed, runs whose worker died, and the last one.
    public int Attempt { get; set; }

    /// Runs that ended in an error. <see cref="MaxAttempts"/> bounds these, not the claims: a worker
    /// that died (a lost lease) is not the job's fault.
    public int Failures { get; set; }

    /// Claims taken over from a worker whose lease expired (it died, or stalled past its lease).
    public int LostLeases { get; set; }

    /// Runs that may end in an error before the job fails for good.
    public int MaxAttempts { get; init; } = 5;

    /// At most one live (pending or running) exclusive job per <see cref="Kind"/> and
    /// <see cref="ResourceId"/>, enforced by a unique index: asking twice for the same purge or delete
    /// finds the first job instead of queueing a second, concurrent one.
    public bool Exclusive { get; init; }

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
