using Lethe.Demo;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Labs;

/// `serve --demo`: a lab in labs-rg (LabAdmin owns the group; LabUser1 and LabUser2 use the lab) with
/// VMs and disks, some deleted (one within the lab's 30 days, one past them and so anonymized by the
/// sweep at start), a notification email, a schedule, and three months of daily costs.
public sealed class LabsDemo : IDemoContent
{
    public const string LabName = "contoso-devtest";

    public int Order => 30;

    public async Task EnsureAsync(IServiceProvider services, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        var db = services.GetRequiredService<LetheDb>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var group = DemoAccounts.LabsResourceGroup;
        if (await db.Labs.AnyAsync(l => l.SubscriptionId == DemoAccounts.SubscriptionId && l.ResourceGroupKey == group && l.NameKey == LabName, ct))
        {
            return;
        }
        var start = now.AddDays(-95);
        var lab = new Lab
        {
            Id = Guid.Parse("4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"),
            SubscriptionId = DemoAccounts.SubscriptionId,
            ResourceGroup = group,
            ResourceGroupKey = group,
            Name = LabName,
            NameKey = LabName,
            ScopeKey = LabNames.LabId(DemoAccounts.SubscriptionId, group, LabName).Key,
            Location = "northeurope",
            CreatedAt = start,
            TimeZoneId = "Europe/Dublin",
            NotificationEmail = DemoAccounts.LabAdmin.Email,
            ShutdownTime = new TimeOnly(19, 0),
            ShutdownNoticeMinutes = 30,
        };
        db.Labs.Add(lab);
        var vms = new[]
        {
            Vm(lab, "lana-win11", DemoAccounts.LabUser1.ObjectId, "Standard_D2s_v3", start.AddDays(1), null, "MicrosoftWindowsDesktop", "windows-11", "win11-23h2-pro", "Windows", DemoAccounts.LabUser1.Email),
            Vm(lab, "lana-ubuntu", DemoAccounts.LabUser1.ObjectId, "Standard_B2s", start.AddDays(10), now.AddDays(-10), "Canonical", "ubuntu-24_04-lts", "server", "Linux", null),
            Vm(lab, "leo-ubuntu", DemoAccounts.LabUser2.ObjectId, "Standard_B2s", start.AddDays(20), null, "Canonical", "ubuntu-24_04-lts", "server", "Linux", DemoAccounts.LabUser2.Email),
            Vm(lab, "leo-sql", DemoAccounts.LabUser2.ObjectId, "Standard_D4s_v3", start.AddDays(30), now.AddDays(-40), "MicrosoftSQLServer", "sql2022-ws2022", "sqldev-gen2", "Windows", null),
            Vm(lab, "pool-vm-01", null, "Standard_B1s", start.AddDays(2), null, "Canonical", "ubuntu-24_04-lts", "server", "Linux", null),
        };
        db.LabVirtualMachines.AddRange(vms);
        db.LabDisks.AddRange(
            Disk(lab, "lana-data", DemoAccounts.LabUser1.ObjectId, 128, 1, start.AddDays(2), null, vms[0].Id),
            Disk(lab, "lana-scratch", DemoAccounts.LabUser1.ObjectId, 64, 0, start.AddDays(12), now.AddDays(-10), null),
            Disk(lab, "leo-data", DemoAccounts.LabUser2.ObjectId, 256, 0, start.AddDays(21), null, vms[2].Id));
        foreach (var vm in vms)
        {
            var last = vm.DeletedAt ?? now;
            for (var day = DateOnly.FromDateTime(vm.CreatedAt.UtcDateTime); day <= DateOnly.FromDateTime(last.UtcDateTime); day = day.AddDays(1))
            {
                // Weekends cost less: the VMs are shut down more.
                var cents = LabCosts.DailyCentsFor(vm.PricingTier) * (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 1 : 3) / 3;
                db.LabCosts.Add(new LabCost { Id = Guid.NewGuid(), LabId = lab.Id, ResourceUId = vm.Id, ResourceName = vm.Name, Date = day, AmountCents = cents, OwnerObjectId = vm.OwnerObjectId });
            }
        }
        await db.SaveChangesAsync(ct);
    }

    private static LabVirtualMachine Vm(Lab lab, string name, Guid? owner, string tier, DateTimeOffset created, DateTimeOffset? deleted, string publisher, string offer, string sku, string os, string? email) => new()
    {
        Id = Guid.NewGuid(),
        LabId = lab.Id,
        Name = name,
        NameKey = name,
        CreatedAt = created,
        DeletedAt = deleted,
        OwnerObjectId = owner,
        Claimable = owner is null,
        PricingTier = tier,
        ImagePublisher = publisher,
        ImageOffer = offer,
        ImageSku = sku,
        ImageOsType = os,
        ImageVersion = "latest",
        NotificationEmail = email,
        Running = deleted is null,
    };

    private static LabDisk Disk(Lab lab, string name, Guid owner, int size, int type, DateTimeOffset created, DateTimeOffset? deleted, Guid? vm) => new()
    {
        Id = Guid.NewGuid(),
        LabId = lab.Id,
        Name = name,
        NameKey = name,
        CreatedAt = created,
        DeletedAt = deleted,
        OwnerObjectId = owner,
        SizeGb = size,
        DiskType = type,
        BlobName = $"{name}.vhd",
        LeasedByVmId = vm,
    };
}
