using Lethe.Privacy;
using Lethe.Resources;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Lethe.Labs;

/// A DevTest lab in a resource group (seed 002). <see cref="Id"/> is the lab's <c>LabUId</c>.
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = Lab.DefaultAnonymizeAfterDays, RetentionSetting = nameof(AnonymizeAfterDays), Sweep = AnonymizeLabPersonalData.JobKind,
    Reason = "Seed 002: a removed notification email is kept for the lab's period, then anonymized.")]
public sealed class Lab
{
    public const string ProviderNamespace = "Microsoft.DevTestLab";
    public const string ResourceType = "Microsoft.DevTestLab/labs";
    public const int DefaultAnonymizeAfterDays = 30;

    public Guid Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public required string ResourceGroup { get; init; }
    public required string ResourceGroupKey { get; init; }
    [NotPersonalData("A resource name chosen for a lab, VM or disk; the UI asks for no personal names.")]
    public required string Name { get; init; }
    public required string NameKey { get; init; }
    public required string Location { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    /// The lower-cased resource ID: matched against role assignment scopes when listing visible labs.
    public required string ScopeKey { get; init; }

    /// Where auto-shutdown notices of the lab's VMs go when a VM has no email of its own.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public string? NotificationEmail { get; set; }

    /// An email removed from the lab, kept until <see cref="NotificationEmailRemovedAt"/> plus the lab's period.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public string? RemovedNotificationEmail { get; set; }

    [NotPersonalData("When an email was removed: the time only, kept to end the retention period.")]
    public DateTimeOffset? NotificationEmailRemovedAt { get; set; }

    /// IANA time zone of the lab: auto-shutdown times and usage start dates are read in it.
    public required string TimeZoneId { get; set; }

    /// Days after deletion (of a VM, a disk, an email) before personal data is anonymized.
    public int AnonymizeAfterDays { get; set; } = DefaultAnonymizeAfterDays;

    /// The lab's daily auto-shutdown time (local to <see cref="TimeZoneId"/>); null for none.
    public TimeOnly? ShutdownTime { get; set; }

    /// How long before a shutdown its notice is sent.
    public int ShutdownNoticeMinutes { get; set; } = 30;

    /// The lab's own prices (JSON of <see cref="LabPrices"/>, only what differs from the defaults); null: the defaults.
    [NotPersonalData("Prices per VM pricing tier and disk type: about resources, never about a person.")]
    public string? PricesJson { get; set; }

    public ResourceId ResourceId => ResourceId.ForResourceGroup(SubscriptionId, ResourceGroup).Child(ProviderNamespace, "labs", Name);
}

/// How a VM's base image is named: a gallery image reference or a custom image.
public sealed record GalleryImageReference(string Publisher, string Offer, string Sku, string OsType, string Version);

/// A lab VM. Deleting it keeps the row (<see cref="DeletedAt"/>, status Inactive) for usage export and costs.
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = Lab.DefaultAnonymizeAfterDays, RetentionSetting = nameof(Lab.AnonymizeAfterDays), Sweep = AnonymizeLabPersonalData.JobKind,
    Reason = "Seed 002: owner and email are kept while the VM exists and for the lab's period after deletion, for cost reports.")]
public sealed class LabVirtualMachine
{
    public Guid Id { get; init; }
    public Guid LabId { get; init; }
    [NotPersonalData("A resource name chosen for a lab, VM or disk; the UI asks for no personal names.")]
    public required string Name { get; init; }
    public required string NameKey { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; set; }

    /// The owner's object ID; null while the VM is claimable or when a service made it.
    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? OwnerObjectId { get; set; }

    /// The VM's notification email: wins over the lab's.
    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public string? NotificationEmail { get; set; }

    [PersonalData(PersonalDataCategory.Contact, SubjectKind.Email, IsSubjectKey = true)]
    public string? RemovedNotificationEmail { get; set; }

    [NotPersonalData("When an email was removed: the time only, kept to end the retention period.")]
    public DateTimeOffset? NotificationEmailRemovedAt { get; set; }

    /// Set once the sweep has replaced the personal data of a deleted VM.
    public DateTimeOffset? AnonymizedAt { get; set; }

    public required string PricingTier { get; set; }
    public bool Claimable { get; set; }
    public string? EnvironmentId { get; set; }
    public DateTimeOffset? ExpirationDate { get; set; }
    public string? ImagePublisher { get; init; }
    public string? ImageOffer { get; init; }
    public string? ImageSku { get; init; }
    public string? ImageOsType { get; init; }
    public string? ImageVersion { get; init; }
    public string? CustomImageId { get; init; }

    /// The VM's own daily shutdown time, overriding the lab's; null to follow the lab.
    public TimeOnly? ShutdownTime { get; set; }

    public bool Running { get; set; } = true;

    public Lab? Lab { get; init; }
}

/// A lab data disk, attached to at most one VM.
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = Lab.DefaultAnonymizeAfterDays, RetentionSetting = nameof(Lab.AnonymizeAfterDays), Sweep = AnonymizeLabPersonalData.JobKind,
    Reason = "Seed 002: the owner is kept for the lab's period after deletion, for cost reports.")]
public sealed class LabDisk
{
    public Guid Id { get; init; }
    public Guid LabId { get; init; }
    [NotPersonalData("A resource name chosen for a lab, VM or disk; the UI asks for no personal names.")]
    public required string Name { get; init; }
    public required string NameKey { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeletedAt { get; set; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? OwnerObjectId { get; set; }

    public DateTimeOffset? AnonymizedAt { get; set; }

    public int SizeGb { get; init; }

    /// 0 Standard, 1 Premium (seed 002's DiskType).
    public int DiskType { get; init; }

    public required string BlobName { get; init; }

    /// The VM the disk is attached to.
    public Guid? LeasedByVmId { get; set; }
}

/// The estimated cost of one resource on one day, attributed to its owner (seed 002: month-over-month
/// trend and cost by resource).
[Erasure(ErasureStrategy.RetainThenAnonymize, RetentionDays = Lab.DefaultAnonymizeAfterDays, RetentionSetting = nameof(Lab.AnonymizeAfterDays), Sweep = AnonymizeLabPersonalData.JobKind,
    Reason = "Seed 002: the owner's object ID is anonymized with its resource; the amounts stay so totals do not change.")]
public sealed class LabCost
{
    public Guid Id { get; init; }
    public Guid LabId { get; init; }

    /// The VM or disk the cost is for (its ResourceUId).
    public Guid ResourceUId { get; init; }

    public required string ResourceName { get; init; }
    public DateOnly Date { get; init; }

    /// In hundredths of the currency: an integer sums exactly on every provider (SQLite has no decimal).
    public long AmountCents { get; init; }

    [PersonalData(PersonalDataCategory.Identifier, SubjectKind.ObjectId, IsSubjectKey = true)]
    public Guid? OwnerObjectId { get; set; }
}

internal sealed class LabConfiguration : IEntityTypeConfiguration<Lab>
{
    public void Configure(EntityTypeBuilder<Lab> b)
    {
        b.HasKey(x => x.Id);
        b.Property(x => x.ResourceGroup).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.ResourceGroupKey).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.Name).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.NameKey).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.Location).HasMaxLength(64);
        b.Property(x => x.NotificationEmail).HasMaxLength(256);
        b.Property(x => x.RemovedNotificationEmail).HasMaxLength(256);
        b.Property(x => x.TimeZoneId).HasMaxLength(64);
        b.Property(x => x.ScopeKey).HasMaxLength(2048);
        b.HasIndex(x => new { x.SubscriptionId, x.ResourceGroupKey, x.NameKey }).IsUnique();
        b.HasIndex(x => x.NotificationEmail);
        b.HasIndex(x => x.RemovedNotificationEmail);
        b.HasOne<ResourceGroup>().WithMany().HasForeignKey(x => new { x.SubscriptionId, x.ResourceGroupKey }).OnDelete(DeleteBehavior.Cascade);
        b.Ignore(x => x.ResourceId);
    }
}

internal sealed class LabVirtualMachineConfiguration : IEntityTypeConfiguration<LabVirtualMachine>
{
    public void Configure(EntityTypeBuilder<LabVirtualMachine> b)
    {
        b.HasKey(x => x.Id);
        b.Property(x => x.Name).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.NameKey).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.NotificationEmail).HasMaxLength(256);
        b.Property(x => x.RemovedNotificationEmail).HasMaxLength(256);
        b.Property(x => x.PricingTier).HasMaxLength(64);
        b.Property(x => x.EnvironmentId).HasMaxLength(2048);
        b.Property(x => x.ImagePublisher).HasMaxLength(128);
        b.Property(x => x.ImageOffer).HasMaxLength(128);
        b.Property(x => x.ImageSku).HasMaxLength(128);
        b.Property(x => x.ImageOsType).HasMaxLength(32);
        b.Property(x => x.ImageVersion).HasMaxLength(64);
        b.Property(x => x.CustomImageId).HasMaxLength(2048);
        b.HasOne(x => x.Lab).WithMany().HasForeignKey(x => x.LabId).OnDelete(DeleteBehavior.Cascade);
        // A name is taken by one live VM at a time; deleted ones keep theirs for the usage export. The unique partial
        // index arbitrates two creations at once (decision 0070); the filter reads the same on SQLite and PostgreSQL.
        b.HasIndex(x => new { x.LabId, x.NameKey });
        b.HasIndex(x => new { x.LabId, x.NameKey }, "IX_LabVirtualMachines_LiveName").IsUnique().HasFilter("\"DeletedAt\" IS NULL");
        b.HasIndex(x => x.OwnerObjectId);
        b.HasIndex(x => x.NotificationEmail);
        b.HasIndex(x => x.RemovedNotificationEmail);
        // The auto-shutdown sweep reads the distinct times VMs set themselves from this index, not from every VM.
        b.HasIndex(x => new { x.ShutdownTime, x.LabId });
    }
}

internal sealed class LabDiskConfiguration : IEntityTypeConfiguration<LabDisk>
{
    public void Configure(EntityTypeBuilder<LabDisk> b)
    {
        b.HasKey(x => x.Id);
        b.Property(x => x.Name).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.NameKey).HasMaxLength(ResourceId.MaxNameLength);
        b.Property(x => x.BlobName).HasMaxLength(1024);
        b.HasOne<Lab>().WithMany().HasForeignKey(x => x.LabId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.LabId, x.NameKey });
        // One live disk per name, as for VMs.
        b.HasIndex(x => new { x.LabId, x.NameKey }, "IX_LabDisks_LiveName").IsUnique().HasFilter("\"DeletedAt\" IS NULL");
        b.HasIndex(x => x.OwnerObjectId);
        // Deleting a VM detaches its disks, and the export joins a disk to its VM: both look disks up by VM.
        b.HasIndex(x => x.LeasedByVmId);
    }
}

internal sealed class LabCostConfiguration : IEntityTypeConfiguration<LabCost>
{
    public void Configure(EntityTypeBuilder<LabCost> b)
    {
        b.HasKey(x => x.Id);
        b.Property(x => x.ResourceName).HasMaxLength(ResourceId.MaxNameLength);
        b.HasOne<Lab>().WithMany().HasForeignKey(x => x.LabId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.LabId, x.Date });
        b.HasIndex(x => new { x.ResourceUId, x.Date }).IsUnique();
        b.HasIndex(x => x.OwnerObjectId);
    }
}

public enum ShutdownNoticeState
{
    /// The notice is recorded; the email is on its way (or there is no email to send).
    Notified,
    /// The user postponed the shutdown to <see cref="LabShutdownNotice.ShutdownAt"/>.
    Postponed,
    /// The user skipped this shutdown.
    Skipped,
    /// The VM was shut down.
    ShutDown,
}

public enum NoticeMailState
{
    /// To be sent (or being sent).
    Pending,
    /// The email was sent (<see cref="LabShutdownNotice.EmailSentAt"/>).
    Sent,
    /// Sending failed; tried again at <see cref="LabShutdownNotice.MailNextAttemptAt"/> while the shutdown is ahead.
    Failed,
    /// Neither the VM nor the lab has a notification email.
    NoAddress,
    /// No SMTP server is configured (Lethe:Smtp:Host): the notice is shown in the portal only.
    NoMailServer,
    /// The VM's owner or a lab admin acted on the shutdown before its notice was due: no email is needed.
    NotNeeded,
}

/// One scheduled shutdown of one VM, from its notice to the shutdown (or not). The postpone and skip
/// links carry a random token whose SHA-256 is stored here: never the email, never guessable.
public sealed class LabShutdownNotice
{
    public Guid Id { get; init; }
    public Guid VmId { get; init; }

    /// The scheduled time (UTC) this notice is for; one notice per VM and scheduled time.
    public DateTimeOffset ScheduledFor { get; init; }

    /// When the VM shuts down: the scheduled time, or later once postponed.
    public DateTimeOffset ShutdownAt { get; set; }

    public ShutdownNoticeState State { get; set; }

    /// Replaced when a failed email is sent again with a new link.
    public required string TokenHash { get; set; }

    [NotPersonalData("When the notice was sent; the address is not stored here.")]
    public DateTimeOffset? EmailSentAt { get; set; }

    /// Where the notice's email stands: sent, failing (retried), or why none is sent.
    public NoticeMailState MailState { get; set; }

    /// Attempts to send the email so far.
    public int MailAttempts { get; set; }

    /// When a failed email is tried again; null once no more tries are due.
    public DateTimeOffset? MailNextAttemptAt { get; set; }

    [NotPersonalData("Why the last send failed, in words of Lethe's own (a status code, never the server's text, which may hold the address).")]
    public string? MailLastError { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class LabShutdownNoticeConfiguration : IEntityTypeConfiguration<LabShutdownNotice>
{
    public void Configure(EntityTypeBuilder<LabShutdownNotice> b)
    {
        b.HasKey(x => x.Id);
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.HasIndex(x => x.TokenHash).IsUnique();
        b.HasIndex(x => new { x.VmId, x.ScheduledFor }).IsUnique();
        b.HasIndex(x => new { x.State, x.ShutdownAt });
        b.Property(x => x.MailLastError).HasMaxLength(200);
        b.HasIndex(x => new { x.MailState, x.MailNextAttemptAt });
        b.HasOne<LabVirtualMachine>().WithMany().HasForeignKey(x => x.VmId).OnDelete(DeleteBehavior.Cascade);
    }
}
