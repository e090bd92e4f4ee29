using BenchmarkDotNet.Attributes;
using Lethe.Gallery;

namespace Lethe.Benchmarks.Gallery;

/// Hypothesis (docs/benchmarks.md, "Catalog API under load"): the catalog's own work per request, parsing
/// `$filter=author/id eq '...'` (cached after the first time) and paging that author's items out of a
/// 100,000-entity copy, costs a few microseconds, small beside the HTTP pipeline. Baseline: the cached parse
/// alone; measured: parse and listing together. Data: 10,000 authors × 10 entities, one in five unlisted.
[MemoryDiagnoser]
public class CatalogQueryBenchmarks
{
    private CatalogState _state = CatalogState.Empty;
    private string[] _filters = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20261124);
        var epoch = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var authors = new List<GalleryAuthor>();
        var entities = new List<GalleryEntity>();
        for (var a = 0; a < 10_000; a++)
        {
            var id = $"{a:X64}";
            authors.Add(new GalleryAuthor { Id = id, UserId = Guid.NewGuid(), Email = $"{a}@x.test", Name = $"Author {a}", Slug = $"Author-{a}", TenantId = "t", CommunityId = "c", ETag = Guid.NewGuid(), ChangeVersion = 1 });
            for (var e = 0; e < 10; e++)
            {
                var at = epoch.AddMinutes(-random.Next(1_000_000));
                entities.Add(new GalleryEntity
                {
                    Id = Guid.NewGuid(), AuthorId = id, Kind = EntityKind.Solution, Name = $"Item {e} of {a}", Description = "A benchmark item.",
                    Tags = ["benchmark"], Visibility = random.Next(5) == 0 ? Visibility.Unlisted : Visibility.Public, CreatedAt = at, UpdatedAt = at, ChangeVersion = 1,
                });
            }
        }
        _state = CatalogState.Empty.Apply(1, authors, entities, []);
        _filters = [.. authors.Select(a => $"author/id eq '{a.Id}'")];
        foreach (var filter in _filters)
        {
            CatalogQuery.Parse(filter, null, null, null, null, null);
        }
    }

    [Benchmark(Baseline = true)]
    public CatalogQuery? ParseCached() => CatalogQuery.Parse(_filters[Next()], null, null, null, null, null).Query;

    [Benchmark]
    public CatalogPage ParseAndList() => CatalogListing.Run(_state, CatalogQuery.Parse(_filters[Next()], null, null, null, null, null).Query!, null);

    private int Next() => _next = (_next + 7919) % _filters.Length;
}
