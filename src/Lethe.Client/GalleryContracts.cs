using System.Text.Json.Serialization;

namespace Lethe.Client;

// Gallery and its Catalog API (seed 000). The Catalog API's names are snake_case as in the seed's example.

/// Publish an item. Kind: Solution, Project, Experiment, Notebook, Tutorial, Collection, CustomModule,
/// Competition. Visibility: Public or Unlisted.
public sealed record PublishEntityRequest(string Kind, string Name, string? Description = null, IReadOnlyList<string>? Tags = null, string Visibility = "Public");

/// Change an item: what is null is left as it is.
public sealed record UpdateEntityRequest(string? Kind = null, string? Name = null, string? Description = null, IReadOnlyList<string>? Tags = null, string? Visibility = null);

public sealed record CatalogAuthorRef(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name);

public sealed record CatalogEntity(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags,
    [property: JsonPropertyName("visibility")] string Visibility,
    [property: JsonPropertyName("author")] CatalogAuthorRef Author,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt);

/// An OData page of entities: `value`, `@odata.count` with `$count=true`, `@odata.nextLink` while more follow.
/// With `$select` the entities hold only the selected properties: read them as JSON elements.
public sealed record CatalogEntityPage<T>(
    [property: JsonPropertyName("value")] IReadOnlyList<T> Value,
    [property: JsonPropertyName("@odata.count")] long? Count,
    [property: JsonPropertyName("@odata.nextLink")] string? NextLink);

public sealed record CatalogLinks([property: JsonPropertyName("self")] string Self);

/// Seed 000's `/users/{authorId}` answer, field for field.
public sealed record CatalogUser(
    [property: JsonPropertyName("entities_count")] int EntitiesCount,
    [property: JsonPropertyName("contribution_score")] double ContributionScore,
    [property: JsonPropertyName("scored_at")] DateTimeOffset? ScoredAt,
    [property: JsonPropertyName("contributed_at")] DateTimeOffset? ContributedAt,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("slugs")] IReadOnlyList<string> Slugs,
    [property: JsonPropertyName("tenant_id")] string TenantId,
    [property: JsonPropertyName("community_id")] string CommunityId,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("_links")] CatalogLinks Links,
    [property: JsonPropertyName("etag")] string ETag);

/// A Catalog API access token, for the DataLabAccessToken header.
public sealed record CatalogTokenResponse(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt);
