namespace Lethe.Gallery;

public sealed record CatalogPage(IReadOnlyList<CatalogItem> Items, long? Count, bool HasMore);

/// Runs a parsed query over a copy of the catalog. The visibility rule comes first and from the caller's
/// token alone: public items, and the caller's own unlisted ones. The user's filter only narrows that.
public static class CatalogListing
{
    public static bool IsVisible(CatalogItem item, string? callerAuthorId)
        => item.Visibility == Visibility.Public || (callerAuthorId is not null && string.Equals(item.AuthorId, callerAuthorId, StringComparison.Ordinal));

    public static CatalogPage Run(CatalogState state, CatalogQuery query, string? callerAuthorId)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(query);
        if (query.FilterAuthorId is not null && query.OrderBy.Count == 0 && !query.Count)
        {
            return OneAuthor(state, query, callerAuthorId);
        }
        IEnumerable<CatalogItem> candidates = query.FilterAuthorId is { } authorId
            ? (state.ByAuthor.TryGetValue(authorId, out var mine) ? mine : [])
            : state.Entities.Values;
        var filter = query.Filter;
        var visible = candidates.Where(i => IsVisible(i, callerAuthorId) && (filter is null || filter(i, state)));

        IEnumerable<CatalogItem> ordered;
        if (query.OrderBy.Count == 0)
        {
            ordered = query.FilterAuthorId is not null
                ? visible // the per-author list is kept newest first
                : visible.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id);
        }
        else
        {
            IOrderedEnumerable<CatalogItem>? sorted = null;
            foreach (var (key, descending) in query.OrderBy)
            {
                var comparer = Comparer<object?>.Create((a, b) => CatalogQuery.Ordered(a, b) ?? (a is null ? (b is null ? 0 : -1) : 1));
                sorted = sorted is null
                    ? (descending ? visible.OrderByDescending(i => key(i, state), comparer) : visible.OrderBy(i => key(i, state), comparer))
                    : (descending ? sorted.ThenByDescending(i => key(i, state), comparer) : sorted.ThenBy(i => key(i, state), comparer));
            }
            ordered = sorted!.ThenBy(i => i.Id);
        }

        if (query.Count)
        {
            var all = ordered.ToList();
            var page = all.Skip(query.Skip).Take(query.Top).ToList();
            return new CatalogPage(page, all.Count, query.Skip + page.Count < all.Count);
        }
        var taken = ordered.Skip(query.Skip).Take(query.Top + 1).ToList();
        var more = taken.Count > query.Top;
        if (more)
        {
            taken.RemoveAt(taken.Count - 1);
        }
        return new CatalogPage(taken, null, more);
    }

    /// The hot path (`author/id eq '...'`, default order, no count): one pass over the author's list, which is
    /// kept newest first, without LINQ.
    private static CatalogPage OneAuthor(CatalogState state, CatalogQuery query, string? callerAuthorId)
    {
        var mine = state.ByAuthor.TryGetValue(query.FilterAuthorId!, out var list) ? list : [];
        var filter = query.Filter;
        var items = new List<CatalogItem>(Math.Min(mine.Length, query.Top));
        var skipped = 0;
        foreach (var item in mine)
        {
            if (!IsVisible(item, callerAuthorId) || (filter is not null && !filter(item, state)))
            {
                continue;
            }
            if (skipped < query.Skip)
            {
                skipped++;
                continue;
            }
            if (items.Count == query.Top)
            {
                return new CatalogPage(items, null, HasMore: true);
            }
            items.Add(item);
        }
        return new CatalogPage(items, null, HasMore: false);
    }

    /// One item by ID, under the same rule: an unlisted item is not there for anyone but its author.
    public static CatalogItem? Find(CatalogState state, Guid id, string? callerAuthorId)
        => state.Entities.TryGetValue(id, out var item) && IsVisible(item, callerAuthorId) ? item : null;
}
