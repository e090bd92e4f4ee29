using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Portal.Labs;

/// The lab pages act through the API's handlers: their answer becomes the page's message, or its error
/// (the problem's words).
internal static class HandlerOutcome
{
    public static (string? Message, string? Error) Of(IResult result, string success) => (result is INestedHttpResult nested ? nested.Result : result) switch
    {
        ProblemHttpResult problem => (null, problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title),
        ValidationProblem invalid => (null, string.Join(" ", invalid.ProblemDetails.Errors.SelectMany(e => e.Value))),
        _ => (success, null),
    };
}
