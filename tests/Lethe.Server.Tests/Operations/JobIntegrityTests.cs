using Lethe.Blobs;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Server.Tests.Labs;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Operations;

/// Servers whose workers look for due work every 100 ms, so that sweeps made due run at once.
public sealed class SweepServers : Servers
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Lethe:Jobs:PollIntervalMilliseconds"] = "100",
    };
}

/// Jobs that cannot finish at once. Every recurring sweep meets a record it cannot process (a PostgreSQL trigger refuses to change the
/// row, or the record's own data breaks the step): the others are processed on the first run, the
/// bad one is set aside after <see cref="RecurringJob.SetAsideAfter"/> runs and reported by the
/// health check, and the sweep keeps its schedule.
public sealed class JobIntegrityTests(SweepServers servers) : IClassFixture<SweepServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_workspace_retention_sweep_purges_the_others_and_sets_a_poisoned_workspace_aside()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var (subscription, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(subscription, "rg", "westeurope", Ct);
        foreach (var name in new[] { "ws-bad", "ws-good" })
        {
            await op.CreateOrUpdateWorkspaceAsync(subscription, "rg", name, new CreateWorkspaceRequest("westeurope"), Ct);
            await op.DeleteWorkspaceAsync(subscription, "rg", name, Ct);
        }
        await host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == subscription)
            .ExecuteUpdateAsync(set => set.SetProperty(w => w.PurgeAfter, DateTimeOffset.UtcNow.AddMinutes(-1)), Ct));
        var bad = await host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == subscription && w.NameKey == "ws-bad").Select(w => w.Id).SingleAsync(Ct));
        await host.PoisonAsync("Workspaces", bad, Ct, "DELETE");

        await AssertSetAsideAsync(host, PurgeExpiredWorkspaces.JobKind, bad, async () =>
            Assert.Equal(["ws-bad"], await host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == subscription).Select(w => w.Name).ToListAsync(Ct))));
    }

    [Fact]
    public async Task The_telemetry_retention_sweep_deletes_the_others_and_sets_a_poisoned_event_aside()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var old = DateTimeOffset.UtcNow.AddDays(-400);
        var user = Guid.NewGuid();
        var events = Enumerable.Range(0, 3).Select(i => new TelemetryEvent { Id = Guid.NewGuid(), UserId = user, Action = "test.old", Resource = "/", OccurredAt = old.AddMinutes(i) }).ToList();
        await host.WithDbAsync(db =>
        {
            db.TelemetryEvents.AddRange(events);
            return db.SaveChangesAsync(Ct);
        });
        await host.PoisonAsync("TelemetryEvents", events[1].Id, Ct);

        await AssertSetAsideAsync(host, TelemetryRetentionSweep.JobKind, events[1].Id, async () =>
            Assert.Equal([events[1].Id], await host.WithDbAsync(db => db.TelemetryEvents.Where(e => e.UserId == user).Select(e => e.Id).ToListAsync(Ct))));
    }

    [Fact]
    public async Task The_lab_anonymization_sweep_anonymizes_the_other_labs_and_sets_a_poisoned_lab_aside()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var good = await LabSetup.CreateAsync(host, Ct);
        var poisoned = await LabSetup.CreateAsync(host, Ct);
        var goodVm = await good.CreateVmAsync(good.User1.Client, "vm", Ct);
        var badVm = await poisoned.CreateVmAsync(poisoned.User1.Client, "vm", Ct);
        await good.User1.Client.DeleteLabVirtualMachineAsync(good.SubscriptionId, good.Group, good.Lab, "vm", Ct);
        await poisoned.User1.Client.DeleteLabVirtualMachineAsync(poisoned.SubscriptionId, poisoned.Group, poisoned.Lab, "vm", Ct);
        Guid[] vms = [goodVm.Properties.UniqueIdentifier, badVm.Properties.UniqueIdentifier];
        await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => vms.Contains(v.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(v => v.DeletedAt, DateTimeOffset.UtcNow.AddDays(-40)), Ct));
        await host.PoisonAsync("LabVirtualMachines", badVm.Properties.UniqueIdentifier, Ct);

        await AssertSetAsideAsync(host, AnonymizeLabPersonalData.JobKind, poisoned.Resource.Properties.UniqueIdentifier, async () =>
        {
            var owners = await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => vms.Contains(v.Id)).ToDictionaryAsync(v => v.Id, v => v.OwnerObjectId, Ct));
            Assert.Equal(Guid.Empty, owners[goodVm.Properties.UniqueIdentifier]);
            Assert.Equal(poisoned.User1.ObjectId, owners[badVm.Properties.UniqueIdentifier]);
        });
    }

    [Fact]
    public async Task The_auto_shutdown_sweep_shuts_the_other_VMs_down_and_sets_a_broken_VM_aside()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var good = await LabSetup.CreateAsync(host, Ct);
        var broken = await LabSetup.CreateAsync(host, Ct);
        var goodVm = await good.CreateVmAsync(good.User1.Client, "vm", Ct);
        var badVm = await broken.CreateVmAsync(broken.User1.Client, "vm", Ct);
        // Both labs shut down two minutes ago; the broken one names a time zone that does not exist.
        var time = TimeOnly.FromDateTime(DateTime.UtcNow.AddMinutes(-2));
        Guid[] labs = [good.Resource.Properties.UniqueIdentifier, broken.Resource.Properties.UniqueIdentifier];
        await host.WithDbAsync(db => db.Labs.Where(l => labs.Contains(l.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.ShutdownTime, time).SetProperty(l => l.TimeZoneId, "UTC"), Ct));
        await host.WithDbAsync(db => db.Labs.Where(l => l.Id == broken.Resource.Properties.UniqueIdentifier)
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.TimeZoneId, "Nowhere/Broken"), Ct));

        await AssertSetAsideAsync(host, AutoShutdown.JobKind, badVm.Properties.UniqueIdentifier, async () =>
        {
            Guid[] vms = [goodVm.Properties.UniqueIdentifier, badVm.Properties.UniqueIdentifier];
            var running = await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => vms.Contains(v.Id)).ToDictionaryAsync(v => v.Id, v => v.Running, Ct));
            Assert.False(running[goodVm.Properties.UniqueIdentifier]);
            Assert.True(running[badVm.Properties.UniqueIdentifier]);
        });
    }

    /// The blob purge sweeps the store as a whole (the store itself walks its containers): when the store
    /// fails, the run fails without a retry of its own, and the next run, queued before the sweep, is
    /// brought forward.
    [Fact]
    public async Task The_blob_purge_sweep_keeps_its_schedule_when_the_store_fails()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var first = await host.RunSweepAsync(PurgeExpiredBlobs.JobKind, Ct);
        Assert.Equal(JobState.Succeeded, first.State);
        var next = await host.WithDbAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Kind == PurgeExpiredBlobs.JobKind && j.State == JobState.Pending, Ct));
        Assert.InRange(next.RunAfter, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
    }

    [Fact]
    public async Task A_purge_that_keeps_failing_says_so_while_it_waits_and_is_retried_from_its_checkpoint_once_failed()
    {
        var host = await servers.GetAsync(DatabaseProvider.Postgres);
        var (subscription, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(subscription, "rg", "westeurope", Ct);
        await op.CreateOrUpdateWorkspaceAsync(subscription, "rg", "ws-retry", new CreateWorkspaceRequest("westeurope"), Ct);
        var workspace = await host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == subscription).Select(w => w.Id).SingleAsync(Ct));
        await host.PoisonAsync("Workspaces", workspace, Ct, "DELETE");

        var operation = await op.PurgeWorkspaceAsync(subscription, "rg", "ws-retry", Ct);
        var id = Guid.Parse(operation.Split('/')[^1]);
        await WaitAsync(host, id, j => j.State == JobState.Pending && j.Failures == 1);
        var waiting = await op.GetOperationAsync(operation, Ct);

        Assert.Equal((OperationStates.InProgress, 1, null), (waiting.Status, waiting.Attempt, waiting.Error));
        Assert.Contains("this record is poisoned", waiting.LastError, StringComparison.Ordinal);
        Assert.NotNull(waiting.NextAttemptAt);
        Assert.InRange(waiting.NextAttemptAt.Value, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(11));
        // Asked again while it waits: the same operation, not a second job.
        Assert.Equal(operation, await op.PurgeWorkspaceAsync(subscription, "rg", "ws-retry", Ct));
        var resource = await host.WithDbAsync(db => db.Jobs.Where(j => j.Id == id).Select(j => j.ResourceId).SingleAsync(Ct));
        Assert.Equal(1, await host.WithDbAsync(db => db.Jobs.CountAsync(j => j.Kind == PurgeWorkspace.JobKind && j.ResourceId == resource, Ct)));

        // Its last try fails too.
        await host.WithDbAsync(db => db.Jobs.Where(j => j.Id == id)
            .ExecuteUpdateAsync(set => set.SetProperty(j => j.Failures, JobQueue.DefaultMaxAttempts - 1).SetProperty(j => j.RunAfter, DateTimeOffset.UtcNow), Ct));
        await WaitAsync(host, id, j => j.State == JobState.Failed);
        var failed = await op.GetOperationAsync(operation, Ct);
        Assert.Equal(OperationStates.Failed, failed.Status);
        Assert.Contains("this record is poisoned", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("""{"blobs":true}""", (await host.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == id, Ct))).Checkpoint);

        // The operator fixes the record and retries the operation: it resumes after the blobs.
        await host.CurePoisonAsync("Workspaces", workspace, Ct);
        var retried = await op.RetryOperationAsync(operation, Ct);
        // Queued again; a fast worker may already have finished it by the time the answer is written.
        Assert.Contains(retried.Status, new[] { OperationStates.InProgress, OperationStates.Succeeded });
        Assert.Equal(OperationStates.Succeeded, (await op.WaitForOperationAsync(operation, pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct)).Status);
        Assert.False(await host.WithDbAsync(db => db.Workspaces.AnyAsync(w => w.Id == workspace, Ct)));
        await Assert.ThrowsAsync<LetheConflictException>(() => op.RetryOperationAsync(operation, Ct));
        var stranger = await host.NewUserAsync(Ct);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.RetryOperationAsync(operation, Ct));
    }

    private static async Task WaitAsync(LetheHost host, Guid job, Func<Job, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition(await host.WithDbAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job, Ct))))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Job {job} did not get there within a minute.");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task AssertSetAsideAsync(LetheHost host, string kind, Guid record, Func<Task> othersDone)
    {
        var key = record.ToString();
        var first = await host.RunSweepAsync(kind, Ct);
        Assert.Equal(JobState.Succeeded, first.State);
        await othersDone();
        for (var run = 2; run <= RecurringJob.SetAsideAfter + 1; run++)
        {
            Assert.Equal(JobState.Succeeded, (await host.RunSweepAsync(kind, Ct)).State);
        }

        var setAside = await host.WithDbAsync(db => db.SetAsideRecords.AsNoTracking().SingleAsync(r => r.Kind == kind && r.RecordKey == key, Ct));
        Assert.True(setAside.SetAside);
        // Passed over once set aside.
        Assert.Equal(RecurringJob.SetAsideAfter, setAside.Failures);
        Assert.DoesNotContain("   at ", setAside.LastError, StringComparison.Ordinal);
        await othersDone();
        Assert.Equal(1, await host.WithDbAsync(db => db.Jobs.CountAsync(j => j.Kind == kind && j.State == JobState.Pending, Ct)));
        var health = await host.Anonymous().GetHealthAsync(Ct);
        Assert.Equal("Degraded", Assert.Contains("sweeps", health.Checks));
        Assert.Contains(host.Logs.Entries, e => e.Message.Contains($"Sweep {kind} set record {key} aside", StringComparison.Ordinal));
    }
}
