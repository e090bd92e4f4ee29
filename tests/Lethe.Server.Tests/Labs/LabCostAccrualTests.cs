using Lethe.Client;
using Lethe.Jobs;
using Lethe.Labs;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Labs;

/// Item 8 of issue 13: the seed's cost views from a real lab. VMs and disks made through the API accrue a
/// daily cost at the lab's prices, attributed to their owner, once per resource and day.
public sealed class LabCostAccrualTests(LabServers servers) : IClassFixture<LabServers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Running_VMs_and_disks_accrue_one_daily_cost_at_the_lab_prices_for_their_owner(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var priced = await lab.Admin.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab,
            new LabSettings(Pricing: new LabPricing(new Dictionary<string, decimal> { ["Standard_B2s"] = 2.00m }, 3.00m, new Dictionary<string, decimal> { ["Premium"] = 0.31m })), Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);
        var other = await lab.CreateVmAsync(lab.User2.Client, "u2-odd", Ct, tier: "Custom_Size");
        var stopped = await lab.CreateVmAsync(lab.User2.Client, "u2-stopped", Ct);
        var gone = await lab.CreateVmAsync(lab.User2.Client, "u2-gone", Ct);
        var disk = await lab.User1.Client.CreateLabDiskAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u1-data", new LabDiskCreateProperties(100, "Premium"), Ct);
        await lab.User2.Client.DeleteLabVirtualMachineAsync(lab.SubscriptionId, lab.Group, lab.Lab, "u2-gone", Ct);
        var stoppedId = stopped.Properties.UniqueIdentifier;
        await host.WithDbAsync(db => db.LabVirtualMachines.Where(v => v.Id == stoppedId).ExecuteUpdateAsync(set => set.SetProperty(v => v.Running, false), Ct));
        var now = DateTimeOffset.UtcNow;
        var lastMonth = now.AddMonths(-1);

        // Today twice, at the same time on two "nodes" and once more later; a day of last month once.
        await Task.WhenAll(AccrueAsync(host, now), AccrueAsync(host, now));
        await AccrueAsync(host, now.AddMinutes(1));
        await AccrueAsync(host, lastMonth);
        var costs = await lab.Admin.GetLabCostsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var mine = await lab.User1.Client.GetLabCostsAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var labId = lab.Resource.Properties.UniqueIdentifier;
        var rows = await host.WithDbAsync(db => db.LabCosts.AsNoTracking().Where(c => c.LabId == labId).ToListAsync(Ct));

        var diskDay = Math.Round(100 * 0.31m / DateTime.DaysInMonth(now.Year, now.Month), 2, MidpointRounding.AwayFromZero);
        var diskDayLastMonth = Math.Round(100 * 0.31m / DateTime.DaysInMonth(lastMonth.Year, lastMonth.Month), 2, MidpointRounding.AwayFromZero);
        Assert.Equal(2.00m, priced.Properties.Pricing!.VirtualMachinePerDay!["Standard_B2s"]);
        Assert.Equal(0.25m, priced.Properties.Pricing.VirtualMachinePerDay["Standard_B1s"]);
        Assert.Equal(0.05m, priced.Properties.Pricing.DiskPerGiBMonth!["Standard"]);
        // One row per resource and day, however many runs; none for the stopped or the deleted VM.
        Assert.Equal(6, rows.Count);
        Assert.DoesNotContain(rows, r => r.ResourceUId == stoppedId || r.ResourceUId == gone.Properties.UniqueIdentifier);
        Assert.All(rows.Where(r => r.ResourceUId == vm.Properties.UniqueIdentifier || r.ResourceUId == disk.Properties.UniqueIdentifier), r => Assert.Equal(lab.User1.ObjectId, r.OwnerObjectId));
        Assert.Equal(
            new[] { ("u1-vm", 2.00m), ("u2-odd", 3.00m), ("u1-data", diskDay) }.OrderByDescending(x => x.Item2).ThenBy(x => x.Item1, StringComparer.Ordinal),
            costs.ByResource.Select(r => (r.ResourceName, r.Cost)));
        Assert.Equal(5.00m + diskDay, costs.MonthToDate);
        Assert.Equal(5.00m + diskDayLastMonth, costs.Trend[^2].Total);
        Assert.Equal(2.00m + diskDay, mine.MonthToDate);
        Assert.NotNull(other);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Bad_prices_are_a_problem_in_words_and_change_nothing(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);

        var negative = await Assert.ThrowsAsync<LetheValidationException>(() => lab.Admin.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab,
            new LabSettings(Pricing: new LabPricing(new Dictionary<string, decimal> { ["Standard_B2s"] = -1m })), Ct));
        var diskType = await Assert.ThrowsAsync<LetheValidationException>(() => lab.Admin.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab,
            new LabSettings(Pricing: new LabPricing(DiskPerGiBMonth: new Dictionary<string, decimal> { ["Ultra"] = 1m })), Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => lab.User1.Client.UpdateLabAsync(lab.SubscriptionId, lab.Group, lab.Lab,
            new LabSettings(Pricing: new LabPricing(OtherVirtualMachinePerDay: 0m)), Ct));
        var after = await lab.Admin.GetLabAsync(lab.SubscriptionId, lab.Group, lab.Lab, Ct);
        var stored = await host.WithDbAsync(db => db.Labs.Where(l => l.Id == lab.Resource.Properties.UniqueIdentifier).Select(l => l.PricesJson).SingleAsync(Ct));

        Assert.Equal("pricing", Assert.Single(negative.Errors).Key);
        Assert.Contains("between 0 and", negative.Errors["pricing"][0], StringComparison.Ordinal);
        Assert.Contains("'Standard' and 'Premium'", diskType.Errors["pricing"][0], StringComparison.Ordinal);
        Assert.Null(stored);
        Assert.Equal(0.99m, after.Properties.Pricing!.VirtualMachinePerDay!["Standard_B2s"]);
        Assert.Equal(1.50m, after.Properties.Pricing.OtherVirtualMachinePerDay);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_server_schedules_the_cost_sweep_and_its_run_accrues_today(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var lab = await LabSetup.CreateAsync(host, Ct);
        var vm = await lab.CreateVmAsync(lab.User1.Client, "u1-vm", Ct);

        var run = await host.RunSweepAsync(AccrueLabCosts.JobKind, Ct);
        var id = vm.Properties.UniqueIdentifier;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var row = await host.WithDbAsync(db => db.LabCosts.AsNoTracking().SingleAsync(c => c.ResourceUId == id, Ct));

        Assert.Equal(JobState.Succeeded, run.State);
        Assert.Equal(today, row.Date);
        Assert.Equal(99, row.AmountCents);
        Assert.Equal(lab.User1.ObjectId, row.OwnerObjectId);
    }

    private static async Task AccrueAsync(LetheHost host, DateTimeOffset now)
    {
        await using var scope = host.Factory.Services.CreateAsyncScope();
        var job = scope.ServiceProvider.GetServices<IJobHandler>().OfType<AccrueLabCosts>().Single();
        await job.RunAsync(now, Ct);
    }
}
