using System.Security.Claims;
using System.Text.Json;
using Lethe.Client;
using Lethe.Jobs;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

/// The status of long work: what a 202's Azure-AsyncOperation header points at.
public static partial class OperationEndpoints
{
    public const string Path = "/operations";

    public static void MapOperationEndpoints(this WebApplication app)
    {
        var group = app.MapGroup(Path).RequireAuthorization().WithTags("Operations");
        group.MapGet("/{operationId}", GetAsync).WithName("GetOperation");
        group.MapPost("/{operationId}/retry", RetryAsync).WithName("RetryOperation");
    }

    /// Who asked for the work sees it, and so does whoever may read the resource it acts on.
    public static async Task<Results<Ok<OperationStatus>, ProblemHttpResult, ValidationProblem>> GetAsync(
        string operationId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!Guid.TryParseExact(operationId, "D", out var id))
        {
            return Problems.Invalid("operationId", "An operation ID is a GUID.");
        }
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        if (job is null)
        {
            return Problems.NotFound("The operation");
        }
        var me = principal.ObjectId();
        if (job.RequestedBy != me)
        {
            var visible = job.ResourceId is not null && ResourceId.TryParse(job.ResourceId, out var target, out _)
                && await db.CheckAsync(me, target, Right.Read, ct) == AccessDecision.Allowed;
            if (!visible)
            {
                return Problems.NotFound("The operation");
            }
        }
        return TypedResults.Ok(ToStatus(job));
    }

    /// A failed operation is queued again and resumes from its checkpoint: who asked for it may, and so
    /// may whoever may delete the resource it acts on (the destructive work it finishes).
    public static async Task<Results<Ok<OperationStatus>, ProblemHttpResult, ValidationProblem>> RetryAsync(
        string operationId, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!Guid.TryParseExact(operationId, "D", out var id))
        {
            return Problems.Invalid("operationId", "An operation ID is a GUID.");
        }
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
        if (job is null)
        {
            return Problems.NotFound("The operation");
        }
        var me = principal.ObjectId();
        var target = job.ResourceId is not null && ResourceId.TryParse(job.ResourceId, out var parsed, out _) ? parsed : null;
        if (job.RequestedBy != me)
        {
            if (target is null || await db.CheckAsync(me, target, Right.Read, ct) != AccessDecision.Allowed)
            {
                return Problems.NotFound("The operation");
            }
            if (await db.CheckAsync(me, target, Right.Delete, ct) is var decision && decision != AccessDecision.Allowed)
            {
                return Problems.Denied(decision, "The operation's resource", Right.Delete);
            }
        }
        if (target is null)
        {
            // Sweeps and other background work name no resource; they run again on their own schedule.
            return Problems.Conflict("This operation is background work that runs again on its schedule; it cannot be retried.");
        }
        if (job.State != JobState.Failed)
        {
            return Problems.Conflict($"Only a failed operation can be retried; this one is {ToStatus(job).Status}.");
        }
        if (!await JobQueue.RetryAsync(db, id, clock, ct))
        {
            var live = job.Exclusive ? await JobQueue.FindLiveAsync(db, job.Kind, job.ResourceId!, ct) : null;
            return live is not null
                ? Problems.Conflict($"Operation {live.Id} is already working on this resource; follow it instead.")
                : Problems.Conflict("The operation is no longer failed: it was retried already.");
        }
        var retried = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == id, ct);
        return TypedResults.Ok(ToStatus(retried));
    }

    public static OperationStatus ToStatus(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var status = job.State switch
        {
            JobState.Succeeded => OperationStates.Succeeded,
            JobState.Failed => OperationStates.Failed,
            JobState.Cancelled => OperationStates.Canceled,
            _ => OperationStates.InProgress,
        };
        var lastError = ForClient(job.Error);
        var error = job.State == JobState.Failed ? new OperationError("OperationFailed", lastError ?? "The operation failed.") : null;
        JsonElement? result = job.Result is null ? null : JsonSerializer.Deserialize<JsonElement>(job.Result);
        // A pending job that has run before waits for its next try (after an error, or a worker that was
        // stopped); a running one whose worker died waits out its lease.
        DateTimeOffset? next = job.State switch
        {
            JobState.Pending when job.Attempt > 0 => job.RunAfter,
            JobState.Running => job.LeaseUntil,
            _ => null,
        };
        return new OperationStatus($"{Path}/{job.Id}", job.Id.ToString(), status, job.Progress, job.StartedAt, job.CompletedAt, error, result,
            job.Attempt, lastError, next);
    }

    /// The stored error names exception types for the operator (and the log has the whole exception);
    /// whoever asked for the operation reads the messages only: "export failed (disk full)".
    internal static string? ForClient(string? error)
    {
        if (error is null)
        {
            return null;
        }
        var parts = error.Split(" ---> ", StringSplitOptions.RemoveEmptyEntries).Select(p => ExceptionType().Replace(p, "").Trim()).ToList();
        return parts.Count == 1 ? parts[0] : $"{parts[0]} ({string.Join("; ", parts.Skip(1))})";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:[\w.]+\.)?\w*Exception: ")]
    private static partial System.Text.RegularExpressions.Regex ExceptionType();

    /// The 202 answer to a request that started long work, as Azure Resource Manager gives it.
    public static AcceptedAtRoute<OperationStatus> Accepted(HttpContext context, Job job)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(job);
        var url = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{Path}/{job.Id}";
        context.Response.Headers["Azure-AsyncOperation"] = url;
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.AcceptedAtRoute(ToStatus(job), "GetOperation", new { operationId = job.Id.ToString() });
    }
}
