using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Tests.Jobs;

/// Ended jobs (who asked, for what) are kept for Lethe:Jobs:RetentionDays, then deleted; live ones never.
public sealed class EndedJobRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(JobState.Succeeded, 31, true)]
    [InlineData(JobState.Failed, 30, true)]
    [InlineData(JobState.Cancelled, 29, false)]
    [InlineData(JobState.Running, 90, false)]
    [InlineData(JobState.Pending, 90, false)]
    public void An_ended_job_is_due_once_its_retention_has_passed(JobState state, int daysAgo, bool due)
        => Assert.Equal(due, PurgeEndedJobs.IsDue(state, Now.AddDays(-daysAgo), 30, Now));

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_sweep_deletes_ended_jobs_past_their_retention_and_nothing_else(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var database = await TestDatabase.CreateAsync(provider, ct);
        await using var db = database.CreateContext();
        var owner = Guid.NewGuid();
        Job Make(JobState state, int endedDaysAgo) => new()
        {
            Id = Guid.NewGuid(), Kind = "test.ended", Payload = "{}", State = state, RequestedBy = owner, RunAfter = Now,
            CreatedAt = Now.AddDays(-endedDaysAgo - 1), CompletedAt = state is JobState.Pending or JobState.Running ? null : Now.AddDays(-endedDaysAgo),
        };
        var old = new[] { Make(JobState.Succeeded, 31), Make(JobState.Failed, 45), Make(JobState.Cancelled, 30) };
        var kept = new[] { Make(JobState.Succeeded, 2), Make(JobState.Pending, 60), Make(JobState.Running, 60) };
        db.Jobs.AddRange([.. old, .. kept]);
        await db.SaveChangesAsync(ct);

        var deleted = await PurgeEndedJobs.RunAsync(db, 30, Now, ct);

        Assert.Equal(3, deleted);
        Assert.Equal(kept.Select(j => j.Id).Order(), (await db.Jobs.Select(j => j.Id).ToListAsync(ct)).Order());
        Assert.Equal(0, await PurgeEndedJobs.RunAsync(db, 30, Now, ct));
    }
}
