namespace Lethe.Client;

/// A lab, as Azure's Microsoft.DevTestLab/labs resource.
public sealed record LabResource(string Id, string Name, string Type, string Location, LabProperties Properties);

/// <paramref name="UniqueIdentifier"/> is the lab's LabUId.
public sealed record LabProperties(
    Guid UniqueIdentifier,
    DateTimeOffset CreatedDate,
    string? NotificationEmail,
    string TimeZoneId,
    int AnonymizeAfterDays,
    string? ShutdownTime,
    int ShutdownNoticeMinutes,
    string ProvisioningState = "Succeeded",
    LabPricing? Pricing = null);

/// What the lab's resources cost, in the lab's currency: per day for each VM pricing tier (size), per day
/// for the tiers not listed, per GiB and month for each disk type ("Standard", "Premium"). In a lab's
/// properties: every price in effect (defaults included). In settings: only the prices to change.
public sealed record LabPricing(
    IReadOnlyDictionary<string, decimal>? VirtualMachinePerDay = null,
    decimal? OtherVirtualMachinePerDay = null,
    IReadOnlyDictionary<string, decimal>? DiskPerGiBMonth = null);

/// Creates or updates a lab. Omitted settings keep their value (or the default on create);
/// an empty <see cref="LabSettings.NotificationEmail"/> removes the email.
public sealed record CreateLabRequest(string Location, LabSettings? Properties = null);

public sealed record LabSettings(
    string? NotificationEmail = null,
    string? TimeZoneId = null,
    int? AnonymizeAfterDays = null,
    string? ShutdownTime = null,
    int? ShutdownNoticeMinutes = null,
    LabPricing? Pricing = null);

public sealed record GalleryImageReferenceContract(string Publisher, string Offer, string Sku, string OsType, string Version);

public sealed record LabVirtualMachineResource(string Id, string Name, string Type, LabVirtualMachineProperties Properties);

public sealed record LabVirtualMachineProperties(
    Guid UniqueIdentifier,
    DateTimeOffset CreatedDate,
    DateTimeOffset? DeletedDate,
    string Status,
    Guid? OwnerObjectId,
    string PricingTier,
    bool AllowClaim,
    string? EnvironmentId,
    DateTimeOffset? ExpirationDate,
    GalleryImageReferenceContract? GalleryImageReference,
    string? CustomImageId,
    string ComputeId,
    string? NotificationEmail,
    string? ShutdownTime,
    string PowerState);

/// Creates a VM: a gallery image or a custom image; claimable (no owner) or owned by the caller.
public sealed record CreateLabVirtualMachineRequest(LabVirtualMachineCreateProperties Properties);

public sealed record LabVirtualMachineCreateProperties(
    string PricingTier,
    GalleryImageReferenceContract? GalleryImageReference = null,
    string? CustomImageId = null,
    bool AllowClaim = false,
    string? EnvironmentId = null,
    DateTimeOffset? ExpirationDate = null,
    string? NotificationEmail = null,
    string? ShutdownTime = null);

/// Changes a VM's notification email (empty removes it) and its own shutdown time (empty follows the lab).
public sealed record UpdateLabVirtualMachineRequest(string? NotificationEmail = null, string? ShutdownTime = null);

public sealed record LabDiskResource(string Id, string Name, string Type, LabDiskProperties Properties);

public sealed record LabDiskProperties(
    Guid UniqueIdentifier,
    DateTimeOffset CreatedDate,
    DateTimeOffset? DeletedDate,
    string Status,
    Guid? OwnerObjectId,
    int DiskSizeGiB,
    string DiskType,
    string DiskBlobName,
    string? LeasedByLabVmId);

/// A disk: its size, type ("Standard" (0) or "Premium" (1)) and optionally its blob name.
public sealed record CreateLabDiskRequest(LabDiskCreateProperties Properties);

public sealed record LabDiskCreateProperties(int DiskSizeGiB, string DiskType = "Standard", string? DiskBlobName = null);

public sealed record AttachDiskRequest(string LeasedByLabVmId);

/// Seed 002's action parameters.
public sealed record ExportLabResourceUsageRequest(string? BlobStorageAbsoluteSasUri = null, string? UsageStartDate = null);

public sealed record LabUsageExportItem(string Folder, string Name, long Length, DateTimeOffset LastModified);

/// Costs of a lab: what the lab's cost pages chart.
public sealed record LabCostReport(
    string Currency,
    string Month,
    decimal MonthToDate,
    decimal EstimatedMonthTotal,
    IReadOnlyList<LabMonthTrend> Trend,
    IReadOnlyList<LabResourceCost> ByResource);

/// One month's cumulative cost by day of month; <paramref name="Total"/> is the month's whole cost so far.
public sealed record LabMonthTrend(string Month, decimal Total, IReadOnlyList<decimal> CumulativeByDay);

public sealed record LabResourceCost(Guid ResourceUId, string ResourceName, Guid? OwnerObjectId, decimal Cost);

public sealed record PostponeShutdownRequest(int Minutes);

/// A VM's pending auto-shutdown. <paramref name="State"/>: "Scheduled" (no notice yet; it goes out at
/// <paramref name="NoticeAt"/>), "Notified", "Postponed", "Skipped" or "ShutDown". Postpone by
/// <paramref name="MinPostponeMinutes"/> to <paramref name="MaxPostponeMinutes"/> after <paramref name="ScheduledFor"/>.
public sealed record LabVmShutdown(
    DateTimeOffset ScheduledFor,
    DateTimeOffset ShutdownAt,
    DateTimeOffset NoticeAt,
    string State,
    LabShutdownNoticeMail? Mail,
    int MinPostponeMinutes,
    int MaxPostponeMinutes);

/// The notice's email. <paramref name="State"/>: "Pending", "Sent", "Failed" (tried again at
/// <paramref name="NextAttemptAt"/>, none when null), "NoAddress", "NoMailServer" or "NotNeeded" (acted on before the notice).
public sealed record LabShutdownNoticeMail(string State, int Attempts, DateTimeOffset? SentAt, DateTimeOffset? NextAttemptAt, string? LastError);
