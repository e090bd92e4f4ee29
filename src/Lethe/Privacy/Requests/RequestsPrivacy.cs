using System.Text.Json.Nodes;
using Lethe.Blobs;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Privacy.Requests;

/// The privacy engine's own personal data: the identifiers requests find people by, and the export bundles. An
/// erasure handles both first (phase -100): the person's bundles are deleted and their earlier requests keep only
/// the keyed hash.
///
/// A bundle does not list the person's requests: the "My data" page shows them, and leaving them out makes two
/// exports of the same data the same files.
public static class RequestsPrivacy
{
    public static readonly PersonalBlobLocation Bundles = new(
        "Privacy", PrivacyBlobs.Container, PrivacyBlobs.BundlesPrefix + "{requestId}.zip", PersonalDataCategory.Content, SubjectKind.ObjectId, ErasureStrategy.Delete,
        "Export bundles: everything Lethe held about a person when they asked. Deleted by a sweep after Lethe:Privacy:BundleRetentionDays (7), and at once by the person's erasure.",
        Phase: -100, Sweep: PurgeExpiredBundles.JobKind);

    public static IEnumerable<IPersonalDataSource> Sources(LetheDb db, PersonalDataMap map, IBlobStore blobs, SubjectHashes hashes)
    {
        ArgumentNullException.ThrowIfNull(map);
        var table = map.Locations.First(l => l.ClrType == typeof(PrivacyRequest).FullName).Name;
        return [new RequestSource(db, hashes, table), new BundleSource(db, blobs, hashes)];
    }

    private static async Task<IQueryable<PrivacyRequest>> AboutAsync(LetheDb db, SubjectHashes hashes, SubjectKeys keys, CancellationToken ct)
    {
        var ids = keys.ObjectIds.Select(id => (Guid?)id).ToList();
        var emails = keys.Emails.ToList();
        var authors = keys.AuthorIds.ToList();
        var hashed = (await hashes.AllOfAsync(keys, ct)).ToList();
        return db.PrivacyRequests.Where(r => ids.Contains(r.SubjectObjectId) || emails.Contains(r.SubjectEmail!) || authors.Contains(r.SubjectAuthorId!) || hashed.Contains(r.SubjectHash));
    }

    /// Requests keep their keyed hash; the identifiers are removed (subject, and an officer's own ID on requests they
    /// filed or decided).
    private sealed class RequestSource(LetheDb db, SubjectHashes hashes, string table) : IPersonalDataSource
    {
        public string Location => table;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => AsyncEnumerable.Empty<JsonObject>();

        private IQueryable<PrivacyRequest> Identifying(SubjectKeys keys)
        {
            var ids = keys.ObjectIds.Select(id => (Guid?)id).ToList();
            var emails = keys.Emails.ToList();
            var authors = keys.AuthorIds.ToList();
            return db.PrivacyRequests.Where(r => ids.Contains(r.SubjectObjectId) || emails.Contains(r.SubjectEmail!) || authors.Contains(r.SubjectAuthorId!)
                || ids.Contains(r.FiledBy) || ids.Contains(r.ApprovalBy));
        }

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            var count = await Identifying(keys).LongCountAsync(ct);
            if (context.DryRun || count == 0)
            {
                return new(count, ErasureOutcome.Anonymized);
            }
            var ids = keys.ObjectIds.Select(id => (Guid?)id).ToList();
            var emails = keys.Emails.ToList();
            var authors = keys.AuthorIds.ToList();
            await db.PrivacyRequests.Where(r => ids.Contains(r.SubjectObjectId) || emails.Contains(r.SubjectEmail!) || authors.Contains(r.SubjectAuthorId!))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(r => r.SubjectObjectId, (Guid?)null)
                    .SetProperty(r => r.SubjectEmail, (string?)null)
                    .SetProperty(r => r.SubjectAuthorId, (string?)null)
                    .SetProperty(r => r.Verification, (string?)null), ct);
            // Ended requests about the person keep only the hash, and their verification notes may name them.
            await (await AboutAsync(db, hashes, keys, ct)).ExecuteUpdateAsync(set => set.SetProperty(r => r.Verification, (string?)null), ct);
            await db.PrivacyRequests.Where(r => ids.Contains(r.FiledBy)).ExecuteUpdateAsync(set => set.SetProperty(r => r.FiledBy, (Guid?)null), ct);
            await db.PrivacyRequests.Where(r => ids.Contains(r.ApprovalBy)).ExecuteUpdateAsync(set => set.SetProperty(r => r.ApprovalBy, (Guid?)null), ct);
            return new(count, ErasureOutcome.Anonymized);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
            => new(await Identifying(keys).LongCountAsync(ct) + await (await AboutAsync(db, hashes, keys, ct)).LongCountAsync(r => r.Verification != null, ct));
    }

    private sealed class BundleSource(LetheDb db, IBlobStore blobs, SubjectHashes hashes) : IPersonalBlobSource
    {
        public string Location => Bundles.Name;

        // A bundle never holds the person's earlier bundles.
        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => AsyncEnumerable.Empty<JsonObject>();

        public IAsyncEnumerable<PersonalBlob> BlobsAsync(SubjectKeys keys, CancellationToken ct) => AsyncEnumerable.Empty<PersonalBlob>();

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            var about = await AboutAsync(db, hashes, keys, ct);
            var requests = await about.AsNoTracking().Where(r => r.Type == PrivacyRequestType.Export)
                .Select(r => new { r.Id, r.BundleName }).ToListAsync(ct);
            long removed = 0;
            foreach (var request in requests)
            {
                var held = request.BundleName is not null || await blobs.ListAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(request.Id), ct).AnyAsync(ct);
                if (!held)
                {
                    continue;
                }
                removed++;
                if (context.DryRun)
                {
                    continue;
                }
                await blobs.PurgeAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(request.Id), ct);
                await blobs.PurgePrefixAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(request.Id), ct);
                await db.PrivacyRequests.Where(r => r.Id == request.Id).ExecuteUpdateAsync(set => set
                    .SetProperty(r => r.BundleName, (string?)null)
                    .SetProperty(r => r.BundleExpiresAt, (DateTimeOffset?)null), ct);
            }
            return new(removed, ErasureOutcome.Deleted);
        }

        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            var about = await AboutAsync(db, hashes, keys, ct);
            var ids = await about.AsNoTracking().Where(r => r.Type == PrivacyRequestType.Export).Select(r => r.Id).ToListAsync(ct);
            long found = 0;
            foreach (var id in ids)
            {
                if (await blobs.GetPropertiesAsync(PrivacyBlobs.Container, PrivacyBlobs.Bundle(id), ct) is not null
                    || await blobs.ListAsync(PrivacyBlobs.Container, PrivacyBlobs.Staging(id), ct).AnyAsync(ct))
                {
                    found++;
                }
            }
            return new(found);
        }
    }
}
