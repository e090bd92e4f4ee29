namespace Lethe.Jobs;

/// A record that a recurring sweep failed on. After <see cref="RecurringJob.SetAsideAfter"/> failures
/// in a row it is set aside: later sweeps pass over it, so one bad record never stops the erasure of
/// the others, and the health check reports it until an operator has fixed it and removed this row.
/// A success on the record removes the row.
public sealed class SetAsideRecord
{
    /// The sweep's job kind, e.g. "workspaces.purge-expired".
    public required string Kind { get; init; }

    /// The record as the sweep names it: an ID, never personal data.
    public required string RecordKey { get; init; }

    public int Failures { get; set; }

    public bool SetAside { get; set; }

    /// The last failure: exception type and message, bounded, no stack trace.
    public required string LastError { get; set; }

    public DateTimeOffset FirstFailedAt { get; init; }

    public DateTimeOffset LastFailedAt { get; set; }
}
