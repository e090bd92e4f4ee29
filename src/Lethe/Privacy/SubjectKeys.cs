using System.Text.Json.Serialization;

namespace Lethe.Privacy;

/// Every key that finds one person's data: their object ID, every email they are known by (account, gallery,
/// workspace memberships, lab and VM notification emails, removed ones still retained), their gallery author ID,
/// and their display names. A person without an account (an email typed into a lab) has an email alone.
/// Emails are kept trimmed and lower-cased; names are used for residue scans and inside documents, never to find rows.
public sealed record SubjectKeys
{
    public IReadOnlySet<Guid> ObjectIds { get; init; } = new HashSet<Guid>();

    public IReadOnlySet<string> Emails { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public IReadOnlySet<string> AuthorIds { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public IReadOnlySet<string> Names { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    [JsonIgnore]
    public bool IsEmpty => ObjectIds.Count == 0 && Emails.Count == 0 && AuthorIds.Count == 0;

    /// Trimmed and lower-cased (invariant): <c>Ana.Ünal@Example.TEST</c> and <c>ana.ünal@example.test</c> are one key.
    public static string NormalizeEmail(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        return email.Trim().ToLowerInvariant();
    }

    /// How a column that stores emails in <paramref name="keyCase"/> holds <paramref name="normalized"/>.
    public static string EmailAs(string normalized, KeyCase keyCase)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        return keyCase == KeyCase.Upper ? normalized.ToUpperInvariant() : normalized;
    }

    public static SubjectKeys ForObjectId(Guid objectId) => new() { ObjectIds = new HashSet<Guid> { objectId } };

    public static SubjectKeys ForEmail(string email) => new() { Emails = new HashSet<string>(StringComparer.Ordinal) { NormalizeEmail(email) } };

    public static SubjectKeys ForAuthorId(string authorId) => new() { AuthorIds = new HashSet<string>(StringComparer.Ordinal) { authorId.Trim().ToUpperInvariant() } };

    /// This set with the values of <paramref name="other"/> added.
    public SubjectKeys With(SubjectKeys other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new()
        {
            ObjectIds = ObjectIds.Concat(other.ObjectIds).Where(g => g != Guid.Empty).ToHashSet(),
            Emails = Emails.Concat(other.Emails).Where(e => e.Length > 0).ToHashSet(StringComparer.Ordinal),
            AuthorIds = AuthorIds.Concat(other.AuthorIds).Where(a => a.Length > 0).ToHashSet(StringComparer.Ordinal),
            Names = Names.Concat(other.Names).Where(n => n.Trim().Length > 0).ToHashSet(StringComparer.Ordinal),
        };
    }

    public bool Covers(SubjectKeys other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.ObjectIds.All(ObjectIds.Contains) && other.Emails.All(Emails.Contains)
            && other.AuthorIds.All(AuthorIds.Contains) && other.Names.All(Names.Contains);
    }

    /// The values of one subject kind, as a column stores them.
    public IEnumerable<object> ValuesFor(SubjectKind kind, KeyCase keyCase) => kind switch
    {
        SubjectKind.ObjectId => ObjectIds.Cast<object>(),
        SubjectKind.Email => Emails.Select(e => (object)EmailAs(e, keyCase)),
        SubjectKind.AuthorId => AuthorIds,
        _ => [],
    };

    /// Every value that must not remain anywhere once the person is erased, as text, in the forms it is written in:
    /// object IDs with and without hyphens, in both cases; emails as they compare. For residue searches.
    public IEnumerable<string> Needles()
    {
        foreach (var id in ObjectIds)
        {
            yield return id.ToString("D");
            yield return id.ToString("N");
        }
        foreach (var email in Emails)
        {
            yield return email;
        }
        foreach (var author in AuthorIds)
        {
            yield return author;
        }
        foreach (var name in Names.Where(n => n.Trim().Length >= 4))
        {
            yield return name.Trim();
        }
    }
}

/// The stand-in for an erased person inside records that stay (a team's job runs, a pipeline's history): chosen at
/// random once per erasure, kept in the erasure's checkpoint while it runs so that every step uses the same one,
/// and forgotten when it completes, so that nobody can link it back.
public sealed record Pseudonym(Guid ObjectId, string Name, string Email, string AuthorId)
{
    public static Pseudonym New()
    {
        var id = Guid.NewGuid();
        var tag = id.ToString("N")[..12];
        return new(id, "Erased user " + tag, "erased-" + tag + "@erased.invalid",
            Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
    }

    /// The pseudonym of a field's value, typed as the field (Guid, Guid? or string).
    public object For(PersonalField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.IsName)
        {
            return Name;
        }
        var type = Nullable.GetUnderlyingType(field.ClrType ?? typeof(string)) ?? field.ClrType ?? typeof(string);
        if (type == typeof(Guid))
        {
            return ObjectId;
        }
        return field.Subject switch
        {
            SubjectKind.Email => EmailAs(field),
            SubjectKind.AuthorId => AuthorId,
            _ => field.Category == PersonalDataCategory.Contact ? Email : Name,
        };
    }

    private string EmailAs(PersonalField field) => SubjectKeys.EmailAs(Email, field.KeyCase);
}
