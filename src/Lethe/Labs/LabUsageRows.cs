using CsvHelper;

namespace Lethe.Labs;

/// A row of <c>virtualmachines.csv</c>: seed 002's columns, in the seed's order (the property order is the column order).
[CsvRecord]
public sealed partial record VirtualMachineUsageRow
{
    public required string SubscriptionId { get; init; }
    public required string LabUId { get; init; }
    public required string LabName { get; init; }
    public required string LabResourceId { get; init; }
    public required string ResourceGroupName { get; init; }
    public required string ResourceId { get; init; }
    public required string ResourceUId { get; init; }
    public required string Name { get; init; }
    [CsvFormat(LabUsageRows.TimeFormat)]
    public required DateTime CreatedTime { get; init; }
    [CsvFormat(LabUsageRows.TimeFormat)]
    public DateTime? DeletedDate { get; init; }
    public string? ResourceOwner { get; init; }
    public required string PricingTier { get; init; }
    public required string ResourceStatus { get; init; }
    public required string ComputeResourceId { get; init; }
    public required bool Claimable { get; init; }
    public string? EnvironmentId { get; init; }
    [CsvFormat(LabUsageRows.TimeFormat)]
    public DateTime? ExpirationDate { get; init; }
    public string? GalleryImageReferenceVersion { get; init; }
    public string? GalleryImageReferenceOffer { get; init; }
    public string? GalleryImageReferencePublisher { get; init; }
    public string? GalleryImageReferenceSku { get; init; }
    public string? GalleryImageReferenceOsType { get; init; }
    public string? CustomImageId { get; init; }
}

/// A row of <c>disks.csv</c>: seed 002's columns, in the seed's order.
[CsvRecord]
public sealed partial record DiskUsageRow
{
    public required string SubscriptionId { get; init; }
    public required string LabUId { get; init; }
    public required string LabName { get; init; }
    public required string LabResourceId { get; init; }
    public required string ResourceGroupName { get; init; }
    public required string ResourceId { get; init; }
    public required string ResourceUId { get; init; }
    public required string Name { get; init; }
    [CsvFormat(LabUsageRows.TimeFormat)]
    public required DateTime CreatedTime { get; init; }
    [CsvFormat(LabUsageRows.TimeFormat)]
    public DateTime? DeletedDate { get; init; }
    public required string ResourceStatus { get; init; }
    public required string DiskBlobName { get; init; }
    public required int DiskSizeGB { get; init; }
    public required int DiskType { get; init; }
    public string? LeasedByVmId { get; init; }
}

/// The rows of the usage export as objects: the reference the providers' SQL is tested against (and what
/// tests read the files back into). The export itself has the database format the rows (<see cref="ILabUsageCsvSource"/>).
public static class LabUsageRows
{
    /// ISO 8601 in UTC, to the second.
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public const string Active = "Active";
    public const string Inactive = "Inactive";

    /// The header of virtualmachines.csv: the properties of <see cref="VirtualMachineUsageRow"/>, in order.
    public static readonly IReadOnlyList<string> VirtualMachineColumns =
    [
        "SubscriptionId", "LabUId", "LabName", "LabResourceId", "ResourceGroupName", "ResourceId", "ResourceUId", "Name",
        "CreatedTime", "DeletedDate", "ResourceOwner", "PricingTier", "ResourceStatus", "ComputeResourceId", "Claimable",
        "EnvironmentId", "ExpirationDate", "GalleryImageReferenceVersion", "GalleryImageReferenceOffer",
        "GalleryImageReferencePublisher", "GalleryImageReferenceSku", "GalleryImageReferenceOsType", "CustomImageId",
    ];

    /// The header of disks.csv: the properties of <see cref="DiskUsageRow"/>, in order.
    public static readonly IReadOnlyList<string> DiskColumns =
    [
        "SubscriptionId", "LabUId", "LabName", "LabResourceId", "ResourceGroupName", "ResourceId", "ResourceUId", "Name",
        "CreatedTime", "DeletedDate", "ResourceStatus", "DiskBlobName", "DiskSizeGB", "DiskType", "LeasedByVmId",
    ];

    /// What an anonymized owner reads as: the all-zero GUID, so the column keeps its type.
    public static readonly Guid AnonymousOwner = Guid.Empty;

    public static VirtualMachineUsageRow ToRow(Lab lab, LabVirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(vm);
        var labId = lab.ResourceId;
        return new VirtualMachineUsageRow
        {
            SubscriptionId = lab.SubscriptionId.ToString("D"),
            LabUId = lab.Id.ToString("D"),
            LabName = lab.Name,
            LabResourceId = labId.Value,
            ResourceGroupName = lab.ResourceGroup,
            ResourceId = labId.Child("virtualmachines", vm.Name).Value,
            ResourceUId = vm.Id.ToString("D"),
            Name = vm.Name,
            CreatedTime = vm.CreatedAt.UtcDateTime,
            DeletedDate = vm.DeletedAt?.UtcDateTime,
            ResourceOwner = vm.OwnerObjectId?.ToString("D"),
            PricingTier = vm.PricingTier,
            ResourceStatus = vm.DeletedAt is null ? Active : Inactive,
            ComputeResourceId = LabNames.ComputeResourceId(lab, vm.Name),
            Claimable = vm.Claimable,
            EnvironmentId = vm.EnvironmentId,
            ExpirationDate = vm.ExpirationDate?.UtcDateTime,
            GalleryImageReferenceVersion = vm.ImageVersion,
            GalleryImageReferenceOffer = vm.ImageOffer,
            GalleryImageReferencePublisher = vm.ImagePublisher,
            GalleryImageReferenceSku = vm.ImageSku,
            GalleryImageReferenceOsType = vm.ImageOsType,
            CustomImageId = vm.CustomImageId,
        };
    }

    public static DiskUsageRow ToRow(Lab lab, LabDisk disk, string? leasedByVmName)
    {
        ArgumentNullException.ThrowIfNull(lab);
        ArgumentNullException.ThrowIfNull(disk);
        var labId = lab.ResourceId;
        return new DiskUsageRow
        {
            SubscriptionId = lab.SubscriptionId.ToString("D"),
            LabUId = lab.Id.ToString("D"),
            LabName = lab.Name,
            LabResourceId = labId.Value,
            ResourceGroupName = lab.ResourceGroup,
            ResourceId = labId.Child("disks", disk.Name).Value,
            ResourceUId = disk.Id.ToString("D"),
            Name = disk.Name,
            CreatedTime = disk.CreatedAt.UtcDateTime,
            DeletedDate = disk.DeletedAt?.UtcDateTime,
            ResourceStatus = disk.DeletedAt is null ? Active : Inactive,
            DiskBlobName = disk.BlobName,
            DiskSizeGB = disk.SizeGb,
            DiskType = disk.DiskType,
            LeasedByVmId = leasedByVmName is null ? null : labId.Child("virtualmachines", leasedByVmName).Value,
        };
    }
}
