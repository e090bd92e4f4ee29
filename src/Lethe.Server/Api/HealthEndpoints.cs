using System.Text.Json;
using Lethe.Client;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lethe.Server.Api;

internal static class HealthEndpoints
{
    /// `/health` and `/health/ready`: the database and the blob store answer. `/health/live`: the process answers.
    public static void MapLetheHealth(this WebApplication app)
    {
        var ready = new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteAsync };
        app.MapHealthChecks("/health", ready).WithTags("Health");
        app.MapHealthChecks("/health/ready", ready).WithTags("Health");
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).WithTags("Health");
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new HealthReportResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString(), StringComparer.Ordinal));
        return JsonSerializer.SerializeAsync(context.Response.Body, body, JsonSerializerOptions.Web, context.RequestAborted);
    }
}
