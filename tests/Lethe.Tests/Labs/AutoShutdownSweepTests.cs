using Lethe.Labs;
using Lethe.Resources;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Labs;

/// Not run beside other tests: the memory test reads the process's managed heap.
[CollectionDefinition(nameof(AutoShutdownSweepTests), DisableParallelization = true)]
public sealed class AutoShutdownSweepSerial;

/// The auto-shutdown sweep runs every minute over every VM with a schedule: it pages through them, so its
/// memory is one page however large the labs are.
[Collection(nameof(AutoShutdownSweepTests))]
public sealed class AutoShutdownSweepTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset Day = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    /// A lab shutting down daily at 19:00 UTC with <paramref name="vms"/> running VMs, made in one statement.
    private static async Task<Guid> LabAsync(TestDatabase database, int vms)
    {
        var subscription = Guid.NewGuid();
        var lab = new Lab
        {
            Id = Guid.NewGuid(), SubscriptionId = subscription, ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "big", NameKey = "big",
            ScopeKey = "x", Location = "westeurope", TimeZoneId = "UTC", ShutdownTime = new TimeOnly(19, 0), CreatedAt = Day,
        };
        await using var db = database.CreateContext();
        db.Subscriptions.Add(new Subscription { Id = subscription, DisplayName = "s", CreatedAt = Day });
        db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = subscription, Name = "rg", NameKey = "rg", Location = "westeurope", CreatedAt = Day });
        db.Labs.Add(lab);
        await db.SaveChangesAsync(Ct);
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
        if (database.Provider == DatabaseProvider.Postgres)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "LabVirtualMachines" ("Id","LabId","Name","NameKey","CreatedAt","PricingTier","Claimable","Running")
                SELECT md5(i::text || {lab.Id.ToString()})::uuid, {lab.Id}, 'vm-' || i, 'vm-' || i, now(), 'Standard_B2s', false, true
                FROM generate_series(1, {vms}) i
                """, Ct);
        }
        else
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "LabVirtualMachines" ("Id","LabId","Name","NameKey","CreatedAt","PricingTier","Claimable","Running")
                WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {vms})
                SELECT upper(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-8'
                             || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
                       {lab.Id.ToString("D").ToUpperInvariant()}, 'vm-' || i, 'vm-' || i, 0, 'Standard_B2s', 0, 1
                FROM s
                """, Ct);
        }
        // As a production database would have them: statistics that tell the planner the lab is large.
        await db.Database.ExecuteSqlRawAsync("ANALYZE", Ct);
        return lab.Id;
    }

    private static AutoShutdown Sweep(LetheDb db, DateTimeOffset now)
        => new(db, new FakeTimeProvider(now), new LabMail(Options.Create(new SmtpOptions())), NullLogger<AutoShutdown>.Instance);

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_sweep_over_a_million_scheduled_VMs_holds_one_page_in_memory(DatabaseProvider provider)
    {
        const int vms = 1_000_000;
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        await LabAsync(database, vms);
        await using var db = database.CreateContext();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(5));
        var now = Day.AddHours(12);

        // The live heap after each collection during the sweep, against the one before it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var info = GC.GetGCMemoryInfo(GCKind.Any);
                peak = Math.Max(peak, info.HeapSizeBytes - info.FragmentedBytes);
                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);
        var counts = await Sweep(db, now).RunAsync(now, Ct);
        await stop.CancelAsync();
        await sampler;

        Assert.Equal(new AutoShutdown.Counts(0, 0, 0), counts with { NextDue = null });
        // A million VM entities would be hundreds of megabytes; a page of them is well under one.
        var growth = peak - before;
        Assert.True(growth < 48L << 20, $"The sweep's live heap grew by {growth >> 20} MiB over {vms} VMs.");
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Every_VM_across_pages_gets_one_notice_and_is_shut_down_at_its_time(DatabaseProvider provider)
    {
        var vms = AutoShutdown.PageSize * 2 + 7;
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        var labId = await LabAsync(database, vms);
        var noticeTime = Day.AddHours(18).AddMinutes(40);

        await using (var db = database.CreateContext())
        {
            var first = await Sweep(db, noticeTime).RunAsync(noticeTime, Ct);
            Assert.Equal(new AutoShutdown.Counts(vms, 0, 0), first with { NextDue = null });
        }
        await using (var db = database.CreateContext())
        {
            var again = await Sweep(db, noticeTime.AddMinutes(1)).RunAsync(noticeTime.AddMinutes(1), Ct);
            Assert.Equal(new AutoShutdown.Counts(0, 0, 0), again with { NextDue = null });
        }
        await using (var db = database.CreateContext())
        {
            var shutdown = Day.AddHours(19).AddMinutes(1);
            var done = await Sweep(db, shutdown).RunAsync(shutdown, Ct);
            Assert.Equal(new AutoShutdown.Counts(0, 0, vms), done with { NextDue = null });
            Assert.Equal(0, await db.LabVirtualMachines.CountAsync(v => v.LabId == labId && v.Running, Ct));
            Assert.Equal(vms, await db.LabShutdownNotices.CountAsync(n => n.State == ShutdownNoticeState.ShutDown, Ct));
        }
    }
}
