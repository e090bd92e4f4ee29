using System.Text.Json;
using Lethe.Client;
using Lethe.Privacy.Requests;

namespace Lethe.Server.Api;

/// Subject requests (issue 11): <c>/privacy/requests</c>. Only the subject and privacy officers see a request; anyone
/// else signed in gets 404, anonymous callers 401. No answer shows the subject's identifiers, only the keyed hash.
public static class PrivacyRequestEndpoints
{
    public static void MapPrivacyRequestEndpoints(this WebApplication app)
    {
        var requests = app.MapGroup("/privacy/requests").RequireAuthorization().WithTags("Privacy");
        requests.MapPost("", CreateAsync).WithName("CreatePrivacyRequest")
            .Accepts<CreatePrivacyRequest>("application/json")
            .Produces<PrivacyRequestResource>(StatusCodes.Status202Accepted);
        requests.MapGet("", ListAsync).WithName("ListPrivacyRequests");
        requests.MapGet("/{id:guid}", GetAsync).WithName("GetPrivacyRequest");
        requests.MapPost("/{id:guid}/approve", ApproveAsync).WithName("ApprovePrivacyRequest").Accepts<PrivacyDecision>("application/json");
        requests.MapPost("/{id:guid}/deny", DenyAsync).WithName("DenyPrivacyRequest").Accepts<PrivacyDecision>("application/json");
        requests.MapPost("/{id:guid}/cancel", CancelAsync).WithName("CancelPrivacyRequest");
        requests.MapPost("/{id:guid}/retry", RetryAsync).WithName("RetryPrivacyRequest");
        requests.MapGet("/{id:guid}/bundle", BundleAsync).WithName("GetPrivacyBundle")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip");
    }

    private static async Task<IResult> CreateAsync(HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await ReadCreateAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        var result = await service.FileAsync(caller, input!, ct);
        if (result.Request is not { } request)
        {
            return Answer(result, clock);
        }
        return TypedResults.Accepted($"/privacy/requests/{request.Id:D}", ToResource(request, clock.GetUtcNow(), caller.IsOfficer));
    }

    private static async Task<IResult> ListAsync(HttpContext http, PrivacyRequests service, TimeProvider clock, string? status, bool? mine,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$top")] int? top, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        PrivacyRequestStatus? filter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<PrivacyRequestStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(status, out _))
            {
                return Problems.Invalid("status", $"status is one of {string.Join(", ", Enum.GetNames<PrivacyRequestStatus>())}.");
            }
            filter = parsed;
        }
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        var query = await service.ListAsync(caller, filter, all: caller.IsOfficer && mine != true, ct);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(await Paging.PageAsync(query, http.Request, top, skipToken, r => ToResource(r, now, caller.IsOfficer), ct));
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        return await service.FindAsync(caller, id, ct) is { } request
            ? TypedResults.Ok(ToResource(request, clock.GetUtcNow(), caller.IsOfficer))
            : Answer(RequestResult.NotFound(), clock);
    }

    private static async Task<IResult> ApproveAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var (decision, problem) = await ReadDecisionAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        return Answer(await service.ApproveAsync(caller, id, decision?.Reason, ct), clock);
    }

    private static async Task<IResult> DenyAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var (decision, problem) = await ReadDecisionAsync(http.Request, ct);
        if (problem is not null)
        {
            return problem;
        }
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        return Answer(await service.DenyAsync(caller, id, decision?.Reason, ct), clock);
    }

    private static async Task<IResult> CancelAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        return Answer(await service.CancelAsync(caller, id, ct), clock);
    }

    private static async Task<IResult> RetryAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        return Answer(await service.RetryAsync(caller, id, ct), clock);
    }

    private static async Task<IResult> BundleAsync(Guid id, HttpContext http, PrivacyRequests service, TimeProvider clock, CancellationToken ct)
    {
        var caller = await service.CallerAsync(http.User.ObjectId(), ct);
        var (content, length, result) = await service.OpenBundleAsync(caller, id, ct);
        if (content is null)
        {
            return Answer(result, clock);
        }
        http.Response.Headers.CacheControl = "no-store";
        if (length is { } bytes)
        {
            http.Response.ContentLength = bytes;
        }
        return TypedResults.Stream(content, "application/zip", $"lethe-export-{id:D}.zip");
    }

    private static IResult Answer(RequestResult result, TimeProvider clock) => result.Problem switch
    {
        RequestProblem.None => TypedResults.Ok(ToResource(result.Request!, clock.GetUtcNow())),
        RequestProblem.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.", detail: result.Message),
        RequestProblem.Forbidden => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: result.Message),
        RequestProblem.Conflict => Problems.Conflict(result.Message!),
        _ => Problems.Invalid(result.Field ?? "body", result.Message!),
    };

    /// The request as the API shows it; the officer's verification note only to officers.
    public static PrivacyRequestResource ToResource(PrivacyRequest r, DateTimeOffset now, bool showVerification = false)
    {
        ArgumentNullException.ThrowIfNull(r);
        var steps = RequestWork.ReadSteps(r.Steps).Select(s => new PrivacyRequestStep(s.Location, s.Status.ToString(), s.Records)).ToList();
        return new PrivacyRequestResource(r.Id, r.Type.ToString(), r.Status.ToString(), r.DryRun, r.SubjectHash, r.ReceivedAt, r.DueAt,
            new PrivacyApproval(r.Approval.ToString(), r.ApprovalBy, r.ApprovalAt, r.ApprovalReason), steps)
        {
            AnonymizeNow = r.AnonymizeNow,
            FiledByOfficer = r.FiledBy is not null,
            StartedAt = r.StartedAt,
            CompletedAt = r.CompletedAt,
            Preview = r.Preview is null ? null : JsonSerializer.Deserialize<List<PreviewEntry>>(r.Preview, RequestWork.Json)!
                .Select(p => new PrivacyPreviewEntry(p.Module, p.Location, p.Strategy, p.Outcome.ToString(), p.Records, p.Date, p.Reason)).ToList(),
            Retained = r.Retained is null ? null : JsonSerializer.Deserialize<List<RetainedEntry>>(r.Retained, RequestWork.Json)!
                .Select(p => new PrivacyRetainedEntry(p.Module, p.Location, p.Records, p.Until, p.Reason)).ToList(),
            Failure = r.Status == PrivacyRequestStatus.Failed && r.FailureStep is not null ? new PrivacyFailure(r.FailureStep, r.FailureMessage ?? "") : null,
            Bundle = r.BundleName is not null && r.BundleBytes is { } bytes && r.BundleSha256 is { } sha && r.BundleExpiresAt is { } expires
                ? new PrivacyBundleInfo(bytes, sha, expires) : null,
            Verification = showVerification ? r.Verification : null,
            Overdue = !r.IsEnded && r.Status != PrivacyRequestStatus.Failed ? now > r.DueAt : r.Status == PrivacyRequestStatus.Failed && now > r.DueAt,
        };
    }

    // ---- Bodies, read by hand so that every mistake gets a 400 naming its field in words. -------------------------

    private static readonly HashSet<string> CreateFields = new(StringComparer.OrdinalIgnoreCase) { "type", "subject", "dryRun", "anonymizeNow", "verification" };

    private static async Task<(FileRequest? Input, IResult? Problem)> ReadCreateAsync(HttpRequest request, CancellationToken ct)
    {
        var (root, problem) = await ReadObjectAsync(request, required: true, ct);
        if (problem is not null)
        {
            return (null, problem);
        }
        using var document = root!;
        var body = document.RootElement;
        foreach (var property in body.EnumerateObject())
        {
            if (!CreateFields.Contains(property.Name))
            {
                return (null, Problems.Invalid(property.Name, $"{property.Name} is not a field of a privacy request; the fields are type, subject, dryRun, anonymizeNow and verification."));
            }
        }
        if (!TryGet(body, "type", out var typeElement) || typeElement.ValueKind == JsonValueKind.Null)
        {
            return (null, Problems.Invalid("type", "type is required: Export or Erasure."));
        }
        if (typeElement.ValueKind != JsonValueKind.String || !Enum.TryParse<PrivacyRequestType>(typeElement.GetString(), ignoreCase: true, out var type)
            || !Enum.IsDefined(type) || int.TryParse(typeElement.GetString(), out _))
        {
            return (null, Problems.Invalid("type", "type is Export or Erasure."));
        }
        if (Bool(body, "dryRun") is { Problem: { } dryProblem })
        {
            return (null, dryProblem);
        }
        if (Bool(body, "anonymizeNow") is { Problem: { } nowProblem })
        {
            return (null, nowProblem);
        }
        string? verification = null;
        if (TryGet(body, "verification", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.String)
            {
                return (null, Problems.Invalid("verification", "verification is text: how the person's identity was checked."));
            }
            verification = v.GetString();
        }
        SubjectInput? subject = null;
        if (TryGet(body, "subject", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Object)
            {
                return (null, Problems.Invalid("subject", "subject is an object with one of email, objectId or authorId."));
            }
            string? email = null;
            Guid? objectId = null;
            string? authorId = null;
            foreach (var property in s.EnumerateObject())
            {
                var name = property.Name;
                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }
                if (name.Equals("email", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
                {
                    email = property.Value.GetString();
                }
                else if (name.Equals("authorId", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
                {
                    authorId = property.Value.GetString();
                }
                else if (name.Equals("objectId", StringComparison.OrdinalIgnoreCase))
                {
                    if (property.Value.ValueKind != JsonValueKind.String || !Guid.TryParse(property.Value.GetString(), out var parsed))
                    {
                        return (null, Problems.Invalid("subject.objectId", "subject.objectId is an object ID (a GUID)."));
                    }
                    objectId = parsed;
                }
                else
                {
                    return (null, Problems.Invalid("subject." + name, $"subject.{name} is not a way to name a person; use one of email, objectId or authorId (as text)."));
                }
            }
            subject = new SubjectInput(email, objectId, authorId);
        }
        return (new FileRequest(type, subject, Bool(body, "dryRun").Value, Bool(body, "anonymizeNow").Value, verification), null);
    }

    private static async Task<(PrivacyDecision? Decision, IResult? Problem)> ReadDecisionAsync(HttpRequest request, CancellationToken ct)
    {
        var (root, problem) = await ReadObjectAsync(request, required: false, ct);
        if (problem is not null)
        {
            return (null, problem);
        }
        if (root is null)
        {
            return (null, null);
        }
        using var document = root;
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!property.Name.Equals("reason", StringComparison.OrdinalIgnoreCase))
            {
                return (null, Problems.Invalid(property.Name, $"{property.Name} is not a field here; the only field is reason."));
            }
            if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return (null, Problems.Invalid("reason", "reason is text."));
            }
            return (new PrivacyDecision(property.Value.GetString()), null);
        }
        return (null, null);
    }

    private static async Task<(JsonDocument? Document, IResult? Problem)> ReadObjectAsync(HttpRequest request, bool required, CancellationToken ct)
    {
        if (request.ContentLength is 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count == 0))
        {
            return required ? (null, Problems.Invalid("body", "The request needs a JSON body.")) : (null, null);
        }
        if (request.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.", detail: "Send the body as application/json."));
        }
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }, ct);
        }
        catch (JsonException e)
        {
            return (null, Problems.Invalid("body", $"The body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine + 1})."));
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            return (null, Problems.Invalid("body", "The body is a JSON object."));
        }
        return (document, null);
    }

    private static bool TryGet(JsonElement body, string name, out JsonElement value)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    private static (bool Value, IResult? Problem) Bool(JsonElement body, string name)
    {
        if (!TryGet(body, name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (false, null);
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => (true, null),
            JsonValueKind.False => (false, null),
            _ => (false, Problems.Invalid(name, $"{name} is true or false.")),
        };
    }
}
