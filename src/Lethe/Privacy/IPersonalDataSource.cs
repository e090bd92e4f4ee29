using System.Text.Json.Nodes;

namespace Lethe.Privacy;

/// What an erasure did (or, in a dry run, would do) to one location: the words of a request's preview.
public enum ErasureOutcome
{
    Deleted,
    Anonymized,
    Pseudonymized,
    /// Retained for the location's period, anonymized on <see cref="ErasureResult.Date"/>.
    AnonymizedOn,
    Kept,
}

/// One location's part of an erasure: how many records, what happened to them, and for retained ones until when
/// or why.
public sealed record ErasureResult(long Records, ErasureOutcome Outcome, DateTimeOffset? Date = null, string? Reason = null);

/// What a residue scan found: <see cref="Records"/> still match a key and should not; <see cref="Retained"/> match
/// by a declared rule (retained until <see cref="RetainedUntil"/>, or kept for <see cref="Reason"/>).
public sealed record Residue(long Records, long Retained = 0, DateTimeOffset? RetainedUntil = null, string? Reason = null)
{
    public static readonly Residue None = new(0);
}

/// One erasure's settings, the same for every step: its pseudonym, its time, whether it only counts (dry run), and
/// whether retained data is anonymized at once (a privacy officer's <c>anonymizeNow</c>).
public sealed record ErasureContext(Pseudonym Pseudonym, DateTimeOffset Now, bool DryRun = false, bool AnonymizeNow = false);

/// The one source of a location of the personal-data map: finds, exports, erases (or counts what an erasure would
/// do) and scans for residue, for a person's <see cref="SubjectKeys"/>. Tables get the generic source derived from
/// the EF model (<see cref="TableSource{T}"/>); a module registers its own (scoped) only where that would be wrong.
/// Every method is idempotent: an erasure step run twice changes nothing the second time.
public interface IPersonalDataSource
{
    /// The map location served: a table's name, or a blob location's <c>container/prefix</c>.
    string Location { get; }

    /// The person's records, streamed (never a whole table), as JSON objects with the location's declared fields
    /// (secrets omitted), in a stable order.
    IAsyncEnumerable<JsonObject> FindAsync(SubjectKeys keys, CancellationToken ct);

    /// Applies the location's strategy, or with <see cref="ErasureContext.DryRun"/> counts what it would do through the
    /// same code path, changing nothing.
    Task<ErasureResult> EraseAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct);

    /// Counts what still matches any key.
    Task<Residue> ScanAsync(SubjectKeys keys, ErasureContext context, CancellationToken ct);
}

/// A blob that concerns the person, for their export bundle. A <see cref="SoftDeleted"/> one is read from its
/// tombstone: its data is still held until the purge.
public sealed record PersonalBlob(string Container, string Name, string? Note = null)
{
    public bool SoftDeleted { get; init; }

    /// The blob holds other people's records too (a lab's usage export): the bundle gives the person their own
    /// records from it (the location's data file), never the blob whole.
    public bool Shared { get; init; }
}

/// A source whose location is blobs: it also lists the blobs themselves, for the bundle.
public interface IPersonalBlobSource : IPersonalDataSource
{
    IAsyncEnumerable<PersonalBlob> BlobsAsync(SubjectKeys keys, CancellationToken ct);
}

/// How a module registers its own sources (scoped: they use the request's or the job's LetheDb): a singleton of this
/// record whose function makes them for one scope.
public sealed record PersonalDataSourceFactory(Func<IServiceProvider, IEnumerable<IPersonalDataSource>> Create);
