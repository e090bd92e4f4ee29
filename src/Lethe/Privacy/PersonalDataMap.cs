using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Lethe.Privacy;

/// A blob prefix that holds personal data, registered by the module that writes it.
/// Placeholders in braces (<c>{storageAccount}</c>, <c>{jobId}</c>) stand for values that the location's source
/// resolves from the rows that own the blobs.
public sealed record PersonalBlobLocation(
    string Module,
    string Container,
    string Prefix,
    PersonalDataCategory Category,
    SubjectKind Subject,
    ErasureStrategy Strategy,
    string Description,
    int Phase = 0,
    string? Reason = null,
    string? Sweep = null,
    int? RetentionDays = null)
{
    public string Name => $"{Container}/{Prefix}";
}

public sealed record PersonalField(string Name, PersonalDataCategory Category, SubjectKind Subject, bool IsSubjectKey)
{
    public bool IsName { get; init; }
    public PersonalDataExport Export { get; init; }
    public KeyCase KeyCase { get; init; }
    public Type? ClrType { get; init; }
}

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
    IReadOnlyList<PersonalField> Fields)
{
    /// When an erasure handles it (<see cref="ErasureAttribute.Phase"/>).
    public int Phase { get; init; }

    /// The sweep that anonymizes a <see cref="ErasureStrategy.RetainThenAnonymize"/> location when its period ends.
    public string? Sweep { get; init; }

    /// Every row describes one person (<see cref="SubjectRecordAttribute"/>).
    public bool IsSubjectRecord { get; init; }

    public IEnumerable<PersonalField> Keys => Fields.Where(f => f.IsSubjectKey);
}

/// The personal-data map: derived from the declarations on the entity types of the EF model and
/// the registered blob locations, so it cannot drift from the code. The engine walks it.
public sealed partial class PersonalDataMap
{
    public required IReadOnlyList<PersonalDataLocation> Locations { get; init; }

    /// Declarations that are missing or inconsistent; empty when the map is sound.
    public required IReadOnlyList<string> Problems { get; init; }

    /// The locations in the order an erasure handles them: by phase, and within a phase a table that references
    /// another before the one it references (its rows would otherwise block or cascade).
    public required IReadOnlyList<PersonalDataLocation> ErasureOrder { get; init; }

    public PersonalDataLocation? Find(string name) => Locations.FirstOrDefault(l => l.Name == name);

    /// The table location of entity <typeparamref name="T"/>, for a module that registers its own source for it.
    public PersonalDataLocation For<T>() => Locations.Single(l => l.Kind == "table" && l.ClrType == typeof(T).FullName);

    /// The map's problems together with the ones only the registered sources can show: a location needs exactly
    /// one source; a generic table source cannot retain-then-anonymize; a blob location needs a module's source; a
    /// retain-then-anonymize location needs its sweep.
    public IReadOnlyList<string> ProblemsWith(IEnumerable<string> customSourceLocations, IEnumerable<string> sweepKinds)
    {
        var problems = new List<string>(Problems);
        var custom = customSourceLocations.GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var sweeps = sweepKinds.ToHashSet(StringComparer.Ordinal);
        foreach (var location in Locations)
        {
            custom.TryGetValue(location.Name, out var count);
            if (count > 1)
            {
                problems.Add($"{location.Name} has {count} sources; a location has exactly one.");
            }
            else if (count == 0 && location.Kind == "blob")
            {
                problems.Add($"{location.Name} is a blob location without a source that can find, export and erase it.");
            }
            else if (count == 0 && location.Strategy == ErasureStrategy.RetainThenAnonymize)
            {
                problems.Add($"{location.Name} retains then anonymizes, which the generic table source cannot do: its module registers a source.");
            }
            if (location.Strategy == ErasureStrategy.RetainThenAnonymize && (location.Sweep is null || !sweeps.Contains(location.Sweep)))
            {
                problems.Add($"{location.Name} retains then anonymizes but its sweep ({location.Sweep ?? "none named"}) is not registered.");
            }
        }
        foreach (var name in custom.Keys.Where(n => Find(n) is null))
        {
            problems.Add($"A source is registered for {name}, which is not a location of the map.");
        }
        return problems;
    }

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
                    fields.Add(new PersonalField(property.Name, declared.Category, declared.Subject, declared.IsSubjectKey)
                    {
                        IsName = declared.IsName, Export = declared.Export, KeyCase = declared.KeyCase, ClrType = property.ClrType,
                    });
                    if (declared.IsSubjectKey && !HasIndexStartingWith(entity, property))
                    {
                        problems.Add($"{type.Name}.{property.Name} is a subject key without an index that starts with it: finding a person there would scan the table.");
                    }
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
            if (erasure.Strategy == ErasureStrategy.RetainThenAnonymize && string.IsNullOrWhiteSpace(erasure.Sweep))
            {
                problems.Add($"{type.Name} retains then anonymizes but names no sweep that anonymizes it.");
            }
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
                fields)
            {
                Phase = erasure.Phase,
                Sweep = erasure.Sweep,
                IsSubjectRecord = type.GetCustomAttribute<SubjectRecordAttribute>(inherit: true) is not null,
            });
        }

        foreach (var blob in blobs.OrderBy(b => b.Container, StringComparer.Ordinal).ThenBy(b => b.Prefix, StringComparer.Ordinal))
        {
            if (!Placeholders.IsValid(blob.Container) || !Placeholders.IsValid(blob.Prefix))
            {
                problems.Add($"Blob location {blob.Name} has a container or prefix that cannot be resolved (unbalanced or empty braces).");
            }
            if (blob.Strategy == ErasureStrategy.RetainThenAnonymize && blob.RetentionDays is not > 0)
            {
                problems.Add($"Blob location {blob.Name} retains then anonymizes but names no retention period in days.");
            }
            if (blob.Strategy == ErasureStrategy.Keep && string.IsNullOrWhiteSpace(blob.Reason))
            {
                problems.Add($"Blob location {blob.Name} keeps personal data but states no reason.");
            }
            locations.Add(new PersonalDataLocation(
                blob.Module, "blob", blob.Name, blob.Description, blob.Strategy, blob.RetentionDays, null, blob.Reason,
                [new PersonalField("content", blob.Category, blob.Subject, IsSubjectKey: false)]) { Phase = blob.Phase, Sweep = blob.Sweep });
        }

        return new PersonalDataMap { Locations = locations, Problems = problems, ErasureOrder = OrderForErasure(model, locations) };
    }

    private static bool HasIndexStartingWith(IEntityType entity, IProperty property)
        => entity.GetIndexes().Any(i => i.Properties[0] == property)
            || entity.GetKeys().Any(k => k.Properties[0] == property);

    /// Phase first; within a phase, a topological order of the foreign keys, dependents before principals.
    private static List<PersonalDataLocation> OrderForErasure(IModel model, List<PersonalDataLocation> locations)
    {
        var byType = model.GetEntityTypes().ToDictionary(e => e.ClrType.FullName ?? e.ClrType.Name, e => e, StringComparer.Ordinal);
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        int Depth(IEntityType entity, HashSet<IEntityType> seen)
        {
            // How many tables reference this one, transitively: referenced tables go after their dependents.
            var key = entity.ClrType.FullName ?? entity.ClrType.Name;
            if (rank.TryGetValue(key, out var known))
            {
                return known;
            }
            if (!seen.Add(entity))
            {
                return 0;
            }
            var depth = entity.GetReferencingForeignKeys().Select(fk => fk.DeclaringEntityType)
                .Where(d => d != entity).Select(d => Depth(d, seen) + 1).DefaultIfEmpty(0).Max();
            rank[key] = depth;
            return depth;
        }
        return [.. locations
            .OrderBy(l => l.Phase)
            .ThenBy(l => l.Kind == "table" && byType.TryGetValue(l.ClrType, out var e) ? Depth(e, []) : 0)
            .ThenBy(l => l.Name, StringComparer.Ordinal)];
    }

    private static class Placeholders
    {
        public static bool IsValid(string value)
        {
            var open = false;
            var length = 0;
            foreach (var c in value)
            {
                if (c == '{')
                {
                    if (open)
                    {
                        return false;
                    }
                    open = true;
                    length = 0;
                }
                else if (c == '}')
                {
                    if (!open || length == 0)
                    {
                        return false;
                    }
                    open = false;
                }
                else if (open)
                {
                    length++;
                }
            }
            return !open;
        }
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
