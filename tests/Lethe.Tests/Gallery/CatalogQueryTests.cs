using Lethe.Gallery;

namespace Lethe.Tests.Gallery;

public sealed class CatalogQueryTests
{
    private const string Alice = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    private const string Bob = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static CatalogState State()
    {
        var authors = new[]
        {
            new GalleryAuthor { Id = Alice, UserId = Guid.NewGuid(), Email = "a@x.test", Name = "Alice", Slug = "Alice", TenantId = "t", CommunityId = "c", ETag = Guid.NewGuid(), ChangeVersion = 1 },
            new GalleryAuthor { Id = Bob, UserId = Guid.NewGuid(), Email = "b@x.test", Name = "Bob", Slug = "Bob", TenantId = "t", CommunityId = "c", ETag = Guid.NewGuid(), ChangeVersion = 1 },
        };
        var entities = new[]
        {
            Entity(Alice, EntityKind.Solution, "Alpha", Visibility.Public, ["ml"], 0),
            Entity(Alice, EntityKind.Notebook, "Beta", Visibility.Unlisted, ["draft"], 1),
            Entity(Bob, EntityKind.Solution, "Gamma", Visibility.Public, ["ml", "r"], 2),
            Entity(Bob, EntityKind.Tutorial, "Delta", Visibility.Unlisted, [], 3),
        };
        return CatalogState.Empty.Apply(1, authors, entities, []);
    }

    private static GalleryEntity Entity(string author, EntityKind kind, string name, Visibility visibility, List<string> tags, int day)
        => new() { Id = Guid.NewGuid(), AuthorId = author, Kind = kind, Name = name, Description = name + " text", Visibility = visibility, Tags = tags, CreatedAt = T0.AddDays(day), UpdatedAt = T0.AddDays(day), ChangeVersion = 1 };

    private static List<string> Run(string? filter, string? caller, string? orderBy = null)
    {
        var (query, _, error) = CatalogQuery.Parse(filter, orderBy, null, null, null, null);
        Assert.True(query is not null, error);
        return CatalogListing.Run(State(), query, caller).Items.Select(i => i.Name).ToList();
    }

    [Fact]
    public void Without_a_caller_only_public_items_match_whatever_the_filter()
    {
        Assert.Equal(["Gamma", "Alpha"], Run(null, null));
        Assert.Empty(Run("visibility eq 'Unlisted'", null));
        Assert.Equal(["Alpha"], Run($"author/id eq '{Alice}'", null));
    }

    [Fact]
    public void A_caller_sees_their_own_unlisted_items_and_never_anyone_elses()
    {
        Assert.Equal(["Beta"], Run("visibility eq 'Unlisted'", Alice));
        Assert.Equal(["Gamma"], Run($"author/id eq '{Bob}'", Alice));
        Assert.Equal(["Gamma", "Beta", "Alpha"], Run("true", Alice));
    }

    [Theory]
    [InlineData("kind eq 'Solution'", "Alpha,Gamma")]
    [InlineData("tags/any(t: t eq 'r')", "Gamma")]
    [InlineData("'ml' in tags and author/name eq 'Bob'", "Gamma")]
    [InlineData("startswith(name, 'Al') or endswith(description, 'a text')", "Alpha,Gamma")]
    [InlineData("created_at ge 2026-03-02T00:00:00Z", "Gamma")]
    [InlineData("not (kind eq 'Solution')", "")]
    [InlineData("tags/$count eq 2", "Gamma")]
    [InlineData("length(name) eq 5 and year(created_at) eq 2026", "Alpha,Gamma")]
    [InlineData("author/id eq '" + Bob + "'", "Gamma")]
    [InlineData("'" + Alice + "' eq author/id", "Alpha")]
    [InlineData("author/id eq '" + Bob + "' and kind eq 'Tutorial'", "")]
    [InlineData("author/id eq '" + Bob + "' and kind eq 'Solution'", "Gamma")]
    [InlineData("author/id eq '" + Bob + "' or kind eq 'Solution'", "Alpha,Gamma")]
    public void Filters_match_like_odata(string filter, string expected)
        => Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), Run(filter, null, "name"));

    [Theory]
    [InlineData("name eq")]
    [InlineData("secret eq 1")]
    [InlineData("substring(name, 1) eq 'x'")]
    [InlineData("name add 1 eq 2")]
    [InlineData("((((((((((((((name eq 'x'))))))))))))))")]
    public void Malformed_or_disallowed_filters_are_refused_with_a_message(string filter)
    {
        var (query, option, error) = CatalogQuery.Parse(filter, null, null, null, null, null);

        Assert.Null(query);
        Assert.Equal("$filter", option);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void Top_is_capped_and_an_author_filter_uses_the_authors_index()
    {
        Assert.Equal("$top", CatalogQuery.Parse(null, null, null, "1001", null, null).Option);
        var (query, _, _) = CatalogQuery.Parse($"kind eq 'Solution' and author/id eq '{Alice}'", null, null, null, null, null);
        Assert.Equal(Alice, query!.FilterAuthorId);
        Assert.Equal(CatalogQuery.DefaultTop, query.Top);
    }

    [Fact]
    public void Paging_one_authors_list_matches_the_general_order_and_says_when_more_follow()
    {
        var entities = Enumerable.Range(0, 7)
            .Select(d => Entity(Alice, EntityKind.Solution, $"Item {d}", d % 3 == 2 ? Visibility.Unlisted : Visibility.Public, [], d))
            .Append(Entity(Bob, EntityKind.Solution, "Bob's", Visibility.Public, [], 9))
            .ToArray();
        var state = CatalogState.Empty.Apply(1, [], entities, []);
        foreach (var caller in new[] { null, Alice })
        {
            for (var skip = 0; skip <= 8; skip++)
            {
                for (var top = 0; top <= 8; top++)
                {
                    var (fast, _, _) = CatalogQuery.Parse($"author/id eq '{Alice}'", null, null, $"{top}", $"{skip}", null);
                    // An explicit order takes the general path; created_at desc, then id, is the author's list order.
                    var (general, _, _) = CatalogQuery.Parse($"author/id eq '{Alice}'", "created_at desc", null, $"{top}", $"{skip}", null);
                    var fastPage = CatalogListing.Run(state, fast!, caller);
                    var generalPage = CatalogListing.Run(state, general!, caller);
                    Assert.Equal(generalPage.Items.Select(i => i.Id), fastPage.Items.Select(i => i.Id));
                    Assert.Equal(generalPage.HasMore, fastPage.HasMore);
                    Assert.All(fastPage.Items, i => Assert.True(i.AuthorId == Alice && (caller == Alice || i.Visibility == Visibility.Public)));
                }
            }
        }
        var (first, _, _) = CatalogQuery.Parse($"author/id eq '{Alice}'", null, null, "2", null, null);
        var page = CatalogListing.Run(state, first!, null);
        Assert.Equal(["Item 6", "Item 4"], page.Items.Select(i => i.Name));
        Assert.True(page.HasMore);
    }

    [Fact]
    public void An_unpublished_tombstone_removes_the_item_from_the_copy_and_the_authors_index()
    {
        var state = State();
        var alpha = state.Entities.Values.Single(i => i.Name == "Alpha");
        var tombstone = new GalleryEntity { Id = alpha.Id, AuthorId = Alice, Kind = alpha.Kind, Name = "", Description = "", Visibility = Visibility.Public, UnpublishedAt = T0, ChangeVersion = 2 };

        var next = state.Apply(2, [], [tombstone], []);

        Assert.False(next.Entities.ContainsKey(alpha.Id));
        Assert.DoesNotContain(next.ByAuthor[Alice], i => i.Id == alpha.Id);
        Assert.Equal(2, next.Version);
    }
}

public sealed class GalleryRulesTests
{
    [Fact]
    public void The_score_counts_public_items_only_weighted_by_kind_tags_and_description()
    {
        var score = ContributionScore.Of([(EntityKind.Solution, Visibility.Public, 2, 500), (EntityKind.Notebook, Visibility.Unlisted, 5, 1000)]);

        Assert.Equal(10 * 1.2 * 1.5, score, 6);
        Assert.Equal(0, ContributionScore.Of([(EntityKind.Solution, Visibility.Unlisted, 5, 1000)]));
    }

    [Fact]
    public void Tokens_are_checked_for_form_revocation_and_expiry()
    {
        var token = CatalogTokens.NewToken();
        var now = DateTimeOffset.UtcNow;

        Assert.True(CatalogTokens.IsWellFormed(token));
        Assert.Equal(64, CatalogTokens.HashOf(token).Length);
        Assert.Equal(TokenProblem.None, CatalogTokens.Check(token, now.AddHours(1), null, known: true, now));
        Assert.Equal(TokenProblem.Expired, CatalogTokens.Check(token, now, null, known: true, now));
        Assert.Equal(TokenProblem.Revoked, CatalogTokens.Check(token, now.AddHours(1), now, known: true, now));
        Assert.Equal(TokenProblem.Unknown, CatalogTokens.Check(token, null, null, known: false, now));
        Assert.Equal(TokenProblem.Malformed, CatalogTokens.Check("lct_" + new string('!', 43), null, null, known: false, now));
    }

    [Theory]
    [InlineData("First Last", "First-Last")]
    [InlineData("  Ada   Lovelace ", "Ada-Lovelace")]
    [InlineData("***", "author")]
    public void Slugs_are_made_from_the_name(string name, string slug) => Assert.Equal(slug, GalleryRules.Slug(name));
}
