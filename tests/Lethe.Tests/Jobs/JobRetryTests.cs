using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Jobs;

public sealed class JobRetryTests
{
    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failing_job_is_retried_with_backoff_until_it_succeeds(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, FailsTwice>());
        var worker = node.Worker();
        var job = await db.EnqueueAsync(FailsTwice.Name, clock, ct);

        Assert.True(await worker.RunNextAsync("w", ct));
        var first = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Pending, 1, "InvalidOperationException: the archive service is down (attempt 1)"), (first.State, first.Attempt, first.Error));
        Assert.Null(first.LeaseOwner);
        Assert.Null(first.LeaseUntil);
        Assert.InRange(first.RunAfter, clock.GetUtcNow().AddSeconds(8), clock.GetUtcNow().AddSeconds(10));

        Assert.False(await worker.RunNextAsync("w", ct), "A job was retried before its backoff ended.");
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await worker.RunNextAsync("w", ct));
        var second = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Pending, 2), (second.State, second.Attempt));
        Assert.InRange(second.RunAfter, clock.GetUtcNow().AddSeconds(16), clock.GetUtcNow().AddSeconds(20));

        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await worker.RunNextAsync("w", ct));
        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 3, 100, "\"third time\""), (done.State, done.Attempt, done.Progress, done.Result));
        Assert.Equal(JobTestHost.Start, done.StartedAt);
        Assert.Equal(clock.GetUtcNow(), done.CompletedAt);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_that_keeps_failing_ends_failed_with_a_safe_error(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, AlwaysFails>());
        var worker = node.Worker();
        Job job;
        await using (var context = db.CreateContext())
        {
            job = JobQueue.Add(context, AlwaysFails.Name, "{}", null, null, clock, maxAttempts: 2);
            await context.SaveChangesAsync(ct);
        }

        Assert.True(await worker.RunNextAsync("w", ct));
        clock.Advance(Backoff.Max);
        Assert.True(await worker.RunNextAsync("w", ct));

        var failed = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Failed, 2, 2), (failed.State, failed.Attempt, failed.Failures));
        Assert.Equal("InvalidOperationException: export failed ---> IOException: disk full", failed.Error);
        Assert.Equal(clock.GetUtcNow(), failed.CompletedAt);
        Assert.Null(failed.LeaseOwner);
        clock.Advance(Backoff.Max);
        Assert.False(await worker.RunNextAsync("w", ct), "A failed job was claimed again.");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_of_an_unknown_kind_fails_at_once(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, AlwaysFails>());
        var job = await db.EnqueueAsync("nobody.handles-this", clock, ct);

        Assert.True(await node.Worker().RunNextAsync("w", ct));

        var failed = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Failed, 1), (failed.State, failed.Attempt));
        Assert.Equal("No handler is registered for job kind 'nobody.handles-this'.", failed.Error);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_killed_more_times_than_its_attempt_limit_still_completes(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, FailsTwice>());
        Job job;
        await using (var context = db.CreateContext())
        {
            job = JobQueue.Add(context, FailsTwice.Name, "{}", null, null, clock, maxAttempts: 1);
            await context.SaveChangesAsync(ct);
            // Three workers claim it in turn and their processes die on the spot.
            for (var i = 0; i < 3; i++)
            {
                Assert.NotNull(await node.GetRequiredService<IJobClaimer>().ClaimAsync(context, $"dead-{i}", clock.GetUtcNow(), TimeSpan.FromSeconds(60), ct));
                clock.Advance(TimeSpan.FromSeconds(61));
            }
        }

        Assert.True(await node.Worker().RunNextAsync("w", ct));

        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 4, 3, 0), (done.State, done.Attempt, done.LostLeases, done.Failures));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_that_kills_its_workers_again_and_again_is_given_up(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, FailsTwice>());
        var job = await db.EnqueueAsync(FailsTwice.Name, clock, ct);
        await using (var context = db.CreateContext())
        {
            for (var i = 0; i <= JobWorker.MaxLostLeases; i++)
            {
                Assert.NotNull(await node.GetRequiredService<IJobClaimer>().ClaimAsync(context, $"dead-{i}", clock.GetUtcNow(), TimeSpan.FromSeconds(60), ct));
                clock.Advance(TimeSpan.FromSeconds(61));
            }
        }

        Assert.True(await node.Worker().RunNextAsync("w", ct));

        var failed = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Failed, JobWorker.MaxLostLeases + 1, 0), (failed.State, failed.LostLeases, failed.Failures));
        Assert.Equal($"The job's worker stopped {JobWorker.MaxLostLeases + 1} times before it finished; it is not started again.", failed.Error);
    }

    private sealed class FailsTwice : IJobHandler
    {
        public const string Name = "test.fails-twice";

        public string Kind => Name;

        public Task RunAsync(JobContext context, CancellationToken ct)
        {
            if (context.Job.Attempt < 3)
            {
                throw new InvalidOperationException($"the archive service is down (attempt {context.Job.Attempt})");
            }
            context.SetResult("\"third time\"");
            return Task.CompletedTask;
        }
    }

    private sealed class AlwaysFails : IJobHandler
    {
        public const string Name = "test.always-fails";

        public string Kind => Name;

        public Task RunAsync(JobContext context, CancellationToken ct)
            => throw new InvalidOperationException("export failed", new IOException("disk full"));
    }
}
