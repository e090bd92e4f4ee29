using System.Security.Claims;
using System.Text;
using Lethe.Client;
using Lethe.Resources;
using Lethe.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

/// Telemetry of user interactions (seed 000) for every module: each successful signed-in API call and portal action
/// records who, which operation, on which resource, when. The person lists their own events; an operator sees
/// counts per action. Events name the route's template and the resource's ID, never the raw path.
public static partial class TelemetryEndpoints
{
    public const int MaxDays = 366;

    // Reads that would record more than they tell: the person reading their own events or account, polling an
    // operation, asking whether sign-up is open. Privacy requests keep their own record (the request, its steps).
    private static readonly HashSet<string> Unrecorded = new(StringComparer.Ordinal)
    {
        "ListMyTelemetry", "ListTelemetryActions", "GetMe", "GetOperation", "GetRegistration",
    };

    private static readonly HashSet<string> UnrecordedTags = new(StringComparer.Ordinal) { "Privacy", "Health" };

    // Route parameters that name a resource. Any other (a principal's ID, an author ID, a notice's token, a storage
    // path) ends the resource ID there: it can name another person or hold whatever the caller typed.
    private static readonly HashSet<string> ResourceParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "subscriptionId", "resourceGroupName", "resourceGroup", "workspaceName", "labName", "vmName", "diskName",
        "jobId", "name", "version", "kind", "operationId", "id", "roleAssignmentId",
    };

    public static void MapTelemetryEndpoints(this WebApplication app)
    {
        app.MapGet("/me/telemetry", ListMineAsync).WithName("ListMyTelemetry").WithTags("Identity").RequireAuthorization()
            .Produces<ArmList<TelemetryEventResource>>().ProducesValidationProblem();
        app.MapGet("/telemetry/actions", ListActionsAsync).WithName("ListTelemetryActions").WithTags("Identity").RequireAuthorization()
            .Produces<ArmList<TelemetryActionCount>>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);
    }

    /// Records the request's event once it has answered successfully (the middleware after authorization).
    public static async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Response.StatusCode >= 400 || context.User.Identity?.IsAuthenticated != true || context.GetEndpoint() is not RouteEndpoint endpoint)
        {
            return;
        }
        var recorder = context.RequestServices.GetRequiredService<TelemetryRecorder>();
        if (recorder.Recorded || EventOf(context, endpoint) is not var (action, route, resource))
        {
            return;
        }
        try
        {
            // A scope of its own: the request's database context may hold changes its handler chose not to save.
            await using var scope = context.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<TelemetryRecorder>().RecordAsync(context.User.ObjectId(), action, route, resource, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The action happened; its telemetry is not worth a failed answer.
            LogNotRecorded(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lethe.Telemetry"), action, e.GetType().Name);
        }
    }

    /// The action (module.operation), the route's template and the resource ID of a request; null when not recorded.
    internal static (string Action, string Route, string Resource)? EventOf(HttpContext context, RouteEndpoint endpoint)
    {
        var page = endpoint.Metadata.GetMetadata<CompiledPageActionDescriptor>();
        string action;
        if (page is not null)
        {
            // Portal pages: their actions (posted forms), not their views.
            if (!HttpMethods.IsPost(context.Request.Method))
            {
                return null;
            }
            var segments = page.ViewEnginePath.Trim('/').Split('/');
            var handler = context.Request.Query["handler"].ToString() is { Length: > 0 } h && h.All(char.IsAsciiLetterOrDigit) ? h : "Post";
            action = $"{segments[0].ToLowerInvariant()}.portal.{string.Join('.', segments.Skip(1).Append(handler))}";
        }
        else
        {
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            var tag = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.ITagsMetadata>()?.Tags is { Count: > 0 } tags ? tags[0] : null;
            if (name is null || tag is null || Unrecorded.Contains(name) || UnrecordedTags.Contains(tag))
            {
                return null;
            }
            action = $"{tag.ToLowerInvariant()}.{name}";
        }
        // A group's own endpoint ("") leaves a trailing slash on the template.
        var template = "/" + (endpoint.RoutePattern.RawText ?? "").Trim('/');
        return (action, template, ResourceOf(endpoint.RoutePattern, context.Request.RouteValues));
    }

    /// The template up to the last resource-naming parameter, with that parameter's values: the workspace a member
    /// was removed from, not the member; a template without parameters is its own literal path.
    internal static string ResourceOf(RoutePattern pattern, RouteValueDictionary values)
    {
        var built = new StringBuilder();
        var kept = 0;
        var any = false;
        foreach (var segment in pattern.PathSegments)
        {
            if (segment.Parts is [RoutePatternParameterPart parameter])
            {
                any = true;
                if (!ResourceParameters.Contains(parameter.Name) || values[parameter.Name] is not string { Length: > 0 and <= ResourceId.MaxNameLength } value || value.Any(char.IsControl))
                {
                    break;
                }
                built.Append('/').Append(value);
                kept = built.Length;
            }
            else if (segment.IsSimple && segment.Parts[0] is RoutePatternLiteralPart literal)
            {
                built.Append('/').Append(literal.Content);
            }
            else
            {
                any = true;
                break;
            }
        }
        return any ? built.ToString(0, kept) : built.ToString();
    }

    public static async Task<Results<Ok<ArmList<TelemetryEventResource>>, ValidationProblem>> ListMineAsync(
        ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        var me = principal.ObjectId();
        var mine = db.TelemetryEvents.AsNoTracking().Where(e => e.UserId == me).OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id);
        return TypedResults.Ok(await Paging.PageAsync(mine, request, top, skipToken, ToResource, ct));
    }

    public static async Task<Results<Ok<ArmList<TelemetryActionCount>>, ValidationProblem, ProblemHttpResult>> ListActionsAsync(
        ClaimsPrincipal principal, LetheDb db, TimeProvider clock, int? days, CancellationToken ct)
    {
        if (days is < 1 or > MaxDays)
        {
            return Problems.Invalid("days", $"days is between 1 and {MaxDays}.");
        }
        if (await db.CheckAsync(principal.ObjectId(), ResourceId.Root, Right.ManageAccess, ct) != AccessDecision.Allowed)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: "Only an operator (Owner at the root scope) sees the counts of every action.");
        }
        return TypedResults.Ok(new ArmList<TelemetryActionCount>(await CountsAsync(db, clock.GetUtcNow().AddDays(-(days ?? 30)), ct), null));
    }

    /// Events per action since <paramref name="since"/>, the most frequent first: counts, never who.
    public static async Task<List<TelemetryActionCount>> CountsAsync(LetheDb db, DateTimeOffset since, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var counts = await db.TelemetryEvents.AsNoTracking().Where(e => e.OccurredAt >= since)
            .GroupBy(e => e.Action).Select(g => new { Action = g.Key, Count = g.LongCount() }).ToListAsync(ct);
        return [.. counts.OrderByDescending(c => c.Count).ThenBy(c => c.Action, StringComparer.Ordinal).Select(c => new TelemetryActionCount(c.Action, c.Count))];
    }

    public static TelemetryEventResource ToResource(TelemetryEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new(e.Id, e.Action, e.Resource, e.Route, e.OccurredAt);
    }

    [LoggerMessage(LogLevel.Warning, "Telemetry of {Action} was not recorded ({ExceptionType})")]
    private static partial void LogNotRecorded(ILogger log, string action, string exceptionType);
}
