namespace Lethe.Jobs;

/// Takes the next due job for one worker, atomically, so that two workers never hold the same job.
/// Provider-specific because the atomic claim is: SQLite serializes writers, PostgreSQL needs
/// `FOR UPDATE SKIP LOCKED` so that concurrent claimers pass over each other's rows instead of queueing.
public interface IJobClaimer
{
    /// Claims one job that is due (pending with <see cref="Job.RunAfter"/> reached) or abandoned
    /// (running with an expired lease): sets it Running, leased to <paramref name="owner"/> until
    /// <paramref name="now"/> + <paramref name="lease"/>, counts the attempt, and returns it as
    /// stored after the claim. Null when there is nothing to do.
    Task<Job?> ClaimAsync(LetheDb db, string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct);
}
