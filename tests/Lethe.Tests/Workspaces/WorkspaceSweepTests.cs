using System.Text;
using Lethe.Blobs;
using Lethe.Jobs;
using Lethe.Resources;
using Lethe.Telemetry;
using Lethe.Testing;
using Lethe.Tests.Jobs;
using Lethe.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Workspaces;

public sealed class WorkspaceSweepTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_sweep_purges_workspaces_whose_retention_ended_with_their_blobs_and_keeps_the_others(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider, Ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        var root = Path.Combine(Path.GetTempPath(), $"lethe-sweep-{Guid.NewGuid():N}");
        var blobs = new FileSystemBlobStore(root, new BlobOptions(), clock);
        await using var services = JobTestHost.Create(db, clock, s =>
        {
            s.AddSingleton<IBlobStore>(blobs);
            s.AddScoped<IJobHandler, PurgeExpiredWorkspaces>();
        });
        Workspace expired, recent;
        await using (var context = db.CreateContext())
        {
            var group = new ResourceGroup { SubscriptionId = Guid.NewGuid(), Name = "rg", NameKey = "rg", Location = "westeurope", CreatedAt = clock.GetUtcNow() };
            context.Subscriptions.Add(new Subscription { Id = group.SubscriptionId, DisplayName = "s", CreatedAt = clock.GetUtcNow() });
            context.ResourceGroups.Add(group);
            expired = CreateWorkspace.New(group, "old-ws", "westeurope", WorkspaceSku.Free, 1, purgeProtection: true, clock.GetUtcNow());
            recent = CreateWorkspace.New(group, "new-ws", "westeurope", WorkspaceSku.Free, 14, purgeProtection: false, clock.GetUtcNow());
            context.Workspaces.AddRange(expired, recent);
            await context.SaveChangesAsync(Ct);
            foreach (var w in new[] { expired, recent })
            {
                await blobs.PutAsync(w.StorageAccount, "azureml/ExperimentRun/dcid.j1/history.json", new MemoryStream(Encoding.UTF8.GetBytes("{}")), null, Ct);
                await SoftDeleteWorkspace.SoftDeleteAsync(context, blobs, w, clock.GetUtcNow(), Ct);
            }
        }
        clock.Advance(TimeSpan.FromDays(2));
        await db.EnqueueAsync(PurgeExpiredWorkspaces.JobKind, clock, Ct);

        Assert.True(await services.Worker().RunNextAsync("sweeper", Ct));

        await using (var context = db.CreateContext())
        {
            Assert.Equal(["new-ws"], await context.Workspaces.Select(w => w.Name).ToListAsync(Ct));
        }
        Assert.Empty(await blobs.ListDeletedAsync(expired.StorageAccount, null, Ct).ToListAsync(Ct));
        Assert.Single(await blobs.ListDeletedAsync(recent.StorageAccount, null, Ct).ToListAsync(Ct));
        Directory.Delete(root, recursive: true);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Telemetry_events_older_than_the_retention_are_deleted(DatabaseProvider provider)
    {
        await using var db = await TestDatabase.CreateAsync(provider, Ct);
        var clock = new FakeTimeProvider(JobTestHost.Start);
        await using var services = JobTestHost.Create(db, clock, s =>
        {
            s.AddSingleton(Options.Create(new TelemetryOptions { RetentionDays = 30 }));
            s.AddScoped<TelemetryRecorder>();
            s.AddScoped<IJobHandler, TelemetryRetentionSweep>();
        });
        var user = Guid.NewGuid();
        await using (var scope = services.CreateAsyncScope())
        {
            var recorder = scope.ServiceProvider.GetRequiredService<TelemetryRecorder>();
            await recorder.RecordAsync(user, "workspaces.old", "/subscriptions/x", Ct);
            clock.Advance(TimeSpan.FromDays(20));
            await recorder.RecordAsync(user, "workspaces.new", "/subscriptions/x", Ct);
        }
        clock.Advance(TimeSpan.FromDays(15));
        await db.EnqueueAsync(TelemetryRetentionSweep.JobKind, clock, Ct);

        Assert.True(await services.Worker().RunNextAsync("sweeper", Ct));

        await using var context = db.CreateContext();
        Assert.Equal(["workspaces.new"], await context.TelemetryEvents.Select(e => e.Action).ToListAsync(Ct));
    }
}
