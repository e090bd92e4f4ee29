using System.Text.Json.Nodes;
using Lethe.Privacy;

namespace Lethe.Gallery;

/// The gallery's tables erase through <see cref="GalleryWrites"/>, not with the generic source's plain delete: every
/// node serves the catalog from an in-memory copy, which must drop the person's profile, items and tokens on its next
/// request. Finding, exporting and scanning are the generic source's.
public static class GalleryPrivacy
{
    public static IEnumerable<IPersonalDataSource> Sources(LetheDb db, PersonalDataMap map, GalleryWrites writes)
    {
        ArgumentNullException.ThrowIfNull(map);
        yield return new GallerySource<GalleryEntity>(new(db, map.For<GalleryEntity>()), writes);
        yield return new GallerySource<CatalogToken>(new(db, map.For<CatalogToken>()), writes);
        yield return new GallerySource<GalleryAuthor>(new(db, map.For<GalleryAuthor>()), writes);
    }

    private sealed class GallerySource<T>(TableSource<T> table, GalleryWrites writes) : IPersonalDataSource where T : class
    {
        public string Location => table.Location;

        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => table.FindAsync(keys, ct);

        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            return new(table.Rows(keys) is { } rows ? await writes.EraseAsync(rows, context.DryRun, ct) : 0, ErasureOutcome.Deleted);
        }

        public Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct) => table.ScanAsync(keys, context, ct);
    }
}
