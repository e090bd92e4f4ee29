using System.Collections.Concurrent;
using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Jobs;

/// No job runs twice: concurrent claims never return the same job, on either provider.
public sealed class JobClaimTests
{
    private const int JobCount = 200;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Concurrent_claimers_never_claim_the_same_job(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, _ => { });
        var claimer = node.GetRequiredService<IJobClaimer>();
        var ids = await EnqueueManyAsync(db, "test.claimed", clock, JobCount, ct);

        var claims = new ConcurrentBag<(Guid Id, string Owner)>();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claimers = Enumerable.Range(1, 8).Select(i => Task.Run(async () =>
        {
            var owner = $"claimer-{i}";
            await using var context = db.CreateContext();
            await go.Task;
            while (await claimer.ClaimAsync(context, owner, clock.GetUtcNow(), TimeSpan.FromMinutes(1), ct) is { } job)
            {
                Assert.Equal((JobState.Running, owner, 1), (job.State, job.LeaseOwner, job.Attempt));
                claims.Add((job.Id, owner));
            }
        }, ct)).ToList();
        go.SetResult();
        await Task.WhenAll(claimers).WaitAsync(JobTestHost.Patience, ct);

        Assert.Equal(JobCount, claims.Count);
        Assert.Equal(ids.Order(), claims.Select(c => c.Id).Order());
        await using var check = db.CreateContext();
        var stored = await check.Jobs.AsNoTracking().ToListAsync(ct);
        Assert.All(stored, j => Assert.Equal((JobState.Running, 1), (j.State, j.Attempt)));
        Assert.Equal(claims.ToDictionary(c => c.Id, c => c.Owner), stored.ToDictionary(j => j.Id, j => j.LeaseOwner!));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Workers_on_two_nodes_run_every_job_exactly_once(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var runs = new ConcurrentDictionary<Guid, int>();
        await using var nodeA = Node(db, runs);
        await using var nodeB = Node(db, runs);
        // Fewer than for the claimers: each job is two commits, and SQLite commits one at a time.
        var ids = await EnqueueManyAsync(db, Counted.Name, TimeProvider.System, 100, ct);

        await Task.WhenAll(nodeA.Worker().StartAsync(ct), nodeB.Worker().StartAsync(ct));
        await JobTestHost.WaitUntilAsync(
            async () =>
            {
                await using var context = db.CreateContext();
                return await context.Jobs.CountAsync(j => j.State == JobState.Succeeded, ct) == ids.Count;
            },
            "every job succeeded",
            ct);
        await Task.WhenAll(nodeA.Worker().StopAsync(ct), nodeB.Worker().StopAsync(ct));

        Assert.Equal(ids.Order(), runs.Keys.Order());
        Assert.All(runs, run => Assert.Equal(1, run.Value));
        await using var check = db.CreateContext();
        Assert.Equal(ids.Count, await check.Jobs.CountAsync(j => j.State == JobState.Succeeded && j.Attempt == 1 && j.Result == "\"counted\"", ct));

        static ServiceProvider Node(TestDatabase db, ConcurrentDictionary<Guid, int> runs)
            => JobTestHost.Create(
                db,
                TimeProvider.System,
                s => s.AddSingleton(runs).AddTransient<IJobHandler, Counted>(),
                o => (o.Workers, o.PollIntervalMilliseconds) = (2, 20));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Jobs_not_yet_due_and_cancelled_jobs_are_not_claimed(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, _ => { });
        var claimer = node.GetRequiredService<IJobClaimer>();
        Job later, cancelled;
        await using (var context = db.CreateContext())
        {
            later = JobQueue.Add(context, "test.later", "{}", null, null, clock, runAfter: JobTestHost.Start.AddMinutes(5));
            cancelled = JobQueue.Add(context, "test.cancelled", "{}", null, null, clock);
            await context.SaveChangesAsync(ct);
            Assert.True(await JobQueue.CancelAsync(context, cancelled.Id, clock, ct));
            Assert.False(await JobQueue.CancelAsync(context, cancelled.Id, clock, ct));
        }

        await using var claims = db.CreateContext();
        Assert.Null(await claimer.ClaimAsync(claims, "w", clock.GetUtcNow(), TimeSpan.FromMinutes(1), ct));
        clock.Advance(TimeSpan.FromMinutes(5));
        var claimed = await claimer.ClaimAsync(claims, "w", clock.GetUtcNow(), TimeSpan.FromMinutes(1), ct);
        Assert.Equal(later.Id, claimed?.Id);
        Assert.Equal(clock.GetUtcNow(), claimed?.StartedAt);
        Assert.Null(await claimer.ClaimAsync(claims, "w", clock.GetUtcNow(), TimeSpan.FromMinutes(1), ct));

        // A running job is not cancelled half-way.
        Assert.False(await JobQueue.CancelAsync(claims, later.Id, clock, ct));
        var stored = await db.LoadJobAsync(cancelled.Id, ct);
        Assert.Equal((JobState.Cancelled, 0, JobTestHost.Start), (stored.State, stored.Attempt, stored.CompletedAt));
    }

    private static async Task<List<Guid>> EnqueueManyAsync(TestDatabase db, string kind, TimeProvider clock, int count, CancellationToken ct)
    {
        await using var context = db.CreateContext();
        var jobs = Enumerable.Range(0, count).Select(i => JobQueue.Add(context, kind, $$"""{"n":{{i}}}""", null, null, clock)).ToList();
        await context.SaveChangesAsync(ct);
        return jobs.Select(j => j.Id).ToList();
    }

    private sealed class Counted(ConcurrentDictionary<Guid, int> runs) : IJobHandler
    {
        public const string Name = "test.counted";

        public string Kind => Name;

        public async Task RunAsync(JobContext context, CancellationToken ct)
        {
            runs.AddOrUpdate(context.Job.Id, 1, (_, n) => n + 1);
            await Task.Yield();
            context.SetResult("\"counted\"");
        }
    }
}
