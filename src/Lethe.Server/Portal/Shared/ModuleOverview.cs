using Lethe.Privacy;

namespace Lethe.Server.Portal.Shared;

/// What the Workspaces, Gallery and Labs pages show before their modules bring data of their own: where the
/// user can see resources, and what personal data the module declares in the personal-data map.
public sealed record ModuleOverview(string Module, VisibleScopes Scopes, IReadOnlyList<PersonalDataLocation> PersonalData)
{
    public static async Task<ModuleOverview> LoadAsync(string module, LetheDb db, PersonalDataMap map, Guid principalId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(map);
        var scopes = await VisibleScopes.LoadAsync(db, principalId, ct);
        return new ModuleOverview(module, scopes, map.Locations.Where(l => l.Module == module).ToList());
    }
}

/// The model of the personal-data table partial: the whole map on Privacy, one module's part elsewhere.
public sealed record PersonalDataTable(IReadOnlyList<PersonalDataLocation> Locations, bool ShowModule, string CaptionId);

/// How the portal words the map's enums and numbers.
public static class PersonalDataText
{
    public static string Strategy(PersonalDataLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.Strategy switch
        {
            ErasureStrategy.Delete => "Deleted",
            ErasureStrategy.Anonymize => "Anonymized",
            ErasureStrategy.RetainThenAnonymize => $"Kept {location.RetentionDays} days, then anonymized",
            ErasureStrategy.Keep => "Kept",
            _ => location.Strategy.ToString(),
        };
    }

    public static string Category(PersonalDataCategory category) => category switch
    {
        PersonalDataCategory.Contact => "contact",
        PersonalDataCategory.Identifier => "identifier",
        PersonalDataCategory.Content => "content",
        PersonalDataCategory.Usage => "usage",
        _ => category.ToString(),
    };
}
