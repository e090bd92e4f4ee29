using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using CsvHelper;
using Lethe.Labs;

namespace Lethe.Benchmarks.Labs;

/// Hypothesis (issue 5): formatting the usage export's rows is not what limits an export: CsvHelper 34's
/// source-generated writer formats 100,000 virtualmachines.csv rows (RFC 4180, ISO 8601) at least as
/// fast as a hand-written StringBuilder loop that does the same quoting, so the database read and the
/// upload decide the speed. Baseline: the StringBuilder loop, in the same run.
[MemoryDiagnoser]
public class UsageCsvBenchmarks
{
    private const int Rows = 100_000;
    private VirtualMachineUsageRow[] _rows = [];

    [GlobalSetup]
    public void Setup()
    {
        var lab = new Lab
        {
            Id = Guid.Parse("4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d"), SubscriptionId = Guid.Parse("5c9d3b7e-1f2a-4c6d-9e8b-0a1b2c3d4e5f"),
            ResourceGroup = "labs-rg", ResourceGroupKey = "labs-rg", Name = "bench-lab", NameKey = "bench-lab", ScopeKey = "x",
            Location = "westeurope", TimeZoneId = "UTC",
        };
        var random = new Random(1);
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        _rows = Enumerable.Range(0, Rows).Select(i => LabUsageRows.ToRow(lab, new LabVirtualMachine
        {
            Id = new Guid(random.Next(), 0, 0, [0, 0, 0, 0, 0, 0, 0, (byte)i]),
            LabId = lab.Id, Name = $"vm-{i:D6}", NameKey = $"vm-{i:D6}",
            CreatedAt = epoch.AddMinutes(random.Next(500_000)),
            DeletedAt = i % 3 == 0 ? epoch.AddMinutes(600_000 + random.Next(1000)) : null,
            OwnerObjectId = i % 10 == 0 ? null : Guid.NewGuid(), Claimable = i % 10 == 0,
            PricingTier = i % 50 == 0 ? "Standard, \"promo\"" : "Standard_B2s",
            ImagePublisher = "Canonical", ImageOffer = "ubuntu-24_04-lts", ImageSku = "server", ImageOsType = "Linux", ImageVersion = "latest",
        })).ToArray();
    }

    [Benchmark(Baseline = true, Description = "StringBuilder loop")]
    public long StringBuilderLoop()
    {
        var sb = new StringBuilder(Rows * 400);
        sb.Append("SubscriptionId,LabUId,LabName,LabResourceId,ResourceGroupName,ResourceId,ResourceUId,Name,CreatedTime,DeletedDate,ResourceOwner,PricingTier,ResourceStatus,ComputeResourceId,Claimable,EnvironmentId,ExpirationDate,GalleryImageReferenceVersion,GalleryImageReferenceOffer,GalleryImageReferencePublisher,GalleryImageReferenceSku,GalleryImageReferenceOsType,CustomImageId\r\n");
        foreach (var r in _rows)
        {
            Field(sb, r.SubscriptionId).Append(',');
            Field(sb, r.LabUId).Append(',');
            Field(sb, r.LabName).Append(',');
            Field(sb, r.LabResourceId).Append(',');
            Field(sb, r.ResourceGroupName).Append(',');
            Field(sb, r.ResourceId).Append(',');
            Field(sb, r.ResourceUId).Append(',');
            Field(sb, r.Name).Append(',');
            sb.Append(r.CreatedTime.ToString(LabUsageRows.TimeFormat, CultureInfo.InvariantCulture)).Append(',');
            sb.Append(r.DeletedDate?.ToString(LabUsageRows.TimeFormat, CultureInfo.InvariantCulture)).Append(',');
            Field(sb, r.ResourceOwner).Append(',');
            Field(sb, r.PricingTier).Append(',');
            Field(sb, r.ResourceStatus).Append(',');
            Field(sb, r.ComputeResourceId).Append(',');
            sb.Append(r.Claimable ? "True" : "False").Append(',');
            Field(sb, r.EnvironmentId).Append(',');
            sb.Append(r.ExpirationDate?.ToString(LabUsageRows.TimeFormat, CultureInfo.InvariantCulture)).Append(',');
            Field(sb, r.GalleryImageReferenceVersion).Append(',');
            Field(sb, r.GalleryImageReferenceOffer).Append(',');
            Field(sb, r.GalleryImageReferencePublisher).Append(',');
            Field(sb, r.GalleryImageReferenceSku).Append(',');
            Field(sb, r.GalleryImageReferenceOsType).Append(',');
            Field(sb, r.CustomImageId).Append("\r\n");
        }
        return Encoding.UTF8.GetByteCount(sb.ToString());
    }

    [Benchmark(Description = "CsvHelper 34 [CsvRecord]")]
    public long CsvHelperRecords()
    {
        using var stream = new MemoryStream(Rows * 400);
        using (var csv = CsvWriter.Create(stream, leaveOpen: true))
        {
            csv.WriteRecords(_rows);
        }
        return stream.Length;
    }

    private static StringBuilder Field(StringBuilder sb, string? value)
    {
        if (value is null)
        {
            return sb;
        }
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return sb.Append(value);
        }
        return sb.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
