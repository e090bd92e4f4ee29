using System.Runtime.CompilerServices;
using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Labs;

/// What of the lab storage has no owner (decision 0071): the exports of a lab that is gone
/// (<c>{labName}/{labId}/</c>, <see cref="LabContent.StoragePrefix"/>).
public sealed class LabBlobOwners(LetheDb db, IBlobStore blobs) : IBlobOwners
{
    public bool Claims(string container) => container == ExportLabUsage.Container;

    public async IAsyncEnumerable<string> OrphanPrefixesAsync(string container, [EnumeratorCancellation] CancellationToken ct)
    {
        var prefixes = new SortedDictionary<string, Guid>(StringComparer.Ordinal);
        await foreach (var blob in blobs.ListAsync(container, null, ct).Concat(blobs.ListDeletedAsync(container, null, ct)).WithCancellation(ct))
        {
            var parts = blob.Name.Split('/', 3);
            if (parts.Length == 3 && Guid.TryParseExact(parts[1], "D", out var labId))
            {
                prefixes.TryAdd($"{parts[0]}/{parts[1]}/", labId);
            }
        }
        foreach (var (prefix, labId) in prefixes)
        {
            if (!await db.Labs.AnyAsync(l => l.Id == labId, ct))
            {
                yield return prefix;
            }
        }
    }
}
