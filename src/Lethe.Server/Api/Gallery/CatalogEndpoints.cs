using System.Buffers;
using System.Security.Claims;
using System.Text.Json;
using Lethe.Client;
using Lethe.Gallery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Visibility = Lethe.Gallery.Visibility;

namespace Lethe.Server.Api.Gallery;

/// The gallery's Catalog API (seed 000): profiles and entities, JSON only, anonymous or with the
/// DataLabAccessToken header; publishing and tokens for the signed-in author.
public static class CatalogEndpoints
{
    public static void MapCatalogEndpoints(this WebApplication app)
    {
        var catalog = app.MapGroup("/catalog").WithTags("Gallery");
        // The anonymous reads are answered as soon as they are routed (ShortCircuit): they know their caller from the
        // DataLabAccessToken header alone, so the portal's cookie, bearer and authorization middleware have nothing to
        // do for them. The error handling (exception handler, status-code pages) runs before routing and still applies.
        catalog.MapGet("/users/{authorId}", GetUserAsync).WithName("GetCatalogUser").AllowAnonymous().ShortCircuit();
        // The address a profile's `_links.self` names, as the seed's catalog does: the same profile, in its tenant and community.
        catalog.MapGet("/tenants/{tenantId}/communities/{communityId}/users/{authorId}", GetTenantUserAsync).WithName("GetCatalogUserInCommunity").AllowAnonymous().ShortCircuit();
        catalog.MapGet("/entities", ListEntitiesAsync).WithName("ListCatalogEntities").AllowAnonymous().ShortCircuit();
        catalog.MapGet("/entities/{id:guid}", GetEntityAsync).WithName("GetCatalogEntity").AllowAnonymous().ShortCircuit();

        var author = catalog.MapGroup("").RequireAuthorization();
        author.MapGet("/me", GetMeAsync).WithName("GetMyCatalogProfile");
        author.MapPost("/entities", PublishAsync).WithName("PublishCatalogEntity");
        author.MapPatch("/entities/{id:guid}", UpdateAsync).WithName("UpdateCatalogEntity");
        author.MapDelete("/entities/{id:guid}", UnpublishAsync).WithName("UnpublishCatalogEntity");
        author.MapPost("/tokens", CreateTokenAsync).WithName("CreateCatalogToken");
        author.MapDelete("/tokens", RevokeTokensAsync).WithName("RevokeCatalogTokens");
    }

    public static async Task<Results<Ok<CatalogUser>, StatusCodeHttpResult, ProblemHttpResult>> GetTenantUserAsync(
        string tenantId, string communityId, string authorId, GalleryCatalog catalog, IOptions<GalleryOptions> options, HttpContext http, CancellationToken ct)
        => string.Equals(tenantId, options.Value.TenantId, StringComparison.OrdinalIgnoreCase) && string.Equals(communityId, options.Value.CommunityId, StringComparison.OrdinalIgnoreCase)
            ? await GetUserAsync(authorId, catalog, options, http, ct)
            : Problems.NotFound("The author");

    public static async Task<Results<Ok<CatalogUser>, StatusCodeHttpResult, ProblemHttpResult>> GetUserAsync(
        string authorId, GalleryCatalog catalog, IOptions<GalleryOptions> options, HttpContext http, CancellationToken ct)
    {
        var state = await catalog.FreshAsync(ct);
        // A profile is public from its first published item on (issue 13: nothing becomes public by looking).
        if (!state.Authors.TryGetValue(authorId, out var profile) || profile.ContributedAt is null)
        {
            return Problems.NotFound("The author");
        }
        var user = ToUser(profile, options.Value, http.Request);
        http.Response.Headers.ETag = user.ETag;
        if (http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == "*" || v.Split(',').Any(t => t.Trim() == user.ETag))))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return TypedResults.Ok(user);
    }

    public static async Task<Results<CatalogJsonResult, ValidationProblem, ProblemHttpResult>> ListEntitiesAsync(
        HttpContext http, GalleryCatalog catalog, TimeProvider clock,
        [FromQuery(Name = "$filter")] string? filter, [FromQuery(Name = "$orderby")] string? orderBy, [FromQuery(Name = "$select")] string? select,
        [FromQuery(Name = "$top")] string? top, [FromQuery(Name = "$skip")] string? skip, [FromQuery(Name = "$count")] string? count,
        CancellationToken ct)
    {
        var (query, option, error) = CatalogQuery.Parse(filter, orderBy, select, top, skip, count);
        if (query is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [option!] = [error!] }, detail: error, title: $"{option} is not a valid query option.");
        }
        var state = await catalog.FreshAsync(ct);
        var (caller, problem) = Caller(http, state, clock);
        if (problem is not null)
        {
            return problem;
        }
        // The hot path, an author's list asked without a token: one answer for everyone, made once per copy of the
        // catalog and kept with it (a change makes a new copy). At most one page per author, so at most the catalog's
        // own size in JSON.
        var shared = caller is null && query.IsAuthorListOnly && state.Version >= 0;
        if (shared && state.Answers.TryGetValue(query.FilterAuthorId!, out var kept))
        {
            return new CatalogJsonResult((byte[])kept);
        }
        var page = CatalogListing.Run(state, query, caller);
        string? next = null;
        if (page.HasMore)
        {
            next = Paging.LinkWith(http.Request,
                ("$skip", (query.Skip + query.Top).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("$top", query.Top.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (shared && next is null && page.Items.Count > 0)
        {
            var body = CatalogJsonResult.Encode(w => CatalogJson.WritePage(w, state, page, select: null, nextLink: null));
            state.Answers.TryAdd(query.FilterAuthorId!, body);
            return new CatalogJsonResult(body);
        }
        return new CatalogJsonResult(w => CatalogJson.WritePage(w, state, page, query.Select, next));
    }

    public static async Task<Results<CatalogJsonResult, ProblemHttpResult>> GetEntityAsync(Guid id, HttpContext http, GalleryCatalog catalog, TimeProvider clock, CancellationToken ct)
    {
        var state = await catalog.FreshAsync(ct);
        var (caller, problem) = Caller(http, state, clock);
        if (problem is not null)
        {
            return problem;
        }
        var item = CatalogListing.Find(state, id, caller);
        return item is null ? Problems.NotFound("The entity") : new CatalogJsonResult(w => CatalogJson.WriteItem(w, state, item));
    }

    public static async Task<Results<Ok<CatalogUser>, ProblemHttpResult>> GetMeAsync(
        ClaimsPrincipal principal, GalleryWrites writes, GalleryCatalog catalog, IOptions<GalleryOptions> options, HttpRequest request, CancellationToken ct)
    {
        var author = await writes.FindAuthorAsync(principal.ObjectId(), ct);
        if (author is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.",
                detail: "You have no gallery profile yet. It is made when you publish your first item, and shows your display name "
                    + $"(change it with PATCH /me), or \"{GalleryWrites.AnonymousName}\" when you have none; never your email.");
        }
        var state = await catalog.FreshAsync(ct);
        if (!state.Authors.TryGetValue(author.Id, out var profile))
        {
            // Made just now by another first request of the same user, which has committed but not yet brought
            // this node's copy up to date: catch up with the database now.
            await catalog.ChangedAsync(ct);
            state = await catalog.FreshAsync(ct);
            if (!state.Authors.TryGetValue(author.Id, out profile))
            {
                return Problems.Conflict("The profile was changed by another request at the same time; read it again.");
            }
        }
        return TypedResults.Ok(ToUser(profile, options.Value, request));
    }

    public static async Task<Results<Created<CatalogEntity>, ValidationProblem, ProblemHttpResult>> PublishAsync(
        PublishEntityRequest request, ClaimsPrincipal principal, GalleryWrites writes, GalleryCatalog catalog, CancellationToken ct)
    {
        if (!TryKind(request.Kind, out var kind))
        {
            return Problems.Invalid("kind", $"kind is one of {string.Join(", ", Enum.GetNames<EntityKind>())}.");
        }
        if (!TryVisibility(request.Visibility, out var visibility))
        {
            return Problems.Invalid("visibility", "visibility is Public or Unlisted.");
        }
        if (GalleryRules.Problem(request.Name, request.Description, request.Tags) is { } invalid)
        {
            return Problems.Invalid(invalid.Field, invalid.Message);
        }
        var (outcome, entity) = await writes.PublishAsync(principal.ObjectId(), new PublishRequest(kind, request.Name, request.Description, request.Tags, visibility), ct);
        if (outcome != WriteOutcome.Done)
        {
            return NoEmail();
        }
        var state = await catalog.FreshAsync(ct);
        return TypedResults.Created($"/catalog/entities/{entity!.Id:D}", ToContract(state, state.Entities[entity.Id]));
    }

    public static async Task<Results<Ok<CatalogEntity>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateEntityRequest request, ClaimsPrincipal principal, GalleryWrites writes, GalleryCatalog catalog, CancellationToken ct)
    {
        EntityKind? kind = null;
        Visibility? visibility = null;
        if (request.Kind is not null)
        {
            if (!TryKind(request.Kind, out var k))
            {
                return Problems.Invalid("kind", $"kind is one of {string.Join(", ", Enum.GetNames<EntityKind>())}.");
            }
            kind = k;
        }
        if (request.Visibility is not null)
        {
            if (!TryVisibility(request.Visibility, out var v))
            {
                return Problems.Invalid("visibility", "visibility is Public or Unlisted.");
            }
            visibility = v;
        }
        if (request.Name is not null || request.Description is not null || request.Tags is not null)
        {
            if (GalleryRules.Problem(request.Name ?? "unchanged", request.Description, request.Tags) is { } invalid)
            {
                return Problems.Invalid(invalid.Field, invalid.Message);
            }
        }
        var (outcome, entity) = await writes.ChangeAsync(principal.ObjectId(), id, new EntityChange(kind, request.Name, request.Description, request.Tags, visibility), ct);
        if (outcome != WriteOutcome.Done)
        {
            return Problems.NotFound("The entity");
        }
        var state = await catalog.FreshAsync(ct);
        return TypedResults.Ok(ToContract(state, state.Entities[entity!.Id]));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> UnpublishAsync(Guid id, ClaimsPrincipal principal, GalleryWrites writes, CancellationToken ct)
        => await writes.UnpublishAsync(principal.ObjectId(), id, ct) == WriteOutcome.Done ? TypedResults.NoContent() : Problems.NotFound("The entity");

    public static async Task<Results<Ok<CatalogTokenResponse>, ProblemHttpResult>> CreateTokenAsync(ClaimsPrincipal principal, GalleryWrites writes, HttpResponse response, CancellationToken ct)
    {
        var (outcome, token) = await writes.IssueTokenAsync(principal.ObjectId(), ct);
        if (outcome != WriteOutcome.Done)
        {
            return NoEmail();
        }
        // A credential: no cache may keep it.
        response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CatalogTokenResponse(token!.Token, token.ExpiresAt));
    }

    public static async Task<NoContent> RevokeTokensAsync(ClaimsPrincipal principal, GalleryWrites writes, CancellationToken ct)
    {
        await writes.RevokeTokensAsync(principal.ObjectId(), ct);
        return TypedResults.NoContent();
    }

    /// The caller's author ID from the DataLabAccessToken header (null: anonymous), or the 401 that says why not.
    internal static (string? AuthorId, ProblemHttpResult? Problem) Caller(HttpContext http, CatalogState state, TimeProvider clock)
    {
        if (!http.Request.Headers.TryGetValue(LetheClient.CatalogTokenHeader, out var values))
        {
            return (null, null);
        }
        var token = values.ToString().Trim();
        var known = state.Tokens.TryGetValue(CatalogTokens.HashOf(token), out var entry);
        var decision = CatalogTokens.Check(token, entry?.ExpiresAt, entry?.RevokedAt, known, clock.GetUtcNow());
        if (decision == TokenProblem.None)
        {
            return (entry!.AuthorId, null);
        }
        http.Response.Headers.WWWAuthenticate = $"{LetheClient.CatalogTokenHeader} error=\"invalid_token\"";
        return (null, TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            title: $"The access token is {decision.ToString().ToLowerInvariant()}.", detail: CatalogTokens.Describe(decision),
            extensions: new Dictionary<string, object?> { ["reason"] = decision.ToString().ToLowerInvariant() }));
    }

    internal static CatalogUser ToUser(CatalogProfile p, GalleryOptions options, HttpRequest request)
    {
        var baseUrl = string.IsNullOrWhiteSpace(options.CatalogBaseUrl) ? $"{request.Scheme}://{request.Host}{request.PathBase}/catalog" : options.CatalogBaseUrl.TrimEnd('/');
        return new CatalogUser(p.EntitiesCount, p.ContributionScore, p.ScoredAt, p.ContributedAt, p.CreatedAt, p.UpdatedAt, p.Name, [p.Slug],
            p.TenantId, p.CommunityId, p.Id, new CatalogLinks($"{baseUrl}/tenants/{p.TenantId}/communities/{p.CommunityId}/users/{p.Id}"), $"\"{p.ETag:D}\"");
    }

    internal static CatalogEntity ToContract(CatalogState state, CatalogItem i)
        => new(i.Id, i.Kind.ToString(), i.Name, i.Description, i.Tags, i.Visibility.ToString(), new CatalogAuthorRef(i.AuthorId, state.AuthorName(i.AuthorId)), i.CreatedAt, i.UpdatedAt);

    private static ProblemHttpResult NoEmail()
        => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The account has no email.", detail: "The gallery derives the author ID from the account's email; add an email to the account first.");

    private static bool TryKind(string? value, out EntityKind kind)
        => Enum.TryParse(value?.Replace(" ", "", StringComparison.Ordinal), ignoreCase: true, out kind) && Enum.IsDefined(kind) && !int.TryParse(value, out _);

    private static bool TryVisibility(string? value, out Visibility visibility)
        => Enum.TryParse(value, ignoreCase: true, out visibility) && Enum.IsDefined(visibility) && !int.TryParse(value, out _);
}

/// JSON written straight to the response: the entity lists are the hot path, and `$select` decides per request
/// which properties exist. The body is written into a buffer and writer kept per thread (the write is synchronous),
/// then copied into the response pipe with its length, so an answer allocates neither. An answer made before (and
/// kept) is copied as it is.
public sealed class CatalogJsonResult : IResult
{
    private readonly Action<Utf8JsonWriter>? _write;
    private readonly byte[]? _body;

    public CatalogJsonResult(Action<Utf8JsonWriter> write) => _write = write;

    public CatalogJsonResult(byte[] body) => _body = body;

    /// The bytes <paramref name="write"/> makes, to keep.
    public static byte[] Encode(Action<Utf8JsonWriter> write) => ScratchJson<CatalogJsonResult>.Write(write).ToArray();

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var body = _body is not null ? _body : ScratchJson<CatalogJsonResult>.Write(_write!);
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        response.BodyWriter.Write(body);
        return response.BodyWriter.FlushAsync(httpContext.RequestAborted).AsTask();
    }
}

/// A buffer and JSON writer kept per thread, for synchronous writes whose bytes are copied out before the thread's
/// next write. One set per <typeparamref name="TUse"/>, so that one write may run inside another (an answer that
/// encodes an item while it writes the page).
internal static class ScratchJson<TUse>
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// What <paramref name="write"/> wrote, in this thread's buffer: valid until the thread's next write for <typeparamref name="TUse"/>.
    public static ReadOnlySpan<byte> Write(Action<Utf8JsonWriter> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(8192);
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer);
        writer.Flush();
        var written = buffer.WrittenSpan;
        // One very large answer must not keep its buffer on the thread (the span stays valid: the buffer lives on).
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null;
            t_writer = null;
        }
        return written;
    }
}

internal static class CatalogJson
{
    /// Property names encoded once.
    private static class Names
    {
        public static readonly JsonEncodedText Count = JsonEncodedText.Encode("@odata.count");
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText NextLink = JsonEncodedText.Encode("@odata.nextLink");
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText Description = JsonEncodedText.Encode("description");
        public static readonly JsonEncodedText Tags = JsonEncodedText.Encode("tags");
        public static readonly JsonEncodedText Visibility = JsonEncodedText.Encode("visibility");
        public static readonly JsonEncodedText Author = JsonEncodedText.Encode("author");
        public static readonly JsonEncodedText CreatedAt = JsonEncodedText.Encode("created_at");
        public static readonly JsonEncodedText UpdatedAt = JsonEncodedText.Encode("updated_at");
    }

    public static void WritePage(Utf8JsonWriter w, CatalogState state, CatalogPage page, IReadOnlySet<string>? select, string? nextLink)
    {
        w.WriteStartObject();
        if (page.Count is { } count)
        {
            w.WriteNumber(Names.Count, count);
        }
        w.WriteStartArray(Names.Value);
        string? authorId = null;
        var authorName = "";
        foreach (var item in page.Items)
        {
            // A page is usually one author's: their name is looked up once.
            if (!string.Equals(item.AuthorId, authorId, StringComparison.Ordinal))
            {
                authorId = item.AuthorId;
                authorName = state.AuthorName(authorId);
            }
            if (select is null)
            {
                w.WriteRawValue(FullForm(item, authorName), skipInputValidation: true);
            }
            else
            {
                WriteEntity(w, item, authorName, select);
            }
        }
        w.WriteEndArray();
        if (nextLink is not null)
        {
            w.WriteString(Names.NextLink, nextLink);
        }
        w.WriteEndObject();
    }

    /// One item in full (no `$select`).
    public static void WriteItem(Utf8JsonWriter w, CatalogState state, CatalogItem item)
        => w.WriteRawValue(FullForm(item, state.AuthorName(item.AuthorId)), skipInputValidation: true);

    /// An item's full answer as UTF-8 JSON, with the author's name it was written with.
    private sealed record EncodedItem(string AuthorName, byte[] Json);

    /// The item's full answer, encoded once and kept with the item (which never changes: a change makes a new item).
    /// The author's name is not part of the item, so it is kept beside the bytes and a rename encodes again. The hot
    /// path (one author's list) then copies bytes instead of formatting dates, enums and escaped strings per request.
    private static byte[] FullForm(CatalogItem item, string authorName)
    {
        if (item.Encoded.Value is EncodedItem kept && string.Equals(kept.AuthorName, authorName, StringComparison.Ordinal))
        {
            return kept.Json;
        }
        var json = ScratchJson<EncodedItem>.Write(w => WriteEntity(w, item, authorName, select: null)).ToArray();
        item.Encoded.Value = new EncodedItem(authorName, json);
        return json;
    }

    private static void WriteEntity(Utf8JsonWriter w, CatalogItem i, string authorName, IReadOnlySet<string>? select)
    {
        w.WriteStartObject();
        if (select is null || select.Contains("id"))
        {
            w.WriteString(Names.Id, i.Id);
        }
        if (select is null || select.Contains("kind"))
        {
            w.WriteString(Names.Kind, i.Kind.ToString());
        }
        if (select is null || select.Contains("name"))
        {
            w.WriteString(Names.Name, i.Name);
        }
        if (select is null || select.Contains("description"))
        {
            w.WriteString(Names.Description, i.Description);
        }
        if (select is null || select.Contains("tags"))
        {
            w.WriteStartArray(Names.Tags);
            foreach (var tag in i.Tags)
            {
                w.WriteStringValue(tag);
            }
            w.WriteEndArray();
        }
        if (select is null || select.Contains("visibility"))
        {
            w.WriteString(Names.Visibility, i.Visibility.ToString());
        }
        if (select is null || select.Contains("author"))
        {
            w.WriteStartObject(Names.Author);
            w.WriteString(Names.Id, i.AuthorId);
            w.WriteString(Names.Name, authorName);
            w.WriteEndObject();
        }
        if (select is null || select.Contains("created_at"))
        {
            w.WriteString(Names.CreatedAt, i.CreatedAt);
        }
        if (select is null || select.Contains("updated_at"))
        {
            w.WriteString(Names.UpdatedAt, i.UpdatedAt);
        }
        w.WriteEndObject();
    }
}
