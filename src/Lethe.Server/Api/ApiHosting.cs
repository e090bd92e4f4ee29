using System.Text.Json.Serialization;
using Lethe.Resources;
using Lethe.Server.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Lethe.Server.Api;

internal static class ApiHosting
{
    public static void AddLetheApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Extensions["traceId"] = ctx.HttpContext.TraceIdentifier;
            RequestProblems.Sanitize(ctx.ProblemDetails, ctx.HttpContext);
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        // Bad request bodies and parameters become exceptions that the handler turns into problem
        // details with what was wrong, in every environment (by default Production hides the reason).
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // The document is named for the product, not for whichever host assembly (server or CLI) runs it.
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Lethe API";
            document.Info.Description = "Workspaces, Gallery and Labs data with export, erasure and evidence. Errors are RFC 7807 problem details.";
            return Task.CompletedTask;
        }));
        services.AddPersonalDataMap();
        services.AddHealthChecks()
            .AddDbContextCheck<LetheDb>("database", tags: ["ready"])
            .AddCheck<NoticeMailHealthCheck>(NoticeMailHealthCheck.Name, tags: ["ready"]);
    }

    public static void UseLetheApi(this WebApplication app)
    {
        // Browsers (Accept: text/html) get the portal's error page; everyone else problem details.
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandlingPath = "/error" });
        app.UseWhen(WantsHtml, html => html.UseStatusCodePagesWithReExecute("/error", "?status={0}"));
        app.UseWhen(context => !WantsHtml(context), api => api.UseStatusCodePages());
        // Routing after the error middleware, so that a re-executed request is routed to /error.
        app.UseRouting();
        app.UseAuthentication();
        app.UseSessionCheck();
        app.UseAuthorization();
        // Every module's successful signed-in actions are recorded (seed 000's telemetry of user interactions).
        app.Use(TelemetryEndpoints.RecordAsync);
    }

    /// A browser navigating: it names text/html among what it accepts. The SDK, the CLI and scripts
    /// send application/json or nothing and get problem details.
    public static bool WantsHtml(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }
}

/// Turns the exceptions that mean "bad input" into 400 problem details with the reason, and every
/// other exception into a 500 with no detail: never a stack trace.
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (ApiHosting.WantsHtml(httpContext))
        {
            LogUnhandled(log, exception.GetType().Name, httpContext.TraceIdentifier, exception);
            return false; // re-executed at /error, the portal's page
        }
        if (RequestProblems.From(exception) is { } requestProblem)
        {
            httpContext.Response.StatusCode = requestProblem.Status ?? StatusCodes.Status400BadRequest;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = requestProblem, Exception = null });
        }
        var (status, title, detail) = exception switch
        {
            ResourceIdFormatException bad => (StatusCodes.Status400BadRequest, "The resource ID is malformed.", bad.Message),
            // Identity's own endpoints parse the user ID and the base64url code themselves (confirmEmail).
            FormatException when OriginalPath(httpContext).StartsWithSegments("/identity", StringComparison.OrdinalIgnoreCase)
                => (StatusCodes.Status400BadRequest, "The request is malformed.", "A user ID or code in the request is not in the form Lethe issues (a user ID is a GUID; a code is the one sent by email)."),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => (499, "The client closed the request.", null),
            // Lost a race that the database arbitrated (decision 0070): the other request's write stands.
            _ when DatabaseConflict.Is(exception)
                => (StatusCodes.Status409Conflict, "Conflict.", "Another request changed the same resource at the same time; read it again and retry if still needed."),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred.", "The error was logged with the trace ID."),
        };
        if (status >= 500)
        {
            LogUnhandled(log, exception.GetType().Name, httpContext.TraceIdentifier, exception);
        }
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            Exception = null,
        });
    }

    // The handler runs with the request re-pointed at the error path; the feature keeps the one that failed.
    private static PathString OriginalPath(HttpContext context)
        => context.Features.Get<IExceptionHandlerPathFeature>()?.Path is { } path ? new PathString(path) : context.Request.Path;

    [LoggerMessage(LogLevel.Error, "Unhandled {ExceptionType} in request {TraceId}")]
    private static partial void LogUnhandled(ILogger log, string exceptionType, string traceId, Exception exception);
}
