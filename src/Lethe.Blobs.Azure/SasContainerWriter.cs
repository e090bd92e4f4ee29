using System.Globalization;
using System.Net;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lethe.Labs;

namespace Lethe.Blobs.Azure;

/// A SAS URI given as the destination of a lab usage export (seed 002's blobStorageAbsoluteSasUri).
public static class SasDestination
{
    /// The decision, before any work is queued: the problem with the URI, or null when it can be written to.
    /// Checked: absolute, https (http only on loopback, for Azurite), a signature, an expiry in the future,
    /// and write permission. The message never repeats the URI (it holds a secret).
    public static string? Problem(string? sasUri, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(sasUri) || !Uri.TryCreate(sasUri, UriKind.Absolute, out var uri))
        {
            return "blobStorageAbsoluteSasUri is not an absolute URI.";
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        {
            return "blobStorageAbsoluteSasUri must use https.";
        }
        BlobUriBuilder builder;
        try
        {
            builder = new BlobUriBuilder(uri);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return "blobStorageAbsoluteSasUri is not a Blob Storage SAS URI.";
        }
        var sas = builder.Sas;
        if (sas is null || string.IsNullOrEmpty(sas.Signature))
        {
            return "blobStorageAbsoluteSasUri has no shared access signature (sig).";
        }
        if (!string.IsNullOrEmpty(builder.BlobName))
        {
            return "blobStorageAbsoluteSasUri names a blob; give the storage account or a container.";
        }
        if (sas.ExpiresOn == default)
        {
            return "blobStorageAbsoluteSasUri has no expiry (se).";
        }
        if (sas.ExpiresOn <= now)
        {
            return "blobStorageAbsoluteSasUri has expired (se is in the past).";
        }
        var permissions = sas.Permissions ?? "";
        if (!permissions.Contains('w', StringComparison.Ordinal))
        {
            return "blobStorageAbsoluteSasUri lacks write permission (sp must contain w).";
        }
        return null;
    }
}

/// Writes export files through a SAS URI with the Azure SDK: blocks are staged, invisible, and the
/// block list is committed at the end, so readers never see a part of a file.
public sealed class SasContainerWriter : ISasContainerWriter
{
    private const int BlockSize = 4 * 1024 * 1024;

    public async Task UploadAsync(Uri sasUri, string defaultContainer, string blobName, Stream content, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sasUri);
        ArgumentNullException.ThrowIfNull(content);
        var builder = new BlobUriBuilder(sasUri);
        var accountLevel = string.IsNullOrEmpty(builder.BlobContainerName);
        if (accountLevel)
        {
            builder.BlobContainerName = defaultContainer;
        }
        var container = new BlobContainerClient(builder.ToUri());
        try
        {
            if (accountLevel)
            {
                // An account SAS: the container is made on first use, as DevTest Labs does.
                await container.CreateIfNotExistsAsync(cancellationToken: ct);
            }
            var blob = container.GetBlockBlobClient(blobName);
            var blocks = new List<string>();
            var buffer = new byte[BlockSize];
            while (true)
            {
                var read = await content.ReadAtLeastAsync(buffer, BlockSize, throwOnEndOfStream: false, ct);
                if (read == 0 && blocks.Count > 0)
                {
                    break;
                }
                var id = Convert.ToBase64String(BitConverter.GetBytes(blocks.Count).Concat(new byte[12]).ToArray());
                using var block = new MemoryStream(buffer, 0, read, writable: false);
                await blob.StageBlockAsync(id, block, cancellationToken: ct);
                blocks.Add(id);
                if (read < BlockSize)
                {
                    break;
                }
            }
            await blob.CommitBlockListAsync(blocks, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv" } }, ct);
        }
        catch (RequestFailedException e)
        {
            var status = Enum.IsDefined((HttpStatusCode)e.Status) ? ((HttpStatusCode)e.Status).ToString() : e.Status.ToString(CultureInfo.InvariantCulture);
            // The service's first line says what was wrong; the rest (headers, content) stays out of the job's error.
            var first = e.Message.Split('\n', 2)[0].Trim();
            throw new LabExportStorageException($"The storage account refused the export: {status} {e.ErrorCode ?? "no error code"}: {first}");
        }
    }
}
