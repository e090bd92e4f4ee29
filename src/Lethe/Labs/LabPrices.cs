using System.Text.Json;

namespace Lethe.Labs;

/// What a lab's resources cost: a price per day for each VM pricing tier (size), a price for the other
/// tiers, and a price per GiB and month for each disk type. A lab keeps only what it changed
/// (<see cref="Lab.PricesJson"/>); the rest comes from <see cref="Defaults"/>.
public sealed record LabPrices(IReadOnlyDictionary<string, decimal> VmPerDay, decimal OtherVmPerDay, IReadOnlyDictionary<string, decimal> DiskPerGiBMonth)
{
    public const string Standard = "Standard";
    public const string Premium = "Premium";

    /// Highest price accepted for one day or one GiB-month: a typing error, not a real price, beyond it.
    public const decimal MaxPrice = 100_000m;

    /// At most this many pricing tiers per lab.
    public const int MaxTiers = 100;

    /// Indicative list prices in the lab's currency, close to Azure's pay-as-you-go (Linux, West Europe).
    public static LabPrices Defaults { get; } = new(
        new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase)
        {
            ["Standard_B1s"] = 0.25m,
            ["Standard_B2s"] = 0.99m,
            ["Standard_D2s_v3"] = 2.30m,
            ["Standard_D4s_v3"] = 4.61m,
        },
        1.50m,
        new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase) { [Standard] = 0.05m, [Premium] = 0.15m });

    /// The lab's prices: the defaults with the lab's own on top.
    public static LabPrices For(string? pricesJson)
    {
        if (string.IsNullOrEmpty(pricesJson))
        {
            return Defaults;
        }
        var own = JsonSerializer.Deserialize<LabPrices>(pricesJson, JobsJson)!;
        return Defaults.With(own.VmPerDay, own.OtherVmPerDay, own.DiskPerGiBMonth);
    }

    /// These prices with some replaced (a key given wins; the others stay).
    public LabPrices With(IReadOnlyDictionary<string, decimal>? vmPerDay, decimal? otherVmPerDay, IReadOnlyDictionary<string, decimal>? diskPerGiBMonth)
    {
        var vms = new Dictionary<string, decimal>(VmPerDay, StringComparer.OrdinalIgnoreCase);
        foreach (var (tier, price) in vmPerDay ?? new Dictionary<string, decimal>())
        {
            vms[tier.Trim()] = price;
        }
        var disks = new Dictionary<string, decimal>(DiskPerGiBMonth, StringComparer.OrdinalIgnoreCase);
        foreach (var (type, price) in diskPerGiBMonth ?? new Dictionary<string, decimal>())
        {
            disks[type.Trim()] = price;
        }
        return new LabPrices(vms, otherVmPerDay ?? OtherVmPerDay, disks);
    }

    /// What the lab stores: only the prices that differ from the defaults (null when none do).
    public string? ToStored()
    {
        var vms = VmPerDay.Where(p => !Defaults.VmPerDay.TryGetValue(p.Key, out var d) || d != p.Value).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var disks = DiskPerGiBMonth.Where(p => !Defaults.DiskPerGiBMonth.TryGetValue(p.Key, out var d) || d != p.Value).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        return vms.Count == 0 && disks.Count == 0 && OtherVmPerDay == Defaults.OtherVmPerDay
            ? null
            : JsonSerializer.Serialize(new LabPrices(vms, OtherVmPerDay, disks), JobsJson);
    }

    /// The problem with requested prices, in words, or null.
    public static string? Problem(IReadOnlyDictionary<string, decimal>? vmPerDay, decimal? otherVmPerDay, IReadOnlyDictionary<string, decimal>? diskPerGiBMonth)
    {
        if (vmPerDay is not null)
        {
            if (vmPerDay.Count > MaxTiers)
            {
                return $"pricing.virtualMachinePerDay names at most {MaxTiers} pricing tiers.";
            }
            if (vmPerDay.Keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Trim().Length > 64 || k.Any(char.IsControl)))
            {
                return "pricing.virtualMachinePerDay: each pricing tier is 1 to 64 characters, such as 'Standard_B2s'.";
            }
            if (vmPerDay.Values.Any(p => p is < 0 or > MaxPrice))
            {
                return $"pricing.virtualMachinePerDay: each price is between 0 and {MaxPrice}.";
            }
        }
        if (otherVmPerDay is < 0 or > MaxPrice)
        {
            return $"pricing.otherVirtualMachinePerDay is between 0 and {MaxPrice}.";
        }
        if (diskPerGiBMonth is not null)
        {
            if (diskPerGiBMonth.Keys.Any(k => !string.Equals(k.Trim(), Standard, StringComparison.OrdinalIgnoreCase) && !string.Equals(k.Trim(), Premium, StringComparison.OrdinalIgnoreCase)))
            {
                return "pricing.diskPerGiBMonth: the disk types are 'Standard' and 'Premium'.";
            }
            if (diskPerGiBMonth.Values.Any(p => p is < 0 or > MaxPrice))
            {
                return $"pricing.diskPerGiBMonth: each price is between 0 and {MaxPrice}.";
            }
        }
        return null;
    }

    /// A VM's cost for one day, in cents.
    public long VmDailyCents(string pricingTier)
        => Cents(VmPerDay.TryGetValue(pricingTier ?? "", out var price) ? price : OtherVmPerDay);

    /// A disk's cost for one day of <paramref name="day"/>'s month, in cents (its month's price spread over its days).
    public long DiskDailyCents(int diskType, int sizeGiB, DateOnly day)
    {
        var perGiB = DiskPerGiBMonth.TryGetValue(diskType == 1 ? Premium : Standard, out var price) ? price : 0m;
        return Cents(perGiB * sizeGiB / DateTime.DaysInMonth(day.Year, day.Month));
    }

    private static long Cents(decimal amount) => (long)Math.Round(amount * 100m, MidpointRounding.AwayFromZero);

    private static readonly JsonSerializerOptions JobsJson = new(JsonSerializerDefaults.Web);
}
