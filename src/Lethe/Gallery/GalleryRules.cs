namespace Lethe.Gallery;

/// What a published item may hold. Pure: the API and the portal call it before anything is written.
public static class GalleryRules
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 4000;
    public const int MaxTags = 20;
    public const int MaxTagLength = 50;

    /// The field that is wrong and why, or null when the item may be published.
    public static (string Field, string Message)? Problem(string? name, string? description, IReadOnlyList<string>? tags)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength || name.Any(char.IsControl))
        {
            return ("name", $"A name has 1 to {MaxNameLength} characters and no control characters.");
        }
        if (description is { Length: > MaxDescriptionLength })
        {
            return ("description", $"A description has at most {MaxDescriptionLength} characters.");
        }
        if (tags is not null)
        {
            if (tags.Count > MaxTags)
            {
                return ("tags", $"An item has at most {MaxTags} tags.");
            }
            if (tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Trim().Length > MaxTagLength || t.Any(char.IsControl)))
            {
                return ("tags", $"A tag has 1 to {MaxTagLength} characters and no control characters.");
            }
        }
        return null;
    }

    /// Trimmed, without duplicates (case-insensitive), in the order given.
    public static List<string> NormalizeTags(IEnumerable<string>? tags)
        => tags is null ? [] : tags.Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// "First Last" becomes "First-Last", as in the seed's `slugs`.
    public static string Slug(string name)
    {
        var parts = name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var slug = string.Join('-', parts.Select(p => new string(p.Where(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.').ToArray())).Where(p => p.Length > 0));
        return slug.Length == 0 ? "author" : slug;
    }
}

/// The contribution score of an author: what their public items are worth to the community.
/// score = Σ over public items of weight(kind) × (1 + 0.1 × min(tags, 5)) × (1 + min(description length, 1000) / 1000)
/// with weight Solution 10, Project 8, Competition 8, Tutorial 7, Collection 6, Custom Module 6,
/// Experiment 5, Notebook 5. Unlisted items earn nothing: the score is public and must not reveal them.
public static class ContributionScore
{
    public static double WeightOf(EntityKind kind) => kind switch
    {
        EntityKind.Solution => 10,
        EntityKind.Project or EntityKind.Competition => 8,
        EntityKind.Tutorial => 7,
        EntityKind.Collection or EntityKind.CustomModule => 6,
        _ => 5,
    };

    public static double Of(IEnumerable<(EntityKind Kind, Visibility Visibility, int Tags, int DescriptionLength)> items)
        => items.Where(i => i.Visibility == Visibility.Public)
            .Sum(i => WeightOf(i.Kind) * (1 + 0.1 * Math.Min(i.Tags, 5)) * (1 + Math.Min(i.DescriptionLength, 1000) / 1000.0));
}
