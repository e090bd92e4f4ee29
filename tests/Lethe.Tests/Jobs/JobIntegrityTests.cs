using Lethe.Jobs;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Jobs;

/// One live job per kind and resource, retries of failed work from its checkpoint, and recurring
/// sweeps that never stop their schedule nor let one bad record stop the others.
public sealed class JobIntegrityTests
{
    private const string Resource = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg";

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Asking_again_for_live_exclusive_work_returns_the_live_job(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var node = JobTestHost.Create(db, clock, s => s.AddScoped<IJobHandler, Steps>());
        var claimer = node.GetRequiredService<IJobClaimer>();

        Job first;
        await using (var context = db.CreateContext())
        {
            first = await JobQueue.EnqueueExclusiveAsync(context, Steps.Name, "{}", null, Resource, clock, ct);
            // Its worker dies: the job waits out the lease, still live.
            Assert.NotNull(await claimer.ClaimAsync(context, "dead", clock.GetUtcNow(), TimeSpan.FromSeconds(60), ct));
        }
        await using (var context = db.CreateContext())
        {
            Assert.Equal(first.Id, (await JobQueue.EnqueueExclusiveAsync(context, Steps.Name, "{}", null, Resource, clock, ct)).Id);
        }

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.True(await node.Worker().RunNextAsync("w", ct));
        Assert.Equal(JobState.Succeeded, (await db.LoadJobAsync(first.Id, ct)).State);
        await using (var context = db.CreateContext())
        {
            var second = await JobQueue.EnqueueExclusiveAsync(context, Steps.Name, "{}", null, Resource, clock, ct);
            Assert.NotEqual(first.Id, second.Id);
            Assert.Equal(2, await context.Jobs.CountAsync(ct));
        }
    }

    [Fact]
    public async Task The_database_lets_one_of_many_concurrent_requests_queue_the_exclusive_job()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(DatabaseProvider.Postgres, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);

        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(async () =>
        {
            await using var context = db.CreateContext();
            return (await JobQueue.EnqueueExclusiveAsync(context, Steps.Name, "{}", null, Resource, clock, ct)).Id;
        }, ct)));

        Assert.Single(ids.Distinct());
        await using var check = db.CreateContext();
        Assert.Equal(1, await check.Jobs.CountAsync(ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_job_is_retried_from_its_checkpoint(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var steps = new StepLog();
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, Steps>());
        Job job;
        await using (var context = db.CreateContext())
        {
            job = JobQueue.Add(context, Steps.Name, "{}", null, Resource, clock, maxAttempts: 1, exclusive: true);
            await context.SaveChangesAsync(ct);
        }
        steps.FailAt = 2;
        Assert.True(await node.Worker().RunNextAsync("w", ct));
        var failed = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Failed, 1, """{"step":1}"""), (failed.State, failed.Failures, failed.Checkpoint));

        steps.FailAt = null;
        await using (var context = db.CreateContext())
        {
            Assert.True(await JobQueue.RetryAsync(context, job.Id, clock, ct));
            Assert.False(await JobQueue.RetryAsync(context, job.Id, clock, ct), "A queued job was retried again.");
        }
        var queued = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal((JobState.Pending, 0, null), (queued.State, queued.Failures, queued.CompletedAt));
        Assert.True(await node.Worker().RunNextAsync("w", ct));

        var done = await db.LoadJobAsync(job.Id, ct);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal([1, 2, 3], steps.Done.Order());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_job_is_not_retried_while_another_holds_its_resource(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var steps = new StepLog { FailAt = 1 };
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(steps).AddScoped<IJobHandler, Steps>());
        Job job;
        await using (var context = db.CreateContext())
        {
            job = JobQueue.Add(context, Steps.Name, "{}", null, Resource, clock, maxAttempts: 1, exclusive: true);
            await context.SaveChangesAsync(ct);
        }
        Assert.True(await node.Worker().RunNextAsync("w", ct));
        await using var again = db.CreateContext();
        var other = await JobQueue.EnqueueExclusiveAsync(again, Steps.Name, "{}", null, Resource, clock, ct);

        Assert.False(await JobQueue.RetryAsync(again, job.Id, clock, ct));
        Assert.Equal(JobState.Failed, (await db.LoadJobAsync(job.Id, ct)).State);
        Assert.Equal(JobState.Pending, (await db.LoadJobAsync(other.Id, ct)).State);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_recurring_sweep_that_fails_keeps_exactly_one_next_run_brought_forward(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var records = new SweptRecords { Broken = true };
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(records).AddScoped<IJobHandler, TestSweep>());
        await using (var context = db.CreateContext())
        {
            await RecurringJob.EnsureScheduledAsync(context, [new TestSweep(context, clock, records, null!)], clock, ct);
        }

        for (var run = 0; run < 8; run++)
        {
            Assert.True(await node.Worker().RunNextAsync("w", ct));
            await using var context = db.CreateContext();
            var live = await context.Jobs.Where(j => j.State == JobState.Pending || j.State == JobState.Running).ToListAsync(ct);
            var next = Assert.Single(live);
            Assert.Equal(clock.GetUtcNow() + RecurringJob.RetryAfterFailure, next.RunAfter);
            clock.Advance(RecurringJob.RetryAfterFailure);
        }
        await using (var context = db.CreateContext())
        {
            var runs = await context.Jobs.Where(j => j.State == JobState.Failed).ToListAsync(ct);
            Assert.Equal(8, runs.Count);
            Assert.All(runs, r => Assert.Equal((1, "InvalidOperationException: the sweep's store is down"), (r.Attempt, r.Error)));
        }

        records.Broken = false;
        Assert.True(await node.Worker().RunNextAsync("w", ct));
        await using (var context = db.CreateContext())
        {
            Assert.Equal(1, await context.Jobs.CountAsync(j => j.State == JobState.Succeeded, ct));
            Assert.Equal(JobTestHost.Start.AddMinutes(40) + TestSweep.Every, (await context.Jobs.SingleAsync(j => j.State == JobState.Pending, ct)).RunAfter);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_record_that_keeps_failing_is_set_aside_and_the_others_are_swept_every_run(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var records = new SweptRecords();
        records.Add("a", "poisoned", "c");
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(records).AddScoped<IJobHandler, TestSweep>());
        await using (var context = db.CreateContext())
        {
            await RecurringJob.EnsureScheduledAsync(context, [new TestSweep(context, clock, records, null!)], clock, ct);
        }

        for (var run = 1; run <= RecurringJob.SetAsideAfter + 2; run++)
        {
            records.Add($"new-{run}");
            Assert.True(await node.Worker().RunNextAsync("w", ct));
            Assert.Equal(["poisoned"], records.Pending());
            clock.Advance(TestSweep.Every);
        }

        await using var check = db.CreateContext();
        var setAside = await check.SetAsideRecords.SingleAsync(ct);
        Assert.Equal((TestSweep.Name, "poisoned", true, RecurringJob.SetAsideAfter), (setAside.Kind, setAside.RecordKey, setAside.SetAside, setAside.Failures));
        Assert.Equal("InvalidOperationException: record poisoned cannot be swept", setAside.LastError);
        Assert.Equal(RecurringJob.SetAsideAfter, records.Tries("poisoned"));
        Assert.Equal(RecurringJob.SetAsideAfter + 2, await check.Jobs.CountAsync(j => j.State == JobState.Succeeded, ct));
        Assert.Equal(1, await check.Jobs.CountAsync(j => j.State == JobState.Pending, ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_record_that_fails_once_and_then_succeeds_is_forgotten(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var records = new SweptRecords();
        records.Add("flaky");
        records.FailOnce.Add("flaky");
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(records).AddScoped<IJobHandler, TestSweep>());
        await using (var context = db.CreateContext())
        {
            await RecurringJob.EnsureScheduledAsync(context, [new TestSweep(context, clock, records, null!)], clock, ct);
        }

        Assert.True(await node.Worker().RunNextAsync("w", ct));
        await using (var context = db.CreateContext())
        {
            var failing = await context.SetAsideRecords.SingleAsync(ct);
            Assert.Equal((1, false), (failing.Failures, failing.SetAside));
        }
        clock.Advance(TestSweep.Every);
        Assert.True(await node.Worker().RunNextAsync("w", ct));

        Assert.Empty(records.Pending());
        await using var check = db.CreateContext();
        Assert.False(await check.SetAsideRecords.AnyAsync(ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task More_failing_records_than_a_run_holds_are_forgotten_when_they_succeed(DatabaseProvider provider)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var db = await TestDatabase.CreateAsync(provider, ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var records = new SweptRecords();
        var keys = Enumerable.Range(0, RecurringJob.FailingHeldInMemory + 10).Select(i => "flaky-" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        records.Add(keys);
        records.FailOnce.UnionWith(keys);
        await using var node = JobTestHost.Create(db, clock, s => s.AddSingleton(records).AddScoped<IJobHandler, TestSweep>());
        await using (var context = db.CreateContext())
        {
            await RecurringJob.EnsureScheduledAsync(context, [new TestSweep(context, clock, records, null!)], clock, ct);
        }

        Assert.True(await node.Worker().RunNextAsync("w", ct));
        await using (var context = db.CreateContext())
        {
            Assert.Equal(keys.Length, await context.SetAsideRecords.CountAsync(r => r.Failures == 1 && !r.SetAside, ct));
        }
        clock.Advance(TestSweep.Every);
        // Too many to hold: the run clears each one as it succeeds, by its key.
        Assert.True(await node.Worker().RunNextAsync("w", ct));

        Assert.Empty(records.Pending());
        await using var check = db.CreateContext();
        Assert.False(await check.SetAsideRecords.AnyAsync(ct));
    }

    internal sealed class StepLog
    {
        public int? FailAt { get; set; }

        public List<int> Done { get; } = [];
    }

    /// Three checkpointed steps; fails on <see cref="StepLog.FailAt"/>.
    private sealed class Steps(StepLog? log = null) : IJobHandler
    {
        public const string Name = "test.steps";

        public string Kind => Name;

        public async Task RunAsync(JobContext context, CancellationToken ct)
        {
            var from = context.Job.Checkpoint is { } checkpoint ? int.Parse(checkpoint.Split(':')[1].TrimEnd('}'), System.Globalization.CultureInfo.InvariantCulture) + 1 : 1;
            for (var step = from; step <= 3; step++)
            {
                if (log?.FailAt == step)
                {
                    throw new InvalidOperationException($"step {step} failed");
                }
                log?.Done.Add(step);
                await context.CheckpointAsync($$"""{"step":{{step}}}""", step * 33, ct);
            }
        }
    }

    internal sealed class SweptRecords
    {
        private readonly Dictionary<string, int> _tries = [];
        private readonly SortedSet<string> _pending = new(StringComparer.Ordinal);

        public bool Broken { get; set; }

        public HashSet<string> FailOnce { get; } = [];

        public void Add(params string[] keys) => _pending.UnionWith(keys);

        public IReadOnlyList<string> Pending() => [.. _pending];

        public IReadOnlyList<string> Due() => [.. _pending];

        public int Tries(string key) => _tries.GetValueOrDefault(key);

        public void Sweep(string key)
        {
            _tries[key] = Tries(key) + 1;
            if (key == "poisoned" || FailOnce.Remove(key))
            {
                throw new InvalidOperationException($"record {key} cannot be swept");
            }
            _pending.Remove(key);
        }
    }

    private sealed class TestSweep(LetheDb db, TimeProvider clock, SweptRecords records, ILogger<TestSweep> logger) : RecurringJob(db, clock, logger)
    {
        public const string Name = "test.sweep";
        public static readonly TimeSpan Every = TimeSpan.FromHours(1);

        public override string Kind => Name;

        public override TimeSpan Interval => Every;

        protected override async Task<string> SweepAsync(CancellationToken ct)
        {
            if (records.Broken)
            {
                throw new InvalidOperationException("the sweep's store is down");
            }
            var setAside = await SetAsideKeys.ToListAsync(ct);
            foreach (var key in records.Due().Except(setAside))
            {
                await TryRecordAsync(key, _ => { records.Sweep(key); return Task.CompletedTask; }, ct);
            }
            return "{}";
        }
    }
}
