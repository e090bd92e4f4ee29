using System.Text.Json.Nodes;
using Lethe.Privacy;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Blobs;

/// A blob store whose puts write work files of their own (the file-system store's <c>tmp/</c> of each container).
public interface IBlobWorkFiles
{
    /// The work files whose writer is gone: removed, or with <paramref name="countOnly"/> only counted.
    Task<int> AbandonedWorkFilesAsync(DateTimeOffset now, bool countOnly, CancellationToken ct);

    /// How many work files whose writer is gone hold any of <paramref name="needles"/> (ASCII case ignored).
    Task<int> AbandonedWorkFilesHoldingAsync(DateTimeOffset now, IReadOnlyCollection<string> needles, CancellationToken ct);
}

/// The work files of puts in the personal-data map (issue 12): while a blob is written, its bytes, whoever's data
/// they are, sit in its container's <c>tmp/</c> until the put renames them into place. A put that completes leaves
/// nothing there (the blob is then its own location's, found and erased by that location's source); a writer killed
/// mid-put leaves its file, which the blob purge sweep removes once that process is gone, and an erasure at once.
public static class BlobWorkFiles
{
    public const string Container = "{container}";
    public const string Prefix = "tmp/";

    public static readonly PersonalBlobLocation Location = new(
        "Blobs", Container, Prefix, PersonalDataCategory.Content, SubjectKind.ObjectId, ErasureStrategy.Delete,
        "Work files of blobs being written (file-system store: each container's tmp/): whatever the blob will hold, until its put renames it into place. "
        + "A writer killed mid-put leaves its file; the blob purge sweep removes it once that process is gone, and every erasure removes all such files at once. Nothing is exported: a completed put is a blob of its own location.",
        Sweep: "blobs.purge-expired");

    /// Declares the location and its source; for a store with work files (the file-system store).
    public static IServiceCollection AddBlobWorkFilesPrivacy(this IServiceCollection services)
        => services.AddSingleton(Location)
            .AddSingleton(new PersonalDataSourceFactory(sp => [new Source(sp.GetRequiredService<IBlobStore>())]));

    private sealed class Source(IBlobStore store) : IPersonalBlobSource
    {
        public string Location => BlobWorkFiles.Location.Name;

        // A work file is not yet data of anyone's that Lethe holds: nothing to find or export.
        public IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct) => AsyncEnumerable.Empty<JsonObject>();

        public IAsyncEnumerable<PersonalBlob> BlobsAsync(SubjectKeys keys, CancellationToken ct) => AsyncEnumerable.Empty<PersonalBlob>();

        /// Every abandoned work file goes, whoever's data it held: they are debris of writes that never completed.
        public async Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(context);
            var files = store is IBlobWorkFiles work ? await work.AbandonedWorkFilesAsync(context.Now, countOnly: context.DryRun, ct) : 0;
            return new ErasureResult(files, ErasureOutcome.Deleted);
        }

        /// The abandoned work files that hold one of the person's keys in their raw bytes. Debris of a writer killed
        /// after the erasure's own step (another person's export bundle, say) is not the person's residue; the sweep
        /// and the next erasure remove it.
        public async Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct)
        {
            ArgumentNullException.ThrowIfNull(keys);
            ArgumentNullException.ThrowIfNull(context);
            if (store is not IBlobWorkFiles work)
            {
                return Residue.None;
            }
            var needles = keys.ObjectIds.Select(id => id.ToString("D")).Concat(keys.Emails).Concat(keys.AuthorIds).ToList();
            return new Residue(await work.AbandonedWorkFilesHoldingAsync(context.Now, needles, ct));
        }
    }
}
