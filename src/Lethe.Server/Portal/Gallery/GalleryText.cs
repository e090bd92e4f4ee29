using Lethe.Gallery;

namespace Lethe.Server.Portal.Gallery;

public static class GalleryText
{
    public static string Kind(EntityKind kind) => kind == EntityKind.CustomModule ? "Custom Module" : kind.ToString();
}

/// A list of items as the gallery pages show it.
public sealed record GalleryItems(IReadOnlyList<CatalogItem> Items, CatalogState State, bool ShowAuthor, bool MarkVisibility);
