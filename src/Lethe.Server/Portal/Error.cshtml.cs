using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal;

/// What a browser sees instead of a problem-details body when a portal address fails: the status
/// pages and the exception handler re-execute here for requests that ask for HTML.
[AllowAnonymous]
[Microsoft.AspNetCore.Mvc.IgnoreAntiforgeryToken]
public sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";
    public string Explanation { get; private set; } = "";
    public string? TraceId { get; private set; }

    public void OnGet(int? status) => Describe(status);

    // A failed POST re-executes as a POST.
    public void OnPost(int? status) => Describe(status);

    private void Describe(int? status)
    {
        var failed = HttpContext.Features.Get<IExceptionHandlerFeature>() is not null;
        var code = failed ? StatusCodes.Status500InternalServerError : status ?? StatusCodes.Status500InternalServerError;
        (Title, Explanation) = code switch
        {
            StatusCodes.Status400BadRequest => ("The request was not understood", "Something in the address or the form was not valid. Go back and check what you entered."),
            StatusCodes.Status401Unauthorized => ("Sign in required", "This address needs a signed-in user. Sign in from the home page and try again."),
            StatusCodes.Status403Forbidden => ("You don't have access to that page", "Your account holds no role that allows it. An owner of the subscription or resource group can grant you one."),
            StatusCodes.Status404NotFound => ("Page not found", "There is nothing at this address, or you have no access to it."),
            StatusCodes.Status405MethodNotAllowed => ("That action is not available here", "The page does not accept this kind of request."),
            _ when code >= 500 => ("Something went wrong", "Lethe could not complete the request. The error was logged."),
            _ => ("The request could not be completed", $"The server answered with status {code}."),
        };
        if (code >= 500)
        {
            TraceId = HttpContext.TraceIdentifier;
        }
        Response.StatusCode = code;
    }
}
