using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Portal.Shared;

/// Portal actions go through the API's own handlers, so that the rules (validation, roles, conflicts) are the same.
/// A handler's answer becomes the error shown on the page: the problem's words, never a type name.
public static class HandlerOutcome
{
    /// The problem's words when the handler refused, null when it succeeded.
    public static string? ErrorOf(IResult result) => (result is INestedHttpResult nested ? nested.Result : result) switch
    {
        ValidationProblem invalid => string.Join(" ", invalid.ProblemDetails.Errors.SelectMany(e => e.Value)),
        ProblemHttpResult problem => problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title,
        IStatusCodeHttpResult { StatusCode: >= 400 } => "The server refused the action.",
        _ => null,
    };
}
