using System.Collections.Concurrent;
using System.Text.Json;
using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Jobs;

/// A worker that dies (or freezes) mid-job: the lease keeps others off while it is valid, then the
/// job is taken over and finishes from its checkpoint, and the first worker can no longer write.
public sealed class JobResumeTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_job_whose_worker_died_is_resumed_from_its_checkpoint_after_the_lease_expires(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        // Each node has its own clock: node A's stands still, as a frozen process's does, so its
        // heartbeat never renews the lease; node B's moves on.
        var clockA = new FakeTimeProvider(JobTestHost.Start);
        var clockB = new FakeTimeProvider(JobTestHost.Start);
        var steps = new Steps();
        await using var nodeA = JobTestHost.Create(db, clockA, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        await using var nodeB = JobTestHost.Create(db, clockB, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        var job = await db.EnqueueAsync(ThreeSteps.Name, clockA, ct);

        var runA = nodeA.Worker().RunNextAsync("node-a", ct);
        var contextA = await steps.Frozen.Task.WaitAsync(JobTestHost.Patience, ct);

        var stored = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Running, "node-a", 1, """{"step":1}""", 33), (stored.State, stored.LeaseOwner, stored.Attempt, stored.Checkpoint, stored.Progress));
        Assert.Equal(JobTestHost.Start + Lease, stored.LeaseUntil);

        clockB.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.False(await nodeB.Worker().RunNextAsync("node-b", ct), "The job was taken while its lease was valid.");

        clockB.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await nodeB.Worker().RunNextAsync("node-b", ct));

        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, done.Attempt);
        Assert.Equal(100, done.Progress);
        Assert.Equal("""{"steps":3,"attempt":2}""", done.Result);
        Assert.Equal(JobTestHost.Start, done.StartedAt);
        Assert.Equal(clockB.GetUtcNow(), done.CompletedAt);
        Assert.Null(done.LeaseOwner);
        Assert.Null(done.Error);
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 1, [3] = 1 }, steps.Runs.OrderBy(r => r.Key).ToDictionary());
        Assert.Equal(new[] { (1, 1), (2, 2), (3, 2) }, steps.RunBy.OrderBy(r => r.Step));

        // Node A wakes up: it can neither checkpoint nor complete the job it lost.
        await Assert.ThrowsAsync<LeaseLostException>(() => contextA.CheckpointAsync("""{"step":2}""", 66, ct));
        steps.Wake.SetResult();
        Assert.True(await runA.WaitAsync(JobTestHost.Patience, ct));

        var after = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 2, """{"steps":3,"attempt":2}""", """{"step":3}""", 100), (after.State, after.Attempt, after.Result, after.Checkpoint, after.Progress));
        Assert.Equal(3, steps.Runs.Values.Sum());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_worker_that_lost_its_lease_is_cancelled_at_its_next_heartbeat(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clockA = new FakeTimeProvider(JobTestHost.Start);
        var clockB = new FakeTimeProvider(JobTestHost.Start);
        var steps = new Steps();
        await using var nodeA = JobTestHost.Create(db, clockA, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        await using var nodeB = JobTestHost.Create(db, clockB, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        var job = await db.EnqueueAsync(ThreeSteps.Name, clockA, ct);

        var runA = nodeA.Worker().RunNextAsync("node-a", ct);
        await steps.Frozen.Task.WaitAsync(JobTestHost.Patience, ct);
        clockB.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.True(await nodeB.Worker().RunNextAsync("node-b", ct));

        // Node A's timers run again: its heartbeat finds the lease gone and stops the handler
        // before it can repeat step 2.
        clockA.Advance(Lease / 3);
        Assert.True(await runA.WaitAsync(JobTestHost.Patience, ct));

        Assert.True(steps.Cancelled);
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 1, [3] = 1 }, steps.Runs.OrderBy(r => r.Key).ToDictionary());
        var after = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 2, """{"steps":3,"attempt":2}"""), (after.State, after.Attempt, after.Result));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_live_worker_keeps_its_lease_by_heartbeat(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        // One clock for both nodes: both processes are alive.
        var clock = new ArmedClock(JobTestHost.Start);
        var steps = new Steps();
        await using var nodeA = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        await using var nodeB = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        var job = await db.EnqueueAsync(ThreeSteps.Name, clock, ct);

        var runA = nodeA.Worker().RunNextAsync("node-a", ct);
        await steps.Frozen.Task.WaitAsync(JobTestHost.Patience, ct);

        // Five heartbeats, well past the first lease: each renews it to a full lease from its time.
        await clock.WaitArmedAsync(ct);
        for (var beat = 1; beat <= 5; beat++)
        {
            clock.Advance(Lease / 3);
            await clock.WaitArmedAsync(ct);
            Assert.Equal(clock.GetUtcNow() + Lease, (await db.LoadJobAsync(job.Id, ct)).LeaseUntil);
        }
        Assert.Equal(JobTestHost.Start + (5 * Lease / 3), clock.GetUtcNow());
        Assert.False(await nodeB.Worker().RunNextAsync("node-b", ct), "A job was taken from a live worker.");

        steps.Wake.SetResult();
        Assert.True(await runA.WaitAsync(JobTestHost.Patience, ct));
        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 1, "\"woken\""), (done.State, done.Attempt, done.Result));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Stopping_a_worker_hands_its_job_back_without_spending_an_attempt(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new ArmedClock(JobTestHost.Start);
        var steps = new Steps();
        await using var nodeA = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());
        await using var nodeB = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, ThreeSteps>());

        // The hosted loop this time. Once it idles, only the enqueue can wake it: its fake clock
        // never moves, so its poll never comes.
        await nodeA.Worker().StartAsync(ct);
        await clock.WaitArmedAsync(ct);
        var job = await db.EnqueueAsync(ThreeSteps.Name, clock, ct);
        await steps.Frozen.Task.WaitAsync(JobTestHost.Patience, ct);
        await nodeA.Worker().StopAsync(ct);

        Assert.True(steps.Cancelled);
        var released = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Pending, 0, null, null, """{"step":1}"""), (released.State, released.Attempt, released.LeaseOwner, released.LeaseUntil, released.Checkpoint));
        Assert.Equal(clock.GetUtcNow(), released.RunAfter);

        Assert.True(await nodeB.Worker().RunNextAsync("node-b", ct));
        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempt));
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 1, [3] = 1 }, steps.Runs.OrderBy(r => r.Key).ToDictionary());
    }

    private sealed class Steps
    {
        public ConcurrentDictionary<int, int> Runs { get; } = new();
        public ConcurrentBag<(int Step, int Attempt)> RunBy { get; } = [];
        public TaskCompletionSource<JobContext> Frozen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Wake { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Cancelled { get; set; }
    }

    /// Three steps with a side effect each, checkpointed after each. On its first attempt it stops
    /// after step 1 until woken: the process froze there, its step recorded.
    private sealed class ThreeSteps(Steps steps) : IJobHandler
    {
        public const string Name = "test.three-steps";

        public string Kind => Name;

        public async Task RunAsync(JobContext context, CancellationToken ct)
        {
            var done = 0;
            if (context.Job.Checkpoint is { } checkpoint)
            {
                using var json = JsonDocument.Parse(checkpoint);
                done = json.RootElement.GetProperty("step").GetInt32();
            }
            for (var step = done + 1; step <= 3; step++)
            {
                steps.Runs.AddOrUpdate(step, 1, (_, n) => n + 1);
                steps.RunBy.Add((step, context.Job.Attempt));
                await context.CheckpointAsync($$"""{"step":{{step}}}""", step * 100 / 3, ct);
                if (step == 1 && !steps.Frozen.Task.IsCompleted)
                {
                    steps.Frozen.SetResult(context);
                    try
                    {
                        await steps.Wake.Task.WaitAsync(ct);
                    }
                    catch (OperationCanceledException)
                    {
                        steps.Cancelled = true;
                        throw;
                    }
                    context.SetResult("\"woken\"");
                    return;
                }
            }
            context.SetResult($$"""{"steps":3,"attempt":{{context.Job.Attempt}}}""");
        }
    }
}
