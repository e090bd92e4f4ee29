using System.Buffers;
using System.Text.Json;
using Lethe.Gallery;
using Lethe.Server.Api.Gallery;

namespace Lethe.Server.Tests.Gallery;

/// The entity lists copy each item's answer, encoded once and kept with the item; the author's name is not part of
/// the item, so a renamed author must never be answered with the old name.
public sealed class CatalogJsonTests
{
    private const string AuthorId = "A1B2C3";

    [Fact]
    public void A_kept_answer_is_the_same_as_a_fresh_one_and_follows_a_rename_of_the_author()
    {
        var entity = new GalleryEntity
        {
            Id = Guid.NewGuid(), AuthorId = AuthorId, Kind = EntityKind.CustomModule, Name = "Quotes \" and <tags> & ünïcode",
            Description = "Line\nbreak", Tags = ["nlp", "vision"], Visibility = Visibility.Unlisted,
            CreatedAt = new DateTimeOffset(2026, 11, 24, 5, 6, 7, TimeSpan.Zero), UpdatedAt = new DateTimeOffset(2026, 11, 24, 6, 7, 8, 123, TimeSpan.Zero),
            ChangeVersion = 1,
        };
        var ada = CatalogState.Empty.Apply(1, [Author("Ada Lovelace", 1)], [entity], []);
        var item = ada.Entities[entity.Id];
        var page = new CatalogPage([item, item], Count: 2, HasMore: false);
        var everyProperty = new HashSet<string>(["id", "kind", "name", "description", "tags", "visibility", "author", "created_at", "updated_at"]);

        var first = Write(w => CatalogJson.WritePage(w, ada, page, select: null, nextLink: null));
        var again = Write(w => CatalogJson.WritePage(w, ada, page, select: null, nextLink: null));
        var formatted = Write(w => CatalogJson.WritePage(w, ada, page, everyProperty, nextLink: null));

        Assert.NotNull(item.Encoded.Value);
        Assert.Equal(formatted, first);
        Assert.Equal(first, again);
        using (var document = JsonDocument.Parse(first))
        {
            var value = document.RootElement.GetProperty("value");
            Assert.Equal(2, value.GetArrayLength());
            Assert.Equal("Quotes \" and <tags> & ünïcode", value[0].GetProperty("name").GetString());
            Assert.Equal("CustomModule", value[0].GetProperty("kind").GetString());
            Assert.Equal("Ada Lovelace", value[0].GetProperty("author").GetProperty("name").GetString());
        }

        // The same item, kept with its encoding, under a copy where its author has another name.
        var grace = ada.Apply(2, [Author("Grace Hopper", 2)], [], []);
        Assert.Same(item, grace.Entities[entity.Id]);
        var renamed = Write(w => CatalogJson.WritePage(w, grace, page, select: null, nextLink: null));
        var single = Write(w => CatalogJson.WriteItem(w, grace, item));

        using var after = JsonDocument.Parse(renamed);
        Assert.All(after.RootElement.GetProperty("value").EnumerateArray(),
            e => Assert.Equal("Grace Hopper", e.GetProperty("author").GetProperty("name").GetString()));
        Assert.Equal("Grace Hopper", JsonDocument.Parse(single).RootElement.GetProperty("author").GetProperty("name").GetString());
    }

    private static GalleryAuthor Author(string name, long version) => new()
    {
        Id = AuthorId, UserId = Guid.Empty, Email = "ada@lethe.test", Name = name, Slug = name.Replace(' ', '-'),
        TenantId = "t", CommunityId = "c", ETag = Guid.NewGuid(), ChangeVersion = version,
    };

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
