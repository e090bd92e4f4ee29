using System.ComponentModel.DataAnnotations;

namespace Lethe.Blobs;

public enum BlobProvider
{
    FileSystem,
    Azure,
}

public sealed class BlobOptions : IValidatableObject
{
    public const string Section = "Lethe:Blobs";

    public BlobProvider Provider { get; set; } = BlobProvider.FileSystem;

    /// Azure Storage connection string; required for <see cref="BlobProvider.Azure"/>.
    public string? ConnectionString { get; set; }

    /// Put before every container name, so that several deployments (or test runs) can share one storage
    /// account; the retention sweep only visits containers with this prefix.
    [RegularExpression("^[a-z0-9]+(-[a-z0-9]+)*-?$",
        ErrorMessage = "Lethe:Blobs:ContainerPrefix may contain only lower-case letters, digits and single hyphens, and must start with a letter or a digit.")]
    [MaxLength(40, ErrorMessage = "Lethe:Blobs:ContainerPrefix must be at most 40 characters long.")]
    public string? ContainerPrefix { get; set; }

    /// How long a soft-deleted blob can be undeleted before the sweep purges it.
    [Range(0, 3650, ErrorMessage = "Lethe:Blobs:SoftDeleteRetentionDays must be between 0 and 3650.")]
    public int SoftDeleteRetentionDays { get; set; } = 14;

    public TimeSpan SoftDeleteRetention => TimeSpan.FromDays(SoftDeleteRetentionDays);

    /// How long blobs without an owner are left alone before the orphan sweep removes them: longer than any
    /// write takes between its put and its owner's row (decision 0071).
    [Range(0, 10080, ErrorMessage = "Lethe:Blobs:OrphanGraceMinutes must be between 0 and 10080.")]
    public int OrphanGraceMinutes { get; set; } = 60;

    public TimeSpan OrphanGrace => TimeSpan.FromMinutes(OrphanGraceMinutes);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == BlobProvider.Azure && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Lethe:Blobs:ConnectionString is required when Lethe:Blobs:Provider is Azure.", [nameof(ConnectionString)]);
        }
    }

    /// Throws <see cref="ValidationException"/> with the first broken rule; the registrations call it so that
    /// a bad setting stops the start instead of the first request.
    public void ThrowIfInvalid() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
}
