using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lethe.Client;

/// The typed client over Lethe's REST API. Error answers become <see cref="LetheApiException"/>s.
public sealed partial class LetheClient
{
    public static readonly JsonSerializerOptions Json = CreateJsonOptions();

    private readonly HttpClient _http;

    /// <paramref name="http"/> has its BaseAddress set to the server, e.g. http://127.0.0.1:5080/.
    public LetheClient(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress: the Lethe server's URL.", nameof(http));
        }
        _http = http;
    }

    /// The bearer token sent with every request; set by <see cref="LoginAsync"/>.
    public string? AccessToken { get; set; }

    public Uri BaseAddress => _http.BaseAddress!;

    // Identity

    public Task RegisterAsync(string email, string password, CancellationToken ct = default)
        => SendAsync(HttpMethod.Post, "identity/register", new RegisterRequest(email, password), ct);

    public async Task<AccessTokenResponse> LoginAsync(string email, string password, CancellationToken ct = default)
    {
        var tokens = await SendAsync<AccessTokenResponse>(HttpMethod.Post, "identity/login", new LoginRequest(email, password), ct);
        AccessToken = tokens.AccessToken;
        return tokens;
    }

    public async Task<AccessTokenResponse> RefreshAsync(string refreshToken, CancellationToken ct = default)
    {
        var tokens = await SendAsync<AccessTokenResponse>(HttpMethod.Post, "identity/refresh", new RefreshRequest(refreshToken), ct);
        AccessToken = tokens.AccessToken;
        return tokens;
    }

    public Task<Me> GetMeAsync(CancellationToken ct = default) => SendAsync<Me>(HttpMethod.Get, "me", null, ct);

    public Task<Me> UpdateMeAsync(string displayName, CancellationToken ct = default)
        => SendAsync<Me>(HttpMethod.Patch, "me", new UpdateMeRequest(displayName), ct);

    // Resources

    public IAsyncEnumerable<SubscriptionResource> ListSubscriptionsAsync(CancellationToken ct = default)
        => ListAsync<SubscriptionResource>("subscriptions", ct);

    public Task<SubscriptionResource> GetSubscriptionAsync(Guid subscriptionId, CancellationToken ct = default)
        => SendAsync<SubscriptionResource>(HttpMethod.Get, $"subscriptions/{subscriptionId:D}", null, ct);

    public Task<SubscriptionResource> CreateOrUpdateSubscriptionAsync(Guid subscriptionId, string displayName, CancellationToken ct = default)
        => SendAsync<SubscriptionResource>(HttpMethod.Put, $"subscriptions/{subscriptionId:D}", new CreateSubscriptionRequest(displayName), ct);

    public IAsyncEnumerable<ResourceGroupResource> ListResourceGroupsAsync(Guid subscriptionId, CancellationToken ct = default)
        => ListAsync<ResourceGroupResource>($"subscriptions/{subscriptionId:D}/resourceGroups", ct);

    public Task<ResourceGroupResource> GetResourceGroupAsync(Guid subscriptionId, string name, CancellationToken ct = default)
        => SendAsync<ResourceGroupResource>(HttpMethod.Get, $"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(name)}", null, ct);

    public Task<ResourceGroupResource> CreateOrUpdateResourceGroupAsync(Guid subscriptionId, string name, string location, CancellationToken ct = default)
        => SendAsync<ResourceGroupResource>(HttpMethod.Put, $"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(name)}", new CreateResourceGroupRequest(location), ct);

    // Access

    public async Task<IReadOnlyList<RoleAssignmentResource>> ListRoleAssignmentsAsync(string scope, CancellationToken ct = default)
        => (await SendAsync<ArmList<RoleAssignmentResource>>(HttpMethod.Get, $"providers/Microsoft.Authorization/roleAssignments?scope={Uri.EscapeDataString(scope)}", null, ct)).Value;

    public Task<RoleAssignmentResource> CreateRoleAssignmentAsync(CreateRoleAssignmentRequest request, Guid? roleAssignmentId = null, CancellationToken ct = default)
        => SendAsync<RoleAssignmentResource>(HttpMethod.Put, $"providers/Microsoft.Authorization/roleAssignments/{roleAssignmentId ?? Guid.NewGuid():D}", request, ct);

    public Task DeleteRoleAssignmentAsync(Guid roleAssignmentId, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, $"providers/Microsoft.Authorization/roleAssignments/{roleAssignmentId:D}", null, ct);

    // Operations

    /// <paramref name="operation"/>: the URL of an Azure-AsyncOperation header, or an operation ID.
    public Task<OperationStatus> GetOperationAsync(string operation, CancellationToken ct = default)
        => SendAsync<OperationStatus>(HttpMethod.Get, Guid.TryParse(operation, out var id) ? $"operations/{id:D}" : operation, null, ct);

    /// Queues a failed operation again; its work resumes from its last checkpoint. 409 when it has not
    /// failed, or when another operation of its kind holds its resource.
    public Task<OperationStatus> RetryOperationAsync(string operation, CancellationToken ct = default)
        => SendAsync<OperationStatus>(HttpMethod.Post, (Guid.TryParse(operation, out var id) ? $"operations/{id:D}" : operation.TrimEnd('/')) + "/retry", null, ct);

    /// Polls until the operation ends, reporting its percent complete.
    public async Task<OperationStatus> WaitForOperationAsync(string operation, IProgress<int>? progress = null, TimeSpan? pollInterval = null, CancellationToken ct = default)
    {
        while (true)
        {
            var status = await GetOperationAsync(operation, ct);
            progress?.Report(status.PercentComplete);
            if (status.Status != OperationStates.InProgress)
            {
                return status;
            }
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(500), ct);
        }
    }

    // Privacy and health

    public Task<PersonalDataMapResponse> GetPersonalDataMapAsync(CancellationToken ct = default)
        => SendAsync<PersonalDataMapResponse>(HttpMethod.Get, "privacy/map", null, ct);

    /// Readiness: 200 when the database and blob store answer; an unhealthy server answers 503, which is returned too.
    public async Task<HealthReportResponse> GetHealthAsync(CancellationToken ct = default)
    {
        using var response = await _http.GetAsync(new Uri("health", UriKind.Relative), ct);
        return await response.Content.ReadFromJsonAsync<HealthReportResponse>(Json, ct)
            ?? throw new LetheApiException(response.StatusCode, "The health endpoint answered with no body.", null, null, null);
    }

    // Plumbing

    /// A name as one path segment. "." and ".." cannot be one: System.Uri resolves them, escaped or
    /// not, and the request would go to the parent resource.
    private static string Segment(string name, [CallerArgumentExpression(nameof(name))] string? parameter = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, parameter);
        if (name is "." or "..")
        {
            throw new ArgumentException("A name cannot be '.' or '..'.", parameter);
        }
        return Uri.EscapeDataString(name);
    }

    /// Follows ARM nextLinks until the list ends.
    public async IAsyncEnumerable<T> ListAsync<T>(string path, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? next = path;
        while (next is not null)
        {
            var page = await SendAsync<ArmList<T>>(HttpMethod.Get, next, null, ct);
            foreach (var item in page.Value)
            {
                yield return item;
            }
            next = page.NextLink;
        }
    }

    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, body, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new LetheApiException(response.StatusCode, "The server answered with an empty body.", null, null, null);
    }

    public async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, body, ct);
    }

    /// Sends a request and returns the successful response (the caller disposes it), for streaming
    /// downloads; error answers throw.
    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.RelativeOrAbsolute));
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }
        var response = await _http.SendAsync(request, completion, ct);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw await ToExceptionAsync(response, ct);
        }
    }

    private static async Task<LetheApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        ProblemBody? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is { } media && media.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                problem = await response.Content.ReadFromJsonAsync<ProblemBody>(Json, ct);
            }
            catch (JsonException)
            {
                // Not a problem-details body: fall back to the status line below.
            }
        }
        var status = response.StatusCode;
        var title = problem?.Title ?? $"The server answered {(int)status} {response.ReasonPhrase}.";
        // Identity's /identity/login answers 401 with a problem whose detail is "Failed".
        var detail = problem?.Detail;
        var errors = problem?.Errors;
        var trace = problem?.TraceId;
        return status switch
        {
            HttpStatusCode.BadRequest => new LetheValidationException(status, title, detail, errors, trace),
            HttpStatusCode.Unauthorized => new LetheUnauthorizedException(status, title, detail, errors, trace),
            HttpStatusCode.Forbidden => new LetheForbiddenException(status, title, detail, errors, trace),
            HttpStatusCode.NotFound => new LetheNotFoundException(status, title, detail, errors, trace),
            HttpStatusCode.Conflict => new LetheConflictException(status, title, detail, errors, trace),
            _ => new LetheApiException(status, title, detail, errors, trace),
        };
    }

    private sealed record ProblemBody(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors, string? TraceId);

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
