using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

public sealed record DailyCost(DateOnly Date, long Cents);

public sealed record ResourceCost(Guid ResourceUId, string ResourceName, Guid? OwnerObjectId, long Cents);

public sealed record MonthTrend(DateOnly Month, long TotalCents, IReadOnlyList<long> CumulativeCentsByDay);

public sealed record CostReport(DateOnly Month, long MonthToDateCents, long EstimatedMonthCents, IReadOnlyList<MonthTrend> Trend, IReadOnlyList<ResourceCost> ByResource);

/// Seed 002's cost views: the estimated cost trend of the current month against previous months, and
/// the month-to-date cost by resource. Sums are done by the database; the shaping is pure.
public static class LabCosts
{
    public const int MonthsInTrend = 3;

    /// The decision: cumulative sums per day of each month, and the current month's estimate
    /// (month to date, extended linearly over the days of the month).
    public static CostReport Shape(DateOnly today, IReadOnlyList<DailyCost> days, IReadOnlyList<ResourceCost> byResource)
    {
        ArgumentNullException.ThrowIfNull(days);
        var month = new DateOnly(today.Year, today.Month, 1);
        var trend = new List<MonthTrend>();
        for (var m = MonthsInTrend - 1; m >= 0; m--)
        {
            var start = month.AddMonths(-m);
            var length = DateTime.DaysInMonth(start.Year, start.Month);
            var last = m == 0 ? today.Day : length;
            var cumulative = new long[last];
            long sum = 0;
            for (var d = 0; d < last; d++)
            {
                var date = start.AddDays(d);
                sum += days.Where(x => x.Date == date).Sum(x => x.Cents);
                cumulative[d] = sum;
            }
            trend.Add(new MonthTrend(start, sum, cumulative));
        }
        var mtd = trend[^1].TotalCents;
        var estimate = today.Day == 0 ? mtd : mtd * DateTime.DaysInMonth(today.Year, today.Month) / today.Day;
        return new CostReport(month, mtd, estimate, trend, byResource.OrderByDescending(r => r.Cents).ThenBy(r => r.ResourceName, StringComparer.Ordinal).ToList());
    }

    /// <paramref name="ownerObjectId"/>: null for a lab admin (every resource), else only that owner's resources.
    public static async Task<CostReport> ReportAsync(LetheDb db, Guid labId, Guid? ownerObjectId, DateOnly today, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var month = new DateOnly(today.Year, today.Month, 1);
        var from = month.AddMonths(-(MonthsInTrend - 1));
        var costs = db.LabCosts.AsNoTracking().Where(c => c.LabId == labId && c.Date >= from && c.Date <= today);
        if (ownerObjectId is { } owner)
        {
            costs = costs.Where(c => c.OwnerObjectId == owner);
        }
        var days = await costs.GroupBy(c => c.Date).Select(g => new DailyCost(g.Key, g.Sum(c => c.AmountCents))).ToListAsync(ct);
        var byResource = await costs.Where(c => c.Date >= month)
            .GroupBy(c => new { c.ResourceUId, c.ResourceName, c.OwnerObjectId })
            .Select(g => new ResourceCost(g.Key.ResourceUId, g.Key.ResourceName, g.Key.OwnerObjectId, g.Sum(c => c.AmountCents)))
            .ToListAsync(ct);
        return Shape(today, days, byResource);
    }

    /// The daily cost of a VM at a pricing tier at the default prices, in cents: what the demo and the scale data record.
    public static long DailyCentsFor(string pricingTier) => LabPrices.Defaults.VmDailyCents(pricingTier);
}
