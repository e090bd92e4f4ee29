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

/// Declares, on the property that holds it, that a value is personal data.
/// <see cref="Subject"/> names the key that finds the subject's rows; a property with
/// <see cref="IsSubjectKey"/> is that key itself, and every entity with personal data has one.
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class PersonalDataAttribute(PersonalDataCategory category, SubjectKind subject) : Attribute
{
    public PersonalDataCategory Category { get; } = category;
    public SubjectKind Subject { get; } = subject;
    public bool IsSubjectKey { get; init; }
}

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
}
