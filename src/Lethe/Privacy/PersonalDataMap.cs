using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lethe.Privacy;

/// A blob prefix that holds personal data, registered by the module that writes it.
public sealed record PersonalBlobLocation(
    string Module,
    string Container,
    string Prefix,
    PersonalDataCategory Category,
    SubjectKind Subject,
    ErasureStrategy Strategy,
    string Description);

public sealed record PersonalField(string Name, PersonalDataCategory Category, SubjectKind Subject, bool IsSubjectKey);

/// One place that holds personal data: a table (from the EF model) or a blob prefix.
public sealed record PersonalDataLocation(
    string Module,
    string Kind,
    string Name,
    string ClrType,
    ErasureStrategy Strategy,
    int? RetentionDays,
    string? RetentionSetting,
    string? Reason,
    IReadOnlyList<PersonalField> Fields);

/// The personal-data map: derived from the declarations on the entity types of the EF model and
/// the registered blob locations, so it cannot drift from the code. The engine walks it.
public sealed partial class PersonalDataMap
{
    public required IReadOnlyList<PersonalDataLocation> Locations { get; init; }

    /// Declarations that are missing or inconsistent; empty when the map is sound.
    public required IReadOnlyList<string> Problems { get; init; }

    // Names that suggest personal data: a property with such a name must say what it is.
    [GeneratedRegex("(e-?mail|displayname|username|firstname|lastname|fullname|givenname|surname|objectid|userid|principalid|ownerid|authorid|submittedby|createdby|ipaddress|^ip$|phone|postal|address$|^name$|personname)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LooksPersonal();

    public static bool NameLooksPersonal(string propertyName) => LooksPersonal().IsMatch(propertyName);

    public static PersonalDataMap Build(IModel model, IEnumerable<PersonalBlobLocation> blobs)
    {
        var locations = new List<PersonalDataLocation>();
        var problems = new List<string>();

        foreach (var entity in model.GetEntityTypes().Where(e => !e.IsOwned() && e.ClrType != typeof(Dictionary<string, object>)).OrderBy(e => e.ClrType.FullName, StringComparer.Ordinal))
        {
            var type = entity.ClrType;
            var fields = new List<PersonalField>();
            foreach (var property in entity.GetProperties())
            {
                var info = property.PropertyInfo;
                var declared = info?.GetCustomAttribute<PersonalDataAttribute>(inherit: true);
                if (declared is not null)
                {
                    fields.Add(new PersonalField(property.Name, declared.Category, declared.Subject, declared.IsSubjectKey));
                    continue;
                }
                var excused = info?.GetCustomAttribute<NotPersonalDataAttribute>(inherit: true) is not null;
                if (!excused && NameLooksPersonal(property.Name))
                {
                    problems.Add($"{type.Name}.{property.Name} looks like personal data but declares neither [PersonalData] nor [NotPersonalData(reason)].");
                }
            }

            var erasure = type.GetCustomAttribute<ErasureAttribute>(inherit: true);
            if (fields.Count == 0)
            {
                continue;
            }
            if (erasure is null)
            {
                problems.Add($"{type.Name} holds personal data but declares no [Erasure] strategy.");
                continue;
            }
            problems.AddRange(CheckErasure(type.Name, erasure));
            foreach (var subject in fields.Select(f => f.Subject).Distinct())
            {
                if (!fields.Any(f => f.IsSubjectKey && f.Subject == subject))
                {
                    problems.Add($"{type.Name} has personal data of subject kind {subject} but no property marked as that subject key.");
                }
            }

            locations.Add(new PersonalDataLocation(
                ModuleOf(type),
                "table",
                entity.GetTableName() ?? type.Name,
                type.FullName ?? type.Name,
                erasure.Strategy,
                erasure.Strategy == ErasureStrategy.RetainThenAnonymize ? erasure.RetentionDays : null,
                erasure.RetentionSetting,
                erasure.Reason,
                fields));
        }

        foreach (var blob in blobs.OrderBy(b => b.Container, StringComparer.Ordinal).ThenBy(b => b.Prefix, StringComparer.Ordinal))
        {
            locations.Add(new PersonalDataLocation(
                blob.Module, "blob", $"{blob.Container}/{blob.Prefix}", blob.Description, blob.Strategy, null, null, null,
                [new PersonalField("content", blob.Category, blob.Subject, IsSubjectKey: false)]));
        }

        return new PersonalDataMap { Locations = locations, Problems = problems };
    }

    public static IEnumerable<string> CheckErasure(string typeName, ErasureAttribute erasure) => erasure.Strategy switch
    {
        ErasureStrategy.RetainThenAnonymize when erasure.RetentionDays <= 0
            => [$"{typeName} retains then anonymizes but names no retention period in days."],
        ErasureStrategy.Keep when string.IsNullOrWhiteSpace(erasure.Reason)
            => [$"{typeName} keeps personal data but states no reason."],
        _ => [],
    };

    private static string ModuleOf(Type type)
    {
        var ns = type.Namespace ?? "";
        var parts = ns.Split('.');
        return parts.Length > 1 && parts[0] == "Lethe" ? parts[1] : ns;
    }
}
