namespace Lethe.Privacy;

/// What kind of personal data a value is (ARCHITECTURE.md: the personal-data map).
public enum PersonalDataCategory
{
    /// Reaches the person: email address.
    Contact,
    /// Names or identifies the person: object ID, display name, author ID.
    Identifier,
    /// Something the person wrote or made: free text, documents.
    Content,
    /// What the person did: telemetry, timestamps of actions.
    Usage,
}

/// The key by which the privacy engine finds a subject's data.
public enum SubjectKind
{
    /// The user's object ID (a GUID), the key most tables carry.
    ObjectId,
    /// The email address, where a row holds an email and no object ID (lab notification email).
    Email,
    /// The gallery author ID derived from the email.
    AuthorId,
}

/// Whether a value goes into the person's export.
public enum PersonalDataExport
{
    /// Exported: the person sees it in their bundle.
    Include,
    /// Never exported: a secret (password hash, security stamp, token value) that is of no use to the person
    /// and would harm them if the bundle leaked. Still erased with its row.
    Omit,
}

/// How a subject key column stores an email, so that a lookup compares like with like.
public enum KeyCase
{
    /// Trimmed and lower-cased (<see cref="SubjectKeys.NormalizeEmail"/>): how Lethe stores every email key it writes.
    Lower,
    /// Trimmed and upper-cased: ASP.NET Core Identity's NormalizedEmail.
    Upper,
}

/// Declares, on the property that holds it, that a value is personal data.
/// <see cref="Subject"/> names the key that finds the subject's rows; a property with
/// <see cref="IsSubjectKey"/> is that key itself, and every entity with personal data has one.
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class PersonalDataAttribute(PersonalDataCategory category, SubjectKind subject) : Attribute
{
    public PersonalDataCategory Category { get; } = category;
    public SubjectKind Subject { get; } = subject;
    public bool IsSubjectKey { get; init; }

    /// The value is the person's name: collected into their subject keys for residue scans and for
    /// pseudonymizing documents that quote it, never used to find rows (two people share names).
    public bool IsName { get; init; }

    /// Whether the value goes into the person's export.
    public PersonalDataExport Export { get; init; } = PersonalDataExport.Include;

    /// For an email subject key: how the column stores it.
    public KeyCase KeyCase { get; init; } = KeyCase.Lower;
}

/// Declares that every row of an entity describes exactly one person, so that all of its subject keys belong to
/// that person: the account, a gallery profile, a workspace membership. The privacy engine follows such rows to
/// learn every key a person is known by (an old email kept on a membership, the author ID of their profile).
/// Rows that merely mention someone (a VM's notification email) must not carry it: they may name another person.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class SubjectRecordAttribute : Attribute;

/// Declares that a property whose name looks like personal data is not, and why.
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class NotPersonalDataAttribute(string reason) : Attribute
{
    public string Reason { get; } = reason;
}

public enum ErasureStrategy
{
    /// The subject's rows are deleted.
    Delete,
    /// The personal values are replaced by pseudonyms; the row stays (totals stay right).
    Anonymize,
    /// Kept for a period after the resource ends, then anonymized (seed 002: 30 days for labs).
    RetainThenAnonymize,
    /// Kept, with a documented legal reason.
    Keep,
}

/// Declares, on an entity type with personal data, what erasure does to it.
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class ErasureAttribute(ErasureStrategy strategy) : Attribute
{
    public ErasureStrategy Strategy { get; } = strategy;

    /// For <see cref="ErasureStrategy.RetainThenAnonymize"/>: the default period in days.
    public int RetentionDays { get; init; }

    /// For <see cref="ErasureStrategy.RetainThenAnonymize"/>: where a per-resource period overrides the default, if anywhere.
    public string? RetentionSetting { get; init; }

    /// For <see cref="ErasureStrategy.Keep"/>: the legal reason. Optional note for the others.
    public string? Reason { get; init; }

    /// For <see cref="ErasureStrategy.RetainThenAnonymize"/>: the job kind of the recurring sweep that anonymizes the
    /// rows once their period ends. The map refuses a location whose sweep is not registered.
    public string? Sweep { get; init; }

    /// When in an erasure this location is handled: lower first. Within one phase, rows that reference another
    /// table go before the table they reference. Sources that find through another location's rows run before it
    /// (negative), and the identity account goes last (<see cref="LastPhase"/>).
    public int Phase { get; init; }

    public const int LastPhase = 100;
}
