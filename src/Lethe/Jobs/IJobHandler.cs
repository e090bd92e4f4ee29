namespace Lethe.Jobs;

/// Runs the jobs of one <see cref="Kind"/>. Registered in DI (scoped or transient) by the module
/// that owns the work; resolved in a scope of its own for each run.
///
/// A run may be a resumption: a handler reads <see cref="Job.Checkpoint"/> and continues after the
/// last step it recorded, and records each step with <see cref="JobContext.CheckpointAsync"/>.
/// Work done after the last checkpoint runs again when a worker dies, so each step is either
/// idempotent or, when its side effects are in the database, made exactly-once by saving its
/// changes and its checkpoint in one transaction on the scope's <see cref="LetheDb"/>.
public interface IJobHandler
{
    string Kind { get; }

    /// <paramref name="ct"/> is cancelled when the process stops or the lease is lost; stop promptly.
    Task RunAsync(JobContext context, CancellationToken ct);

    /// The payload as it is kept once the job has ended (succeeded, or failed for good): credentials and
    /// personal data it carried for the run are dropped (the lab export's SAS URI). Null keeps it as it is.
    string? PayloadWhenEnded(string payload) => null;
}
