using System.Text.Json;
using Lethe.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Lethe.Labs;

/// Seed 002's costs from the lab's real resources: every running VM and every disk accrues its daily cost
/// (the lab's prices, <see cref="LabPrices"/>) once per day (UTC), attributed to its owner's object ID.
/// Runs hourly; a VM that runs at any run of a day costs that day. One row per resource and day (a unique
/// index), so a run again, or a run on another node, never counts twice.
public sealed class AccrueLabCosts(LetheDb db, TimeProvider clock, ILogger<AccrueLabCosts> logger) : RecurringJob(db, clock, logger)
{
    public const string JobKind = "labs.cost-accrual";

    /// Resources per query: the sweep's memory is one page, however large the labs.
    internal const int PageSize = 500;

    public override string Kind => JobKind;

    public override TimeSpan Interval => TimeSpan.FromHours(1);

    public sealed record Counts(int Labs, int Accrued);

    protected override async Task<string> SweepAsync(CancellationToken ct)
        => JsonSerializer.Serialize(await RunAsync(Clock.GetUtcNow(), ct), JobQueue.Json);

    /// One run for the day of <paramref name="now"/> (UTC). Each lab is one record: a lab whose costs keep
    /// failing is set aside and reported, and the other labs go on.
    public async Task<Counts> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var setAside = SetAsideKeys;
        var labs = 0;
        var accrued = 0;
        Guid? after = null;
        while (true)
        {
            var query = Db.Labs.AsNoTracking().Where(l => !setAside.Contains(l.Id.ToString().ToLower()));
            if (after is { } last)
            {
                query = query.Where(l => l.Id.CompareTo(last) > 0);
            }
            var page = await query.OrderBy(l => l.Id).Select(l => new { l.Id, l.PricesJson }).Take(PageSize).ToListAsync(ct);
            if (page.Count == 0)
            {
                break;
            }
            after = page[^1].Id;
            foreach (var lab in page)
            {
                await TryRecordAsync(lab.Id.ToString(), async token =>
                {
                    accrued += await AccrueLabAsync(lab.Id, LabPrices.For(lab.PricesJson), day, now, token);
                    labs++;
                }, ct);
            }
        }
        return new Counts(labs, accrued);
    }

    private sealed record Resource(Guid Id, string Name, Guid? Owner, long Cents);

    private async Task<int> AccrueLabAsync(Guid labId, LabPrices prices, DateOnly day, DateTimeOffset now, CancellationToken ct)
    {
        var accrued = 0;
        Guid? after = null;
        while (true)
        {
            var vms = Db.LabVirtualMachines.AsNoTracking().Where(v => v.LabId == labId && v.DeletedAt == null && v.Running);
            if (after is { } last)
            {
                vms = vms.Where(v => v.Id.CompareTo(last) > 0);
            }
            var page = await vms.OrderBy(v => v.Id).Take(PageSize).Select(v => new { v.Id, v.Name, v.OwnerObjectId, v.PricingTier }).ToListAsync(ct);
            if (page.Count == 0)
            {
                break;
            }
            after = page[^1].Id;
            accrued += await AddMissingAsync(labId, day, now, page.Select(v => new Resource(v.Id, v.Name, v.OwnerObjectId, prices.VmDailyCents(v.PricingTier))).ToList(), ct);
        }
        after = null;
        while (true)
        {
            var disks = Db.LabDisks.AsNoTracking().Where(d => d.LabId == labId && d.DeletedAt == null);
            if (after is { } last)
            {
                disks = disks.Where(d => d.Id.CompareTo(last) > 0);
            }
            var page = await disks.OrderBy(d => d.Id).Take(PageSize).Select(d => new { d.Id, d.Name, d.OwnerObjectId, d.DiskType, d.SizeGb }).ToListAsync(ct);
            if (page.Count == 0)
            {
                break;
            }
            after = page[^1].Id;
            accrued += await AddMissingAsync(labId, day, now, page.Select(d => new Resource(d.Id, d.Name, d.OwnerObjectId, prices.DiskDailyCents(d.DiskType, d.SizeGb, day))).ToList(), ct);
        }
        return accrued;
    }

    /// Adds the day's row of each resource that has none. Two nodes racing on one page: the unique index
    /// refuses the loser's rows, which then reads what the winner wrote and adds only what is still missing.
    private async Task<int> AddMissingAsync(Guid labId, DateOnly day, DateTimeOffset now, IReadOnlyList<Resource> resources, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var ids = resources.Select(r => r.Id).ToList();
            var have = await Db.LabCosts.AsNoTracking().Where(c => c.Date == day && ids.Contains(c.ResourceUId)).Select(c => c.ResourceUId).ToListAsync(ct);
            var missing = resources.Where(r => !have.Contains(r.Id)).ToList();
            if (missing.Count == 0)
            {
                return 0;
            }
            Db.LabCosts.AddRange(missing.Select(r => new LabCost
            {
                Id = Guid.CreateVersion7(now),
                LabId = labId,
                ResourceUId = r.Id,
                ResourceName = r.Name,
                Date = day,
                AmountCents = r.Cents,
                OwnerObjectId = r.Owner,
            }));
            try
            {
                await Db.SaveChangesAsync(ct);
                return missing.Count;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                Db.ChangeTracker.Clear();
            }
            finally
            {
                Db.ChangeTracker.Clear();
            }
        }
    }
}
