using Microsoft.EntityFrameworkCore;

namespace Lethe.Jobs;

/// The writes a worker makes to a job it claimed. Every one is fenced: it touches the row only while
/// the job is still running under this worker's claim (owner and attempt), so a worker that paused
/// past its lease cannot overwrite the work of the worker that took over.
internal static class JobLease
{
    public static IQueryable<Job> Held(LetheDb db, Guid id, string owner, int attempt)
        => db.Jobs.Where(j => j.Id == id && j.State == JobState.Running && j.LeaseOwner == owner && j.Attempt == attempt);

    public static async Task<bool> RenewAsync(LetheDb db, Job job, string owner, DateTimeOffset until, CancellationToken ct)
        => await Held(db, job.Id, owner, job.Attempt)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.LeaseUntil, until), ct) == 1;

    public static async Task<bool> CompleteAsync(LetheDb db, Job job, string owner, string? result, DateTimeOffset now, CancellationToken ct)
        => await Held(db, job.Id, owner, job.Attempt)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Succeeded)
                .SetProperty(j => j.Result, result)
                .SetProperty(j => j.Progress, 100)
                .SetProperty(j => j.CompletedAt, now)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseUntil, (DateTimeOffset?)null), ct) == 1;

    /// Back to pending, not before <paramref name="runAfter"/>; the checkpoint stays for the next attempt.
    public static async Task<bool> RetryAsync(LetheDb db, Job job, string owner, string error, DateTimeOffset runAfter, CancellationToken ct)
        => await Held(db, job.Id, owner, job.Attempt)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Pending)
                .SetProperty(j => j.RunAfter, runAfter)
                .SetProperty(j => j.Failures, j => j.Failures + 1)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseUntil, (DateTimeOffset?)null), ct) == 1;

    public static async Task<bool> FailAsync(LetheDb db, Job job, string owner, string error, bool counted, DateTimeOffset now, CancellationToken ct)
        => await Held(db, job.Id, owner, job.Attempt)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Failed)
                .SetProperty(j => j.Failures, j => j.Failures + (counted ? 1 : 0))
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.CompletedAt, now)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseUntil, (DateTimeOffset?)null), ct) == 1;

    /// Hands the job back at shutdown so that another node takes it now rather than after the lease
    /// expires. The attempt is given back too: a deployment is not a failure of the job.
    public static async Task<bool> ReleaseAsync(LetheDb db, Job job, string owner, DateTimeOffset now, CancellationToken ct)
        => await Held(db, job.Id, owner, job.Attempt)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Pending)
                .SetProperty(j => j.RunAfter, now)
                .SetProperty(j => j.Attempt, j => j.Attempt - 1)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseUntil, (DateTimeOffset?)null), ct) == 1;
}
