using Lethe.Gallery;

namespace Lethe.Server.Portal.Gallery;

/// What the publish and edit forms post, and show again with the error when it is refused.
public sealed class EntityForm
{
    public EntityKind Kind { get; set; } = EntityKind.Solution;
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string? Tags { get; set; }
    public Visibility Visibility { get; set; } = Visibility.Public;

    public string Handler { get; set; } = "";
    public string Submit { get; set; } = "Publish";
    public string? Error { get; set; }
    public string? ErrorField { get; set; }

    public List<string> TagList() => GalleryRules.NormalizeTags((Tags ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// True when the form may be written; otherwise the error is set.
    public bool Validate()
    {
        if (GalleryRules.Problem(Name, Description, TagList()) is { } problem)
        {
            ErrorField = problem.Field;
            Error = problem.Message;
            return false;
        }
        return true;
    }
}
