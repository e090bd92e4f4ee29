using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lethe.Jobs;

/// Ended jobs are kept for <see cref="JobOptions.RetentionDays"/> (30) so their operations can be read, then
/// deleted: a job row names who asked (<see cref="Job.RequestedBy"/>) and what for, which is not kept for ever.
public sealed class PurgeEndedJobs(LetheDb db, TimeProvider clock, IOptions<JobOptions> options, ILogger<PurgeEndedJobs> logger)
    : RecurringJob(db, clock, logger)
{
    public const string JobKind = "jobs.retention";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(6);

    /// The decision: an ended job is due once its retention has passed since it ended.
    public static bool IsDue(JobState state, DateTimeOffset? completedAt, int retentionDays, DateTimeOffset now)
        => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled
            && completedAt is { } ended && now >= ended.AddDays(retentionDays);

    /// One statement: the ended jobs whose retention has passed.
    public static Task<int> RunAsync(LetheDb db, int retentionDays, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var cutoff = now.AddDays(-retentionDays);
        return db.Jobs
            .Where(j => (j.State == JobState.Succeeded || j.State == JobState.Failed || j.State == JobState.Cancelled)
                && j.CompletedAt != null && j.CompletedAt <= cutoff)
            .ExecuteDeleteAsync(ct);
    }

    protected override async Task<string> SweepAsync(CancellationToken ct)
        => $$"""{"deleted":{{await RunAsync(Db, options.Value.RetentionDays, Clock.GetUtcNow(), ct)}}}""";
}
