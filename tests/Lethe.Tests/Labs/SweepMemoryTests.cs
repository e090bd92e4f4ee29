using System.Data.Common;
using Lethe.Blobs;
using Lethe.Demo;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Storage.Postgres;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Lethe.Tests.Labs;

/// Issue 14: every lab sweep reads its work in pages, so a lab ten times larger costs ten times the pages and not
/// one byte more of memory. Measured without the clock or the heap: the most rows any one query read, the most
/// entities tracked at once and the most values a query shipped, over every command the sweeps ran, are bounded by
/// the page and the same for a lab of N VMs as for one of 10 N.
public sealed class SweepMemoryTests
{
    private const int Small = 1_000;
    private const int Large = 10 * Small;

    // A page of the sweeps (AutoShutdown, AccrueLabCosts, and the owner pages of AnonymizeLabPersonalData).
    private const int Page = 500;

    // 18:40 UTC: the notices of the VMs shutting down at 18:50 are due (the lab gives 30 minutes' notice); the lab's
    // own 23:00 shutdown is not. The deleted VMs were deleted 40 days before, past the lab's 30.
    private static readonly DateTimeOffset NoticeTime = new(2026, 11, 24, 18, 40, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset ShutdownTime = NoticeTime.AddMinutes(15);
    private static readonly DateTimeOffset DeletedAt = NoticeTime.AddDays(-40);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// What the sweeps must have done to a lab of so many VMs (a multiple of 20): one in ten shuts down at 18:50 and
    /// half of those were set aside by the auto-shutdown sweep, with another one in ten that shuts down with the lab;
    /// one in ten was deleted, with its disk.
    private sealed record Expected(int Notices, int Live, int Deleted, int SetAside)
    {
        public static Expected For(int vms) => new(vms / 20, vms - vms / 10, vms / 10, vms / 20 + vms / 10);
    }

    private sealed record Figures(int MostReads, int MostTracked, int MostQueryParameters, int LargestParameter, int Commands, long AllocatedBytes);

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Every_lab_sweep_reads_the_same_pages_for_a_lab_ten_times_larger(DatabaseProvider provider)
    {
        var small = await SweepLabAsync(provider, Small);
        var large = await SweepLabAsync(provider, Large);
        TestContext.Current.TestOutputHelper?.WriteLine($"{provider}: {Small} VMs {small}; {Large} VMs {large}");

        // The sweeps read full pages of the small lab already (and the probe sees them): a page's rows, and the read
        // that finds its end.
        Assert.Equal(Page + 1, small.MostReads);
        Assert.True(small.MostTracked <= Page, $"{small.MostTracked} entities were tracked at once.");
        Assert.True(small.LargestParameter <= 256, $"A parameter held {small.LargestParameter} values or characters.");
        // Independent of the lab's size: nothing a sweep holds at once grows with the VMs, the due notices, the
        // deleted VMs or the set-aside ones, which are all ten times as many in the large lab.
        Assert.Equal(small.MostReads, large.MostReads);
        Assert.Equal(small.MostTracked, large.MostTracked);
        Assert.Equal(small.MostQueryParameters, large.MostQueryParameters);
        Assert.Equal(small.LargestParameter, large.LargestParameter);
        Assert.True(large.Commands > 5 * small.Commands, "The large lab's work was paged, not done in the same queries.");
    }

    private static async Task<Figures> SweepLabAsync(DatabaseProvider provider, int vms)
    {
        await using var database = await TestDatabase.CreateAsync(provider, Ct);
        var labId = await LargeLabAsync(database, vms);
        var expected = Expected.For(vms);
        var probe = new SweepProbe();
        var options = new DbContextOptionsBuilder<LetheDb>(database.Options).AddInterceptors(probe).Options;
        var root = Directory.CreateTempSubdirectory("lethe-sweeps-").FullName;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        try
        {
            await using (var db = await OpenAsync(options))
            {
                var notices = await AutoShutdownOf(db, NoticeTime).RunAsync(NoticeTime, Ct);
                Assert.Equal(new AutoShutdown.Counts(expected.Notices, 0, 0), notices with { NextDue = null });
            }
            await using (var db = await OpenAsync(options))
            {
                var costs = await new AccrueLabCosts(db, new FakeTimeProvider(NoticeTime), NullLogger<AccrueLabCosts>.Instance).RunAsync(NoticeTime, Ct);
                // Every live VM (all running) and every live disk, once.
                Assert.Equal(new AccrueLabCosts.Counts(1, 2 * expected.Live), costs);
            }
            await using (var db = await OpenAsync(options))
            {
                var shutdowns = await AutoShutdownOf(db, ShutdownTime).RunAsync(ShutdownTime, Ct);
                Assert.Equal(new AutoShutdown.Counts(0, 0, expected.Notices), shutdowns with { NextDue = null });
            }
            await using (var db = await OpenAsync(options))
            {
                var blobs = new FileSystemBlobStore(root, new BlobOptions(), new FakeTimeProvider(ShutdownTime));
                var anonymized = await AnonymizeLabPersonalData.RunAsync(db, blobs, ShutdownTime, Ct);
                Assert.Equal(new AnonymizeLabPersonalData.Counts(expected.Deleted, expected.Deleted, expected.Deleted, 0), anonymized);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        await using var check = database.CreateContext();
        Assert.Equal(expected.Notices, await check.LabShutdownNotices.CountAsync(n => n.State == ShutdownNoticeState.ShutDown, Ct));
        Assert.Equal(expected.Live - expected.Notices, await check.LabVirtualMachines.CountAsync(v => v.LabId == labId && v.Running, Ct));
        Assert.Equal(2 * expected.Live, await check.LabCosts.CountAsync(c => c.Date == DateOnly.FromDateTime(NoticeTime.UtcDateTime), Ct));
        Assert.False(await check.LabVirtualMachines.AnyAsync(v => v.DeletedAt != null && (v.OwnerObjectId != Guid.Empty || v.NotificationEmail != null), Ct));
        Assert.False(await check.LabCosts.AnyAsync(c => c.Date < DateOnly.FromDateTime(NoticeTime.UtcDateTime) && c.OwnerObjectId != Guid.Empty, Ct));
        // The set-aside VMs were passed over, not notified.
        Assert.Equal(expected.SetAside, await check.SetAsideRecords.CountAsync(r => r.Kind == AutoShutdown.JobKind && r.SetAside, Ct));
        return new Figures(probe.MostReads, probe.MostTracked, probe.MostQueryParameters, probe.LargestParameter, probe.Commands, allocated);
    }

    // One connection per sweep, as the server's pool gives it: the test databases are not pooled, and SQLite would
    // open the file again for every statement.
    private static async Task<LetheDb> OpenAsync(DbContextOptions<LetheDb> options)
    {
        var db = new LetheDb(options);
        await db.Database.OpenConnectionAsync(Ct);
        return db;
    }

    private static AutoShutdown AutoShutdownOf(LetheDb db, DateTimeOffset now)
        => new(db, new FakeTimeProvider(now), new LabMail(Options.Create(new SmtpOptions())), NullLogger<AutoShutdown>.Instance);

    /// One lab (UTC, daily shutdown at 23:00, 30 minutes' notice) of <paramref name="vms"/> VMs, each with a data disk,
    /// written through the scale data's bulk path (binary COPY on PostgreSQL, prepared inserts on SQLite).
    private static async Task<Guid> LargeLabAsync(TestDatabase database, int vms)
    {
        var subscription = Guid.NewGuid();
        var lab = new Lab
        {
            Id = Guid.NewGuid(), SubscriptionId = subscription, ResourceGroup = "rg", ResourceGroupKey = "rg", Name = "large", NameKey = "large",
            ScopeKey = "x", Location = "westeurope", TimeZoneId = "UTC", ShutdownTime = new TimeOnly(23, 0), ShutdownNoticeMinutes = 30, CreatedAt = DeletedAt.AddDays(-100),
        };
        await using var db = database.CreateContext();
        db.Subscriptions.Add(new Subscription { Id = subscription, DisplayName = "s", CreatedAt = lab.CreatedAt });
        db.ResourceGroups.Add(new ResourceGroup { SubscriptionId = subscription, Name = "rg", NameKey = "rg", Location = "westeurope", CreatedAt = lab.CreatedAt });
        db.Labs.Add(lab);
        await db.SaveChangesAsync(Ct);
        db.ChangeTracker.Clear();
        var copy = database.Provider == DatabaseProvider.Postgres ? new PostgresBulkCopy() : null;
        await ScaleData.WriteRowsAsync(new ScaleTarget(db, null, copy), RowsOf(lab, vms), 10_000, Ct);
        // As a production database would have them: statistics that tell the planner the lab is large.
        await db.Database.ExecuteSqlRawAsync("ANALYZE", Ct);
        return lab.Id;
    }

    private static IEnumerable<object> RowsOf(Lab lab, int vms)
    {
        for (var i = 1; i <= vms; i++)
        {
            var deleted = i % 10 == 5;
            var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"vm-{i:D7}");
            var owner = Guid.NewGuid();
            var vm = new LabVirtualMachine
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = name, NameKey = name, CreatedAt = lab.CreatedAt, PricingTier = "Standard_B2s",
                OwnerObjectId = owner, Running = !deleted, DeletedAt = deleted ? DeletedAt : null,
                NotificationEmail = deleted ? $"{name}@lethe.test" : null,
                ShutdownTime = i % 10 == 0 ? new TimeOnly(18, 50) : null,
            };
            yield return vm;
            yield return new LabDisk
            {
                Id = Guid.NewGuid(), LabId = lab.Id, Name = name + "-data", NameKey = name + "-data", CreatedAt = lab.CreatedAt, BlobName = name + "-data.vhd",
                SizeGb = 128, OwnerObjectId = owner, DeletedAt = vm.DeletedAt, LeasedByVmId = deleted ? null : vm.Id,
            };
            if (deleted)
            {
                var day = DateOnly.FromDateTime(DeletedAt.UtcDateTime).AddDays(-1);
                yield return new LabCost { Id = Guid.NewGuid(), LabId = lab.Id, ResourceUId = vm.Id, ResourceName = name, Date = day, AmountCents = 42, OwnerObjectId = owner };
            }
            if (i % 20 == 0 || i % 10 == 1)
            {
                // A VM whose shutdown kept failing: the sweep passes over it, however many there are.
                yield return new SetAsideRecord
                {
                    Kind = AutoShutdown.JobKind, RecordKey = vm.Id.ToString(), Failures = RecurringJob.SetAsideAfter, SetAside = true,
                    LastError = "InvalidOperationException: test", FirstFailedAt = DeletedAt, LastFailedAt = DeletedAt,
                };
            }
        }
    }

    /// Counts, over every command a context runs, the reads of its reader (a row each, and one that finds the end), the entities tracked when it ran and
    /// the values it shipped (a collection parameter counts its elements, a string its characters).
    private sealed class SweepProbe : DbCommandInterceptor, ISaveChangesInterceptor
    {
        public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Track(eventData.Context);
            return ValueTask.FromResult(result);
        }

        public int MostReads { get; private set; }
        public int MostTracked { get; private set; }
        public int MostQueryParameters { get; private set; }
        public int LargestParameter { get; private set; }
        public int Commands { get; private set; }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Observe(command, eventData.Context);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Observe(command, eventData.Context);
            return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            Observe(command, eventData.Context);
            return base.ScalarExecutingAsync(command, eventData, result, cancellationToken);
        }

        public override InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
        {
            MostReads = Math.Max(MostReads, eventData.ReadCount);
            Track(eventData.Context);
            return base.DataReaderDisposing(command, eventData, result);
        }

        private void Observe(DbCommand command, DbContext? context)
        {
            Commands++;
            // An INSERT saves what SavingChangesAsync counted; its parameters are those entities'.
            var insert = command.CommandText.TrimStart().StartsWith("INSERT", StringComparison.OrdinalIgnoreCase);
            if (!insert)
            {
                Track(context);
                MostQueryParameters = Math.Max(MostQueryParameters, command.Parameters.Count);
            }
            foreach (DbParameter parameter in command.Parameters)
            {
                var size = parameter.Value switch
                {
                    string s => s.Length,
                    byte[] => 1,
                    Array a => a.Length,
                    _ => 1,
                };
                LargestParameter = Math.Max(LargestParameter, size);
            }
        }

        private void Track(DbContext? context)
        {
            if (context is null)
            {
                return;
            }
            var tracker = context.ChangeTracker;
            var detect = tracker.AutoDetectChangesEnabled;
            tracker.AutoDetectChangesEnabled = false;
            try
            {
                MostTracked = Math.Max(MostTracked, tracker.Entries().Count());
            }
            finally
            {
                tracker.AutoDetectChangesEnabled = detect;
            }
        }
    }
}
