using System.Text.Json;
using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// Seed 002: the email and object ID of a deleted VM or disk, and a removed email, are kept for the
/// lab's period (30 days by default) so that cost reports stay accurate, then anonymized. The owner
/// becomes the all-zero GUID and emails are cleared; cost amounts are never touched, so totals per
/// resource and per lab stay exactly the same.
///
/// Set-based, one set of statements per distinct period; when a period's statements fail, its labs
/// are taken one by one, so a lab whose rows cannot be changed is set aside and reported and the
/// other labs are anonymized on time.
///
/// The owner is anonymized inside the lab's stored usage exports too, before the rows (so a crash in between finds
/// the VM again on the next run).
public sealed class AnonymizeLabPersonalData(LetheDb db, TimeProvider clock, IBlobStore blobs, Microsoft.Extensions.Logging.ILogger<AnonymizeLabPersonalData> logger)
    : RecurringJob(db, clock, logger)
{
    public const string JobKind = "labs.anonymize";

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    /// Due VMs read per query when their owners are anonymized inside the stored exports.
    internal const int PageSize = 500;

    /// The decision, for one row: due once the lab's period has passed since the deletion.
    public static bool IsDue(DateTimeOffset deletedAt, int anonymizeAfterDays, DateTimeOffset now)
        => now >= deletedAt.AddDays(anonymizeAfterDays);

    public sealed record Counts(int VirtualMachines, int Disks, int CostRecords, int Emails);

    public static async Task<Counts> RunAsync(LetheDb db, DateTimeOffset now, CancellationToken ct) => await RunAsync(db, null, now, ct);

    public static async Task<Counts> RunAsync(LetheDb db, IBlobStore? blobs, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var total = new Counts(0, 0, 0, 0);
        // One set of statements per distinct period: few periods, never one statement per lab or row.
        var periods = await db.Labs.Select(l => l.AnonymizeAfterDays).Distinct().ToListAsync(ct);
        foreach (var days in periods)
        {
            total = Add(total, await AnonymizeAsync(db, blobs, db.Labs.Where(l => l.AnonymizeAfterDays == days), days, now, ct));
        }
        return total;
    }

    private static Counts Add(Counts a, Counts b)
        => new(a.VirtualMachines + b.VirtualMachines, a.Disks + b.Disks, a.CostRecords + b.CostRecords, a.Emails + b.Emails);

    /// The statements for the labs of one period (<paramref name="scope"/>: all of them, or one lab).
    private static async Task<Counts> AnonymizeAsync(LetheDb db, IBlobStore? blobs, IQueryable<Lab> scope, int days, DateTimeOffset now, CancellationToken ct)
    {
        int vms = 0, disks = 0, costs = 0, emails = 0;
        // A variable, not a constant: providers then type the parameter as the column's (uuid on PostgreSQL).
        Guid? anonymous = LabUsageRows.AnonymousOwner;
        var cutoff = now.AddDays(-days);
        var labs = scope.Select(l => l.Id);
        var dueVms = db.LabVirtualMachines.Where(v => labs.Contains(v.LabId) && v.DeletedAt != null && v.DeletedAt <= cutoff);
        var dueDisks = db.LabDisks.Where(d => labs.Contains(d.LabId) && d.DeletedAt != null && d.DeletedAt <= cutoff);
        if (blobs is not null)
        {
            await AnonymizeExportsAsync(db, blobs, dueVms.Where(v => v.AnonymizedAt == null && v.OwnerObjectId != null && v.OwnerObjectId != Guid.Empty), ct);
        }
        // Costs first: a crash between statements leaves the resource to be found again next run.
        costs += await db.LabCosts
            .Where(c => c.OwnerObjectId != null && c.OwnerObjectId != Guid.Empty
                && (dueVms.Any(v => v.Id == c.ResourceUId) || dueDisks.Any(d => d.Id == c.ResourceUId)))
            .ExecuteUpdateAsync(set => set.SetProperty(c => c.OwnerObjectId, anonymous), ct);
        vms += await dueVms.Where(v => v.AnonymizedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(v => v.OwnerObjectId, v => v.OwnerObjectId == null ? null : anonymous)
                .SetProperty(v => v.NotificationEmail, (string?)null)
                .SetProperty(v => v.RemovedNotificationEmail, (string?)null)
                .SetProperty(v => v.NotificationEmailRemovedAt, (DateTimeOffset?)null)
                .SetProperty(v => v.AnonymizedAt, now), ct);
        disks += await dueDisks.Where(d => d.AnonymizedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(d => d.OwnerObjectId, d => d.OwnerObjectId == null ? null : anonymous)
                .SetProperty(d => d.AnonymizedAt, now), ct);
        emails += await db.LabVirtualMachines
            .Where(v => labs.Contains(v.LabId) && v.NotificationEmailRemovedAt != null && v.NotificationEmailRemovedAt <= cutoff)
            .ExecuteUpdateAsync(set => set
                .SetProperty(v => v.RemovedNotificationEmail, (string?)null)
                .SetProperty(v => v.NotificationEmailRemovedAt, (DateTimeOffset?)null), ct);
        emails += await scope
            .Where(l => l.NotificationEmailRemovedAt != null && l.NotificationEmailRemovedAt <= cutoff)
            .ExecuteUpdateAsync(set => set
                .SetProperty(l => l.RemovedNotificationEmail, (string?)null)
                .SetProperty(l => l.NotificationEmailRemovedAt, (DateTimeOffset?)null), ct);
        return new Counts(vms, disks, costs, emails);
    }

    /// In each lab's stored exports, the owner of each due VM is replaced in that VM's rows.
    private static async Task AnonymizeExportsAsync(LetheDb db, IBlobStore blobs, IQueryable<LabVirtualMachine> due, CancellationToken ct)
    {
        // Keyset pages on the primary key: a sweep's memory stays flat however many VMs are due, and each page is an
        // index range (an offset would rescan every page before it).
        Guid? after = null;
        while (true)
        {
            var query = due;
            if (after is { } last)
            {
                query = query.Where(v => v.Id.CompareTo(last) > 0);
            }
            var page = await query.OrderBy(v => v.Id).Take(PageSize)
                .Select(v => new { v.Id, v.OwnerObjectId, LabName = v.Lab!.Name, v.LabId }).ToListAsync(ct);
            if (page.Count == 0)
            {
                return;
            }
            after = page[^1].Id;
            foreach (var lab in page.GroupBy(v => (v.LabName, v.LabId)))
            {
                var vmIds = lab.Select(v => v.Id.ToString("D")).ToList();
                var owners = lab.Select(v => v.OwnerObjectId!.Value.ToString("D")).Distinct().ToList();
                await foreach (var blob in blobs.ListAsync(ExportLabUsage.Container, $"{lab.Key.LabName}/{lab.Key.LabId:D}/", ct))
                {
                    await LabsPrivacy.UsageExportSource.AnonymizeOwnersAsync(blobs, blob.Name, owners,
                        line => vmIds.Exists(id => line.Contains(id, StringComparison.OrdinalIgnoreCase)), ct);
                }
            }
        }
    }

    protected override async Task<string> SweepAsync(CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        var setAside = SetAsideKeys;
        var swept = Db.Labs.Where(l => !setAside.Contains(l.Id.ToString().ToLower()));
        var total = new Counts(0, 0, 0, 0);
        var failed = 0;
        foreach (var days in await swept.Select(l => l.AnonymizeAfterDays).Distinct().ToListAsync(ct))
        {
            var period = swept.Where(l => l.AnonymizeAfterDays == days);
            try
            {
                total = Add(total, await AnonymizeAsync(Db, blobs, period, days, now, ct));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Db.ChangeTracker.Clear();
                foreach (var labId in await period.Select(l => l.Id).ToListAsync(ct))
                {
                    var one = Db.Labs.Where(l => l.Id == labId);
                    if (!await TryRecordAsync(labId.ToString(), async c => total = Add(total, await AnonymizeAsync(Db, blobs, one, days, now, c)), ct))
                    {
                        failed++;
                    }
                }
            }
        }
        return JsonSerializer.Serialize(new { total.VirtualMachines, total.Disks, total.CostRecords, total.Emails, FailedLabs = failed }, JobQueue.Json);
    }
}
