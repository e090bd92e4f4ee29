using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using AzureBlobItem = Azure.Storage.Blobs.Models.BlobItem;

namespace Lethe.Blobs.Azure;

/// The Azure Blob Storage backend.
///
/// A tombstone is the blob itself, flagged by metadata: <c>lethedeletedat</c> (deletion time, ISO 8601) and
/// <c>lethelastmodified</c> (when the content was last written, since setting metadata moves Azure's own
/// Last-Modified). Soft delete and undelete are therefore one metadata write each, conditional on the ETag
/// read just before, so they are atomic, copy no data, and cannot flag a blob that was overwritten in between.
/// A put writes the blob without metadata, which replaces a tombstone by a live blob in the same step.
///
/// Azure's own blob soft delete and versioning must stay off on the account: they would keep copies of
/// what Lethe purges.
public sealed class AzureBlobStore : IBlobStore
{
    /// Pinned, so that an SDK update does not move Lethe to a service version that Azurite (the tests) or
    /// an operator's storage does not serve yet.
    public const BlobClientOptions.ServiceVersion ServiceVersion = BlobClientOptions.ServiceVersion.V2025_01_05;

    private const string DeletedAtKey = "lethedeletedat";
    private const string LastModifiedKey = "lethelastmodified";
    private const int ConditionalWriteAttempts = 5;

    // Uploads of unknown length are staged in blocks of this size, a few at a time: memory stays bounded
    // (about MaximumConcurrency + 1 blocks) whatever the blob's size.
    private static readonly StorageTransferOptions Transfer = new()
    {
        InitialTransferSize = 4 * 1024 * 1024,
        MaximumTransferSize = 4 * 1024 * 1024,
        MaximumConcurrency = 2,
    };

    private readonly BlobServiceClient service;

    // A readiness probe wants the state now: without this, the SDK's retries hold it for tens of seconds.
    private readonly BlobServiceClient probe;
    private readonly BlobOptions options;
    private readonly TimeProvider time;

    // Containers known to exist, so that a put does not ask for its container every time.
    private readonly ConcurrentDictionary<string, bool> existingContainers = new(StringComparer.Ordinal);

    public AzureBlobStore(string connectionString, BlobOptions options, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.ThrowIfInvalid();
        service = new BlobServiceClient(connectionString, new BlobClientOptions(ServiceVersion));
        var probeOptions = new BlobClientOptions(ServiceVersion);
        probeOptions.Retry.MaxRetries = 0;
        probeOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        probe = new BlobServiceClient(connectionString, probeOptions);
        this.options = options;
        this.time = time;
    }

    public async Task PutAsync(string container, string name, Stream content, string? contentType, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        BlobNames.ValidateContentType(contentType);
        ArgumentNullException.ThrowIfNull(content);

        if (!existingContainers.ContainsKey(client.Name))
        {
            await client.CreateIfNotExistsAsync(cancellationToken: ct);
            existingContainers.TryAdd(client.Name, true);
        }

        var upload = new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType ?? BlobItem.DefaultContentType },
            TransferOptions = Transfer,
        };
        try
        {
            await client.GetBlobClient(name).UploadAsync(content, upload, ct);
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // Deleted behind Lethe's back; the content may be partly consumed, so the caller retries.
            existingContainers.TryRemove(client.Name, out _);
            throw;
        }
    }

    public Task<Stream> OpenReadAsync(string container, string name, CancellationToken ct)
        => OpenReadAsync(container, name, deleted: false, ct);

    public Task<Stream> OpenReadDeletedAsync(string container, string name, CancellationToken ct)
        => OpenReadAsync(container, name, deleted: true, ct);

    private async Task<Stream> OpenReadAsync(string container, string name, bool deleted, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        BlobDownloadStreamingResult download;
        try
        {
            // One request: the metadata that says "tombstone" comes with the content it describes.
            download = (await client.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(container, name);
        }

        if (DeletedAt(download.Details.Metadata) is not null != deleted)
        {
            download.Dispose();
            throw new BlobNotFoundException(container, name);
        }

        return download.Content;
    }

    public async Task<BlobItem?> GetPropertiesAsync(string container, string name, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        var properties = await PropertiesOrNullAsync(client.GetBlobClient(name), ct);
        return properties is null || DeletedAt(properties.Metadata) is not null
            ? null
            : ToItem(container, name, properties.ContentLength, properties.LastModified, properties.ContentType, properties.Metadata);
    }

    public IAsyncEnumerable<BlobItem> ListAsync(string container, string? prefix, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidatePrefix(prefix);
        return ListAsync(container, client, prefix, deleted: false, ct);
    }

    public IAsyncEnumerable<BlobItem> ListDeletedAsync(string container, string? prefix, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidatePrefix(prefix);
        return ListAsync(container, client, prefix, deleted: true, ct);
    }

    public Task<bool> SoftDeleteAsync(string container, string name, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        return SoftDeleteAsync(client.GetBlobClient(name), listed: null, ct);
    }

    public async Task<int> SoftDeletePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        await foreach (var blob in BlobsAsync(client, prefix, ct))
        {
            if (DeletedAt(blob.Metadata) is null && await SoftDeleteAsync(client.GetBlobClient(blob.Name), StateOf(blob), ct))
            {
                count++;
            }
        }

        return count;
    }

    public Task<bool> UndeleteAsync(string container, string name, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        return UndeleteAsync(client.GetBlobClient(name), listed: null, ct);
    }

    public async Task<int> UndeletePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        await foreach (var blob in BlobsAsync(client, prefix, ct))
        {
            if (DeletedAt(blob.Metadata) is not null && await UndeleteAsync(client.GetBlobClient(blob.Name), StateOf(blob), ct))
            {
                count++;
            }
        }

        return count;
    }

    public async Task<bool> PurgeAsync(string container, string name, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidateName(name);
        return await DeleteAsync(client.GetBlobClient(name), conditions: null, ct);
    }

    public async Task<int> PurgePrefixAsync(string container, string prefix, CancellationToken ct)
    {
        var client = ContainerOf(container);
        BlobNames.ValidatePrefix(prefix);
        var count = 0;
        await foreach (var blob in BlobsAsync(client, prefix, ct))
        {
            if (await DeleteAsync(client.GetBlobClient(blob.Name), conditions: null, ct))
            {
                count++;
            }
        }

        return count;
    }

    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        var count = 0;
        await foreach (var found in service.GetBlobContainersAsync(BlobContainerTraits.None, BlobContainerStates.None, options.ContainerPrefix, ct))
        {
            if (BlobNames.LogicalContainer(options.ContainerPrefix, found.Name) is null)
            {
                continue;
            }

            var client = service.GetBlobContainerClient(found.Name);
            await foreach (var blob in BlobsAsync(client, prefix: null, ct))
            {
                if (DeletedAt(blob.Metadata) is { } deletedAt
                    && BlobSoftDelete.IsExpired(deletedAt, options.SoftDeleteRetention, now)
                    // Only the tombstone that was listed: the name may have been put again since.
                    && await DeleteAsync(client.GetBlobClient(blob.Name), new BlobRequestConditions { IfMatch = blob.Properties.ETag }, ct))
                {
                    count++;
                }
            }
        }

        return count;
    }

    public async IAsyncEnumerable<string> ListContainersAsync([EnumeratorCancellation] CancellationToken ct)
    {
        // The service lists containers in name order; the logical name keeps it (one prefix for all).
        await foreach (var found in service.GetBlobContainersAsync(BlobContainerTraits.None, BlobContainerStates.None, options.ContainerPrefix, ct))
        {
            if (BlobNames.LogicalContainer(options.ContainerPrefix, found.Name) is { } name)
            {
                yield return name;
            }
        }
    }

    public async Task CheckHealthAsync(CancellationToken ct)
    {
        await foreach (var _ in probe.GetBlobContainersAsync(BlobContainerTraits.None, BlobContainerStates.None, options.ContainerPrefix, ct)
            .AsPages(pageSizeHint: 1))
        {
            return;
        }
    }

    private BlobContainerClient ContainerOf(string container)
        => service.GetBlobContainerClient(BlobNames.PhysicalContainer(options.ContainerPrefix, container));

    /// <paramref name="listed"/>: the blob's state as a listing just saw it, which saves reading it first;
    /// when the blob changed since, the conditional write fails and the current state is read.
    private async Task<bool> SoftDeleteAsync(BlobClient blob, BlobState? listed, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = attempt == 1 && listed is not null ? listed : await StateOrNullAsync(blob, ct);
            if (state is null || DeletedAt(state.Metadata) is not null)
            {
                return false;
            }

            var metadata = new Dictionary<string, string>(state.Metadata, StringComparer.OrdinalIgnoreCase)
            {
                [DeletedAtKey] = Format(time.GetUtcNow()),
                [LastModifiedKey] = Format(LastModified(state.Metadata) ?? state.LastModified),
            };
            if (await SetMetadataAsync(blob, metadata, state.ETag, ct) is { } done)
            {
                return done;
            }

            if (attempt == ConditionalWriteAttempts)
            {
                throw new InvalidOperationException("The blob kept changing while it was being soft-deleted.");
            }
        }
    }

    private static async Task<bool> UndeleteAsync(BlobClient blob, BlobState? listed, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = attempt == 1 && listed is not null ? listed : await StateOrNullAsync(blob, ct);
            if (state is null || DeletedAt(state.Metadata) is null)
            {
                return false;
            }

            // The content's time stays in the metadata, so the blob keeps reporting it once live again.
            var metadata = new Dictionary<string, string>(state.Metadata, StringComparer.OrdinalIgnoreCase);
            metadata.Remove(DeletedAtKey);
            if (await SetMetadataAsync(blob, metadata, state.ETag, ct) is { } done)
            {
                return done;
            }

            if (attempt == ConditionalWriteAttempts)
            {
                throw new InvalidOperationException("The blob kept changing while it was being undeleted.");
            }
        }
    }

    /// True when written; false when the blob is gone; null when it changed since <paramref name="etag"/>.
    private static async Task<bool?> SetMetadataAsync(BlobClient blob, Dictionary<string, string> metadata, ETag etag, CancellationToken ct)
    {
        try
        {
            await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = etag }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return null;
        }
    }

    private static async Task<bool> DeleteAsync(BlobClient blob, BlobRequestConditions? conditions, CancellationToken ct)
    {
        try
        {
            return (await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions, ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 412 || e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            return false;
        }
    }

    private static async Task<BlobState?> StateOrNullAsync(BlobClient blob, CancellationToken ct)
        => await PropertiesOrNullAsync(blob, ct) is { } properties
            ? new BlobState(properties.Metadata, properties.LastModified, properties.ETag)
            : null;

    /// Null when the listing left something out: the blob's state is then read before the write.
    private static BlobState? StateOf(AzureBlobItem blob)
        => blob is { Metadata: { } metadata, Properties: { LastModified: { } lastModified, ETag: { } etag } }
            ? new BlobState(metadata, lastModified, etag)
            : null;

    private static async Task<BlobProperties?> PropertiesOrNullAsync(BlobClient blob, CancellationToken ct)
    {
        try
        {
            return (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static async IAsyncEnumerable<BlobItem> ListAsync(
        string container, BlobContainerClient client, string? prefix, bool deleted, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var blob in BlobsAsync(client, prefix, ct))
        {
            var deletedAt = DeletedAt(blob.Metadata);
            if (deletedAt is not null == deleted)
            {
                var properties = blob.Properties;
                yield return ToItem(container, blob.Name, properties.ContentLength ?? 0,
                    properties.LastModified ?? DateTimeOffset.MinValue, properties.ContentType, blob.Metadata, deletedAt);
            }
        }
    }

    /// All blobs under the prefix, live and tombstones, in name order; none for a container that does not exist.
    private static async IAsyncEnumerable<AzureBlobItem> BlobsAsync(
        BlobContainerClient client, string? prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        var blobs = client.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = prefix }, ct)
            .GetAsyncEnumerator(ct);
        await using (blobs)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await blobs.MoveNextAsync();
                }
                catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
                {
                    more = false;
                }

                if (!more)
                {
                    yield break;
                }

                yield return blobs.Current;
            }
        }
    }

    private static BlobItem ToItem(
        string container, string name, long length, DateTimeOffset lastModified, string? contentType,
        IDictionary<string, string>? metadata, DateTimeOffset? deletedAt = null)
        => new(container, name, length, LastModified(metadata) ?? lastModified, contentType, deletedAt);

    private static DateTimeOffset? DeletedAt(IDictionary<string, string>? metadata) => Parse(metadata, DeletedAtKey);

    private static DateTimeOffset? LastModified(IDictionary<string, string>? metadata) => Parse(metadata, LastModifiedKey);

    private static DateTimeOffset? Parse(IDictionary<string, string>? metadata, string key)
        => metadata is not null && metadata.TryGetValue(key, out var value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
            ? parsed
            : null;

    private static string Format(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// What a conditional metadata write starts from.
    private sealed record BlobState(IDictionary<string, string> Metadata, DateTimeOffset LastModified, ETag ETag);
}
