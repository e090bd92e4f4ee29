using Lethe.Client;
using Lethe.Labs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Api.Labs;

/// The postpone and skip actions of an auto-shutdown notice. The token from the notice's link is the
/// credential (as in an unsubscribe link): whoever received the notice may act on it.
public static class LabShutdownEndpoints
{
    internal static void Map(WebApplication app)
    {
        var notices = app.MapGroup("/labs/shutdown-notices").AllowAnonymous().WithTags("Labs");
        notices.MapPost("/{token}/postpone", PostponeAsync).WithName("PostponeShutdown");
        notices.MapPost("/{token}/skip", SkipAsync).WithName("SkipShutdown");
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> PostponeAsync(string token, PostponeShutdownRequest request, LetheDb db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Answer(await ShutdownNotices.PostponeAsync(db, token, request.Minutes, ct));
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> SkipAsync(string token, LetheDb db, CancellationToken ct)
        => Answer(await ShutdownNotices.SkipAsync(db, token, ct));

    private static Results<NoContent, ProblemHttpResult, ValidationProblem> Answer(ShutdownNotices.Outcome outcome) => outcome switch
    {
        ShutdownNotices.Outcome.Done => TypedResults.NoContent(),
        ShutdownNotices.Outcome.InvalidMinutes => Problems.Invalid("minutes", "minutes is between 1 and 1440."),
        ShutdownNotices.Outcome.AlreadyShutDown => Problems.Conflict("The virtual machine has already been shut down."),
        _ => Problems.NotFound("The shutdown notice"),
    };
}
