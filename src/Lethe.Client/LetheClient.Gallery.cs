using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Lethe.Client;

public sealed partial class LetheClient
{
    public const string CatalogTokenHeader = "DataLabAccessToken";

    // Publishing (signed in)

    public Task<CatalogEntity> PublishEntityAsync(PublishEntityRequest request, CancellationToken ct = default)
        => SendAsync<CatalogEntity>(HttpMethod.Post, "catalog/entities", request, ct);

    public Task<CatalogEntity> UpdateEntityAsync(Guid id, UpdateEntityRequest request, CancellationToken ct = default)
        => SendAsync<CatalogEntity>(HttpMethod.Patch, $"catalog/entities/{id:D}", request, ct);

    public Task UnpublishEntityAsync(Guid id, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, $"catalog/entities/{id:D}", null, ct);

    /// The signed-in user's own profile (made on first use), with their author ID.
    public Task<CatalogUser> GetMyCatalogProfileAsync(CancellationToken ct = default)
        => SendAsync<CatalogUser>(HttpMethod.Get, "catalog/me", null, ct);

    /// A new Catalog API access token; the previous one is revoked.
    public Task<CatalogTokenResponse> CreateCatalogTokenAsync(CancellationToken ct = default)
        => SendAsync<CatalogTokenResponse>(HttpMethod.Post, "catalog/tokens", null, ct);

    public Task RevokeCatalogTokensAsync(CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, "catalog/tokens", null, ct);

    // The Catalog API (anonymous, or with a DataLabAccessToken)

    public Task<CatalogUser> GetCatalogUserAsync(string authorId, CancellationToken ct = default)
        => CatalogAsync<CatalogUser>($"catalog/users/{Uri.EscapeDataString(authorId)}", null, ct);

    public Task<CatalogEntity> GetCatalogEntityAsync(Guid id, string? catalogToken = null, CancellationToken ct = default)
        => CatalogAsync<CatalogEntity>($"catalog/entities/{id:D}", catalogToken, ct);

    /// One page of `GET /catalog/entities` with the given OData options (null ones are left out).
    public Task<CatalogEntityPage<T>> QueryCatalogEntitiesAsync<T>(CatalogQueryOptions options, string? catalogToken = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CatalogAsync<CatalogEntityPage<T>>("catalog/entities" + options.ToQueryString(), catalogToken, ct);
    }

    public Task<CatalogEntityPage<CatalogEntity>> QueryCatalogEntitiesAsync(CatalogQueryOptions options, string? catalogToken = null, CancellationToken ct = default)
        => QueryCatalogEntitiesAsync<CatalogEntity>(options, catalogToken, ct);

    /// Every entity the filter matches, following `@odata.nextLink`.
    public async IAsyncEnumerable<CatalogEntity> ListCatalogEntitiesAsync(CatalogQueryOptions options, string? catalogToken = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? next = "catalog/entities" + options.ToQueryString();
        while (next is not null)
        {
            var page = await CatalogAsync<CatalogEntityPage<CatalogEntity>>(next, catalogToken, ct);
            foreach (var item in page.Value)
            {
                yield return item;
            }
            next = page.NextLink;
        }
    }

    private async Task<T> CatalogAsync<T>(string path, string? catalogToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.RelativeOrAbsolute));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (catalogToken is not null)
        {
            request.Headers.TryAddWithoutValidation(CatalogTokenHeader, catalogToken);
        }
        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, ct);
        }
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new LetheApiException(response.StatusCode, "The server answered with an empty body.", null, null, null);
    }
}

/// OData query options of the Catalog API.
public sealed record CatalogQueryOptions(string? Filter = null, string? OrderBy = null, string? Select = null, int? Top = null, int? Skip = null, bool Count = false)
{
    public string ToQueryString()
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }
        Add("$filter", Filter);
        Add("$orderby", OrderBy);
        Add("$select", Select);
        Add("$top", Top?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("$skip", Skip?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("$count", Count ? "true" : null);
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
