using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lethe.Privacy.Requests;

public enum StepStatus
{
    Pending,
    Running,
    Completed,
    Failed,
}

/// One step of a request as its status shows it: a location of the map (or a module's bundle file, or the bundle).
public sealed record RequestStep
{
    public required string Location { get; init; }

    public string? Module { get; init; }

    public StepStatus Status { get; set; }

    public long Records { get; set; }
}

/// A dry run's (or a finished erasure's) account of one location.
public sealed record PreviewEntry(string Module, string Location, string Strategy, ErasureOutcome Outcome, long Records, DateTimeOffset? Date = null, string? Reason = null);

/// What a finished erasure left by a declared rule.
public sealed record RetainedEntry(string Module, string Location, long Records, DateTimeOffset? Until = null, string? Reason = null);

/// A data file of a running export, staged in the blob store until the bundle is assembled.
public sealed record StagedFile(string Path, string Staged, long Records, string Kind, string Module, string Location, string Strategy, string Description)
{
    /// The columns a table's records have by declaration: the CSV copy's header even when there are no records.
    public IReadOnlyList<string> Columns { get; init; } = [];
}

/// A blob the bundle will hold.
public sealed record BundleBlob(string Module, string Location, string Container, string Name, bool SoftDeleted, string? Note);

/// The keys as the request's work keeps them (sets do not round-trip through JSON as interfaces).
public sealed record StoredKeys(Guid[] ObjectIds, string[] Emails, string[] AuthorIds, string[] Names)
{
    public static StoredKeys From(SubjectKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new([.. keys.ObjectIds.Order()], [.. keys.Emails.Order(StringComparer.Ordinal)], [.. keys.AuthorIds.Order(StringComparer.Ordinal)], [.. keys.Names.Order(StringComparer.Ordinal)]);
    }

    public SubjectKeys ToKeys() => new()
    {
        ObjectIds = ObjectIds.ToHashSet(),
        Emails = Emails.ToHashSet(StringComparer.Ordinal),
        AuthorIds = AuthorIds.ToHashSet(StringComparer.Ordinal),
        Names = Names.ToHashSet(StringComparer.Ordinal),
    };
}

/// A running request's own state (<see cref="PrivacyRequest.Work"/>): written with each step, in the same transaction
/// as the step's changes where they are in the database, and erased when the request ends.
public sealed class RequestWork
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public StoredKeys? Keys { get; set; }

    /// The erasure's stand-in for the person, the same in every step.
    public Pseudonym? Pseudonym { get; set; }

    /// The erasure's time, the same in every step (what is due for anonymization is decided once).
    public DateTimeOffset Now { get; set; }

    /// The person's sessions and tokens were ended (an erasure's first act).
    public bool Revoked { get; set; }

    /// The index of the next step to run.
    public int Next { get; set; }

    public List<StagedFile> Files { get; set; } = [];

    public List<BundleBlob> Blobs { get; set; } = [];

    public List<PreviewEntry> Outcomes { get; set; } = [];

    /// Tables an erasure changed, vacuumed at the end.
    public List<string> Touched { get; set; } = [];

    /// Set once an erasure has erased, scanned and forgotten the person (the work then holds nothing else): the tables
    /// whose database files are still to be scrubbed before the request is completed.
    public List<string>? Scrub { get; set; }

    /// When the bundle was assembled first: its entries' times and the manifest's createdAt, the same on a rerun.
    public DateTimeOffset? AssembledAt { get; set; }

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static RequestWork Read(string? json) => string.IsNullOrEmpty(json) ? new() : JsonSerializer.Deserialize<RequestWork>(json, Json) ?? new();

    public static List<RequestStep> ReadSteps(string? json) => string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<RequestStep>>(json, Json) ?? [];

    public static string WriteSteps(IEnumerable<RequestStep> steps) => JsonSerializer.Serialize(steps, Json);
}
