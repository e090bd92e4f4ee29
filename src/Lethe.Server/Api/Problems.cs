using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Api;

/// The problem-details answers every module gives alike.
internal static class Problems
{
    public static ProblemHttpResult NotFound(string what)
        => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.", detail: $"{what} was not found, or you have no access to it.");

    public static ProblemHttpResult Forbidden(string right)
        => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: $"Your roles here do not grant {right}.");

    public static ProblemHttpResult Conflict(string detail)
        => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict.", detail: detail);

    public static ValidationProblem Invalid(string field, string message)
        => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.");

    /// The HTTP answer to an access decision that did not allow: 404 when the caller cannot see the
    /// resource at all (existence does not leak), 403 when it can but lacks the right.
    public static ProblemHttpResult Denied(AccessDecision decision, string what, Right right)
        => decision == AccessDecision.NotFound ? NotFound(what) : Forbidden(right.ToString());
}
