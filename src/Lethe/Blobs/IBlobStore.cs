namespace Lethe.Blobs;

/// Lethe's blob store: the file system (default) or Azure Blob Storage, behaving the same.
///
/// Rules common to both backends:
/// - Containers and names are validated first (<see cref="BlobNames"/>); an invalid one throws
///   <see cref="BlobNameException"/> and nothing is read or written. A container needs no creating:
///   the first put creates it, and an unknown one reads as empty.
/// - Soft delete is Lethe's own: a soft-deleted blob becomes a tombstone that keeps its content and
///   records when it was deleted. Tombstones are invisible to reads and <see cref="ListAsync"/>; they
///   are seen through <see cref="ListDeletedAsync"/>, restored by <see cref="UndeleteAsync"/>, and
///   removed for good by a purge or, once the retention has passed, by <see cref="PurgeExpiredAsync"/>.
/// - One name holds one blob: a put over a tombstone replaces it, so the new content is live and the
///   soft-deleted content is gone (as for a put over a live blob).
/// - Every operation is idempotent, so a caller that crashed or timed out can simply run it again.
public interface IBlobStore
{
    /// Creates or overwrites the blob with the content read from <paramref name="content"/> to its end,
    /// streamed: memory stays bounded whatever the size. Readers see the old blob until the new one is
    /// complete, never a part of it. Without a content type the blob's is <see cref="BlobItem.DefaultContentType"/>.
    Task PutAsync(string container, string name, Stream content, string? contentType, CancellationToken ct);

    /// The content of a live blob, to be disposed by the caller; <see cref="BlobNotFoundException"/> when the
    /// blob does not exist or is soft-deleted.
    Task<Stream> OpenReadAsync(string container, string name, CancellationToken ct);

    /// The content a tombstone keeps (a soft-deleted blob, still held until its purge): what an export bundle
    /// includes of a soft-deleted workspace. <see cref="BlobNotFoundException"/> when there is no tombstone of that name.
    Task<Stream> OpenReadDeletedAsync(string container, string name, CancellationToken ct);

    /// The live blob's properties, or null when it does not exist or is soft-deleted.
    Task<BlobItem?> GetPropertiesAsync(string container, string name, CancellationToken ct);

    /// Live blobs whose names start with <paramref name="prefix"/> (all when null or empty), ordered by name
    /// (ordinal).
    IAsyncEnumerable<BlobItem> ListAsync(string container, string? prefix, CancellationToken ct);

    /// Tombstones whose names start with <paramref name="prefix"/>, ordered by name, each with its
    /// <see cref="BlobItem.DeletedAt"/>.
    IAsyncEnumerable<BlobItem> ListDeletedAsync(string container, string? prefix, CancellationToken ct);

    /// Turns a live blob into a tombstone. False when there was no live blob of that name.
    Task<bool> SoftDeleteAsync(string container, string name, CancellationToken ct);

    /// Soft-deletes every live blob under the prefix; returns how many.
    Task<int> SoftDeletePrefixAsync(string container, string prefix, CancellationToken ct);

    /// Makes a tombstone live again with its content and properties. False when there was no tombstone, or
    /// when a live blob of that name exists (the live blob wins).
    Task<bool> UndeleteAsync(string container, string name, CancellationToken ct);

    /// Undeletes every tombstone under the prefix; returns how many.
    Task<int> UndeletePrefixAsync(string container, string prefix, CancellationToken ct);

    /// Removes the blob for good, live or soft-deleted. False when there was nothing to remove.
    Task<bool> PurgeAsync(string container, string name, CancellationToken ct);

    /// Removes for good every blob under the prefix, live and soft-deleted; returns how many. A workspace
    /// purge uses it, so nothing of the workspace is left behind in a tombstone.
    Task<int> PurgePrefixAsync(string container, string prefix, CancellationToken ct);

    /// Removes for good, in every container of this store, the tombstones deleted at least the retention
    /// (<see cref="BlobOptions.SoftDeleteRetentionDays"/>) before <paramref name="now"/>; returns how many.
    Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken ct);

    /// The containers of this store (logical names, ordered by name): what the orphan sweep walks.
    IAsyncEnumerable<string> ListContainersAsync(CancellationToken ct);

    /// Throws when the store cannot be reached or written.
    Task CheckHealthAsync(CancellationToken ct);
}

/// A blob as listed. <see cref="LastModified"/> is when its content was last written: soft delete and
/// undelete leave it as it was. <see cref="DeletedAt"/> is set on tombstones only.
public sealed record BlobItem(
    string Container,
    string Name,
    long Length,
    DateTimeOffset LastModified,
    string? ContentType,
    DateTimeOffset? DeletedAt)
{
    /// What a blob put without a content type reports (Azure's own default, applied by both backends).
    public const string DefaultContentType = "application/octet-stream";
}
