using System.Globalization;
using Lethe.Demo;
using Lethe.Resources;

namespace Lethe.Labs;

/// The labs of `lethe seed --scale`: the upper half of each subscription's groups holds one lab. A user who may use
/// it (Lab User, Contributor or Owner on the group) owns one or two VMs there, half of them with a data disk; one VM
/// in five was deleted in the lab's last 30 days (so its personal data is still kept), one in three has its own
/// notification email. Every VM and disk has a cost row per day of its life in the <see cref="CostDays"/> days
/// before the epoch (seed 002's month-over-month trend needs three months).
public static class LabsScale
{
    public const int CostDays = 90;

    private static readonly string[] Tiers = ["Standard_B1s", "Standard_B2s", "Standard_D2s_v3", "Standard_D4s_v3"];
    private static readonly string[] TimeZones = ["Europe/Dublin", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Los_Angeles"];
    private static readonly GalleryImageReference[] Images =
    [
        new("Canonical", "ubuntu-24_04-lts", "server", "Linux", "latest"),
        new("MicrosoftWindowsDesktop", "windows-11", "win11-23h2-pro", "Windows", "latest"),
        new("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "Windows", "latest"),
        new("MicrosoftSQLServer", "sql2022-ws2022", "sqldev-gen2", "Windows", "latest"),
    ];
    private static readonly int[] DiskSizes = [32, 64, 128, 256, 512];

    public static bool HoldsLab(ScaleGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Number > ScaleData.GroupsPerSubscription / 2;
    }

    public static Task<ScalePart> PartAsync(ScaleTarget target, ScaleOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.FromResult(new ScalePart("labs",
            PerGroup: (group, random) => HoldsLab(group) ? [LabOf(group, random)] : [],
            PerUser: (user, random) => RowsOf(user, random, options.Epoch)));
    }

    /// A group's lab. What a user's part needs of it (ID, name, creation) comes from the group alone; the rest
    /// (time zone, schedule, email) from the group's stream.
    public static Lab LabOf(ScaleGroup group, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        var name = $"scale-lab-{group.Number:D2}";
        var lab = new Lab
        {
            Id = ScaleData.DerivedGuid(group.SubscriptionId, $"{group.Name}/lab"),
            SubscriptionId = group.SubscriptionId,
            ResourceGroup = group.Name,
            ResourceGroupKey = group.Name.ToLowerInvariant(),
            Name = name,
            NameKey = name,
            ScopeKey = LabNames.LabId(group.SubscriptionId, group.Name, name).Key,
            Location = group.Location,
            CreatedAt = group.CreatedAt,
            TimeZoneId = TimeZones[group.Number % TimeZones.Length],
        };
        if (random is not null)
        {
            lab.ShutdownTime = random.Next(3) == 0 ? null : new TimeOnly(18 + random.Next(3), 0);
            lab.ShutdownNoticeMinutes = 15 * (1 + random.Next(4));
            // A team's address, not a person's: scale users have their own on their VMs.
            lab.NotificationEmail = random.Next(2) == 0 ? $"{name}-admins@lethe.test" : null;
        }
        return lab;
    }

    private static IEnumerable<object> RowsOf(ScaleUser user, Random random, DateTimeOffset epoch)
    {
        var lastDay = DateOnly.FromDateTime(epoch.UtcDateTime).AddDays(-1);
        var firstDay = lastDay.AddDays(1 - CostDays);
        foreach (var (group, role) in user.Roles)
        {
            if (!HoldsLab(group) || role is not (Role.LabUser or Role.Contributor or Role.Owner))
            {
                continue;
            }
            var lab = LabOf(group);
            var vms = 1 + random.Next(2);
            for (var n = 0; n < vms; n++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"vm-{user.Index:x}-{n}");
                var image = Images[random.Next(Images.Length)];
                var tier = Tiers[random.Next(Tiers.Length)];
                // Most VMs are older than the cost window, so that most have all its days.
                var created = Later(Later(user.CreatedAt, lab.CreatedAt), epoch.AddDays(-30 - random.Next(700)));
                var deleted = random.Next(5) == 0 ? epoch.AddMinutes(-1 - random.Next(60 * 24 * 30)) : (DateTimeOffset?)null;
                if (deleted <= created)
                {
                    deleted = null;
                }
                var vm = new LabVirtualMachine
                {
                    Id = ScaleData.NewGuid(random),
                    LabId = lab.Id,
                    Name = name,
                    NameKey = name,
                    CreatedAt = created,
                    DeletedAt = deleted,
                    OwnerObjectId = user.ObjectId,
                    NotificationEmail = random.Next(3) == 0 ? user.Email : null,
                    PricingTier = tier,
                    ImagePublisher = image.Publisher,
                    ImageOffer = image.Offer,
                    ImageSku = image.Sku,
                    ImageOsType = image.OsType,
                    ImageVersion = image.Version,
                    Running = deleted is null && random.Next(2) == 0,
                };
                yield return vm;
                LabDisk? disk = null;
                if (random.Next(2) == 0)
                {
                    var size = DiskSizes[random.Next(DiskSizes.Length)];
                    var diskName = name + "-data";
                    disk = new LabDisk
                    {
                        Id = ScaleData.NewGuid(random),
                        LabId = lab.Id,
                        Name = diskName,
                        NameKey = diskName,
                        CreatedAt = created.AddMinutes(5),
                        DeletedAt = deleted,
                        OwnerObjectId = user.ObjectId,
                        SizeGb = size,
                        DiskType = random.Next(2),
                        BlobName = diskName + ".vhd",
                        LeasedByVmId = deleted is null ? vm.Id : null,
                    };
                    yield return disk;
                }
                var from = Later(firstDay, DateOnly.FromDateTime(created.UtcDateTime));
                var to = deleted is { } d && DateOnly.FromDateTime(d.UtcDateTime) < lastDay ? DateOnly.FromDateTime(d.UtcDateTime) : lastDay;
                var vmCents = LabCosts.DailyCentsFor(tier);
                for (var day = from; day <= to; day = day.AddDays(1))
                {
                    var at = new DateTimeOffset(day, TimeOnly.MinValue, TimeSpan.Zero);
                    // Weekends cost less: the VMs are shut down more.
                    var cents = vmCents * (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 1 : 3) / 3;
                    yield return new LabCost { Id = ScaleData.NewGuid(random, at), LabId = lab.Id, ResourceUId = vm.Id, ResourceName = vm.Name, Date = day, AmountCents = cents, OwnerObjectId = user.ObjectId };
                    if (disk is not null)
                    {
                        // Premium storage (1) costs about three times Standard (0), per GB and day.
                        var diskCents = Math.Max(1, disk.SizeGb * (disk.DiskType == 1 ? 3 : 1) / 32);
                        yield return new LabCost { Id = ScaleData.NewGuid(random, at), LabId = lab.Id, ResourceUId = disk.Id, ResourceName = disk.Name, Date = day, AmountCents = diskCents, OwnerObjectId = user.ObjectId };
                    }
                }
            }
        }
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateOnly Later(DateOnly a, DateOnly b) => a > b ? a : b;
}
