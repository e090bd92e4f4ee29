namespace Lethe.Blobs;

/// The soft-delete decisions both backends share, so that they purge and restore alike.
public static class BlobSoftDelete
{
    /// A tombstone may be purged once the whole retention has passed since its deletion.
    public static bool IsExpired(DateTimeOffset deletedAt, TimeSpan retention, DateTimeOffset now)
        => now >= deletedAt + retention;
}
